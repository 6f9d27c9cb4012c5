"""Archive-level health of each site: is it still collecting, as much and as well as it used to?

Per-run checks (did this crawl fetch, find and store articles) are the run's own status, decided by
``RecordCrawlRun`` from the crawl's stats. What no single run can see is the site's history: a column
that quietly publishes nothing new, whose dates stopped being found, or that failed the last three
days in a row. That takes the archive (articles and crawl_runs), so it is read here, with SQL.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

# Windows of N days before the current one that make up a site's usual rate.
HISTORY_WINDOWS = 8
# A site that usually has at least this many new articles in N days and now has none is unhealthy...
EXPECTED_FOR_SILENCE = 2.0
# ... and one that usually has this many and now has under a quarter of them.
EXPECTED_FOR_DROP = 8.0
DROP_SHARE = 0.25
# Share of the window's new articles missing a field, above the site's usual share, that is a problem
# (a redesign that broke date or source extraction), counted once the window has this many articles.
MISSING_JUMP = 0.5
MIN_ARTICLES_FOR_MISSING = 5
# Failed URLs per URL tried over the window's runs above which a site is unhealthy (as for `partial`).
MAX_ERROR_RATE = 0.1
CHECKED_FIELDS = ("title", "published_at", "source", "body_text")
FAILED_STATUSES = ("failed", "blocked")


@dataclass
class SiteHealth:
    site: str
    days: int
    last_ok_at: str | None = None
    new_articles: int = 0
    usual_new_articles: float | None = None
    missing: dict[str, float] = field(default_factory=dict)
    usual_missing: dict[str, float] = field(default_factory=dict)
    failed_runs_in_a_row: int = 0
    last_failure_reason: str | None = None
    error_rate: float | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "healthy": self.healthy}


def sites_in(db: sqlite_utils.Database) -> list[str]:
    rows = db.conn.execute("SELECT site FROM crawl_runs UNION SELECT site FROM articles ORDER BY 1")
    return [row[0] for row in rows]


def site_health(
    db: sqlite_utils.Database, site: str, *, days: int, now: datetime | None = None
) -> SiteHealth:
    now = now or datetime.now(UTC)
    health = SiteHealth(site, days)
    window_start = now - timedelta(days=days)
    _runs(db, health, window_start)
    _volume(db, health, now)
    _completeness(db, health, window_start)
    return health


def _runs(db: sqlite_utils.Database, health: SiteHealth, window_start: datetime) -> None:
    runs = db.conn.execute(
        "SELECT status, reason, coalesce(finished_at, started_at), started_at, errors, pages_fetched "
        "FROM crawl_runs WHERE site = ? AND status != 'running' ORDER BY id DESC",
        (health.site,),
    ).fetchall()
    for status, reason, _, _, _, _ in runs:
        if status not in FAILED_STATUSES:
            break
        health.failed_runs_in_a_row += 1
        health.last_failure_reason = health.last_failure_reason or reason
    health.last_ok_at = next((ended for status, _, ended, _, _, _ in runs if status == "ok"), None)
    recent = [
        (errors, pages) for _, _, _, started, errors, pages in runs if started >= window_start.isoformat()
    ]
    tried = sum(errors + pages for errors, pages in recent)
    if tried:
        health.error_rate = sum(errors for errors, _ in recent) / tried
    if not runs:
        health.problems.append("never crawled")
        return
    if health.failed_runs_in_a_row:
        count = health.failed_runs_in_a_row
        runs_text = "last run" if count == 1 else f"last {count} runs"
        health.problems.append(f"{runs_text} failed ({health.last_failure_reason})")
    if health.last_ok_at is None:
        health.problems.append("no ok run yet")
    elif health.last_ok_at < window_start.isoformat():
        health.problems.append(f"no ok run in {health.days} days (last {health.last_ok_at[:10]})")
    if health.error_rate is not None and health.error_rate > MAX_ERROR_RATE:
        health.problems.append(f"{health.error_rate:.0%} of URLs failed in {health.days} days")


def _volume(db: sqlite_utils.Database, health: SiteHealth, now: datetime) -> None:
    """Articles published in the last N days against the previous windows of N days (by published_at)."""
    bounds = [(now - timedelta(days=health.days * k)).date().isoformat() for k in range(HISTORY_WINDOWS + 2)]
    counts = []
    for newer, older in itertools.pairwise(bounds):
        counts.append(
            db.conn.execute(
                "SELECT count(*) FROM articles WHERE site = ? AND published_at >= ? AND published_at < ?",
                (health.site, older, newer),
            ).fetchone()[0]
        )
    current = db.conn.execute(
        "SELECT count(*) FROM articles WHERE site = ? AND published_at >= ?", (health.site, bounds[1])
    ).fetchone()[0]
    health.new_articles = current
    first = db.conn.execute(
        "SELECT min(published_at) FROM articles WHERE site = ?", (health.site,)
    ).fetchone()[0]
    # Only windows the site's archive reaches back to count as its history.
    history = [count for count, older in zip(counts[1:], bounds[2:], strict=False) if first and first < older]
    if len(history) < 2:
        return
    usual = statistics.median(history)
    health.usual_new_articles = usual
    if current == 0 and usual >= EXPECTED_FOR_SILENCE:
        health.problems.append(f"no article published in {health.days} days (usually {usual:g})")
    elif usual >= EXPECTED_FOR_DROP and current < usual * DROP_SHARE:
        health.problems.append(f"{current} articles published in {health.days} days (usually {usual:g})")


def _completeness(db: sqlite_utils.Database, health: SiteHealth, window_start: datetime) -> None:
    """Share of new articles (first seen in the window) missing each field, against older articles."""
    empty = ", ".join(f"sum(coalesce({name}, '') = '')" for name in CHECKED_FIELDS)
    since = window_start.isoformat()
    for newer, target in ((True, health.missing), (False, health.usual_missing)):
        row = db.conn.execute(
            f"SELECT count(*), {empty} FROM articles WHERE site = ? AND "
            f"first_seen_at {'>=' if newer else '<'} ?",
            (health.site, since),
        ).fetchone()
        if row[0]:
            target.update({name: row[i + 1] / row[0] for i, name in enumerate(CHECKED_FIELDS)})
    if not health.usual_missing:
        return
    new_count = db.conn.execute(
        "SELECT count(*) FROM articles WHERE site = ? AND first_seen_at >= ?", (health.site, since)
    ).fetchone()[0]
    if new_count < MIN_ARTICLES_FOR_MISSING:
        return
    for name in CHECKED_FIELDS:
        share, usual = health.missing.get(name, 0.0), health.usual_missing.get(name, 0.0)
        if share - usual > MISSING_JUMP:
            health.problems.append(
                f"{name} missing in {share:.0%} of {new_count} new articles (usually {usual:.0%})"
            )

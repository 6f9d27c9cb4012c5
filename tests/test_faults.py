"""The fault matrix: one real ``scrapy crawl`` against a loopback portal that fails in every known way."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.faultserver import FaultPortal, start_crawl

# Short timeouts and delays so the hanging cases cost seconds; the rest is the shipped configuration.
# A delay of 0 would also lift the per-host concurrency limit: Scrapy 2.19's downloader hands a
# delay-less slot's whole queue over at once, so a stopped host could not be drained.
CRAWL_SETTINGS = {
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "1",
    "DOWNLOAD_DELAY": "0.02",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "16",
    "PORTALCRAWL_MAX_RETRY_AFTER": "1",
    "PORTALCRAWL_FLUSH_SECONDS": "0.5",
}
TIME_LIMIT = 50


@dataclass
class CrawlResult:
    portal: FaultPortal
    returncode: int
    log: str
    seconds: float
    db: sqlite3.Connection


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlResult]:
    work = tmp_path_factory.mktemp("faults")
    with FaultPortal() as portal:
        started = time.monotonic()
        process = start_crawl(portal.start_urls, work / "faults.db", work, **CRAWL_SETTINGS)
        try:
            log, _ = process.communicate(timeout=TIME_LIMIT + 30)
        finally:
            process.kill()
        seconds = time.monotonic() - started
        (work / "crawl.log").write_text(log)
        db = sqlite3.connect(work / "faults.db")
        db.row_factory = sqlite3.Row
        yield CrawlResult(portal, process.returncode, log, seconds, db)
        db.close()


def test_crawl_exits_cleanly_in_bounded_time(result: CrawlResult) -> None:
    assert result.returncode == 0, result.log[-3000:]
    assert "Traceback" not in result.log
    assert result.seconds < TIME_LIMIT


def test_every_bad_url_is_recorded_with_a_reason(result: CrawlResult) -> None:
    errors: dict[str, list[str]] = {}
    for row in result.db.execute("SELECT url, status, reason FROM fetch_errors"):
        errors.setdefault(row["url"], []).append(f"{row['status']} {row['reason']}")
    missing = []
    for case in result.portal.cases:
        if case.expect != "recorded":
            continue
        reasons = errors.get(case.url, [])
        if not any(case.reason_contains in reason for reason in reasons):
            missing.append(f"{case.name}: {reasons or 'no fetch_errors row'}")
    assert missing == []


def test_good_articles_are_stored_with_their_titles(result: CrawlResult) -> None:
    titles = {row["url"]: row["title"] for row in result.db.execute("SELECT url, title FROM articles")}
    wrong = [
        f"{case.name}: {titles.get(case.url)!r}"
        for case in result.portal.cases
        if case.expect == "stored" and titles.get(case.url) != case.title
    ]
    assert wrong == []
    count, distinct = result.db.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone()
    assert count == distinct


def test_pathological_pages_are_stored_or_recorded(result: CrawlResult) -> None:
    stored = {row[0] for row in result.db.execute("SELECT url FROM articles")}
    recorded = {row[0] for row in result.db.execute("SELECT url FROM fetch_errors")}
    lost = [
        c.name
        for c in result.portal.cases
        if c.expect == "stored_or_recorded" and c.url not in stored | recorded
    ]
    assert lost == []
    # A page with nothing in it is a failure to record, not an article.
    empty = result.db.execute(
        "SELECT url FROM articles WHERE coalesce(title, '') = '' AND coalesce(body_text, '') = ''"
    ).fetchall()
    assert [row[0] for row in empty] == []


def test_nothing_is_sent_where_it_must_not_go(result: CrawlResult) -> None:
    assert sum(result.portal.sites["elsewhere"].hits.values()) == 0
    sites = {urlsplit(site.base).netloc: site for site in result.portal.sites.values()}
    fetched = [
        c.name
        for c in result.portal.cases
        if c.expect == "untouched" and sites[urlsplit(c.url).netloc].hits[urlsplit(c.url).path]
    ]
    assert fetched == []


def test_walled_host_is_stopped_not_hammered(result: CrawlResult) -> None:
    walled = result.portal.sites["walled"]
    article_hits = sum(n for path, n in walled.hits.items() if path.startswith("/xwdt/"))
    assert article_hits < 9


def test_run_is_recorded_partial(result: CrawlResult) -> None:
    run = result.db.execute("SELECT * FROM crawl_runs").fetchone()
    assert run["status"] == "partial"
    assert run["blocked_kind"] == "waf_ruishu"
    assert run["http_404"] >= 30
    assert run["errors"] >= len([c for c in result.portal.cases if c.expect == "recorded"])

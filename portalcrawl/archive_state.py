"""The archive as the spider asks it: which listed links are known, which listings are trusted."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from portalcrawl import database
from portalcrawl.listing_resume import ResumePoint

# Every listed link of a page goes in one JSON array: one bound parameter, however long the page's
# list, so no chunking under SQLite's limit on bound parameters. Each link is looked up by the unique
# url index (CROSS JOIN keeps json_each outside); the unary ``+`` keeps SQLite from answering by the
# site index, which walked every article of the site on each listing page.
_KNOWN_LINKS = """
SELECT a.url, a.first_seen_run_id, 0 FROM json_each(:links) AS listed
  CROSS JOIN articles AS a ON a.url = listed.value WHERE +a.site = :site
UNION ALL
SELECT s.url, s.first_seen_run_id, 1 FROM json_each(:links) AS listed
  CROSS JOIN skipped_urls AS s ON s.site = :site AND s.url = listed.value
"""
# What SQLite's trace reports for a statement that reads (every read of this module is one).
_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)


@dataclass(frozen=True)
class KnownLinks:
    """The links of one listing page the archive knows, as articles or as links that are no article,
    each with the first run that saw it (None: recorded outside a run)."""

    first_seen: dict[str, int | None]
    skipped: frozenset[str]

    def __contains__(self, link: object) -> bool:
        return link in self.first_seen

    def up_to(self, run_id: int) -> set[str]:
        """The known links first seen in a run up to ``run_id``: what an all-known stop may trust."""
        return {link for link, first in self.first_seen.items() if first is not None and first <= run_id}


NOTHING_KNOWN = KnownLinks({}, frozenset())


@dataclass(frozen=True)
class ListingState:
    """What the archive remembers of one listing: the last run that paged it to its end, and for a
    listing never paged to its end, where an unfinished run got to."""

    trusted_run_id: int | None = None
    completed_at: datetime | None = None
    resume: ResumePoint | None = None

    def recheck_due(self, recheck_days: int | None, now: datetime) -> bool:
        """Whether the listing was completed ``recheck_days`` or more ago: its known articles are due."""
        if not recheck_days or self.completed_at is None:
            return False
        return now - self.completed_at >= timedelta(days=recheck_days)


class ArchiveState:
    """One site's incremental state in the archive, opened once per crawl by the spider.

    ``known`` answers a listing page with one query; ``listing`` answers a start URL with one query.
    ``reads`` counts the reads SQLite ran on this connection (its trace callback, not this class's
    own bookkeeping), which the spider reports as ``portalcrawl/archive/queries``.
    """

    def __init__(self, db: sqlite_utils.Database, site: str) -> None:
        self.db = db
        self.site = site
        self.reads = 0
        self._listings: dict[str, ListingState] = {}
        db.conn.set_trace_callback(self._traced)

    @classmethod
    def open(cls, path: str | os.PathLike[str], site: str) -> ArchiveState:
        return cls(database.open_database(path), site)

    def _traced(self, statement: str) -> None:
        if _READ.match(statement):
            self.reads += 1

    def close(self) -> None:
        self.db.conn.set_trace_callback(None)
        self.db.close()

    # -- reads -----------------------------------------------------------------------------------

    def known(self, links: Iterable[str]) -> KnownLinks:
        """Which of ``links`` are archived articles of the site or remembered as no article."""
        wanted = list(dict.fromkeys(links))
        if not wanted:
            return NOTHING_KNOWN
        first_seen: dict[str, int | None] = {}
        skipped: set[str] = set()
        rows = self.db.conn.execute(
            _KNOWN_LINKS, {"links": json.dumps(wanted, ensure_ascii=False), "site": self.site}
        )
        for url, run_id, is_skipped in rows:
            if is_skipped:
                skipped.add(url)
            # A link both archived and skipped is trusted from the earlier of its two runs.
            earlier = first_seen.get(url)
            if earlier is None or (run_id is not None and run_id < earlier):
                first_seen[url] = run_id
        return KnownLinks(first_seen, frozenset(skipped))

    def listing(self, start_url: str) -> ListingState:
        """The listing's state as this crawl found it: read once, since the crawl's own trust and
        resume decisions are taken from where the earlier runs left it."""
        if start_url not in self._listings:
            self._listings[start_url] = self._read_listing(start_url)
        return self._listings[start_url]

    def _read_listing(self, start_url: str) -> ListingState:
        row = database.get_listing_state(self.db, self.site, start_url) or {}
        if not row.get("last_complete_run_id"):
            if not row.get("resume_depth") or not row.get("resume_page"):
                return ListingState()
            return ListingState(resume=ResumePoint.from_json(int(row["resume_depth"]), row["resume_page"]))
        completed = datetime.fromisoformat(row["last_complete_at"]) if row.get("last_complete_at") else None
        if completed is not None and completed.tzinfo is None:
            completed = completed.replace(tzinfo=UTC)
        return ListingState(int(row["last_complete_run_id"]), completed)

    # -- writes ----------------------------------------------------------------------------------

    def remember_skipped(self, url: str, reason: str, run_id: int | None) -> None:
        database.record_skipped_url(self.db, self.site, url, reason, run_id)

    def forget_skipped(self, url: str) -> None:
        database.forget_skipped_urls(self.db, self.site, [url])

    def mark_complete(self, start_url: str, run_id: int) -> None:
        self._listings.pop(start_url, None)
        database.mark_listing_complete(self.db, self.site, start_url, run_id)

    def save_resume(self, start_url: str, point: ResumePoint, run_id: int) -> None:
        self._listings.pop(start_url, None)
        database.save_listing_resume(
            self.db, self.site, start_url, depth=point.depth, page=point.to_json(), run_id=run_id
        )

"""One crawl_runs row per crawl: what it fetched, stored and failed, and whether it went well."""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Self

from scrapy import Spider, signals
from scrapy.exceptions import CloseSpider

from portalcrawl import signals as portalcrawl_signals
from portalcrawl.database import (
    DatabaseError,
    fail_killed_runs,
    finish_run,
    now_iso,
    open_database,
    record_fetch_errors,
    start_run,
)
from portalcrawl.middlewares.robots import ROBOTS_UNAVAILABLE
from portalcrawl.pipelines.storage import STORAGE_ERROR

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# fetch_failed rows wait in memory until this many, then go to fetch_errors in one transaction.
ERROR_BATCH = 200
# A run that keeps failing does not fill the disk: beyond this many rows only the count grows.
MAX_ERROR_ROWS = 10_000
BLOCKED_PREFIX = "portalcrawl/blocked/"
# Share of failed URLs above which a finished crawl is reported partial rather than ok.
PARTIAL_ERROR_SHARE = 0.1
# crawl_runs.reason of a run that read listing pages but found no article link on them: what a
# portal redesign (or a profile pattern or selector that matches nothing) looks like.
NO_ARTICLES_FOUND = "no_articles_found"
# ... and of a run whose article pages mostly failed extraction.
EXTRACTION_FAILED = "extraction_failed"
# Stats key: attachment files the run's byte budget refused (PORTALCRAWL_ATTACHMENT_BUDGET).
ATTACHMENTS_LEFT_OVER = "portalcrawl/attachments/left_for_next_run"


def dead_column_reason(stats: dict[str, Any]) -> str | None:
    """``no_articles_found`` or ``extraction_failed`` when the run collected nothing from a live column.

    A listing that shows no article link at all, or articles of which more than half failed extraction,
    is a dead column even though every page answered 200.
    """
    listing_pages = int(stats.get("portalcrawl/spider/listing_pages", 0))
    article_pages = int(stats.get("portalcrawl/spider/article_pages", 0))
    extract_errors = int(stats.get("portalcrawl/spider/extract_errors", 0))
    if listing_pages and not stats.get("portalcrawl/spider/article_links"):
        return NO_ARTICLES_FOUND
    if article_pages and extract_errors * 2 > article_pages:
        return EXTRACTION_FAILED
    return None


def run_reason(stats: dict[str, Any], finish_reason: str) -> str:
    """The ``crawl_runs.reason`` text: why the run ended as it did, ``finished`` when nothing to say.

    The finish reason when the crawl did not end by itself (``shutdown``, ``storage_error``, a
    close-spider limit), the dead-column reason, the max_pages cap when it stopped a listing
    before its end (that listing is not marked complete, so later runs page past it), and the
    attachment byte budget when it left files for the next run.
    """
    reasons = [] if finish_reason == "finished" else [finish_reason]
    dead = dead_column_reason(stats)
    if dead:
        reasons.append(dead)
    capped = int(stats.get("portalcrawl/spider/capped_listings", 0))
    if capped:
        cap = stats.get("portalcrawl/spider/max_pages")
        listings = "listing" if capped == 1 else "listings"
        reasons.append(f"max_pages={cap} reached, {capped} {listings} not complete")
    left_over = int(stats.get(ATTACHMENTS_LEFT_OVER, 0))
    if left_over:
        files = "file" if left_over == 1 else "files"
        reasons.append(f"attachment budget spent, {left_over} {files} left for the next run")
    return "; ".join(reasons) or "finished"


def run_outcome(stats: dict[str, Any], reason: str, errors: int) -> tuple[str, str | None]:
    """The run's status and blocked kind, from its final stats and finish reason.

    In order, the first rule that applies:

    - ``blocked``: some answers were classified as blocked (``portalcrawl/blocked/<kind>``) and
      there were no more good pages (listing + article) than blocked answers; ``blocked_kind`` is the
      most frequent kind.
    - ``failed``: the storage failed (reason ``storage_error``, or articles lost by a failed write at
      close, ``portalcrawl/storage/lost``); no page was fetched; listing pages
      arrived but no article page did while fetches failed; or extraction failed on more than half of
      the article pages fetched, or listing pages arrived without a single article link on them
      (``dead_column_reason``).
    - ``partial``: the crawl did not finish by itself (reason other than ``finished``: shutdown,
      SIGTERM, a close-spider limit), more than ``PARTIAL_ERROR_SHARE`` of the URLs it tried failed,
      or the attachment byte budget left files for the next run (``ATTACHMENTS_LEFT_OVER``).
      A dead link or two on a finished crawl is normal on real portals: the run stays ``ok`` and the
      failures are in ``errors`` and ``fetch_errors``.
    - ``ok``: otherwise.
    """
    listing_pages = int(stats.get("portalcrawl/spider/listing_pages", 0))
    article_pages = int(stats.get("portalcrawl/spider/article_pages", 0))
    good_pages = listing_pages + article_pages
    blocked = {
        key.removeprefix(BLOCKED_PREFIX): int(value)
        for key, value in stats.items()
        if key.startswith(BLOCKED_PREFIX) and value
    }
    blocked_total = sum(blocked.values())
    blocked_kind = max(blocked, key=lambda kind: blocked[kind]) if blocked else None
    if blocked_total and good_pages <= blocked_total:
        return "blocked", blocked_kind
    if reason == STORAGE_ERROR or stats.get("portalcrawl/storage/lost") or good_pages == 0:
        return "failed", blocked_kind
    if article_pages == 0 and listing_pages and errors:
        return "failed", blocked_kind
    if dead_column_reason(stats):
        return "failed", blocked_kind
    if reason != "finished" or errors > PARTIAL_ERROR_SHARE * (good_pages + errors):
        return "partial", blocked_kind
    if stats.get(ATTACHMENTS_LEFT_OVER):
        return "partial", blocked_kind
    return "ok", blocked_kind


class RecordCrawlRun:
    """Creates the run's ``crawl_runs`` row when the spider opens and completes it when it closes.

    The run id goes to stats ``portalcrawl/run_id`` and to ``spider.run_id`` so that the spider (listing
    state) and the storage pipeline (``first_seen_run_id``) can use it.
    """

    def __init__(self, crawler: Crawler, db_path: str) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.db: sqlite_utils.Database | None = None
        self.run_id: int | None = None
        self.errors = 0
        self.pending_errors: list[tuple[int | None, str, int | None, str, str]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler, crawler.settings.get("PORTALCRAWL_DB_PATH"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.fetch_failed, signal=portalcrawl_signals.fetch_failed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        site = getattr(spider, "site", None) or spider.name
        args = {
            key: value for key, value in vars(spider).items() if isinstance(value, str | int | float | bool)
        }
        try:
            self.db = open_database(self.db_path)
            killed = fail_killed_runs(self.db)
            self.run_id = start_run(self.db, str(site), args)
        except (sqlite3.Error, DatabaseError, OSError) as error:
            logger.error("Cannot record the crawl run in %s: %s; not crawling", self.db_path, error)
            if self.db is not None:
                self.db.close()
                self.db = None
            # Scrapy closes a spider whose spider_opened handler raises CloseSpider.
            raise CloseSpider(STORAGE_ERROR) from error
        if killed:
            logger.warning("Crawl runs %s were killed before they finished; marked failed", killed)
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("portalcrawl/run_id", self.run_id)
        spider.run_id = self.run_id  # type: ignore[attr-defined]

    def fetch_failed(self, url: str, status: int | None, reason: str) -> None:
        self.errors += 1
        if self.errors > MAX_ERROR_ROWS:
            return
        self.pending_errors.append((self.run_id, url, status, reason, now_iso()))
        if len(self.pending_errors) >= ERROR_BATCH:
            self.write_errors()

    def write_errors(self) -> None:
        if not self.pending_errors or self.db is None:
            return
        batch, self.pending_errors = self.pending_errors, []
        try:
            record_fetch_errors(self.db, batch)
        except (sqlite3.Error, DatabaseError) as error:
            logger.error("Cannot record %d fetch errors in %s: %s", len(batch), self.db_path, error)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.db is None or self.run_id is None:
            return
        self.write_errors()
        stats = self.crawler.stats
        assert stats is not None
        values = stats.get_stats()
        if reason == "finished" and values.get("portalcrawl/robots/unavailable_hosts"):
            # Some host was not crawled at all: the run did not see the whole site.
            reason = ROBOTS_UNAVAILABLE
        errors = self.errors + int(values.get("spider_exceptions/count", 0))
        status, blocked_kind = run_outcome(values, reason, errors)
        listing_pages = int(values.get("portalcrawl/spider/listing_pages", 0))
        article_pages = int(values.get("portalcrawl/spider/article_pages", 0))
        try:
            finish_run(
                self.db,
                self.run_id,
                status=status,
                reason=run_reason(values, reason),
                blocked_kind=blocked_kind,
                requests=int(values.get("downloader/request_count", 0)),
                responses=int(values.get("downloader/response_count", 0)),
                pages_fetched=listing_pages + article_pages,
                listing_pages=listing_pages,
                article_pages=article_pages,
                new_articles=int(values.get("portalcrawl/storage/new", 0)),
                updated_articles=int(values.get("portalcrawl/storage/updated", 0)),
                unchanged_articles=int(values.get("portalcrawl/storage/unchanged", 0)),
                dropped_items=int(values.get("item_dropped_count", 0)),
                errors=errors,
                http_404=int(values.get("downloader/response_status_count/404", 0)),
            )
        except (sqlite3.Error, DatabaseError) as error:
            logger.error("Cannot record the end of crawl run %s in %s: %s", self.run_id, self.db_path, error)
        finally:
            self.db.close()
            self.db = None
        logger.info("Crawl run %s: %s (%s)", self.run_id, status, reason)

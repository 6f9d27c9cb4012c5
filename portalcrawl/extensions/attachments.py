"""Attachments of the stored articles: link rows, polite downloads through the crawl, text in a sandbox.

The mode (``off|links|download|text``) is ``--attachments``/``-s PORTALCRAWL_ATTACHMENTS`` when given on
the command line, else the profile's ``attachments`` key, else the setting's default. Downloads are
ordinary requests of the crawl, so robots.txt, the URL filter, AutoThrottle and the per-host slots apply
to them; they go at a lower priority than pages, so articles are never held up behind files.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import deque
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.error import TimeoutError as TwistedTimeoutError
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from portalcrawl import database
from portalcrawl.attachments import FILE_REQUEST_META, MODES, mode_at_least, store
from portalcrawl.attachments.readers import Caps, Extraction
from portalcrawl.attachments.sandbox import Sandbox
from portalcrawl.attachments.sniff import disposition_filename, sniff_kind
from portalcrawl.items import Article
from portalcrawl.urls import is_fetchable_url

logger = logging.getLogger(__name__)

# Below every page request (Scrapy's default 0): files wait until the pages queued before them are done.
FILE_PRIORITY = -100


def resolve_mode(settings: Any, profile_mode: str | None) -> str:
    """The command line wins over the profile, the profile over the project default."""
    configured = str(settings.get("PORTALCRAWL_ATTACHMENTS") or "links")
    from_command_line = settings.getpriority("PORTALCRAWL_ATTACHMENTS") >= SETTINGS_PRIORITIES["cmdline"]
    return configured if from_command_line or not profile_mode else profile_mode


class ArchiveAttachments:
    """Extension: one ``attachments`` row per document link, and in download/text modes the files."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        mode = str(settings.get("PORTALCRAWL_ATTACHMENTS") or "links")
        if mode not in MODES:
            raise NotConfigured(f"PORTALCRAWL_ATTACHMENTS={mode!r}: expected one of {', '.join(MODES)}")
        self.crawler = crawler
        self.db_path = settings.get("PORTALCRAWL_DB_PATH", "")
        if not self.db_path:
            raise NotConfigured("no PORTALCRAWL_DB_PATH")
        self.max_bytes = settings.getint("PORTALCRAWL_ATTACHMENT_MAX_BYTES")
        self.timeout = settings.getfloat("PORTALCRAWL_ATTACHMENT_TIMEOUT")
        self.budget = settings.getint("PORTALCRAWL_ATTACHMENT_BUDGET")
        self.caps = Caps(
            max_pages=settings.getint("PORTALCRAWL_EXTRACT_MAX_PAGES"),
            max_chars=settings.getint("PORTALCRAWL_EXTRACT_MAX_CHARS"),
        )
        self.extract_memory = settings.getint("PORTALCRAWL_EXTRACT_MEMORY")
        self.extract_timeout = settings.getfloat("PORTALCRAWL_EXTRACT_TIMEOUT")
        self.mode = "off"
        self.db: Any = None
        # URL → the articles waiting for its download (one request per URL and run).
        self.in_flight: dict[str, list[str]] = {}
        # Downloads not sent yet (the byte budget), oldest first; bytes received and reserved by those sent.
        self.waiting: deque[str] = deque()
        self.received_bytes = 0
        self.reserved_bytes = 0
        # URLs the byte budget left for the next run.
        self.left_over: set[str] = set()
        self.extract_queue: deque[str] = deque()
        self.queued: set[str] = set()
        self.extracting: Deferred[Any] | None = None
        self.storing: set[Deferred[Any]] = set()
        self.sandbox: Sandbox | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveAttachments:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def spider_opened(self, spider: scrapy.Spider) -> None:
        profile = getattr(spider, "profile", None)
        self.mode = resolve_mode(self.crawler.settings, getattr(profile, "attachments", None))
        if self.mode == "off":
            return
        self.db = database.open_database(self.db_path)
        if mode_at_least(self.mode, "text"):
            self.sandbox = Sandbox(
                memory_bytes=self.extract_memory, timeout=self.extract_timeout, caps=self.caps
            )
        logger.info("attachments: %s", self.mode)
        if mode_at_least(self.mode, "download"):
            # Files an earlier run's byte budget left over: before this run's new ones (FIFO).
            self.backfill(spider, getattr(profile, "slug", None) or spider.name, statuses=("over_budget",))

    def _run_id(self) -> int | None:
        run_id = self.stats.get_value("portalcrawl/run_id")
        return int(run_id) if run_id else None

    # -- links and downloads ---------------------------------------------------------------------

    def item_scraped(self, item: Any, spider: scrapy.Spider) -> None:
        if self.db is None or not isinstance(item, Article) or not item.attachments:
            return
        store.record_links(self.db, item.url, item.attachments, self._run_id())
        self.stats.inc_value("portalcrawl/attachments/links", len(item.attachments))
        if not mode_at_least(self.mode, "download"):
            return
        for link in item.attachments:
            self.fetch(link["url"], item.url, spider)

    def fetch(self, url: str, article_url: str, spider: scrapy.Spider) -> None:
        """Download ``url`` for ``article_url`` when the byte budget allows, unless an earlier fetch (by
        any article) settled its outcome, it is being fetched, or it is refused (each recorded)."""
        settled = store.settled_outcome(self.db, url)
        if settled is not None:
            store.record_outcome(self.db, url, store.Outcome(**settled), [article_url])
            if settled["sha256"]:
                self._queue_extraction(settled["sha256"])
            return
        if url in self.in_flight:
            if article_url not in self.in_flight[url]:
                self.in_flight[url].append(article_url)
            return
        # The spider's own rule for its links (hosts and ports), so a file the URL filter would refuse is
        # settled here as refused rather than sent to be refused.
        if not is_fetchable_url(url, getattr(spider, "domains", ()), getattr(spider, "ports", None)):
            self._settle(
                url,
                [article_url],
                store.Outcome("refused", error="another host or port, or a private address"),
            )
            return
        self.in_flight[url] = [article_url]
        self.waiting.append(url)
        self._send_waiting()

    def _send_waiting(self) -> None:
        """Send waiting downloads while the bytes received plus the size limit of each download under
        way stay below the budget, so that a run stores at most the budget plus one file; once the
        received bytes reach it, the files still waiting are left ``over_budget`` for the next run.

        Holding files here rather than in the scheduler is what makes the budget bound the run: file
        requests come up after every page, long after they are made.
        """
        assert self.crawler.engine is not None
        while self.waiting and self.received_bytes + self.reserved_bytes < self.budget:
            url = self.waiting.popleft()
            self.reserved_bytes += self.max_bytes
            self.crawler.engine.crawl(self._file_request(url))
        if self.waiting and self.received_bytes >= self.budget:
            if not self.left_over:
                logger.warning(
                    "attachments: the run's budget of %d bytes is spent; the files not fetched yet are "
                    "left for the next run",
                    self.budget,
                )
            while self.waiting:
                url = self.waiting.popleft()
                error = f"run budget of {self.budget} bytes spent"
                self._settle(url, self.in_flight.pop(url, []), store.Outcome("over_budget", error=error))

    def _file_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.file_received,
            errback=self.file_failed,
            priority=FILE_PRIORITY,
            headers={"Referer": self.in_flight[url][0]},
            # Our own in_flight map is the duplicate filter, and it reports every outcome.
            dont_filter=True,
            meta={
                FILE_REQUEST_META: url,
                "download_maxsize": self.max_bytes,
                "download_warnsize": self.max_bytes,
                "download_timeout": self.timeout,
            },
        )

    def _download_ended(self, received: int) -> None:
        self.reserved_bytes -= self.max_bytes
        self.received_bytes += received
        self._send_waiting()

    def backfill(self, spider: scrapy.Spider, site: str, *, statuses: tuple[str, ...] | None = None) -> None:
        """Fetch the links of ``site``'s archived articles that no fetch has settled yet (only those with
        one of ``statuses`` when given)."""
        wanted = statuses or tuple(s for s in store.LINK_STATUSES if s not in store.SETTLED_STATUSES)
        placeholders = ", ".join("?" * len(wanted))
        rows = self.db.conn.execute(
            "SELECT t.url, t.article_url FROM attachments t JOIN articles a ON a.url = t.article_url "
            f"WHERE a.site = ? AND t.status IN ({placeholders}) ORDER BY t.id",
            (site, *wanted),
        ).fetchall()
        for url, article_url in rows:
            self.fetch(url, article_url, spider)

    def _settle(self, url: str, article_urls: list[str], outcome: store.Outcome) -> None:
        self.stats.inc_value(f"portalcrawl/attachments/{outcome.status}")
        if outcome.status == "over_budget":
            self.left_over.add(url)
            # What RecordCrawlRun reports (a partial run).
            self.stats.set_value("portalcrawl/attachments/left_for_next_run", len(self.left_over))
        if self.db is not None:
            store.record_outcome(self.db, url, outcome, article_urls)

    def file_received(self, response: Response) -> list[Any]:
        """Callback of a file request: sniff, store, record (the output is no items or requests)."""
        url = response.meta[FILE_REQUEST_META]
        article_urls = self.in_flight.pop(url, [])
        body = response.body
        self._download_ended(len(body))
        self.stats.inc_value("portalcrawl/attachments/bytes", len(body))
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None
        server_name = disposition_filename(response.headers.get(b"Content-Disposition"))
        kind = sniff_kind(body)
        common: dict[str, Any] = {
            "http_status": response.status,
            "content_type": content_type,
            "server_name": server_name,
        }
        if kind == "html" or not body:
            reason = "the server answered with an HTML page" if body else "the server answered with nothing"
            self._settle(url, article_urls, store.Outcome("not_a_file", error=reason, **common))
            return []
        # Hashing and writing up to PORTALCRAWL_ATTACHMENT_MAX_BYTES (fsync included) off the reactor.
        stored = deferToThread(store.store_file, self.db_path, body, kind)
        self.storing.add(stored)

        def recorded(result: tuple[str, str]) -> None:
            sha256, relative = result
            if self.db is None:
                return
            store.record_file(self.db, sha256, len(body), kind, relative)
            self._settle(url, article_urls, store.Outcome("downloaded", sha256=sha256, **common))
            self._queue_extraction(sha256)

        def failed(failure: Failure) -> None:
            logger.error("attachments: cannot store %s: %s", url, failure.getErrorMessage())
            self._settle(
                url, article_urls, store.Outcome("failed", error=f"storing: {failure.getErrorMessage()}")
            )

        stored.addCallbacks(recorded, failed)
        stored.addBoth(lambda _: self.storing.discard(stored))
        return []

    def file_failed(self, failure: Failure) -> list[Any]:
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta[FILE_REQUEST_META]
        article_urls = self.in_flight.pop(url, [])
        self._download_ended(0)
        error = failure.value
        message = failure.getErrorMessage() or type(error).__name__
        if isinstance(error, HttpError):
            outcome = store.Outcome(
                "http_error", http_status=error.response.status, error=f"HTTP {error.response.status}"
            )
        elif isinstance(error, IgnoreRequest):
            outcome = store.Outcome("refused", error=message)
        elif "max size" in message or type(error).__name__ in ("DownloadCancelledError", "CancelledError"):
            outcome = store.Outcome("too_large", error=f"larger than {self.max_bytes} bytes")
        elif isinstance(error, TwistedTimeoutError) or "timeout" in type(error).__name__.lower():
            outcome = store.Outcome("failed", error=f"no answer within {self.timeout:g} s")
        else:
            outcome = store.Outcome("failed", error=message)
        self._settle(url, article_urls, outcome)
        return []

    # -- text ------------------------------------------------------------------------------------

    def _queue_extraction(self, sha256: str) -> None:
        if self.sandbox is None or sha256 in self.queued:
            return
        row = store.file_row(self.db, sha256)
        if row is None or row["extract_status"] is not None:
            return
        self.queued.add(sha256)
        self.extract_queue.append(sha256)
        self._next_extraction()

    def _next_extraction(self) -> None:
        if self.extracting is not None or not self.extract_queue or self.sandbox is None:
            return
        sha256 = self.extract_queue.popleft()
        row = store.file_row(self.db, sha256)
        if row is None:
            self._next_extraction()
            return
        sandbox = self.sandbox
        path = store.stored_path(self.db_path, row["path"])
        self.extracting = deferToThread(sandbox.extract, path, row["kind"])

        def done(result: Extraction) -> None:
            if self.db is None:
                return
            try:
                store.record_text(self.db, sha256, result)
            except (sqlite3.Error, UnicodeError, ValueError) as error:
                # One file's text that cannot be stored is that file's error, not the crawl's.
                logger.error("attachments: cannot store the text of %s: %s", sha256, error)
                store.record_text(self.db, sha256, Extraction("error", error=f"storing the text: {error}"))
                result = Extraction("error")
            self.stats.inc_value(f"portalcrawl/attachments/extract_{result.status}")

        def failed(failure: Failure) -> None:
            logger.error("attachments: extracting %s failed: %s", sha256, failure.getErrorMessage())
            if self.db is not None:
                store.record_text(self.db, sha256, Extraction("error", error=failure.getErrorMessage()))

        def next_one(_: Any) -> None:
            self.extracting = None
            self._next_extraction()

        self.extracting.addCallbacks(done, failed)
        self.extracting.addBoth(next_one)

    async def spider_closed(self, spider: scrapy.Spider, reason: str) -> None:
        """Wait for files being stored and queued extractions (on a finished run; otherwise only the
        one under way: the next ``portalcrawl attachments extract`` reads the rest), then close."""
        if reason != "finished":
            self.extract_queue.clear()
        while self.storing or self.extracting is not None or self.extract_queue:
            if self.storing:
                await maybe_deferred_to_future(next(iter(self.storing)))
            elif self.extracting is not None:
                await maybe_deferred_to_future(self.extracting)
            else:
                self._next_extraction()
        if self.sandbox is not None:
            self.sandbox.close()
        if self.db is not None:
            self.db.close()
            self.db = None

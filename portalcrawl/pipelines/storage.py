"""Store articles in the SQLite archive in batches, so a crash loses seconds of work, not the run."""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from scrapy.utils.defer import deferred_from_coro

from portalcrawl.database import (
    DatabaseError,
    article_row,
    ensure_writable,
    open_database,
    upsert_articles,
    write_transaction,
)
from portalcrawl.items import Article
from portalcrawl.pages import PageKeeper, store_pages

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

STORAGE_ERROR = "storage_error"


class StoreArticlesPipeline:
    """Buffers articles and writes them with ``upsert_articles``.

    A batch is written when ``PORTALCRAWL_FLUSH_ITEMS`` articles wait, every
    ``PORTALCRAWL_FLUSH_SECONDS`` (a timer), and on close — which Scrapy also
    reaches on the first SIGINT/SIGTERM, since its graceful shutdown closes the spider. Only what was
    committed is counted in ``portalcrawl/storage/new|updated|unchanged``. If the database fails the
    error is logged, the spider is closed with reason ``storage_error`` and later items are dropped.
    The pages kept as served (``PageKeeper``) are written in the same transaction as their articles.
    """

    def __init__(self, crawler: Crawler, db_path: str, flush_items: int, flush_seconds: float) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.flush_items = max(1, flush_items)
        self.flush_seconds = flush_seconds
        self.db: sqlite_utils.Database | None = None
        # Each article with the row built for it when it arrived, so the row is not built twice.
        self.buffer: list[tuple[Article, dict[str, Any]]] = []
        self.failed = False
        self.timer: AsyncioLoopingCall | LoopingCall | None = None
        self.closing = False
        self.pages: PageKeeper | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            db_path=settings.get("PORTALCRAWL_DB_PATH"),
            flush_items=settings.getint("PORTALCRAWL_FLUSH_ITEMS"),
            flush_seconds=settings.getfloat("PORTALCRAWL_FLUSH_SECONDS"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        try:
            pipeline.pages = PageKeeper.from_crawler(crawler)
        except NotConfigured:
            pipeline.pages = None
        return pipeline

    def open_spider(self) -> None:
        try:
            self.db = open_database(self.db_path)
            ensure_writable(self.db)
        except (sqlite3.Error, DatabaseError, OSError) as error:
            self.failed = True
            logger.error("Cannot write to the archive %s: %s; not crawling", self.db_path, error)
            if self.db is not None:
                self.db.close()
                self.db = None
            raise CloseSpider(STORAGE_ERROR) from error
        if self.flush_seconds > 0:
            # Flushing whatever waits at each tick bounds an article's wait by one period.
            self.timer = create_looping_call(self.flush)
            self.timer.start(self.flush_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        if self.failed:
            raise DropItem(f"{STORAGE_ERROR}: not stored: {ItemAdapter(item).get('url')}")
        article = item if isinstance(item, Article) else Article(**ItemAdapter(item).asdict())
        try:
            # Refuse an item that cannot become a row now, not when its whole batch fails later (the row
            # is built from the article made valid Unicode without control characters).
            row = article_row(article)
        except (TypeError, ValueError) as error:
            raise DropItem(f"unstorable article: {article.url}: {error}") from error
        self.buffer.append((article, row))
        if self.pages is not None:
            self.pages.article_stored(article.url, article.fetched_at)
        if len(self.buffer) >= self.flush_items:
            self.flush()
            if self.failed:
                raise DropItem(f"{STORAGE_ERROR}: not stored: {article.url}")
        return item

    def flush(self) -> None:
        pages_waiting = self.pages is not None and bool(self.pages.ready)
        if not (self.buffer or pages_waiting) or self.failed or self.db is None:
            return
        batch, self.buffer = self.buffer, []
        pages = self.pages.take() if self.pages is not None else []
        stats = self.crawler.stats
        assert stats is not None
        run_id = stats.get_value("portalcrawl/run_id")
        try:
            with write_transaction(self.db):
                counts = upsert_articles(
                    self.db, [article for article, _ in batch], run_id, rows=[row for _, row in batch]
                )
                page_bytes = store_pages(self.db, pages, run_id)
        except Exception as error:
            # Whatever the failure, this batch is lost: stop the crawl, loudly, rather than lose more.
            self.fail(error, len(batch))
            return
        stats.inc_value("portalcrawl/storage/new", counts.new)
        stats.inc_value("portalcrawl/storage/updated", counts.updated)
        stats.inc_value("portalcrawl/storage/unchanged", counts.unchanged)
        if pages:
            stats.inc_value("portalcrawl/storage/pages", len(pages))
            stats.inc_value("portalcrawl/storage/page_bytes", page_bytes)

    def fail(self, error: BaseException, lost: int) -> None:
        self.failed = True
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("portalcrawl/storage/lost", lost)
        logger.error(
            "Cannot write to the archive %s: %s; %d articles were not stored, closing the spider",
            self.db_path,
            error,
            lost,
            exc_info=not isinstance(error, sqlite3.Error | OSError),
        )
        if not self.closing and self.crawler.crawling:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=STORAGE_ERROR))

    def spider_closed(self) -> None:
        if self.failed:
            # `scrapy crawl` exits with status 1 only for a crawl that "failed to bootstrap", which
            # Scrapy (2.19) judges by the crawler having no spider once the crawl is over. A crawl whose
            # articles could not be stored must fail cron's job, and an exception here would only be
            # logged; this is the one way to set the status without a traceback in the log.
            self.crawler.spider = None

    def close_spider(self) -> None:
        self.closing = True
        if self.timer is not None and self.timer.running:
            self.timer.stop()
        self.flush()
        if self.db is not None:
            self.db.close()
            self.db = None

"""A one-line progress display on the terminal for `portalcrawl crawl`; silent when stderr is not a TTY."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TYPE_CHECKING, ClassVar, Self, TextIO

from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call

from portalcrawl import signals as portalcrawl_signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.task import LoopingCall

REFRESH_SECONDS = 1.0
CLEAR_LINE = "\r\x1b[K"


class CrawlProgress:
    """Redraws one status line summing every crawler of the process (one crawler per site).

    All sites of a `portalcrawl crawl` run share one process and one terminal line, so the instances
    register in a class-level list; the last one to close erases the line before the summary table.
    """

    active: ClassVar[list[CrawlProgress]] = []

    def __init__(self, crawler: Crawler, stream: TextIO) -> None:
        self.crawler = crawler
        self.stream = stream
        self.errors = 0
        self.started = time.monotonic()
        self.closed = False
        self.task: AsyncioLoopingCall | LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not sys.stderr.isatty():
            # Bare, so Scrapy does not log a warning into every cron run's log.
            raise NotConfigured
        extension = cls(crawler, sys.stderr)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.fetch_failed, signal=portalcrawl_signals.fetch_failed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.active.append(self)
        self.task = create_looping_call(self.draw)
        self.task.start(REFRESH_SECONDS)

    def fetch_failed(self, url: str, status: int | None, reason: str) -> None:
        self.errors += 1

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.closed = True
        if all(extension.closed for extension in self.active):
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self.active.clear()

    def draw(self) -> None:
        self.stream.write(CLEAR_LINE + progress_line(self.active, shutil.get_terminal_size().columns))
        self.stream.flush()


def progress_line(extensions: list[CrawlProgress], width: int) -> str:
    """``crawling 2/3 sites: 134 pages, 52 new, 3 updated, 1 errors, 41 pages/min``, cut to ``width``."""
    totals = {"pages": 0, "new": 0, "updated": 0, "errors": 0}
    rate = 0.0
    for extension in extensions:
        stats = extension.crawler.stats
        assert stats is not None
        pages = stats.get_value("response_received_count", 0)
        totals["pages"] += pages
        totals["new"] += stats.get_value("portalcrawl/storage/new", 0)
        totals["updated"] += stats.get_value("portalcrawl/storage/updated", 0)
        totals["errors"] += extension.errors
        if not extension.closed:
            rate += pages * 60 / max(time.monotonic() - extension.started, 1.0)
    running = sum(not extension.closed for extension in extensions)
    line = (
        f"crawling {running}/{len(extensions)} sites: {totals['pages']} pages, {totals['new']} new, "
        f"{totals['updated']} updated, {totals['errors']} errors, {rate:.0f} pages/min"
    )
    return line[: max(width - 1, 0)]

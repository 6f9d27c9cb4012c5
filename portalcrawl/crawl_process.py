"""The process behind `portalcrawl crawl`: a bounded number of sites at once, and a clear Ctrl-C."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Callable
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from twisted.internet.defer import Deferred, DeferredSemaphore, succeed

from portalcrawl.database import KILLED, DatabaseError, open_database, write_transaction

logger = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = b"portalcrawl: stopping after in-flight requests; Ctrl-C again to abort\n"
KILL_MESSAGE = b"portalcrawl: aborting; unfinished runs are recorded as failed (killed)\n"


class PortalCrawlerProcess(CrawlerProcess):
    """Runs at most ``jobs`` crawlers at a time; the others start as running ones finish.

    Starting every site at once made 200 sites on four hosts time out on their robots.txt: every
    crawler's requests waited behind the others' at the same hosts. After a first Ctrl-C (or SIGTERM)
    no waiting site starts; after a second, the runs still open are recorded as ``failed`` / ``killed``
    before the process stops, since their spiders never get to close.
    """

    def __init__(self, settings: Any, *, jobs: int, db_path: str) -> None:
        super().__init__(settings)
        self.turns = DeferredSemaphore(max(1, jobs))
        self.db_path = db_path
        self.stopping = False
        self.started: list[Crawler] = []

    def crawl_in_turn(self, on_start: Callable[[Crawler], None], **spider_args: Any) -> Deferred[Any]:
        """Crawl with ``spider_args`` once a turn is free; nothing once a shutdown began.

        The crawler is created when its turn comes (``on_start`` receives it): a thousand idle
        crawlers would each hold their settings and reinstall the log handler for nothing.
        """

        def start() -> Deferred[Any]:
            if self.stopping:
                return succeed(None)
            crawler = self.create_crawler("portal")
            self.started.append(crawler)
            on_start(crawler)
            return self.crawl(crawler, **spider_args)

        # CrawlerProcess.start() joins while any crawl is active: the next turn's crawl joins that set
        # (the semaphore's release runs first) before the finished crawl's wait returns.
        return self.turns.run(start)

    def _signal_shutdown(self, signum: int, _: Any) -> None:
        _say(SHUTDOWN_MESSAGE)
        self.stopping = True
        super()._signal_shutdown(signum, _)

    def _signal_kill(self, signum: int, _: Any) -> None:
        # The reactor is imported late everywhere in Scrapy: at import time it would install the default.
        from twisted.internet import reactor  # noqa: PLC0415

        _say(KILL_MESSAGE)
        reactor.callFromThread(self._fail_open_runs)
        super()._signal_kill(signum, _)

    def _fail_open_runs(self) -> None:
        run_ids = [
            int(run_id) for crawler in self.started if (run_id := stats_of(crawler).get("portalcrawl/run_id"))
        ]
        if not run_ids:
            return
        try:
            db = open_database(self.db_path, create=False)
        except (sqlite3.Error, DatabaseError) as error:
            logger.error("Cannot record the aborted runs %s: %s", run_ids, error)
            return
        try:
            with write_transaction(db):
                db.conn.executemany(
                    "UPDATE crawl_runs SET status = 'failed', reason = ? WHERE id = ? AND status = 'running'",
                    [(KILLED, run_id) for run_id in run_ids],
                )
        except sqlite3.Error as error:
            logger.error("Cannot record the aborted runs %s: %s", run_ids, error)
        finally:
            db.close()


def stats_of(crawler: Crawler) -> dict[str, Any]:
    """A crawler's stats; empty before its crawl began (Scrapy raises on ``stats`` until then)."""
    try:
        stats = crawler.stats
    except RuntimeError:
        return {}
    return stats.get_stats() if stats is not None else {}


def _say(message: bytes) -> None:
    """One line on stderr from a signal handler, which must go on to stop the crawl whatever happens.

    os.write: a signal handler must not go through Python's buffered streams (reentrancy). A stderr
    whose reader is gone (a cluster worker killed with its crawl's pipes) raises EPIPE: the stop matters,
    the line does not.
    """
    with contextlib.suppress(OSError):
        os.write(2, message)

"""StoreArticlesPipeline and RecordCrawlRun: batching, timed flushes, shutdown, kill -9, storage errors.

The end-to-end cases run ``scrapy runspider`` on this very file, whose ``ArticleSourceSpider`` yields
articles without any network, so only storage and run recording are under test. (Items yielded by
``start()`` itself would not do: Scrapy 2.19 never finishes closing a spider whose close was requested
while such an item was in the pipelines.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy import signals
from scrapy.utils.test import get_crawler

from portalcrawl.database import open_database
from portalcrawl.extensions.crawl_runs import RecordCrawlRun, run_outcome
from portalcrawl.items import Article
from portalcrawl.pipelines.storage import StoreArticlesPipeline
from portalcrawl.signals import fetch_failed

HERE = Path(__file__)


class ArticleSourceSpider(scrapy.Spider):
    """Yields ``count`` articles, each from the response to a ``data:`` request (no network)."""

    name = "article_source"
    custom_settings = {  # noqa: RUF012 (Scrapy reads this class attribute)
        "ITEM_PIPELINES": {"portalcrawl.pipelines.storage.StoreArticlesPipeline": 900},
        "EXTENSIONS": {"portalcrawl.extensions.crawl_runs.RecordCrawlRun": 500},
        "DOWNLOADER_MIDDLEWARES": {},
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "LOG_LEVEL": "INFO",
    }

    def __init__(self, count: str = "10", interval: str = "0", progress: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.count = int(count)
        self.interval = float(interval)
        self.progress = progress
        self.site = "source"

    async def start(self):  # type: ignore[override]
        for n in range(self.count):
            if self.interval:
                await asyncio.sleep(self.interval)
            yield scrapy.Request(f"data:text/plain,{n}", dont_filter=True)

    def parse(self, response):  # type: ignore[override]
        self.crawler.stats.inc_value("portalcrawl/spider/article_pages")
        n = int(response.text)
        yield make_article(n)
        if self.progress:
            with open(self.progress, "a") as progress:
                progress.write(f"{n}\n")


def make_article(n: int, body: str = "为进一步优化营商环境，现将有关事项通知如下。") -> Article:
    return Article(
        url=f"http://127.0.0.1/art/{n}.html",
        site="source",
        title=f"第{n}号通知",
        published_at="2026-01-16T09:00:00+08:00",
        body_text=body,
    )


def crawler_for(db_path: Path, **settings: Any):
    return get_crawler(settings_dict={"PORTALCRAWL_DB_PATH": str(db_path), **settings})


def count_rows(db_path: Path, table: str = "articles") -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# In-process: the pipeline on its own, with a real database file.


def test_flushes_every_n_items_and_on_close(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    crawler = crawler_for(db_path, PORTALCRAWL_FLUSH_ITEMS=3, PORTALCRAWL_FLUSH_SECONDS=0)
    pipeline = StoreArticlesPipeline.from_crawler(crawler)
    pipeline.open_spider()
    for n in range(2):
        assert pipeline.process_item(make_article(n)) is not None
    assert count_rows(db_path) == 0
    pipeline.process_item(make_article(2))
    assert count_rows(db_path) == 3
    pipeline.process_item(make_article(3))
    pipeline.process_item(make_article(0, body="改了"))
    pipeline.close_spider()
    assert count_rows(db_path) == 4
    assert crawler.stats is not None
    assert crawler.stats.get_value("portalcrawl/storage/new") == 4
    assert crawler.stats.get_value("portalcrawl/storage/updated") == 1


def test_timer_flushes_waiting_items(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    crawler = crawler_for(db_path, PORTALCRAWL_FLUSH_ITEMS=1000, PORTALCRAWL_FLUSH_SECONDS=0.2)
    pipeline = StoreArticlesPipeline.from_crawler(crawler)

    async def crawl() -> list[int]:
        pipeline.open_spider()
        pipeline.process_item(make_article(1))
        seen = [count_rows(db_path)]
        await asyncio.sleep(0.5)
        seen.append(count_rows(db_path))
        pipeline.close_spider()
        return seen

    assert asyncio.run(crawl()) == [0, 1]


def test_run_id_from_stats_marks_first_seen(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    crawler = crawler_for(db_path, PORTALCRAWL_FLUSH_SECONDS=0)
    assert crawler.stats is not None
    crawler.stats.set_value("portalcrawl/run_id", 7)
    pipeline = StoreArticlesPipeline.from_crawler(crawler)
    pipeline.open_spider()
    pipeline.process_item(make_article(1))
    pipeline.close_spider()
    db = open_database(db_path)
    assert db["articles"].get(1)["first_seen_run_id"] == 7
    db.close()


def test_storage_error_is_reported_and_later_items_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_path = tmp_path / "a.db"
    db = open_database(db_path)
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON articles BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.close()
    crawler = crawler_for(db_path, PORTALCRAWL_FLUSH_ITEMS=2, PORTALCRAWL_FLUSH_SECONDS=0)
    pipeline = StoreArticlesPipeline.from_crawler(crawler)
    pipeline.open_spider()
    pipeline.process_item(make_article(1))
    with pytest.raises(scrapy.exceptions.DropItem, match="storage_error"):
        pipeline.process_item(make_article(2))
    with pytest.raises(scrapy.exceptions.DropItem, match="storage_error"):
        pipeline.process_item(make_article(3))
    pipeline.close_spider()
    assert "Cannot write to the archive" in caplog.text
    assert "disk full" in caplog.text
    assert crawler.stats is not None
    assert crawler.stats.get_value("portalcrawl/storage/new") is None
    assert crawler.stats.get_value("portalcrawl/storage/lost") == 2


def test_unstorable_item_is_dropped_alone(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    pipeline = StoreArticlesPipeline.from_crawler(crawler_for(db_path, PORTALCRAWL_FLUSH_SECONDS=0))
    pipeline.open_spider()
    bad = make_article(1)
    bad.gov_meta = {"ArticleTitle": object()}  # type: ignore[dict-item]
    with pytest.raises(scrapy.exceptions.DropItem, match="unstorable article"):
        pipeline.process_item(bad)
    pipeline.process_item(make_article(2))
    pipeline.close_spider()
    assert count_rows(db_path) == 1


@pytest.mark.parametrize(
    ("stats", "reason", "errors", "expected"),
    [
        (
            {
                "portalcrawl/spider/listing_pages": 2,
                "portalcrawl/spider/article_links": 30,
                "portalcrawl/spider/article_pages": 30,
            },
            "finished",
            0,
            "ok",
        ),
        (
            {
                "portalcrawl/spider/listing_pages": 2,
                "portalcrawl/spider/article_links": 30,
                "portalcrawl/spider/article_pages": 30,
            },
            "shutdown",
            0,
            "partial",
        ),
        (
            {
                "portalcrawl/spider/listing_pages": 2,
                "portalcrawl/spider/article_links": 30,
                "portalcrawl/spider/article_pages": 30,
            },
            "finished",
            3,
            "ok",
        ),
        (
            {
                "portalcrawl/spider/listing_pages": 2,
                "portalcrawl/spider/article_links": 30,
                "portalcrawl/spider/article_pages": 30,
            },
            "finished",
            4,
            "partial",
        ),
        ({}, "finished", 0, "failed"),
        ({"portalcrawl/spider/listing_pages": 3}, "finished", 40, "failed"),
        (
            {"portalcrawl/spider/article_pages": 10, "portalcrawl/spider/extract_errors": 8},
            "finished",
            0,
            "failed",
        ),
        ({"portalcrawl/spider/article_pages": 10}, "storage_error", 0, "failed"),
        ({"portalcrawl/spider/article_pages": 10, "portalcrawl/storage/lost": 3}, "finished", 0, "failed"),
        (
            {"portalcrawl/blocked/waf_ruishu": 5, "portalcrawl/spider/listing_pages": 1},
            "finished",
            5,
            "blocked",
        ),
    ],
)
def test_run_outcome_rules(stats: dict[str, int], reason: str, errors: int, expected: str) -> None:
    assert run_outcome(stats, reason, errors)[0] == expected


def test_blocked_kind_is_the_most_frequent() -> None:
    stats = {"portalcrawl/blocked/waf_ruishu": 5, "portalcrawl/blocked/rate_limit": 1}
    assert run_outcome(stats, "finished", 6) == ("blocked", "waf_ruishu")


def test_record_crawl_run_in_process(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    crawler = crawler_for(db_path)
    extension = RecordCrawlRun.from_crawler(crawler)
    spider = ArticleSourceSpider()
    assert crawler.stats is not None
    crawler.stats.set_value("downloader/request_count", 12)
    crawler.stats.set_value("downloader/response_count", 11)
    crawler.stats.set_value("downloader/response_status_count/404", 1)
    crawler.stats.set_value("portalcrawl/spider/listing_pages", 2)
    crawler.stats.set_value("portalcrawl/spider/article_links", 9)
    crawler.stats.set_value("portalcrawl/spider/article_pages", 9)
    crawler.stats.set_value("portalcrawl/storage/new", 8)
    crawler.stats.set_value("item_dropped_count", 1)
    crawler.signals.send_catch_log(signals.spider_opened, spider=spider)
    assert spider.run_id == crawler.stats.get_value("portalcrawl/run_id") == 1
    crawler.signals.send_catch_log(fetch_failed, url="http://127.0.0.1/x.html", status=404, reason="HTTP 404")
    crawler.signals.send_catch_log(signals.spider_closed, spider=spider, reason="finished")
    assert extension.db is None
    db = open_database(db_path)
    run = db["crawl_runs"].get(1)
    assert run["site"] == "source"
    assert (run["status"], run["reason"], run["errors"], run["http_404"]) == ("ok", "finished", 1, 1)
    assert (run["requests"], run["responses"], run["pages_fetched"]) == (12, 11, 11)
    assert (run["new_articles"], run["dropped_items"]) == (8, 1)
    assert [(e["run_id"], e["url"], e["status"]) for e in db["fetch_errors"].rows] == [
        (1, "http://127.0.0.1/x.html", 404)
    ]
    db.close()


# End to end: `scrapy runspider` on this file.


def runspider(tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "portalcrawl.settings"}
    db_setting = f"PORTALCRAWL_DB_PATH={tmp_path / 'a.db'}"
    return subprocess.Popen(
        [sys.executable, "-m", "scrapy", "runspider", str(HERE), "-s", db_setting, *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for_rows(db_path: Path, minimum: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db_path.exists():
            try:
                if count_rows(db_path) >= minimum:
                    return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"fewer than {minimum} rows after {timeout} s")


def test_crawl_records_run_and_articles(tmp_path: Path) -> None:
    process = runspider(tmp_path, "-a", "count=25", "-s", "PORTALCRAWL_FLUSH_ITEMS=10")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output.decode()
    db = open_database(tmp_path / "a.db")
    assert db["articles"].count == 25
    run = db["crawl_runs"].get(1)
    assert (run["site"], run["status"], run["reason"]) == ("source", "ok", "finished")
    assert (run["new_articles"], run["article_pages"], run["errors"]) == (25, 25, 0)
    assert {row["first_seen_run_id"] for row in db["articles"].rows} == {1}
    db.close()


def test_sigterm_flushes_and_records_partial_run(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    progress = tmp_path / "progress.txt"
    process = runspider(
        tmp_path,
        *("-a", "count=1000", "-a", "interval=0.02", "-a", f"progress={progress}"),
        *("-s", "PORTALCRAWL_FLUSH_ITEMS=1000", "-s", "PORTALCRAWL_FLUSH_SECONDS=30"),
    )
    try:
        deadline = time.monotonic() + 20
        while not progress.exists() or len(progress.read_text().split()) < 10:
            assert time.monotonic() < deadline, "spider did not start"
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
    yielded = len(progress.read_text().split())
    db = open_database(db_path)
    assert db["articles"].count == yielded, output.decode()
    run = db["crawl_runs"].get(1)
    assert (run["status"], run["reason"], run["new_articles"]) == ("partial", "shutdown", yielded)
    db.close()


def test_kill_9_loses_at_most_the_flush_period(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    progress = tmp_path / "progress.txt"
    flush_seconds, interval = 0.5, 0.02
    process = runspider(
        tmp_path,
        *("-a", "count=2000", "-a", f"interval={interval}", "-a", f"progress={progress}"),
        *("-s", "PORTALCRAWL_FLUSH_ITEMS=100000", "-s", f"PORTALCRAWL_FLUSH_SECONDS={flush_seconds}"),
    )
    try:
        wait_for_rows(db_path, 1)
        # Rows first appear at a flush; a whole number of periods later the kill would race the next
        # flush. Half a period off, some items are surely yielded but not yet flushed.
        time.sleep(2.5 * flush_seconds)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    finally:
        process.kill()
    yielded = len(progress.read_text().split())
    stored = count_rows(db_path)
    # Items arriving during one flush period (plus scheduling slack) may be lost, no more.
    assert 0 < yielded - stored <= (flush_seconds + 0.3) / interval


def test_storage_error_closes_the_crawl_as_failed(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.db")
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON articles BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    db.close()
    process = runspider(tmp_path, "-a", "count=500", "-a", "interval=0.01", "-s", "PORTALCRAWL_FLUSH_ITEMS=5")
    output, _ = process.communicate(timeout=60)
    log = output.decode()
    assert "Cannot write to the archive" in log
    assert "Closing spider (storage_error)" in log
    db = open_database(tmp_path / "a.db")
    run = db["crawl_runs"].get(1)
    assert (run["status"], run["reason"], run["new_articles"]) == ("failed", "storage_error", 0)
    assert run["article_pages"] < 500
    db.close()

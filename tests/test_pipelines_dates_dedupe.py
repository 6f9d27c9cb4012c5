"""NormalizeDatesPipeline and DropDuplicatesPipeline, run directly on Articles."""

from types import SimpleNamespace

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from portalcrawl.items import Article
from portalcrawl.pipelines.dates import NormalizeDatesPipeline
from portalcrawl.pipelines.dedupe import DropDuplicatesPipeline

FETCHED_AT = "2026-01-16T20:00:00+08:00"
URL = "http://127.0.0.1:8765/news/202601/t20260110_1.html"


def make_crawler(settings: dict[str, str] | None = None, timezone: str | None = None) -> Crawler:
    crawler = get_crawler(Spider, settings)
    crawler.stats = MemoryStatsCollector(crawler)
    crawler.spider = Spider(name="portal")
    if timezone is not None:
        crawler.spider.profile = SimpleNamespace(timezone=timezone)
    return crawler


def run_dates(article: Article, timezone: str | None = None) -> tuple[Article, MemoryStatsCollector]:
    crawler = make_crawler(timezone=timezone)
    pipeline = NormalizeDatesPipeline.from_crawler(crawler)
    result = pipeline.process_item(article)
    assert result is article
    return result, crawler.stats


STAGES = [
    # (published_raw, listing_date, url), expected (published_at, precision, stage)
    (
        ("发布时间：2026-01-16 19:01:55 来源：XX", "2026-01-15", URL),
        ("2026-01-16T19:01:55+08:00", "second", "published_raw"),
    ),
    (("3小时前", None, URL), ("2026-01-16T17+08:00", "hour", "published_raw")),
    (("阅读次数：12", "2026-01-15", URL), ("2026-01-15", "day", "listing")),
    ((None, "01-15", URL), ("2026-01-15", "day", "listing")),
    ((None, None, URL), ("2026-01-10", "day", "url")),
    ((None, None, "http://x.gov.cn/zwgk/202601/abc.shtml"), ("2026-01", "month", "url")),
]


@pytest.mark.parametrize(("sources", "expected"), STAGES)
def test_published_at_from_the_first_source_that_has_one(
    sources: tuple[str | None, str | None, str], expected: tuple[str, str, str]
) -> None:
    raw, listing, url = sources
    article = Article(url=url, published_raw=raw, listing_date=listing, fetched_at=FETCHED_AT)
    result, _ = run_dates(article)
    assert (result.published_at, result.date_precision, result.field_stages["published_at"]) == expected
    assert result.published_raw == raw


def test_extracted_published_at_is_kept() -> None:
    article = Article(
        url=URL,
        published_at="2026-01-16T19:01+08:00",
        date_precision="minute",
        published_raw="2026-01-16 19:01",
        fetched_at=FETCHED_AT,
        field_stages={"published_at": "gov_meta"},
    )
    result, stats = run_dates(article)
    assert (result.published_at, result.date_precision) == ("2026-01-16T19:01+08:00", "minute")
    assert result.field_stages["published_at"] == "gov_meta"
    assert stats.get_stats() == {}


@pytest.mark.parametrize(
    ("page", "listing", "expected"),
    [
        # A day read from the URL, refined by the listing's minute of the same day.
        (("2026-01-10", "day", "url"), "2026-01-10 10:20", ("2026-01-10T10:20+08:00", "minute", "listing")),
        # A page's own minute is more precise than the listing's day: it stays.
        (
            ("2026-01-10T09:30+08:00", "minute", "meta_line"),
            "2026-01-10",
            ("2026-01-10T09:30+08:00", "minute", "meta_line"),
        ),
        # They disagree: a date shown on the page wins over the listing ...
        (("2026-01-09", "day", "meta_line"), "2026-01-10 10:20", ("2026-01-09", "day", "meta_line")),
        # ... and the listing over a date read from the URL alone.
        (("2026-01-10", "day", "url"), "2026-01-12", ("2026-01-12", "day", "listing")),
        # A month from the URL is refined by the listing's day in it.
        (("2026-01", "month", "url"), "2026-01-12", ("2026-01-12", "day", "listing")),
    ],
)
def test_page_and_listing_dates_are_combined_by_one_rule(
    page: tuple[str, str, str], listing: str, expected: tuple[str, str, str]
) -> None:
    published_at, precision, stage = page
    article = Article(
        url=URL,
        published_at=published_at,
        date_precision=precision,
        listing_date=listing,
        fetched_at=FETCHED_AT,
        field_stages={"published_at": stage, "date_precision": stage},
    )
    result, _ = run_dates(article)
    assert (result.published_at, result.date_precision, result.field_stages["published_at"]) == expected
    assert result.field_stages["date_precision"] == expected[2]


def test_precision_is_inferred_for_an_extracted_date_without_one() -> None:
    article = Article(url=URL, published_at="2026-01-16T19:01+08:00", fetched_at=FETCHED_AT)
    result, _ = run_dates(article)
    assert result.date_precision == "minute"


@pytest.mark.parametrize(
    "article",
    [
        Article(url=URL, published_raw="2099-01-01 10:00", fetched_at=FETCHED_AT),
        Article(url=URL, published_raw="1985年3月1日", fetched_at=FETCHED_AT),
        Article(url=URL, published_at="2027-01-01", date_precision="day", fetched_at=FETCHED_AT),
    ],
)
def test_implausible_dates_are_cleared_and_counted(
    article: Article, caplog: pytest.LogCaptureFixture
) -> None:
    # The text the date came from is kept so that a later run can judge it again.
    raw = article.published_raw or article.published_at
    result, stats = run_dates(article)
    assert (result.published_at, result.date_precision) == (None, None)
    assert result.published_raw == raw
    assert "published_at" not in result.field_stages
    assert stats.get_value("portalcrawl/dates/implausible") == 1
    assert len([r for r in caplog.records if "Implausible" in r.getMessage()]) == 1


def test_unparseable_raw_is_counted_and_the_item_passed_on() -> None:
    article = Article(url="http://x.gov.cn/content_1.htm", published_raw="日期不详", fetched_at=FETCHED_AT)
    result, stats = run_dates(article)
    assert result.published_at is None
    assert stats.get_value("portalcrawl/dates/unparseable") == 1
    assert stats.get_value("portalcrawl/dates/missing") == 1


def test_timezone_from_profile_then_setting() -> None:
    article = Article(url=URL, published_raw="2026-01-16 19:01", fetched_at=FETCHED_AT)
    result, _ = run_dates(article, timezone="Europe/Berlin")
    assert result.published_at == "2026-01-16T19:01+01:00"
    article = Article(url=URL, published_raw="2026-01-16 19:01", fetched_at=FETCHED_AT)
    crawler = make_crawler({"PORTALCRAWL_TIMEZONE": "Asia/Tokyo"})
    result = NormalizeDatesPipeline.from_crawler(crawler).process_item(article)
    assert result.published_at == "2026-01-16T19:01+09:00"


def test_relative_dates_without_fetched_at_use_the_clock() -> None:
    result, _ = run_dates(Article(url="http://x.gov.cn/content_1.htm", published_raw="刚刚"))
    assert result.published_at is not None
    assert result.field_stages["published_at"] == "published_raw"


def dedupe_pipeline() -> tuple[DropDuplicatesPipeline, MemoryStatsCollector]:
    crawler = make_crawler()
    return DropDuplicatesPipeline.from_crawler(crawler), crawler.stats


def test_dedupe_canonicalises_and_drops_repeats() -> None:
    pipeline, stats = dedupe_pipeline()
    first = pipeline.process_item(Article(url="http://X.gov.cn:80/a/t20260116_1.html#top"))
    assert first.url == "http://x.gov.cn/a/t20260116_1.html"
    for again in (
        "http://x.gov.cn/a/t20260116_1.html",
        "https://x.gov.cn/a/t20260116_1.html",
        "http://x.gov.cn/a/t20260116_1.html;jsessionid=ABC",
    ):
        with pytest.raises(DropItem, match=r"^duplicate: http"):
            pipeline.process_item(Article(url=again))
    assert pipeline.process_item(Article(url="http://x.gov.cn/a/t20260116_2.html"))
    assert pipeline.process_item(Article(url="http://x.cn/show.php?itemid=2"))
    assert pipeline.process_item(Article(url="http://x.cn/show.php?itemid=3"))
    assert stats.get_value("portalcrawl/dedupe/dropped") == 3
    assert len(pipeline.seen) == 4
    assert all(isinstance(digest, bytes) and len(digest) == 16 for digest in pipeline.seen)


def test_dedupe_memory_is_per_run() -> None:
    first, _ = dedupe_pipeline()
    second, _ = dedupe_pipeline()
    first.process_item(Article(url="http://x.gov.cn/a.html"))
    assert second.process_item(Article(url="http://x.gov.cn/a.html"))

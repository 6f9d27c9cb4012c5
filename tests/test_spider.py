"""PortalSpider in isolation: arguments, refused URLs, pages that are no article, multi-page articles."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.exceptions import IgnoreRequest, UsageError
from scrapy.http import HtmlResponse, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from portalcrawl import article_response as response_extraction
from portalcrawl import database
from portalcrawl.archive_state import ArchiveState
from portalcrawl.demo.server import PortalServer
from portalcrawl.items import Article
from portalcrawl.signals import fetch_failed
from portalcrawl.spiders.portal import ListingChain, PortalSpider

LISTING = """<html><body><ul class="list">
<li><a href="./202601/t20260116_1.html">市政府召开常务会议研究部署</a><span>2026-01-16</span></li>
<li><a href="http://evil.example.com/202601/t20260115_2.html">外站转载的文章标题很长</a><span>2026-01-15</span></li>
<li><a href="http://127.0.0.1/202601/t20260114_3.html">内网地址的文章标题很长</a><span>2026-01-14</span></li>
</ul><a href="http://evil.example.com/col/index_1.html">下一页</a></body></html>"""


def make_spider(**kwargs: str) -> PortalSpider:
    crawler = get_crawler(PortalSpider, {"PORTALCRAWL_DB_PATH": ""})
    return PortalSpider.from_crawler(crawler, **kwargs)


def test_url_argument_builds_ad_hoc_profile() -> None:
    spider = make_spider(url="http://www.a.gov.cn/xwzx/,http://www.a.gov.cn/tzgg/", max_pages="3", full="1")
    assert spider.profile.start_urls == ("http://www.a.gov.cn/xwzx/", "http://www.a.gov.cn/tzgg/")
    assert spider.max_pages == 3
    assert spider.full is True
    assert spider.allowed_domains == ["www.a.gov.cn"]


def test_default_max_pages_comes_from_settings() -> None:
    crawler = get_crawler(PortalSpider, {"PORTALCRAWL_MAX_PAGES": 7, "PORTALCRAWL_DB_PATH": ""})
    assert PortalSpider.from_crawler(crawler, url="http://www.a.gov.cn/").max_pages == 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"site": "x", "url": "http://a.gov.cn/"}, "exactly one of"),
        ({"url": "ftp://a.gov.cn/"}, "not an http"),
        ({"url": "http://a.gov.cn/", "max_pages": "0"}, "max_pages"),
        ({"url": "http://a.gov.cn/", "max_pages": "ten"}, "max_pages"),
        ({"url": "http://a.gov.cn/", "since": "2026-13-01"}, "YYYY-MM-DD"),
        ({"url": "http://a.gov.cn/", "since": "yesterday"}, "YYYY-MM-DD"),
        ({"url": "http://a.gov.cn/", "full": "maybe"}, "full"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        make_spider(**kwargs)
    assert "\n" not in str(info.value)


def test_missing_profile_names_the_available_ones(tmp_path: Path) -> None:
    (tmp_path / "known.toml").write_text('name = "K"\nstart_urls = ["http://k.gov.cn/"]\n', encoding="utf-8")
    crawler = get_crawler(PortalSpider, {"PORTALCRAWL_SITES_DIR": str(tmp_path), "PORTALCRAWL_DB_PATH": ""})
    with pytest.raises(UsageError, match="known"):
        PortalSpider.from_crawler(crawler, site="unknown")
    spider = PortalSpider.from_crawler(crawler, site="known")
    assert spider.profile.slug == "known"


def test_listing_never_leaves_the_profile_hosts() -> None:
    spider = make_spider(url="http://www.a.gov.cn/xwzx/")
    spider_chain = ListingChain("http://www.a.gov.cn/xwzx/", None, False)
    spider.chains["http://www.a.gov.cn/xwzx/"] = spider_chain
    request = listing_request("http://www.a.gov.cn/xwzx/", "http://www.a.gov.cn/xwzx/")
    response = HtmlResponse(request.url, body=LISTING.encode(), encoding="utf-8", request=request)
    followed = list(spider.parse_listing(response))
    assert [r.url for r in followed] == ["http://www.a.gov.cn/xwzx/202601/t20260116_1.html"]
    assert spider.crawler.stats.get_value("portalcrawl/spider/offsite_links") == 2
    assert spider_chain.queue == []


ARTICLE_URL = "http://www.a.gov.cn/xwzx/202601/t20260116_1.html"
ARTICLE_PAGE = """<html><head><title>市政府召开常务会议</title></head><body><h1>市政府召开常务会议</h1>
<div class="content"><p>1月16日，市政府召开常务会议，研究部署今年重点工作任务。</p></div></body></html>"""


def spider_with_database(tmp_path: Path) -> tuple[PortalSpider, list[tuple[str, int | None, str]]]:
    spider = make_spider(url="http://www.a.gov.cn/xwzx/")
    spider.archive = ArchiveState(database.open_database(tmp_path / "portalcrawl.db"), spider.profile.slug)
    failures: list[tuple[str, int | None, str]] = []

    def record(url: str, status: int | None, reason: str) -> None:
        failures.append((url, status, reason))

    spider.crawler.signals.connect(record, signal=fetch_failed, weak=False)
    return spider, failures


def listing_request(url: str, chain: str, depth: int = 1) -> Request:
    """A listing request as the spider makes it: its chain, its depth in the chain, the page."""
    return Request(
        url, meta={"portalcrawl_chain": chain, "portalcrawl_depth": depth, "portalcrawl_page": url}
    )


def article_response(
    body: bytes, status: int = 200, content_type: str = "text/html; charset=utf-8"
) -> Response:
    request = Request(ARTICLE_URL, cb_kwargs={"article_url": ARTICLE_URL})
    cls = HtmlResponse if content_type.startswith("text/html") else Response
    return cls(ARTICLE_URL, status=status, body=body, headers={"Content-Type": content_type}, request=request)


def http_error(response: Response) -> Failure:
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = response.request  # type: ignore[attr-defined]
    return failure


def parse(spider: PortalSpider, response: Response) -> list[object]:
    return list(
        spider.parse_article(
            response, article_url=ARTICLE_URL, listing_url="http://www.a.gov.cn/xwzx/", listing_date=None
        )
    )


@pytest.mark.parametrize(
    ("status", "content_type", "remembered"),
    [
        (200, "application/octet-stream", "not HTML: application/octet-stream"),
        (404, "text/html; charset=utf-8", "HTTP 404"),
        (410, "text/html; charset=utf-8", "HTTP 410"),
        (500, "text/html; charset=utf-8", None),
    ],
)
def test_article_page_that_is_no_article_is_remembered_only_when_permanent(
    tmp_path: Path, status: int, content_type: str, remembered: str | None
) -> None:
    spider, failures = spider_with_database(tmp_path)
    response = article_response(b"\x00\x01binary", status, content_type)
    if status == 200:
        assert parse(spider, response) == []
    else:
        # HttpErrorMiddleware hands non-2xx answers to the errback.
        spider.article_failed(http_error(response))
        assert failures == [(ARTICLE_URL, status, f"HTTP {status}")]
    rows = list(spider.archive.db["skipped_urls"].rows)
    assert [row["reason"] for row in rows] == ([remembered] if remembered else [])
    assert spider.archive.known([ARTICLE_URL]).skipped == ({ARTICLE_URL} if remembered else set())


def test_robots_refusal_is_remembered_and_unreported_refusals_are_reported(tmp_path: Path) -> None:
    spider, failures = spider_with_database(tmp_path)
    refusals = [
        ("Forbidden by robots.txt", ARTICLE_URL),
        ("blocked: waf_ruishu", ARTICLE_URL + "?waf=1"),
        ("max redirections reached", ARTICLE_URL + "?loop=1"),
    ]
    for message, url in refusals:
        request = Request(url, cb_kwargs={"article_url": url})
        failure = Failure(IgnoreRequest(message))
        failure.request = request  # type: ignore[attr-defined]
        spider.article_failed(failure)
    assert [row["url"] for row in spider.archive.db["skipped_urls"].rows] == [ARTICLE_URL]
    # The block detector reported its refusal itself; Scrapy's redirect middleware did not.
    assert failures == [(ARTICLE_URL + "?loop=1", None, "max redirections reached")]


def test_extraction_error_is_counted_reported_and_yields_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spider, failures = spider_with_database(tmp_path)

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("unexpected markup")

    monkeypatch.setattr(response_extraction, "extract_article", broken)
    assert parse(spider, article_response(ARTICLE_PAGE.encode())) == []
    assert spider.crawler.stats.get_value("portalcrawl/spider/extract_errors") == 1
    assert failures == [(ARTICLE_URL, None, "extraction failed: ValueError: unexpected markup")]
    assert spider.archive.db["skipped_urls"].count == 0


def test_listing_skips_known_articles_remembered_links_and_documents(tmp_path: Path) -> None:
    spider, _ = spider_with_database(tmp_path)
    site = spider.profile.slug
    database.record_skipped_url(
        spider.archive.db, site, "http://www.a.gov.cn/xwzx/202601/t20260114_3.html", "HTTP 404", 1
    )
    database.upsert_articles(
        spider.archive.db,
        [Article(url="http://www.a.gov.cn/xwzx/202601/t20260115_2.html", site=site)],
        run_id=1,
    )
    html = """<html><body><ul class="list">
    <li><a href="./202601/t20260116_1.html">市政府召开常务会议研究部署</a><span>2026-01-16</span></li>
    <li><a href="./202601/t20260115_2.html">已经存档的文章标题很长很长</a><span>2026-01-15</span></li>
    <li><a href="./202601/t20260114_3.html">已经撤稿的文章标题很长很长</a><span>2026-01-14</span></li>
    <li><a href="./202601/P020260113.pdf">重点工作任务分解表（附件）</a><span>2026-01-13</span></li>
    </ul></body></html>"""
    chain = ListingChain("http://www.a.gov.cn/xwzx/", None, False)
    spider.chains[chain.start_url] = chain
    request = listing_request(chain.start_url, chain.start_url)
    response = HtmlResponse(chain.start_url, body=html.encode(), encoding="utf-8", request=request)
    assert [r.url for r in spider.parse_listing(response)] == [ARTICLE_URL]
    assert spider.crawler.stats.get_value("portalcrawl/spider/known_skipped") == 2
    assert spider.crawler.stats.get_value("portalcrawl/spider/document_links") == 1


def test_only_listings_read_to_their_end_become_complete(tmp_path: Path) -> None:
    spider, failures = spider_with_database(tmp_path)
    spider.crawler.stats.set_value("portalcrawl/run_id", 7)
    ended, broken = (
        ListingChain(f"http://www.a.gov.cn/{name}/", None, False) for name in ("ended", "broken")
    )
    for chain, status in ((ended, 404), (broken, 503)):
        chain.pages = 1
        chain.article_links = 10
        spider.chains[chain.start_url] = chain
        page = chain.start_url + "index_1.html"
        request = listing_request(page, chain.start_url, depth=2)
        list(spider.listing_failed(http_error(HtmlResponse(page, status=status, body=b"", request=request))))
    spider.closed("finished")
    reopened = database.open_database(tmp_path / "portalcrawl.db")
    assert [row["start_url"] for row in reopened["listing_state"].rows] == [ended.start_url]
    assert [url for url, _, _ in failures] == [broken.start_url + "index_1.html"]
    reopened.close()


def test_multipage_article_is_fetched_page_by_page_and_merged(tmp_path: Path) -> None:
    server = PortalServer(Path(__file__).parent / "portals" / "destoon").start()
    try:
        column = server.columns["news"]
        first_url, second_url = (server.url(column.article_path(2, page)) for page in (1, 2))
        spider = make_spider(url=server.start_url("news"))
        pages = {url: urllib.request.urlopen(url, timeout=10).read() for url in (first_url, second_url)}
        wanted = next(e for e in server.expected_articles("news") if e["url"] == first_url)
    finally:
        server.stop()
    request = Request(first_url)
    first = HtmlResponse(first_url, body=pages[first_url], request=request)
    followed = list(spider.parse_article(first, article_url=first_url, listing_url="", listing_date=None))
    assert [r.url for r in followed] == [second_url]
    continuation = followed[0]
    second = HtmlResponse(second_url, body=pages[second_url], request=continuation)
    (merged,) = spider.parse_continuation(second)
    assert merged.url == first_url
    assert wanted["body_first"][:10] in merged.body_text
    assert wanted["body_last"][-10:] in merged.body_text


@pytest.mark.parametrize(("days_ago", "due"), [(3, True), (0, False)])
def test_recheck_days_refetches_known_articles_once_the_listing_is_old_enough(
    tmp_path: Path, days_ago: int, due: bool
) -> None:
    start_url = "http://www.a.gov.cn/xwzx/"
    (tmp_path / "a.toml").write_text(
        f'name = "A"\nstart_urls = ["{start_url}"]\nrecheck_days = 2\n', encoding="utf-8"
    )
    crawler = get_crawler(PortalSpider, {"PORTALCRAWL_SITES_DIR": str(tmp_path), "PORTALCRAWL_DB_PATH": ""})
    spider = PortalSpider.from_crawler(crawler, site="a")
    spider.archive = ArchiveState(database.open_database(tmp_path / "portalcrawl.db"), spider.profile.slug)
    database.upsert_articles(spider.archive.db, [Article(url=ARTICLE_URL, site="a")], run_id=1)
    database.mark_listing_complete(spider.archive.db, "a", start_url, 1)
    completed = (datetime.now(UTC) - timedelta(days=days_ago, minutes=1)).isoformat(timespec="seconds")
    spider.archive.db.conn.execute("UPDATE listing_state SET last_complete_at = ?", (completed,))
    chain = ListingChain(start_url, *spider._listing_trust(start_url))
    spider.chains[start_url] = chain
    html = f'<ul class="list"><li><a href="{ARTICLE_URL}">市政府召开常务会议研究部署</a> 2026-01-16</li>'
    html += '<li><a href="./202601/t20260115_2.html">市政府召开全体会议研究部署</a> 2026-01-15</li></ul>'
    html += '<a href="index_1.html">下一页</a>'
    request = listing_request(start_url, start_url)
    followed = [
        r.url for r in spider.parse_listing(HtmlResponse(start_url, body=html.encode(), request=request))
    ]
    # Due: the known article is fetched again and the all-known stop does not apply.
    assert (ARTICLE_URL in followed, start_url + "index_1.html" in followed) == (due, True)
    assert chain.recheck_due is due


def test_no_callback_is_a_generator_returning_a_value() -> None:
    # settings.py turns off Scrapy's per-response check of this (it re-parses the source every time);
    # this test does it once for every callback the spider has.
    callbacks = [getattr(PortalSpider, name) for name in dir(PortalSpider) if name.startswith("parse")]
    assert callbacks
    assert not [c.__name__ for c in callbacks if is_generator_with_return_value(c)]

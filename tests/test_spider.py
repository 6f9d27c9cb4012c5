"""PortalSpider arguments, profile errors and the URLs it refuses to follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import UsageError
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

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
    request = Request("http://www.a.gov.cn/xwzx/", meta={"portalcrawl_chain": "http://www.a.gov.cn/xwzx/"})
    response = HtmlResponse(request.url, body=LISTING.encode(), encoding="utf-8", request=request)
    followed = list(spider.parse_listing(response))
    assert [r.url for r in followed] == ["http://www.a.gov.cn/xwzx/202601/t20260116_1.html"]
    assert spider.crawler.stats.get_value("portalcrawl/spider/offsite_links") == 2
    assert spider_chain.queue == []

"""UrlFilterMiddleware: what the crawl refuses to fetch, and how a refusal is reported."""

from __future__ import annotations

from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from portalcrawl.middlewares.url_filter import ROBOTS_META, UrlFilterMiddleware
from portalcrawl.profiles import SiteProfile
from portalcrawl.signals import fetch_failed


class ProfileSpider(Spider):
    name = "profile"


def make_filter(start_urls: list[str], allowed_domains: tuple[str, ...] = ()) -> tuple[Any, list[dict]]:
    crawler = get_crawler(ProfileSpider)
    spider = ProfileSpider()
    spider.profile = SiteProfile(  # type: ignore[attr-defined]
        slug="test", name="test", start_urls=tuple(start_urls), allowed_domains=allowed_domains
    )
    crawler.spider = spider
    crawler.stats.open_spider()
    failures: list[dict] = []

    def record(**kwargs: Any) -> None:
        kwargs.pop("signal", None)
        kwargs.pop("sender", None)
        failures.append(kwargs)

    crawler.signals.connect(record, signal=fetch_failed, weak=False)
    return UrlFilterMiddleware.from_crawler(crawler), failures


PORTAL = "https://www.example.gov.cn/xwdt/index.html"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/html,<h1>hi</h1>",
        "ftp://www.example.gov.cn/a.pdf",
        "http://10.0.0.1/admin",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://localhost:8080/",
        "http://127.0.0.2/",
        "https://www.other.gov.cn/xwdt/t1.html",
        "https://example.gov.cn.evil.com/",
    ],
)
def test_refuses_unsafe_and_foreign_urls(url: str) -> None:
    middleware, failures = make_filter([PORTAL])
    request = Request(url)
    with pytest.raises(IgnoreRequest, match="refused_url"):
        middleware.process_request(request)
    assert failures == [{"url": request.url, "status": None, "reason": failures[0]["reason"]}]
    assert failures[0]["reason"].startswith("refused_url: ")
    assert middleware.crawler.stats.get_value("portalcrawl/url_filter/refused") == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.gov.cn/xwdt/202601/t20260116_1.html",
        "http://www.example.gov.cn/xwdt/index_1.html",
        "https://www.example.gov.cn/robots.txt",
        "https://static.www.example.gov.cn/a.pdf",
        "https://files.example.org/attach/P0.pdf",
    ],
)
def test_passes_portal_urls_and_robots(url: str) -> None:
    middleware, failures = make_filter([PORTAL], allowed_domains=("files.example.org",))
    assert middleware.process_request(Request(url)) is None
    assert failures == []


def test_loopback_portal_is_allowed_only_on_its_own_address_and_ports() -> None:
    middleware, _ = make_filter(["http://127.0.0.1:8123/list/index.html"])
    assert middleware.process_request(Request("http://127.0.0.1:8123/robots.txt")) is None
    assert middleware.process_request(Request("http://127.0.0.1/a.html")) is None
    with pytest.raises(IgnoreRequest, match="port 9999 is not one of the portal's ports"):
        middleware.process_request(Request("http://127.0.0.1:9999/a.html"))
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request("http://127.0.0.2:8123/a.html"))
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request("http://localhost:8123/a.html"))


def test_redirect_to_another_host_is_refused_when_it_comes_back_through() -> None:
    middleware, failures = make_filter([PORTAL])
    redirect = RedirectMiddleware.from_crawler(middleware.crawler)
    request = Request("https://www.example.gov.cn/xwdt/202601/t20260116_1.html")
    assert middleware.process_request(request) is None
    response = HtmlResponse(
        request.url, status=302, headers={"Location": "http://169.254.169.254/latest/"}, request=request
    )
    followed = redirect.process_response(request, response)
    assert isinstance(followed, Request)
    with pytest.raises(IgnoreRequest):
        middleware.process_request(followed)
    assert [f["url"] for f in failures] == ["http://169.254.169.254/latest/"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.gov.cn/robots.txt", True),  # www → apex, RFC 9309 allows any host
        ("https://cdn.other.com/robots.txt", True),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://10.0.0.1/robots.txt", False),
        ("http://localhost/robots.txt", False),
        ("https://example.gov.cn:6379/robots.txt", False),
        ("ftp://example.gov.cn/robots.txt", False),
    ],
)
def test_a_robots_txt_redirect_may_go_to_any_public_host_on_the_sites_ports(url: str, allowed: bool) -> None:
    middleware, _ = make_filter([PORTAL])
    request = Request(url, meta={ROBOTS_META: True})
    if allowed:
        assert middleware.process_request(request) is None
    else:
        with pytest.raises(IgnoreRequest, match="refused_url"):
            middleware.process_request(request)
    # The same URL as a page request stays refused: only robots.txt hops may leave the portal.
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request(url))

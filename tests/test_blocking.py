"""BlockDetectionMiddleware: classifying walls, backing hosts off, Retry-After and Crawl-delay."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Slot
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from portalcrawl import settings as project_settings
from portalcrawl.middlewares.blocking import BlockDetectionMiddleware, classify_block, parse_retry_after
from portalcrawl.signals import fetch_failed

RUISHU = (
    b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    b"<script type=\"text/javascript\">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=12345;"
    b'$_ts.cd="qxxx";</script><script src="/abc/def.js" r=\'m\'></script></head><body></body></html>'
)
JIASULE = (
    b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')"
    b"+('a')+('n')+('c')+('e')+('=1700000000.1|0|abc');location.href=location.pathname+location.search"
    b"</script>"
)
CHALLENGE_200 = (
    "<html><head><title>安全验证</title></head><body><p>请完成安全验证后继续访问</p></body></html>"
)
ARTICLE = (
    "<html><head><title>关于启用新版网站验证码的通知_某某市人民政府</title></head><body><h1>关于启用新版网站验证码的通知"
    "</h1><div class='TRS_Editor'>"
    + "<p>为进一步提升政务服务网站安全水平，市政府门户网站将于近日启用新版验证码。</p>" * 12
    + "</div></body></html>"
)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (412, RUISHU, "waf_ruishu"),
        (412, b"<html><script src='/x.js'></script></html>", "waf_ruishu"),
        (521, JIASULE, "waf_jiasule"),
        (512, JIASULE, "waf_jiasule"),
        (403, "<html><title>访问被拒绝</title><body>您的访问被拒绝</body></html>".encode(), "waf_generic"),
        (403, b"<html><title>Just a moment...</title></html>", "waf_generic"),
        (200, CHALLENGE_200.encode(), "waf_generic"),
        # A wall is a wall in any encoding: GBK bytes (declared or not) and text already decoded.
        (200, CHALLENGE_200.replace("<head>", '<head><meta charset="gbk">').encode("gbk"), "waf_generic"),
        (200, CHALLENGE_200.encode("gbk"), "waf_generic"),
        (200, CHALLENGE_200, "waf_generic"),
        (
            403,
            "<html><title>访问被拒绝</title><body>您的访问被拒绝</body></html>".encode("gbk"),
            "waf_generic",
        ),
        (200, ARTICLE.encode("gbk"), None),
        (
            200,
            b"<html><head><title>Access Denied</title></head><body>Access Denied</body></html>",
            "waf_generic",
        ),
        (200, "<html><body>访问过于频繁，请稍后再试</body></html>".encode(), "waf_generic"),
        # Markup and line breaks between a phrase's words, and a title in character references.
        (200, b"<html><body><b>Access</b>\n  <i>denied</i></body></html>", "waf_generic"),
        (200, b"<html><title>&#23433;&#20840;&#39564;&#35777;</title><body></body></html>", "waf_generic"),
        (200, "<html><body><p>市政府召开常务会议。</p></body></html>".encode(), None),
        (
            200,
            b"<html><head><script>var x='challenge';document.cookie='a=1'</script></head></html>",
            "waf_generic",
        ),
        (200, ARTICLE.encode(), None),
        (200, b"<html><script>location.href='/xwdt/index.html'</script></html>", None),
        (403, b"<html><title>403 Forbidden</title><body>nginx</body></html>", None),
        (404, JIASULE, None),
        (412, b"Precondition Failed" * 200, None),
        (500, b"Internal Server Error", None),
        (200, b"", None),
    ],
)
def test_classify_block(status: int, body: bytes | str, expected: str | None) -> None:
    assert classify_block(status, body) == expected


def test_jiasule_recognised_by_its_cookie_alone() -> None:
    assert classify_block(521, b"<html></html>", b"__jsluid_h=abc; max-age=31536000") == "waf_jiasule"


NOW = datetime(2026, 1, 16, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"30", 30.0),
        (b" 7 ", 7.0),
        (b"Fri, 16 Jan 2026 12:01:00 GMT", 60.0),
        (b"Fri, 16 Jan 2026 11:00:00 GMT", 0.0),
        (b"soon", None),
        (b"", None),
        (None, None),
    ],
)
def test_parse_retry_after(header: bytes | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


class Downloader(SimpleNamespace):
    """The three attributes of Scrapy's downloader the middleware uses, without a reactor."""

    def get_slot_key(self, request: Request) -> str:
        return request.meta.get("download_slot") or request.url.split("/")[2].split(":")[0]


PROJECT_SETTINGS = {k: v for k, v in vars(project_settings).items() if k.startswith("PORTALCRAWL_")}


def make_middleware(**settings: Any) -> tuple[BlockDetectionMiddleware, list[dict]]:
    crawler = get_crawler(
        Spider, settings_dict={**PROJECT_SETTINGS, "USER_AGENT": "portalcrawl/0.1", **settings}
    )
    crawler.engine = SimpleNamespace(downloader=Downloader(slots={}, per_slot_settings={}))  # type: ignore[assignment]
    crawler.stats.open_spider()
    failures: list[dict] = []

    def record(**kwargs: Any) -> None:
        failures.append({k: kwargs[k] for k in ("url", "status", "reason")})

    crawler.signals.connect(record, signal=fetch_failed, weak=False)
    return BlockDetectionMiddleware.from_crawler(crawler), failures


def answer(url: str, status: int, body: bytes = b"", headers: dict | None = None) -> tuple[Request, Response]:
    request = Request(url)
    return request, HtmlResponse(url, status=status, body=body, headers=headers, request=request)


def test_wall_is_recorded_ignored_and_counted() -> None:
    middleware, failures = make_middleware()
    request, response = answer("https://www.example.gov.cn/xwdt/t1.html", 412, RUISHU)
    with pytest.raises(IgnoreRequest, match="blocked: waf_ruishu"):
        middleware.process_response(request, response)
    assert failures == [{"url": request.url, "status": 412, "reason": "blocked: waf_ruishu"}]
    assert middleware.crawler.stats.get_value("portalcrawl/blocked/waf_ruishu") == 1


def test_host_stopped_after_threshold_blocks_and_queued_requests_dropped() -> None:
    middleware, failures = make_middleware(PORTALCRAWL_BLOCK_THRESHOLD=3)
    for n in range(3):
        request, response = answer(f"https://walled.gov.cn/a{n}.html", 521, JIASULE)
        assert middleware.process_request(request) is None
        with pytest.raises(IgnoreRequest):
            middleware.process_response(request, response)
    for n in range(5):
        with pytest.raises(IgnoreRequest, match="host_stopped"):
            middleware.process_request(Request(f"https://walled.gov.cn/b{n}.html"))
    # A response already on its way when the host was stopped is dropped too, even if it looks fine.
    request, response = answer("https://walled.gov.cn/c.html", 200, ARTICLE.encode())
    with pytest.raises(IgnoreRequest):
        middleware.process_response(request, response)
    # Other hosts are untouched.
    other, ok = answer("https://www.example.gov.cn/t1.html", 200, ARTICLE.encode())
    assert middleware.process_request(other) is None
    assert middleware.process_response(other, ok) is ok
    stats = middleware.crawler.stats
    assert stats.get_value("portalcrawl/blocked/waf_jiasule") == 3
    assert stats.get_value("portalcrawl/blocking/hosts_stopped") == 1
    assert stats.get_value("portalcrawl/blocking/dropped_requests") == 6
    assert len(failures) == 9
    assert all(f["reason"].startswith("blocked: ") for f in failures)


def test_rate_limit_storm_becomes_a_block_and_success_resets_it() -> None:
    middleware, failures = make_middleware(PORTALCRAWL_BLOCK_THRESHOLD=3)
    for status in (429, 503):
        request, response = answer("https://busy.gov.cn/a.html", status)
        assert middleware.process_response(request, response) is response
    request, response = answer("https://busy.gov.cn/b.html", 200, ARTICLE.encode())
    assert middleware.process_response(request, response) is response
    for _ in range(2):
        request, response = answer("https://busy.gov.cn/a.html", 429)
        assert middleware.process_response(request, response) is response
    request, response = answer("https://busy.gov.cn/a.html", 429)
    with pytest.raises(IgnoreRequest, match="rate_limited"):
        middleware.process_response(request, response)
    assert middleware.crawler.stats.get_value("portalcrawl/blocked/rate_limited") == 1
    assert [f["reason"] for f in failures] == ["blocked: rate_limited"]


def test_retry_after_pauses_the_host_slot_with_a_cap() -> None:
    middleware, _ = make_middleware(PORTALCRAWL_MAX_RETRY_AFTER=10)
    slot = Slot(concurrency=2, delay=0.0, jitter=0.0)
    middleware.crawler.engine.downloader.slots["busy.gov.cn"] = slot  # type: ignore[union-attr]
    request, response = answer("https://busy.gov.cn/a.html", 503, headers={"Retry-After": "3600"})
    before = time.monotonic()
    assert middleware.process_response(request, response) is response
    assert before + 9 <= slot.lastseen <= time.monotonic() + 10
    assert slot.delay > 0
    assert middleware.crawler.stats.get_value("portalcrawl/blocking/retry_after_pauses") == 1


def test_crawl_delay_raises_the_slot_delay_and_survives_autothrottle() -> None:
    middleware, _ = make_middleware(USER_AGENT="portalcrawl/0.1", PORTALCRAWL_MAX_CRAWL_DELAY=60)
    downloader = middleware.crawler.engine.downloader  # type: ignore[union-attr]
    slot = Slot(concurrency=2, delay=0.5, jitter=0.0)
    downloader.slots["slow.gov.cn"] = slot
    robots = ProtegoRobotParser(b"User-agent: *\nCrawl-delay: 5\nDisallow: /private/\n", None)
    middleware.robots_parsed(robotparser=robots, request=Request("https://slow.gov.cn/list.html"))
    assert slot.delay == 5
    assert downloader.per_slot_settings["slow.gov.cn"] == {"delay": 5}
    slot.delay = 1.0  # what AutoThrottle does after a few fast answers
    request, response = answer("https://slow.gov.cn/a.html", 200, ARTICLE.encode())
    middleware.process_response(request, response)
    assert slot.delay == 5


def test_excessive_crawl_delay_is_capped() -> None:
    middleware, _ = make_middleware(PORTALCRAWL_MAX_CRAWL_DELAY=60)
    robots = ProtegoRobotParser(b"User-agent: *\nCrawl-delay: 86400\n", None)
    middleware.robots_parsed(robotparser=robots, request=Request("https://slow.gov.cn/list.html"))
    assert middleware.crawler.engine.downloader.per_slot_settings["slow.gov.cn"] == {"delay": 60}  # type: ignore[union-attr]


def test_robots_without_crawl_delay_changes_nothing() -> None:
    middleware, _ = make_middleware()
    robots = ProtegoRobotParser(b"User-agent: *\nDisallow:\n", None)
    middleware.robots_parsed(robotparser=robots, request=Request("https://fast.gov.cn/list.html"))
    assert middleware.crawler.engine.downloader.per_slot_settings == {}  # type: ignore[union-attr]


def test_stopping_a_host_fails_the_requests_waiting_in_its_slot() -> None:
    middleware, failures = make_middleware(PORTALCRAWL_BLOCK_THRESHOLD=1)
    slot = Slot(concurrency=2, delay=0.5, jitter=0.0)
    middleware.crawler.engine.downloader.slots["walled.gov.cn"] = slot  # type: ignore[union-attr]
    waiting = [(Request(f"https://walled.gov.cn/q{n}.html"), Deferred()) for n in range(4)]
    slot.queue.extend(waiting)
    outcomes: list[Any] = []
    for _, deferred in waiting:
        deferred.addErrback(lambda failure: outcomes.append(failure.value))
    request, response = answer("https://walled.gov.cn/a.html", 412, RUISHU)
    with pytest.raises(IgnoreRequest):
        middleware.process_response(request, response)
    assert not slot.queue
    assert [type(exc) for exc in outcomes] == [IgnoreRequest] * 4
    assert [f["url"] for f in failures[1:]] == [r.url for r, _ in waiting]


def test_unreachable_robots_txt_is_given_up_at_once_without_a_traceback() -> None:
    middleware, failures = make_middleware()
    robots = Request("https://slow.gov.cn/robots.txt", meta={"dont_obey_robotstxt": True})
    with pytest.raises(IgnoreRequest, match="robots_unreachable"):
        middleware.process_exception(robots, TimeoutError("took longer than 30 s"))
    assert failures[0]["reason"].startswith("robots_unreachable: TimeoutError")
    page = Request("https://slow.gov.cn/a.html")
    assert middleware.process_exception(page, TimeoutError("took longer than 30 s")) is None

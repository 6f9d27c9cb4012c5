"""Refuse requests to URLs the crawl must never fetch: other hosts, non-http schemes, private networks."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from portalcrawl.signals import fetch_failed
from portalcrawl.urls import is_fetchable_url

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def describe_refusal(url: str, allowed_hosts: tuple[str, ...]) -> str:
    """Why ``is_fetchable_url`` said no, in words an operator reading ``fetch_errors`` understands."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "malformed URL"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    if not host:
        return "no host"
    return f"host {host!r} is not one of the portal's hosts ({', '.join(allowed_hosts)}) or is private"


class UrlFilterMiddleware:
    """Downloader middleware run first, so every request is checked, including redirects and robots.txt.

    RedirectMiddleware turns a 3xx into a new request that goes through ``process_request`` again, so a
    redirect from an allowed portal to an intranet address or another site is refused here too.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._allowed_hosts: tuple[str, ...] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UrlFilterMiddleware:
        return cls(crawler)

    @property
    def allowed_hosts(self) -> tuple[str, ...]:
        # The spider builds its profile from its arguments, so the hosts are only known once it exists.
        if self._allowed_hosts is None:
            spider: Any = self.crawler.spider  # PortalSpider; its profile is a SiteProfile
            self._allowed_hosts = tuple(spider.profile.domains)
        return self._allowed_hosts

    def process_request(self, request: Request) -> None:
        if is_fetchable_url(request.url, self.allowed_hosts):
            return
        reason = f"refused_url: {describe_refusal(request.url, self.allowed_hosts)}"
        logger.warning("Refused %s (%s)", request.url, reason)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("portalcrawl/url_filter/refused")
        self.crawler.signals.send_catch_log(signal=fetch_failed, url=request.url, status=None, reason=reason)
        raise IgnoreRequest(reason)

"""Refuse requests the crawl must never send: other hosts or ports, non-http schemes, private networks."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from portalcrawl.signals import fetch_failed
from portalcrawl.urls import (
    effective_port,
    host_of,
    is_fetchable_url,
    is_internal_address,
    is_internal_host,
    is_loopback_host,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from portalcrawl.profiles import SiteProfile

logger = logging.getLogger(__name__)

# Request meta key set on robots.txt requests (and carried by their redirects): RFC 9309 has crawlers
# follow a robots.txt redirect to any host, e.g. www.example.gov.cn → example.gov.cn.
ROBOTS_META = "portalcrawl_robots"


@dataclass(frozen=True)
class HostPolicy:
    """Where one site's crawl may connect: its hosts and ports, and which internal addresses."""

    hosts: tuple[str, ...]
    ports: frozenset[int]
    # Names listed exactly in the profile's allowed_domains: the operator vouches for them, so they
    # may resolve to an intranet address (an intranet portal); a subdomain of one may not.
    vouched_names: frozenset[str]
    # A crawl started on localhost/127.0.0.1 (tests, a portal mirrored locally) may reach loopback.
    loopback_start: bool

    @classmethod
    def of(cls, profile: SiteProfile) -> HostPolicy:
        return cls(
            hosts=tuple(profile.domains),
            ports=profile.ports,
            vouched_names=frozenset(host.strip().lower().rstrip(".") for host in profile.allowed_domains),
            loopback_start=any(is_loopback_host(host_of(url)) for url in profile.start_urls),
        )

    def allows_url(self, url: str, *, robots: bool = False) -> bool:
        if is_fetchable_url(url, self.hosts, self.ports):
            return True
        if not robots:
            return False
        # A robots.txt redirect may go to any host, but never to a port or internal address that
        # the site itself could not reach.
        host = host_of(url)
        if not host or (is_internal_host(host) and not (self.loopback_start and is_loopback_host(host))):
            return False
        return is_fetchable_url(url, (host,), self.ports)

    def may_connect(self, host: str, address: str) -> bool:
        """Whether a host name may be fetched from ``address``, the address it resolved to."""
        if not is_internal_address(address) or host in self.vouched_names:
            return True
        return self.loopback_start and _is_loopback_address(address)

    def describe_refusal(self, url: str) -> str:
        """Why ``allows_url`` said no, in words an operator reading ``fetch_errors`` understands."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            return "malformed URL"
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        if not host:
            return "no host"
        port = effective_port(url)
        if is_fetchable_url(url, self.hosts) and port not in self.ports:
            allowed = ", ".join(map(str, sorted(self.ports)))
            return f"port {port} is not one of the portal's ports ({allowed}; profile key allowed_ports)"
        return f"host {host!r} is not one of the portal's hosts ({', '.join(self.hosts)}) or is private"


def _is_loopback_address(address: str) -> bool:
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def refuse(crawler: Crawler, request: Request, problem: str) -> None:
    """Record a refused request (stats, ``fetch_failed``) and drop it."""
    reason = f"refused_url: {problem}"
    logger.warning("Refused %s (%s)", request.url, reason)
    assert crawler.stats is not None
    crawler.stats.inc_value("portalcrawl/url_filter/refused")
    crawler.signals.send_catch_log(signal=fetch_failed, url=request.url, status=None, reason=reason)
    raise IgnoreRequest(reason)


class SitePolicyMiddleware:
    """A downloader middleware that judges requests by the crawled site's ``HostPolicy``.

    The spider builds its profile from its arguments, so the policy is only known once it exists.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._policy: HostPolicy | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def policy(self) -> HostPolicy:
        if self._policy is None:
            spider: Any = self.crawler.spider  # PortalSpider; its profile is a SiteProfile
            self._policy = HostPolicy.of(spider.profile)
        return self._policy


class UrlFilterMiddleware(SitePolicyMiddleware):
    """Downloader middleware run first, so every request is checked, including redirects and robots.txt.

    RedirectMiddleware turns a 3xx into a new request that goes through ``process_request`` again, so a
    redirect from an allowed portal to an intranet address, another site or another port is refused
    here too. What a host name resolves to is checked next, by ``ResolvedAddressMiddleware``.
    """

    def process_request(self, request: Request) -> None:
        if self.policy.allows_url(request.url, robots=bool(request.meta.get(ROBOTS_META))):
            return
        refuse(self.crawler, request, self.policy.describe_refusal(request.url))

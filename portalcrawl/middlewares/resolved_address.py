"""Refuse host names of allowed domains whose DNS answer is a private or loopback address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from portalcrawl.middlewares.url_filter import SitePolicyMiddleware, refuse
from portalcrawl.urls import is_ip_literal

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class ResolvedAddressMiddleware(SitePolicyMiddleware):
    """Downloader middleware right after the URL filter: checks the address a host name resolves to.

    The URL filter judges the URL as written; ``intranet.example.gov.cn`` looks like the portal but may
    resolve to 10.0.0.5, and any name may resolve to 127.0.0.1. The name is resolved here through the
    reactor's resolver, the one Scrapy installs (``DNSCACHE_ENABLED``): the download then connects to
    that cached answer, not to a second lookup. The response's ``ip_address``, the peer actually
    connected to, is checked as well, so a cache miss or a changed answer still yields nothing.
    """

    async def process_request(self, request: Request) -> None:
        host = (urlparse_cached(request).hostname or "").rstrip(".")
        if not host or is_ip_literal(host):
            return  # an address as written was judged by the URL filter
        # Imported here: importing the reactor at module level would install the default one.
        from twisted.internet import reactor  # noqa: PLC0415

        # A failed lookup (DNSLookupError) propagates as the download's own failure would, retried and
        # reported as usual, without the download looking the dead name up a second time.
        address = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[arg-type]
        self._check(request, host, str(address))

    def process_response(self, request: Request, response: Response) -> Response:
        host = (urlparse_cached(request).hostname or "").rstrip(".")
        if response.ip_address is not None and host and not is_ip_literal(host):
            self._check(request, host, str(response.ip_address))
        return response

    def _check(self, request: Request, host: str, address: str) -> None:
        if not self.policy.may_connect(host, address):
            refuse(
                self.crawler,
                request,
                f"host {host!r} resolves to the internal address {address} "
                "(list it exactly in allowed_domains if that is intended)",
            )

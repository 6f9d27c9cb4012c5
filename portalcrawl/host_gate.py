"""One politeness gate per host for the whole process: concurrency and delay across every crawler."""

from __future__ import annotations

import logging
import time
from collections import deque

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import CallLaterResult, call_later
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


class HostGate:
    """At most ``concurrency`` downloads at a time from one host, starts at least ``interval`` apart.

    Scrapy keeps its per-domain limit and delay per crawler (``portalcrawl crawl`` runs one crawler
    per site, and several column profiles share a host), and with ``DOWNLOAD_DELAY=0`` its slot does
    not hold the limit at all. The interval is a floor: a robots.txt ``Crawl-delay`` raises it
    (``raise_floor``), and no jitter ever takes a start below it.
    """

    def __init__(self, host: str, concurrency: int, interval: float) -> None:
        self.host = host
        self.concurrency = max(1, concurrency)
        self.interval = max(0.0, interval)
        self.active = 0
        self.users = 0
        self.next_start = 0.0
        self.waiting: deque[Deferred[None]] = deque()
        self._timer: CallLaterResult | None = None

    def tighten(self, concurrency: int, interval: float) -> None:
        """Crawlers that disagree get the strictest of their settings."""
        self.concurrency = min(self.concurrency, max(1, concurrency))
        self.interval = max(self.interval, interval)

    def raise_floor(self, seconds: float) -> None:
        self.interval = max(self.interval, seconds)

    def acquire(self) -> Deferred[None]:
        waiter: Deferred[None] = Deferred()
        self.waiting.append(waiter)
        self._admit()
        return waiter

    def release(self) -> None:
        self.active -= 1
        self._admit()

    @property
    def idle(self) -> bool:
        return not self.active and not self.waiting

    def _wake(self) -> None:
        self._timer = None
        self._admit()

    def _admit(self) -> None:
        while self.waiting and self.active < self.concurrency:
            wait = self.next_start - time.monotonic()
            if wait > 0:
                if self._timer is None:
                    self._timer = call_later(wait, self._wake)
                return
            waiter = self.waiting.popleft()
            if waiter.called:  # cancelled while it waited
                continue
            self.active += 1
            self.next_start = time.monotonic() + self.interval
            waiter.callback(None)


# Shared by every crawler of the process; a gate goes when its last crawler closes and it is idle.
GATES: dict[str, HostGate] = {}


def gate_for(host: str) -> HostGate | None:
    return GATES.get(host)


class GatedHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, entered through the host's gate in ``GATES``.

    The gate sits in the download handler, after Scrapy's own per-crawler slot (whose jittered delay
    would otherwise shift requests the gate had spaced), so a turn is taken exactly when the request
    goes out and given back however the download ends (answer, error, timeout, cancellation).
    DOWNLOAD_TIMEOUT starts once the gate lets the request through.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.gated = settings.getbool("PORTALCRAWL_HOST_GATE")
        self.concurrency = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.interval = settings.getfloat("DOWNLOAD_DELAY")
        self.used: set[str] = set()

    def _gate(self, host: str) -> HostGate:
        gate = GATES.get(host)
        if gate is None:
            gate = GATES[host] = HostGate(host, self.concurrency, self.interval)
        else:
            gate.tighten(self.concurrency, self.interval)
        if host not in self.used:
            self.used.add(host)
            gate.users += 1
        return gate

    async def download_request(self, request: Request) -> Response:
        if not self.gated:
            return await super().download_request(request)
        gate = self._gate(urlparse_cached(request).hostname or "")
        await maybe_deferred_to_future(gate.acquire())
        try:
            return await super().download_request(request)
        finally:
            gate.release()

    async def close(self) -> None:
        for host in self.used:
            gate = GATES.get(host)
            if gate is None:
                continue
            gate.users -= 1
            if gate.users <= 0 and gate.idle:
                del GATES[host]
        self.used.clear()
        await super().close()

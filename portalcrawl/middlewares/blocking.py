"""Detect anti-bot walls and rate limiting, record them, and back off from the host — never circumvent."""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parsel import Selector
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from portalcrawl.extract.encoding import decode_html
from portalcrawl.host_gate import gate_for
from portalcrawl.signals import fetch_failed

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

# Challenge pages are a few kilobytes at most; only the start of larger bodies is looked at, and a 200
# page larger than this is real content whatever words it contains.
CHALLENGE_MAX_BYTES = 20_000
# A 200 page with less visible text than this and a challenge phrase is a wall, not an article.
CHALLENGE_MAX_TEXT = 300
# Titles of challenge pages are the phrase plus a site name at most; a long title is a real headline.
CHALLENGE_MAX_TITLE = 24

RUISHU_MARKERS = ("$_ts",)
JIASULE_MARKERS = ("document.cookie", "__jsl")
CHALLENGE_SCRIPT_MARKERS = ("$_ts", "document.cookie", "__jsl", "yunsuo", "challenge", "captcha")
CHALLENGE_PHRASES = (
    "安全验证",
    "访问验证",
    "访问过于频繁",
    "请稍候",
    "验证码",
    "访问被拒绝",
    "just a moment",
    "access denied",
    "are you a robot",
)
# Every 200-page rule needs a phrase or a script marker. A phrase in the visible text or the title is
# in the page's text too, its first word at least (markup between words becomes a space, whitespace is
# collapsed), unless the title spells it with character references; so a page holding none of these is
# no wall, and its visible text need not be built.
CHALLENGE_WORDS = tuple(
    dict.fromkeys([*(p.split()[0] for p in CHALLENGE_PHRASES), *CHALLENGE_SCRIPT_MARKERS])
)
RATE_LIMIT_STATUSES = (429, 503)
# The statuses walls answer with; any other answer is never classified as one.
WALL_STATUSES = (200, 403, 412, 512, 521)
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def _visible_text(page: str) -> str:
    return " ".join(_TAG.sub(" ", _SCRIPT_OR_STYLE.sub(" ", page)).split())


def _title(page: str) -> str:
    return " ".join(Selector(text=page).css("title::text").getall()).strip()


def classify_block(status: int, body: bytes | str, set_cookie: bytes = b"") -> str | None:
    """The kind of wall a response is (``waf_ruishu``, ``waf_jiasule``, ``waf_generic``) or ``None``.

    ``body``: the page's text, or its bytes, which are read in their own encoding (``decode_html``,
    the decoder the crawl uses): a GBK challenge page is as much a wall as a UTF-8 one. Pure, so the
    rules can be tested on literal bodies. Rate limiting needs the host's history and is decided by
    the middleware.
    """
    if status not in WALL_STATUSES or (status == 200 and len(body) > CHALLENGE_MAX_BYTES):
        return None
    # Challenge pages are small; a cut through a character costs one replacement character at most.
    page = body if isinstance(body, str) else decode_html(body[:CHALLENGE_MAX_BYTES])[0]
    head = page[:CHALLENGE_MAX_BYTES]
    lowered = head.lower()
    if status == 412 and (
        any(m in head for m in RUISHU_MARKERS) or (len(page) < 2000 and "<script" in lowered)
    ):
        return "waf_ruishu"
    if status in (512, 521) and (any(m in head for m in JIASULE_MARKERS) or b"__jsluid" in set_cookie):
        return "waf_jiasule"
    if status == 403 and any(p in lowered for p in (*CHALLENGE_PHRASES, *CHALLENGE_SCRIPT_MARKERS)):
        return "waf_generic"
    if status == 200:
        if "&#" not in head and not any(word in lowered for word in CHALLENGE_WORDS):
            return None
        text = _visible_text(head)
        if len(text) >= CHALLENGE_MAX_TEXT:
            return None
        if not text and "<script" in lowered and any(m in lowered for m in CHALLENGE_SCRIPT_MARKERS):
            return "waf_generic"
        title = _title(head).lower()
        if title and len(title) <= CHALLENGE_MAX_TITLE and any(p in title for p in CHALLENGE_PHRASES):
            return "waf_generic"
        if len(text) < CHALLENGE_MAX_TEXT // 2 and any(p in text.lower() for p in CHALLENGE_PHRASES):
            return "waf_generic"
    return None


def parse_retry_after(value: bytes | str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), ``None`` if unusable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BlockDetectionMiddleware:
    """Downloader middleware (560, before RetryMiddleware) that classifies walls and backs hosts off.

    A blocked answer is recorded (stats ``portalcrawl/blocked/<kind>``, ``fetch_failed`` with reason
    ``blocked: <kind>``) and its request ignored. After ``PORTALCRAWL_BLOCK_THRESHOLD`` blocks on a host
    every further request to it is dropped for the rest of the run. ``Retry-After`` on 429/503 and robots
    ``Crawl-delay`` slow the host's download slot down instead of letting retries hammer it.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.threshold = max(1, settings.getint("PORTALCRAWL_BLOCK_THRESHOLD"))
        self.max_retry_after = settings.getfloat("PORTALCRAWL_MAX_RETRY_AFTER")
        self.max_crawl_delay = settings.getfloat("PORTALCRAWL_MAX_CRAWL_DELAY")
        self.user_agent = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        self.blocks: Counter[str] = Counter()
        # 429/503 answers in a row per host: a few are retried, a storm of them is a block.
        self.throttled: Counter[str] = Counter()
        self.stopped: dict[str, str] = {}
        self.crawl_delays: dict[str, float] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetectionMiddleware:
        return cls(crawler)

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def _slot(self, request: Request) -> tuple[str, Slot | None]:
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        key = request.meta.get("download_slot") or downloader.get_slot_key(request)
        return key, downloader.slots.get(key)

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        if not delay or delay <= 0:
            return
        if delay > self.max_crawl_delay:
            logger.warning(
                "robots.txt of %s asks for Crawl-delay %s s; using the cap PORTALCRAWL_MAX_CRAWL_DELAY=%s s",
                request.url,
                delay,
                self.max_crawl_delay,
            )
            delay = self.max_crawl_delay
        key, slot = self._slot(request)
        self.crawl_delays[key] = delay
        assert self.crawler.engine is not None
        # Slots are created lazily and garbage-collected when idle: the per-slot settings make new ones
        # start with the delay, the existing one is raised now.
        per_slot = self.crawler.engine.downloader.per_slot_settings.setdefault(key, {})
        per_slot["delay"] = max(per_slot.get("delay", 0.0), delay)
        if slot is not None:
            slot.delay = max(slot.delay, delay)
        # The slot's delay is jittered (RANDOMIZE_DOWNLOAD_DELAY) and per crawler; the gate holds it
        # as a floor for every crawler of the process.
        gate = gate_for(urlparse_cached(request).hostname or "")
        if gate is not None:
            gate.raise_floor(delay)
        self._inc("portalcrawl/blocking/crawl_delay_hosts")
        logger.info("Honouring robots.txt Crawl-delay of %s s for %s", delay, key)

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        if host in self.stopped:
            self._drop(request, host)

    def _drop(self, request: Request, host: str) -> None:
        self._inc("portalcrawl/blocking/dropped_requests")
        reason = f"blocked: host_stopped after {self.blocks[host]} blocks ({self.stopped[host]})"
        self.crawler.signals.send_catch_log(signal=fetch_failed, url=request.url, status=None, reason=reason)
        raise IgnoreRequest(reason)

    def process_response(self, request: Request, response: Response) -> Response:
        host = urlparse_cached(request).hostname or ""
        key, slot = self._slot(request)
        # AutoThrottle lowers slot delays after fast answers; robots' Crawl-delay is a floor it must keep.
        if slot is not None and slot.delay < self.crawl_delays.get(key, 0.0):
            slot.delay = self.crawl_delays[key]
        # A text response is read as the crawl decoded it (EncodingSanityMiddleware runs first); a
        # 200 answer that is no text (a PDF) is no wall.
        body: bytes | str = b""
        if response.status in WALL_STATUSES:
            if isinstance(response, TextResponse):
                body = response.text
            elif response.status != 200:
                body = response.body
        kind = classify_block(response.status, body, b" ".join(response.headers.getlist(b"Set-Cookie")))
        if response.status in RATE_LIMIT_STATUSES:
            self._pause_for_retry_after(response, key, slot)
            self.throttled[host] += 1
            if kind is None and self.throttled[host] >= self.threshold:
                kind = "rate_limited"
        elif response.status < 400:
            self.throttled[host] = 0
        if kind is not None:
            self._block(request, response, host, kind)
        elif host in self.stopped:
            # Requests that were already queued in the slot when the host was stopped.
            self._drop(request, host)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Give up on an unreachable robots.txt at once instead of letting RetryMiddleware wait out every
        timeout again while all of the host's requests wait for the verdict (which is then: disallowed).
        """
        if not request.meta.get("dont_obey_robotstxt") or urlparse_cached(request).path != "/robots.txt":
            return
        if isinstance(exception, IgnoreRequest):
            return
        reason = f"robots_unreachable: {type(exception).__name__}: {exception}"
        self._inc("portalcrawl/blocking/robots_unreachable")
        logger.warning("%s unreachable (%s)", request.url, reason)
        self.crawler.signals.send_catch_log(signal=fetch_failed, url=request.url, status=None, reason=reason)
        raise IgnoreRequest(reason)

    def _pause_for_retry_after(self, response: Response, key: str, slot: Slot | None) -> None:
        seconds = parse_retry_after(response.headers.get(b"Retry-After"))
        if seconds is None or slot is None:
            return
        seconds = min(seconds, self.max_retry_after)
        # The slot waits ``delay`` after ``lastseen`` before its next download; pushing lastseen into
        # the future pauses the host without changing its steady pace afterwards.
        slot.lastseen = max(slot.lastseen, time.monotonic() + seconds)
        # ... but a slot without any delay never looks at lastseen (DOWNLOAD_DELAY=0, no AutoThrottle).
        slot.delay = slot.delay or 0.001
        self._inc("portalcrawl/blocking/retry_after_pauses")
        logger.info(
            "%s answered %s with Retry-After; pausing %s for %.1f s", key, response.status, key, seconds
        )

    def _block(self, request: Request, response: Response, host: str, kind: str) -> None:
        self._inc(f"portalcrawl/blocked/{kind}")
        self.blocks[host] += 1
        reason = f"blocked: {kind}"
        logger.warning("Blocked (%s, HTTP %s) on %s", kind, response.status, request.url)
        self.crawler.signals.send_catch_log(
            signal=fetch_failed, url=request.url, status=response.status, reason=reason
        )
        if host not in self.stopped and self.blocks[host] >= self.threshold:
            self.stopped[host] = kind
            self._inc("portalcrawl/blocking/hosts_stopped")
            logger.error(
                "%s blocked us %s times (%s); no more requests to it in this run",
                host,
                self.blocks[host],
                kind,
            )
            self._drain(request)
        raise IgnoreRequest(reason)

    def _drain(self, request: Request) -> None:
        """Fail the requests already waiting in the host's download slot instead of sending them.

        They passed ``process_request`` before the host was stopped; up to CONCURRENT_REQUESTS of them
        can sit in the slot's queue, and downloading them would be exactly the hammering we stop.
        """
        _, slot = self._slot(request)
        if slot is None:
            return
        host = urlparse_cached(request).hostname or ""
        while slot.queue:
            queued, deferred = slot.queue.popleft()
            try:
                self._drop(queued, host)
            except IgnoreRequest as exc:
                deferred.errback(Failure(exc))

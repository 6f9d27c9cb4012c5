"""robots.txt as RFC 9309 says: redirects to any host followed, 4xx allows all, 5xx or no answer disallows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

from portalcrawl.middlewares.url_filter import ROBOTS_META

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

# The IgnoreRequest message (and so the fetch_errors reason) of a request to a host whose robots.txt
# could not be read, and the crawl_runs reason of a run that met one.
ROBOTS_UNAVAILABLE = "robots_unavailable"
# The message of Scrapy's own RobotsTxtMiddleware, which the spider recognises as a permanent refusal.
ROBOTS_FORBIDDEN = "Forbidden by robots.txt"
# RFC 9309 2.3.1.2: follow at least five consecutive redirects; beyond that, robots.txt is unavailable.
MAX_ROBOTS_REDIRECTS = 5
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Ahead of every page request waiting for the verdict, as in Scrapy's middleware.
ROBOTS_PRIORITY = 1000


@dataclass(frozen=True)
class Unreachable:
    """RFC 9309 2.3.1.4: the server could not be asked (5xx, 429, no answer): nothing may be crawled."""

    why: str


class RobotsPolicyMiddleware:
    """Replaces Scrapy's RobotsTxtMiddleware (same slot, same ``robots_parsed`` signal and stats).

    Scrapy's middleware crawls everything when robots.txt answers 5xx or cannot be fetched, and loses
    a redirect to another host (www → apex) to the offsite and URL filters. Here a robots.txt request
    follows up to five redirects itself, to any host the URL filter allows a robots hop to; a 4xx
    answer (or a sixth redirect) allows everything; a 5xx or 429 answer, or no answer at all,
    disallows the whole host for the rest of the run: its requests fail with ``robots_unavailable``.
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.user_agent: str = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings["USER_AGENT"]
        self._parser_class = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))
        self._verdicts: dict[str, RobotParser | Unreachable | None] = {}
        self._waiting: dict[str, list[Deferred[None]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsPolicyMiddleware:
        return cls(crawler)

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt") or urlparse_cached(request).scheme not in (
            "http",
            "https",
        ):
            return
        verdict = await self._verdict(request)
        if isinstance(verdict, Unreachable):
            self._inc("portalcrawl/robots/refused_unavailable")
            raise IgnoreRequest(f"{ROBOTS_UNAVAILABLE}: {verdict.why}")
        if verdict is not None and not verdict.allowed(request.url, self.user_agent):
            self._inc("robotstxt/forbidden")
            raise IgnoreRequest(ROBOTS_FORBIDDEN)

    async def _verdict(self, request: Request) -> RobotParser | Unreachable | None:
        netloc = urlparse_cached(request).netloc
        if netloc in self._verdicts:
            return self._verdicts[netloc]
        if netloc in self._waiting:
            waiter: Deferred[None] = Deferred()
            self._waiting[netloc].append(waiter)
            await maybe_deferred_to_future(waiter)
            return self._verdicts[netloc]
        self._waiting[netloc] = []
        try:
            verdict = await self._fetch(request)
        except Exception as error:  # never leave the host's requests waiting for ever
            verdict = Unreachable(f"robots.txt could not be read: {type(error).__name__}: {error}")
        self._verdicts[netloc] = verdict
        if isinstance(verdict, Unreachable):
            self._inc("portalcrawl/robots/unavailable_hosts")
            logger.warning("%s: %s; not crawling this host in this run (RFC 9309)", netloc, verdict.why)
        for waiter in self._waiting.pop(netloc):
            waiter.callback(None)
        return verdict

    async def _fetch(self, request: Request) -> RobotParser | Unreachable | None:
        parts = urlparse_cached(request)
        url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        assert self.crawler.engine is not None
        self._inc("robotstxt/request_count")
        for _ in range(MAX_ROBOTS_REDIRECTS + 1):
            robots_request = Request(
                url,
                priority=ROBOTS_PRIORITY,
                dont_filter=True,
                callback=NO_CALLBACK,
                # Redirects are followed here, hop by hop, each through the URL filter as a robots hop.
                meta={
                    "dont_obey_robotstxt": True,
                    "dont_redirect": True,
                    ROBOTS_META: True,
                    "allow_offsite": True,
                },
            )
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except IgnoreRequest as refused:
                return Unreachable(f"robots.txt {url} not fetched ({refused})")
            except Exception as error:
                return Unreachable(f"robots.txt {url} unreachable ({type(error).__name__}: {error})")
            self._inc("robotstxt/response_count")
            self._inc(f"robotstxt/response_status_count/{response.status}")
            location = response.headers.get(b"Location")
            if response.status in REDIRECT_STATUSES and location:
                url = response.urljoin(location.decode("latin-1"))
                continue
            return await self._judge(response, url, request)
        logger.info(
            "robots.txt of %s: more than %d redirects; allowing all", parts.netloc, MAX_ROBOTS_REDIRECTS
        )
        return None

    async def _judge(
        self, response: Response, url: str, request: Request
    ) -> RobotParser | Unreachable | None:
        if response.status == 429 or response.status >= 500:
            return Unreachable(f"robots.txt {url} answered HTTP {response.status}")
        if not 200 <= response.status < 300:
            return None  # 4xx: RFC 9309 2.3.1.3, no rules at all
        parser: RobotParser = build_from_crawler(self._parser_class, self.crawler, response.body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        return parser

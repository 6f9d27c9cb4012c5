"""Fetch one page for `extract URL` and `links URL` exactly as the crawl would: Scrapy, same settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from twisted.python.failure import Failure

from portalcrawl.cli.crawl import crawl_settings
from portalcrawl.profiles import SiteProfile

# The crawl's DOWNLOAD_TIMEOUT bounds each request; the command as a whole (robots.txt, redirects,
# retries) gets this many times that.
TOTAL_TIMEOUT_REQUESTS = 2


class FetchError(Exception):
    """The page could not be fetched; the message says why in one line."""


@dataclass
class FetchedPage:
    url: str
    body: bytes
    charset: str | None


@dataclass
class _Outcome:
    response: Response | None = None
    problems: list[str] = field(default_factory=list)


class OnePageSpider(scrapy.Spider):
    """Requests one URL through the crawl's downloader middlewares (URL filter, resolved address,
    robots.txt, block detection) with its limits (DOWNLOAD_MAXSIZE, DOWNLOAD_TIMEOUT, redirects)."""

    name = "portalcrawl-fetch"

    def __init__(self, *, url: str, outcome: _Outcome, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.outcome = outcome
        # The URL filter reads the spider's profile: an ad-hoc site of the URL's host, as `crawl --url`.
        self.profile = SiteProfile.ad_hoc([url])

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response: Response) -> None:
        self.outcome.response = response

    def failed(self, failure: Failure) -> None:
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.outcome.problems.append(f"HTTP {response.status}")
            return
        self.outcome.problems.append(failure.getErrorMessage() or type(failure.value).__name__)

    def closed(self, reason: str) -> None:
        if reason != "finished":
            self.outcome.problems.append(f"stopped: {reason}")


def fetch_page(url: str, overrides: Iterable[str] = ()) -> FetchedPage:
    """The body of ``url`` as the crawl would get it; ``FetchError`` if the crawl would get none."""
    settings = crawl_settings(overrides)
    settings.set("LOG_ENABLED", False, priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    # Only Scrapy's built-in extensions: nothing records a crawl run in the archive.
    settings.set("EXTENSIONS", {}, priority="cmdline")
    total = settings.getfloat("DOWNLOAD_TIMEOUT") * TOTAL_TIMEOUT_REQUESTS
    settings.set("CLOSESPIDER_TIMEOUT", total, priority="cmdline")
    outcome = _Outcome()
    process = CrawlerProcess(settings)
    process.crawl(OnePageSpider, url=url, outcome=outcome)
    process.start()
    if outcome.response is None:
        reason = "; ".join(outcome.problems) or "no answer"
        if "closespider_timeout" in reason:
            reason = f"no complete answer within {total:g} s"
        raise FetchError(f"cannot fetch {url}: {reason}")
    header = Message()
    header["Content-Type"] = (outcome.response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return FetchedPage(outcome.response.url, outcome.response.body, header.get_content_charset())

"""Re-decode responses whose HTTP charset, <meta> charset and actual bytes disagree."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.http import TextResponse
from w3lib.encoding import http_content_type_encoding

from portalcrawl.extract.encoding import decode_html, normalize_encoding

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class EncodingSanityMiddleware:
    """Downloader middleware: gives the response the encoding ``decode_html`` chose.

    Scrapy, like browsers, trusts the HTTP charset over the page's own ``<meta>``; gov servers often
    send ``charset=UTF-8`` for GBK pages (U+FFFD soup) or GBK for UTF-8 ones (mojibake). Passing the
    ``encoding`` argument to ``replace`` takes priority over every other source in ``TextResponse``.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingSanityMiddleware:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        chosen = better_encoding(response)
        if chosen is None:
            return response
        scrapy_choice = getattr(response, "encoding", None)
        logger.debug("Re-decoding %s as %s (Scrapy chose %s)", response.url, chosen, scrapy_choice)
        self.stats.inc_value("portalcrawl/encoding/overridden")
        return response.replace(encoding=chosen)


def better_encoding(response: Response) -> str | None:
    """The encoding ``decode_html`` chooses for a text response when it is not Scrapy's, else None.

    Also used by ``portalcrawl reextract`` to decode stored pages exactly as the crawl did.
    """
    if not isinstance(response, TextResponse):
        return None
    if response.body.isascii():
        # Every ASCII-compatible decoding of an ASCII body gives the same text: nothing to fix,
        # unless Scrapy took a label that names no text encoding (charset=base64) for one.
        return None if normalize_encoding(response.encoding) is not None else "utf-8"
    content_type = response.headers.get(b"Content-Type")
    header_charset = (
        http_content_type_encoding(content_type.decode("latin-1")) if content_type is not None else None
    )
    _, chosen = decode_html(response.body, header_charset)
    return None if chosen == normalize_encoding(response.encoding) else chosen

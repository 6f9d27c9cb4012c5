"""One article page as Scrapy hands it over (fetched now, or rebuilt from the archive) → its Article.

The crawl and ``portalcrawl reextract`` both go through ``article_from_response``, so re-extracting a
stored page gives what the crawl would store today, with the same evidence from the response.
"""

from __future__ import annotations

import re
from datetime import datetime

from scrapy.http import Response, TextResponse

from portalcrawl.extract.article import extract_article
from portalcrawl.extract.encoding import normalize_encoding
from portalcrawl.extract.notfound import not_found_message
from portalcrawl.items import Article
from portalcrawl.profiles import SiteProfile

HTML_TYPES = re.compile(rb"text/html|application/xhtml|text/xml|application/xml", re.IGNORECASE)
NON_HTML = "non_html"
EXTRACTION_FAILED = "extraction_failed"
SOFT_404 = "soft_404"


class NotAnArticle(ValueError):
    """A response that yields no article; ``kind`` is ``NON_HTML``, ``EXTRACTION_FAILED`` or ``SOFT_404``
    and the message says why in one line."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def article_from_response(
    response: Response, article_url: str, *, profile: SiteProfile, fetched_at: datetime
) -> Article:
    """The Article of an article page ``response`` listed as ``article_url``; ``NotAnArticle`` otherwise."""
    content_type = response.headers.get(b"Content-Type") or b""
    if not isinstance(response, TextResponse) or (content_type and not HTML_TYPES.search(content_type)):
        raise NotAnArticle(NON_HTML, f"not HTML: {content_type.decode('latin-1') or 'no text'}")
    try:
        article = extract_article(response.text, response.url, fetched_at=fetched_at, profile=profile)
    except Exception as exc:
        raise NotAnArticle(EXTRACTION_FAILED, f"{type(exc).__name__}: {exc}") from exc
    if not (article.title or article.body_text):
        # extract_article never raises; a page with nothing in it is a failure, not an article.
        raise NotAnArticle(EXTRACTION_FAILED, "ValueError: no title and no text on the page")
    if message := not_found_message(response.text, article.title, article.body_text):
        # A 200 OK that says the page does not exist is the portal's 404 page, not an article.
        raise NotAnArticle(SOFT_404, f"soft 404: the page says {message!r}")
    article.url = article_url
    # Crawl evidence: the encoding the response was decoded with (EncodingSanityMiddleware's pick).
    article.encoding = normalize_encoding(response.encoding)
    return article

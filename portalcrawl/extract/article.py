"""Article extraction: ``extract_article`` is ``ArticlePage(...).to_article()``; the field logic lives in
modules named by field (``title``, ``published``, ``body``, ``column``, ``language``, ``multipage``)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from portalcrawl.extract.html import HTML_PARSER, page_bytes, parse_tree
from portalcrawl.extract.lines import content_hash, squash
from portalcrawl.extract.multipage import MAX_CONTINUATION_PAGES, continuation_pages, merge_pages
from portalcrawl.extract.page import ArticlePage
from portalcrawl.items import Article

if TYPE_CHECKING:
    from portalcrawl.profiles import SiteProfile

__all__ = [
    "HTML_PARSER",
    "MAX_CONTINUATION_PAGES",
    "ArticlePage",
    "content_hash",
    "continuation_pages",
    "extract_article",
    "merge_pages",
    "page_bytes",
    "parse_tree",
    "squash",
]


def extract_article(
    html_page: str | bytes,
    url: str,
    *,
    fetched_at: datetime | None = None,
    profile: SiteProfile | None = None,
) -> Article:
    """Extract one article page. Pure: the page, its URL, the fetch time and the profile are all it uses."""
    return ArticlePage(html_page, url, fetched_at=fetched_at, profile=profile).to_article()

"""Pure extraction: HTML in, values out; no network, no database, no Scrapy."""

from portalcrawl.extract.article import extract_article
from portalcrawl.extract.listing import Listing, extract_listing

__all__ = ["Listing", "extract_article", "extract_listing"]

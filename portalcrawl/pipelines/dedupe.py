"""Canonicalise article URLs and drop the second copy of an article within one run."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Self

from scrapy.exceptions import DropItem

from portalcrawl.urls import canonical_url, dedupe_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from portalcrawl.items import Article


class DropDuplicatesPipeline:
    """Sets ``item.url`` to its canonical form and drops articles already seen in this run.

    The same article is reached from several columns, from paged listings that shift while being
    read, and over both http and https; the comparison ignores the scheme (``dedupe_key``). Seen URLs
    are kept as 16-byte BLAKE2b digests, so a run of a million articles costs tens of megabytes, not
    hundreds. Across runs the spider skips known URLs and storage upserts by URL.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Article) -> Article:
        item.url = canonical_url(item.url)
        digest = hashlib.blake2b(dedupe_key(item.url).encode("utf-8"), digest_size=16).digest()
        if digest in self.seen:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("portalcrawl/dedupe/dropped")
            raise DropItem(f"duplicate: {item.url}")
        self.seen.add(digest)
        return item

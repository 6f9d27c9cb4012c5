"""Strip portal furniture lines (toolbars, share blocks, related links, footers) from each article's text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from itemadapter import ItemAdapter

from portalcrawl.extract.article import content_hash
from portalcrawl.extract.boilerplate import strip_boilerplate
from portalcrawl.items import Article

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

LINES_REMOVED = "portalcrawl/boilerplate/lines_removed"


class StripBoilerplatePipeline:
    """Runs ``strip_boilerplate`` on ``body_text``, refreshes ``content_hash`` when the text changed and
    counts removed lines in ``portalcrawl/boilerplate/lines_removed``.

    The text of a one-page article as ``extract_article`` made it (it names the stage that found the
    body in ``field_stages``) is what ``strip_boilerplate`` returned, and stripping is idempotent, so it
    is passed without being stripped a second time (a fifth of a millisecond an article). The joined
    text of a multi-page article is not what ``strip_boilerplate`` returned, so it is stripped.
    """

    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: object) -> object:
        if isinstance(item, Article) and item.field_stages.get("body_text") and len(item.page_urls) <= 1:
            return item
        adapter = ItemAdapter(item)
        text = adapter.get("body_text") or ""
        cleaned = strip_boilerplate(text)
        if cleaned != text:
            removed = text.count("\n") + 1 - (cleaned.count("\n") + 1 if cleaned else 0)
            if self.stats is not None:
                self.stats.inc_value(LINES_REMOVED, max(removed, 0))
            adapter["body_text"] = cleaned
            adapter["content_hash"] = content_hash(adapter.get("title"), cleaned)
        return item

"""Strip portal furniture lines from the body text of items that did not come from portalcrawl.extract."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from itemadapter import ItemAdapter

from portalcrawl.extract.boilerplate import strip_boilerplate
from portalcrawl.extract.lines import content_hash
from portalcrawl.items import Article

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

LINES_REMOVED = "portalcrawl/boilerplate/lines_removed"


class StripBoilerplatePipeline:
    """Runs ``strip_boilerplate`` on the ``body_text`` of every item that is not an ``Article``,
    refreshes its ``content_hash`` when the text changed and counts removed lines in
    ``portalcrawl/boilerplate/lines_removed``.

    An ``Article`` is portalcrawl.extract's output, clean on every path (one page: ``ArticlePage.body``;
    several: ``multipage.merge_pages``), so it passes untouched. Other items (dicts or itemadapter
    items that a spider of one's own sends through portalcrawl's pipelines to the archive) are cleaned
    here, the same way.
    """

    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: object) -> object:
        if isinstance(item, Article):
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

"""The backfill spider: downloads the attachments of a site's archived articles, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import scrapy

from portalcrawl import settings as project_settings
from portalcrawl.extensions.attachments import ArchiveAttachments
from portalcrawl.spiders.portal import PortalSpider


class AttachmentsSpider(PortalSpider):
    """``scrapy crawl attachments -a site=SLUG`` (or ``-a url=`` for an ad-hoc site): the portal spider's
    profile, hosts and settings, with no listing or article pages; ``ArchiveAttachments`` does the work.

    No ``crawl_runs`` row: a backfill fetches no pages, which that table would record as a failed crawl.
    """

    name = "attachments"
    # A spider's EXTENSIONS replaces the project's dict, so it is the project's minus RecordCrawlRun.
    custom_settings: ClassVar[dict[str, Any] | None] = {  # type: ignore[misc]
        "EXTENSIONS": {
            **project_settings.EXTENSIONS,
            "portalcrawl.extensions.crawl_runs.RecordCrawlRun": None,
        }
    }

    async def start(self) -> AsyncIterator[scrapy.Request]:
        extension = next(
            (e for e in self.crawler.extensions.middlewares if isinstance(e, ArchiveAttachments)), None
        )
        if extension is None or extension.db is None:
            self.logger.error("attachments: the ArchiveAttachments extension is off; nothing to fetch")
            return
        # The extension sends the files itself, as the run's byte budget allows: no request from here.
        extension.backfill(self, self.profile.slug)
        return
        yield

    def closed(self, reason: str) -> None:
        """Nothing to record: no listing was paged."""

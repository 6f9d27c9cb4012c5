"""``scrapy crawl`` that checks the portal spider's arguments first, so a mistake costs one line.

Scrapy creates the spider inside its event loop, where an exception becomes a logged traceback and
the command still exits 0. Checking ``-a`` arguments before the crawl starts turns a missing profile or
a bad ``max_pages`` into ``crawl: error: …`` and exit status 2, like any other usage error.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from portalcrawl.pages import keep_pages_setting
from portalcrawl.spiders.portal import PortalSpider


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args and args[0] == PortalSpider.name:
            assert self.settings is not None
            try:
                # -a sites_dir=… overrides the setting, as PortalSpider.from_crawler lets it.
                defaults = {
                    "sites_dir": self.settings.get("PORTALCRAWL_SITES_DIR") or None,
                    "default_max_pages": self.settings.getint("PORTALCRAWL_MAX_PAGES"),
                    "default_timezone": self.settings.get("PORTALCRAWL_TIMEZONE") or None,
                }
                PortalSpider(**{**defaults, **opts.spargs})
            except UsageError as error:
                raise UsageError(str(error), print_help=False) from None
            try:
                keep_pages_setting(self.settings.get("PORTALCRAWL_KEEP_PAGES"))
            except ValueError as error:
                raise UsageError(str(error), print_help=False) from None
        super().run(args, opts)

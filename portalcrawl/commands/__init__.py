"""Scrapy commands portalcrawl adjusts (``COMMANDS_MODULE``)."""

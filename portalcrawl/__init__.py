"""portalcrawl: local-government and regional news portals into a clean SQLite archive."""

__version__ = "0.1.0"

"""Attachments archived: their links, downloaded files and extracted text (``PORTALCRAWL_ATTACHMENTS``)."""

from __future__ import annotations

# What a crawl does with the document links of its articles, each mode including the ones before it.
MODES = ("off", "links", "download", "text")
# Request meta key of a file download: the attachment URL it settles (redirects carry it along).
FILE_REQUEST_META = "portalcrawl_attachment"


def mode_at_least(mode: str, wanted: str) -> bool:
    return MODES.index(mode) >= MODES.index(wanted)

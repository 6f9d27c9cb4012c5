"""The page as libxml2 reads it: one parse of its text, with what makes libxml2 refuse a page removed."""

from __future__ import annotations

import re

from lxml import etree

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# libxml2 drops everything after </html>; server-side includes leave one in the middle of some pages
# (www.gov.cn closes its header include with </html>), so closing html/body tags are removed.
EARLY_CLOSE = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)
# Control characters make lxml refuse the whole string.
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
HTML_PARSER = etree.HTMLParser(encoding="utf-8")
EMPTY_PAGE = b"<html><body></body></html>"


def page_bytes(page: str) -> bytes:
    """The page as UTF-8 for libxml2, without the control characters that make it refuse the page.

    UTF-8 never uses those bytes inside a multi-byte character, so deleting them from the bytes removes
    exactly the control characters, far faster than a regex over the text.
    """
    cleaned = EARLY_CLOSE.sub("", XML_DECLARATION.sub("", page, count=1))
    return cleaned.encode("utf-8", "replace").translate(None, CONTROL_BYTES)


def parse_tree(page: str | bytes) -> etree._Element:
    """The page's lxml tree (plain etree elements) from its text or from ``page_bytes``; a page libxml2
    cannot make a document of becomes an empty one."""
    if isinstance(page, str):
        page = page_bytes(page)
    try:
        root = etree.fromstring(page, HTML_PARSER)
    except etree.XMLSyntaxError:
        root = None
    return root if root is not None else etree.fromstring(EMPTY_PAGE, HTML_PARSER)

"""Document attachments of an article: links in or right after the body, and links written by inline JS."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml import etree

from portalcrawl.extract.content import clean_line, inline_scripts, text_content

EXTENSIONS = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "wps",
        "et",
        "dps",
        "ppt",
        "pptx",
        "ofd",
        "ceb",
        "txt",
        "rtf",
        "zip",
        "rar",
        "7z",
    ]
)
EXTENSION_RE = re.compile(r"\.([A-Za-z0-9]{1,5})$")
# Links that inline scripts write into the page: var rel_appendix = '<a href="./P0….doc">…</a>'.
SCRIPT_LINK_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*\\?["']([^"'\\]+)\\?["'][^>]*>([^<]*)""", re.IGNORECASE)


def attachment_extension(href: str) -> str | None:
    """The document extension of a link, from its path or a ``filename=`` query (Hanweb downfile.jsp)."""
    parts = urlsplit(href.strip())
    if parts.scheme not in ("", "http", "https"):
        return None
    candidates = [unquote(parts.path)]
    query = parse_qs(parts.query)
    candidates += [value for key in ("filename", "file", "fileName", "name") for value in query.get(key, [])]
    for candidate in candidates:
        match = EXTENSION_RE.search(candidate)
        if match and match.group(1).lower() in EXTENSIONS:
            return match.group(1).lower()
    return None


def _name(element: etree._Element, href: str) -> str:
    for value in (element.get("download"), element.get("title"), clean_line(text_content(element))):
        if value and value.strip():
            return value.strip()
    return unquote(urlsplit(href).path.rsplit("/", 1)[-1])


def find_attachments(
    containers: Iterable[etree._Element], tree: etree._Element, url: str
) -> list[dict[str, str]]:
    """``{url, name}`` of document links in ``containers`` and in inline scripts, absolute, deduplicated."""
    found: dict[str, dict[str, str]] = {}
    for container in containers:
        for link in container.iter("a"):
            href = link.get("href") or ""
            if attachment_extension(href):
                absolute = urljoin(url, href.strip())
                found.setdefault(absolute, {"url": absolute, "name": _name(link, href)})
    for text_of_script in inline_scripts(tree):
        # The pattern opens with "<a" in either case; without one a case-insensitive scan of the whole
        # script finds nothing, slowly.
        if "<a" not in text_of_script and "<A" not in text_of_script:
            continue
        for href, text in SCRIPT_LINK_RE.findall(text_of_script):
            if attachment_extension(href):
                absolute = urljoin(url, href.strip())
                name = clean_line(text) or unquote(urlsplit(absolute).path.rsplit("/", 1)[-1])
                found.setdefault(absolute, {"url": absolute, "name": name})
    return list(found.values())

"""Hrefs made absolute: the one resolver of links for listings, pagers and profile selectors."""

from __future__ import annotations

import re
from urllib.parse import ParseResult, urljoin, urlparse, urlsplit, urlunsplit

from lxml import etree

# Hrefs whose absolute URL needs no urllib parsing (see ``LinkResolver``): characters urlsplit neither
# splits at (:;?# in a path, # in a query) nor strips.
PLAIN_PATH = r"[\w.~%/!$&'()*+,=@-]"
PLAIN_QUERY = r"(?:\?(?P<query>[\w.~%/!$&'()*+,;=:@?-]*))?"
PLAIN_WEB_URL = re.compile(
    rf"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+(?::[0-9]+)?)(?P<path>/{PLAIN_PATH}*)?{PLAIN_QUERY}"
)
PLAIN_RELATIVE_URL = re.compile(rf"(?!//)(?P<path>{PLAIN_PATH}+){PLAIN_QUERY}")
SKIPPED_HREF = re.compile(r"^\s*(?:javascript:|mailto:|tel:|#|$)", re.IGNORECASE)


def absolute_url(href: str, base: str) -> str | None:
    href = href.strip()
    if SKIPPED_HREF.match(href):
        return None
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


class LinkResolver:
    """``absolute_url`` against one base, remembering each href; plain hrefs skip urllib's parsing.

    urljoin plus the re-split cost ~30 µs a link. For an http(s) base and the hrefs most pages are made
    of, their result is known without them: an http(s) URL with a plain host, path and query is kept as
    it is (with ``/`` for an empty path); a relative path (and query) gets the base's scheme and host
    and the path merged as urljoin merges it (``_merge_path``). Plain means nothing urlsplit would read
    as params or a fragment, nor strip. Anything else goes through ``absolute_url``.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self._resolved: dict[str, str | None] = {}
        try:
            parts = urlparse(base)
        except ValueError:
            parts = None
        self._origin = f"{parts.scheme}://{parts.netloc}" if parts and _is_web_origin(parts) else None
        self._base_path = parts.path if parts else ""

    def __call__(self, href: str) -> str | None:
        if href not in self._resolved:
            self._resolved[href] = self._resolve(href.strip())
        return self._resolved[href]

    def _resolve(self, href: str) -> str | None:
        if self._origin is None:
            return absolute_url(href, self.base)
        if web := PLAIN_WEB_URL.fullmatch(href):
            url = f"{web['scheme']}://{web['host']}{web['path'] or '/'}"
            query = web["query"]
        elif relative := PLAIN_RELATIVE_URL.fullmatch(href):
            path = _merge_path(self._base_path, relative["path"])
            url = self._origin + (path if path.startswith("/") else f"/{path}")
            query = relative["query"]
        else:
            return absolute_url(href, self.base)
        return f"{url}?{query}" if query else url


def _is_web_origin(parts: ParseResult) -> bool:
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _merge_path(base_path: str, path: str) -> str:
    """A relative path merged into the base's path and its dot segments removed, as urljoin does."""
    base_parts = base_path.split("/")
    if base_parts[-1] != "":
        del base_parts[-1]
    if path[:1] == "/":
        segments = path.split("/")
    else:
        segments = base_parts + path.split("/")
        segments[1:-1] = filter(None, segments[1:-1])
    resolved: list[str] = []
    for segment in segments:
        if segment == "..":
            if resolved:
                resolved.pop()
        elif segment != ".":
            resolved.append(segment)
    if segments[-1] in (".", ".."):
        resolved.append("")
    return "/".join(resolved) or "/"


def base_url(root: etree._Element, url: str) -> str:
    base = next((href for element in root.iter("base") if (href := element.get("href")) is not None), None)
    return urljoin(url, base.strip()) if base is not None else url

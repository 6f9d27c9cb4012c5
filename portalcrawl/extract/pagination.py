"""Further pages of a listing: next links, numbered pagers and the TRS script pagers, in follow order."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import islice
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.etree

from portalcrawl.extract.content import text_content
from portalcrawl.extract.links import SKIPPED_HREF

NEXT_TEXTS = {
    "下一页",
    "下页",
    "下一頁",
    "后页",
    "後頁",
    "next",
    "next page",
    "next»",
    "next ›",
    "›",
    "»",
    ">",
    ">>",
    "下一页>",
    "下一页»",
    "下一页>>",
    "下一页 >",
    "下一页 >>",
}
NEXT_MARKER = re.compile(r"\bnext\b|\bnxt\b|next[-_]?page|pagenext|page[-_]next", re.IGNORECASE)
PAGE_NUMBER = re.compile(r"^\[?\s*(\d{1,5})\s*\]?$")
PAGER_CONTAINER = re.compile(r"page|pag|pg\b|fenye|fy\b|pages|paging|pager|nav", re.IGNORECASE)
# createPageHTML(count, current, 'index', 'html') and the 6-argument form with a div id first.
CREATE_PAGE_HTML = re.compile(
    r"createPageHTML\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]"
)
# ``\bvar`` written as ``var(?<=\bvar)``: a pattern opening with a literal is searched for that literal,
# one opening with ``\b`` is tried at every position of the scripts (~40 µs a KB).
COUNT_PAGE = re.compile(r"var(?<=\bvar)\s+countPage\s*=\s*['\"]?(\d+)")
CURRENT_PAGE = re.compile(r"var(?<=\bvar)\s+currentPage\s*=\s*['\"]?(\d+)")
# The pager script generates at most this many candidates past the current page per listing page.
MAX_SCRIPT_CANDIDATES = 500


def next_listing_pages(
    root: lxml.etree._Element, scripts: str, resolve: Callable[[str], str | None], url: str
) -> list[str]:
    """Absolute further listing pages, the likeliest next page first. ``resolve`` makes an href an
    absolute http(s) URL without fragment (or None), against the page's base.

    Script pagers are emitted as candidates for both 0-based and 1-based numbering: the spider
    follows them in order and stops on 404 or a page without new links, so the count is never trusted
    alone.
    """
    here = _without_fragment(url)
    texts = {anchor: _text(anchor) for anchor in root.iter("a")}
    pages = [
        *_next_links(root, texts, resolve),
        *_script_pages(scripts, url),
        *_numbered_links(texts, resolve),
    ]
    return [p for p in dict.fromkeys(pages) if p != here]


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _link(href: str | None, resolve: Callable[[str], str | None]) -> str | None:
    if href is None or SKIPPED_HREF.match(href):
        return None
    return resolve(href)


def _text(anchor: lxml.etree._Element) -> str:
    """An anchor's text, squashed and lowercased."""
    return " ".join(text_content(anchor).split()).lower()


def _next_links(
    root: lxml.etree._Element, texts: dict[lxml.etree._Element, str], resolve: Callable[[str], str | None]
) -> list[str]:
    found = []
    for anchor in root.iter("a", "link"):
        if anchor.tag == "link":
            if (anchor.get("rel") or "").lower() == "next" and (link := _link(anchor.get("href"), resolve)):
                found.append(link)
            continue
        marker = f"{anchor.get('class') or ''} {anchor.get('id') or ''} {anchor.get('rel') or ''}"
        if (texts[anchor] in NEXT_TEXTS or NEXT_MARKER.search(marker) or anchor.get("rel") == "next") and (
            link := _link(anchor.get("href"), resolve)
        ):
            found.append(link)
    return found


def _numbered_links(texts: dict[lxml.etree._Element, str], resolve: Callable[[str], str | None]) -> list[str]:
    """Page-number links inside a pager, in ascending page order."""
    numbered: list[tuple[int, str]] = []
    pager_parents: dict[lxml.etree._Element | None, bool] = {}
    sibling_anchors: dict[lxml.etree._Element | None, _SiblingAnchors] = {}
    for anchor, text in texts.items():
        number = PAGE_NUMBER.match(text)
        if not number or not (link := _link(anchor.get("href"), resolve)):
            continue
        parent = anchor.getparent()
        in_pager = pager_parents.get(parent)
        if in_pager is None:
            # The same for every link of one parent (a pager's links are siblings).
            in_pager = pager_parents[parent] = any(
                PAGER_CONTAINER.search(f"{a.get('class') or ''} {a.get('id') or ''}")
                for a in islice(anchor.iterancestors(), 3)
            )
        if in_pager or any(PAGE_NUMBER.match(texts[s]) for s in _next_two(anchor, parent, sibling_anchors)):
            numbered.append((int(number.group(1)), link))
    return [link for _, link in sorted(numbered, key=lambda pair: pair[0])]


# A parent's child anchors in order, and each one's place among them.
_SiblingAnchors = tuple[list[lxml.etree._Element], dict[lxml.etree._Element, int]]


def _next_two(
    anchor: lxml.etree._Element,
    parent: lxml.etree._Element | None,
    known: dict[lxml.etree._Element | None, _SiblingAnchors],
) -> list[lxml.etree._Element]:
    """The next two anchors among ``anchor``'s following siblings.

    Each parent's anchors are listed once: reading the siblings anchor by anchor made a pager of N
    links cost N² (40,000 links froze the crawl for minutes).
    """
    if parent is None:
        return []
    if parent not in known:
        anchors = [child for child in parent if child.tag == "a"]
        known[parent] = anchors, {a: place for place, a in enumerate(anchors)}
    anchors, places = known[parent]
    place = places[anchor]
    return anchors[place + 1 : place + 3]


def _script_pages(scripts: str, url: str) -> list[str]:
    match = CREATE_PAGE_HTML.search(scripts)
    if match:
        count, current, name, extension = int(match[1]), int(match[2]), match[3], match[4]
    else:
        count_match, current_match = COUNT_PAGE.search(scripts), CURRENT_PAGE.search(scripts)
        if not (count_match and current_match):
            return []
        count, current, name = int(count_match[1]), int(current_match[1]), "index"
        extension = _extension_of(url)
    directory = urljoin(url, "./")
    last = min(count, current + 1 + MAX_SCRIPT_CANDIDATES)
    return [f"{directory}{name}_{n}.{extension}" for n in range(current + 1, last + 1)]


def _extension_of(url: str) -> str:
    match = re.search(r"\.(s?html?)$", urlsplit(url).path)
    return match.group(1) if match else "html"

"""Listing (column) pages: the main list's article links, further listing pages and data requests."""

from __future__ import annotations

import json
import re
import zlib
from collections import deque
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import lxml.etree

from portalcrawl.extract import families
from portalcrawl.extract.content import drop_trees, text_content
from portalcrawl.extract.documents import DOCUMENT_URL
from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.html import HTML_PARSER, page_bytes
from portalcrawl.extract.links import LinkResolver, base_url
from portalcrawl.extract.listing_request import ListingRequest
from portalcrawl.extract.pagination import next_listing_pages
from portalcrawl.extract.selectors import selected_anchors
from portalcrawl.link_patterns import common_shape, link_shape
from portalcrawl.safetext import clean_text

if TYPE_CHECKING:
    from portalcrawl.profiles import Selectors, SiteProfile

# Article URLs of the CMS families we know (and dated paths); a link matching one is very likely an article.
ARTICLE_URL_PATTERNS = re.compile("|".join(families.ARTICLE_URLS), re.IGNORECASE)
# Column, index and pager URLs: a list of these is navigation, not the main list.
NAVIGATION_URL = re.compile("|".join(families.COLUMN_URLS), re.IGNORECASE)
# Containers whose links are not the main list.
CHROME_MARKER = re.compile(
    r"nav|menu|footer|foot|header|head|top|crumb|friend|yqlj|links?\b|rank|hot|sidebar|side|"
    r"copyright|banner|share|tag|login|search|pager|pagination|page|fenye|related|recommend",
    re.IGNORECASE,
)
CHROME_TAGS = {"nav", "footer", "header", "aside", "select", "form"}
DATE_TEXT = re.compile(
    # ``(?:\s*日)?``, not ``\s*日?``: the latter takes the space before a time and leaves the time out.
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}(?:\s*日)?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?<![\d.])\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2})?(?![\d.])"
)
ITEM_TAGS = {"li", "tr", "dd", "dt", "article"}
# A run of this many dated links loses at most this many undated ones at each end.
MIN_DATED_RUN = 4
MAX_UNDATED_EDGE = 2
ROW_TAGS = {"li", "tr", "td", "th", "dd", "dt", "article"}
# Classes that mark one item's place or state in its list, not the list it belongs to: items
# ``div.item.odd`` and ``div.item.even`` (or a ``first``/``last``/``new`` one) are one list.
ITEM_STATE_CLASSES = {
    *("odd", "even", "alt", "alternate", "first", "last", "first-child", "last-child"),
    *("active", "current", "cur", "on", "selected", "new"),
}
# Tags whose classes vary between items of one list (odd/even rows, new/sticky markers).
PLAIN_ITEM_TAGS = {
    "li",
    "tr",
    "td",
    "th",
    "tbody",
    "dd",
    "dt",
    "p",
    "span",
    "a",
    "em",
    "strong",
    "b",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "i",
}
FEED_ROOT = re.compile(r"<(?:rss|feed|urlset|sitemapindex|rdf:rdf)\b", re.IGNORECASE)
# What may precede an XML document's root: declaration, processing instructions, comments, DOCTYPE.
XML_PROLOG = re.compile(
    r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>)+", re.DOTALL | re.IGNORECASE
)
GZIP_MAGIC = b"\x1f\x8b"
# The sitemaps protocol's limit on an uncompressed sitemap.
MAX_GUNZIPPED_BYTES = 50 * 1024 * 1024


@dataclass
class Listing:
    article_links: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    requests: list[ListingRequest] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    # Listings this page is an index of (a sitemap index's sitemaps, the JSON feeds a page's script
    # fills it from): each one is paged in full, unlike ``next_pages``, of which one is followed.
    child_listings: list[str] = field(default_factory=list)


def extract_listing(html: str | bytes, url: str, *, profile: SiteProfile | None = None) -> Listing:
    """Read a listing response: HTML column page, Hanweb dataproxy XML, JSON feed, RSS/Atom or sitemap
    (also gzipped, as ``sitemap.xml.gz`` files are served).

    A profile's ``article_links`` and ``next_page`` selectors, when set, decide the article links and
    the further pages of an HTML listing instead of detection.
    """
    if isinstance(html, bytes) and html.startswith(GZIP_MAGIC):
        html = _gunzip(html, MAX_GUNZIPPED_BYTES)
    text = decode_html(html)[0] if isinstance(html, bytes) else html
    start = text.lstrip("\ufeff \t\r\n")
    head = start[:400].lower()
    if head.startswith(("[", "{")):
        return _json_listing(text, url)
    if any(is_data_answer(head) for is_data_answer in families.DATA_ANSWERS):
        return _records_answer(text, url)
    if FEED_ROOT.search(head) or (head.startswith("<") and _is_feed_after_prolog(start)):
        return _feed_listing(text, url)
    return _html_listing(text, url, profile.selectors if profile else None)


def _is_feed_after_prolog(text: str) -> bool:
    """Whether the root element after the XML declaration, comments and a DOCTYPE (whose internal
    subset can push the root far beyond the first bytes) is a feed's or a sitemap's."""
    prolog = XML_PROLOG.match(text)
    end = prolog.end() if prolog else 0
    return end > 0 and FEED_ROOT.match(text, end) is not None


def _gunzip(body: bytes, limit: int) -> bytes:
    """A gzip body decompressed, at most ``limit`` bytes of it (a gzip bomb stops there); what cannot
    be decompressed is kept as it came."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return decompressor.decompress(body, limit)
    except zlib.error:
        return body


def _unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))


def _parse_html(text: str) -> lxml.etree._Element | None:
    # The same UTF-8 bytes and parser as article extraction: no XML declaration, no control characters
    # that lxml refuses to keep in text and tails, and plain etree elements (lxml.html's element classes
    # are chosen by a Python callback for every element proxy, which costs more than the rest of a
    # listing page's link grouping).
    try:
        root: lxml.etree._Element | None = lxml.etree.fromstring(page_bytes(text), HTML_PARSER)
    except ValueError:
        return None
    return root


# Lists and pagers inside HTML comments, written out by the page's script (``$("#list").html(…
# .replace("<!--", ""))``, a walk over comment nodes): a comment holding links is read as the page's
# markup when an inline script handles comments, and otherwise only for what the visible page lacks
# (a pager; a main list: the best visible list has no article URL and no date), so commented-out old
# markup never competes with a live list.
COMMENT_RENDERING = re.compile(
    r"""["'/|(]\s*<!--|<!--\s*["'/|)]|-->\s*["'/|)]|nodeType\s*[!=]==?\s*8|SHOW_COMMENT|COMMENT_NODE"""
)
# At most this much commented markup is parsed a page.
MAX_COMMENTED_MARKUP = 200_000
CONTAINER_TAGS = {"ul", "ol", "table", "tbody", "body", "html", "dl"}
DIGITS = re.compile(r"\d+")


def _step(element: lxml.etree._Element) -> str:
    """One element's part of a link's signature: its tag, with id and classes for containers."""
    tag = element.tag if isinstance(element.tag, str) else "?"
    if tag in PLAIN_ITEM_TAGS or tag in ("html", "body"):
        return tag
    ident = DIGITS.sub("N", element.get("id") or "")
    tokens = (element.get("class") or "").split()
    if not ITEM_STATE_CLASSES.isdisjoint(tokens):
        tokens = [token for token in tokens if token not in ITEM_STATE_CLASSES]
    classes = DIGITS.sub("N", " ".join(sorted(tokens)))
    return f"{tag}#{ident}.{classes}"


# A link's or container's signature (the tag path to it) and the nearest row at or above it.
_Placement = tuple[tuple[str, ...], lxml.etree._Element | None]


class _PageLinks:
    """What grouping the links of one page asks of its elements, each answered once per element.

    Links share their ancestors, and a deep page would otherwise walk the same ancestors and resolve the
    same hrefs once per link. The memos live as long as one ``extract_listing`` call.
    """

    def __init__(self, resolve: LinkResolver) -> None:
        self._resolve = resolve
        self._placements: dict[lxml.etree._Element, _Placement] = {}
        self._link_samples: dict[lxml.etree._Element, set[str]] = {}
        self._articles: dict[str, bool] = {}
        self._navigation: dict[str, bool] = {}
        self._chrome_marked: dict[lxml.etree._Element, bool] = {}

    def target(self, anchor: lxml.etree._Element) -> str | None:
        return self._resolve(anchor.get("href") or "")

    def is_article(self, link: str) -> bool:
        """Whether a link looks like an article or a document of a CMS family we know."""
        if link not in self._articles:
            self._articles[link] = bool(ARTICLE_URL_PATTERNS.search(link) or DOCUMENT_URL.search(link))
        return self._articles[link]

    def is_navigation(self, link: str) -> bool:
        if link not in self._navigation:
            self._navigation[link] = bool(NAVIGATION_URL.search(link))
        return self._navigation[link]

    def placement(self, anchor: lxml.etree._Element) -> _Placement:
        """A link's signature (the tag path to it, with ids and classes of containers; links of one
        list share it) and its row (the nearest ancestor that is a row of a list or table)."""
        parent = anchor.getparent()
        signature, row = self._placement(parent) if parent is not None else ((), None)
        return _extended(signature, _step(anchor)), row

    def _placement(self, element: lxml.etree._Element) -> _Placement:
        placement = self._placements.get(element)
        if placement is not None:
            return placement
        chain, known = _uncached_ancestry(element, self._placements)
        signature, row = self._placements[known] if known is not None else ((), None)
        for container in chain:
            signature = _extended(signature, _step(container))
            if container.tag in ROW_TAGS:
                row = container
            self._placements[container] = (signature, row)
        return signature, row

    def item(self, anchor: lxml.etree._Element, link: str) -> lxml.etree._Element:
        """The list item around a link: the largest ancestor (a few levels up) holding no other link."""
        item = anchor
        for _ in range(4):
            ancestor = item.getparent()
            if ancestor is None or ancestor.tag in CONTAINER_TAGS or self._links_other_than(ancestor, link):
                break
            item = ancestor
            if ancestor.tag in ITEM_TAGS:
                break
        return item

    def chrome_penalty(self, anchor: lxml.etree._Element) -> float:
        """How much a link's containers look like navigation, footers and widgets (1 = not at all)."""
        penalty = 1.0
        for element in anchor.iterancestors():
            if element.tag in CHROME_TAGS:
                penalty *= 0.3
            if self._has_chrome_marker(element):
                penalty *= 0.6
        return max(penalty, 0.05)

    def _has_chrome_marker(self, element: lxml.etree._Element) -> bool:
        marked = self._chrome_marked.get(element)
        if marked is None:
            marker = f"{element.get('id') or ''} {element.get('class') or ''}"
            marked = self._chrome_marked[element] = bool(marker.strip() and CHROME_MARKER.search(marker))
        return marked

    def _links_other_than(self, element: lxml.etree._Element, link: str) -> bool:
        sample = self._link_samples.get(element)
        if sample is None:
            # Two different links answer the question for every link: stop there, ancestors of a link
            # in a big page can hold thousands.
            sample = set()
            for anchor in element.iter("a"):
                target = self.target(anchor)
                if target is not None:
                    sample.add(target)
                    if len(sample) == 2:
                        break
            self._link_samples[element] = sample
        return any(target != link for target in sample)


def _extended(signature: tuple[str, ...], step: str) -> tuple[str, ...]:
    # Unclosed containers nest each list section inside the previous one; one list all the same.
    return signature if signature and signature[-1] == step else (*signature, step)


def _uncached_ancestry(
    element: lxml.etree._Element, cache: Container[lxml.etree._Element]
) -> tuple[list[lxml.etree._Element], lxml.etree._Element | None]:
    """``element`` and its ancestors not yet in ``cache``, outermost first, and the nearest cached one."""
    chain = []
    current: lxml.etree._Element | None = element
    while current is not None and current not in cache:
        chain.append(current)
        current = current.getparent()
    chain.reverse()
    return chain, current


@dataclass
class _Group:
    links: list[str] = field(default_factory=list)
    link_set: set[str] = field(default_factory=set)
    dates: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    # (row element, text length) per link: a row's extra links ("New", "[活动]") are not articles.
    rows: dict[str, tuple[object, int]] = field(default_factory=dict)
    penalty: float = 1.0
    first_position: int = 0

    def score(self, page: _PageLinks) -> float:
        if len(self.link_set) < 2:
            return 0.0
        articles = sum(page.is_article(u) for u in self.link_set)
        return self._score(articles, sum(page.is_navigation(u) for u in self.link_set))

    def best_possible_score(self) -> float:
        """``score`` if every link were an article and none navigation: no URL pattern looked up."""
        return self._score(len(self.link_set), 0)

    def _score(self, articles: int, navigation: int) -> float:
        count = len(self.link_set)
        if count < 2:
            return 0.0
        navigation_share = navigation / count
        date_share = len(self.dates) / count
        text_lengths = sorted(len(t) for t in self.texts)
        median_text = text_lengths[len(text_lengths) // 2] if text_lengths else 0
        title_factor = min(median_text, 24) / 12
        quality = 0.3 + articles / count * 1.5 + date_share * 1.5 + title_factor
        quality *= 1 - 0.8 * navigation_share
        return count * quality * self.penalty


def _html_listing(text: str, url: str, selectors: Selectors | None) -> Listing:
    root = _parse_html(text)
    if root is None:
        return Listing()
    base = base_url(root, url)
    # Read before _main_list drops the scripts from the tree.
    script_elements = list(root.iter("script"))
    scripts = "\n".join(text_content(s) for s in script_elements)
    # What a pager script could be: a data block (``type="text/xml"`` records, JSON) writes no pager.
    inline_scripts = [text_content(s) for s in script_elements if _is_javascript(s)]
    listing = Listing()

    records = _listed_records(text)
    # One resolver for the pager and the main list: a pager's hrefs are resolved once.
    resolve = LinkResolver(base)
    if selectors and selectors.article_links:
        listing.article_links, listing.dates = _selected_list(root, selectors.article_links, resolve)
        listing.next_pages = next_listing_pages(root, inline_scripts, resolve, url)
    elif records:
        listing = _records_listing(records, base)
        listing.next_pages = next_listing_pages(root, inline_scripts, resolve, url)
    else:
        drop_trees(list(root.iter("script", "style", "noscript", "template")))
        commented = _commented_markup(root)
        if commented and COMMENT_RENDERING.search(scripts):
            _reveal(commented)
            commented = []
        listing.next_pages = next_listing_pages(root, inline_scripts, resolve, url)
        # A pager is never the article list, however many pages it numbers.
        listing.article_links, listing.dates = _main_list(root, resolve, set(listing.next_pages))
        if commented and not listing.next_pages:
            listing.next_pages = next_listing_pages(_fragments(commented), [], resolve, url)
        if commented and _looks_unlike_articles(listing.article_links, listing.dates):
            _reveal(commented)
            listing.article_links, listing.dates = _main_list(root, resolve, set(listing.next_pages))
    if selectors and selectors.next_page:
        here = urlunsplit(urlsplit(url)._replace(fragment=""))
        further = _selected_list(root, selectors.next_page, resolve)[0]
        listing.next_pages = [page for page in further if page != here]
        return listing
    listing.requests = _data_requests(text, base, url)
    feeds = _script_feeds(scripts, base)
    if (
        feeds
        and not (selectors and selectors.article_links)
        and not any(ARTICLE_URL_PATTERNS.search(link) for link in listing.article_links)
    ):
        # The list is filled from a JSON feed by script (gov.cn); what the static HTML links is chrome.
        listing.article_links, listing.dates = [], {}
        listing.child_listings = feeds
    return listing


def _is_javascript(script: lxml.etree._Element) -> bool:
    kind = (script.get("type") or "").strip().lower()
    return not kind or "javascript" in kind or "ecmascript" in kind or kind == "module"


def _looks_unlike_articles(links: list[str], dates: dict[str, str]) -> bool:
    """Whether a main list is no article list: under two links, none dated, none an article URL."""
    return len(links) < 2 or not (
        dates or any(ARTICLE_URL_PATTERNS.search(link) or DOCUMENT_URL.search(link) for link in links)
    )


def _commented_markup(root: lxml.etree._Element) -> list[lxml.etree._Element]:
    """Comments holding links, up to ``MAX_COMMENTED_MARKUP`` characters of them in document order."""
    found = []
    total = 0
    for comment in root.iter(lxml.etree.Comment):
        text = comment.text or ""
        if "<a" not in text or "href" not in text or comment.getparent() is None:
            continue
        total += len(text)
        if total > MAX_COMMENTED_MARKUP:
            break
        found.append(comment)
    return found


def _parsed_comment(comment: lxml.etree._Element) -> lxml.etree._Element | None:
    """A comment's markup parsed as a ``<div>`` (None when it parses to nothing)."""
    tree = _parse_html(f"<html><body><div>{comment.text or ''}</div></body></html>")
    body = tree.find("body") if tree is not None else None
    return body[0] if body is not None and len(body) else None


def _reveal(comments: list[lxml.etree._Element]) -> None:
    """Put each comment's markup in its place, as the page's script does when it renders it."""
    for comment in comments:
        parent = comment.getparent()
        fragment = _parsed_comment(comment)
        if parent is None or fragment is None:
            continue
        fragment.tail = comment.tail
        parent.replace(comment, fragment)


def _fragments(comments: list[lxml.etree._Element]) -> lxml.etree._Element:
    """The comments' markup parsed together into a tree of its own (the page's tree unchanged)."""
    markup = "".join(f"<div>{comment.text or ''}</div>" for comment in comments)
    tree = _parse_html(f"<html><body>{markup}</body></html>")
    return tree if tree is not None else lxml.etree.Element("html")


def _selected_list(
    root: lxml.etree._Element, selector: str, resolve: LinkResolver
) -> tuple[list[str], dict[str, str]]:
    """The links a profile selector picks (resolved, in page order) and the date shown beside each."""
    page = _PageLinks(resolve)
    links: list[str] = []
    dates: dict[str, str] = {}
    for anchor in selected_anchors(root, selector):
        link = page.target(anchor)
        if link is None:
            continue
        links.append(link)
        if link not in dates and (date := DATE_TEXT.search(text_content(page.item(anchor, link)))):
            dates[link] = " ".join(date.group(0).split())
    return _unique(links), dates


def _main_list(
    root: lxml.etree._Element, resolve: LinkResolver, listing_pages: Container[str]
) -> tuple[list[str], dict[str, str]]:
    """The article links of the page's main list (``listing_pages`` are further pages of the listing,
    never articles) and the dates shown beside them."""
    page = _PageLinks(resolve)
    groups: dict[tuple[str, ...], _Group] = {}
    for position, anchor in enumerate(root.iter("a")):
        link = page.target(anchor)
        if link is None or link in listing_pages:
            continue
        key, row = page.placement(anchor)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(penalty=page.chrome_penalty(anchor), first_position=position)
        title = " ".join((anchor.get("title") or text_content(anchor)).split())
        if link in group.link_set and not title:
            continue
        group.links.append(link)
        group.link_set.add(link)
        if row is not None and len(title) > group.rows.get(link, (None, -1))[1]:
            group.rows[link] = (row, len(title))
        if title:
            group.texts.append(title)
        if link not in group.dates:
            date = DATE_TEXT.search(text_content(page.item(anchor, link)))
            if date:
                group.dates[link] = " ".join(date.group(0).split())
    if not groups:
        return [], {}
    score, best = _best_group(groups.values(), page)
    if score <= 0:
        return [], {}
    longest: dict[object, tuple[int, str]] = {}
    for link, (row, length) in best.rows.items():
        if length > longest.get(row, (-1, ""))[0]:
            longest[row] = (length, link)
    keep = {link for _, link in longest.values()}
    links = [u for u in _unique(best.links) if u not in best.rows or u in keep]
    articles = [u for u in links if page.is_article(u)]
    if len(articles) * 2 >= len(links):
        # Items that also link their column ("[社会] title") keep only the article.
        links = [u for u in links if not page.is_navigation(u)]
    links = _without_undated_edges(links, best.dates)
    kept = set(links)
    return links, {u: d for u, d in best.dates.items() if u in kept}


def _without_undated_edges(links: list[str], dates: Container[str]) -> list[str]:
    """A dated list without the few undated links at its start and end.

    When every item from the first dated link to the last shows its date, the one or two undated
    links before or after them are furniture the same path reaches (a column tab or heading above the
    list, a "more" link or a footer's record-number link below it), not items — unless their URL has
    the dated items' shape: an item whose date is not shown (a pinned or withdrawn notice) is an item.
    """
    dated = [place for place, link in enumerate(links) if link in dates]
    if len(dated) < MIN_DATED_RUN:
        return links
    first, last = dated[0], dated[-1]
    if len(dated) != last - first + 1 or first > MAX_UNDATED_EDGE or len(links) - 1 - last > MAX_UNDATED_EDGE:
        return links
    shape = common_shape([links[place] for place in dated])
    edges = [*links[:first], *links[last + 1 :]]
    items = {link for link in edges if shape is not None and link_shape(link) == shape[0]}
    return [link for place, link in enumerate(links) if first <= place <= last or link in items]


def _best_group(groups: Iterable[_Group], page: _PageLinks) -> tuple[float, _Group]:
    """The highest-scoring group, the earliest on the page among equal scores.

    Scoring a group looks up the URL patterns of all its links. A group whose best possible score is
    below the best score so far cannot win, so groups are scored from the highest bound down until the
    bound falls below the best score.
    """
    bounded = sorted(((group.best_possible_score(), group) for group in groups), key=lambda pair: -pair[0])
    best_score, best = bounded[0][1].score(page), bounded[0][1]
    for bound, group in bounded[1:]:
        if bound < best_score:
            break
        score = group.score(page)
        if (score, -group.first_position) > (best_score, -best.first_position):
            best_score, best = score, group
    return best_score, best


def _records_listing(records: list[str], base: str) -> Listing:
    listing = Listing()
    resolve = LinkResolver(base)
    for record in records:
        fragment = _parse_html(f"<html><body>{record}</body></html>")
        if fragment is None:
            continue
        # The first link of a record is the article; others are its column or attachment.
        link = next(filter(None, (resolve(a.get("href") or "") for a in fragment.iter("a"))), None)
        if link is None:
            continue
        listing.article_links.append(link)
        date = DATE_TEXT.search(text_content(fragment))
        if date:
            listing.dates.setdefault(link, " ".join(date.group(0).split()))
    listing.article_links = _unique(listing.article_links)
    return listing


def _records_answer(text: str, url: str) -> Listing:
    """The articles of a data answer (a family's ``is_data_answer``: Hanweb's dataproxy XML)."""
    return _records_listing(_listed_records(text), url)


def _listed_records(text: str) -> list[str]:
    """The HTML fragments, one per article, a page or data answer carries (a family's ``listed_records``)."""
    for listed_records in families.LISTED_RECORDS:
        if records := listed_records(text):
            return records
    return []


def _data_requests(text: str, base: str, url: str) -> list[ListingRequest]:
    """The data requests a listing page's script makes for more of its list (a family's ``data_requests``)."""
    return [request for data_requests in families.DATA_REQUESTS for request in data_requests(text, base, url)]


def _script_feeds(scripts: str, base: str) -> list[str]:
    """The JSON feeds a listing page's scripts fill its list from (a family's ``script_feeds``)."""
    return _unique(feed for script_feeds in families.SCRIPT_FEEDS for feed in script_feeds(scripts, base))


def _json_listing(text: str, url: str) -> Listing:
    try:
        data = json.loads(text)
    except ValueError:
        return Listing()
    listing = Listing()
    resolve = LinkResolver(url)
    for record in _json_records(data):
        keys = {k.lower(): k for k in record}
        href = next((record[keys[k]] for k in ("url", "link", "href", "docpuburl") if k in keys), None)
        # JSON escapes can spell lone surrogates (``"\ud800"``), which no URL or database can hold.
        if not isinstance(href, str) or not (link := resolve(clean_text(href))):
            continue
        listing.article_links.append(link)
        for key in ("docrelpubtime", "pubdate", "publishtime", "pubtime", "date", "time", "created"):
            if key in keys and isinstance(record[keys[key]], str | int):
                listing.dates.setdefault(link, clean_text(str(record[keys[key]])))
                break
    listing.article_links = _unique(listing.article_links)
    return listing


def _json_records(data: object) -> list[dict[str, object]]:
    """The first list of objects with a URL-like key, searched breadth-first."""
    # A deque: popping the front of a list moves the rest, quadratic in a feed of many small values.
    queue = deque([data])
    while queue:
        value = queue.popleft()
        if isinstance(value, list):
            records = [v for v in value if isinstance(v, dict)]
            if records and any({"url", "link", "href"} & {k.lower() for k in r} for r in records):
                return records
            queue.extend(v for v in value if isinstance(v, dict | list))
        elif isinstance(value, dict):
            queue.extend(v for v in value.values() if isinstance(v, dict | list))
    return []


def _feed_listing(text: str, url: str) -> Listing:
    """RSS, Atom and sitemaps: every entry is an article; sitemap indexes list further sitemaps."""
    try:
        root = lxml.etree.fromstring(
            text.encode(), parser=lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
        )
    except lxml.etree.XMLSyntaxError:
        return Listing()
    if root is None:
        return Listing()
    listing = Listing()
    resolve = LinkResolver(url)
    entry_dates: dict[lxml.etree._Element | None, str | None] = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = _local_name(element.tag)
        parent = element.getparent()
        parent_name = _local_name(parent.tag) if parent is not None else ""
        target: str | None = None
        if name == "link" and parent_name in ("item", "entry"):
            target = element.get("href") or (element.text or "")
        elif name == "loc" and parent_name in ("url", "sitemap"):
            target = element.text or ""
        if target and (link := resolve(target)):
            (listing.child_listings if parent_name == "sitemap" else listing.article_links).append(link)
            if parent_name == "sitemap":
                continue
            # Read once per entry: an entry of thousands of links would read its children for each.
            if parent not in entry_dates:
                entry_dates[parent] = _sibling_text(
                    parent, ("pubdate", "published", "updated", "lastmod", "date")
                )
            if date := entry_dates[parent]:
                listing.dates.setdefault(link, date)
    listing.article_links = _unique(listing.article_links)
    listing.child_listings = _unique(listing.child_listings)
    return listing


def _local_name(tag: object) -> str:
    """An element's name without namespace or prefix, lower-cased: ``{…}date`` and a ``dc:date`` whose
    prefix the feed never declared (kept as the literal name in recover mode) are both ``date``."""
    return str(tag).rpartition("}")[2].rpartition(":")[2].lower()


def _sibling_text(parent: lxml.etree._Element | None, names: tuple[str, ...]) -> str | None:
    if parent is None:
        return None
    for child in parent:
        if isinstance(child.tag, str) and _local_name(child.tag) in names and child.text:
            return child.text.strip()
    return None

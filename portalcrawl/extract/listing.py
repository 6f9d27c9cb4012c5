"""Listing (column) pages: the main list's article links, further listing pages and data requests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html

from portalcrawl.extract.article import page_bytes
from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.pagination import next_listing_pages

# Article URLs of the CMS families we know; a link matching one is very likely an article.
ARTICLE_URL_PATTERNS = re.compile(
    "|".join(
        [
            r"/t20\d{6}_\d+\.s?html?$",  # TRS WCM
            r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html?$",  # Hanweb
            r"/art/\d{4}/art_[0-9a-f]{32}\.html?$",  # Hanweb jpaas
            r"/content_\d+\.s?html?$",  # gov.cn
            r"/\d{6}/[0-9a-f]{32}\.s?html?$",  # 集约化 cNNN/32-hex platforms
            r"/post_\d+\.html?$",  # gkmlpt
            r"/20\d{2}/\d{4}/\d+\.html?$",  # DedeCMS {Y}/{M}{D}/{aid}.html
            r"[/?&]aid=\d+",  # DedeCMS view.php
            r"/show-\d+-\d+(?:-\d+)?\.html?$",  # PHPCMS
            r"[?&]a=show\b",  # PHPCMS dynamic
            r"/showinfo-\d+-\d+(?:-\d+)?\.html?$",  # EmpireCMS
            r"ShowInfo\.php\?",  # EmpireCMS dynamic
            r"/show-\d+(?:-\d+)?\.html?$",  # DESTOON rewrite
            r"show(?:-htm)?[-.]php\?itemid=\d+|[?&]itemid=\d+",  # DESTOON dynamic
            r"/thread-\d+-\d+-\d+\.html?$",  # Discuz threads
            r"/(?:19|20)\d{2}[-/]?\d{1,2}[-/]?\d{1,2}/[^/]+\.s?html?$",  # dated paths
            r"/(?:19|20)\d{2}/\d{1,2}/\d{1,2}-[^/]+\.html?$",
            r"/\d{2}/\d{4}/\d{2}/[0-9A-Z]{16}\.html$",  # NetEase
            r"/article/[0-9A-Za-z]{8,}\.html$",
            r"/(?:post|p|detail|news|article|a)/[\w-]{4,}/?$",
        ]
    ),
    re.IGNORECASE,
)
DOCUMENT_URL = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|zip|rar|pptx?)$", re.IGNORECASE)
# Column, index and pager URLs: a list of these is navigation, not the main list.
NAVIGATION_URL = re.compile(
    r"(?:/|/index\.s?html?|/default\.s?html?|/list[\w-]*\.s?html?|/col/col\d+/(?:index\.html)?"
    r"|[?&](?:page|pageno|pagenum)=\d+|/forum-\d+-\d+\.html)$",
    re.IGNORECASE,
)
# Containers whose links are not the main list.
CHROME_MARKER = re.compile(
    r"nav|menu|footer|foot|header|head|top|crumb|friend|yqlj|links?\b|rank|hot|sidebar|side|"
    r"copyright|banner|share|tag|login|search|pager|pagination|page|fenye|related|recommend",
    re.IGNORECASE,
)
CHROME_TAGS = {"nav", "footer", "header", "aside", "select", "form"}
DATE_TEXT = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?<![\d.])\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2})?(?![\d.])"
)
ITEM_TAGS = {"li", "tr", "dd", "dt", "article"}
ROW_TAGS = {"li", "tr", "td", "th", "dd", "dt", "article"}
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
SKIPPED_HREF = re.compile(r"^\s*(?:javascript:|mailto:|tel:|#|$)", re.IGNORECASE)
HANWEB_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL | re.IGNORECASE)
HANWEB_TOTAL = re.compile(
    r"<totalrecord>\s*(\d+)\s*</totalrecord>|totalRecord\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE
)
HANWEB_PARAM = re.compile(r"var\s+param_\d+\s*=\s*\{(.*?)\}", re.DOTALL)
HANWEB_FIELDS = (
    "col",
    "appid",
    "webid",
    "path",
    "columnid",
    "sourceContentType",
    "unitid",
    "webname",
    "permissiontype",
)
HANWEB_PROXY = re.compile(r"(/module/(?:web/)?jpage/dataproxy\.jsp)")
HANWEB_GROUP = 45
HANWEB_PER_PAGE = 15
JSON_FEED_REF = re.compile(r"""["']([^"'\s<>]+\.json)(?:\?[^"'\s<>]*)?["']""")
MAX_HANWEB_GROUPS = 200


@dataclass(frozen=True)
class ListingRequest:
    """A data request a listing page makes from script (e.g. Hanweb's dataproxy POST)."""

    method: str
    url: str
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Listing:
    article_links: list[str] = field(default_factory=list)
    next_pages: list[str] = field(default_factory=list)
    requests: list[ListingRequest] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)


def extract_listing(html: str | bytes, url: str) -> Listing:
    """Read a listing response: HTML column page, Hanweb dataproxy XML, JSON feed, RSS/Atom or sitemap."""
    text = decode_html(html)[0] if isinstance(html, bytes) else html
    head = text.lstrip("\ufeff \t\r\n")[:400].lower()
    if head.startswith(("[", "{")):
        return _json_listing(text, url)
    if "<html" not in head and ("<datastore" in head or "<recordset" in head or "<record>" in head):
        return _hanweb_records(text, url)
    if re.search(r"<(?:rss|feed|urlset|sitemapindex|rdf:rdf)\b", head):
        return _feed_listing(text, url)
    return _html_listing(text, url)


def _absolute(href: str, base: str) -> str | None:
    href = href.strip()
    if SKIPPED_HREF.match(href):
        return None
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _unique(urls: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(urls))


UTF8_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8")


def _parse_html(text: str) -> lxml.html.HtmlElement | None:
    # The same UTF-8 bytes article extraction parses: no XML declaration, no control characters that
    # lxml refuses to keep in text and tails.
    try:
        return lxml.html.document_fromstring(page_bytes(text), parser=UTF8_HTML_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return None


def _base_url(root: lxml.html.HtmlElement, url: str) -> str:
    base = root.xpath("//base/@href")
    return urljoin(url, base[0].strip()) if base else url


def _item_of(anchor: lxml.html.HtmlElement, href: str, base: str) -> lxml.html.HtmlElement:
    """The list item around a link: the largest ancestor (a few levels up) holding no other link."""
    item = anchor
    for ancestor in list(anchor.iterancestors())[:4]:
        if ancestor.tag in ("ul", "ol", "table", "tbody", "body", "html", "dl"):
            break
        if _links_other_than(ancestor, href, base):
            break
        item = ancestor
        if ancestor.tag in ITEM_TAGS:
            break
    return item


def _links_other_than(element: lxml.html.HtmlElement, href: str, base: str) -> bool:
    # Stops at the first other link: ancestors of a link in a big page can hold thousands.
    for anchor in element.iter("a"):
        target = _absolute(anchor.get("href") or "", base)
        if target is not None and target != href:
            return True
    return False


def _signature(anchor: lxml.html.HtmlElement) -> tuple[str, ...]:
    """The tag path to a link, with ids and classes of containers; links of one list share it."""
    steps = []
    for element in [anchor, *anchor.iterancestors()]:
        tag = element.tag if isinstance(element.tag, str) else "?"
        if tag in PLAIN_ITEM_TAGS or tag in ("html", "body"):
            steps.append(tag)
            continue
        ident = re.sub(r"\d+", "N", element.get("id") or "")
        classes = re.sub(r"\d+", "N", " ".join(sorted((element.get("class") or "").split())))
        steps.append(f"{tag}#{ident}.{classes}")
    # Unclosed containers nest each list section inside the previous one; one list all the same.
    collapsed = [step for i, step in enumerate(steps) if i == 0 or step != steps[i - 1]]
    return tuple(reversed(collapsed))


def _chrome_penalty(anchor: lxml.html.HtmlElement) -> float:
    penalty = 1.0
    for element in anchor.iterancestors():
        if element.tag in CHROME_TAGS:
            penalty *= 0.3
        marker = f"{element.get('id') or ''} {element.get('class') or ''}"
        if marker.strip() and CHROME_MARKER.search(marker):
            penalty *= 0.6
    return max(penalty, 0.05)


@dataclass
class _Group:
    links: list[str] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    # (row element, text length) per link: a row's extra links ("New", "[活动]") are not articles.
    rows: dict[str, tuple[object, int]] = field(default_factory=dict)
    penalty: float = 1.0
    first_position: int = 0

    def score(self) -> float:
        count = len(set(self.links))
        if count < 2:
            return 0.0
        article_share = sum(
            bool(ARTICLE_URL_PATTERNS.search(u) or DOCUMENT_URL.search(u)) for u in set(self.links)
        )
        navigation_share = sum(bool(NAVIGATION_URL.search(u)) for u in set(self.links)) / count
        date_share = len(self.dates) / count
        text_lengths = sorted(len(t) for t in self.texts)
        median_text = text_lengths[len(text_lengths) // 2] if text_lengths else 0
        title_factor = min(median_text, 24) / 12
        quality = 0.3 + article_share / count * 1.5 + date_share * 1.5 + title_factor
        quality *= 1 - 0.8 * navigation_share
        return count * quality * self.penalty


def _html_listing(text: str, url: str) -> Listing:
    root = _parse_html(text)
    if root is None:
        return Listing()
    base = _base_url(root, url)
    scripts = "\n".join(s.text_content() for s in root.xpath("//script"))
    listing = Listing()

    records = HANWEB_RECORD.findall(text)
    if records:
        listing = _records_listing(records, base)
    else:
        listing.article_links, listing.dates = _main_list(root, base)

    listing.next_pages = next_listing_pages(root, scripts, base, url)
    listing.requests = _hanweb_requests(text, base, url)
    feeds = _json_feeds(scripts, base)
    if feeds and not any(ARTICLE_URL_PATTERNS.search(link) for link in listing.article_links):
        # The list is filled from a JSON feed by script (gov.cn); what the static HTML links is chrome.
        listing.article_links, listing.dates = [], {}
        listing.next_pages = _unique([*listing.next_pages, *feeds])
    return listing


def _main_list(root: lxml.html.HtmlElement, base: str) -> tuple[list[str], dict[str, str]]:
    for junk in root.xpath("//script|//style|//noscript|//template"):
        junk.drop_tree()
    groups: dict[tuple[str, ...], _Group] = {}
    for position, anchor in enumerate(root.iter("a")):
        link = _absolute(anchor.get("href") or "", base)
        if link is None:
            continue
        group = groups.get(key := _signature(anchor))
        if group is None:
            group = groups[key] = _Group(penalty=_chrome_penalty(anchor), first_position=position)
        title = " ".join((anchor.get("title") or anchor.text_content()).split())
        if link in group.links and not title:
            continue
        group.links.append(link)
        row = next((a for a in anchor.iterancestors() if a.tag in ROW_TAGS), None)
        if row is not None and len(title) > group.rows.get(link, (None, -1))[1]:
            group.rows[link] = (row, len(title))
        if title:
            group.texts.append(title)
        item_text = _item_of(anchor, link, base).text_content()
        date = DATE_TEXT.search(item_text)
        if date and link not in group.dates:
            group.dates[link] = " ".join(date.group(0).split())
    if not groups:
        return [], {}
    best = max(groups.values(), key=lambda g: (g.score(), -g.first_position))
    if best.score() <= 0:
        return [], {}
    longest: dict[object, tuple[int, str]] = {}
    for link, (row, length) in best.rows.items():
        if length > longest.get(row, (-1, ""))[0]:
            longest[row] = (length, link)
    keep = {link for _, link in longest.values()}
    links = [u for u in _unique(best.links) if u not in best.rows or u in keep]
    articles = [u for u in links if ARTICLE_URL_PATTERNS.search(u) or DOCUMENT_URL.search(u)]
    if len(articles) * 2 >= len(links):
        # Items that also link their column ("[社会] title") keep only the article.
        links = [u for u in links if not NAVIGATION_URL.search(u)]
    return links, {u: d for u, d in best.dates.items() if u in links}


def _records_listing(records: list[str], base: str) -> Listing:
    listing = Listing()
    for record in records:
        fragment = _parse_html(f"<html><body>{record}</body></html>")
        if fragment is None:
            continue
        anchors = [a for a in fragment.iter("a") if _absolute(a.get("href") or "", base)]
        if not anchors:
            continue
        # The first link of a record is the article; others are its column or attachment.
        link = _absolute(anchors[0].get("href") or "", base)
        assert link is not None
        listing.article_links.append(link)
        date = DATE_TEXT.search(fragment.text_content())
        if date:
            listing.dates.setdefault(link, " ".join(date.group(0).split()))
    listing.article_links = _unique(listing.article_links)
    return listing


def _hanweb_records(text: str, url: str) -> Listing:
    return _records_listing(HANWEB_RECORD.findall(text), url)


def _hanweb_requests(text: str, base: str, url: str) -> list[ListingRequest]:
    """Dataproxy POSTs for the record groups after the first, built from ``var param_N = {…}``."""
    params = HANWEB_PARAM.search(text)
    proxy = HANWEB_PROXY.search(text)
    total_match = HANWEB_TOTAL.search(text)
    if not (params and proxy and total_match):
        return []
    form: dict[str, str] = {}
    for name in HANWEB_FIELDS:
        value = re.search(rf"\b{name}\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([\w.-]+))", params.group(1))
        if value:
            form[name] = next(v for v in value.groups() if v is not None)
    total = int(total_match.group(1) or total_match.group(2))
    endpoint = urljoin(base, proxy.group(1))
    headers = {"X-Requested-With": "XMLHttpRequest", "Referer": url}
    requests = []
    for start in range(HANWEB_GROUP + 1, total + 1, HANWEB_GROUP)[:MAX_HANWEB_GROUPS]:
        query = urlencode(
            {"startrecord": start, "endrecord": start + HANWEB_GROUP - 1, "perpage": HANWEB_PER_PAGE}
        )
        requests.append(ListingRequest("POST", f"{endpoint}?{query}", dict(form), dict(headers)))
    return requests


def _json_feeds(scripts: str, base: str) -> list[str]:
    return _unique(u for m in JSON_FEED_REF.finditer(scripts) if (u := _absolute(m.group(1), base)))


def _json_listing(text: str, url: str) -> Listing:
    try:
        data = json.loads(text)
    except ValueError:
        return Listing()
    listing = Listing()
    for record in _json_records(data):
        keys = {k.lower(): k for k in record}
        href = next((record[keys[k]] for k in ("url", "link", "href", "docpuburl") if k in keys), None)
        if not isinstance(href, str) or not (link := _absolute(href, url)):
            continue
        listing.article_links.append(link)
        for key in ("docrelpubtime", "pubdate", "publishtime", "pubtime", "date", "time", "created"):
            if key in keys and isinstance(record[keys[key]], str | int):
                listing.dates.setdefault(link, str(record[keys[key]]))
                break
    listing.article_links = _unique(listing.article_links)
    return listing


def _json_records(data: object) -> list[dict[str, object]]:
    """The first list of objects with a URL-like key, searched breadth-first."""
    queue = [data]
    while queue:
        value = queue.pop(0)
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
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = lxml.etree.QName(element).localname.lower()
        parent = element.getparent()
        parent_name = lxml.etree.QName(parent).localname.lower() if parent is not None else ""
        target: str | None = None
        if name == "link" and parent_name in ("item", "entry"):
            target = element.get("href") or (element.text or "")
        elif name == "loc" and parent_name in ("url", "sitemap"):
            target = element.text or ""
        if target and (link := _absolute(target, url)):
            (listing.next_pages if parent_name == "sitemap" else listing.article_links).append(link)
            date = _sibling_text(parent, ("pubdate", "published", "updated", "lastmod", "date"))
            if date and parent_name != "sitemap":
                listing.dates.setdefault(link, date)
    listing.article_links = _unique(listing.article_links)
    listing.next_pages = _unique(listing.next_pages)
    return listing


def _sibling_text(parent: lxml.etree._Element | None, names: tuple[str, ...]) -> str | None:
    if parent is None:
        return None
    for child in parent:
        if isinstance(child.tag, str) and lxml.etree.QName(child).localname.lower() in names and child.text:
            return child.text.strip()
    return None

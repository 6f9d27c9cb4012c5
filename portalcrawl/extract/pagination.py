"""Further pages of a listing, in follow order: next links (on the page, then written by its pager
scripts), ``javascript:`` pager links, script page sequences, then numbered pagers.

The classes of pagers read, each stated once:

- **Next links**: an anchor (or ``<link rel=next>``) whose text, ``title`` or image ``alt`` says next
  page (``下一页``, ``[下一页]``, ``下一页>>``, ``next ›`` …: the word with its decoration stripped) or
  whose class/id/rel says next.
- **Links a pager script writes** (TRS ``countPage`` templates, inline ``createPageHTML`` and other
  functions): the script's string pieces joined with the values the page gives
  (``extract.pager_scripts``), read as the page's own HTML; so the name and extension of
  ``index_1.shtml`` come from the script. Reverse-numbered pagers (``index_958_198.html`` after
  ``index_958.html``) are read the same way: what the links say is followed, never a guessed number.
- **``javascript:`` pager links** (``javascript:gotoPage('2')``, ``onclick="goto(2)"``,
  ``onclick="location.href='list_2.html'"``) that say next page (or number the pages): the link's own
  script, or the page's function evaluated with the link's arguments, and the location it sets is the
  page; a function that fills a GET form's field and submits it gives the form's
  URL; a function the page does not define (an external script) changes the page number in the
  listing's own query (``?page=1`` → ``?page=2``) when it has one.
- **Page selects** (``<select onchange="location.href=this.value">`` of ``第2页`` options): the option
  after the selected one (or after the one for this page), whatever its number: a reverse-numbered
  column's page 2 is ``index_958_198.html``.
- **Script page sequences** (``createPageHTML(count, current, name, ext)``, any call of a pager
  function an external script defines with such arguments as the page gives them, ``countPage`` with
  ``currentPage``): ``name_N.ext`` for the pages after the current one, both numbering bases; the name
  and extension the script writes (its next link, or the ``"list" + "_" + n + "." + "htm"`` of its
  numbered links) win over the page URL's.
- **Numbered pagers**: page-number links inside a pager container or next to other numbers, ascending.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import islice
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.etree

from portalcrawl.extract import families
from portalcrawl.extract.content import text_content
from portalcrawl.extract.html import HTML_PARSER, page_bytes
from portalcrawl.extract.links import SKIPPED_HREF
from portalcrawl.extract.pager_scripts import HOLE, PagerScripts, PageSequence, Value, pager_scripts

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
# Next-page words once their decoration (brackets, arrows, guillemets) is stripped.
NEXT_WORDS = {"下一页", "下页", "下一頁", "后页", "後頁", "next", "next page", "nextpage"}
MAX_NEXT_TEXT = 16
NEXT_DECORATION = "[]【】()（）<>《》«»‹›〉〈>→ \u00a0·.。:："
NEXT_MARKER = re.compile(r"\bnext\b|\bnxt\b|next[-_]?page|pagenext|page[-_]next", re.IGNORECASE)
PAGE_NUMBER = re.compile(r"^\[?\s*(\d{1,5})\s*\]?$")
PAGER_CONTAINER = re.compile(r"page|pag|pg\b|fenye|fy\b|pages|paging|pager|nav", re.IGNORECASE)
# The pager script generates at most this many candidates past the current page per listing page.
MAX_SCRIPT_CANDIDATES = 500
# ``javascript:gotoPage('2')``, ``goto(2, 'list')``: the function and its arguments.
SCRIPT_CALL = re.compile(
    r"^\s*(?:javascript:)?\s*(?:return\s+)?([A-Za-z_$][\w$.]*)\s*\(([^()]*)\)", re.IGNORECASE
)
CALL_ARGUMENT = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|(-?\d+)|([\w$.]+))\s*(?:,|$)""")
# Query parameters that hold a listing's page number.
PAGE_PARAMETER = re.compile(
    r"^(?:page|pageno|page_no|pagenum|pagenumber|pageindex|page_index|curpage|currpage|currentpage|cpage|pn|p)$",
    re.IGNORECASE,
)
# A page select's option: ``2``, ``第2页``, ``2/199``.
PAGE_OPTION = re.compile(r"^(?:第\s*)?\d{1,5}(?:\s*页)?(?:\s*/\s*\d{1,5})?$")
# Options of a page select read (the current page's is among the first on any page worth paging from).
MAX_SELECT_OPTIONS = 5000
# Distinct ``javascript:`` pager calls evaluated a page.
MAX_PAGER_CALLS = 20
# A script pager sequence's page name and extension, as its script writes them (``index_1.shtml``).
SEQUENCE_PAGE = re.compile(r"(?:^|/)(\w+)_\d+\.(s?html?|jsp|aspx?|php)$", re.IGNORECASE)
SEQUENCE_TEMPLATE = re.compile(rf"(\w+)_{HOLE}\.(s?html?|jsp|aspx?|php)\b", re.IGNORECASE)


def next_listing_pages(
    root: lxml.etree._Element, scripts: list[str], resolve: Callable[[str], str | None], url: str
) -> list[str]:
    """Absolute further listing pages, the likeliest next page first. ``resolve`` makes an href an
    absolute http(s) URL without fragment (or None), against the page's base; ``scripts`` are the
    page's inline scripts.

    Script pagers are emitted as candidates for both 0-based and 1-based numbering: the spider
    follows them in order and stops on 404 or a page without new links, so the count is never trusted
    alone.
    """
    here = _without_fragment(url)
    texts = {anchor: _text(anchor) for anchor in root.iter("a")}
    static_next = [page for page in _next_links(root, texts, resolve) if page != here]
    joined = "\n".join(scripts)
    literal_sequence = next((found for hook in families.PAGER_CALLS if (found := hook(joined))), None)
    # A page whose own markup links its next page, or whose pager call spells out its sequence
    # (a family's ``pager_call``: TRS's createPageHTML), needs no script read (most pages: that keeps
    # them cheap).
    evaluated = PagerScripts() if static_next or literal_sequence else pager_scripts(scripts, url)
    written = _written_pager(evaluated)
    written_texts = {anchor: _text(anchor) for anchor in written.iter("a")} if written is not None else {}
    script_next = _next_links(written, written_texts, resolve) if written is not None else []
    calls = _PagerCalls(root, evaluated, resolve, url)
    pages = [
        *static_next,
        *script_next,
        *(calls.pages(texts) if not static_next else []),
        *calls.pages(written_texts),
        *_select_pager_next(root, resolve, here),
        *(_select_pager_next(written, resolve, here) if written is not None else []),
        *_script_pages(joined, literal_sequence, url, script_next, evaluated),
        *_numbered_links(texts, resolve),
    ]
    return [p for p in dict.fromkeys(pages) if p != here]


def _written_pager(evaluated: PagerScripts) -> lxml.etree._Element | None:
    """What the pager scripts could write, parsed as HTML (None when they write nothing)."""
    if not evaluated.written:
        return None
    markup = "".join(evaluated.written)
    try:
        written: lxml.etree._Element | None = lxml.etree.fromstring(
            page_bytes(f"<html><body>{markup}</body></html>"), HTML_PARSER
        )
    except ValueError:
        return None
    return written


def _select_pager_next(
    root: lxml.etree._Element, resolve: Callable[[str], str | None], here: str
) -> list[str]:
    """The page after the current one in each select whose options number the pages."""
    found = []
    for select in root.iter("select"):
        options = list(islice((o for o in select.iter("option") if o.get("value")), MAX_SELECT_OPTIONS))
        pages = [o for o in options if PAGE_OPTION.match(" ".join(text_content(o).split()))]
        if len(pages) < 2 or len(pages) * 2 < len(options):
            continue
        links = [_link(o.get("value"), resolve) for o in pages]
        current = next((i for i, o in enumerate(pages) if o.get("selected") is not None), None)
        if current is None:
            current = next((i for i, link in enumerate(links) if link == here), None)
        if current is not None and current + 1 < len(links) and (link := links[current + 1]):
            found.append(link)
    return found


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def _link(href: str | None, resolve: Callable[[str], str | None]) -> str | None:
    # A hole is a value a script computes at run time: an href built from one is no page.
    if href is None or SKIPPED_HREF.match(href) or HOLE in href:
        return None
    return resolve(href)


def _text(anchor: lxml.etree._Element) -> str:
    """An anchor's text, squashed and lowercased; an image button's ``title`` or ``alt`` if it has none."""
    text = " ".join(text_content(anchor).split()).lower()
    if text:
        return text
    label = anchor.get("title") or next((img.get("alt") or "" for img in anchor.iter("img")), "")
    return " ".join(label.split()).lower()


def _says_next(text: str) -> bool:
    # A next link's text is short: a title is never stripped and looked up.
    return text in NEXT_TEXTS or (len(text) <= MAX_NEXT_TEXT and text.strip(NEXT_DECORATION) in NEXT_WORDS)


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
        if (_says_next(texts[anchor]) or NEXT_MARKER.search(marker) or anchor.get("rel") == "next") and (
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


def _script_pages(
    scripts: str,
    literal: PageSequence | None,
    url: str,
    written_next: list[str],
    evaluated: PagerScripts,
) -> list[str]:
    """The pages of a script pager's sequence: the page's literal pager call, else the call of a pager
    function the scripts define, else a family's page-count variables (``pager_variables``)."""
    sequence = (
        literal
        or evaluated.sequence
        or next((found for hook in families.PAGER_VARIABLES if (found := hook(scripts, url))), None)
    )
    if sequence is None:
        return []
    name, extension = sequence.name, sequence.extension
    # The page the script writes as next, else the pages it writes in a loop (``index_1.shtml``,
    # ``"index_" + i + ".shtml"``), name the sequence: no guessed extension.
    shape = next((m for link in written_next if (m := SEQUENCE_PAGE.search(urlsplit(link).path))), None)
    shape = shape or SEQUENCE_TEMPLATE.search(" ".join([*evaluated.written, *evaluated.joined]))
    if shape:
        name, extension = shape[1], shape[2]
    directory = urljoin(url, "./")
    last = min(sequence.count, sequence.current + 1 + MAX_SCRIPT_CANDIDATES)
    return [f"{directory}{name}_{n}.{extension}" for n in range(sequence.current + 1, last + 1)]


class _PagerCalls:
    """The pages ``javascript:`` pager links of one page open, each distinct call read once and at most
    ``MAX_PAGER_CALLS`` of them (a pager of thousands of such links costs no more)."""

    def __init__(
        self,
        root: lxml.etree._Element,
        evaluated: PagerScripts,
        resolve: Callable[[str], str | None],
        url: str,
    ) -> None:
        self.root, self.evaluated, self.resolve, self.url = root, evaluated, resolve, url
        self._forms: dict[str, lxml.etree._Element] | None = None
        self._opened: dict[tuple[str, tuple[Value, ...]], str | None] = {}

    def pages(self, texts: dict[lxml.etree._Element, str]) -> list[str]:
        """Next links first, then numbered ones ascending from the second page."""
        next_pages: list[str] = []
        numbered: list[tuple[int, str]] = []
        for anchor, text in texts.items():
            # The text first: most anchors are neither next links nor numbers, and it is known.
            says_next = _says_next(text)
            number = None if says_next else PAGE_NUMBER.match(text)
            if not (says_next or number):
                continue
            href = anchor.get("href") or ""
            code = anchor.get("onclick") or (href if href.lstrip()[:11].lower() == "javascript:" else "")
            if "location" in code or "window.open" in code:
                page = self.inline_page(code)
            elif (call := SCRIPT_CALL.match(code)) and (arguments := _call_arguments(call[2])):
                page = self.opened_page(call[1].rpartition(".")[2], arguments)
            else:
                continue
            if page is not None and says_next:
                next_pages.append(page)
            elif page is not None and number:
                numbered.append((int(number[1]), page))
        numbered.sort(key=lambda pair: pair[0])
        if numbered and numbered[0][0] <= 1:
            # Page 1 (0 when counted from 0) numbered like the rest opens the first page, not a further one.
            numbered = [pair for pair in numbered if pair[0] != numbered[0][0]]
        return [*next_pages, *(page for _, page in numbered)]

    def inline_page(self, code: str) -> str | None:
        """The page a link's own script opens (``onclick="location.href='list_2.html'"``)."""
        key = ("", (code,))
        if key not in self._opened:
            if len(self._opened) >= MAX_PAGER_CALLS:
                return None
            pages = (_link(target, self.resolve) for target in self.evaluated.inline_navigation(code))
            self._opened[key] = next(filter(None, pages), None)
        return self._opened[key]

    def opened_page(self, name: str, arguments: list[Value]) -> str | None:
        """The page a call opens: the location the page's function sets, else the GET form it fills
        and submits, else (the function is not on the page) the listing's own page-number parameter
        set to the call's number."""
        key = (name, tuple(arguments))
        if key not in self._opened:
            if len(self._opened) >= MAX_PAGER_CALLS:
                return None
            self._opened[key] = self._open(name, arguments)
        return self._opened[key]

    def _open(self, name: str, arguments: list[Value]) -> str | None:
        for target in self.evaluated.navigation(name, arguments):
            if (page := _link(target, self.resolve)) is not None:
                return page
        number = next((a for a in arguments if isinstance(a, int)), None)
        field = self.evaluated.submitted_field(name)
        if self._forms is None:
            self._forms = _fields_forms(self.root)
        if field is not None and field in self._forms and number is not None:
            return _form_page(self._forms[field], field, number, self.resolve)
        if name in self.evaluated.functions or number is None:
            return None
        return _with_page_parameter(self.url, number)


def _call_arguments(text: str) -> list[Value]:
    arguments: list[Value] = []
    for match in CALL_ARGUMENT.finditer(text):
        quoted, double_quoted, number, name = match.groups()
        if number is not None:
            arguments.append(int(number))
        elif name is not None:
            arguments.append(None)
        else:
            value = quoted if quoted is not None else double_quoted
            arguments.append(int(value) if value and value.isdigit() else value)
    return arguments


def _fields_forms(root: lxml.etree._Element) -> dict[str, lxml.etree._Element]:
    """GET forms by the names and ids of their fields."""
    forms: dict[str, lxml.etree._Element] = {}
    for form in root.iter("form"):
        if (form.get("method") or "get").lower() != "get":
            continue
        for control in form.iter("input", "select"):
            for key in (control.get("name"), control.get("id")):
                if key:
                    forms.setdefault(key, form)
    return forms


def _form_page(
    form: lxml.etree._Element, field: str, number: int, resolve: Callable[[str], str | None]
) -> str | None:
    """The GET form's URL with its fields as the page gives them and ``field`` set to ``number``."""
    action = resolve(form.get("action") or "")
    if action is None:
        return None
    query: list[tuple[str, str]] = []
    for control in form.iter("input", "select"):
        name = control.get("name")
        if not name or (control.get("type") or "").lower() in ("submit", "button", "image", "reset"):
            continue
        value = str(number) if field in (name, control.get("id")) else control.get("value") or ""
        query.append((name, value))
    parts = urlsplit(action)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _with_page_parameter(url: str, number: int) -> str | None:
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(PAGE_PARAMETER.match(key) for key, _ in pairs):
        return None
    query = urlencode([(key, str(number) if PAGE_PARAMETER.match(key) else value) for key, value in pairs])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

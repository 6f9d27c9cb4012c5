"""Visible text of an lxml tree as lines, and generic main-content scoring by text and punctuation density."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "aside",
        "nav",
        "form",
        "center",
        "hr",
        "figure",
        "figcaption",
        "main",
        "address",
        "fieldset",
        "caption",
    ]
)
CELL_TAGS = frozenset(("td", "th"))
# Never visible article text: code, form controls, embedded objects.
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "select",
        "option",
        "button",
        "textarea",
        "head",
        "title",
        "object",
        "embed",
        "svg",
        "canvas",
        "map",
        "audio",
        "video",
        "input",
    ]
)
# Only display:none: visibility:hidden is how WeChat and other script-revealed pages ship their body.
HIDDEN_STYLE = re.compile(r"display\s*:\s*none", re.IGNORECASE)
HIDDEN_CLASSES = frozenset(("ng-hide", "hidden", "hide", "d-none", "sr-only", "visually-hidden"))
# Page furniture that can sit inside an article container (share bars, print/close toolbars, pagers).
NOISE_WORDS = (
    r"share|bdshare|jiathis|print|toolbar|tool-bar|breadcrumbs?|crumbs?|position|location|comments?|recommend|"
    r"related|footer|header|nav|navbar|menu|sidebar|advert|ads?|qrcode|ewm|pager|pagination|copyright|fontsize|"
    r"gotop|backtop"
)
# Judged per class/id token: the word alone, as a prefix (share-box) or as a suffix (article-share);
# inside a longer token (js_img_share_area) it says nothing.
NOISE_HINT = re.compile(rf"^(?:{NOISE_WORDS})(?:[-_].*)?$|^.*[-_](?:{NOISE_WORDS})$", re.IGNORECASE)
# The region a print button prints (``print_content``, ``printArea``) is the article, not furniture.
PRINTED_REGION = re.compile(
    r"^print[-_]?(?:content|area|main|body|text|con|zone|page|region|part|wrap|article)", re.IGNORECASE
)
# Shown as nothing, but separating words like a space.
ZERO_WIDTH_SPACE = "\u200b"
BYTE_ORDER_MARK = "\ufeff"
# A line break in the HTML source is formatting, not a word gap: between CJK characters it is dropped,
# elsewhere it is a space. SOFT_BREAK marks it until lines are cleaned.
SOFT_BREAK = "\x01"
# A block boundary while text is collected; page_bytes removed every control character from the page.
LINE_BREAK = "\x02"
# What separates an element's text from its neighbours' (inline elements: a gap chosen per walk).
BOUNDARY = {**dict.fromkeys(CELL_TAGS, " "), **dict.fromkeys(BLOCK_TAGS, LINE_BREAK)}
SOURCE_BREAK = re.compile(r"[ \t\u3000\xa0]*[\r\n][\s\u3000\xa0]*")
CJK_SOFT_GAP = re.compile(rf"(?<=[\u3000-\u9fff\uff00-\uffef]){SOFT_BREAK}+(?=[\u3000-\u9fff\uff00-\uffef])")
SENTENCE_PUNCTUATION = re.compile(r"[。！？!?]|\.(?=\s|$)")
PUNCTUATION = re.compile(r"[，。！？；、,.!?;:：“”]")
# Cells are scored through their row.
PARAGRAPH_SCAN_TAGS = ("p", "pre", "tr", "blockquote", "li", "dd", "section", "div")
BLOCK_CHILD_TAGS = BLOCK_TAGS - {"br"}
MIN_PARAGRAPH_CHARS = 20
MIN_ROW_CHARS = 8
ROW_GROUP_TAGS = frozenset(("tbody", "thead", "tfoot"))


@dataclass
class PageIndex:
    """Lookups built once per page, shared by every stage."""

    by_id: dict[str, list[etree._Element]] = field(default_factory=dict)
    by_class: dict[str, list[etree._Element]] = field(default_factory=dict)
    headings: list[etree._Element] = field(default_factory=list)
    pubtime: list[etree._Element] = field(default_factory=list)
    # Elements whose text is never shown, and share/print/pager furniture (``is_hidden``, ``is_noise``).
    hidden: set[etree._Element] = field(default_factory=set)
    noise: set[etree._Element] = field(default_factory=set)
    _hidden_or_noise: set[etree._Element] | None = field(default=None, init=False, repr=False)
    _noise_holders: set[etree._Element] | None = field(default=None, init=False, repr=False)

    def hidden_or_noise(self) -> set[etree._Element]:
        """``hidden | noise``, built once: every body candidate's text walk skips both."""
        if self._hidden_or_noise is None:
            self._hidden_or_noise = self.hidden | self.noise
        return self._hidden_or_noise

    def holds_noise(self, element: etree._Element) -> bool:
        """Whether furniture lies inside ``element``: one walk up from each furniture element for the
        page, not one per candidate (8,000 candidates and 8,000 share widgets took minutes)."""
        if self._noise_holders is None:
            holders: set[etree._Element] = set()
            for noise in self.noise:
                for ancestor in noise.iterancestors():
                    if ancestor in holders:
                        # Its ancestors were added with it.
                        break
                    holders.add(ancestor)
            self._noise_holders = holders
        return element in self._noise_holders


HEADING_TAGS = ("h1", "h2", "h3")
PUBTIME_HINT = re.compile(r"pubtime|pubday|publishtime|pubdate")
# A lower-cased class/id string can only name furniture if it holds one of these (a fast first test).
NOISE_WORD = re.compile(NOISE_WORDS.replace("s?", ""))


def index_page(tree: etree._Element) -> PageIndex:
    """Ids, class tokens, headline candidates, machine-readable pubtime elements (each in document
    order), and which elements are hidden or furniture."""
    index = PageIndex()
    # One walk in Python: faster than XPath predicates, which libxml2 evaluates node by node.
    for element in tree.iter():
        if element.tag in HEADING_TAGS:
            index.headings.append(element)
        attributes = element.attrib
        if not attributes:
            continue
        ident = attributes.get("id") or ""
        classes = attributes.get("class") or ""
        tokens = classes.split()
        if _hides(attributes.get("style"), attributes.get("hidden"), tokens):
            index.hidden.add(element)
        if not (ident or classes):
            continue
        if ident:
            index.by_id.setdefault(ident, []).append(element)
        for token in tokens:
            index.by_class.setdefault(token, []).append(element)
        # The string ``is_noise`` builds, so both share one remembered verdict.
        marker = f"{classes} {ident}"
        if is_noise_marker(marker):
            index.noise.add(element)
        hint = marker.lower()
        if "title" in hint and element.tag not in HEADING_TAGS:
            index.headings.append(element)
        if "pub" in hint and PUBTIME_HINT.search(hint):
            index.pubtime.append(element)
    return index


def positions(tree: etree._Element, elements: Iterable[etree._Element | None]) -> dict[etree._Element, int]:
    """The document-order place of each of ``elements`` (``None`` ignored), in one walk that stops at
    the last of them: a map of every element cost more than the few that need it."""
    wanted = {element for element in elements if element is not None}
    found: dict[etree._Element, int] = {}
    if not wanted:
        return found
    for place, element in enumerate(tree.iter()):
        if element in wanted:
            found[element] = place
            if len(found) == len(wanted):
                break
    return found


def text_content(element: etree._Element) -> str:
    """All text inside ``element``, hidden or not, as lxml.html's ``text_content()`` returns it.

    Pages are parsed with the plain etree parser, whose element proxies are built in C (lxml.html looks
    each one up in Python); libxml2's text serialiser is also cheaper than an XPath ``string()``, and an
    element without children (most links) is its own text.
    """
    if not len(element):
        return element.text or ""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)


def inline_scripts(tree: etree._Element) -> Iterator[str]:
    """The text of each inline script (no ``src``) of the page, in document order."""
    for script in tree.iter("script"):
        if script.text and script.get("src") is None:
            yield script.text


def drop_trees(elements: Iterable[etree._Element]) -> None:
    """Remove elements (in document order) but keep their tail texts, as lxml.html's ``drop_tree``
    does one by one.

    The tails of a run of removed siblings all go to the same text (the previous kept sibling's tail, or
    the parent's text): each receiving text is joined once, at the end. Appending tail by tail copied
    the growing text every time, and 40,000 dropped scripts in one ``<div>`` took 40 s.
    """
    pieces: dict[tuple[etree._Element, str], list[str]] = {}
    for element in elements:
        parent = element.getparent()
        if parent is None:
            continue
        if element.tail:
            previous = element.getprevious()
            receiver = (previous, "tail") if previous is not None else (parent, "text")
            pieces.setdefault(receiver, []).append(element.tail)
        parent.remove(element)
    for (node, attribute), texts in pieces.items():
        setattr(node, attribute, "".join([getattr(node, attribute) or "", *texts]))


def clear_caches() -> None:
    """Forget what the per-line caches remember (benchmarks time pages as if first seen)."""
    _nfkc_line.cache_clear()
    is_noise_marker.cache_clear()


# Lines up to this long are remembered; whole texts (content hashes) are not worth keeping.
NFKC_CACHED_LENGTH = 300


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, remembered for short strings: on a Chinese line it costs
    ~20 us, and a portal's navigation, meta-line labels and footer repeat on every page."""
    if len(text) > NFKC_CACHED_LENGTH:
        return unicodedata.normalize("NFKC", text)
    return _nfkc_line(text)


@lru_cache(maxsize=16384)
def _nfkc_line(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def clean_line(text: str, *, join_cjk: bool = True) -> str:
    """Collapse whitespace (full-width spaces, nbsp included); drop source line breaks between CJK
    characters unless ``join_cjk`` is false (meta lines, where any gap may separate a value from the
    next label). Real spaces (``蔡长伟 高健``) are kept."""
    if SOFT_BREAK in text:
        if join_cjk:
            text = CJK_SOFT_GAP.sub("", text)
        text = text.replace(SOFT_BREAK, " ")
    if ZERO_WIDTH_SPACE in text or BYTE_ORDER_MARK in text:
        text = text.replace(ZERO_WIDTH_SPACE, " ").replace(BYTE_ORDER_MARK, " ")
    # str.split() splits on exactly the whitespace ``\s`` matches, full-width space and nbsp included.
    return " ".join(text.split())


def is_hidden(element: etree._Element) -> bool:
    """Hidden by inline style, the ``hidden`` attribute or a conventional hiding class."""
    if not element.attrib:
        return False
    return _hides(element.get("style"), element.get("hidden"), (element.get("class") or "").split())


def _hides(style: str | None, hidden: str | None, class_tokens: list[str]) -> bool:
    """The test of ``is_hidden`` on an element's style, ``hidden`` attribute and class tokens (which
    ``index_page`` has read already)."""
    return (
        bool(style and HIDDEN_STYLE.search(style))
        or hidden is not None
        or not HIDDEN_CLASSES.isdisjoint(class_tokens)
    )


def is_noise(element: etree._Element) -> bool:
    """A share/print/pager/related block, judged from its class and id."""
    return is_noise_marker(f"{element.get('class') or ''} {element.get('id') or ''}")


# The same few class and id strings come back on every page of a portal.
@lru_cache(maxsize=4096)
def is_noise_marker(marker: str) -> bool:
    """Whether any class or id token in ``marker`` names page furniture."""
    return bool(NOISE_WORD.search(marker.lower())) and any(
        NOISE_HINT.match(t) and not PRINTED_REGION.match(t) for t in marker.split()
    )


def _walk(
    element: etree._Element, out: list[str], skipped: Collection[etree._Element], inline_gap: str
) -> None:
    # The hottest loop of extraction: every element of the page, several times. Text is appended raw;
    # ``text_lines`` turns source line breaks into soft breaks once, over the joined text.
    append = out.append
    for child in element:
        tag = child.tag
        # A comment's tag is a function, in no set of names.
        if tag in SKIP_TAGS or not isinstance(tag, str) or child in skipped:
            tail = child.tail
            if tail:
                append(tail)
            continue
        boundary = BOUNDARY.get(tag, inline_gap)
        append(boundary)
        text = child.text
        if text:
            append(text)
        if len(child):
            _walk(child, out, skipped, inline_gap)
        append(boundary)
        tail = child.tail
        if tail:
            append(tail)


def text_lines(
    element: etree._Element,
    *,
    drop_noise: bool = False,
    join_cjk: bool = True,
    index: PageIndex | None = None,
) -> list[str]:
    """The element's visible text, one line per block element, whitespace collapsed, empty lines dropped.

    With ``join_cjk=False`` (meta lines) inline elements are also separated by a space, so that a
    value in one ``<span>`` does not run into the label of the next. ``index`` (of the element's page)
    saves judging every element's visibility again.
    """
    if index is None:
        index = index_page(element)
    skipped = index.hidden_or_noise() if drop_noise else index.hidden
    out: list[str] = [element.text or ""]
    _walk(element, out, skipped, "" if join_cjk else " ")
    lines = []
    for raw in "".join(out).split(LINE_BREAK):
        if not raw or raw.isspace():
            continue
        # A run of whitespace holding a source line break is one soft break.
        piece = SOURCE_BREAK.sub(SOFT_BREAK, raw) if "\n" in raw or "\r" in raw else raw
        if line := clean_line(piece, join_cjk=join_cjk):
            lines.append(line)
    return lines


def joined_text(element: etree._Element, index: PageIndex | None = None) -> str:
    """The element's visible text on one line; its lines are joined without a gap between CJK characters."""
    return clean_line(SOFT_BREAK.join(text_lines(element, index=index)))


def _link_chars(element: etree._Element) -> int:
    return sum(len(clean_line(text_content(a))) for a in element.iter("a"))


def _visible(element: etree._Element | None, cache: dict[etree._Element, bool]) -> bool:
    """Neither the element nor an ancestor is hidden or page furniture (memoised up the tree)."""
    if element is None:
        return True
    known = cache.get(element)
    if known is None:
        known = not (is_hidden(element) or is_noise(element)) and _visible(element.getparent(), cache)
        cache[element] = known
    return known


def _has_block_children(element: etree._Element) -> bool:
    # A comment's tag is a function, which no set of names contains.
    return any(child.tag in BLOCK_CHILD_TAGS for child in element)


def _iter_paragraphs(root: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """Text blocks of at least ``MIN_PARAGRAPH_CHARS`` with their text: ``<p>``; other blocks holding no
    blocks (a table row's cells count as one paragraph, from ``MIN_ROW_CHARS``); and a block's own loose
    text when it mixes text with child blocks."""
    for element in root.iter(*PARAGRAPH_SCAN_TAGS):
        if element.tag != "p" and _has_block_children(element):
            # Its own loose text (``<div>text<br>text</div>``): its text and its children's tails.
            own = "".join([element.text or "", *(child.tail or "" for child in element)])
            # Cleaning only removes characters, so short raw text cannot make a paragraph.
            if len(own) >= MIN_PARAGRAPH_CHARS and len(own := clean_line(own)) >= MIN_PARAGRAPH_CHARS:
                yield element, own
            continue
        text = text_content(element)
        # A data-table row is a paragraph of short cells: several of them make one.
        least = MIN_ROW_CHARS if element.tag == "tr" and len(element) >= 2 else MIN_PARAGRAPH_CHARS
        if len(text) < least:
            continue
        if element.find(".//script") is not None:
            # A script's source is no text. A table-layout page's text cell often holds one (a font-size
            # or share script), so a row without nested tables is read without them; a layout row
            # holding the page's other tables is not a paragraph.
            if element.tag != "tr" or element.find(".//table") is not None:
                continue
            out: list[str] = []
            _walk(element, out, (), "")
            text = "".join(out).replace(LINE_BREAK, " ")
        text = clean_line(text)
        if len(text) >= least:
            yield element, text


def best_content_node(
    root: etree._Element, accept: Callable[[etree._Element], bool] | None = None
) -> etree._Element | None:
    """The element whose paragraphs carry the most prose, Readability-style.

    Each paragraph scores by its length and punctuation (prose has commas and full stops, link lists do
    not); the score goes to its parent and half to the grandparent; candidates are then discounted by
    their link density. Punctuation counts work for Chinese, English and German alike. A table row is
    one paragraph credited to its table (data tables have short cells and little punctuation). A
    candidate ``accept`` refuses (a box of disclaimers) gives way to the next best.
    """
    scores: dict[etree._Element, float] = {}
    for paragraph, text in _iter_paragraphs(root):
        links = _link_chars(paragraph)
        if links > len(text) * 0.5:
            continue
        score = 1 + len(PUNCTUATION.findall(text)) + min(len(text) / 100, 3)
        parent = paragraph.getparent()
        if paragraph.tag == "tr" and parent is not None and parent.tag in ROW_GROUP_TAGS:
            parent = parent.getparent()
        if paragraph.tag in ("div", "section") or parent is None or _has_block_children(paragraph):
            scores[paragraph] = scores.get(paragraph, 0.0) + score
            parent = paragraph
        else:
            scores[parent] = scores.get(parent, 0.0) + score
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] = scores.get(grandparent, 0.0) + score / 2
    best: etree._Element | None = None
    best_score = 0.0
    cache: dict[etree._Element, bool] = {}
    # Link density only lowers a score, so candidates are visited best first and the walk stops once no
    # remaining raw score can beat the best discounted one (the whole-text measure is costly).
    for element, score in sorted(scores.items(), key=lambda item: item[1], reverse=True):
        if score <= best_score:
            break
        if element.tag in ("body", "html", "tr") or not _visible(element, cache):
            continue
        text_chars = len(clean_line(text_content(element))) or 1
        adjusted = score * (1 - min(_link_chars(element) / text_chars, 1.0))
        if adjusted > best_score and (accept is None or accept(element)):
            best, best_score = element, adjusted
    return best


def node_text_length(element: etree._Element, index: PageIndex | None = None) -> int:
    return len(joined_text(element, index))

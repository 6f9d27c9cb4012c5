"""Visible text of an lxml tree as lines, and generic main-content scoring by text and punctuation density."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree, html

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
WHITESPACE = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")
# A line break in the HTML source is formatting, not a word gap: between CJK characters it is dropped,
# elsewhere it is a space. SOFT_BREAK marks it until lines are cleaned.
SOFT_BREAK = "\x01"
SOURCE_BREAK = re.compile(r"[ \t\u3000\xa0]*[\r\n][\s\u3000\xa0]*")
CJK_SOFT_GAP = re.compile(rf"(?<=[\u3000-\u9fff\uff00-\uffef]){SOFT_BREAK}+(?=[\u3000-\u9fff\uff00-\uffef])")
SENTENCE_PUNCTUATION = re.compile(r"[。！？!?]|\.(?=\s|$)")
PUNCTUATION = re.compile(r"[，。！？；、,.!?;:：“”]")
PARAGRAPH_TAGS = ("p", "pre", "td", "tr", "blockquote", "li", "dd", "section")
MIN_PARAGRAPH_CHARS = 20


HEADING_TAGS = frozenset(("h1", "h2", "h3"))
PUBTIME_HINT = re.compile(r"pubtime|pubday|publishtime|pubdate", re.IGNORECASE)


@dataclass
class PageIndex:
    """Lookups built in one pass over the tree, shared by every stage."""

    order: dict[etree._Element, int] = field(default_factory=dict)
    by_id: dict[str, list[etree._Element]] = field(default_factory=dict)
    by_class: dict[str, list[etree._Element]] = field(default_factory=dict)
    headings: list[etree._Element] = field(default_factory=list)
    pubtime: list[etree._Element] = field(default_factory=list)


def index_page(tree: etree._Element) -> PageIndex:
    """Document order, ids, class tokens, headline candidates and machine-readable pubtime elements."""
    index = PageIndex()
    for position, element in enumerate(tree.iter()):
        tag = element.tag
        if not isinstance(tag, str):
            continue
        index.order[element] = position
        element_id = element.get("id")
        classes = element.get("class")
        if element_id:
            index.by_id.setdefault(element_id, []).append(element)
        if classes:
            for token in classes.split():
                index.by_class.setdefault(token, []).append(element)
        hint = f"{element_id or ''} {classes or ''}"
        if tag in HEADING_TAGS or "title" in hint.lower():
            index.headings.append(element)
        if (element_id or classes) and PUBTIME_HINT.search(hint):
            index.pubtime.append(element)
    return index


def clean_line(text: str, *, join_cjk: bool = True) -> str:
    """Collapse whitespace (full-width spaces, nbsp included); drop source line breaks between CJK
    characters unless ``join_cjk`` is false (meta lines, where any gap may separate a value from the
    next label). Real spaces (``蔡长伟 高健``) are kept."""
    if SOFT_BREAK in text:
        if join_cjk:
            text = CJK_SOFT_GAP.sub("", text)
        text = text.replace(SOFT_BREAK, " ")
    return WHITESPACE.sub(" ", text).strip()


def _source(text: str) -> str:
    return SOURCE_BREAK.sub(SOFT_BREAK, text) if "\n" in text or "\r" in text else text


def is_hidden(element: etree._Element) -> bool:
    """Hidden by inline style, the ``hidden`` attribute or a conventional hiding class."""
    if not element.attrib:
        return False
    style = element.get("style")
    if style and HIDDEN_STYLE.search(style):
        return True
    if element.get("hidden") is not None:
        return True
    classes = element.get("class")
    return bool(classes) and not HIDDEN_CLASSES.isdisjoint(classes.split())


def is_noise(element: etree._Element) -> bool:
    """A share/print/pager/related block, judged from its class and id."""
    tokens = f"{element.get('class') or ''} {element.get('id') or ''}".split()
    return any(NOISE_HINT.match(token) for token in tokens)


def _walk(element: etree._Element, out: list[str], drop_noise: bool, inline_gap: str) -> None:
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            if child.tail:
                out.append(_source(child.tail))
            continue
        if tag in SKIP_TAGS or is_hidden(child) or (drop_noise and is_noise(child)):
            if child.tail:
                out.append(_source(child.tail))
            continue
        boundary = "\n" if tag in BLOCK_TAGS else " " if tag in CELL_TAGS else inline_gap
        out.append(boundary)
        if child.text:
            out.append(_source(child.text))
        _walk(child, out, drop_noise, inline_gap)
        out.append(boundary)
        if child.tail:
            out.append(_source(child.tail))


def text_lines(element: etree._Element, *, drop_noise: bool = False, join_cjk: bool = True) -> list[str]:
    """The element's visible text, one line per block element, whitespace collapsed, empty lines dropped.

    With ``join_cjk=False`` (meta lines) inline elements are also separated by a space, so that a
    value in one ``<span>`` does not run into the label of the next.
    """
    out: list[str] = [_source(element.text or "")]
    _walk(element, out, drop_noise, "" if join_cjk else " ")
    lines = (clean_line(line, join_cjk=join_cjk) for line in "".join(out).split("\n"))
    return [line for line in lines if line]


def joined_text(element: etree._Element) -> str:
    """The element's visible text on one line; its lines are joined without a gap between CJK characters."""
    return clean_line(SOFT_BREAK.join(text_lines(element)))


def _link_chars(element: etree._Element) -> int:
    return sum(len(clean_line(a.text_content())) for a in element.iter("a"))


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
    return any(isinstance(c.tag, str) and c.tag in BLOCK_TAGS and c.tag != "br" for c in element)


def _own_text(element: etree._Element) -> str:
    """Text directly inside an element (its text and its children's tails): ``<div>text<br>text</div>``."""
    parts = [element.text or ""]
    parts += [child.tail or "" for child in element]
    return clean_line("".join(parts))


def _iter_paragraphs(root: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """Text blocks with their text: ``<p>``; other blocks holding no blocks (a table row's cells count as
    one paragraph); and a block's own loose text when it mixes text with child blocks."""
    for element in root.iter(*PARAGRAPH_TAGS, "div"):
        if element.tag == "td":
            continue
        if element.tag != "p" and _has_block_children(element):
            own = _own_text(element)
            if len(own) >= MIN_PARAGRAPH_CHARS:
                yield element, own
            continue
        if element.find(".//script") is None:
            yield element, clean_line(element.text_content())


def best_content_node(root: etree._Element) -> etree._Element | None:
    """The element whose paragraphs carry the most prose, Readability-style.

    Each paragraph scores by its length and punctuation (prose has commas and full stops, link lists do
    not); the score goes to its parent and half to the grandparent; candidates are then discounted by
    their link density. Punctuation counts work for Chinese, English and German alike.
    """
    scores: dict[etree._Element, float] = {}
    for paragraph, text in _iter_paragraphs(root):
        if len(text) < MIN_PARAGRAPH_CHARS:
            continue
        links = _link_chars(paragraph)
        if links > len(text) * 0.5:
            continue
        score = 1 + len(PUNCTUATION.findall(text)) + min(len(text) / 100, 3)
        parent = paragraph.getparent()
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
        text_chars = len(clean_line(element.text_content())) or 1
        adjusted = score * (1 - min(_link_chars(element) / text_chars, 1.0))
        if adjusted > best_score:
            best, best_score = element, adjusted
    return best


def node_text_length(element: html.HtmlElement) -> int:
    return len(joined_text(element))

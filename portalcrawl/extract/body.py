"""The body: its container (profile, CMS family, generic selectors, content scoring), text, HTML, images."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from lxml import etree

from portalcrawl.extract import content, families, metaline
from portalcrawl.extract.attachments import document_url, names_document
from portalcrawl.extract.boilerplate import is_boilerplate_line
from portalcrawl.extract.dates import DEFAULT_TIMEZONE
from portalcrawl.extract.lines import squash
from portalcrawl.extract.published import is_date_line
from portalcrawl.extract.selectors import select
from portalcrawl.extract.stages import Stage, cms_stage

if TYPE_CHECKING:
    from portalcrawl.profiles import SiteProfile

MIN_BODY_CHARS = 30
# A generic selector's match is left for one of its columns holding this share of its text outside
# links (the rest being link lists), at most this many levels down.
MAIN_COLUMN_SHARE = 0.8
MAX_COLUMN_DEPTH = 3
# A line ending like a sentence or clause is prose; one ending in a colon may be a meta row whose value
# a script fills in (``点击：``).
PROSE_END = re.compile(r"[，。！？；、,.!?;]$")
# Closing brackets and quotes after a sentence's full stop: ``（特此更正。）`` is still a sentence.
CLOSING_MARKS = "）)」』】]》〕”’\"'"
LEADING_META_LINES = 8
# A tiny line above the text is a counter, an icon or a tab (``12``, ``A+``, ``正文``), but the first
# header cell of a numbered table is where a table notice (公示, 处罚信息公开表) starts.
SERIAL_HEADER = re.compile(r"^(?:序号|编号|序)$")
# The label of a table of contents, which ``without_contents`` removes with its entries.
CONTENTS_LABEL = re.compile(r"^\s*目\s*录\s*[:：]?\s*$")
# A document number (``赣府厅字〔2024〕12号``) above a notice's text is its meta row, not its first line.
DOCUMENT_NUMBER = re.compile(
    r"^[\u4e00-\u9fff]{1,16}\s*[〔\[［(（【]\s*\d{4}\s*[〕\]］)）】]\s*第?\d{1,5}\s*号$"
)
# A notice's salutation (``各县（市、区）人民政府，市直各单位：``): organisations or people addressed,
# ended by a colon. It opens the text, also where a template renders it above the text's container.
ADDRESSEE = re.compile(
    r"^[^。！？；]{2,100}(?:政府|单位|部门|机关|机构|委员会|党委|党组|[委办局厅处室院校所站会]|公司|企业|学校|医院|"
    r"街道|乡镇|社区|同志|会员|人员|有关方面|各位)[:：]$"
)
SUMMARY_LABEL = re.compile(r"^\s*[【\[]?\s*(?:摘要|内容摘要|导读|提要|编者按|核心提示|划重点)")
LEAD_MIN_CHARS = 120
# The labels of a 信息公开 metadata block's rows (compared squashed: ``索 引 号`` is ``索引号``); the
# block opens within XXGK_BLOCK_WITHIN lines, holds MIN_XXGK_LABELS labels, and a label's value takes at
# most XXGK_VALUE_LINES lines.
XXGK_BLOCK_LABELS = (
    r"索引号|主题分类|组配分类|体裁分类|信息分类|服务对象|分类|发文机关|发布机构|责任部门|成文日期|发文日期|"
    r"发布日期|生成日期|施行日期|文号|发文字号|有效性|效力状态|标题|名称|主题词|关键词|公开方式|公开范围|"
    r"公开时限|信息来源|公文种类"
)
XXGK_ROW = re.compile(rf"^(?:{XXGK_BLOCK_LABELS})(?:[:：]|$)")
XXGK_BARE_LABEL = re.compile(rf"^(?:{XXGK_BLOCK_LABELS})[:：]?$")
XXGK_BLOCK_WITHIN = 3
MIN_XXGK_LABELS = 3
XXGK_VALUE_LINES = 2
# A headline block repeated atop the body: at most this many lines, each at most this long.
HEADLINE_BLOCK_LINES = 4
HEADLINE_CHARS = 60
HEADLINE_EXTRA_CHARS = 20
# A caption of a picture or video opening the body: how it starts or ends, and how long it may be.
CAPTION_START = re.compile(r"^(?:图为|图[:：]|图片[:：]|[▲△]|(?:视频|图集)\s*[-－—:：｜|])")
CAPTION_END = re.compile(r"[（(][^）)]{0,24}(?:摄|供图|资料图|视频截图|截图|图片来源[^）)]*)\s*[）)]$")
CAPTION_CHARS = 120
LEADING_CAPTIONS = 3
# A table of contents opening the body: where its label may sit, and what its entries look like.
CONTENTS_WITHIN = 5
CONTENTS_ENTRY_CHARS = 40
MIN_CONTENTS_ENTRIES = 3
# A closing list of links: at least this many link lines, each at most TRAILING_LINK_CHARS long, and
# headings of at most LIST_HEADING_CHARS between them (``图片新闻``, ``热点博客``), after at least
# TEXT_BEFORE_LINKS characters of text.
MIN_TRAILING_LINKS = 2
TEXT_BEFORE_LINKS = 100
TRAILING_LINK_CHARS = 60
LIST_HEADING_CHARS = 12
LINK_DATE = re.compile(
    r"\s*[\[(（【]?\d{2,4}[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?(?:\s+\d{1,2}:\d{2})?[\])）】]?$"
)
ORIGINAL_TITLE = re.compile(r"^(?:本文)?原标题\s*[:：]")
# Quotes a headline repeated in the body may write differently (``"上天"`` in the title, “上天” below).
QUOTES = str.maketrans("", "", "\"'“”‘’「」『』")


def headline_key(text: str) -> str:
    """``squash`` of a headline without its quotes: how a headline repeated atop the body is recognised."""
    return squash(text).translate(QUOTES)


def without_xxgk_block(lines: list[str]) -> list[str]:
    """The container's lines without a 信息公开 metadata block opening them (索引号, 主题分类, 发文机关,
    成文日期… as rows, cells or list items, each label with its value beside or below it)."""
    at = labels = 0
    last_label = -1
    # The first label within XXGK_BLOCK_WITHIN lines, each next one within XXGK_VALUE_LINES of it.
    while at < len(lines) and at - last_label <= (XXGK_VALUE_LINES if last_label >= 0 else XXGK_BLOCK_WITHIN):
        if XXGK_ROW.match(squash(lines[at])):
            last_label = at
            labels += 1
        at += 1
    if labels < MIN_XXGK_LABELS:
        return list(lines)
    end = last_label + 1
    # A label in a cell of its own has its value on the next line.
    if XXGK_BARE_LABEL.match(squash(lines[last_label])) and end < len(lines):
        end += 1
    return list(lines[end:])


def without_headline(lines: list[str], title: str | None) -> list[str]:
    """The container's lines without the headline repeated atop them: the title itself (quotes aside),
    or a headline block of several lines (引题, 主题, 副题) whose first line holds the title, up to
    ``HEADLINE_BLOCK_LINES`` short lines without punctuation."""
    title_key = headline_key(title or "")
    if not title_key:
        return list(lines)
    at = 0
    while at < len(lines) and headline_key(lines[at]) == title_key:
        at += 1
    first = headline_key(lines[0]) if at == 0 and lines and len(lines[0]) <= HEADLINE_CHARS else ""
    # The title with a few more words (``…座谈会强调``, a footnote mark), not a sentence telling it.
    rest = first.replace(title_key, "", 1) if title_key in first else None
    if rest is not None and len(rest) <= HEADLINE_EXTRA_CHARS and not content.PUNCTUATION.search(rest):
        at = 1
    if at:
        while (
            at < min(len(lines) - 1, HEADLINE_BLOCK_LINES)
            and len(lines[at]) <= HEADLINE_CHARS
            and not content.PUNCTUATION.search(lines[at])
            and not SERIAL_HEADER.match(lines[at])
            and not CONTENTS_LABEL.match(lines[at])
        ):
            at += 1
    return list(lines[at:])


NOISE_ELEMENTS = frozenset(
    ("meta", "link", "script", "style", "noscript", "iframe", "form", "button", "select", "input", "textarea")
)
KEPT_ATTRIBUTES = frozenset(("href", "src", "alt", "title", "colspan", "rowspan"))


def visible_candidates(elements: list[etree._Element], hidden: set[etree._Element]) -> list[etree._Element]:
    return [e for e in elements if e not in hidden and hidden.isdisjoint(e.iterancestors())]


def find_body(
    tree: etree._Element,
    index: content.PageIndex,
    family: families.Family | None,
    profile: SiteProfile | None,
    body_lines: dict[etree._Element, list[str]],
    *,
    url: str,
) -> tuple[etree._Element | None, str]:
    """The body container and the stage that found it; ``body_lines`` keeps the text lines of the
    candidates it had to read."""
    attempts: list[tuple[list[etree._Element], str]] = []
    if profile and profile.selectors.body:
        attempts.append((select(tree, profile.selectors.body), Stage.PROFILE))
    if family:
        attempts.append((families.first_match(index, family.body), cms_stage(family.name)))
    attempts.append((families.first_match(index, families.GENERIC_BODY), Stage.SELECTOR))
    # A short match (the last page of a multi-page article may hold one paragraph) is only trusted when
    # no prose is found anywhere else: a stray element with a body class must not beat the real body.
    short: tuple[etree._Element, str] | None = None
    for elements, stage in attempts:
        candidates = [
            (text_length(e, index, body_lines), e) for e in visible_candidates(elements, index.hidden)
        ]
        if long_enough := [c for c in candidates if c[0] >= MIN_BODY_CHARS]:
            chosen = max(long_enough, key=lambda c: c[0])[1]
            # A generic class names the article column on some portals, its wrapper on others.
            return (main_column(chosen, index, url) if stage == Stage.SELECTOR else chosen), stage
        if short is None:
            short = next(
                (
                    (e, stage)
                    for length, e in candidates
                    if length and has_article_text(e, 1, body_lines, index)
                ),
                None,
            )
    # Generic scoring must then find a real body, not a leftover meta line or disclaimer.
    least = MIN_BODY_CHARS if short else 1
    best = content.best_content_node(tree, accept=lambda e: has_article_text(e, least, body_lines, index))
    if short is not None and (best is None or best in short[0].iterancestors()):
        return short
    return best, Stage.GENERIC


def main_column(element: etree._Element, index: content.PageIndex, url: str) -> etree._Element:
    """The column of ``element`` that holds its text, when the rest is links to other pages: a wrapper
    around the article and a sidebar of related, hot or picture stories. Descends while one child
    holds ``MAIN_COLUMN_SHARE`` of the text outside such links and the other children's text is mostly
    such links (a block of document links, the article's attachments, keeps the wrapper)."""
    node = element
    for _ in range(MAX_COLUMN_DEPTH):
        measured = []
        for child in node:
            if (
                isinstance(child.tag, str)
                and child.tag not in content.SKIP_TAGS
                and child not in index.hidden
            ):
                text = len(content.joined_text(child, index))
                if text:
                    links = page_link_chars(child, url)
                    measured.append((max(text - links, 0), text, child))
        if len(measured) < 2:
            break
        unlinked = sum(m[0] for m in measured)
        main = max(measured, key=lambda m: m[0])
        rest_text = sum(m[1] for m in measured) - main[1]
        rest_unlinked = unlinked - main[0]
        if not unlinked or main[0] < MAIN_COLUMN_SHARE * unlinked or rest_unlinked * 2 > rest_text:
            break
        node = main[2]
    return node


def text_length(
    element: etree._Element, index: content.PageIndex, body_lines: dict[etree._Element, list[str]]
) -> int:
    """``content.node_text_length``. When no furniture lies inside the element, its lines without
    furniture are the same lines: they are kept in ``body_lines`` for the body text, saving a walk."""
    if index.holds_noise(element):
        return content.node_text_length(element, index)
    lines = body_lines[element] = content.text_lines(element, drop_noise=True, index=index)
    return len(content.clean_line(content.SOFT_BREAK.join(lines)))


def has_article_text(
    element: etree._Element,
    least: int,
    body_lines: dict[etree._Element, list[str]],
    index: content.PageIndex,
) -> bool:
    """Whether the element holds ``least`` characters besides leading meta rows and boilerplate lines."""
    lines = body_lines.get(element)
    if lines is None:
        lines = body_lines[element] = content.text_lines(element, drop_noise=True, index=index)
    _, rest = meta_line_body(lines, None, DEFAULT_TIMEZONE)
    total = 0
    for line in rest:
        if not is_boilerplate_line(line):
            total += len(line)
            if total >= least:
                return True
    return False


def meta_line_body(lines: list[str], now: datetime | None, tz: str) -> tuple[list[str], list[str]]:
    """Split off a body container's leading meta rows (date/source lines, share counters, toolbars)."""
    index = 0
    while index < min(len(lines), LEADING_META_LINES):
        line = lines[index]
        if len(line) > 120 or PROSE_END.search(line.rstrip(CLOSING_MARKS)) or "。" in line:
            break
        parsed = metaline.parse_meta_lines([line])
        is_meta = bool(parsed.date_lines) or parsed.source is not None or parsed.author is not None
        is_date = is_date_line(line, now, tz)
        is_counter = len(line) <= 3 and not (SERIAL_HEADER.match(line) or CONTENTS_LABEL.match(line))
        if not (is_meta or is_date or is_counter or is_boilerplate_line(line) or DOCUMENT_NUMBER.match(line)):
            break
        index += 1
    return lines[:index], lines[index:]


def addressee_above(between: list[str], body: list[str]) -> list[str]:
    """A notice's salutation rendered just above the body's container, which opens the text."""
    if not between or (body and ADDRESSEE.match(body[0])):
        return []
    line = between[-1]
    if ADDRESSEE.match(line) and not metaline.has_meta_label(line) and not is_boilerplate_line(line):
        return [line]
    return []


def without_leading_captions(lines: list[str]) -> list[str]:
    """The body's lines without the captions of the pictures or video that open it (up to
    ``LEADING_CAPTIONS``): ``图为…（刘通摄）``, ``视频-…``, ``…（资料图）``."""
    at = 0
    while at < min(LEADING_CAPTIONS, len(lines) - 1) and len(lines[at]) <= CAPTION_CHARS:
        line = lines[at]
        if not (CAPTION_START.match(line) or CAPTION_END.search(line)):
            break
        at += 1
    return lines[at:]


def without_contents(lines: list[str]) -> list[str]:
    """The body's lines without a leading table of contents: a 目录 line among the first
    ``CONTENTS_WITHIN`` lines (only headings above it), and its entries up to the first entry's
    heading repeated, or up to the first prose line."""
    label_at = next((at for at, line in enumerate(lines[:CONTENTS_WITHIN]) if CONTENTS_LABEL.match(line)), -1)
    if label_at < 0 or any(
        len(line) > CONTENTS_ENTRY_CHARS or content.SENTENCE_PUNCTUATION.search(line)
        for line in lines[:label_at]
    ):
        return lines
    entries = lines[label_at + 1 :]
    if not entries:
        return lines
    first_entry = squash(entries[0])
    for offset, entry in enumerate(entries[1:], start=1):
        if squash(entry) == first_entry:
            return entries[offset:]
        if len(entry) > CONTENTS_ENTRY_CHARS or content.SENTENCE_PUNCTUATION.search(entry):
            return entries[offset:] if offset >= MIN_CONTENTS_ENTRIES else lines
    return lines


def without_trailing_links(lines: list[str], node: etree._Element | None, url: str) -> list[str]:
    """The body's lines without a closing list of links to other pages (related, hot or recommended
    stories under a heading no word list knows): ``MIN_TRAILING_LINKS`` lines or more at the end that
    are each one link's text (a date beside it allowed), with their short headings, after
    ``TEXT_BEFORE_LINKS`` characters of text that do not announce them. Document links (attachments)
    and prose stay."""
    if node is None or len(lines) <= MIN_TRAILING_LINKS:
        return lines
    link_keys: set[str] | None = None
    start = len(lines)
    links = 0
    for at in range(len(lines) - 1, 0, -1):
        line = lines[at]
        if len(line) > TRAILING_LINK_CHARS:
            break
        if link_keys is None:
            link_keys = page_link_keys(node, url)
        if squash(LINK_DATE.sub("", line)) in link_keys:
            links += 1
        elif not (links and len(line) <= LIST_HEADING_CHARS and not content.PUNCTUATION.search(line)):
            break
        start = at
    # A list the text announces (``…情况如下：``), or that is most of it, is the text's own.
    if (
        links < MIN_TRAILING_LINKS
        or lines[start - 1].endswith((":", "："))
        or sum(len(line) for line in lines[:start]) < TEXT_BEFORE_LINKS
    ):
        return lines
    return lines[:start]


def page_links(node: etree._Element, url: str) -> Iterator[str]:
    """The text of each link in ``node`` that leads to a page, not a document."""
    for anchor in node.iter("a"):
        text = content.text_content(anchor)
        href = anchor.get("href") or ""
        if text and href and document_url(href, url, named=names_document(text)) is None:
            yield text


def page_link_keys(node: etree._Element, url: str) -> set[str]:
    """``squash`` of the text of each link in ``node`` that leads to a page."""
    keys = {squash(text) for text in page_links(node, url)}
    keys.discard("")
    return keys


def page_link_chars(node: etree._Element, url: str) -> int:
    """How many characters of ``node``'s text are links to other pages."""
    return sum(len(content.clean_line(text)) for text in page_links(node, url))


def lead_paragraphs(between: list[str], body: list[str]) -> list[str]:
    """A teaser paragraph that templates render between the headline and the body container.

    Only long prose counts (sentences, no meta label, not a 摘要/编者按 box, not already in the body).
    """
    body_key = squash("".join(body[:3]))
    for line in between:
        if (
            len(line) >= LEAD_MIN_CHARS
            and len(content.SENTENCE_PUNCTUATION.findall(line)) >= 2
            and not SUMMARY_LABEL.match(line)
            and not metaline.has_meta_label(line)
            and squash(line)[:30] not in body_key
        ):
            return [content.clean_line(line)]
    return []


def clean_body_html(node: etree._Element, url: str) -> str:
    clone = copy.deepcopy(node)
    clone.tail = None
    # One walk in Python decides everything (XPath predicates cost more, node by node in libxml2).
    dropped: list[etree._Element] = []
    attribute_names: set[str] = set()
    linked: list[etree._Element] = []
    for element in clone.iter():
        tag = element.tag
        if not isinstance(tag, str):
            dropped.append(element)
            continue
        attributes = element.attrib
        if element is not clone and (
            tag in NOISE_ELEMENTS
            or (attributes and (content.is_hidden(element) or content.is_noise(element)))
        ):
            dropped.append(element)
            continue
        if attributes:
            attribute_names.update(attributes)
            if "href" in attributes or "src" in attributes:
                linked.append(element)
    content.drop_trees(dropped)
    # libxml2 removes the attributes, once it is told their names.
    if unwanted := attribute_names - KEPT_ATTRIBUTES:
        etree.strip_attributes(clone, *unwanted)
    for element in linked:
        for attribute in ("href", "src"):
            value = element.get(attribute)
            if value and not value.startswith(("javascript:", "data:")):
                element.set(attribute, urljoin(url, value.strip()))
    return etree.tostring(clone, method="html", encoding="unicode")


def body_images(node: etree._Element, url: str) -> list[str]:
    found: dict[str, None] = {}
    for image in node.iter("img"):
        if content.is_hidden(image):
            continue
        src = image.get("data-src") or image.get("src") or ""
        if src and not src.startswith("data:"):
            found.setdefault(urljoin(url, src.strip()), None)
    return list(found)

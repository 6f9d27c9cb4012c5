"""Article extraction: one lxml parse, then gov meta → structured data → CMS selectors → generic scoring."""

from __future__ import annotations

import copy
import hashlib
import re
import sys
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urljoin, urlsplit

from lxml import etree

from portalcrawl.extract import cms, content, metaline
from portalcrawl.extract.attachments import find_attachments
from portalcrawl.extract.boilerplate import is_boilerplate_line, strip_boilerplate
from portalcrawl.extract.dates import (
    DEFAULT_TIMEZONE,
    ParsedDate,
    date_from_url,
    parse_date,
    precision_rank,
    refined_by,
)
from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.meta import gov_meta, published_candidate, read_meta
from portalcrawl.extract.selectors import select as _select
from portalcrawl.extract.structured import read_structured
from portalcrawl.items import Article

if TYPE_CHECKING:
    from portalcrawl.profiles import SiteProfile

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# libxml2 drops everything after </html>; server-side includes leave one in the middle of some pages
# (www.gov.cn closes its header include with </html>), so closing html/body tags are removed.
EARLY_CLOSE = re.compile(r"</(?:html|body)\s*>", re.IGNORECASE)
# Control characters make lxml refuse the whole string.
CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
HTML_PARSER = etree.HTMLParser(encoding="utf-8")
EMPTY_PAGE = b"<html><body></body></html>"

TITLE_META_TAIL = re.compile(
    r"\s*(?:来源|作者|发布时间|发布日期|时间|日期)\s*[:：]|\s*(?:19|20)\d\d-\d\d-\d\d"
)
BREADCRUMB_START = re.compile(r"^(?:首页|主页|网站首页|当前位置|您的位置)")
TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|--)\s*")
SCRIPT_DATE = re.compile(
    r"""(?:pubtime|publishtime|pubTime|publish_time|pubDate|publishDate|releaseTime)["']?\s*[=:]\s*["']"""
    r"""(?P<value>(?:19|20)\d\d[-/.年][^"']{3,30})["']"""
)
BREADCRUMB_MARKER = re.compile(r"当前的?位置|您的位置|现在的位置|所在位置|当前栏目")
BREADCRUMB_ARROW = re.compile(r">|»|＞|›|→")
BREADCRUMB_SPLIT = re.compile(r"\s*(?:>>|>|»|＞|›|→|/)\s*")
# Runs, not characters: counting their lengths allocates one string per run instead of one per letter.
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
LATIN_RUN = re.compile(r"[A-Za-z]+")
GERMAN_HINTS = re.compile(r"[äöüß]|\b(?:und|der|die|das|nicht|mit)\b")
MIN_BODY_CHARS = 30
# A line ending like a sentence or clause is prose; one ending in a colon may be a meta row whose value
# a script fills in (``点击：``).
PROSE_END = re.compile(r"[，。！？；、,.!?;]$")
# Closing brackets and quotes after a sentence's full stop: ``（特此更正。）`` is still a sentence.
CLOSING_MARKS = "）)」』】]》〕”’\"'"
HEADER_WINDOW = 15
LEADING_META_LINES = 8
DATE_LINE_EXTRA_CHARS = 24
TRAILER_WINDOW = 12
PROFILE_LABEL = re.compile(r"^(?:来源|信息来源|作者|记者|发布时间|发布日期|日期|时间)\s*[:：]\s*")
ATTACHMENT_LINE = re.compile(
    r"^\s*(?:相关)?附件\s*\d*\s*[:：]|\.(?:pdf|docx?|xlsx?|wps|et|dps|pptx?|ofd|ceb|txt|rtf|zip|rar|7z)\s*$",
    re.IGNORECASE,
)
SUMMARY_LABEL = re.compile(r"^\s*[【\[]?\s*(?:摘要|内容摘要|导读|提要|编者按|核心提示|划重点)")
LEAD_MIN_CHARS = 120
ORIGINAL_TITLE = re.compile(r"^原标题\s*[:：]")
XXGK_PUBLISHED = ("发布日期", "生成日期", "发文日期")
XXGK_SOURCE = ("发布机构", "责任部门", "发文机关")
NOISE_ELEMENTS = frozenset(
    ("meta", "link", "script", "style", "noscript", "iframe", "form", "button", "select", "input", "textarea")
)
KEPT_ATTRIBUTES = frozenset(("href", "src", "alt", "title", "colspan", "rowspan"))


def squash(text: str) -> str:
    """NFKC with all whitespace removed: how titles and body text are compared."""
    # str.split() splits on exactly the characters ``\s`` matches, and is faster than a regex.
    return "".join(content.nfkc(text).split())


def content_hash(title: str | None, body_text: str) -> str:
    """SHA-256 of ``squash`` of the title and text. Squashed line by line, which gives the same string
    (a line break composes with nothing and is removed), so the lines' remembered NFKC is reused."""
    lines = [title or "", *body_text.split("\n")]
    return hashlib.sha256("".join(squash(line) for line in lines).encode("utf-8")).hexdigest()


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


def _selected_text(tree: etree._Element, selector: str | None) -> str | None:
    """Text of a profile selector's first match, with a leading ``来源：``-style label removed."""
    selected = _select(tree, selector)
    if not selected:
        return None
    text = PROFILE_LABEL.sub("", _element_text(selected[0]))
    return text or None


def _element_text(element: etree._Element, index: content.PageIndex | None = None) -> str:
    return content.joined_text(element, index)


def _cut_meta(text: str) -> str:
    """A heading without the meta line some templates put inside it (``标题 来源：新华社 2023-12-01``)."""
    match = TITLE_META_TAIL.search(text)
    return text[: match.start()].strip() if match and match.start() >= 4 else text


def _find_title(
    tree: etree._Element,
    *,
    index: content.PageIndex,
    meta_title: str | None,
    meta_stage: str,
    family: cms.CmsFamily | None,
    body_node: etree._Element | None,
    site_name: str | None,
    lines_before_body: list[str],
) -> tuple[str | None, str]:
    """The headline, in order of evidence:

    1. a visible heading (h1–h3, ``*title*`` class/id) that the ``<title>`` or the meta title confirms,
       the one nearest before the body winning ties;
    2. a visible line before the body that starts the ``<title>`` (headlines in unmarked elements);
    3. the heading nearest before the body;
    4. the meta title, then the ``<title>``'s first segment.
    """
    title_tag = next(tree.iter("title"), None)
    page_title = content.clean_line(content.text_content(title_tag)) if title_tag is not None else ""
    page_title_key = squash(page_title)
    site_key = squash(site_name or "")
    if page_title_key == site_key:
        # A <title> that is just the site name confirms nothing.
        page_title_key = ""
    meta_key = squash(meta_title) if meta_title else ""
    if family and family.title:
        for element in cms.first_match(index, family.title):
            text = _cut_meta(_element_text(element, index))
            if 4 <= len(text) <= 200:
                return text, f"cms:{family.name}"
    # Keys come from the cheap text_content(); the clean text is built for the winner only.
    headings: list[tuple[etree._Element, str]] = []
    for element in index.headings:
        key = _cut_meta(squash(content.text_content(element)))
        if not 4 <= len(key) <= 200 or key == site_key or BREADCRUMB_START.match(key) or element.tag == "a":
            continue
        if element not in index.hidden and not any(a.tag == "a" for a in element.iterancestors()):
            headings.append((element, key))
    order = content.positions(tree, [element for element, _ in headings] + [body_node])
    body_at = order.get(body_node, sys.maxsize)
    candidates = [(order.get(element, 0), element, key) for element, key in headings]
    before_body = [c for c in candidates if c[0] < body_at]
    nearest = max(before_body, key=lambda c: c[0])[1] if before_body else None
    best: tuple[float, etree._Element] | None = None
    for _, element, key in candidates:
        score = 0.0
        if page_title_key and key in page_title_key:
            score += 2 + (1 if page_title_key.startswith(key) else 0)
        if meta_key and key == meta_key:
            score += 3
        elif meta_key and meta_key.startswith(key):
            score += 2
        if score < 2:
            continue
        score += (1.5 if element is nearest else 0) + {"h1": 1.0, "h2": 0.5}.get(str(element.tag), 0.0)
        score += len(key) / 100
        if best is None or score > best[0]:
            best = (score, element)
    if best:
        text = _cut_meta(_element_text(best[1], index))
        return text, meta_stage if meta_key and squash(text) == meta_key else "generic"
    if page_title_key:
        starts = [
            line
            for line in lines_before_body
            if len(squash(line)) >= 6 and page_title_key.startswith(squash(line))
        ]
        if starts:
            return max(starts, key=len), "generic"
    if nearest is not None:
        return _cut_meta(_element_text(nearest, index)), "generic"
    if meta_title:
        return content.clean_line(meta_title), meta_stage
    if page_title:
        segments = [s for s in TITLE_SEPARATORS.split(page_title) if s]
        return (segments[0] if segments else page_title), "title_tag"
    return None, "none"


def _visible_candidates(elements: list[etree._Element], hidden: set[etree._Element]) -> list[etree._Element]:
    return [e for e in elements if e not in hidden and hidden.isdisjoint(e.iterancestors())]


def _find_body(
    tree: etree._Element,
    index: content.PageIndex,
    family: cms.CmsFamily | None,
    profile: SiteProfile | None,
    body_lines: dict[etree._Element, list[str]],
) -> tuple[etree._Element | None, str]:
    """The body container and the stage that found it; ``body_lines`` keeps the text lines of the
    candidates it had to read."""
    attempts: list[tuple[list[etree._Element], str]] = []
    if profile and profile.selectors.body:
        attempts.append((_select(tree, profile.selectors.body), "profile"))
    if family:
        attempts.append((cms.first_match(index, family.body), f"cms:{family.name}"))
    attempts.append((cms.first_match(index, cms.GENERIC_BODY), "selector"))
    # A short match (the last page of a multi-page article may hold one paragraph) is only trusted when
    # no prose is found anywhere else: a stray element with a body class must not beat the real body.
    short: tuple[etree._Element, str] | None = None
    for elements, stage in attempts:
        candidates = [
            (_text_length(e, index, body_lines), e) for e in _visible_candidates(elements, index.hidden)
        ]
        if long_enough := [c for c in candidates if c[0] >= MIN_BODY_CHARS]:
            return max(long_enough, key=lambda c: c[0])[1], stage
        if short is None:
            short = next(
                (
                    (e, stage)
                    for length, e in candidates
                    if length and _has_article_text(e, 1, body_lines, index)
                ),
                None,
            )
    # Generic scoring must then find a real body, not a leftover meta line or disclaimer.
    least = MIN_BODY_CHARS if short else 1
    best = content.best_content_node(tree, accept=lambda e: _has_article_text(e, least, body_lines, index))
    if short is not None and (best is None or best in short[0].iterancestors()):
        return short
    return best, "generic"


def _text_length(
    element: etree._Element, index: content.PageIndex, body_lines: dict[etree._Element, list[str]]
) -> int:
    """``content.node_text_length``. When no furniture lies inside the element, its lines without
    furniture are the same lines: they are kept in ``body_lines`` for the body text, saving a walk."""
    if index.holds_noise(element):
        return content.node_text_length(element, index)
    lines = body_lines[element] = content.text_lines(element, drop_noise=True, index=index)
    return len(content.clean_line(content.SOFT_BREAK.join(lines)))


def _has_article_text(
    element: etree._Element,
    least: int,
    body_lines: dict[etree._Element, list[str]],
    index: content.PageIndex,
) -> bool:
    """Whether the element holds ``least`` characters besides leading meta rows and boilerplate lines."""
    lines = body_lines.get(element)
    if lines is None:
        lines = body_lines[element] = content.text_lines(element, drop_noise=True, index=index)
    _, rest = _meta_line_body(lines, None, DEFAULT_TIMEZONE)
    total = 0
    for line in rest:
        if not is_boilerplate_line(line):
            total += len(line)
            if total >= least:
                return True
    return False


class _LineKeys:
    """``squash`` of each page line, computed on first use: the body and title searches scan the same
    lines several times."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._keys: list[str | None] = [None] * len(lines)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> str:
        key = self._keys[index]
        if key is None:
            key = self._keys[index] = squash(self.lines[index])
        return key


def _index_of(keys: _LineKeys, target: str, start: int = 0) -> int:
    key = squash(target)[:40]
    if not key:
        return -1
    for index in range(start, len(keys)):
        if keys[index].startswith(key):
            return index
    return -1


def _title_index(keys: _LineKeys, title: str | None, before: int) -> int:
    """The headline's first line among the lines shortly before the body."""
    if not title:
        return -1
    key = squash(title)
    for index in range(max(0, before - 2 * HEADER_WINDOW), min(before, len(keys))):
        line_key = keys[index]
        if line_key and (key in line_key or (len(line_key) >= 6 and line_key in key)):
            return index
    return -1


def _date(text: str | None, now: datetime | None, tz: str) -> ParsedDate | None:
    return parse_date(text, now=now, tz=tz) if text else None


def _published(
    tree: etree._Element,
    *,
    index: content.PageIndex,
    url: str,
    tz: str,
    now: datetime | None,
    xxgk: dict[str, str],
    header: list[str],
    header_fields: metaline.MetaLine,
    trailer_fields: metaline.MetaLine,
    government: dict[str, str],
    structured_published: str | None,
) -> tuple[ParsedDate | None, str]:
    """Publication date and the stage that produced it.

    Explicit offsets are kept. The date shown on the page wins (xxgk table, then a labelled line, then
    a bare date near the headline); machine-readable dates (gov meta, structured data, hidden pubtime
    elements, script variables) only add precision to a visible date they agree with, or stand in
    when none is shown.
    """
    machine: list[tuple[ParsedDate, str]] = []
    for text, stage in (
        (published_candidate(government), "gov_meta"),
        (structured_published, "structured_data"),
        (_hidden_pubtime(index), "hidden_meta"),
        (_script_date(tree), "script"),
    ):
        if parsed := _date(text, now, tz):
            machine.append((parsed, stage))
    visible: tuple[ParsedDate, str] | None = None
    xxgk_date = next((d for label in XXGK_PUBLISHED if (d := _date(xxgk.get(label), now, tz))), None)
    if xxgk_date:
        visible = (xxgk_date, "xxgk")
    for line in header_fields.date_lines + trailer_fields.date_lines:
        if visible:
            break
        if parsed := _date(metaline.labelled_date_text(line), now, tz):
            visible = (parsed, "meta_line")
    for line in header[:HEADER_WINDOW]:
        if visible:
            break
        if not metaline.NOT_PUBLISHED.search(line) and _is_date_line(line, now, tz):
            parsed = _date(line, now, tz)
            if parsed and precision_rank(parsed.precision) <= precision_rank("day"):
                visible = (parsed, "meta_line")
    if visible:
        for candidate, stage in machine:
            if refined := refined_by(visible[0], candidate):
                return refined, stage
        return visible
    if machine:
        return machine[0]
    if url_date := date_from_url(url, tz=tz):
        return url_date, "url"
    return None, "none"


def _is_date_line(line: str, now: datetime | None, tz: str) -> bool:
    """A date with little else (a source name, a counter) or beside labelled meta fields, not a sentence
    that cites a date."""
    if len(line) > 100 or line.endswith("。"):
        return False
    parsed = _date(line, now, tz)
    if parsed is None:
        return False
    return len(line) - len(parsed.raw) <= DATE_LINE_EXTRA_CHARS or metaline.has_meta_label(line)


def _hidden_pubtime(index: content.PageIndex) -> str | None:
    for element in index.pubtime:
        text = content.clean_line(content.text_content(element))
        if text and len(text) <= 40:
            return text
    return None


def _script_date(tree: etree._Element) -> str | None:
    for text in content.inline_scripts(tree):
        # Every SCRIPT_DATE variable name contains one of these; most scripts contain neither.
        if ("pub" in text or "releaseTime" in text) and (match := SCRIPT_DATE.search(text)):
            return match["value"]
    return None


def _meta_line_body(lines: list[str], now: datetime | None, tz: str) -> tuple[list[str], list[str]]:
    """Split off a body container's leading meta rows (date/source lines, share counters, toolbars)."""
    index = 0
    while index < min(len(lines), LEADING_META_LINES):
        line = lines[index]
        if len(line) > 120 or PROSE_END.search(line.rstrip(CLOSING_MARKS)) or "。" in line:
            break
        parsed = metaline.parse_meta_lines([line])
        is_meta = bool(parsed.date_lines) or parsed.source is not None or parsed.author is not None
        is_date = _is_date_line(line, now, tz)
        if not (is_meta or is_date or len(line) <= 3 or is_boilerplate_line(line)):
            break
        index += 1
    return lines[:index], lines[index:]


def _lead_paragraphs(between: list[str], body: list[str]) -> list[str]:
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


def _language(text: str, declared: str | None) -> str | None:
    sample = text[:3000]
    cjk = sum(map(len, CJK_RUN.findall(sample)))
    latin = sum(map(len, LATIN_RUN.findall(sample)))
    if not cjk and not latin:
        return None
    if cjk >= latin * 0.3:
        return "zh"
    if declared and not declared.lower().startswith(("zh", "en")):
        return declared.split("-")[0].lower()
    return "de" if len(GERMAN_HINTS.findall(sample.lower())) > len(sample) / 400 else "en"


def _clean_body_html(node: etree._Element, url: str) -> str:
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


def _images(node: etree._Element, url: str) -> list[str]:
    found: dict[str, None] = {}
    for image in node.iter("img"):
        if content.is_hidden(image):
            continue
        src = image.get("data-src") or image.get("src") or ""
        if src and not src.startswith("data:"):
            found.setdefault(urljoin(url, src.strip()), None)
    return list(found)


def _column(
    lines: list[str], meta: dict[str, str], title: str | None, section: str | None
) -> tuple[str | None, str]:
    for key in ("columnname", "lanmu", "catalog"):
        if meta.get(key):
            return meta[key], "gov_meta"
    title_key = squash(title or "")
    for line in lines[:60]:
        # Unlabelled trails (``首页 > 新闻中心 > 乡镇动态 > 正文``) start at the home page.
        if BREADCRUMB_MARKER.search(line) or (BREADCRUMB_START.match(line) and BREADCRUMB_ARROW.search(line)):
            tail = re.split(r"[:：]", line, maxsplit=1)[-1]
            parts = [
                p for p in BREADCRUMB_SPLIT.split(tail) if p and p not in ("正文", "详情", "内容", "正文内容")
            ]
            parts = [p for p in parts if squash(p) != title_key]
            if len(parts) >= 2 or (parts and len(parts[0]) <= 12):
                return parts[-1], "breadcrumb"
    if section:
        return section, "structured_data"
    return None, "none"


def extract_article(
    html_page: str | bytes,
    url: str,
    *,
    fetched_at: datetime | None = None,
    profile: SiteProfile | None = None,
) -> Article:
    """Extract one article page. Pure: the page, its URL, the fetch time and the profile are all it uses."""
    encoding: str | None = None
    if isinstance(html_page, bytes):
        html_page, encoding = decode_html(html_page)
    encoded = page_bytes(html_page)
    tree = parse_tree(encoded)
    # Read before the stages below prune the tree: pagers are often in blocks dropped as noise.
    further_pages = _continuation_links(tree, url)
    index = content.index_page(tree)
    tz = (profile.timezone if profile else None) or DEFAULT_TIMEZONE
    stages: dict[str, str] = {}

    all_meta = read_meta(tree)
    government = gov_meta(all_meta)
    structured = read_structured(tree, all_meta)
    family = cms.detect_family(encoded, url, profile.cms if profile else None)

    meta_title, meta_stage = (
        (government["articletitle"], "gov_meta")
        if government.get("articletitle")
        else (structured.title, "structured_data")
    )
    body_lines: dict[etree._Element, list[str]] = {}
    body_node, stages["body_text"] = _find_body(tree, index, family, profile, body_lines)
    body_root = tree.find("body")
    page_lines = content.text_lines(body_root if body_root is not None else tree, join_cjk=False, index=index)
    page_keys = _LineKeys(page_lines)
    raw_body_lines = (
        list(body_lines.get(body_node) or content.text_lines(body_node, drop_noise=True, index=index))
        if body_node is not None
        else []
    )
    first_body_line = _index_of(page_keys, raw_body_lines[0]) if raw_body_lines else -1
    title: str | None
    if profile and (selected := _select(tree, profile.selectors.title)):
        title, stages["title"] = _element_text(selected[0]), "profile"
    else:
        title, stages["title"] = _find_title(
            tree,
            index=index,
            meta_title=meta_title,
            meta_stage=meta_stage,
            family=family,
            body_node=body_node,
            site_name=government.get("sitename"),
            lines_before_body=page_lines[: first_body_line + 1 if first_body_line >= 0 else len(page_lines)],
        )
    title_key = squash(title or "")
    while raw_body_lines and title_key and squash(raw_body_lines[0]) == title_key:
        raw_body_lines.pop(0)
    leading_meta, raw_body_lines = _meta_line_body(raw_body_lines, fetched_at, tz)

    body_start = _index_of(page_keys, raw_body_lines[0]) if raw_body_lines else -1
    if body_start < 0:
        body_start = len(page_lines)
    title_at = _title_index(page_keys, title, body_start)
    header_from = title_at + 1 if title_at >= 0 else max(0, body_start - HEADER_WINDOW)
    header = page_lines[header_from:body_start]
    if len(header) > 2 * HEADER_WINDOW:
        header = header[:HEADER_WINDOW] + header[-HEADER_WINDOW:]
    header = header + leading_meta + [line for line in raw_body_lines[:3] if len(line) <= 60]
    body_end = _index_of(page_keys, raw_body_lines[-1], body_start) if raw_body_lines else -1
    trailer_from = body_end + 1 if body_end >= 0 else body_start
    # The body's lines with their word gaps kept (bylines need them): the page's own lines when the
    # body was found in them, else a second walk.
    if 0 <= body_start <= body_end:
        spaced_body = page_lines[body_start : body_end + 1]
    elif body_node is not None:
        spaced_body = content.text_lines(body_node, drop_noise=True, join_cjk=False, index=index)
    else:
        spaced_body = []
    trailer = page_lines[trailer_from : trailer_from + TRAILER_WINDOW] + spaced_body[-3:]

    header_fields = metaline.parse_meta_lines(header)
    trailer_fields = metaline.parse_meta_lines(trailer)
    xxgk = metaline.xxgk_fields(page_lines[: max(body_start, 1) + 5])
    government.update({f"xxgk:{label}": value for label, value in xxgk.items()})

    if stages["body_text"] == "generic" and header_from < first_body_line:
        lead = _lead_paragraphs(page_lines[header_from:first_body_line], raw_body_lines)
        raw_body_lines = lead + raw_body_lines
    body_text = strip_boilerplate(
        "\n".join(line for line in raw_body_lines if not ORIGINAL_TITLE.match(line))
    )

    published, published_stage = _published(
        tree,
        index=index,
        url=url,
        tz=tz,
        now=fetched_at,
        xxgk=xxgk,
        header=header,
        header_fields=header_fields,
        trailer_fields=trailer_fields,
        government=government,
        structured_published=structured.published,
    )
    if profile and (
        selected_date := _date(_selected_text(tree, profile.selectors.published), fetched_at, tz)
    ):
        published, published_stage = selected_date, "profile"
    if published is not None:
        stages["published_at"] = stages["date_precision"] = published_stage
    source: str | None = None
    for value, stage in (
        (_selected_text(tree, profile.selectors.source) if profile else None, "profile"),
        (header_fields.source, "meta_line"),
        (next((xxgk[k] for k in XXGK_SOURCE if xxgk.get(k)), None), "xxgk"),
        (government.get("contentsource"), "gov_meta"),
        (trailer_fields.source, "meta_line"),
        (metaline.media_name_near_date(header), "meta_line"),
    ):
        if value is not None:
            source, stages["source"] = (value or None), stage
            break

    editor = header_fields.editor or trailer_fields.editor
    # Attachment links often close the body; the byline is the last line before them.
    closing = [line for line in spaced_body if not ATTACHMENT_LINE.search(line)][-2:]
    byline = metaline.byline_author(spaced_body[: len(leading_meta) + 6], closing + trailer[:4], closing)
    author: str | None = None
    for value, stage, may_be_editor in (
        (_selected_text(tree, profile.selectors.author) if profile else None, "profile", True),
        (header_fields.author, "meta_line", False),
        (byline, "byline", True),
        (trailer_fields.author, "meta_line", False),
        (structured.author, "structured_data", False),
    ):
        # A CMS 作者 field that repeats the editor is the editor; a byline in the text is not.
        if value and metaline.looks_like_person(value) and (may_be_editor or value != editor):
            author, stages["author"] = value, stage
            break
    if editor:
        stages["editor"] = "meta_line"

    column, column_stage = _column(page_lines, government, title, structured.section)
    if column:
        stages["column"] = column_stage

    attachments = find_attachments(body_node, tree, url)
    if attachments:
        stages["attachments"] = stages["body_text"]

    if family:
        stages["cms"] = "fingerprint" if not (profile and profile.cms) else "profile"
    html_lang = tree.get("lang") or tree.get("xml:lang")
    return Article(
        url=url,
        title=title,
        published_at=published.isoformat() if published else None,
        published_raw=published.raw if published else None,
        date_precision=published.precision if published else None,
        source=source,
        author=author,
        editor=editor,
        body_text=body_text,
        body_html=_clean_body_html(body_node, url) if body_node is not None else "",
        attachments=attachments,
        images=_images(body_node, url) if body_node is not None else [],
        column=column,
        gov_meta=government,
        language=_language(body_text or " ".join(page_lines[:50]), html_lang),
        content_hash=content_hash(title, body_text),
        encoding=encoding,
        fetched_at=fetched_at.isoformat() if fetched_at else None,
        field_stages=stages,
        cms=family.name if family else None,
        page_urls=[url, *further_pages],
    )


# Hrefs that can name a page of a multi-page article: a numbered file (``_2.html``, ``-2.html``) or a page
# query parameter. Checked on the raw href so that the many other links of a page cost one search each.
PAGER_HREF = re.compile(r"[_-]\d{1,3}\.[A-Za-z]{2,5}(?:[?#]|$)|[?&](?:page|p|pageno|pg)=\d", re.IGNORECASE)


# An article page's path, and the path of one of its further pages (the same stem and extension).
# Further pages of one article the spider fetches at most: real ones have a few; a page numbering a
# thousand would cost a thousand sequential requests.
MAX_CONTINUATION_PAGES = 100
ARTICLE_PATH = re.compile(r"^(?P<stem>.*?)(?P<ext>\.[A-Za-z]{2,5})?$")
EXPLICIT_FIRST_PAGE = re.compile(r"^(?P<stem>.*)[_-]1$")
CONTINUATION_PATH = re.compile(r"^(?P<stem>.*)[_-](?P<page>\d{1,3})(?P<ext>\.[A-Za-z]{2,5})?$")


def continuation_pages(html_page: str | bytes, url: str) -> list[str]:
    """Further pages of a multi-page article in page order (``_2.html``, ``-2.html``, ``?page=2``).

    ``extract_article`` already lists them after the page itself in ``Article.page_urls``; this is for
    callers that only need the pager.
    """
    if isinstance(html_page, bytes):
        html_page, _ = decode_html(html_page)
    return _continuation_links(parse_tree(html_page), url)


def _continuation_links(tree: etree._Element, url: str) -> list[str]:
    here = urlsplit(url)
    path_match = ARTICLE_PATH.match(here.path)
    if path_match is None:
        return []
    stems = {path_match["stem"]}
    if explicit_first := EXPLICIT_FIRST_PAGE.match(path_match["stem"]):
        stems.add(explicit_first["stem"])
    ext = path_match["ext"] or ""
    here_query = dict(parse_qsl(here.query))
    # A further page's link names the article's file (``c1013-31153719-2.html``) or has a query; a
    # substring test spares the regex on the page's other links.
    names = {stem.rsplit("/", 1)[-1] for stem in stems}
    pages: dict[int, str] = {}
    for link in tree.iter("a"):
        href = (link.get("href") or "").strip()
        if "?" not in href and "" not in names and not any(name in href for name in names):
            continue
        if not PAGER_HREF.search(href):
            continue
        target = urlsplit(urljoin(url, href))
        if target.netloc != here.netloc:
            continue
        number: int | None = None
        if (
            (match := CONTINUATION_PATH.match(target.path))
            and match["stem"] in stems
            and (match["ext"] or "") == ext
        ):
            number = int(match["page"])
        if number is None and target.path == here.path and target.query != here.query:
            query = dict(parse_qsl(target.query))
            key = next(
                (k for k in ("page", "p", "pageno", "PageNo", "pg") if query.get(k, "").isdigit()), None
            )
            if key and {k: v for k, v in query.items() if k != key} == {
                k: v for k, v in here_query.items() if k != key
            }:
                number = int(query[key])
        if number is not None and number >= 2:
            pages.setdefault(number, target._replace(fragment="").geturl())
    current = here.geturl()
    further = [page_url for _, page_url in sorted(pages.items()) if page_url != current]
    return further[:MAX_CONTINUATION_PAGES]


def merge_pages(first: Article, others: list[Article]) -> Article:
    """One article from its first page and its continuation pages (text, HTML, files and images joined)."""
    if not others:
        return first
    texts = [first.body_text, *(o.body_text for o in others)]
    body_text = "\n".join(t for t in texts if t)
    attachments = {a["url"]: a for page in (first, *others) for a in page.attachments}
    images = dict.fromkeys(i for page in (first, *others) for i in page.images)
    # The pages joined, not every page the pager named: a continuation that failed is not in the text.
    page_urls = list(dict.fromkeys([*(first.page_urls or [first.url])[:1], *(o.url for o in others)]))
    # A closing byline sits on the last page; so may the editor line.
    author = first.author or next((o.author for o in reversed(others) if o.author), None)
    editor = first.editor or next((o.editor for o in reversed(others) if o.editor), None)
    stages = dict(first.field_stages)
    for field, value in (("author", author), ("editor", editor)):
        if value and not getattr(first, field):
            source_page = next(o for o in reversed(others) if getattr(o, field) == value)
            stages[field] = source_page.field_stages.get(field, "meta_line")
    return replace(
        first,
        author=author,
        editor=editor,
        body_text=body_text,
        body_html="\n".join(h for h in [first.body_html, *(o.body_html for o in others)] if h),
        attachments=list(attachments.values()),
        images=list(images),
        page_urls=page_urls,
        content_hash=content_hash(first.title, body_text),
        field_stages=stages,
    )

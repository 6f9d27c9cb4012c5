"""The headline: a profile selector, the CMS family's, a visible heading the <title> or meta confirms, …"""

from __future__ import annotations

import re
import sys

from lxml import etree

from portalcrawl.extract import content, families, metaline
from portalcrawl.extract.lines import LineKeys, squash
from portalcrawl.extract.stages import Stage, cms_stage

TITLE_META_TAIL = re.compile(
    r"\s*(?:来源|作者|发布时间|发布日期|时间|日期)\s*[:：]|\s*(?:19|20)\d\d-\d\d-\d\d"
)
BREADCRUMB_START = re.compile(r"^(?:首页|主页|网站首页|当前位置|您的位置)")
TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|--)\s*")
HEADER_WINDOW = 15
# A <title> segment shorter than this (a site's initials) confirms no heading.
MIN_SEGMENT_CHARS = 8
# A footer line that names who runs the site.
OWNER_LINE = re.compile(r"主办|版权所有|Copyright|©|承办|网站标识码")
# How many lines before the body an xxgk table (名称：…) is read from.
XXGK_LINES = 40
# How many lines before the body a split headline is looked for in.
SPLIT_LOOKBACK = 40
# Column names are short (工作动态, 政府信息公开目录); a headline that is also a link text is longer.
MAX_COLUMN_CHARS = 12
KICKER_TAGS = frozenset(("span", "em", "i", "b", "strong", "small", "font", "label"))
# How far above the body's first line the meta line under an unmarked headline is looked for.
META_LOOKBACK = 5
# A <title> or meta title often writes the headline's “ ” ‘ ’ 「 」 as ASCII quotes: compared alike,
# shown as the heading writes them.
QUOTE_KEYS = str.maketrans(dict.fromkeys("“”„‟〝〞「」『』＂", '"') | dict.fromkeys("‘’‛＇", "'"))


def title_key(text: str) -> str:
    """How headlines are compared: ``squash``ed, quotes alike."""
    return squash(text).translate(QUOTE_KEYS)


def element_text(element: etree._Element, index: content.PageIndex | None = None) -> str:
    return content.joined_text(element, index)


def cut_meta(text: str) -> str:
    """A heading without the meta line some templates put inside it (``标题 来源：新华社 2023-12-01``)."""
    match = TITLE_META_TAIL.search(text)
    return text[: match.start()].strip() if match and match.start() >= 4 else text


def find_title(
    tree: etree._Element,
    *,
    index: content.PageIndex,
    meta_title: str | None,
    meta_stage: str,
    family: families.Family | None,
    body_node: etree._Element | None,
    site_name: str | None,
    lines_before_body: list[str],
    closing_lines: list[str],
) -> tuple[str | None, str]:
    """The headline, in order of evidence:

    1. the CMS family's title selectors;
    2. a visible heading (h1–h3, ``*title*`` class/id) that the ``<title>`` or the meta title confirms,
       the one nearest before the body winning ties, without a kicker the ``<title>`` lacks and joined
       with the lines it was split over. A heading that repeats the site's name (``SiteName`` meta, or
       the ``<title>`` segment the footer names as owner) or another lesser ``<title>`` segment is
       confirmed by nothing; one naming the column (``<h2>工作动态</h2>`` under ``<title>工作动态 -
       XX县人民政府``) gives way to an xxgk 名称 or a longer line above the meta line;
    3. the 名称/标题 of an xxgk table, then the visible line(s) before the body that start the
       ``<title>`` (headlines in unmarked elements);
    4. the line right above the meta line that opens the body, unless the heading nearest before the
       body is just above it (a subtitle between them);
    5. the heading nearest before the body (the ``<h1>`` over it, if it is that h1's subtitle);
    6. the meta title; with no ``<title>`` to go by, a headline-shaped line right above the body; the
       ``<title>``'s first segment.
    """
    title_tag = next(tree.iter("title"), None)
    page_title = content.clean_line(content.text_content(title_tag)) if title_tag is not None else ""
    page_title_key = title_key(page_title)
    site_key = title_key(site_name or "") or _owner_in_title(page_title, closing_lines)
    if page_title_key == site_key:
        # A <title> that is just the site name confirms nothing.
        page_title_key = ""
    meta_key = title_key(meta_title) if meta_title else ""
    if family and family.title and (text := _family_title(index, family)):
        return text, cms_stage(family.name)
    headings = _visible_headings(index, site_key)
    order = content.positions(tree, [element for element, _ in headings] + [body_node])
    body_at = order.get(body_node, sys.maxsize)
    candidates = [(order.get(element, 0), element, key) for element, key in headings]
    before_body = [c for c in candidates if c[0] < body_at]
    nearest = max(before_body, key=lambda c: c[0])[1] if before_body else None
    segments = [
        key
        for segment in TITLE_SEPARATORS.split(page_title)
        if len(key := title_key(segment)) >= MIN_SEGMENT_CHARS and key != site_key
    ]
    confirmed = _confirmed_heading(
        candidates,
        nearest=nearest,
        page_title_key=page_title_key,
        meta_key=meta_key,
        title_segments=segments,
        site_and_column_names=_site_and_column_names(page_title),
    )
    xxgk = metaline.xxgk_fields(lines_before_body[-XXGK_LINES:])
    named = next((xxgk[k] for k in metaline.XXGK_TITLES if len(xxgk.get(k, "")) >= 4), None)
    if confirmed is not None and _is_column_heading(tree, confirmed, candidates, page_title):
        # ``<h2>工作动态</h2>`` confirmed by ``<title>工作动态 - XX县人民政府</title>``.
        if named is not None:
            return named, Stage.XXGK
        above = _line_above_meta_line(lines_before_body, "")
        if above is not None and len(title_key(above)) > len(title_key(element_text(confirmed))):
            return above, Stage.GENERIC
    if confirmed is not None:
        text = _without_kicker(confirmed, cut_meta(element_text(confirmed, index)), page_title_key, segments)
        text = _whole_headline(text, lines_before_body, page_title_key)
        return text, meta_stage if meta_key and title_key(text) == meta_key else Stage.GENERIC
    if named is not None:
        return named, Stage.XXGK
    if page_title_key:
        starts = [
            _whole_headline(line, lines_before_body[at:], page_title_key)
            for at, line in enumerate(lines_before_body)
            # title_key maps character to character: its length is the squashed line's.
            if len(key := title_key(line)) >= 6 and page_title_key.startswith(key)
        ]
        if starts:
            return max(starts, key=len), Stage.GENERIC
    nearest = _over_subtitle(nearest, candidates, lines_before_body)
    nearest_key = next((key for _, element, key in candidates if element is nearest), "")
    if nearest_key and _is_link_text(tree, nearest_key):
        # A column menu's heading, repeated by its links: no headline a subtitle could be under.
        nearest_key = ""
    if (above := _line_above_meta_line(lines_before_body, nearest_key)) is not None:
        return above, Stage.GENERIC
    if nearest is not None:
        return cut_meta(element_text(nearest, index)), Stage.GENERIC
    if meta_title:
        return content.clean_line(meta_title), meta_stage
    if not page_title_key and (above := _line_above_body(lines_before_body, site_key)) is not None:
        return above, Stage.GENERIC
    if page_title:
        segments = [s for s in TITLE_SEPARATORS.split(page_title) if s]
        return (segments[0] if segments else page_title), Stage.TITLE_TAG
    return None, Stage.NONE


def _without_kicker(heading: etree._Element, text: str, page_title_key: str, segments: list[str]) -> str:
    """A heading without the kicker in an element of its own before the headline
    (``<h1><span class="category">Verbraucherschutz</span>Mehr Transparenz…</h1>``, ``<span>原创</span>``)
    when the ``<title>`` has the rest but not the kicker."""
    if not page_title_key or (heading.text or "").strip() or not len(heading):
        return text
    first = heading[0]
    if first.tag not in KICKER_TAGS or not (first.tail or "").strip():
        return text
    kicker = content.clean_line(content.text_content(first))
    rest = text[len(kicker) :].strip()
    if not kicker or not text.startswith(kicker) or title_key(kicker) in page_title_key:
        return text
    rest_key = title_key(rest)
    if len(rest_key) < 4 or not (rest_key in page_title_key or any(s in rest_key for s in segments)):
        return text
    return rest


def _over_subtitle(
    nearest: etree._Element | None,
    candidates: list[tuple[int, etree._Element, str]],
    lines_before_body: list[str],
) -> etree._Element | None:
    """The ``<h1>`` right above the nearest heading when that is a lesser one: a headline and its
    subtitle (``<h1>主标题</h1><h2>副标题</h2>``)."""
    if nearest is None or nearest.tag == "h1":
        return nearest
    keys = {element: key for _, element, key in candidates}
    tail = [title_key(line) for line in lines_before_body[-SPLIT_LOOKBACK:]]
    at = next((i for i in range(len(tail) - 1, 0, -1) if tail[i] == keys[nearest]), 0)
    above = tail[at - 1] if at else ""
    return next((e for e, key in keys.items() if e.tag == "h1" and key == above and above), nearest)


def _owner_in_title(page_title: str, closing_lines: list[str]) -> str:
    """The ``<title>`` segment that the footer names as the site's owner (``主办：平阳县人民政府办公室``)."""
    owners = [line for line in closing_lines if OWNER_LINE.search(line)]
    for segment in TITLE_SEPARATORS.split(page_title):
        key = title_key(segment)
        if len(key) >= 4 and any(key in title_key(line) for line in owners):
            return key
    return ""


def _line_above_body(lines_before_body: list[str], site_key: str) -> str | None:
    """With no ``<title>`` to go by, a headline-shaped line right above the body's first line."""
    if len(lines_before_body) < 2:
        return None
    line = lines_before_body[-2]
    key = title_key(line)
    if not 6 <= len(key) <= 100 or key == site_key or line.endswith(("。", ":", "：")):
        return None
    return (
        None if metaline.LABELLED.match(line) or _is_meta_line(line) or BREADCRUMB_START.match(key) else line
    )


def _site_and_column_names(page_title: str) -> set[str]:
    """The ``<title>``'s segments after the first that are not its longest: in ``标题_部门动态_XX县人民政府``
    they name the column and the site, and a heading that repeats one is no headline."""
    keys = [key for segment in TITLE_SEPARATORS.split(page_title) if (key := title_key(segment))]
    if len(keys) < 2:
        return set()
    longest = max(len(key) for key in keys)
    return {key for key in keys[1:] if len(key) < longest}


def _whole_headline(text: str, lines: list[str], page_title_key: str) -> str:
    """A headline split over lines or elements (``XX市人民政府办公室`` / ``关于印发…的通知``) joined
    into one: its neighbouring lines before the body, as long as the ``<title>`` holds them together."""
    key = title_key(text)
    if not page_title_key or key not in page_title_key:
        return text
    keys = [title_key(line) for line in lines[-SPLIT_LOOKBACK:]]
    lines = lines[-SPLIT_LOOKBACK:]
    at = next(
        (i for i in range(len(keys) - 1, -1, -1) if len(keys[i]) >= min(4, len(key)) and keys[i] in key), -1
    )
    if at < 0:
        return text
    first = last = at
    joined = keys[at]
    while first > 0 and keys[first - 1] and keys[first - 1] + joined in page_title_key:
        first -= 1
        joined = keys[first] + joined
    while last + 1 < len(keys) and keys[last + 1] and joined + keys[last + 1] in page_title_key:
        last += 1
        joined += keys[last]
    if len(joined) <= len(key) or _is_meta_line(lines[last]):
        return text
    return _joined(lines[first : last + 1])


def _joined(parts: list[str]) -> str:
    """Lines joined as one headline: no space between CJK, one between words."""
    text = parts[0]
    for part in parts[1:]:
        text += part if text[-1:] > "\u2e7f" or part[:1] > "\u2e7f" else f" {part}"
    return text


def _is_column_heading(
    tree: etree._Element,
    heading: etree._Element,
    candidates: list[tuple[int, etree._Element, str]],
    page_title: str,
) -> bool:
    """A heading that names the column: a whole segment of a ``<title>`` that names column and site,
    and the text of a navigation link of the page."""
    key = next(key for _, element, key in candidates if element is heading)
    if len(key) > MAX_COLUMN_CHARS or key not in (title_key(s) for s in TITLE_SEPARATORS.split(page_title)):
        return False
    return _is_link_text(tree, key)


def _is_link_text(tree: etree._Element, key: str) -> bool:
    return any(title_key(content.text_content(anchor)) == key for anchor in tree.iter("a"))


def _line_above_meta_line(lines_before_body: list[str], nearest_key: str) -> str | None:
    """The headline of templates that mark it with no heading or class (``<h5>``, ``<p><b>``): the line
    right above the 发布时间/来源 line that comes just before the body."""
    tail = lines_before_body[-META_LOOKBACK:]
    at = next((i for i in range(len(tail) - 1, 0, -1) if _is_meta_line(tail[i])), 0)
    while at > 0 and _is_meta_line(tail[at - 1]):
        at -= 1
    if at == 0:
        return None
    line, key = tail[at - 1], title_key(tail[at - 1])
    if nearest_key and any(nearest_key == title_key(above) for above in tail[max(0, at - 2) : at]):
        return None
    if not 6 <= len(key) <= 100 or line.endswith(("。", ":", "：")) or BREADCRUMB_START.match(key):
        return None
    return None if metaline.LABELLED.match(line) or _is_meta_line(line) else cut_meta(line)


def _is_meta_line(line: str) -> bool:
    """A short line of labelled meta fields or a bare date (the line under a headline)."""
    if len(line) > 120:
        return False
    if metaline.has_meta_label(line) or metaline.labelled_date_text(line) is not None:
        return True
    return len(line) <= 40 and metaline.DATE_TIME.search(line) is not None


def _family_title(index: content.PageIndex, family: families.Family) -> str | None:
    for element in families.first_match(index, family.title):
        text = cut_meta(element_text(element, index))
        if 4 <= len(text) <= 200:
            return text
    return None


def _visible_headings(index: content.PageIndex, site_key: str) -> list[tuple[etree._Element, str]]:
    """Visible headings outside links with their comparison keys. Keys come from the cheap
    text_content(); the clean text is built for the winner only."""
    headings: list[tuple[etree._Element, str]] = []
    for element in index.headings:
        key = cut_meta(title_key(content.text_content(element)))
        if not 4 <= len(key) <= 200 or key == site_key or BREADCRUMB_START.match(key) or element.tag == "a":
            continue
        if element not in index.hidden and not any(a.tag == "a" for a in element.iterancestors()):
            headings.append((element, key))
    return headings


def _confirmed_heading(
    candidates: list[tuple[int, etree._Element, str]],
    *,
    nearest: etree._Element | None,
    page_title_key: str,
    meta_key: str,
    title_segments: list[str],
    site_and_column_names: set[str],
) -> etree._Element | None:
    """The heading the ``<title>`` or the meta title confirms best (nearest the body, h1, longer).

    A heading confirms by being (the start of) the ``<title>``, or by ending in most of one of its
    segments (``BMJV | Transparenz bei Preisanpassungen`` for a heading with a kicker before it; a
    heading that starts with one holds a subtitle after it)."""
    best: tuple[float, etree._Element] | None = None
    for _, element, key in candidates:
        score = 0.0
        if key in site_and_column_names:
            pass
        elif page_title_key and key in page_title_key:
            score += 2 + (1 if page_title_key.startswith(key) else 0)
        elif any(2 * len(segment) >= len(key) and key.endswith(segment) for segment in title_segments):
            score += 2
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
    return best[1] if best else None


def title_index(keys: LineKeys, title: str | None, before: int) -> int:
    """The headline's first line among the lines shortly before the body."""
    if not title:
        return -1
    key = squash(title)
    for index in range(max(0, before - 2 * HEADER_WINDOW), min(before, len(keys))):
        line_key = keys[index]
        if line_key and (key in line_key or (len(line_key) >= 6 and line_key in key)):
            return index
    return -1

"""The headline: a profile selector, the CMS family's, a visible heading the <title> or meta confirms, …"""

from __future__ import annotations

import re
import sys

from lxml import etree

from portalcrawl.extract import content, families
from portalcrawl.extract.lines import LineKeys, squash
from portalcrawl.extract.stages import Stage, cms_stage

TITLE_META_TAIL = re.compile(
    r"\s*(?:来源|作者|发布时间|发布日期|时间|日期)\s*[:：]|\s*(?:19|20)\d\d-\d\d-\d\d"
)
BREADCRUMB_START = re.compile(r"^(?:首页|主页|网站首页|当前位置|您的位置)")
TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|--)\s*")
HEADER_WINDOW = 15


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
) -> tuple[str | None, str]:
    """The headline, in order of evidence:

    1. the CMS family's title selectors;
    2. a visible heading (h1–h3, ``*title*`` class/id) that the ``<title>`` or the meta title confirms,
       the one nearest before the body winning ties;
    3. a visible line before the body that starts the ``<title>`` (headlines in unmarked elements);
    4. the heading nearest before the body;
    5. the meta title, then the ``<title>``'s first segment.
    """
    title_tag = next(tree.iter("title"), None)
    page_title = content.clean_line(content.text_content(title_tag)) if title_tag is not None else ""
    page_title_key = squash(page_title)
    site_key = squash(site_name or "")
    if page_title_key == site_key:
        # A <title> that is just the site name confirms nothing.
        page_title_key = ""
    meta_key = squash(meta_title) if meta_title else ""
    if family and family.title and (text := _family_title(index, family)):
        return text, cms_stage(family.name)
    headings = _visible_headings(index, site_key)
    order = content.positions(tree, [element for element, _ in headings] + [body_node])
    body_at = order.get(body_node, sys.maxsize)
    candidates = [(order.get(element, 0), element, key) for element, key in headings]
    before_body = [c for c in candidates if c[0] < body_at]
    nearest = max(before_body, key=lambda c: c[0])[1] if before_body else None
    if (confirmed := _confirmed_heading(candidates, nearest, page_title_key, meta_key)) is not None:
        text = cut_meta(element_text(confirmed, index))
        return text, meta_stage if meta_key and squash(text) == meta_key else Stage.GENERIC
    if page_title_key:
        starts = [
            line
            for line in lines_before_body
            if len(squash(line)) >= 6 and page_title_key.startswith(squash(line))
        ]
        if starts:
            return max(starts, key=len), Stage.GENERIC
    if nearest is not None:
        return cut_meta(element_text(nearest, index)), Stage.GENERIC
    if meta_title:
        return content.clean_line(meta_title), meta_stage
    if page_title:
        segments = [s for s in TITLE_SEPARATORS.split(page_title) if s]
        return (segments[0] if segments else page_title), Stage.TITLE_TAG
    return None, Stage.NONE


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
        key = cut_meta(squash(content.text_content(element)))
        if not 4 <= len(key) <= 200 or key == site_key or BREADCRUMB_START.match(key) or element.tag == "a":
            continue
        if element not in index.hidden and not any(a.tag == "a" for a in element.iterancestors()):
            headings.append((element, key))
    return headings


def _confirmed_heading(
    candidates: list[tuple[int, etree._Element, str]],
    nearest: etree._Element | None,
    page_title_key: str,
    meta_key: str,
) -> etree._Element | None:
    """The heading the ``<title>`` or the meta title confirms best (nearest the body, h1, longer)."""
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

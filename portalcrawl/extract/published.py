"""The publication date: the date shown on the page, refined by machine-readable dates, else the URL's."""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from portalcrawl.extract import content, metaline
from portalcrawl.extract.dates import ParsedDate, date_from_url, parse_date, precision_rank, refined_by
from portalcrawl.extract.meta import published_candidate
from portalcrawl.extract.stages import Stage
from portalcrawl.extract.title import HEADER_WINDOW

SCRIPT_DATE = re.compile(
    r"""(?:pubtime|publishtime|pubTime|publish_time|pubDate|publishDate|releaseTime)["']?\s*[=:]\s*["']"""
    r"""(?P<value>(?:19|20)\d\d[-/.年][^"']{3,30})["']"""
)
DATE_LINE_EXTRA_CHARS = 24
XXGK_PUBLISHED = ("发布日期", "生成日期", "发文日期")


def date_of(text: str | None, now: datetime | None, tz: str) -> ParsedDate | None:
    return parse_date(text, now=now, tz=tz) if text else None


def find_published(
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
        (published_candidate(government), Stage.GOV_META),
        (structured_published, Stage.STRUCTURED_DATA),
        (_hidden_pubtime(index), Stage.HIDDEN_META),
        (_script_date(tree), Stage.SCRIPT),
    ):
        if parsed := date_of(text, now, tz):
            machine.append((parsed, stage))
    visible: tuple[ParsedDate, str] | None = None
    xxgk_date = next((d for label in XXGK_PUBLISHED if (d := date_of(xxgk.get(label), now, tz))), None)
    if xxgk_date:
        visible = (xxgk_date, Stage.XXGK)
    for line in header_fields.date_lines + trailer_fields.date_lines:
        if visible:
            break
        if parsed := date_of(metaline.labelled_date_text(line), now, tz):
            visible = (parsed, Stage.META_LINE)
    for line in header[:HEADER_WINDOW]:
        if visible:
            break
        if not metaline.NOT_PUBLISHED.search(line) and is_date_line(line, now, tz):
            parsed = date_of(line, now, tz)
            if parsed and precision_rank(parsed.precision) <= precision_rank("day"):
                visible = (parsed, Stage.META_LINE)
    if visible:
        for candidate, machine_stage in machine:
            if refined := refined_by(visible[0], candidate):
                return refined, machine_stage
        return visible
    if machine:
        return machine[0]
    if url_date := date_from_url(url, tz=tz):
        return url_date, Stage.URL
    return None, Stage.NONE


def is_date_line(line: str, now: datetime | None, tz: str) -> bool:
    """A date with little else (a source name, a counter) or beside labelled meta fields, not a sentence
    that cites a date."""
    if len(line) > 100 or line.endswith("。"):
        return False
    parsed = date_of(line, now, tz)
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

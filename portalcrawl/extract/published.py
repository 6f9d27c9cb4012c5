"""The publication date: the date shown on the page, refined by machine-readable dates, else the URL's."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

from portalcrawl.extract import content, metaline
from portalcrawl.extract.dates import ParsedDate, date_from_url, parse_date, precision_rank, refined_by
from portalcrawl.extract.meta import published_candidate
from portalcrawl.extract.stages import Stage
from portalcrawl.extract.title import HEADER_WINDOW

# A publication time in a script variable or a JSON state object (``var pubtime='…'``,
# ``"publishTime": 1716193501000``, WeChat's ``var ct = "1659274471"``): a date string, or a Unix
# timestamp in seconds or milliseconds. Fetch and render times (``svr_time``, ``updateTime``) are not
# publication times and have no key here.
SCRIPT_DATE = re.compile(
    r"""(?:pubtime|pubTime|PubTime|pub_time|publishtime|publishTime|PublishTime|publish_time|"""
    r"""pubDate|pubdate|PubDate|publishDate|publishdate|PublishDate|publish_date|releaseTime|"""
    r"""release_time|datePublished|ptime|var ct)"""
    r"""["']?\s*[=:]\s*(?:new Date\()?(?:["'](?P<text>(?:19|20)\d\d[-/.年][^"'\n]{3,30})["']"""
    r"""|["']?(?P<stamp>1\d{9}(?:\d{3})?)(?![\d.]))"""
)
# Every SCRIPT_DATE key contains one of these; most scripts contain none.
SCRIPT_DATE_HINTS = ("pub", "Pub", "release", "ptime", "var ct")
# A JSON state lists other articles with their own times: the one nearest the headline is the page's.
SCRIPT_DATES_READ = 50
DATE_LINE_EXTRA_CHARS = 24
# A script that writes a date into the meta line is a line or two, not a library.
WRITER_CHARS = 300
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
    title: str | None,
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
    ):
        if parsed := date_of(text, now, tz):
            machine.append((parsed, stage))
    if script_date := _script_date(tree, title, now, tz):
        machine.append((script_date, Stage.SCRIPT))
    visible: tuple[ParsedDate, str] | None = None
    xxgk_date = next((d for label in XXGK_PUBLISHED if (d := date_of(xxgk.get(label), now, tz))), None)
    if xxgk_date:
        visible = (xxgk_date, Stage.XXGK)
    for line in header_fields.date_lines + trailer_fields.date_lines:
        if visible:
            break
        if parsed := date_of(metaline.labelled_date_text(line), now, tz):
            visible = (parsed, Stage.META_LINE)
    if not visible and (written := _written_date(tree, now, tz)):
        visible = (written, Stage.META_LINE)
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
    """A date with little else (a source name, a counter) or beside labelled meta fields or a byline, not
    a sentence that cites a date."""
    if len(line) > 100 or line.endswith("。"):
        return False
    parsed = date_of(line, now, tz)
    if parsed is None:
        return False
    if len(line) - len(parsed.raw) <= DATE_LINE_EXTRA_CHARS or metaline.has_meta_label(line):
        return True
    # ``By Jane Doe and John Smith | January 16, 2026``, ``Posted by Public Information Office | …``: a
    # byline (a person's or a unit's) beside the date.
    if (byline := metaline.AUTHOR_RE.search(line)) is None:
        return False
    name = metaline.clean_person(byline["value"])
    return metaline.looks_like_person(name) or metaline.LATIN_NAMES.fullmatch(name) is not None


def _hidden_pubtime(index: content.PageIndex) -> str | None:
    for element in index.pubtime:
        text = content.clean_line(content.text_content(element))
        if text and len(text) <= 40:
            return text
    return None


def _written_date(tree: etree._Element, now: datetime | None, tz: str) -> ParsedDate | None:
    """A date a script writes after a date label (``发布时间：<script>document.write('2024-05-13')``):
    shown on the page, though not in its HTML text."""
    for script in tree.iter("script"):
        text = script.text
        if not text or "write" not in text or script.get("src") is not None or len(text) > WRITER_CHARS:
            continue
        previous, parent = script.getprevious(), script.getparent()
        before = (previous.tail if previous is not None else parent.text if parent is not None else "") or ""
        label = before.strip()[-12:]
        labelled = metaline.DATE_LABEL_RE.search(label) and not metaline.NOT_PUBLISHED.search(label)
        if labelled and (parsed := date_of(text, now, tz)):
            return parsed
    return None


def _script_date(tree: etree._Element, title: str | None, now: datetime | None, tz: str) -> ParsedDate | None:
    """The publication time a script holds; of several, the one written nearest the headline."""
    found: list[tuple[int, re.Match[str], str]] = []
    for text in content.inline_scripts(tree):
        if not any(hint in text for hint in SCRIPT_DATE_HINTS):
            continue
        for match in SCRIPT_DATE.finditer(text):
            if match.start() and text[match.start() - 1].isalnum():
                continue  # the end of a longer word (``uptime``); ``first_publish_time`` is one
            found.append((len(found), match, text))
            if len(found) == SCRIPT_DATES_READ:
                break
    if not found:
        return None
    if title and len(found) > 1:
        found.sort(key=lambda f: (_distance(f[2], title, f[1].start()), f[0]))
    return _script_value(found[0][1], now, tz)


def _distance(script: str, title: str, at: int) -> int:
    """How far ``at`` lies from the nearest place the headline is written in ``script``."""
    window = script[max(0, at - 2000) : at + 2000]
    before, after = window.rfind(title, 0, min(at, 2000)), window.find(title, min(at, 2000))
    distances = [abs(place - min(at, 2000)) for place in (before, after) if place >= 0]
    return min(distances, default=sys.maxsize)


def _script_value(match: re.Match[str], now: datetime | None, tz: str) -> ParsedDate | None:
    if match["text"]:
        return date_of(match["text"], now, tz)
    stamp = match["stamp"]
    moment = datetime.fromtimestamp(int(stamp[:10]), ZoneInfo(tz))
    return ParsedDate(moment, "second", stamp)

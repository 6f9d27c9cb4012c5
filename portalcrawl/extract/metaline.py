"""Labelled meta lines (发布时间/来源/作者/责任编辑…), xxgk tables and bylines, parsed from text lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from portalcrawl.extract.content import nfkc
from portalcrawl.extract.dates import MONTH_NAME

DATE_LABELS = (
    "发布时间|发布日期|发布于|发表时间|发表于|发文日期|发文时间|信息时间|信息日期|公告时间|公开日期|"
    "生成日期|更新时间|日期|时间|发表|Veröffentlicht am|Published|Datum"
)
SOURCE_LABELS = "信息来源|文章来源|稿件来源|本文来源|新闻来源|来源于|来源|稿源|转载自|供稿单位|发布单位|出处"
AUTHOR_LABELS = "作者|记者|通讯员|撰稿|撰文|文字|文|Autor|Author|By"
# Photo credits end a byline's value (``文/张三 图/李四``, ``文字：张三 摄影：李四``) and name no author.
PHOTO_LABELS = "摄影|图片|图"
EDITOR_LABELS = "责任编辑|编辑|责编|选稿|审核|校对|编审"
VIEW_LABELS = "浏览次数|浏览量|浏览|访问量|访问次数|点击数|点击量|点击|阅读数|阅读量|阅读|字号|分享到"
ANY_LABEL = f"{DATE_LABELS}|{SOURCE_LABELS}|{AUTHOR_LABELS}|{EDITOR_LABELS}|{VIEW_LABELS}|{PHOTO_LABELS}"
LABEL_WORD = re.compile(ANY_LABEL)
# Any label in any case, searched in a lower-cased line: lines without one (most of them) skip the
# label patterns, whose look-behinds and IGNORECASE keep the engine from skipping ahead.
ANY_LABEL_LOWER = re.compile(ANY_LABEL.lower())
# A value runs to the next label, a separator or a run of spaces.
VALUE_STOP = (
    rf"(?=\s*(?:(?:{ANY_LABEL})\s*[:：]|(?:{EDITOR_LABELS}|{PHOTO_LABELS})\s*[/／]"
    rf"|[|｜【\[，,;；。]|\s{{2,}}|$))"
)
LABEL_START = r"(?:^|(?<=[\s|｜【\[（(\d，,》]))"

# Where a date starts inside a labelled value (``By Jane Doe January 16, 2026``): the value ends there.
DATE_IN_VALUE = re.compile(
    rf"\s+(?:(?:19|20)\d\d\s*[-年./]|(?:{MONTH_NAME})\.?\s+\d|\d{{1,2}}\s+(?:{MONTH_NAME})\b)"
)

SOURCE_RE = re.compile(
    rf"{LABEL_START}(?:{SOURCE_LABELS})(?:\s*[:：]\s*|\s+)"
    # ``人民网 - 人民日报``: a publication and its paper, one value across a spaced dash.
    rf"(?P<value>[^\s|｜【\[\]】)）]*?(?:\s[-—－]\s(?!\d|(?:{ANY_LABEL})(?:\s|$))[^\s|｜【\[\]】)）:：]{{2,}})?)"
    rf"(?=\s|[|｜【\[\]】)）]|(?:{ANY_LABEL})\s*[:：]|(?:19|20)\d\d[-/.年]|$)"
)
AUTHOR_RE = re.compile(
    rf"{LABEL_START}(?:(?:{AUTHOR_LABELS})\s*[:：/／]|(?:作者|记者|Autor|Author|By)\s)\s*"
    rf"(?P<value>[^|｜【\[]*?){VALUE_STOP}",
    re.IGNORECASE,
)
EDITOR_RE = re.compile(rf"(?:{EDITOR_LABELS})\s*[:：/／]\s*(?P<value>[^\s|｜【\[\]】)），,;；。]*)")
DATE_LABEL_RE = re.compile(rf"(?P<label>{DATE_LABELS})\s*[:：]?\s*", re.IGNORECASE)
LABELLED = re.compile(r"^[^\s:：]{1,8}\s*[:：]")
TRAILING_LABEL = re.compile(rf"(?:^|\s)(?:{SOURCE_LABELS}|{AUTHOR_LABELS})\s*[:：]$")
BARE_LABEL_LINE = re.compile(rf"^(?:{ANY_LABEL})\s*[:：]?$", re.IGNORECASE)
# Words that make a labelled date something other than the publication date.
NOT_PUBLISHED = re.compile(r"成文日期|最后更新|更新时间|修改时间|截止|有效期|印发日期|实施日期|施行")

# A date that is not the publication date, with its label, taken out of a line that also shows the
# publication date (``发布时间：2024-05-13 更新时间：2024-05-14 08:00``).
OTHER_DATE = re.compile(
    rf"(?:{NOT_PUBLISHED.pattern})[\u4e00-\u9fa5]{{0,4}}\s*[:：]\s*[\d年月日时分秒:/.\-]*(?:\s\d{{1,2}}:\d\d(?::\d\d)?)?"
)


def without_other_dates(line: str) -> str | None:
    """The line without its other dates, if a publication-date label is left; else ``None``."""
    if not NOT_PUBLISHED.search(line):
        return line
    rest = OTHER_DATE.sub(" ", line)
    return rest if not NOT_PUBLISHED.search(rest) and labelled_date_text(rest) is not None else None


CJK_NAME = r"[\u4e00-\u9fa5·]{2,5}"
NAME_LIST = rf"{CJK_NAME}(?:[\s、，,和]+{CJK_NAME})*"
# Organisations, not people: a name ending like these is a unit or a publication.
ORG_SUFFIX = re.compile(
    r"(?:局|委|办|厅|院|部|会|中心|处|所|站|队|组|社|报|网|台|司|府|馆|校|区|县|市|省|镇|乡|村|室|科|团|支部|"
    r"公司|集团|协会|学会|大学|学院|医院|银行|政府|整理|综合|编译|供稿|报道|"
    # Publications and accounts (国际在线, 参考消息, 中国广州发布): a source, never a person.
    r"在线|新闻|消息|频道|客户端|传媒|媒体|杂志|周刊|资讯|发布|视点|观察)$"
)
NOT_NAMES = frozenset(
    (
        "完",
        "待续",
        "图",
        "文",
        "摄",
        "本报",
        "新华社",
        "资料图",
        "图片",
        "记者",
        "通讯员",
        "整合",
        "报道",
        "摄影",
        "整理",
        "编译",
        "实习生",
    )
)
REPORTER_BYLINE = re.compile(
    rf"[（(]\s*(?:[\u4e00-\u9fa5]{{0,6}}?(?:记者|通讯员))(?:\s*[/、]\s*(?:记者|通讯员))?\s*"
    rf"(?P<names>{NAME_LIST})(?:\s*(?:整合|报道|摄影?|整理|编译))?[^）)]{{0,20}}[）)]"
)
DATELINE_BYLINE = re.compile(rf"电\s*[（(]\s*(?:记者\s*)?(?P<names>{NAME_LIST})\s*[）)]")
PHOTO_BYLINE = re.compile(
    rf"[（(]\s*(?:文\s*/\s*图|文图|图\s*/\s*文|文|撰稿|作者)\s*[/／:：\s]\s*(?P<names>{NAME_LIST})"
    rf"(?:\s+(?:{PHOTO_LABELS}|摄)\s*[/／:：]\s*{NAME_LIST})?\s*[）)]"
)
LOOSE_REPORTER = re.compile(rf"(?:^|[\s·])(?:\S{{0,8}})?记者\s*(?P<names>{NAME_LIST})")
# 杰西卡 发自 凹非寺 (tech media), 新华社记者 张三 发自 北京: a byline line of its own.
SENT_FROM_BYLINE = re.compile(rf"^(?:\S{{0,8}}记者\s*)?(?P<names>{NAME_LIST})\s+发自\s*\S{{2,10}}$")
# 文 | 张三, 作者丨李四: a byline line of its own, the label set off by a bar.
BAR_BYLINE = re.compile(rf"^(?:文|作者|撰文|撰稿)\s*[丨｜|]\s*(?P<names>{NAME_LIST})$")
# A role before the name: 文丨XX特约评论员 韩涵, 作者：…研究部部长、研究员徐占忱）
ROLE_WORDS = r"评论员|记者|通讯员|研究员|撰稿人|主笔|教授|主任|部长|院长|所长|会长|博士"
ROLE_NAME_BYLINE = re.compile(
    rf"(?:^|[（(]|\s)(?:文|作者|撰文|撰稿)\s*[丨｜|:：/／]\s*(?:[^）)]{{0,60}}?(?:{ROLE_WORDS}))\s*"
    rf"(?P<names>[\u4e00-\u9fa5·]{{2,3}})\s*(?:[）)]|$)"
)
CREDIT_CHARS = 120
# A two-character name padded to the width of three (``王乐文 方 敏``): one name.
PADDED_NAME = re.compile(r"(?<![\u4e00-\u9fa5])([\u4e00-\u9fa5]) ([\u4e00-\u9fa5])(?![\u4e00-\u9fa5])")
# （作者韩涵系政邦智库研究员）, （作者：南帆，系福建师范大学…）: the name before 系.
AUTHOR_IS_BYLINE = re.compile(r"[（(]\s*作者\s*[:：]?\s*(?P<names>[\u4e00-\u9fa5·]{2,3}?)\s*[，,]?\s*系")
NAME_SUFFIX = re.compile(r"(?:整合|报道|摄影|摄|整理|编译|供稿|发)$")
# (作者：方敏北京大学经济学院教授): a name followed by an academic affiliation.
AFFILIATED_BYLINE = re.compile(
    r"[（(]\s*作者\s*[:：]\s*(?P<names>[\u4e00-\u9fa5·]{2,3}?)[\u4e00-\u9fa5]{2,30}?"
    r"(?:教授|研究员|副研究员|院长|所长|主任|学者|博士|讲师)[）)]"
)
# A signature line: a Latin-script personal name alone on the last lines (German/English pages).
LATIN_NAME = re.compile(r"[A-ZÄÖÜ][\w'.-]+(?: [A-ZÄÖÜ][\w'.-]+){1,3}")
LATIN_NAMES = re.compile(rf"{LATIN_NAME.pattern}(?:(?:, | and | & ){LATIN_NAME.pattern})*")
# ``By Communications Team``, ``Posted by Public Information Office``: a unit, not a person.
LATIN_ORGANISATION = re.compile(
    r"\b(?:Office|Department|Dept|Council|Team|Staff|Communications|News|Press|Media|Service|Services|"
    r"Agency|Ministry|Bureau|Committee|Government|City|County|Administration|Desk|Editorial|Redaktion|"
    r"Pressestelle|Referat|Amt)\b"
)
CJK_CHAR = re.compile(r"[\u4e00-\u9fa5]")
TRAILING_NAMES = re.compile(rf"[（(]\s*(?P<names>{NAME_LIST})\s*[）)]\s*$")

XXGK_LABELS = (
    "索引号",
    "发布机构",
    "发文机关",
    "责任部门",
    "文号",
    "发文字号",
    "成文日期",
    "发文日期",
    "发布日期",
    "生成日期",
    "主题分类",
    "有效性",
    "文件名称",
    "名称",
    "标题",
)
# The document's name in an xxgk table: its headline.
XXGK_TITLES = ("文件名称", "名称", "标题")

XXGK_ONLY = frozenset(
    ("索引号", "发布机构", "发文机关", "责任部门", "文号", "发文字号", "成文日期", "主题分类")
)

XXGK_HINT = re.compile(
    r"索\s*引\s*号|发\s*布\s*机\s*构|成\s*文\s*日\s*期|发\s*文\s*机\s*关|责\s*任\s*部\s*门|文\s*号"
)


def _spaced(label: str) -> str:
    return r"\s*".join(re.escape(ch) for ch in label)


XXGK_RE = re.compile(
    rf"(?:^|(?<=\s))(?P<label>{'|'.join(_spaced(label) for label in XXGK_LABELS)})\s*[:：]?\s*"
    r"(?P<value>[^\s:：]+(?:\s\d{1,2}:\d{2}(?::\d{2})?)?)"
)


@dataclass
class MetaLine:
    """What labelled lines said; ``None`` means no label, ``""`` a label with an empty value."""

    source: str | None = None
    author: str | None = None
    editor: str | None = None
    date_lines: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    return nfkc(text)


def join_split_labels(lines: list[str]) -> list[str]:
    """Glue a label that sits alone on its line (``来源`` / ``人民网``) to the value on the next line."""
    joined: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if (
            (BARE_LABEL_LINE.match(line) or (line.endswith((":", "：")) and TRAILING_LABEL.search(line)))
            and index + 1 < len(lines)
            and not BARE_LABEL_LINE.match(lines[index + 1])
            and not LABELLED.match(lines[index + 1])
        ):
            joined.append(f"{line.rstrip(':： ')}：{lines[index + 1]}")
            index += 2
            continue
        joined.append(line)
        index += 1
    return joined


def clean_source(value: str) -> str:
    value = re.sub(r"\s*[（(][^）)]*[）)]$", "", value.strip())
    return value.strip(" ：:|｜-—")


def clean_person(value: str) -> str:
    value = value.strip(" ：:|｜,，;；)）]】")
    if not CJK_CHAR.search(value):
        # Latin names keep their own separators: ``Jane Doe and John Smith``.
        return " ".join(value.split()).rstrip(".")
    names = (NAME_SUFFIX.sub("", n) if len(n) > 3 else n for n in re.split(r"[\s、，,和]+", value) if n)
    return " ".join(n for n in names if n and n not in NOT_NAMES and not LABEL_WORD.fullmatch(n))


def looks_like_person(value: str) -> bool:
    """A personal name list (Chinese or Latin), not an organisation or a stray word."""
    if not value or len(value) > 40 or value in NOT_NAMES:
        return False
    if re.fullmatch(NAME_LIST, value):
        # Units are long (德清县发改局); two- and three-character names may end like one (刘会).
        # 人民网, 中新社: three characters, yet a publication.
        return all(
            not (len(n) >= 4 and ORG_SUFFIX.search(n))
            and not (len(n) == 3 and n[-1] in "网报社台刊")
            and n not in NOT_NAMES
            for n in value.split()
        )
    return LATIN_NAMES.fullmatch(value) is not None and not LATIN_ORGANISATION.search(value)


# A user name as portals and blogs show it (maomaobear, li_wei88); not a CMS account or an editor code.
PEN_NAME = re.compile(r"[A-Za-z][a-z0-9_.-]*[a-z][A-Za-z0-9_.-]*")
CMS_ACCOUNTS = frozenset(("admin", "administrator", "root", "system", "editor", "webmaster", "guest", "user"))


def is_pen_name(value: str) -> bool:
    return (
        3 <= len(value) <= 30 and PEN_NAME.fullmatch(value) is not None and value.lower() not in CMS_ACCOUNTS
    )


def name_before_date(lines: list[str], labelled_author: str | None) -> str | None:
    """The name in front of the date on the header's meta line (``杰西卡 2025-04-21 13:09:10 来源：量子位``,
    ``maomaobear 2015-06-19 11:20`` signed ``作者 maomaobear`` below the body): a byline when the line's
    other field is labelled 来源 (an unlabelled name there is otherwise the publishing account) or the
    name is the 作者 the page names elsewhere."""
    for line in lines[:HEADER_LINES]:
        if len(line) > 80 or not (match := DATE_TIME.search(line)):
            continue
        tokens = [t for t in MEDIA_SPLIT.split(line[: match.start()]) if t]
        if len(tokens) != 1:
            continue
        name = normalise(tokens[0])
        if name == labelled_author and (looks_like_person(name) or is_pen_name(name)):
            return name
        if SOURCE_RE.search(normalise(line[match.end() :])) and looks_like_person(name):
            return name
    return None


def parse_meta_lines(lines: list[str]) -> MetaLine:
    """Labelled fields found in a header or trailer region (first occurrence of each label wins)."""
    found = MetaLine()
    for line in join_split_labels([normalise(line) for line in lines]):
        if not ANY_LABEL_LOWER.search(line.lower()):
            continue
        if found.source is None and (match := SOURCE_RE.search(line)):
            found.source = clean_source(match["value"])
        if found.editor is None and (match := EDITOR_RE.search(line)):
            found.editor = clean_person(match["value"]) or None
        if found.author is None:
            # Every byline field of the line: ``记者：张三 通讯员：李四``.
            names = [
                clean_person(DATE_IN_VALUE.split(match["value"], maxsplit=1)[0])
                for match in AUTHOR_RE.finditer(line)
                if not line[max(0, match.start() - 2) : match.start()].endswith(("责任", "编"))
            ]
            if names:
                found.author = " ".join(dict.fromkeys(filter(None, names)))
        if DATE_LABEL_RE.search(line) and (dated := without_other_dates(line)):
            found.date_lines.append(dated)
    return found


META_LABEL = re.compile(rf"(?:{SOURCE_LABELS}|{AUTHOR_LABELS}|{EDITOR_LABELS}|{VIEW_LABELS})\s*[:：]")


def has_meta_label(line: str) -> bool:
    return META_LABEL.search(line) is not None


def labelled_date_text(line: str) -> str | None:
    """The text after the first publication-date label of a line, where a date parser should look."""
    for match in DATE_LABEL_RE.finditer(line):
        rest = line[match.end() : match.end() + 40]
        if rest[:1].isdigit():
            return rest
    return None


def xxgk_fields(lines: list[str]) -> dict[str, str]:
    """信息公开 table fields (索引号, 发布机构, 文号, 成文日期, 发文日期…), labels possibly spaced out."""
    fields: dict[str, str] = {}
    # Labels and values often sit in separate cells or lines, so the region is read as one string.
    # Normalised line by line (remembered per line; a space between lines never composes with either).
    text = " ".join(normalise(line) for line in lines if len(line) <= 400)
    if not XXGK_HINT.search(text):
        return fields
    for match in XXGK_RE.finditer(text):
        label = re.sub(r"\s+", "", match["label"])
        value = match["value"].strip()
        if value and label not in fields and not re.fullmatch("|".join(XXGK_LABELS), value):
            fields[label] = value
    # A lone 发布日期 is an ordinary meta line; a table has several labels, at least one xxgk-only.
    if len(fields) < 2 or not XXGK_ONLY.intersection(fields):
        return {}
    return fields


def byline_author(
    first_lines: list[str],
    last_lines: list[str],
    signature_lines: Sequence[str] = (),
    header_lines: Sequence[str] = (),
) -> str | None:
    """A reporter byline in the header block or the opening paragraphs, or a trailing
    ``（张巨峰）``/``(文/图 …)`` credit.

    The lines must keep the spaces between CJK words: they separate the names of several reporters.
    Header lines are read for unlabelled bylines only: their labelled fields are ``parse_meta_lines``'.
    """
    unlabelled = [REPORTER_BYLINE, DATELINE_BYLINE, SENT_FROM_BYLINE, LOOSE_REPORTER]
    labelled = [BAR_BYLINE, ROLE_NAME_BYLINE, AUTHOR_RE]
    lines = [(raw, False) for raw in header_lines] + [(raw, True) for raw in first_lines]
    for raw, in_body in lines:
        line = PADDED_NAME.sub(r"\1\2", normalise(raw))
        if len(line) <= 40:
            patterns = unlabelled + labelled if in_body else unlabelled
        else:
            patterns = [REPORTER_BYLINE, DATELINE_BYLINE]
        for pattern in patterns:
            match = pattern.search(line[:120])
            if match and looks_like_person(clean_person(match[match.lastindex or 0])):
                return clean_person(match[match.lastindex or 0])
    for line in reversed(signature_lines):
        if LATIN_NAME.fullmatch(normalise(line)):
            return normalise(line)
    for raw in reversed(last_lines):
        line = normalise(raw)
        patterns = [PHOTO_BYLINE, AFFILIATED_BYLINE, AUTHOR_IS_BYLINE, REPORTER_BYLINE, TRAILING_NAMES]
        patterns += [LOOSE_REPORTER] if len(line) <= 60 else []
        # A closing credit names the author's post first: the name ends it, the label is further back.
        patterns += [ROLE_NAME_BYLINE]
        for pattern in patterns:
            match = pattern.search(line[-CREDIT_CHARS:] if pattern is ROLE_NAME_BYLINE else line[-60:])
            if match and looks_like_person(clean_person(match["names"])):
                return clean_person(match["names"])
    return None


# How many header lines a date line is looked for in.
HEADER_LINES = 15
DATE_HINT = re.compile(r"(?:19|20)\d\d\s*[-年./]\s*\d{1,2}")
MEDIA_NAME = re.compile(
    r"^[\u4e00-\u9fa5A-Za-z0-9《》·\-]{2,20}?(?:网|报|社|台|刊|科技|新闻|财经|日报|时报|晚报|在线|频道|客户端)"
    r"(?:[-—][\u4e00-\u9fa5《》]{2,12})?$"
)
ACCOUNT_NAME = re.compile(r"[\u4e00-\u9fa5]{2,8}")
MEDIA_SPLIT = re.compile(r"[\s·|｜•]+")
DATE_TIME = re.compile(
    r"(?:19|20)\d\d\s*[-年./]\s*\d{1,2}\s*[-月./]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
)


PUBLICATION = re.compile(
    r"^[\u4e00-\u9fa5A-Za-z0-9《》·]{2,20}?(?:网|报|社|台|刊|在线|新闻|消息|频道|客户端|传媒|媒体|杂志|周刊|资讯|发布"
    r"|融媒体中心)$"
)


def publication(value: str | None) -> str | None:
    """``value`` if it names a publication or a publishing account, not a person (国际在线, 掌上XX)."""
    if not value or looks_like_person(value):
        return None
    return value if PUBLICATION.match(value) else None


def publication_beside_date(value: str | None, lines: list[str]) -> str | None:
    """A publication (from the page's meta author) that the date line of the header also shows."""
    name = publication(value)
    if name is None:
        return None
    for line in lines[:HEADER_LINES]:
        if len(line) <= 80 and DATE_HINT.search(line) and name in MEDIA_SPLIT.split(line):
            return name
    return None


def media_name_near_date(lines: list[str]) -> str | None:
    """An unlabelled publication name beside the date (``凤凰网科技·2025年04月22日``, ``证券时报网``
    below it), else the account name right before the date on a short date line
    (``金融市场 棱镜 2019-09-23 07:48``)."""
    for index, line in enumerate(lines):
        if not DATE_HINT.search(line) or len(line) > 80:
            continue
        before, _, after = DATE_TIME.sub("\x00", line, count=1).partition("\x00")
        tokens_before = [t for t in MEDIA_SPLIT.split(before) if t]
        tokens = tokens_before + [t for t in MEDIA_SPLIT.split(after) if t and not DATE_HINT.search(t)]
        neighbours = tokens + lines[index + 1 : index + 2] + lines[max(0, index - 1) : index]
        for neighbour in neighbours:
            candidate = normalise(neighbour).strip()
            if MEDIA_NAME.match(candidate):
                return candidate
        if tokens_before and len(tokens) <= 3 and ACCOUNT_NAME.fullmatch(tokens_before[-1]):
            return tokens_before[-1]
    return None

"""Find and normalise publication dates in Chinese portal text and URLs, without dateparser."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from urllib.parse import urlsplit

from portalcrawl.extract import families
from portalcrawl.extract.content import nfkc

EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
# The zone of dates shown without one, unless a profile or PORTALCRAWL_TIMEZONE names another.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Finest first: a lower index is more precise evidence.
PRECISION_ORDER = ("second", "minute", "hour", "day", "month", "year")

# ``datetime.isoformat`` cuts a time (and keeps its offset) at these precisions.
TIMESPECS = {"second": "seconds", "minute": "minutes", "hour": "hours"}


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """A date found in text, with how precisely the text gave it.

    ``value`` is always time-zone aware: the offset written in the text when there was one, otherwise
    the portal's zone. Parts below ``precision`` are zero and carry no meaning.

    ``isoformat()`` truncates to the precision so that stored strings never claim more than the page
    said: ``second`` → ``2026-01-16T19:01:55+08:00``, ``minute`` → ``2026-01-16T19:01+08:00``,
    ``hour`` → ``2026-01-16T19+08:00`` (ISO 8601 reduced precision, which ``datetime.fromisoformat``
    reads back), ``day`` → ``2026-01-16``, ``month`` → ``2026-01``, ``year`` → ``2026``. Dates without a
    time carry no offset: a calendar day is the portal's local day, and ISO 8601 has no offset for dates.
    """

    value: datetime
    precision: str
    raw: str

    def isoformat(self) -> str:
        v = self.value
        if self.precision in TIMESPECS:
            return v.isoformat(timespec=TIMESPECS[self.precision])
        if self.precision == "day":
            return v.date().isoformat()
        if self.precision == "month":
            return f"{v.year:04d}-{v.month:02d}"
        return f"{v.year:04d}"


# A clock time after a date: 19:01, 19:01:55(.123), 10时20分(30秒), 10时, optional 上午/下午 before it.
_TIME = (
    r"(?P<ampm>上午|中午|下午|晚上)?\s*"
    r"(?:(?P<H>[01]?\d|2[0-3])\s*(?::|时|点)\s*(?P<M>[0-5]?\d)"
    r"(?:\s*(?::|分)\s*(?P<S>[0-5]?\d)(?:\.\d+)?\s*秒?|\s*分)?"
    r"|(?P<Honly>[01]?\d|2[0-3])\s*(?:时|点)(?!\s*\d))"
)
_OFFSET = r"(?P<tz>Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?"

_ABSOLUTE = re.compile(
    # Xinhua prints year and "09/30" in separate spans, which join with only a space between.
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?:\s*(?:年|[-/.])\s*|\s+(?=\d{1,2}/\d{1,2}(?!\d)))(?P<m>\d{1,2})\s*(?:月|[-/.])\s*(?P<d>\d{1,2})(?!\d)"
    r"\s*[日号]?"
    # Time separated by spaces, ISO "T", or gov.cn's "2007-08-20-23:59:59" hyphen.
    rf"(?:(?:\s*[T-]\s*|\s*)(?:{_TIME}){_OFFSET})?"
)
# "2013 年 6 月" with no day: month precision. Only with 年/月, since "2013-06" is too ambiguous in text.
_YEAR_MONTH = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月(?!\s*\d)")
_CN_DIGITS = "〇○零一二三四五六七八九"
_CN_NUMERAL_DATE = re.compile(
    rf"(?P<y>[{_CN_DIGITS}]{{4}})\s*年\s*(?P<m>[一二三四五六七八九十]{{1,2}})\s*月"
    r"\s*(?P<d>[一二三四五六七八九十]{1,3})\s*[日号]"
)
_LABEL = (
    r"(?:发布时间|发布日期|发布于|发表时间|发表日期|发文时间|发文日期|信息时间|信息日期|更新时间|"
    r"公告时间|公开日期|成文日期|生成日期|加入时间|日期|时间)"
)
# "20260116" only when it is the whole value (optionally labelled and with a time): in running text
# eight digits are as often a document number as a date.
_COMPACT = re.compile(
    rf"\s*(?:{_LABEL}\s*[:：]?\s*)?(?P<y>(?:19|20)\d{{2}})(?P<m>\d{{2}})(?P<d>\d{{2}})"
    rf"(?:\s*(?:{_TIME}))?\s*"
)
_RELATIVE_AGO = re.compile(
    r"(?P<n>\d+|半)\s*(?P<unit>秒|分钟|分鐘|分|小时|小時|个小时|天|日|周|星期|个月)\s*[以之]?前"
)
_RELATIVE_DAY = re.compile(rf"(?P<word>刚刚|剛剛|今天|今日|昨天|昨日|前天)(?:\s*(?:{_TIME}))?")
_YEARLESS_CN = re.compile(rf"(?<![\d年])(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*[日号](?:\s*(?:{_TIME}))?")
# "01-16 10:20" / "01/16": two-digit month and day so that "1-2" in prose is not a date.
_YEARLESS_NUMERIC = re.compile(
    rf"(?<![\d\-/.:])(?P<m>0[1-9]|1[0-2])[-/](?P<d>0[1-9]|[12]\d|3[01])(?![\d\-/.])(?:\s+(?:{_TIME}))?"
)

# Days and months in article URLs: the CMS families' own forms (TRS t20260116_…, Hanweb /art/2026/1/16/),
# then the generic dated directories.
_URL_DAY_PATTERNS = tuple(re.compile(pattern) for pattern in families.URL_DATES)
_URL_MONTH_PATTERNS = tuple(re.compile(pattern) for pattern in families.URL_MONTHS)

# Every form above contains a digit, a Chinese numeral or one of these words: the fast path for text without.
_ANY_DATE_SIGN = re.compile(r"[0-9〇○零一二三四五六七八九十]|刚刚|剛剛|今天|今日|昨天|昨日|前天")

ENGLISH_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
MONTH_NAME = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:tember|t)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
# English datelines: ``January 16, 2026``, ``Jan. 16, 2026``, ``16 January 2026``.
ENGLISH_DATE = re.compile(
    rf"\b(?:(?P<month_first>{MONTH_NAME})\.?\s+(?P<day_first>\d{{1,2}})(?:st|nd|rd|th)?,?"
    rf"|(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<month>{MONTH_NAME})\.?,?)\s+(?P<year>(?:19|20)\d\d)\b"
)
_LATIN = re.compile(r"[A-Za-z]")

_UNIT_SECONDS = {
    "秒": 1,
    "分钟": 60,
    "分鐘": 60,
    "分": 60,
    "小时": 3600,
    "小時": 3600,
    "个小时": 3600,
    "天": 86400,
    "日": 86400,
    "周": 7 * 86400,
    "星期": 7 * 86400,
}
_UNIT_PRECISION = {"秒": "minute", "分钟": "minute", "分鐘": "minute", "分": "minute"}
_DAYS_BACK = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    return zoneinfo.ZoneInfo(name)


def _cn_small_number(text: str) -> int:
    """一 → 1, 十 → 10, 十六 → 16, 二十 → 20, 三十一 → 31."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    if "十" not in text:
        return digits.get(text, 0)
    tens, _, units = text.partition("十")
    return (digits.get(tens, 0) if tens else 1) * 10 + (digits.get(units, 0) if units else 0)


def _cn_year(text: str) -> int:
    return int("".join(str("〇一二三四五六七八九".index(c)) if c not in "○零" else "0" for c in text))


def _time_parts(m: re.Match[str]) -> tuple[int, int, int, str] | None:
    """Hour, minute, second and precision of the _TIME groups, or None when no time matched."""
    if m.group("Honly") is not None:
        hour, minute, second, precision = int(m.group("Honly")), 0, 0, "hour"
    elif m.group("H") is not None:
        hour, minute = int(m.group("H")), int(m.group("M"))
        second = int(m.group("S")) if m.group("S") is not None else 0
        precision = "second" if m.group("S") is not None else "minute"
    else:
        return None
    if m.group("ampm") in {"下午", "晚上"} and hour < 12:
        hour += 12
    return hour, minute, second, precision


def _offset(text: str | None, default: tzinfo) -> tzinfo:
    if not text:
        return default
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _build(ymd: tuple[int, int, int], m: re.Match[str] | None, zone: tzinfo, raw: str) -> ParsedDate | None:
    """The date ``ymd`` at the time matched by ``m``'s _TIME groups, or None if the date does not exist."""
    year, month, day = ymd
    try:
        day_value = date(year, month, day)
    except ValueError:
        return None
    parts = _time_parts(m) if m is not None else None
    if parts is None:
        return ParsedDate(datetime(year, month, day, tzinfo=zone), "day", raw)
    hour, minute, second, precision = parts
    tz_text = m.groupdict().get("tz") if m is not None else None
    value = datetime.combine(day_value, datetime.min.time()).replace(
        hour=hour, minute=minute, second=second, tzinfo=_offset(tz_text, zone)
    )
    return ParsedDate(value, precision, raw)


def _first_absolute(text: str, zone: tzinfo) -> tuple[int, ParsedDate] | None:
    for m in _ABSOLUTE.finditer(text):
        parsed = _build((int(m["y"]), int(m["m"]), int(m["d"])), m, zone, m.group(0).strip())
        if parsed is not None:
            return m.start(), parsed
    return None


def _first_year_month(text: str, zone: tzinfo) -> tuple[int, ParsedDate] | None:
    for m in _YEAR_MONTH.finditer(text):
        month = int(m["m"])
        if 1 <= month <= 12:
            return m.start(), ParsedDate(datetime(int(m["y"]), month, 1, tzinfo=zone), "month", m.group(0))
    return None


def _first_cn_numeral(text: str, zone: tzinfo) -> tuple[int, ParsedDate] | None:
    for m in _CN_NUMERAL_DATE.finditer(text):
        ymd = (_cn_year(m["y"]), _cn_small_number(m["m"]), _cn_small_number(m["d"]))
        parsed = _build(ymd, None, zone, m[0])
        if parsed is not None:
            return m.start(), parsed
    return None


# Largest count in an "N units ago" phrase that can still be an age (10,000 days is 27 years).
MAX_RELATIVE_AMOUNT = 10_000


def _first_relative(text: str, now: datetime) -> tuple[int, ParsedDate] | None:
    found: list[tuple[int, ParsedDate]] = []
    ago = _RELATIVE_AGO.search(text)
    amount = 0.0
    if ago is not None:
        amount = 0.5 if ago["n"] == "半" else int(ago["n"])
    # "202620262天前" is a number run into a unit, not an age: no portal shows ages in millennia.
    if ago is not None and amount <= MAX_RELATIVE_AMOUNT:
        unit = ago["unit"]
        if unit == "个月":
            months = int(amount)
            year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
            value = now.replace(year=year, month=month + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
            found.append((ago.start(), ParsedDate(value, "month", ago[0])))
        else:
            value = now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
            precision = _UNIT_PRECISION.get(unit, "hour" if _UNIT_SECONDS[unit] == 3600 else "day")
            found.append((ago.start(), _truncate(value, precision, ago[0])))
    word = _RELATIVE_DAY.search(text)
    if word is not None:
        if word["word"] in {"刚刚", "剛剛"}:
            found.append((word.start(), _truncate(now, "minute", word["word"])))
        else:
            day_value = (now - timedelta(days=_DAYS_BACK[word["word"]])).date()
            ymd = (day_value.year, day_value.month, day_value.day)
            parsed = _build(ymd, word, now.tzinfo or UTC, word[0])
            if parsed is not None:
                found.append((word.start(), parsed))
    return min(found, key=lambda hit: hit[0]) if found else None


def _first_yearless(text: str, now: datetime) -> tuple[int, ParsedDate] | None:
    zone = now.tzinfo or UTC
    found: list[tuple[int, ParsedDate]] = []
    for pattern in (_YEARLESS_CN, _YEARLESS_NUMERIC):
        for m in pattern.finditer(text):
            parsed = _most_recent(int(m["m"]), int(m["d"]), m, now, zone)
            if parsed is not None:
                found.append((m.start(), parsed))
                break
    return min(found, key=lambda hit: hit[0]) if found else None


def _most_recent(month: int, day: int, m: re.Match[str], now: datetime, zone: tzinfo) -> ParsedDate | None:
    """This year's date if it is not after ``now``, else last year's (a page never shows a future date)."""
    for year in (now.year, now.year - 1):
        parsed = _build((year, month, day), m, zone, m.group(0).strip())
        if parsed is None:
            continue
        if parsed.precision == "day" and parsed.value.date() <= now.date():
            return parsed
        if parsed.precision != "day" and parsed.value <= now:
            return parsed
    return None


def _truncate(value: datetime, precision: str, raw: str) -> ParsedDate:
    if precision == "minute":
        value = value.replace(second=0, microsecond=0)
    elif precision == "hour":
        value = value.replace(minute=0, second=0, microsecond=0)
    else:
        value = value.replace(hour=0, minute=0, second=0, microsecond=0)
    return ParsedDate(value, precision, raw)


def parse_date(
    text: str | None, *, now: datetime | None = None, tz: str = DEFAULT_TIMEZONE
) -> ParsedDate | None:
    """The first date written in ``text``, or None.

    Absolute dates (numeric, 年月日, full-width, Chinese numerals, ISO, gov.cn ``YYYY-MM-DD-HH:MM:SS``)
    need nothing else; relative (``3小时前``, ``昨天 10:20``) and year-less (``1月16日``) forms are resolved
    against ``now`` and ignored without it. Times without an offset are in ``tz``.
    """
    if not text:
        return None
    text = nfkc(text)
    zone = _zone(tz)
    compact = _COMPACT.fullmatch(text)
    if compact is not None:
        return _build((int(compact["y"]), int(compact["m"]), int(compact["d"])), compact, zone, text.strip())
    if not _ANY_DATE_SIGN.search(text):
        return None
    hits = [
        hit
        for hit in (
            _first_absolute(text, zone),
            _first_year_month(text, zone),
            _first_cn_numeral(text, zone) if "年" in text else None,
        )
        if hit is not None
    ]
    if now is not None:
        # A relative or year-less date only matters if it comes before the first dated one.
        head = text[: min(hit[0] for hit in hits)] if hits else text
        local_now = now.astimezone(zone) if now.tzinfo is not None else now.replace(tzinfo=zone)
        hits.extend(
            hit
            for hit in (_first_relative(head, local_now), _first_yearless(head, local_now))
            if hit is not None
        )
    if not hits:
        # English datelines only when nothing else is dated: Chinese pages quote English text too.
        return _english_date(text, zone) if _LATIN.search(text) else None
    return min(hits, key=lambda hit: hit[0])[1]


def _english_date(text: str, zone: tzinfo) -> ParsedDate | None:
    match = ENGLISH_DATE.search(text)
    if match is None:
        return None
    month = ENGLISH_MONTHS[(match["month"] or match["month_first"])[:3].lower()]
    day = int(match["day"] or match["day_first"])
    return _build((int(match["year"]), month, day), None, zone, match[0])


def date_from_url(url: str, tz: str = DEFAULT_TIMEZONE) -> ParsedDate | None:
    """The publication date encoded in an article URL's path (``families.URL_DATES``), or None."""
    path = urlsplit(url).path
    zone = _zone(tz)
    for pattern in _URL_DAY_PATTERNS:
        for m in pattern.finditer(path):
            parsed = _build((int(m["y"]), int(m["m"]), int(m["d"])), None, zone, m.group(0))
            if parsed is not None:
                return parsed
    for pattern in _URL_MONTH_PATTERNS:
        if month := pattern.search(path):
            return ParsedDate(datetime(int(month["y"]), int(month["m"]), 1, tzinfo=zone), "month", month[0])
    return None


def precision_rank(precision: str) -> int:
    """0 for ``second`` up to 5 for ``year``; an unknown precision ranks below them all."""
    return PRECISION_ORDER.index(precision) if precision in PRECISION_ORDER else len(PRECISION_ORDER)


def refined_by(coarse: ParsedDate, fine: ParsedDate) -> ParsedDate | None:
    """``fine``, if it is more precise than ``coarse`` and agrees with it at ``coarse``'s precision.

    The one rule for combining two pieces of evidence of the same date (a visible date and a machine
    one, a page date and the listing's): the more precise wins when they agree. A shown day carries no
    offset, so a time on that day in its own offset agrees with it; otherwise ``fine`` is compared in
    ``coarse``'s zone, and returned in it.
    """
    if precision_rank(fine.precision) >= precision_rank(coarse.precision):
        return None
    if precision_rank(coarse.precision) >= precision_rank("day") and (
        ParsedDate(fine.value, coarse.precision, fine.raw).isoformat() == coarse.isoformat()
    ):
        return fine
    local = ParsedDate(fine.value.astimezone(coarse.value.tzinfo), fine.precision, fine.raw)
    agrees = ParsedDate(local.value, coarse.precision, local.raw).isoformat() == coarse.isoformat()
    return local if agrees else None


def is_plausible(parsed: ParsedDate, now: datetime) -> bool:
    """Whether a publication date can be true: not before 1990 and at most a day after ``now``."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=parsed.value.tzinfo)
    return EARLIEST_PLAUSIBLE <= parsed.value <= now + timedelta(days=1)

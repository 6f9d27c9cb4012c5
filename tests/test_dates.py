"""parse_date, date_from_url and is_plausible on the formats portals actually print."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portalcrawl.extract.dates import ParsedDate, date_from_url, is_plausible, parse_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 16, 20, 0, tzinfo=SHANGHAI)

ABSOLUTE = [
    ("2026-01-16 19:01:55", "2026-01-16T19:01:55+08:00", "second"),
    ("2026-01-16 19:01", "2026-01-16T19:01+08:00", "minute"),
    ("2026/1/16", "2026-01-16", "day"),
    ("2026.01.16", "2026-01-16", "day"),
    ("2026年01月16日 10:20", "2026-01-16T10:20+08:00", "minute"),
    ("2026年1月6日10时20分", "2026-01-06T10:20+08:00", "minute"),
    ("2026年1月6日10时20分30秒", "2026-01-06T10:20:30+08:00", "second"),
    ("2026年1月6日10时", "2026-01-06T10+08:00", "hour"),
    ("2026 年 1 月 6 日", "2026-01-06", "day"),
    ("２０２６年１月１６日　１９：０１", "2026-01-16T19:01+08:00", "minute"),
    ("2007-08-20-23:59:59", "2007-08-20T23:59:59+08:00", "second"),
    ("2026-01-16T19:01:55", "2026-01-16T19:01:55+08:00", "second"),
    ("2026-01-16T11:01:55Z", "2026-01-16T11:01:55+00:00", "second"),
    ("2026-01-16T19:01:55.250+09:00", "2026-01-16T19:01:55+09:00", "second"),
    ("2026-01-16T19:01-0530", "2026-01-16T19:01-05:30", "minute"),
    ("20260116", "2026-01-16", "day"),
    ("发布日期：20260116", "2026-01-16", "day"),
    ("二〇二六年一月十六日", "2026-01-16", "day"),
    ("二○二五年十二月三十一日", "2025-12-31", "day"),
    ("二〇二六年十月二十日", "2026-10-20", "day"),
    ("2026 /01-16 19:01", "2026-01-16T19:01+08:00", "minute"),
    ("2026 09/30 06:48:23", "2026-09-30T06:48:23+08:00", "second"),
    ("2026年1月16日 下午6:25", "2026-01-16T18:25+08:00", "minute"),
    ("2013 年 6 月", "2013-06", "month"),
    ("发布时间：2026-01-16 来源：XX日报", "2026-01-16", "day"),
    (
        "发布时间：2026-01-16 19:01:55 来源：XX日报 作者：张三 浏览次数：123",
        "2026-01-16T19:01:55+08:00",
        "second",
    ),
    ("【字体：大 中 小】 2026年01月16日 10:20 来源：商讯", "2026-01-16T10:20+08:00", "minute"),
    ("时间:2019-09-18 06:23 来源：山西日报", "2019-09-18T06:23+08:00", "minute"),
    # The first date wins, not the longest or the last.
    ("2026-01-16 更新于 2026-02-01 10:00", "2026-01-16", "day"),
    ("发布日期：2016-11-22 成文日期：2016年11月20日", "2016-11-22", "day"),
    # English datelines, used only when nothing else on the line is a date.
    ("Posted January 16, 2026 by the Mayor's Office", "2026-01-16", "day"),
    ("Published: 16 Jan. 2026", "2026-01-16", "day"),
    ("Updated Jan 16, 2026 — 2026-02-01 10:00", "2026-02-01T10:00+08:00", "minute"),
]


@pytest.mark.parametrize(("text", "expected", "precision"), ABSOLUTE)
def test_absolute_dates(text: str, expected: str, precision: str) -> None:
    parsed = parse_date(text)
    assert parsed is not None
    assert (parsed.isoformat(), parsed.precision) == (expected, precision)
    assert parsed.value.tzinfo is not None


RELATIVE = [
    ("刚刚", "2026-01-16T20:00+08:00", "minute"),
    ("5分钟前", "2026-01-16T19:55+08:00", "minute"),
    ("30秒前", "2026-01-16T19:59+08:00", "minute"),
    ("3小时前", "2026-01-16T17+08:00", "hour"),
    ("昨天 10:20", "2026-01-15T10:20+08:00", "minute"),
    ("昨天", "2026-01-15", "day"),
    ("前天", "2026-01-14", "day"),
    ("2天前", "2026-01-14", "day"),
    ("今天 08:00", "2026-01-16T08:00+08:00", "minute"),
    ("1周前", "2026-01-09", "day"),
    ("1月16日", "2026-01-16", "day"),
    ("1月17日", "2025-01-17", "day"),
    ("12月31日 09:15", "2025-12-31T09:15+08:00", "minute"),
    ("01-16 10:20", "2026-01-16T10:20+08:00", "minute"),
    ("01-16 21:20", "2025-01-16T21:20+08:00", "minute"),
    ("发布于 3小时前 · 来源：XX", "2026-01-16T17+08:00", "hour"),
]


@pytest.mark.parametrize(("text", "expected", "precision"), RELATIVE)
def test_relative_and_yearless_dates_resolve_against_now(text: str, expected: str, precision: str) -> None:
    parsed = parse_date(text, now=NOW)
    assert parsed is not None
    assert (parsed.isoformat(), parsed.precision) == (expected, precision)


def test_relative_dates_use_the_portal_zone_for_a_utc_clock() -> None:
    parsed = parse_date("昨天 10:20", now=datetime(2026, 1, 16, 17, 0, tzinfo=UTC))
    assert parsed is not None
    assert parsed.isoformat() == "2026-01-16T10:20+08:00"


@pytest.mark.parametrize("text", ["刚刚", "5分钟前", "昨天 10:20", "1月16日", "01-16 10:20"])
def test_relative_and_yearless_dates_need_now(text: str) -> None:
    assert parse_date(text) is None


NOT_DATES = [
    "",
    "没有日期的文字",
    "2026-02-30",
    "2026-13-01",
    "1888-01-01",
    "电话：0571-12345678",
    "浙政办发〔2026〕1号",
    "文号 20260116 号",
    "ID 1234567890",
    "版本 1.2.3",
    "202620262天前",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_not_dates(text: str) -> None:
    assert parse_date(text, now=NOW) is None


def test_none_is_no_date() -> None:
    assert parse_date(None) is None


def test_other_time_zone() -> None:
    parsed = parse_date("2026-01-16 19:01", tz="Europe/Berlin")
    assert parsed is not None
    assert parsed.isoformat() == "2026-01-16T19:01+01:00"


def test_raw_is_the_matched_text() -> None:
    parsed = parse_date("发布时间：2026-01-16 19:01 来源：XX")
    assert parsed is not None
    assert parsed.raw == "2026-01-16 19:01"


URLS = [
    ("http://www.x.gov.cn/zwgk/202601/t20260116_5661665.html", "2026-01-16"),
    ("http://www.x.gov.cn/zwgk/t20190918_693227.shtml", "2019-09-18"),
    ("http://fgw.zj.gov.cn/art/2016/11/22/art_1621004_30332664.html", "2016-11-22"),
    ("http://www.x.com/news/2026/0116/c1-123.html", "2026-01-16"),
    ("http://www.gov.cn/zhengce/content/2018-08/19/content_5314865.htm", "2018-08-19"),
    ("http://www.x.cn/a/2020/7/2-12345.html", "2020-07-02"),
    ("http://www.x.cn/html/2026-01-16/123.html", "2026-01-16"),
    ("http://www.x.cn/wzxrmzf/tjgb/201705/0123456789abcdef0123456789abcdef.shtml", "2017-05"),
]


@pytest.mark.parametrize(("url", "expected"), URLS)
def test_date_from_url(url: str, expected: str) -> None:
    parsed = date_from_url(url)
    assert parsed is not None
    assert parsed.isoformat() == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://www.gov.cn/zhengce/content_5314865.htm",
        "http://www.x.cn/show.php?itemid=20260116",
        "http://www.x.cn/202613/a.html",
        "http://www.x.cn/art/2026/2/30/art_1_2.html",
    ],
)
def test_no_date_in_url(url: str) -> None:
    assert date_from_url(url) is None


def test_plausibility() -> None:
    def day(y: int, m: int, d: int) -> ParsedDate:
        return ParsedDate(datetime(y, m, d, tzinfo=SHANGHAI), "day", "")

    assert is_plausible(day(2026, 1, 16), NOW)
    assert is_plausible(day(1990, 1, 2), NOW)
    assert is_plausible(ParsedDate(NOW + timedelta(hours=20), "minute", ""), NOW)
    assert not is_plausible(day(2026, 1, 18), NOW)
    assert not is_plausible(day(1989, 12, 31), NOW)
    assert is_plausible(day(2026, 1, 16), NOW.replace(tzinfo=None))


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)))
def test_round_trip_of_printed_dates(moment: datetime) -> None:
    moment = moment.replace(microsecond=0)
    for text, precision in (
        (f"{moment:%Y-%m-%d %H:%M:%S}", "second"),
        (f"发布时间：{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}", "minute"),
    ):
        parsed = parse_date(text)
        assert parsed is not None
        assert parsed.precision == precision
        expected = moment if precision == "second" else moment.replace(second=0)
        assert parsed.value == expected.replace(tzinfo=SHANGHAI)
        assert datetime.fromisoformat(parsed.isoformat()) == parsed.value

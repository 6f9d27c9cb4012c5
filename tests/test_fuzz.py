"""Fuzzing the pure extractors: random and mutated real pages never raise, outputs keep their types."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portalcrawl.extract import extract_article, extract_listing
from portalcrawl.extract.dates import ParsedDate, parse_date
from portalcrawl.items import DATE_PRECISIONS, Article
from tests.shared import CORPUS as SHARED_CORPUS
from tests.shared import needs_corpus

CORPUS = SHARED_CORPUS / "pages"
NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
URL = "https://www.example.gov.cn/xwdt/202601/t20260116_1.html"
ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2})?)?[+-]\d{2}:\d{2})?)?)?")

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Whole real pages take tens of milliseconds each; fewer examples keep the suite fast.
FUZZ_PAGES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def corpus_pages() -> tuple[bytes, ...]:
    return tuple(path.read_bytes() for path in sorted(CORPUS.glob("*.html")))


DATE_PIECES = [
    "2026",
    "26",
    "1",
    "01",
    "16",
    "12",
    "31",
    "0",
    "99",
    "年",
    "月",
    "日",
    "号",
    "时",
    "分",
    "秒",
    "-",
    "/",
    ".",
    ":",
    " ",
    "\u3000",
    "２０２６",
    "０１",
    "１６",
    "二〇二六",
    "〇",
    "一",
    "十二",
    "三十一",
    "发布时间：",
    "日期:",
    "刚刚",
    "5分钟前",
    "3小时前",
    "昨天",
    "前天",
    "2天前",
    "上午",
    "下午",
    "T",
    "+08:00",
    "Z",
    "GMT",
    "t20260116_",
]
HTML_PIECES = [
    "<html>",
    "</html>",
    "<head>",
    "<title>",
    "</title>",
    '<meta name="PubDate" content="2026-01-16">',
    '<meta charset="gb2312">',
    "<body>",
    '<div class="TRS_Editor">',
    '<div id="zoom">',
    "</div>",
    "<p>",
    "</p>",
    '<a href="/xwdt/202601/t20260116_2.html">',
    '<a href="javascript:void(0)">',
    '<a href="',
    "</a>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<li>",
    "<span>2026-01-16</span>",
    "<table><tr><td>",
    "发布时间：2026-01-16 10:20",
    "来源：测试市人民政府",
    "下一页",
    "共5页",
    'createPageHTML(5, 0, "index", "html");',
    "<record><![CDATA[<a href='/art/2026/1/16/art_1_2.html'>x</a>]]></record>",
    "\x00",
    "\x1b",
    "\ufffd",
    "\ud800",
    "正文内容",
    "&nbsp;",
    "&#0;",
    "&#xD800;",
    "&amp",
    "<",
    ">",
    '"',
    "'",
]

date_text = st.one_of(st.text(max_size=80), st.lists(st.sampled_from(DATE_PIECES), max_size=20).map("".join))
html_text = st.one_of(st.text(max_size=500), st.lists(st.sampled_from(HTML_PIECES), max_size=60).map("".join))


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    """A real page truncated, spliced with another, or sprinkled with random bytes."""
    pages = corpus_pages()
    page = draw(st.sampled_from(pages))
    how = draw(st.sampled_from(["truncate", "splice", "bytes", "overwrite"]))
    cut = draw(st.integers(0, len(page)))
    if how == "truncate":
        return page[:cut]
    if how == "splice":
        other = draw(st.sampled_from(pages))
        return page[:cut] + other[draw(st.integers(0, len(other))) :]
    noise = draw(st.binary(min_size=1, max_size=64))
    if how == "bytes":
        return page[:cut] + noise + page[cut:]
    return page[:cut] + noise + page[cut + len(noise) :]


def assert_utf8(value: str | None) -> None:
    """Text that cannot be encoded (lone surrogates) would fail at the SQLite boundary."""
    if value is not None:
        assert isinstance(value, str)
        value.encode("utf-8")


def assert_valid_article(article: Article) -> None:
    assert isinstance(article, Article)
    for name in (
        "title",
        "published_at",
        "published_raw",
        "source",
        "author",
        "editor",
        "column",
        "language",
    ):
        assert_utf8(getattr(article, name))
    assert isinstance(article.body_text, str)
    assert isinstance(article.body_html, str)
    assert_utf8(article.body_text)
    assert article.date_precision is None or article.date_precision in DATE_PRECISIONS
    if article.published_at is not None:
        assert ISO_DATE.match(article.published_at), article.published_at
    assert all(
        isinstance(a, dict) and all(isinstance(v, str) for v in a.values()) for a in article.attachments
    )
    assert all(isinstance(image, str) for image in article.images)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in article.field_stages.items())
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in article.gov_meta.items())


def assert_valid_listing(html: str | bytes) -> None:
    listing = extract_listing(html, URL)
    for link in [*listing.article_links, *listing.next_pages]:
        assert isinstance(link, str)
        assert link.startswith(("http://", "https://")), link
        link.encode("utf-8")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in listing.dates.items())
    assert isinstance(listing.requests, list)


@FUZZ
@given(date_text)
def test_parse_date_never_raises(text: str) -> None:
    parsed = parse_date(text, now=NOW)
    if parsed is not None:
        assert isinstance(parsed, ParsedDate)
        assert parsed.value.tzinfo is not None
        assert parsed.precision in DATE_PRECISIONS
        assert isinstance(parsed.raw, str)
        assert ISO_DATE.match(parsed.isoformat())


@FUZZ
@given(html_text)
def test_extract_article_never_raises_on_random_html(html: str) -> None:
    assert_valid_article(extract_article(html, URL, fetched_at=NOW))


@FUZZ
@given(st.binary(max_size=2000))
def test_extract_article_never_raises_on_random_bytes(body: bytes) -> None:
    assert_valid_article(extract_article(body, URL, fetched_at=NOW))


@FUZZ
@given(html_text)
def test_extract_listing_never_raises_on_random_html(html: str) -> None:
    assert_valid_listing(html)


@FUZZ
@given(st.binary(max_size=2000))
def test_extract_listing_never_raises_on_random_bytes(body: bytes) -> None:
    assert_valid_listing(body)


@needs_corpus
@FUZZ_PAGES
@given(mutated_pages())
def test_extract_article_never_raises_on_mutated_real_pages(page: bytes) -> None:
    assert_valid_article(extract_article(page, URL, fetched_at=NOW))


@needs_corpus
@FUZZ_PAGES
@given(mutated_pages())
def test_extract_listing_never_raises_on_mutated_real_pages(page: bytes) -> None:
    assert_valid_listing(page)

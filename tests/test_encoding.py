"""decode_html and EncodingSanityMiddleware on lying charsets and on the corpus pages."""

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from portalcrawl.extract.encoding import decode_html, normalize_encoding
from portalcrawl.middlewares.encoding import EncodingSanityMiddleware
from tests.shared import CORPUS, corpus_manifest, needs_corpus

TEXT = "发布时间：2026-01-16 来源：朱镕基纪念馆 瑢"


def page(meta: str = "", before_meta: str = "") -> str:
    return f"<html><head>{before_meta}{meta}<title>测试</title></head><body><p>{TEXT}</p></body></html>"


GB2312_META = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
UTF8_META = '<meta charset="utf-8">'

CASES = [
    # (body, header charset, expected encoding)
    (page(GB2312_META).encode("gb18030"), None, "gb18030"),
    (page(GB2312_META).encode("gb18030"), "utf-8", "gb18030"),
    (page(GB2312_META).encode("gb18030"), "gb2312", "gb18030"),
    (page('<meta charset="gbk">').encode("gb18030"), "x-gbk", "gb18030"),
    (page(GB2312_META).encode("utf-8"), None, "utf-8"),
    (page(GB2312_META).encode("utf-8"), "gbk", "utf-8"),
    (page(UTF8_META).encode("utf-8"), "gbk", "utf-8"),
    (page().encode("utf-8"), None, "utf-8"),
    (page().encode("gb18030"), None, "gb18030"),
    (page().encode("gb18030"), "utf-8", "gb18030"),
    # An archive toolbar's <script charset=utf-8> before the page's own gb2312 declaration.
    (
        page(GB2312_META, '<script src="/_static/x.js" charset="utf-8"></script>').encode("gb18030"),
        None,
        "gb18030",
    ),
    (page(UTF8_META).encode("utf-8-sig"), "gbk", "utf-8"),
    (page().encode("utf-16-le").join([b"\xff\xfe", b""]), "gbk", "utf-16-le"),
]


@pytest.mark.parametrize(
    ("body", "header", "expected"), CASES, ids=[f"{i}-{c[1]}-{c[2]}" for i, c in enumerate(CASES)]
)
def test_decode_html(body: bytes, header: str | None, expected: str) -> None:
    text, encoding = decode_html(body, header)
    assert encoding == expected
    assert TEXT in text
    assert "\ufffd" not in text


def test_corrupt_gbk_picks_the_encoding_with_fewest_replacements() -> None:
    body = page(GB2312_META).encode("gb18030") + b"\xff\xff"
    text, encoding = decode_html(body, "utf-8")
    assert encoding == "gb18030"
    assert TEXT in text


def test_declared_western_page() -> None:
    body = '<meta charset="iso-8859-1"><p>Café</p>'.encode("latin-1")
    text, encoding = decode_html(body, None)
    assert (encoding, "Café" in text) == ("cp1252", True)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html></html>", bytes(range(256)), b"\x00\xff" * 100, b"<meta charset=bogus>\xff"],
    ids=["empty", "ascii", "all", "nulls", "bogus"],
)
@pytest.mark.parametrize("header", [None, "bogus", "", "utf-8", "gbk"])
def test_odd_input_never_raises(body: bytes, header: str | None) -> None:
    text, encoding = decode_html(body, header)
    assert isinstance(text, str)
    assert normalize_encoding(encoding) == encoding


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("x-gbk", "gb18030"),
        ("UTF8", "utf-8"),
        ("bogus", None),
        (None, None),
        ("iso-8859-1", "cp1252"),
        # Python codecs that are no text encodings, or no web encoding: ignored.
        ("base64", None),
        ("hex", None),
        ("rot13", None),
        ("zlib", None),
        ("undefined", None),
        ("unicode_escape", None),
        ("hz-gb-2312", None),
        ("x-user-defined", None),
    ],
)
def test_normalize_encoding(label: str | None, expected: str | None) -> None:
    assert normalize_encoding(label) == expected


GBK_PAGES = [entry["file"] for entry in corpus_manifest() if entry["encoding"].startswith("gbk")]
UTF8_DECLARED_GB2312 = [
    entry["file"]
    for entry in corpus_manifest()
    if entry["encoding"].lower() == "utf-8 (meta declares gb2312)"
]


@needs_corpus
def test_corpus_has_the_traps() -> None:
    assert len(GBK_PAGES) == 5
    assert len(UTF8_DECLARED_GB2312) >= 8


@needs_corpus
@pytest.mark.parametrize("name", GBK_PAGES)
@pytest.mark.parametrize("header", [None, "utf-8", "gb2312"])
def test_corpus_gbk_pages(name: str, header: str | None) -> None:
    text, encoding = decode_html((CORPUS / "pages" / name).read_bytes(), header)
    assert encoding == "gb18030"
    assert "\ufffd" not in text


@needs_corpus
@pytest.mark.parametrize("name", UTF8_DECLARED_GB2312)
@pytest.mark.parametrize("header", [None, "gbk"])
def test_corpus_utf8_pages_declaring_gb2312(name: str, header: str | None) -> None:
    text, encoding = decode_html((CORPUS / "pages" / name).read_bytes(), header)
    assert encoding == "utf-8"
    assert "\ufffd" not in text


@pytest.fixture
def middleware() -> EncodingSanityMiddleware:
    crawler = get_crawler()
    # get_crawler() leaves stats to crawl(); the middleware only needs a collector.
    crawler.stats = MemoryStatsCollector(crawler)
    return EncodingSanityMiddleware.from_crawler(crawler)


def _response(body: bytes, content_type: str | None) -> HtmlResponse:
    headers = {"Content-Type": content_type} if content_type else {}
    url = "http://127.0.0.1:8765/art/2026/1/16/art_1_2.html"
    return HtmlResponse(url, body=body, headers=headers, request=Request(url))


def test_middleware_redecodes_gbk_served_as_utf8(middleware: EncodingSanityMiddleware) -> None:
    response = _response(page(GB2312_META).encode("gb18030"), "text/html; charset=UTF-8")
    assert "\ufffd" in response.text
    fixed = middleware.process_response(response.request, response)
    assert isinstance(fixed, TextResponse)
    assert TEXT in fixed.text
    assert fixed.encoding == "gb18030"
    assert middleware.stats.get_value("portalcrawl/encoding/overridden") == 1


def test_middleware_redecodes_utf8_served_as_gbk(middleware: EncodingSanityMiddleware) -> None:
    response = _response(page(GB2312_META).encode("utf-8"), "text/html; charset=GBK")
    fixed = middleware.process_response(response.request, response)
    assert isinstance(fixed, TextResponse)
    assert TEXT in fixed.text


def test_middleware_leaves_agreeing_responses_alone(middleware: EncodingSanityMiddleware) -> None:
    for body, content_type in [
        (page(UTF8_META).encode("utf-8"), "text/html; charset=utf-8"),
        (page(GB2312_META).encode("gb18030"), "text/html; charset=gb2312"),
        (page(GB2312_META).encode("gb18030"), "text/html"),
        (b"<html>ascii only</html>", "text/html; charset=gbk"),
    ]:
        response = _response(body, content_type)
        assert middleware.process_response(response.request, response) is response
    assert middleware.stats.get_value("portalcrawl/encoding/overridden") is None


@pytest.mark.parametrize(
    "content_type", [None, "text/html; charset=bogus", "text/html; charset=", "\xff\xfe"]
)
@pytest.mark.parametrize(
    "body", [b"", bytes(range(256)), b"\xef\xbb\xbf\xff\xfe"], ids=["empty", "all", "bom"]
)
def test_middleware_never_raises(
    middleware: EncodingSanityMiddleware, content_type: str | None, body: bytes
) -> None:
    response = _response(body, content_type)
    result = middleware.process_response(response.request, response)
    assert isinstance(result, TextResponse)
    assert isinstance(result.text, str)


def test_middleware_ignores_binary_responses(middleware: EncodingSanityMiddleware) -> None:
    url = "http://127.0.0.1:8765/P020240627596367566427.pdf"
    response = Response(url, body=b"%PDF-\xff\xfe", request=Request(url))
    assert middleware.process_response(response.request, response) is response

"""canonical_url, is_fetchable_url and host_of."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portalcrawl.urls import canonical_url, dedupe_key, host_of, is_fetchable_url

CANONICAL = [
    ("http://WWW.Example.GOV.cn/a/b.html", "http://www.example.gov.cn/a/b.html"),
    ("HTTP://www.example.gov.cn:80/a/", "http://www.example.gov.cn/a/"),
    ("https://www.example.gov.cn:443/a/", "https://www.example.gov.cn/a/"),
    ("http://www.example.gov.cn:8080/a/", "http://www.example.gov.cn:8080/a/"),
    ("http://127.0.0.1:8765/news/index.html", "http://127.0.0.1:8765/news/"),
    ("http://x.gov.cn/col/col1621004/index.html", "http://x.gov.cn/col/col1621004/"),
    ("http://x.gov.cn/col/col1621004/INDEX.HTM", "http://x.gov.cn/col/col1621004/"),
    ("http://x.gov.cn/zwgk/index.shtml?page=2", "http://x.gov.cn/zwgk/?page=2"),
    # Listing pages and content pages named like an index are different documents.
    ("http://x.gov.cn/zwgk/index_1.html", "http://x.gov.cn/zwgk/index_1.html"),
    ("http://x.gov.cn/zwgk/art_1_index.html", "http://x.gov.cn/zwgk/art_1_index.html"),
    ("http://x.gov.cn/zwgk/t20260116_1.shtml#top", "http://x.gov.cn/zwgk/t20260116_1.shtml"),
    ("http://x.gov.cn/a/b.jsp;jsessionid=0A1B2C3D?id=5", "http://x.gov.cn/a/b.jsp?id=5"),
    ("http://x.gov.cn/a/b.jsp;JSESSIONID=0A1B", "http://x.gov.cn/a/b.jsp"),
    ("http://x.cn/show.php?itemid=12&catid=3", "http://x.cn/show.php?catid=3&itemid=12"),
    ("http://x.cn/plus/view.php?aid=7&utm_source=wx&spm=a.b", "http://x.cn/plus/view.php?aid=7"),
    ("http://x.cn/e/action/ShowInfo.php?classid=2&id=9", "http://x.cn/e/action/ShowInfo.php?classid=2&id=9"),
    ("http://x.cn/s.asp?kw=%D6%D0%CE%C4", "http://x.cn/s.asp?kw=%D6%D0%CE%C4"),
    ("http://x.cn/新闻/页.html", "http://x.cn/%E6%96%B0%E9%97%BB/%E9%A1%B5.html"),
    ("http://x.cn", "http://x.cn/"),
    ("  http://x.cn/a  ", "http://x.cn/a"),
    # The scheme is kept: the stored URL must stay fetchable.
    ("https://x.cn/a", "https://x.cn/a"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


def test_dedupe_key_ignores_the_scheme() -> None:
    assert dedupe_key("http://x.cn/a/index.html") == dedupe_key("https://X.cn:443/a/")


_URL_PARTS = st.text(alphabet="abcXYZ019-_./%中文?=&#;", max_size=30)


@given(path=_URL_PARTS)
def test_canonical_url_is_idempotent(path: str) -> None:
    once = canonical_url("http://Example.gov.cn/" + path)
    assert canonical_url(once) == once


ALLOWED = ["www.example.gov.cn", "example.gov.cn", "127.0.0.1"]

FETCHABLE = [
    "http://www.example.gov.cn/a.html",
    "https://example.gov.cn/",
    "http://fgw.example.gov.cn/art/2026/1/16/art_1_2.html",
    "HTTP://WWW.EXAMPLE.GOV.CN/",
    "http://127.0.0.1:8765/news/",
    "http://www.example.gov.cn.:8080/a",
]

REFUSED = [
    "file:///etc/passwd",
    "data:text/html,<h1>hi</h1>",
    "javascript:alert(1)",
    "mailto:office@example.gov.cn",
    "ftp://example.gov.cn/a.pdf",
    "http://10.0.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
    "http://localhost:8080/",
    "http://127.0.0.2/",
    "http://224.0.0.1/",
    "http://0.0.0.0/",
    "http://2130706433/",
    "http://other.gov.cn/",
    "http://evilexample.gov.cn/",
    "http://example.gov.cn.evil.com/",
    "http://example.gov.cn@evil.com/",
    "http://evil.com\\@example.gov.cn/",
    "http://example.gov.cn:99999/",
    "http:///nohost",
    "//example.gov.cn/relative",
    "",
]


@pytest.mark.parametrize("url", FETCHABLE)
def test_fetchable(url: str) -> None:
    assert is_fetchable_url(url, ALLOWED)


@pytest.mark.parametrize("url", REFUSED)
def test_refused(url: str) -> None:
    assert not is_fetchable_url(url, ALLOWED)


def test_private_hosts_allowed_only_when_listed_exactly() -> None:
    assert is_fetchable_url("http://localhost:8080/", ["localhost"])
    assert is_fetchable_url("http://[::1]:8080/", ["::1"])
    assert is_fetchable_url("http://192.168.1.1/", ["192.168.1.1"])
    assert not is_fetchable_url("http://192.168.1.2/", ["192.168.1.1"])


def test_allowed_hosts_may_carry_ports_and_case() -> None:
    assert is_fetchable_url("http://127.0.0.1:9000/", ["127.0.0.1:8765"])
    assert is_fetchable_url("http://www.example.gov.cn/", ["WWW.Example.gov.cn"])


def test_nothing_is_fetchable_without_allowed_hosts() -> None:
    assert not is_fetchable_url("http://www.example.gov.cn/", [])


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://WWW.Example.gov.cn:8080/a", "www.example.gov.cn"),
        ("https://[::1]:8443/", "::1"),
        ("http://x.cn./", "x.cn"),
        ("not a url", ""),
        ("http://[bad/", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host

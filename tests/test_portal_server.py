"""The sample-portal server: each fixture portal serves what its expected articles promise, traps too."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

import portalcrawl.demo.server
from portalcrawl.demo.layouts import LAYOUTS
from portalcrawl.demo.server import DEMO_PORTAL_DIR, PortalServer

PORTALS_DIR = Path(__file__).parent / "portals"
ALL_PORTALS = sorted(p.name for p in PORTALS_DIR.iterdir() if (p / "portal.toml").exists())
PortalFactory = Callable[[str], PortalServer]


def fetch(url: str, data: bytes | None = None) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of a GET, or a POST when ``data`` is given."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def decode(content_type: str, body: bytes) -> str:
    charset = re.search(r"charset=([\w-]+)", content_type)
    return body.decode("gbk" if charset and charset.group(1) == "gb2312" else "utf-8")


def test_portals_cover_every_family() -> None:
    families = set()
    for name in ALL_PORTALS:
        families |= {c.family for c in PortalServer(PORTALS_DIR / name).columns.values()}
    # Adding a layout table without a fixture portal for it fails here.
    assert families == set(LAYOUTS)


def project_imports(module: Path) -> set[str]:
    """The ``portalcrawl`` modules ``module`` imports anywhere in its source (functions included)."""
    imported = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            # Relative imports stay inside the package they are written in.
            imported.add("portalcrawl.demo" if node.level else node.module or "")
    return {name for name in imported if name == "portalcrawl" or name.startswith("portalcrawl.")}


def test_the_sample_portal_shares_no_code_with_the_crawler() -> None:
    """The portal is the oracle extraction is tested against: it imports nothing of portalcrawl but itself."""
    demo = Path(portalcrawl.demo.server.__file__).parent
    modules = sorted(demo.rglob("*.py"))
    assert {m.name for m in modules} >= {"server.py", "layouts.py", "home.py"}
    foreign = {
        f"{module.relative_to(demo)}: {name}"
        for module in modules
        for name in project_imports(module)
        if name != "portalcrawl.demo" and not name.startswith("portalcrawl.demo.")
    }
    assert not foreign
    # Nor through a package's __init__: a fresh interpreter that starts a portal loads no other module.
    script = (
        "import sys, portalcrawl.demo.server; print(*(m for m in sys.modules if m[:11] == 'portalcrawl'))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {
        m for m in loaded if m.startswith("portalcrawl.") and not m.startswith("portalcrawl.demo")
    } == set()


@pytest.mark.parametrize("portal", [*ALL_PORTALS, "demo"])
def test_every_expected_article_is_served_with_its_fields(
    module_portal_server: PortalFactory, portal: str
) -> None:
    server = module_portal_server(str(DEMO_PORTAL_DIR) if portal == "demo" else portal)
    for name, column in server.columns.items():
        expected = server.expected_articles(name)
        assert len(expected) >= 20
        assert len({e["url"] for e in expected}) == len({e["title"] for e in expected}) == len(expected)
        status, content_type, _ = fetch(server.start_url(name))
        assert status == 200
        for article in expected:
            status, content_type, body = fetch(article["url"])
            assert status == 200, article["url"]
            page = decode(content_type, body)
            assert f"charset={'gb2312' if column.encoding == 'gbk' else 'utf-8'}" in content_type
            assert article["title"] in page
            assert article["source"] in page
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?\+08:00", article["published_at"])
            assert datetime.fromisoformat(article["published_at"]) < datetime.fromisoformat(
                "2026-07-01T00:00+08:00"
            )
            for attachment in article["attachments"]:
                assert fetch(attachment)[:2] == (200, "application/pdf")


def test_requests_are_recorded_and_unknown_paths_are_404(module_portal_server: PortalFactory) -> None:
    server = module_portal_server("trs")
    server.reset_requests()
    assert fetch(server.url("/robots.txt"))[2] == b"User-agent: *\nDisallow: /private/\n"
    assert fetch(server.url("/no/such/page.html"))[0] == 404
    assert fetch(server.url("/xwzx/jrjj/202601/t20260116_1.html"))[0] == 404
    assert server.requests == [
        ("GET", "/robots.txt", 200),
        ("GET", "/no/such/page.html", 404),
        ("GET", "/xwzx/jrjj/202601/t20260116_1.html", 404),
    ]
    server.reset_requests()
    assert server.requests == []


def test_trs_listing_pages_are_zero_based_and_carry_every_trap(module_portal_server: PortalFactory) -> None:
    server = module_portal_server("trs")
    column = server.columns["jrjj"]
    page = fetch(server.start_url("jrjj"))[2].decode()
    assert 'createPageHTML(4, 0, "index", "html");' in page
    assert [fetch(server.url(f"/xwzx/jrjj/index_{i}.html"))[0] for i in range(1, 5)] == [200, 200, 200, 404]
    newest = server.expected_articles("jrjj")[0]["url"]
    relative = "./" + newest.split("/xwzx/jrjj/")[1]
    assert f'href="{relative}"' in page
    assert f'href="{newest}"' in page
    assert "#comments" in page
    assert f"http://127.0.0.2:{server.port}/" in page
    assert 'href="/private/' in page
    assert ".pdf" in page
    dead = re.search(r'href="([^"]+)"[^>]*title="已撤稿的文章"', page)
    assert dead and fetch(server.url(column.path) + dead.group(1)[2:])[0] == 404


def test_trs_1based_pages(module_portal_server: PortalFactory) -> None:
    server = module_portal_server("trs-1based")
    page = fetch(server.start_url("gzdt"))[2].decode()
    assert "createPageHTML('page_div', 3, 0, 'index', 'shtml', 26);" in page
    statuses = [fetch(server.url(f"/xwzx/gzdt/index_{i}.shtml"))[0] for i in range(1, 5)]
    assert statuses == [404, 200, 200, 404]


def test_hanweb_dataproxy_groups_overlap_by_one_and_cover_the_column(
    module_portal_server: PortalFactory,
) -> None:
    server = module_portal_server("hanweb")
    page = fetch(server.start_url("gzdt"))[2].decode()
    assert "var param_456 = {col:1,appid:1,webid:1,path:'/',columnid:123," in page
    assert "totalRecord: 100," in page
    records = re.compile(r"<record><!\[CDATA\[.*?href=\"([^\"]+)\".*?\]\]></record>", re.DOTALL)
    first_group = records.findall(page)
    links = [link for link in first_group if link.startswith("/art/")][:45]
    form = urlencode({"col": 1, "webid": 1, "columnid": 123, "unitid": 456, "permissiontype": 0}).encode()
    for start in (46, 91):
        query = urlencode({"startrecord": start, "endrecord": start + 44, "perpage": 15})
        status, content_type, body = fetch(server.url(f"/module/web/jpage/dataproxy.jsp?{query}"), form)
        assert (status, content_type) == (200, "text/xml; charset=utf-8")
        group = records.findall(body.decode())
        assert group[0] == links[-1]
        links += group[1:]
    assert [server.url(link) for link in links] == [e["url"] for e in server.expected_articles("gzdt")]
    assert fetch(server.url("/module/jpage/dataproxy.jsp?startrecord=46&endrecord=90"), form)[0] == 400


def test_dedecms_is_served_as_gbk(module_portal_server: PortalFactory) -> None:
    server = module_portal_server("dedecms")
    status, content_type, body = fetch(server.start_url("news"))
    assert (status, content_type) == (200, "text/html; charset=gb2312")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode("gbk")
    assert "list_5_2.html" in page and "下一页" in page
    article = server.expected_articles("news")[0]
    text = decode(*fetch(article["url"])[1:])
    assert f"<small>来源:</small>{article['source']} <small>作者:</small>{article['author']}" in text


def test_destoon_multipage_article(module_portal_server: PortalFactory) -> None:
    server = module_portal_server("destoon")
    article = next(e for e in server.expected_articles("news") if e["url"].endswith("/show-124.html"))
    first = fetch(article["url"])[2].decode()
    second = fetch(server.url("/news/show-124-2.html"))[2].decode()
    assert "show-124-2.html" in first
    assert article["body_first"] in first and article["body_last"] not in first
    assert article["body_last"] in second and f"({article['author']})</p>" in second
    assert fetch(server.url("/news/show-125-2.html"))[0] == 404


def test_govcn_json_rss_and_sitemap(module_portal_server: PortalFactory) -> None:
    govcn = module_portal_server("govcn")
    page = fetch(govcn.start_url("yaowen"))[2].decode()
    assert 'url: "./YAOWENLIEBIAO.json"' in page and "<ul></ul>" in page
    rows = json.loads(fetch(govcn.url("/yaowen/liebiao/YAOWENLIEBIAO.json"))[2])
    assert set(rows[0]) == {"TITLE", "SUB_TITLE", "URL", "DOCRELPUBTIME"}
    expected = govcn.expected_articles("yaowen")
    assert [r["URL"] for r in rows[: len(expected)]] == [e["url"] for e in expected]

    rss = module_portal_server("rss")
    feed = ET.fromstring(fetch(rss.start_url("rss"))[2])
    links = [item.findtext("link") for item in feed.iter("item")]
    assert links[:20] == [e["url"] for e in rss.expected_articles("rss")]
    sitemap = ET.fromstring(fetch(rss.url("/sitemap.xml"))[2])
    assert len(sitemap) == 20


def test_every_attachment_an_article_links_is_served_whatever_its_document_ids(
    tmp_path: Path, portal_server: PortalFactory
) -> None:
    # Ids past 10**9 are cut to nine digits in TRS file names only; the others name the whole id.
    columns = "".join(
        f'[[columns]]\nname = "{family}"\nfamily = "{family}"\npath = "/{family}/"\narticles = 4\n'
        f"first_id = 2000000000\n[columns.options]\ncol_id = {n}\nattachments_every = 1\n"
        for n, family in enumerate(("trs", "hanweb", "dedecms"), 1)
    )
    (tmp_path / "portal.toml").write_text(f'name = "示例市"\n{columns}', encoding="utf-8")
    server = portal_server(str(tmp_path))
    for name in server.columns:
        attachments = [url for article in server.expected_articles(name) for url in article["attachments"]]
        assert len(attachments) == 6
        assert {fetch(url)[:2] for url in attachments} == {(200, "application/pdf")}, name


def test_add_articles_puts_new_articles_on_top(portal_server: PortalFactory) -> None:
    server = portal_server("destoon")
    before = server.expected_articles("news")
    new = server.add_articles("news", 2)
    after = server.expected_articles("news")
    assert [e["url"] for e in after] == new + [e["url"] for e in before]
    assert after[0]["published_at"] > before[0]["published_at"]
    page = fetch(server.start_url("news"))[2].decode()
    assert page.index(new[0]) < page.index(new[1]) < page.index(before[0]["url"])
    assert all(fetch(url)[0] == 200 for url in new)


def test_revise_article_serves_the_revision_from_then_on(portal_server: PortalFactory) -> None:
    server = portal_server("trs")
    column = server.columns["jrjj"]
    before = server.expected_articles("jrjj")
    original = next(e for e in before if e["url"] == server.url(column.article_path(4)))
    correction = "（更正：本文第二段所述会议时间应为3月5日。）"

    url = server.revise_article("jrjj", 4, paragraph=correction)

    assert url == original["url"]
    page = decode(*fetch(url)[1:])
    assert original["title"] in page and original["body_first"] in page
    assert page.index(original["body_last"]) < page.index(correction)
    assert [e for e in server.expected_articles("jrjj") if e["url"] != url] == [
        e for e in before if e["url"] != url
    ]
    assert (
        next(e for e in server.expected_articles("jrjj") if e["url"] == url)["body_last"] == correction[-20:]
    )

    server.revise_article("jrjj", 4, title="关于调整会议时间的更正说明")
    page = decode(*fetch(url)[1:])
    assert "关于调整会议时间的更正说明" in page and correction in page
    title = re.search(r"<title>(.*?)</title>", page)
    assert title and title.group(1).startswith("关于调整会议时间的更正说明_")
    # Listings, and the sidebar of the oldest five on every page, show the new title.
    listing = decode(*fetch(server.url("/xwzx/jrjj/index_2.html"))[1:])
    sidebar = decode(*fetch(before[0]["url"])[1:])
    assert "关于调整会议时间的更正说明" in listing and "关于调整会议时间的更正说明" in sidebar
    with pytest.raises(ValueError, match="no article 99"):
        server.revise_article("jrjj", 99, paragraph=correction)
    with pytest.raises(ValueError, match="give a title"):
        server.revise_article("jrjj", 4)


def test_large_portal_pages_render_in_constant_time() -> None:
    with PortalServer(PORTALS_DIR / "trs", articles=200_000) as server:
        column = server.columns["jrjj"]
        started = time.perf_counter()
        for page in (0, 5000, 19999):
            assert (
                server.handle("GET", column.path + (f"index_{page}.html" if page else ""), b"").status == 200
            )
        for n in (1, 100_000, 200_000):
            assert server.handle("GET", column.article_path(n), b"").status == 200
        assert time.perf_counter() - started < 0.5


def test_standalone_server_prints_its_url_and_serves() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "portalcrawl.demo.server", str(PORTALS_DIR / "trs"), "--articles", "1000"],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            column = process.stdout.readline().split("\t")
            page = fetch(column[2].strip())[2].decode()
        finally:
            process.terminate()
    assert base_url.startswith("http://127.0.0.1:")
    assert column[:2] == ["jrjj", "trs"]
    assert "createPageHTML(100, 0," in page

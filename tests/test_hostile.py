"""Hostile pages and values: extraction stays linear in page size, a crawl beside them is not held up."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from portalcrawl import database
from portalcrawl.extract.article import MAX_CONTINUATION_PAGES, extract_article
from portalcrawl.extract.listing import extract_listing
from portalcrawl.safetext import clean_text
from tests.conftest import CrawlRunner, run_cli
from tests.faultserver import FaultSite, article_html, listing_html
from tests.hostile import (
    ARTICLE_PATH,
    commented_links_listing,
    crowded_feed_item,
    drop_heavy_listing,
    javascript_pager_listing,
    nested_json_feed,
    pager_listing,
    pager_script_listing,
    serve,
    widget_article,
)

# Generous: each page takes well under a second of CPU; before the fixes each took minutes.
CPU_SECONDS = 5.0
LISTING_URL = "http://127.0.0.1/list/index.html"


def _cpu_seconds(run: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def test_a_numbered_pager_of_40000_links_is_cheap_and_no_article_list() -> None:
    page = pager_listing(40_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    assert listing.article_links == [f"http://127.0.0.1{ARTICLE_PATH.format(id=n)}" for n in range(1, 6)]
    assert listing.next_pages[:2] == [
        "http://127.0.0.1/list/index_1.html",
        "http://127.0.0.1/list/index_2.html",
    ]


def test_20000_commented_links_are_read_within_a_bound() -> None:
    page = commented_links_listing(20_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    # The visible list is an article list: commented-out links never join it.
    assert listing.article_links == [f"http://127.0.0.1{ARTICLE_PATH.format(id=n)}" for n in range(1, 6)]


def test_pager_scripts_of_20000_functions_are_read_within_a_bound() -> None:
    page = pager_script_listing(20_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    assert len(listing.article_links) == 5


def test_a_javascript_pager_of_40000_links_is_cheap() -> None:
    page = javascript_pager_listing(40_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    assert listing.next_pages[:2] == [
        "http://127.0.0.1/list/list.jsp?page=2",
        "http://127.0.0.1/list/list.jsp?page=3",
    ]


def test_a_listing_of_60000_dropped_scripts_is_cheap() -> None:
    page = drop_heavy_listing(60_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    assert len(listing.article_links) == 5


def test_a_json_feed_of_340000_values_is_cheap() -> None:
    page = nested_json_feed(340_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, "http://127.0.0.1/feed.json"))
    assert seconds < CPU_SECONDS
    assert len(listing.article_links) == 5


def test_a_feed_item_of_20000_links_is_cheap() -> None:
    page = crowded_feed_item(20_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, "http://127.0.0.1/rss.xml"))
    assert seconds < CPU_SECONDS
    assert len(listing.article_links) == len(listing.dates) == 20_000


def test_an_article_of_8000_blocks_and_8000_share_widgets_is_cheap() -> None:
    page = widget_article(8_000)
    assert len(page.encode()) > 1_000_000
    url = f"http://127.0.0.1{ARTICLE_PATH.format(id=1)}"
    seconds, article = _cpu_seconds(lambda: extract_article(page, url))
    assert seconds < CPU_SECONDS
    assert article.title == "城市更新项目推进情况通报"
    assert "分享到微信" not in article.body_text


def test_a_hostile_site_does_not_hold_up_a_healthy_one(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    hostile_articles = {ARTICLE_PATH.format(id=n): article_html(n) for n in range(1, 5)}
    hostile_articles[ARTICLE_PATH.format(id=5)] = widget_article(8_000)
    hostile = serve({"/list/index.html": pager_listing(40_000), **hostile_articles})
    healthy_paths = [ARTICLE_PATH.format(id=n) for n in range(101, 121)]
    healthy = serve(
        {
            "/list/index.html": listing_html([(path, f"第{path[-8:-5]}号文章") for path in healthy_paths]),
            **{path: article_html(int(path[-8:-5])) for path in healthy_paths},
        },
        host="127.0.0.2",
    )
    db = tmp_path / "hostile.db"
    try:
        started = time.monotonic()
        result = run_crawl(
            ["-a", f"url={hostile.base}/list/index.html,{healthy.base}/list/index.html"], db, timeout=90
        )
        seconds = time.monotonic() - started
    finally:
        hostile.stop()
        healthy.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(db) as connection:
        stored = {url for (url,) in connection.execute("SELECT url FROM articles")}
    assert {f"{healthy.base}{path}" for path in healthy_paths} <= stored
    assert {f"{hostile.base}{path}" for path in hostile_articles} <= stored
    assert not any("/index_" in url for url in stored)
    # Pager candidates are followed as listing pages until two are missing, never as articles.
    assert sum(hits for path, hits in hostile.hits.items() if "/index_" in path) <= 2
    assert seconds < 60


@pytest.mark.parametrize(
    ("command", "build", "url"),
    [
        ("links", lambda: pager_listing(40_000), LISTING_URL),
        ("extract", lambda: widget_article(8_000), f"http://127.0.0.1{ARTICLE_PATH.format(id=1)}"),
    ],
    ids=["links-pager", "extract-widgets"],
)
def test_the_cli_reads_a_hostile_page_quickly(
    tmp_path: Path, command: str, build: Callable[[], str], url: str
) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(build())
    started = time.monotonic()
    result = run_cli([command, str(saved), "--url", url], timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    assert "/index_" not in result.stdout if command == "extract" else "t20260116_5.html" in result.stdout


def _json_feed(records: list[dict[str, str]]) -> str:
    # json.dumps writes a lone surrogate as the escape a hostile feed would hold: "\ud800".
    return json.dumps({"data": {"list": records}})


def test_lone_surrogates_in_a_json_feed_poison_nothing(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    paths = [ARTICLE_PATH.format(id=n) for n in range(1, 6)]
    records = [{"url": path, "title": f"第{n}号", "pubDate": "2026-01-16"} for n, path in enumerate(paths, 1)]
    records[1]["pubDate"] = "\ud800"
    records[2]["url"] = "/xwdt/202601/t20260116_\ud800.html"
    pages = {path: article_html(n) for n, path in enumerate(paths, 1)}
    site = serve({"/feed.json": _json_feed(records), **pages})
    db = tmp_path / "surrogates.db"
    try:
        runs = [run_crawl(["-a", f"url={site.base}/feed.json", "-a", "full=1"], db) for _ in range(2)]
    finally:
        site.stop()
    for result in runs:
        assert result.returncode == 0, result.stderr[-3000:]
        assert "storage_error" not in result.stderr
    with sqlite3.connect(db) as connection:
        stored = dict(connection.execute("SELECT url, listing_date FROM articles").fetchall())
        statuses = [status for (status,) in connection.execute("SELECT status FROM crawl_runs")]
    expected = {f"{site.base}{path}" for n, path in enumerate(paths, 1) if n != 3}
    assert set(stored) == expected
    assert stored[f"{site.base}{paths[1]}"] == "\ufffd"
    assert "storage_error" not in statuses and len(statuses) == 2


CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _portalcrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, None, timeout=60)


def test_terminal_escapes_are_neither_stored_nor_printed(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    title = "第1号&#27;[2J测试文章&#x9b;31m：城市更新项目推进情况通报"
    body = "<p>正文里的转义&#27;]0;pwned&#7;序列，本市推进城市更新。</p>"
    paths = [ARTICLE_PATH.format(id=n) for n in (1, 2)]
    site = serve(
        {
            "/list/index.html": listing_html([(path, "测试") for path in paths]),
            paths[0]: article_html(1, title=title, extra=body),
            paths[1]: article_html(2),
        }
    )
    db = tmp_path / "escapes.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/list/index.html"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT * FROM articles").fetchall()
        texts = [value for row in rows for value in row if isinstance(value, str)]
        assert len(rows) == 2
        assert not any(CONTROL_CHARACTER.search(text.replace("\n", "").replace("\t", "")) for text in texts)
        stored_title, slug = connection.execute(
            "SELECT title, site FROM articles WHERE url = ?", (f"{site.base}{paths[0]}",)
        ).fetchone()
        # &#x9b; is windows-1252 for "›" in HTML; the ESC of &#27; is dropped.
        assert stored_title == "第1号[2J测试文章›31m：城市更新项目推进情况通报"
        # An archive written before texts were cleaned, and a run reason quoting a page.
        connection.execute("UPDATE articles SET title = title || char(27) || '[2J' || char(155)")
        connection.execute("UPDATE crawl_runs SET reason = 'page said ' || char(27) || ']0;x' || char(7)")
    outputs = [
        _portalcrawl("search", "城市更新", "--db", str(db)),
        _portalcrawl("state", slug, "--db", str(db)),
        _portalcrawl("runs", "--db", str(db)),
    ]
    for output in outputs:
        assert output.returncode == 0, output.stderr
        assert "城市更新" in output.stdout or "page said" in output.stdout
        assert not CONTROL_CHARACTER.search(output.stdout.replace("\n", "")), output.stdout


@pytest.mark.parametrize(
    ("text", "multiline", "cleaned"),
    [
        ("日期\ud800", False, "日期\ufffd"),
        ("标题\x1b[2J\x9b31m", False, "标题[2J31m"),
        ("一行\t两\n行", False, "一行 两 行"),
        ("第一段\n\t第二段\r\n第三段\x07", True, "第一段\n\t第二段\n第三段"),
        ("\U0001f600 正常", False, "\U0001f600 正常"),
    ],
)
def test_clean_text(text: str, multiline: bool, cleaned: str) -> None:
    assert clean_text(text, multiline=multiline) == cleaned


NO_TEXT_ENCODINGS = ("base64", "hex", "rot13", "zlib", "undefined", "unicode_escape")


def test_a_charset_that_is_no_text_encoding_is_ignored(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    cases = [(label, where) for label in NO_TEXT_ENCODINGS for where in ("header", "meta")]
    site = FaultSite().start()
    paths = {}
    for ident, (label, where) in enumerate(cases, 1):
        path = paths[ident] = ARTICLE_PATH.format(id=ident)
        body = article_html(ident, charset=label if where == "meta" else None).encode("gbk")
        content_type = f"text/html; charset={label}" if where == "header" else "text/html"
        site.routes[path] = lambda handler, body=body, kind=content_type: handler.send_page(
            body, content_type=kind
        )
    listing = listing_html([(path, f"第{ident}号") for ident, path in paths.items()])
    site.routes["/list/index.html"] = lambda handler: handler.send_page(listing)
    db = tmp_path / "charsets.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/list/index.html"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(db) as connection:
        stored = dict(connection.execute("SELECT url, title FROM articles").fetchall())
    expected = {
        f"{site.base}{path}": f"第{ident}号测试文章：城市更新项目推进情况通报"
        for ident, path in paths.items()
    }
    assert stored == expected


def _sitemap(urls: list[str], *, index: bool = False) -> str:
    entry, root = ("sitemap", "sitemapindex") if index else ("url", "urlset")
    entries = "".join(f"<{entry}><loc>{url}</loc></{entry}>" for url in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</{root}>'


def _articles_site(count: int) -> tuple[FaultSite, list[str]]:
    site = FaultSite().start()
    paths = [ARTICLE_PATH.format(id=n) for n in range(1, count + 1)]
    for n, path in enumerate(paths, 1):
        page = article_html(n)
        site.routes[path] = lambda handler, page=page: handler.send_page(page)
    return site, paths


def _route(site: FaultSite, path: str, body: str | bytes, content_type: str) -> None:
    site.routes[path] = lambda handler: handler.send_page(body, content_type=content_type)


def _stored_urls(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        return {url for (url,) in connection.execute("SELECT url FROM articles")}


def _crawl_statuses(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [status for (status,) in connection.execute("SELECT status FROM crawl_runs")]


def test_every_sitemap_of_a_sitemap_index_is_followed(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    site, paths = _articles_site(9)
    children = [f"/sitemap-{n}.xml" for n in range(3)]
    for n, child in enumerate(children):
        _route(
            site, child, _sitemap([f"{site.base}{p}" for p in paths[3 * n : 3 * n + 3]]), "application/xml"
        )
    _route(
        site, "/sitemap.xml", _sitemap([f"{site.base}{c}" for c in children], index=True), "application/xml"
    )
    db = tmp_path / "sitemaps.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/sitemap.xml"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_urls(db) == {f"{site.base}{path}" for path in paths}
    assert _crawl_statuses(db) == ["ok"]


def test_a_refused_child_sitemap_does_not_stop_the_others(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    site, paths = _articles_site(3)
    # The first child redirects off the portal, which the URL filter refuses.
    site.routes["/sitemap-away.xml"] = lambda handler: handler.send_page(
        b"", status=302, Location="http://127.0.0.2:9/sitemap.xml"
    )
    _route(site, "/sitemap-0.xml", _sitemap([f"{site.base}{path}" for path in paths]), "application/xml")
    children = [f"{site.base}/sitemap-away.xml", f"{site.base}/sitemap-0.xml"]
    _route(site, "/sitemap.xml", _sitemap(children, index=True), "application/xml")
    db = tmp_path / "refused.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/sitemap.xml"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_urls(db) == {f"{site.base}{path}" for path in paths}


def test_links_lists_the_sitemaps_of_an_index(tmp_path: Path) -> None:
    saved = tmp_path / "sitemap.xml"
    children = [f"http://127.0.0.1/sitemap-{n}.xml" for n in range(3)]
    saved.write_text(_sitemap(children, index=True))
    result = _portalcrawl("links", str(saved), "--url", "http://127.0.0.1/sitemap.xml")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["child_listings"] == children


def test_every_json_feed_a_page_loads_is_followed(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    site, paths = _articles_site(9)
    feeds = [f"/data/feed{n}.json" for n in range(3)]
    for n, feed in enumerate(feeds):
        records = [
            {"url": path, "title": "标题", "pubDate": "2026-01-16"} for path in paths[3 * n : 3 * n + 3]
        ]
        _route(site, feed, _json_feed(records), "application/json")
    scripts = "".join(f'<script>loadList("{feed}");</script>' for feed in feeds)
    page = f'<html><body><a href="/">首页</a><a href="/about.html">关于</a>{scripts}</body></html>'
    _route(site, "/list/index.html", page, "text/html; charset=utf-8")
    db = tmp_path / "feeds.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/list/index.html"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_urls(db) == {f"{site.base}{path}" for path in paths}


def test_a_gzipped_sitemap_and_a_feed_with_a_dtd_are_read(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    site, paths = _articles_site(6)
    sitemap = _sitemap([f"{site.base}{path}" for path in paths[:3]]).encode()
    _route(site, "/sitemap.xml.gz", gzip.compress(sitemap), "application/x-gzip")
    # An internal subset long enough to push <rss> past the first bytes, and entities never expanded.
    entities = '<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' * 10
    items = "".join(f"<item><title>t</title><link>{site.base}{path}</link></item>" for path in paths[3:])
    channel = f"<channel><title>&lol2;</title>{items}</channel>"
    feed = f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]><rss>{channel}</rss>'
    _route(site, "/rss.xml", feed, "application/rss+xml")
    db = tmp_path / "compressed.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/sitemap.xml.gz,{site.base}/rss.xml"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_urls(db) == {f"{site.base}{path}" for path in paths}


def test_a_gzipped_sitemap_is_decompressed_up_to_the_cap_only() -> None:
    entry = b"<url><loc>http://127.0.0.1/xwdt/202601/t20260116_1.html</loc></url>"
    late = entry.replace(b"_1.html", b"_2.html")
    within = gzip.compress(b"<urlset>" + entry + b" " * (51 * 1024 * 1024) + late + b"</urlset>")
    seconds, listing = _cpu_seconds(lambda: extract_listing(within, "http://127.0.0.1/sitemap.xml.gz"))
    assert seconds < CPU_SECONDS
    assert listing.article_links == ["http://127.0.0.1/xwdt/202601/t20260116_1.html"]


SOFT_404_PAGES = [
    '<html><head><meta charset="utf-8"><title>404 页面不存在</title></head><body><div class="error">'
    '<img src="/images/404.png"><p>对不起，您访问的页面不存在或已被删除！</p>'
    '<a href="/">返回首页</a></div></body></html>',
    '<html><head><meta charset="utf-8"><title>测试市人民政府</title></head><body><div class="box">'
    "<h2>提示信息</h2><p>该信息已删除或已过期。</p><p>5秒后自动返回首页</p></div></body></html>",
    "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
    "<p>The requested URL was not found on this server.</p></body></html>",
]


def test_a_soft_404_page_is_recorded_not_archived(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    site, paths = _articles_site(5)
    gone = paths[1:4]
    for path, page in zip(gone, SOFT_404_PAGES, strict=True):
        _route(site, path, page, "text/html; charset=utf-8")
    _route(site, "/list/index.html", listing_html([(path, "测试文章标题") for path in paths]), "text/html")
    db = tmp_path / "soft404.db"
    try:
        result = run_crawl(["-a", f"url={site.base}/list/index.html"], db)
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert _stored_urls(db) == {f"{site.base}{path}" for path in (paths[0], paths[4])}
    with sqlite3.connect(db) as connection:
        errors = dict(connection.execute("SELECT url, reason FROM fetch_errors").fetchall())
        skipped = {url for (url,) in connection.execute("SELECT url FROM skipped_urls")}
    assert {url for url, reason in errors.items() if reason.startswith("soft 404")} == {
        f"{site.base}{path}" for path in gone
    }
    assert skipped == {f"{site.base}{path}" for path in gone}


def test_an_article_numbering_a_thousand_further_pages_is_capped() -> None:
    pager = "".join(f'<a href="t20260116_1_{n}.html">{n}</a>' for n in range(2, 1000))
    page = widget_article(10).replace("</body>", f"{pager}</body>")
    article = extract_article(page, f"http://127.0.0.1{ARTICLE_PATH.format(id=1)}")
    assert len(article.page_urls) == 1 + MAX_CONTINUATION_PAGES
    assert article.page_urls[1] == "http://127.0.0.1/xwdt/202601/t20260116_1_2.html"


def test_run_records_store_hostile_urls_and_reasons(tmp_path: Path) -> None:
    db = database.open_database(tmp_path / "records.db")
    run_id = database.start_run(db, "site", {"url": "http://127.0.0.1/\udcff"})
    database.record_fetch_error(db, run_id, "http://127.0.0.1/\ud800", None, "extraction failed: \x1b[2J")
    database.record_skipped_url(db, "site", "http://127.0.0.1/\ud800.html", "soft 404: \x9b", run_id)
    rows = [
        *db.conn.execute("SELECT args FROM crawl_runs"),
        *db.conn.execute("SELECT url, reason FROM fetch_errors"),
        *db.conn.execute("SELECT url, reason FROM skipped_urls"),
    ]
    db.close()
    assert rows == [
        ('{"url": "http://127.0.0.1/\ufffd"}',),
        ("http://127.0.0.1/\ufffd", "extraction failed: [2J"),
        ("http://127.0.0.1/\ufffd.html", "soft 404: "),
    ]

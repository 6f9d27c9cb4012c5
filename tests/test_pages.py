"""Raw pages kept as served: every article page and listing page, content-addressed, joined to versions."""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
import sqlite_utils
import zstandard

from portalcrawl.demo.server import PortalServer
from portalcrawl.pages import article_pages, iter_pages
from tests.conftest import run_cli
from tests.faultserver import article_html, listing_html, start_crawl

PortalFactory = Callable[[str], PortalServer]
CrawlRunner = Callable[..., subprocess.CompletedProcess[str]]
REPO_ROOT = Path(__file__).resolve().parent.parent
CORRECTION = "（更正：本文所述项目总投资应为3.2亿元，特此更正。）"


def served(url: str) -> bytes:
    """The bytes the loopback server sends for ``url`` (it never compresses)."""
    with urllib.request.urlopen(url, timeout=10) as answer:  # the fixture portal on 127.0.0.1
        return bytes(answer.read())


def crawl(run_crawl: CrawlRunner, server: PortalServer, db: Path, *extra: str, **settings: str) -> None:
    urls = ",".join(server.start_url(column) for column in server.columns)
    result = run_crawl(["-a", f"url={urls}", *extra], db, **settings)
    assert result.returncode == 0, result.stderr[-3000:]


def rows(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite_utils.Database(db).conn
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def show(db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "portalcrawl", "show", *args, "--db", str(db)],
        cwd=REPO_ROOT,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def gbk_archive(
    module_portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_path_factory: pytest.TempPathFactory
) -> tuple[PortalServer, Path]:
    """The GBK DedeCMS portal and the families portal (multi-page DESTOON articles), crawled once."""
    db = tmp_path_factory.mktemp("pages") / "archive.db"
    server = module_portal_server("families")
    crawl(run_crawl, server, db)
    return server, db


def test_every_article_keeps_its_pages_byte_identical_to_what_was_served(
    gbk_archive: tuple[PortalServer, Path],
) -> None:
    _, db_path = gbk_archive
    db = sqlite_utils.Database(db_path)
    articles = list(db.conn.execute("SELECT url, fetched_at FROM articles"))
    assert len(articles) > 20
    multipage = 0
    for url, fetched_at in articles:
        pages = article_pages(db, url, fetched_at)
        assert pages, url
        assert [p.page_number for p in pages] == list(range(1, len(pages) + 1))
        assert pages[0].fetched_at == fetched_at
        multipage += len(pages) > 1
        for page in pages:
            assert page.status == 200
            assert page.body == served(page.final_url), page.final_url
            assert any(name == "Content-Type" for name, _ in page.headers)
            assert any(name == "User-Agent" for name, _ in page.request_headers)
    assert multipage, "the families portal has multi-page articles"
    # GBK bytes are kept as GBK, not as the text Scrapy decoded.
    assert db.conn.execute("SELECT count(*) FROM page_captures WHERE headers LIKE '%gb2312%'").fetchone()[0]
    db.conn.close()


def test_listing_pages_that_yield_links_are_kept_and_blobs_are_zstd(
    gbk_archive: tuple[PortalServer, Path],
) -> None:
    server, db = gbk_archive
    listings = rows(db, "SELECT final_url, method FROM page_captures WHERE kind = 'listing'")
    for column in server.columns:
        # Each column's listing pages (a gov.cn column's links come from its JSON file, not its page).
        folder = urlsplit(server.start_url(column)).path.rsplit("/", 1)[0] + "/"
        assert any(folder in url for url, _ in listings), column
    # Hanweb's paged data requests are POSTs: their form is kept with them.
    assert rows(db, "SELECT count(*) FROM page_captures WHERE method = 'POST' AND length(request_body) > 0")[
        0
    ][0]
    for url, method in listings:
        if method == "GET":
            assert rows(db, "SELECT count(*) FROM page_captures WHERE final_url = ?", (url,))[0][0] == 1
    decompressor = zstandard.ZstdDecompressor()
    for sha256, size, data in rows(db, "SELECT sha256, size, data FROM pages"):
        assert len(data) < size
        body = decompressor.decompress(data)
        assert len(body) == size
        assert hashlib.sha256(body).hexdigest() == sha256


@pytest.mark.parametrize(("keep", "kinds"), [("articles", {"article"}), ("off", set())])
def test_keep_pages_setting(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path, keep: str, kinds: set[str]
) -> None:
    server = portal_server("dedecms")
    crawl(run_crawl, server, tmp_db, PORTALCRAWL_KEEP_PAGES=keep)
    assert rows(tmp_db, "SELECT count(*) FROM articles")[0][0] == server.columns["news"].count
    assert {kind for (kind,) in rows(tmp_db, "SELECT DISTINCT kind FROM page_captures")} == kinds


def test_unchanged_recrawl_adds_no_page_bytes_and_a_revision_keeps_both_pages(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("dedecms")
    crawl(run_crawl, server, tmp_db)
    article_blobs = "SELECT count(DISTINCT sha256) FROM page_captures WHERE kind = 'article'"
    blobs_before = rows(tmp_db, article_blobs)[0][0]
    captures_before = rows(tmp_db, "SELECT count(*) FROM page_captures WHERE kind = 'article'")[0][0]

    crawl(run_crawl, server, tmp_db, "-a", "full=1")
    assert rows(tmp_db, article_blobs)[0][0] == blobs_before
    assert (
        rows(tmp_db, "SELECT count(*) FROM page_captures WHERE kind = 'article'")[0][0] == 2 * captures_before
    )

    revised = server.revise_article("news", 5, paragraph=CORRECTION)
    crawl(run_crawl, server, tmp_db, "-a", "full=1")
    assert rows(tmp_db, article_blobs)[0][0] == blobs_before + 1
    db = sqlite_utils.Database(tmp_db)
    (old_fetched_at,) = db.conn.execute(
        "SELECT fetched_at FROM article_versions WHERE url = ?", (revised,)
    ).fetchone()
    (new_fetched_at,) = db.conn.execute(
        "SELECT fetched_at FROM articles WHERE url = ?", (revised,)
    ).fetchone()
    old_page, new_page = (
        article_pages(db, revised, old_fetched_at),
        article_pages(db, revised, new_fetched_at),
    )
    assert CORRECTION.encode("gbk") not in old_page[0].body
    assert CORRECTION.encode("gbk") in new_page[0].body
    assert new_page[0].body == served(revised)
    db.conn.close()

    record = show(tmp_db, revised)
    assert record.returncode == 0, record.stderr
    text = record.stdout.decode("utf-8")
    assert old_fetched_at in text and new_fetched_at in text
    assert "versions (oldest first)" in text


def test_show_prints_the_raw_page_the_decoded_html_and_the_text(
    gbk_archive: tuple[PortalServer, Path],
) -> None:
    server, db = gbk_archive
    # A GBK page: --raw gives its GBK bytes, --html the same page as UTF-8 text.
    url, final_url, body_text = rows(
        db,
        "SELECT a.url, a.final_url, a.body_text FROM articles a JOIN page_captures c "
        "ON c.article_url = a.url AND c.article_fetched_at = a.fetched_at "
        "WHERE c.headers LIKE '%gb2312%' LIMIT 1",
    )[0]
    raw = show(db, url, "--raw")
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == served(final_url)
    html = show(db, url, "--html")
    assert html.returncode == 0
    assert raw.stdout != html.stdout
    assert body_text.split("\n")[0][:10] in html.stdout.decode("utf-8")
    text = show(db, url, "--text")
    assert text.stdout.decode("utf-8").rstrip("\n") == body_text
    # A listing page is shown too: its newest capture.
    listing = server.start_url("trs")
    listing_raw = show(db, listing, "--raw")
    assert listing_raw.returncode == 0, listing_raw.stderr
    assert listing_raw.stdout == served(listing)
    assert b"kind: listing" in show(db, listing).stdout
    missing = show(db, server.url("/no/such/page.html"))
    assert missing.returncode == 1
    assert b"no article or page archived" in missing.stderr
    assert b"Traceback" not in missing.stderr


def test_reextract_right_after_a_crawl_of_every_family_changes_nothing(
    gbk_archive: tuple[PortalServer, Path],
) -> None:
    server, db = gbk_archive
    count = rows(db, "SELECT count(*) FROM articles")[0][0]
    server.reset_requests()
    result = run_cli(["reextract", "--db", str(db)], timeout=120)
    assert result.returncode == 0, result.stderr
    # GBK pages, multi-page articles joined from their stored pages, every pagination family.
    assert result.stdout.startswith(f"{count} articles, {count} with stored pages")
    assert "; 0 rows changed" in result.stdout
    assert server.requests == []


def test_warc_export_holds_every_stored_page_byte_identical_and_validates(
    gbk_archive: tuple[PortalServer, Path], tmp_path: Path
) -> None:
    from warcio.archiveiterator import ArchiveIterator

    from portalcrawl.warc import warc_date

    _, db = gbk_archive
    warc = tmp_path / "pages.warc.gz"
    result = run_cli(["export", "--format", "warc", "-o", str(warc), "--db", str(db)], timeout=120)
    assert result.returncode == 0, result.stderr
    captures = rows(db, "SELECT final_url, fetched_at, sha256, method FROM page_captures ORDER BY id")
    assert f"{len(captures)} pages written" in result.stderr

    for command in ("check", "index"):
        checked = subprocess.run(
            [sys.executable, "-m", "warcio.cli", command, str(warc)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count('"warc-type": "response"') == len(captures)

    responses, requests, metadata = {}, set(), set()
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream):
            headers = record.rec_headers
            assert headers.protocol == "WARC/1.1"
            if record.rec_type == "response":
                body = record.raw_stream.read()
                responses[hashlib.sha256(body).hexdigest(), headers.get_header("WARC-Date")] = (
                    headers.get_header("WARC-Target-URI"),
                    body,
                    record.http_headers.get_header("Content-Type"),
                )
            elif record.rec_type == "request":
                requests.add(headers.get_header("WARC-Concurrent-To"))
            elif record.rec_type == "metadata":
                metadata.add(headers.get_header("WARC-Refers-To"))
    assert len(requests) == len(metadata) == len(captures)
    gbk = 0
    for final_url, fetched_at, sha256, method in captures:
        target, body, content_type = responses[sha256, warc_date(fetched_at)]
        assert target == final_url
        if method == "GET":
            assert body == served(final_url), final_url
        gbk += "gb2312" in (content_type or "")
    assert gbk, "GBK pages are exported as their GBK bytes"


def test_warc_export_filters_and_needs_an_output_file(
    gbk_archive: tuple[PortalServer, Path], tmp_path: Path
) -> None:
    _, db = gbk_archive

    def export(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(["export", "--format", "warc", *args, "--db", str(db)], timeout=120)

    no_file = export()
    assert no_file.returncode == 2
    assert no_file.stderr.strip() == "portalcrawl export: error: --format warc needs -o FILE.warc.gz"
    # The same checks as the other formats: a future --since or an unknown --site is a usage error.
    later = export("-o", str(tmp_path / "later.warc.gz"), "--since", "2999-01-01")
    assert later.returncode == 2 and "is in the future" in later.stderr
    other_site = export("-o", str(tmp_path / "other.warc.gz"), "--site", "no-such-site")
    assert other_site.returncode == 2 and "no such site in the archive" in other_site.stderr
    sites = {row[0] for row in sqlite3.connect(db).execute("SELECT DISTINCT site FROM page_captures")}
    today = export("-o", str(tmp_path / "today.warc.gz"), "--site", sites.pop(), "--since", "2000-01-01")
    assert today.returncode == 0 and " pages written" in today.stderr


class GzipPortal(ThreadingHTTPServer):
    """Two articles, gzip-compressed on the wire; the second is reached through a redirect."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GzipHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class GzipHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages: ClassVar[dict[str, bytes]] = {
        "/list/index.html": listing_html(
            [("/xwdt/202601/t20260116_1.html", "第一篇"), ("/old/2.html", "第二篇")]
        ).encode(),
        "/xwdt/202601/t20260116_1.html": article_html(1).encode(),
        "/xwdt/202601/t20260116_2.html": article_html(2).encode(),
    }

    def do_GET(self) -> None:
        if self.path == "/old/2.html":
            self.send_response(301)
            self.send_header("Location", "/xwdt/202601/t20260116_2.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        page = self.pages.get(self.path)
        if page is None:
            self.send_error(404)
            return
        body = gzip.compress(page)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_pages_are_kept_decompressed_with_the_listed_url_and_export_as_such(
    run_crawl: CrawlRunner, tmp_path: Path
) -> None:
    from warcio.archiveiterator import ArchiveIterator

    from portalcrawl.warc import write_warc

    server = GzipPortal()
    try:
        result = run_crawl(["-a", f"url={server.url('/list/index.html')}"], tmp_path / "a.db")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    db = sqlite_utils.Database(tmp_path / "a.db")
    captured = {
        row[0]: row[1:]
        for row in db.conn.execute("SELECT final_url, url, kind, headers FROM page_captures ORDER BY id")
    }
    redirected = server.url("/xwdt/202601/t20260116_2.html")
    assert captured[redirected][:2] == (server.url("/old/2.html"), "article")
    for page in iter_pages(db):
        assert page.body == GzipHandler.pages[urlsplit(page.final_url).path]
    with (tmp_path / "a.warc.gz").open("wb") as out:
        assert write_warc(db, out) == 3
    db.conn.close()
    with (tmp_path / "a.warc.gz").open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response":
                continue
            body = record.content_stream().read()
            assert body == GzipHandler.pages[urlsplit(record.rec_headers.get_header("WARC-Target-URI")).path]
            assert record.http_headers.get_header("Content-Encoding") is None
            assert record.http_headers.get_header("Content-Length") == str(len(body))


BAD_KEEP = ("-s", "PORTALCRAWL_KEEP_PAGES=some")


def test_an_unknown_keep_pages_value_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "portalcrawl",
            "crawl",
            "--url",
            "http://127.0.0.1:9/",
            "--db",
            "a.db",
            *BAD_KEEP,
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "portalcrawl: error: -s PORTALCRAWL_KEEP_PAGES: expected one of all, articles, off, got 'some'"
    )
    assert not (tmp_path / "a.db").exists()


def test_kill_9_never_leaves_an_article_without_its_page_or_a_page_without_its_article(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "archive.db"
    with PortalServer(REPO_ROOT / "tests" / "portals" / "trs", articles=400) as server:
        process = start_crawl(
            [server.start_url("jrjj")],
            db_path,
            tmp_path,
            DOWNLOAD_DELAY="0.01",
            AUTOTHROTTLE_ENABLED="0",
            PORTALCRAWL_FLUSH_ITEMS="7",
            PORTALCRAWL_FLUSH_SECONDS="0.1",
        )
        try:
            deadline = time.monotonic() + 60
            while count_stored(db_path) < 20:
                assert process.poll() is None and time.monotonic() < deadline, "no articles flushed"
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.communicate()
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert 20 <= stored < 400
        without_page = db.execute(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM page_captures c "
            "WHERE c.article_url = a.url AND c.article_fetched_at = a.fetched_at)"
        ).fetchone()[0]
        without_article = db.execute(
            "SELECT count(*) FROM page_captures c WHERE c.kind = 'article' AND NOT EXISTS "
            "(SELECT 1 FROM articles a WHERE a.url = c.article_url AND a.fetched_at = c.article_fetched_at)"
        ).fetchone()[0]
        missing_blobs = db.execute(
            "SELECT count(*) FROM page_captures c "
            "WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.sha256 = c.sha256)"
        ).fetchone()[0]
    assert (without_page, without_article, missing_blobs) == (0, 0, 0)


def count_stored(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_an_archive_from_before_raw_pages_is_migrated_and_its_articles_have_no_pages(tmp_path: Path) -> None:
    from portalcrawl import database

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    before_pages = database.MIGRATIONS.index(database._create_pages)
    for step in database.MIGRATIONS[:before_pages]:
        step(conn)
    conn.execute("INSERT INTO metadata VALUES ('schema_version', ?)", (str(before_pages),))
    url = "https://www.example.gov.cn/xwzx/202601/t20260116_1.html"
    conn.execute(
        "INSERT INTO articles (url, site, title, body_text, fetched_at, first_seen_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            url,
            "example",
            "市政府召开常务会议",
            "会议研究部署智慧城市建设。",
            "2026-01-16T02:00:00+00:00",
            "2026-01-16",
        ),
    )
    conn.commit()
    conn.close()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli([*args, "--db", str(path)], timeout=60)

    reextracted = cli("reextract")
    assert reextracted.returncode == 0, reextracted.stderr
    assert reextracted.stdout.startswith("1 articles, 0 with stored pages (0 pages); 0 rows changed")
    assert "1 without stored pages" in reextracted.stdout
    shown = cli("show", url)
    assert shown.returncode == 0
    assert "no raw page kept for this article" in shown.stdout
    assert cli("show", url, "--raw").returncode == 1
    assert "0 pages written" in cli("export", "--format", "warc", "-o", str(tmp_path / "a.warc.gz")).stderr
    assert rows(path, "SELECT value FROM metadata WHERE key = 'schema_version'")[0][0] == str(
        database.SCHEMA_VERSION
    )
    assert rows(path, "SELECT count(*) FROM pages")[0][0] == 0


def test_an_unknown_keep_pages_value_stops_scrapy_crawl_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "portal",
            "-a",
            "url=http://127.0.0.1:9/",
            *BAD_KEEP,
            "-s",
            f"PORTALCRAWL_DB_PATH={tmp_path}/a.db",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "error: PORTALCRAWL_KEEP_PAGES: expected one of all, articles, off, got 'some'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "a.db").exists()

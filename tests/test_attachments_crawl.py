"""Attachments crawled from a loopback portal: links, polite downloads, stored once, text searchable."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attachment_portal import GBK_NAME, PHRASES, AttachmentPortal
from tests.conftest import REPO_ROOT, run_cli, run_crawl

pytest.importorskip("pypdfium2", reason="needs the attachments extra: pip install -e '.[attachments]'")

MAX_BYTES = "200000"


@pytest.fixture(scope="module")
def portal() -> Iterator[AttachmentPortal]:
    server = AttachmentPortal().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def text_db(portal: AttachmentPortal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("text") / "archive.db"
    result = run_crawl(
        ["-a", f"url={portal.base}/xwzx/tzgg/"],
        db,
        PORTALCRAWL_ATTACHMENTS="text",
        PORTALCRAWL_ATTACHMENT_MAX_BYTES=MAX_BYTES,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return db


def _rows(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, REPO_ROOT, timeout=60)


@pytest.mark.parametrize("kind", sorted(PHRASES))
def test_a_phrase_only_inside_each_file_is_found_by_search(text_db: Path, kind: str) -> None:
    result = _cli("search", PHRASES[kind], "--db", str(text_db), "--json")
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert [hit["found_in"] for hit in hits] == ["attachment"]
    assert PHRASES[kind] in hits[0]["snippet"].replace("[", "").replace("]", "")
    assert hits[0]["title"] == "关于做好农村公路养护工作的通知"


def test_search_shows_the_hit_under_its_article_with_name_and_page(text_db: Path) -> None:
    result = _cli("search", "maintenance ledger", "--db", str(text_db), "--in", "attachments")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("关于做好农村公路养护工作的通知")
    assert "attachment: 1.养护台账.pdf" in result.stdout
    assert (
        _cli("search", "second page", "--db", str(text_db), "--in", "attachments").stdout.count("page 2") == 1
    )
    assert _cli("search", PHRASES["pdf"], "--db", str(text_db), "--in", "articles").returncode == 1


def test_outcomes_of_the_links_as_portals_serve_them(text_db: Path, portal: AttachmentPortal) -> None:
    status = {row["url"].replace(portal.base, ""): row for row in _rows(text_db, "SELECT * FROM attachments")}
    assert status["/files/missing.pdf"]["status"] == "not_a_file"
    assert status["/files/gone.pdf"]["status"] == "http_error"
    assert status["/files/gone.pdf"]["http_status"] == 404
    assert status["/files/huge.pdf"]["status"] == "too_large"
    assert status["/private/secret.pdf"]["status"] == "refused"
    assert status["http://10.1.2.3/intranet.pdf"]["status"] == "refused"
    assert status["http://files.other-portal.cn/a.pdf"]["status"] == "refused"
    # Hanweb's downfile.jsp answers with a 302 to the file.
    assert status["/module/download/downfile.jsp?classid=0&filename=kaohe.docx"]["status"] == "downloaded"
    assert status["/jact/front/download.jsp?id=7"]["server_name"] == GBK_NAME
    assert status["/download.jsp?id=8"]["server_name"] == "结果C.pdf"
    # robots.txt is obeyed and nothing outside the portal is tried.
    assert portal.hits["/private/secret.pdf"] == 0
    article = f"{portal.base}/xwzx/tzgg/202503/t20250312_1001.html"
    assert portal.referers["/xwzx/tzgg/202503/P020250312000001.pdf"] == article


def test_one_file_under_three_urls_is_stored_once(text_db: Path, portal: AttachmentPortal) -> None:
    urls = [
        f"{portal.base}{path}" for path in ("/files/same-a.pdf", "/files/same-b.pdf", "/download.jsp?id=8")
    ]
    rows = _rows(text_db, "SELECT sha256 FROM attachments WHERE url IN (?, ?, ?)", *urls)
    assert len({row["sha256"] for row in rows}) == 1
    files = _rows(text_db, "SELECT * FROM files WHERE sha256 = ?", rows[0]["sha256"])
    assert len(files) == 1
    stored = text_db.parent / files[0]["path"]
    sha = files[0]["sha256"]
    assert files[0]["path"] == f"archive.files/{sha[:2]}/{sha[2:4]}/{sha}.pdf"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    kinds = {
        row["kind"]: row["extract_status"] for row in _rows(text_db, "SELECT kind, extract_status FROM files")
    }
    assert kinds == {"pdf": "ok", "doc": "ok", "docx": "ok", "xlsx": "ok", "ofd": "ok"}


def test_a_rerun_downloads_nothing_again(portal: AttachmentPortal, tmp_path: Path) -> None:
    db = tmp_path / "rerun.db"
    args = ["-a", f"url={portal.base}/xwzx/tzgg/"]
    for _ in range(2):
        before = sum(portal.hits.values())
        files_before = {k: v for k, v in portal.hits.items() if "html" not in k and k != "/xwzx/tzgg/"}
        result = run_crawl([*args, "-a", "full=1"], db, PORTALCRAWL_ATTACHMENTS="download")
        assert result.returncode == 0, result.stderr[-2000:]
        assert sum(portal.hits.values()) > before
    files_after = {k: v for k, v in portal.hits.items() if "html" not in k and k != "/xwzx/tzgg/"}
    # The second run fetched its two articles again (full=1) but none of their files; only those that
    # failed (404, an HTML page for a file) are tried again.
    retried = {k for k in files_after if files_after[k] != files_before.get(k)}
    assert retried <= {"/files/gone.pdf", "/robots.txt"}
    assert _rows(db, "SELECT count(*) AS n FROM files WHERE text IS NOT NULL")[0]["n"] == 0


def test_links_mode_records_rows_and_fetches_no_file(portal: AttachmentPortal, tmp_path: Path) -> None:
    db = tmp_path / "links.db"
    fetched_before = portal.hits["/xwzx/tzgg/202503/P020250312000001.pdf"]
    result = run_crawl(["-a", f"url={portal.base}/xwzx/tzgg/"], db)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = _rows(db, "SELECT status, count(*) AS n FROM attachments GROUP BY status")
    assert [(row["status"], row["n"]) for row in rows] == [("linked", 15)]
    assert portal.hits["/xwzx/tzgg/202503/P020250312000001.pdf"] == fetched_before
    assert _rows(db, "SELECT count(*) AS n FROM files")[0]["n"] == 0


def test_attachments_commands_on_the_crawled_archive(text_db: Path) -> None:
    stats = _cli("attachments", "stats", "--db", str(text_db))
    assert stats.returncode == 0, stats.stderr
    assert "downloaded" in stats.stdout and "not_a_file" in stats.stdout
    listing = _cli("attachments", "list", "--status", "too_large", "--db", str(text_db))
    assert "/files/huge.pdf" in listing.stdout and "/files/gone.pdf" not in listing.stdout
    sha = _rows(text_db, "SELECT sha256 FROM files WHERE kind = 'ofd'")[0]["sha256"]
    shown = _cli("attachments", "show", sha[:10], "--db", str(text_db))
    assert PHRASES["ofd"] in shown.stdout
    assert _cli("attachments", "verify", "--db", str(text_db)).returncode == 0
    assert "0 files" in _cli("attachments", "extract", "--db", str(text_db)).stdout


def test_verify_finds_a_corrupt_file_and_an_orphan(portal: AttachmentPortal, tmp_path: Path) -> None:
    db = tmp_path / "verify.db"
    result = run_crawl(["-a", f"url={portal.base}/xwzx/tzgg/"], db, PORTALCRAWL_ATTACHMENTS="download")
    assert result.returncode == 0, result.stderr[-2000:]
    path = _rows(db, "SELECT path FROM files WHERE kind = 'docx'")[0]["path"]
    (tmp_path / path).write_bytes(b"changed")
    (tmp_path / "verify.files" / "stray.pdf").write_bytes(b"%PDF-")
    verify = _cli("attachments", "verify", "--db", str(db))
    assert verify.returncode == 1
    assert f"corrupt  {path}" in verify.stdout and "stray.pdf" in verify.stdout
    extracted = _cli("attachments", "extract", "--db", str(db))
    assert extracted.returncode == 0, extracted.stderr
    assert _rows(db, "SELECT count(*) AS n FROM files WHERE extract_status = 'ok'")[0]["n"] >= 5


def test_fetch_backfills_the_files_of_an_archive_crawled_in_links_mode(
    portal: AttachmentPortal, tmp_path: Path
) -> None:
    db = tmp_path / "backfill.db"
    result = run_crawl(["-a", f"url={portal.base}/xwzx/tzgg/"], db)
    assert result.returncode == 0, result.stderr[-2000:]
    pages_before = {k: v for k, v in portal.hits.items() if k.endswith(".html")}
    fetched = _cli(
        "attachments",
        "fetch",
        "--text",
        "--db",
        str(db),
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        f"PORTALCRAWL_ATTACHMENT_MAX_BYTES={MAX_BYTES}",
    )
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert "127.0.0.1" in fetched.stdout
    # Only files were fetched: no listing or article page again.
    assert {k: v for k, v in portal.hits.items() if k.endswith(".html")} == pages_before
    statuses = {row["status"] for row in _rows(db, "SELECT status FROM attachments")}
    assert "linked" not in statuses
    assert _cli("search", PHRASES["ofd"], "--db", str(db), "--in", "attachments").returncode == 0
    assert _rows(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 1


def test_export_can_include_attachment_text(text_db: Path) -> None:
    result = _cli("export", "--attachment-text", "--db", str(text_db))
    assert result.returncode == 0, result.stderr
    records = {json.loads(line)["title"]: json.loads(line) for line in result.stdout.splitlines()}
    attachments = records["关于做好农村公路养护工作的通知"]["attachment_text"]
    texts = {a["name"]: a["text"] for a in attachments}
    assert PHRASES["xlsx"] in texts["3.资金分配表"]
    assert {a["extract_status"] for a in attachments} == {"ok"}
    plain = json.loads(_cli("export", "--db", str(text_db)).stdout.splitlines()[0])
    assert "attachment_text" not in plain


def test_crawl_attachments_option_as_cron_runs_it(portal: AttachmentPortal, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    url = f"{portal.base}/xwzx/tzgg/"
    fast = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    result = _cli("crawl", "--url", url, "--attachments", "download", "--db", str(db), *fast)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _rows(db, "SELECT count(*) AS n FROM attachments WHERE status = 'downloaded'")[0]["n"] == 10
    wrong = _cli("crawl", "--url", url, "--db", str(db), "-s", "PORTALCRAWL_ATTACHMENTS=all")
    assert wrong.returncode == 2
    assert wrong.stderr.strip().splitlines() == [
        "portalcrawl: error: PORTALCRAWL_ATTACHMENTS: expected one of off, links, download, text, got 'all'"
    ]


def test_off_mode_records_no_rows(portal: AttachmentPortal, tmp_path: Path) -> None:
    db = tmp_path / "off.db"
    result = run_crawl(["-a", f"url={portal.base}/xwzx/tzgg/"], db, PORTALCRAWL_ATTACHMENTS="off")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _rows(db, "SELECT count(*) AS n FROM attachments")[0]["n"] == 0
    assert _rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == 2


def test_a_file_slower_than_its_timeout_is_a_failure_tried_again_later(tmp_path: Path) -> None:
    slow = AttachmentPortal(slow_pdf_seconds=3).start()
    try:
        db = tmp_path / "slow.db"
        result = run_crawl(
            ["-a", f"url={slow.base}/xwzx/tzgg/"],
            db,
            PORTALCRAWL_ATTACHMENTS="download",
            # Far below the slow file's 3 s, far above what the others take on a loaded machine.
            PORTALCRAWL_ATTACHMENT_TIMEOUT="1.5",
            RETRY_ENABLED="0",
        )
    finally:
        slow.stop()
    assert result.returncode == 0, result.stderr[-2000:]
    row = _rows(db, "SELECT status, error FROM attachments WHERE url LIKE '%P020250312000001.pdf'")[0]
    assert (row["status"], row["error"]) == ("failed", "no answer within 1.5 s")
    assert _rows(db, "SELECT count(*) AS n FROM attachments WHERE status = 'downloaded'")[0]["n"] == 9

"""OCR outside the crawl: a scanned PDF the crawl marks needs_ocr becomes searchable with extract --ocr."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.attachment_files import make_pdf, make_scanned_pdf
from tests.attachment_portal import AttachmentPortal, _article
from tests.conftest import REPO_ROOT, run_crawl

pytest.importorskip("pypdfium2", reason="needs the attachments extra: pip install -e '.[attachments]'")

# English: the test PDFs' Helvetica has no CJK glyphs to draw a Chinese scan with.
SCANNED_PHRASE = "Winter gritting schedule"


class ScanPortal(AttachmentPortal):
    """``AttachmentPortal``'s two articles: one links a scan (an image, no text layer), one a text PDF."""

    def __init__(self) -> None:
        super().__init__()
        self.files = {
            "/files/scan.pdf": make_scanned_pdf(f"Notice of the county road office\n{SCANNED_PHRASE} 2025"),
            "/files/text.pdf": make_pdf(["a born-digital page"]),
        }

    def articles(self) -> dict[str, bytes]:
        return {
            "/xwzx/tzgg/202503/t20250312_1001.html": _article(
                "关于做好农村公路养护工作的通知", "2025-03-12", [("/files/scan.pdf", "扫描件.pdf")]
            ),
            "/xwzx/tzgg/202503/t20250311_1002.html": _article(
                "关于公布养护检查结果的通知", "2025-03-11", [("/files/text.pdf", "结果.pdf")]
            ),
        }


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portalcrawl", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        env=env,
    )


def _crawled_archive(tmp_path: Path) -> Path:
    portal = ScanPortal().start()
    try:
        db = tmp_path / "archive.db"
        result = run_crawl(["-a", f"url={portal.base}/xwzx/tzgg/"], db, PORTALCRAWL_ATTACHMENTS="text")
    finally:
        portal.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    return db


def _files(db: Path) -> dict[str, tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT t.url, f.extract_status, f.extracted_by FROM files f JOIN attachments t USING (sha256)"
        ).fetchall()
    finally:
        conn.close()
    return {url.rsplit("/", 1)[1]: (status, by) for url, status, by in rows}


def test_extract_ocr_makes_a_scanned_pdf_searchable(tmp_path: Path) -> None:
    if shutil.which("tesseract") is None:
        pytest.skip(
            "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng); .ci/run does"
        )
    db = _crawled_archive(tmp_path)
    assert _files(db) == {"scan.pdf": ("needs_ocr", "pypdfium2"), "text.pdf": ("ok", "pypdfium2")}
    assert _cli("search", SCANNED_PHRASE, "--db", str(db)).returncode == 1

    extracted = _cli("attachments", "extract", "--ocr", "--db", str(db))
    assert extracted.returncode == 0, extracted.stderr
    assert extracted.stdout.strip() == "1 files: ok 1"
    files = _files(db)
    assert files["scan.pdf"][0] == "ok"
    assert files["scan.pdf"][1].startswith("tesseract (") and "eng" in files["scan.pdf"][1]
    assert files["text.pdf"] == ("ok", "pypdfium2")

    found = _cli("search", SCANNED_PHRASE, "--db", str(db), "--json")
    assert found.returncode == 0, found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    assert [(hit["found_in"], hit["title"]) for hit in hits] == [
        ("attachment", "关于做好农村公路养护工作的通知")
    ]
    # Read once: a second run has nothing left to OCR.
    assert (
        _cli("attachments", "extract", "--ocr", "--db", str(db)).stdout.strip()
        == "0 files: nothing to extract"
    )


def test_extract_ocr_without_tesseract_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = _crawled_archive(tmp_path)
    no_tesseract = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    result = _cli("attachments", "extract", "--ocr", "--db", str(db), env=no_tesseract)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "portalcrawl attachments extract: error: --ocr needs tesseract "
        "(apt-get install tesseract-ocr tesseract-ocr-chi-sim)"
    ]
    assert _files(db)["scan.pdf"] == ("needs_ocr", "pypdfium2")


def test_ocr_past_its_time_keeps_what_it_read_as_timeout(tmp_path: Path) -> None:
    if shutil.which("tesseract") is None:
        pytest.skip(
            "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng); .ci/run does"
        )
    from portalcrawl.attachments.ocr import read_scanned
    from portalcrawl.attachments.readers import Caps

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_scanned_pdf(SCANNED_PHRASE))
    result = read_scanned(scan, Caps(), ["eng"], seconds=0)
    assert (result.status, result.text, result.error) == (
        "timeout",
        "",
        "OCR stopped after 0 of 1 pages (0 s per file)",
    )
    assert read_scanned(scan, Caps(), ["eng"], seconds=60).text == SCANNED_PHRASE

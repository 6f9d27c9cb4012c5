"""The per-run attachment byte budget bounds what a crawl downloads, says so, and the next run goes on."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.attachment_files import make_pdf
from tests.attachment_portal import AttachmentPortal, _article
from tests.conftest import run_cli

FILES = 6
BUDGET = 10_000
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "PORTALCRAWL_FLUSH_SECONDS=0.5"]


class ReportsPortal(AttachmentPortal):
    """The two articles of ``AttachmentPortal``'s listing, linking ``FILES`` distinct PDFs of ~7 KB."""

    def __init__(self) -> None:
        super().__init__()
        self.files = {
            f"/files/report-{n}.pdf": make_pdf([f"report {n} page {page} " + "x" * 80 for page in range(20)])
            for n in range(FILES)
        }

    def articles(self) -> dict[str, bytes]:
        links = [(path, f"附件{n}.pdf") for n, path in enumerate(self.files)]
        half = len(links) // 2
        return {
            "/xwzx/tzgg/202503/t20250312_1001.html": _article(
                "关于做好农村公路养护工作的通知", "2025-03-12", links[:half]
            ),
            "/xwzx/tzgg/202503/t20250311_1002.html": _article(
                "关于公布养护检查结果的通知", "2025-03-11", links[half:]
            ),
        }


def _portalcrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli([*args, *FAST], timeout=120)


def _budget(budget: int) -> list[str]:
    return ["-s", f"PORTALCRAWL_ATTACHMENT_BUDGET={budget}", "-s", "PORTALCRAWL_ATTACHMENT_MAX_BYTES=20000"]


def _crawl(portal: ReportsPortal, db: Path, budget: int) -> subprocess.CompletedProcess[str]:
    url = f"{portal.base}/xwzx/tzgg/"
    return _portalcrawl("crawl", "--url", url, "--attachments", "download", "--db", str(db), *_budget(budget))


def _one(db: Path, sql: str) -> tuple[object, ...]:
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(sql).fetchone())
    finally:
        conn.close()


def test_a_spent_budget_bounds_the_run_makes_it_partial_and_the_next_run_fetches_the_rest(
    tmp_path: Path,
) -> None:
    pytest.importorskip("pypdfium2", reason="needs the attachments extra: pip install -e '.[attachments]'")
    portal = ReportsPortal().start()
    try:
        db = tmp_path / "archive.db"
        first = _crawl(portal, db, BUDGET)
        largest = max(len(body) for body in portal.files.values())
        stored, downloaded = _one(db, "SELECT coalesce(sum(bytes), 0), count(*) FROM files")
        assert 1 <= int(downloaded) < FILES  # type: ignore[call-overload]
        assert int(stored) <= BUDGET + largest  # type: ignore[call-overload]
        left = FILES - int(downloaded)  # type: ignore[call-overload]
        assert _one(db, "SELECT count(*) FROM attachments WHERE status = 'over_budget'") == (left,)
        # Refused before download: the server never saw the files left over.
        assert sum(portal.hits[path] for path in portal.files) == downloaded
        reason = f"attachment budget spent, {left} files left for the next run"
        assert _one(db, "SELECT status, reason FROM crawl_runs") == ("partial", reason)
        # A partial run that ran to its end exits 0 (the README's exit-status table); the summary says why.
        assert first.returncode == 0, first.stdout + first.stderr[-3000:]
        assert reason in first.stdout
        log = Path(first.stdout.rsplit("log: ", 1)[1].strip()).read_text(encoding="utf-8")
        assert "the run's budget of 10000 bytes is spent" in log

        # The next run sees no new article, yet fetches the files left over, each once.
        second = _crawl(portal, db, 10 * BUDGET)
        assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    finally:
        portal.stop()
    assert _one(db, "SELECT count(*) FROM files") == (FILES,)
    assert {path: portal.hits[path] for path in portal.files} == dict.fromkeys(portal.files, 1)
    assert _one(db, "SELECT status, reason FROM crawl_runs ORDER BY id DESC LIMIT 1") == ("ok", "finished")
    assert _one(db, "SELECT count(*) FROM attachments WHERE status != 'downloaded'") == (0,)


def test_a_backfill_holds_the_budget_too(tmp_path: Path) -> None:
    portal = ReportsPortal().start()
    try:
        db = tmp_path / "archive.db"
        crawled = _portalcrawl("crawl", "--url", f"{portal.base}/xwzx/tzgg/", "--db", str(db))
        assert crawled.returncode == 0, crawled.stdout + crawled.stderr[-3000:]
        fetched = _portalcrawl("attachments", "fetch", "--db", str(db), *_budget(BUDGET))
    finally:
        portal.stop()
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr[-3000:]
    stored, downloaded = _one(db, "SELECT coalesce(sum(bytes), 0), count(*) FROM files")
    assert 1 <= int(downloaded) < FILES  # type: ignore[call-overload]
    assert int(stored) <= BUDGET + max(len(body) for body in portal.files.values())  # type: ignore[call-overload]
    left = FILES - int(downloaded)  # type: ignore[call-overload]
    assert _one(db, "SELECT count(*) FROM attachments WHERE status = 'over_budget'") == (left,)
    header, row = fetched.stdout.splitlines()[:2]
    assert dict(zip(header.split(), row.split(), strict=True))["over_budget"] == str(left)

"""Crash safety with real processes and real signals: kill -9, SIGTERM, a read-only or locked database."""

from __future__ import annotations

import hashlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faultserver import FaultPortal, start_crawl

ARTICLES = 20
# Slow article answers keep the crawl running long enough to be interrupted mid-way.
SLOW_SECONDS = 0.15
FAST = {
    "DOWNLOAD_DELAY": "0.01",
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_TIMEOUT": "5",
}


@pytest.fixture(scope="module")
def portal() -> Iterator[FaultPortal]:
    with FaultPortal(good_articles=ARTICLES, slow_article_seconds=SLOW_SECONDS) as started:
        yield started


@pytest.fixture
def crawls() -> Iterator[list[subprocess.Popen]]:
    """Crawl processes started by a test; killed and reaped whatever the test's outcome."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        process.kill()
        process.communicate()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def stored_count(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def article_hits(portal: FaultPortal) -> int:
    return sum(n for path, n in portal.sites["main"].hits.items() if path.startswith("/xwdt/"))


def finish(process: subprocess.Popen, timeout: float = 60) -> str:
    log, _ = process.communicate(timeout=timeout)
    return log


def test_kill_9_mid_crawl_loses_nothing_flushed_and_the_next_run_completes(
    portal: FaultPortal, tmp_path: Path, crawls: list[subprocess.Popen]
) -> None:
    db_path = tmp_path / "archive.db"
    process = start_crawl(portal.start_urls, db_path, tmp_path, PORTALCRAWL_FLUSH_SECONDS="0.2", **FAST)
    crawls.append(process)
    wait_for(lambda: stored_count(db_path) >= 5, 40, "the first flushed articles")
    process.send_signal(signal.SIGKILL)
    finish(process)
    assert process.returncode == -signal.SIGKILL
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        flushed = {row[0] for row in db.execute("SELECT url FROM articles")}
    assert 5 <= len(flushed) < ARTICLES

    rerun = start_crawl(portal.start_urls, db_path, tmp_path, **FAST)
    crawls.append(rerun)
    log = finish(rerun)
    assert rerun.returncode == 0, log[-3000:]
    assert "Traceback" not in log
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        urls = [row[0] for row in db.execute("SELECT url FROM articles")]
        titles = {row[0] for row in db.execute("SELECT title FROM articles")}
        last_run = db.execute("SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert len(urls) == len(set(urls)) == ARTICLES
    assert flushed <= set(urls)
    assert titles == {c.title for c in portal.cases}
    assert last_run == "ok"


def test_sigterm_stops_gracefully_flushes_and_records_partial(
    portal: FaultPortal, tmp_path: Path, crawls: list[subprocess.Popen]
) -> None:
    db_path = tmp_path / "archive.db"
    # Nothing is flushed by size or age, so every stored article was written by the shutdown flush.
    process = start_crawl(
        portal.start_urls,
        db_path,
        tmp_path,
        PORTALCRAWL_FLUSH_ITEMS="1000",
        PORTALCRAWL_FLUSH_SECONDS="1000",
        **FAST,
    )
    crawls.append(process)
    served_before = article_hits(portal)
    wait_for(lambda: article_hits(portal) - served_before >= 8, 40, "eight article pages served")
    assert stored_count(db_path) == 0
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    log = finish(process, timeout=30)
    assert time.monotonic() - started < 20
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        status, reason = db.execute("SELECT status, reason FROM crawl_runs").fetchone()
    assert 5 <= stored < ARTICLES
    assert (status, reason) == ("partial", "shutdown")


@pytest.fixture(scope="module")
def seeded(portal: FaultPortal, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one complete run, copied by each test that damages or locks it."""
    work = tmp_path_factory.mktemp("seeded")
    db_path = work / "archive.db"
    process = start_crawl(portal.start_urls, db_path, work, **FAST)
    log = finish(process)
    assert stored_count(db_path) == ARTICLES, log[-3000:]
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db_path


def copy_of(seeded: Path, tmp_path: Path) -> Path:
    shutil.copy(seeded, tmp_path / seeded.name)
    return tmp_path / seeded.name


def snapshot(db_path: Path) -> tuple[str, int, int]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        runs = db.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
        articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    return hashlib.sha256(db_path.read_bytes()).hexdigest(), runs, articles


def make_read_only(path: Path) -> Callable[[], None]:
    """Make ``path`` unwritable even for root (``chattr +i``); returns the undo."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is needed to make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot make {path} immutable here: {done.stderr.decode().strip()}")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_read_only_database_fails_clearly_and_writes_nothing(
    portal: FaultPortal, seeded: Path, tmp_path: Path, crawls: list[subprocess.Popen]
) -> None:
    db_path = copy_of(seeded, tmp_path)
    before = snapshot(db_path)
    undo = make_read_only(db_path)
    try:
        process = start_crawl(portal.start_urls, db_path, tmp_path, **FAST)
        crawls.append(process)
        log = finish(process)
    finally:
        undo()
    assert process.returncode != 0, log[-3000:]
    assert "readonly" in log.replace(" ", "").lower() or "read-only" in log.lower()
    assert "Traceback" not in log
    assert snapshot(db_path) == before


LOCKER = textwrap.dedent(
    """
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    db.execute("ROLLBACK")
    """
)


def test_database_locked_by_another_writer_fails_clearly(
    portal: FaultPortal, seeded: Path, tmp_path: Path, crawls: list[subprocess.Popen]
) -> None:
    db_path = copy_of(seeded, tmp_path)
    before = snapshot(db_path)
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db_path), "60"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == "locked"
        process = start_crawl(portal.start_urls, db_path, tmp_path, **FAST)
        crawls.append(process)
        started = time.monotonic()
        log = finish(process, timeout=60)
        seconds = time.monotonic() - started
    finally:
        locker.kill()
        locker.communicate()
    assert process.returncode != 0, log[-3000:]
    assert "locked" in log.lower()
    assert "Traceback" not in log
    assert seconds < 30
    assert snapshot(db_path)[1:] == before[1:]

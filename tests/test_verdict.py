"""A cron user can trust the verdict: dead columns fail, caps never complete a listing, killed runs end.

Every test runs ``portalcrawl crawl`` in a subprocess as cron does (no TTY, stdin from /dev/null)
against a portal on 127.0.0.1 and reads the archive back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlite_utils

from portalcrawl.database import open_database, start_run
from portalcrawl.demo.server import PortalServer
from tests.conftest import run_cli

PORTALS = Path(__file__).parent / "portals"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PORTALCRAWL_FLUSH_SECONDS=0.5"]


def portalcrawl(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd, timeout=timeout)


def write_profile(sites: Path, slug: str, start_url: str, extra: str = "") -> None:
    sites.mkdir(exist_ok=True)
    (sites / f"{slug}.toml").write_text(f'name = "{slug}"\nstart_urls = ["{start_url}"]\n{extra}\n')


def runs(db: Path) -> list[dict[str, object]]:
    return list(sqlite_utils.Database(db).query("select * from crawl_runs order by id"))


def listing_state(db: Path) -> list[dict[str, object]]:
    """The listings a run completed (a row that only holds a resume point is no completion)."""
    return list(
        sqlite_utils.Database(db).query("select * from listing_state where last_complete_run_id is not null")
    )


@pytest.fixture
def trs() -> Iterator[PortalServer]:
    with PortalServer(PORTALS / "trs") as server:
        yield server


class EmptyArticles(BaseHTTPRequestHandler):
    """A column whose listing links three articles that are empty pages (what a redesign can serve)."""

    def do_GET(self) -> None:
        if self.path == "/news/":
            links = "".join(
                f'<li><a href="/news/2026/t2026_{n}.html">第{n}条通知</a></li>' for n in (1, 2, 3)
            )
            body = f"<html><body><ul class='list'>{links}</ul></body></html>"
        elif self.path.startswith("/news/2026/"):
            body = "<html><head></head><body><div></div></body></html>"
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def empty_articles() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmptyArticles)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/news/"
    server.shutdown()
    server.server_close()


# -- 1. a dead column ------------------------------------------------------------------------------


def test_a_column_whose_pattern_matches_nothing_fails_no_articles_found(
    trs: PortalServer, tmp_path: Path
) -> None:
    write_profile(
        tmp_path / "sites",
        "redesigned",
        trs.start_url("jrjj"),
        "article_url_pattern = '/art/\\d+/content_\\d+\\.html$'",
    )
    result = portalcrawl(["crawl", "redesigned", "--dir", "sites", "--db", "a.db", *FAST], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    row = result.stdout.splitlines()[1].split()
    assert row[:2] == ["redesigned", "failed"]
    assert "no_articles_found" in row
    [run] = runs(tmp_path / "a.db")
    assert (run["status"], run["reason"], run["article_pages"]) == ("failed", "no_articles_found", 0)
    assert int(str(run["listing_pages"])) >= 1
    assert listing_state(tmp_path / "a.db") == []


def test_a_column_whose_articles_all_fail_extraction_fails_extraction_failed(
    empty_articles: str, tmp_path: Path
) -> None:
    result = portalcrawl(["crawl", "--url", empty_articles, "--db", "a.db", *FAST], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    [run] = runs(tmp_path / "a.db")
    assert (run["status"], run["reason"], run["article_pages"]) == ("failed", "extraction_failed", 3)
    assert "extraction_failed" in result.stdout
    assert listing_state(tmp_path / "a.db") == []


# -- 2. caps ---------------------------------------------------------------------------------------


def test_a_capped_run_is_ok_but_never_completes_the_listing_so_the_next_run_backfills(
    trs: PortalServer, tmp_path: Path
) -> None:
    write_profile(tmp_path / "sites", "city", trs.start_url("jrjj"))
    crawl = ["crawl", "city", "--dir", "sites", "--db", "a.db", *FAST]
    capped = portalcrawl([*crawl, "--max-pages", "1"], tmp_path)
    assert capped.returncode == 0, capped.stdout + capped.stderr
    assert "max_pages=1 reached, 1 listing not complete" in capped.stdout
    [first] = runs(tmp_path / "a.db")
    assert (first["status"], first["reason"]) == ("ok", "max_pages=1 reached, 1 listing not complete")
    assert listing_state(tmp_path / "a.db") == []
    assert 0 < int(str(first["new_articles"])) < 32

    daily = portalcrawl(crawl, tmp_path)
    assert daily.returncode == 0, daily.stdout + daily.stderr
    second = runs(tmp_path / "a.db")[1]
    assert (second["status"], second["reason"]) == ("ok", "finished")
    assert sqlite_utils.Database(tmp_path / "a.db")["articles"].count == 32
    assert [row["last_complete_run_id"] for row in listing_state(tmp_path / "a.db")] == [second["id"]]


def test_a_cap_on_the_last_page_is_no_cap(tmp_path: Path) -> None:
    # 35 articles at 10 a page, a pager that names every page: page 4 is the end and links no further.
    with PortalServer(PORTALS / "numbered") as numbered:
        write_profile(tmp_path / "sites", "city", numbered.start_url("tzgg"), "max_pages = 4")
        result = portalcrawl(["crawl", "city", "--dir", "sites", "--db", "a.db", *FAST], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    [run] = runs(tmp_path / "a.db")
    assert (run["status"], run["reason"], run["new_articles"]) == ("ok", "finished", 35)
    assert len(listing_state(tmp_path / "a.db")) == 1


def test_a_one_off_since_does_not_complete_the_listing_a_profile_since_does(
    trs: PortalServer, tmp_path: Path
) -> None:
    # The column's 32 articles are published daily from 2025-03-03: since 2025-03-25 cuts it short.
    write_profile(tmp_path / "sites", "city", trs.start_url("jrjj"))
    crawl = ["crawl", "city", "--dir", "sites", "--db", "a.db", *FAST]
    assert portalcrawl([*crawl, "--since", "2025-03-25"], tmp_path).returncode == 0
    assert listing_state(tmp_path / "a.db") == []
    assert 0 < sqlite_utils.Database(tmp_path / "a.db")["articles"].count < 32
    assert portalcrawl(crawl, tmp_path).returncode == 0
    assert sqlite_utils.Database(tmp_path / "a.db")["articles"].count == 32
    write_profile(tmp_path / "sites", "dated", trs.start_url("jrjj"), 'since = "2025-03-25"')
    assert portalcrawl(["crawl", "dated", "--dir", "sites", "--db", "a.db", *FAST], tmp_path).returncode == 0
    assert [row["site"] for row in listing_state(tmp_path / "a.db")] == ["city", "dated"]


# -- 3. killed runs --------------------------------------------------------------------------------


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_runs_left_running_by_a_dead_process_fail_killed_at_the_next_crawl(
    trs: PortalServer, tmp_path: Path
) -> None:
    db = open_database(tmp_path / "a.db")
    killed = start_run(db, "city", {})
    db["crawl_runs"].update(killed, {"pid": dead_pid()})
    db.close()
    write_profile(tmp_path / "sites", "city", trs.start_url("jrjj"))
    result = portalcrawl(["crawl", "city", "--dir", "sites", "--db", "a.db", *FAST], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = [(r["status"], r["reason"]) for r in runs(tmp_path / "a.db")]
    assert statuses == [("failed", "killed"), ("ok", "finished")]


def test_first_ctrl_c_prints_one_line_and_the_second_leaves_a_run_the_next_crawl_fails_killed(
    tmp_path: Path,
) -> None:
    slow = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    slow.daemon_threads = True
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{slow.server_address[1]}/news/"
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "portalcrawl", "crawl", "--url", url, "--db", "a.db", *FAST],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not SlowHandler.arrived.wait(0.1):
            assert time.monotonic() < deadline and process.poll() is None
        process.send_signal(signal.SIGINT)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        SlowHandler.release.set()
        slow.shutdown()
        slow.server_close()
    assert process.returncode != 0
    lines = stderr.splitlines()
    assert lines[0] == "portalcrawl: stopping after in-flight requests; Ctrl-C again to abort"
    assert "Traceback" not in stderr
    assert [r["status"] for r in runs(tmp_path / "a.db")] in (["running"], ["failed"])
    # The next crawl on the archive settles a row its dead process left running.
    portalcrawl(["crawl", "--url", "http://127.0.0.1:9/news/", "--db", "a.db", *FAST], tmp_path)
    first = runs(tmp_path / "a.db")[0]
    assert (first["status"], first["reason"]) == ("failed", "killed")


class SlowHandler(BaseHTTPRequestHandler):
    """Answers nothing until the test is done: a crawl that is interrupted mid-request."""

    arrived = threading.Event()
    release = threading.Event()

    def do_GET(self) -> None:
        SlowHandler.arrived.set()
        SlowHandler.release.wait(60)
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_process_alive_sees_pid_reuse() -> None:
    from datetime import UTC, datetime, timedelta

    from portalcrawl.processes import run_process_alive

    me = os.getpid()
    assert run_process_alive(me, datetime.now(UTC))
    # This process started long after a run that claims its pid a day ago: that run's process is gone.
    assert not run_process_alive(me, datetime.now(UTC) - timedelta(days=1))
    assert not run_process_alive(dead_pid(), datetime.now(UTC))


# -- 4. several writers on one archive -------------------------------------------------------------


def test_four_scrapy_crawl_processes_on_one_archive_lose_no_batch(tmp_path: Path) -> None:
    from portalcrawl.demo.server import DEMO_PORTAL_DIR

    db = tmp_path / "a.db"
    open_database(db).close()
    with PortalServer(DEMO_PORTAL_DIR) as server:
        expected = {column: len(server.expected_articles(column)) for column in server.columns}
        crawls = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "crawl",
                    "portal",
                    "-a",
                    f"url={server.start_url(column)}",
                    "-s",
                    f"PORTALCRAWL_DB_PATH={db}",
                    # Small batches: many write transactions from four processes at once.
                    "-s",
                    "PORTALCRAWL_FLUSH_ITEMS=2",
                    "-s",
                    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                    *FAST,
                ],
                cwd=Path(__file__).resolve().parent.parent,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for column in server.columns
        ]
        logs = [crawl.communicate(timeout=180)[1] for crawl in crawls]
    assert not [log for log in logs if "database is locked" in log]
    assert [crawl.returncode for crawl in crawls] == [0] * 4
    archive = sqlite_utils.Database(db)
    assert [row["status"] for row in archive.query("select status from crawl_runs")] == ["ok"] * 4
    assert archive["articles"].count == sum(expected.values())

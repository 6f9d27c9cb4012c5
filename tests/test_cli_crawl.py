"""`portalcrawl crawl` as cron runs it: real processes, real HTTP on 127.0.0.1, exit statuses and the lock."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlite_utils
from scrapy.utils.test import get_crawler

from portalcrawl.cli import main
from portalcrawl.demo.server import DEMO_PORTAL_DIR, PortalServer
from portalcrawl.extensions.progress import CrawlProgress, progress_line
from portalcrawl.lock import CrawlLock, LockHeld, lock_path_for
from tests.conftest import run_cli

TRS_PORTAL = Path(__file__).parent / "portals" / "trs"
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]
RUISHU_412 = (
    b"<html><head><script type=\"text/javascript\">$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=84861;"
    b'$_ts.cd="qEhrqrAlrGQmqqL";</script><script src="/4QbVtADbnLVIc/c.FxJzG50F.dfe1675.js" r=\'m\'>'
    b"</script></head><body></body></html>"
)
JIASULE_521 = (
    b"<html><body><script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')"
    b"+('r')+('a')+('n')+('c')+('e')+('_')+('s')+('=1732480000.412|0|abcdef');"
    b"location.href=location.pathname+location.search</script></body></html>"
)


def run_portalcrawl(args: list[str], cwd: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd, timeout=timeout)


def serve(status: int, body: bytes, delay: float = 0.0) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 that gives every request the same answer (after ``delay`` seconds)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest output is for failures."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def wall_server(request: pytest.FixtureRequest) -> Iterator[str]:
    status, body = request.param
    server = serve(status, body)
    yield f"http://127.0.0.1:{server.server_address[1]}/xwzx/index.html"
    server.shutdown()
    server.server_close()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# -- exit status 2: usage and configuration errors ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name at least one SITE"),
        (["no-such-site"], "unknown site 'no-such-site'"),
        (["--url", "file:///etc/passwd"], "not an http(s) URL"),
        (["--all", "--since", "2026-02-30"], "--since: expected a date YYYY-MM-DD, got '2026-02-30'"),
        (["--all", "-s", "DOWNLOAD_DELAY"], "-s 'DOWNLOAD_DELAY': expected NAME=VALUE"),
        (["--all", "-s", "DOWNLOAD_DELAY=fast"], "DOWNLOAD_DELAY must be a number"),
        (["--all", "-s", "ROBOTSTXT_OBEY=maybe"], "ROBOTSTXT_OBEY must be True or False"),
        (["--all", "-s", "ITEM_PIPELINES={oops"], "ITEM_PIPELINES must be a JSON object"),
        (["--all", "-s", "PORTALCRAWL_DBPATH=x.db"], "unknown setting PORTALCRAWL_DBPATH"),
        (["--all", "--max-pages", "0"], "--max-pages: expected a positive integer, got '0'"),
        (["--all"], "--all: no enabled site profile"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "portalcrawl.settings")
    assert main(["crawl", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("portalcrawl: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_bad_profile_exits_2_without_traceback(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "county.toml").write_text('name = "某县"\nstart_urls = ["https://a.gov.cn/"]\nmax_pgaes = 3\n')
    result = run_portalcrawl(["crawl", "county", "--dir", str(sites), "--db", "x.db"], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"portalcrawl: error: {sites / 'county.toml'}: max_pgaes: unknown key")
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "x.db").exists()


# -- the lock --------------------------------------------------------------------------------------


def test_lock_records_pid_and_refuses_a_second_holder(tmp_path: Path) -> None:
    path = lock_path_for(tmp_path / "a.db")
    with CrawlLock(path) as first:
        assert path.read_text().strip() == str(os.getpid())
        with pytest.raises(LockHeld) as held:
            CrawlLock(path).acquire()
        assert held.value.pid == os.getpid()
        assert first.previous_pid is None
    assert path.read_text().strip() == ""
    with CrawlLock(path):
        pass


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = lock_path_for(tmp_path / "a.db")
    gone = dead_pid()
    path.write_text(f"{gone}\n")
    with CrawlLock(path) as lock:
        assert lock.previous_pid == gone
        assert path.read_text().strip() == str(os.getpid())


def test_crawl_exits_75_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from portalcrawl.lock import CrawlLock; lock = CrawlLock('a.db.lock'); "
            "lock.acquire(); print('locked', flush=True); sys.stdin.read()",
        ],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        result = run_portalcrawl(["crawl", "--url", "http://127.0.0.1:9/news/", "--db", "a.db"], tmp_path)
    finally:
        holder.communicate("", timeout=10)
    assert result.returncode == 75
    assert (
        result.stderr == f"portalcrawl: another crawl (pid {holder.pid}) is running on a.db; not starting\n"
    )
    assert not (tmp_path / "a.db").exists()
    assert not (tmp_path / "logs").exists()


def test_second_crawl_on_the_same_db_exits_75_naming_the_running_pid(tmp_path: Path) -> None:
    slow = serve(404, b"not here", delay=20.0)
    url = f"http://127.0.0.1:{slow.server_address[1]}/news/"
    first = subprocess.Popen(
        [sys.executable, "-m", "portalcrawl", "crawl", "--url", url, "--db", "a.db", *FAST],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        lock_file = tmp_path / "a.db.lock"
        deadline = time.monotonic() + 30
        while not (lock_file.exists() and lock_file.read_text().strip() == str(first.pid)):
            assert time.monotonic() < deadline, "the first crawl never took the lock"
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        started = time.monotonic()
        second = run_portalcrawl(["crawl", "--url", url, "--db", "a.db", *FAST], tmp_path)
        assert second.returncode == 75
        assert (
            second.stderr
            == f"portalcrawl: another crawl (pid {first.pid}) is running on a.db; not starting\n"
        )
        assert second.stdout == ""
        assert time.monotonic() - started < 10
    finally:
        # The first crawl is still waiting on the slow server; it has served its purpose.
        first.kill()
        first.communicate(timeout=60)
        slow.shutdown()
        slow.server_close()


# -- real crawls -----------------------------------------------------------------------------------


def test_good_portal_exits_0_records_the_run_and_writes_a_log(tmp_path: Path) -> None:
    gone = dead_pid()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.db.lock").write_text(f"{gone}\n")
    with PortalServer(TRS_PORTAL) as server:
        url = server.start_url(next(iter(server.columns)))
        result = run_portalcrawl(["crawl", "--url", url, "--db", "out/a.db", *FAST], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    header, row, log_line = result.stdout.splitlines()
    assert header.split() == ["site", "status", "pages", "new", "updated", "errors", "reason"]
    site, status, pages, new = row.split()[:4]
    # The fixture portal links one missing page: a dead link is recorded but the run is still ok.
    assert (site, status) == ("127.0.0.1", "ok")
    assert int(pages) > int(new) > 0
    db = sqlite_utils.Database(tmp_path / "out" / "a.db")
    runs = list(db["crawl_runs"].rows)
    assert [(r["site"], r["status"], r["new_articles"]) for r in runs] == [("127.0.0.1", "ok", int(new))]
    assert db["articles"].count == runs[0]["new_articles"] > 0
    logs = list((tmp_path / "out" / "logs").glob("crawl-*.log"))
    assert len(logs) == 1
    assert log_line == f"log: {Path('out') / 'logs' / logs[0].name}"
    log_text = logs[0].read_text()
    assert "Spider closed (finished)" in log_text
    assert f"left by pid {gone}" in log_text


def test_all_crawls_every_enabled_profile_in_one_run_with_a_row_per_site(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    with PortalServer(DEMO_PORTAL_DIR) as server:
        first, second, third = list(server.columns)[:3]
        for slug, enabled in ((first, "true"), (second, "true"), (third, "false")):
            (sites / f"{slug}.toml").write_text(
                f'name = "{slug}"\nstart_urls = ["{server.start_url(slug)}"]\nenabled = {enabled}\n'
            )
        result = run_portalcrawl(["crawl", "--all", "--dir", "sites", "--max-pages", "1", *FAST], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[1:3]] == sorted([first, second])
    db = sqlite_utils.Database(tmp_path / "output" / "portalcrawl.db")
    runs = list(db["crawl_runs"].rows)
    assert sorted(r["site"] for r in runs) == sorted([first, second])
    assert {r["pid"] for r in runs} == {runs[0]["pid"]}
    assert {a["site"] for a in db["articles"].rows} == {first, second}


@pytest.mark.parametrize(
    ("wall_server", "kind"),
    [((412, RUISHU_412), "waf_ruishu"), ((521, JIASULE_521), "waf_jiasule")],
    ids=["ruishu-412", "jiasule-521"],
    indirect=["wall_server"],
)
def test_a_waf_wall_exits_1_with_the_site_blocked(wall_server: str, kind: str, tmp_path: Path) -> None:
    result = run_portalcrawl(["crawl", "--url", wall_server, "--db", "a.db", *FAST], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    row = result.stdout.splitlines()[1]
    assert row.split()[:3] == ["127.0.0.1", "blocked", "0"]
    assert f"blocked: {kind}" in row
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert [(r["status"], r["blocked_kind"]) for r in db["crawl_runs"].rows] == [("blocked", kind)]
    assert list((tmp_path / "logs").glob("crawl-*.log"))


def test_old_logs_are_pruned(tmp_path: Path) -> None:
    from portalcrawl.cli.crawl import KEEP_LOG_FILES, crawl_settings, prepare_log_file

    logs = tmp_path / "logs"
    logs.mkdir()
    for n in range(40):
        old = logs / f"crawl-202601{n:02d}-000000-1.log"
        old.write_text("")
        os.utime(old, (1_700_000_000 + n, 1_700_000_000 + n))
    (logs / "notes.txt").write_text("kept")
    log_file = prepare_log_file(crawl_settings([], db=str(tmp_path / "a.db")), "crawl")
    assert log_file is not None
    log_file.write_text("")
    remaining = sorted(p.name for p in logs.glob("crawl-*.log"))
    assert len(remaining) == KEEP_LOG_FILES
    assert "crawl-20260139-000000-1.log" in remaining
    assert "crawl-20260110-000000-1.log" not in remaining
    assert (logs / "notes.txt").exists()


# -- the progress line -----------------------------------------------------------------------------


def test_progress_line_sums_all_sites_and_fits_the_terminal() -> None:
    first, second = get_crawler(), get_crawler()
    for crawler, pages, new, updated in ((first, 30, 12, 0), (second, 10, 3, 2)):
        assert crawler.stats is not None
        crawler.stats.set_value("response_received_count", pages)
        crawler.stats.set_value("portalcrawl/storage/new", new)
        crawler.stats.set_value("portalcrawl/storage/updated", updated)
    progress = [CrawlProgress(first, io.StringIO()), CrawlProgress(second, io.StringIO())]
    progress[1].errors = 1
    progress[1].closed = True
    line = progress_line(progress, 200)
    assert line.startswith("crawling 1/2 sites: 40 pages, 15 new, 2 updated, 1 errors, ")
    assert line.endswith(" pages/min")
    assert len(progress_line(progress, 30)) == 29


def test_progress_is_silent_when_stderr_is_not_a_terminal() -> None:
    from scrapy.exceptions import NotConfigured

    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(get_crawler())


def test_progress_line_is_drawn_on_a_terminal_and_erased_before_the_summary(tmp_path: Path) -> None:
    primary, secondary = pty.openpty()
    with PortalServer(TRS_PORTAL) as server:
        url = server.start_url(next(iter(server.columns)))
        process = subprocess.Popen(
            [sys.executable, "-m", "portalcrawl", "crawl", "--url", url, "--db", "a.db", *FAST],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
        )
        os.close(secondary)
        terminal = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the crawl closed its end of the terminal
                break
            if not chunk:
                break
            terminal += chunk
        stdout, _ = process.communicate(timeout=60)
    os.close(primary)
    assert process.returncode == 0, stdout
    text = terminal.decode()
    assert "\r\x1b[Kcrawling 1/1 sites: " in text
    assert " pages/min" in text
    assert text.endswith("\r\x1b[K")
    assert stdout.startswith("site ")

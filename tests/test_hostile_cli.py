"""The CLI under hostile conditions: archive paths it must not clobber, tricked locks, read-only media."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portalcrawl.demo.server import PortalServer
from portalcrawl.lock import CrawlLock, lock_path_for
from tests.conftest import run_cli
from tests.faultserver import FaultHandler, FaultSite, article_html

TRS_PORTAL = Path(__file__).parent / "portals" / "trs"
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]


def portalcrawl(args: list[str], cwd: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``portalcrawl ARGS`` as cron runs it: no terminal, stdin from /dev/null."""
    return run_cli(args, cwd, timeout=timeout)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert re.match(r"portalcrawl( [a-z]+)?: error: ", lines[0]), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A real archive of the TRS fixture portal, and the log of the crawl that made it.

    The crawl starts on a lock file naming a live pid (this test process) that does not hold the lock.
    """
    work = tmp_path_factory.mktemp("archive")
    lock_path_for(work / "archive.db").write_text(f"{os.getpid()}\n")
    with PortalServer(TRS_PORTAL) as server:
        url = server.start_url(next(iter(server.columns)))
        result = portalcrawl(
            ["crawl", "--url", url, "--db", "archive.db", "-s", "LOG_FILE=crawl.log", *FAST], work
        )
    assert result.returncode == 0, result.stdout + result.stderr
    yield work / "archive.db", (work / "crawl.log").read_text()


@pytest.fixture
def archive(crawled: tuple[Path, str], tmp_path: Path) -> Path:
    copy = tmp_path / "archive.db"
    shutil.copyfile(crawled[0], copy)
    return copy


# -- commands that must not destroy an archive ------------------------------------------------------


def test_export_refuses_to_overwrite_the_archive_it_reads(archive: Path) -> None:
    before = digest(archive)
    result = portalcrawl(["export", "--db", archive.name, "-o", archive.name], archive.parent)
    assert result.returncode == 2
    assert "archive.db is a SQLite database" in one_error_line(result)
    assert digest(archive) == before


def test_export_refuses_to_overwrite_any_other_database(archive: Path) -> None:
    other = archive.with_name("other.db")
    shutil.copyfile(archive, other)
    result = portalcrawl(["export", "--db", archive.name, "-o", "other.db"], archive.parent)
    assert result.returncode == 2
    one_error_line(result)
    assert digest(other) == digest(archive)
    # A file that is no database is the user's to overwrite.
    (archive.parent / "old.jsonl").write_text("old\n")
    assert portalcrawl(["export", "--db", archive.name, "-o", "old.jsonl"], archive.parent).returncode == 0
    assert (archive.parent / "old.jsonl").read_text().startswith('{"')


def test_demo_refuses_to_delete_an_archive_of_real_sites(archive: Path) -> None:
    before = digest(archive)
    result = portalcrawl(["demo", "--db", archive.name], archive.parent)
    assert result.returncode == 2
    assert "127.0.0.1" in one_error_line(result)
    assert digest(archive) == before
    assert not (archive.parent / "logs").exists()


def test_crawl_refuses_to_append_its_log_to_a_database(archive: Path) -> None:
    before = digest(archive)
    crawl = [
        "crawl",
        "--url",
        "http://127.0.0.1:9/news/",
        "--db",
        archive.name,
        "-s",
        f"LOG_FILE={archive.name}",
    ]
    result = portalcrawl(crawl, archive.parent)
    assert result.returncode == 2
    assert "is a SQLite database; not logging into it" in one_error_line(result)
    assert digest(archive) == before


# -- the lock ---------------------------------------------------------------------------------------


def test_the_same_archive_through_a_symlink_contends_for_one_lock(archive: Path) -> None:
    link = archive.with_name("link.db")
    link.symlink_to(archive)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from portalcrawl.lock import CrawlLock, lock_path_for; "
            "CrawlLock(lock_path_for(sys.argv[1])).acquire(); print('locked', flush=True); sys.stdin.read()",
            str(archive),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        result = portalcrawl(
            ["crawl", "--url", "http://127.0.0.1:9/news/", "--db", "link.db"], archive.parent
        )
    finally:
        holder.communicate("", timeout=10)
    assert result.returncode == 75, result.stderr
    assert f"(pid {holder.pid})" in result.stderr


def test_a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched(archive: Path) -> None:
    victim = archive.with_name("victim.conf")
    victim.write_text("precious = true\n")
    lock_path_for(archive).symlink_to(victim)
    result = portalcrawl(["crawl", "--url", "http://127.0.0.1:9/news/", "--db", archive.name], archive.parent)
    assert result.returncode == 2
    assert "is a symbolic link" in one_error_line(result)
    assert victim.read_text() == "precious = true\n"


def test_a_lock_file_hard_linked_to_another_file_is_refused(archive: Path) -> None:
    victim = archive.with_name("victim.conf")
    victim.write_text("precious = true\n")
    os.link(victim, lock_path_for(archive))
    result = portalcrawl(["crawl", "--url", "http://127.0.0.1:9/news/", "--db", archive.name], archive.parent)
    assert result.returncode == 2
    assert "hard links" in one_error_line(result)
    assert victim.read_text() == "precious = true\n"


def test_lock_is_never_truncated_and_is_blanked_on_release(tmp_path: Path) -> None:
    path = lock_path_for(tmp_path / "a.db")
    with CrawlLock(path):
        assert path.read_text().strip() == str(os.getpid())
    assert path.read_text().strip() == ""
    assert path.stat().st_size > 0


def test_taking_over_a_lock_does_not_call_a_live_pid_dead(crawled: tuple[Path, str]) -> None:
    log = crawled[1]
    assert f"left by pid {os.getpid()}, which no longer holds it" in log
    assert "no longer running" not in log


# -- read-only media ----------------------------------------------------------------------------------


@contextlib.contextmanager
def read_only_mount(files: list[Path], mount_point: Path) -> Iterator[Path]:
    """A tmpfs at ``mount_point`` holding copies of ``files``, remounted read-only (root only)."""
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)], check=False)
    if made.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        for file in files:
            shutil.copyfile(file, mount_point / file.name)
        subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_read_only_media_can_be_searched_exported_and_listed(archive: Path, tmp_path: Path) -> None:
    with read_only_mount([archive], tmp_path / "ro") as media:
        db = str(media / "archive.db")
        search = portalcrawl(["search", "工作", "--db", db], tmp_path)
        stats = portalcrawl(["stats", "--db", db], tmp_path)
        export = portalcrawl(["export", "--db", db], tmp_path)
        runs = portalcrawl(["runs", "--db", db], tmp_path)
        state = portalcrawl(["state", "127.0.0.1", "--db", db], tmp_path)
        crawl = portalcrawl(["crawl", "--url", "http://127.0.0.1:9/news/", "--db", db], tmp_path)
    for result in (search, stats, export, runs, state):
        assert result.returncode == 0, [*result.args[3:5], result.stderr]
        assert result.stdout
    assert len(export.stdout.splitlines()) > 3
    assert crawl.returncode == 2
    assert "Read-only file system" in one_error_line(crawl)


# -- extract URL / links URL fetch like the crawl ----------------------------------------------------


def _drip(handler: FaultHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    while not handler.server.stopping.wait(0.2):
        handler.wfile.write(b"<p>")
        handler.wfile.flush()


@pytest.fixture(scope="module")
def hostile_pages() -> Iterator[tuple[FaultSite, FaultSite]]:
    portal, private = FaultSite(), FaultSite("127.0.0.2")
    private.routes["/admin"] = lambda handler: handler.send_page(article_html(1))
    portal.routes["/robots.txt"] = lambda handler: handler.send_page(
        "User-agent: *\n", content_type="text/plain"
    )
    portal.routes["/to-ftp.html"] = lambda handler: handler.send_page(
        b"", status=302, Location="ftp://127.0.0.1/pub/a.html"
    )
    portal.routes["/to-private.html"] = lambda handler: handler.send_page(
        b"", status=302, Location=private.base + "/admin"
    )
    huge = b"<html><body>" + b"<p>" * (6 * 1024 * 1024)
    portal.routes["/huge.html"] = lambda handler: handler.send_page(huge)
    portal.routes["/drip.html"] = _drip
    portal.routes["/article.html"] = lambda handler: handler.send_page(article_html(2))
    portal.start(), private.start()
    yield portal, private
    portal.stop(), private.stop()


@pytest.mark.parametrize(
    "case",
    [
        # Scrapy follows no redirect to a scheme it does not crawl: the 302 itself is the answer.
        ("extract", "/to-ftp.html", [], "HTTP 302"),
        ("links", "/to-private.html", [], "host '127.0.0.2' is not one of the portal's hosts"),
        ("extract", "/huge.html", [], "larger than download max size"),
        ("links", "/drip.html", ["-s", "DOWNLOAD_TIMEOUT=1"], ""),
    ],
)
def test_fetching_commands_obey_the_crawl_url_filter_and_limits(
    hostile_pages: tuple[FaultSite, FaultSite],
    tmp_path: Path,
    case: tuple[str, str, list[str], str],
) -> None:
    command, path, settings, message = case
    portal, private = hostile_pages
    started = time.monotonic()
    result = portalcrawl([command, portal.base + path, *settings], tmp_path, timeout=60)
    assert result.returncode == 1, result.stdout[:300] + result.stderr
    assert result.stdout == ""
    assert f"cannot fetch {portal.base}{path}: " in one_error_line(result)
    assert message in result.stderr
    assert sum(private.hits.values()) == 0
    assert time.monotonic() - started < 30


def test_fetching_commands_still_fetch_a_good_page(
    hostile_pages: tuple[FaultSite, FaultSite], tmp_path: Path
) -> None:
    result = portalcrawl(["extract", hostile_pages[0].base + "/article.html"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "第2号测试文章" in result.stdout


# -- a full disk --------------------------------------------------------------------------------------


@contextlib.contextmanager
def nearly_full_mount(mount_point: Path, free_kib: int) -> Iterator[Path]:
    """A 4 MiB tmpfs at ``mount_point`` with only ``free_kib`` KiB left (root only)."""
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=False)
    if made.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        (mount_point / "filler").write_bytes(b"\0" * ((4096 - free_kib) * 1024))
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_is_one_line_on_stderr_not_a_traceback_per_log_record(tmp_path: Path) -> None:
    with PortalServer(TRS_PORTAL) as server, nearly_full_mount(tmp_path / "disk", 600) as disk:
        url = server.start_url(next(iter(server.columns)))
        # DEBUG logs every item in full: the log itself fills the disk.
        crawl = ["crawl", "--url", url, "--db", str(disk / "a.db"), "-s", "LOG_LEVEL=DEBUG", *FAST]
        result = portalcrawl(crawl, tmp_path)
    assert result.returncode == 1
    assert "Logging error" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "No space left on device" in result.stderr


# -- small edges ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["search 工作", "runs"])
def test_a_huge_limit_is_a_usage_error(archive: Path, command: str) -> None:
    result = portalcrawl(
        [*command.split(), "--limit", "99999999999999999999", "--db", archive.name], archive.parent
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "expected an integer from 1 to" in result.stderr


@pytest.mark.parametrize("command", [["search"], ["crawl", "--url"], ["export", "--site"]])
def test_arguments_that_are_not_utf8_are_one_line_errors(archive: Path, command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portalcrawl", *command, b"\xff\xfe\xe5\x9c", "--db", archive.name],
        cwd=archive.parent,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.decode().startswith("portalcrawl: error: argument ")
    assert result.stderr.count(b"\n") == 1
    assert b"Traceback" not in result.stderr


def corrupt(path: Path) -> None:
    """A real database whose second page (the metadata table) is overwritten with noise."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO metadata VALUES ('schema_version', '1')")
    db.close()
    data = bytearray(path.read_bytes())
    data[4096:8192] = os.urandom(4096)
    path.write_bytes(bytes(data))


def newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO metadata VALUES ('schema_version', '9999')")
    db.close()


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (lambda path: path.mkdir(), "is a directory, not a database"),
        (corrupt, "database disk image is malformed"),
        (lambda path: path.write_bytes(os.urandom(8192)), "file is not a database"),
        (newer_schema, "has schema version 9999, newer than this portalcrawl understands"),
    ],
)
def test_an_unusable_archive_is_named_with_its_cause(
    tmp_path: Path, make: Callable[[Path], None], cause: str
) -> None:
    make(tmp_path / "bad.db")
    before = digest(tmp_path / "bad.db") if (tmp_path / "bad.db").is_file() else None
    result = portalcrawl(["crawl", "--url", "http://127.0.0.1:9/news/", "--db", "bad.db"], tmp_path)
    assert result.returncode == 2
    line = one_error_line(result)
    assert line.startswith("portalcrawl: error: cannot crawl into bad.db: ")
    assert cause in line
    assert before is None or digest(tmp_path / "bad.db") == before
    assert not (tmp_path / "logs").exists()


def test_ctrl_c_during_start_up_is_no_traceback(tmp_path: Path) -> None:
    outcomes = []
    for delay in (0.3, 0.6, 1.0):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portalcrawl",
                "crawl",
                "--url",
                "http://127.0.0.1:9/news/",
                "--db",
                "a.db",
            ],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert "Traceback" not in err, err
        assert "KeyboardInterrupt" not in err
        outcomes.append(process.returncode)
    # Interrupted before Python could raise (-2), or told so: "interrupted", status 130.
    assert set(outcomes) <= {130, -signal.SIGINT, 1}, outcomes

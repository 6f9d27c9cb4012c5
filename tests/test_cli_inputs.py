"""Bad input to the query commands is one line and exit status 2; a closed pipe is no error.

Each case runs the CLI in a subprocess as cron (or a shell pipeline) does, on an archive a real crawl
of a loopback portal filled.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from portalcrawl.cli import main
from portalcrawl.demo.server import PortalServer
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parent.parent
PORTALS = Path(__file__).parent / "portals"
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PORTALCRAWL_FLUSH_SECONDS=0.5"]


def portalcrawl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd, timeout=120)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("archive")
    with PortalServer(PORTALS / "trs") as server:
        result = portalcrawl("crawl", "--url", server.start_url("jrjj"), "--db", "a.db", *FAST, cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    yield directory / "a.db"


TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("command", ["search", "export"])
@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--since", "tomorrow"], "--since 'tomorrow': expected a date YYYY-MM-DD"),
        (["--since", "2025/02/18"], "--since '2025/02/18': expected a date YYYY-MM-DD"),
        (["--since", "2025-02-30"], "--since '2025-02-30': expected a date YYYY-MM-DD"),
        (["--since", TOMORROW], f"--since {TOMORROW}: is in the future"),
        (["--site", "nosuch"], "--site nosuch: no such site in the archive (sites: 127.0.0.1;"),
    ],
)
def test_bad_since_and_unknown_site_are_one_line_exit_2(
    archive: Path, command: str, option: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    query = ["会议"] if command == "search" else []
    assert main([command, *query, *option, "--db", str(archive)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"portalcrawl {command}: error: {message}")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "会议", "--since", "tomorrow"], "portalcrawl search: error: --since 'tomorrow': "),
        (["export", "--site", "nosuch"], "portalcrawl export: error: --site nosuch: no such site"),
    ],
)
def test_as_cron_runs_them(archive: Path, args: list[str], message: str) -> None:
    result = portalcrawl(*args, "--db", str(archive), cwd=archive.parent)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


def test_a_month_is_a_valid_since(archive: Path) -> None:
    result = portalcrawl("export", "--since", "2000-01", "--db", str(archive), cwd=archive.parent)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 32


def test_export_into_a_closed_pipe_prints_no_traceback(archive: Path) -> None:
    pipeline = subprocess.run(
        f"{sys.executable} -m portalcrawl export --db {archive} | head -n 1",
        shell=True,
        cwd=archive.parent,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
        executable="/bin/bash",
    )
    assert pipeline.stdout.startswith('{"id": 1')
    assert pipeline.stderr == ""


def test_scrapy_crawl_takes_a_sites_dir_argument(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    with PortalServer(PORTALS / "trs") as server:
        (sites / "city.toml").write_text(f'name = "市"\nstart_urls = ["{server.start_url("jrjj")}"]\n')
        spider_args = ["-a", "site=city", "-a", f"sites_dir={sites}"]
        db_setting = ["-s", f"PORTALCRAWL_DB_PATH={tmp_path / 'a.db'}"]
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "portal", *spider_args, *FAST, *db_setting],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "Crawl run 1: ok" in result.stderr

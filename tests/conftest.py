"""Shared test fixtures: fixture portals on 127.0.0.1, a scratch database path, and `scrapy crawl` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from portalcrawl.demo.server import PortalServer

REPO_ROOT = Path(__file__).resolve().parent.parent
PORTALS_DIR = Path(__file__).resolve().parent / "portals"
# Politeness off: the fixture portal is ours and on loopback, and the suite has to stay fast.
FAST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "PORTALCRAWL_FLUSH_SECONDS": "0.5",
}
CRAWL_TIMEOUT = 120

PortalFactory = Callable[[str], PortalServer]
CrawlRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_cli(
    args: Sequence[str], cwd: Path | None = None, *, timeout: float = CRAWL_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``portalcrawl ARGS`` as cron runs it: a subprocess with no terminal and stdin from /dev/null
    (and its own reactor: a URL given to ``extract``/``links`` is fetched by Scrapy)."""
    return subprocess.run(
        [sys.executable, "-m", "portalcrawl", *args],
        cwd=cwd or REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _serve(stack: list[PortalServer]) -> PortalFactory:
    def start(name: str) -> PortalServer:
        server = PortalServer(PORTALS_DIR / name).start()
        stack.append(server)
        return server

    return start


@pytest.fixture
def portal_server() -> Iterator[PortalFactory]:
    """Start a fresh server for ``tests/portals/<name>`` (or a portal directory's absolute path).

    Function-scoped, for tests that change what the portal serves (``add_articles``).
    """
    servers: list[PortalServer] = []
    yield _serve(servers)
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def module_portal_server() -> Iterator[PortalFactory]:
    """Like ``portal_server`` but shared by a module's tests; never change what it serves."""
    servers: list[PortalServer] = []
    yield _serve(servers)
    for server in servers:
        server.stop()


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    return tmp_path / "portalcrawl.db"


def run_crawl(
    args: list[str], db: Path, *, timeout: float = CRAWL_TIMEOUT, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run ``scrapy crawl portal ARGS`` from the repository root, as cron would, into the database ``db``."""
    command = [sys.executable, "-m", "scrapy", "crawl", "portal", *args, "-s", f"PORTALCRAWL_DB_PATH={db}"]
    for name, value in {**FAST_SETTINGS, **settings}.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(name="run_crawl", scope="session")
def run_crawl_fixture() -> CrawlRunner:
    """``run_crawl(args, db, **settings)``: a finished ``scrapy crawl portal`` subprocess."""
    return run_crawl

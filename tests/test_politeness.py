"""Politeness per host, not per profile: the limit and delay hold across all crawlers of a process.

A small column server on loopback counts the requests in flight at each host address and records when
each one arrived; ``portalcrawl crawl`` runs in a subprocess as cron runs it.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlite_utils

NO_THROTTLE = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PORTALCRAWL_FLUSH_SECONDS=0.5"]


@dataclass
class Traffic:
    """What one host address saw: requests in flight at most, and (arrival time, path) of each."""

    in_flight: int = 0
    most_in_flight: int = 0
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ColumnServer:
    """Columns ``/c<N>/`` of ``articles`` article pages each, every answer after ``latency`` seconds."""

    def __init__(self, host: str, *, articles: int, latency: float, robots: str = "") -> None:
        self.traffic = Traffic()
        traffic = self.traffic

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with traffic.lock:
                    traffic.in_flight += 1
                    traffic.most_in_flight = max(traffic.most_in_flight, traffic.in_flight)
                    traffic.arrivals.append((time.monotonic(), self.path))
                try:
                    time.sleep(latency)
                    self._answer()
                finally:
                    with traffic.lock:
                        traffic.in_flight -= 1

            def _answer(self) -> None:
                parts = self.path.strip("/").split("/")
                if self.path == "/robots.txt":
                    body = f"User-agent: *\nAllow: /\n{robots}"
                    kind = "text/plain"
                elif len(parts) == 1 and parts[0].startswith("c"):
                    links = "".join(
                        f'<li><a href="/{parts[0]}/2026/t2026_{n}.html">第{n}号通知 关于开展工作的通知</a>'
                        f"<span>2026-01-{n:02d}</span></li>"
                        for n in range(1, articles + 1)
                    )
                    body = f"<html><body><ul class='list'>{links}</ul></body></html>"
                    kind = "text/html; charset=utf-8"
                elif len(parts) == 3:
                    number = parts[2].removeprefix("t2026_").removesuffix(".html")
                    body = (
                        f"<html><head><title>第{number}号通知</title></head><body><h1>第{number}号通知</h1>"
                        f"<div class='info'>发布时间：2026-01-{int(number):02d}</div><div class='content'>"
                        + "<p>为进一步做好相关工作，现将有关事项通知如下，请各单位认真贯彻落实。</p>" * 4
                        + "</div></body></html>"
                    )
                    kind = "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self.base = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def column(self, n: int) -> str:
        return f"{self.base}/c{n}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers() -> Iterator[list[ColumnServer]]:
    started: list[ColumnServer] = []
    yield started
    for server in started:
        server.stop()


def write_profiles(sites: Path, columns: list[str]) -> list[str]:
    sites.mkdir(exist_ok=True)
    slugs = []
    for n, url in enumerate(columns):
        slug = f"col{n:04d}"
        (sites / f"{slug}.toml").write_text(f'name = "{slug}"\nstart_urls = ["{url}"]\n')
        slugs.append(slug)
    return slugs


def crawl_all(tmp_path: Path, *settings: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "portalcrawl", "crawl", "--all", "--dir", "sites", "--db", "a.db"]
    return subprocess.run(
        [*command, *NO_THROTTLE, *settings],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def statuses(tmp_path: Path) -> dict[str, str]:
    rows = sqlite_utils.Database(tmp_path / "a.db").query("select site, status from crawl_runs")
    return {row["site"]: row["status"] for row in rows}


def gaps(traffic: Traffic) -> list[float]:
    times = sorted(when for when, _ in traffic.arrivals)
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_four_profiles_on_one_host_never_exceed_two_requests_in_flight_without_a_delay(
    servers: list[ColumnServer], tmp_path: Path
) -> None:
    server = ColumnServer("127.0.0.1", articles=8, latency=0.05)
    servers.append(server)
    slugs = write_profiles(tmp_path / "sites", [server.column(n) for n in range(4)])
    result = crawl_all(tmp_path, "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(tmp_path) == dict.fromkeys(slugs, "ok")
    assert len(server.traffic.arrivals) >= 4 * 9
    assert server.traffic.most_in_flight == 2


def test_the_delay_spaces_requests_of_all_profiles_of_a_host(
    servers: list[ColumnServer], tmp_path: Path
) -> None:
    server = ColumnServer("127.0.0.1", articles=3, latency=0.0)
    servers.append(server)
    write_profiles(tmp_path / "sites", [server.column(n) for n in range(3)])
    result = crawl_all(tmp_path, "-s", "DOWNLOAD_DELAY=0.25", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
    assert result.returncode == 0, result.stdout + result.stderr
    # Arrival times carry the scheduling noise of a loaded machine; the crawler spaces starts 0.25 s.
    assert min(gaps(server.traffic)) >= 0.2, gaps(server.traffic)


def test_robots_crawl_delay_is_a_floor_that_jitter_never_undercuts(
    servers: list[ColumnServer], tmp_path: Path
) -> None:
    server = ColumnServer("127.0.0.1", articles=7, latency=0.0, robots="Crawl-delay: 0.5\n")
    servers.append(server)
    write_profiles(tmp_path / "sites", [server.column(0)])
    result = crawl_all(tmp_path, "-s", "DOWNLOAD_DELAY=0", "-s", "RANDOMIZE_DOWNLOAD_DELAY=True")
    assert result.returncode == 0, result.stdout + result.stderr
    after_robots = [when for when, path in sorted(server.traffic.arrivals) if path != "/robots.txt"]
    spacing = [b - a for a, b in itertools.pairwise(after_robots)]
    assert len(spacing) == 7
    assert min(spacing) >= 0.45, spacing


@pytest.mark.slow
def test_a_thousand_profiles_on_four_hosts_all_finish_ok(servers: list[ColumnServer], tmp_path: Path) -> None:
    hosts = [ColumnServer(f"127.0.0.{n}", articles=3, latency=0.0) for n in range(1, 5)]
    servers.extend(hosts)
    columns = [hosts[n % 4].column(n) for n in range(1000)]
    slugs = write_profiles(tmp_path / "sites", columns)
    started = time.monotonic()
    result = crawl_all(
        tmp_path, "--jobs", "64", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING", timeout=300
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert statuses(tmp_path) == dict.fromkeys(slugs, "ok")
    assert sqlite_utils.Database(tmp_path / "a.db")["articles"].count == 3000
    assert max(host.traffic.most_in_flight for host in hosts) <= 2
    print(f"1000 profiles on 4 hosts: {elapsed:.1f} s")


def test_jobs_bounds_how_many_sites_crawl_at_once(servers: list[ColumnServer], tmp_path: Path) -> None:
    # One site per host address, so only --jobs (not the host gate) keeps them from overlapping.
    hosts = [ColumnServer(f"127.0.0.{n}", articles=3, latency=0.05) for n in range(1, 7)]
    servers.extend(hosts)
    slugs = write_profiles(tmp_path / "sites", [host.column(0) for host in hosts])
    result = crawl_all(tmp_path, "--jobs", "2", "-s", "DOWNLOAD_DELAY=0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert statuses(tmp_path) == dict.fromkeys(slugs, "ok")
    spans = [(min(t for t, _ in h.traffic.arrivals), max(t for t, _ in h.traffic.arrivals)) for h in hosts]
    for start, _ in spans:
        # Sites already fetching when this one sent its first request, and not done yet.
        running = [s for s in spans if s[0] < start < s[1]]
        assert len(running) <= 1, spans

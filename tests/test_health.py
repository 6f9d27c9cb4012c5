"""`portalcrawl health`, `errors` and `--notify` on an archive real crawls filled, as cron runs them."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.columnserver import ColumnPortal, NewsColumn
from tests.conftest import run_cli

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PORTALCRAWL_FLUSH_SECONDS=0.5"]
# Articles n of the form /<column>/YYYYMM/tYYYYMMDD_n.html, as before the redesign.
PATTERN = r"article_url_pattern = '/\d{6}/t\d{8}_\d+\.html$'"


def portalcrawl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd, timeout=120)


class Receiver:
    """A webhook on loopback that keeps the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.stop()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ColumnPortal]]:
    """Three columns crawled daily: ``live`` (two dead links), ``died`` (redesigned after its first
    crawl, then failed twice) and ``quiet`` (stopped publishing ten days ago)."""
    directory = tmp_path_factory.mktemp("health")
    portal = ColumnPortal(
        {
            "live": NewsColumn(articles=30, dead_links=2),
            "died": NewsColumn(articles=30),
            "quiet": NewsColumn(articles=30, offset=10),
        }
    )
    sites = directory / "sites"
    sites.mkdir()
    for name in portal.columns:
        (sites / f"{name}.toml").write_text(
            f'name = "{name}"\nstart_urls = ["{portal.start_url(name)}"]\n{PATTERN}\n'
        )
    crawl = ["crawl", "--all", "--dir", "sites", "--db", "a.db", *FAST]
    first = portalcrawl(*crawl, cwd=directory)
    assert first.returncode == 0, first.stdout + first.stderr
    portal.redesign("died")
    for _ in range(2):
        later = portalcrawl(*crawl, cwd=directory)
        assert later.returncode == 1, later.stdout + later.stderr
    yield directory, portal
    portal.stop()


def test_health_names_each_unhealthy_site_with_its_reasons_and_exits_1(
    archive: tuple[Path, ColumnPortal],
) -> None:
    directory, _ = archive
    result = portalcrawl("health", "--db", "a.db", cwd=directory)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert lines["died"].split()[1] == "UNHEALTHY"
    assert lines["died"].endswith("last 2 runs failed (no_articles_found)")
    assert lines["quiet"].split()[1] == "UNHEALTHY"
    assert lines["quiet"].endswith("no article published in 7 days (usually 7)")
    assert lines["live"].split()[1] == "ok"


def test_health_of_healthy_sites_exits_0_and_json_has_every_figure(
    archive: tuple[Path, ColumnPortal],
) -> None:
    directory, _ = archive
    result = portalcrawl("health", "live", "--json", "--db", "a.db", cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr
    [report] = [json.loads(line) for line in result.stdout.splitlines()]
    assert report["healthy"] is True
    assert (report["site"], report["new_articles"], report["usual_new_articles"]) == ("live", 7, 7)
    assert report["missing"]["published_at"] == 0
    assert report["failed_runs_in_a_row"] == 0
    assert 0 < report["error_rate"] < 0.1


def test_health_of_an_unknown_site_is_one_line_exit_2(archive: tuple[Path, ColumnPortal]) -> None:
    directory, _ = archive
    result = portalcrawl("health", "nosuch", "--db", "a.db", cwd=directory)
    assert result.returncode == 2
    assert result.stderr.startswith("portalcrawl health: error: nosuch: no such site in the archive")
    assert result.stderr.count("\n") == 1
    for command in ("runs", "errors"):
        named = portalcrawl(command, "--site", "nosuch", "--db", "a.db", cwd=directory)
        assert named.returncode == 2
        assert named.stderr == (
            f"portalcrawl {command}: error: --site nosuch: no such site in the archive "
            "(sites: died, live, quiet; see portalcrawl stats)\n"
        )


def test_errors_lists_a_sites_failed_urls_with_status_and_reason(archive: tuple[Path, ColumnPortal]) -> None:
    directory, portal = archive
    result = portalcrawl("errors", "--site", "live", "--db", "a.db", cwd=directory)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["run", "site", "time", "status", "reason", "url"]
    urls = sorted(row.split()[-1] for row in rows)
    today = date.today()
    assert urls == [f"{portal.base}/live/{today:%Y%m}/t{today:%Y%m%d}_{900 + n}.html" for n in (1, 2)]
    assert all(row.split()[4:7] == ["404", "HTTP", "404"] for row in rows)
    limited = portalcrawl("errors", "--site", "live", "--limit", "1", "--db", "a.db", cwd=directory)
    assert limited.stdout.splitlines()[-1] == "1 of 2 errors shown (--limit)"


def test_runs_and_stats_show_the_reason_text(archive: tuple[Path, ColumnPortal]) -> None:
    directory, _ = archive
    runs = portalcrawl("runs", "--site", "died", "--db", "a.db", cwd=directory)
    assert [line.split()[6:8] for line in runs.stdout.splitlines()[1:3]] == [
        ["failed", "no_articles_found"]
    ] * 2
    stats = portalcrawl("stats", "--db", "a.db", cwd=directory)
    [died] = [line for line in stats.stdout.splitlines() if line.startswith("died ")]
    assert "failed" in died.split() and "no_articles_found" in died.split()


def test_health_notify_posts_the_unhealthy_sites_to_a_webhook(
    archive: tuple[Path, ColumnPortal], receiver: Receiver
) -> None:
    directory, _ = archive
    result = portalcrawl("health", "--notify", receiver.url, "--db", "a.db", cwd=directory)
    assert result.returncode == 1
    [body] = receiver.bodies
    assert body["command"] == "health"
    assert body["sites_checked"] == 3
    assert {site["site"] for site in body["unhealthy"]} == {"died", "quiet"}  # type: ignore[union-attr,index]
    assert "died: last 2 runs failed (no_articles_found)" in str(body["text"])
    healthy = portalcrawl("health", "live", "--notify", receiver.url, "--db", "a.db", cwd=directory)
    assert healthy.returncode == 0
    assert len(receiver.bodies) == 1


def test_crawl_notify_posts_failed_sites_and_a_dead_webhook_is_one_line(
    archive: tuple[Path, ColumnPortal], receiver: Receiver
) -> None:
    directory, _ = archive
    crawl = ["crawl", "died", "live", "--dir", "sites", "--db", "a.db", *FAST]
    result = portalcrawl(*crawl, "--notify", receiver.url, cwd=directory)
    assert result.returncode == 1
    [body] = receiver.bodies
    assert body["command"] == "crawl"
    assert [(s["site"], s["status"], s["reason"]) for s in body["unhealthy"]] == [  # type: ignore[union-attr,index]
        ("died", "failed", "no_articles_found")
    ]
    unreachable = portalcrawl(*crawl, "--notify", "http://127.0.0.1:9/hook", cwd=directory)
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("portalcrawl: webhook http://127.0.0.1:9/hook unreachable: ")
    assert "Traceback" not in unreachable.stderr


def test_a_field_that_stops_being_extracted_makes_a_site_unhealthy() -> None:
    """The completeness rule on its own: new articles without a date where older ones had one."""
    from datetime import UTC, datetime, timedelta

    import sqlite_utils

    from portalcrawl.database import open_database
    from portalcrawl.health import site_health

    now = datetime(2026, 12, 1, tzinfo=UTC)
    db: sqlite_utils.Database = open_database(":memory:")
    db.conn.execute(
        "INSERT INTO crawl_runs (site, started_at, status) VALUES ('a', ?, 'ok')", (now.isoformat(),)
    )
    for n in range(40):
        seen = now - timedelta(days=n, hours=1)
        published = None if n < 6 else (seen - timedelta(hours=1)).isoformat()
        db.conn.execute(
            "INSERT INTO articles (url, site, title, published_at, source, body_text, first_seen_at) "
            "VALUES (?, 'a', 't', ?, 's', 'b', ?)",
            (f"http://a.gov.cn/{n}.html", published, seen.isoformat()),
        )
    health = site_health(db, "a", days=7, now=now)
    assert health.missing["published_at"] == 6 / 7
    assert health.usual_missing["published_at"] == 0
    assert "published_at missing in 86% of 7 new articles (usually 0%)" in health.problems

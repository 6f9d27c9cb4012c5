"""Real crawls of loopback portals that try to send the crawler where it must not go or keep it forever."""

from __future__ import annotations

import ipaddress
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portalcrawl.demo.server import PortalServer
from tests.conftest import CrawlRunner, run_cli
from tests.faultserver import ARTICLE_PATH, LISTING_PATH, FaultPortal, FaultSite, article_html, listing_html


def serve_portal(site: FaultSite, idents: list[int], extra_links: list[tuple[str, str]] = ()) -> FaultSite:
    """A listing at LISTING_PATH of articles ``idents`` (served by ``site``) plus ``extra_links``."""
    links = []
    for ident in idents:
        path = ARTICLE_PATH.format(id=ident)
        body = article_html(ident).encode()
        site.routes[path] = lambda handler, body=body: handler.send_page(body)
        links.append((path, f"第{ident}号测试文章"))
    site.routes[LISTING_PATH] = lambda handler: handler.send_page(listing_html([*links, *extra_links]))
    site.routes["/robots.txt"] = lambda handler: handler.send_page(
        "User-agent: *\nDisallow:\n", content_type="text/plain"
    )
    return site.start()


@pytest.fixture
def sites() -> Iterator[list[FaultSite]]:
    started: list[FaultSite] = []
    yield started
    for site in started:
        site.stop()


def rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def write_profile(directory: Path, slug: str, body: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / f"{slug}.toml").write_text(body, encoding="utf-8")
    return directory


# -- item: a host name of the portal that resolves to an internal address ---------------------------


def loopback_alias() -> tuple[str, str]:
    """A host name, not ``localhost``, that this machine resolves to a loopback address (/etc/hosts).

    The crawl must judge it by its DNS answer, exactly like ``intranet.example.gov.cn → 10.0.0.5``.
    """
    names = [socket.gethostname()]
    hosts = Path("/etc/hosts")
    if hosts.is_file():
        for line in hosts.read_text().splitlines():
            names += line.split("#", 1)[0].split()[1:]
    for name in dict.fromkeys(names):
        if name == "localhost" or name.endswith(".localhost"):
            continue
        try:
            address = socket.gethostbyname(name)
        except OSError:
            continue
        if ipaddress.ip_address(address).is_loopback:
            return name, address
    pytest.skip("no host name other than localhost resolves to a loopback address here")


def test_a_host_name_that_resolves_to_loopback_is_refused(
    sites: list[FaultSite], run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    name, address = loopback_alias()
    site = serve_portal(FaultSite(address), [801, 802])
    sites.append(site)
    start = f"http://{name}:{site.server_address[1]}{LISTING_PATH}"
    result = run_crawl(["-a", f"url={start}"], tmp_db)
    assert "Traceback" not in result.stderr
    assert sum(site.hits.values()) == 0, site.hits
    assert rows(tmp_db, "SELECT count(*) FROM articles") == [(0,)]
    reasons = [reason for (reason,) in rows(tmp_db, "SELECT reason FROM fetch_errors")]
    assert any(f"resolves to the internal address {address}" in reason for reason in reasons), reasons


def test_a_name_listed_exactly_in_allowed_domains_may_resolve_to_loopback(
    sites: list[FaultSite], run_crawl: CrawlRunner, tmp_db: Path, tmp_path: Path
) -> None:
    name, address = loopback_alias()
    site = serve_portal(FaultSite(address), [811, 812])
    sites.append(site)
    start = f"http://{name}:{site.server_address[1]}{LISTING_PATH}"
    profiles = write_profile(
        tmp_path / "sites",
        "intranet",
        f'name = "内网门户"\nstart_urls = ["{start}"]\nallowed_domains = ["{name}"]\n',
    )
    result = run_crawl(["-a", "site=intranet"], tmp_db, PORTALCRAWL_SITES_DIR=str(profiles))
    assert rows(tmp_db, "SELECT count(*) FROM articles") == [(2,)], result.stderr[-3000:]


# -- item: a page sending the crawler to another port of the portal host ----------------------------


def test_links_and_redirects_to_other_ports_of_the_host_are_refused(
    sites: list[FaultSite], run_crawl: CrawlRunner, tmp_db: Path, tmp_path: Path
) -> None:
    other = serve_portal(FaultSite(), [821])
    sites.append(other)
    other_port = other.server_address[1]
    redirect_path = ARTICLE_PATH.format(id=829)
    main = FaultSite()
    main.routes[redirect_path] = lambda handler: handler.send_page(
        b"", status=302, Location=f"http://127.0.0.1:{other_port}{ARTICLE_PATH.format(id=821)}"
    )
    serve_portal(
        main,
        [822, 823],
        [
            (f"http://127.0.0.1:{other_port}{ARTICLE_PATH.format(id=821)}", "另一端口的文章"),
            (redirect_path, "跳转到另一端口"),
        ],
    )
    sites.append(main)
    start = main.base + LISTING_PATH
    result = run_crawl(["-a", f"url={start}"], tmp_db)
    assert "Traceback" not in result.stderr
    assert sum(other.hits.values()) == 0, other.hits
    assert rows(tmp_db, "SELECT count(*) FROM articles") == [(2,)]
    reasons = [reason for (reason,) in rows(tmp_db, "SELECT reason FROM fetch_errors")]
    assert any(f"port {other_port} is not one of the portal's ports" in reason for reason in reasons), reasons

    # A profile may allow more ports.
    profiles = write_profile(
        tmp_path / "sites",
        "two-ports",
        f'name = "两个端口"\nstart_urls = ["{start}"]\nallowed_ports = [{other_port}]\n',
    )
    result = run_crawl(["-a", "site=two-ports"], tmp_path / "second.db", PORTALCRAWL_SITES_DIR=str(profiles))
    # 821 directly and through the redirect of 829.
    assert rows(tmp_path / "second.db", "SELECT count(*) FROM articles") == [(4,)], result.stderr[-3000:]
    assert other.hits[ARTICLE_PATH.format(id=821)] >= 1


# -- item: robots.txt that cannot be read, or lives on another host ---------------------------------


def portalcrawl_crawl(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``portalcrawl crawl ARGS`` as cron runs it, with politeness off for the loopback portal."""
    fast = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=3"]
    return run_cli(["crawl", *args, *fast], cwd, timeout=timeout)


def test_a_robots_txt_answering_5xx_disallows_the_site_and_fails_the_run(
    sites: list[FaultSite], tmp_path: Path
) -> None:
    site = serve_portal(FaultSite(), [831, 832])
    site.routes["/robots.txt"] = lambda handler: handler.send_page(b"<h1>500</h1>", status=500)
    sites.append(site)
    result = portalcrawl_crawl(["--url", site.base + LISTING_PATH, "--db", "a.db"], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    row = result.stdout.splitlines()[1]
    assert row.split()[:3] == ["127.0.0.1", "failed", "0"]
    assert "robots_unavailable" in row
    assert set(site.hits) == {"/robots.txt"}
    db = tmp_path / "a.db"
    assert rows(db, "SELECT status, reason FROM crawl_runs") == [("failed", "robots_unavailable")]
    assert rows(db, "SELECT url, reason LIKE 'robots_unavailable: %HTTP 500%' FROM fetch_errors") == [
        (site.base + LISTING_PATH, 1)
    ]


def test_a_robots_txt_redirect_to_another_host_is_followed(sites: list[FaultSite], tmp_path: Path) -> None:
    www = FaultSite()
    apex = FaultSite("127.0.0.6", www.server_address[1]).start()
    sites.append(apex)
    apex.routes["/robots.txt"] = lambda handler: handler.send_page(
        "User-agent: *\nDisallow: /xwdt/\n", content_type="text/plain"
    )
    serve_portal(www, [841, 842])
    www.routes["/robots.txt"] = lambda handler: handler.send_page(
        b"", status=301, Location=apex.base + "/robots.txt"
    )
    sites.append(www)
    result = portalcrawl_crawl(["--url", www.base + LISTING_PATH, "--db", "a.db"], tmp_path)
    assert "Traceback" not in result.stdout + result.stderr
    assert apex.hits == {"/robots.txt": 1}
    assert www.hits[LISTING_PATH] == 1
    assert [path for path in www.hits if path.startswith("/xwdt/")] == []
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM articles") == [(0,)]


def test_a_robots_txt_404_allows_everything(sites: list[FaultSite], tmp_path: Path) -> None:
    site = serve_portal(FaultSite(), [851, 852])
    del site.routes["/robots.txt"]
    sites.append(site)
    result = portalcrawl_crawl(["--url", site.base + LISTING_PATH, "--db", "a.db"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM articles") == [(2,)]


# -- item: run budgets --------------------------------------------------------------------------------


def test_max_time_ends_a_slow_run_as_partial_with_the_reason(tmp_path: Path) -> None:
    with FaultPortal(good_articles=30, slow_article_seconds=1.0) as portal:
        started = time.monotonic()
        result = portalcrawl_crawl(
            ["--url", portal.start_urls[0], "--db", "a.db", "--max-time", "3s"], tmp_path
        )
        seconds = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    row = result.stdout.splitlines()[1]
    assert row.split()[1] == "partial"
    assert "closespider_timeout" in row
    assert rows(tmp_path / "a.db", "SELECT status, reason FROM crawl_runs") == [
        ("partial", "closespider_timeout")
    ]
    # 30 articles at two a second would take 15 s; the budget stops it well before.
    assert seconds < 14


@pytest.mark.parametrize("value", ["0", "-5m", "soon", "3d"])
def test_max_time_must_be_a_positive_duration(value: str, tmp_path: Path) -> None:
    result = portalcrawl_crawl(
        ["--url", "http://127.0.0.1:9/", "--db", "a.db", f"--max-time={value}"], tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.startswith("portalcrawl: error: --max-time")
    assert not (tmp_path / "a.db").exists()


def test_memory_guard_stops_the_run_with_its_reason(sites: list[FaultSite], tmp_path: Path) -> None:
    site = serve_portal(FaultSite(), [861, 862])
    sites.append(site)
    # Any process is past 1 MiB: the guard's first check, as the crawl starts, stops it.
    budget = ["-s", "MEMUSAGE_LIMIT_MB=1"]
    result = portalcrawl_crawl(["--url", site.base + LISTING_PATH, "--db", "a.db", *budget], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "memusage_exceeded" in result.stdout.splitlines()[1]
    # Stopped before anything was fetched, the run is a failure (partial needs some pages).
    assert rows(tmp_path / "a.db", "SELECT status, reason FROM crawl_runs") == [
        ("failed", "memusage_exceeded")
    ]


TRS_PORTAL = Path(__file__).parent / "portals" / "trs"
LISTING_PAGE = re.compile(r"/index(?:_\d+)?\.html$|/$")
ARTICLE_PAGE = re.compile(r"/\d{6}/t\d{8}_\d+\.html$")


def test_queued_article_cap_pauses_paging_and_drops_nothing(run_crawl: CrawlRunner, tmp_db: Path) -> None:
    cap = 4
    with PortalServer(TRS_PORTAL) as server:
        column = next(iter(server.columns))
        result = run_crawl(
            ["-a", f"url={server.start_url(column)}"], tmp_db, PORTALCRAWL_MAX_QUEUED_ARTICLES=str(cap)
        )
        served = [path for method, path, status in server.requests]
    assert "Traceback" not in result.stderr
    listings = [i for i, path in enumerate(served) if LISTING_PAGE.search(path)]
    articles_before = [sum(1 for path in served[:i] if ARTICLE_PAGE.search(path)) for i in listings]
    # Ten articles a page: each next page waits until the previous page's links have (nearly) all been
    # requested; without the cap the LIFO scheduler pages the whole listing before any article.
    assert len(listings) >= 4
    for page, before in enumerate(articles_before[1:], start=1):
        assert before >= min(10 * page, server.columns[column].count) - cap, articles_before
    stored = rows(tmp_db, "SELECT count(*) FROM articles")[0][0]
    assert stored == server.columns[column].count


def test_a_robots_txt_redirect_loop_allows_everything_after_five_hops(
    sites: list[FaultSite], tmp_path: Path
) -> None:
    site = serve_portal(FaultSite(), [871, 872])
    site.routes["/robots.txt"] = lambda handler: handler.send_page(
        b"", status=302, Location="/robots-loop.txt"
    )
    site.routes["/robots-loop.txt"] = lambda handler: handler.send_page(
        b"", status=302, Location="/robots.txt"
    )
    sites.append(site)
    result = portalcrawl_crawl(["--url", site.base + LISTING_PATH, "--db", "a.db"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert site.hits["/robots.txt"] + site.hits["/robots-loop.txt"] == 6
    assert rows(tmp_path / "a.db", "SELECT count(*) FROM articles") == [(2,)]

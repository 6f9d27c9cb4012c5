"""Real crawls of loopback portals that try to send the crawler where it must not go or keep it forever."""

from __future__ import annotations

import ipaddress
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CrawlRunner
from tests.faultserver import ARTICLE_PATH, LISTING_PATH, FaultSite, article_html, listing_html


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

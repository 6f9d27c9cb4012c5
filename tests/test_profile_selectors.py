"""A profile's selectors tried before a crawl (`extract`/`links --site`), and reported when they miss."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from portalcrawl.demo.server import PortalServer
from tests.conftest import CrawlRunner, PortalFactory, run_cli


def write_profile(directory: Path, slug: str, server: PortalServer, selectors: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{slug}.toml").write_text(
        f'name = "选择器测试"\nstart_urls = ["{server.start_url("jrjj")}"]\n[selectors]\n{selectors}\n',
        encoding="utf-8",
    )


def portalcrawl(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess, as a user runs it: a URL is fetched by Scrapy, whose reactor runs once."""
    return run_cli(args, None, timeout=120)


@pytest.fixture(scope="module")
def server(module_portal_server: PortalFactory) -> PortalServer:
    return module_portal_server("trs")


def test_extract_with_site_shows_what_each_selector_gives(tmp_path: Path, server: PortalServer) -> None:
    write_profile(tmp_path, "good", server, 'title = "h1"')
    expected = server.expected_articles("jrjj")[0]
    captured = portalcrawl("extract", expected["url"], "--site", "good", "--dir", str(tmp_path))
    assert captured.returncode == 0, captured.stderr
    article = json.loads(captured.stdout)
    assert article["field_stages"]["title"] == "profile"
    assert f"selectors.title 'h1' → {expected['title']!r}" in captured.stderr


def test_extract_with_site_names_a_selector_that_matches_nothing(
    tmp_path: Path, server: PortalServer
) -> None:
    write_profile(tmp_path, "broken", server, 'source = "span.no-such-source"')
    expected = server.expected_articles("jrjj")[0]
    captured = portalcrawl("extract", expected["url"], "--site", "broken", "--dir", str(tmp_path))
    assert captured.returncode == 1, captured.stderr
    article = json.loads(captured.stdout)
    assert article["source"] == expected["source"]
    stage = article["field_stages"]["source"]
    assert f"selectors.source 'span.no-such-source' matched nothing; source came from {stage} instead" in (
        captured.stderr
    )


def test_links_with_site_applies_the_pattern_and_listing_selectors(
    tmp_path: Path, server: PortalServer
) -> None:
    write_profile(
        tmp_path, "listing", server, 'article_links = "ul.list li a"\nnext_page = "a.no-such-pager"'
    )
    start = server.start_url("jrjj")
    captured = portalcrawl("links", start, "--site", "listing", "--dir", str(tmp_path))
    assert captured.returncode == 1, captured.stderr
    output = json.loads(captured.stdout)
    newest = [article["url"] for article in server.expected_articles("jrjj")[:10]]
    assert set(newest) <= set(output["selectors.article_links"])
    assert output["selectors.next_page"] == []
    assert "selectors.next_page 'a.no-such-pager' matched nothing on this page" in captured.stderr


def test_a_crawl_counts_a_missed_selector_and_logs_it_once(
    tmp_path: Path, server: PortalServer, run_crawl: CrawlRunner
) -> None:
    sites = tmp_path / "sites"
    write_profile(sites, "missing", server, 'author = "div.no-such-author"')
    result = run_crawl(["-a", "site=missing"], tmp_path / "archive.db", PORTALCRAWL_SITES_DIR=str(sites))
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stderr
    articles = len(server.expected_articles("jrjj"))
    assert len(re.findall(r"selectors\.author 'div\.no-such-author' of site missing gave nothing", log)) == 1
    assert f"'portalcrawl/spider/selector_missed': {articles}" in log
    assert f"'portalcrawl/spider/selector_missed/author': {articles}" in log

"""Hostile pages and values: extraction stays linear in page size, a crawl beside them is not held up."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from portalcrawl.extract.article import extract_article
from portalcrawl.extract.listing import extract_listing
from tests.conftest import CrawlRunner
from tests.faultserver import article_html, listing_html
from tests.hostile import ARTICLE_PATH, drop_heavy_listing, pager_listing, serve, widget_article

# Generous: each page takes well under a second of CPU; before the fixes each took minutes.
CPU_SECONDS = 5.0
LISTING_URL = "http://127.0.0.1/list/index.html"


def _cpu_seconds(run: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def test_a_numbered_pager_of_40000_links_is_cheap_and_no_article_list() -> None:
    page = pager_listing(40_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    assert listing.article_links == [f"http://127.0.0.1{ARTICLE_PATH.format(id=n)}" for n in range(1, 6)]
    assert listing.next_pages[:2] == [
        "http://127.0.0.1/list/index_1.html",
        "http://127.0.0.1/list/index_2.html",
    ]


def test_a_listing_of_60000_dropped_scripts_is_cheap() -> None:
    page = drop_heavy_listing(60_000)
    assert len(page.encode()) > 1_000_000
    seconds, listing = _cpu_seconds(lambda: extract_listing(page, LISTING_URL))
    assert seconds < CPU_SECONDS
    assert len(listing.article_links) == 5


def test_an_article_of_8000_blocks_and_8000_share_widgets_is_cheap() -> None:
    page = widget_article(8_000)
    assert len(page.encode()) > 1_000_000
    url = f"http://127.0.0.1{ARTICLE_PATH.format(id=1)}"
    seconds, article = _cpu_seconds(lambda: extract_article(page, url))
    assert seconds < CPU_SECONDS
    assert article.title == "城市更新项目推进情况通报"
    assert "分享到微信" not in article.body_text


def test_a_hostile_site_does_not_hold_up_a_healthy_one(tmp_path: Path, run_crawl: CrawlRunner) -> None:
    hostile_articles = {ARTICLE_PATH.format(id=n): article_html(n) for n in range(1, 5)}
    hostile_articles[ARTICLE_PATH.format(id=5)] = widget_article(8_000)
    hostile = serve({"/list/index.html": pager_listing(40_000), **hostile_articles})
    healthy_paths = [ARTICLE_PATH.format(id=n) for n in range(101, 121)]
    healthy = serve(
        {
            "/list/index.html": listing_html([(path, f"第{path[-8:-5]}号文章") for path in healthy_paths]),
            **{path: article_html(int(path[-8:-5])) for path in healthy_paths},
        },
        host="127.0.0.2",
    )
    db = tmp_path / "hostile.db"
    try:
        started = time.monotonic()
        result = run_crawl(
            ["-a", f"url={hostile.base}/list/index.html,{healthy.base}/list/index.html"], db, timeout=90
        )
        seconds = time.monotonic() - started
    finally:
        hostile.stop()
        healthy.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(db) as connection:
        stored = {url for (url,) in connection.execute("SELECT url FROM articles")}
    assert {f"{healthy.base}{path}" for path in healthy_paths} <= stored
    assert {f"{hostile.base}{path}" for path in hostile_articles} <= stored
    assert not any("/index_" in url for url in stored)
    # Pager candidates are followed as listing pages until two are missing, never as articles.
    assert sum(hits for path, hits in hostile.hits.items() if "/index_" in path) <= 2
    assert seconds < 60


@pytest.mark.parametrize(
    ("command", "build", "url"),
    [
        ("links", lambda: pager_listing(40_000), LISTING_URL),
        ("extract", lambda: widget_article(8_000), f"http://127.0.0.1{ARTICLE_PATH.format(id=1)}"),
    ],
    ids=["links-pager", "extract-widgets"],
)
def test_the_cli_reads_a_hostile_page_quickly(
    tmp_path: Path, command: str, build: Callable[[], str], url: str
) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(build())
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "portalcrawl", command, str(saved), "--url", url],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    assert "/index_" not in result.stdout if command == "extract" else "t20260116_5.html" in result.stdout

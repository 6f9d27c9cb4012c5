"""Crawl evidence reaches the archive through its one owner: listing dates, time zone, encoding, walls,
profile selectors and dates judged under a wrong clock, each through a real crawl on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils

from portalcrawl.demo.server import PortalServer
from portalcrawl.extract.listing import extract_listing
from tests.conftest import CRAWL_TIMEOUT, FAST_SETTINGS, REPO_ROOT, CrawlRunner, run_cli
from tests.pageserver import PageServer, article_page, listing_page

LISTED_ARTICLE = "/xwzx/202601/t20260116_123.html"
DATED_ARTICLE = "/xwzx/202601/t20260117_124.html"


@pytest.fixture
def site() -> Iterator[PageServer]:
    server = PageServer().start()
    yield server
    server.stop()


def rows(db: Path, table: str = "articles") -> list[dict[str, Any]]:
    with sqlite_utils.Database(db) as archive:
        return list(archive[table].rows)


def by_path(db: Path, server: PageServer) -> dict[str, dict[str, Any]]:
    return {row["url"].removeprefix(server.base): row for row in rows(db)}


def serve_column(server: PageServer) -> str:
    """A column listing a date-less article (its minute only on the listing) and a dated one."""
    server.html(
        "/xwzx/index.html",
        listing_page(
            [
                (LISTED_ARTICLE, "市政府召开城市更新工作推进会议", "2026-01-16 10:20"),
                (DATED_ARTICLE, "全市安全生产工作会议召开", "2026-01-17"),
            ]
        ),
    )
    server.html(LISTED_ARTICLE, article_page("市政府召开城市更新工作推进会议"))
    server.html(
        DATED_ARTICLE, article_page("全市安全生产工作会议召开", date_line="发布时间：2026-01-17 09:30")
    )
    return f"{server.base}/xwzx/index.html"


def test_listing_minute_wins_over_a_day_read_from_the_url(
    site: PageServer, tmp_db: Path, run_crawl: CrawlRunner
) -> None:
    result = run_crawl(["-a", f"url={serve_column(site)}"], tmp_db)
    assert result.returncode == 0, result.stderr[-2000:]
    stored = by_path(tmp_db, site)
    assert stored[LISTED_ARTICLE]["published_at"] == "2026-01-16T10:20+08:00"
    assert stored[LISTED_ARTICLE]["date_precision"] == "minute"
    assert json.loads(stored[LISTED_ARTICLE]["field_stages"])["published_at"] == "listing"
    # The page's own minute is more precise than the listing's day, and agrees with it: it stays.
    assert stored[DATED_ARTICLE]["published_at"] == "2026-01-17T09:30+08:00"


def test_timezone_setting_is_the_default_and_a_profile_zone_wins(
    site: PageServer, tmp_path: Path, run_crawl: CrawlRunner
) -> None:
    start_url = serve_column(site)
    tokyo_db = tmp_path / "tokyo.db"
    result = run_crawl(["-a", f"url={start_url}"], tokyo_db, PORTALCRAWL_TIMEZONE="Asia/Tokyo")
    assert result.returncode == 0, result.stderr[-2000:]
    stored = by_path(tokyo_db, site)
    # Both owners read the one resolved zone: the pipeline (listing date) and extraction (page date).
    assert stored[LISTED_ARTICLE]["published_at"] == "2026-01-16T10:20+09:00"
    assert stored[DATED_ARTICLE]["published_at"] == "2026-01-17T09:30+09:00"

    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "berlin.toml").write_text(
        f'name = "Berlin"\nstart_urls = ["{start_url}"]\ntimezone = "Europe/Berlin"\n', encoding="utf-8"
    )
    berlin_db = tmp_path / "berlin.db"
    result = run_crawl(
        ["-a", "site=berlin"],
        berlin_db,
        PORTALCRAWL_TIMEZONE="Asia/Tokyo",
        PORTALCRAWL_SITES_DIR=str(sites),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    stored = by_path(berlin_db, site)
    assert stored[LISTED_ARTICLE]["published_at"] == "2026-01-16T10:20+01:00"
    assert stored[DATED_ARTICLE]["published_at"] == "2026-01-17T09:30+01:00"


# A GBK column beside a UTF-8 one, on one TRS portal.
GBK_PORTAL = """\
name = "GBK 示例市"

[[columns]]
name = "gbk"
title = "通知公告"
family = "trs"
path = "/gbk/"
articles = 3
encoding = "gbk"

[[columns]]
name = "utf8"
title = "今日聚焦"
family = "trs"
path = "/utf8/"
articles = 3
first_id = 7000000
"""


def test_the_encoding_a_page_was_decoded_with_is_stored(
    tmp_path: Path, tmp_db: Path, run_crawl: CrawlRunner
) -> None:
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / "portal.toml").write_text(GBK_PORTAL, encoding="utf-8")
    server = PortalServer(portal).start()
    try:
        result = run_crawl(["-a", f"url={server.url('/gbk/')},{server.url('/utf8/')}"], tmp_db)
        assert result.returncode == 0, result.stderr[-2000:]
        encodings = {(row["url"].split("/")[3], row["encoding"]) for row in rows(tmp_db)}
        assert encodings == {("gbk", "gb18030"), ("utf8", "utf-8")}
        assert len(rows(tmp_db)) == 6
        # portalcrawl extract on the same page, saved, says the same.
        gbk_url = next(row["url"] for row in rows(tmp_db) if "/gbk/" in row["url"])
        with urllib.request.urlopen(gbk_url, timeout=10) as answer:
            (tmp_path / "gbk.html").write_bytes(answer.read())
    finally:
        server.stop()
    extracted = cli("extract", str(tmp_path / "gbk.html"), "--url", gbk_url, cwd=tmp_path)
    assert json.loads(extracted.stdout)["encoding"] == "gb18030"


def test_a_gbk_challenge_page_blocks_the_run(site: PageServer, tmp_db: Path, run_crawl: CrawlRunner) -> None:
    wall = (
        '<html><head><meta charset="gbk"><title>访问验证</title></head>'
        "<body><p>请稍候，正在进行安全验证……</p></body></html>"
    )
    site.html("/xwzx/index.html", wall, encoding="gbk", charset="gbk")
    result = run_crawl(["-a", f"url={site.base}/xwzx/index.html"], tmp_db)
    [run] = rows(tmp_db, "crawl_runs")
    assert (run["status"], run["blocked_kind"]) == ("blocked", "waf_generic"), result.stderr[-2000:]


def serve_hidden_column(server: PageServer) -> dict[str, str]:
    """A column whose article list and pager nothing but a profile selector finds.

    The stories sit in a block marked as navigation, under URLs of no known CMS, beside a larger
    list of other links; the pager is a lone link whose text and class say nothing of paging.
    """
    stories = {f"/story?k=s{n}": f"示例市第{n}项民生实事推进情况通报" for n in range(1, 7)}
    decoys = "".join(
        f'<li><a href="/topic/t{n}.html">专题专栏第{n}个主题页面的较长标题文字</a>'
        f"<span>2026-01-0{n % 9 + 1}</span></li>"
        for n in range(1, 13)
    )
    pages = {"/col/first.html": list(stories)[:3], "/col/more.html": list(stories)[3:]}
    for path, hrefs in pages.items():
        items = "".join(
            f'<p><a class="story" href="{h}">{stories[h]}</a><em>2026-01-16 08:0{i}</em></p>'
            for i, h in enumerate(hrefs)
        )
        turn = (
            '<p><a class="turn" href="/col/more.html">继续阅读</a></p>' if path == "/col/first.html" else ""
        )
        server.html(
            path,
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>民生实事</title></head><body>'
            f'<ul class="topics">{decoys}</ul><div class="nav menu">{items}</div>{turn}</body></html>',
        )
    for href, title in stories.items():
        server.html(href, article_page(title))
    return stories


def test_profile_selectors_decide_article_links_and_next_pages(
    site: PageServer, tmp_path: Path, tmp_db: Path, run_crawl: CrawlRunner
) -> None:
    stories = serve_hidden_column(site)
    start_url = f"{site.base}/col/first.html"
    detected = extract_listing(site.pages["/col/first.html"][2], start_url)
    assert not any("/story?" in link for link in detected.article_links)
    assert f"{site.base}/col/more.html" not in detected.next_pages

    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "hidden.toml").write_text(
        f'name = "民生实事"\nstart_urls = ["{start_url}"]\n\n[selectors]\n'
        'article_links = "div.nav a.story"\nnext_page = "xpath://a[@class=\'turn\']/@href"\n',
        encoding="utf-8",
    )
    result = run_crawl(["-a", "site=hidden"], tmp_db, PORTALCRAWL_SITES_DIR=str(sites))
    assert result.returncode == 0, result.stderr[-2000:]
    stored = by_path(tmp_db, site)
    assert set(stored) == set(stories)
    assert not any(path.startswith("/topic/") for path in site.requests)
    # The date beside each selected link is the listing's date of that article.
    assert stored["/story?k=s1"]["published_at"] == "2026-01-16T08:00+08:00"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd, timeout=120)


def test_an_impossible_since_in_a_profile_is_one_line_and_exit_2(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "bad.toml").write_text(
        'name = "x"\nstart_urls = ["http://127.0.0.1:9/"]\nsince = "2025-13-45"\n', encoding="utf-8"
    )
    (sites / "pager.toml").write_text(
        'name = "y"\nstart_urls = ["http://127.0.0.1:9/"]\n[selectors]\nnext_page = "a.next >"\n',
        encoding="utf-8",
    )
    checked = cli("sites", "--check", "--dir", str(sites), cwd=tmp_path)
    assert checked.returncode == 1
    assert f"invalid  {sites / 'pager.toml'}: selectors.next_page: invalid CSS selector 'a.next >'" in (
        checked.stdout
    )
    assert (
        f"invalid  {sites / 'bad.toml'}: since: expected a date YYYY-MM-DD, got '2025-13-45'"
        in checked.stdout
    )
    crawled = cli("crawl", "bad", "--dir", str(sites), "--db", str(tmp_path / "a.db"), cwd=tmp_path)
    assert crawled.returncode == 2
    assert crawled.stderr.strip().splitlines() == [
        f"portalcrawl: error: {sites / 'bad.toml'}: since: expected a date YYYY-MM-DD, got '2025-13-45'"
    ]
    assert not (tmp_path / "a.db").exists()


def test_an_unknown_timezone_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    crawled = cli(
        "crawl", "--url", "http://127.0.0.1:9/", "-s", "PORTALCRAWL_TIMEZONE=Mars/Olympus", cwd=tmp_path
    )
    assert crawled.returncode == 2
    assert crawled.stderr.strip().splitlines() == [
        "portalcrawl: error: -s PORTALCRAWL_TIMEZONE: unknown time zone 'Mars/Olympus'"
    ]


def crawl_under_faketime(offset: str, args: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl portal`` as run_crawl runs it, with the process clock moved by ``offset``."""
    command = ["faketime", "-f", offset, sys.executable, "-m", "scrapy", "crawl", "portal", *args]
    for name, value in {**FAST_SETTINGS, "PORTALCRAWL_DB_PATH": str(db)}.items():
        command += ["-s", f"{name}={value}"]
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=CRAWL_TIMEOUT,
        check=False,
    )


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime (apt-get install faketime)")
def test_a_date_judged_under_a_slow_clock_is_restored_by_a_later_run(
    site: PageServer, tmp_db: Path, run_crawl: CrawlRunner
) -> None:
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    shown = {n: now - timedelta(days=10 * n, hours=n) for n in (1, 2)}
    paths = {n: f"/xwzx/{day:%Y%m}/t{day:%Y%m%d}_{n}.html" for n, day in shown.items()}
    titles = {1: "市政府常务会议研究部署近期重点工作", 2: "全市冬季安全生产大检查工作启动"}
    site.html(
        "/xwzx/index.html",
        listing_page([(paths[n], titles[n], f"{shown[n]:%Y-%m-%d}") for n in (1, 2)]),
    )
    for n in (1, 2):
        site.html(paths[n], article_page(titles[n], date_line=f"发布时间：{shown[n]:%Y-%m-%d %H:%M}"))
    start = ["-a", f"url={site.base}/xwzx/index.html"]

    slow = crawl_under_faketime("-330d", start, tmp_db)
    assert slow.returncode == 0, slow.stderr[-2000:]
    stored = by_path(tmp_db, site)
    for n in (1, 2):
        assert stored[paths[n]]["published_at"] is None
        assert stored[paths[n]]["published_raw"] == f"{shown[n]:%Y-%m-%d %H:%M}"

    fetched = len(site.requests)
    later = run_crawl(start, tmp_db)
    assert later.returncode == 0, later.stderr[-2000:]
    stored = by_path(tmp_db, site)
    for n in (1, 2):
        assert stored[paths[n]]["published_at"] == shown[n].strftime("%Y-%m-%dT%H:%M+08:00")
        assert stored[paths[n]]["date_precision"] == "minute"
    # Judged again from what was stored: the incremental run fetched the listing, no article.
    assert [p for p in site.requests[fetched:] if p in paths.values()] == []


def test_links_and_extract_apply_a_profile_as_the_crawl_does(site: PageServer, tmp_path: Path) -> None:
    serve_hidden_column(site)
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "hidden.toml").write_text(
        f'name = "民生实事"\nstart_urls = ["{site.base}/col/first.html"]\ntimezone = "Asia/Tokyo"\n\n'
        "[selectors]\narticle_links = \"xpath://div[contains(@class, 'nav')]//a\"\n"
        'next_page = "a.turn"\ntitle = "title"\n',
        encoding="utf-8",
    )
    page = tmp_path / "first.html"
    page.write_bytes(site.pages["/col/first.html"][2])
    shown = cli(
        "links",
        str(page),
        "--url",
        f"{site.base}/col/first.html",
        "--site",
        "hidden",
        "--dir",
        str(sites),
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr
    listing = json.loads(shown.stdout)
    assert listing["article_links"] == [f"{site.base}/story?k=s{n}" for n in (1, 2, 3)]
    assert listing["next_pages"] == [f"{site.base}/col/more.html"]

    article = tmp_path / "story.html"
    article.write_text(article_page("标题", date_line="发布时间：2026-01-17 09:30"), encoding="utf-8")
    extracted = cli(
        "extract",
        str(article),
        "--url",
        f"{site.base}/story?k=s1",
        "--site",
        "hidden",
        "--dir",
        str(sites),
        cwd=tmp_path,
    )
    assert extracted.returncode == 0, extracted.stderr
    assert json.loads(extracted.stdout)["published_at"] == "2026-01-17T09:30+09:00"
    assert json.loads(extracted.stdout)["field_stages"]["title"] == "profile"

    missing = cli(
        "links", str(page), "--url", "http://x/", "--site", "nope", "--dir", str(sites), cwd=tmp_path
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("portalcrawl links: error: unknown site 'nope'")

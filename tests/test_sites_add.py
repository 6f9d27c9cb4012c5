"""`portalcrawl sites add URL`: from a noisy home page to profiles that archive every news column."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from portalcrawl.cli import main
from portalcrawl.database import open_database
from portalcrawl.demo.server import PortalServer
from portalcrawl.discover import ColumnPreview, reject_sections
from portalcrawl.link_patterns import common_shape, link_shape
from tests.conftest import FAST_SETTINGS, REPO_ROOT, PortalFactory
from tests.faultserver import FaultHandler, FaultSite, article_html, listing_html

# Share of a column's articles the first crawl of a written profile must archive.
MIN_SHARE = 0.95


def portalcrawl(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """The CLI as cron runs it: a subprocess without a terminal or stdin."""
    return subprocess.run(
        [sys.executable, "-m", "portalcrawl", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.fixture(scope="module")
def home(module_portal_server: PortalFactory) -> PortalServer:
    return module_portal_server("home")


def page(body: str):
    return lambda handler: FaultHandler.send_page(handler, body)


def written_profiles(directory: Path) -> dict[str, dict[str, object]]:
    return {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in directory.glob("*.toml")}


def test_home_page_yes_writes_news_columns_only_and_they_archive_their_articles(
    tmp_path: Path, home: PortalServer
) -> None:
    sites = tmp_path / "sites"
    added = portalcrawl("sites", "add", home.url("/"), "--yes", "--dir", str(sites))
    assert added.returncode == 0, added.stdout + added.stderr
    profiles = written_profiles(sites)
    start_urls = [url for profile in profiles.values() for url in profile["start_urls"]]
    # One profile per news column: none for 办事服务, 便民信息 (dateless guides), 领导信息, login…
    assert len(profiles) == len(home.columns)
    for url in start_urls:
        assert "/bsfw/" not in url and "/zwgk/" not in url and "login" not in url
    assert "便民信息" in added.stdout  # previewed and rejected, with the reason
    assert "shows no date" in added.stdout
    # 新闻中心 shows a few items of every column: a section page, not a column of its own.
    assert "新闻中心" in added.stdout and "a section page" in added.stdout
    assert not any(url.endswith("/xwzx/") for url in start_urls)

    checked = portalcrawl("sites", "--check", "--dir", str(sites))
    assert checked.returncode == 0, checked.stdout

    db_path = tmp_path / "archive.db"
    settings = [item for name, value in FAST_SETTINGS.items() for item in ("-s", f"{name}={value}")]
    crawled = portalcrawl("crawl", "--all", "--dir", str(sites), "--db", str(db_path), *settings, timeout=300)
    assert crawled.returncode == 0, crawled.stdout + crawled.stderr[-3000:]
    db = open_database(db_path, create=False)
    archived = {row[0] for row in db.execute("SELECT url FROM articles")}
    db.close()
    for name in home.columns:
        expected = {article["url"] for article in home.expected_articles(name)}
        share = len(expected & archived) / len(expected)
        assert share >= MIN_SHARE, f"{name}: {share:.0%} of its articles archived"
    every_expected = {a["url"] for name in home.columns for a in home.expected_articles(name)}
    assert archived <= every_expected, sorted(archived - every_expected)[:5]


def test_a_column_page_is_a_column_itself(tmp_path: Path, home: PortalServer) -> None:
    sites = tmp_path / "sites"
    start = home.start_url("jrjj")
    added = portalcrawl("sites", "add", start, "--columns", "1", "--slug", "city-jrjj", "--dir", str(sites))
    assert added.returncode == 0, added.stdout + added.stderr
    profiles = written_profiles(sites)
    assert list(profiles) == ["city-jrjj"]
    assert profiles["city-jrjj"]["start_urls"] == [start]
    assert profiles["city-jrjj"]["cms"] == "trs"
    assert profiles["city-jrjj"]["name"] == "示例市人民政府 今日聚焦"
    # Asked again, it adds no second profile for the same column.
    again = portalcrawl("sites", "add", start, "--yes", "--dir", str(sites))
    assert again.returncode == 1, again.stdout
    assert "already in " in again.stdout
    assert list(written_profiles(sites)) == ["city-jrjj"]


def test_without_a_terminal_or_yes_it_only_previews(
    tmp_path: Path, home: PortalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sites = tmp_path / "sites"
    assert main(["sites", "add", home.url("/"), "--dir", str(sites)]) == 0
    out = capsys.readouterr().out
    assert "nothing written (preview only)" in out
    assert "page 1: " in out
    assert "来源 " in out
    assert not sites.exists() or not list(sites.glob("*.toml"))


def test_an_existing_profile_is_never_overwritten(
    tmp_path: Path, home: PortalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "mine.toml").write_text(
        'name = "mine"\nstart_urls = ["http://example.gov.cn/"]\n', encoding="utf-8"
    )
    assert main(["sites", "add", home.start_url("jrjj"), "--yes", "--slug", "mine", "--dir", str(sites)]) == 1
    assert "exists, not overwritten" in capsys.readouterr().out
    assert (sites / "mine.toml").read_text(encoding="utf-8").startswith('name = "mine"')


def test_a_page_that_cannot_be_fetched_is_a_one_line_error(
    tmp_path: Path, home: PortalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sites", "add", home.url("/private/"), "--yes", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "robots.txt" in err


def test_a_pattern_is_written_only_when_the_list_also_links_other_columns(tmp_path: Path) -> None:
    site = FaultSite().start()
    try:
        entries = [
            (f"/news-show-{n}.html", f"第{n}号测试文章：城市更新项目推进情况通报") for n in range(1, 7)
        ]
        nav = (
            '<div class="nav"><a href="/news-list-xwdt.html">新闻动态</a>'
            '<a href="/news-list-tzgg.html">通知公告</a></div>'
        )
        # PHPCMS-style pseudo-static URLs: the news list also links the 通知公告 column in its items.
        mixed = [*entries[:3], ("/news-list-tzgg.html", "通知公告栏目的最新工作情况汇总"), *entries[3:]]
        site.routes["/news-list-xwdt.html"] = page(listing_html(mixed).replace("<body>", f"<body>{nav}"))
        site.routes["/news-list-tzgg.html"] = page(listing_html(entries).replace("<body>", f"<body>{nav}"))
        for n in range(1, 7):
            site.routes[f"/news-show-{n}.html"] = page(article_html(n))
        sites = tmp_path / "sites"
        assert main(["sites", "add", f"{site.base}/news-list-xwdt.html", "--yes", "--dir", str(sites)]) == 0
    finally:
        site.stop()
    by_start = {
        profile["start_urls"][0].rsplit("/", 1)[-1]: profile for profile in written_profiles(sites).values()
    }
    assert set(by_start) == {"news-list-xwdt.html", "news-list-tzgg.html"}
    assert by_start["news-list-xwdt.html"]["article_url_pattern"] == "/news-show-\\d+\\.html$"
    assert "article_url_pattern" not in by_start["news-list-tzgg.html"]


def test_link_shapes() -> None:
    assert link_shape("http://a.gov.cn/xwzx/202601/t20260116_5661632.html") == "/xwzx/\\d+/t\\d+_\\d+\\.html$"
    assert link_shape("http://a.gov.cn/detail.jsp?id=12") == "/detail\\.jsp\\?id=\\d+$"
    assert common_shape(["http://a/1.html", "http://a/2.html", "http://a/x/"]) == ("/\\d+\\.html$", 2)
    assert common_shape(["http://a/1.html", "http://a/b/", "http://a/c/"], share=0.9) is None


def test_on_a_terminal_it_asks_which_columns_and_their_slugs(tmp_path: Path, home: PortalServer) -> None:
    import pty
    import select

    sites = tmp_path / "sites"
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "portalcrawl", "sites", "add", home.url("/"), "--dir", str(sites)],
        cwd=REPO_ROOT,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    os.close(secondary)
    answers = iter([b"2\n", b"city-bmdt\n"])
    output = b""
    try:
        while process.poll() is None or select.select([primary], [], [], 0)[0]:
            ready, _, _ = select.select([primary], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            output += chunk
            if chunk.rstrip().endswith((b"):", b"]:")):
                os.write(primary, next(answers))
    finally:
        os.close(primary)
        process.wait(timeout=30)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, text
    assert "columns to add" in text
    profiles = written_profiles(sites)
    assert list(profiles) == ["city-bmdt"]
    assert profiles["city-bmdt"]["name"] == "示例市人民政府 部门动态"


def test_a_list_of_other_columns_items_is_a_section_but_two_columns_may_share_items() -> None:
    def column(name: str, *ids: int) -> ColumnPreview:
        return ColumnPreview(
            name, f"http://a.gov.cn/{name}/", article_links=[f"http://a.gov.cn/{i}.html" for i in ids]
        )

    news, notices, section, digest = (
        column("yw", 1, 2, 3, 4, 5),
        column("tzgg", 11, 12, 13, 14),
        column("xwzx", 1, 2, 11, 12, 99),
        column("jj", 1, 2, 3, 4, 6),
    )
    reject_sections([news, notices, section, digest])
    assert section.rejected == "a section page: 4 of its 5 articles are on 3 other columns' lists"
    assert news.is_news and notices.is_news and digest.is_news

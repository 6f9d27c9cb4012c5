"""`portalcrawl diagnose SITE`: where the chain from listing to article breaks, on loopback portals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portalcrawl.cli import main
from tests.conftest import PortalFactory, run_cli
from tests.faultserver import RUISHU_WALL, FaultHandler, FaultSite, article_html, listing_html


def write_profile(directory: Path, slug: str, body: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{slug}.toml").write_text(f'name = "诊断测试"\n{body}\n', encoding="utf-8")


def diagnose(directory: Path, slug: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(["diagnose", slug, "--dir", str(directory)])
    return status, capsys.readouterr().out


def page(body: bytes | str, status: int = 200, content_type: str = "text/html; charset=utf-8"):
    return lambda handler: FaultHandler.send_page(handler, body, status=status, content_type=content_type)


def links(first: int) -> list[tuple[str, str]]:
    """Five listing entries, articles ``first`` to ``first + 4``: a main list, not a stray link."""
    return [
        (f"/xwdt/202601/t20260116_{n}.html", f"第{n}号测试文章：城市更新项目推进情况通报")
        for n in range(first, first + 5)
    ]


@pytest.fixture
def site() -> Iterator[FaultSite]:
    server = FaultSite().start()
    yield server
    server.stop()


def test_a_working_column_exits_0_and_shows_what_the_article_gives(
    tmp_path: Path, module_portal_server: PortalFactory
) -> None:
    server = module_portal_server("trs")
    write_profile(tmp_path, "ok", f'start_urls = ["{server.start_url("jrjj")}"]')
    # As cron runs it: a subprocess without a terminal or stdin.
    result = run_cli(["diagnose", "ok", "--dir", str(tmp_path)], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "listing: " in out
    assert "pager: " in out
    expected = server.expected_articles("jrjj")[0]
    assert f"title {expected['title']!r}" in out
    assert f"source {expected['source']!r}" in out
    assert "field_stages: " in out
    assert "verdict: a crawl would archive articles" in out


def test_a_dead_pattern_is_named_with_the_pattern_the_links_follow(
    tmp_path: Path, module_portal_server: PortalFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server = module_portal_server("trs")
    start = server.start_url("jrjj")
    write_profile(tmp_path, "dead", f"start_urls = [\"{start}\"]\narticle_url_pattern = '/art/\\d+\\.html$'")
    status, out = diagnose(tmp_path, "dead", capsys)
    assert status == 1
    assert "0 match article_url_pattern = '/art/\\d+\\.html$'" in out
    suggested = out.split("follow article_url_pattern = '", 1)[1].split("'", 1)[0]
    assert suggested == "/xwzx/jrjj/\\d+/t\\d+_\\d+\\.html$"
    # The suggestion works.
    write_profile(tmp_path, "dead", f"start_urls = [\"{start}\"]\narticle_url_pattern = '{suggested}'")
    status, out = diagnose(tmp_path, "dead", capsys)
    assert status == 0, out


def test_a_robots_refusal_is_named(
    tmp_path: Path, module_portal_server: PortalFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server = module_portal_server("trs")
    write_profile(tmp_path, "robots", f'start_urls = ["{server.url("/private/xwzx/")}"]')
    status, out = diagnose(tmp_path, "robots", capsys)
    assert status == 1
    assert "robots.txt of " in out
    assert "refuses" in out
    assert "portalcrawl obeys robots.txt" in out
    assert ("GET", "/private/xwzx/", 404) not in server.requests


def test_a_412_wall_is_named(tmp_path: Path, site: FaultSite, capsys: pytest.CaptureFixture[str]) -> None:
    site.routes["/list/"] = page(listing_html(links(1)))
    site.routes["/xwdt/202601/t20260116_1.html"] = page(RUISHU_WALL, status=412)
    write_profile(tmp_path, "wall", f'start_urls = ["{site.base}/list/"]')
    status, out = diagnose(tmp_path, "wall", capsys)
    assert status == 1
    assert "a waf_ruishu wall (HTTP 412)" in out
    assert "never gets past anti-bot walls" in out


def test_an_http_error_on_the_start_url_is_named(
    tmp_path: Path, site: FaultSite, capsys: pytest.CaptureFixture[str]
) -> None:
    write_profile(tmp_path, "gone", f'start_urls = ["{site.base}/moved/"]')
    status, out = diagnose(tmp_path, "gone", capsys)
    assert status == 1
    assert "listing page " in out
    assert ": HTTP 404" in out
    assert "sites add HOME_URL" in out


def test_a_selector_that_matches_nothing_is_reported_not_hidden(
    tmp_path: Path, module_portal_server: PortalFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server = module_portal_server("trs")
    write_profile(
        tmp_path,
        "selector",
        f'start_urls = ["{server.start_url("jrjj")}"]\n[selectors]\nsource = "div.no-such-source"\n'
        'title = "h1, .title"',
    )
    status, out = diagnose(tmp_path, "selector", capsys)
    assert status == 0
    assert "selectors.source 'div.no-such-source' matched nothing on the article page" in out
    assert "selectors.title 'h1, .title' matched" in out


def test_a_gbk_page_served_as_utf8_is_named(
    tmp_path: Path, site: FaultSite, capsys: pytest.CaptureFixture[str]
) -> None:
    # GBK bytes without a <meta charset>, and an HTTP header that says UTF-8: a common gov server setup.
    listing = listing_html(links(7)).replace('<meta charset="utf-8">', "")
    site.routes["/list/"] = page(listing.encode("gbk"))
    site.routes["/xwdt/202601/t20260116_7.html"] = page(article_html(7, charset=None).encode("gbk"))
    write_profile(tmp_path, "gbk", f'start_urls = ["{site.base}/list/"]')
    status, out = diagnose(tmp_path, "gbk", capsys)
    assert status == 0, out
    assert "encoding: the HTTP header says utf-8, but the bytes are gb18030" in out
    assert "title '第7号测试文章：城市更新项目推进情况通报'" in out


def test_an_unknown_site_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tmp_path.mkdir(exist_ok=True)
    assert main(["diagnose", "nosuch", "--dir", str(tmp_path)]) == 2
    assert "unknown site 'nosuch'" in capsys.readouterr().err


def test_a_column_that_loads_its_list_from_json_is_read_through_it(
    tmp_path: Path, module_portal_server: PortalFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server = module_portal_server("govcn")
    [column] = server.columns
    write_profile(tmp_path, "govcn", f'start_urls = ["{server.start_url(column)}"]')
    status, out = diagnose(tmp_path, "govcn", capsys)
    assert status == 0, out
    assert "list data " in out
    assert f"title {server.expected_articles(column)[0]['title']!r}" in out

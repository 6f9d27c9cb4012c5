"""A listing never paged to its end resumes where the interrupted run got to, after a look at the top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from portalcrawl.cli import main
from portalcrawl.extract.listing import ListingRequest
from portalcrawl.listing_resume import ResumePoint
from portalcrawl.spiders.portal import ListingChain
from tests.conftest import CrawlRunner, PortalFactory

PORTAL_TOML = """\
name = "示例市人民政府"
site_code = "4300000002"

[[columns]]
name = "jrjj"
title = "今日聚焦"
family = "trs"
path = "/xwzx/jrjj/"
articles = 90
per_page = 5
first_id = 5661600
"""


def listing_pages(requests: list[tuple[str, str, int]]) -> list[str]:
    return [path for _, path, _ in requests if path.startswith("/xwzx/jrjj/") and "/t20" not in path]


def stored(db_path: Path) -> set[str]:
    return {row[0] for row in sqlite_utils.Database(db_path).execute("select url from articles")}


def test_an_interrupted_first_crawl_resumes_at_its_deepest_settled_page(
    tmp_path: Path,
    portal_server: PortalFactory,
    run_crawl: CrawlRunner,
    tmp_db: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / "portal.toml").write_text(PORTAL_TOML, encoding="utf-8")
    server = portal_server(str(portal))
    args = ["-a", f"url={server.start_url('jrjj')}"]

    first = run_crawl(args, tmp_db, CLOSESPIDER_PAGECOUNT="45", CONCURRENT_REQUESTS_PER_DOMAIN="1")

    assert first.returncode == 0, first.stderr[-2000:]
    db = sqlite_utils.Database(tmp_db)
    (state,) = db["listing_state"].rows
    assert state["last_complete_run_id"] is None and state["resume_run_id"] == 1
    depth = state["resume_depth"]
    reached = listing_pages(server.requests)
    assert 3 <= depth <= len(reached) < 18
    point = ResumePoint.from_json(depth, state["resume_page"])
    assert point is not None and point.page == server.url(reached[depth - 1])
    # Every article listed down to the resume page is archived: nothing between is skipped later.
    expected = server.expected_articles("jrjj")
    assert {e["url"] for e in expected[: depth * 5]} <= stored(tmp_db)
    db.close()
    assert main(["state", "127.0.0.1", "--db", str(tmp_db)]) == 0
    assert f"never complete; resumes at page {depth} (run #1)" in capsys.readouterr().out

    # Three new articles at the top: page 1 has them, page 2 only known ones, then the jump.
    server.add_articles("jrjj", 3)
    server.reset_requests()
    second = run_crawl(args, tmp_db, CONCURRENT_REQUESTS_PER_DOMAIN="1")

    assert second.returncode == 0, second.stderr[-2000:]
    pages = listing_pages(server.requests)
    assert pages[:3] == ["/xwzx/jrjj/", "/xwzx/jrjj/index_1.html", f"/xwzx/jrjj/index_{depth - 1}.html"]
    # Page k is index_{k-1}.html; 93 articles make 19 pages.
    assert not {f"/xwzx/jrjj/index_{k - 1}.html" for k in range(3, depth)} & set(pages)
    assert {f"/xwzx/jrjj/index_{k - 1}.html" for k in range(depth, 20)} <= set(pages)
    assert stored(tmp_db) == {e["url"] for e in server.expected_articles("jrjj")}
    db = sqlite_utils.Database(tmp_db)
    (state,) = db["listing_state"].rows
    assert (state["last_complete_run_id"], state["resume_depth"], state["resume_page"]) == (2, None, None)
    runs = [json.loads(row[0]) for row in db.execute("select args from crawl_runs")]
    assert len(runs) == 2
    db.close()


def test_the_resume_point_stops_below_the_first_page_with_an_article_not_dealt_with() -> None:
    chain = ListingChain("http://a.gov.cn/xwzx/", None, False)
    chain.fetched = {depth: f"http://a.gov.cn/xwzx/index_{depth}.html" for depth in (1, 2, 3, 4)}
    chain.outstanding = {1: 0, 2: 0, 3: 1, 4: 0}
    assert chain.settled_depth() == 2
    # After a jump to page 10 only the pages from there count; the top pages are re-read next time.
    chain.resume, chain.jumped = ResumePoint(10, "http://a.gov.cn/xwzx/index_10.html"), True
    chain.fetched.update({10: "p10", 11: "p11", 13: "p13"})
    assert chain.settled_depth() == 11
    chain.outstanding[10] = 2
    assert chain.settled_depth() == 0


def test_a_resume_point_round_trips_a_data_request() -> None:
    request = ListingRequest("POST", "http://a.gov.cn/module/web/jpage/dataproxy.jsp", {"startrecord": "91"})
    point = ResumePoint(3, request)
    assert ResumePoint.from_json(3, point.to_json()) == point
    assert ResumePoint.from_json(3, '{"unknown": 1}') is None


def test_a_resume_page_that_is_gone_falls_back_to_paging_on(
    tmp_path: Path, portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / "portal.toml").write_text(PORTAL_TOML, encoding="utf-8")
    server = portal_server(str(portal))
    args = ["-a", f"url={server.start_url('jrjj')}"]
    first = run_crawl(args, tmp_db, CLOSESPIDER_PAGECOUNT="45", CONCURRENT_REQUESTS_PER_DOMAIN="1")
    assert first.returncode == 0, first.stderr[-2000:]
    db = sqlite_utils.Database(tmp_db)
    # The portal was restructured: the page the last run got to no longer exists.
    gone = ResumePoint(12, server.url("/xwzx/jrjj/index_999.html")).to_json()
    db.execute("update listing_state set resume_depth = 12, resume_page = ?", [gone])
    db.conn.commit()
    db.close()
    server.reset_requests()

    second = run_crawl(args, tmp_db, CONCURRENT_REQUESTS_PER_DOMAIN="1")

    assert second.returncode == 0, second.stderr[-2000:]
    pages = listing_pages(server.requests)
    # Page 1 holds only known articles: the jump; it fails, and paging goes on from page 1's pager.
    assert pages[:3] == ["/xwzx/jrjj/", "/xwzx/jrjj/index_999.html", "/xwzx/jrjj/index_1.html"]
    assert {f"/xwzx/jrjj/index_{k}.html" for k in range(1, 18)} <= set(pages)
    assert stored(tmp_db) == {e["url"] for e in server.expected_articles("jrjj")}
    (state,) = sqlite_utils.Database(tmp_db)["listing_state"].rows
    assert (state["last_complete_run_id"], state["resume_depth"]) == (2, None)
    assert "resume page" in second.stderr and "paging on" in second.stderr


HANWEB_TOML = """\
name = "示例省发展和改革委员会"
site_code = "3300000001"

[[columns]]
name = "bmdt"
title = "部门动态"
family = "hanweb"
articles = 450
first_id = 30332600
start = "2024-02-10T10:05:00"
step_seconds = 43200

[columns.options]
col_id = 123
unit_id = 456
"""


def test_a_hanweb_listing_resumes_at_its_data_group(
    tmp_path: Path, portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    portal = tmp_path / "portal"
    portal.mkdir()
    (portal / "portal.toml").write_text(HANWEB_TOML, encoding="utf-8")
    server = portal_server(str(portal))
    args = ["-a", f"url={server.start_url('bmdt')}"]
    first = run_crawl(args, tmp_db, CLOSESPIDER_PAGECOUNT="200", CONCURRENT_REQUESTS_PER_DOMAIN="1")
    assert first.returncode == 0, first.stderr[-2000:]
    (state,) = sqlite_utils.Database(tmp_db)["listing_state"].rows
    depth = state["resume_depth"]
    # Depth 1 is the column page (45 records inline), then one dataproxy group of 45 per depth.
    assert depth >= 3 and f"startrecord={45 * (depth - 1) + 1}&" in state["resume_page"]
    server.reset_requests()

    second = run_crawl(args, tmp_db, CONCURRENT_REQUESTS_PER_DOMAIN="1")

    assert second.returncode == 0, second.stderr[-2000:]
    groups = [path for method, path, _ in server.requests if method == "POST" and "dataproxy" in path]
    # 450 records: 45 inline and 9 groups (depths 2-10); the groups above the resume one are skipped.
    assert len(groups) == 10 - depth + 1
    assert stored(tmp_db) == {e["url"] for e in server.expected_articles("bmdt")}

"""Articles edited on the portal after a crawl: refetched by full=1 or recheck_days, previous version kept."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from portalcrawl.demo.server import PortalServer
from portalcrawl.extract.article import extract_article, merge_pages
from portalcrawl.search import search

PortalFactory = Callable[[str], PortalServer]
CrawlRunner = Callable[..., subprocess.CompletedProcess[str]]
CORRECTION = "（更正：本文所述项目总投资应为3.2亿元，特此更正。）"
NEW_TITLE = "关于全市重点项目集中开工情况的更正说明"


def log_tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-3000:]


def _articles(db: Path) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in sqlite_utils.Database(db)["articles"].rows}


def _versions(db: Path) -> list[dict[str, Any]]:
    return list(sqlite_utils.Database(db)["article_versions"].rows_where(order_by="id"))


def _last_run(db: Path) -> dict[str, Any]:
    return list(sqlite_utils.Database(db)["crawl_runs"].rows_where(order_by="id"))[-1]


def _counts(run: dict[str, Any]) -> tuple[int, int, int]:
    return run["new_articles"], run["updated_articles"], run["unchanged_articles"]


def _crawl(run_crawl: CrawlRunner, args: list[str], db: Path, **settings: str) -> dict[str, Any]:
    result = run_crawl(args, db, **settings)
    assert result.returncode == 0, log_tail(result)
    run = _last_run(db)
    assert (run["status"], run["reason"]) == ("ok", "finished"), log_tail(result)
    return run


def test_full_crawl_updates_revised_articles_and_keeps_their_previous_version(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("trs")
    count = server.columns["jrjj"].count
    args = ["-a", f"url={server.start_url('jrjj')}"]
    first_run = _crawl(run_crawl, args, tmp_db)
    before = _articles(tmp_db)
    assert _counts(first_run) == (count, 0, 0)
    # Article 20 gets a correction appended; article 10 a new title (its neighbours link to it by title).
    corrected = server.revise_article("jrjj", 20, paragraph=CORRECTION)
    retitled = server.revise_article("jrjj", 10, title=NEW_TITLE)
    revised = {corrected, retitled}

    # An ordinary rerun stops at the first listing page it knows wholly: the edits stay unseen.
    assert _counts(_crawl(run_crawl, args, tmp_db)) == (0, 0, 0)
    assert _articles(tmp_db) == before
    server.reset_requests()

    full_run = _crawl(run_crawl, [*args, "-a", "full=1"], tmp_db)

    assert {server.url(path) for _, path, _ in server.requests} >= set(before)
    assert _counts(full_run) == (0, 2, count - 2)
    after = _articles(tmp_db)
    assert set(after) == set(before)
    for url in set(before) - revised:
        assert after[url] == before[url], url
    for url in revised:
        old, new = before[url], after[url]
        assert new["id"] == old["id"]
        assert (new["first_seen_at"], new["first_seen_run_id"]) == (old["first_seen_at"], first_run["id"])
        assert (old["updated_at"], old["last_run_id"]) == (None, first_run["id"])
        assert new["updated_at"] is not None and new["updated_at"] >= old["first_seen_at"]
        assert new["last_run_id"] == full_run["id"]
        assert new["content_hash"] != old["content_hash"]
        assert new["published_at"] == old["published_at"]
    assert after[corrected]["body_text"].rstrip().endswith(CORRECTION)
    assert after[corrected]["body_text"].startswith(before[corrected]["body_text"].rstrip())
    assert after[corrected]["title"] == before[corrected]["title"]
    assert after[retitled]["title"] == NEW_TITLE
    assert after[retitled]["body_text"] == before[retitled]["body_text"]

    versions = _versions(tmp_db)
    assert sorted(v["url"] for v in versions) == sorted(revised)
    for version in versions:
        old = before[version["url"]]
        assert version["article_id"] == old["id"]
        assert version["replaced_by_run_id"] == full_run["id"]
        assert version["replaced_at"] == after[version["url"]]["updated_at"]
        for name in ("title", "body_text", "body_html", "content_hash", "fetched_at", "published_at"):
            assert version[name] == old[name], name

    # The search indexes hold the revised text, not the replaced one (whose lead still names the old title).
    db = sqlite_utils.Database(tmp_db)
    assert [m.url for m in search(db, "特此更正")] == [corrected]
    assert [m.url for m in search(db, NEW_TITLE)] == [retitled]
    indexed = db.execute("SELECT title FROM articles_fts WHERE rowid = ?", [after[retitled]["id"]]).fetchall()
    assert indexed == [(NEW_TITLE,)]

    # Refetching an unchanged portal in full changes nothing and stores no version.
    again = _crawl(run_crawl, [*args, "-a", "full=1"], tmp_db)

    assert _counts(again) == (0, 0, count)
    assert _articles(tmp_db) == after
    assert _versions(tmp_db) == versions


def test_each_revision_of_a_multi_page_article_keeps_the_version_before_it(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("destoon")
    column = server.columns["news"]
    # The article split over two pages: corrections land on its continuation page, after the byline moves.
    n = next(n for n in range(1, column.count + 1) if column.page_count_of(n) == 2)
    author = server.portal.article(column, n)["author"]
    args = ["-a", f"url={server.start_url('news')}", "-a", "full=1"]
    _crawl(run_crawl, args, tmp_db)
    url = server.url(column.article_path(n))
    bodies = [_articles(tmp_db)[url]["body_text"]]
    for correction in (
        "（更正：原文中项目总投资应为3.2亿元，特此更正，并向读者致歉。）",
        "（再次更正：主持人应为分管副市长，特此更正。）",
    ):
        server.revise_article("news", n, paragraph=correction)
        run = _crawl(run_crawl, args, tmp_db)
        assert _counts(run) == (0, 1, column.count - 1)
        bodies.append(_articles(tmp_db)[url]["body_text"])

    assert all(body.endswith(f"({author})") for body in bodies), bodies
    assert bodies[1].removesuffix(f"({author})").endswith("并向读者致歉。）")
    assert "并向读者致歉" in bodies[2] and bodies[2].removesuffix(f"({author})").endswith("特此更正。）")
    assert [(v["url"], v["body_text"]) for v in _versions(tmp_db)] == [(url, bodies[0]), (url, bodies[1])]


def test_recheck_days_refetches_a_listing_completed_long_enough_ago(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path, tmp_path: Path
) -> None:
    server = portal_server("query")
    count = server.columns["jyxw"].count
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "county.toml").write_text(
        f'name = "示例县"\nstart_urls = ["{server.start_url("jyxw")}"]\nrecheck_days = 7\n', encoding="utf-8"
    )
    args = ["-a", "site=county"]
    _crawl(run_crawl, args, tmp_db, PORTALCRAWL_SITES_DIR=str(sites))
    url = server.revise_article("jyxw", 5, paragraph=CORRECTION)

    # Completed today: not due yet, the revision is not seen.
    assert _counts(_crawl(run_crawl, args, tmp_db, PORTALCRAWL_SITES_DIR=str(sites))) == (0, 0, 0)
    db = sqlite_utils.Database(tmp_db)
    eight_days_ago = (datetime.now(UTC) - timedelta(days=8)).isoformat()
    db.execute("UPDATE listing_state SET last_complete_at = ?", [eight_days_ago])
    db.conn.commit()

    recheck = _crawl(run_crawl, args, tmp_db, PORTALCRAWL_SITES_DIR=str(sites))

    assert _counts(recheck) == (0, 1, count - 1)
    assert _articles(tmp_db)[url]["body_text"].rstrip().endswith(CORRECTION)
    assert [v["url"] for v in _versions(tmp_db)] == [url]
    state = next(iter(db["listing_state"].rows))
    assert state["last_complete_run_id"] == recheck["id"]
    assert state["last_complete_at"] > eight_days_ago


@pytest.mark.parametrize(
    "correction",
    [
        "（本文有更正。）",
        "（更正：会议日期应为10月9日，特此更正。）",
        "（更正：原文中项目总投资应为3.2亿元，特此更正。）",
    ],
    ids=["short-page", "date-label-line", "prose-line"],
)
def test_a_correction_alone_on_a_continuation_page_is_extracted(
    portal_server: PortalFactory, correction: str
) -> None:
    server = portal_server("destoon")
    column = server.columns["news"]
    n = next(n for n in range(1, column.count + 1) if column.page_count_of(n) == 2)
    # Two paragraphs more move the split: the continuation page holds the corrections alone.
    server.revise_article("news", n, paragraph=correction)
    server.revise_article("news", n, paragraph=correction.replace("更正", "再次更正"))
    pages = []
    for page in (1, 2):
        url = server.url(column.article_path(n, page))
        with urllib.request.urlopen(url, timeout=10) as response:
            pages.append(extract_article(response.read(), url))

    body = merge_pages(pages[0], pages[1:]).body_text

    assert correction in body and correction.replace("更正", "再次更正") in body

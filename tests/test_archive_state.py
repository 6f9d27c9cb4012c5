"""ArchiveState: the spider's one door to the archive, one query per listing page."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portalcrawl import database
from portalcrawl.archive_state import ArchiveState, ListingState
from portalcrawl.items import Article
from portalcrawl.listing_resume import ResumePoint
from tests.conftest import CrawlRunner, PortalFactory

BASE = "https://www.example.gov.cn/xwzx/"


def url(n: int) -> str:
    return f"{BASE}202601/t20260116_{n}.html"


@pytest.fixture
def archive(tmp_path: Path):
    state = ArchiveState.open(tmp_path / "portalcrawl.db", "example")
    yield state
    state.close()


def store(archive: ArchiveState, numbers: range, run_id: int | None, site: str = "example") -> None:
    articles = [Article(url=url(n), site=site, title=f"第{n}篇", body_text="正文") for n in numbers]
    database.upsert_articles(archive.db, articles, run_id)


def traced(archive: ArchiveState) -> list[str]:
    """The statements SQLite runs on the archive's connection from now on."""
    statements: list[str] = []
    archive.db.conn.set_trace_callback(statements.append)
    return statements


def test_known_links_are_the_sites_articles_and_skipped_links_with_their_first_run(
    archive: ArchiveState,
) -> None:
    run1, run2 = (database.start_run(archive.db, "example", {}) for _ in range(2))
    store(archive, range(1, 4), run1)
    store(archive, range(4, 5), run2)
    store(archive, range(5, 6), run1, site="other")
    archive.remember_skipped(url(6), "HTTP 404", run1)
    archive.remember_skipped(url(7), "HTTP 404", run2)
    archive.remember_skipped(url(8), "not HTML", None)
    # Archived in run 2, but remembered as no article since run 1: trusted from run 1.
    archive.remember_skipped(url(4), "soft 404", run1)

    known = archive.known([url(n) for n in range(1, 10)])

    assert {n for n in range(1, 10) if url(n) in known} == {1, 2, 3, 4, 6, 7, 8}
    assert known.skipped == {url(4), url(6), url(7), url(8)}
    assert known.up_to(run1) == {url(1), url(2), url(3), url(4), url(6)}
    assert known.up_to(run2) == {url(1), url(2), url(3), url(4), url(6), url(7)}


def test_a_listing_page_is_one_query_however_many_links(archive: ArchiveState) -> None:
    store(archive, range(1, 30), None)
    statements = traced(archive)
    # Far more links than SQLite's limit on bound parameters (32766) would allow in an IN list.
    listed = [f"{BASE}other/{n}.html" for n in range(40_000)] + [url(7), url(7)]
    assert set(archive.known(listed).first_seen) == {url(7)}
    assert archive.known([]).first_seen == {}
    assert len(statements) == 1


def test_known_links_are_looked_up_by_url_not_by_site(archive: ArchiveState) -> None:
    # SQLite preferred the (site, published_at) index, walking every article of the site for each
    # listing page: the crawl slowed down as its archive grew.
    store(archive, range(1, 30), 1)
    statements = traced(archive)
    archive.known([url(n) for n in range(3, 13)])
    (statement,) = statements
    plan = " ".join(row[3] for row in archive.db.conn.execute(f"EXPLAIN QUERY PLAN {statement}"))
    assert "USING INDEX sqlite_autoindex_articles_1 (url=?)" in plan, plan
    assert "USING INDEX sqlite_autoindex_skipped_urls_1 (site=? AND url=?)" in plan, plan
    assert "idx_articles_site" not in plan, plan


def test_listing_state_trust_recheck_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "portalcrawl.db"
    archive = ArchiveState.open(path, "example")
    complete, unfinished, new = (f"{BASE}{name}/" for name in ("complete", "unfinished", "new"))
    archive.mark_complete(complete, 3)
    archive.save_resume(unfinished, ResumePoint(12, f"{unfinished}index_11.html"), 4)
    archive.close()

    archive = ArchiveState.open(path, "example")
    now = datetime.now(UTC)
    state = archive.listing(complete)
    assert (state.trusted_run_id, state.resume) == (3, None)
    assert state.recheck_due(None, now) is False
    assert state.recheck_due(2, now) is False
    assert state.recheck_due(2, now + timedelta(days=2)) is True
    assert archive.listing(unfinished).trusted_run_id is None
    assert archive.listing(unfinished).resume == ResumePoint(12, f"{unfinished}index_11.html")
    assert archive.listing(new) == ListingState()
    # Each start URL is read once a crawl: its trust and its resume point come from the same read.
    assert archive.reads == 3
    archive.close()


def crawl_stats(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The integer stats a `scrapy crawl` dumped at its end."""
    dump = result.stderr.rsplit("Dumping Scrapy stats:", 1)[1]
    return {key: int(value) for key, value in re.findall(r"'([^']+)': (\d+)[,}]", dump)}


def test_a_crawl_asks_the_archive_once_per_listing_page(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("families")
    starts = [server.start_url(column) for column in server.columns]
    args = ["-a", "url=" + ",".join(starts)]
    first = run_crawl(args, tmp_db)
    for column in server.columns:
        server.add_articles(column, 3)
    rerun = run_crawl(args, tmp_db)
    for result in (first, rerun):
        assert result.returncode == 0, result.stderr[-3000:]
        stats = crawl_stats(result)
        # One read of each start URL's listing state, one of each listing page's links. The rerun
        # also stops by "all known up to the trusted run": that answer comes from the same read.
        assert stats["portalcrawl/spider/listing_pages"] >= len(starts)
        assert stats["portalcrawl/archive/queries"] <= stats["portalcrawl/spider/listing_pages"] + len(starts)
    assert "all articles known (up to run 1)" in rerun.stderr

"""Incremental crawling against fixture portals: exact request counts, reruns, back-fill, interrupted runs."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import sqlite_utils

from portalcrawl.cli import main
from portalcrawl.demo.server import PortalServer

PORTALS_DIR = Path(__file__).parent / "portals"
PortalFactory = Callable[[str], PortalServer]
CrawlRunner = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Family:
    """What crawling one pagination family's column costs, in requests the fixture server answers.

    ``listing`` counts listing pages, data groups and pager candidates past the end; ``article``
    article pages and their continuation pages; ``dead`` the listed link that answers 404.
    """

    listing: int
    article: int
    dead: int
    # Listing requests of a rerun after 3 new articles: the pages until one is wholly known.
    rerun_listing: int


# Columns of tests/portals/families, all crawled together (one start URL each).
FAMILIES = {
    # createPageHTML(4, 0, 'index', 'html'): index_1..index_3, then index_4 answers 404.
    "trs": Family(listing=5, article=32, dead=1, rerun_listing=2),
    # createPageHTML('page_div', 3, 1, 'index', 'shtml', 26): index_2.shtml, index_3.shtml.
    "trs-1based": Family(listing=3, article=26, dead=1, rerun_listing=2),
    # 45 records inline, then dataproxy POST groups 46-90 and 91-135 (each repeating one record).
    "hanweb": Family(listing=3, article=100, dead=1, rerun_listing=2),
    # The same from /module/jpage/dataproxy.jsp: one more group.
    "hanweb-old": Family(listing=2, article=60, dead=1, rerun_listing=2),
    # list_5_2.html, list_5_3.html from the numbered pager and 下一页.
    "dedecms": Family(listing=3, article=30, dead=1, rerun_listing=2),
    # list-6-2.html, list-6-3.html; show-124.html continues on show-124-2.html.
    "destoon": Family(listing=3, article=26, dead=1, rerun_listing=2),
    # home.htm fills its list from YAOWENLIEBIAO.json by script: two listing requests, always.
    "govcn": Family(listing=2, article=24, dead=1, rerun_listing=2),
    # list.jsp?page=2, ?page=3.
    "query": Family(listing=3, article=23, dead=1, rerun_listing=2),
    # 2.html … 4.html from "1 2 3 4 下一页".
    "numbered": Family(listing=4, article=35, dead=1, rerun_listing=2),
    # One RSS feed with every article.
    "rss": Family(listing=1, article=20, dead=1, rerun_listing=1),
}
# tests/portals/rss crawled from its /sitemap.xml (every article, no traps).
SITEMAP = Family(listing=1, article=20, dead=0, rerun_listing=1)


@dataclass
class Crawls:
    """A portal crawled three times: first crawl; 3 new articles per column and a rerun; a rerun."""

    server: PortalServer
    results: list[subprocess.CompletedProcess[str]]
    requests: list[list[tuple[str, str, int]]]
    stored_before_rerun: set[str]
    new_urls: dict[str, list[str]]
    db: Path

    def kinds(self, run: int) -> Counter[tuple[str, str]]:
        """Requests of a run by (column, kind); robots.txt counted under column ""."""
        return Counter(self._request_kind(path) for _, path, _ in self.requests[run])

    def column_kinds(self, run: int, column: str) -> dict[str, int]:
        return {kind: n for (name, kind), n in self.kinds(run).items() if name == column}

    @cached_property
    def _pages(self) -> dict[str, tuple[str, str]]:
        """Every article page (and continuation page) and dead link of the portal, by path."""
        pages = {}
        for name, column in self.server.columns.items():
            for n in range(1, column.count + 1):
                for page in range(1, column.page_count_of(n) + 1):
                    pages[column.article_path(n, page)] = (name, "article")
            pages[column.article_path(0)] = (name, "dead")
        return pages

    def _request_kind(self, path: str) -> tuple[str, str]:
        if path == "/robots.txt":
            return "", "robots"
        if path in self._pages:
            return self._pages[path]
        for name, column in self.server.columns.items():
            if column.family.startswith("hanweb"):
                proxy = "/module/jpage/" if column.family == "hanweb-old" else "/module/web/jpage/"
                if path.startswith((f"/col/col{column.col_id}/", proxy)):
                    return name, "listing"
            elif path.startswith(column.path) or (column.family == "rss" and path == "/sitemap.xml"):
                return name, "listing"
        return "?", path


def log_tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-3000:]


def _crawl_three_times(
    portal: str, run_crawl: CrawlRunner, db: Path, start_path: str | None = None
) -> Crawls:
    server = PortalServer(PORTALS_DIR / portal).start()
    starts = [server.url(start_path)] if start_path else [server.start_url(c) for c in server.columns]
    args = ["-a", "url=" + ",".join(starts)]
    results, requests = [run_crawl(args, db)], [server.requests]
    stored = _stored(db)
    new_urls = {column: server.add_articles(column, 3) for column in server.columns}
    for _ in range(2):
        server.reset_requests()
        results.append(run_crawl(args, db))
        requests.append(server.requests)
    return Crawls(server, results, requests, stored, new_urls, db)


@pytest.fixture(scope="module")
def crawls(run_crawl: CrawlRunner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Crawls]]:
    """The all-families portal and the sitemap portal, crawled side by side (a crawl mostly waits)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        families = pool.submit(
            _crawl_three_times, "families", run_crawl, tmp_path_factory.mktemp("families") / "p.db"
        )
        sitemap = pool.submit(
            _crawl_three_times, "rss", run_crawl, tmp_path_factory.mktemp("sitemap") / "p.db", "/sitemap.xml"
        )
        done = {"families": families.result(), "sitemap": sitemap.result()}
    yield done
    for result in done.values():
        result.server.stop()


def _stored(db: Path) -> set[str]:
    return {r["url"] for r in sqlite_utils.Database(db)["articles"].rows}


def _runs(db: Path) -> list[dict[str, object]]:
    return list(sqlite_utils.Database(db)["crawl_runs"].rows)


def _article_paths(server: PortalServer, column: str, requests: list[tuple[str, str, int]]) -> list[str]:
    urls = {e["url"] for e in server.expected_articles(column)}
    return [server.url(path) for _, path, _ in requests if server.url(path) in urls]


CASES = [*FAMILIES, "sitemap"]


def _case(crawls: dict[str, Crawls], name: str) -> tuple[Crawls, str, Family]:
    if name == "sitemap":
        return crawls["sitemap"], "rss", SITEMAP
    return crawls["families"], name, FAMILIES[name]


@pytest.mark.parametrize("name", ["families", "sitemap"])
def test_every_run_succeeds_and_requests_nothing_unexpected(crawls: dict[str, Crawls], name: str) -> None:
    result = crawls[name]
    for run, process in enumerate(result.results):
        assert process.returncode == 0, log_tail(process)
        assert result.kinds(run)[("", "robots")] == 1
        assert not [kind for kind in result.kinds(run) if kind[0] == "?"]
    # The first run records its dead links; the reruns request none.
    assert [(run["reason"], run["errors"]) for run in _runs(result.db)][1:] == [("finished", 0)] * 2
    assert _runs(result.db)[0]["reason"] == "finished"


@pytest.mark.parametrize("name", CASES)
def test_first_crawl_stores_every_article_with_exact_requests(crawls: dict[str, Crawls], name: str) -> None:
    result, column, family = _case(crawls, name)
    expected = {e["url"] for e in result.server.expected_articles(column)} - set(result.new_urls[column])
    assert expected <= result.stored_before_rerun
    counts = {"listing": family.listing, "article": family.article, "dead": family.dead}
    assert result.column_kinds(0, column) == {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("name", CASES)
def test_rerun_fetches_exactly_the_three_new_articles(crawls: dict[str, Crawls], name: str) -> None:
    result, column, family = _case(crawls, name)
    assert sorted(_article_paths(result.server, column, result.requests[1])) == sorted(
        result.new_urls[column]
    )
    assert result.column_kinds(1, column) == {"listing": family.rerun_listing, "article": 3}
    assert set(result.new_urls[column]) <= _stored(result.db)


@pytest.mark.parametrize("name", CASES)
def test_rerun_of_unchanged_portal_reads_one_listing_page(crawls: dict[str, Crawls], name: str) -> None:
    result, column, _ = _case(crawls, name)
    # gov.cn needs its page and the JSON feed the page names.
    assert result.column_kinds(2, column) == {"listing": 2 if column == "govcn" else 1}


def test_rerun_counts_only_new_articles_in_crawl_runs(crawls: dict[str, Crawls]) -> None:
    result = crawls["families"]
    added = sum(len(urls) for urls in result.new_urls.values())
    assert [run["new_articles"] for run in _runs(result.db)] == [len(result.stored_before_rerun), added, 0]
    assert _stored(result.db) == result.stored_before_rerun | {
        url for urls in result.new_urls.values() for url in urls
    }


def test_a_capped_run_leaves_the_listing_incomplete_so_the_next_run_backfills(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("dedecms")
    column = next(iter(server.columns))
    every = {e["url"] for e in server.expected_articles(column)}
    args = ["-a", f"url={server.start_url(column)}"]

    # A first crawl limited to one page: older pages unseen, so the listing is not complete.
    assert run_crawl([*args, "-a", "max_pages=1"], tmp_db).returncode == 0
    assert len(_stored(tmp_db)) == 12
    assert sqlite_utils.Database(tmp_db)["listing_state"].count_where("last_complete_run_id is not null") == 0

    result = run_crawl(args, tmp_db)
    assert result.returncode == 0, log_tail(result)
    assert _stored(tmp_db) == every
    assert (_runs(tmp_db)[-1]["new_articles"], _runs(tmp_db)[-1]["reason"]) == (len(every) - 12, "finished")
    server.reset_requests()

    # --full fetches every listed article again, however complete the listing is.
    assert run_crawl([*args, "-a", "full=1"], tmp_db).returncode == 0
    assert sorted(_article_paths(server, column, server.requests)) == sorted(every)
    last = _runs(tmp_db)[-1]
    assert (last["new_articles"], last["unchanged_articles"]) == (0, len(every))


def test_state_reset_forgets_listing_state_and_remembered_links(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = portal_server("query")
    assert run_crawl(["-a", f"url={server.start_url('jyxw')}"], tmp_db).returncode == 0
    db = sqlite_utils.Database(tmp_db)
    assert (db["listing_state"].count, db["skipped_urls"].count) == (1, 2)

    assert main(["state", "127.0.0.1", "--reset", "--yes", "--db", str(tmp_db)]) == 0

    output = capsys.readouterr().out
    assert "known articles: 23" in output
    assert "listed links that are no articles: 2" in output
    assert (db["listing_state"].count, db["skipped_urls"].count) == (0, 0)


def test_interrupted_first_run_is_completed_by_the_next(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("trs")
    column = next(iter(server.columns))
    every = {e["url"] for e in server.expected_articles(column)}
    args = ["-a", f"url={server.start_url(column)}"]

    first = run_crawl(args, tmp_db, CLOSESPIDER_PAGECOUNT="8", CONCURRENT_REQUESTS_PER_DOMAIN="1")

    assert first.returncode == 0, log_tail(first)
    run = _runs(tmp_db)[0]
    assert (run["status"], run["reason"]) == ("partial", "closespider_pagecount")
    partial = _stored(tmp_db)
    assert 0 < len(partial) < len(every)
    # Not complete: at most a resume point (tests/test_listing_resume.py) is kept.
    assert [s["last_complete_run_id"] for s in sqlite_utils.Database(tmp_db)["listing_state"].rows] in (
        [],
        [None],
    )
    server.reset_requests()

    second = run_crawl(args, tmp_db)

    assert second.returncode == 0, log_tail(second)
    assert _stored(tmp_db) == every
    assert sorted(_article_paths(server, column, server.requests)) == sorted(every - partial)
    state = list(sqlite_utils.Database(tmp_db)["listing_state"].rows)
    assert [s["last_complete_run_id"] for s in state] == [2]


def test_rerun_after_an_interrupted_rerun_pages_back_to_the_last_complete_crawl(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("trs")
    column = next(iter(server.columns))
    args = ["-a", f"url={server.start_url(column)}"]
    assert run_crawl(args, tmp_db).returncode == 0
    # 25 new articles fill pages 1-2 and half of page 3: page 4 is the first one known in run 1.
    server.add_articles(column, 25)
    interrupted = run_crawl(args, tmp_db, CLOSESPIDER_PAGECOUNT="4", CONCURRENT_REQUESTS_PER_DOMAIN="1")
    assert interrupted.returncode == 0, log_tail(interrupted)
    stored_before = _stored(tmp_db)
    assert _runs(tmp_db)[1]["reason"] == "closespider_pagecount"
    server.reset_requests()

    result = run_crawl(args, tmp_db)

    assert result.returncode == 0, log_tail(result)
    every = {e["url"] for e in server.expected_articles(column)}
    assert _stored(tmp_db) == every
    assert sorted(_article_paths(server, column, server.requests)) == sorted(every - stored_before)
    listing_pages = [p for _, p, _ in server.requests if "/index" in p or p.endswith("/jrjj/")]
    assert listing_pages == [
        "/xwzx/jrjj/",
        "/xwzx/jrjj/index_1.html",
        "/xwzx/jrjj/index_2.html",
        "/xwzx/jrjj/index_3.html",
    ]


def test_since_stops_at_listing_dates_older_than_the_day(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("trs")
    column = server.columns["jrjj"]
    since = column.published(20).date()
    assert column.published(19).date() < since

    result = run_crawl(["-a", f"url={server.start_url('jrjj')}", "-a", f"since={since}"], tmp_db)

    assert result.returncode == 0, log_tail(result)
    assert _stored(tmp_db) == {server.url(column.article_path(n)) for n in range(20, column.count + 1)}
    listing_pages = [p for _, p, _ in server.requests if "/index" in p or p.endswith("/jrjj/")]
    # Page 3 (articles 12..3) is the first whose dates are all older: read, and not paged beyond.
    assert listing_pages == ["/xwzx/jrjj/", "/xwzx/jrjj/index_1.html", "/xwzx/jrjj/index_2.html"]

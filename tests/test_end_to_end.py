"""`scrapy crawl portal` against fixture portals on 127.0.0.1, every stored field checked against the page."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from portalcrawl.demo.server import PortalServer

PortalFactory = Callable[[str], PortalServer]
CrawlRunner = Callable[..., subprocess.CompletedProcess[str]]

CORE_PORTALS = ["trs", "hanweb", "dedecms", "destoon"]
# Crawled once, together: every article of every other CMS family must be found and stored.
OTHER_PORTALS = ["trs-1based", "hanweb-old", "govcn", "query", "numbered", "rss"]
# How close to the start and the end of body_text the first and last body sentences must be
# (characters, whitespace removed): room for a dateline or a trailing byline, not for a nav block.
NEAR = 40


def squash(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


class OffsiteTrap:
    """Listens on 127.0.0.2 at the portal's port: any request it sees is an off-site fetch."""

    def __init__(self, port: int) -> None:
        hits: list[str] = []
        self.hits = hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Hits are recorded; stderr stays quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.2", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Crawled:
    server: PortalServer
    column: str
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str] | None
    first_requests: list[tuple[str, str, int]]
    second_requests: list[tuple[str, str, int]]
    offsite_hits: list[str]
    rows: list[dict[str, Any]]
    rows_after_second: int
    runs: list[dict[str, Any]]

    @property
    def expected(self) -> list[dict[str, Any]]:
        return self.server.expected_articles(self.column)


def crawl_portals(
    servers: dict[str, PortalServer], db: Path, run_crawl: CrawlRunner, *, twice: bool
) -> dict[str, Crawled]:
    """Crawl the first column of each portal in one run (twice when ``twice``), noting what servers saw."""
    columns = {name: next(iter(server.columns)) for name, server in servers.items()}
    traps = {name: OffsiteTrap(server.port) for name, server in servers.items()}
    second = None
    second_requests: dict[str, list[tuple[str, str, int]]] = {name: [] for name in servers}
    try:
        args = ["-a", "url=" + ",".join(server.start_url(columns[name]) for name, server in servers.items())]
        first = run_crawl(args, db)
        first_requests = {name: server.requests for name, server in servers.items()}
        for server in servers.values():
            server.reset_requests()
        rows = list(sqlite_utils.Database(db)["articles"].rows) if db.exists() else []
        if twice:
            second = run_crawl(args, db)
            second_requests = {name: server.requests for name, server in servers.items()}
    finally:
        for trap in traps.values():
            trap.close()
    database = sqlite_utils.Database(db)
    tables = database.table_names()
    return {
        name: Crawled(
            server=server,
            column=columns[name],
            first=first,
            second=second,
            first_requests=first_requests[name],
            second_requests=second_requests[name],
            offsite_hits=traps[name].hits,
            rows=[row for row in rows if row["url"].startswith(server.base_url + "/")],
            rows_after_second=database["articles"].count if "articles" in tables else 0,
            runs=list(database["crawl_runs"].rows) if "crawl_runs" in tables else [],
        )
        for name, server in servers.items()
    }


@pytest.fixture(scope="module")
def crawled(
    module_portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Crawled]:
    """Each core portal crawled twice into its own database; the other portals once, all in one run."""
    batches = [([name], True) for name in CORE_PORTALS] + [(OTHER_PORTALS, False)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(
                crawl_portals,
                {name: module_portal_server(name) for name in names},
                tmp_path_factory.mktemp(names[0]) / "portalcrawl.db",
                run_crawl,
                twice=twice,
            )
            for names, twice in batches
        ]
        return {name: result for future in futures for name, result in future.result().items()}


def stored_row(result: Crawled, url: str) -> dict[str, Any] | None:
    return next((r for r in result.rows if r["url"] == url), None)


def log_tail(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-3000:]


@pytest.mark.parametrize("portal", [*CORE_PORTALS, *OTHER_PORTALS])
def test_crawl_succeeds_and_stores_exactly_the_portals_articles(
    crawled: dict[str, Crawled], portal: str
) -> None:
    result = crawled[portal]
    assert result.first.returncode == 0, log_tail(result.first)
    stored = sorted(r["url"] for r in result.rows)
    assert stored == sorted(e["url"] for e in result.expected)


@pytest.mark.parametrize("portal", CORE_PORTALS)
@pytest.mark.parametrize("field", ["title", "published_at", "source", "author"])
def test_every_field_matches_the_page(crawled: dict[str, Crawled], portal: str, field: str) -> None:
    result = crawled[portal]
    wrong = []
    for expected in result.expected:
        row = stored_row(result, expected["url"])
        if row is None:
            continue
        value = row[field] or None
        if (squash(value) if field == "title" else value) != (
            squash(expected[field]) if field == "title" else expected[field]
        ):
            wrong.append((expected["url"].rsplit("/", 1)[-1], value, expected[field]))
    assert result.rows, "nothing stored"
    assert not wrong, f"{len(wrong)}/{len(result.rows)} wrong {field} (got, expected): {wrong[:5]}"


@pytest.mark.parametrize("portal", CORE_PORTALS)
def test_body_starts_and_ends_with_the_article_text_and_holds_no_boilerplate(
    crawled: dict[str, Crawled], portal: str
) -> None:
    result = crawled[portal]
    problems = []
    for expected in result.expected:
        row = stored_row(result, expected["url"])
        if row is None:
            continue
        body = squash(row["body_text"])
        name = expected["url"].rsplit("/", 1)[-1]
        first_at = body.find(squash(expected["body_first"]))
        if not 0 <= first_at <= NEAR:
            problems.append((name, "starts with", body[:NEAR]))
        last_at = body.rfind(squash(expected["body_last"]))
        if last_at < 0 or len(body) - last_at - len(squash(expected["body_last"])) > NEAR:
            problems.append((name, "ends with", body[-NEAR:]))
        leaked = [marker for marker in expected["must_not_contain"] if squash(marker) in body]
        if leaked:
            problems.append((name, "boilerplate", " ".join(leaked)))
    assert result.rows, "nothing stored"
    assert not problems, f"{len(problems)} problems: {problems[:5]}"


@pytest.mark.parametrize("portal", CORE_PORTALS)
def test_attachments_are_found(crawled: dict[str, Crawled], portal: str) -> None:
    result = crawled[portal]
    missing = []
    for expected in result.expected:
        row = stored_row(result, expected["url"])
        if row is None or not expected["attachments"]:
            continue
        found = {value for attachment in json.loads(row["attachments"]) for value in attachment.values()}
        missing += [url for url in expected["attachments"] if url not in found]
    assert result.rows, "nothing stored"
    assert not missing, f"{len(missing)} attachments missing, e.g. {missing[:3]}"


@pytest.mark.parametrize("portal", CORE_PORTALS)
def test_no_duplicate_articles_under_other_urls(crawled: dict[str, Crawled], portal: str) -> None:
    result = crawled[portal]
    titles = [r["title"] for r in result.rows]
    assert len(titles) == len(set(titles))
    assert not [r["url"] for r in result.rows if "#" in r["url"] or "-2.html" in r["url"]]


@pytest.mark.parametrize("portal", CORE_PORTALS)
def test_traps_are_avoided(crawled: dict[str, Crawled], portal: str) -> None:
    """Off-site, robots-disallowed and document links are never fetched; each article is fetched once."""
    result = crawled[portal]
    paths = [path for method, path, status in result.first_requests if method == "GET"]
    assert result.offsite_hits == []
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith("/private/")]
    assert not [p for p in paths if ".pdf" in p]
    article_paths = [p for p in paths if result.server.url(p) in {e["url"] for e in result.expected}]
    assert len(article_paths) == len(set(article_paths)) == len(result.expected)


@pytest.mark.parametrize("portal", CORE_PORTALS)
def test_crawl_run_counts_the_dead_link(crawled: dict[str, Crawled], portal: str) -> None:
    """The listed dead link is fetched once and its 404 counted, like every other 404 the server gave."""
    result = crawled[portal]
    assert result.runs, "no crawl_runs row"
    run = result.runs[0]
    answered_404 = [path for _, path, status in result.first_requests if status == 404]
    dead_link = result.server.columns[result.column].article_path(0)
    assert answered_404.count(dead_link) == 1
    assert run["http_404"] == len(answered_404), f"404s the server answered: {answered_404}"
    assert run["new_articles"] == len(result.expected)


@pytest.mark.parametrize("portal", CORE_PORTALS)
def test_second_crawl_adds_nothing_and_fetches_no_article(crawled: dict[str, Crawled], portal: str) -> None:
    result = crawled[portal]
    assert result.second is not None
    assert result.second.returncode == 0, log_tail(result.second)
    assert result.rows_after_second == len(result.rows)
    assert len(result.runs) == 2
    assert result.runs[1]["new_articles"] == 0
    expected_urls = {e["url"] for e in result.expected}
    refetched = [p for _, p, _ in result.second_requests if result.server.url(p) in expected_urls]
    assert refetched == []


def test_rerun_after_new_articles_stores_only_them(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_db: Path
) -> None:
    server = portal_server("trs")
    column = next(iter(server.columns))
    args = ["-a", f"url={server.start_url(column)}"]
    first = run_crawl(args, tmp_db)
    assert first.returncode == 0, log_tail(first)
    before = {r["url"] for r in sqlite_utils.Database(tmp_db)["articles"].rows}
    new_urls = server.add_articles(column, 3)
    server.reset_requests()

    second = run_crawl(args, tmp_db)

    assert second.returncode == 0, log_tail(second)
    after = {r["url"] for r in sqlite_utils.Database(tmp_db)["articles"].rows}
    assert after - before == set(new_urls)
    fetched = {server.url(path) for _, path, _ in server.requests}
    assert set(new_urls) <= fetched
    assert not fetched & before, "articles stored by the first run were fetched again"
    runs = list(sqlite_utils.Database(tmp_db)["crawl_runs"].rows)
    assert runs[-1]["new_articles"] == 3

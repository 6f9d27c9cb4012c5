"""`portalcrawl reextract`: current extraction on the stored pages, changed rows updated, no request made."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from scrapy.settings import Settings

from portalcrawl.database import open_database
from portalcrawl.demo.server import PortalServer
from portalcrawl.reextract import normalising_pipelines
from portalcrawl.search import search
from tests.conftest import run_cli

PortalFactory = Callable[[str], PortalServer]
CrawlRunner = Callable[..., subprocess.CompletedProcess[str]]
REPO_ROOT = Path(__file__).resolve().parent.parent
SLUG = "trs-city"


def portalcrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, REPO_ROOT, timeout=120)


def write_profile(sites: Path, server: PortalServer, selectors: str = "") -> None:
    sites.mkdir(exist_ok=True)
    (sites / f"{SLUG}.toml").write_text(
        f'name = "示例市"\nstart_urls = ["{server.start_url("jrjj")}"]\n{selectors}', encoding="utf-8"
    )


def articles(db: Path) -> dict[str, dict[str, Any]]:
    return {row["url"]: row for row in sqlite_utils.Database(db)["articles"].rows}


def test_reextract_updates_exactly_the_rows_a_selector_change_affects_without_a_request(
    portal_server: PortalFactory, run_crawl: CrawlRunner, tmp_path: Path
) -> None:
    server = portal_server("trs")
    sites, db = tmp_path / "sites", tmp_path / "archive.db"
    write_profile(sites, server)
    result = run_crawl(["-a", f"site={SLUG}"], db, PORTALCRAWL_SITES_DIR=str(sites))
    assert result.returncode == 0, result.stderr[-3000:]
    before = articles(db)
    column = server.columns["jrjj"]
    assert len(before) == column.count
    server.reset_requests()

    # Right after the crawl, with the same code and profile: nothing changes.
    unchanged = portalcrawl("reextract", "--db", str(db), "--dir", str(sites))
    assert unchanged.returncode == 0, unchanged.stderr
    assert f"{column.count} articles, {column.count} with stored pages" in unchanged.stdout
    assert "0 rows changed" in unchanged.stdout
    assert articles(db) == before

    # A title selector that only articles with attachments match: their title becomes the file's name.
    write_profile(sites, server, '[selectors]\ntitle = "a[appendix]"\n')
    affected = {
        server.url(column.article_path(n)) for n in range(1, column.count + 1) if column.attachment_paths(n)
    }
    assert 0 < len(affected) < column.count

    dry = portalcrawl("reextract", "--dry-run", "--db", str(db), "--dir", str(sites))
    assert dry.returncode == 0, dry.stderr
    assert f"{len(affected)} rows would change" in dry.stdout
    assert "examples:" in dry.stdout and "title:" in dry.stdout
    assert articles(db) == before

    applied = portalcrawl("reextract", "--db", str(db), "--dir", str(sites))
    assert applied.returncode == 0, applied.stderr
    assert f"{len(affected)} rows changed" in applied.stdout
    title_line = next(line for line in applied.stdout.splitlines() if line.startswith("title "))
    assert title_line.split()[-1] == str(len(affected))
    assert server.requests == []

    after = articles(db)
    changed = {url for url in before if after[url] != before[url]}
    assert changed == affected
    for url in affected:
        assert after[url]["title"] != before[url]["title"]
        assert after[url]["title"].endswith((".pdf", ".doc", ".docx", ".xls", ".xlsx", ".zip"))
        assert after[url]["first_seen_at"] == before[url]["first_seen_at"]
        assert after[url]["last_run_id"] == before[url]["last_run_id"]

    database = open_database(db)
    versions = {row["url"]: row for row in database["article_versions"].rows}
    assert set(versions) == affected
    assert all(versions[url]["title"] == before[url]["title"] for url in affected)
    # Both search indexes follow: the new title is found (trigram and bigram), the old one no longer.
    sample = sorted(affected)[0]
    new_title, old_title = after[sample]["title"], before[sample]["title"]
    assert sample in {m.url for m in search(database, new_title, limit=100)}
    assert sample in {m.url for m in search(database, new_title[:2], limit=1000)}
    in_title = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?"
    old_hits = {row[0] for row in database.conn.execute(in_title, (f'title : "{old_title}"',))}
    assert after[sample]["id"] not in old_hits
    new_hits = {row[0] for row in database.conn.execute(in_title, (f'title : "{new_title}"',))}
    assert after[sample]["id"] in new_hits
    assert database.conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    database.close()

    again = portalcrawl("reextract", "--db", str(db), "--dir", str(sites))
    assert "0 rows changed" in again.stdout
    assert server.requests == []

    # A profile that no longer loads stops the run before anything is written, in one line.
    write_profile(sites, server, '[selectors]\ntitle = "h1"\ntitel = "h1"\n')
    broken = portalcrawl("reextract", "--db", str(db), "--dir", str(sites))
    assert broken.returncode == 2
    assert broken.stderr.startswith("portalcrawl reextract: error: ") and "titel" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1
    assert articles(db) == after


def test_reextract_runs_the_crawls_normalising_pipelines_and_nothing_that_fetches() -> None:
    settings = Settings()
    settings.setmodule("portalcrawl.settings")
    # A new pipeline before storage runs in reextract too: it must be a pure item transformation.
    assert normalising_pipelines(settings) == [
        "portalcrawl.pipelines.dates.NormalizeDatesPipeline",
        "portalcrawl.pipelines.dedupe.DropDuplicatesPipeline",
        "portalcrawl.pipelines.boilerplate.StripBoilerplatePipeline",
    ]


def test_reextract_without_an_archive_or_with_a_bad_date_is_one_line(tmp_path: Path) -> None:
    missing = portalcrawl("reextract", "--db", str(tmp_path / "missing" / "none.db"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("portalcrawl reextract: error: no database at")
    assert not (tmp_path / "missing").exists()
    for since in ("yesterday", "2026-13-45"):
        bad = portalcrawl("reextract", "--since", since, "--db", str(tmp_path / "none.db"))
        assert bad.returncode == 2
        assert bad.stderr == (
            f"portalcrawl reextract: error: --since {since!r}: "
            "expected a date YYYY-MM-DD (or YYYY-MM, YYYY)\n"
        )

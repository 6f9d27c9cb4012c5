"""`portalcrawl demo`: crawl the bundled sample portal on loopback and show what was harvested."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlite_utils

from portalcrawl.archive_files import archive_sites, is_sqlite_file
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE
from portalcrawl.cli.crawl import (
    CrawlJob,
    SiteResult,
    crawl_settings,
    locked_message,
    prepare_log_file,
    run_crawls,
)
from portalcrawl.demo.server import DEMO_PORTAL_DIR, Portal, PortalServer
from portalcrawl.lock import CrawlLock, LockHeld, LockUnusable, lock_path_for
from portalcrawl.search import search

DEFAULT_DEMO_DB = "output/demo.db"
# The sample portal runs in this process on 127.0.0.1: delays and throttling would only slow the demo.
LOOPBACK_SETTINGS = (
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=False",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "CONCURRENT_REQUESTS=32",
)
SHOWN_TITLES = 5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="crawl the bundled sample portal (offline) and show the result",
        description="Start the bundled sample portal on 127.0.0.1, crawl all its columns into a fresh "
        "database and print what was harvested and a search result. Needs no network.",
    )
    parser.add_argument("--db", default=DEFAULT_DEMO_DB, metavar="PATH", help=f"(default: {DEFAULT_DEMO_DB})")
    parser.add_argument(
        "--query", metavar="TEXT", help="search for this (default: a phrase many titles share)"
    )
    parser.set_defaults(handler=handle)


def refusal(db_path: Path) -> str | None:
    """Why the demo must not delete ``db_path``: it is a database holding sites of real crawls."""
    if not is_sqlite_file(db_path):
        return None
    demo_columns = set(Portal(DEMO_PORTAL_DIR).columns)
    try:
        foreign = sorted(archive_sites(db_path) - demo_columns)
    except sqlite3.Error as error:
        return f"--db {db_path} is a SQLite database that cannot be read ({error}); not deleting it"
    if not foreign:
        return None
    shown = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
    return f"--db {db_path} holds sites that are not the demo's ({shown}); not deleting it"


def handle(args: argparse.Namespace) -> int:
    db_path = Path(args.db)
    problem = refusal(db_path)
    if problem:
        print(f"portalcrawl: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    lock = CrawlLock(lock_path_for(db_path))
    try:
        lock.acquire()
    except LockHeld as exc:
        print(locked_message(exc, db_path), file=sys.stderr)
        return EXIT_TEMPFAIL
    except LockUnusable as exc:
        print(f"portalcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        started = time.monotonic()
        with PortalServer(DEMO_PORTAL_DIR) as server, tempfile.TemporaryDirectory() as sites:
            columns = server.columns
            print(f"sample portal: {server.base_url} ({len(columns)} columns), crawling into {db_path} …")
            # One profile per column, so each column is a site of its own in crawl_runs, stats and search.
            for name, column in columns.items():
                start_url = server.url(column.start_path)
                profile = f"name = {json.dumps(column.title)}\nstart_urls = [{json.dumps(start_url)}]\n"
                Path(sites, f"{name}.toml").write_text(profile, encoding="utf-8")
            settings = crawl_settings(LOOPBACK_SETTINGS, db=str(db_path), sites_dir=sites)
            log_file = prepare_log_file(settings, "demo")
            results = run_crawls(settings, [CrawlJob(name, {"site": name}) for name in columns])
        elapsed = time.monotonic() - started
    finally:
        lock.release()
    families = {name: column.family for name, column in columns.items()}
    print(format_columns(results, families))
    if any(r.errors for r in results):
        # Without this a new user reads "errors 1" on every column as something broken.
        print(
            "errors: links given up on. Each sample column lists one withdrawn article that answers 404, "
            f"as real columns do; see them with: portalcrawl errors --db {db_path}"
        )
    db = sqlite_utils.Database(db_path)
    try:
        print(harvest_report(db, db_path, elapsed=elapsed, query=args.query))
    finally:
        db.close()
    if log_file:
        print(f"log: {log_file}")
    print(f"next: portalcrawl search <words> --db {db_path}   |   portalcrawl export --db {db_path}")
    return EXIT_FAILED if any(r.is_failure(strict=False) for r in results) else EXIT_OK


def format_columns(results: list[SiteResult], families: dict[str, str]) -> str:
    width = max(len("column"), *(len(r.site) for r in results))
    family_width = max(len("family"), *(len(f) for f in families.values()))
    lines = [f"{'column':<{width}}  {'family':<{family_width}}  status   pages  articles  errors"]
    lines += [
        f"{r.site:<{width}}  {families.get(r.site, ''):<{family_width}}  {r.status:<7}  "
        f"{r.pages:>5}  {r.new:>8}  {r.errors:>6}"
        for r in results
    ]
    return "\n".join(lines)


def harvest_report(db: sqlite_utils.Database, db_path: Path, *, elapsed: float, query: str | None) -> str:
    """The newest articles with date and source, then one search over the fresh archive."""
    if "articles" not in db.table_names():
        return "no articles were stored; see the log"
    total = db["articles"].count
    lines = [f"\n{total} articles harvested in {elapsed:.1f} s. Newest:"]
    newest = list(
        db.query(
            "select title, published_at, source from articles order by published_at desc limit ?",
            [SHOWN_TITLES],
        )
    )
    for row in newest:
        date = (row["published_at"] or "")[:16].replace("T", " ")
        source = f"  来源：{row['source']}" if row["source"] else ""
        lines.append(f"  {date:<16}  {row['title']}{source}")
    if not query:
        titles = [row["title"] or "" for row in db.query("select title from articles limit 500")]
        query = common_phrase(titles)
    if query:
        matches = search(db, query, limit=3)
        lines.append(f'\nportalcrawl search "{query}" --db {db_path} → {len(matches)} newest matches:')
        for match in matches:
            lines.append(f"  {(match.published_at or '')[:10]}  {match.title}")
            lines.append(f"      {match.snippet}")
    return "\n".join(lines)


def common_phrase(titles: list[str]) -> str:
    """The four (else three) Chinese characters shared by most titles: a search that finds several."""
    for length in (4, 3):
        counts = Counter(
            phrase
            for title in titles
            for phrase in {title[i : i + length] for i in range(len(title) - length + 1)}
            if re.fullmatch(rf"[\u4e00-\u9fff]{{{length}}}", phrase)
        )
        if counts:
            phrase, seen = counts.most_common(1)[0]
            if seen > 1 or length == 3:
                return phrase
    return ""

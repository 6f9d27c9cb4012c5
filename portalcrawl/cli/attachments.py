"""`portalcrawl attachments`: list, extract, show, count and verify the archived attachments."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import sqlite_utils
from scrapy.crawler import CrawlerProcess

from portalcrawl import settings
from portalcrawl.attachments import ocr, store
from portalcrawl.attachments.readers import Caps
from portalcrawl.attachments.sandbox import Sandbox
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE
from portalcrawl.cli.crawl import ConfigError, crawl_settings, locked_message, prepare_log_file
from portalcrawl.cli.options import count
from portalcrawl.cli.runs import add_db_argument, format_table, open_existing
from portalcrawl.lock import CrawlLock, LockHeld, lock_path_for
from portalcrawl.profiles import ProfileError, load_profile


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "attachments",
        help="list, extract, show, count and verify archived attachments",
        description="Work with the attachments table (one row per document link of an article) and the "
        "files table (one row per stored file, under <db stem>.files/). Link statuses: "
        f"{', '.join(store.LINK_STATUSES)} (over_budget: left by the run's byte budget, fetched first by the "
        f"next run); text statuses: {', '.join(store.EXTRACT_STATUSES)} (needs_ocr: a scan, see "
        "extract --ocr).",
    )
    commands = parser.add_subparsers(dest="attachments_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="attachment links with their status")
    listing.add_argument("--status", help=f"only links with this status: {', '.join(store.LINK_STATUSES)}")
    listing.add_argument("--site", help="only links of this site's articles")
    listing.add_argument("--limit", type=count, default=50, metavar="N", help="rows to show (default: 50)")
    listing.set_defaults(handler=handle_list)
    fetch = commands.add_parser(
        "fetch",
        help="download the files of archived links not fetched yet (backfill)",
        description="Download, through the same spider, politeness settings and lock as a crawl, the "
        "attachments of archived articles whose links are not settled yet (linked, or failed before). "
        "Fetches no listing or article page.",
    )
    fetch.add_argument("sites", nargs="*", metavar="SITE", help="sites to backfill (default: every site)")
    fetch.add_argument("--text", action="store_true", help="also extract the text of the new files")
    fetch.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    fetch.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting"
    )
    fetch.set_defaults(handler=handle_fetch)
    extract = commands.add_parser(
        "extract",
        help="extract the text of stored files (in the sandbox)",
        description="Read the text of stored files not read yet, in the sandboxed worker. With --ocr, "
        "read the PDFs whose status is needs_ocr (scans: no text layer) with tesseract instead: each "
        "page rendered at 300 dpi, languages chi_sim+eng (those installed), at most "
        f"{settings.PORTALCRAWL_OCR_MAX_PAGES} pages and {settings.PORTALCRAWL_OCR_TIMEOUT} s a file, "
        "under the worker's memory limit; the text gets status ok (or empty) and is searchable.",
    )
    reading = extract.add_mutually_exclusive_group()
    reading.add_argument("--all", action="store_true", help="extract every file again, not only new ones")
    reading.add_argument(
        "--ocr",
        action="store_true",
        help="read needs_ocr PDFs (scans) with tesseract (apt-get install tesseract-ocr)",
    )
    extract.set_defaults(handler=handle_extract)
    show = commands.add_parser("show", help="the text of one file (by sha256 prefix or attachment URL)")
    show.add_argument("key", metavar="SHA256_OR_URL")
    show.set_defaults(handler=handle_show)
    stats = commands.add_parser("stats", help="links per status, files per kind and extraction status")
    stats.set_defaults(handler=handle_stats)
    verify = commands.add_parser("verify", help="check stored files against their sha256; list orphans")
    verify.set_defaults(handler=handle_verify)
    for command in (listing, fetch, extract, show, stats, verify):
        add_db_argument(command)


# The subcommands that write to the archive; the others open it read-only (archives on read-only media).
WRITING_COMMANDS = ("fetch", "extract")


def _open(args: argparse.Namespace) -> tuple[sqlite_utils.Database | None, int]:
    command = args.attachments_command
    return open_existing(f"attachments {command}", args.db, write=command in WRITING_COMMANDS)


def handle_list(args: argparse.Namespace) -> int:
    db, status = _open(args)
    if db is None:
        return status
    sql = (
        "SELECT t.status, t.http_status, coalesce(t.name, ''), t.url, coalesce(substr(t.sha256, 1, 12), '') "
        "FROM attachments t LEFT JOIN articles a ON a.url = t.article_url WHERE 1"
    )
    params: list[object] = []
    if args.status:
        sql += " AND t.status = ?"
        params.append(args.status)
    if args.site:
        sql += " AND a.site = ?"
        params.append(args.site)
    rows = db.conn.execute(sql + " ORDER BY t.id DESC LIMIT ?", [*params, args.limit]).fetchall()
    db.close()
    print(format_table(("status", "http", "name", "url", "sha256"), rows))
    return EXIT_OK


def _backfill_jobs(
    db: sqlite_utils.Database, sites: list[str], sites_dir: str | None
) -> dict[str, dict[str, str]]:
    """Spider arguments for each site with unsettled links: its profile, else (a site first crawled with
    ``--url``) an ad-hoc profile named after the host of one of its articles."""
    placeholders = ", ".join("?" * len(store.SETTLED_STATUSES))
    rows = db.conn.execute(
        "SELECT a.site, min(a.url) FROM attachments t JOIN articles a ON a.url = t.article_url "
        f"WHERE t.status NOT IN ({placeholders}) GROUP BY a.site ORDER BY a.site",
        sorted(store.SETTLED_STATUSES),
    ).fetchall()
    pending = dict(rows)
    jobs: dict[str, dict[str, str]] = {}
    for site in sites or list(pending):
        if site not in pending:
            continue
        try:
            load_profile(site, sites_dir)
            jobs[site] = {"site": site}
        except ProfileError:
            jobs[site] = {"url": pending[site]}
    return jobs


def handle_fetch(args: argparse.Namespace) -> int:
    try:
        crawl_config = crawl_settings(args.set, db=args.db, sites_dir=args.dir)
    except ConfigError as exc:
        print(f"portalcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    crawl_config.set("PORTALCRAWL_ATTACHMENTS", "text" if args.text else "download", "cmdline")
    db, status = _open(args)
    if db is None:
        return status
    jobs = _backfill_jobs(db, args.sites, crawl_config.get("PORTALCRAWL_SITES_DIR") or None)
    db.close()
    if not jobs:
        print("no attachment links waiting to be fetched")
        return EXIT_OK
    lock = CrawlLock(lock_path_for(args.db))
    try:
        lock.acquire()
    except LockHeld as held:
        print(locked_message(held, args.db), file=sys.stderr)
        return EXIT_TEMPFAIL
    try:
        log_file = prepare_log_file(crawl_config, "attachments")
        process = CrawlerProcess(crawl_config)
        crawlers = {}
        for site, spider_args in jobs.items():
            crawlers[site] = process.create_crawler("attachments")
            process.crawl(crawlers[site], **spider_args)
        process.start()
    finally:
        lock.release()
    rows = []
    for site, crawler in crawlers.items():
        values = crawler.stats.get_stats() if crawler.stats else {}
        rows.append([site, *(values.get(f"portalcrawl/attachments/{key}", 0) for key in FETCH_COLUMNS)])
    print(format_table(("site", *FETCH_COLUMNS), rows))
    if log_file:
        print(f"log: {log_file}")
    return EXIT_OK


# Outcome counts shown after a backfill, in this order.
FETCH_COLUMNS = ("downloaded", "not_a_file", "too_large", "refused", "http_error", "failed", "over_budget")


OCR_MISSING = "--ocr needs tesseract (apt-get install tesseract-ocr tesseract-ocr-chi-sim)"


def handle_extract(args: argparse.Namespace) -> int:
    ocr_languages: tuple[str, ...] = ()
    if args.ocr:
        ocr_languages = ocr.tesseract_languages() or ()
        if not ocr_languages:
            print(f"portalcrawl attachments extract: error: {OCR_MISSING}", file=sys.stderr)
            return EXIT_USAGE
    db, status = _open(args)
    if db is None:
        return status
    if args.ocr:
        # OCR reads PDF pages; a scanned OFD keeps its needs_ocr status.
        condition = " WHERE extract_status = 'needs_ocr' AND kind = 'pdf'"
    else:
        condition = "" if args.all else " WHERE extract_status IS NULL"
    rows = db.conn.execute(f"SELECT sha256, kind, path FROM files{condition} ORDER BY id").fetchall()
    max_pages = settings.PORTALCRAWL_OCR_MAX_PAGES if args.ocr else settings.PORTALCRAWL_EXTRACT_MAX_PAGES
    sandbox = Sandbox(
        memory_bytes=settings.PORTALCRAWL_EXTRACT_MEMORY,
        timeout=settings.PORTALCRAWL_OCR_TIMEOUT if args.ocr else settings.PORTALCRAWL_EXTRACT_TIMEOUT,
        caps=Caps(max_pages=max_pages, max_chars=settings.PORTALCRAWL_EXTRACT_MAX_CHARS),
        ocr_languages=ocr_languages,
    )
    counts: dict[str, int] = {}
    try:
        for sha256, kind, path in rows:
            result = sandbox.extract(store.stored_path(args.db, path), kind)
            store.record_text(db, sha256, result)
            counts[result.status] = counts.get(result.status, 0) + 1
    finally:
        sandbox.close()
        db.close()
    summary = ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "nothing to extract"
    print(f"{len(rows)} files: {summary}")
    return EXIT_OK


def handle_show(args: argparse.Namespace) -> int:
    db, status = _open(args)
    if db is None:
        return status
    row = db.conn.execute(
        "SELECT f.sha256, f.kind, f.bytes, f.extract_status, f.pages, f.text FROM files f "
        "WHERE f.sha256 LIKE ? OR f.sha256 IN (SELECT sha256 FROM attachments WHERE url = ?) LIMIT 1",
        (args.key.lower() + "%", args.key),
    ).fetchone()
    db.close()
    if row is None:
        print(f"portalcrawl attachments show: no stored file matches {args.key!r}", file=sys.stderr)
        return EXIT_FAILED
    sha256, kind, size, extract_status, pages, text = row
    print(f"# {sha256} {kind} {size} bytes, {pages or '?'} pages, text: {extract_status or 'not extracted'}")
    print((text or "").replace("\f", "\n\f\n"))
    return EXIT_OK


def handle_stats(args: argparse.Namespace) -> int:
    db, status = _open(args)
    if db is None:
        return status
    links = db.conn.execute(
        "SELECT status, count(*) FROM attachments GROUP BY status ORDER BY 2 DESC"
    ).fetchall()
    files = db.conn.execute(
        "SELECT kind, coalesce(extract_status, 'not extracted'), count(*), sum(bytes) FROM files "
        "GROUP BY 1, 2 ORDER BY 3 DESC"
    ).fetchall()
    db.close()
    print(format_table(("link status", "links"), links))
    print()
    print(format_table(("kind", "text", "files", "bytes"), files))
    return EXIT_OK


def handle_verify(args: argparse.Namespace) -> int:
    db, status = _open(args)
    if db is None:
        return status
    rows = db.conn.execute("SELECT sha256, path FROM files ORDER BY id").fetchall()
    db.close()
    problems = 0
    known: set[Path] = set()
    for sha256, path in rows:
        file = store.stored_path(args.db, path)
        known.add(file.resolve())
        if not file.is_file():
            print(f"missing  {path}")
            problems += 1
            continue
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            print(f"corrupt  {path}")
            problems += 1
    directory = store.files_dir(args.db)
    orphans = (
        [p for p in directory.rglob("*") if p.is_file() and p.resolve() not in known]
        if directory.is_dir()
        else []
    )
    for orphan in orphans:
        print(f"orphan   {orphan}")
    print(f"{len(rows)} files checked: {problems} missing or corrupt, {len(orphans)} orphans")
    return EXIT_FAILED if problems or orphans else EXIT_OK

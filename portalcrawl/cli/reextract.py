"""`portalcrawl reextract`: re-run today's extraction on the archived raw pages, without the network."""

from __future__ import annotations

import argparse
import sys

from scrapy.settings import Settings

from portalcrawl.cli import EXIT_OK, EXIT_TEMPFAIL, EXIT_USAGE
from portalcrawl.cli.options import ArgumentError, date_bound
from portalcrawl.cli.runs import add_db_argument, format_table, open_existing
from portalcrawl.lock import CrawlLock, LockHeld, lock_path_for
from portalcrawl.profiles import ProfileError
from portalcrawl.reextract import ReextractReport, reextract

FAILURES_SHOWN = 5


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reextract",
        help="re-run extraction on the stored raw pages and update changed articles (no network)",
        description="Extract every archived article again from the raw pages stored when it was "
        "crawled, with the current extraction code, the site's current profile and the crawl's "
        "pipelines, and update the rows that come out different (the previous content is kept in "
        "article_versions, the search indexes follow). Prints per field how many rows changed. "
        "Articles stored without their pages (before raw pages were kept, or with "
        "PORTALCRAWL_KEEP_PAGES=off) are counted and left alone. Nothing is fetched.",
    )
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument(
        "--since",
        metavar="DATE",
        help="only articles published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change, with a few examples; write nothing"
    )
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        date_bound("--since", args.since)
    except ArgumentError as error:
        print(f"portalcrawl reextract: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings()
    settings.setmodule("portalcrawl.settings", priority="project")
    db, status = open_existing("reextract", args.db, write=not args.dry_run)
    if db is None:
        return status
    lock = CrawlLock(lock_path_for(args.db))
    try:
        if not args.dry_run:
            # A crawl writing the same rows meanwhile would compare against half-updated ones.
            try:
                lock.acquire()
            except LockHeld as held:
                print(f"portalcrawl reextract: {held}; try again later", file=sys.stderr)
                return EXIT_TEMPFAIL
        try:
            report = reextract(
                db, settings, site=args.site, since=args.since, dry_run=args.dry_run, sites_directory=args.dir
            )
        except ProfileError as error:
            print(f"portalcrawl reextract: error: {error}", file=sys.stderr)
            return EXIT_USAGE
    finally:
        db.close()
        lock.release()
    print(summary(report, dry_run=args.dry_run))
    return EXIT_OK


def summary(report: ReextractReport, *, dry_run: bool) -> str:
    verb = "would change" if dry_run else "changed"
    lines = [
        f"{report.articles} articles, {report.articles - report.without_pages} with stored pages "
        f"({report.pages} pages); {report.changed_rows} rows {verb}"
        + (f"; {report.failed} failed" if report.failed else "")
        + (f"; {report.without_pages} without stored pages" if report.without_pages else "")
        + (" (dry run: nothing written)" if dry_run else "")
    ]
    if report.field_changes:
        rows = sorted(report.field_changes.items(), key=lambda item: (-item[1], item[0]))
        lines += ["", format_table(("field", f"rows {verb}"), rows)]
    if dry_run and report.examples:
        lines += ["", "examples:"]
        for change in report.examples:
            lines.append(f"  {change.url}  {change.field}: {change.old!r} -> {change.new!r}")
    if report.failures:
        lines += ["", "failed:"] + [f"  {failure}" for failure in report.failures[:FAILURES_SHOWN]]
        if len(report.failures) > FAILURES_SHOWN:
            lines.append(f"  … and {len(report.failures) - FAILURES_SHOWN} more")
    return "\n".join(lines)

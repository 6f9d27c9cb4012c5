"""`portalcrawl state`: what the archive knows about a site, and forgetting its incremental state."""

from __future__ import annotations

import argparse
import sys

import sqlite_utils

from portalcrawl import database
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.runs import add_db_argument, open_existing
from portalcrawl.safetext import terminal_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "state",
        help="show or reset a site's incremental-crawl state",
        description="Show a site's known-article count, its last run and its newest article. With "
        "--reset, forget where each listing was completed and which listed links are no articles "
        "(dead, not HTML, refused by robots.txt): the next crawl pages every listing to its end and "
        "tries those links again. Archived articles are kept (they are data); add `-a full=1` to a "
        "crawl to fetch known articles again.",
        epilog="exit status: 0 ok, 1 reset declined, 2 no database or no confirmation possible",
    )
    parser.add_argument("site", metavar="SITE", help="site slug (as in `portalcrawl sites`)")
    parser.add_argument("--reset", action="store_true", help="forget the site's listing state")
    parser.add_argument("--yes", action="store_true", help="reset without asking")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def _show(db: sqlite_utils.Database, site: str) -> None:
    count = db.conn.execute("SELECT count(*) FROM articles WHERE site = ?", (site,)).fetchone()[0]
    print(terminal_text(f"site: {site}"))
    print(f"known articles: {count}")
    skipped = db.conn.execute("SELECT count(*) FROM skipped_urls WHERE site = ?", (site,)).fetchone()[0]
    print(f"listed links that are no articles: {skipped}")
    last_run = db.conn.execute(
        "SELECT id, started_at, finished_at, status FROM crawl_runs WHERE site = ? ORDER BY id DESC LIMIT 1",
        (site,),
    ).fetchone()
    if last_run:
        run_id, started, finished, status = last_run
        print(terminal_text(f"last run: #{run_id} {status} started {started} finished {finished or '-'}"))
    else:
        print("last run: none")
    newest = db.conn.execute(
        "SELECT first_seen_at, url, title FROM articles WHERE site = ? "
        "ORDER BY first_seen_at DESC, id DESC LIMIT 1",
        (site,),
    ).fetchone()
    print(
        terminal_text(f"last new article: {newest[0]} {newest[1]} {newest[2] or ''}".rstrip())
        if newest
        else "last new article: none"
    )
    for start_url, run_id, at, resume_depth, resume_run_id in db.conn.execute(
        "SELECT start_url, last_complete_run_id, last_complete_at, resume_depth, resume_run_id "
        "FROM listing_state WHERE site = ? ORDER BY start_url",
        (site,),
    ):
        if run_id is not None:
            print(terminal_text(f"listing {start_url}: complete in run #{run_id} at {at}"))
        else:
            print(
                terminal_text(
                    f"listing {start_url}: never complete; resumes at page {resume_depth} "
                    f"(run #{resume_run_id})"
                )
            )


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("state", args.db, write=args.reset)
    if db is None:
        return status
    try:
        _show(db, args.site)
        if not args.reset:
            return EXIT_OK
        if not args.yes:
            if not sys.stdin.isatty():
                print(
                    "portalcrawl state: error: --reset needs --yes when not run from a terminal",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            answer = input(
                f"Forget the listing state of {args.site}? The next crawl pages every listing. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("not reset")
                return EXIT_FAILED
        database.reset_site(db, args.site)
        database.forget_skipped_urls(db, args.site)
        print(f"reset: {args.site} will be paged to the end of every listing on its next crawl")
        return EXIT_OK
    finally:
        db.close()

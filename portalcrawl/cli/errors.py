"""`portalcrawl errors`: the URLs a run gave up on and why, without opening the database by hand."""

from __future__ import annotations

import argparse
import sys

from portalcrawl.cli import EXIT_OK, EXIT_USAGE
from portalcrawl.cli.options import ArgumentError, check_site, count
from portalcrawl.cli.runs import add_db_argument, format_table, open_existing


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "errors",
        help="the fetch errors of a run or a site (URL, HTTP status, reason)",
        description="List fetch_errors rows: every URL a crawl gave up on, with its HTTP status (if it "
        "answered) and the reason, newest first. By default those of every site's latest run; --site: "
        "all of that site's; --run: that run's.",
    )
    parser.add_argument("--site", metavar="SITE", help="only this site (all its runs)")
    parser.add_argument("--run", type=count, metavar="N", help="this crawl_runs id (see portalcrawl runs)")
    parser.add_argument("--limit", type=count, default=50, metavar="N", help="rows to show (default: 50)")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.limit < 1:
        print(f"portalcrawl errors: error: --limit {args.limit}: must be a positive integer", file=sys.stderr)
        return EXIT_USAGE
    db, status = open_existing("errors", args.db)
    if db is None:
        return status
    try:
        check_site(db, args.site)
        if args.run is not None:
            row = db.conn.execute("SELECT id FROM crawl_runs WHERE id = ?", (args.run,)).fetchone()
            if row is None:
                raise ArgumentError(f"--run {args.run}: no such run (see portalcrawl runs)")
    except ArgumentError as error:
        db.close()
        print(f"portalcrawl errors: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    conditions, params = [], []
    if args.run is not None:
        conditions.append("r.id = ?")
        params.append(args.run)
    if args.site:
        conditions.append("r.site = ?")
        params.append(args.site)
    if not conditions:
        conditions.append("r.id IN (SELECT max(id) FROM crawl_runs GROUP BY site)")
    where = " AND ".join(conditions)
    total = db.conn.execute(
        f"SELECT count(*) FROM fetch_errors e JOIN crawl_runs r ON r.id = e.run_id WHERE {where}", params
    ).fetchone()[0]
    rows = db.conn.execute(
        "SELECT r.id, r.site, replace(substr(e.time, 1, 19), 'T', ' '), e.status, e.reason, e.url "
        f"FROM fetch_errors e JOIN crawl_runs r ON r.id = e.run_id WHERE {where} "
        "ORDER BY e.id DESC LIMIT ?",
        [*params, args.limit],
    ).fetchall()
    db.close()
    if not rows:
        print("no fetch errors recorded for these runs", file=sys.stderr)
        return EXIT_OK
    print(format_table(("run", "site", "time", "status", "reason", "url"), rows))
    if total > len(rows):
        print(f"\n{len(rows)} of {total} errors shown (--limit)")
    return EXIT_OK

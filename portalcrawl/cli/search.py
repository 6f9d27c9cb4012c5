"""`portalcrawl search`: full-text search of the archive, newest first, with highlighted snippets."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from portalcrawl.cli import EXIT_FAILED, EXIT_OK
from portalcrawl.cli.arguments import count
from portalcrawl.cli.runs import add_db_argument, open_existing
from portalcrawl.search import search

PLAIN_MARKS = ("[", "]")
TTY_MARKS = ("\x1b[1;31m", "\x1b[0m")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="full-text search of titles and bodies",
        description="Find articles containing every word of QUERY in title or body, newest first. "
        "Chinese works without spaces (科技创新, 会议); FTS syntax (quotes, *, OR, NEAR) is searched "
        "for literally.",
        epilog="exit status: 0 found, 1 nothing found, 2 no database",
    )
    parser.add_argument("query", metavar="QUERY", help="words to find (all of them)")
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after YYYY-MM-DD")
    parser.add_argument("--limit", type=count, default=20, metavar="N", help="matches to show (default: 20)")
    parser.add_argument("--json", action="store_true", help="one JSON object per match")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("search", args.db)
    if db is None:
        return status
    marks = TTY_MARKS if sys.stdout.isatty() and not args.json else PLAIN_MARKS
    matches = search(db, args.query, site=args.site, since=args.since, limit=args.limit, marks=marks)
    db.close()
    for match in matches:
        if args.json:
            print(json.dumps(asdict(match), ensure_ascii=False))
            continue
        date = (match.published_at or "")[:10] or "----------"
        print(f"{date}  {match.site}  {match.title or '(no title)'}")
        print(f"    {match.url}")
        print(f"    {match.snippet}")
    if not matches:
        print(f"no articles match {args.query!r}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK

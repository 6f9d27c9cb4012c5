"""`portalcrawl export`: the archived articles as JSON Lines or CSV, to a file or stdout."""

from __future__ import annotations

import argparse
import io
import sys

from portalcrawl.cli import EXIT_OK, EXIT_USAGE
from portalcrawl.cli.arguments import ArgumentError, check_site, checked_since
from portalcrawl.cli.runs import add_db_argument, open_existing
from portalcrawl.export import EXPORT_FORMATS, export_articles


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export articles as JSON Lines or CSV",
        description="Write every archived article (or one site's, or those published since a date) "
        "as JSON Lines or CSV, streaming, in UTF-8.",
    )
    parser.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl", help="(default: jsonl)")
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after YYYY-MM-DD")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--bom", action="store_true", help="start the CSV with a UTF-8 BOM (for Excel)")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.bom and args.format != "csv":
        print("portalcrawl export: error: --bom only applies to --format csv", file=sys.stderr)
        return EXIT_USAGE
    try:
        since = checked_since(args.since)
    except ArgumentError as error:
        print(f"portalcrawl export: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    db, status = open_existing("export", args.db)
    if db is None:
        return status
    try:
        check_site(db, args.site)
    except ArgumentError as error:
        db.close()
        print(f"portalcrawl export: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = export_articles(db, out, fmt=args.format, site=args.site, since=since, bom=args.bom)
            print(f"{count} articles written to {args.output}", file=sys.stderr)
        else:
            # stdout's own encoding may be a legacy code page; the export is UTF-8 everywhere.
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
            try:
                export_articles(db, out, fmt=args.format, site=args.site, since=since, bom=args.bom)
                out.flush()
            finally:
                out.detach()
    finally:
        db.close()
    return EXIT_OK

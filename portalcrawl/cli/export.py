"""`portalcrawl export`: the archived articles as JSON Lines or CSV, to a file or stdout."""

from __future__ import annotations

import argparse
import io
import os
import sys

from portalcrawl.archive_files import is_sqlite_file
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.options import ArgumentError, add_article_filters, article_filter_values
from portalcrawl.cli.runs import add_db_argument, open_existing
from portalcrawl.export import EXPORT_COLUMNS, EXPORT_FORMATS, export_articles

# The raw pages as served, not the articles: a format of its own, written by portalcrawl/warc.py.
WARC_FORMAT = "warc"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export articles as JSON Lines or CSV, or the raw pages as WARC",
        description="Write every archived article (or those of a site, a date range, a source or a "
        "column) as JSON Lines or CSV, streaming, in UTF-8. --format warc writes the stored raw pages "
        "instead (response, request and metadata records, WARC 1.1, gzip per record) to the -o file; "
        "there --site selects a site's pages and --since the pages fetched on or after the date.",
    )
    parser.add_argument(
        "--format", choices=(*EXPORT_FORMATS, WARC_FORMAT), default="jsonl", help="(default: jsonl)"
    )
    add_article_filters(parser)
    parser.add_argument(
        "--columns",
        metavar="NAME,…",
        type=_column_list,
        default=EXPORT_COLUMNS,
        help="only these columns, in this order, e.g. url,title,published_date,source "
        f"(default: all: {', '.join(EXPORT_COLUMNS)})",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.add_argument("--bom", action="store_true", help="start the CSV with a UTF-8 BOM (for Excel)")
    parser.add_argument(
        "--attachment-text",
        action="store_true",
        help="add a column attachment_text: each attachment's url, name, status and extracted text",
    )
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def _column_list(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in EXPORT_COLUMNS]
    if not names or unknown:
        problem = f"unknown column {unknown[0]!r}" if unknown else "no column given"
        raise argparse.ArgumentTypeError(f"{problem}; choose from {', '.join(EXPORT_COLUMNS)}")
    return names


def handle(args: argparse.Namespace) -> int:
    if args.bom and args.format != "csv":
        print("portalcrawl export: error: --bom only applies to --format csv", file=sys.stderr)
        return EXIT_USAGE
    if args.output and is_sqlite_file(args.output):
        print(
            f"portalcrawl: error: -o {args.output} is a SQLite database; not overwriting it "
            "(give another -o FILE)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.format == WARC_FORMAT and not args.output:
        print("portalcrawl export: error: --format warc needs -o FILE.warc.gz", file=sys.stderr)
        return EXIT_USAGE
    db, status = open_existing("export", args.db)
    if db is None:
        return status
    try:
        filters = article_filter_values(args, db)
    except ArgumentError as error:
        db.close()
        print(f"portalcrawl export: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    options = {
        "fmt": args.format,
        "columns": args.columns,
        "bom": args.bom,
        "attachment_text": args.attachment_text,
        **filters,
    }
    if args.format == WARC_FORMAT:
        try:
            # warcio is an extra: the other formats must work without it.
            from portalcrawl.warc import write_warc  # noqa: PLC0415
        except ImportError as error:
            db.close()
            print(
                f"portalcrawl export: error: --format warc needs warcio ({error}); "
                "pip install 'portalcrawl[warc]'",
                file=sys.stderr,
            )
            return EXIT_FAILED
        try:
            with open(args.output, "wb") as warc_file:
                count = write_warc(
                    db, warc_file, filename=os.path.basename(args.output), site=args.site, since=args.since
                )
        finally:
            db.close()
        print(f"{count} pages written to {args.output}", file=sys.stderr)
        return EXIT_OK
    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = export_articles(db, out, **options)
            print(f"{count} articles written to {args.output}", file=sys.stderr)
        else:
            # stdout's own encoding may be a legacy code page; the export is UTF-8 everywhere.
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
            try:
                export_articles(db, out, **options)
                out.flush()
            finally:
                out.detach()
    finally:
        db.close()
    return EXIT_OK

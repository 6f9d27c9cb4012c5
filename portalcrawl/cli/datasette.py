"""`portalcrawl datasette`: browse and search the archive in Datasette, set up for Chinese text."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from portalcrawl.cli import EXIT_OK, EXIT_USAGE
from portalcrawl.cli.runs import add_db_argument, open_existing

DEFAULT_PORT = 8001


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "datasette",
        help="browse and search the archive in Datasette",
        description="Serve the archive with Datasette (pip install 'portalcrawl[datasette]'): a "
        "'search' query that finds words of any length (Datasette's own search box finds nothing "
        "below three characters; such searches are sent to it), facets by site, column, source and "
        "published date, and the articles table without body_html by default.",
    )
    add_db_argument(parser)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"(default: {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--metadata",
        metavar="FILE",
        help="write the Datasette metadata to FILE and exit, for `datasette DB --metadata FILE`",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("datasette") is None:
        print(
            "portalcrawl datasette: error: Datasette is not installed: pip install 'portalcrawl[datasette]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from portalcrawl import browse  # noqa: PLC0415 - optional dependency, imported only when serving

    # Opening migrates an older archive, so that published_date and the indexes exist.
    db, status = open_existing("datasette", args.db)
    if db is None:
        return status
    db.close()
    path = Path(args.db)
    if args.metadata:
        metadata = browse.datasette_metadata(path.stem)
        Path(args.metadata).write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"metadata written to {args.metadata}", file=sys.stderr)
        return EXIT_OK
    url = f"http://{args.host}:{args.port}/{path.stem}"
    print(f"serving {path} at {url} (search: {url}/search?q=会议); Ctrl-C stops", flush=True)
    browse.serve(path, host=args.host, port=args.port)
    return EXIT_OK

"""`portalcrawl runs`: the latest crawl runs with their counts and outcome."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from portalcrawl import settings
from portalcrawl.archive_files import open_for_reading
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.options import ArgumentError, check_site, count
from portalcrawl.database import KILLED, DatabaseError, open_database
from portalcrawl.processes import run_process_alive
from portalcrawl.safetext import terminal_text


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="PATH",
        default=settings.PORTALCRAWL_DB_PATH,
        help=f"SQLite archive (default: {settings.PORTALCRAWL_DB_PATH})",
    )


def open_existing(
    command: str, path: str, *, write: bool = False
) -> tuple[sqlite_utils.Database | None, int]:
    """The archive at ``path`` (read-only unless ``write``), or None and the exit status after
    printing a one-line error."""
    try:
        return (open_database(path, create=False) if write else open_for_reading(path)), EXIT_OK
    except DatabaseError as error:
        print(f"portalcrawl {command}: error: {error}", file=sys.stderr)
        return None, EXIT_USAGE
    except sqlite3.Error as error:
        print(f"portalcrawl {command}: error: {path}: {error}", file=sys.stderr)
        return None, EXIT_FAILED


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two, so padding by ``len`` would misalign a table."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, aligned for Chinese text (wide characters take two columns); no cell
    prints a control character."""
    cells = [[str(header) for header in headers]] + [
        ["" if v is None else terminal_text(str(v)) for v in row] for row in rows
    ]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list recent crawl runs and their outcome",
        description="List recent crawl runs, newest first: when (UTC), which site, status (ok, partial, "
        "failed, blocked, running), reason (why it failed or stopped, which cap it hit; `killed` when its "
        "process died before it could finish), articles new/updated/unchanged, pages and errors; in an "
        "archive merged from several machines, also the node that ran each run.",
    )
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument("--limit", type=count, default=20, metavar="N", help="runs to show (default: 20)")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("runs", args.db)
    if db is None:
        return status
    try:
        check_site(db, args.site)
    except ArgumentError as error:
        db.close()
        print(f"portalcrawl runs: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    where, params = ("WHERE site = ?", [args.site]) if args.site else ("", [])
    rows = db.conn.execute(
        "SELECT id, site, replace(substr(started_at, 1, 16), 'T', ' '), "
        "replace(substr(finished_at, 1, 16), 'T', ' '), status, coalesce(blocked_kind, reason), "
        "new_articles, updated_articles, unchanged_articles, pages_fetched, errors, pid, started_at, node "
        f"FROM crawl_runs {where} ORDER BY id DESC LIMIT ?",
        [*params, args.limit],
    ).fetchall()
    db.close()
    if not rows:
        print("no crawl runs recorded", file=sys.stderr)
        return EXIT_OK
    headers: tuple[str, ...] = (
        "run",
        "site",
        "started",
        "finished",
        "status",
        "reason",
        "new",
        "upd",
        "same",
        "pages",
        "errors",
    )
    table = [(*row[:4], *shown_outcome(row[4], row[5], row[11], row[12]), *row[6:11]) for row in rows]
    if any(row[13] for row in rows):
        # Runs merged from cluster nodes (`portalcrawl merge`) name the machine that ran them.
        headers = (*headers[:2], "node", *headers[2:])
        table = [(*shown[:2], row[13] or "-", *shown[2:]) for shown, row in zip(table, rows, strict=True)]
    print(format_table(headers, table))
    return EXIT_OK


def shown_outcome(
    status: str | None, reason: str | None, pid: int | None, started: str | None
) -> tuple[str | None, str | None]:
    """A run still marked running whose process is gone shows as the next crawl will record it."""
    if status == "running" and not (
        pid and started and run_process_alive(pid, datetime.fromisoformat(started))
    ):
        return "failed", KILLED
    return status, reason

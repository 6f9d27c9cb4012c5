"""`portalcrawl search`: full-text search of the archive, newest first, with highlighted snippets."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict

from portalcrawl.cli import EXIT_FAILED, EXIT_OK
from portalcrawl.cli.options import add_article_filters, article_filter_values
from portalcrawl.cli.runs import add_db_argument, open_existing
from portalcrawl.cli.sites import display_width
from portalcrawl.search import SEARCH_ORDERS, Match, search

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
    add_article_filters(parser)
    parser.add_argument(
        "--order",
        choices=SEARCH_ORDERS,
        default="newest",
        help="newest first (default), or best match first (title hits weigh most)",
    )
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="matches to show (default: 20)")
    parser.add_argument("--json", action="store_true", help="one JSON object per match")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("search", args.db)
    if db is None:
        return status
    marks = TTY_MARKS if sys.stdout.isatty() and not args.json else PLAIN_MARKS
    matches = search(
        db, args.query, **article_filter_values(args), order=args.order, limit=args.limit, marks=marks
    )
    db.close()
    if args.json:
        for match in matches:
            print(json.dumps(asdict(match), ensure_ascii=False))
    elif matches:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        print(format_matches(matches, width=width, marks=marks))
    if not matches:
        print(f"no articles match {args.query!r}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def format_matches(matches: list[Match], *, width: int | None, marks: tuple[str, str]) -> str:
    """Date, site and title on one line, URL and snippet below, all aligned under the title.

    On a terminal (``width`` columns) the snippet is wrapped by display width, so that wide CJK
    characters do not push it past the edge and the continuation stays under the title.
    """
    site_width = max(display_width(match.site) for match in matches)
    indent = " " * (10 + 2 + site_width + 2)
    lines = []
    for match in matches:
        date = (match.published_at or "")[:10] or "----------"
        site = match.site + " " * (site_width - display_width(match.site))
        lines.append(f"{date}  {site}  {match.title or '(no title)'}")
        lines.append(indent + match.url)
        snippet_width = width - len(indent) if width and width - len(indent) >= 20 else None
        lines.extend(indent + line for line in wrap_display(match.snippet, snippet_width, marks))
    return "\n".join(lines)


def wrap_display(text: str, width: int | None, marks: tuple[str, str]) -> list[str]:
    """``text`` cut into lines of at most ``width`` terminal columns; ``marks`` take no columns."""
    if width is None:
        return [text]
    lines: list[str] = []
    line: list[str] = []
    used = 0
    position = 0
    while position < len(text):
        mark = next((m for m in marks if m and text.startswith(m, position)), None)
        if mark is not None:
            line.append(mark)
            position += len(mark)
            continue
        char = text[position]
        char_width = display_width(char)
        if used + char_width > width:
            lines.append("".join(line))
            line, used = [], 0
        line.append(char)
        used += char_width
        position += 1
    lines.append("".join(line))
    return lines

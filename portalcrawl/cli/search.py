"""`portalcrawl search`: full-text search of articles and their attachments, newest first, highlighted."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.options import ArgumentError, add_article_filters, article_filter_values, count
from portalcrawl.cli.runs import add_db_argument, display_width, open_existing
from portalcrawl.safetext import terminal_text
from portalcrawl.search import SEARCH_ORDERS, AttachmentMatch, Match, search, search_attachments

PLAIN_MARKS = ("[", "]")
TTY_MARKS = ("\x1b[1;31m", "\x1b[0m")
# Private-use characters mark the matches until the text is made safe to print, then become TTY_MARKS.
PLACEHOLDER_MARKS = ("\ue000", "\ue001")
SCOPES = ("articles", "attachments", "all")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="full-text search of titles, bodies and attachment text",
        description="Find articles containing every word of QUERY in title or body, and attachments "
        "(their extracted text) containing every word, newest first; an attachment hit is shown under "
        "its article with the attachment's name and page. Chinese works without spaces (科技创新, 会议); "
        "FTS syntax (quotes, *, OR, NEAR) is searched for literally.",
        epilog="exit status: 0 found, 1 nothing found, 2 no database, a bad date or an unknown --site",
    )
    parser.add_argument("query", metavar="QUERY", help="words to find (all of them)")
    add_article_filters(parser)
    parser.add_argument(
        "--order",
        choices=SEARCH_ORDERS,
        default="newest",
        help="newest first (default), or best match first (title hits weigh most)",
    )
    parser.add_argument("--limit", type=count, default=20, metavar="N", help="matches to show (default: 20)")
    parser.add_argument(
        "--in",
        dest="scope",
        choices=SCOPES,
        default="all",
        help="search article text, attachment text or both (default: all)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per match")
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("search", args.db)
    if db is None:
        return status
    try:
        filters = article_filter_values(args, db)
    except ArgumentError as error:
        db.close()
        print(f"portalcrawl search: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    highlight = sys.stdout.isatty() and not args.json
    marks = PLACEHOLDER_MARKS if highlight else PLAIN_MARKS
    articles = (
        search(db, args.query, **filters, order=args.order, limit=args.limit, marks=marks)
        if args.scope != "attachments"
        else []
    )
    attachments = (
        search_attachments(db, args.query, **filters, limit=args.limit, marks=marks)
        if args.scope != "articles"
        else []
    )
    db.close()
    if args.json:
        matches: list[Match | AttachmentMatch] = [*articles, *attachments]
        for match in matches:
            kind = "attachment" if isinstance(match, AttachmentMatch) else "article"
            print(json.dumps({**asdict(match), "found_in": kind}, ensure_ascii=False))
    elif articles or attachments:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        shown = terminal_text(
            format_matches(articles, attachments, width=width, marks=marks, newest=args.order == "newest")
        )
        if highlight:
            shown = shown.replace(PLACEHOLDER_MARKS[0], TTY_MARKS[0]).replace(
                PLACEHOLDER_MARKS[1], TTY_MARKS[1]
            )
        print(shown)
    if not articles and not attachments:
        subject = "attachments" if args.scope == "attachments" else "articles"
        tail = ", and no attachments" if args.scope == "all" else ""
        print(f"no {subject} match {args.query!r}{tail}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def format_matches(
    articles: list[Match],
    attachments: list[AttachmentMatch],
    *,
    width: int | None,
    marks: tuple[str, str],
    newest: bool = True,
) -> str:
    """Each article once: date, site and title on one line, URL and snippet below, aligned under the
    title, then the article's attachment hits (name, page, snippet).

    On a terminal (``width`` columns) snippets are wrapped by display width, so that wide CJK
    characters do not push them past the edge and the continuation stays under the title.
    """
    hits_by_article: dict[str, list[AttachmentMatch]] = {}
    for hit in attachments:
        hits_by_article.setdefault(hit.url, []).append(hit)
    heads: dict[str, Match | AttachmentMatch] = {match.url: match for match in articles}
    for hit in attachments:
        heads.setdefault(hit.url, hit)
    ordered = list(heads.values())
    if newest:
        ordered.sort(key=lambda head: head.published_at or "", reverse=True)
    site_width = max(display_width(head.site) for head in ordered)
    indent = " " * (10 + 2 + site_width + 2)
    snippet_width = width - len(indent) if width and width - len(indent) >= 20 else None
    lines = []
    for head in ordered:
        date = (head.published_at or "")[:10] or "----------"
        site = head.site + " " * (site_width - display_width(head.site))
        lines.append(f"{date}  {site}  {head.title or '(no title)'}")
        lines.append(indent + head.url)
        if isinstance(head, Match):
            lines.extend(indent + line for line in wrap_display(head.snippet, snippet_width, marks))
        for hit in hits_by_article.get(head.url, []):
            page = f", page {hit.page}" if hit.page else ""
            lines.append(f"{indent}attachment: {hit.attachment_name or hit.attachment_url}{page}")
            lines.extend(indent + "  " + line for line in wrap_display(hit.snippet, snippet_width, marks))
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

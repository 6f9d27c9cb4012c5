"""`portalcrawl search`: full-text search of articles and their attachments, newest first, highlighted."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from portalcrawl.cli import EXIT_FAILED, EXIT_OK
from portalcrawl.cli.runs import add_db_argument, open_existing
from portalcrawl.search import AttachmentMatch, Match, search, search_attachments

PLAIN_MARKS = ("[", "]")
TTY_MARKS = ("\x1b[1;31m", "\x1b[0m")
SCOPES = ("articles", "attachments", "all")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search",
        help="full-text search of titles, bodies and attachment text",
        description="Find articles containing every word of QUERY in title or body, and attachments "
        "(their extracted text) containing every word, newest first; an attachment hit is shown under "
        "its article with the attachment's name and page. Chinese works without spaces (科技创新, 会议); "
        "FTS syntax (quotes, *, OR, NEAR) is searched for literally.",
        epilog="exit status: 0 found, 1 nothing found, 2 no database",
    )
    parser.add_argument("query", metavar="QUERY", help="words to find (all of them)")
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after YYYY-MM-DD")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="matches to show (default: 20)")
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
    marks = TTY_MARKS if sys.stdout.isatty() and not args.json else PLAIN_MARKS
    options = {"site": args.site, "since": args.since, "limit": args.limit, "marks": marks}
    articles = search(db, args.query, **options) if args.scope != "attachments" else []
    attachments = search_attachments(db, args.query, **options) if args.scope != "articles" else []
    db.close()
    if args.json:
        matches: list[Match | AttachmentMatch] = [*articles, *attachments]
        for match in matches:
            kind = "attachment" if isinstance(match, AttachmentMatch) else "article"
            print(json.dumps({**asdict(match), "found_in": kind}, ensure_ascii=False))
    else:
        print_grouped(articles, attachments)
    if not articles and not attachments:
        subject = "attachments" if args.scope == "attachments" else "articles"
        tail = ", and no attachments" if args.scope == "all" else ""
        print(f"no {subject} match {args.query!r}{tail}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def print_grouped(articles: list[Match], attachments: list[AttachmentMatch]) -> None:
    """Each article once, newest first: its own snippet if its text matched, then its attachment hits."""
    by_article: dict[str, list[AttachmentMatch]] = {}
    for hit in attachments:
        by_article.setdefault(hit.url, []).append(hit)
    heads: dict[str, Match | AttachmentMatch] = {m.url: m for m in articles}
    for hit in attachments:
        heads.setdefault(hit.url, hit)
    order = sorted(heads.values(), key=lambda m: m.published_at or "", reverse=True)
    for head in order:
        date = (head.published_at or "")[:10] or "----------"
        print(f"{date}  {head.site}  {head.title or '(no title)'}")
        print(f"    {head.url}")
        if isinstance(head, Match):
            print(f"    {head.snippet}")
        for hit in by_article.get(head.url, []):
            page = f", page {hit.page}" if hit.page else ""
            print(f"    attachment: {hit.attachment_name or hit.attachment_url}{page}")
            print(f"        {hit.snippet}")

"""`portalcrawl show URL`: the archived record of one article, its versions and its pages as served."""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import Any

import sqlite_utils

from portalcrawl.cli import EXIT_FAILED, EXIT_OK
from portalcrawl.cli.options import count
from portalcrawl.cli.runs import add_db_argument, format_table, open_existing
from portalcrawl.database import quote
from portalcrawl.pages import StoredPage, article_pages, iter_pages, stored_response
from portalcrawl.urls import canonical_url

SHOWN_FIELDS = (
    "url",
    "final_url",
    "site",
    "title",
    "published_at",
    "source",
    "author",
    "editor",
    "column",
    "cms",
    "fetched_at",
    "first_seen_at",
    "updated_at",
    "content_hash",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "show",
        help="show one archived article: fields, versions, pages as served",
        description="Show the archived record of the article at URL (or of a stored listing page): its "
        "fields, its earlier versions with their dates, and the pages kept as the portal served them. "
        "--raw writes the page's bytes exactly as served to stdout; --html the page decoded (UTF-8); "
        "--text the article's text.",
    )
    parser.add_argument("url", metavar="URL", help="the article's URL (as listed, canonical or final)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--raw", action="store_true", help="the stored page's bytes as served")
    output.add_argument("--html", action="store_true", help="the stored page decoded to UTF-8 HTML")
    output.add_argument("--text", action="store_true", help="the article's extracted text")
    parser.add_argument(
        "--page", type=count, default=1, metavar="N", help="with --raw/--html: page N of a multi-page article"
    )
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def _article(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    columns = ", ".join(quote(name) for name in ("id", *SHOWN_FIELDS, "body_text"))
    for candidate in dict.fromkeys((url, canonical_url(url))):
        for column in ("url", "final_url"):
            cursor = db.conn.execute(
                f"SELECT {columns} FROM articles WHERE {column} = ? ORDER BY id LIMIT 1", (candidate,)
            )
            row = cursor.fetchone()
            if row is not None:
                return dict(zip([d[0] for d in cursor.description], row, strict=True))
    return None


def _latest_page(db: sqlite_utils.Database, url: str) -> StoredPage | None:
    """The newest capture of a page fetched at ``url`` (a listing page, say), if one was kept."""
    candidates = list(dict.fromkeys((url, canonical_url(url))))
    placeholders = ", ".join("?" * len(candidates))
    pages = iter_pages(
        db,
        f"c.url IN ({placeholders}) OR c.final_url IN ({placeholders})",
        [*candidates, *candidates],
        order="c.fetched_at DESC, c.id DESC",
    )
    return next(pages, None)


def _write_bytes(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _write_text(text: str) -> None:
    # The terminal's encoding may be a legacy code page; archived text is written as UTF-8 everywhere.
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
    try:
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
    finally:
        out.detach()


def _page_text(page: StoredPage) -> str:
    return str(getattr(stored_response(page), "text", page.body.decode("utf-8", "replace")))


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("show", args.db)
    if db is None:
        return status
    try:
        return _show(db, args)
    finally:
        db.close()


def _show(db: sqlite_utils.Database, args: argparse.Namespace) -> int:
    article = _article(db, args.url)
    if article is None:
        page = _latest_page(db, args.url)
        if page is None:
            print(f"portalcrawl show: no article or page archived at {args.url}", file=sys.stderr)
            return EXIT_FAILED
        if args.raw:
            _write_bytes(page.body)
        elif args.html:
            _write_text(_page_text(page))
        else:
            _write_text(_page_summary([page]))
        return EXIT_OK
    if args.text:
        _write_text(article["body_text"] or "")
        return EXIT_OK
    pages = article_pages(db, article["url"], article["fetched_at"])
    if args.raw or args.html:
        chosen = [page for page in pages if page.page_number == args.page]
        if not chosen:
            kept = f"{len(pages)} pages kept" if pages else "no raw page kept for it"
            print(f"portalcrawl show: {article['url']}: no page {args.page} ({kept})", file=sys.stderr)
            return EXIT_FAILED
        if args.raw:
            _write_bytes(chosen[0].body)
        else:
            _write_text(_page_text(chosen[0]))
        return EXIT_OK
    _write_text(_record(db, article, pages))
    return EXIT_OK


def _record(db: sqlite_utils.Database, article: dict[str, Any], pages: list[StoredPage]) -> str:
    lines = [f"{name}: {article[name]}" for name in SHOWN_FIELDS if article.get(name) is not None]
    text = article["body_text"] or ""
    lines.append(f"body_text: {len(text)} characters (--text to print it)")
    versions = db.conn.execute(
        "SELECT replaced_at, fetched_at, title, content_hash FROM article_versions "
        "WHERE article_id = ? ORDER BY id",
        (article["id"],),
    ).fetchall()
    rows = [
        (fetched_at, replaced_at, (content_hash or "")[:12], title)
        for replaced_at, fetched_at, title, content_hash in versions
    ]
    rows.append((article["fetched_at"], "(current)", (article["content_hash"] or "")[:12], article["title"]))
    lines += [
        "",
        "versions (oldest first):",
        format_table(("fetched_at", "replaced_at", "content", "title"), rows),
    ]
    captures = db.conn.execute(
        "SELECT fetched_at, page_number, status, sha256, final_url FROM page_captures "
        "WHERE article_url = ? ORDER BY fetched_at, page_number",
        (article["url"],),
    ).fetchall()
    if captures:
        lines += [
            "",
            "pages kept (as served; --raw / --html [--page N] for the current version's):",
            format_table(
                ("fetched_at", "page", "status", "sha256", "final_url"),
                [(f, n, s, h[:12], u) for f, n, s, h, u in captures],
            ),
        ]
    elif not pages:
        lines += ["", "no raw page kept for this article (crawled before pages were kept, or KEEP_PAGES=off)"]
    return "\n".join(lines)


def _page_summary(pages: list[StoredPage]) -> str:
    page = pages[0]
    headers = json.dumps(page.headers, ensure_ascii=False)
    return "\n".join(
        [
            f"url: {page.url}",
            f"final_url: {page.final_url}",
            f"kind: {page.kind}",
            f"site: {page.site}",
            f"fetched_at: {page.fetched_at}",
            f"status: {page.status}",
            f"sha256: {page.sha256}",
            f"size: {len(page.body)} bytes (--raw for them, --html decoded)",
            f"headers: {headers}",
        ]
    )

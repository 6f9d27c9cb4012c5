"""``portalcrawl extract``: run article extraction on one saved page or URL and print the Article as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from portalcrawl.cli.crawl import ConfigError
from portalcrawl.cli.fetching import FetchError, add_settings_argument, fetch_page
from portalcrawl.extract.article import extract_article
from portalcrawl.extract.encoding import decode_html


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("extract", help="extract one article page (file or http(s) URL) as JSON")
    parser.add_argument("page", metavar="PATH_OR_URL", help="a saved HTML file, or an http(s) URL to fetch")
    parser.add_argument(
        "--url", help="the page's original URL (resolves links; default: the argument itself)"
    )
    add_settings_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    fetched_at = datetime.now(UTC)
    page: str | bytes
    encoding: str | None = None
    if args.page.startswith(("http://", "https://")):
        try:
            fetched = fetch_page(args.page, args.set)
        except ConfigError as exc:
            print(f"portalcrawl: error: {exc}", file=sys.stderr)
            return 2
        except FetchError as exc:
            print(f"portalcrawl: error: {exc}", file=sys.stderr)
            return 1
        # The HTTP charset header takes part in decoding, so the page is decoded here.
        page, encoding = decode_html(fetched.body, fetched.charset)
        url = args.url or args.page
    else:
        path = Path(args.page)
        if not path.is_file():
            print(f"no such file: {path}", file=sys.stderr)
            return 2
        page = path.read_bytes()
        url = args.url or path.resolve().as_uri()
    article = extract_article(page, url, fetched_at=fetched_at)
    article.encoding = article.encoding or encoding
    print(json.dumps(dataclasses.asdict(article), ensure_ascii=False, indent=2))
    return 0

"""``portalcrawl extract``: run article extraction on one saved page or URL and print the Article as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from portalcrawl.crawl_args import crawl_arguments
from portalcrawl.extract.article import extract_article
from portalcrawl.extract.encoding import decode_html
from portalcrawl.profiles import ProfileError
from portalcrawl.settings import USER_AGENT

FETCH_TIMEOUT_SECONDS = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("extract", help="extract one article page (file or http(s) URL) as JSON")
    parser.add_argument("page", metavar="PATH_OR_URL", help="a saved HTML file, or an http(s) URL to fetch")
    parser.add_argument(
        "--url", help="the page's original URL (resolves links; default: the argument itself)"
    )
    parser.add_argument(
        "--site",
        metavar="SLUG",
        help="extract with this profile (selectors, cms, timezone), as the crawl does",
    )
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    parser.set_defaults(handler=run)


def fetch(url: str) -> tuple[bytes, str | None]:
    """The body and declared charset of an explicit user-given URL (never called by the crawler)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310 - http(s) checked by caller
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.read(), response.headers.get_content_charset()


def run(args: argparse.Namespace) -> int:
    fetched_at = datetime.now(UTC)
    try:
        profile = crawl_arguments(site=args.site, sites_dir=args.dir).profile if args.site else None
    except ProfileError as exc:
        print(f"portalcrawl extract: error: {exc}", file=sys.stderr)
        return 2
    page: str | bytes
    encoding: str | None = None
    if args.page.startswith(("http://", "https://")):
        try:
            body, charset = fetch(args.page)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            print(f"cannot fetch {args.page}: {exc}", file=sys.stderr)
            return 1
        # The HTTP charset header takes part in decoding, so the page is decoded here.
        page, encoding = decode_html(body, charset)
        url = args.url or args.page
    else:
        path = Path(args.page)
        if not path.is_file():
            print(f"no such file: {path}", file=sys.stderr)
            return 2
        page = path.read_bytes()
        url = args.url or path.resolve().as_uri()
    article = extract_article(page, url, fetched_at=fetched_at, profile=profile)
    article.encoding = article.encoding or encoding
    print(json.dumps(dataclasses.asdict(article), ensure_ascii=False, indent=2))
    return 0

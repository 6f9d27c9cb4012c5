"""`portalcrawl links`: what the spider would follow from a saved or live listing page."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from dataclasses import asdict
from pathlib import Path

from portalcrawl import settings
from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.extract.listing import extract_listing

FETCH_TIMEOUT_SECONDS = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "links",
        help="show a listing page's article links and next pages",
        description="Extract the main list's article links, further listing pages and data requests "
        "from a listing page: a saved file or an http(s) URL.",
        epilog="exit status: 0 links found, 1 none found, 2 unreadable input",
    )
    parser.add_argument("source", metavar="PATH_OR_URL", help="saved listing page, or its URL")
    parser.add_argument("--url", metavar="ORIGINAL_URL", help="the page's URL, to resolve relative links")
    parser.set_defaults(handler=handle)


def _read(source: str) -> bytes:
    if source.startswith(("http://", "https://")):
        # Only http(s) reaches here (checked above), so urlopen cannot read file: or custom schemes.
        request = urllib.request.Request(source, headers={"User-Agent": settings.USER_AGENT})  # noqa: S310
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            return bytes(response.read())
    return Path(source).read_bytes()


def handle(args: argparse.Namespace) -> int:
    is_url = args.source.startswith(("http://", "https://"))
    page_url = args.url or (args.source if is_url else None)
    if page_url is None:
        print("portalcrawl links: error: --url ORIGINAL_URL is needed for a saved page", file=sys.stderr)
        return EXIT_USAGE
    try:
        body = _read(args.source)
    except OSError as exc:
        print(f"portalcrawl links: error: {args.source}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    listing = extract_listing(body, page_url)
    output = {
        "article_links": listing.article_links,
        "next_pages": listing.next_pages,
        "requests": [asdict(r) for r in listing.requests],
        "dates": listing.dates,
        "child_listings": listing.child_listings,
    }
    print(json.dumps(output, ensure_ascii=False, indent=2))
    found = listing.article_links or listing.next_pages or listing.requests or listing.child_listings
    return EXIT_OK if found else EXIT_FAILED

"""`portalcrawl links`: what the spider would follow from a saved or live listing page."""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.extract import add_site_arguments, read_page, site_profile
from portalcrawl.cli.options import add_settings_argument
from portalcrawl.extract.article import parse_tree
from portalcrawl.extract.listing import extract_listing
from portalcrawl.extract.selectors import LISTING_SELECTORS, profile_selectors, selected_urls


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "links",
        help="show a listing page's article links and next pages",
        description="Extract the main list's article links, further listing pages and data requests "
        "from a listing page: a saved file or an http(s) URL. With --site, also what the profile's "
        "article_url_pattern keeps and what its article_links and next_page selectors pick; a selector "
        "that matches nothing is reported on stderr.",
        epilog="exit status: 0 links found (and every --site selector matched), 1 none found or a "
        "selector matched nothing, 2 unreadable input or unknown site",
    )
    parser.add_argument("source", metavar="PATH_OR_URL", help="saved listing page, or its URL")
    parser.add_argument("--url", metavar="ORIGINAL_URL", help="the page's URL, to resolve relative links")
    add_site_arguments(parser)
    add_settings_argument(
        parser, help="override a setting for the fetch, as with `portalcrawl crawl -s` (repeatable)"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    is_url = args.source.startswith(("http://", "https://"))
    page_url = args.url or (args.source if is_url else None)
    if page_url is None:
        print("portalcrawl links: error: --url ORIGINAL_URL is needed for a saved page", file=sys.stderr)
        return EXIT_USAGE
    profile, status = site_profile("links", args)
    if status != EXIT_OK:
        return status
    page, status = read_page("links", args.source, args.set)
    if page is None:
        return status
    listing = extract_listing(page.content, page_url, profile=profile)
    output: dict[str, object] = {
        "article_links": listing.article_links,
        "next_pages": listing.next_pages,
        "requests": [asdict(r) for r in listing.requests],
        "dates": listing.dates,
        "child_listings": listing.child_listings,
    }
    all_matched = True
    if profile is not None:
        if profile.article_url_pattern:
            pattern = re.compile(profile.article_url_pattern)
            output["matching_article_url_pattern"] = [u for u in listing.article_links if pattern.search(u)]
        for name, selector in profile_selectors(profile).items():
            if name not in LISTING_SELECTORS:
                continue
            try:
                picked = selected_urls(parse_tree(page.content), page_url, selector)
            except ValueError as error:
                print(f"selectors.{name}: {error}", file=sys.stderr)
                all_matched = False
                continue
            output[f"selectors.{name}"] = picked
            if not picked:
                all_matched = False
                print(f"selectors.{name} {selector!r} matched nothing on this page", file=sys.stderr)
    print(json.dumps(output, ensure_ascii=False, indent=2))
    found = listing.article_links or listing.next_pages or listing.requests or listing.child_listings
    return EXIT_OK if found and all_matched else EXIT_FAILED

"""``portalcrawl extract``: run article extraction on one saved page or URL and print the Article as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.crawl import ConfigError
from portalcrawl.cli.fetching import FetchError, fetch_page
from portalcrawl.cli.options import add_settings_argument
from portalcrawl.crawl_args import crawl_arguments
from portalcrawl.extract.article import extract_article, parse_tree
from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.selectors import ARTICLE_SELECTOR_FIELDS, profile_selectors, selector_matches
from portalcrawl.items import Article
from portalcrawl.profiles import ProfileError, SiteProfile


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract",
        help="extract one article page (file or http(s) URL) as JSON",
        description="Extract one article page and print the Article as JSON. With --site, the site "
        "profile's selectors are applied, and each one's result is reported on stderr: a selector "
        "that matches nothing is named, not silently replaced by automatic extraction.",
        epilog="exit status: 0 extracted (every --site selector gave its field), 1 a selector gave "
        "nothing or the URL could not be fetched, 2 unreadable input or unknown site",
    )
    parser.add_argument("page", metavar="PATH_OR_URL", help="a saved HTML file, or an http(s) URL to fetch")
    parser.add_argument(
        "--url", help="the page's original URL (resolves links; default: the argument itself)"
    )
    add_site_arguments(parser)
    add_settings_argument(
        parser, help="override a setting for the fetch, as with `portalcrawl crawl -s` (repeatable)"
    )
    parser.set_defaults(handler=run)


def add_site_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", metavar="SLUG", help="apply this site profile (its selectors, time zone)")
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")


@dataclasses.dataclass(frozen=True)
class Source:
    """A page to extract from: a file's bytes, or a URL's text and the encoding it was decoded with."""

    content: str | bytes
    encoding: str | None = None


def read_page(command: str, source: str, overrides: list[str]) -> tuple[Source | None, int]:
    """The page from a file, or from a URL fetched as the crawl would (Scrapy, the crawl's settings
    and ``-s`` overrides), or None and an exit status."""
    if source.startswith(("http://", "https://")):
        try:
            fetched = fetch_page(source, overrides)
        except ConfigError as error:
            print(f"portalcrawl {command}: error: {error}", file=sys.stderr)
            return None, EXIT_USAGE
        except FetchError as error:
            print(f"portalcrawl {command}: error: {error}", file=sys.stderr)
            return None, EXIT_FAILED
        # The HTTP charset header takes part in decoding, so the page is decoded here.
        return Source(*decode_html(fetched.body, fetched.charset)), EXIT_OK
    path = Path(source)
    if not path.is_file():
        print(f"portalcrawl {command}: error: no such file: {path}", file=sys.stderr)
        return None, EXIT_USAGE
    return Source(path.read_bytes()), EXIT_OK


def site_profile(command: str, args: argparse.Namespace) -> tuple[SiteProfile | None, int]:
    if not args.site:
        return None, EXIT_OK
    try:
        # As the crawl resolves it: the profile with its time zone settled.
        return crawl_arguments(site=args.site, sites_dir=args.dir).profile, EXIT_OK
    except ProfileError as error:
        print(f"portalcrawl {command}: error: {error}", file=sys.stderr)
        return None, EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    profile, status = site_profile("extract", args)
    if status != EXIT_OK:
        return status
    page, status = read_page("extract", args.page, args.set)
    if page is None:
        return status
    is_url = args.page.startswith(("http://", "https://"))
    url = args.url or (args.page if is_url else Path(args.page).resolve().as_uri())
    article = extract_article(page.content, url, fetched_at=datetime.now(UTC), profile=profile)
    article.encoding = article.encoding or page.encoding
    print(json.dumps(dataclasses.asdict(article), ensure_ascii=False, indent=2))
    if profile is None:
        return EXIT_OK
    return EXIT_OK if report_article_selectors(page.content, profile, article) else EXIT_FAILED


def report_article_selectors(page: str | bytes, profile: SiteProfile, article: Article) -> bool:
    """Say on stderr what each article selector of ``profile`` gave; False if one gave nothing."""
    all_matched = True
    chosen = profile_selectors(profile)
    for name, field_name in ARTICLE_SELECTOR_FIELDS.items():
        if name not in chosen:
            continue
        try:
            count = selector_matches(parse_tree(page), chosen[name])
        except ValueError as error:
            print(f"selectors.{name}: {error}", file=sys.stderr)
            all_matched = False
            continue
        stage = article.field_stages.get(field_name, "nothing")
        if count == 0:
            all_matched = False
            print(
                f"selectors.{name} {chosen[name]!r} matched nothing; {field_name} came from {stage} instead",
                file=sys.stderr,
            )
        elif stage != "profile":
            all_matched = False
            print(
                f"selectors.{name} {chosen[name]!r} matched {count} element(s) but gave no {field_name}; "
                f"it came from {stage} instead",
                file=sys.stderr,
            )
        else:
            value = getattr(article, field_name) or ""
            print(f"selectors.{name} {chosen[name]!r} → {value[:60]!r}", file=sys.stderr)
    return all_matched

"""`portalcrawl sites add URL`: find a portal's news columns, preview them, write one profile each."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.discover import (
    MAX_CANDIDATES,
    ColumnPreview,
    Discovery,
    column_slug,
    discover,
    profile_toml,
)
from portalcrawl.fetch import Fetcher
from portalcrawl.middlewares.url_filter import HostPolicy
from portalcrawl.profiles import (
    SLUG_PATTERN,
    ProfileError,
    SiteProfile,
    iter_profile_files,
    load_profile_file,
    sites_dir,
)
from portalcrawl.urls import canonical_url


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "add",
        help="find a portal's news columns and write a profile for each",
        description="Fetch a portal's home page or a column page (as a crawl would: robots.txt, URL "
        "filter, size limit, timeout), find its news columns (要闻, 动态, 通知公告, 政策文件…) among "
        "the navigation and column links, preview each (listing URL, pager, articles on page 1, one "
        "article's title, date, 来源 and first line), and write one profile per chosen column. On a "
        "terminal it asks which; otherwise pass --yes (every news column) or --columns.",
        epilog="exit status: 0 profiles written (or previewed), 1 no news column found or none written, "
        "2 bad arguments or the page could not be fetched",
    )
    parser.add_argument("url", metavar="URL", help="the portal's home page or one of its column pages")
    parser.add_argument(
        "--slug", metavar="S", help="slug of the profile (prefix of the slugs when several are written)"
    )
    parser.add_argument("--dir", metavar="DIR", help="where to write profiles (default: the packaged sites/)")
    parser.add_argument(
        "--columns",
        metavar="N[,N…]",
        help="write the columns with these numbers in the preview (1,3), without asking",
    )
    parser.add_argument("--yes", action="store_true", help="write every news column found, without asking")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        print(f"portalcrawl sites add: error: {args.url!r} is not an http(s) URL", file=sys.stderr)
        return EXIT_USAGE
    if args.slug and not SLUG_PATTERN.match(args.slug):
        print(f"portalcrawl sites add: error: --slug {args.slug!r}: use a-z, 0-9, - _ .", file=sys.stderr)
        return EXIT_USAGE
    # Written to: the packaged profiles are a plain directory of an installed (not zipped) package.
    directory = Path(str(sites_dir(args.dir)))
    progress = _show_progress if sys.stderr.isatty() else None
    found, problem = discover(
        args.url,
        Fetcher(HostPolicy.of(SiteProfile.ad_hoc([args.url]))),
        now=datetime.now(UTC),
        progress=progress,
    )
    if found is None:
        print(f"portalcrawl sites add: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    news = [column for column in found.columns if column.is_news]
    if progress is not None:
        print("\r\x1b[K", end="", file=sys.stderr)
    print(format_previews(found, news))
    if not news:
        print(
            "no news column found: try a column page's URL, or write the profile by hand (docs/PROFILES.md)"
        )
        return EXIT_FAILED
    chosen = choose(args, news)
    if chosen is None:
        return EXIT_USAGE
    if not chosen:
        print("nothing written (preview only): pass --yes for every column, or --columns 1,3")
        return EXIT_OK
    written = write_profiles(found, chosen, directory, args.slug, interactive=_interactive(args))
    return EXIT_OK if written else EXIT_FAILED


def _show_progress(candidate: str) -> None:
    print(f"\r\x1b[Kchecking {candidate}", end="", file=sys.stderr, flush=True)


def _interactive(args: argparse.Namespace) -> bool:
    return not args.yes and not args.columns and sys.stdin.isatty() and sys.stdout.isatty()


def format_previews(found: Discovery, news: list[ColumnPreview]) -> str:
    lines = [f"{found.site_name} ({found.host}): {len(news)} news column(s)"]
    for number, column in enumerate(news, 1):
        pager = f"pager found ({len(column.pager)} further page(s))" if column.pager else "no pager found"
        pattern = f", article_url_pattern {column.article_url_pattern}" if column.article_url_pattern else ""
        lines.append(f"{number:>3}. {column.name}  {column.listing_url}")
        lines.append(
            f"     page 1: {len(column.article_links)} articles, {pager}, cms {column.cms or '-'}{pattern}"
        )
        article = column.article
        if article is not None:
            first_line = next((line for line in article.body_text.splitlines() if line.strip()), "")
            date = article.published_at or article.published_raw or "no date"
            lines.append(f"     {date}  {article.title}")
            lines.append(f"     来源 {article.source or '-'}  |  {first_line[:50]}")
    skipped = [column for column in found.columns if not column.is_news]
    if skipped:
        lines.append("not news columns (skipped):")
        lines.extend(f"     {column.name}  {column.listing_url}: {column.rejected}" for column in skipped)
    if found.unexamined:
        lines.append(
            f"{found.unexamined} more links were not examined (at most {MAX_CANDIDATES}): run sites add on "
            "a section's page to find its columns"
        )
    return "\n".join(lines)


def choose(args: argparse.Namespace, news: list[ColumnPreview]) -> list[ColumnPreview] | None:
    """The columns to write: all (--yes), the numbered ones (--columns or the answer on a terminal)."""
    if args.yes:
        return news
    answer = args.columns
    if answer is None:
        if not _interactive(args):
            return []
        answer = input("columns to add (numbers like 1,3; Enter for all; 0 for none): ").strip() or "all"
    if answer == "all":
        return news
    if answer == "0":
        return []
    try:
        numbers = [int(part) for part in answer.replace(" ", "").split(",") if part]
    except ValueError:
        numbers = []
    if not numbers or any(not 1 <= n <= len(news) for n in numbers):
        print(
            f"portalcrawl sites add: error: --columns {answer!r}: give numbers 1..{len(news)}",
            file=sys.stderr,
        )
        return None
    return [news[n - 1] for n in dict.fromkeys(numbers)]


def write_profiles(
    found: Discovery, chosen: list[ColumnPreview], directory: Path, prefix: str | None, *, interactive: bool
) -> int:
    """Write one profile per column (never over an existing file); returns how many were written."""
    directory.mkdir(parents=True, exist_ok=True)
    taken = {path.stem for path in directory.glob("*.toml")}
    existing = _profiled_start_urls(directory)
    written = 0
    for column in chosen:
        if canonical_url(column.listing_url) in existing:
            print(f"skipped  {column.listing_url}: already in {existing[canonical_url(column.listing_url)]}")
            continue
        slug = (
            prefix
            if prefix and len(chosen) == 1
            else column_slug(found.host, column.listing_url, taken, prefix)
        )
        if interactive:
            slug = input(f"slug for {column.name} [{slug}]: ").strip() or slug
        path = directory / f"{slug}.toml"
        if path.exists() or not SLUG_PATTERN.match(slug):
            reason = "exists, not overwritten" if path.exists() else "is not a valid slug"
            print(f"skipped  {path}: {reason}")
            continue
        path.write_text(profile_toml(f"{found.site_name} {column.name}", column), encoding="utf-8")
        taken.add(slug)
        try:
            load_profile_file(path)
        except ProfileError as error:
            path.unlink()
            print(f"not written: {error}")
            continue
        written += 1
        print(f"wrote    {path}  (portalcrawl crawl {slug}{_dir_option(directory)})")
    return written


def _profiled_start_urls(directory: Path) -> dict[str, Path | Traversable]:
    """The start URLs of the profiles already in ``directory``, so a column is not added twice."""
    found: dict[str, Path | Traversable] = {}
    for path in iter_profile_files(directory):
        try:
            profile = load_profile_file(path)
        except ProfileError:
            continue
        found.update((canonical_url(url), path) for url in profile.start_urls)
    return found


def _dir_option(directory: Path) -> str:
    return "" if str(directory) == str(sites_dir(None)) else f" --dir {directory}"

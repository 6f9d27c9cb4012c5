"""`portalcrawl sites`: list the site profiles, or check that every profile file is valid."""

from __future__ import annotations

import argparse
import sys

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, sites_add
from portalcrawl.cli.runs import display_width
from portalcrawl.profiles import ProfileError, SiteProfile, iter_profile_files, load_profile_file, sites_dir
from portalcrawl.sharding import parse_shard, select_shard


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sites",
        help="list site profiles; --check validates them",
        description="List the site profiles (slug, name, enabled, start URLs). With --check, validate "
        "every profile file and report each problem as FILE: KEY: PROBLEM.",
        epilog="exit status: 0 all profiles valid, 1 some profile invalid, 2 no such directory",
    )
    parser.add_argument("--check", action="store_true", help="validate every profile file")
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    parser.add_argument(
        "--shard",
        metavar="I/N",
        help="only the enabled profiles that `portalcrawl crawl --all --shard I/N` crawls",
    )
    parser.set_defaults(handler=handle)
    sites_add.register(parser.add_subparsers(dest="sites_action", metavar="ACTION"))


def handle(args: argparse.Namespace) -> int:
    try:
        shard = parse_shard(args.shard) if args.shard is not None else None
    except ValueError as exc:
        print(f"portalcrawl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    directory = sites_dir(args.dir)
    if not directory.is_dir():
        print(f"portalcrawl: error: {directory}: no such directory", file=sys.stderr)
        return EXIT_USAGE
    profiles: list[SiteProfile] = []
    problems: list[str] = []
    for path in iter_profile_files(directory):
        try:
            profiles.append(load_profile_file(path))
        except ProfileError as exc:
            problems.append(str(exc))
            continue
        if args.check:
            print(f"ok       {path}")
    if args.check:
        for problem in problems:
            print(f"invalid  {problem}")
        print(f"{len(profiles)} valid, {len(problems)} invalid profile(s) in {directory}")
    else:
        empty = f"no valid site profiles in {directory}"
        if shard is not None:
            profiles = select_shard([p for p in profiles if p.enabled], shard)
            empty = f"no enabled site profile in shard {shard}"
        print(format_profiles(profiles) if profiles else empty)
        for problem in problems:
            print(f"portalcrawl: error: {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else EXIT_OK


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def format_profiles(profiles: list[SiteProfile]) -> str:
    """One row per profile; a profile with several start URLs continues on indented lines."""
    slug_width = max(len("slug"), *(len(p.slug) for p in profiles))
    name_width = max(len("name"), *(display_width(p.name) for p in profiles))
    lines = [f"{_pad('slug', slug_width)}  {_pad('name', name_width)}  enabled  start URLs"]
    for profile in profiles:
        enabled = "yes" if profile.enabled else "no"
        first, *rest = profile.start_urls
        lines.append(
            f"{_pad(profile.slug, slug_width)}  {_pad(profile.name, name_width)}  {enabled:<7}  {first}"
        )
        lines.extend(" " * (slug_width + name_width + 13) + url for url in rest)
    return "\n".join(lines)

"""`portalcrawl diagnose SITE`: fetch a profile's first listing page and one article, say where it breaks."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.diagnose import FAIL, ChainReport, diagnose_profile
from portalcrawl.fetch import Fetcher
from portalcrawl.middlewares.url_filter import HostPolicy
from portalcrawl.profiles import ProfileError, load_profile


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diagnose",
        help="say why a site yields nothing: robots, HTTP, wall, encoding, links, pager, fields",
        description="Fetch the first listing page of each of SITE's start URLs and one article from it, "
        "as a crawl would (robots.txt, URL filter, size limit, timeout), and say in plain words what "
        "works and where the chain breaks, with a suggestion.",
        epilog="exit status: 0 a crawl would archive articles, 1 it would not, 2 unknown or invalid profile",
    )
    parser.add_argument("site", metavar="SITE", help="profile slug")
    parser.add_argument("--dir", metavar="DIR", help="profiles directory (default: the packaged sites/)")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        profile = load_profile(args.site, args.dir)
    except ProfileError as error:
        print(f"portalcrawl diagnose: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{profile.slug}: {profile.name}")
    reports = diagnose_profile(profile, Fetcher(HostPolicy.of(profile)), now=datetime.now(UTC))
    for report in reports:
        print(format_report(report))
    working = sum(report.archives for report in reports)
    if working:
        print(f"verdict: a crawl would archive articles ({working} of {len(reports)} start URLs work)")
        return EXIT_OK
    print("verdict: a crawl would archive nothing; fix the first FAIL above")
    return EXIT_FAILED


def format_report(report: ChainReport) -> str:
    lines = [f"start URL {report.start_url}"]
    for finding in report.findings:
        lines.append(f"  {finding.level:<4}  {finding.message}")
        if finding.hint:
            lines.append(f"        → {finding.hint}")
    if not any(finding.level == FAIL for finding in report.findings) and not report.archives:
        lines.append(f"  {FAIL:<4}  no article reached")
    return "\n".join(lines)

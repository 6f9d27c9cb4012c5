"""`portalcrawl health`: is each site still collecting as it used to? Exit 1 names the ones that are not."""

from __future__ import annotations

import argparse
import json
import sys

from portalcrawl.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from portalcrawl.cli.options import ArgumentError, check_site, count
from portalcrawl.cli.runs import add_db_argument, format_table, open_existing
from portalcrawl.health import SiteHealth, site_health, sites_in
from portalcrawl.notify import NotifyError, check_notify_url, post, summary

HEALTH_HELP = """\
a site is unhealthy when:
  - its last runs failed or were blocked (how many in a row, and the reason of the latest)
  - it has no ok run in the last N days, or never had one
  - no article was published in the last N days where it usually has 2 or more (the median of the
    8 windows of N days before, by published_at), or under a quarter of a usual 8 or more
  - title, published_at, source or body_text is missing in over 50 points more of the articles first
    seen in the last N days than of older ones (5 new articles at least): extraction broke
  - more than 10% of the URLs its runs of the last N days tried failed

exit status: 0 every site healthy, 1 some site unhealthy (each named with its reasons on one line),
2 no database or an unknown SITE
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "health",
        help="check that each site is still collecting as usual (exit 1 if not)",
        description="Per site: the last ok run, articles published in the last N days against the\n"
        "site's own history, the share of new articles missing title/date/source/body against its\n"
        "history, failed or blocked runs in a row and the error rate. One line per site; cron or any\n"
        "monitor can alert on the exit status.",
        epilog=HEALTH_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("sites", nargs="*", metavar="SITE", help="only these sites (default: every site)")
    parser.add_argument("--days", type=count, default=7, metavar="N", help="the window (default: 7 days)")
    parser.add_argument("--json", action="store_true", help="one JSON object per site")
    parser.add_argument(
        "--notify", metavar="URL", help="POST a JSON summary to this webhook when a site is unhealthy"
    )
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        if args.days < 1:
            raise ArgumentError(f"--days {args.days}: must be a positive integer")
        if args.notify:
            check_notify_url(args.notify)
    except ValueError as error:
        print(f"portalcrawl health: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    db, status = open_existing("health", args.db)
    if db is None:
        return status
    try:
        for site in args.sites:
            check_site(db, site)
        sites = args.sites or sites_in(db)
        report = [site_health(db, site, days=args.days) for site in sites]
    except ArgumentError as error:
        print(f"portalcrawl health: error: {str(error).replace('--site ', '')}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.close()
    if args.json:
        for health in report:
            print(json.dumps(health.as_dict(), ensure_ascii=False))
    else:
        print(format_report(report, args.days))
    unhealthy = [h for h in report if not h.healthy]
    if unhealthy and args.notify:
        named = [{**h.as_dict(), "reason": "; ".join(h.problems)} for h in unhealthy]
        try:
            post(args.notify, summary("health", args.db, named, len(report)))
        except NotifyError as error:
            print(f"portalcrawl health: {error}", file=sys.stderr)
    return EXIT_FAILED if unhealthy else EXIT_OK


def format_report(report: list[SiteHealth], days: int) -> str:
    rows = [
        (
            h.site,
            "ok" if h.healthy else "UNHEALTHY",
            (h.last_ok_at or "never")[:16].replace("T", " "),
            h.new_articles,
            "" if h.usual_new_articles is None else f"{h.usual_new_articles:g}",
            h.failed_runs_in_a_row,
            "" if h.error_rate is None else f"{h.error_rate:.0%}",
            "; ".join(h.problems),
        )
        for h in report
    ]
    headers = ("site", "health", "last ok", f"new {days}d", "usual", "failed", "errors", "reason")
    return format_table(headers, rows)

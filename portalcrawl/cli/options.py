"""Options shared by the commands that read articles: which articles (site, dates, source, column)."""

from __future__ import annotations

import argparse
import re
from datetime import date

import sqlite_utils

# Whole ISO dates or their prefixes: "2026-06" is a bound too (to the end of June for --until).
_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
SITES_NAMED_IN_A_HINT = 8


class ArgumentError(ValueError):
    """A bad option value, reported as one line with exit status 2."""


def add_article_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument(
        "--since",
        metavar="DATE",
        help="only articles published on or after this date (YYYY-MM-DD, YYYY-MM or YYYY)",
    )
    parser.add_argument(
        "--until",
        metavar="DATE",
        help="only articles published on or before this date (2026-06 means to the end of June)",
    )
    parser.add_argument("--source", metavar="SOURCE", help="only articles with this 来源 (exactly)")
    parser.add_argument(
        "--column",
        metavar="COLUMN",
        help="only articles of this column (栏目) as their page names it, e.g. 部门动态",
    )


def article_filter_values(
    args: argparse.Namespace, db: sqlite_utils.Database, *, today: date | None = None
) -> dict[str, str | None]:
    """The keyword arguments of ``search`` and ``export_articles`` that ``add_article_filters`` parsed,
    checked: real dates, a ``--since`` not in the future, a ``--site`` the archive knows
    (``ArgumentError`` otherwise)."""
    since = date_bound("--since", args.since)
    if since is not None and since > (today or date.today()):
        raise ArgumentError(f"--since {args.since}: is in the future, so nothing can match")
    date_bound("--until", args.until)
    check_site(db, args.site)
    return {name: getattr(args, name) for name in ("site", "since", "until", "source", "column")}


def date_bound(option: str, text: str | None) -> date | None:
    """The first day of ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; ``ArgumentError`` if it is no real date."""
    if text is None:
        return None
    match = _DATE_BOUND.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
    except ValueError:
        raise ArgumentError(f"{option} {text!r}: expected a date YYYY-MM-DD (or YYYY-MM, YYYY)") from None


def check_site(db: sqlite_utils.Database, site: str | None) -> None:
    """Raise ``ArgumentError`` naming the archive's sites when ``site`` has no article and no run."""
    if site is None:
        return
    known = db.conn.execute(
        "SELECT 1 FROM articles WHERE site = ? UNION ALL SELECT 1 FROM crawl_runs WHERE site = ? LIMIT 1",
        (site, site),
    ).fetchone()
    if known:
        return
    sites = [
        row[0]
        for row in db.conn.execute(
            "SELECT site FROM crawl_runs UNION SELECT site FROM articles ORDER BY 1 LIMIT ?",
            (SITES_NAMED_IN_A_HINT + 1,),
        )
    ]
    if not sites:
        raise ArgumentError(f"--site {site}: the archive holds no site yet")
    shown = ", ".join(sites[:SITES_NAMED_IN_A_HINT]) + (", …" if len(sites) > SITES_NAMED_IN_A_HINT else "")
    raise ArgumentError(f"--site {site}: no such site in the archive (sites: {shown}; see portalcrawl stats)")


# Far beyond any real use, and well inside SQLite's 64-bit integers (a 20-digit --limit overflowed).
MAX_COUNT = 1_000_000


def count(text: str) -> int:
    """An argparse type: a positive integer up to ``MAX_COUNT`` (``--limit``, ``--max-pages``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to {MAX_COUNT}, got {text}")
    return value


def add_settings_argument(parser: argparse.ArgumentParser, *, help: str) -> None:
    """``-s/--set NAME=VALUE`` (repeatable), the Scrapy way to override a setting; checked by
    ``cli.crawl.crawl_settings``."""
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help=help)

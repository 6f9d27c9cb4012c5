"""Options shared by the commands that read articles: which articles (site, dates, source, column)."""

from __future__ import annotations

import argparse
import re
from datetime import date

_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def date_bound(text: str) -> str:
    """An argparse type: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, a real date."""
    match = _DATE_BOUND.fullmatch(text)
    try:
        if match is None:
            raise ValueError
        date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD (or YYYY-MM, YYYY), got {text!r}") from None
    return text


def add_article_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", metavar="SITE", help="only this site")
    parser.add_argument(
        "--since", metavar="DATE", type=date_bound, help="only articles published on or after this date"
    )
    parser.add_argument(
        "--until",
        metavar="DATE",
        type=date_bound,
        help="only articles published on or before this date (2026-06 means to the end of June)",
    )
    parser.add_argument("--source", metavar="SOURCE", help="only articles with this 来源 (exactly)")
    parser.add_argument(
        "--column",
        metavar="COLUMN",
        help="only articles of this column (栏目) as their page names it, e.g. 部门动态",
    )


def article_filter_values(args: argparse.Namespace) -> dict[str, str | None]:
    """The keyword arguments of ``search`` and ``export_articles`` that ``add_article_filters`` parsed."""
    return {name: getattr(args, name) for name in ("site", "since", "until", "source", "column")}

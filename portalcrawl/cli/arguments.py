"""Checks shared by the query commands: a --since date and a --site the archive knows."""

from __future__ import annotations

import re
from datetime import date

import sqlite_utils

# Whole ISO dates or their prefixes: published_at is ISO text, so "2026-01" is a bound too.
SINCE_FORMAT = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
SITES_NAMED_IN_A_HINT = 8


class ArgumentError(ValueError):
    """A bad option value, reported as one line with exit status 2."""


def checked_since(text: str | None, *, today: date | None = None) -> str | None:
    """``--since`` as given when it is a real, past date (YYYY-MM-DD, YYYY-MM or YYYY)."""
    if text is None:
        return None
    try:
        if not SINCE_FORMAT.fullmatch(text):
            raise ValueError(text)
        year, month, day = (int(part) for part in [*text.split("-"), "1", "1"][:3])
        since = date(year, month, day)
    except ValueError:
        raise ArgumentError(f"--since {text!r}: expected a date YYYY-MM-DD (or YYYY-MM, YYYY)") from None
    if since > (today or date.today()):
        raise ArgumentError(f"--since {text}: is in the future, so nothing can match")
    return text


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

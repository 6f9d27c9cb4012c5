"""`portalcrawl stats`: per site, how much is archived, how fresh it is and how the last crawl went."""

from __future__ import annotations

import argparse

from portalcrawl.cli import EXIT_OK
from portalcrawl.cli.runs import add_db_argument, format_table, open_existing, shown_outcome

# Per site: articles, newest article, and the last run with its error rate (errors per request).
STATS_SQL = """
WITH article_counts AS (
    SELECT site, count(*) AS articles, max(published_at) AS newest FROM articles GROUP BY site
),
last_runs AS (
    SELECT site, max(id) AS run_id FROM crawl_runs GROUP BY site
),
sites AS (
    SELECT site FROM article_counts UNION SELECT site FROM last_runs
)
SELECT
    sites.site,
    coalesce(article_counts.articles, 0),
    substr(article_counts.newest, 1, 10),
    replace(substr(coalesce(r.finished_at, r.started_at), 1, 16), 'T', ' '),
    r.status,
    coalesce(r.blocked_kind, r.reason),
    CASE WHEN r.requests > 0 THEN printf('%.1f%%', 100.0 * r.errors / r.requests) END,
    r.pid,
    r.started_at
FROM sites
LEFT JOIN article_counts ON article_counts.site = sites.site
LEFT JOIN last_runs ON last_runs.site = sites.site
LEFT JOIN crawl_runs r ON r.id = last_runs.run_id
ORDER BY sites.site
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "stats",
        help="per-site archive summary and last crawl outcome",
        description="For each site: articles archived, newest publication date, the last crawl run "
        "(time in UTC, status, reason) and its error rate (fetch errors per request).",
    )
    add_db_argument(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    db, status = open_existing("stats", args.db)
    if db is None:
        return status
    rows = db.conn.execute(STATS_SQL).fetchall()
    total = db.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    db.close()
    headers = ("site", "articles", "newest", "last run", "status", "reason", "errors")
    shown = [(*row[:4], *shown_outcome(row[4], row[5], row[7], row[8]), row[6]) for row in rows]
    print(format_table(headers, shown))
    print(f"\n{total} articles in {len(rows)} sites ({args.db})")
    return EXIT_OK

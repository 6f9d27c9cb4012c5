"""Datasette plugin: the SQL function through which the archive's search query routes short words."""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

from portalcrawl.search import bigram_match

# The SQL name of `search.bigram_match`, which `browse.SEARCH_SQL` calls.
BIGRAM_MATCH_FUNCTION = "portalcrawl_bigram_match"
# The plugin's name: its `datasette` entry point, or what `browse.serve` registers it as.
PLUGIN_NAME = "portalcrawl-search"


def _bigram_match(term: object) -> str | None:
    return bigram_match(term) if isinstance(term, str) else None


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function(BIGRAM_MATCH_FUNCTION, 1, _bigram_match, deterministic=True)

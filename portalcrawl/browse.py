"""Datasette set up for the archive: a search that finds 1–2 character words, readable defaults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import uvicorn
from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm

from portalcrawl import datasette_plugin
from portalcrawl.datasette_plugin import BIGRAM_MATCH_FUNCTION
from portalcrawl.search import TRIGRAM_MIN

# The columns the articles table page shows unless its URL picks others (?_col= / ?_nocol=):
# body_html and the extraction bookkeeping would make every row screens high.
DEFAULT_COLUMNS = ("published_date", "site", "column", "source", "title", "url")
FACETS = ("site", "column", "source", "published_date")
SEARCH_QUERY = "search"
# One term or phrase :q, as `portalcrawl search` finds it: the trigram index for three characters or
# more, the bigram index for a term it holds as one token (the rule `search` uses), and a scan of the
# text otherwise (the trigram index finds nothing below three characters, which is what Datasette's
# own search box uses).
SEARCH_SQL = f"""
select a.id, a.published_date, a.site, a."column", a.source, a.title, a.url
from articles a
where trim(:q) != '' and case
  when length(trim(:q)) >= {TRIGRAM_MIN} then a.id in (
    select rowid from articles_fts where articles_fts match '"' || replace(trim(:q), '"', '""') || '"')
  when {BIGRAM_MATCH_FUNCTION}(trim(:q)) is not null then a.id in (
    select rowid from articles_bigrams where articles_bigrams match {BIGRAM_MATCH_FUNCTION}(trim(:q)))
  else instr(lower(a.title), lower(trim(:q))) > 0 or instr(lower(a.body_text), lower(trim(:q))) > 0
end
order by a.published_at desc nulls last, a.id desc
""".strip()

# Shown above the table: only what a reader could get wrong.
COLUMN_DESCRIPTIONS = {
    "published_date": "the date the portal showed; facet and filter on this",
    "published_at": "time with its offset (+08:00); SQLite's date() of it is the UTC date, often a day early",
    "column": "the column (栏目) the article page names",
}


def datasette_metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the archive served under the name ``database`` (its file stem)."""
    return {
        "title": "portalcrawl archive",
        "description": "Articles crawled by portalcrawl. Search with the 'search' query: it finds "
        "words of any length, 会议 and 疫苗 too.",
        "databases": {
            database: {
                "tables": {
                    "articles": {
                        "sort_desc": "published_date",
                        "facets": list(FACETS),
                        "label_column": "title",
                        "size": 50,
                        "facet_size": 10,
                        "columns": COLUMN_DESCRIPTIONS,
                    },
                    "articles_bigrams": {"hidden": True},
                    "metadata": {"hidden": True},
                    "_sqlite_migrations": {"hidden": True},
                },
                "queries": {
                    SEARCH_QUERY: {
                        "title": "Search articles (any length: 会议, 疫苗, 安全生产)",
                        "description": "One word or phrase, found in titles and bodies, newest first.",
                        "sql": SEARCH_SQL,
                        "hide_sql": True,
                    }
                },
            }
        },
    }


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class ArchivePlugin:
    """Datasette hooks for one served archive: default columns, short words sent to the search query."""

    def __init__(self, database: str) -> None:
        # Datasette lists plugins by their module's name.
        self.__name__ = __name__
        self.table_path = f"/{database}/articles"
        self.query_path = f"/{database}/{SEARCH_QUERY}"

    @hookimpl
    def asgi_wrapper(self) -> Callable[[App], App]:
        def wrap(app: App) -> App:
            async def route(scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] == "http" and scope["path"] in (self.table_path, self.table_path + ".json"):
                    args = parse_qsl(
                        scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True
                    )
                    short_search = next((v.strip() for k, v in args if k == "_search"), "")
                    if 0 < len(short_search) < TRIGRAM_MIN:
                        await self._redirect_to_query(scope, send, short_search)
                        return
                    if scope["path"] == self.table_path and not any(k in ("_col", "_nocol") for k, _ in args):
                        args += [("_col", column) for column in DEFAULT_COLUMNS]
                        scope = {**scope, "query_string": urlencode(args).encode()}
                await app(scope, receive, send)

            return route

        return wrap

    async def _redirect_to_query(self, scope: Scope, send: Send, words: str) -> None:
        # Datasette's search box uses the trigram index, which finds nothing below three characters.
        suffix = ".json" if scope["path"].endswith(".json") else ""
        location = f"{self.query_path}{suffix}?{urlencode({'q': words})}"
        headers = [(b"location", location.encode())]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def serve(path: Path, *, host: str, port: int) -> None:
    """Serve the archive at ``path`` with the metadata and hooks above until interrupted."""
    database = path.stem
    if not pm.is_registered(datasette_plugin):
        # Not installed with its entry point (run from a source checkout): registered by hand.
        pm.register(datasette_plugin, name=datasette_plugin.PLUGIN_NAME)
    pm.register(ArchivePlugin(database), name="portalcrawl")
    datasette = Datasette([str(path)], metadata=datasette_metadata(database))
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning", lifespan="on")

"""Full-text search of the archive, for Chinese and other text, with user input never parsed as FTS syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from portalcrawl.database import article_filters, bigram_tokens, has_cjk

# The trigram tokenizer matches substrings of at least three characters; shorter terms go elsewhere.
TRIGRAM_MIN = 3
# Characters of context shown around the first hit when the snippet is built in Python.
SNIPPET_CONTEXT = 30
# Tokens (characters, for trigram) in an FTS5 snippet.
SNIPPET_TOKENS = 32


@dataclass(frozen=True, slots=True)
class Match:
    url: str
    title: str | None
    published_at: str | None
    site: str
    snippet: str


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string: quotes doubled, so ``OR``, ``NEAR(``, ``*``, ``-`` are just text."""
    return '"' + text.replace('"', '""') + '"'


def query_terms(query: str) -> list[str]:
    """Whitespace-separated terms of a user query; all of them must match."""
    return [term for term in query.split() if term]


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    site: str | None = None,
    since: str | None = None,
    limit: int = 20,
    marks: tuple[str, str] = ("[", "]"),
) -> list[Match]:
    """Articles containing every term of ``query`` in title or body, newest first.

    Terms of three or more characters are substrings found with the trigram index (FTS5 snippets).
    Shorter terms are looked up in the bigram index when each is one of its tokens — two CJK
    characters, or a whole word such as ``ai`` — and otherwise (one CJK character, ``A会``) the whole
    query scans the articles table with ``instr``, slow on a large archive but right (trigram ``LIKE``
    with short patterns returns nothing on SQLite 3.40). ``marks`` surround the hits in ``snippet``.
    """
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    filters, filter_args = article_filters(site, since, prefix="a.")
    long_terms = [term for term in terms if len(term) >= TRIGRAM_MIN]
    short_terms = [term for term in terms if len(term) < TRIGRAM_MIN]
    if not short_terms:
        return _trigram_search(
            db, terms=terms, filters=filters, filter_args=filter_args, limit=limit, marks=marks
        )
    short_tokens = [bigram_tokens(term) for term in short_terms]
    conditions: list[str] = []
    args: list[Any] = []
    if all(len(tokens) == 1 and not _is_lone_cjk(next(iter(tokens))) for tokens in short_tokens):
        conditions.append("a.id IN (SELECT rowid FROM articles_bigrams WHERE articles_bigrams MATCH ?)")
        args.append(" ".join(fts_phrase(token) for tokens in short_tokens for token in tokens))
        if long_terms:
            conditions.append("a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            args.append(" ".join(fts_phrase(term) for term in long_terms))
    else:
        for term in terms:
            conditions.append(
                "(instr(lower(a.title), lower(?)) > 0 OR instr(lower(a.body_text), lower(?)) > 0)"
            )
            args.extend((term, term))
    sql = (
        "SELECT a.url, a.title, a.published_at, a.site, a.body_text FROM articles a WHERE "
        + " AND ".join(conditions + filters)
        + " ORDER BY a.published_at DESC NULLS LAST, a.id DESC LIMIT ?"
    )
    rows = db.conn.execute(sql, [*args, *filter_args, limit]).fetchall()
    return [
        Match(url, title, published_at, site_, _python_snippet(title, body, terms, marks))
        for url, title, published_at, site_, body in rows
    ]


def _is_lone_cjk(token: str) -> bool:
    # A single CJK character is a token only where it stands alone, so the index cannot find it inside a run.
    return len(token) == 1 and has_cjk(token)


def _trigram_search(
    db: sqlite_utils.Database,
    *,
    terms: list[str],
    filters: list[str],
    filter_args: list[Any],
    limit: int,
    marks: tuple[str, str],
) -> list[Match]:
    sql = (
        "SELECT a.url, a.title, a.published_at, a.site, "
        f"snippet(articles_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}) "
        "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?"
    )
    sql += "".join(f" AND {condition}" for condition in filters)
    sql += " ORDER BY a.published_at DESC NULLS LAST, a.id DESC LIMIT ?"
    match = " ".join(fts_phrase(term) for term in terms)
    rows = db.conn.execute(sql, [marks[0], marks[1], match, *filter_args, limit]).fetchall()
    return [
        Match(url, title, published_at, site, snippet) for url, title, published_at, site, snippet in rows
    ]


def _python_snippet(title: str | None, body: str, terms: list[str], marks: tuple[str, str]) -> str:
    text = body or title or ""
    lowered = text.lower()
    positions = [lowered.find(term.lower()) for term in terms]
    found = [pos for pos in positions if pos >= 0]
    if not found:
        text = title or text
        lowered = text.lower()
        found = [pos for pos in (lowered.find(term.lower()) for term in terms) if pos >= 0] or [0]
    start = max(0, min(found) - SNIPPET_CONTEXT)
    end = min(len(text), min(found) + SNIPPET_CONTEXT * 2)
    excerpt = text[start:end].replace("\n", " ")
    pattern = re.compile(
        "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    excerpt = pattern.sub(lambda hit: f"{marks[0]}{hit.group()}{marks[1]}", excerpt)
    return ("…" if start > 0 else "") + excerpt + ("…" if end < len(text) else "")

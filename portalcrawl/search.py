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
SEARCH_ORDERS = ("newest", "relevance")
# A title hit counts as much as this many hits in the body (bm25 column weight, and the short-term score).
TITLE_WEIGHT = 10.0
NEWEST_FIRST = "a.published_at DESC NULLS LAST, a.id DESC"
# Line breaks, tabs and other control characters in a snippet would break a terminal's layout.
# FTS5 marks hits with STX/ETX, which archived text never holds (storage keeps no control characters),
# so that the caller's marks (terminal colour escapes are control characters) go in after the snippet
# is made one line.
_HIT_START, _HIT_END = "\x02", "\x03"
_LAYOUT_BREAKING = re.compile(r"[\s\x00\x01\x04-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class Match:
    url: str
    title: str | None
    published_at: str | None
    site: str
    snippet: str
    source: str | None = None
    column: str | None = None


def fts_phrase(text: str) -> str:
    """``text`` as one FTS5 string: quotes doubled, so ``OR``, ``NEAR(``, ``*``, ``-`` are just text."""
    return '"' + text.replace('"', '""') + '"'


def bigram_match(term: str) -> str | None:
    """The bigram index's MATCH phrase for a term shorter than ``TRIGRAM_MIN``: its one
    ``bigram_tokens`` token (two CJK characters, or a word such as ``ai``); None when the index
    cannot answer it (one CJK character, ``A会``) and the text must be scanned.

    The one rule for short terms: ``search``, ``search_attachments`` and the Datasette search query
    (``browse``, as an SQL function) all ask it.
    """
    tokens = bigram_tokens(term)
    if len(tokens) != 1:
        return None
    (token,) = tokens
    # A single CJK character is a token only where it stands alone, so the index cannot find it inside a run.
    if len(token) == 1 and has_cjk(token):
        return None
    return fts_phrase(token)


def query_terms(query: str) -> list[str]:
    """Whitespace-separated terms of a user query; all of them must match."""
    return [term for term in query.split() if term]


def one_line(text: str) -> str:
    """``text`` with every run of whitespace or control characters as one space."""
    return _LAYOUT_BREAKING.sub(" ", text).strip()


def search(
    db: sqlite_utils.Database,
    query: str,
    *,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    column: str | None = None,
    order: str = "newest",
    limit: int = 20,
    marks: tuple[str, str] = ("[", "]"),
) -> list[Match]:
    """Articles containing every term of ``query`` in title or body, newest first or best first.

    Terms of three or more characters are substrings found with the trigram index (FTS5 snippets).
    Shorter terms are looked up in the bigram index when each is one of its tokens — two CJK
    characters, or a whole word such as ``ai`` — and otherwise (one CJK character, ``A会``) the whole
    query scans the articles table with ``instr``, slow on a large archive but right (trigram ``LIKE``
    with short patterns returns nothing on SQLite 3.40). ``marks`` surround the hits in ``snippet``,
    which is one line. ``order="relevance"`` ranks by FTS5's bm25 for trigram queries and, for short
    terms, by how often the terms occur; a title hit weighs ``TITLE_WEIGHT`` body hits.
    """
    if order not in SEARCH_ORDERS:
        raise ValueError(f"unknown order {order!r}; choose one of {', '.join(SEARCH_ORDERS)}")
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    filters, filter_args = article_filters(
        site, since, until=until, source=source, column=column, prefix="a."
    )
    long_terms = [term for term in terms if len(term) >= TRIGRAM_MIN]
    short_terms = [term for term in terms if len(term) < TRIGRAM_MIN]
    if not short_terms:
        return _trigram_search(
            db, terms=terms, filters=filters, filter_args=filter_args, order=order, limit=limit, marks=marks
        )
    short_matches = [bigram_match(term) for term in short_terms]
    conditions: list[str] = []
    args: list[Any] = []
    if None not in short_matches:
        conditions.append("a.id IN (SELECT rowid FROM articles_bigrams WHERE articles_bigrams MATCH ?)")
        args.append(" ".join(filter(None, short_matches)))
        if long_terms:
            conditions.append("a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            args.append(" ".join(fts_phrase(term) for term in long_terms))
    else:
        for term in terms:
            conditions.append(
                "(instr(lower(a.title), lower(?)) > 0 OR instr(lower(a.body_text), lower(?)) > 0)"
            )
            args.extend((term, term))
    order_by = NEWEST_FIRST
    order_args: list[Any] = []
    if order == "relevance":
        order_by, order_args = _occurrence_score(terms), [t for term in terms for t in (term, term, term)]
        order_by += f" DESC, {NEWEST_FIRST}"
    sql = (
        'SELECT a.url, a.title, a.published_at, a.site, a.source, a."column", a.body_text '
        "FROM articles a WHERE " + " AND ".join(conditions + filters) + f" ORDER BY {order_by} LIMIT ?"
    )
    rows = db.conn.execute(sql, [*args, *filter_args, *order_args, limit]).fetchall()
    return [
        Match(url, title, published_at, site_, _python_snippet(title, body, terms, marks), source_, column_)
        for url, title, published_at, site_, source_, column_, body in rows
    ]


def _occurrence_score(terms: list[str]) -> str:
    """An SQL score: each term's occurrences in the body plus ``TITLE_WEIGHT`` if the title has it.

    Each term takes three parameters (title, body, body).
    """
    per_term = (
        f"(CASE WHEN instr(lower(a.title), lower(?)) > 0 THEN {TITLE_WEIGHT} ELSE 0 END"
        " + (length(a.body_text) - length(replace(lower(a.body_text), lower(?), ''))) * 1.0"
        " / max(length(?), 1))"
    )
    return "(" + " + ".join([per_term] * len(terms)) + ")"


def _trigram_search(
    db: sqlite_utils.Database,
    *,
    terms: list[str],
    filters: list[str],
    filter_args: list[Any],
    order: str,
    limit: int,
    marks: tuple[str, str],
) -> list[Match]:
    sql = (
        "SELECT a.url, a.title, a.published_at, a.site, "
        f"snippet(articles_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}), a.source, a.\"column\" "
        "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?"
    )
    sql += "".join(f" AND {condition}" for condition in filters)
    # bm25 is smaller for better matches; its arguments weigh the title and body_text columns.
    ranking = f"bm25(articles_fts, {TITLE_WEIGHT}, 1.0), " if order == "relevance" else ""
    sql += f" ORDER BY {ranking}{NEWEST_FIRST} LIMIT ?"
    match = " ".join(fts_phrase(term) for term in terms)
    rows = db.conn.execute(sql, [_HIT_START, _HIT_END, match, *filter_args, limit]).fetchall()
    return [
        Match(url, title, published_at, site, _marked(one_line(snippet), marks), source, column)
        for url, title, published_at, site, snippet, source, column in rows
    ]


def _marked(snippet: str, marks: tuple[str, str]) -> str:
    return snippet.replace(_HIT_START, marks[0]).replace(_HIT_END, marks[1])


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
    excerpt = one_line(text[start:end])
    pattern = re.compile(
        "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    excerpt = pattern.sub(lambda hit: f"{marks[0]}{hit.group()}{marks[1]}", excerpt)
    return ("…" if start > 0 else "") + excerpt + ("…" if end < len(text) else "")


@dataclass(frozen=True, slots=True)
class AttachmentMatch:
    """A hit inside an attachment's text, shown under the article that links it."""

    url: str
    title: str | None
    published_at: str | None
    site: str
    attachment_name: str | None
    attachment_url: str
    page: int | None
    snippet: str


def search_attachments(
    db: sqlite_utils.Database,
    query: str,
    *,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    column: str | None = None,
    limit: int = 20,
    marks: tuple[str, str] = ("[", "]"),
) -> list[AttachmentMatch]:
    """Attachments whose text contains every term of ``query``, under their articles, newest first.

    The same lookups as ``search`` over ``files_fts`` (trigram) and ``files_bigrams``; the page is the
    first page (``\\f``-separated) holding the first term.
    """
    terms = query_terms(query)
    if not terms or limit <= 0:
        return []
    filters, filter_args = article_filters(
        site, since, until=until, source=source, column=column, prefix="a."
    )
    long_terms = [term for term in terms if len(term) >= TRIGRAM_MIN]
    short_matches = [bigram_match(term) for term in terms if len(term) < TRIGRAM_MIN]
    conditions: list[str] = []
    args: list[Any] = []
    if None in short_matches:
        for term in terms:
            conditions.append("instr(lower(f.text), lower(?)) > 0")
            args.append(term)
    else:
        if short_matches:
            conditions.append("f.id IN (SELECT rowid FROM files_bigrams WHERE files_bigrams MATCH ?)")
            args.append(" ".join(filter(None, short_matches)))
        if long_terms:
            conditions.append("f.id IN (SELECT rowid FROM files_fts WHERE files_fts MATCH ?)")
            args.append(" ".join(fts_phrase(term) for term in long_terms))
    sql = (
        "SELECT a.url, a.title, a.published_at, a.site, t.name, t.url, f.text "
        "FROM files f JOIN attachments t ON t.sha256 = f.sha256 AND t.status = 'downloaded' "
        "JOIN articles a ON a.url = t.article_url WHERE "
        + " AND ".join(conditions + filters)
        + " ORDER BY a.published_at DESC NULLS LAST, a.id DESC, t.id LIMIT ?"
    )
    rows = db.conn.execute(sql, [*args, *filter_args, limit]).fetchall()
    matches = []
    for url, title, published_at, site_, name, attachment_url, text in rows:
        page, page_text = _page_of(text or "", terms[0])
        snippet = _python_snippet(None, page_text, terms, marks)
        matches.append(AttachmentMatch(url, title, published_at, site_, name, attachment_url, page, snippet))
    return matches


def _page_of(text: str, term: str) -> tuple[int | None, str]:
    """The 1-based page holding ``term`` and that page's text (None for a file without pages)."""
    pages = text.split("\f")
    lowered = term.lower()
    for number, page in enumerate(pages, start=1):
        if lowered in page.lower():
            return (number if len(pages) > 1 else None), page
    return None, text

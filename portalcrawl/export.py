"""Stream archived articles out as JSON Lines or CSV, one row at a time whatever the archive's size."""

from __future__ import annotations

import csv
import json
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Any, TextIO

import sqlite_utils

from portalcrawl.database import ARTICLE_COLUMNS, JSON_FIELDS, article_filters, quote

EXPORT_FORMATS = ("jsonl", "csv")
EXPORT_COLUMNS: tuple[str, ...] = ("id", *ARTICLE_COLUMNS)
# The article's attachments with their outcome and extracted text, as one JSON array (--attachment-text).
ATTACHMENT_TEXT_SQL = (
    "(SELECT json_group_array(json_object('url', t.url, 'name', t.name, 'status', t.status, "
    "'kind', f.kind, 'pages', f.pages, 'extract_status', f.extract_status, 'text', f.text)) "
    "FROM attachments t LEFT JOIN files f ON f.sha256 = t.sha256 WHERE t.article_url = articles.url)"
)
# Excel opens a UTF-8 CSV as the local ANSI code page (GBK on Chinese Windows) unless it starts with one.
UTF8_BOM = "\ufeff"


def iter_article_rows(
    db: sqlite_utils.Database,
    *,
    columns: tuple[str, ...] = EXPORT_COLUMNS,
    site: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    column: str | None = None,
    attachment_text: bool = False,
) -> Generator[tuple[Any, ...]]:
    """Article rows with ``columns`` in that order (then ``attachment_text``), oldest stored first, lazily."""
    unknown = [name for name in columns if name not in EXPORT_COLUMNS]
    if unknown:
        raise ValueError(f"unknown column {unknown[0]!r}; choose from {', '.join(EXPORT_COLUMNS)}")
    conditions, args = article_filters(site, since, until=until, source=source, column=column)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    selected = ", ".join(quote(name) for name in columns)
    if attachment_text:
        selected += f", {ATTACHMENT_TEXT_SQL}"
    yield from db.conn.execute(f"SELECT {selected} FROM articles{where} ORDER BY id", args)


def export_articles(
    db: sqlite_utils.Database,
    out: TextIO,
    *,
    fmt: str = "jsonl",
    columns: tuple[str, ...] = EXPORT_COLUMNS,
    bom: bool = False,
    attachment_text: bool = False,
    **filters: str | None,
) -> int:
    """Write the matching articles to ``out`` and return how many were written.

    ``filters`` are those of ``iter_article_rows`` (site, since, until, source, column). JSON Lines
    carries lists and dicts as JSON values; CSV keeps them as JSON text in their cell, with a header
    row, and starts with a UTF-8 BOM when ``bom`` is set. ``attachment_text`` adds a column
    ``attachment_text``: the article's attachments (url, name, status, kind, pages, extract_status, text).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    # Closed on the way out even when ``out`` fails (``export | head``): a cursor left open would be
    # finalised after the database is closed, with a traceback on stderr.
    rows = iter_article_rows(db, columns=columns, attachment_text=attachment_text, **filters)
    if attachment_text:
        columns = (*columns, "attachment_text")
    with closing(rows):
        return _write_rows(rows, out, columns=columns, fmt=fmt, bom=bom)


def _write_rows(
    rows: Iterator[tuple[Any, ...]], out: TextIO, *, columns: tuple[str, ...], fmt: str, bom: bool
) -> int:
    count = 0
    if fmt == "csv":
        if bom:
            out.write(UTF8_BOM)
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
    json_names = [name for name in columns if name in JSON_FIELDS or name == "attachment_text"]
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        for name in json_names:
            record[name] = json.loads(record[name]) if record[name] else None
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count

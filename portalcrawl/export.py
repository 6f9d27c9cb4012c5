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
# Excel opens a UTF-8 CSV as the local ANSI code page (GBK on Chinese Windows) unless it starts with one.
UTF8_BOM = "\ufeff"


def iter_article_rows(
    db: sqlite_utils.Database, *, site: str | None = None, since: str | None = None
) -> Generator[tuple[Any, ...]]:
    """Article rows in ``EXPORT_COLUMNS`` order, oldest stored first, read lazily from a cursor."""
    conditions, args = article_filters(site, since)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = ", ".join(quote(column) for column in EXPORT_COLUMNS)
    yield from db.conn.execute(f"SELECT {columns} FROM articles{where} ORDER BY id", args)


def export_articles(
    db: sqlite_utils.Database,
    out: TextIO,
    *,
    fmt: str = "jsonl",
    site: str | None = None,
    since: str | None = None,
    bom: bool = False,
) -> int:
    """Write the matching articles to ``out`` and return how many were written.

    JSON Lines carries lists and dicts as JSON values; CSV keeps them as JSON text in their cell, with a
    header row, and starts with a UTF-8 BOM when ``bom`` is set.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    # Closed on the way out even when ``out`` fails (``export | head``): a cursor left open would be
    # finalised after the database is closed, with a traceback on stderr.
    with closing(iter_article_rows(db, site=site, since=since)) as rows:
        return _write_rows(rows, out, fmt=fmt, bom=bom)


def _write_rows(rows: Iterator[tuple[Any, ...]], out: TextIO, *, fmt: str, bom: bool) -> int:
    count = 0
    if fmt == "csv":
        if bom:
            out.write(UTF8_BOM)
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
    json_positions = [i for i, column in enumerate(EXPORT_COLUMNS) if column in JSON_FIELDS]
    for row in rows:
        record = dict(zip(EXPORT_COLUMNS, row, strict=True))
        for position in json_positions:
            column = EXPORT_COLUMNS[position]
            record[column] = json.loads(record[column]) if record[column] else None
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count

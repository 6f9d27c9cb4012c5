"""Stream archived articles out as JSON Lines or CSV, one row at a time whatever the archive's size."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
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
    site: str | None = None,
    since: str | None = None,
    attachment_text: bool = False,
) -> Iterator[tuple[Any, ...]]:
    """Article rows in ``EXPORT_COLUMNS`` order (then ``attachment_text``), oldest stored first, lazily."""
    conditions, args = article_filters(site, since)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = ", ".join(quote(column) for column in EXPORT_COLUMNS)
    if attachment_text:
        columns += f", {ATTACHMENT_TEXT_SQL}"
    yield from db.conn.execute(f"SELECT {columns} FROM articles{where} ORDER BY id", args)


def export_articles(
    db: sqlite_utils.Database,
    out: TextIO,
    *,
    fmt: str = "jsonl",
    site: str | None = None,
    since: str | None = None,
    bom: bool = False,
    attachment_text: bool = False,
) -> int:
    """Write the matching articles to ``out`` and return how many were written.

    JSON Lines carries lists and dicts as JSON values; CSV keeps them as JSON text in their cell, with a
    header row, and starts with a UTF-8 BOM when ``bom`` is set. ``attachment_text`` adds a column
    ``attachment_text``: the article's attachments (url, name, status, kind, pages, extract_status, text).
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
    rows = iter_article_rows(db, site=site, since=since, attachment_text=attachment_text)
    columns = (*EXPORT_COLUMNS, "attachment_text") if attachment_text else EXPORT_COLUMNS
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
    json_columns = [column for column in columns if column in JSON_FIELDS or column == "attachment_text"]
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        for column in json_columns:
            record[column] = json.loads(record[column]) if record[column] else None
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count

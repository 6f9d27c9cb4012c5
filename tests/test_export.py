"""Exporting the archive as JSON Lines and CSV (with the BOM Excel needs), streamed from a cursor."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from portalcrawl.database import open_database, upsert_articles
from portalcrawl.export import EXPORT_COLUMNS, UTF8_BOM, export_articles, iter_article_rows
from portalcrawl.items import Article

ARTICLES = [
    Article(
        url="https://www.example.gov.cn/art/1.html",
        site="gov",
        title="关于印发《实施方案》的通知",
        published_at="2026-01-16T19:01:55+08:00",
        body_text='第一段，含逗号、"引号"。\n第二段\r\n第三段',
        attachments=[{"url": "https://www.example.gov.cn/P0.pdf", "name": "附件1：方案.pdf"}],
        gov_meta={"ArticleTitle": "关于印发《实施方案》的通知"},
        column="通知公告",
    ),
    Article(url="https://news.example.com/2.html", site="news", title="新闻", published_at="2025-05-01"),
]


@pytest.fixture
def db(tmp_path: Path):
    db = open_database(tmp_path / "e.db")
    upsert_articles(db, ARTICLES, 1)
    yield db
    db.close()


def test_jsonl_round_trip(db) -> None:
    out = io.StringIO()
    assert export_articles(db, out, fmt="jsonl") == 2
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["url"] for r in records] == [a.url for a in ARTICLES]
    first = records[0]
    assert first["body_text"] == ARTICLES[0].body_text
    assert first["attachments"] == ARTICLES[0].attachments
    assert first["gov_meta"] == ARTICLES[0].gov_meta
    assert first["column"] == "通知公告"
    assert first["first_seen_run_id"] == 1
    assert list(first) == list(EXPORT_COLUMNS)
    assert "关于印发" in out.getvalue()  # UTF-8 text, not \\u escapes


def test_csv_round_trip_with_header(db) -> None:
    out = io.StringIO(newline="")
    assert export_articles(db, out, fmt="csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0]["body_text"] == ARTICLES[0].body_text
    assert json.loads(rows[0]["attachments"]) == ARTICLES[0].attachments
    assert rows[1]["title"] == "新闻"
    assert not out.getvalue().startswith(UTF8_BOM)


def test_csv_bom_for_excel(db, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        export_articles(db, out, fmt="csv", bom=True)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,url,")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert [row["site"] for row in csv.DictReader(handle)] == ["gov", "news"]


def test_filters(db) -> None:
    assert export_articles(db, io.StringIO(), site="news") == 1
    assert export_articles(db, io.StringIO(), since="2026-01-01") == 1
    assert export_articles(db, io.StringIO(), site="none") == 0


def test_rows_are_read_lazily(db) -> None:
    rows = iter_article_rows(db)
    assert next(rows)[1] == ARTICLES[0].url
    assert next(rows)[1] == ARTICLES[1].url


def test_unknown_format(db) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export_articles(db, io.StringIO(), fmt="xml")

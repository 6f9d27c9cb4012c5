"""`published_date`: the date the portal showed, which SQLite's date() gets wrong after midnight."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from portalcrawl import database
from portalcrawl.database import open_database, published_date_of
from tests.conftest import CrawlRunner, PortalFactory

# One TRS column whose articles all appear at half past midnight, Beijing time.
AFTER_MIDNIGHT_PORTAL = """
name = "凌晨发布测试市"
[[columns]]
name = "jrjj"
title = "今日聚焦"
family = "trs"
path = "/xwzx/jrjj/"
articles = 4
per_page = 10
start = "2026-01-10T00:30:00"
step_seconds = 86400
"""


def test_an_article_published_at_0030_beijing_time_keeps_its_beijing_date(
    tmp_path: Path, portal_server: PortalFactory, run_crawl: CrawlRunner
) -> None:
    portal_dir = tmp_path / "portal"
    portal_dir.mkdir()
    (portal_dir / "portal.toml").write_text(AFTER_MIDNIGHT_PORTAL, encoding="utf-8")
    server = portal_server(str(portal_dir))
    db_path = tmp_path / "archive.db"

    result = run_crawl(["-a", f"url={server.start_url('jrjj')}"], db_path)

    assert result.returncode == 0, result.stderr[-2000:]
    db = open_database(db_path, create=False)
    rows = db.execute(
        "SELECT published_at, published_date, date(published_at) FROM articles ORDER BY published_at"
    ).fetchall()
    db.close()
    assert [row[0] for row in rows] == [f"2026-01-{day}T00:30:00+08:00" for day in (11, 12, 13, 14)]
    assert [row[1] for row in rows] == [f"2026-01-{day}" for day in (11, 12, 13, 14)]
    # What the column is for: SQL's own date() puts each article on the day before.
    assert [row[2] for row in rows] == [f"2026-01-{day}" for day in (10, 11, 12, 13)]


def test_migration_backfills_published_date_of_existing_articles(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = database.MIGRATIONS.index(database._add_published_date)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for step in database.MIGRATIONS[:before]:
        step(conn)
    conn.execute("INSERT INTO metadata VALUES ('schema_version', ?)", (str(before),))
    rows = [
        ("https://a.gov.cn/1.html", "2026-01-16T00:30:00+08:00"),
        ("https://a.gov.cn/2.html", "2026-01-16"),
        ("https://a.gov.cn/3.html", "2026-01"),
        ("https://a.gov.cn/4.html", None),
    ]
    conn.executemany(
        "INSERT INTO articles (url, published_at, first_seen_at) VALUES (?, ?, '2026-02-01')", rows
    )
    conn.commit()
    conn.close()

    db = open_database(path)
    dates = db.execute("SELECT published_date FROM articles ORDER BY id").fetchall()
    plan = " ".join(
        row[3]
        for row in db.execute("EXPLAIN QUERY PLAN SELECT id FROM articles WHERE published_date >= '2026'")
    )
    db.close()
    assert [row[0] for row in dates] == ["2026-01-16", "2026-01-16", None, None]
    assert "published_date" in plan


def test_published_date_is_the_date_as_written_whatever_the_offset() -> None:
    assert published_date_of("2026-01-16T00:30:00+08:00") == "2026-01-16"
    assert published_date_of("2026-01-15T23:59+09:00") == "2026-01-15"
    assert published_date_of("2026-01-16") == "2026-01-16"
    assert published_date_of("2026-01") is None
    assert published_date_of(None) is None

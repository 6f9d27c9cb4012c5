"""The archive's schema, migrations, upserts, crawl runs and listing state."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from portalcrawl import database
from portalcrawl.database import (
    SCHEMA_VERSION,
    Counts,
    DatabaseError,
    finish_run,
    get_listing_state,
    mark_listing_complete,
    open_database,
    record_fetch_error,
    reset_site,
    start_run,
    upsert_articles,
)
from portalcrawl.items import Article


def article(n: int, body: str = "各区县人民政府要高度重视，认真组织实施。", **fields: object) -> Article:
    return Article(
        url=f"https://www.example.gov.cn/art/2026/1/{n}/art_1_{n}.html",
        site="example",
        title=f"关于开展第{n}批科技创新项目申报工作的通知",
        published_at=f"2026-01-{n:02d}T09:00:00+08:00",
        body_text=body,
        attachments=[{"url": f"https://www.example.gov.cn/P0{n}.pdf", "name": "附件1.pdf"}],
        gov_meta={"ArticleTitle": f"第{n}批"},
        **fields,  # type: ignore[arg-type]
    )


def trigram_rowids(db, text: str) -> list[int]:
    rows = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (f'"{text}"',))
    return sorted(row[0] for row in rows)


def bigram_rowids(db, token: str) -> list[int]:
    rows = db.execute("SELECT rowid FROM articles_bigrams WHERE articles_bigrams MATCH ?", (f'"{token}"',))
    return sorted(row[0] for row in rows)


@pytest.fixture
def db(tmp_path: Path):
    db = open_database(tmp_path / "archive" / "portalcrawl.db")
    yield db
    db.close()


def test_open_creates_parent_dir_wal_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "portalcrawl.db"
    db = open_database(path)
    assert path.exists()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert db["metadata"].get("schema_version")["value"] == str(SCHEMA_VERSION)
    assert {"articles", "article_versions", "crawl_runs", "fetch_errors", "listing_state"} <= set(
        db.table_names()
    )
    assert {"articles_fts", "articles_bigrams"} <= set(db.table_names())
    assert db["articles"].detect_fts() == "articles_fts"
    db.close()


def test_every_table_can_be_counted_as_sqlite_utils_and_datasette_do(tmp_path: Path) -> None:
    db = open_database(tmp_path / "a.db")
    upsert_articles(db, [article(1), article(2)], run_id=None)
    counts = {name: db[name].count for name in db.table_names()}
    assert counts["articles"] == counts["articles_bigrams"] == 2


def test_missing_database_without_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="no database at"):
        open_database(tmp_path / "nope.db", create=False)
    assert not (tmp_path / "nope.db").exists()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE metadata SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this portalcrawl"):
        open_database(path)


def test_migration_from_version_1_builds_search_indexes_for_existing_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    database.MIGRATIONS[0](conn)
    conn.execute("INSERT INTO metadata VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO articles (url, title, body_text, first_seen_at) VALUES (?, ?, ?, ?)",
        ("https://a.gov.cn/1.html", "市政府召开常务会议", "会议研究部署智慧城市建设。", "2026-01-01"),
    )
    conn.commit()
    conn.close()

    db = open_database(path)
    assert db["metadata"].get("schema_version")["value"] == str(SCHEMA_VERSION)
    trigram = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"智慧城市\"'").fetchall()
    assert trigram == [(1,)]
    assert bigram_rowids(db, "会议") == [1]
    db.close()


def test_upsert_new_unchanged_updated_with_versions(db) -> None:
    run1 = start_run(db, "example", {})
    assert upsert_articles(db, [article(1), article(2)], run1) == Counts(new=2, updated=0, unchanged=0)
    first = db["articles"].get(1)
    assert first["first_seen_run_id"] == first["last_run_id"] == run1
    assert first["updated_at"] is None
    assert first["attachments"] == '[{"url":"https://www.example.gov.cn/P01.pdf","name":"附件1.pdf"}]'
    assert first["content_hash"]

    run2 = start_run(db, "example", {})
    # A recrawl of an unchanged article changes nothing.
    assert upsert_articles(db, [article(1), article(2)], run2) == Counts(new=0, updated=0, unchanged=2)
    assert db["articles"].get(1) == first
    assert db["article_versions"].count == 0

    changed = article(2, body="更正：各区县人民政府要高度重视。")
    assert upsert_articles(db, [changed, article(3)], run2) == Counts(new=1, updated=1, unchanged=0)
    row = db["articles"].get(2)
    assert row["body_text"] == "更正：各区县人民政府要高度重视。"
    assert row["first_seen_run_id"] == run1
    assert row["last_run_id"] == run2
    assert row["updated_at"] is not None
    versions = list(db["article_versions"].rows)
    assert len(versions) == 1
    assert versions[0]["article_id"] == 2
    assert versions[0]["body_text"] == "各区县人民政府要高度重视，认真组织实施。"
    assert versions[0]["replaced_by_run_id"] == run2
    # The search indexes follow the update: old text gone, new text found.
    assert db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"更正：\"'").fetchall() == [
        (2,)
    ]
    assert bigram_rowids(db, "组织") == [1, 3]
    assert bigram_rowids(db, "更正") == [2]


def test_an_unchanged_recrawl_fills_a_date_the_first_fetch_did_not_have(db) -> None:
    undated = article(1, published_raw="2026-01-01 09:00", date_precision=None)
    undated.published_at = None
    upsert_articles(db, [undated], start_run(db, "example", {}))
    dated = article(1, date_precision="minute", field_stages={"published_at": "meta_line"})
    assert upsert_articles(db, [dated], start_run(db, "example", {})) == Counts(0, 0, 1)
    row = db["articles"].get(1)
    assert (row["published_at"], row["date_precision"]) == ("2026-01-01T09:00:00+08:00", "minute")
    assert row["field_stages"] == '{"published_at":"meta_line"}'
    # A date once stored is the archive's: a later fetch with another one leaves it.
    other = article(1, date_precision="day")
    other.published_at = "2026-01-02"
    upsert_articles(db, [other], None)
    assert db["articles"].get(1)["published_at"] == "2026-01-01T09:00:00+08:00"


def test_same_url_twice_in_one_batch_is_stored_in_order(db) -> None:
    counts = upsert_articles(db, [article(1), article(1, body="第二版"), article(1, body="第二版")], None)
    assert counts == Counts(new=1, updated=1, unchanged=1)
    assert db["articles"].count == 1
    assert db["articles"].get(1)["body_text"] == "第二版"
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    assert trigram_rowids(db, "第二版") == [1]
    assert bigram_rowids(db, "第二") == [1]
    assert bigram_rowids(db, "区县") == []


def test_trigram_index_follows_edits_by_other_tools(db) -> None:
    upsert_articles(db, [article(1), article(2)], None)
    db["articles"].update(1, {"title": "更正后的标题"})
    db["articles"].delete(2)
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    assert trigram_rowids(db, "更正后") == [1]
    assert trigram_rowids(db, "科技创新") == []


def test_explicit_content_hash_decides_change(db) -> None:
    upsert_articles(db, [article(1, content_hash="h1")], None)
    assert upsert_articles(db, [article(1, body="x", content_hash="h1")], None).unchanged == 1
    assert upsert_articles(db, [article(1, content_hash="h2")], None).updated == 1


def test_failed_batch_writes_nothing(db) -> None:
    with pytest.raises(TypeError):
        upsert_articles(db, [article(1), article(2, gov_meta={"x": object()})], None)  # type: ignore[dict-item]
    assert db["articles"].count == 0
    assert bigram_rowids(db, "区县") == []


def test_runs_fetch_errors_and_listing_state(db) -> None:
    run_id = start_run(db, "example", {"max_pages": 3})
    run = db["crawl_runs"].get(run_id)
    assert run["status"] == "running"
    assert run["args"] == '{"max_pages": 3}'
    record_fetch_error(db, run_id, "https://www.example.gov.cn/x.html", 404, "http_404")
    finish_run(db, run_id, status="partial", reason="shutdown", errors=1, new_articles=2)
    run = db["crawl_runs"].get(run_id)
    assert (run["status"], run["reason"], run["errors"], run["new_articles"]) == ("partial", "shutdown", 1, 2)
    assert run["finished_at"] is not None
    assert [(e["run_id"], e["status"]) for e in db["fetch_errors"].rows] == [(run_id, 404)]
    with pytest.raises(ValueError, match="unknown crawl_runs fields"):
        finish_run(db, run_id, colour="red")
    with pytest.raises(ValueError, match="unknown run status"):
        finish_run(db, run_id, status="great")

    start = "https://www.example.gov.cn/col/col1/index.html"
    assert get_listing_state(db, "example", start) is None
    mark_listing_complete(db, "example", start, run_id)
    mark_listing_complete(db, "example", start, run_id + 1)
    state = get_listing_state(db, "example", start)
    assert state is not None
    assert state["last_complete_run_id"] == run_id + 1
    reset_site(db, "example")
    assert get_listing_state(db, "example", start) is None


def test_reopening_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    db = open_database(path)
    upsert_articles(db, [article(1)], None)
    db.close()
    db = open_database(path, create=False)
    assert db["articles"].count == 1
    db.close()


def test_failed_migration_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_step(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(database, "MIGRATIONS", (database.MIGRATIONS[0], broken_step))
    path = tmp_path / "m.db"
    with pytest.raises(sqlite3.OperationalError):
        open_database(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() == []
    conn.close()

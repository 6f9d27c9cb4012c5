"""The attachments and files tables: migration, outcomes kept across runs, text indexed for search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from scrapy.settings import Settings

from portalcrawl import database
from portalcrawl.attachments import store
from portalcrawl.attachments.readers import Extraction
from portalcrawl.extensions.attachments import resolve_mode
from portalcrawl.profiles import ProfileError, parse_profile
from portalcrawl.search import search_attachments

ARTICLE = "http://www.sfx.gov.cn/xxgk/tzgg/202503/t20250312_1.html"
FILE_URL = "http://www.sfx.gov.cn/xxgk/tzgg/202503/P0201.xlsx"


def test_an_archive_made_before_gets_its_links_backfilled(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    before = database.MIGRATIONS.index(database._create_attachment_tables)
    conn.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for step in database.MIGRATIONS[:before]:
        step(conn)
    conn.execute("INSERT INTO metadata VALUES ('schema_version', ?)", (str(before),))
    conn.execute(
        "INSERT INTO articles (url, first_seen_at, attachments, first_seen_run_id, last_run_id) "
        "VALUES (?, '2026-01-01', ?, 3, 4)",
        (ARTICLE, f'[{{"url": "{FILE_URL}", "name": "附件1：岗位表.xlsx"}}, {{"name": "no url"}}]'),
    )
    conn.execute(
        "INSERT INTO articles (url, first_seen_at, attachments) VALUES ('http://x.cn/2', 'now', 'bad')"
    )
    conn.commit()
    conn.close()
    db = database.open_database(path)
    rows = db.conn.execute(
        "SELECT article_url, url, name, status, first_seen_run_id, last_run_id FROM attachments"
    ).fetchall()
    assert rows == [(ARTICLE, FILE_URL, "附件1：岗位表.xlsx", "linked", 3, 4)]
    assert {"files", "files_fts", "files_bigrams"} <= set(db.table_names())


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    archive = database.open_database(tmp_path / "archive.db")
    archive.conn.execute(
        "INSERT INTO articles (url, site, title, published_at, first_seen_at) "
        "VALUES (?, 'sfx', '关于资金分配的通知', '2025-03-12', 'now')",
        (ARTICLE,),
    )
    return archive


def test_a_link_seen_again_keeps_its_outcome(db: sqlite_utils.Database) -> None:
    store.record_links(db, ARTICLE, [{"url": FILE_URL, "name": "岗位表"}], run_id=1)
    store.record_outcome(db, FILE_URL, store.Outcome("downloaded", sha256="ab" * 32), [ARTICLE])
    store.record_links(db, ARTICLE, [{"url": FILE_URL, "name": "岗位表"}], run_id=2)
    row = db.conn.execute("SELECT status, sha256, first_seen_run_id, last_run_id FROM attachments").fetchone()
    assert row == ("downloaded", "ab" * 32, 1, 2)
    assert store.settled_outcome(db, FILE_URL)["status"] == "downloaded"  # type: ignore[index]


def test_file_text_is_found_by_long_short_and_single_character_queries(
    db: sqlite_utils.Database,
) -> None:
    sha = "cd" * 32
    store.record_links(db, ARTICLE, [{"url": FILE_URL, "name": "资金表.xlsx"}], run_id=1)
    store.record_outcome(db, FILE_URL, store.Outcome("downloaded", sha256=sha), [ARTICLE])
    store.record_file(db, sha, 10, "xlsx", "x.files/cd/cd/x.xlsx")
    store.record_text(db, sha, Extraction("ok", "封面\f养护补助资金分配明细\t1200", 2, "python-calamine"))
    for query in ("补助资金分配", "补助", "补", "1200"):
        hits = search_attachments(db, query)
        assert [(h.url, h.attachment_name, h.page) for h in hits] == [(ARTICLE, "资金表.xlsx", 2)], query
    # Re-extracted text replaces the old one in both indexes.
    store.record_text(db, sha, Extraction("ok", "另一份内容", 1, "python-calamine"))
    assert search_attachments(db, "补助") == []
    assert search_attachments(db, "补助资金") == []
    assert [h.page for h in search_attachments(db, "另一份")] == [None]


def test_the_command_line_wins_over_the_profile_and_the_profile_over_the_default() -> None:
    settings = Settings({"PORTALCRAWL_ATTACHMENTS": "links"}, priority="project")
    assert resolve_mode(settings, None) == "links"
    assert resolve_mode(settings, "text") == "text"
    settings.set("PORTALCRAWL_ATTACHMENTS", "download", priority="cmdline")
    assert resolve_mode(settings, "text") == "download"


def test_a_profile_names_a_mode_from_the_list(tmp_path: Path) -> None:
    base = {"name": "示范县", "start_urls": ["http://www.sfx.gov.cn/xxgk/tzgg/"]}
    assert parse_profile({**base, "attachments": "text"}, tmp_path / "sfx.toml").attachments == "text"
    with pytest.raises(
        ProfileError, match=r"sfx.toml: attachments: expected one of off, links, download, text"
    ):
        parse_profile({**base, "attachments": "all"}, tmp_path / "sfx.toml")

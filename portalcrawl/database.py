"""The SQLite archive: schema and migrations, article upserts, crawl runs and listing state."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils

from portalcrawl.items import Article
from portalcrawl.processes import run_process_alive
from portalcrawl.safetext import clean_article, clean_text

SCHEMA_VERSION = 7

# How long a writer waits for another process's write lock (a cron crawl beside a manual `export`).
BUSY_TIMEOUT_SECONDS = 5.0
# SQLite's default limit on bound parameters is 32766 since 3.32; stay far below it per IN query.
IN_CHUNK = 500

ARTICLE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Article))
JSON_FIELDS = frozenset({"attachments", "images", "gov_meta", "field_stages", "page_urls"})
# Columns the archive derives from an Article's fields when storing it (``published_date_of``).
DERIVED_FIELDS: tuple[str, ...] = ("published_date",)
STORED_FIELDS: tuple[str, ...] = (*ARTICLE_FIELDS, *DERIVED_FIELDS)
ARTICLE_COLUMNS: tuple[str, ...] = (
    *STORED_FIELDS,
    "first_seen_at",
    "updated_at",
    "first_seen_run_id",
    "last_run_id",
)
# The content an article_versions row keeps of the version it replaces.
VERSION_FIELDS: tuple[str, ...] = (
    "url",
    "title",
    "published_at",
    "source",
    "author",
    "body_text",
    "body_html",
    "attachments",
    "images",
    "content_hash",
    "fetched_at",
)

RUN_STATUSES = ("running", "ok", "partial", "failed", "blocked")
# crawl_runs.reason of a run whose process died before it could finish the row.
KILLED = "killed"
RUN_FIELDS = frozenset(
    {
        "finished_at",
        "status",
        "reason",
        "blocked_kind",
        "requests",
        "responses",
        "pages_fetched",
        "listing_pages",
        "article_pages",
        "new_articles",
        "updated_articles",
        "unchanged_articles",
        "dropped_items",
        "errors",
        "http_404",
    }
)


class DatabaseError(Exception):
    """The archive cannot be used: missing, or written by a newer portalcrawl."""


class Counts(NamedTuple):
    new: int
    updated: int
    unchanged: int


def quote(identifier: str) -> str:
    """Quote an SQL identifier (``column`` is an Article field and an SQL keyword)."""
    return '"' + identifier.replace('"', '""') + '"'


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# CJK ideographs (URO, extension A, compatibility, extensions B+); each bigram of a run is a token.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_CJK_RE = re.compile(rf"[{_CJK}]")


_BIGRAM_RE = re.compile(rf"(?=([{_CJK}]{{2}}))")
_LONE_CJK_RE = re.compile(rf"(?<![{_CJK}])[{_CJK}](?![{_CJK}])")
_WORD_RE = re.compile(rf"[^\W{_CJK}_]+")


def bigram_tokens(text: str) -> set[str]:
    """The ``articles_bigrams`` tokens of a text, for indexing and for queries alike: each CJK bigram,
    each CJK character that stands alone (so that it is not lost), each other word, lower-cased.

    The index only answers "which articles contain this bigram or word" (queries of three or more
    characters use the trigram index), so positions, order and repeats are not needed; deleting from
    the contentless index needs the same tokens again, in any order. Three regex scans build the set
    about twice as fast as walking the runs in Python.
    """
    lowered = text.lower()
    tokens = set(_BIGRAM_RE.findall(lowered))
    tokens.update(_LONE_CJK_RE.findall(lowered))
    tokens.update(_WORD_RE.findall(lowered))
    return tokens


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def bigram_document(title: str | None, body_text: str | None) -> str:
    """The ``articles_bigrams`` text of an article: its distinct ``bigram_tokens``."""
    return " ".join(bigram_tokens(f"{title or ''}\n{body_text or ''}"))


# ---------------------------------------------------------------------------------------------------
# Schema


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run ``script`` statement by statement inside the caller's transaction.

    ``Connection.executescript`` would commit the migration's transaction first.
    """
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip(" \n;"):
        raise ValueError(f"incomplete SQL statement: {statement!r}")


def _create_core_tables(conn: sqlite3.Connection) -> None:
    json_cols = ", ".join(
        f"{quote(name)} TEXT NOT NULL DEFAULT '{'{}' if name in ('gov_meta', 'field_stages') else '[]'}'"
        for name in ARTICLE_FIELDS
        if name in JSON_FIELDS
    )
    text_cols = ", ".join(
        f"{quote(name)} TEXT"
        + (" NOT NULL DEFAULT ''" if name in ("final_url", "site", "body_text", "body_html") else "")
        for name in ARTICLE_FIELDS
        if name not in JSON_FIELDS and name != "url"
    )
    _execute_script(
        conn,
        f"""
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            url TEXT NOT NULL UNIQUE,
            {text_cols},
            {json_cols},
            first_seen_at TEXT NOT NULL,
            updated_at TEXT,
            first_seen_run_id INTEGER,
            last_run_id INTEGER
        );
        CREATE INDEX idx_articles_site_published ON articles(site, published_at);
        CREATE INDEX idx_articles_published ON articles(published_at);
        CREATE INDEX idx_articles_first_seen_run ON articles(first_seen_run_id);

        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER NOT NULL REFERENCES articles(id),
            url TEXT NOT NULL,
            title TEXT,
            published_at TEXT,
            source TEXT,
            author TEXT,
            body_text TEXT,
            body_html TEXT,
            attachments TEXT,
            images TEXT,
            content_hash TEXT,
            fetched_at TEXT,
            replaced_at TEXT NOT NULL,
            replaced_by_run_id INTEGER
        );
        CREATE INDEX idx_article_versions_article ON article_versions(article_id);

        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            reason TEXT,
            blocked_kind TEXT,
            requests INTEGER NOT NULL DEFAULT 0,
            responses INTEGER NOT NULL DEFAULT 0,
            pages_fetched INTEGER NOT NULL DEFAULT 0,
            listing_pages INTEGER NOT NULL DEFAULT 0,
            article_pages INTEGER NOT NULL DEFAULT 0,
            new_articles INTEGER NOT NULL DEFAULT 0,
            updated_articles INTEGER NOT NULL DEFAULT 0,
            unchanged_articles INTEGER NOT NULL DEFAULT 0,
            dropped_items INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            http_404 INTEGER NOT NULL DEFAULT 0,
            pid INTEGER,
            args TEXT NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX idx_crawl_runs_site ON crawl_runs(site, id);

        CREATE TABLE fetch_errors (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES crawl_runs(id),
            url TEXT NOT NULL,
            status INTEGER,
            reason TEXT,
            time TEXT NOT NULL
        );
        CREATE INDEX idx_fetch_errors_run ON fetch_errors(run_id);

        CREATE TABLE listing_state (
            site TEXT NOT NULL,
            start_url TEXT NOT NULL,
            last_complete_run_id INTEGER,
            last_complete_at TEXT,
            PRIMARY KEY (site, start_url)
        );
        """,
    )


def _create_search_indexes(conn: sqlite3.Connection) -> None:
    # The trigram index reads its text from articles (external content). Triggers keep it right when
    # any tool updates or deletes articles; new rows are indexed by upsert_articles itself, because an
    # insert trigger makes FTS5 flush its pending terms at every row's statement savepoint, which
    # measured 2.5 times slower (benchmarks/storage.py). Rows inserted by other tools need
    # INSERT INTO articles_fts(articles_fts) VALUES ('rebuild'). content="articles" is double-quoted
    # because that is how sqlite-utils and Datasette recognise a table's FTS index.
    # The bigram index holds tokens computed in Python, so upsert_articles writes it too; it is
    # contentless and keeps no positions (half the size of a full one). It keeps column sizes: without
    # them SQLite cannot scan it, and `sqlite-utils tables --counts` or Datasette fail on the file. An
    # article deleted by another tool leaves stale entries there, which joins with articles drop;
    # AUTOINCREMENT ids are never reused, so they cannot match a later article.
    _execute_script(
        conn,
        """
        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, body_text, content="articles", content_rowid="id", tokenize='trigram'
        );
        CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, body_text)
                VALUES ('delete', old.id, old.title, old.body_text);
        END;
        CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body_text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, body_text)
                VALUES ('delete', old.id, old.title, old.body_text);
            INSERT INTO articles_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text);
        END;
        INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');

        CREATE VIRTUAL TABLE articles_bigrams USING fts5(
            tokens, content='', detail=none, tokenize='unicode61'
        );
        """,
    )
    # Streamed row by row: an archive's whole text must not be held in memory to index it.
    rows = conn.execute("SELECT id, title, body_text FROM articles")
    conn.executemany(
        "INSERT INTO articles_bigrams(rowid, tokens) VALUES (?, ?)",
        ((row[0], bigram_document(row[1], row[2])) for row in rows),
    )


def _create_skipped_urls(conn: sqlite3.Connection) -> None:
    # Listing links that are not articles (dead, not HTML, refused by robots.txt): remembered so that a
    # rerun neither refetches them nor treats their listing page as holding unknown articles.
    _execute_script(
        conn,
        """
        CREATE TABLE skipped_urls (
            site TEXT NOT NULL,
            url TEXT NOT NULL,
            reason TEXT NOT NULL,
            first_seen_run_id INTEGER,
            last_seen_at TEXT NOT NULL,
            PRIMARY KEY (site, url)
        );
        """,
    )


def _create_attachment_tables(conn: sqlite3.Connection) -> None:
    # attachments: one row per document link of an article (its fetch outcome); files: one row per
    # distinct content (sha256), stored once under <db stem>.files/, with its extracted text. The text
    # indexes mirror articles_fts/articles_bigrams; files rows are few, so triggers index them.
    # Links of existing archives are backfilled from articles.attachments.
    _execute_script(
        conn,
        """
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            article_url TEXT NOT NULL,
            url TEXT NOT NULL,
            name TEXT,
            status TEXT NOT NULL DEFAULT 'linked',
            http_status INTEGER,
            content_type TEXT,
            server_name TEXT,
            sha256 TEXT,
            error TEXT,
            fetched_at TEXT,
            first_seen_run_id INTEGER,
            last_run_id INTEGER,
            UNIQUE (article_url, url)
        );
        CREATE INDEX idx_attachments_url ON attachments(url);
        CREATE INDEX idx_attachments_sha256 ON attachments(sha256);
        CREATE INDEX idx_attachments_status ON attachments(status);

        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            bytes INTEGER NOT NULL,
            kind TEXT NOT NULL,
            path TEXT NOT NULL,
            text TEXT,
            pages INTEGER,
            extract_status TEXT,
            extracted_by TEXT,
            error TEXT,
            stored_at TEXT NOT NULL,
            extracted_at TEXT
        );
        CREATE VIRTUAL TABLE files_fts USING fts5(
            text, content="files", content_rowid="id", tokenize='trigram'
        );
        CREATE TRIGGER files_fts_ai AFTER INSERT ON files BEGIN
            INSERT INTO files_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER files_fts_ad AFTER DELETE ON files BEGIN
            INSERT INTO files_fts(files_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER files_fts_au AFTER UPDATE OF text ON files BEGIN
            INSERT INTO files_fts(files_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO files_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE VIRTUAL TABLE files_bigrams USING fts5(
            tokens, content='', detail=none, tokenize='unicode61'
        );

        INSERT OR IGNORE INTO attachments (article_url, url, name, first_seen_run_id, last_run_id)
            SELECT a.url, json_extract(j.value, '$.url'), json_extract(j.value, '$.name'),
                   a.first_seen_run_id, a.last_run_id
            FROM articles a, json_each(a.attachments) j
            WHERE json_valid(a.attachments) AND json_extract(j.value, '$.url') IS NOT NULL;
        """,
    )


def _create_pages(conn: sqlite3.Connection) -> None:
    # Raw pages as served (portalcrawl/pages.py): each distinct body once in `pages` (sha256 of the raw
    # bytes, zstandard-compressed), each fetch a `page_captures` row. An article version's pages are the
    # captures whose (article_url, article_fetched_at) is its (url, fetched_at). Archives from before
    # this migration simply have no pages for their articles.
    _execute_script(
        conn,
        """
        CREATE TABLE pages (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE page_captures (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            run_id INTEGER,
            kind TEXT NOT NULL,
            article_url TEXT,
            article_fetched_at TEXT,
            page_number INTEGER NOT NULL DEFAULT 1,
            url TEXT NOT NULL,
            final_url TEXT NOT NULL,
            method TEXT NOT NULL DEFAULT 'GET',
            request_headers TEXT NOT NULL DEFAULT '[]',
            request_body BLOB,
            status INTEGER NOT NULL,
            headers TEXT NOT NULL DEFAULT '[]',
            fetched_at TEXT NOT NULL,
            sha256 TEXT NOT NULL REFERENCES pages(sha256),
            UNIQUE (url, sha256, fetched_at)
        );
        CREATE INDEX idx_page_captures_article ON page_captures(article_url, article_fetched_at);
        CREATE INDEX idx_page_captures_site ON page_captures(site, fetched_at);
        """,
    )


def _add_published_date(conn: sqlite3.Connection) -> None:
    # SQLite's date(published_at) converts "+08:00" to UTC, which puts articles of 00:00-07:59 Beijing
    # time on the previous day; published_date is the calendar date the portal showed. The date part of
    # an ISO string is already local to its own offset, so the backfill is a prefix.
    _execute_script(
        conn,
        """
        ALTER TABLE articles ADD COLUMN published_date TEXT;
        UPDATE articles SET published_date = substr(published_at, 1, 10)
            WHERE published_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*';
        CREATE INDEX idx_articles_published_date ON articles(published_date);
        CREATE INDEX idx_articles_site_published_date ON articles(site, published_date);
        """,
    )


def _add_run_origins_and_listing_resume(conn: sqlite3.Connection) -> None:
    # `portalcrawl merge` folds shard archives into one: each run keeps the node that ran it and the
    # archive and run id it came from, so that merging the same shard again adds nothing. Every
    # archive gets an id of its own for that.
    # A listing never paged to its end remembers the deepest page up to which every listed article
    # was dealt with (its depth in the chain and the request, as JSON), so that the next run re-reads
    # only the first pages before jumping there: a huge portal's first crawl spans many runs.
    _execute_script(
        conn,
        """
        ALTER TABLE crawl_runs ADD COLUMN node TEXT;
        ALTER TABLE crawl_runs ADD COLUMN origin_archive TEXT;
        ALTER TABLE crawl_runs ADD COLUMN origin_run_id INTEGER;
        CREATE UNIQUE INDEX idx_crawl_runs_origin ON crawl_runs(origin_archive, origin_run_id);
        ALTER TABLE listing_state ADD COLUMN resume_depth INTEGER;
        ALTER TABLE listing_state ADD COLUMN resume_page TEXT;
        ALTER TABLE listing_state ADD COLUMN resume_run_id INTEGER;
        """,
    )
    conn.execute("INSERT OR IGNORE INTO metadata(key, value) VALUES ('archive_id', ?)", (uuid.uuid4().hex,))


# MIGRATIONS[n] brings a database from version n to n + 1; version 0 is an empty file. sqlite-utils'
# Migrations applies them and records each by its name (the function's, without the underscore) in
# `_sqlite_migrations`: a migration is never renamed, and one appended on another branch is applied
# by name whatever its place after a merge.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _create_core_tables,
    _create_search_indexes,
    _create_skipped_urls,
    _create_attachment_tables,
    _add_run_origins_and_listing_resume,
    _add_published_date,
    _create_pages,
)
assert len(MIGRATIONS) == SCHEMA_VERSION
# The migration set's name in `_sqlite_migrations`.
MIGRATION_SET = "portalcrawl"


def schema_version(conn: sqlite3.Connection) -> int:
    """``metadata.schema_version``: how many migrations the archive has, what older readers go by."""
    has_metadata = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metadata'"
    ).fetchone()
    if not has_metadata:
        return 0
    row = conn.execute("SELECT value FROM metadata WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def _migration_name(step: Callable[[sqlite3.Connection], None]) -> str:
    return step.__name__.lstrip("_")


def _migration_set() -> sqlite_utils.Migrations:
    """``MIGRATIONS`` as sqlite-utils' migration set (built when used, so a test can replace them)."""
    migrations = sqlite_utils.Migrations(MIGRATION_SET)
    for step in MIGRATIONS:

        def apply(db: sqlite_utils.Database, step: Callable[[sqlite3.Connection], None] = step) -> None:
            step(db.conn)

        migrations(name=_migration_name(step))(apply)
    return migrations


class SchemaState(NamedTuple):
    """Where an archive's schema stands against this portalcrawl's migrations."""

    version: int
    # Migrations of this portalcrawl the archive lacks, and migrations it has that this one lacks.
    pending: tuple[str, ...]
    unknown: tuple[str, ...]


def _applied_migrations(db: sqlite_utils.Database, migrations: sqlite_utils.Migrations) -> list[str]:
    """The names of the migrations applied to the archive; for an archive from before sqlite-utils'
    bookkeeping (no rows in `_sqlite_migrations`), the first ``schema_version`` of ``MIGRATIONS``."""
    applied = [migration.name for migration in migrations.applied(db)]
    return applied or [_migration_name(step) for step in MIGRATIONS[: schema_version(db.conn)]]


def schema_state(db: sqlite_utils.Database) -> SchemaState:
    """The archive's schema against ``MIGRATIONS`` (read-only)."""
    migrations = _migration_set()
    applied = _applied_migrations(db, migrations)
    known = [_migration_name(step) for step in MIGRATIONS]
    return SchemaState(
        schema_version(db.conn),
        tuple(name for name in known if name not in applied),
        tuple(name for name in applied if name not in known),
    )


def refuse_newer_schema(path: str | os.PathLike[str], state: SchemaState) -> None:
    """The one error for an archive written by a newer portalcrawl (it is never migrated or touched)."""
    if state.version > SCHEMA_VERSION:
        raise DatabaseError(
            f"{path} has schema version {state.version}, newer than this portalcrawl understands "
            f"({SCHEMA_VERSION}); upgrade portalcrawl"
        )
    if state.unknown:
        raise DatabaseError(
            f"{path} has migrations newer than this portalcrawl understands ({', '.join(state.unknown)}); "
            "upgrade portalcrawl"
        )


def _migrate(db: sqlite_utils.Database, path: str) -> None:
    if not schema_state(db).pending:
        return
    conn = db.conn
    # IMMEDIATE takes the write lock before the state is read again, so two crawls starting together
    # migrate once; each migration runs in a savepoint inside it (sqlite-utils' atomic() nests).
    conn.execute("BEGIN IMMEDIATE")
    try:
        refuse_newer_schema(path, schema_state(db))
        conn.execute("CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        migrations = _migration_set()
        carried = _applied_migrations(db, migrations)
        migrations.ensure_migrations_table(db)
        if not migrations.applied(db):
            # An archive of the home-made runner: its schema_version carried into sqlite-utils'
            # bookkeeping (applied_at is then when it was carried, as sqlite-utils writes times).
            carried_at = str(datetime.now(UTC))
            db.table(migrations.migrations_table).insert_all(
                {"migration_set": MIGRATION_SET, "name": name, "applied_at": carried_at} for name in carried
            )
        migrations.apply(db)
        conn.execute(
            "INSERT OR REPLACE INTO metadata(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def open_database(path: str | os.PathLike[str], *, create: bool = True) -> sqlite_utils.Database:
    """Open (and create or migrate) the archive at ``path``.

    Raises ``DatabaseError`` for a missing file when ``create`` is false, and for a file written by a
    newer schema; a read-only or corrupt file raises ``sqlite3.Error``.
    """
    path = Path(path)
    if not path.exists():
        if not create:
            raise DatabaseError(f"no database at {path} (run a crawl first, or pass --db)")
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        db = sqlite_utils.Database(conn)
        refuse_newer_schema(path, schema_state(db))
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL loses at most the last transactions on power loss, never corrupts.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        _migrate(db, str(path))
    except BaseException:
        conn.close()
        raise
    return db


def ensure_writable(db: sqlite_utils.Database) -> None:
    """Raise ``DatabaseError`` now if the archive cannot be written (read-only, locked), not mid-crawl.

    A rolled-back no-op update takes the write lock (waiting out the busy timeout) and touches a page,
    which a read-only file refuses; nothing reaches the file.
    """
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            db.conn.execute("UPDATE metadata SET value = value WHERE key = 'schema_version'")
        finally:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        raise DatabaseError(f"cannot write to the archive: {error}") from error


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A transaction that takes the write lock first (``BEGIN IMMEDIATE``); a savepoint when nested.

    A deferred transaction that reads and then writes cannot wait for another process's write lock:
    SQLite fails its upgrade at once with ``database is locked`` (the reader's snapshot may be stale),
    and with several crawls on one archive whole batches were lost that way. ``BEGIN IMMEDIATE``
    waits for the lock within the busy timeout before reading anything.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


# ---------------------------------------------------------------------------------------------------
# Articles


def _chunks(items: list[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def article_filters(
    site: str | None,
    since: str | None,
    *,
    until: str | None = None,
    source: str | None = None,
    column: str | None = None,
    prefix: str = "",
) -> tuple[list[str], list[Any]]:
    """SQL conditions and their parameters for the filter options of search and export.

    ``since`` and ``until`` are inclusive bounds on ``published_date``, the local date the portal
    showed. ``column`` is the column (栏目) name the article page states (``Article.column``).
    """
    conditions: list[str] = []
    args: list[Any] = []
    if site is not None:
        conditions.append(f"{prefix}site = ?")
        args.append(site)
    if since is not None:
        # ISO strings compare in time order, so "2026-01" and "2026-01-16" both work as a bound.
        conditions.append(f"{prefix}published_date >= ?")
        args.append(since)
    if until is not None:
        # "\uffff" sorts after every date character, so an "until 2026-01" bound keeps all of January.
        conditions.append(f"{prefix}published_date <= ?")
        args.append(until + "\uffff")
    if source is not None:
        conditions.append(f"{prefix}source = ?")
        args.append(source)
    if column is not None:
        conditions.append(f"{prefix}{quote('column')} = ?")
        args.append(column)
    return conditions, args


_LOCAL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def published_date_of(published_at: str | None) -> str | None:
    """The calendar date shown on the portal (``YYYY-MM-DD``) of an ISO ``published_at`` with offset.

    None when the article's date is only known to the month or year.
    """
    if published_at and _LOCAL_DATE.match(published_at):
        return published_at[:10]
    return None


def content_hash(article: Article) -> str:
    """The article's own hash, or one of its title and text when extraction left it empty."""
    if article.content_hash:
        return article.content_hash
    digest = hashlib.sha1(f"{article.title or ''}\n{article.body_text}".encode(), usedforsecurity=False)
    return digest.hexdigest()


# json.dumps builds a new encoder on every call that passes options; storage encodes five fields an article.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_article_values = attrgetter(*ARTICLE_FIELDS)


def article_row(article: Article) -> dict[str, Any]:
    """The ``articles`` column values of an Article (lists and dicts as JSON text).

    Every text of the article is made valid Unicode without control characters first, in place
    (``safetext.clean_article``), by whichever writer builds the row: a lone surrogate would fail its
    whole batch, and an ESC would reach the terminal of whoever reads the archive.
    """
    clean_article(article)
    row: dict[str, Any] = dict(zip(ARTICLE_FIELDS, _article_values(article), strict=True))
    for name in JSON_FIELDS:
        row[name] = _encode_json(row[name])
    row["content_hash"] = content_hash(article)
    row["published_date"] = published_date_of(article.published_at)
    return row


_INSERT_ARTICLE = (
    f"INSERT INTO articles ({', '.join(quote(c) for c in ARTICLE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(ARTICLE_COLUMNS))})"
)
_UPDATE_ARTICLE = (
    f"UPDATE articles SET {', '.join(f'{quote(c)} = ?' for c in STORED_FIELDS if c != 'url')}, "
    "updated_at = ?, last_run_id = ? WHERE id = ?"
)
_COPY_VERSION = (
    f"INSERT INTO article_versions (article_id, {', '.join(VERSION_FIELDS)}, "
    "replaced_at, replaced_by_run_id) "
    f"SELECT id, {', '.join(VERSION_FIELDS)}, ?, ? FROM articles WHERE id = ?"
)


def upsert_articles(
    db: sqlite_utils.Database,
    articles: list[Article],
    run_id: int | None,
    *,
    rows: list[dict[str, Any]] | None = None,
) -> Counts:
    """Store ``articles`` in one transaction and say how many were new, updated and unchanged.

    A recrawl of an unchanged article (same ``content_hash``) changes nothing, so ``updated_at`` and
    ``last_run_id`` record when the content last changed. A changed article keeps its ``first_seen_*``
    and its previous content goes to ``article_versions``. The same URL twice in one batch is
    handled in order, as if stored one after the other. ``rows``: the ``article_row`` of each article,
    when the caller has already built them.
    """
    if not articles:
        return Counts(0, 0, 0)
    conn = db.conn
    now = now_iso()
    new = updated = unchanged = 0
    fts_rows: list[tuple[int, str | None, str]] = []
    bigram_rows: list[tuple[int, str]] = []

    def index_pending() -> None:
        conn.executemany("INSERT INTO articles_fts(rowid, title, body_text) VALUES (?, ?, ?)", fts_rows)
        conn.executemany("INSERT INTO articles_bigrams(rowid, tokens) VALUES (?, ?)", bigram_rows)
        fts_rows.clear()
        bigram_rows.clear()

    with write_transaction(db):
        existing: dict[str, tuple[int, str | None]] = {}
        undated: set[int] = set()
        for chunk in _chunks(list({a.url for a in articles})):
            placeholders = ", ".join("?" * len(chunk))
            for article_id, url, old_hash, old_date in conn.execute(
                f"SELECT id, url, content_hash, published_at FROM articles WHERE url IN ({placeholders})",
                chunk,
            ):
                existing[url] = (article_id, old_hash)
                if old_date is None:
                    undated.add(article_id)
        if rows is None:
            rows = [article_row(article) for article in articles]
        for article, row in zip(articles, rows, strict=True):
            current = existing.get(article.url)
            if current is None:
                values = [row[name] for name in STORED_FIELDS]
                cursor = conn.execute(_INSERT_ARTICLE, [*values, now, None, run_id, run_id])
                article_id = int(cursor.lastrowid or 0)
                fts_rows.append((article_id, article.title, article.body_text))
                bigram_rows.append((article_id, bigram_document(article.title, article.body_text)))
                existing[article.url] = (article_id, row["content_hash"])
                new += 1
            elif current[1] == row["content_hash"]:
                unchanged += 1
                if current[0] in undated and article.published_at and article.date_precision:
                    # Same text, but this fetch found a plausible date where an earlier one had none.
                    stage = article.field_stages.get("published_at", "")
                    conn.execute(
                        _FILL_DATE, (article.published_at, article.date_precision, stage, current[0])
                    )
                    undated.discard(current[0])
            else:
                article_id = current[0]
                # The update trigger and the bigram delete need this row's index entries in place.
                index_pending()
                replace_article(db, article_id, row, run_id=run_id, last_run_id=run_id, now=now)
                existing[article.url] = (article_id, row["content_hash"])
                updated += 1
        index_pending()
    return Counts(new, updated, unchanged)


class DateFill(NamedTuple):
    """A publication date given to a stored article that had none (see ``fill_dates``)."""

    article_id: int
    published_at: str
    date_precision: str
    stage: str


def articles_without_date(db: sqlite_utils.Database, site: str) -> list[dict[str, Any]]:
    """A site's articles stored without a date but with evidence of one (a date judged implausible).

    The columns NormalizeDatesPipeline judges a date by: ``id, url, published_raw, listing_date,
    fetched_at``.
    """
    return list(
        db.query(
            "SELECT id, url, published_raw, listing_date, fetched_at FROM articles WHERE site = ? "
            "AND published_at IS NULL AND (published_raw IS NOT NULL OR listing_date IS NOT NULL)",
            [site],
        )
    )


_FILL_DATE = (
    "UPDATE articles SET published_at = ?, date_precision = ?, "
    "field_stages = json_set(coalesce(field_stages, '{}'), '$.published_at', ?) "
    "WHERE id = ? AND published_at IS NULL"
)


def fill_dates(db: sqlite_utils.Database, fills: Iterable[DateFill]) -> None:
    """Give stored articles without a date the one a later run found plausible; a stored date is kept."""
    with write_transaction(db):
        db.conn.executemany(
            _FILL_DATE, [(f.published_at, f.date_precision, f.stage, f.article_id) for f in fills]
        )


def replace_article(
    db: sqlite_utils.Database,
    article_id: int,
    row: dict[str, Any],
    *,
    run_id: int | None,
    last_run_id: int | None,
    now: str | None = None,
) -> None:
    """Give article ``article_id`` the content of ``row`` (an ``article_row``), keeping its current
    content in ``article_versions`` (replaced by ``run_id``); both search indexes follow.

    Callers run it inside a transaction, with the article's index entries in place.
    """
    conn = db.conn
    now = now or now_iso()
    conn.execute(_COPY_VERSION, (now, run_id, article_id))
    old_title, old_body = conn.execute(
        "SELECT title, body_text FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    values = [row[name] for name in STORED_FIELDS if name != "url"]
    conn.execute(_UPDATE_ARTICLE, [*values, now, last_run_id, article_id])
    conn.execute(
        "INSERT INTO articles_bigrams(articles_bigrams, rowid, tokens) VALUES ('delete', ?, ?)",
        (article_id, bigram_document(old_title, old_body)),
    )
    conn.execute(
        "INSERT INTO articles_bigrams(rowid, tokens) VALUES (?, ?)",
        (article_id, bigram_document(row["title"], row["body_text"])),
    )


def reset_site(db: sqlite_utils.Database, site: str) -> None:
    """Forget a site's listing state so its next crawl pages every listing to the end again."""
    with write_transaction(db):
        db.conn.execute("DELETE FROM listing_state WHERE site = ?", (site,))


# ---------------------------------------------------------------------------------------------------
# Crawl runs and listing state


def start_run(db: sqlite_utils.Database, site: str, args: dict[str, Any]) -> int:
    with write_transaction(db):
        cursor = db.conn.execute(
            "INSERT INTO crawl_runs (site, started_at, status, pid, args) VALUES (?, ?, 'running', ?, ?)",
            (site, now_iso(), os.getpid(), clean_text(json.dumps(args, ensure_ascii=False, default=str))),
        )
    return int(cursor.lastrowid or 0)


def finish_run(db: sqlite_utils.Database, run_id: int, **run_fields: Any) -> None:
    """Set the given ``crawl_runs`` columns (``finished_at`` defaults to now)."""
    unknown = set(run_fields) - RUN_FIELDS
    if unknown:
        raise ValueError(f"unknown crawl_runs fields: {', '.join(sorted(unknown))}")
    status = run_fields.get("status")
    if status is not None and status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}")
    run_fields.setdefault("finished_at", now_iso())
    assignments = ", ".join(f"{quote(name)} = ?" for name in run_fields)
    with write_transaction(db):
        db.conn.execute(f"UPDATE crawl_runs SET {assignments} WHERE id = ?", [*run_fields.values(), run_id])


def record_fetch_error(
    db: sqlite_utils.Database, run_id: int | None, url: str, status: int | None, reason: str
) -> None:
    record_fetch_errors(db, [(run_id, url, status, reason, now_iso())])


def record_fetch_errors(
    db: sqlite_utils.Database, errors: list[tuple[int | None, str, int | None, str, str]]
) -> None:
    """Store many ``(run_id, url, status, reason, time)`` rows in one transaction; URLs and reasons
    (which may quote a page) as valid Unicode without control characters, so no row fails the batch."""
    rows = [
        (run_id, clean_text(url), status, clean_text(reason), at)
        for run_id, url, status, reason, at in errors
    ]
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO fetch_errors (run_id, url, status, reason, time) VALUES (?, ?, ?, ?, ?)", rows
        )


LISTING_STATE_COLUMNS = (
    "site",
    "start_url",
    "last_complete_run_id",
    "last_complete_at",
    "resume_depth",
    "resume_page",
    "resume_run_id",
)


def get_listing_state(db: sqlite_utils.Database, site: str, start_url: str) -> dict[str, Any] | None:
    row = db.conn.execute(
        f"SELECT {', '.join(LISTING_STATE_COLUMNS)} FROM listing_state WHERE site = ? AND start_url = ?",
        (site, start_url),
    ).fetchone()
    if row is None:
        return None
    return dict(zip(LISTING_STATE_COLUMNS, row, strict=True))


def mark_listing_complete(db: sqlite_utils.Database, site: str, start_url: str, run_id: int) -> None:
    """Record that ``run_id`` paged the listing at ``start_url`` to its end (no resume point left)."""
    with write_transaction(db):
        db.conn.execute(
            "INSERT INTO listing_state (site, start_url, last_complete_run_id, last_complete_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(site, start_url) DO UPDATE SET "
            "last_complete_run_id = excluded.last_complete_run_id, "
            "last_complete_at = excluded.last_complete_at, "
            "resume_depth = NULL, resume_page = NULL, resume_run_id = NULL",
            (site, start_url, run_id, now_iso()),
        )


def save_listing_resume(
    db: sqlite_utils.Database, site: str, start_url: str, *, depth: int, page: str, run_id: int
) -> None:
    """Remember the deepest listing page (``depth``, ``page`` as JSON) an unfinished chain settled."""
    with write_transaction(db):
        db.conn.execute(
            "INSERT INTO listing_state (site, start_url, resume_depth, resume_page, resume_run_id) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, start_url) DO UPDATE SET "
            "resume_depth = excluded.resume_depth, resume_page = excluded.resume_page, "
            "resume_run_id = excluded.resume_run_id",
            (site, start_url, depth, page, run_id),
        )


def record_skipped_url(
    db: sqlite_utils.Database, site: str, url: str, reason: str, run_id: int | None
) -> None:
    """Remember that ``url`` is no article of ``site`` (keeping the run that first saw it)."""
    with write_transaction(db):
        db.conn.execute(
            "INSERT INTO skipped_urls (site, url, reason, first_seen_run_id, last_seen_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(site, url) DO UPDATE SET "
            "reason = excluded.reason, last_seen_at = excluded.last_seen_at",
            (site, clean_text(url), clean_text(reason), run_id, now_iso()),
        )


def forget_skipped_urls(db: sqlite_utils.Database, site: str, urls: Iterable[str] | None = None) -> None:
    """Forget skipped ``urls`` of ``site`` (all of them when ``urls`` is None): they are fetched again."""
    with write_transaction(db):
        if urls is None:
            db.conn.execute("DELETE FROM skipped_urls WHERE site = ?", (site,))
            return
        for chunk in _chunks(list(dict.fromkeys(urls))):
            placeholders = ", ".join("?" * len(chunk))
            db.conn.execute(
                f"DELETE FROM skipped_urls WHERE site = ? AND url IN ({placeholders})", [site, *chunk]
            )


def fail_killed_runs(db: sqlite_utils.Database) -> list[int]:
    """Mark ``running`` runs whose process is gone as ``failed`` with reason ``killed``; their ids.

    A crawl killed by SIGKILL, a second Ctrl-C, a crash or a reboot never finishes its row. The next
    crawl on the archive settles it, so that ``running`` only ever means running.
    """
    # This process's own runs (other sites of the same `portalcrawl crawl`) are alive by definition.
    rows = db.conn.execute(
        "SELECT id, pid, started_at FROM crawl_runs WHERE status = 'running' AND pid IS NOT ?", (os.getpid(),)
    ).fetchall()
    killed = [
        run_id
        for run_id, pid, started_at in rows
        if not pid or not run_process_alive(int(pid), datetime.fromisoformat(started_at))
    ]
    if killed:
        with write_transaction(db):
            db.conn.executemany(
                "UPDATE crawl_runs SET status = 'failed', reason = ? WHERE id = ? AND status = 'running'",
                [(KILLED, run_id) for run_id in killed],
            )
    return killed

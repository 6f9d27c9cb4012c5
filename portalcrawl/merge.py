"""Fold shard archives into one central archive: idempotent, from a consistent snapshot of each shard.

Articles meet by canonical URL; the newest fetch wins and the content it replaces (or the older
content a shard brings) goes to ``article_versions``. Every ``crawl_runs`` row keeps the node that ran
it and the archive and run id it came from, so a second merge of the same shard adds nothing, and a
run still going at one merge is brought up to date by the next. Columns named ``*run_id`` are run ids
of the shard and are remapped to the central archive's. Writes go in short ``BEGIN IMMEDIATE``
transactions, so searches keep reading the central archive (WAL) while a merge runs.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from portalcrawl.database import (
    BUSY_TIMEOUT_SECONDS,
    bigram_document,
    now_iso,
    open_database,
    quote,
    write_transaction,
)

# Articles per write transaction: short enough that a crawl or a search never waits long.
BATCH = 500
# Runs per write transaction: each brings its fetch_errors along (up to 10,000 for a failing run).
RUN_BATCH = 20
# Columns that say where a run came from rather than what it did.
ORIGIN_COLUMNS = ("id", "node", "origin_archive", "origin_run_id")
_EPOCH = datetime.min.replace(tzinfo=UTC)


class MergeError(Exception):
    """A shard that cannot be merged (missing, not an archive); the message names it."""


@dataclass
class MergeCounts:
    """Rows a merge added to (or changed in) the central archive."""

    runs: int = 0
    runs_updated: int = 0
    fetch_errors: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    versions: int = 0
    listing_states: int = 0
    skipped_urls: int = 0

    @property
    def rows(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def __str__(self) -> str:
        return (
            f"{self.articles_new} new articles, {self.articles_updated} updated, {self.versions} versions, "
            f"{self.runs} runs ({self.runs_updated} brought up to date), {self.fetch_errors} fetch errors, "
            f"{self.listing_states} listing states, {self.skipped_urls} skipped URLs"
        )


def archive_id(db: sqlite_utils.Database) -> str:
    row = db.conn.execute("SELECT value FROM metadata WHERE key = 'archive_id'").fetchone()
    return str(row[0])


def set_node_name(db: sqlite_utils.Database, node: str) -> None:
    """Record the node that crawls into this archive; a merge files its runs under that name."""
    with write_transaction(db):
        db.conn.execute("INSERT OR REPLACE INTO metadata(key, value) VALUES ('node', ?)", (node,))


def node_name(db: sqlite_utils.Database, default: str) -> str:
    row = db.conn.execute("SELECT value FROM metadata WHERE key = 'node'").fetchone()
    return str(row[0]) if row else default


def _write(conn: sqlite3.Connection) -> AbstractContextManager[None]:
    """The archive's one way to write (``BEGIN IMMEDIATE``), on the merge's raw connection."""
    return write_transaction(sqlite_utils.Database(conn))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({quote(table)})")]


def _shared_columns(central: sqlite3.Connection, shard: sqlite3.Connection, table: str) -> list[str]:
    theirs = set(_columns(shard, table))
    return [c for c in _columns(central, table) if c in theirs and c not in ORIGIN_COLUMNS]


def _is_run_id(column: str) -> bool:
    return column.endswith("run_id")


def _fetched_time(value: str | None) -> datetime:
    if not value:
        return _EPOCH
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _EPOCH
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def snapshot(shard_path: Path, directory: Path) -> Path:
    """A consistent copy of ``shard_path`` made with SQLite's backup API, safe while a crawl writes it.

    Copying the file (and its -wal) could catch a transaction half written; the backup reads one
    snapshot. The shard is opened first so that an older schema is migrated in place, once: a copy
    migrated each time would get a new archive id and merge as a new shard.
    """
    if not shard_path.is_file():
        raise MergeError(f"{shard_path}: no such file")
    try:
        open_database(shard_path, create=False).close()
        source = sqlite3.connect(
            shard_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS
        )
        copy = directory / f"{shard_path.stem}.snapshot.db"
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    except sqlite3.Error as error:
        raise MergeError(f"{shard_path}: {error}") from error
    return copy


def merge_shard(central: sqlite_utils.Database, shard_path: Path, work_dir: Path) -> tuple[str, MergeCounts]:
    """Merge the archive at ``shard_path`` into ``central``: the shard's node name and what was added.

    The snapshot is made in a temporary directory under ``work_dir`` (beside the central archive, where
    there is room for a copy of a shard) and removed afterwards. The node is the one the shard's
    ``portalcrawl worker`` recorded, or else the shard file's name.
    """
    with tempfile.TemporaryDirectory(prefix=".merge-", dir=work_dir) as directory:
        shard = open_database(snapshot(shard_path, Path(directory)))
        try:
            node = node_name(shard, shard_path.stem)
            return node, merge_archive(central, shard, node)
        finally:
            shard.close()


def merge_archive(central: sqlite_utils.Database, shard: sqlite_utils.Database, node: str) -> MergeCounts:
    if archive_id(central) == archive_id(shard):
        raise MergeError("the shard is the central archive itself (or a copy of it)")
    counts = MergeCounts()
    run_ids = _merge_runs(central, shard, node, counts)
    _merge_articles(central.conn, shard.conn, run_ids, counts)
    counts.listing_states = _merge_listing_state(central.conn, shard.conn, run_ids)
    counts.skipped_urls = _merge_skipped_urls(central.conn, shard.conn, run_ids)
    return counts


def _remap(columns: Sequence[str], values: Sequence[Any], run_ids: dict[int, int]) -> list[Any]:
    return [
        run_ids.get(value) if _is_run_id(column) and value is not None else value
        for column, value in zip(columns, values, strict=True)
    ]


def _merge_runs(
    central: sqlite_utils.Database, shard: sqlite_utils.Database, node: str, counts: MergeCounts
) -> dict[int, int]:
    """Copy new runs, update changed ones (with their fetch_errors); shard run id → central run id."""
    central_archive, shard_archive = archive_id(central), archive_id(shard)
    columns = _shared_columns(central.conn, shard.conn, "crawl_runs")
    select = ", ".join(quote(c) for c in columns)
    insert = (
        f"INSERT INTO crawl_runs (node, origin_archive, origin_run_id, {select}) "
        f"VALUES ({', '.join('?' * (len(columns) + 3))})"
    )
    update = f"UPDATE crawl_runs SET {', '.join(f'{quote(c)} = ?' for c in columns)} WHERE id = ?"
    run_ids: dict[int, int] = {}
    cursor = shard.conn.execute(
        f"SELECT id, node, origin_archive, origin_run_id, {select} FROM crawl_runs ORDER BY id"
    )
    while batch := cursor.fetchmany(RUN_BATCH):
        with _write(central.conn):
            for shard_run, run_node, origin_archive, origin_run, *values in batch:
                # A run merged into the shard before keeps its first origin, so merging back is a no-op.
                origin = (origin_archive, origin_run) if origin_archive else (shard_archive, shard_run)
                if origin[0] == central_archive:
                    run_ids[shard_run] = origin[1]
                    continue
                found = central.conn.execute(
                    f"SELECT id, {select} FROM crawl_runs WHERE origin_archive = ? AND origin_run_id = ?",
                    origin,
                ).fetchone()
                if found is None:
                    cursor_insert = central.conn.execute(insert, [run_node or node, *origin, *values])
                    run_ids[shard_run] = int(cursor_insert.lastrowid or 0)
                    counts.runs += 1
                elif list(found[1:]) != values:
                    run_ids[shard_run] = found[0]
                    central.conn.execute(update, [*values, found[0]])
                    central.conn.execute("DELETE FROM fetch_errors WHERE run_id = ?", (found[0],))
                    counts.runs_updated += 1
                else:
                    run_ids[shard_run] = found[0]
                    continue
                counts.fetch_errors += _copy_fetch_errors(
                    central.conn, shard.conn, shard_run, run_ids[shard_run]
                )
    return run_ids


def _copy_fetch_errors(
    central: sqlite3.Connection, shard: sqlite3.Connection, shard_run: int, run_id: int
) -> int:
    columns = [c for c in _shared_columns(central, shard, "fetch_errors") if c != "run_id"]
    select = ", ".join(quote(c) for c in columns)
    rows = shard.execute(
        f"SELECT {select} FROM fetch_errors WHERE run_id = ? ORDER BY id", (shard_run,)
    ).fetchall()
    central.executemany(
        f"INSERT INTO fetch_errors (run_id, {select}) VALUES (?, {', '.join('?' * len(columns))})",
        [(run_id, *row) for row in rows],
    )
    return len(rows)


def _merge_articles(
    central: sqlite3.Connection, shard: sqlite3.Connection, run_ids: dict[int, int], counts: MergeCounts
) -> None:
    merger = _ArticleMerger(central, shard, run_ids, counts)
    cursor = shard.execute(f"SELECT {', '.join(quote(c) for c in merger.columns)} FROM articles ORDER BY id")
    while batch := cursor.fetchmany(BATCH):
        with _write(central):
            merger.merge_batch(batch)


class _ArticleMerger:
    """Folds batches of a shard's articles (and their versions) into the central archive."""

    def __init__(
        self,
        central: sqlite3.Connection,
        shard: sqlite3.Connection,
        run_ids: dict[int, int],
        counts: MergeCounts,
    ) -> None:
        self.central, self.shard, self.run_ids, self.counts = central, shard, run_ids, counts
        self.columns = _shared_columns(central, shard, "articles")
        self.version_columns = [
            c for c in _shared_columns(central, shard, "article_versions") if c != "article_id"
        ]
        # A newer fetch replaces the content, not the record of when the URL was first seen.
        self.replaced = [c for c in self.columns if c not in ("url", "first_seen_at", "first_seen_run_id")]
        self.versioned = [c for c in self.version_columns if c in self.columns]
        # The content hashes already kept as versions, per central article id of the batch.
        self.known_versions: dict[int, set[str | None]] = {}
        self.fts_rows: list[tuple[int, str | None, str | None]] = []

    def merge_batch(self, batch: list[tuple[Any, ...]]) -> None:
        rows = [
            dict(zip(self.columns, _remap(self.columns, row, self.run_ids), strict=True)) for row in batch
        ]
        urls = [row["url"] for row in rows]
        placeholders = ", ".join("?" * len(urls))
        existing = {
            row[1]: row
            for row in self.central.execute(
                "SELECT id, url, content_hash, fetched_at, title, body_text FROM articles "
                f"WHERE url IN ({placeholders})",
                urls,
            )
        }
        self.known_versions = {}
        for article_id, content_hash in self.central.execute(
            "SELECT article_id, content_hash FROM article_versions WHERE article_id IN "
            f"(SELECT id FROM articles WHERE url IN ({placeholders}))",
            urls,
        ):
            self.known_versions.setdefault(article_id, set()).add(content_hash)
        shard_versions: dict[str, list[dict[str, Any]]] = {}
        for version in self.shard.execute(
            f"SELECT {', '.join(quote(c) for c in self.version_columns)} FROM article_versions "
            f"WHERE url IN ({placeholders}) ORDER BY id",
            urls,
        ):
            values = dict(
                zip(self.version_columns, _remap(self.version_columns, version, self.run_ids), strict=True)
            )
            shard_versions.setdefault(values["url"], []).append(values)
        for row in rows:
            found = existing.get(row["url"])
            if found is None:
                article_id, current_hash = self._insert(row), row["content_hash"]
            else:
                article_id, current_hash = found[0], self._meet(row, found)
            for version in shard_versions.get(row["url"], []):
                self._add_version(article_id, version, current_hash)
        self._index_new()

    def _insert(self, row: dict[str, Any]) -> int:
        cursor = self.central.execute(
            f"INSERT INTO articles ({', '.join(quote(c) for c in self.columns)}) "
            f"VALUES ({', '.join('?' * len(self.columns))})",
            [row[c] for c in self.columns],
        )
        article_id = int(cursor.lastrowid or 0)
        self.fts_rows.append((article_id, row["title"], row["body_text"]))
        self.counts.articles_new += 1
        return article_id

    def _index_new(self) -> None:
        # As in upsert_articles: no insert trigger; both indexes get the batch's new rows at once. No
        # row of the batch is updated after its insert (a shard holds each URL once), so none of these
        # entries is missing when an update trigger needs it.
        self.central.executemany(
            "INSERT INTO articles_fts(rowid, title, body_text) VALUES (?, ?, ?)", self.fts_rows
        )
        self.central.executemany(
            "INSERT INTO articles_bigrams(rowid, tokens) VALUES (?, ?)",
            ((article_id, bigram_document(title, body)) for article_id, title, body in self.fts_rows),
        )
        self.fts_rows.clear()

    def _meet(self, row: dict[str, Any], found: tuple[Any, ...]) -> str | None:
        """An article the central archive has: the newest fetch wins. The hash now current."""
        article_id, _, current_hash, fetched_at, old_title, old_body = found
        if current_hash == row["content_hash"]:
            return current_hash
        if _fetched_time(row["fetched_at"]) <= _fetched_time(fetched_at):
            older = {c: row.get(c) for c in self.version_columns}
            older.update(
                replaced_at=row.get("updated_at") or row.get("first_seen_at"), replaced_by_run_id=None
            )
            self._add_version(article_id, older, current_hash)
            return current_hash
        read = f"SELECT {', '.join(quote(c) for c in self.versioned)} FROM articles WHERE id = ?"
        current = dict(zip(self.versioned, self.central.execute(read, (article_id,)).fetchone(), strict=True))
        current.update(replaced_at=now_iso(), replaced_by_run_id=row["last_run_id"])
        self._add_version(article_id, current, row["content_hash"])
        # The update trigger rewrites the trigram entry; the contentless bigram one needs the old tokens.
        self.central.execute(
            f"UPDATE articles SET {', '.join(f'{quote(c)} = ?' for c in self.replaced)} WHERE id = ?",
            [*(row[c] for c in self.replaced), article_id],
        )
        self.central.execute(
            "INSERT INTO articles_bigrams(articles_bigrams, rowid, tokens) VALUES ('delete', ?, ?)",
            (article_id, bigram_document(old_title, old_body)),
        )
        self.central.execute(
            "INSERT INTO articles_bigrams(rowid, tokens) VALUES (?, ?)",
            (article_id, bigram_document(row["title"], row["body_text"])),
        )
        self.counts.articles_updated += 1
        return row["content_hash"]

    def _add_version(self, article_id: int, values: dict[str, Any], current_hash: str | None) -> None:
        """Keep ``values`` as a version of the article unless that content is already there."""
        hashes = self.known_versions.setdefault(article_id, set())
        if values["content_hash"] in hashes or values["content_hash"] == current_hash:
            return
        self.central.execute(
            f"INSERT INTO article_versions (article_id, {', '.join(quote(c) for c in self.version_columns)}) "
            f"VALUES (?, {', '.join('?' * len(self.version_columns))})",
            [article_id, *(values.get(c) for c in self.version_columns)],
        )
        hashes.add(values["content_hash"])
        self.counts.versions += 1


def _merge_listing_state(
    central: sqlite3.Connection, shard: sqlite3.Connection, run_ids: dict[int, int]
) -> int:
    """The shard's listing state where the central archive has none or an older one."""
    columns = _shared_columns(central, shard, "listing_state")
    select = ", ".join(quote(c) for c in columns)
    changed = 0
    rows = shard.execute(f"SELECT {select} FROM listing_state").fetchall()
    with _write(central):
        for row in rows:
            values = dict(zip(columns, _remap(columns, row, run_ids), strict=True))
            found = central.execute(
                f"SELECT {select} FROM listing_state WHERE site = ? AND start_url = ?",
                (values["site"], values["start_url"]),
            ).fetchone()
            if found is not None and (
                list(found) == list(values.values())
                or (found[columns.index("last_complete_at")] or "") > (values["last_complete_at"] or "")
            ):
                continue
            central.execute(
                f"INSERT OR REPLACE INTO listing_state ({select}) VALUES ({', '.join('?' * len(columns))})",
                list(values.values()),
            )
            changed += 1
    return changed


def _merge_skipped_urls(
    central: sqlite3.Connection, shard: sqlite3.Connection, run_ids: dict[int, int]
) -> int:
    columns = _shared_columns(central, shard, "skipped_urls")
    select = ", ".join(quote(c) for c in columns)
    added = 0
    cursor = shard.execute(f"SELECT {select} FROM skipped_urls")
    while batch := cursor.fetchmany(BATCH):
        with _write(central):
            for row in batch:
                inserted = central.execute(
                    f"INSERT OR IGNORE INTO skipped_urls ({select}) VALUES ({', '.join('?' * len(columns))})",
                    _remap(columns, row, run_ids),
                )
                added += inserted.rowcount
    return added

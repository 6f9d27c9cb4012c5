"""Archive files on disk: recognise one (so no command clobbers it) and read one on read-only media."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils

from portalcrawl.database import (
    SCHEMA_VERSION,
    DatabaseError,
    ensure_writable,
    open_database,
    refuse_newer_schema,
    schema_state,
    schema_version,
)

# The first bytes of every SQLite database file, and of a write-ahead log beside one.
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_HEADERS = (b"\x37\x7f\x06\x82", b"\x37\x7f\x06\x83")


def is_sqlite_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a SQLite database (or its WAL), judged by its header, not its name."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return head == SQLITE_HEADER or head[:4] in WAL_HEADERS


def _read_only_connection(path: Path, *, immutable: bool) -> sqlite3.Connection:
    flag = "immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{flag}", uri=True)
    try:
        schema_version(conn)  # the first read opens the file (and its WAL index): fail here, not later
    except BaseException:
        conn.close()
        raise
    return conn


def open_for_reading(path: str | os.PathLike[str]) -> sqlite_utils.Database:
    """The archive at ``path`` for commands that only read it, without ever writing to it.

    ``mode=ro`` first; a WAL archive on read-only media cannot create its ``-shm`` index, so then
    ``immutable=1`` (nothing can be writing to a read-only medium). An archive of an older schema is
    migrated first, which needs write access. Raises ``DatabaseError`` (missing, newer schema, needs a
    migration it cannot get) or ``sqlite3.Error`` (corrupt, not a database, unreadable).
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a directory, not a database" if path.is_dir() else "does not exist"
        raise DatabaseError(f"no database at {path}: it {problem} (run a crawl first, or pass --db)")
    try:
        conn = _read_only_connection(path, immutable=False)
    except sqlite3.OperationalError as error:
        if "unable to open" not in str(error) and "readonly" not in str(error):
            raise
        conn = _read_only_connection(path, immutable=True)
    db = sqlite_utils.Database(conn)
    state = schema_state(db)
    try:
        refuse_newer_schema(path, state)
    except DatabaseError:
        conn.close()
        raise
    if not state.pending:
        return db
    conn.close()
    try:
        return open_database(path, create=False)
    except sqlite3.OperationalError as error:
        raise DatabaseError(
            f"{path} has schema version {state.version} and must be upgraded to {SCHEMA_VERSION} by a "
            f"command that can write it: {error}"
        ) from None


def archive_sites(path: str | os.PathLike[str]) -> set[str]:
    """The sites a SQLite file holds articles or crawl runs of, whatever its schema (read-only)."""
    conn = _read_only_connection(Path(path), immutable=False)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        sites: set[str] = set()
        for table in ("articles", "crawl_runs"):
            if table in tables:
                sites |= {row[0] for row in conn.execute(f"SELECT DISTINCT site FROM {table}")}
        return sites
    finally:
        conn.close()


def unwritable_reason(path: str | os.PathLike[str]) -> str | None:
    """Why a crawl could not write the archive at ``path`` (created or migrated here if need be),
    or None: a directory, not a database, corrupt, a newer schema, read-only, locked by a writer."""
    path = Path(path)
    if path.is_dir():
        return f"{path} is a directory, not a database"
    try:
        db = open_database(path)
        try:
            ensure_writable(db)
        finally:
            db.close()
    except DatabaseError as error:
        return str(error)
    except sqlite3.Error as error:
        return f"{path}: {error}"
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    return None

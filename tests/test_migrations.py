"""Migrations by sqlite-utils: old archives carried over, newer ones refused, one migrator at a time."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from portalcrawl import database
from portalcrawl.archive_files import open_for_reading
from portalcrawl.database import MIGRATION_SET, DatabaseError, open_database
from tests.test_hostile_cli import read_only_mount


def applied(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id", (MIGRATION_SET,)
        ).fetchall()
    conn.close()
    return [name for (name,) in rows]


def names(steps: tuple[object, ...]) -> list[str]:
    return [step.__name__.lstrip("_") for step in steps]  # type: ignore[attr-defined]


def old_archive(path: Path, version: int) -> None:
    """An archive as the home-made runner left it at ``version``: no `_sqlite_migrations` table."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for step in database.MIGRATIONS[:version]:
        step(conn)
    conn.execute("INSERT INTO metadata VALUES ('schema_version', ?)", (str(version),))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", range(1, database.SCHEMA_VERSION + 1))
def test_an_old_archive_carries_its_version_into_the_bookkeeping(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    old_archive(path, version)
    open_database(path).close()
    db = open_database(path)
    # A current archive has nothing to migrate and its bookkeeping waits for the next migration.
    if version < database.SCHEMA_VERSION:
        assert applied(path) == names(database.MIGRATIONS)
    assert db["metadata"].get("schema_version")["value"] == str(database.SCHEMA_VERSION)
    assert database.schema_state(db).pending == ()
    db.close()


def test_a_current_archive_of_the_old_runner_is_read_on_read_only_media(tmp_path: Path) -> None:
    # Nothing to migrate: the bookkeeping is not written just for itself, so the archive stays
    # readable where it cannot be written (a tmpfs remounted read-only, as a mounted backup).
    old_archive(tmp_path / "current.db", database.SCHEMA_VERSION)
    with read_only_mount([tmp_path / "current.db"], tmp_path / "ro") as media:
        db = open_for_reading(media / "current.db")
        assert db["articles"].count == 0
        assert "_sqlite_migrations" not in db.table_names()
        db.close()


def test_an_archive_with_a_migration_unknown_here_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
            (MIGRATION_SET, "add_something_new", "2027-01-01 00:00:00+00:00"),
        )
    conn.close()
    before = path.read_bytes()
    for opener in (open_database, open_for_reading):
        with pytest.raises(DatabaseError, match="newer than this portalcrawl understands") as error:
            opener(path)
        assert "add_something_new" in str(error.value)
    assert path.read_bytes() == before


def test_migrations_are_applied_by_name_whatever_their_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration another branch appended is applied after a merge that placed it before ours."""
    calls: list[str] = []

    def _add_ours(conn: sqlite3.Connection) -> None:
        calls.append("ours")
        conn.execute("ALTER TABLE crawl_runs ADD COLUMN ours TEXT")

    def _add_theirs(conn: sqlite3.Connection) -> None:
        calls.append("theirs")
        conn.execute("ALTER TABLE crawl_runs ADD COLUMN theirs TEXT")

    path = tmp_path / "branch.db"
    monkeypatch.setattr(database, "MIGRATIONS", (*database.MIGRATIONS, _add_ours))
    monkeypatch.setattr(database, "SCHEMA_VERSION", len(database.MIGRATIONS))
    open_database(path).close()
    merged = (*database.MIGRATIONS[:-1], _add_theirs, _add_ours)
    monkeypatch.setattr(database, "MIGRATIONS", merged)
    monkeypatch.setattr(database, "SCHEMA_VERSION", len(merged))
    open_database(path).close()
    assert calls == ["ours", "theirs"]
    assert applied(path)[-2:] == ["add_ours", "add_theirs"]


def test_two_openers_at_once_migrate_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def _slow_step(conn: sqlite3.Connection) -> None:
        calls.append(threading.get_ident())
        time.sleep(0.3)  # the other opener finds the migration pending and waits for the write lock
        conn.execute("ALTER TABLE crawl_runs ADD COLUMN slow TEXT")

    path = tmp_path / "race.db"
    open_database(path).close()
    monkeypatch.setattr(database, "MIGRATIONS", (*database.MIGRATIONS, _slow_step))
    monkeypatch.setattr(database, "SCHEMA_VERSION", len(database.MIGRATIONS))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            open_database(path).close()
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(calls) == 1
    assert applied(path).count("slow_step") == 1

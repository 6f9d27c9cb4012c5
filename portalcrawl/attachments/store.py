"""The attachments and files tables, and the content-addressed file store beside the archive."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from portalcrawl.attachments.readers import Extraction
from portalcrawl.attachments.sniff import EXTENSION_OF_KIND
from portalcrawl.database import bigram_document, now_iso, write_transaction

# Outcomes of a link (attachments.status). `linked`: recorded only; the others say what a fetch found.
LINK_STATUSES = (
    "linked",
    "downloaded",
    "not_a_file",
    "too_large",
    "over_budget",
    "refused",
    "http_error",
    "failed",
)
# Outcomes a rerun keeps instead of fetching again; the others are tried again by the next run.
SETTLED_STATUSES = frozenset({"downloaded", "not_a_file", "too_large", "refused"})
# Outcomes of text extraction (files.extract_status).
EXTRACT_STATUSES = (
    "ok",
    "empty",
    "needs_ocr",
    "garbled",
    "encrypted",
    "unsupported",
    "too_large",
    "timeout",
    "crashed",
    "error",
)


def files_dir(db_path: str | os.PathLike[str]) -> Path:
    """``<db stem>.files`` beside the archive: ``output/portalcrawl.db`` → ``output/portalcrawl.files``."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.files")


def stored_path(db_path: str | os.PathLike[str], relative: str) -> Path:
    """The file of a ``files.path`` value (relative to the archive's directory, so both move together)."""
    return Path(db_path).parent / relative


def relative_path(db_path: str | os.PathLike[str], sha256: str, kind: str) -> str:
    extension = EXTENSION_OF_KIND.get(kind, "bin")
    return f"{files_dir(db_path).name}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def store_file(db_path: str | os.PathLike[str], body: bytes, kind: str) -> tuple[str, str]:
    """Write ``body`` once under its SHA-256, atomically (temporary file, fsync, rename).

    Returns ``(sha256, path relative to the archive's directory)``.
    """
    sha256 = hashlib.sha256(body).hexdigest()
    relative = relative_path(db_path, sha256, kind)
    target = stored_path(db_path, relative)
    if target.exists() and target.stat().st_size == len(body):
        return sha256, relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha256, relative


def record_links(
    db: sqlite_utils.Database, article_url: str, links: Iterable[dict[str, str]], run_id: int | None
) -> None:
    """One ``attachments`` row per link of an article; a link seen again keeps its outcome."""
    rows = [(article_url, link["url"], link.get("name"), run_id, run_id) for link in links if link.get("url")]
    if not rows:
        return
    with write_transaction(db):
        db.conn.executemany(
            "INSERT INTO attachments (article_url, url, name, first_seen_run_id, last_run_id) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(article_url, url) DO UPDATE SET "
            "last_run_id = excluded.last_run_id, name = coalesce(excluded.name, attachments.name)",
            rows,
        )


def settled_outcome(db: sqlite_utils.Database, url: str) -> dict[str, Any] | None:
    """The outcome a previous fetch of ``url`` (by any article) settled on, to reuse instead of fetching."""
    placeholders = ", ".join("?" * len(SETTLED_STATUSES))
    row = db.conn.execute(
        "SELECT status, http_status, content_type, server_name, sha256, error, fetched_at FROM attachments "
        f"WHERE url = ? AND status IN ({placeholders}) ORDER BY fetched_at DESC LIMIT 1",
        (url, *sorted(SETTLED_STATUSES)),
    ).fetchone()
    if row is None:
        return None
    keys = ("status", "http_status", "content_type", "server_name", "sha256", "error", "fetched_at")
    return dict(zip(keys, row, strict=True))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What fetching an attachment URL came to (the attachments columns it sets)."""

    status: str
    http_status: int | None = None
    content_type: str | None = None
    server_name: str | None = None
    sha256: str | None = None
    error: str | None = None
    fetched_at: str | None = None


def record_outcome(
    db: sqlite_utils.Database, url: str, outcome: Outcome, article_urls: Iterable[str]
) -> None:
    """Set the outcome of ``url`` on the rows of the given articles."""
    if outcome.status not in LINK_STATUSES:
        raise ValueError(f"unknown attachment status {outcome.status!r}")
    with write_transaction(db):
        db.conn.executemany(
            "UPDATE attachments SET status = ?, http_status = ?, content_type = ?, server_name = ?, "
            "sha256 = ?, error = ?, fetched_at = ? WHERE url = ? AND article_url = ?",
            [
                (
                    outcome.status,
                    outcome.http_status,
                    outcome.content_type,
                    outcome.server_name,
                    outcome.sha256,
                    outcome.error,
                    outcome.fetched_at or now_iso(),
                    url,
                    article_url,
                )
                for article_url in dict.fromkeys(article_urls)
            ],
        )


def record_file(db: sqlite_utils.Database, sha256: str, size: int, kind: str, path: str) -> None:
    with write_transaction(db):
        db.conn.execute(
            "INSERT OR IGNORE INTO files (sha256, bytes, kind, path, stored_at) VALUES (?, ?, ?, ?, ?)",
            (sha256, size, kind, path, now_iso()),
        )


def file_row(db: sqlite_utils.Database, sha256: str) -> dict[str, Any] | None:
    cursor = db.conn.execute("SELECT * FROM files WHERE sha256 = ?", (sha256,))
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def record_text(db: sqlite_utils.Database, sha256: str, result: Extraction) -> None:
    """Store a file's text; the trigram index follows by trigger, the bigram index is written here."""
    if result.status not in EXTRACT_STATUSES:
        raise ValueError(f"unknown extraction status {result.status!r}")
    with write_transaction(db):
        found = db.conn.execute("SELECT id, text FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        if found is None:
            raise ValueError(f"no file {sha256}")
        file_id, old_text = found
        if old_text:
            db.conn.execute(
                "INSERT INTO files_bigrams(files_bigrams, rowid, tokens) VALUES ('delete', ?, ?)",
                (file_id, bigram_document(None, old_text)),
            )
        db.conn.execute(
            "UPDATE files SET text = ?, pages = ?, extract_status = ?, extracted_by = ?, error = ?, "
            "extracted_at = ? WHERE id = ?",
            (
                result.text or None,
                result.pages,
                result.status,
                result.extracted_by,
                result.error,
                now_iso(),
                file_id,
            ),
        )
        if result.text:
            db.conn.execute(
                "INSERT INTO files_bigrams(rowid, tokens) VALUES (?, ?)",
                (file_id, bigram_document(None, result.text)),
            )

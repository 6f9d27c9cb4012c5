"""Rows/s of the storage path (upsert_articles in batches, FTS kept in sync) against raw executemany.

Usage: python benchmarks/storage.py [--rows N] [--batch N]

Times are CPU seconds of this process (the machine may be shared; SQLite's work is in-process), so
fsync waits are not counted. The baseline inserts the same, already prepared rows into the same
schema (same trigram and bigram indexes) with executemany in one transaction; the storage path also
builds rows from Articles, computes bigrams and looks existing URLs up, batch by batch, one
transaction per batch. It also measures feeding the trigram index from an insert trigger instead of
explicit inserts, and a recrawl in which every article is unchanged. Article text comes from the
labelled corpus in shared/corpus when present (else a synthetic sentence), 1,500 characters a body.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from portalcrawl.database import (
    ARTICLE_COLUMNS,
    STORED_FIELDS,
    article_row,
    bigram_document,
    open_database,
    quote,
    upsert_articles,
)
from portalcrawl.items import Article

CORPUS_LABELS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "labels.jsonl"
BODY_CHARS = 1500


def corpus_texts() -> tuple[list[str], str]:
    """Titles, and one pool of body text, from the labelled corpus (or a small synthetic sample)."""
    titles, bodies = [], []
    if CORPUS_LABELS.exists():
        for line in CORPUS_LABELS.read_text(encoding="utf-8").splitlines():
            label = json.loads(line)
            if label.get("title") and label.get("body_first"):
                titles.append(label["title"])
                bodies.append(f"{label['body_first']}{label.get('body_last') or ''}")
    if not titles:
        titles = ["关于开展科技创新项目申报工作的通知"]
        bodies = ["各有关单位：为推进科技创新，现将2026年度项目申报有关事项通知如下。"]
    return titles, "".join(bodies)


def make_articles(count: int) -> list[Article]:
    titles, pool = corpus_texts()
    pool = pool * (2 * BODY_CHARS // len(pool) + 2)
    span = len(pool) - BODY_CHARS
    articles = []
    for n in range(count):
        # A different window of real text per article, so the indexes see realistic distinct documents.
        offset = (n * 7919) % span
        text = f"第{n}号。" + pool[offset : offset + BODY_CHARS]
        articles.append(
            Article(
                url=f"https://www.example.gov.cn/art/2026/1/{n}/art_{n}.html",
                site=f"site{n % 10}",
                title=f"{titles[n % len(titles)]}（{n}）",
                published_at="2026-01-16T19:01:55+08:00",
                body_text=text,
                body_html=f"<p>{text}</p>",
                attachments=[{"url": f"https://www.example.gov.cn/P0{n}.pdf", "name": "附件.pdf"}],
            )
        )
    return articles


def storage_path(path: Path, articles: list[Article], batch: int) -> float:
    db = open_database(path)
    started = time.process_time()
    for start in range(0, len(articles), batch):
        upsert_articles(db, articles[start : start + batch], 1)
    elapsed = time.process_time() - started
    db.close()
    return elapsed


def recrawl(path: Path, articles: list[Article], batch: int) -> float:
    db = open_database(path)
    started = time.process_time()
    for start in range(0, len(articles), batch):
        counts = upsert_articles(db, articles[start : start + batch], 2)
        assert counts.unchanged == len(articles[start : start + batch])
    elapsed = time.process_time() - started
    db.close()
    return elapsed


def raw_executemany(path: Path, articles: list[Article], *, insert_trigger: bool) -> float:
    db = open_database(path)
    conn = db.conn
    if insert_trigger:
        # The design portalcrawl rejected: the trigram index fed by a trigger on every insert.
        conn.execute(
            "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN INSERT INTO articles_fts"
            "(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END"
        )
    rows = [
        (n + 1, *(row[name] for name in STORED_FIELDS), "2026-01-16T12:00:00+00:00", None, 1, 1)
        for n, row in enumerate(article_row(article) for article in articles)
    ]
    bigrams = [(n + 1, bigram_document(a.title, a.body_text)) for n, a in enumerate(articles)]
    columns = ", ".join(quote(c) for c in ("id", *ARTICLE_COLUMNS))
    placeholders = ", ".join("?" * (len(ARTICLE_COLUMNS) + 1))
    started = time.process_time()
    with db.atomic():
        conn.executemany(f"INSERT INTO articles ({columns}) VALUES ({placeholders})", rows)
        if not insert_trigger:
            conn.executemany(
                "INSERT INTO articles_fts(rowid, title, body_text) VALUES (?, ?, ?)",
                [(n + 1, a.title, a.body_text) for n, a in enumerate(articles)],
            )
        conn.executemany("INSERT INTO articles_bigrams(rowid, tokens) VALUES (?, ?)", bigrams)
    elapsed = time.process_time() - started
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument(
        "--batch", type=int, default=100, help="articles per upsert (PORTALCRAWL_FLUSH_ITEMS)"
    )
    args = parser.parse_args()
    articles = make_articles(args.rows)
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        raw = raw_executemany(tmp / "raw.db", articles, insert_trigger=False)
        raw_trigger = raw_executemany(tmp / "raw_trigger.db", articles, insert_trigger=True)
        stored = storage_path(tmp / "store.db", articles, args.batch)
        again = recrawl(tmp / "store.db", articles, args.batch)
        size_mb = (tmp / "store.db").stat().st_size / 1e6
    rate = args.rows / stored
    raw_rate = args.rows / raw
    print(f"rows: {args.rows}, body {BODY_CHARS} chars, batch {args.batch}")
    print(f"raw executemany, one transaction:                    {raw_rate:8.0f} rows/s")
    print(f"raw executemany, trigram index fed by insert trigger: {args.rows / raw_trigger:7.0f} rows/s")
    print(f"upsert_articles, batch {args.batch:<5} (new rows):       {rate:8.0f} rows/s")
    print(f"upsert_articles, recrawl (all unchanged):            {args.rows / again:8.0f} rows/s")
    print(f"ratio storage / raw: {rate / raw_rate:.2f}   database size: {size_mb:.1f} MB")


if __name__ == "__main__":
    main()

"""Rows/s of `portalcrawl merge`: shards of synthetic articles folded into a central archive.

Usage: python benchmarks/merge.py [--shards N] [--rows N] [--revised SHARE]

Each shard holds ``--rows`` articles (text from the labelled corpus, 1,500 characters a body, as in
benchmarks/storage.py) stored by upsert_articles in one run, with one fetch error per 100 articles.
The last shard also holds a ``--revised`` share of the first shard's URLs with newer content, so the
merge replaces them and keeps versions. Printed: wall seconds and rows/s of the first merge (snapshot,
run remapping, both search indexes), then of a second merge of the same shards, which adds 0 rows,
with the CPU seconds of this process beside them: on a shared machine other work stretches the wall
time, the CPU figure moves less.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from storage import make_articles

from portalcrawl.database import finish_run, open_database, record_fetch_errors, start_run, upsert_articles
from portalcrawl.merge import MergeCounts, merge_shard

BATCH = 500


def build_shard(path: Path, articles: list, fetched_at: str) -> None:
    db = open_database(path)
    run_id = start_run(db, "bench", {})
    for start in range(0, len(articles), BATCH):
        batch = [replace(a, fetched_at=fetched_at) for a in articles[start : start + BATCH]]
        upsert_articles(db, batch, run_id)
    errors = [(run_id, a.url + "?broken", 404, "HTTP 404", fetched_at) for a in articles[::100]]
    record_fetch_errors(db, errors)
    finish_run(db, run_id, status="ok", new_articles=len(articles))
    db.close()


def timed_merge(central_path: Path, shards: list[Path]) -> tuple[float, float, MergeCounts]:
    total = MergeCounts()
    central = open_database(central_path)
    cpu_started = time.process_time()
    started = time.perf_counter()
    for shard in shards:
        _, counts = merge_shard(central, shard, central_path.parent)
        for name, value in vars(counts).items():
            setattr(total, name, getattr(total, name) + value)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    central.close()
    return elapsed, cpu, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--rows", type=int, default=10_000, help="articles per shard")
    parser.add_argument("--revised", type=float, default=0.05, help="share of shard 1 revised in the last")
    args = parser.parse_args()
    articles = make_articles(args.rows * args.shards)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        shards = []
        for index in range(args.shards):
            path = directory / f"node{index + 1}.db"
            own = articles[index * args.rows : (index + 1) * args.rows]
            if index == args.shards - 1 and index > 0:
                revised = articles[: int(args.rows * args.revised)]
                own = own + [replace(a, title=f"{a.title}（更新）", content_hash=None) for a in revised]
            build_shard(path, own, f"2026-06-0{index + 1}T08:00:00+08:00")
            shards.append(path)
        central = directory / "central.db"
        for label in ("first merge", "second merge"):
            elapsed, cpu, counts = timed_merge(central, shards)
            read = args.rows * args.shards + int(args.rows * args.revised)
            print(
                f"{label}: {counts.rows} rows added ({counts}) from {read} shard articles "
                f"in {elapsed:.2f} s wall: {counts.rows / elapsed:,.0f} rows/s added, "
                f"{read / elapsed:,.0f} shard articles/s read; {cpu:.2f} CPU s: "
                f"{counts.rows / cpu:,.0f} rows/s added per CPU second"
            )


if __name__ == "__main__":
    main()

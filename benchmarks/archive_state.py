"""The spider's archive question per listing page: ``ArchiveState.known`` on archives of growing size.

Builds archives of N articles of one site (and N/10 skipped links), then asks ``known`` for listing
pages of 20 links (a third known, as on a rerun) and the all-known stop's ``up_to``; prints
microseconds and SQLite reads per listing page. The cost should not grow with the archive (the url
indexes answer it), and every page is one read.

    python benchmarks/archive_state.py --sizes 10000,100000 --pages 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from portalcrawl import database
from portalcrawl.archive_state import ArchiveState
from portalcrawl.items import Article

LINKS_PER_PAGE = 20
BATCH = 5000


def build(path: Path, size: int) -> ArchiveState:
    archive = ArchiveState.open(path, "site")
    for start in range(0, size, BATCH):
        articles = [
            Article(url=f"https://www.example.gov.cn/{n}.html", site="site", title="标题", body_text="正文")
            for n in range(start, min(size, start + BATCH))
        ]
        database.upsert_articles(archive.db, articles, 1)
    with database.write_transaction(archive.db):
        archive.db.conn.executemany(
            "INSERT INTO skipped_urls VALUES ('site', ?, 'HTTP 404', 1, '2026-01-01T00:00:00+00:00')",
            [(f"https://www.example.gov.cn/gone/{n}.html",) for n in range(size // 10)],
        )
    return archive


def listing_pages(size: int, pages: int) -> list[list[str]]:
    """Pages whose links are one third archived, one third skipped, one third new."""
    result = []
    for page in range(pages):
        links = []
        for k in range(LINKS_PER_PAGE):
            n = (page * LINKS_PER_PAGE + k) * 7919
            kind = k % 3
            if kind == 0:
                links.append(f"https://www.example.gov.cn/{n % size}.html")
            elif kind == 1:
                links.append(f"https://www.example.gov.cn/gone/{n % (size // 10)}.html")
            else:
                links.append(f"https://www.example.gov.cn/new/{n}.html")
        result.append(links)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="archive sizes in articles")
    parser.add_argument("--pages", type=int, default=2000, help="listing pages asked per size")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes per size (best is shown)")
    args = parser.parse_args()
    print(f"{'articles':>10} {'µs/page':>9} {'reads/page':>11}")
    for size in (int(value) for value in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as directory:
            archive = build(Path(directory) / "archive.db", size)
            pages = listing_pages(size, args.pages)
            best = float("inf")
            for _ in range(args.repeat):
                reads = archive.reads
                started = time.perf_counter()
                for links in pages:
                    archive.known(links).up_to(1)
                best = min(best, time.perf_counter() - started)
                reads = archive.reads - reads
            archive.close()
        print(f"{size:>10} {best / len(pages) * 1e6:>9.0f} {reads / len(pages):>11.2f}")


if __name__ == "__main__":
    main()

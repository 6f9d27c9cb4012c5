"""What keeping raw pages costs: archive bytes per article with and without, zstd levels, reextract pages/s.

Usage: python benchmarks/pages.py [--levels 3,9,19] [--crawl-articles 1000 --rounds 4]

1. Demo portal: `scrapy crawl portal` of every column of the bundled demo portal, once with
   PORTALCRAWL_KEEP_PAGES=all, once with =off, into fresh archives; the files' bytes (after VACUUM)
   per article, and what the `pages` and `page_captures` tables hold.
2. Corpus: every article page of the real-page corpus (../shared/corpus) stored as a crawl stores it
   (`store_pages`, the storage pipeline's writer; the row filled by `reextract`), then a copy
   without the pages; bytes per article again. The corpus pages are single pages of many different
   sites, the worst case for compression: a crawl stores many pages of the same portal.
3. zstd: compressed size and CPU ms per page at each level, on the demo pages and the corpus pages,
   and with a dictionary trained on half of the pages (tested on the other half).
4. `reextract` on both archives: pages re-extracted per second (dry run, nothing written; then for real
   on the demo archive, where nothing changes).
5. With --crawl-articles N: CPU ms per article of the crawler process crawling N articles with
   KEEP_PAGES=all and =off, alternating for --rounds rounds (what keeping pages costs the crawl).

CPU-bound figures are process CPU time; the machine may be shared with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlite_utils
import zstandard
from scrapy.settings import Settings

from portalcrawl.database import open_database, upsert_articles
from portalcrawl.demo.server import PortalServer
from portalcrawl.items import Article
from portalcrawl.pages import ARTICLE, PageCapture, store_pages
from portalcrawl.reextract import reextract
from portalcrawl.urls import canonical_url

ROOT = Path(__file__).resolve().parents[1]
DEMO_PORTAL = ROOT / "portalcrawl" / "demo" / "portal"
CORPUS = ROOT.parent / "shared" / "corpus"
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


def file_bytes(path: Path) -> int:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.close()
    return path.stat().st_size


def crawl_demo(db: Path, keep: str) -> None:
    with PortalServer(DEMO_PORTAL) as server:
        urls = ",".join(server.start_url(column) for column in server.columns)
        command = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"url={urls}"]
        for name, value in {**FAST, "PORTALCRAWL_DB_PATH": str(db), "PORTALCRAWL_KEEP_PAGES": keep}.items():
            command += ["-s", f"{name}={value}"]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, stdin=subprocess.DEVNULL)


def table_figures(db: Path) -> tuple[int, int, int, int]:
    """Articles, captures, raw bytes and compressed bytes in the archive."""
    conn = sqlite3.connect(db)
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    captures = conn.execute("SELECT count(*) FROM page_captures").fetchone()[0]
    raw, packed = conn.execute(
        "SELECT coalesce(sum(size), 0), coalesce(sum(length(data)), 0) FROM pages"
    ).fetchone()
    conn.close()
    return articles, captures, raw, packed


def report_archive(label: str, with_pages: Path, without_pages: Path) -> None:
    articles, captures, raw, packed = table_figures(with_pages)
    size_with, size_without = file_bytes(with_pages), file_bytes(without_pages)
    print(f"\n{label}: {articles} articles, {captures} pages kept ({raw / 1e6:.2f} MB as served)")
    print(f"  archive without raw pages   {size_without / articles:>9,.0f} bytes/article")
    print(f"  archive with raw pages      {size_with / articles:>9,.0f} bytes/article")
    print(f"  difference                  {(size_with - size_without) / articles:>9,.0f} bytes/article")
    ratio = raw / max(packed, 1)
    print(f"  zstd blobs in `pages`       {packed / articles:>9,.0f} bytes/article (ratio {ratio:.2f})")


def corpus_pages() -> list[tuple[str, str, bytes]]:
    pages = []
    for line in (CORPUS / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "article":
            url = canonical_url(entry["url"] or f"http://{entry['site']}/{entry['file']}")
            pages.append((url, entry["site"], (CORPUS / "pages" / entry["file"]).read_bytes()))
    return pages


def corpus_archives(directory: Path, settings: Settings) -> tuple[Path, Path]:
    """The corpus article pages stored as a crawl stores them, with and without their raw pages.

    The pages go in first (``store_pages``) beside a stub row per article; ``reextract`` then fills
    the rows through the crawl's extraction and pipelines, and the stub versions are removed.
    """
    with_pages, without = directory / "corpus-all.db", directory / "corpus-off.db"
    fetched_at = "2026-12-01T03:17:00+00:00"
    db = open_database(with_pages)
    stubs, captures = [], []
    for url, site, body in corpus_pages():
        stubs.append(Article(url=url, site=site, title="-", final_url=url, fetched_at=fetched_at))
        capture = PageCapture(
            site=site,
            kind=ARTICLE,
            url=url,
            final_url=url,
            method="GET",
            request_headers=[("User-Agent", "portalcrawl/0.1"), ("Accept-Encoding", "gzip, deflate")],
            request_body=b"",
            status=200,
            headers=[("Content-Type", "text/html"), ("Content-Length", str(len(body)))],
            fetched_at=fetched_at,
            body=body,
            article_url=url,
        )
        captures.append((capture, fetched_at))
    with db.atomic():
        upsert_articles(db, stubs, None)
        store_pages(db, captures, None)
    reextract_rate("corpus", db, settings, dry_run=False)
    with db.atomic():
        db.conn.execute("DELETE FROM article_versions")
    db.close()
    shutil.copyfile(with_pages, without)
    conn = sqlite3.connect(without)
    conn.execute("DELETE FROM page_captures")
    conn.execute("DELETE FROM pages")
    conn.commit()
    conn.close()
    return with_pages, without


def zstd_table(label: str, bodies: list[bytes], levels: list[int]) -> None:
    raw = sum(map(len, bodies))
    print(f"\nzstd on the {label} ({len(bodies)} pages, {raw / len(bodies):,.0f} bytes each as served)")
    print("  level  ratio  ms/page   with a dictionary (trained on half, tested on the other half)")
    train, test = bodies[::2], bodies[1::2]
    test_raw = sum(map(len, test))
    dictionary = None
    if len(train) >= 8:
        try:
            dictionary = zstandard.train_dictionary(min(112_640, sum(map(len, train)) // 10), train)
        except zstandard.ZstdError as error:
            print(f"  (no dictionary: {error})")
    for level in levels:
        compressor = zstandard.ZstdCompressor(level=level)
        start = time.process_time()
        packed = sum(len(compressor.compress(body)) for body in bodies)
        elapsed = time.process_time() - start
        line = f"  {level:>5}  {raw / packed:5.2f}  {elapsed / len(bodies) * 1000:7.2f}"
        if dictionary is not None:
            with_dict = zstandard.ZstdCompressor(level=level, dict_data=dictionary)
            plain = sum(len(compressor.compress(body)) for body in test)
            packed_dict = sum(len(with_dict.compress(body)) for body in test)
            line += (
                f"   ratio {test_raw / plain:.2f} → {test_raw / packed_dict:.2f}"
                f" (+{len(dictionary.as_bytes()) / 1024:.0f} kB dictionary)"
            )
        print(line)


def reextract_rate(label: str, db: sqlite_utils.Database, settings: Settings, *, dry_run: bool) -> None:
    start = time.perf_counter()
    cpu = time.process_time()
    report = reextract(db, settings, dry_run=dry_run)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    mode = "dry run" if dry_run else "writing"
    print(
        f"  {label} ({mode}): {report.pages} pages in {wall:.2f} s = {report.pages / wall:,.0f} pages/s "
        f"({cpu / max(report.pages, 1) * 1000:.2f} ms CPU a page), {report.changed_rows} rows changed"
    )


def crawl_cpu(articles: int, rounds: int) -> None:
    """CPU ms per article of `scrapy crawl portal` with KEEP_PAGES=all and =off, alternating."""
    figures: dict[str, list[float]] = {"all": [], "off": []}
    with (
        tempfile.TemporaryDirectory() as tmp,
        PortalServer(ROOT / "tests" / "portals" / "trs", articles=articles) as server,
    ):
        for round_number in range(rounds):
            order = ("all", "off") if round_number % 2 == 0 else ("off", "all")
            for keep in order:
                db = Path(tmp) / f"crawl-{keep}-{round_number}.db"
                command = [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "crawl",
                    "portal",
                    "-a",
                    f"url={server.start_url('jrjj')}",
                ]
                crawl_settings = {
                    **FAST,
                    "CONCURRENT_REQUESTS": "16",
                    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
                    "PORTALCRAWL_MAX_PAGES": "100000",
                    "PORTALCRAWL_DB_PATH": str(db),
                    "PORTALCRAWL_KEEP_PAGES": keep,
                    "LOG_LEVEL": "WARNING",
                }
                for name, value in crawl_settings.items():
                    command += ["-s", f"{name}={value}"]
                process = subprocess.Popen(
                    command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                _, _, usage = os.wait4(process.pid, 0)
                conn = sqlite3.connect(db)
                stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
                conn.close()
                figures[keep].append((usage.ru_utime + usage.ru_stime) / max(stored, 1) * 1000)
    print(f"\ncrawl of {articles} articles, CPU ms an article of the crawler process, {rounds} rounds")
    for keep, values in figures.items():
        each = ", ".join(f"{value:.2f}" for value in values)
        print(f"  KEEP_PAGES={keep:<4} median {sorted(values)[len(values) // 2]:.2f}  (each round: {each})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,3,6,9,12,19", help="zstd levels to compare")
    parser.add_argument(
        "--crawl-articles",
        type=int,
        default=0,
        metavar="N",
        help="also time crawls of N articles, all vs off",
    )
    parser.add_argument("--rounds", type=int, default=4, help="crawl rounds with --crawl-articles")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    print(
        f"portalcrawl pages benchmark, {os.cpu_count()} CPUs (shared machine: CPU figures are this process's)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        demo_all, demo_off = directory / "demo-all.db", directory / "demo-off.db"
        crawl_demo(demo_all, "all")
        crawl_demo(demo_off, "off")
        conn = sqlite3.connect(demo_all)
        decompressor = zstandard.ZstdDecompressor()
        demo_bodies = [decompressor.decompress(row[0]) for row in conn.execute("SELECT data FROM pages")]
        conn.close()
        settings = Settings()
        settings.setmodule("portalcrawl.settings")
        print("\nreextract")
        db = open_database(demo_all)
        reextract_rate("demo portal", db, settings, dry_run=True)
        reextract_rate("demo portal", db, settings, dry_run=False)
        db.close()
        corpus_all, corpus_off = corpus_archives(directory, settings)
        db = open_database(corpus_all)
        reextract_rate("corpus", db, settings, dry_run=True)
        db.close()
        conn = sqlite3.connect(corpus_all)
        corpus_bodies = [decompressor.decompress(row[0]) for row in conn.execute("SELECT data FROM pages")]
        conn.close()
        report_archive("demo portal (every column, listing and article pages)", demo_all, demo_off)
        report_archive("corpus article pages (one page per site, many sites)", corpus_all, corpus_off)
        zstd_table("demo portal pages", demo_bodies, levels)
        zstd_table("corpus pages", corpus_bodies, levels)
    if args.crawl_articles:
        crawl_cpu(args.crawl_articles, args.rounds)


if __name__ == "__main__":
    main()

"""Attachments: PDF text through the sandbox, and crawl throughput with downloads against links only.

1. Born-digital PDF pages per second through ``Sandbox.extract`` (a worker process, as the crawl and
   ``portalcrawl attachments extract`` use it): FILES PDFs of PAGES pages of 40 lines each, the worker
   started once (its start-up is timed separately).
2. ``scrapy crawl portal`` on the sample TRS portal (every third article has attachments, served as
   PDFs) with ``PORTALCRAWL_ATTACHMENTS=links`` and ``download``, alternately, politeness off: articles
   per second until the last article page was read (files wait behind pages: lower priority), the time
   until the crawl ended (downloads included), and the ratio download/links of the first.

    python benchmarks/attachments.py --files 20 --pages 50 --articles 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.crawl import start_server  # noqa: E402
from portalcrawl.attachments.readers import Caps  # noqa: E402
from portalcrawl.attachments.sandbox import Sandbox  # noqa: E402
from tests.attachment_files import make_pdf  # noqa: E402

WORDS = [
    "the",
    "county",
    "road",
    "maintenance",
    "budget",
    "for",
    "bridges",
    "culverts",
    "slopes",
    "and",
    "village",
    "roads",
    "in",
]


def page_text(number: int) -> str:
    return "\n".join(
        " ".join(WORDS[(number + line + i) % len(WORDS)] for i in range(12)) + f" {number}.{line}"
        for line in range(40)
    )


def pdf_pages_per_second(files: int, pages: int, work: Path) -> None:
    paths = []
    for n in range(files):
        path = work / f"doc-{n}.pdf"
        path.write_bytes(make_pdf([page_text(n * pages + p) for p in range(pages)]))
        paths.append(path)
    sandbox = Sandbox(memory_bytes=1 << 30, timeout=120, caps=Caps())
    started = time.perf_counter()
    first = sandbox.extract(paths[0], "pdf")
    startup = time.perf_counter() - started
    assert first.status == "ok", first
    started = time.perf_counter()
    read = 0
    for path in paths:
        result = sandbox.extract(path, "pdf")
        assert result.status == "ok", result
        read += result.pages or 0
    elapsed = time.perf_counter() - started
    sandbox.close()
    print(
        f"pdf: {read} pages in {files} files, {elapsed:.2f} s: {read / elapsed:.0f} pages/s "
        f"(worker start and first file: {startup:.2f} s)",
        flush=True,
    )


def crawl(start_url: str, mode: str, articles: int, work: Path) -> tuple[int, float, float, int]:
    """Articles stored, seconds until the last article page was read, seconds until the crawl ended,
    files downloaded."""
    db = work / f"crawl-{mode}-{time.monotonic_ns()}.db"
    command = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"url={start_url}"]
    options = {
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
        "PORTALCRAWL_DB_PATH": str(db),
        "PORTALCRAWL_MAX_PAGES": str(articles),
        "PORTALCRAWL_ATTACHMENTS": mode,
        "LOG_LEVEL": "WARNING",
    }
    for name, value in options.items():
        command += ["-s", f"{name}={value}"]
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - started
    with sqlite3.connect(db) as connection:
        stored = int(connection.execute("select count(*) from articles").fetchone()[0])
        last_article = datetime.fromisoformat(
            connection.execute("select max(fetched_at) from articles").fetchone()[0]
        )
        downloaded = int(
            connection.execute("select count(*) from attachments where status = 'downloaded'").fetchone()[0]
        )
    return stored, (last_article - started_at).total_seconds(), elapsed, downloaded


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("machine shared with other work: figures are from this one run", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        pdf_pages_per_second(args.files, args.pages, work)
        server, start_url = start_server(args.articles)
        try:
            rates: dict[str, list[float]] = {"links": [], "download": []}
            for _ in range(args.repeat):
                for mode, mode_rates in rates.items():
                    stored, articles_done, elapsed, downloaded = crawl(start_url, mode, args.articles, work)
                    mode_rates.append(stored / articles_done)
                    print(
                        f"crawl {mode:8} {stored:5d} articles in {articles_done:6.2f} s "
                        f"({stored / articles_done:6.1f} articles/s), {downloaded:4d} files, "
                        f"crawl over after {elapsed:6.2f} s",
                        flush=True,
                    )
        finally:
            server.terminate()
            server.wait()
    links, download = (statistics.median(rates[mode]) for mode in ("links", "download"))
    ratio = download / links
    print(f"median articles/s: links {links:.1f}, download {download:.1f}, download/links {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Incremental rerun cost: requests and seconds of a rerun on an unchanged portal against its first crawl.

Serves a fixture portal on loopback with N articles per column (the server runs in this process, so it
counts every request it answers), runs ``scrapy crawl portal`` over all its columns into a fresh
database, then runs it again unchanged. Prints, for both runs, the requests the server answered, the
wall-clock seconds of the process and Scrapy's own elapsed time (spider open to close, i.e. without
interpreter start-up), and the rerun/first ratios. Target: the rerun asks for robots.txt and one listing
page per column (two for a gov.cn column, whose list comes from a JSON feed), and takes ≤ 5% of the
first run's time.

    python benchmarks/rerun.py --articles 2000
    python benchmarks/rerun.py --articles 300 --portal tests/portals/families
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from portalcrawl.demo.server import PortalServer  # noqa: E402  (after the repository is importable)

ELAPSED = re.compile(r"'elapsed_time_seconds': ([\d.]+)")
# Politeness off: the portal is ours and on loopback; the benchmark measures the crawler, not delays.
FAST_SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


@dataclass
class Run:
    requests: int
    wall_seconds: float
    crawl_seconds: float


def crawl(start_urls: list[str], db: Path, articles: int) -> Run:
    command = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", "url=" + ",".join(start_urls)]
    # A listing page shows at least one article, so this many pages never cuts the first crawl short.
    limits = {"PORTALCRAWL_DB_PATH": str(db), "PORTALCRAWL_MAX_PAGES": str(articles)}
    for name, value in {**FAST_SETTINGS, **limits}.items():
        command += ["-s", f"{name}={value}"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"crawl failed ({result.returncode}):\n{result.stderr[-3000:]}")
    elapsed = ELAPSED.search(result.stderr)
    return Run(0, wall, float(elapsed.group(1)) if elapsed else wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=1000, help="articles per column (default 1000)")
    parser.add_argument("--portal", type=Path, default=REPO_ROOT / "tests" / "portals" / "trs")
    args = parser.parse_args(argv)

    with PortalServer(args.portal, articles=args.articles) as server, tempfile.TemporaryDirectory() as tmp:
        starts = [server.start_url(column) for column in server.columns]
        db = Path(tmp) / "portalcrawl.db"
        runs = []
        for _ in range(2):
            server.reset_requests()
            run = crawl(starts, db, args.articles)
            run.requests = len(server.requests)
            runs.append(run)
        first, rerun = runs
        families = [column.family for column in server.columns.values()]

    target = 1 + sum(2 if family == "govcn" else 1 for family in families)
    print(f"portal {args.portal.name}: {len(families)} columns × {args.articles} articles")
    print(f"{'':8}{'requests':>10}{'wall s':>10}{'crawl s':>10}")
    for name, run in (("first", first), ("rerun", rerun)):
        print(f"{name:8}{run.requests:>10}{run.wall_seconds:>10.2f}{run.crawl_seconds:>10.2f}")
    print(
        f"{'ratio':8}{rerun.requests / first.requests:>10.4f}{rerun.wall_seconds / first.wall_seconds:>10.4f}"
        f"{rerun.crawl_seconds / first.crawl_seconds:>10.4f}"
    )
    print(f"target: rerun requests ≤ {target} (robots.txt + the listing pages to one known page per column)")
    return 0 if rerun.requests <= target else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""CPU seconds of extraction on hostile pages, each shape at two sizes: linear steps double, not quadruple.

The shapes are those that froze a crawl before (issue 16): a listing with a numbered pager of 40,000
links, an article of 8,000 body blocks each holding a share widget, a listing of 60,000 inline scripts
in one ``<div>`` (their dropped tails), a JSON feed whose records follow 340,000 values and an RSS
item of 20,000 links; and the bounds of the pager classes: 20,000 commented links, pager scripts
of 20,000 functions, a pager of 40,000 ``javascript:`` links beside a select of as many pages.
Each page is built once and extracted ``--repeat`` times with the caches emptied;
the median CPU time (``time.process_time``) is printed with the page size and the ratio to the smaller
size of the same shape (2.0 is linear, 4.0 quadratic).

    python benchmarks/hostile.py
    python benchmarks/hostile.py --repeat 5 --scale 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from portalcrawl.extract.article import extract_article  # noqa: E402  (after the repository is importable)
from portalcrawl.extract.content import clear_caches  # noqa: E402
from portalcrawl.extract.listing import extract_listing  # noqa: E402
from tests.hostile import (  # noqa: E402
    commented_links_listing,
    crowded_feed_item,
    drop_heavy_listing,
    javascript_pager_listing,
    nested_json_feed,
    pager_listing,
    pager_script_listing,
    widget_article,
)

LISTING_URL = "http://127.0.0.1/list/index.html"
ARTICLE_URL = "http://127.0.0.1/xwdt/202601/t20260116_1.html"
FEED_URL = "http://127.0.0.1/feed.json"
SHAPES: list[tuple[str, Callable[[int], str], int, Callable[[str], object]]] = [
    ("pager links", pager_listing, 40_000, lambda page: extract_listing(page, LISTING_URL)),
    ("blocks + share widgets", widget_article, 8_000, lambda page: extract_article(page, ARTICLE_URL)),
    ("dropped scripts", drop_heavy_listing, 60_000, lambda page: extract_listing(page, LISTING_URL)),
    ("JSON values", nested_json_feed, 340_000, lambda page: extract_listing(page, FEED_URL)),
    ("links of one feed item", crowded_feed_item, 20_000, lambda page: extract_listing(page, FEED_URL)),
    ("commented links", commented_links_listing, 20_000, lambda page: extract_listing(page, LISTING_URL)),
    ("pager script functions", pager_script_listing, 20_000, lambda page: extract_listing(page, LISTING_URL)),
    (
        "javascript: pager links",
        javascript_pager_listing,
        40_000,
        lambda page: extract_listing(page, LISTING_URL),
    ),
]


def cpu_seconds(extract: Callable[[str], object], page: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        clear_caches()
        started = time.process_time()
        extract(page)
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="extractions per page (median printed)")
    parser.add_argument("--scale", type=int, default=2, help="the larger size as a multiple of the smaller")
    args = parser.parse_args()
    print(f"{'shape':<24} {'count':>8} {'MB':>6} {'CPU s':>7} {'ratio':>6}")
    for name, build, count, extract in SHAPES:
        base = None
        for size in (count, count * args.scale):
            page = build(size)
            seconds = cpu_seconds(extract, page, args.repeat)
            ratio = f"{seconds / base:.1f}" if base else ""
            base = base or seconds
            print(f"{name:<24} {size:>8} {len(page.encode()) / 1e6:>6.2f} {seconds:>7.3f} {ratio:>6}")


if __name__ == "__main__":
    main()

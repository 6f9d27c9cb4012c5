"""Per-page extraction time of ``extract_article`` over the corpus pages, beside trafilatura and GNE.

Usage: python benchmarks/extract.py [PAGES_DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from portalcrawl.extract.article import extract_article
from portalcrawl.extract.content import clear_caches
from portalcrawl.extract.encoding import decode_html

DEFAULT_PAGES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pages"


def measure(
    pages: list[tuple[str, bytes]],
    run: Callable[[bytes], object],
    repeat: int,
    reset: Callable[[], None] | None = None,
) -> list[float]:
    """Best-of-``repeat`` milliseconds for each page; ``reset`` runs, untimed, before every run."""
    timings = []
    for _, page in pages:
        best = float("inf")
        for _ in range(repeat):
            if reset is not None:
                reset()
            started = time.perf_counter()
            run(page)
            best = min(best, time.perf_counter() - started)
        timings.append(best * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="?", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.pages.is_dir():
        print(f"no pages directory: {args.pages}", file=sys.stderr)
        return 2
    pages = [(p.name, p.read_bytes()) for p in sorted(args.pages.glob("*.htm*"))]
    runners: dict[str, Callable[[bytes], object]] = {
        "portalcrawl": lambda page: extract_article(page, "http://example.gov.cn/a/b.html"),
    }
    try:
        import trafilatura

        runners["trafilatura"] = lambda page: trafilatura.extract(
            decode_html(page)[0],
            url="http://example.gov.cn/a/b.html",
            with_metadata=True,
            output_format="json",
        )
    except ImportError as exc:
        print(f"trafilatura cannot be imported ({exc}): pip install -e '.[eval]'", file=sys.stderr)
    try:
        from gne import GeneralNewsExtractor

        gne = GeneralNewsExtractor()

        def run_gne(page: bytes) -> object:
            try:
                return gne.extract(decode_html(page)[0])
            except Exception:  # a page GNE cannot handle still cost the time it took
                return None

        runners["gne"] = run_gne
    except ImportError as exc:
        print(f"gne cannot be imported ({exc}): pip install -e '.[eval]'", file=sys.stderr)

    # Our per-line caches (NFKC, class names) are emptied before each run: every timing is of a page
    # seen for the first time, as the corpus pages all come from different sites.
    results = {
        name: measure(pages, run, args.repeat, clear_caches if name == "portalcrawl" else None)
        for name, run in runners.items()
    }
    ours = statistics.median(results["portalcrawl"])
    print(f"{len(pages)} pages from {args.pages}, best of {args.repeat} runs per page")
    print(f"{'extractor':<14}{'median ms':>11}{'p95 ms':>10}{'ratio (ours / theirs)':>24}")
    for name, timings in results.items():
        median = statistics.median(timings)
        ratio = "" if name == "portalcrawl" else f"{ours / median:.2f}x"
        print(f"{name:<14}{median:>11.2f}{percentile(timings, 0.95):>10.2f}{ratio:>24}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

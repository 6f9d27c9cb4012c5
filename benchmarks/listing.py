"""Per-page time of ``extract_listing`` on the fixture portals' first listing pages and the corpus listings.

Starts ``portalcrawl.demo.server.PortalServer`` on 127.0.0.1 for each single-family fixture portal under
tests/portals/, fetches each column's first listing pages (following the next pages and data requests
``extract_listing`` itself finds), reads the saved fixture listings (tests/fixtures/listings/: one page
per pager class and CMS family) and the corpus pages of kind ``listing``, then prints the median
milliseconds per page (best of ``--repeat`` runs of each page) per source and overall.

``--dump PATH`` also writes every page's extracted listing (all fields) as JSON, with the portal servers'
ephemeral ports replaced by ``PORT``, so that two runs can be compared with ``diff``.

Usage: python benchmarks/listing.py [--pages N] [--repeat N] [--corpus DIR] [--dump PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict
from pathlib import Path

from portalcrawl.demo.server import FAMILIES, PortalServer
from portalcrawl.extract.listing import ListingRequest, extract_listing

REPO_ROOT = Path(__file__).resolve().parent.parent
PORTALS_DIR = REPO_ROOT / "tests" / "portals"
FIXTURES_DIR = REPO_ROOT / "tests" / "fixtures" / "listings"
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

Page = tuple[str, str, bytes]  # (source, url, body)
# Straight to the loopback server, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str, request: ListingRequest | None = None) -> bytes | None:
    """The body of a 200 answer from the loopback server, or None (404 past the last page)."""
    data = urllib.parse.urlencode(request.form).encode() if request else None
    headers = request.headers if request else {}
    try:
        with DIRECT.open(urllib.request.Request(url, data, headers), timeout=10) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError:
        return None


def portal_pages(family: str, per_column: int) -> tuple[int, list[Page]]:
    """Up to ``per_column`` listing responses per column of ``tests/portals/<family>``, in crawl order."""
    pages: list[Page] = []
    with PortalServer(PORTALS_DIR / family) as server:
        for column in server.columns:
            queue: list[tuple[str, ListingRequest | None]] = [(server.start_url(column), None)]
            seen: set[str] = set()
            fetched = 0
            while queue and fetched < per_column:
                url, request = queue.pop(0)
                if url in seen:
                    continue
                seen.add(url)
                body = fetch(url, request)
                if body is None:
                    continue
                fetched += 1
                pages.append((family, url, body))
                listing = extract_listing(body, url)
                queue += [(r.url, r) for r in listing.requests] + [(p, None) for p in listing.next_pages]
        return server.port, pages


def fixture_pages() -> list[Page]:
    """Each saved fixture listing with the URL its expected output names."""
    pages = []
    for expected in sorted(FIXTURES_DIR.glob("*/*.json")):
        page = next((p for p in expected.parent.glob(f"{expected.stem}.*") if p.suffix != ".json"), None)
        if page is not None:
            pages.append(
                ("fixtures", json.loads(expected.read_text(encoding="utf-8"))["url"], page.read_bytes())
            )
    return pages


def corpus_pages(corpus: Path) -> list[Page]:
    pages = []
    for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["kind"] == "listing":
            url = entry.get("url") or "https://" + entry["file"].split("__")[0] + "/"
            pages.append(("corpus", url, (corpus / "pages" / entry["file"]).read_bytes()))
    return pages


def best_ms(body: bytes, url: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        extract_listing(body, url)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=3, help="listing responses per portal column")
    parser.add_argument("--repeat", type=int, default=5, help="runs per page; the best counts")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--dump", type=Path, help="write every page's listing here as JSON")
    args = parser.parse_args()

    pages: list[Page] = []
    ports: list[int] = []
    for family in FAMILIES:
        port, family_pages = portal_pages(family, args.pages)
        ports.append(port)
        pages += family_pages
    pages += fixture_pages()
    if (args.corpus / "manifest.jsonl").is_file():
        pages += corpus_pages(args.corpus)

    timings: dict[str, list[float]] = {}
    for source, url, body in pages:
        timings.setdefault(source, []).append(best_ms(body, url, args.repeat))
    print(f"{'source':<12} {'pages':>5} {'median ms':>10} {'max ms':>8}")
    portals = [
        value
        for source, values in timings.items()
        if source not in ("corpus", "fixtures")
        for value in values
    ]
    everything = [value for values in timings.values() for value in values]
    for source, values in [*timings.items(), ("portals", portals), ("overall", everything)]:
        print(f"{source:<12} {len(values):>5} {statistics.median(values):>10.2f} {max(values):>8.2f}")

    if args.dump:
        dump = {f"{source} {url}": asdict(extract_listing(body, url)) for source, url, body in pages}
        text = json.dumps(dump, ensure_ascii=False, indent=1, sort_keys=True)
        for port in ports:
            # The portal's own address and its off-site trap links (127.0.0.2) share the port.
            text = re.sub(rf":{port}\b", ":PORT", text)
        args.dump.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Crawl throughput: a bare Scrapy spider against `scrapy crawl portal` with every pipeline, on loopback.

Starts the sample-portal server in its own process with N articles in the TRS gov layout, then alternately
runs (a) a bare spider (same listing and article requests, title and body by two parsel selectors, no
pipelines) with Scrapy's defaults, (a') the same spider with the two Scrapy settings portalcrawl changes
for speed (``bare-tuned``), and (b) ``scrapy crawl portal`` with every pipeline and SQLite storage.
Politeness is off for all (no delay, no AutoThrottle, same concurrency). Prints medians of items/s, the
ratios b/a and b/a', each child's peak RSS and CPU milliseconds per article.

``--peers`` adds two kinds to each round: the bare spider with its two selectors replaced by a peer
extractor, ``trafilatura`` (``extract`` with metadata, JSON output, as benchmarks/extract.py runs it) or
``gne`` (``GeneralNewsExtractor().extract``), so the cost of putting a general-purpose extractor in a spider
is measured in the same run; it also prints the ratios peer/bare and portalcrawl/trafilatura.

``--processes K`` measures instead how portalcrawl scales over processes: K server processes (K
different portals), then alternately one crawl alone and K crawls at once (each its own portal and
archive); it prints the aggregate items/s of the K crawls against the one.

    python benchmarks/crawl.py --articles 2000 --repeat 3
    python benchmarks/crawl.py --articles 2000 --repeat 3 --peers
    python benchmarks/crawl.py --articles 2000 --repeat 3 --processes 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
KINDS = ("bare", "bare-tuned", "portalcrawl")
PEER_KINDS = ("trafilatura", "gne")
EXTRACTORS = ("selectors", *PEER_KINDS)
PORTAL = REPO_ROOT / "tests" / "portals" / "trs"
ARTICLE_LINK = re.compile(r"t\d{8}_\d+\.html$")
PAGE_COUNT = re.compile(r"createPageHTML\((\d+),\s*0,")


@dataclass
class Run:
    kind: str
    items: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds

    @property
    def cpu_ms_per_item(self) -> float:
        return 1000 * self.cpu_seconds / max(self.items, 1)


def settings(concurrency: int) -> dict[str, str]:
    return {
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "CONCURRENT_REQUESTS": str(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency),
        "LOG_LEVEL": "WARNING",
    }


# The two Scrapy settings portalcrawl's settings.py changes for speed alone; ``bare-tuned`` runs the bare
# spider with them too, so the report shows how much of the gap they close rather than hiding it.
TUNED_SCRAPY_SETTINGS = {"CONCURRENT_ITEMS": 8, "WARN_ON_GENERATOR_RETURN_VALUE": False}


def article_extractor(extractor: str) -> Callable[[Any], dict[str, Any]]:
    """The bare spider's article fields from a response; a peer is imported only in the child that runs it."""
    if extractor == "trafilatura":
        import trafilatura

        def by_trafilatura(response: Any) -> dict[str, Any]:
            result = trafilatura.extract(
                response.text, url=response.url, with_metadata=True, output_format="json"
            )
            fields = json.loads(result) if result else {}
            return {
                "url": response.url,
                "title": fields.get("title"),
                "date": fields.get("date"),
                "text": fields.get("text"),
            }

        return by_trafilatura
    if extractor == "gne":
        from gne import GeneralNewsExtractor

        gne = GeneralNewsExtractor()
        return lambda response: {"url": response.url, **gne.extract(response.text)}
    return lambda response: {
        "url": response.url,
        "title": response.css("meta[name=ArticleTitle]::attr(content)").get(""),
        "body": " ".join(response.css(".TRS_Editor ::text").getall()),
    }


def bare_spider(start_url: str, concurrency: int, tuned: bool, extractor: str) -> None:
    """Child process (a): the least a crawler of this portal must do, and print how many items."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    extract = article_extractor(extractor)

    class BareSpider(scrapy.Spider):
        name = "bare"
        allowed_domains = ("127.0.0.1",)

        async def start(self) -> Any:
            yield scrapy.Request(start_url, callback=self.parse_listing, cb_kwargs={"first": True})

        def parse_listing(self, response: Any, first: bool = False) -> Iterator[Any]:
            for href in response.css("ul a::attr(href)").getall():
                if ARTICLE_LINK.search(href.split("#")[0]):
                    yield response.follow(href, callback=self.parse_article)
            pages = PAGE_COUNT.search(response.text) if first else None
            for page in range(1, int(pages.group(1)) if pages else 0):
                yield response.follow(f"index_{page}.html", callback=self.parse_listing)

        def parse_article(self, response: Any) -> Iterator[dict[str, Any]]:
            yield extract(response)

    extra = TUNED_SCRAPY_SETTINGS if tuned else {}
    process = CrawlerProcess({**settings(concurrency), "TELNETCONSOLE_ENABLED": False, **extra})
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None
    # Scrapy logs a callback's exception and carries on, so a peer failing on pages would otherwise
    # show up only as fewer items at a flattering rate; exiting non-zero makes ``finish`` print the log.
    failures = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("spider_exceptions/")}
    if failures:
        raise SystemExit(f"{extractor} spider raised: {failures}")
    print(json.dumps({"items": crawler.stats.get_value("item_scraped_count", 0)}))


@dataclass
class Child:
    kind: str
    process: subprocess.Popen[str]
    output: Any
    count_items: Any
    started: float


def launch(kind: str, command: list[str], count_items: Any) -> Child:
    # Outlives this function: ``finish`` reads the child's log from it and closes it.
    output = tempfile.TemporaryFile("w+")  # noqa: SIM115
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, text=True)
    return Child(kind, process, output, count_items, time.perf_counter())


def finish(child: Child) -> Run:
    """Wait for a child and read its own resource usage (``wait4``, not all children's)."""
    _, status, usage = os.wait4(child.process.pid, 0)
    seconds = time.perf_counter() - child.started
    child.process.returncode = os.waitstatus_to_exitcode(status)
    with child.output:
        child.output.seek(0)
        log = child.output.read()
    if child.process.returncode != 0:
        raise SystemExit(f"{child.kind} failed ({child.process.returncode}):\n{log[-3000:]}")
    return Run(
        kind=child.kind,
        items=child.count_items(log),
        seconds=seconds,
        peak_rss_mb=usage.ru_maxrss / 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def run_bare(start_url: str, concurrency: int, *, tuned: bool = False, extractor: str = "selectors") -> Run:
    command = [sys.executable, __file__, "--bare-spider", start_url, "--concurrency", str(concurrency)]
    if tuned:
        command.append("--tuned")
    if extractor != "selectors":
        command += ["--extractor", extractor]
    kind = extractor if extractor != "selectors" else "bare-tuned" if tuned else "bare"
    return finish(launch(kind, command, lambda log: json.loads(log.strip().splitlines()[-1])["items"]))


def launch_portalcrawl(start_url: str, concurrency: int, articles: int, work: Path) -> Child:
    db = work / f"bench-{time.monotonic_ns()}.db"
    command = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", f"url={start_url}"]
    options = {
        **settings(concurrency),
        "PORTALCRAWL_DB_PATH": str(db),
        "PORTALCRAWL_MAX_PAGES": str(articles),
    }
    for name, value in options.items():
        command += ["-s", f"{name}={value}"]

    def stored(_log: str) -> int:
        with sqlite3.connect(db) as connection:
            return int(connection.execute("select count(*) from articles").fetchone()[0])

    return launch("portalcrawl", command, stored)


def start_server(articles: int) -> tuple[subprocess.Popen[str], str]:
    """A sample-portal server process with one TRS column of ``articles`` articles, and its start URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "portalcrawl.demo.server", str(PORTAL), "--articles", str(articles)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    server.stdout.readline()
    return server, server.stdout.readline().split("\t")[2].strip()


def report(run: Run, label: str) -> None:
    print(
        f"{label} {run.kind:12} {run.items:6d} items {run.seconds:7.2f} s "
        f"{run.items_per_second:8.1f} items/s  peak RSS {run.peak_rss_mb:6.1f} MB  "
        f"{run.cpu_ms_per_item:6.2f} CPU ms/article",
        flush=True,
    )


def compare_processes(args: argparse.Namespace) -> None:
    """One crawl alone, then ``args.processes`` crawls of different portals at once, alternately."""
    servers = [start_server(args.articles) for _ in range(args.processes)]
    alone: list[float] = []
    together: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as work:
            for round_number in range(args.repeat):
                run = finish(launch_portalcrawl(servers[0][1], args.concurrency, args.articles, Path(work)))
                report(run, f"round {round_number + 1} alone   ")
                alone.append(run.items_per_second)
                started = time.perf_counter()
                children = [
                    launch_portalcrawl(url, args.concurrency, args.articles, Path(work)) for _, url in servers
                ]
                runs = [finish(child) for child in children]
                seconds = time.perf_counter() - started
                for run in runs:
                    report(run, f"round {round_number + 1} together")
                together.append(sum(run.items for run in runs) / seconds)
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=10)
    one, many = statistics.median(alone), statistics.median(together)
    print(f"\nmedians over {args.repeat} rounds, {args.articles} articles per portal:")
    print(f"  1 process            {one:8.1f} items/s")
    print(f"  {args.processes} processes at once {many:8.1f} items/s (aggregate)")
    print(f"  scaling: {many / one:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--processes", type=int, default=0, help="compare this many portalcrawl processes with one"
    )
    parser.add_argument(
        "--peers", action="store_true", help="also run the bare spider with trafilatura and with GNE"
    )
    parser.add_argument("--bare-spider", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--tuned", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--extractor", choices=EXTRACTORS, default="selectors", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_spider:
        bare_spider(args.bare_spider, args.concurrency, args.tuned, args.extractor)
        return 0
    if args.processes:
        compare_processes(args)
        return 0

    kinds = (*KINDS, *PEER_KINDS) if args.peers else KINDS
    server, start_url = start_server(args.articles)
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory() as work:
            for round_number in range(args.repeat):
                for kind in kinds:
                    if kind.startswith("bare"):
                        run = run_bare(start_url, args.concurrency, tuned=kind == "bare-tuned")
                    elif kind in PEER_KINDS:
                        run = run_bare(start_url, args.concurrency, extractor=kind)
                    else:
                        child = launch_portalcrawl(start_url, args.concurrency, args.articles, Path(work))
                        run = finish(child)
                    runs.append(run)
                    report(run, f"round {round_number + 1}")
    finally:
        server.terminate()
        server.wait(timeout=10)

    def median(kind: str, metric: str) -> float:
        return statistics.median(getattr(r, metric) for r in runs if r.kind == kind)

    print(f"\nmedians over {args.repeat} rounds, {args.articles} articles, concurrency {args.concurrency}:")
    for kind in kinds:
        print(
            f"  {kind:12} {median(kind, 'items_per_second'):8.1f} items/s  "
            f"peak RSS {median(kind, 'peak_rss_mb'):6.1f} MB  "
            f"{median(kind, 'cpu_ms_per_item'):6.2f} CPU ms/article"
        )
    ours = median("portalcrawl", "items_per_second")
    print(f"  ratio portalcrawl/bare items/s: {ours / median('bare', 'items_per_second'):.2f}")
    print(f"  ratio portalcrawl/bare-tuned items/s: {ours / median('bare-tuned', 'items_per_second'):.2f}")
    if args.peers:
        bare = median("bare", "items_per_second")
        for peer in PEER_KINDS:
            print(f"  ratio {peer}/bare items/s: {median(peer, 'items_per_second') / bare:.2f}")
        trafilatura = median("trafilatura", "items_per_second")
        print(f"  ratio portalcrawl/trafilatura items/s: {ours / trafilatura:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

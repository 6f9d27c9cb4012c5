"""``portalcrawl eval``: score article extraction on labelled pages, optionally beside other extractors."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from portalcrawl.evaluation import (
    COMPARATORS,
    Extractor,
    evaluate,
    format_table,
    load_article_labels,
    load_page_urls,
    portalcrawl_extractor,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="score article extraction against labelled pages")
    parser.add_argument("--pages", required=True, type=Path, help="directory of saved pages")
    parser.add_argument("--labels", required=True, type=Path, help="labels.jsonl (article labels are scored)")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="manifest.jsonl with each page's original URL (default: beside --labels)",
    )
    parser.add_argument("--compare", default="", help="comma-separated other extractors: trafilatura,gne")
    parser.add_argument("--json", action="store_true", help="print scores and failing pages as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.pages.is_dir():
        print(f"no such directory: {args.pages}", file=sys.stderr)
        return 2
    if not args.labels.is_file():
        print(f"no such labels file: {args.labels}", file=sys.stderr)
        return 2
    extractors: dict[str, Extractor] = {"portalcrawl": portalcrawl_extractor}
    for name in filter(None, (n.strip() for n in args.compare.split(","))):
        if name not in COMPARATORS:
            print(f"unknown extractor {name!r} (known: {', '.join(COMPARATORS)})", file=sys.stderr)
            return 2
        try:
            extractors[name] = COMPARATORS[name]()
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 2
    manifest = args.manifest or args.labels.parent / "manifest.jsonl"
    labels = load_article_labels(args.labels)
    reports = evaluate(args.pages, labels, load_page_urls(manifest), extractors)
    if args.json:
        print(json.dumps({r.name: r.as_dict() for r in reports}, ensure_ascii=False, indent=2))
    else:
        print(f"{len(labels)} labelled articles in {args.labels}")
        print(format_table(reports))
    return 0

"""``portalcrawl eval``: score extraction on labelled pages (articles beside other extractors, listings,
leave-one-site-out folds)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from portalcrawl.evaluation import (
    COMPARATORS,
    Extractor,
    LabelError,
    article_labels,
    evaluate,
    evaluate_folds,
    evaluate_listings,
    format_folds,
    format_listings,
    format_table,
    listing_labels,
    load_labels,
    load_page_sites,
    load_page_urls,
    portalcrawl_extractor,
)

ERROR = "portalcrawl eval: error:"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="score extraction against labelled pages",
        description="Score article extraction (per field, optionally beside other extractors) and listing "
        "extraction (article-link precision and recall, page 2 found) against hand labels.",
    )
    parser.add_argument("--pages", required=True, type=Path, help="directory of saved pages")
    parser.add_argument(
        "--labels",
        required=True,
        action="append",
        type=Path,
        metavar="FILE",
        help="labels .jsonl (article and listing labels); give it again to score the union of several "
        "files, each page labelled in one of them only",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help="manifest.jsonl with each page's original URL and site (default: beside the first --labels)",
    )
    parser.add_argument("--compare", default="", help="comma-separated other extractors: trafilatura,gne")
    parser.add_argument(
        "--folds",
        action="store_true",
        help="also score leave-one-site-out: in-sample and left-out scores per field (sites: the manifest)",
    )
    parser.add_argument("--json", action="store_true", help="print scores and failing pages as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.pages.is_dir():
        print(f"{ERROR} no such directory: {args.pages}", file=sys.stderr)
        return 2
    for path in args.labels:
        if not path.is_file():
            print(f"{ERROR} no such labels file: {path}", file=sys.stderr)
            return 2
    if args.manifest and not args.manifest.is_file():
        print(f"{ERROR} no such manifest: {args.manifest}", file=sys.stderr)
        return 2
    try:
        all_labels = load_labels(args.labels)
    except LabelError as exc:
        print(f"{ERROR} {exc}", file=sys.stderr)
        return 2
    extractors: dict[str, Extractor] = {"portalcrawl": portalcrawl_extractor}
    for name in filter(None, (n.strip() for n in args.compare.split(","))):
        if name not in COMPARATORS:
            print(f"{ERROR} unknown extractor {name!r} (known: {', '.join(COMPARATORS)})", file=sys.stderr)
            return 2
        try:
            extractors[name] = COMPARATORS[name]()
        except RuntimeError as exc:
            print(f"{ERROR} {exc}", file=sys.stderr)
            return 2
    manifest = args.manifest or args.labels[0].parent / "manifest.jsonl"
    if not manifest.is_file():
        print(
            f"portalcrawl eval: no {manifest}: pages are scored as if served at http://localhost/ "
            "(--manifest gives their URLs and sites)",
            file=sys.stderr,
        )
    labels = article_labels(all_labels)
    page_urls = load_page_urls(manifest)
    reports = evaluate(args.pages, labels, page_urls, extractors)
    listings_labelled = listing_labels(all_labels)
    listings = evaluate_listings(args.pages, listings_labelled, page_urls) if listings_labelled else None
    # portalcrawl's rules are not fitted to labels: the same extractor serves every fold.
    folds = (
        evaluate_folds(
            args.pages, labels, page_urls, load_page_sites(manifest), lambda _: portalcrawl_extractor
        )
        if args.folds
        else None
    )
    if args.json:
        output = {r.name: r.as_dict() for r in reports}
        if listings is not None:
            output["listings"] = listings.as_dict()
        if folds is not None:
            output["folds"] = folds.as_dict()
        print(json.dumps(output, ensure_ascii=False, indent=2))
        return 0
    print(f"{len(labels)} labelled articles in {', '.join(str(path) for path in args.labels)}")
    print(format_table(reports))
    if listings is not None:
        print()
        print(format_listings(listings, len(listings_labelled)))
    if folds is not None:
        print()
        print(format_folds(folds))
    return 0

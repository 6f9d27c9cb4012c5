"""Dump article and listing extraction of every corpus page and fixture, so two versions can be diffed.

Usage: python benchmarks/compare_extraction.py OUT_DIR [--corpus DIR]

Each page gets one JSON file in OUT_DIR: ``extract_article`` (``dataclasses.asdict``) without and with a
profile that sets every article selector and a time zone, ``continuation_pages`` and ``extract_listing``.
Run it on two versions of the code and compare with ``diff -r``: a refactoring must leave it unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from portalcrawl.extract import extract_article, extract_listing
from portalcrawl.extract.article import continuation_pages
from portalcrawl.profiles import Selectors, SiteProfile

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
FALLBACK_URL = "http://example.gov.cn/a/b.html"
FETCHED_AT = datetime(2026, 1, 20, 8, 30, tzinfo=UTC)
# Selectors common templates answer, so that the profile stages run on many pages.
SELECTING_PROFILE = SiteProfile(
    slug="compare",
    name="compare",
    start_urls=("http://example.gov.cn/",),
    timezone="Asia/Tokyo",
    selectors=Selectors(
        title="h1",
        body="xpath://div[contains(@class, 'content')]",
        published=".date, .time, .pubtime",
        source=".source",
        author=".author",
    ),
)


def pages(corpus: Path) -> list[tuple[str, Path, str]]:
    """(name, file, URL) of every corpus page (URL from the manifest) and every fixture page."""
    found: list[tuple[str, Path, str]] = []
    manifest = corpus / "manifest.jsonl"
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            found.append(
                (
                    f"corpus/{entry['file']}",
                    corpus / "pages" / entry["file"],
                    entry.get("url") or FALLBACK_URL,
                )
            )
    for page in sorted(FIXTURES.rglob("*.html")):
        expected = page.with_suffix(".json")
        url = FALLBACK_URL
        if expected.exists():
            url = json.loads(expected.read_text(encoding="utf-8")).get("url") or FALLBACK_URL
        found.append((f"fixtures/{page.relative_to(FIXTURES)}", page, url))
    return found


def dump(file: Path, url: str) -> dict[str, object]:
    body = file.read_bytes()
    return {
        "url": url,
        "article": dataclasses.asdict(extract_article(body, url, fetched_at=FETCHED_AT)),
        "article_with_profile": dataclasses.asdict(
            extract_article(body, url, fetched_at=FETCHED_AT, profile=SELECTING_PROFILE)
        ),
        "continuation_pages": continuation_pages(body, url),
        "listing": dataclasses.asdict(extract_listing(body, url)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not (args.corpus / "manifest.jsonl").is_file():
        print(f"no corpus manifest: {args.corpus / 'manifest.jsonl'}", file=sys.stderr)
        return 2
    count = 0
    for name, file, url in pages(args.corpus):
        if not file.is_file():
            continue
        target = args.out / (name.replace("/", "__") + ".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(dump(file, url), ensure_ascii=False, indent=1), encoding="utf-8")
        count += 1
    print(f"{count} pages dumped to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

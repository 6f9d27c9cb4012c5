"""Scoring article extraction against hand-checked labels (the corpus ``labels.jsonl`` format)."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from portalcrawl.extract.article import extract_article, squash
from portalcrawl.extract.encoding import decode_html

FIELDS = (
    "title",
    "published",
    "source",
    "author",
    "body_first",
    "body_last",
    "no_boilerplate",
    "attachments",
)
ISO_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2})?)?)?")
NEAR_CHARS = 300
NEAR_SHARE = 0.15
INSTALL_HINT = "pip install -e '.[eval]'"


@dataclass
class Extracted:
    """The labelled fields as one extractor produced them."""

    title: str | None = None
    published: str | None = None
    source: str | None = None
    author: str | None = None
    body_text: str = ""
    attachments: list[str] = field(default_factory=list)


Extractor = Callable[[bytes, str], Extracted]


@dataclass
class FieldScore:
    correct: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 1.0


@dataclass
class ExtractorReport:
    name: str
    fields: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in FIELDS})
    failures: dict[str, list[str]] = field(default_factory=dict)
    milliseconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": {
                n: {"correct": s.correct, "total": s.total, "rate": round(s.rate, 4)}
                for n, s in self.fields.items()
            },
            "failures": self.failures,
            "median_ms": round(statistics.median(self.milliseconds), 2) if self.milliseconds else None,
        }


def load_article_labels(path: Path) -> list[dict[str, Any]]:
    """Article labels only (listing labels have no ``title``)."""
    labels = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if "title" in record:
                labels.append(record)
    return labels


def load_page_urls(manifest: Path | None) -> dict[str, str]:
    """Original URL of each page from ``manifest.jsonl`` (``http://<site>/`` when the URL is unknown)."""
    urls: dict[str, str] = {}
    if manifest and manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                urls[record["file"]] = record.get("url") or f"http://{record.get('site') or 'localhost'}/"
    return urls


def _same_text(expected: str | None, got: str | None) -> bool:
    if expected is None:
        return not (got or "").strip()
    return squash(expected) == squash(got or "")


def _same_date(expected: str | None, got: str | None) -> bool:
    if expected is None:
        return not got
    match = ISO_LOCAL.match((got or "").strip().replace(" ", "T"))
    local = match.group(0) if match else ""
    return len(local) >= len(expected) and local[: len(expected)] == expected


def _near_start(body: str, needle: str) -> bool:
    position = body.find(needle)
    return 0 <= position <= max(NEAR_CHARS, NEAR_SHARE * len(body))


def _near_end(body: str, needle: str) -> bool:
    position = body.rfind(needle)
    return position >= 0 and len(body) - (position + len(needle)) <= max(NEAR_CHARS, NEAR_SHARE * len(body))


def score_page(label: dict[str, Any], got: Extracted, page_url: str) -> dict[str, tuple[int, int]]:
    """``field -> (correct, total)`` for one page; attachments count per labelled URL."""
    body = squash(got.body_text)
    scores = {
        "title": _same_text(label["title"], got.title),
        "published": _same_date(label.get("published"), got.published),
        "source": _same_text(label.get("source"), got.source),
        "author": _same_text(label.get("author"), got.author),
        "body_first": _near_start(body, squash(label["body_first"])),
        "body_last": _near_end(body, squash(label["body_last"])),
        "no_boilerplate": not any(squash(s) in body for s in label.get("must_not_contain", [])),
    }
    result = {name: (int(ok), 1) for name, ok in scores.items()}
    wanted = [urljoin(page_url, a) for a in label.get("attachments", [])]
    if wanted:
        result["attachments"] = (sum(1 for a in wanted if a in got.attachments), len(wanted))
    return result


def portalcrawl_extractor(page: bytes, url: str) -> Extracted:
    article = extract_article(page, url)
    return Extracted(
        title=article.title,
        published=article.published_at,
        source=article.source,
        author=article.author,
        body_text=article.body_text,
        attachments=[a["url"] for a in article.attachments],
    )


def trafilatura_extractor() -> Extractor:
    try:
        import trafilatura  # noqa: PLC0415 - optional dependency, imported only when compared
    except ImportError as exc:
        raise RuntimeError(f"trafilatura cannot be imported ({exc}): {INSTALL_HINT}") from exc

    def run(page: bytes, url: str) -> Extracted:
        text, _ = decode_html(page)
        output = trafilatura.extract(text, url=url, with_metadata=True, output_format="json")
        data = json.loads(output) if output else {}
        return Extracted(
            title=data.get("title"),
            published=data.get("date"),
            source=data.get("sitename"),
            author=data.get("author"),
            body_text=data.get("text") or "",
        )

    return run


def gne_extractor() -> Extractor:
    try:
        from gne import GeneralNewsExtractor  # noqa: PLC0415 - optional dependency, imported only when compared
    except ImportError as exc:
        raise RuntimeError(f"gne cannot be imported ({exc}): {INSTALL_HINT}") from exc
    extractor = GeneralNewsExtractor()

    def run(page: bytes, url: str) -> Extracted:
        text, _ = decode_html(page)
        try:
            data = extractor.extract(text)
        except Exception:  # GNE raises bare errors on pages it cannot parse; that is a miss, not a crash
            data = {}
        return Extracted(
            title=data.get("title"),
            published=data.get("publish_time") or None,
            author=data.get("author") or None,
            body_text=data.get("content") or "",
        )

    return run


COMPARATORS: dict[str, Callable[[], Extractor]] = {"trafilatura": trafilatura_extractor, "gne": gne_extractor}


def evaluate(
    pages: Path, labels: list[dict[str, Any]], page_urls: dict[str, str], extractors: dict[str, Extractor]
) -> list[ExtractorReport]:
    """Run every extractor on every labelled page and score it."""
    reports = [ExtractorReport(name) for name in extractors]
    for label in labels:
        page_path = pages / label["file"]
        if not page_path.is_file():
            continue
        page = page_path.read_bytes()
        url = page_urls.get(label["file"], "http://localhost/")
        for report, extractor in zip(reports, extractors.values(), strict=True):
            started = time.perf_counter()
            got = extractor(page, url)
            report.milliseconds.append((time.perf_counter() - started) * 1000)
            for name, (correct, total) in score_page(label, got, url).items():
                report.fields[name].correct += correct
                report.fields[name].total += total
                if correct < total:
                    report.failures.setdefault(name, []).append(label["file"])
    return reports


def format_table(reports: list[ExtractorReport]) -> str:
    width = max(14, *(len(r.name) + 2 for r in reports))
    lines = ["field".ljust(16) + "".join(r.name.rjust(width) for r in reports)]
    for name in FIELDS:
        cells = []
        for report in reports:
            score = report.fields[name]
            cells.append(
                f"{score.correct}/{score.total} {score.rate:6.1%}".rjust(width)
                if score.total
                else "-".rjust(width)
            )
        lines.append(name.ljust(16) + "".join(cells))
    lines.append(
        "median ms".ljust(16)
        + "".join(
            f"{statistics.median(r.milliseconds):.1f}".rjust(width) if r.milliseconds else "-".rjust(width)
            for r in reports
        )
    )
    return "\n".join(lines)

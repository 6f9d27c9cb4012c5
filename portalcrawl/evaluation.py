"""Scoring extraction against hand-checked labels (the corpus ``labels.jsonl`` format)."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from portalcrawl.extract.article import extract_article, squash
from portalcrawl.extract.encoding import decode_html
from portalcrawl.extract.listing import extract_listing
from portalcrawl.urls import canonical_url

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


class LabelError(ValueError):
    """Labels that cannot be scored together: a file named twice, a page labelled twice, a bad line."""


def load_labels(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Every label of the files, in order: their union. A page may be labelled once in all of them
    (two labels of one page would count it twice), and a file may be named once."""
    named: set[Path] = set()
    labelled_in: dict[str, Path] = {}
    labels: list[dict[str, Any]] = []
    for path in paths:
        if path.resolve() in named:
            raise LabelError(f"labels file named twice: {path}")
        named.add(path.resolve())
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise LabelError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                label = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelError(f"{path}:{number}: not a JSON label ({exc.msg})") from exc
            if not isinstance(label, dict) or not isinstance(label.get("file"), str):
                raise LabelError(f'{path}:{number}: a label needs a "file"')
            page = label["file"]
            if page in labelled_in:
                where = path if labelled_in[page] == path else f"{labelled_in[page]} and {path}"
                raise LabelError(f"page labelled twice: {page} (in {where})")
            labelled_in[page] = path
            labels.append(label)
    return labels


def article_labels(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Article labels only (listing labels have no ``title``)."""
    return [label for label in labels if "title" in label]


def load_article_labels(path: Path) -> list[dict[str, Any]]:
    """The article labels of one file."""
    return article_labels(load_labels([path]))


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


# -- leave-one-site-out ------------------------------------------------------------------------------

# An extractor built from training labels. Rule-based extraction learns nothing from them, so its
# in-sample and left-out scores are the same; a model fitted to labels must show its gap here.
ExtractorFactory = Callable[[list[dict[str, Any]]], Extractor]


def load_page_sites(manifest: Path | None) -> dict[str, str]:
    """The site (host) of each page from ``manifest.jsonl``; the fold a page belongs to."""
    sites: dict[str, str] = {}
    if manifest and manifest.is_file():
        for line in manifest.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                sites[record["file"]] = record.get("site") or record["file"]
    return sites


@dataclass
class FoldReport:
    """Scores of one extractor over leave-one-site-out folds: pooled over the folds' training pages
    (in-sample) and over each fold's left-out site (left-out), with the sites each field failed on."""

    in_sample: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in FIELDS})
    left_out: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in FIELDS})
    failed_sites: dict[str, list[str]] = field(default_factory=dict)
    folds: int = 0

    def as_dict(self) -> dict[str, Any]:
        def scores(table: dict[str, FieldScore]) -> dict[str, Any]:
            return {
                n: {"correct": s.correct, "total": s.total, "rate": round(s.rate, 4)}
                for n, s in table.items()
            }

        return {
            "folds": self.folds,
            "in_sample": scores(self.in_sample),
            "left_out": scores(self.left_out),
            "failed_sites": self.failed_sites,
        }


def evaluate_folds(
    pages: Path,
    labels: list[dict[str, Any]],
    page_urls: dict[str, str],
    page_sites: dict[str, str],
    factory: ExtractorFactory,
) -> FoldReport:
    """Leave one site out: build the extractor from the other sites' labels, score it on them
    (in-sample) and on the site left out. Scores of one extractor on one page are computed once."""
    labelled = [label for label in labels if (pages / label["file"]).is_file()]
    by_site: dict[str, list[dict[str, Any]]] = {}
    for label in labelled:
        by_site.setdefault(page_sites.get(label["file"], label["file"]), []).append(label)
    report = FoldReport(folds=len(by_site))
    cache: dict[tuple[int, str], dict[str, tuple[int, int]]] = {}

    def page_scores(extractor: Extractor, label: dict[str, Any]) -> dict[str, tuple[int, int]]:
        key = (id(extractor), label["file"])
        if key not in cache:
            url = page_urls.get(label["file"], "http://localhost/")
            cache[key] = score_page(label, extractor((pages / label["file"]).read_bytes(), url), url)
        return cache[key]

    for site, held_out in by_site.items():
        training = [label for label in labelled if label not in held_out]
        extractor = factory(training)
        for label in training:
            for name, (correct, total) in page_scores(extractor, label).items():
                report.in_sample[name].correct += correct
                report.in_sample[name].total += total
        for label in held_out:
            for name, (correct, total) in page_scores(extractor, label).items():
                report.left_out[name].correct += correct
                report.left_out[name].total += total
                if correct < total and site not in report.failed_sites.get(name, []):
                    report.failed_sites.setdefault(name, []).append(site)
    return report


def format_folds(report: FoldReport) -> str:
    lines = [
        f"leave-one-site-out over {report.folds} sites",
        "field".ljust(16) + "in-sample".rjust(18) + "left-out".rjust(18) + "gap".rjust(9),
    ]
    for name in FIELDS:
        inside, outside = report.in_sample[name], report.left_out[name]
        if not outside.total:
            continue
        lines.append(
            name.ljust(16)
            + f"{inside.correct}/{inside.total} {inside.rate:6.1%}".rjust(18)
            + f"{outside.correct}/{outside.total} {outside.rate:6.1%}".rjust(18)
            + f"{(outside.rate - inside.rate) * 100:+.1f}".rjust(9)
        )
    return "\n".join(lines)


# -- listings ----------------------------------------------------------------------------------------

# Article links are labelled as the first this many of the main list.
LISTING_LABEL_LIMIT = 30


def listing_labels(labels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing labels only (they have ``article_links``)."""
    return [label for label in labels if "article_links" in label]


def labelled_next_page(label: dict[str, Any], page_url: str) -> str | None:
    """Page 2's URL when the label determines it: ``next_page_url``, or a ``next_page`` that is an href
    (not a description of a script pager)."""
    if label.get("next_page_url"):
        return urljoin(page_url, label["next_page_url"])
    href = label.get("next_page")
    if (
        isinstance(href, str)
        and href
        and not re.search(r"\s", href)
        and not href.lower().startswith(("js", "javascript:", "#"))
    ):
        return urljoin(page_url, href)
    return None


@dataclass
class ListingReport:
    """Article-link precision and recall (pooled over pages) and page 2 found, on labelled listings."""

    links_found: int = 0
    links_extracted: int = 0
    links_labelled: int = 0
    next_found: int = 0
    next_determined: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)

    @property
    def precision(self) -> float:
        return self.links_found / self.links_extracted if self.links_extracted else 1.0

    @property
    def recall(self) -> float:
        return self.links_found / self.links_labelled if self.links_labelled else 1.0

    @property
    def next_rate(self) -> float:
        return self.next_found / self.next_determined if self.next_determined else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_links": {
                "precision": round(self.precision, 4),
                "recall": round(self.recall, 4),
                "found": self.links_found,
                "extracted": self.links_extracted,
                "labelled": self.links_labelled,
            },
            "next_page": {
                "found": self.next_found,
                "determined": self.next_determined,
                "rate": round(self.next_rate, 4),
            },
            "failures": self.failures,
        }


def evaluate_listings(pages: Path, labels: list[dict[str, Any]], page_urls: dict[str, str]) -> ListingReport:
    """Score ``extract_listing`` on labelled listing pages.

    Links are compared as canonical absolute URLs. A label holding the list's first 30 links is
    compared with the first as many extracted links, so a long list is not counted as imprecise.
    """
    report = ListingReport()
    for label in labels:
        path = pages / label["file"]
        if not path.is_file():
            continue
        url = label.get("url") or page_urls.get(label["file"], "http://localhost/")
        listing = extract_listing(path.read_bytes(), url)
        wanted = list(dict.fromkeys(canonical_url(urljoin(url, href)) for href in label["article_links"]))
        got = list(dict.fromkeys(canonical_url(link) for link in listing.article_links))
        if len(wanted) >= LISTING_LABEL_LIMIT:
            got = got[: len(wanted)]
        found = len(set(wanted) & set(got))
        report.links_found += found
        report.links_extracted += len(got)
        report.links_labelled += len(wanted)
        if found < len(wanted):
            report.failures.setdefault("article_links_recall", []).append(label["file"])
        if found < len(got):
            report.failures.setdefault("article_links_precision", []).append(label["file"])
        next_page = labelled_next_page(label, url)
        if next_page is not None:
            report.next_determined += 1
            further = {canonical_url(p) for p in [*listing.next_pages, *(r.url for r in listing.requests)]}
            if canonical_url(next_page) in further:
                report.next_found += 1
            else:
                report.failures.setdefault("next_page", []).append(label["file"])
    return report


def format_listings(report: ListingReport, count: int) -> str:
    return "\n".join(
        [
            f"{count} labelled listings",
            f"article links   precision {report.links_found}/{report.links_extracted} {report.precision:6.1%}"
            f"   recall {report.links_found}/{report.links_labelled} {report.recall:6.1%}",
            f"page 2 found    {report.next_found}/{report.next_determined} {report.next_rate:6.1%}",
        ]
    )

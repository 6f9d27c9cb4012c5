"""Re-run the current extraction on the archived raw pages and update the rows it changes; no network."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.misc import build_from_crawler, load_object

from portalcrawl.article_response import article_from_response
from portalcrawl.database import (
    ARTICLE_FIELDS,
    article_filters,
    article_row,
    now_iso,
    quote,
    replace_article,
    write_transaction,
)
from portalcrawl.extract.article import merge_pages
from portalcrawl.items import Article
from portalcrawl.pages import StoredPage, article_pages, stored_response
from portalcrawl.profiles import SiteProfile, load_profile, sites_dir
from portalcrawl.urls import canonical_url

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler

# The pipeline that writes the archive; those ordered before it normalise items and run here too.
STORAGE_PIPELINE = "portalcrawl.pipelines.storage.StoreArticlesPipeline"
# Articles re-extracted and written per transaction: a kill loses at most one batch, never half a row.
BATCH = 200
# The row's key stays: a URL canonicalised differently today names the same archived article.
EXTRACTED_FIELDS = tuple(name for name in ARTICLE_FIELDS if name != "url")
# Values shown in examples are cut to this many characters.
EXAMPLE_WIDTH = 80


@dataclass(frozen=True, slots=True)
class FieldChange:
    url: str
    field: str
    old: Any
    new: Any


@dataclass
class ReextractReport:
    """What a re-extraction found: rows examined, rows and fields changed, a few examples."""

    articles: int = 0
    without_pages: int = 0
    failed: int = 0
    pages: int = 0
    changed_rows: int = 0
    field_changes: Counter[str] = field(default_factory=Counter)
    examples: list[FieldChange] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class _OfflineCrawler:
    """What item pipelines read from a crawler (settings, stats, signals, the spider's profile), with no
    engine and no downloader: nothing it builds can fetch."""

    def __init__(self, settings: Settings, profile: SiteProfile) -> None:
        self.settings = settings
        self.signals = SignalManager(self)
        self.stats = MemoryStatsCollector(cast("Crawler", self))
        self.spider = _ProfileHolder(profile)


@dataclass(frozen=True, slots=True)
class _ProfileHolder:
    profile: SiteProfile


def normalising_pipelines(settings: Settings) -> list[str]:
    """The crawl's item pipelines that run before storage, in their order."""
    pipelines = settings.getwithbase("ITEM_PIPELINES")
    storage_order = pipelines.get(STORAGE_PIPELINE)
    ordered = sorted((order, path) for path, order in pipelines.items() if order is not None)
    return [
        path
        for order, path in ordered
        if path != STORAGE_PIPELINE and (storage_order is None or order < storage_order)
    ]


def site_profile(site: str, directory: str | None) -> SiteProfile:
    """The profile a site was crawled with: its file, or the ad-hoc profile of a ``-a url=`` crawl."""
    if (sites_dir(directory) / f"{site}.toml").is_file():
        return load_profile(site, directory)
    return SiteProfile.ad_hoc([f"http://{site}/"], slug=site)


def _extract_page(page: StoredPage, article_url: str, profile: SiteProfile) -> Article:
    """Extraction of one stored page, through the crawl's own ``article_from_response``."""
    return article_from_response(
        stored_response(page),
        article_url,
        profile=profile,
        fetched_at=datetime.fromisoformat(page.fetched_at),
    )


class Reextractor:
    """Rebuilds articles from their stored pages with the current extraction and pipelines."""

    def __init__(self, settings: Settings, sites_directory: str | None) -> None:
        self.settings = settings
        self.sites_directory = sites_directory
        self.pipeline_paths = normalising_pipelines(settings)
        self._pipelines: dict[str, list[Any]] = {}
        self._profiles: dict[str, SiteProfile] = {}

    def profile(self, site: str) -> SiteProfile:
        """The site's profile, read once a run; a profile that does not load raises ``ProfileError``."""
        if site not in self._profiles:
            self._profiles[site] = site_profile(site, self.sites_directory)
        return self._profiles[site]

    def pipelines(self, site: str) -> list[Any]:
        # Pipelines read the profile (time zone) once; each site gets its own.
        if site not in self._pipelines:
            crawler = cast("Crawler", _OfflineCrawler(self.settings, self.profile(site)))
            self._pipelines[site] = [
                build_from_crawler(load_object(path), crawler) for path in self.pipeline_paths
            ]
        return self._pipelines[site]

    def article(self, stored: dict[str, Any], pages: list[StoredPage]) -> Article:
        """The article as a crawl that fetched ``pages`` now would store it (raises when it would not)."""
        site = stored["site"]
        profile = self.profile(site)
        first = _extract_page(pages[0], stored["url"], profile)
        others = [_extract_page(page, canonical_url(page.final_url), profile) for page in pages[1:]]
        first.final_url = pages[0].final_url
        first.site = site
        first.listing_url = stored["listing_url"]
        first.listing_date = stored["listing_date"]
        item: Any = merge_pages(first, others) if others else first
        for pipeline in self.pipelines(site):
            item = pipeline.process_item(item)
        if not isinstance(item, Article):
            raise TypeError(f"a pipeline returned {type(item).__name__}, not an Article")
        return item


def _articles(db: sqlite_utils.Database, site: str | None, since: str | None) -> tuple[list[int], set[str]]:
    """The ids of the matching articles, oldest first, and their sites."""
    conditions, args = article_filters(site, since)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    rows = db.conn.execute(f"SELECT id, site FROM articles{where} ORDER BY id", args).fetchall()
    return [row[0] for row in rows], {row[1] for row in rows}


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > EXAMPLE_WIDTH:
        return value[: EXAMPLE_WIDTH - 1] + "…"
    return value


def reextract(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    site: str | None = None,
    since: str | None = None,
    dry_run: bool = False,
    sites_directory: str | None = None,
    examples: int = 5,
) -> ReextractReport:
    """Re-extract the stored pages of the matching articles (``since``: published on or after) and,
    unless ``dry_run``, update every row whose fields changed, keeping its previous content in
    ``article_versions``."""
    reextractor = Reextractor(settings, sites_directory)
    report = ReextractReport()
    columns = ", ".join(quote(name) for name in ("id", *ARTICLE_FIELDS, "last_run_id"))
    ids, sites = _articles(db, site, since)
    for each_site in sorted(sites):
        # Before anything is written: a profile that does not load stops the run (ProfileError).
        reextractor.pipelines(each_site)
    for chunk in _chunks(ids):
        placeholders = ", ".join("?" * len(chunk))
        cursor = db.conn.execute(f"SELECT {columns} FROM articles WHERE id IN ({placeholders})", chunk)
        names = [description[0] for description in cursor.description]
        updates: list[tuple[int, dict[str, Any], int | None]] = []
        for values in cursor.fetchall():
            stored = dict(zip(names, values, strict=True))
            report.articles += 1
            pages = article_pages(db, stored["url"], stored["fetched_at"])
            if not pages:
                report.without_pages += 1
                continue
            report.pages += len(pages)
            try:
                row = article_row(reextractor.article(stored, pages))
            except DropItem as error:
                report.failed += 1
                report.failures.append(f"{stored['url']}: dropped: {error}")
                continue
            except Exception as error:
                # As in the crawl, a page extraction cannot read is that page's failure, not the run's.
                report.failed += 1
                report.failures.append(f"{stored['url']}: {type(error).__name__}: {error}")
                continue
            changed = [name for name in EXTRACTED_FIELDS if row[name] != stored[name]]
            if not changed:
                continue
            report.changed_rows += 1
            report.field_changes.update(changed)
            for name in changed:
                if len(report.examples) < examples:
                    report.examples.append(
                        FieldChange(stored["url"], name, _short(stored[name]), _short(row[name]))
                    )
            updates.append((stored["id"], row, stored["last_run_id"]))
        if updates and not dry_run:
            now = now_iso()
            with write_transaction(db):
                for article_id, row, last_run_id in updates:
                    replace_article(db, article_id, row, run_id=None, last_run_id=last_run_id, now=now)
    return report

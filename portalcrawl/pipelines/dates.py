"""Give every article a normalised, plausible ``published_at`` from the best evidence it has."""

from __future__ import annotations

import logging
import re
import sqlite3
import zoneinfo
from datetime import datetime
from typing import TYPE_CHECKING, Self

from portalcrawl import database
from portalcrawl.crawl_args import resolve_timezone
from portalcrawl.extract.dates import ParsedDate, date_from_url, is_plausible, parse_date, refined_by

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler

    from portalcrawl.items import Article

logger = logging.getLogger(__name__)

_STORED_MONTH_OR_YEAR = re.compile(r"(?P<y>\d{4})(?:-(?P<m>\d{2}))?")
_STORED_PRECISION = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ](?P<h>\d{2})(?P<m>:\d{2})?(?P<s>:\d{2})?)?")
LISTING_STAGE = "listing"
URL_STAGE = "url"


def _stored_date(value: str, tz: str, now: datetime) -> ParsedDate | None:
    """Read back a date already in our ISO form (any precision), else parse it as text."""
    zone = zoneinfo.ZoneInfo(tz)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        short = _STORED_MONTH_OR_YEAR.fullmatch(value.strip())
        if short is None or not 1 <= int(short["m"] or 1) <= 12:
            return parse_date(value, now=now, tz=tz)
        precision = "month" if short["m"] else "year"
        return ParsedDate(datetime(int(short["y"]), int(short["m"] or 1), 1, tzinfo=zone), precision, value)
    shape = _STORED_PRECISION.match(value)
    if shape is None or shape["h"] is None:
        precision = "day"
    else:
        precision = "second" if shape["s"] else "minute" if shape["m"] else "hour"
    return ParsedDate(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone), precision, value)


def combined_date(
    page: ParsedDate | None, page_stage: str, listing: ParsedDate | None
) -> tuple[ParsedDate | None, str]:
    """The one rule for the page's date and the listing's: the date of record and where it came from.

    When they agree (at the coarser one's precision) the more precise wins, so a listing's
    ``2026-01-16 10:20`` refines a page that only gives the day. When they disagree a date shown on
    the page wins over the listing, and the listing over a date read from the URL alone.
    """
    if listing is None:
        return page, page_stage
    if page is None:
        return listing, LISTING_STAGE
    if refined_by(page, listing) is not None or page_stage == URL_STAGE:
        return listing, LISTING_STAGE
    return page, page_stage


class NormalizeDatesPipeline:
    """Fills ``published_at`` from the page's date (extracted, else ``published_raw``, else the URL) and
    the listing's date, combined by ``combined_date``.

    The stage that produced it is recorded in ``field_stages["published_at"]``. Relative dates
    (``3小时前``) are resolved against the article's ``fetched_at``. A date before 1990 or more than a
    day after the fetch is a misread (a document number, a footer year, a typo on the page) or a fetch
    under a wrong clock: the normalised date is left empty, its raw text kept in ``published_raw``, and
    it is counted in ``portalcrawl/dates/implausible``. Such an article is not dateless for ever: when a
    spider opens, the site's stored articles without a date are judged again against the clock of this
    run, and those whose date is plausible now get it (``portalcrawl/dates/restored``). A
    ``published_raw`` that parse_date cannot read is counted in ``portalcrawl/dates/unparseable``, an
    article left without any date in ``portalcrawl/dates/missing``. Nothing is dropped.
    """

    def __init__(self, crawler: Crawler, default_timezone: str | None, db_path: str) -> None:
        self.crawler = crawler
        self.default_timezone = default_timezone
        self.db_path = db_path
        self._timezone: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            crawler, settings.get("PORTALCRAWL_TIMEZONE") or None, settings.get("PORTALCRAWL_DB_PATH", "")
        )

    @property
    def timezone(self) -> str:
        # The portal spider resolved its profile's zone once (crawl_args); any other spider gets the
        # same rule applied to the setting.
        if self._timezone is None:
            profile = getattr(self.crawler.spider, "profile", None)
            self._timezone = resolve_timezone(profile, self.default_timezone)
        return self._timezone

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)

    def _fetch_time(self, fetched_at: str | None, url: str) -> datetime:
        zone = zoneinfo.ZoneInfo(self.timezone)
        if fetched_at:
            try:
                fetched = datetime.fromisoformat(fetched_at)
            except ValueError:
                logger.debug("Unreadable fetched_at %r on %s", fetched_at, url)
            else:
                return fetched if fetched.tzinfo is not None else fetched.replace(tzinfo=zone)
        return datetime.now(zone)

    def open_spider(self) -> None:
        site = getattr(self.crawler.spider, "site", None)
        if not site or not self.db_path:
            return
        try:
            db = database.open_database(self.db_path, create=False)
        except (sqlite3.Error, database.DatabaseError, OSError) as error:
            # No archive yet holds nothing to judge again; storage reports an unusable one itself.
            logger.debug("Not judging stored dates again: %s", error)
            return
        try:
            restored = self._restore_dates(db, site)
        except sqlite3.Error as error:
            logger.warning("Could not judge the stored articles without a date again: %s", error)
            restored = 0
        finally:
            db.close()
        if restored:
            self._inc("portalcrawl/dates/restored", restored)
            logger.info("%d stored articles of %s without a date got a plausible one", restored, site)

    def _restore_dates(self, db: sqlite_utils.Database, site: str) -> int:
        now = datetime.now(zoneinfo.ZoneInfo(self.timezone))
        updates = []
        for row in database.articles_without_date(db, site):
            fetched = self._fetch_time(row["fetched_at"], row["url"])
            parsed, stage, _ = self._best_date(row["published_raw"], row["listing_date"], row["url"], fetched)
            if parsed is not None and is_plausible(parsed, now):
                updates.append(database.DateFill(row["id"], parsed.isoformat(), parsed.precision, stage))
        database.fill_dates(db, updates)
        return len(updates)

    def _best_date(
        self, published_raw: str | None, listing_date: str | None, url: str, fetched: datetime
    ) -> tuple[ParsedDate | None, str, bool]:
        """The date of an article that extraction gave none, its stage, and whether the raw was unreadable."""
        tz = self.timezone
        page: ParsedDate | None = None
        stage = "published_raw"
        unreadable = False
        if published_raw:
            page = parse_date(published_raw, now=fetched, tz=tz)
            unreadable = page is None
        if page is None:
            page, stage = date_from_url(url, tz=tz), URL_STAGE
        listing = _stored_date(listing_date, tz, fetched) if listing_date else None
        parsed, stage = combined_date(page, stage, listing)
        return parsed, stage, unreadable

    def process_item(self, item: Article) -> Article:
        tz = self.timezone
        fetched = self._fetch_time(item.fetched_at, item.url)
        if item.published_at:
            extracted = _stored_date(item.published_at, tz, fetched)
            if extracted is None:
                self._inc("portalcrawl/dates/unparseable")
            else:
                precision = item.date_precision or extracted.precision
                extracted = ParsedDate(extracted.value, precision, item.published_raw or item.published_at)
            page_stage = item.field_stages.get("published_at", "extracted")
            listing = _stored_date(item.listing_date, tz, fetched) if item.listing_date else None
            parsed, stage = combined_date(extracted, page_stage, listing)
            from_page = parsed is extracted
        else:
            parsed, stage, unreadable = self._best_date(
                item.published_raw, item.listing_date, item.url, fetched
            )
            # Counted even when a later source supplies a date: it shows a gap in parse_date.
            if unreadable:
                self._inc("portalcrawl/dates/unparseable")
            from_page = False
        if parsed is None:
            self._inc("portalcrawl/dates/missing")
            item.published_at = None
            item.date_precision = None
            return item
        if not is_plausible(parsed, fetched):
            logger.warning(
                "Implausible publication date %r (from %r) on %s; left empty until a run finds it plausible",
                parsed.isoformat(),
                parsed.raw,
                item.url,
            )
            self._inc("portalcrawl/dates/implausible")
            # The text the date was read from stays, so that a later run can judge it again.
            item.published_raw = item.published_raw or parsed.raw
            item.published_at = None
            item.date_precision = None
            item.field_stages.pop("published_at", None)
            item.field_stages.pop("date_precision", None)
            return item
        if not from_page:
            item.published_at = parsed.isoformat()
            item.field_stages["published_at"] = stage
            if "date_precision" in item.field_stages:
                item.field_stages["date_precision"] = stage
        item.date_precision = parsed.precision
        return item

"""Give every article a normalised, plausible ``published_at`` from the best source it has."""

from __future__ import annotations

import logging
import re
import zoneinfo
from datetime import datetime
from typing import TYPE_CHECKING, Self

from portalcrawl.extract.dates import ParsedDate, date_from_url, is_plausible, parse_date

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from portalcrawl.items import Article

logger = logging.getLogger(__name__)

_STORED_MONTH_OR_YEAR = re.compile(r"(?P<y>\d{4})(?:-(?P<m>\d{2}))?")
_STORED_PRECISION = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ](?P<h>\d{2})(?P<m>:\d{2})?(?P<s>:\d{2})?)?")


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


class NormalizeDatesPipeline:
    """Fills ``published_at`` from ``published_raw``, then the listing's date, then the URL.

    The stage that produced it is recorded in ``field_stages["published_at"]``. Relative dates
    (``3小时前``) are resolved against the article's ``fetched_at``. A date before 1990 or more than a
    day after the fetch is a misread (a document number, a footer year, a typo on the page): the
    normalised date is cleared, ``published_raw`` kept for inspection, and it is counted in
    ``portalcrawl/dates/implausible``. A ``published_raw`` that parse_date cannot read is counted in
    ``portalcrawl/dates/unparseable``, an article left without any date in ``portalcrawl/dates/missing``.
    Nothing is dropped.
    """

    def __init__(self, crawler: Crawler, default_timezone: str) -> None:
        self.crawler = crawler
        self.default_timezone = default_timezone
        self._timezone: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.get("PORTALCRAWL_TIMEZONE", "Asia/Shanghai"))

    @property
    def timezone(self) -> str:
        # The spider builds its profile from its arguments; read it once the spider exists.
        if self._timezone is None:
            profile = getattr(self.crawler.spider, "profile", None)
            self._timezone = getattr(profile, "timezone", None) or self.default_timezone
        return self._timezone

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def _now(self, item: Article) -> datetime:
        zone = zoneinfo.ZoneInfo(self.timezone)
        if item.fetched_at:
            try:
                fetched = datetime.fromisoformat(item.fetched_at)
            except ValueError:
                logger.debug("Unreadable fetched_at %r on %s", item.fetched_at, item.url)
            else:
                return fetched if fetched.tzinfo is not None else fetched.replace(tzinfo=zone)
        return datetime.now(zone)

    def process_item(self, item: Article) -> Article:
        tz = self.timezone
        now = self._now(item)
        if item.published_at:
            parsed = _stored_date(item.published_at, tz, now)
            if parsed is None:
                self._inc("portalcrawl/dates/unparseable")
            precision = item.date_precision or (parsed.precision if parsed else None)
        else:
            parsed, stage = self._find_date(item, now, tz)
            precision = parsed.precision if parsed else None
            if parsed is not None:
                item.published_at = parsed.isoformat()
                item.field_stages["published_at"] = stage
        if parsed is None:
            self._inc("portalcrawl/dates/missing")
            item.published_at = None
            item.date_precision = None
            return item
        if not is_plausible(parsed, now):
            logger.warning(
                "Implausible publication date %r (from %r) on %s; left empty",
                item.published_at,
                parsed.raw,
                item.url,
            )
            self._inc("portalcrawl/dates/implausible")
            item.published_at = None
            item.date_precision = None
            item.field_stages.pop("published_at", None)
            return item
        item.date_precision = precision
        return item

    def _find_date(self, item: Article, now: datetime, tz: str) -> tuple[ParsedDate | None, str]:
        if item.published_raw:
            parsed = parse_date(item.published_raw, now=now, tz=tz)
            if parsed is not None:
                return parsed, "published_raw"
            # Counted even when a later source supplies a date: it shows a gap in parse_date.
            self._inc("portalcrawl/dates/unparseable")
        if item.listing_date:
            parsed = _stored_date(item.listing_date, tz, now)
            if parsed is not None:
                return parsed, "listing"
        return date_from_url(item.url, tz=tz), "url"

"""The validated arguments of one site's crawl, checked in one place for the spider and `crawl`."""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date

from portalcrawl.extract.dates import DEFAULT_TIMEZONE
from portalcrawl.profiles import SiteProfile, load_profile, parse_positive_int, parse_since

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"", "0", "false", "no", "off"}
HTTP_URL = re.compile(r"^https?://[^/\s]+")


class CrawlArgumentError(ValueError):
    """An argument that cannot start a crawl; ``key`` names it (a setting's name in capitals; empty
    when the problem is the combination), the message says what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


@dataclass(frozen=True)
class CrawlArguments:
    """What one site's crawl runs on. ``profile.timezone`` is resolved: it is never None here."""

    profile: SiteProfile
    since: date | None
    max_pages: int
    full: bool

    @property
    def timezone(self) -> str:
        assert self.profile.timezone is not None
        return self.profile.timezone


def resolve_timezone(profile: SiteProfile | None, default_timezone: str | None) -> str:
    """The zone of dates shown without one: the profile's own, else the setting, else Asia/Shanghai."""
    zone = (profile.timezone if profile else None) or default_timezone or DEFAULT_TIMEZONE
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CrawlArgumentError("PORTALCRAWL_TIMEZONE", f"unknown time zone {zone!r}") from None
    return zone


def crawl_arguments(
    *,
    site: str | None = None,
    url: str | None = None,
    since: str | None = None,
    max_pages: str | int | None = None,
    full: str | bool | None = None,
    sites_dir: str | None = None,
    default_max_pages: int = 200,
    default_timezone: str | None = None,
) -> CrawlArguments:
    """Check a crawl's arguments (spider ``-a`` values or their ``portalcrawl crawl`` equivalents).

    Raises ``CrawlArgumentError`` for a bad argument and ``ProfileError`` for an unknown or invalid
    profile. A ``since`` or ``max_pages`` argument wins over the profile's.
    """
    profile = _profile(site, url, sites_dir)
    since_date, pages, full_crawl = crawl_options(since=since, max_pages=max_pages, full=full)
    zone = resolve_timezone(profile, default_timezone)
    return CrawlArguments(
        profile=dataclasses.replace(profile, timezone=zone),
        since=since_date if since is not None else profile.since,
        max_pages=pages or profile.max_pages or default_max_pages,
        full=full_crawl,
    )


def crawl_options(
    *, since: str | None = None, max_pages: str | int | None = None, full: str | bool | None = None
) -> tuple[date | None, int | None, bool]:
    """The options every site of a run shares, checked: ``since``, ``max_pages`` (None when not given)
    and ``full``."""
    try:
        since_date = parse_since(since) if since is not None else None
    except ValueError as exc:
        raise CrawlArgumentError("since", str(exc)) from None
    try:
        pages = parse_positive_int(max_pages) if max_pages is not None else None
    except ValueError as exc:
        raise CrawlArgumentError("max_pages", str(exc)) from None
    return since_date, pages, _flag("full", full)


def _profile(site: str | None, url: str | None, sites_dir: str | None) -> SiteProfile:
    if bool(site) == bool(url):
        raise CrawlArgumentError("", "give exactly one of -a site=SLUG or -a url=URL[,URL]")
    if site:
        return load_profile(site, sites_dir)
    urls = [u.strip() for u in (url or "").split(",") if u.strip()]
    for start_url in urls:
        if not HTTP_URL.match(start_url):
            raise CrawlArgumentError("url", f"{start_url!r} is not an http(s) URL")
    if not urls:
        raise CrawlArgumentError("url", "no URL given")
    return SiteProfile.ad_hoc(urls)


def _flag(name: str, value: str | bool | None) -> bool:
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise CrawlArgumentError(name, f"expected 1 or 0, got {value!r}")

"""Site profiles: a portal described as data in ``sites/<slug>.toml``, validated strictly."""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
import tomllib
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# A resource, not a path beside __file__: scrapyd runs the project from a zipped egg.
PACKAGED_SITES_DIR: Traversable = importlib.resources.files("portalcrawl") / "sites"
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Selectors:
    """Optional CSS or XPath (``xpath:`` prefix) selectors that override auto-detection."""

    title: str | None = None
    body: str | None = None
    published: str | None = None
    source: str | None = None
    author: str | None = None
    article_links: str | None = None
    next_page: str | None = None


@dataclass(frozen=True)
class SiteProfile:
    slug: str
    name: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...] = ()
    timezone: str = "Asia/Shanghai"
    enabled: bool = True
    cms: str | None = None
    article_url_pattern: str | None = None
    selectors: Selectors = field(default_factory=Selectors)
    max_pages: int | None = None
    since: str | None = None
    recheck_days: int | None = None

    @property
    def domains(self) -> tuple[str, ...]:
        """Hosts the crawl may fetch: the start URLs' hosts plus ``allowed_domains``."""
        hosts = [urlsplit(url).hostname or "" for url in self.start_urls]
        return tuple(dict.fromkeys(h for h in [*hosts, *self.allowed_domains] if h))

    @classmethod
    def ad_hoc(cls, start_urls: list[str], *, slug: str | None = None) -> SiteProfile:
        """A profile for ``-a url=…`` crawls: everything auto-detected, named after the first host."""
        host = urlsplit(start_urls[0]).hostname or "adhoc"
        return cls(slug=slug or host, name=host, start_urls=tuple(start_urls))


def _fail(path: Path | Traversable, key: str, problem: str) -> ProfileError:
    return ProfileError(f"{path}: {key}: {problem}")


def _check_keys(path: Path | Traversable, table: dict[str, Any], allowed: set[str], prefix: str = "") -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed))
        raise _fail(path, prefix + unknown[0], f"unknown key (known keys: {known})")


def _expect(path: Path | Traversable, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise _fail(path, key, f"expected {names}, got {type(value).__name__} {value!r}")
    return value


def _string_list(path: Path | Traversable, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    _expect(path, key, value, list)
    return tuple(_expect(path, key, item, str) for item in value)


def parse_profile(data: dict[str, Any], path: Path | Traversable) -> SiteProfile:
    """Build a profile from parsed TOML, rejecting unknown keys and wrong types."""
    top_keys = {f.name for f in dataclasses.fields(SiteProfile)} - {"slug"}
    _check_keys(path, data, top_keys)
    slug = path.name.removesuffix(".toml")
    if not SLUG_PATTERN.match(slug):
        raise _fail(path, "file name", f"{slug!r} is not a valid slug (lower-case letters, digits, - _ .)")
    if "name" not in data:
        raise _fail(path, "name", "missing")
    if "start_urls" not in data:
        raise _fail(path, "start_urls", "missing")
    start_urls = _string_list(path, "start_urls", data["start_urls"])
    if not start_urls:
        raise _fail(path, "start_urls", "must list at least one URL")
    for url in start_urls:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise _fail(path, "start_urls", f"{url!r} is not an http(s) URL")
    timezone = _expect(path, "timezone", data.get("timezone", "Asia/Shanghai"), str)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise _fail(path, "timezone", f"unknown time zone {timezone!r}") from exc
    selectors_table = _expect(path, "selectors", data.get("selectors", {}), dict)
    _check_keys(path, selectors_table, {f.name for f in dataclasses.fields(Selectors)}, "selectors.")
    for key, value in selectors_table.items():
        _expect(path, f"selectors.{key}", value, str)
    pattern = data.get("article_url_pattern")
    if pattern is not None:
        _expect(path, "article_url_pattern", pattern, str)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _fail(path, "article_url_pattern", f"invalid regular expression: {exc}") from exc
    for key in ("max_pages", "recheck_days"):
        if key in data and (_expect(path, key, data[key], int) < 1):
            raise _fail(path, key, "must be a positive integer")
    since = data.get("since")
    if since is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", _expect(path, "since", since, str)):
        raise _fail(path, "since", f"expected YYYY-MM-DD, got {since!r}")
    return SiteProfile(
        slug=slug,
        name=_expect(path, "name", data["name"], str),
        start_urls=start_urls,
        allowed_domains=_string_list(path, "allowed_domains", data.get("allowed_domains", [])),
        timezone=timezone,
        enabled=_expect(path, "enabled", data.get("enabled", True), bool),
        cms=_expect(path, "cms", data["cms"], str) if "cms" in data else None,
        article_url_pattern=pattern,
        selectors=Selectors(**selectors_table),
        max_pages=data.get("max_pages"),
        since=since,
        recheck_days=data.get("recheck_days"),
    )


def load_profile_file(path: Path | Traversable) -> SiteProfile:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: invalid TOML: {exc}") from exc
    return parse_profile(data, path)


def sites_dir(configured: str | Path | None) -> Path | Traversable:
    return Path(configured) if configured else PACKAGED_SITES_DIR


def load_profile(slug: str, directory: str | Path | None = None) -> SiteProfile:
    """Load ``<directory>/<slug>.toml`` (the packaged ``sites/`` when no directory is given)."""
    base = sites_dir(directory)
    if not SLUG_PATTERN.match(slug):
        # A slug is a file name inside the sites directory, never a path out of it.
        raise ProfileError(
            f"unknown site {slug!r}: not a valid site name (lower-case letters, digits, - _ .)"
        )
    path = base / f"{slug}.toml"
    if not path.is_file():
        available = ", ".join(p.name.removesuffix(".toml") for p in iter_profile_files(base)) or "none"
        raise ProfileError(f"unknown site {slug!r}: no {path} (available in {base}: {available})")
    return load_profile_file(path)


def iter_profile_files(directory: str | Path | Traversable | None = None) -> Iterator[Path | Traversable]:
    base = directory if isinstance(directory, Traversable) else sites_dir(directory)
    if not base.is_dir():
        return
    yield from sorted((p for p in base.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)

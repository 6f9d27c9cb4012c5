"""Site profiles: a portal described as data in ``sites/<slug>.toml``, validated strictly."""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
import tomllib
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from portalcrawl.attachments import MODES as ATTACHMENT_MODES
from portalcrawl.extract.families import FAMILY_NAMES, family_named
from portalcrawl.extract.selectors import InvalidSelector, compiled_selector
from portalcrawl.urls import effective_port

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
    # None: the crawl's default (PORTALCRAWL_TIMEZONE); see crawl_args.resolve_timezone.
    timezone: str | None = None
    enabled: bool = True
    cms: str | None = None
    article_url_pattern: str | None = None
    selectors: Selectors = field(default_factory=Selectors)
    max_pages: int | None = None
    since: date | None = None
    recheck_days: int | None = None
    allowed_ports: tuple[int, ...] = ()
    # off | links | download | text (portalcrawl.attachments.MODES); None: the setting's default.
    attachments: str | None = None

    @property
    def ports(self) -> frozenset[int]:
        """Ports the crawl may connect to: the start URLs' ports, 80, 443 and ``allowed_ports``."""
        start_ports = {port for url in self.start_urls if (port := effective_port(url)) is not None}
        return frozenset({80, 443, *start_ports, *self.allowed_ports})

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


def parse_since(value: object) -> date:
    """A ``since`` date (``YYYY-MM-DD``, a real calendar day), for profiles and crawl arguments alike."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


def parse_positive_int(value: object) -> int:
    """A count such as ``max_pages``: an integer of at least 1 (or its decimal text)."""
    number = int(value) if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value) else value
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValueError(f"expected a positive integer, got {value!r}")
    return number


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
    timezone = data.get("timezone")
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(_expect(path, "timezone", timezone, str))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise _fail(path, "timezone", f"unknown time zone {timezone!r}") from exc
    selectors_table = _expect(path, "selectors", data.get("selectors", {}), dict)
    _check_keys(path, selectors_table, {f.name for f in dataclasses.fields(Selectors)}, "selectors.")
    for key, value in selectors_table.items():
        try:
            compiled_selector(_expect(path, f"selectors.{key}", value, str))
        except InvalidSelector as exc:
            raise _fail(path, f"selectors.{key}", str(exc)) from None
    cms = data.get("cms")
    if cms is not None and family_named(_expect(path, "cms", cms, str)) is None:
        raise _fail(path, "cms", f"unknown CMS family {cms!r} (known: {', '.join(FAMILY_NAMES)})")
    pattern = data.get("article_url_pattern")
    if pattern is not None:
        _expect(path, "article_url_pattern", pattern, str)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise _fail(path, "article_url_pattern", f"invalid regular expression: {exc}") from exc
    for key in ("max_pages", "recheck_days"):
        if key in data:
            try:
                parse_positive_int(_expect(path, key, data[key], int))
            except ValueError as exc:
                raise _fail(path, key, str(exc)) from None
    since = None
    if "since" in data:
        try:
            # TOML has date literals too: since = 2026-01-01 is read as a date.
            since = parse_since(data["since"])
        except ValueError as exc:
            raise _fail(path, "since", str(exc)) from None
    allowed_ports = tuple(
        _expect(path, "allowed_ports", port, int)
        for port in _expect(path, "allowed_ports", data.get("allowed_ports", []), list)
    )
    if any(not 1 <= port <= 65535 for port in allowed_ports):
        raise _fail(path, "allowed_ports", f"ports are 1 to 65535, got {list(allowed_ports)}")
    attachments = data.get("attachments")
    if attachments is not None and _expect(path, "attachments", attachments, str) not in ATTACHMENT_MODES:
        raise _fail(
            path, "attachments", f"expected one of {', '.join(ATTACHMENT_MODES)}, got {attachments!r}"
        )
    return SiteProfile(
        slug=slug,
        name=_expect(path, "name", data["name"], str),
        start_urls=start_urls,
        allowed_domains=_string_list(path, "allowed_domains", data.get("allowed_domains", [])),
        timezone=timezone,
        enabled=_expect(path, "enabled", data.get("enabled", True), bool),
        cms=cms,
        article_url_pattern=pattern,
        selectors=Selectors(**selectors_table),
        max_pages=data.get("max_pages"),
        since=since,
        recheck_days=data.get("recheck_days"),
        allowed_ports=allowed_ports,
        attachments=attachments,
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

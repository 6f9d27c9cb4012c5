"""CMS families as data: one module per platform, read by detection, listings, URL dates and attachments.

A family module (``trs.py``, ``hanweb.py`` …) holds its tables as module constants:

- ``NAME``; ``EXAMPLES``: article URLs it makes → the day each one names (or None);
- ``HTML_FINGERPRINTS``: lower-case substrings of its pages; ``URL_FINGERPRINTS``: URLs only it makes;
- ``ARTICLE_URLS``: its article links; ``COLUMN_URLS``: its column and pager links;
- ``URL_DATES``: the day in its article URLs (groups ``y``, ``m``, ``d``);
- ``BODY``, ``TITLE``: ``#id`` / ``.class`` selectors of its fields, the first that matches wins;
- ``DOWNLOAD_HANDLERS``: URL paths that serve a file by id, with no extension;

(URL patterns are regex sources, case-insensitive except ``URL_DATES``) and, where it has them, hooks
for its listings: ``is_data_answer(head)`` (a response is its data answer, not a page),
``listed_records(text)`` (the records a page or answer lists), ``data_requests(text, base, url)`` and
``script_feeds(scripts, base)``; for its script pagers, ``pager_call(scripts)`` (a call that spells
out the page sequence) and ``pager_variables(scripts, url)`` (page-count variables an external pager
script reads). Listings ask every family's hooks, whatever the page's platform: a page's family is not
known before its pages are. ``generic.py`` holds the URL and body tables no one platform owns.

Adding a family is adding its module and naming it in ``MODULES``, whose order is detection order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from types import ModuleType
from typing import Any

from lxml import etree

from portalcrawl.extract.content import PageIndex
from portalcrawl.extract.families import (
    dedecms,
    destoon,
    discuz,
    empirecms,
    generic,
    gkmlpt,
    govcn,
    hanweb,
    jiyuehua,
    phpcms,
    trs,
)
from portalcrawl.extract.listing_request import ListingRequest
from portalcrawl.extract.pager_scripts import PageSequence

IsDataAnswer = Callable[[str], bool]
ListedRecords = Callable[[str], list[str]]
DataRequests = Callable[[str, str, str], list[ListingRequest]]
ScriptFeeds = Callable[[str, str], list[str]]
PagerCall = Callable[[str], PageSequence | None]
PagerVariables = Callable[[str, str], PageSequence | None]
HOOKS = ("is_data_answer", "listed_records", "data_requests", "script_feeds", "pager_call", "pager_variables")


# Identity is equality: each family is one module, and a Family is hashable whatever its tables hold.
@dataclass(frozen=True, eq=False)
class Family:
    """One platform: how to recognise it, what its URLs look like and where its article fields live
    (the tables of its module, see the package docstring)."""

    name: str
    examples: dict[str, str | None]
    html_fingerprints: tuple[str, ...]
    url_fingerprints: tuple[str, ...]
    article_urls: tuple[str, ...]
    url_dates: tuple[str, ...]
    column_urls: tuple[str, ...]
    body: tuple[str, ...]
    title: tuple[str, ...]
    download_handlers: tuple[str, ...]
    is_data_answer: IsDataAnswer | None = None
    listed_records: ListedRecords | None = None
    data_requests: DataRequests | None = None
    script_feeds: ScriptFeeds | None = None
    pager_call: PagerCall | None = None
    pager_variables: PagerVariables | None = None

    @classmethod
    def from_module(cls, module: ModuleType) -> Family:
        """The family a module describes; a module without one of the tables is a programming error."""
        missing = [table for table in TABLES if not hasattr(module, table)]
        if missing:
            raise TypeError(f"family module {module.__name__} lacks {', '.join(missing)}")
        values: dict[str, Any] = {table.lower(): getattr(module, table) for table in TABLES}
        values.update((hook, getattr(module, hook, None)) for hook in HOOKS)
        return cls(**values)


# The module constants a family module must define: every field of Family but its optional hooks.
TABLES = tuple(field.name.upper() for field in fields(Family) if field.name not in HOOKS)


# Detection order: the first family whose fingerprint matches a page wins.
MODULES: tuple[ModuleType, ...] = (
    govcn,
    hanweb,
    trs,
    jiyuehua,
    dedecms,
    phpcms,
    empirecms,
    destoon,
    gkmlpt,
    discuz,
)
FAMILIES: tuple[Family, ...] = tuple(Family.from_module(module) for module in MODULES)
FAMILIES_BY_NAME = {family.name: family for family in FAMILIES}
FAMILY_NAMES = tuple(FAMILIES_BY_NAME)

# The tables every reader shares: the families' own entries in detection order, then the generic ones.
ARTICLE_URLS = (*(p for family in FAMILIES for p in family.article_urls), *generic.ARTICLE_URLS)
URL_DATES = (*(p for family in FAMILIES for p in family.url_dates), *generic.URL_DATES)
URL_MONTHS = generic.URL_MONTHS
COLUMN_URLS = (*(p for family in FAMILIES for p in family.column_urls), *generic.COLUMN_URLS)
DOWNLOAD_HANDLERS = (
    *(p for family in FAMILIES for p in family.download_handlers),
    *generic.DOWNLOAD_HANDLERS,
)
GENERIC_BODY = generic.BODY
DATA_ANSWERS = tuple(family.is_data_answer for family in FAMILIES if family.is_data_answer)
LISTED_RECORDS = tuple(family.listed_records for family in FAMILIES if family.listed_records)
DATA_REQUESTS = tuple(family.data_requests for family in FAMILIES if family.data_requests)
SCRIPT_FEEDS = tuple(family.script_feeds for family in FAMILIES if family.script_feeds)
PAGER_CALLS = tuple(family.pager_call for family in FAMILIES if family.pager_call)
PAGER_VARIABLES = tuple(family.pager_variables for family in FAMILIES if family.pager_variables)


def family_named(name: str) -> Family | None:
    """The family a profile's ``cms`` names; variants (hanweb-old, trs-1based) share its article layout."""
    label = name.strip().lower()
    return FAMILIES_BY_NAME.get(label) or FAMILIES_BY_NAME.get(label.split("-")[0])


def _url_fingerprint(family: Family) -> re.Pattern[str] | None:
    if not family.url_fingerprints:
        return None
    return re.compile("|".join(f"(?:{p})" for p in family.url_fingerprints), re.IGNORECASE)


# Compiled once: (family, its URL fingerprints as one pattern, its page fingerprints as UTF-8 bytes).
_DETECTORS = tuple(
    (family, _url_fingerprint(family), tuple(f.encode("utf-8") for f in family.html_fingerprints))
    for family in FAMILIES
)


def detect_family(page_html: str | bytes, url: str, hint: str | None = None) -> Family | None:
    """The platform named by the profile, else the first family whose fingerprint matches the page (its
    text or its UTF-8 bytes, which are searched far faster) or URL."""
    if hint:
        named = family_named(hint)
        if named:
            return named
    if isinstance(page_html, str):
        page_html = page_html.encode("utf-8", "replace")
    # Fingerprints are ASCII or caseless CJK, so lower-casing the ASCII bytes is enough.
    lowered = page_html.lower()
    for family, url_pattern, fingerprints in _DETECTORS:
        if (url_pattern is not None and url_pattern.search(url)) or any(f in lowered for f in fingerprints):
            return family
    return None


def first_match(index: PageIndex, selectors: tuple[str, ...]) -> list[etree._Element]:
    """Elements of the first selector that matches anything, outermost only (TRS nests its own classes)."""
    for selector in selectors:
        table = index.by_id if selector.startswith("#") else index.by_class
        elements = table.get(selector[1:], [])
        if elements:
            outermost = set(elements)
            return [e for e in elements if not any(a in outermost for a in e.iterancestors())]
    return []

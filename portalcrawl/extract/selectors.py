"""Profile selectors (CSS, or XPath after ``xpath:``): compiled once, the same for checking and using."""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import TYPE_CHECKING

from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from portalcrawl.extract.links import LinkResolver, base_url

if TYPE_CHECKING:
    from portalcrawl.items import Article
    from portalcrawl.profiles import SiteProfile

XPATH_PREFIX = "xpath:"
# Evaluating on an empty document finds what compiling alone lets through (an unknown function or
# namespace prefix is only reported when the expression runs).
_EMPTY_DOCUMENT = etree.fromstring("<html><body></body></html>")


class InvalidSelector(ValueError):
    """A profile selector that does not compile (or cannot run); the message says why."""


@lru_cache(maxsize=256)
def compiled_selector(selector: str) -> etree.XPath:
    """The selector as a compiled XPath, cached: translating CSS to XPath costs more than running it."""
    try:
        if selector.startswith(XPATH_PREFIX):
            compiled = etree.XPath(selector[len(XPATH_PREFIX) :].strip())
        else:
            compiled = CSSSelector(selector)
        compiled(_EMPTY_DOCUMENT)
    except (etree.XPathError, SelectorError) as exc:
        kind = "XPath" if selector.startswith(XPATH_PREFIX) else "CSS selector"
        raise InvalidSelector(f"invalid {kind} {selector!r}: {exc}") from None
    return compiled


def select(tree: etree._Element, selector: str | None) -> list[etree._Element]:
    """The elements a selector matches (an XPath that yields strings or numbers matches none)."""
    if not selector:
        return []
    found = compiled_selector(selector)(tree)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def selected_anchors(tree: etree._Element, selector: str) -> list[etree._Element]:
    """The link elements a links selector picks, in document order.

    A matched element with an ``href`` is itself a link; any other matched element stands for the
    links inside it (so ``ul.news`` works as well as ``ul.news a``); an XPath ending in ``/@href``
    gives the elements holding those attributes.
    """
    found = compiled_selector(selector)(tree)
    anchors: list[etree._Element] = []
    for match in found if isinstance(found, list) else []:
        if isinstance(match, str):
            holder = getattr(match, "getparent", lambda: None)()
            if isinstance(holder, etree._Element):
                anchors.append(holder)
        elif isinstance(match, etree._Element):
            if match.get("href") is not None:
                anchors.append(match)
            else:
                anchors.extend(a for a in match.iter("a") if a.get("href") is not None)
    return list(dict.fromkeys(anchors))


# What a profile's selectors yield on a page, so that one that finds nothing is reported, not hidden.
# The Article field each article-page selector fills; extraction records "profile" as its stage when
# the selector gave the value, and falls back to the automatic stages when it did not.
ARTICLE_SELECTOR_FIELDS = {
    "title": "title",
    "body": "body_text",
    "published": "published_at",
    "source": "source",
    "author": "author",
}
LISTING_SELECTORS = ("article_links", "next_page")


def profile_selectors(profile: SiteProfile) -> dict[str, str]:
    """The selectors a profile sets, by name (``title``, ``article_links``…)."""
    chosen = {f.name: getattr(profile.selectors, f.name) for f in fields(profile.selectors)}
    return {name: selector for name, selector in chosen.items() if selector}


def selector_matches(tree: etree._Element, selector: str) -> int:
    """How many elements (or values) ``selector`` finds on the page; ``InvalidSelector`` if invalid."""
    found = compiled_selector(selector)(tree)
    if isinstance(found, list):
        return len(found)
    return 1 if found else 0


def missed_selectors(article: Article, profile: SiteProfile) -> list[str]:
    """Names of the profile's article selectors that did not give their field on this page."""
    chosen = profile_selectors(profile)
    return [
        name
        for name, field_name in ARTICLE_SELECTOR_FIELDS.items()
        if name in chosen and article.field_stages.get(field_name) != "profile"
    ]


def selected_urls(tree: etree._Element, url: str, selector: str) -> list[str]:
    """The links a listing selector picks (``selected_anchors``), resolved as the listing resolves them."""
    resolve = LinkResolver(base_url(tree, url))
    links = (resolve(anchor.get("href") or "") for anchor in selected_anchors(tree, selector))
    return list(dict.fromkeys(link for link in links if link))

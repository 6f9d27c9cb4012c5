"""What a profile's selectors yield on a page, so that one that finds nothing is reported, not hidden."""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import urljoin

from lxml import etree

from portalcrawl.extract.article import _compiled, parse_tree
from portalcrawl.items import Article
from portalcrawl.profiles import Selectors, SiteProfile

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
    chosen = {f.name: getattr(profile.selectors, f.name) for f in fields(Selectors)}
    return {name: selector for name, selector in chosen.items() if selector}


def selector_matches(page: str | bytes | etree._Element, selector: str) -> int:
    """How many elements (or values) ``selector`` finds on the page; ``ValueError`` if it is invalid."""
    tree = page if isinstance(page, etree._Element) else parse_tree(page)
    try:
        found = _compiled(selector)(tree)
    except (etree.XPathError, SyntaxError, ValueError) as error:
        # cssselect raises SelectorSyntaxError (a SyntaxError), lxml XPathSyntaxError/XPathEvalError.
        raise ValueError(f"invalid selector {selector!r}: {error}") from error
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


def selected_urls(page: str | bytes, url: str, selector: str) -> list[str]:
    """The links a listing selector picks: each match's ``href``, or the ``a[href]`` inside it.

    An XPath that selects attribute values (``xpath://ul[@class='list']//a/@href``) gives them as they
    are. Relative links are resolved against ``url``.
    """
    try:
        found = _compiled(selector)(parse_tree(page))
    except (etree.XPathError, SyntaxError, ValueError) as error:
        raise ValueError(f"invalid selector {selector!r}: {error}") from error
    hrefs: list[str] = []
    for match in found if isinstance(found, list) else []:
        if isinstance(match, etree._Element):
            if match.get("href"):
                hrefs.append(match.get("href") or "")
            else:
                hrefs.extend(a.get("href") or "" for a in match.iter("a") if a.get("href"))
        elif isinstance(match, str):
            hrefs.append(str(match))
    return list(dict.fromkeys(urljoin(url, href.strip()) for href in hrefs if href.strip()))

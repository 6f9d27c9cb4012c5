"""Stage 2: structured data — JSON-LD articles and OpenGraph / ``article:*`` meta properties."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from portalcrawl.extract import content

# The publishing account a self-media page names in its scripts (WeChat's ``var nickname = "…"``).
ACCOUNT_NAME = re.compile(r"""\bvar nickname\s*=\s*["'](?P<name>[^"'\n]{2,30})["']""")

ARTICLE_TYPES = frozenset(("Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "WebPage"))


@dataclass
class StructuredData:
    title: str | None = None
    published: str | None = None
    author: str | None = None
    section: str | None = None


def _names(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        names = [n for n in (_names(v) for v in value) if n]
        return " ".join(names) or None
    return None


def _article_objects(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [obj for item in data for obj in _article_objects(item)]
    if not isinstance(data, dict):
        return []
    if "@graph" in data:
        return _article_objects(data["@graph"])
    kind = data.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return [data] if any(k in ARTICLE_TYPES for k in kinds) else []


def read_structured(tree: etree._Element, meta: dict[str, str]) -> StructuredData:
    """Article fields from JSON-LD, then OpenGraph; absent fields stay ``None``."""
    found = StructuredData()
    for script in tree.iter("script"):
        if script.get("type") != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        for obj in _article_objects(data):
            found.title = found.title or _names(obj.get("headline"))
            found.published = found.published or _names(obj.get("datePublished"))
            found.author = found.author or _names(obj.get("author"))
            found.section = found.section or _names(obj.get("articleSection"))
    found.title = found.title or meta.get("og:title")
    found.published = found.published or meta.get("article:published_time") or meta.get("og:release_date")
    found.author = found.author or meta.get("article:author")
    found.section = found.section or meta.get("article:section")
    return found


def account_name(tree: etree._Element) -> str | None:
    """The publishing account a script names, if any."""
    for text in content.inline_scripts(tree):
        if "nickname" in text and (match := ACCOUNT_NAME.search(text)):
            return match["name"].strip() or None
    return None

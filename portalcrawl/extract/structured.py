"""Stage 2: structured data — JSON-LD articles and OpenGraph / ``article:*`` meta properties."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lxml import etree

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

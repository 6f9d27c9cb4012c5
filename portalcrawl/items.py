"""The one record portalcrawl produces: an article of a portal's news column."""

from __future__ import annotations

from dataclasses import dataclass, field

DATE_PRECISIONS = ("second", "minute", "hour", "day", "month", "year")


@dataclass(slots=True, kw_only=True)
class Article:
    """An article page, extracted and normalised.

    ``slots=True`` makes assigning an undeclared field raise ``AttributeError``, so a typo in a
    pipeline cannot silently add a column. Dates are ISO 8601 strings with an offset
    (``2026-01-16T19:01:55+08:00``), truncated to ``date_precision``; the text they came from is kept in
    ``published_raw``. ``field_stages`` records which extraction stage produced each field
    (``gov_meta``, ``structured_data``, ``cms:<family>``, ``meta_line``, ``generic``, ``url``, ``listing``…).
    """

    url: str
    final_url: str = ""
    site: str = ""
    title: str | None = None
    published_at: str | None = None
    published_raw: str | None = None
    date_precision: str | None = None
    source: str | None = None
    author: str | None = None
    editor: str | None = None
    body_text: str = ""
    body_html: str = ""
    attachments: list[dict[str, str]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    column: str | None = None
    gov_meta: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    content_hash: str | None = None
    encoding: str | None = None
    fetched_at: str | None = None
    field_stages: dict[str, str] = field(default_factory=dict)
    cms: str | None = None
    listing_url: str | None = None
    listing_date: str | None = None
    page_urls: list[str] = field(default_factory=list)

"""Raw pages as the portal served them: one capture per fetch, the bytes content-addressed and compressed."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import zstandard
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from portalcrawl.database import write_transaction
from portalcrawl.middlewares.encoding import better_encoding
from portalcrawl.signals import page_fetched

if TYPE_CHECKING:
    import sqlite_utils
    from scrapy.crawler import Crawler
    from scrapy.http import Response

KEEP_PAGES_CHOICES = ("all", "articles", "off")
# benchmarks/pages.py: on the corpus pages level 9 is 7% smaller than level 3 at ~1.6 ms a page;
# level 19 saves 5% more but costs ~45 ms a page, too long to hold the reactor at every flush.
ZSTD_LEVEL = 9
ARTICLE = "article"
LISTING = "listing"
# Header values are bytes on the wire; latin-1 maps each byte to one character and back unchanged.
HEADER_CODEC = "latin-1"

CAPTURE_COLUMNS = (
    "site",
    "run_id",
    "kind",
    "article_url",
    "article_fetched_at",
    "page_number",
    "url",
    "final_url",
    "method",
    "request_headers",
    "request_body",
    "status",
    "headers",
    "fetched_at",
    "sha256",
)


@dataclass(frozen=True, slots=True)
class PageCapture:
    """One fetched page: the request, the answer's status and headers, and the body as served.

    ``body`` is what Scrapy handed the spider: after HTTP decompression, before any decoding.
    ``article_url`` names the article a page belongs to (None for a listing page) and ``page_number``
    its place among the article's pages.
    """

    site: str
    kind: str
    url: str
    final_url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    headers: list[tuple[str, str]]
    fetched_at: str
    body: bytes
    article_url: str | None = None
    page_number: int = 1

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Scrapy ``Headers`` as (name, value) text pairs in order, one pair per value."""
    return [
        (name.decode(HEADER_CODEC), value.decode(HEADER_CODEC))
        for name, values in headers.items()
        for value in values
    ]


def capture_response(
    response: Response,
    *,
    site: str,
    kind: str,
    fetched_at: str,
    article_url: str | None = None,
    page_number: int = 1,
) -> PageCapture:
    """The capture of ``response``; its URL as first requested comes before any redirect."""
    request = response.request
    first_url = response.meta.get("redirect_urls", [request.url if request else response.url])[0]
    return PageCapture(
        site=site,
        kind=kind,
        url=first_url,
        final_url=response.url,
        method=request.method if request else "GET",
        request_headers=header_pairs(request.headers) if request else [],
        request_body=request.body if request else b"",
        status=response.status,
        headers=header_pairs(response.headers),
        fetched_at=fetched_at,
        body=response.body,
        article_url=article_url,
        page_number=page_number,
    )


# ---------------------------------------------------------------------------------------------------
# Writing


def store_pages(
    db: sqlite_utils.Database, captures: list[tuple[PageCapture, str | None]], run_id: int | None
) -> int:
    """Write captures (each with the ``fetched_at`` of the article version it belongs to) and the bytes
    not stored yet; returns how many bytes were newly compressed into ``pages``.

    Runs inside the caller's transaction when there is one (the storage batch), so an article and its
    pages are committed together.
    """
    if not captures:
        return 0
    conn = db.conn
    digests_of = [(capture, article_fetched_at, capture.sha256) for capture, article_fetched_at in captures]
    bodies = {digest: capture.body for capture, _, digest in digests_of}
    known: set[str] = set()
    digests = list(bodies)
    for start in range(0, len(digests), 500):
        chunk = digests[start : start + 500]
        placeholders = ", ".join("?" * len(chunk))
        known.update(
            row[0]
            for row in conn.execute(f"SELECT sha256 FROM pages WHERE sha256 IN ({placeholders})", chunk)
        )
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    new_blobs = [
        (digest, len(body), compressor.compress(body))
        for digest, body in bodies.items()
        if digest not in known
    ]
    with write_transaction(db):
        # OR IGNORE: a `scrapy crawl` of another site (no crawl lock) may have stored the same body since.
        conn.executemany("INSERT OR IGNORE INTO pages (sha256, size, data) VALUES (?, ?, ?)", new_blobs)
        conn.executemany(
            f"INSERT OR IGNORE INTO page_captures ({', '.join(CAPTURE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(CAPTURE_COLUMNS))})",
            [
                (
                    capture.site,
                    run_id,
                    capture.kind,
                    capture.article_url,
                    article_fetched_at,
                    capture.page_number,
                    capture.url,
                    capture.final_url,
                    capture.method,
                    json.dumps(capture.request_headers, ensure_ascii=False),
                    capture.request_body,
                    capture.status,
                    json.dumps(capture.headers, ensure_ascii=False),
                    capture.fetched_at,
                    digest,
                )
                for capture, article_fetched_at, digest in digests_of
            ],
        )
    return sum(len(blob) for _, _, blob in new_blobs)


class PageKeeper:
    """Holds the pages the spider fetched (``page_fetched``) until the storage batch writes them.

    ``PORTALCRAWL_KEEP_PAGES``: ``all`` keeps article pages and listing pages, ``articles`` only
    article pages, ``off`` nothing (``from_crawler`` raises ``NotConfigured``). An article's pages wait
    for the article itself (``article_stored``), so a batch commits an article with its pages or
    neither; the pages of an article that a pipeline drops are forgotten.
    """

    def __init__(self, keep: str) -> None:
        self.keep = keep
        self.waiting_for_article: dict[str, list[PageCapture]] = {}
        self.ready: list[tuple[PageCapture, str | None]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        keep = keep_pages_setting(crawler.settings.get("PORTALCRAWL_KEEP_PAGES", "all"))
        if keep == "off":
            raise NotConfigured("PORTALCRAWL_KEEP_PAGES = off")
        keeper = cls(keep)
        crawler.signals.connect(keeper.page_fetched, signal=page_fetched)
        crawler.signals.connect(keeper.item_gone, signal=signals.item_dropped)
        crawler.signals.connect(keeper.item_gone, signal=signals.item_error)
        return keeper

    def page_fetched(self, capture: PageCapture) -> None:
        if capture.article_url is None:
            if self.keep == "all":
                self.ready.append((capture, None))
            return
        self.waiting_for_article.setdefault(capture.article_url, []).append(capture)

    def item_gone(self, item: Any) -> None:
        self.waiting_for_article.pop(getattr(item, "url", None) or "", None)

    def article_stored(self, url: str, fetched_at: str | None) -> None:
        """The article at ``url`` joined the storage batch: its pages go with it."""
        for capture in self.waiting_for_article.pop(url, []):
            self.ready.append((capture, fetched_at))

    def take(self) -> list[tuple[PageCapture, str | None]]:
        ready, self.ready = self.ready, []
        return ready


def keep_pages_setting(value: object) -> str:
    keep = str(value or "").strip().lower()
    if keep not in KEEP_PAGES_CHOICES:
        raise ValueError(
            f"PORTALCRAWL_KEEP_PAGES: expected one of {', '.join(KEEP_PAGES_CHOICES)}, got {value!r}"
        )
    return keep


# ---------------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A capture read back from the archive, its bytes decompressed."""

    id: int
    site: str
    kind: str
    article_url: str | None
    article_fetched_at: str | None
    page_number: int
    url: str
    final_url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    headers: list[tuple[str, str]]
    fetched_at: str
    sha256: str
    body: bytes


_READ_COLUMNS = ", ".join(f"c.{column}" for column in ("id", *CAPTURE_COLUMNS)) + ", p.data"


def _stored_page(row: sqlite3.Row | tuple[Any, ...], decompressor: zstandard.ZstdDecompressor) -> StoredPage:
    values = dict(zip(("id", *CAPTURE_COLUMNS, "data"), row, strict=True))
    return StoredPage(
        id=values["id"],
        site=values["site"],
        kind=values["kind"],
        article_url=values["article_url"],
        article_fetched_at=values["article_fetched_at"],
        page_number=values["page_number"],
        url=values["url"],
        final_url=values["final_url"],
        method=values["method"],
        request_headers=[(name, value) for name, value in json.loads(values["request_headers"])],
        request_body=values["request_body"] or b"",
        status=values["status"],
        headers=[(name, value) for name, value in json.loads(values["headers"])],
        fetched_at=values["fetched_at"],
        sha256=values["sha256"],
        body=decompressor.decompress(values["data"]),
    )


def iter_pages(
    db: sqlite_utils.Database, where: str = "", args: Iterable[Any] = (), order: str = "c.id"
) -> Iterator[StoredPage]:
    """Stored captures matching ``where`` (SQL over ``page_captures c``), read lazily."""
    decompressor = zstandard.ZstdDecompressor()
    sql = f"SELECT {_READ_COLUMNS} FROM page_captures c JOIN pages p ON p.sha256 = c.sha256"
    if where:
        sql += f" WHERE {where}"
    for row in db.conn.execute(f"{sql} ORDER BY {order}", list(args)):
        yield _stored_page(row, decompressor)


def article_pages(db: sqlite_utils.Database, url: str, fetched_at: str | None) -> list[StoredPage]:
    """The pages an article version was extracted from, in page order (empty when none were kept)."""
    if fetched_at is None:
        return []
    return list(
        iter_pages(
            db,
            "c.article_url = ? AND c.article_fetched_at = ? AND c.kind = 'article'",
            (url, fetched_at),
            order="c.page_number, c.id",
        )
    )


def stored_response(page: StoredPage) -> Response:
    """The page as the spider received it: the response class Scrapy picks for these headers and bytes,
    decoded with the encoding the crawl's encoding middleware chose."""
    headers = Headers()
    for name, value in page.headers:
        headers.appendlist(name.encode(HEADER_CODEC), value.encode(HEADER_CODEC))
    response_class = responsetypes.from_args(headers=headers, url=page.final_url, body=page.body)
    response = response_class(url=page.final_url, status=page.status, headers=headers, body=page.body)
    encoding = better_encoding(response)
    return response.replace(encoding=encoding) if encoding else response

"""Write the stored raw pages as a WARC 1.1 file (request, response and metadata records) with warcio."""

from __future__ import annotations

import http
from datetime import UTC, datetime
from io import BytesIO
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from portalcrawl import __version__
from portalcrawl.pages import StoredPage, iter_pages

if TYPE_CHECKING:
    import sqlite_utils

# The stored body is what Scrapy handed the spider, after HTTP decompression (and de-chunking): the
# headers that described the wire form would misdescribe it, so they are kept renamed, as pywb and
# warcio name rewritten headers.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
ORIGINAL_PREFIX = "X-Archive-Orig-"


def warc_date(fetched_at: str) -> str:
    """A stored ISO fetch time as a WARC-Date (UTC, microseconds as WARC 1.1 allows)."""
    moment = datetime.fromisoformat(fetched_at)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(moment, use_micros=True))


def response_headers(page: StoredPage) -> StatusAndHeaders:
    try:
        reason = http.HTTPStatus(page.status).phrase
    except ValueError:
        reason = ""
    headers = [
        (f"{ORIGINAL_PREFIX}{name}" if name.lower() in WIRE_HEADERS else name, value)
        for name, value in page.headers
    ]
    headers.append(("Content-Length", str(len(page.body))))
    return StatusAndHeaders(f"{page.status} {reason}".strip(), headers, protocol="HTTP/1.1")


def request_headers(page: StoredPage) -> StatusAndHeaders:
    target = urlsplit(page.final_url)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    headers = list(page.request_headers)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", target.netloc))
    return StatusAndHeaders(f"{page.method} {path}", headers, protocol="HTTP/1.1", is_http_request=True)


def metadata_fields(page: StoredPage) -> bytes:
    fields = [
        ("via", page.url),
        ("portalcrawl-site", page.site),
        ("portalcrawl-kind", page.kind),
        ("portalcrawl-article-url", page.article_url or ""),
        ("portalcrawl-page-number", str(page.page_number) if page.article_url else ""),
    ]
    return "".join(f"{name}: {value}\r\n" for name, value in fields if value).encode("utf-8")


def write_warc(
    db: sqlite_utils.Database,
    out: BinaryIO,
    *,
    filename: str = "",
    site: str | None = None,
    since: str | None = None,
) -> int:
    """Write every stored page (of ``site``, fetched on or after ``since``) as a response record with
    its request and a metadata record, gzip per record, oldest fetch first; returns the pages written.

    The response payload is the stored body byte for byte; ``WARC-Date`` is the fetch time.
    """
    conditions, args = [], []
    if site is not None:
        conditions.append("c.site = ?")
        args.append(site)
    if since is not None:
        conditions.append("c.fetched_at >= ?")
        args.append(since)
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    writer.write_record(
        writer.create_warcinfo_record(
            filename,
            {
                "software": f"portalcrawl/{__version__}",
                "format": "WARC File Format 1.1",
                "description": "Raw pages as served, exported from a portalcrawl archive",
            },
        )
    )
    count = 0
    for page in iter_pages(db, " AND ".join(conditions), args, order="c.fetched_at, c.id"):
        date = warc_date(page.fetched_at)
        response = writer.create_warc_record(
            page.final_url,
            "response",
            payload=BytesIO(page.body),
            length=len(page.body),
            http_headers=response_headers(page),
            warc_headers_dict={"WARC-Date": date},
        )
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        request = writer.create_warc_record(
            page.final_url,
            "request",
            payload=BytesIO(page.request_body),
            length=len(page.request_body),
            http_headers=request_headers(page),
            warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": response_id},
        )
        fields = metadata_fields(page)
        metadata = writer.create_warc_record(
            page.final_url,
            "metadata",
            payload=BytesIO(fields),
            length=len(fields),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Date": date, "WARC-Refers-To": response_id},
        )
        for record in (response, request, metadata):
            writer.write_record(record)
        count += 1
    return count

"""A sample-portal HTTP server on loopback: fixture portals of each CMS family, rendered on request."""

from __future__ import annotations

import argparse
import json
import math
import string
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from functools import cache
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from portalcrawl.demo import home
from portalcrawl.demo.layouts import FAMILIES, LAYOUTS, DataProxy, Layout, LinkForm

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEMO_PORTAL_DIR = Path(__file__).parent / "portal"
DEMO_CONTENT = DEMO_PORTAL_DIR / "content.json"
CHINA = ZoneInfo("Asia/Shanghai")
# The newest synthetic article is never dated after this, so dates stay plausible for the crawler.
LATEST_DATE = datetime(2026, 6, 30, 18, 0, tzinfo=CHINA)
# Strings that appear on every article page outside the body; a clean extraction contains none.
BOILERPLATE_MARKERS = (
    "网站标识码",
    "版权所有",
    "ICP备",
    "打印本页",
    "关闭窗口",
    "责任编辑",
    "当前位置",
    "分享到",
    "上一篇",
    "点击排行",
)
# Paths answered for every layout: the download scripts serving attachments and the data proxies.
DOWNLOAD_SCRIPTS = frozenset(
    script for layout in LAYOUTS.values() if (script := layout.attachments.download_script) is not None
)
DATA_PROXIES = frozenset(layout.data_proxy.path for layout in LAYOUTS.values() if layout.data_proxy)
# Stands for a listing page's number in its URL form, so that the rest can be matched literally.
NUMBER = "\x00"
PDF_BODY = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\n"


@dataclass(frozen=True)
class Content:
    """Word pools from which article ``n`` of a column is assembled deterministically."""

    places: list[str]
    actions: list[str]
    topics: list[str]
    leads: list[str]
    paragraphs: list[str]
    sources: list[str]
    authors: list[str]
    editors: list[str]
    attachments: list[str]

    @classmethod
    def load(cls, path: Path) -> Content:
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass
class Column:
    """One news column of a portal; articles are numbered 1..count, the highest is the newest."""

    name: str
    title: str
    family: str
    path: str
    count: int
    per_page: int
    encoding: str
    first_id: int
    start: datetime
    step: timedelta
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def layout(self) -> Layout:
        return LAYOUTS[self.family]

    @property
    def start_path(self) -> str:
        return self.layout.first_pages[0].format(path=self.path, col=self.col_id)

    @property
    def col_id(self) -> int:
        return int(self.options.get("col_id", 5))

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.per_page))

    def published(self, n: int) -> datetime:
        return self.start + self.step * n

    def doc_id(self, n: int) -> int:
        return self.first_id + n

    def number(self, doc_id: int) -> int | None:
        n = doc_id - self.first_id
        return n if 1 <= n <= self.count else None

    def newest_first(self, first: int, last: int) -> list[int]:
        """Article numbers at list positions ``first..last`` (1-based, newest first)."""
        return [self.count + 1 - i for i in range(first, min(last, self.count) + 1)]

    def page_articles(self, page: int) -> list[int]:
        """Article numbers on listing page ``page`` (0-based)."""
        return self.newest_first(page * self.per_page + 1, (page + 1) * self.per_page)

    def article_path(self, n: int, page: int = 1) -> str:
        return self.layout.article_path.format(
            path=self.path,
            day=self.published(n),
            doc=self.doc_id(n),
            col=self.col_id,
            page=f"-{page}" if page > 1 else "",
        )

    def attachment_paths(self, n: int) -> list[str]:
        every = int(self.options.get("attachments_every", 3))
        if not every or n % every:
            return []
        day = self.published(n)
        doc = self.doc_id(n)
        form = self.layout.attachments.path
        return [
            form.format(path=self.path, day=day, doc=doc, doc_low=doc % 10**9, i=i) for i in range(1 + n % 2)
        ]

    def page_count_of(self, n: int) -> int:
        return 2 if self.layout.splits_articles and n in self.options.get("multipage", []) else 1

    @property
    def json_list(self) -> str | None:
        """The JSON file a script-filled listing loads: option ``json``, else the family's usual name."""
        return self.options.get("json", self.layout.json_list) if self.layout.json_list else None


@dataclass(frozen=True)
class Revision:
    """How an article was edited after publication: a new title and paragraphs added to its body."""

    title: str | None = None
    paragraphs: tuple[str, ...] = ()


class Portal:
    """A portal directory: ``portal.toml`` plus the content pools its articles are generated from.

    ``portal.toml`` has ``name``, ``site_code``, optional ``content`` (a JSON file of word pools; the demo
    portal's by default) and ``[[columns]]`` with ``name``, ``family`` (a table of ``layouts.LAYOUTS``),
    ``articles``, and optionally ``title``, ``path``, ``per_page``, ``encoding`` (``gbk`` serves GBK bytes
    declared as gb2312), ``first_id`` (article ``n`` has document id ``first_id + n``), ``start`` and
    ``step_seconds`` (article ``n`` is published at ``start + n * step``), and ``[columns.options]``:
    ``col_id``, ``unit_id`` (a data proxy's), ``attachments_every``, ``multipage`` (article numbers split
    over two pages, in a layout that ``splits_articles``), ``json`` (the file of a layout's ``json_list``).
    A ``[home]`` table makes ``/`` a home page whose
    navigation links every column, among the noise of a real one (``home.HOME_NOISE``): service and
    interaction sections, a leaders' page, login, search, other sites, a headline block of articles.
    """

    def __init__(self, directory: Path, articles: int | None = None) -> None:
        config = tomllib.loads((directory / "portal.toml").read_text(encoding="utf-8"))
        self.name: str = config["name"]
        self.site_code: str = config.get("site_code", "0000000000")
        # Portals without their own word pools share the demo portal's.
        self.content = Content.load(directory / config["content"] if "content" in config else DEMO_CONTENT)
        self.columns: dict[str, Column] = {}
        for spec in config["columns"]:
            family = spec["family"]
            if family not in FAMILIES:
                raise ValueError(f"{directory}: column {spec['name']}: unknown family {family!r}")
            count = articles if articles is not None else int(spec["articles"])
            start = datetime.fromisoformat(spec.get("start", "2025-03-03T08:17:23")).replace(tzinfo=CHINA)
            step = timedelta(seconds=int(spec.get("step_seconds", 26 * 3600 + 13 * 60 + 7)))
            # Large synthetic portals squeeze their dates so that none lies in the future.
            step = min(step, (LATEST_DATE - start) / max(count, 1))
            step = timedelta(seconds=int(step.total_seconds()))
            self.columns[spec["name"]] = Column(
                name=spec["name"],
                title=spec.get("title", spec["name"]),
                family=family,
                path=spec.get("path", f"/{spec['name']}/"),
                count=count,
                per_page=int(spec.get("per_page", 15)),
                encoding=spec.get("encoding", "utf-8"),
                first_id=int(spec.get("first_id", 5661600)),
                start=start,
                step=step,
                options=dict(spec.get("options", {})),
            )
        # Revisions made since the portal was loaded, by (column name, article number).
        self.revisions: dict[tuple[str, int], Revision] = {}
        self.has_home = "home" in config

    def article(self, column: Column, n: int) -> dict[str, Any]:
        """The content of article ``n``: title, source, author, editor and body paragraphs, as revised."""
        pools = self.content
        seed = n + column.first_id
        # Pool sizes are pairwise coprime, so titles repeat only every places×actions×topics articles.
        title = (
            pools.places[seed % len(pools.places)]
            + pools.actions[seed * 7 % len(pools.actions)]
            + pools.topics[seed * 11 % len(pools.topics)]
        )
        day = column.published(n)
        lead = f"{day.month}月{day.day}日，{title}。{pools.leads[seed % len(pools.leads)]}"
        paragraphs = [lead] + [
            pools.paragraphs[(seed * 7 + 3 * i) % len(pools.paragraphs)] for i in range(2 + seed % 4)
        ]
        revision = self.revisions.get((column.name, n))
        if revision is not None:
            title = revision.title or title
            paragraphs += revision.paragraphs
        return {
            "title": title,
            "source": pools.sources[seed % len(pools.sources)],
            "author": pools.authors[seed % len(pools.authors)] if column.layout.shows_author else None,
            "editor": pools.editors[seed % len(pools.editors)],
            "paragraphs": paragraphs,
            "attachment_names": [
                pools.attachments[(seed + i) % len(pools.attachments)]
                for i in range(len(column.attachment_paths(n)))
            ],
        }


@cache
def _template(directory: str, name: str) -> string.Template:
    return string.Template((TEMPLATES_DIR / directory / name).read_text(encoding="utf-8"))


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str


def _relative(from_path: str, to_path: str) -> str:
    """``to_path`` as TRS writes links below the page's directory: ``./202601/t….html``."""
    base = from_path.rsplit("/", 1)[0] + "/"
    return "./" + to_path[len(base) :] if to_path.startswith(base) else to_path


class PortalServer:
    """Serves a portal directory over HTTP on loopback from a daemon thread; use as a context manager."""

    def __init__(
        self, portal_dir: str | Path, host: str = "127.0.0.1", port: int = 0, *, articles: int | None = None
    ) -> None:
        self.portal = Portal(Path(portal_dir), articles)
        self.host = host
        self._requested_port = port
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str, int]] = []
        self._rankings: dict[str, str] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> PortalServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._answer(b"")

            def do_HEAD(self) -> None:
                self._answer(b"", head=True)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length) if length else b"")

            def _answer(self, body: bytes, head: bool = False) -> None:
                reply = server.handle(self.command, self.path, body)
                server._record(self.command, self.path, reply.status)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if not head:
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are recorded in ``server.requests``; stderr stays quiet."""

        self._httpd = ThreadingHTTPServer((self.host, self._requested_port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="portal-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- public API ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def columns(self) -> dict[str, Column]:
        return dict(self.portal.columns)

    def start_url(self, column: str) -> str:
        return self.url(self.portal.columns[column].start_path)

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def add_articles(self, column: str, count: int) -> list[str]:
        """Publish ``count`` new articles at the top of ``column``; returns their URLs, newest first."""
        with self._lock:
            target = self.portal.columns[column]
            target.count += count
            return [self.url(target.article_path(n)) for n in target.newest_first(1, count)]

    def revise_article(
        self, column: str, n: int, *, title: str | None = None, paragraph: str | None = None
    ) -> str:
        """Edit published article ``n`` of ``column`` in place; returns its URL, which stays the same.

        From then on every page serves the revision: the article page shows ``title`` instead of its
        title (its lead paragraph, which quotes the original title, stays) and ``paragraph`` as a new
        last paragraph of its body (a multi-page article's paragraphs are split over its pages anew),
        listings and neighbours' links show the new title, and ``expected_articles`` reports it.
        Revisions accumulate: a later ``title`` replaces an earlier one, paragraphs are appended in
        order. Nothing else of the article (URL, date, source, attachments) changes.
        """
        if title is None and paragraph is None:
            raise ValueError("revise_article: give a title, a paragraph or both")
        with self._lock:
            target = self.portal.columns[column]
            if not 1 <= n <= target.count:
                raise ValueError(f"revise_article: {column} has no article {n} (1..{target.count})")
            earlier = self.portal.revisions.get((column, n), Revision())
            # A new frozen Revision replaces the old one whole, so a concurrent render sees one or the other.
            self.portal.revisions[(column, n)] = Revision(
                title=title if title is not None else earlier.title,
                paragraphs=earlier.paragraphs + ((paragraph,) if paragraph is not None else ()),
            )
            # The cached sidebar shows the oldest articles' titles.
            self._rankings.pop(column, None)
            return self.url(target.article_path(n))

    def expected_articles(self, column: str) -> list[dict[str, Any]]:
        """The field values a perfect crawl stores for every article of ``column``, newest first."""
        target = self.portal.columns[column]
        date_format, precision = target.layout.shown_date, target.layout.date_precision
        expected = []
        for n in target.newest_first(1, target.count):
            article = self.portal.article(target, n)
            shown = datetime.strptime(target.published(n).strftime(date_format), date_format)
            expected.append(
                {
                    "url": self.url(target.article_path(n)),
                    "column": column,
                    "title": article["title"],
                    "published_at": shown.replace(tzinfo=CHINA).isoformat(
                        timespec="seconds" if precision == "second" else "minutes"
                    ),
                    "date_precision": precision,
                    "source": article["source"],
                    "author": article["author"],
                    "body_first": article["paragraphs"][0][:20],
                    "body_last": article["paragraphs"][-1][-20:],
                    "attachments": [self.url(p) for p in target.attachment_paths(n)],
                    "must_not_contain": [*BOILERPLATE_MARKERS, article["editor"]],
                }
            )
        return expected

    # -- request handling ------------------------------------------------------------------------

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._requests.append((method, path, status))

    def handle(self, method: str, raw_path: str, body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        if path == "/robots.txt":
            return Reply(200, ROBOTS_TXT.encode(), "text/plain; charset=utf-8")
        if path == "/sitemap.xml":
            return self._sitemap()
        if path.endswith(".pdf") or path in DOWNLOAD_SCRIPTS:
            return self._attachment(raw_path)
        if path in DATA_PROXIES:
            form = {**query, **dict(parse_qsl(body.decode("utf-8", "replace")))}
            return self._dataproxy(path, form)
        if self.portal.has_home:
            with self._lock:
                page = home.render(self.portal, path, self.base_url)
            if page is not None:
                return Reply(200, page.encode("utf-8"), "text/html; charset=utf-8")
        with self._lock:
            for column in self.portal.columns.values():
                reply = self._column_page(column, path, query)
                if reply is not None:
                    return reply
        return self._not_found()

    def _not_found(self) -> Reply:
        page = "<html><head><title>404 页面不存在</title></head><body><p>您访问的页面不存在</p></body></html>"
        return Reply(404, page.encode(), "text/html; charset=utf-8")

    def _html(self, column: Column, page: str) -> Reply:
        charset = "gb2312" if column.encoding.lower() in ("gbk", "gb2312", "gb18030") else "utf-8"
        codec = "gbk" if charset == "gb2312" else "utf-8"
        return Reply(200, page.encode(codec), f"text/html; charset={charset}")

    def _attachment(self, raw_path: str) -> Reply:
        with self._lock:
            served = any(self._owns_attachment(column, raw_path) for column in self.portal.columns.values())
        return Reply(200, PDF_BODY, "application/pdf") if served else self._not_found()

    @staticmethod
    def _owns_attachment(column: Column, raw_path: str) -> bool:
        """Whether ``raw_path`` is an attachment of an article of ``column``, found from its id in O(1)."""
        name = raw_path.rsplit("/", 1)[-1].rsplit("=", 1)[-1].removesuffix(".pdf")
        doc_id = column.layout.attachments.document_id(name, column.first_id)
        n = None if doc_id is None else column.number(doc_id)
        return n is not None and raw_path in column.attachment_paths(n)

    def _column_page(self, column: Column, path: str, query: dict[str, str]) -> Reply | None:
        listing_page = self._listing_page_number(column, path, query)
        if listing_page is not None:
            if not 0 <= listing_page < column.pages:
                return self._not_found()
            return self._listing(column, listing_page)
        if column.json_list and path == f"{column.path}{column.json_list}":
            return self._json_list(column)
        return self._article_page(column, path, query)

    def _listing_page_number(self, column: Column, path: str, query: dict[str, str]) -> int | None:
        """The 0-based listing page ``path`` names in ``column``, or None when it is no listing page.

        A page number the column's URLs cannot have (``index_1.shtml`` of a 1-based TRS pager) is -1.
        """
        layout = column.layout
        if path in {first.format(path=column.path, col=column.col_id) for first in layout.first_pages}:
            return 0
        if layout.later_pages is None:
            return None
        form = layout.later_pages.format(path=column.path, col=column.col_id, number=NUMBER)
        script, _, query_form = form.partition("?")
        if query_form:
            if path != script:
                return None
            number = query.get(query_form.partition("=")[0], str(layout.first_number))
            return int(number) - layout.first_number if number.isdigit() else -1
        prefix, _, suffix = form.partition(NUMBER)
        number_in_path = _number_between(path, prefix, suffix)
        if number_in_path is None:
            return None
        page = number_in_path - layout.first_number
        return page if page > 0 or layout.numbers_first_page else -1

    def _article_page(self, column: Column, path: str, query: dict[str, str]) -> Reply | None:
        id_query = column.layout.article_id_query
        requested = path + (f"?{id_query}={query.get(id_query)}" if id_query else "")
        for n, page in self._article_candidates(column, path, query):
            if column.article_path(n, page) == requested:
                return self._html(column, self._render_article(column, n, page))
        return None

    def _article_candidates(
        self, column: Column, path: str, query: dict[str, str]
    ) -> Iterator[tuple[int, int]]:
        id_query = column.layout.article_id_query
        if id_query:
            digits = query.get(id_query, "")
            page = 1
        else:
            stem = path.rsplit("/", 1)[-1].split(".", maxsplit=1)[0]
            tail = stem.rsplit("_", 1)[-1] if "_" in stem else stem
            pieces = tail.split("-")
            digits = next((p for p in pieces if p.isdigit()), "")
            page = (
                int(pieces[-1])
                if column.layout.splits_articles and len(pieces) == 3 and pieces[-1].isdigit()
                else 1
            )
        if digits.isdigit():
            n = column.number(int(digits))
            if n is not None and page <= column.page_count_of(n):
                yield n, page

    # -- listings --------------------------------------------------------------------------------

    def _listing_link(self, column: Column, page_path: str, target_path: str) -> str:
        """A link to ``target_path`` as the family's listing writes it."""
        return self._written_link(column.layout.listing_links, page_path, target_path)

    def _written_link(self, form: LinkForm, page_path: str, target_path: str) -> str:
        """``target_path`` as a page at ``page_path`` writes a link to it in ``form``."""
        if form is LinkForm.RELATIVE:
            return _relative(page_path, target_path)
        if form is LinkForm.ABSOLUTE:
            return self.url(target_path)
        if form is LinkForm.FILE_NAME:
            return target_path.rsplit("/", 1)[-1]
        return target_path

    def _listing_items(self, column: Column, page: int, page_path: str) -> str:
        item = _template(column.layout.templates, "listing_item.html")
        date_format = "%Y-%m-%d"
        rows = []
        for n in column.page_articles(page):
            article = self.portal.article(column, n)
            rows.append(
                item.substitute(
                    href=escape(self._listing_link(column, page_path, column.article_path(n))),
                    title=escape(article["title"]),
                    short_title=escape(_shorten(article["title"])),
                    date=column.published(n).strftime(date_format),
                )
            )
        if page == 0:
            rows.extend(item.substitute(**trap) for trap in self._traps(column, page_path))
        return "\n".join(rows)

    def _traps(self, column: Column, page_path: str, *, escaped: bool = True) -> list[dict[str, str]]:
        """Links every crawl must handle: duplicates, a dead link, off-site, a document, robots-disallowed."""
        newest = column.page_articles(0)
        if not newest:
            return []
        first = column.article_path(newest[0])
        second = column.article_path(newest[min(1, len(newest) - 1)])
        first_title = self.portal.article(column, newest[0])["title"]
        dead = column.article_path(0)
        day = column.published(newest[0]).strftime("%Y-%m-%d")
        offsite = f"http://127.0.0.2:{self.port}{first}"
        document = column.attachment_paths(3) or [f"/uploads/{column.name}/notice.pdf"]
        links = [
            (self.url(first), first_title),
            (self._listing_link(column, page_path, second) + "#comments", first_title + "（评论）"),
            (self._listing_link(column, page_path, dead), "已撤稿的文章"),
            (offsite, "外站转载：" + first_title),
            (document[0], "附件：重点工作任务分解表.pdf"),
            (f"/private/{column.name}/draft_{column.first_id}.html", "内部草稿"),
        ]
        quote = escape if escaped else str
        return [
            {"href": quote(href), "title": quote(title), "short_title": quote(_shorten(title)), "date": day}
            for href, title in links
        ]

    def _listing(self, column: Column, page: int) -> Reply:
        if column.layout.feed:
            return self._rss(column)
        page_path = self._listing_path(column, page)
        values = self._page_values(column)
        values.update(
            items=self._listing_items(column, page, page_path) if _has_item_template(column.layout) else "",
            page_count=str(column.pages),
            current=str(page),
            current_1=str(page + 1),
            total=str(column.count),
            pager=self._pager(column, page),
            col_id=str(column.col_id),
        )
        if column.json_list:
            values["json_name"] = column.json_list
        if column.layout.data_proxy is not None:
            values.update(self._datastore_values(column, column.layout.data_proxy))
        return self._html(column, _template(column.layout.templates, "listing.html").substitute(values))

    def _listing_path(self, column: Column, page: int) -> str:
        layout = column.layout
        if page == 0 or layout.later_pages is None:
            return column.start_path
        return layout.later_pages.format(
            path=column.path, col=column.col_id, number=page + layout.first_number
        )

    def _pager(self, column: Column, page: int) -> str:
        """Static pager links for families that write them into the page (TRS pages use script)."""
        pager = column.layout.pager
        if pager is None:
            return ""
        links = []
        last = column.pages - 1
        page_path = self._listing_path(column, page)

        def link(target: int, label: str) -> str:
            href = self._written_link(pager.links, page_path, self._listing_path(column, target))
            return f'<a href="{escape(href)}">{label}</a>'

        links.append(link(0, "首页"))
        if page > 0:
            links.append(link(page - 1, "上一页"))
        if pager.numbered:
            for target in range(max(0, page - 3), min(last, page + 3) + 1):
                links.append(
                    f"<strong>{target + 1}</strong>" if target == page else link(target, str(target + 1))
                )
        if page < last:
            links.append(link(page + 1, "下一页"))
        links.append(link(last, "尾页"))
        return " ".join(links)

    def _datastore_values(self, column: Column, proxy: DataProxy) -> dict[str, str]:
        """The listing's inline <datastore> and the parameters of its data-proxy requests (Hanweb)."""
        unit = int(column.options.get("unit_id", column.col_id + 1000))
        record = _template(column.layout.templates, "record.html")
        traps = "\n".join(
            f"<record><![CDATA[\n{record.substitute(trap)}\n]]></record>"
            for trap in self._traps(column, column.start_path)
        )
        records = self._datastore_records(column, 1, proxy.inline_records) + "\n" + traps
        return {
            "proxy": proxy.path,
            "unit_id": str(unit),
            "records": records,
            "total": str(column.count),
            "web_name": self.portal.name,
        }

    def _datastore_records(self, column: Column, first: int, last: int) -> str:
        record = _template(column.layout.templates, "record.html")
        rows = []
        for n in column.newest_first(first, last):
            article = self.portal.article(column, n)
            rows.append(
                "<record><![CDATA[\n"
                + record.substitute(
                    href=column.article_path(n),
                    title=escape(article["title"]),
                    date=column.published(n).strftime("%Y-%m-%d"),
                )
                + "\n]]></record>"
            )
        return "\n".join(rows)

    def _dataproxy(self, path: str, form: dict[str, str]) -> Reply:
        with self._lock:
            column, proxy = next(
                (
                    (c, served)
                    for c in self.portal.columns.values()
                    if (served := c.layout.data_proxy) is not None
                    and served.path == path
                    and str(c.col_id) == form.get("columnid", "")
                ),
                (None, None),
            )
            if (
                column is None
                or proxy is None
                or not form.get("startrecord", "").isdigit()
                or not form.get("endrecord", "").isdigit()
            ):
                return Reply(400, b"bad request", "text/plain; charset=utf-8")
            start = int(form["startrecord"])
            end = int(form["endrecord"])
            # Real installs answer a later group with one extra leading row: the previous group's last.
            records = self._datastore_records(column, max(1, start - 1), end)
            total = column.count
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
            f"<totalrecord>{total}</totalrecord>\n"
            f"<totalpage>{math.ceil(total / proxy.per_page)}</totalpage>\n"
            f"<recordset>\n{records}\n</recordset>\n</datastore>\n"
        )
        return Reply(200, xml.encode(), "text/xml; charset=utf-8")

    def _json_list(self, column: Column) -> Reply:
        """The JSON list a gov.cn listing page's script renders (traps included)."""
        rows = [
            {
                "TITLE": self.portal.article(column, n)["title"],
                "SUB_TITLE": "",
                "URL": self.url(column.article_path(n)),
                "DOCRELPUBTIME": column.published(n).strftime("%Y-%m-%d"),
            }
            for n in column.newest_first(1, column.count)
        ]
        rows.extend(
            {"TITLE": trap["title"], "SUB_TITLE": "", "URL": trap["href"], "DOCRELPUBTIME": trap["date"]}
            for trap in self._traps(column, column.start_path, escaped=False)
        )
        return Reply(200, json.dumps(rows, ensure_ascii=False).encode(), "application/json; charset=utf-8")

    def _rss(self, column: Column) -> Reply:
        items = _template(column.layout.templates, "item.xml")
        rows = [
            items.substitute(
                link=escape(self.url(column.article_path(n))),
                title=escape(self.portal.article(column, n)["title"]),
                pub_date=format_datetime(column.published(n)),
            )
            for n in column.page_articles(0)
        ]
        rows.extend(
            items.substitute(
                link=trap["href"], title=trap["title"], pub_date=format_datetime(column.published(1))
            )
            for trap in self._traps(column, column.start_path)
        )
        values = self._page_values(column)
        values["items"] = "\n".join(rows)
        values["link"] = escape(self.url(column.start_path))
        feed = _template(column.layout.templates, "listing.xml").substitute(values)
        return Reply(200, feed.encode(), "application/rss+xml; charset=utf-8")

    def _sitemap(self) -> Reply:
        with self._lock:
            urls = [
                f"<url><loc>{escape(self.url(c.article_path(n)))}</loc><lastmod>{c.published(n):%Y-%m-%d}</lastmod></url>"
                for c in self.portal.columns.values()
                if c.layout.in_sitemap
                for n in c.newest_first(1, c.count)
            ]
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(urls)
            + "\n</urlset>\n"
        )
        return Reply(200, xml.encode(), "application/xml; charset=utf-8")

    # -- articles --------------------------------------------------------------------------------

    def _page_values(self, column: Column) -> dict[str, str]:
        return {
            "site_name": escape(self.portal.name),
            "site_code": escape(self.portal.site_code),
            "column_title": escape(column.title),
            "column_path": escape(column.start_path),
            "ranking": self._ranking(column),
        }

    def _ranking(self, column: Column) -> str:
        """Sidebar 点击排行: the five oldest articles, linked from every page of the column."""
        # The five oldest articles never change, so each column's full sidebar is rendered once.
        if column.name in self._rankings:
            return self._rankings[column.name]
        rows = []
        for n in range(1, min(column.count, 5) + 1):
            title = escape(_shorten(self.portal.article(column, n)["title"]))
            rows.append(f'<li><a href="{escape(column.article_path(n))}" target="_blank">{title}</a></li>')
        ranking = "\n".join(rows)
        if column.count >= 5:
            self._rankings[column.name] = ranking
        return ranking

    def _render_article(self, column: Column, n: int, page: int) -> str:
        article = self.portal.article(column, n)
        published = column.published(n)
        date_format = column.layout.shown_date
        paragraphs = article["paragraphs"]
        page_total = column.page_count_of(n)
        if page_total > 1:
            half = math.ceil(len(paragraphs) / 2)
            paragraphs = paragraphs[:half] if page == 1 else paragraphs[half:]
        is_last_page = page == page_total
        body = "\n".join(f'<p style="text-indent: 2em;">{escape(p)}</p>' for p in paragraphs)
        author = article["author"]
        if column.layout.author_in_body and is_last_page and author:
            body = body[: -len("</p>")] + f"({escape(author)})</p>"
        path = column.article_path(n, page)
        attachment_links = ""
        if is_last_page:
            attachment_links = "\n".join(
                self._attachment_link(column, path, target, name)
                for target, name in zip(column.attachment_paths(n), article["attachment_names"], strict=True)
            )
        neighbours = {
            "prev_href": escape(column.article_path(n - 1)) if n > 1 else "javascript:void(0)",
            "prev_title": escape(self.portal.article(column, n - 1)["title"]) if n > 1 else "没有了",
            "next_href": escape(column.article_path(n + 1)) if n < column.count else "javascript:void(0)",
            "next_title": escape(self.portal.article(column, n + 1)["title"])
            if n < column.count
            else "没有了",
        }
        values = self._page_values(column)
        values.update(neighbours)
        values.update(
            title=escape(article["title"]),
            shown_date=published.strftime(date_format),
            shown_minute=published.strftime("%Y-%m-%d %H:%M"),
            meta_date=published.strftime(
                "%Y-%m-%d %H:%M" if "%S" not in date_format else "%Y-%m-%d %H:%M:%S"
            ),
            firstpublished=published.strftime("%Y-%m-%d-%H:%M:%S"),
            source=escape(article["source"]),
            author=escape(author or ""),
            editor=escape(article["editor"]),
            body=body,
            attachments=attachment_links,
            doc_id=str(column.doc_id(n)),
            pages=self._article_pager(column, n, page, page_total),
            keywords=escape(article["title"][:8]),
            description=escape(paragraphs[0][:60]),
            views=str(100 + n * 37 % 900),
        )
        return _template(column.layout.templates, "article.html").substitute(values)

    def _attachment_link(self, column: Column, page_path: str, target: str, name: str) -> str:
        form = column.layout.attachments
        href = self._written_link(form.link_form, page_path, target)
        return form.link.format(href=escape(href), target=escape(target), name=escape(name))

    def _article_pager(self, column: Column, n: int, page: int, total: int) -> str:
        if total == 1:
            return ""
        links = []
        for target in range(1, total + 1):
            href = self.url(column.article_path(n, target))
            links.append(f"<strong>{target}</strong>" if target == page else f'<a href="{href}">{target}</a>')
        if page < total:
            links.append(f'<a href="{self.url(column.article_path(n, page + 1))}">下一页</a>')
        return f'<div class="pages">{" ".join(links)}</div>'


def _has_item_template(layout: Layout) -> bool:
    return (TEMPLATES_DIR / layout.templates / "listing_item.html").exists()


def _number_between(path: str, prefix: str, suffix: str) -> int | None:
    if path.startswith(prefix) and path.endswith(suffix):
        middle = path[len(prefix) : len(path) - len(suffix)]
        if middle.isdigit():
            return int(middle)
    return None


def _shorten(title: str, limit: int = 16) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a sample portal on 127.0.0.1.")
    parser.add_argument("portal_dir", nargs="?", default=str(DEMO_PORTAL_DIR))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--articles", type=int, default=None, help="articles per column (overrides portal.toml)"
    )
    args = parser.parse_args(argv)
    with PortalServer(args.portal_dir, port=args.port, articles=args.articles) as server:
        # The first line is machine-readable: benchmarks and the demo read the base URL from it.
        print(server.base_url, flush=True)
        for name, column in server.columns.items():
            print(f"{name}\t{column.family}\t{server.url(column.start_path)}", flush=True)
        threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

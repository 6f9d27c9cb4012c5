"""How each CMS family lays out a column on the sample portal: one ``Layout`` table per family.

The tables are the oracle the crawler is tested against, so they are written from the families' real
pages and share nothing with ``portalcrawl.extract`` (``tests/test_portal_server.py`` checks the imports).
URL templates are ``str.format`` strings over the column's fields: ``path`` (the column's directory),
``col`` (its column id), ``number`` (a listing page's number in its URL), ``day`` (the publication
time), ``doc`` (the document id), ``page`` (``-N`` on page N > 1 of a split article) and, in attachment
paths, ``doc_low`` (the document id's last nine digits) and ``i`` (the file's index). A template with
a query string (``list.jsp?page={number}``, ``detail.jsp?id={doc}``) names its number in that parameter.
Adding a family to the sample portal is adding one table here and its ``templates/<family>/`` pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Literal


class LinkForm(Enum):
    """How a page writes a link to another page of its site."""

    RELATIVE = "relative"  # below the page's own directory: ./202601/t20260116_1.html (TRS)
    ROOT = "root"  # from the site root: /a/news/2025/0701/101.html
    ABSOLUTE = "absolute"  # with scheme and host: http://host/news/show-123.html (DESTOON)
    FILE_NAME = "file_name"  # the bare file name, for a page in the same directory: list_5_2.html


@dataclass(frozen=True)
class Pager:
    """A pager written into the listing page as links (首页 上一页 [1 2 3] 下一页 尾页)."""

    links: LinkForm
    numbered: bool  # numbered links to the pages around the current one


@dataclass(frozen=True)
class AttachmentForm:
    """Where an article's attached files live, how the article links them, and the way back to it."""

    path: str  # fields path, day, doc, doc_low, i
    link: str  # one file's paragraph; fields href (written as ``link_form``), target, name
    link_form: LinkForm
    # The document id a file name carries, or None; ``first_id`` restores digits the name leaves out.
    document_id: Callable[[str, int], int | None]

    @property
    def download_script(self) -> str | None:
        """The path of the script that serves every file by its query (Hanweb's downfile.jsp), if any."""
        script, query = self.path.split("?", 1) if "?" in self.path else (self.path, "")
        return script if query else None


@dataclass(frozen=True)
class DataProxy:
    """Hanweb's ``dataproxy.jsp``: the first records come inline, later groups answer a POST."""

    path: str
    inline_records: int = 45  # records the listing page itself carries in its <datastore>
    per_page: int = 15  # records the page's script shows per screen (the <totalpage> count)


def _trs_document_id(name: str, first_id: int) -> int | None:
    # P0 + YYYYMMDD + the id's last nine digits + a three-digit index.
    digits = name[10:19]
    return int(digits) + first_id // 10**9 * 10**9 if digits.isdigit() else None


def _hanweb_document_id(name: str, first_id: int) -> int | None:
    # 24 hex digits of the id + 8 of the index.
    if len(name) != 32 or any(c not in "0123456789abcdef" for c in name):
        return None
    return int(name[:24], 16)


def _upload_document_id(name: str, first_id: int) -> int | None:
    # {doc}_{i}
    digits = name.split("_", 1)[0]
    return int(digits) if digits.isdigit() else None


# TRS WCM: P0…pdf beside the article, linked relative with the appendix attributes TRS writes.
TRS_APPENDIX = AttachmentForm(
    path="{path}{day:%Y%m}/P0{day:%Y%m%d}{doc_low:09d}{i:03d}.pdf",
    link='<p><a href="{href}" appendix="true" OLDSRC="/protect{target}" download="{name}" title="{name}">'
    "{name}</a></p>",
    link_form=LinkForm.RELATIVE,
    document_id=_trs_document_id,
)
# Hanweb: every file from one download script, named by hex id and index.
HANWEB_DOWNFILE = AttachmentForm(
    path="/module/download/downfile.jsp?classid=0&filename={doc:024x}{i:08x}.pdf",
    link='<p>附件：<a href="{href}" target="_blank">{name}</a></p>',
    link_form=LinkForm.ROOT,
    document_id=_hanweb_document_id,
)
# The rest: an /uploads/ directory per month, linked from the site root.
UPLOADS = AttachmentForm(
    path="/uploads/{day:%Y%m}/{doc}_{i}.pdf",
    link='<p>附件：<a href="{href}" target="_blank">{name}</a></p>',
    link_form=LinkForm.ROOT,
    document_id=_upload_document_id,
)


@dataclass(frozen=True)
class Layout:
    """One family's column layout: its URLs, listing page, article page and attachments."""

    templates: str  # directory under templates/ holding listing.html, article.html (and item pieces)
    shown_date: str  # strftime of the publication time the article page shows
    date_precision: Literal["second", "minute"]  # what that time (or a finer meta time) states
    first_pages: tuple[str, ...]  # every path naming the first listing page; the start URL first
    article_path: str  # a query-string form (detail.jsp?id={doc}) names the id in that parameter
    later_pages: str | None = None  # listing page N > 1 (field number); None: one listing page
    first_number: int = 1  # the number ``later_pages`` gives the first page
    numbers_first_page: bool = True  # ``later_pages`` with ``first_number`` also serves the first page
    listing_links: LinkForm = LinkForm.ROOT
    pager: Pager | None = None  # None: no pager links (script-built, or a single page)
    attachments: AttachmentForm = UPLOADS
    shows_author: bool = False
    author_in_body: bool = False  # the author in brackets closes the last paragraph: …。(张三)
    splits_articles: bool = False  # articles listed in the column's ``multipage`` option span two pages
    data_proxy: DataProxy | None = None  # listing records served by a data proxy
    json_list: str | None = None  # listing filled by script from this JSON file (option ``json``)
    feed: bool = False  # the listing is an RSS feed (templates listing.xml and item.xml)
    in_sitemap: bool = False  # /sitemap.xml lists the column's articles

    @property
    def article_id_query(self) -> str | None:
        """The query parameter holding the document id, when articles are addressed by query string."""
        query = self.article_path.partition("?")[2]
        return query.split("=", 1)[0] if query else None


# TRS WCM, 0-based createPageHTML: index.html, index_1.html …; ./YYYYMM/tYYYYMMDD_N.html articles.
TRS = Layout(
    templates="trs",
    shown_date="%Y-%m-%d %H:%M:%S",
    date_precision="second",
    first_pages=("{path}", "{path}index.html"),
    later_pages="{path}index_{number}.html",
    first_number=0,
    article_path="{path}{day:%Y%m}/t{day:%Y%m%d}_{doc}.html",
    listing_links=LinkForm.RELATIVE,
    attachments=TRS_APPENDIX,
)
# A customised TRS helper counting from 1: index.shtml, index_2.shtml … (there is no index_1.shtml).
TRS_1BASED = Layout(
    templates="trs-1based",
    shown_date="%Y-%m-%d %H:%M",
    date_precision="minute",
    first_pages=("{path}index.shtml", "{path}"),
    later_pages="{path}index_{number}.shtml",
    numbers_first_page=False,
    article_path="{path}{day:%Y%m}/t{day:%Y%m%d}_{doc}.shtml",
    listing_links=LinkForm.RELATIVE,
    pager=Pager(LinkForm.FILE_NAME, numbered=False),
    attachments=TRS_APPENDIX,
)
# Hanweb (大汉) JCMS: /col/colN/index.html carries the first records, a data proxy the rest.
HANWEB = Layout(
    templates="hanweb",
    shown_date="%Y-%m-%d %H:%M",
    date_precision="minute",
    first_pages=("/col/col{col}/index.html", "/col/col{col}/"),
    article_path="/art/{day.year}/{day.month}/{day.day}/art_{col}_{doc}.html",
    attachments=HANWEB_DOWNFILE,
    data_proxy=DataProxy("/module/web/jpage/dataproxy.jsp"),
)
# An older Hanweb install: the same pages, the data proxy without /web/.
HANWEB_OLD = replace(HANWEB, data_proxy=DataProxy("/module/jpage/dataproxy.jsp"))
# DedeCMS: list_{typeid}_N.html pages, /YYYY/MMDD/N.html articles.
DEDECMS = Layout(
    templates="dedecms",
    shown_date="%Y-%m-%d %H:%M",
    date_precision="minute",
    first_pages=("{path}", "{path}index.html"),
    later_pages="{path}list_{col}_{number}.html",
    article_path="{path}{day:%Y}/{day:%m%d}/{doc}.html",
    pager=Pager(LinkForm.FILE_NAME, numbered=True),
    shows_author=True,
)
# DESTOON: list-{catid}.html, list-{catid}-N.html; show-N.html articles, show-N-2.html their second page.
DESTOON = Layout(
    templates="destoon",
    shown_date="%Y-%m-%d %H:%M:%S",
    date_precision="second",
    first_pages=("{path}list-{col}.html",),
    later_pages="{path}list-{col}-{number}.html",
    article_path="{path}show-{doc}{page}.html",
    listing_links=LinkForm.ABSOLUTE,
    pager=Pager(LinkForm.ABSOLUTE, numbered=True),
    shows_author=True,
    author_in_body=True,
    splits_articles=True,
)
# gov.cn: an empty list filled by script from a JSON file beside home.htm; content_N.htm articles.
GOVCN = Layout(
    templates="govcn",
    # The page shows minutes but meta firstpublishedtime states seconds, which is the date of record.
    shown_date="%Y-%m-%d %H:%M:%S",
    date_precision="second",
    first_pages=("{path}home.htm", "{path}"),
    article_path="{path}{day:%Y%m}/content_{doc}.htm",
    json_list="LIST.json",
)
# A JSP site paged by query string: list.jsp?page=N, detail.jsp?id=N.
QUERY = Layout(
    templates="query",
    shown_date="%Y年%m月%d日 %H:%M",
    date_precision="minute",
    # list.jsp without a page parameter is the first page too: the query form's default number.
    first_pages=("{path}list.jsp?page=1",),
    later_pages="{path}list.jsp?page={number}",
    article_path="{path}detail.jsp?id={doc}",
    pager=Pager(LinkForm.ROOT, numbered=True),
    shows_author=True,
)
# A static site with numbered pages: index.html, 2.html, 3.html …
NUMBERED = Layout(
    templates="numbered",
    shown_date="%Y-%m-%d %H:%M",
    date_precision="minute",
    first_pages=("{path}index.html", "{path}"),
    later_pages="{path}{number}.html",
    article_path="{path}{day:%Y}/{day:%m%d}/{doc}.html",
    listing_links=LinkForm.RELATIVE,
    pager=Pager(LinkForm.FILE_NAME, numbered=True),
    shows_author=True,
)
# A column published as an RSS feed, every article also in /sitemap.xml.
RSS = Layout(
    templates="rss",
    shown_date="%Y-%m-%d %H:%M:%S",
    date_precision="second",
    first_pages=("{path}news.xml",),
    article_path="{path}{doc}.html",
    shows_author=True,
    feed=True,
    in_sitemap=True,
)

LAYOUTS: dict[str, Layout] = {
    "trs": TRS,
    "trs-1based": TRS_1BASED,
    "hanweb": HANWEB,
    "hanweb-old": HANWEB_OLD,
    "dedecms": DEDECMS,
    "destoon": DESTOON,
    "govcn": GOVCN,
    "query": QUERY,
    "numbered": NUMBERED,
    "rss": RSS,
}
FAMILIES = tuple(LAYOUTS)

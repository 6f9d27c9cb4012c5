"""CMS families as modules of data: each module complete, its tables read alike by detection, listings,
URL dates and attachments, and its name accepted by profiles."""

from __future__ import annotations

import pkgutil
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from portalcrawl.extract import families
from portalcrawl.extract.attachments import document_url
from portalcrawl.extract.dates import date_from_url
from portalcrawl.extract.documents import DOCUMENT_EXTENSIONS, DOCUMENT_URL
from portalcrawl.extract.families import FAMILIES, MODULES, Family, detect_family, generic
from portalcrawl.extract.listing import ARTICLE_URL_PATTERNS, NAVIGATION_URL, extract_listing
from portalcrawl.profiles import load_profile_file
from tests.conftest import CrawlRunner
from tests.pageserver import PageServer, article_page, listing_page

SELECTOR = re.compile(r"^[#.][\w-]+$")
GENERIC_TABLES = (
    "EXAMPLES",
    "ARTICLE_URLS",
    "COLUMN_URLS",
    "URL_DATES",
    "URL_MONTHS",
    "BODY",
    "DOWNLOAD_HANDLERS",
)


def test_every_module_of_the_package_is_a_registered_family_or_the_generic_tables() -> None:
    found = {module.name for module in pkgutil.iter_modules(families.__path__)}
    registered = {module.__name__.rpartition(".")[2] for module in MODULES}
    assert found == registered | {"generic"}
    assert [family.name for family in FAMILIES] == [module.NAME for module in MODULES]
    assert all(hasattr(generic, table) for table in GENERIC_TABLES)


def test_a_family_module_becomes_a_family_and_one_lacking_a_table_is_refused() -> None:
    module = types.ModuleType("portalcrawl.extract.families.newcms")
    for table in families.TABLES:
        setattr(module, table, ())
    module.NAME, module.EXAMPLES, module.BODY = "newcms", {"http://x.cn/n/1.html": None}, ("#body",)
    family = Family.from_module(module)
    assert (family.name, family.body, family.data_requests) == ("newcms", ("#body",), None)
    module.script_feeds = lambda scripts, base: [base + "feed.json"]
    assert Family.from_module(module).script_feeds is module.script_feeds
    # The registered hooks are the modules' own functions.
    assert (families.hanweb.data_requests,) == families.DATA_REQUESTS
    assert (families.govcn.script_feeds,) == families.SCRIPT_FEEDS
    del module.URL_DATES
    with pytest.raises(TypeError, match="newcms lacks URL_DATES"):
        Family.from_module(module)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.name)
def test_tables_are_well_formed(family: Family) -> None:
    assert family.examples, "a family shows the article URLs it makes"
    # Detection lower-cases the page's ASCII before looking for them.
    assert all(f == f.lower() for f in family.html_fingerprints)
    assert all(SELECTOR.match(s) for s in (*family.body, *family.title))
    for pattern in (
        *family.url_fingerprints,
        *family.article_urls,
        *family.column_urls,
        *family.download_handlers,
    ):
        re.compile(pattern)
    assert all({"y", "m", "d"} <= set(re.compile(p).groupindex) for p in family.url_dates)


def examples() -> Iterator[tuple[str, str, str | None]]:
    for family in FAMILIES:
        for url, day in family.examples.items():
            yield family.name, url, day
    for url, day in generic.EXAMPLES.items():
        yield "generic", url, day


@pytest.mark.parametrize(("name", "url", "day"), list(examples()))
def test_detection_listing_and_dates_agree_on_each_example(name: str, url: str, day: str | None) -> None:
    family = families.FAMILIES_BY_NAME.get(name)
    # Only the family itself claims its URL (or none, for one known by its article links only).
    detected = detect_family(b"", url)
    assert detected is (family if family and family.url_fingerprints else None)
    assert ARTICLE_URL_PATTERNS.search(url)
    parsed = date_from_url(url)
    assert (parsed.isoformat() if parsed else None) == day


@pytest.mark.parametrize(
    "tables",
    [*FAMILIES, generic],
    ids=lambda tables: getattr(tables, "name", "generic"),
)
def test_every_url_pattern_is_shown_by_an_example(tables: Any) -> None:
    if isinstance(tables, Family):
        urls, patterns = list(tables.examples), [*tables.url_fingerprints, *tables.article_urls]
        date_patterns = list(tables.url_dates)
    else:
        urls, patterns = list(tables.EXAMPLES), list(tables.ARTICLE_URLS)
        date_patterns = list(tables.URL_DATES)
    for pattern in patterns:
        assert any(re.search(pattern, url, re.IGNORECASE) for url in urls), pattern
    for pattern in date_patterns:
        assert any(re.search(pattern, url) for url in urls), pattern


def test_a_month_directory_dates_an_example_to_its_month() -> None:
    months = [day for _, _, day in examples() if day and len(day) == 7]
    assert months, "an example shows the month form"


def test_the_shared_tables_hold_each_family_entry_before_the_generic_ones() -> None:
    trs, hanweb = families.FAMILIES_BY_NAME["trs"], families.FAMILIES_BY_NAME["hanweb"]
    assert set(trs.article_urls) | set(hanweb.article_urls) <= set(families.ARTICLE_URLS)
    assert families.URL_DATES[-len(generic.URL_DATES) :] == generic.URL_DATES
    assert families.DOWNLOAD_HANDLERS[-len(generic.DOWNLOAD_HANDLERS) :] == generic.DOWNLOAD_HANDLERS


def test_page_fingerprints_and_the_profile_decide_detection() -> None:
    page = '<html><body><div class="TRS_Editor">正文</div></body></html>'
    assert detect_family(page, "http://x.cn/a.html") is families.FAMILIES_BY_NAME["trs"]
    assert detect_family(page, "http://x.cn/a.html", hint="hanweb-old") is families.FAMILIES_BY_NAME["hanweb"]
    # An earlier family's fingerprint wins: gov.cn pages embed TRS editor markup.
    both = '<div id="UCAP-CONTENT"><div class="TRS_Editor">正文</div></div>'
    assert detect_family(both, "http://x.cn/a.html") is families.FAMILIES_BY_NAME["govcn"]
    assert detect_family("<html><body>plain</body></html>", "http://x.cn/a.html") is None


@pytest.mark.parametrize(
    "url",
    [
        "http://fgw.zj.gov.cn/col/col1621004/index.html",  # Hanweb
        "https://n.netease.com/forum-9-1.html",  # Discuz
        "http://www.example.gov.cn/xwzx/list_2.html",
        "http://www.example.gov.cn/xwzx/list.php?page=2",
    ],
)
def test_column_urls_are_navigation_not_articles(url: str) -> None:
    assert NAVIGATION_URL.search(url) and not ARTICLE_URL_PATTERNS.search(url)


def test_hanweb_download_handler_is_a_document_without_an_extension() -> None:
    base = "http://fgw.zj.gov.cn/art/2016/11/22/art_1621004_30332664.html"
    handler = "/module/download/downfile.jsp?classid=0&id=5"
    assert document_url(handler, base) == "http://fgw.zj.gov.cn" + handler


@pytest.mark.parametrize("extension", sorted(DOCUMENT_EXTENSIONS))
def test_one_list_of_document_extensions_for_listings_and_attachments(extension: str) -> None:
    url = f"http://x.gov.cn/upload/P020260116.{extension.upper()}"
    assert DOCUMENT_URL.search(url)
    assert document_url(url, "http://x.gov.cn/a.html") == url


@pytest.mark.parametrize("name", families.FAMILY_NAMES)
def test_profiles_accept_every_registered_family(name: str, tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(f'name = "x"\nstart_urls = ["https://www.example.gov.cn/"]\ncms = "{name}"\n')
    assert load_profile_file(path).cms == name


def test_listed_documents_of_every_extension_are_never_fetched_as_articles(
    tmp_path: Path, run_crawl: CrawlRunner
) -> None:
    """A listing that links an .rtf, .7z, .txt, .ceb or .dps file beside its articles (the listing's
    list once knew fewer extensions than the attachments': these were requested as article pages)."""
    site = PageServer().start()
    try:
        documents = [
            f"/xwzx/202601/P02026011{n}.{ext}" for n, ext in enumerate(("rtf", "7z", "txt", "ceb", "dps"))
        ]
        articles = [("/xwzx/202601/t20260116_1.html", "市政府召开城市更新工作推进会议", "2026-01-16")]
        articles.append(("/xwzx/202601/t20260117_2.html", "全市安全生产工作会议召开", "2026-01-17"))
        listed = [
            *articles,
            *((path, f"附件{n}：工作任务分解表", "2026-01-15") for n, path in enumerate(documents)),
        ]
        site.html("/xwzx/index.html", listing_page(listed))
        for path, title, _ in articles:
            site.html(path, article_page(title))
        for path in documents:
            site.pages[path] = (200, "application/octet-stream", b"\x00document")
        db = tmp_path / "portalcrawl.db"
        result = run_crawl(["-a", f"url={site.base}/xwzx/index.html"], db)
        assert result.returncode == 0, result.stderr[-2000:]
        requested = {path.partition("?")[0] for path in site.requests}
    finally:
        site.stop()
    assert requested.isdisjoint(documents)
    with sqlite_utils.Database(db) as archive:
        stored = {row["url"].removeprefix(site.base) for row in archive["articles"].rows}
        skipped = archive["skipped_urls"].count
    assert stored == {path for path, _, _ in articles}
    assert skipped == 0


def test_a_listing_of_destoon_rewritten_links_is_not_mistaken_for_a_script_filled_one() -> None:
    """A static list beside a script that names a JSON file is dropped for the feed only when none of
    its links is an article URL: DESTOON's show-htm-itemid-N.html rewrite was one detection knew and
    listings did not."""
    rows = [
        (f"/news/show-htm-itemid-{n}.html", f"本市召开第{n}次产业发展推进会议", "2026-01-16")
        for n in (1, 2, 3)
    ]
    page = listing_page(rows, extra='<script>var feed = "/news/hot.json";</script>')
    listing = extract_listing(page, "http://www.example.com/news/")
    assert listing.article_links == [
        f"http://www.example.com/news/show-htm-itemid-{n}.html" for n in (1, 2, 3)
    ]
    assert listing.child_listings == []


@pytest.mark.parametrize(
    ("script", "url", "page_2"),
    [
        # The literal call spells out name and extension.
        ("createPageHTML(5, 0, 'index', 'shtml');", "http://a.gov.cn/xwdt/", "index_1.shtml"),
        ("createPageHTML('page_div', 5, 0, 'index', 'htm');", "http://a.gov.cn/xwdt/", "index_1.htm"),
        # Only the variables an external pager script reads: the column page's own extension.
        ("var countPage = 5; var currentPage = 0;", "http://a.gov.cn/xwdt/index.shtml", "index_1.shtml"),
    ],
)
def test_a_family_pager_hook_pages_a_column_whatever_its_detected_family(
    script: str, url: str, page_2: str
) -> None:
    # No TRS fingerprint and a URL of no family: the hooks are asked for every listing.
    html = (
        "<html><body><ul>"
        + "".join(f'<li><a href="./202601/t2026011{i}_{i}.html">公告{i}</a></li>' for i in range(5))
        + f"</ul><script>{script}</script></body></html>"
    )
    assert detect_family(html.replace("createPageHTML", ""), url) is None
    assert extract_listing(html, url).next_pages[0] == url.rsplit("/", 1)[0] + "/" + page_2

"""TRS WCM (拓尔思), behind most provincial and city portals: ``<YYYYMM>/t<YYYYMMDD>_<id>.html`` articles."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from portalcrawl.extract.pager_scripts import PageSequence

NAME = "trs"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {"http://www.beijing.gov.cn/ywdt/gzdt/202601/t20260116_5661632.html": "2026-01-16"}
HTML_FINGERPRINTS = ("trs_editor", "trs_ueditor", "custom_unionstyle", "createpagehtml(")
URL_FINGERPRINTS = (r"/t20\d{6}_\d+\.s?html?$",)
ARTICLE_URLS = (r"/t20\d{6}_\d+\.s?html?$",)
# t20260116_5661632: the day the document was created, case-insensitive (T20260116_… is seen too).
URL_DATES = (r"(?i:(?<![0-9a-z])t)(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})_\d+",)
COLUMN_URLS = ()
BODY = (".TRS_Editor", ".TRS_UEDITOR", ".Custom_UnionStyle", "#zoom", ".view")
TITLE = ()
# Attachments are plain links to ./P0<date><id>.pdf; the ``oldsrc`` beside them is never read.
DOWNLOAD_HANDLERS = ()

# Its column pages are static files index.html, index_1.html … that a script pager links:
# createPageHTML(count, current, 'index', 'html'), or its 6-argument form with a div id first.
CREATE_PAGE_HTML = re.compile(
    r"createPageHTML\(\s*(?:['\"][^'\"]*['\"]\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]"
)
# ``\bvar`` written as ``var(?<=\bvar)``: a pattern opening with a literal is searched for that literal,
# one opening with ``\b`` is tried at every position of the scripts (~40 µs a KB).
COUNT_PAGE = re.compile(r"var(?<=\bvar)\s+countPage\s*=\s*['\"]?(\d+)")
CURRENT_PAGE = re.compile(r"var(?<=\bvar)\s+currentPage\s*=\s*['\"]?(\d+)")
PAGE_EXTENSION = re.compile(r"\.(s?html?)$")


def pager_call(scripts: str) -> PageSequence | None:
    """The sequence a literal ``createPageHTML(…)`` call in a column page's ``scripts`` spells out."""
    match = CREATE_PAGE_HTML.search(scripts)
    if match is None:
        return None
    return PageSequence(count=int(match[1]), current=int(match[2]), name=match[3], extension=match[4])


def pager_variables(scripts: str, url: str) -> PageSequence | None:
    """The sequence ``var countPage = N; var currentPage = M`` announce, for the pager an external
    script writes: pages ``index_N`` with the column page's own extension (the script may say better,
    which the pager reader then prefers)."""
    count, current = COUNT_PAGE.search(scripts), CURRENT_PAGE.search(scripts)
    if not (count and current):
        return None
    extension = PAGE_EXTENSION.search(urlsplit(url).path)
    return PageSequence(
        count=int(count[1]),
        current=int(current[1]),
        name="index",
        extension=extension[1] if extension else "html",
    )

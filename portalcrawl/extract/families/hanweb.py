"""Hanweb JCMS (大汉): ``art/<Y>/<M>/<D>/art_<col>_<id>.html`` articles, lists paged by dataproxy POSTs."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

from portalcrawl.extract.listing_request import ListingRequest

NAME = "hanweb"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {
    "http://fgw.zj.gov.cn/art/2016/11/22/art_1621004_30332664.html": "2016-11-22",
    # jpaas sites
    "https://www.zj.gov.cn/art/2024/art_0f3c2a5b8e9d4c1a9b7e6d5c4b3a2f10.html": None,
}
HTML_FINGERPRINTS = ("zjeg_rss.content", "/module/download/downfile.jsp", "/module/web/jpage/", "大汉网络")
URL_FINGERPRINTS = (r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html", r"/art/\d{4}/art_[0-9a-f]{32}")
ARTICLE_URLS = (r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html?$", r"/art/\d{4}/art_[0-9a-f]{32}\.html?$")
URL_DATES = (r"/art/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})/",)
COLUMN_URLS = (r"/col/col\d+/(?:index\.html)?$",)
BODY = ("#zoom", ".bt-content", ".article-content")
TITLE = (".sp_title",)
# /module/download/downfile.jsp?classid=0&filename=<stored name>: the file by id, its name in the query.
DOWNLOAD_HANDLERS = (r"/module/download/downfile\.jsp$",)

# A column's articles come as <record><![CDATA[<li>…</li>]]></record>, inline in the page (the first
# group) and in the dataproxy.jsp answers for the further groups.
RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL | re.IGNORECASE)
TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>|totalRecord\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)
PARAM = re.compile(r"var\s+param_\d+\s*=\s*\{(.*?)\}", re.DOTALL)
# The fields of ``var param_N = {…}`` that the dataproxy expects back in its form.
PARAM_FIELDS = (
    "col",
    "appid",
    "webid",
    "path",
    "columnid",
    "sourceContentType",
    "unitid",
    "webname",
    "permissiontype",
)
PROXY = re.compile(r"(/module/(?:web/)?jpage/dataproxy\.jsp)")
# Records per dataproxy answer, and per page of the portal's own pager.
GROUP = 45
PER_PAGE = 15
MAX_GROUPS = 200


def is_data_answer(head: str) -> bool:
    """Whether a response, by its first characters lower-cased, is a dataproxy answer, not a page."""
    return "<html" not in head and ("<datastore" in head or "<recordset" in head or "<record>" in head)


def listed_records(text: str) -> list[str]:
    """The HTML fragments, one per listed article, that a page or a dataproxy answer carries."""
    return RECORD.findall(text)


def data_requests(text: str, base: str, url: str) -> list[ListingRequest]:
    """Dataproxy POSTs for the record groups after the first, built from ``var param_N = {…}``."""
    # The proxy path first: it is rare and quick to rule out, the other two patterns scan slowly.
    proxy = PROXY.search(text)
    params = proxy and PARAM.search(text)
    total_match = params and TOTAL.search(text)
    if not (proxy and params and total_match):
        return []
    form: dict[str, str] = {}
    for name in PARAM_FIELDS:
        value = re.search(rf"\b{name}\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([\w.-]+))", params.group(1))
        if value:
            form[name] = next(v for v in value.groups() if v is not None)
    total = int(total_match.group(1) or total_match.group(2))
    endpoint = urljoin(base, proxy.group(1))
    headers = {"X-Requested-With": "XMLHttpRequest", "Referer": url}
    requests = []
    for start in range(GROUP + 1, total + 1, GROUP)[:MAX_GROUPS]:
        query = urlencode({"startrecord": start, "endrecord": start + GROUP - 1, "perpage": PER_PAGE})
        requests.append(ListingRequest("POST", f"{endpoint}?{query}", dict(form), dict(headers)))
    return requests

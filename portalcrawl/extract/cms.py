"""CMS families as data: fingerprints to recognise a page's platform and selectors for its fields."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lxml import etree

from portalcrawl.extract.content import PageIndex


@dataclass(frozen=True)
class CmsFamily:
    """One platform: how to recognise it and where its article fields live.

    ``html_fingerprints`` are lower-case substrings of the page; selectors are ``#id`` or ``.class``
    (looked up in the page index, first selector that matches wins).
    """

    name: str
    html_fingerprints: tuple[str, ...]
    url_fingerprints: tuple[re.Pattern[str], ...]
    body: tuple[str, ...]
    title: tuple[str, ...] = ()

    @property
    def encoded_fingerprints(self) -> tuple[bytes, ...]:
        return _encoded(self.html_fingerprints)


@functools.cache
def _encoded(fingerprints: tuple[str, ...]) -> tuple[bytes, ...]:
    return tuple(f.encode("utf-8") for f in fingerprints)


def _patterns(*expressions: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(e, re.IGNORECASE) for e in expressions)


FAMILIES: tuple[CmsFamily, ...] = (
    CmsFamily(
        name="govcn",
        html_fingerprints=('id="ucap-content"', 'name="firstpublishedtime"', "pages_content"),
        url_fingerprints=_patterns(r"\.gov\.cn/.*content_\d+\.html?$"),
        body=("#UCAP-CONTENT", ".pages_content"),
        title=(".share-title",),
    ),
    CmsFamily(
        name="hanweb",
        html_fingerprints=(
            "zjeg_rss.content",
            "/module/download/downfile.jsp",
            "/module/web/jpage/",
            "大汉网络",
        ),
        url_fingerprints=_patterns(
            r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html", r"/art/\d{4}/art_[0-9a-f]{32}"
        ),
        body=("#zoom", ".bt-content", ".article-content"),
        title=(".sp_title",),
    ),
    CmsFamily(
        name="trs",
        html_fingerprints=("trs_editor", "trs_ueditor", "custom_unionstyle", "createpagehtml("),
        url_fingerprints=_patterns(r"/t20\d{6}_\d+\.s?html?$"),
        body=(".TRS_Editor", ".TRS_UEDITOR", ".Custom_UnionStyle", "#zoom", ".view"),
    ),
    CmsFamily(
        name="jiyuehua",
        html_fingerprints=("政府网站集约化", 'id="fontzoom"'),
        url_fingerprints=_patterns(r"/\d{6}/[0-9a-f]{32}\.shtml$", r"/c\d+/\d{6}/[0-9a-f]{32}\.shtml$"),
        body=("#fontzoom", "#zoom", ".tyxlContent", "#zoomcon"),
    ),
    CmsFamily(
        name="dedecms",
        html_fingerprints=("/plus/count.php?view=yes", "dedecms", "/plus/view.php"),
        url_fingerprints=_patterns(r"/a/[\w/]+/\d+\.html$", r"/plus/view\.php\?aid="),
        body=(".conTxt", ".content", "#content"),
    ),
    CmsFamily(
        name="phpcms",
        html_fingerprints=("phpcms", "api.php?op=count"),
        url_fingerprints=_patterns(r"m=content&c=index&a=show", r"/(?:show|content)-\d+-\d+-\d+\.html$"),
        body=("#Article", "#content", ".content"),
    ),
    CmsFamily(
        name="empirecms",
        html_fingerprints=("/e/public/", "empirecms", "/e/action/"),
        url_fingerprints=_patterns(r"/e/action/ShowInfo\.php", r"showinfo-\d+-\d+-\d+\.html$"),
        body=("#text", ".content"),
    ),
    CmsFamily(
        name="destoon",
        html_fingerprints=("powered by destoon", "destoon"),
        url_fingerprints=_patterns(
            r"show\.php\?itemid=\d+", r"show-htm-itemid-\d+", r"/show-\d+(?:-\d+)?\.html$"
        ),
        body=("#article", "#content", ".content"),
        title=("#title",),
    ),
)

FAMILIES_BY_NAME = {family.name: family for family in FAMILIES}
FAMILY_NAMES = tuple(FAMILIES_BY_NAME)

# Body containers common across platforms, tried when the family's own selectors find nothing.
GENERIC_BODY = (
    "#UCAP-CONTENT",
    ".pages_content",
    "#zoom",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    ".Custom_UnionStyle",
    "#fontzoom",
    ".bt-content",
    ".article-content",
    ".article_con",
    ".art_con",
    "#zoomcon",
    ".tyxlContent",
    ".conTxt",
    ".rich_media_content",
)


def family_named(name: str) -> CmsFamily | None:
    """The family a profile's ``cms`` names; variants (hanweb-old, trs-1based) share its article layout."""
    label = name.strip().lower()
    return FAMILIES_BY_NAME.get(label) or FAMILIES_BY_NAME.get(label.split("-")[0])


def detect_family(page_html: str | bytes, url: str, hint: str | None = None) -> CmsFamily | None:
    """The platform named by the profile, else the first family whose fingerprint matches the page (its
    text or its UTF-8 bytes, which are searched far faster) or URL."""
    if hint:
        named = family_named(hint)
        if named:
            return named
    if isinstance(page_html, str):
        page_html = page_html.encode("utf-8", "replace")
    # Fingerprints are ASCII or caseless CJK, so lower-casing the ASCII bytes is enough.
    lowered = page_html.lower()
    for family in FAMILIES:
        if any(p.search(url) for p in family.url_fingerprints) or any(
            f in lowered for f in family.encoded_fingerprints
        ):
            return family
    return None


def first_match(index: PageIndex, selectors: tuple[str, ...]) -> list[etree._Element]:
    """Elements of the first selector that matches anything, outermost only (TRS nests its own classes)."""
    for selector in selectors:
        table = index.by_id if selector.startswith("#") else index.by_class
        elements = table.get(selector[1:], [])
        if elements:
            outermost = set(elements)
            return [e for e in elements if not any(a in outermost for a in e.iterancestors())]
    return []

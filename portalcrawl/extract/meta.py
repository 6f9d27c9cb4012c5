"""Stage 1: the 政府网站发展指引 (国办发〔2017〕47号) ``<meta>`` set and gov.cn's own publication tags."""

from __future__ import annotations

from lxml import etree

# Lower-cased names kept in ``Article.gov_meta``: the guideline's site/column/article groups plus the
# tags gov.cn and other central sites use instead (firstpublishedtime, lanmu, publishdate…).
GOV_META_NAMES = frozenset(
    (
        "sitename",
        "sitedomain",
        "siteidcode",
        "columnname",
        "columndescription",
        "columnkeywords",
        "columntype",
        "articletitle",
        "pubdate",
        "contentsource",
        "keywords",
        "author",
        "description",
        "image",
        "url",
        "firstpublishedtime",
        "lastmodifiedtime",
        "publishdate",
        "lanmu",
        "catalog",
        "manuscriptid",
    )
)
# Publication-time tags in order of trust; lastmodifiedtime is deliberately absent.
PUBLISHED_NAMES = ("pubdate", "firstpublishedtime", "publishdate")


def read_meta(tree: etree._Element) -> dict[str, str]:
    """Every named ``<meta>`` of the page, keys lower-cased (first occurrence wins)."""
    values: dict[str, str] = {}
    # iter() filters tags in C; an XPath with attribute predicates costs several times more per page.
    for element in tree.iter("meta"):
        key = element.get("name") or element.get("property") or element.get("itemprop") or ""
        content = (element.get("content") or "").strip()
        key = key.strip().lower()
        if key and content and key not in values:
            values[key] = content
    return values


def gov_meta(all_meta: dict[str, str]) -> dict[str, str]:
    """The government-site subset of the page's meta tags."""
    return {name: value for name, value in all_meta.items() if name in GOV_META_NAMES}


def published_candidate(meta: dict[str, str]) -> str | None:
    for name in PUBLISHED_NAMES:
        if meta.get(name):
            return meta[name]
    return None

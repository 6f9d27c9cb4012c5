"""Find a portal's news columns from a home or column page, and preview what each would archive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from portalcrawl.extract import families
from portalcrawl.extract.article import extract_article, parse_tree
from portalcrawl.extract.documents import DOCUMENT_URL
from portalcrawl.extract.listing import extract_listing
from portalcrawl.fetch import Fetcher, Page
from portalcrawl.items import Article
from portalcrawl.link_patterns import common_shape, link_shape
from portalcrawl.profiles import SLUG_PATTERN
from portalcrawl.urls import canonical_url, is_fetchable_url

# Words of news column names (栏目) on gov and regional portals.
NEWS_WORDS = (
    "要闻", "新闻", "动态", "资讯", "聚焦", "快讯", "通知", "公告", "公示", "政策", "文件", "解读",
    "时政", "头条", "播报", "发布", "简报", "通报", "热点", "传真", "工作", "信息", "媒体",
)  # fmt: skip
# Words of everything else a portal links: services, interaction, people, tools, other sites.
NOISE_WORDS = (
    "登录", "注册", "无障碍", "地图", "联系", "关于", "english", "搜索", "办事", "服务", "互动",
    "信箱", "留言", "投诉", "下载", "领导", "机构", "概况", "简介", "首页", "主页", "导航", "帮助",
    "收藏", "旧版", "手机", "微信", "微博", "app", "邮箱", "热线", "信息公开", "政务公开", "更多",
    "视频", "专题", "调查", "访谈", "在线", "查询", "指南", "纠错", "rss", "订阅", "上一页", "下一页",
    "末页", "尾页", "声明", "隐私", "版权",
)  # fmt: skip
# A column's name is a short label; a headline is longer.
MAX_NAME_CHARS = 10
# Pages fetched to find columns, at most: candidates with a news word first.
MAX_CANDIDATES = 30
# A news column's first listing page shows at least this many articles.
MIN_ARTICLES = 3
# A page whose listed articles are mostly on other columns' lists is a section page (新闻中心).
SECTION_SHARE = 0.6
ROOT_PATHS = ("", "/", "/index.html", "/index.htm", "/index.shtml", "/default.htm", "/default.html")
# An article link, not a column: a file below a dated directory, a CMS article name (TRS t<date>_<id>,
# Hanweb art_<col>_<id>, gov.cn content_<id>, show-<id>, detail), or a file named by a long number.
# Column ids (Hanweb col1621004, CFDA CL1129) are no article ids.
_ARTICLE_LIKE = re.compile(
    r"/(?:19|20)\d{2}(?:[-_/]?\d{1,4})?/(?:[^/]+/)*[^/]+\.[a-z]+$"
    r"|/t\d{8}_\d+|/art_\d+_\d+|content_\d+|show[-_/]\d+|detail|/article[-_/]|/\d{5,}\.[a-z]+$"
)


@dataclass
class ColumnPreview:
    """One candidate column: its listing page, what page 1 shows and what one article gives."""

    name: str
    listing_url: str
    article_links: list[str] = field(default_factory=list)
    pager: list[str] = field(default_factory=list)
    article: Article | None = None
    cms: str | None = None
    article_url_pattern: str | None = None
    rejected: str | None = None

    @property
    def is_news(self) -> bool:
        return self.rejected is None


@dataclass
class Discovery:
    site_name: str
    host: str
    columns: list[ColumnPreview]
    # Links that might have been columns but were not examined (MAX_CANDIDATES).
    unexamined: int = 0


def _meta_or_title(page: Page, meta_name: str, title_part: int) -> str:
    """The content of ``<meta name=meta_name>`` (the gov guideline's names), else a part of the title."""
    tree = parse_tree(page.text)
    for meta in tree.iter("meta"):
        content = " ".join((meta.get("content") or "").split())
        if (meta.get("name") or "").lower() == meta_name and content:
            return content
    # The first title only: a feed also has one per item.
    first = next(tree.iter("title"), None)
    title = " ".join("".join(first.itertext()).split()) if first is not None else ""
    return re.split(r"[_|\-–—]", title)[title_part].strip()


def page_site_name(page: Page) -> str:
    """The portal's name: its SiteName meta, else the last part of the title (``栏目_网站``)."""
    return _meta_or_title(page, "sitename", -1) or urlsplit(page.final_url).hostname or ""


def candidate_columns(page: Page, hosts: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, URL) of the page's links that may be columns, those with a news word in their name first."""
    tree = parse_tree(page.text)
    names: dict[str, str] = {}
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        # Image buttons in menus carry their name only in the title attribute.
        name = " ".join("".join(anchor.itertext()).split()) or " ".join((anchor.get("title") or "").split())
        url = urljoin(page.final_url, href) if href else ""
        if not _may_be_column(name, url, hosts):
            continue
        key = canonical_url(url)
        # The shortest label of a URL linked several times (navigation, side menu, block heading).
        if key not in names or len(name) < len(names[key]):
            names[key] = name
    ranked = sorted(names.items(), key=lambda item: not any(w in item[1] for w in NEWS_WORDS))
    return [(name, url) for url, name in ranked]


def _may_be_column(name: str, url: str, hosts: tuple[str, ...]) -> bool:
    if not name or len(name) > MAX_NAME_CHARS or not is_fetchable_url(url, hosts):
        return False
    lowered = name.lower()
    if any(word in lowered for word in NOISE_WORDS):
        return False
    path = urlsplit(url).path
    return path not in ROOT_PATHS and not DOCUMENT_URL.search(url) and not _ARTICLE_LIKE.search(path)


def own_column_name(page: Page) -> str:
    """The name a column page gives itself: its ColumnName meta, else the first part of the title."""
    return _meta_or_title(page, "columnname", 0)


def preview_column(
    name: str, listing: Page, fetcher: Fetcher, hosts: tuple[str, ...], *, now: datetime, columns: set[str]
) -> ColumnPreview:
    """Read a listing page and its first article; ``rejected`` says why it is no news column."""
    preview = ColumnPreview(name, listing.final_url)
    found = extract_listing(listing.text, listing.final_url)
    links = _listed_articles(found.article_links, hosts)
    preview.pager = [*found.next_pages, *(request.url for request in found.requests)]
    loaded = found.child_listings or found.next_pages
    if len(links) < MIN_ARTICLES and loaded:
        # A page that only loads its list (gov.cn's LIST.json): the spider reads that next, so do we.
        data = fetcher.fetch(loaded[0])
        if data.ok:
            links += _listed_articles(extract_listing(data.text, data.final_url).article_links, hosts)
    preview.article_links = list(dict.fromkeys(links))
    if len(preview.article_links) < MIN_ARTICLES:
        preview.rejected = f"{len(preview.article_links)} article links on its first page"
        return preview
    more = _more_links(listing)
    if len(more) >= 2:
        preview.rejected = f"a section page: it links {len(more)} columns' 更多 pages"
        return preview
    shape = common_shape(preview.article_links)
    if shape and link_shape(listing.final_url) == shape[0]:
        # An article page listing its siblings (related news, 上一篇/下一篇) is no column.
        preview.rejected = "an article: its URL has the shape of the articles it links"
        return preview
    preview.article_url_pattern = _needed_pattern(preview.article_links, columns)
    candidates = preview.article_links
    if preview.article_url_pattern:
        pattern = re.compile(preview.article_url_pattern)
        candidates = [link for link in candidates if pattern.search(link)]
    for link in candidates[:2]:
        page = fetcher.fetch(link)
        if not page.ok:
            preview.rejected = f"its article {link}: {page.problem}"
            continue
        article = extract_article(page.text, page.final_url, fetched_at=now)
        family = families.detect_family(page.text, page.final_url)
        preview.article, preview.cms = article, family.name if family else None
        if not article.title or not article.body_text:
            preview.rejected = f"its article {link} has no title or no text"
        elif not (article.published_at or article.published_raw):
            preview.rejected = f"its article {link} shows no date (not a news item)"
        else:
            preview.rejected = None
            break
    return preview


def _more_links(page: Page) -> set[str]:
    """The distinct targets of a page's 更多 ("more") links: sections and home pages have one per block."""
    targets = set()
    for anchor in parse_tree(page.text).iter("a"):
        text = "".join(anchor.itertext()).strip().lower()
        if (text.startswith("更多") or text.startswith("more")) and anchor.get("href"):
            targets.add(canonical_url(urljoin(page.final_url, anchor.get("href") or "")))
    return targets


def _listed_articles(links: list[str], hosts: tuple[str, ...]) -> list[str]:
    """The listed links the spider would fetch as articles: on the portal's hosts, no documents."""
    return [
        canonical_url(link)
        for link in links
        if is_fetchable_url(link, hosts) and not DOCUMENT_URL.search(link)
    ]


def _needed_pattern(links: list[str], columns: set[str]) -> str | None:
    """The article links' shape, when the list also holds links to columns or listing pages.

    Without such links every listed link is an article and no pattern is needed (one could only lose
    articles whose URLs differ).
    """
    strays = [link for link in links if link in columns or _looks_like_listing(link)]
    if not strays:
        return None
    articles = [link for link in links if link not in strays]
    shape = common_shape(articles, share=0.9)
    return shape[0] if shape else None


def _looks_like_listing(url: str) -> bool:
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    return path.endswith("/") or last.startswith(("index", "list", "default"))


def discover(
    url: str, fetcher: Fetcher, *, now: datetime, progress: Callable[[str], None] | None = None
) -> tuple[Discovery | None, str | None]:
    """The news columns reachable from ``url`` (a home or a column page), or None and the problem.

    ``progress`` is told the name and URL of each candidate before it is fetched.
    """
    start = fetcher.fetch(url)
    if not start.ok:
        return None, f"{url}: {start.problem}"
    hosts = fetcher.policy.hosts
    every_candidate = candidate_columns(start, hosts)
    candidates = every_candidate[:MAX_CANDIDATES]
    keys = {canonical_url(url) for _, url in candidates} | {canonical_url(start.final_url)}
    previews: list[ColumnPreview] = []
    seen: set[str] = set()
    # A column page given as the URL is a column itself; a home page's own list mixes every column.
    if urlsplit(start.final_url).path not in ROOT_PATHS:
        own = preview_column(own_column_name(start), start, fetcher, hosts, now=now, columns=keys)
        previews.append(own)
        seen.add(canonical_url(own.listing_url))
    for name, candidate in candidates:
        if canonical_url(candidate) in seen:
            continue
        if progress is not None:
            progress(f"{name} {candidate}")
        page = fetcher.fetch(candidate)
        seen.add(canonical_url(candidate))
        if not page.ok:
            previews.append(ColumnPreview(name, candidate, rejected=page.problem))
            continue
        if canonical_url(page.final_url) in seen - {canonical_url(candidate)}:
            continue
        previews.append(preview_column(name, page, fetcher, hosts, now=now, columns=keys))
    reject_sections(previews)
    host = urlsplit(start.final_url).hostname or ""
    unexamined = len(every_candidate) - len(candidates)
    return Discovery(page_site_name(start), host, previews, unexamined), None


def reject_sections(previews: list[ColumnPreview]) -> None:
    """Reject section pages (新闻中心) without 更多 links: pages whose list is other columns' items.

    A section shows a few items of each of several columns, none of which explains most of its list;
    columns that share items (one story in 要闻 and in 部门动态) are kept.
    """
    news = [p for p in previews if p.is_news]
    for preview in news:
        links = set(preview.article_links)
        sources = [p for p in news if p is not preview and links & set(p.article_links)]
        overlaps = [links & set(p.article_links) for p in sources]
        shared = len(set().union(*overlaps))
        # Mostly one other column's items is a column sharing stories, not a section.
        one_column = max((len(overlap) for overlap in overlaps), default=0) >= SECTION_SHARE * len(links)
        if len(sources) >= 2 and shared >= SECTION_SHARE * len(links) and not one_column:
            where = f"{len(sources)} other columns' lists"
            preview.rejected = f"a section page: {shared} of its {len(links)} articles are on {where}"


def column_slug(host: str, listing_url: str, taken: set[str], prefix: str | None = None) -> str:
    """A profile slug from the host and the column's path: ``example-xwzx-jrjj``, unique among ``taken``."""
    base = prefix or _host_part(host)
    segments = [s for s in urlsplit(listing_url).path.split("/") if s]
    meaningful = [s for s in segments if not s.lower().startswith(("index", "default", "home."))]
    column = "-".join(meaningful[-2:]) if meaningful else ""
    column = re.sub(r"\.[a-z]+$", "", column.lower())
    slug = re.sub(r"[^a-z0-9_.-]+", "-", f"{base}-{column}" if column else base).strip("-.") or "site"
    if not SLUG_PATTERN.match(slug):
        slug = f"site-{slug}"
    unique, n = slug, 2
    while unique in taken:
        unique, n = f"{slug}-{n}", n + 1
    return unique


def _host_part(host: str) -> str:
    labels = [
        label for label in host.lower().split(".") if label not in ("www", "gov", "cn", "com", "net", "org")
    ]
    return "-".join(labels) or host.replace(".", "-")


def profile_toml(name: str, preview: ColumnPreview) -> str:
    """The profile file ``sites add`` writes for a column."""
    lines = [
        f"# Written by `portalcrawl sites add` from {preview.listing_url}; see docs/PROFILES.md.",
        f"name = {_toml_string(name)}",
        f"start_urls = [{_toml_string(preview.listing_url)}]",
    ]
    if preview.cms:
        lines.append(f"cms = {_toml_string(preview.cms)}")
    if preview.article_url_pattern:
        pattern = preview.article_url_pattern
        # A literal string keeps the regex's backslashes as they are, unless the regex holds a quote.
        value = _toml_string(pattern) if "'" in pattern else f"'{pattern}'"
        lines.append(f"article_url_pattern = {value}")
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'

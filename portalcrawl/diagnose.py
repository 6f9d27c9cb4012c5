"""Why a profile yields nothing: one listing page and one article fetched as a crawl would, judged."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from portalcrawl.extract.article import extract_article, parse_tree
from portalcrawl.extract.documents import DOCUMENT_URL
from portalcrawl.extract.listing import Listing, extract_listing
from portalcrawl.extract.selectors import (
    ARTICLE_SELECTOR_FIELDS,
    LISTING_SELECTORS,
    profile_selectors,
    selector_matches,
)
from portalcrawl.fetch import Fetcher, Page
from portalcrawl.items import Article
from portalcrawl.link_patterns import common_shape
from portalcrawl.profiles import SiteProfile
from portalcrawl.urls import canonical_url, is_fetchable_url

OK, WARN, FAIL = "ok", "warn", "FAIL"
# More replacement characters than this in a decoded page means its encoding was not understood.
MAX_REPLACEMENT_CHARS = 20
SHOWN_LINKS = 3
# What to do about a page that could not be fetched, by Page.kind.
FETCH_HINTS = {
    "robots": "portalcrawl obeys robots.txt: ask the site to allow it, or find the column under a path "
    "robots.txt allows (an RSS feed, the 政府信息公开 copy of the column)",
    "blocked": "portalcrawl never gets past anti-bot walls: the site has to allow-list your crawler, or "
    "the column has to be read from another address that is not walled",
    "rate_limited": "the server is shedding load: try again later, or raise DOWNLOAD_DELAY",
    "refused": "start_urls and the links must stay on the portal's hosts; add the other host to "
    "allowed_domains if it belongs to the portal",
    "http": "the address is wrong or gone: open the portal's home page and copy the column's current link "
    "(`portalcrawl sites add HOME_URL` lists the columns it finds)",
    "too_large": "this is no listing or article page; check the URL",
    "network": "check the URL and that the host answers (DNS, firewall); portalcrawl waits "
    "DOWNLOAD_TIMEOUT seconds",
}


@dataclass(frozen=True)
class Finding:
    level: str
    message: str
    hint: str | None = None


@dataclass
class ChainReport:
    """One start URL followed to one article: what was found at each step."""

    start_url: str
    findings: list[Finding] = field(default_factory=list)
    article: Article | None = None

    @property
    def archives(self) -> bool:
        """Whether a crawl would store an article from this start URL (the spider's own test)."""
        return self.article is not None and bool(self.article.title or self.article.body_text)

    def add(self, level: str, message: str, hint: str | None = None) -> None:
        self.findings.append(Finding(level, message, hint))


def diagnose_profile(profile: SiteProfile, fetcher: Fetcher, *, now: datetime) -> list[ChainReport]:
    return [diagnose_start_url(profile, url, fetcher, now=now) for url in profile.start_urls]


def diagnose_start_url(
    profile: SiteProfile, start_url: str, fetcher: Fetcher, *, now: datetime
) -> ChainReport:
    report = ChainReport(start_url)
    page = _fetched(report, fetcher, start_url, "listing page")
    if page is None:
        return report
    listing = extract_listing(page.text, page.final_url, profile=profile)
    _check_listing_selectors(report, profile, page)
    loaded = listing.child_listings or listing.next_pages
    if not listing.article_links and loaded:
        # A page that only loads its list (gov.cn's LIST.json): the spider reads that next, so do we.
        data = _fetched(report, fetcher, loaded[0], "list data")
        if data is None:
            return report
        listing = extract_listing(data.text, data.final_url, profile=profile)
    links = _article_links(report, profile, listing)
    _check_pager(report, listing, len(links))
    if not links:
        return report
    article_page = _fetched(report, fetcher, links[0], "article page")
    if article_page is None:
        return report
    article = extract_article(article_page.text, article_page.final_url, fetched_at=now, profile=profile)
    report.article = article
    _check_article(report, profile, article_page, article)
    return report


def _fetched(report: ChainReport, fetcher: Fetcher, url: str, what: str) -> Page | None:
    page = fetcher.fetch(url)
    if not page.ok:
        report.add(FAIL, f"{what} {url}: {page.problem}", FETCH_HINTS.get(page.kind or ""))
        return None
    moved = f" (redirected to {page.final_url})" if page.final_url != url else ""
    report.add(OK, f"{what} {url}{moved}: HTTP {page.status}, {len(page.body)} bytes")
    _check_encoding(report, page)
    return page


def _check_encoding(report: ChainReport, page: Page) -> None:
    replaced = page.text.count("\ufffd")
    encoding = page.encoding or "unknown"
    if replaced > MAX_REPLACEMENT_CHARS:
        report.add(
            FAIL,
            f"encoding: the page does not decode cleanly as {encoding} ({replaced} undecodable characters)",
            "the page's bytes match neither its HTTP charset nor its <meta charset>: save it and run "
            "`portalcrawl extract FILE` to see the text portalcrawl reads",
        )
    elif page.header_charset and page.header_charset != page.encoding:
        report.add(
            WARN,
            f"encoding: the HTTP header says {page.header_charset}, but the bytes are {encoding}; "
            f"the crawl decodes them as {encoding} (EncodingSanityMiddleware), as here",
        )
    else:
        declared = "declared" if page.header_charset or b"charset" in page.body[:8192].lower() else "inferred"
        family = " (GBK/GB2312 are read as GB18030, their superset)" if encoding == "gb18030" else ""
        report.add(OK, f"encoding: {encoding}{family}, {declared}, decodes cleanly")


def _check_listing_selectors(report: ChainReport, profile: SiteProfile, page: Page) -> None:
    for name, selector in profile_selectors(profile).items():
        if name in LISTING_SELECTORS:
            _check_selector(report, name, selector, page, "listing page")


def _check_selector(report: ChainReport, name: str, selector: str, page: Page, where: str) -> int | None:
    try:
        count = selector_matches(parse_tree(page.text), selector)
    except ValueError as error:
        report.add(FAIL, f"selectors.{name}: {error}", "fix the CSS, or write XPath as 'xpath:…'")
        return None
    if count == 0:
        report.add(
            WARN,
            f"selectors.{name} {selector!r} matched nothing on the {where}",
            "open the page's source and pick an element that is there (a selector that finds nothing "
            "leaves the field to automatic extraction)",
        )
    else:
        report.add(OK, f"selectors.{name} {selector!r} matched {count} element(s) on the {where}")
    return count


def _article_links(report: ChainReport, profile: SiteProfile, listing: Listing) -> list[str]:
    """The listing's links that the spider would request as articles, as it filters them."""
    hosts = profile.domains
    candidates = [
        canonical_url(link)
        for link in listing.article_links
        if is_fetchable_url(link, hosts) and not DOCUMENT_URL.search(link)
    ]
    candidates = list(dict.fromkeys(candidates))
    if not candidates:
        report.add(
            FAIL,
            f"listing: no article links found ({len(listing.article_links)} links before the host and "
            "document filter)",
            "is this the column's list page? `portalcrawl links URL` shows what portalcrawl reads there; "
            "selectors.article_links can point at the list",
        )
        return []
    examples = ", ".join(candidates[:SHOWN_LINKS])
    if not profile.article_url_pattern:
        report.add(OK, f"listing: {len(candidates)} article links (no article_url_pattern), e.g. {examples}")
        return candidates
    pattern = re.compile(profile.article_url_pattern)
    matching = [link for link in candidates if pattern.search(link)]
    message = (
        f"listing: {len(candidates)} article links, {len(matching)} match "
        f"article_url_pattern = '{profile.article_url_pattern}'"
    )
    if matching:
        report.add(OK, message)
        return matching
    shape = common_shape(candidates)
    suggestion = (
        f"{shape[1]} of the {len(candidates)} links follow article_url_pattern = '{shape[0]}': use "
        "that, or drop article_url_pattern"
        if shape
        else "drop article_url_pattern, or write one these links match"
    )
    report.add(FAIL, f"{message}; they look like {examples}", suggestion)
    return []


def _check_pager(report: ChainReport, listing: Listing, articles: int) -> None:
    further = [*listing.next_pages, *(request.url for request in listing.requests)]
    if further:
        report.add(OK, f"pager: {len(further)} further listing page(s) found, e.g. {further[0]}")
    elif articles:
        report.add(
            WARN,
            f"pager: none found: a crawl reads only this page's {articles} articles",
            "fine for a short column; otherwise set selectors.next_page to the 下一页 link",
        )


def _check_article(report: ChainReport, profile: SiteProfile, page: Page, article: Article) -> None:
    stages = ", ".join(f"{name}={stage}" for name, stage in sorted(article.field_stages.items()))
    first_line = next((line for line in article.body_text.splitlines() if line.strip()), "")
    report.add(
        OK if article.title or article.body_text else FAIL,
        f"article: title {article.title!r}, published {article.published_at or article.published_raw!r}, "
        f"source {article.source!r}, {len(article.body_text)} characters of text: {first_line[:40]!r}",
        None if article.title or article.body_text else "no title and no text: the crawl would drop it",
    )
    report.add(OK, f"field_stages: {stages}")
    missing = [
        name
        for name, value in (
            ("title", article.title),
            ("published_at", article.published_at),
            ("body_text", article.body_text),
        )
        if not value
    ]
    if missing:
        report.add(
            WARN,
            f"article fields missing: {', '.join(missing)}",
            "set the matching selectors (title, published, body) in the profile's [selectors]",
        )
    chosen = profile_selectors(profile)
    for name, field_name in ARTICLE_SELECTOR_FIELDS.items():
        if name not in chosen:
            continue
        count = _check_selector(report, name, chosen[name], page, "article page")
        if count and article.field_stages.get(field_name) != "profile":
            report.add(
                WARN,
                f"selectors.{name} matched, but gave no {field_name}; it came from "
                f"{article.field_stages.get(field_name, 'nowhere')} instead",
            )

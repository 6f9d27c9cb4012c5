"""The one generic spider: pages a portal's listings, fetches new articles, stops where it left off."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from portalcrawl import database
from portalcrawl.extract import article as article_extraction
from portalcrawl.extract.dates import parse_date
from portalcrawl.extract.listing import DOCUMENT_URL, Listing, ListingRequest, extract_listing
from portalcrawl.extract.notfound import not_found_message
from portalcrawl.items import Article
from portalcrawl.profiles import ProfileError, SiteProfile, load_profile
from portalcrawl.signals import fetch_failed
from portalcrawl.urls import canonical_url, is_fetchable_url

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"", "0", "false", "no", "off"}
# A pager candidate that 404s may just be the wrong 0/1-based guess; two in a row is the end.
MAX_CONSECUTIVE_LISTING_FAILURES = 2
# Pages that bring no link unseen in this run: one can be a wrong-base repeat of page 1, two is the end.
MAX_STALE_LISTING_PAGES = 2
HTML_TYPES = re.compile(rb"text/html|application/xhtml|text/xml|application/xml", re.IGNORECASE)
# Answers that say a URL is gone for good: a listing pager past its end, or a withdrawn article.
GONE_STATUSES = {404, 410}
# The IgnoreRequest message of Scrapy's RobotsTxtMiddleware; the only refusal that is permanent.
ROBOTS_REFUSAL = "Forbidden by robots.txt"
# Refusals by our URL filter and block detector, which report them (fetch_failed) themselves.
SELF_REPORTED_REFUSALS = ("refused_url:", "blocked:")


@dataclass
class ListingChain:
    """The paging state of one start URL's listing in this run."""

    start_url: str
    trusted_run_id: int | None
    recheck_due: bool
    pages: int = 0
    failures: int = 0
    # Set when a listing page could not be read (not a pager's normal 404 end): the run did not see
    # the whole listing, so it must not become the run that later stops are trusted up to.
    interrupted: bool = False
    stale: int = 0
    visited: set[str] = field(default_factory=set)
    # The latest page's pager candidates, checked only when taken: a script pager lists up to 500
    # further pages on every page, and checking them all each time made paging quadratic.
    queue: list[str | ListingRequest] = field(default_factory=list)
    # Child listings (sitemaps of an index, JSON feeds) waiting to be paged once the current one ends,
    # in the order found; an ordered set, since an index may list thousands.
    branches: dict[str, None] = field(default_factory=dict)
    branch_urls: set[str] = field(default_factory=set)


def _candidate_key(candidate: str | ListingRequest) -> str:
    if isinstance(candidate, str):
        return canonical_url(candidate)
    form = "&".join(f"{k}={v}" for k, v in sorted(candidate.form.items()))
    return f"{candidate.method} {canonical_url(candidate.url)} {form}"


def _failure_status(failure: Failure) -> tuple[int | None, str]:
    """The HTTP status (of a non-2xx answer) and a one-line reason of a failed request."""
    if isinstance(failure.value, HttpError):
        status = int(failure.value.response.status)
        return status, f"HTTP {status}"
    return None, failure.getErrorMessage() or repr(failure.value)


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(
        self,
        *,
        site: str | None = None,
        url: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        full: str | bool | None = None,
        sites_dir: str | None = None,
        default_max_pages: int = 200,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile = self._profile(site, url, sites_dir)
        self.max_pages = self._max_pages(max_pages, self.profile.max_pages or default_max_pages)
        self.since = self._since(since if since is not None else self.profile.since)
        self.full = self._flag("full", full)
        self.domains = self.profile.domains
        self.allowed_domains = list(self.domains)
        self.article_url_pattern = (
            re.compile(self.profile.article_url_pattern) if self.profile.article_url_pattern else None
        )
        # The crawl_runs row and the archive name the run after the profile.
        self.site = self.profile.slug
        self.chains: dict[str, ListingChain] = {}
        self.requested_articles: set[str] = set()
        # Listing links known not to be articles that this run fetches again (full=1 or recheck).
        self.retried_skipped: set[str] = set()
        self.db: Any = None
        self.db_path = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        kwargs.setdefault("sites_dir", crawler.settings.get("PORTALCRAWL_SITES_DIR") or None)
        kwargs.setdefault("default_max_pages", crawler.settings.getint("PORTALCRAWL_MAX_PAGES", 200))
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.db_path = crawler.settings.get("PORTALCRAWL_DB_PATH", "")
        return spider

    # -- arguments -------------------------------------------------------------------------------

    @staticmethod
    def _profile(site: str | None, url: str | None, sites_dir: str | None) -> SiteProfile:
        if bool(site) == bool(url):
            raise UsageError("portal spider: give exactly one of -a site=SLUG or -a url=URL[,URL]")
        if site:
            try:
                return load_profile(site, sites_dir)
            except ProfileError as exc:
                raise UsageError(f"portal spider: {exc}") from None
        urls = [u.strip() for u in (url or "").split(",") if u.strip()]
        for start_url in urls:
            if not re.match(r"^https?://[^/\s]+", start_url):
                raise UsageError(f"portal spider: -a url: {start_url!r} is not an http(s) URL")
        if not urls:
            raise UsageError("portal spider: -a url: no URL given")
        return SiteProfile.ad_hoc(urls)

    @staticmethod
    def _max_pages(value: str | int | None, default: int) -> int:
        if value is None:
            return default
        try:
            pages = int(value)
        except ValueError:
            raise UsageError(
                f"portal spider: -a max_pages: expected a positive integer, got {value!r}"
            ) from None
        if pages < 1:
            raise UsageError(f"portal spider: -a max_pages: expected a positive integer, got {value!r}")
        return pages

    @staticmethod
    def _since(value: str | None) -> date | None:
        if value is None:
            return None
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise UsageError(f"portal spider: -a since: expected YYYY-MM-DD, got {value!r}")

    @staticmethod
    def _flag(name: str, value: str | bool | None) -> bool:
        if isinstance(value, bool):
            return value
        text = (value or "").strip().lower()
        if text in TRUE_VALUES:
            return True
        if text in FALSE_VALUES:
            return False
        raise UsageError(f"portal spider: -a {name}: expected 1 or 0, got {value!r}")

    # -- start -----------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.db_path:
            self.db = database.open_database(self.db_path)
        for start_url in self.profile.start_urls:
            chain = ListingChain(start_url, *self._listing_trust(start_url))
            self.chains[start_url] = chain
            chain.visited.add(_candidate_key(start_url))
            yield self._listing_request(chain, start_url)

    def _listing_trust(self, start_url: str) -> tuple[int | None, bool]:
        """The run up to which "all known" may stop this listing, and whether known articles are due."""
        if self.db is None:
            return None, False
        state = database.get_listing_state(self.db, self.profile.slug, start_url)
        if not state or not state.get("last_complete_run_id"):
            return None, False
        recheck_due = False
        if self.profile.recheck_days and state.get("last_complete_at"):
            completed = datetime.fromisoformat(state["last_complete_at"])
            if completed.tzinfo is None:
                completed = completed.replace(tzinfo=UTC)
            recheck_due = datetime.now(UTC) - completed >= timedelta(days=self.profile.recheck_days)
        return int(state["last_complete_run_id"]), recheck_due

    def _listing_request(self, chain: ListingChain, candidate: str | ListingRequest) -> scrapy.Request:
        meta = {"portalcrawl_chain": chain.start_url}
        # The chain asks for each page once (visited) and the URL filter guards every host: Scrapy's
        # duplicate and offsite filters would drop a redirected page without calling the errback, and
        # the chain (and the child listings waiting in it) would end silently.
        if isinstance(candidate, str):
            return scrapy.Request(
                candidate,
                callback=self.parse_listing,
                errback=self.listing_failed,
                meta=meta,
                dont_filter=True,
            )
        return scrapy.FormRequest(
            candidate.url,
            method=candidate.method,
            formdata=candidate.form or None,
            headers=candidate.headers,
            callback=self.parse_listing,
            errback=self.listing_failed,
            meta={**meta, "portalcrawl_data_request": True},
            dont_filter=True,
        )

    # -- listings --------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        chain = self.chains[response.meta["portalcrawl_chain"]]
        chain.failures = 0
        chain.pages += 1
        self.crawler.stats.inc_value("portalcrawl/spider/listing_pages")
        text = response.text if isinstance(response, TextResponse) else response.body
        try:
            listing = extract_listing(text, response.url)
        except Exception as exc:
            chain.interrupted = True
            self._extraction_failed(response.url, exc)
            return
        links = self._article_links(listing)
        new_in_run = [link for link in links if link not in self.requested_articles]
        due = self.full or chain.recheck_due
        known = self._known(links, due=due)
        for link in new_in_run:
            self.requested_articles.add(link)
            if link in known and not due:
                self.crawler.stats.inc_value("portalcrawl/spider/known_skipped")
                continue
            if self._older_than_since(listing.dates.get(link)):
                self.crawler.stats.inc_value("portalcrawl/spider/since_skipped")
                continue
            yield self._article_request(link, response.url, listing.dates.get(link))

        chain.branches.update(dict.fromkeys(listing.child_listings))
        stop = self._stop_reason(chain, listing, links, new_in_run, due)
        if stop:
            self.logger.info("listing %s: stopped after %d pages: %s", chain.start_url, chain.pages, stop)
            chain.queue = []
            if chain.pages >= self.max_pages:
                chain.branches.clear()
            yield from self._follow(chain)
            return
        candidates: list[str | ListingRequest] = [*listing.next_pages, *listing.requests]
        # A data group (dataproxy XML, JSON) names no further pages: carry on with its page's queue.
        if not response.meta.get("portalcrawl_data_request") or any(
            self._is_new_candidate(chain, c) for c in candidates
        ):
            chain.queue = candidates
        yield from self._follow(chain)

    def _stop_reason(
        self, chain: ListingChain, listing: Listing, links: list[str], new: list[str], due: bool
    ) -> str:
        if chain.pages >= self.max_pages:
            return f"max_pages={self.max_pages} reached"
        if links and chain.trusted_run_id is not None and not due:
            trusted = self._known(links, max_run_id=chain.trusted_run_id)
            if all(link in trusted for link in links):
                return f"all articles known (up to run {chain.trusted_run_id})"
        if self.since and links and all(self._older_than_since(listing.dates.get(link)) for link in links):
            return f"all shown dates older than {self.since}"
        chain.stale = chain.stale + 1 if not new else 0
        if chain.stale >= MAX_STALE_LISTING_PAGES:
            return "no new links"
        return ""

    def _older_than_since(self, shown: str | None) -> bool:
        """Whether a listing date is before ``since``; an unknown date is never older."""
        if self.since is None or not shown:
            return False
        parsed = parse_date(shown, tz=self.profile.timezone)
        return parsed is not None and parsed.value.date() < self.since

    def _is_new_candidate(self, chain: ListingChain, candidate: str | ListingRequest) -> bool:
        url = candidate if isinstance(candidate, str) else candidate.url
        return is_fetchable_url(url, self.domains) and _candidate_key(candidate) not in chain.visited

    def _follow(self, chain: ListingChain) -> Iterator[scrapy.Request]:
        """The next listing request of the chain: its current pager's next candidate, else the first
        child listing still waiting, paged afresh."""
        while chain.queue or chain.branches:
            if not chain.queue:
                branch = next(iter(chain.branches))
                del chain.branches[branch]
                chain.branch_urls.add(_candidate_key(branch))
                chain.queue, chain.stale, chain.failures = [branch], 0, 0
            candidate = chain.queue.pop(0)
            if not self._is_new_candidate(chain, candidate):
                continue
            chain.visited.add(_candidate_key(candidate))
            yield self._listing_request(chain, candidate)
            return

    def _listing_error(
        self, chain: ListingChain, url: str, status: int | None, reason: str
    ) -> Iterator[scrapy.Request]:
        chain.failures += 1
        if url == chain.start_url or chain.pages == 0 or _candidate_key(url) in chain.branch_urls:
            chain.interrupted = True
            self.crawler.stats.inc_value("portalcrawl/spider/listing_errors")
            self.crawler.signals.send_catch_log(fetch_failed, url=url, status=status, reason=reason)
        elif status in GONE_STATUSES or reason == ROBOTS_REFUSAL:
            # A pager candidate past the last page: the normal end of a listing, not an error.
            self.crawler.stats.inc_value("portalcrawl/spider/listing_end_misses")
        else:
            chain.interrupted = True
            self.crawler.stats.inc_value("portalcrawl/spider/listing_errors")
            self.crawler.signals.send_catch_log(fetch_failed, url=url, status=status, reason=reason)
        if chain.failures >= MAX_CONSECUTIVE_LISTING_FAILURES:
            chain.queue = []
        yield from self._follow(chain)

    def listing_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        chain = self.chains[request.meta["portalcrawl_chain"]]
        status, reason = _failure_status(failure)
        if reason.startswith(SELF_REPORTED_REFUSALS):
            # Not this pager any further; child listings still waiting are paged.
            chain.interrupted = True
            chain.queue = []
            yield from self._follow(chain)
            return
        yield from self._listing_error(chain, request.url, status, reason)

    def _article_links(self, listing: Listing) -> list[str]:
        pattern = self.article_url_pattern
        links = []
        for link in listing.article_links:
            if not is_fetchable_url(link, self.domains):
                self.crawler.stats.inc_value("portalcrawl/spider/offsite_links")
                continue
            if DOCUMENT_URL.search(link):
                # Listed attachments (PDF, Word…) are documents, not article pages: never fetched.
                self.crawler.stats.inc_value("portalcrawl/spider/document_links")
                continue
            if pattern and not pattern.search(link):
                continue
            links.append(canonical_url(link))
            if link in listing.dates:
                listing.dates.setdefault(links[-1], listing.dates[link])
        return list(dict.fromkeys(links))

    def _known(self, links: list[str], *, max_run_id: int | None = None, due: bool = False) -> set[str]:
        """Links archived as articles or remembered as no article (first seen up to ``max_run_id``).

        ``due``: known links are fetched again, so remembered non-articles that turn out to be
        articles now must be forgotten.
        """
        if self.db is None or not links:
            return set()
        site = self.profile.slug
        articles = database.known_urls(self.db, links, site=site, max_run_id=max_run_id)
        skipped = database.known_skipped_urls(self.db, links, site=site, max_run_id=max_run_id)
        if due:
            self.retried_skipped |= skipped
        return articles | skipped

    # -- articles --------------------------------------------------------------------------------

    def _article_request(self, url: str, listing_url: str, listing_date: str | None) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            # The spider asks for each article once (requested_articles) and the URL filter guards every
            # host; Scrapy's duplicate and offsite filters would drop a redirect loop or a redirect to
            # another host silently, without calling the errback that records it.
            dont_filter=True,
            cb_kwargs={"article_url": url, "listing_url": listing_url, "listing_date": listing_date},
        )

    def parse_article(
        self, response: Response, article_url: str, listing_url: str, listing_date: str | None
    ) -> Iterator[Article | scrapy.Request]:
        article = self._extract_page(response, article_url, remember_skips=True)
        if article is None:
            return
        if article_url in self.retried_skipped and self.db is not None:
            database.forget_skipped_urls(self.db, self.profile.slug, [article_url])
        article.final_url = response.url
        article.site = self.profile.slug
        article.listing_url = listing_url
        article.listing_date = listing_date
        pages = [page for page in article.page_urls[1:] if page != response.url]
        if not pages:
            yield article
            return
        yield self._continuation_request(article, [], pages)

    def _continuation_request(
        self, first: Article, others: list[Article], pages: list[str]
    ) -> scrapy.Request:
        return scrapy.Request(
            pages[0],
            callback=self.parse_continuation,
            errback=self.continuation_failed,
            meta={"portalcrawl_pages": (first, others, pages[1:])},
        )

    def parse_continuation(self, response: Response) -> Iterator[Article | scrapy.Request]:
        first, others, remaining = response.meta["portalcrawl_pages"]
        page = self._extract_page(
            response, canonical_url(response.request.url if response.request else response.url)
        )
        if page is not None:
            others = [*others, page]
        if remaining and page is not None:
            yield self._continuation_request(first, others, remaining)
            return
        yield article_extraction.merge_pages(first, others)

    def continuation_failed(self, failure: Failure) -> Iterator[Article]:
        request = failure.request  # type: ignore[attr-defined]
        first, others, _ = request.meta["portalcrawl_pages"]
        status, reason = _failure_status(failure)
        if not reason.startswith(SELF_REPORTED_REFUSALS):
            self._fetch_failed(request.url, status, reason)
        yield article_extraction.merge_pages(first, others)

    def _extract_page(
        self, response: Response, article_url: str, *, remember_skips: bool = False
    ) -> Article | None:
        content_type = response.headers.get(b"Content-Type") or b""
        if not isinstance(response, TextResponse) or (content_type and not HTML_TYPES.search(content_type)):
            self.crawler.stats.inc_value("portalcrawl/spider/non_html")
            kind = content_type.decode("latin-1") or "no text"
            self.logger.info("skipping non-HTML article page %s (%s)", response.url, kind)
            if remember_skips:
                self._remember_skip(article_url, f"not HTML: {kind}")
            return None
        self.crawler.stats.inc_value("portalcrawl/spider/article_pages")
        try:
            article: Article = article_extraction.extract_article(
                response.text, response.url, fetched_at=datetime.now(UTC), profile=self.profile
            )
        except Exception as exc:
            self._extraction_failed(response.url, exc)
            return None
        if not (article.title or article.body_text):
            # extract_article never raises; a page with nothing in it is a failure, not an article.
            self._extraction_failed(response.url, ValueError("no title and no text on the page"))
            return None
        if message := not_found_message(response.text, article.title, article.body_text):
            # A 200 OK that says the page does not exist is the portal's 404 page, not an article.
            self.crawler.stats.inc_value("portalcrawl/spider/soft_404")
            reason = f"soft 404: the page says {message!r}"
            if remember_skips:
                self._remember_skip(article_url, reason)
            self._fetch_failed(article_url, response.status, reason)
            return None
        article.url = article_url
        return article

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        article_url = request.cb_kwargs.get("article_url", request.url)
        status, reason = _failure_status(failure)
        if reason == ROBOTS_REFUSAL:
            self._remember_skip(article_url, reason)
            return
        # The listed URL, also when the failure came after redirects: that is the link a user looks up.
        listed_url = request.meta.get("redirect_urls", [request.url])[0]
        if reason.startswith(SELF_REPORTED_REFUSALS) and listed_url == request.url:
            return
        if status is not None:
            self.crawler.stats.inc_value("portalcrawl/spider/http_errors")
            if status in GONE_STATUSES:
                self._remember_skip(article_url, reason)
        self._fetch_failed(listed_url, status, reason)

    def _remember_skip(self, url: str, reason: str) -> None:
        """Keep a listing link that is no article out of later runs' fetches and stop decisions."""
        self.crawler.stats.inc_value("portalcrawl/spider/skipped_urls")
        if self.db is None:
            return
        run_id = self.crawler.stats.get_value("portalcrawl/run_id")
        database.record_skipped_url(self.db, self.profile.slug, url, reason, int(run_id) if run_id else None)

    def _extraction_failed(self, url: str, exc: Exception) -> None:
        self.crawler.stats.inc_value("portalcrawl/spider/extract_errors")
        self.logger.error("extraction failed for %s: %s: %s", url, type(exc).__name__, exc)
        self._fetch_failed(url, None, f"extraction failed: {type(exc).__name__}: {exc}")

    def _fetch_failed(self, url: str, status: int | None, reason: str) -> None:
        self.crawler.signals.send_catch_log(fetch_failed, url=url, status=status, reason=reason)

    # -- end -------------------------------------------------------------------------------------

    def closed(self, reason: str) -> None:
        run_id = self.crawler.stats.get_value("portalcrawl/run_id")
        if self.db is None:
            return
        if reason == "finished" and run_id:
            for start_url, chain in self.chains.items():
                if chain.pages and not chain.interrupted:
                    database.mark_listing_complete(self.db, self.profile.slug, start_url, int(run_id))
                else:
                    self.logger.info("listing %s: not complete, the next run pages it to its end", start_url)
        self.db.close()

"""The one generic spider: pages a portal's listings, fetches new articles, stops where it left off."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, UsageError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from portalcrawl.archive_state import NOTHING_KNOWN, ArchiveState, KnownLinks
from portalcrawl.article_response import NON_HTML, SOFT_404, NotAnArticle, article_from_response
from portalcrawl.crawl_args import CrawlArgumentError, crawl_arguments
from portalcrawl.extensions.crawl_runs import dead_column_reason
from portalcrawl.extract import article as article_extraction
from portalcrawl.extract.dates import parse_date
from portalcrawl.extract.documents import DOCUMENT_URL
from portalcrawl.extract.listing import Listing, ListingRequest, extract_listing
from portalcrawl.extract.selectors import missed_selectors
from portalcrawl.items import Article
from portalcrawl.listing_resume import ResumePoint
from portalcrawl.pages import ARTICLE, LISTING, capture_response
from portalcrawl.profiles import ProfileError
from portalcrawl.signals import fetch_failed, page_fetched
from portalcrawl.urls import canonical_url, is_fetchable_url

# A pager candidate that 404s may just be the wrong 0/1-based guess; two in a row is the end.
MAX_CONSECUTIVE_LISTING_FAILURES = 2
# Pages that bring no link unseen in this run: one can be a wrong-base repeat of page 1, two is the end.
MAX_STALE_LISTING_PAGES = 2
# Answers that say a URL is gone for good: a listing pager past its end, or a withdrawn article.
GONE_STATUSES = {404, 410}
# The IgnoreRequest message of Scrapy's RobotsTxtMiddleware; the only refusal that is permanent.
ROBOTS_REFUSAL = "Forbidden by robots.txt"
# Article (and continuation) requests go before listing pages (priority 0) in the scheduler.
ARTICLE_PRIORITY = 1
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
    # Set when max_pages stopped paging before the listing's end: older pages were never seen.
    capped: bool = False
    # Set when a since stop that only this run asked for (-a since) cut the listing short.
    cut_by_since: bool = False
    article_links: int = 0
    stale: int = 0
    visited: set[str] = field(default_factory=set)
    # The latest page's pager candidates, checked only when taken: a script pager lists up to 500
    # further pages on every page, and checking them all each time made paging quadratic.
    queue: list[str | ListingRequest] = field(default_factory=list)
    # Resuming a listing never paged to its end: where the last unfinished run got to, and whether
    # this run has jumped there yet (after re-reading the first pages for new articles).
    resume: ResumePoint | None = None
    jumped: bool = False
    # The page jumped from and its pager, to page on from there if the resume page is gone.
    head_queue: tuple[int, list[str | ListingRequest]] | None = None
    # Listing pages fetched this run by depth in the chain, and their articles not yet dealt with.
    fetched: dict[int, str | ListingRequest] = field(default_factory=dict)
    outstanding: dict[int, int] = field(default_factory=dict)

    def settled_depth(self) -> int:
        """The deepest page of this run's segment (from page 1, or from the resume page) below which
        every listed article was stored, skipped or failed; 0 if none."""
        first = self.resume.depth if self.resume and self.jumped else 1
        settled = 0
        for depth in sorted(d for d in self.fetched if d >= first):
            if self.outstanding.get(depth) or (settled and depth != settled + 1):
                break
            settled = depth
        return settled

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
        default_timezone: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:
            arguments = crawl_arguments(
                site=site,
                url=url,
                since=since,
                max_pages=max_pages,
                full=full,
                sites_dir=sites_dir,
                default_max_pages=default_max_pages,
                default_timezone=default_timezone,
            )
        except CrawlArgumentError as exc:
            where = f"-s {exc.key}" if exc.key.isupper() else f"-a {exc.key}"
            raise UsageError(f"portal spider: {where + ': ' if exc.key else ''}{exc}") from None
        except ProfileError as exc:
            raise UsageError(f"portal spider: {exc}") from None
        # Its timezone resolved: extraction and the pipelines read the zone from here.
        self.profile = arguments.profile
        self.max_pages = arguments.max_pages
        self.since = arguments.since
        # A profile's since is the listing's permanent end; a one-off -a since is not.
        self.since_is_permanent = since is None
        self.full = arguments.full
        self.timezone = arguments.timezone
        self.domains = self.profile.domains
        self.ports = self.profile.ports
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
        # Every question to the archive goes through here (None: a crawl without an archive).
        self.archive: ArchiveState | None = None
        self.db_path = ""
        # Profile selectors already reported as giving nothing: logged once per run, counted every time.
        self.missed_selectors: set[str] = set()
        # The article budget: at most this many article requests between two moments the crawl is
        # idle; links beyond it wait here as plain strings and their listings stop paging meanwhile.
        self.max_queued_articles = 2000
        self.queued_articles = 0
        self.held_articles: deque[tuple[str, str, str | None, tuple[str, int]]] = deque()
        self.paused_chains: list[tuple[ListingChain, int]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        kwargs.setdefault("sites_dir", crawler.settings.get("PORTALCRAWL_SITES_DIR") or None)
        kwargs.setdefault("default_max_pages", crawler.settings.getint("PORTALCRAWL_MAX_PAGES", 200))
        kwargs.setdefault("default_timezone", crawler.settings.get("PORTALCRAWL_TIMEZONE") or None)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.db_path = crawler.settings.get("PORTALCRAWL_DB_PATH", "")
        spider.max_queued_articles = max(1, crawler.settings.getint("PORTALCRAWL_MAX_QUEUED_ARTICLES", 2000))
        crawler.signals.connect(spider.release_held_work, signal=signals.spider_idle)
        return spider

    # -- start -----------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.db_path:
            self.archive = ArchiveState.open(self.db_path, self.profile.slug)
        for start_url in self.profile.start_urls:
            chain = ListingChain(start_url, *self._listing_trust(start_url))
            chain.resume = self._resume_point(chain)
            self.chains[start_url] = chain
            chain.visited.add(_candidate_key(start_url))
            yield self._listing_request(chain, start_url, depth=1)

    def _resume_point(self, chain: ListingChain) -> ResumePoint | None:
        """Where an unfinished earlier run got to, for a listing never paged to its end (not --full)."""
        if self.archive is None or self.full or chain.trusted_run_id is not None:
            return None
        return self.archive.listing(chain.start_url).resume

    def _listing_trust(self, start_url: str) -> tuple[int | None, bool]:
        """The run up to which "all known" may stop this listing, and whether known articles are due."""
        if self.archive is None:
            return None, False
        state = self.archive.listing(start_url)
        return state.trusted_run_id, state.recheck_due(self.profile.recheck_days, datetime.now(UTC))

    def _listing_request(
        self, chain: ListingChain, candidate: str | ListingRequest, *, depth: int
    ) -> scrapy.Request:
        meta = {
            "portalcrawl_chain": chain.start_url,
            "portalcrawl_depth": depth,
            "portalcrawl_page": candidate,
        }
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
        depth = response.meta["portalcrawl_depth"]
        chain.fetched[depth] = response.meta["portalcrawl_page"]
        chain.outstanding[depth] = 0
        chain.failures = 0
        chain.pages += 1
        self.crawler.stats.inc_value("portalcrawl/spider/listing_pages")
        text = response.text if isinstance(response, TextResponse) else response.body
        try:
            listing = extract_listing(text, response.url, profile=self.profile)
        except Exception as exc:
            chain.interrupted = True
            self._extraction_failed(response.url, f"{type(exc).__name__}: {exc}")
            return
        links = self._article_links(listing)
        if links:
            self._keep_page(response, LISTING, datetime.now(UTC).isoformat())
        chain.article_links += len(links)
        self.crawler.stats.inc_value("portalcrawl/spider/article_links", len(links))
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
            chain.outstanding[depth] += 1
            yield from self._queue_article(
                link, response.url, listing.dates.get(link), (chain.start_url, depth)
            )

        chain.branches.update(dict.fromkeys(listing.child_listings))
        if chain.resume and not chain.jumped:
            jump = self._resume_jump(chain, depth, links, known, [*listing.next_pages, *listing.requests])
            if jump is not None:
                yield jump
                return
        stop = self._stop_reason(chain, listing, links, new_in_run, known=known, due=due)
        if stop:
            self.logger.info("listing %s: stopped after %d pages: %s", chain.start_url, chain.pages, stop)
            chain.queue = []
            if chain.pages >= self.max_pages:
                chain.branches.clear()
            yield from self._follow(chain, depth + 1)
            return
        candidates: list[str | ListingRequest] = [*listing.next_pages, *listing.requests]
        # A data group (dataproxy XML, JSON) names no further pages: carry on with its page's queue.
        if not response.meta.get("portalcrawl_data_request") or any(
            self._is_new_candidate(chain, c) for c in candidates
        ):
            chain.queue = candidates
        if self.held_articles or self.queued_articles >= self.max_queued_articles:
            self.crawler.stats.inc_value("portalcrawl/spider/paging_paused")
            self.paused_chains.append((chain, depth + 1))
            return
        yield from self._follow(chain, depth + 1)

    def _resume_jump(
        self,
        chain: ListingChain,
        depth: int,
        links: list[str],
        known: KnownLinks,
        candidates: list[str | ListingRequest],
    ) -> scrapy.Request | None:
        """Once the first pages bring nothing new, the request for the page the last run got to.

        ``candidates``: this page's pager (a data group names none and goes on with its page's queue).
        """
        assert chain.resume is not None
        if depth >= chain.resume.depth:
            # Paged down to it anyway (few pages, or every page new): carry on from here.
            chain.jumped = True
            return None
        if not links or not all(link in known for link in links):
            return None
        chain.jumped = True
        target = chain.resume
        self.logger.info(
            "listing %s: nothing new on page %d, resuming at page %d", chain.start_url, depth, target.depth
        )
        self.crawler.stats.inc_value("portalcrawl/spider/listing_resumed")
        # Kept in case the page is gone; a queue that holds the page (data groups) goes on after it.
        queue = candidates or chain.queue
        chain.head_queue = (depth, queue)
        keys = [_candidate_key(candidate) for candidate in queue]
        target_key = _candidate_key(target.page)
        chain.queue = queue[keys.index(target_key) + 1 :] if target_key in keys else []
        chain.visited.add(target_key)
        request = self._listing_request(chain, target.page, depth=target.depth)
        request.meta["portalcrawl_resume_jump"] = True
        return request

    def _stop_reason(
        self,
        chain: ListingChain,
        listing: Listing,
        links: list[str],
        new: list[str],
        *,
        known: KnownLinks,
        due: bool,
    ) -> str:
        if chain.pages >= self.max_pages:
            # A cap on the last page changes nothing; one with pages left means older pages unseen.
            candidates: list[str | ListingRequest] = [*listing.next_pages, *listing.requests]
            if any(self._is_new_candidate(chain, c) for c in candidates):
                chain.capped = True
                self.crawler.stats.inc_value("portalcrawl/spider/capped_listings")
                self.crawler.stats.set_value("portalcrawl/spider/max_pages", self.max_pages)
            return f"max_pages={self.max_pages} reached"
        if links and chain.trusted_run_id is not None and not due:
            trusted = known.up_to(chain.trusted_run_id)
            if all(link in trusted for link in links):
                return f"all articles known (up to run {chain.trusted_run_id})"
        if self.since and links and all(self._older_than_since(listing.dates.get(link)) for link in links):
            chain.cut_by_since = not self.since_is_permanent
            return f"all shown dates older than {self.since}"
        chain.stale = chain.stale + 1 if not new else 0
        if chain.stale >= MAX_STALE_LISTING_PAGES:
            return "no new links"
        return ""

    def _older_than_since(self, shown: str | None) -> bool:
        """Whether a listing date is before ``since``; an unknown date is never older."""
        if self.since is None or not shown:
            return False
        parsed = parse_date(shown, tz=self.timezone)
        return parsed is not None and parsed.value.date() < self.since

    def _is_new_candidate(self, chain: ListingChain, candidate: str | ListingRequest) -> bool:
        url = candidate if isinstance(candidate, str) else candidate.url
        return (
            is_fetchable_url(url, self.domains, self.ports) and _candidate_key(candidate) not in chain.visited
        )

    def _follow(self, chain: ListingChain, depth: int) -> Iterator[scrapy.Request]:
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
            yield self._listing_request(chain, candidate, depth=depth)
            return

    def _listing_error(
        self, chain: ListingChain, url: str, status: int | None, reason: str, depth: int
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
        yield from self._follow(chain, depth)

    def listing_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        chain = self.chains[request.meta["portalcrawl_chain"]]
        status, reason = _failure_status(failure)
        if request.meta.get("portalcrawl_resume_jump") and chain.head_queue is not None:
            # The page the last run got to is gone: page on from the first pages instead.
            self.logger.info(
                "listing %s: resume page %s failed (%s); paging on", chain.start_url, request.url, reason
            )
            chain.resume, chain.jumped = None, False
            depth, chain.queue = chain.head_queue
            yield from self._follow(chain, depth + 1)
            return
        if reason.startswith(SELF_REPORTED_REFUSALS):
            # Not this pager any further; child listings still waiting are paged.
            chain.interrupted = True
            chain.queue = []
            yield from self._follow(chain, request.meta["portalcrawl_depth"])
            return
        yield from self._listing_error(chain, request.url, status, reason, request.meta["portalcrawl_depth"])

    def _article_links(self, listing: Listing) -> list[str]:
        pattern = self.article_url_pattern
        links = []
        for link in listing.article_links:
            if not is_fetchable_url(link, self.domains, self.ports):
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

    def _known(self, links: list[str], *, due: bool = False) -> KnownLinks:
        """Links archived as articles or remembered as no article: one archive query a listing page.

        ``due``: known links are fetched again, so remembered non-articles that turn out to be
        articles now must be forgotten.
        """
        if self.archive is None:
            return NOTHING_KNOWN
        known = self.archive.known(links)
        if due:
            self.retried_skipped |= known.skipped
        return known

    # -- the article budget ----------------------------------------------------------------------

    def _queue_article(
        self, url: str, listing_url: str, listing_date: str | None, listed_at: tuple[str, int]
    ) -> Iterator[scrapy.Request]:
        if self.queued_articles < self.max_queued_articles:
            self.queued_articles += 1
            yield self._article_request(url, listing_url, listing_date, listed_at)
            return
        self.crawler.stats.inc_value("portalcrawl/spider/held_articles")
        self.held_articles.append((url, listing_url, listing_date, listed_at))

    def release_held_work(self) -> None:
        """Once everything queued is done: the held article links, then the paused listings."""
        self.queued_articles = 0
        engine = self.crawler.engine
        scheduled = False
        while self.held_articles and self.queued_articles < self.max_queued_articles:
            self.queued_articles += 1
            engine.crawl(self._article_request(*self.held_articles.popleft()))
            scheduled = True
        if not self.held_articles:
            chains, self.paused_chains = self.paused_chains, []
            for chain, depth in chains:
                for request in self._follow(chain, depth):
                    engine.crawl(request)
                    scheduled = True
        if scheduled:
            raise DontCloseSpider

    # -- articles --------------------------------------------------------------------------------

    def _article_request(
        self, url: str, listing_url: str, listing_date: str | None, listed_at: tuple[str, int]
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            # The spider asks for each article once (requested_articles) and the URL filter guards every
            # host; Scrapy's duplicate and offsite filters would drop a redirect loop or a redirect to
            # another host silently, without calling the errback that records it.
            dont_filter=True,
            cb_kwargs={"article_url": url, "listing_url": listing_url, "listing_date": listing_date},
            meta={"portalcrawl_listed_at": listed_at},
            # Before the next listing page: a page's articles are dealt with before the chain moves on,
            # so the scheduler never holds a whole listing's articles and an interrupted run's resume
            # point is as deep as it got.
            priority=ARTICLE_PRIORITY,
        )

    def _settle(self, meta: dict[str, Any]) -> None:
        """An article of a listing page is dealt with (handed to the pipelines, skipped or failed).

        A request not made from a listing page (``scrapy parse``, a test) has no page to settle.
        """
        if "portalcrawl_listed_at" in meta:
            start_url, depth = meta["portalcrawl_listed_at"]
            self.chains[start_url].outstanding[depth] -= 1

    def parse_article(
        self, response: Response, article_url: str, listing_url: str, listing_date: str | None
    ) -> Iterator[Article | scrapy.Request]:
        article = self._extract_page(response, article_url, remember_skips=True)
        if article is None:
            self._settle(response.meta)
            return
        self._count_missed_selectors(article)
        self._keep_page(response, ARTICLE, article.fetched_at, article_url)
        if article_url in self.retried_skipped and self.archive is not None:
            self.archive.forget_skipped(article_url)
        article.final_url = response.url
        article.site = self.profile.slug
        article.listing_url = listing_url
        article.listing_date = listing_date
        pages = [page for page in article.page_urls[1:] if page != response.url]
        if not pages:
            yield article
            self._settle(response.meta)
            return
        yield self._continuation_request(article, [], pages, response.meta.get("portalcrawl_listed_at"))

    def _continuation_request(
        self, first: Article, others: list[Article], pages: list[str], listed_at: tuple[str, int] | None
    ) -> scrapy.Request:
        meta: dict[str, Any] = {"portalcrawl_pages": (first, others, pages[1:])}
        if listed_at is not None:
            meta["portalcrawl_listed_at"] = listed_at
        return scrapy.Request(
            pages[0],
            callback=self.parse_continuation,
            errback=self.continuation_failed,
            meta=meta,
            priority=ARTICLE_PRIORITY,
        )

    def parse_continuation(self, response: Response) -> Iterator[Article | scrapy.Request]:
        first, others, remaining = response.meta["portalcrawl_pages"]
        page = self._extract_page(
            response, canonical_url(response.request.url if response.request else response.url)
        )
        if page is not None:
            self._keep_page(response, ARTICLE, page.fetched_at, first.url, page_number=len(others) + 2)
            others = [*others, page]
        if remaining and page is not None:
            yield self._continuation_request(
                first, others, remaining, response.meta.get("portalcrawl_listed_at")
            )
            return
        yield article_extraction.merge_pages(first, others)
        self._settle(response.meta)

    def continuation_failed(self, failure: Failure) -> Iterator[Article]:
        request = failure.request  # type: ignore[attr-defined]
        first, others, _ = request.meta["portalcrawl_pages"]
        status, reason = _failure_status(failure)
        if not reason.startswith(SELF_REPORTED_REFUSALS):
            self._fetch_failed(request.url, status, reason)
        yield article_extraction.merge_pages(first, others)
        self._settle(request.meta)

    def _extract_page(
        self, response: Response, article_url: str, *, remember_skips: bool = False
    ) -> Article | None:
        try:
            article = article_from_response(
                response, article_url, profile=self.profile, fetched_at=datetime.now(UTC)
            )
        except NotAnArticle as refusal:
            if refusal.kind == NON_HTML:
                self.crawler.stats.inc_value("portalcrawl/spider/non_html")
                self.logger.info("skipping non-HTML article page %s (%s)", response.url, refusal)
                if remember_skips:
                    self._remember_skip(article_url, str(refusal))
                return None
            self.crawler.stats.inc_value("portalcrawl/spider/article_pages")
            if refusal.kind == SOFT_404:
                self.crawler.stats.inc_value("portalcrawl/spider/soft_404")
                if remember_skips:
                    self._remember_skip(article_url, str(refusal))
                self._fetch_failed(article_url, response.status, str(refusal))
            else:
                self._extraction_failed(response.url, str(refusal))
            return None
        self.crawler.stats.inc_value("portalcrawl/spider/article_pages")
        return article

    def _count_missed_selectors(self, article: Article) -> None:
        """A profile selector that gave nothing is counted and logged, never silently replaced."""
        for name in missed_selectors(article, self.profile):
            self.crawler.stats.inc_value("portalcrawl/spider/selector_missed")
            self.crawler.stats.inc_value(f"portalcrawl/spider/selector_missed/{name}")
            if name not in self.missed_selectors:
                self.missed_selectors.add(name)
                self.logger.warning(
                    "selectors.%s %r of site %s gave nothing on %s; automatic extraction filled it "
                    "(logged once per run; counted in portalcrawl/spider/selector_missed)",
                    name,
                    getattr(self.profile.selectors, name),
                    self.profile.slug,
                    article.url,
                )

    def _keep_page(
        self,
        response: Response,
        kind: str,
        fetched_at: str | None,
        article_url: str | None = None,
        page_number: int = 1,
    ) -> None:
        """Hand the page as served to whoever keeps pages (``page_fetched``), with the fetch time
        its extraction used."""
        capture = capture_response(
            response,
            site=self.profile.slug,
            kind=kind,
            fetched_at=fetched_at or datetime.now(UTC).isoformat(),
            article_url=article_url,
            page_number=page_number,
        )
        self.crawler.signals.send_catch_log(page_fetched, capture=capture)

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._settle(request.meta)
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
        if self.archive is None:
            return
        run_id = self.crawler.stats.get_value("portalcrawl/run_id")
        self.archive.remember_skipped(url, reason, int(run_id) if run_id else None)

    def _extraction_failed(self, url: str, problem: str) -> None:
        self.crawler.stats.inc_value("portalcrawl/spider/extract_errors")
        self.logger.error("extraction failed for %s: %s", url, problem)
        self._fetch_failed(url, None, f"extraction failed: {problem}")

    def _fetch_failed(self, url: str, status: int | None, reason: str) -> None:
        self.crawler.signals.send_catch_log(fetch_failed, url=url, status=status, reason=reason)

    # -- end -------------------------------------------------------------------------------------

    def _incomplete_because(self, chain: ListingChain) -> str:
        """Why this run did not page ``chain`` to its real end, or "" when it did."""
        if not chain.pages:
            return "no listing page read"
        if chain.interrupted:
            return "a listing page failed"
        if not chain.article_links:
            return "no article link found"
        if chain.capped:
            return f"max_pages={self.max_pages} reached"
        if chain.cut_by_since:
            return f"stopped at since={self.since}"
        return ""

    def closed(self, reason: str) -> None:
        run_id = self.crawler.stats.get_value("portalcrawl/run_id")
        if self.archive is None:
            return
        self.crawler.stats.set_value("portalcrawl/archive/queries", self.archive.reads)
        completed: set[str] = set()
        dead = dead_column_reason(self.crawler.stats.get_stats())
        if reason == "finished" and run_id:
            for start_url, chain in self.chains.items():
                incomplete = self._incomplete_because(chain) or dead
                if incomplete:
                    self.logger.info(
                        "listing %s: not complete (%s), the next run pages it to its end",
                        start_url,
                        incomplete,
                    )
                else:
                    self.archive.mark_complete(start_url, int(run_id))
                    completed.add(start_url)
        if run_id and not dead:
            # A dead column's run got nowhere: nothing to resume from.
            self._save_resume_points(self.archive, completed, int(run_id))
        self.archive.close()

    def _save_resume_points(self, archive: ArchiveState, completed: set[str], run_id: int) -> None:
        """For each listing never paged to its end that this run got deeper into, where to resume."""
        # A one-off since skipped older articles on the pages this run settled: resuming past them would
        # leave them out for good.
        if self.since is not None and not self.since_is_permanent:
            return
        for start_url, chain in self.chains.items():
            if self.full or chain.trusted_run_id is not None or start_url in completed:
                continue
            depth = chain.settled_depth()
            if depth > (chain.resume.depth if chain.resume else 0):
                archive.save_resume(start_url, ResumePoint(depth, chain.fetched[depth]), run_id)
                self.logger.info("listing %s: the next run resumes at page %d", start_url, depth)

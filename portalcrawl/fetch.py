"""One page fetched outside a crawl (diagnose, sites add) under the crawl's rules, with why it failed."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field, replace
from email.message import Message
from urllib.parse import urljoin, urlsplit

from protego import Protego

from portalcrawl import settings
from portalcrawl.extract.encoding import decode_html, normalize_encoding
from portalcrawl.middlewares.blocking import RATE_LIMIT_STATUSES, classify_block
from portalcrawl.middlewares.url_filter import HostPolicy

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Page:
    """What fetching ``url`` gave: the decoded page, or ``problem`` (one line) and its ``kind``.

    ``kind`` is ``robots``, ``refused`` (URL filter), ``http``, ``blocked``, ``rate_limited``,
    ``too_large`` or ``network``; ``None`` for a usable 2xx page.
    """

    url: str
    final_url: str = ""
    status: int | None = None
    body: bytes = b""
    text: str = ""
    encoding: str | None = None
    header_charset: str | None = None
    content_type: str = ""
    problem: str | None = None
    kind: str | None = None
    blocked_kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # Each hop is checked against the URL filter and robots.txt, as Scrapy's middlewares check it.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass
class Fetcher:
    """Fetches pages as a crawl of ``policy``'s site would: User-Agent, robots.txt, URL filter (hosts,
    ports, resolved addresses), size, timeout."""

    policy: HostPolicy
    timeout: float = settings.DOWNLOAD_TIMEOUT
    max_size: int = settings.DOWNLOAD_MAXSIZE
    max_redirects: int = settings.REDIRECT_MAX_TIMES
    user_agent: str = settings.USER_AGENT
    obey_robots: bool = settings.ROBOTSTXT_OBEY
    _robots: dict[str, Protego | None] = field(default_factory=dict)
    _opener: urllib.request.OpenerDirector = field(
        default_factory=lambda: urllib.request.build_opener(_NoRedirects)
    )

    def fetch(self, url: str) -> Page:
        current = url
        for _ in range(self.max_redirects + 1):
            refusal = self._refusal(current)
            if refusal:
                return Page(url, current, problem=refusal, kind="refused")
            if not self.robots_allow(current):
                host = urlsplit(current).netloc
                return Page(url, current, problem=f"robots.txt of {host} refuses {current}", kind="robots")
            status, headers, body, failure = self._get(current)
            if failure is not None:
                kind, problem = failure
                return Page(url, current, status=status, problem=problem, kind=kind)
            location = headers.get("Location")
            if status in REDIRECT_STATUSES and location:
                current = urljoin(current, location)
                continue
            return self._page(url, current, status or 0, headers, body)
        return Page(url, current, problem=f"more than {self.max_redirects} redirects", kind="http")

    def _refusal(self, url: str) -> str | None:
        """Why the crawl's URL filter would refuse ``url`` (its host, port, or resolved address)."""
        if not self.policy.allows_url(url):
            return self.policy.describe_refusal(url)
        host = urlsplit(url).hostname or ""
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
        except OSError:
            return None  # the fetch itself reports the lookup failure
        for address in sorted(addresses):
            if not self.policy.may_connect(host, str(address)):
                return f"host {host!r} resolves to the internal address {address}"
        return None

    def robots_allow(self, url: str) -> bool:
        if not self.obey_robots:
            return True
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            # As in Scrapy, a robots.txt that cannot be read allows everything.
            status, _, body, failure = self._get(origin + "/robots.txt")
            ok = failure is None and status is not None and 200 <= status < 300
            self._robots[origin] = Protego.parse(body.decode("utf-8", "replace")) if ok else None
        rules = self._robots[origin]
        return rules is None or rules.can_fetch(url, self.user_agent)

    def _get(self, url: str) -> tuple[int | None, Message, bytes, tuple[str, str] | None]:
        """Status, headers and body of one GET, or the (kind, problem) that prevented it."""
        request = urllib.request.Request(  # noqa: S310 - is_fetchable_url allows http(s) only
            url, headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        )
        try:
            response = self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            response = error
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            return None, Message(), b"", ("network", f"cannot fetch {url}: {reason}")
        with response:
            status = int(response.status or 0)
            headers = response.headers
            try:
                raw = response.read(self.max_size + 1)
                body = _decompressed(raw, headers.get("Content-Encoding", ""), self.max_size)
            except (OSError, zlib.error) as error:
                return None, headers, b"", ("network", f"cannot read {url}: {error}")
        if body is None or len(body) > self.max_size:
            problem = f"{url} is larger than DOWNLOAD_MAXSIZE ({self.max_size} bytes)"
            return status, headers, b"", ("too_large", problem)
        return status, headers, body, None

    def _page(self, url: str, final_url: str, status: int, headers: Message, body: bytes) -> Page:
        content_type = headers.get("Content-Type", "")
        header_charset = headers.get_content_charset()
        set_cookie = "\n".join(headers.get_all("Set-Cookie") or []).encode("latin-1", "replace")
        blocked = classify_block(status, body, set_cookie)
        page = Page(url, final_url, status, body, content_type=content_type)
        if blocked:
            problem = f"a {blocked} wall (HTTP {status}): an anti-bot challenge portalcrawl does not get past"
            return replace(page, problem=problem, kind="blocked", blocked_kind=blocked)
        if status in RATE_LIMIT_STATUSES:
            return replace(page, problem=f"rate limited (HTTP {status})", kind="rate_limited")
        if not 200 <= status < 300:
            return replace(page, problem=f"HTTP {status}", kind="http")
        text, encoding = decode_html(body, header_charset)
        return replace(page, text=text, encoding=encoding, header_charset=normalize_encoding(header_charset))


def _decompressed(raw: bytes, content_encoding: str, limit: int) -> bytes | None:
    """The body without gzip/deflate, at most ``limit + 1`` bytes of it (a gzip bomb stops there)."""
    coding = content_encoding.strip().lower()
    if coding in ("", "identity"):
        return raw
    if coding not in ("gzip", "x-gzip", "deflate"):
        return raw
    window = 16 + zlib.MAX_WBITS if "gzip" in coding else zlib.MAX_WBITS
    inflater = zlib.decompressobj(window)
    body = inflater.decompress(raw, limit + 1)
    return body if len(body) <= limit else None

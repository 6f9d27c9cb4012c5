"""URL canonicalisation for dedupe and storage, and the check that a URL is safe to fetch."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Session ids in the path (Java servlet containers behind TRS/Hanweb put them there).
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)
# Only a directory's own index file is folded: index_1.html (a listing page) and art_…_index.html differ.
_DIRECTORY_INDEX = re.compile(r"/(?:index|default)\.(?:html?|shtml)$", re.IGNORECASE)
# Query parameters that track the visitor or the share channel and never select content. Everything
# else, notably id/itemid/aid/catid/contentid/page, is kept because it names the document.
_TRACKING_PARAMS = re.compile(
    r"^(?:utm_[a-z_]+|spm|jsessionid|phpsessid|isappinstalled|share_token|from_share)$", re.IGNORECASE
)
_FETCHABLE_SCHEMES = {"http", "https"}


def host_of(url: str) -> str:
    """The URL's host name: lower case, without port, brackets or trailing dot; "" when there is none."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return ""
    return (host or "").rstrip(".")


# Listing pages repeat the same pager URLs page after page, and every article's URL is canonicalised
# by the spider and again by the dedupe pipeline; w3lib's canonicalisation is the costly part.
@lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """The form of ``url`` under which an article is stored and deduplicated.

    w3lib canonicalisation (sorted query, normalised percent-encoding, fragment dropped), lower-case
    host, default port dropped, session ids and tracking parameters dropped, and ``…/index.html``
    folded to ``…/``. The scheme is kept as found: a pure function cannot know whether a portal
    serves both http and https, and the stored URL must stay fetchable (many county sites answer on
    only one). Dedupe compares URLs without their scheme instead (see ``dedupe_key``).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = _PATH_SESSION.sub("", parts.path)
    path = _DIRECTORY_INDEX.sub("/", path)
    # Filter the raw query without decoding it: GBK-percent-encoded values must survive byte for byte.
    query = "&".join(
        pair for pair in parts.query.split("&") if pair and not _TRACKING_PARAMS.match(pair.split("=", 1)[0])
    )
    return canonicalize_url(urlunsplit((scheme, netloc, path or "/", query, "")), keep_fragments=False)


def dedupe_key(url: str) -> str:
    """The canonical URL without its scheme: the same document over http and https is one article."""
    canonical = canonical_url(url)
    return canonical.split("://", 1)[-1]


def _normalise_allowed(entry: str) -> str:
    host = entry.strip().lower().rstrip(".")
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def effective_port(url: str) -> int | None:
    """The port a request to ``url`` connects to (the scheme's default when none is written)."""
    try:
        parts = urlsplit(url)
        return parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


def _is_internal_ip(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@lru_cache(maxsize=64)
def _allowed_hosts(entries: tuple[str, ...]) -> frozenset[str]:
    # Called for every link and request of a crawl with the same few host lists.
    return frozenset(_normalise_allowed(entry) for entry in entries) - {""}


def is_internal_address(address: str) -> bool:
    """Whether an IP address is loopback, private, link-local, multicast, reserved or unspecified."""
    return _is_internal_ip(address)


def is_internal_host(host: str) -> bool:
    """Whether a host, as written in a URL, names this machine or a private network."""
    return host == "localhost" or host.endswith(".localhost") or _is_internal_ip(host)


def is_loopback_host(host: str) -> bool:
    """Whether a host, as written in a URL, is this machine (``localhost`` or a loopback address)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def is_fetchable_url(url: str, allowed_hosts: Iterable[str], ports: Iterable[int] | None = None) -> bool:
    """Whether the crawler may request ``url``.

    Only http(s); the host must be one of ``allowed_hosts`` or a subdomain of one (department sites
    live under their city's domain). Loopback, private, link-local and multicast addresses and
    ``localhost`` are refused unless listed exactly: a portal page linking to 169.254.169.254 or an
    intranet address must not make the crawler probe the network it runs in. With ``ports``, the
    port connected to must be one of them: a portal page must not send the crawler to the portal
    host's Redis or admin port. (What a host *name* resolves to is checked at download time, by the
    URL filter middleware.)
    """
    if any(c in url for c in "\\\t\r\n ") or any(ord(c) < 0x20 for c in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() not in _FETCHABLE_SCHEMES or port == 0:
        return False
    if ports is not None and (port or _DEFAULT_PORTS[parts.scheme.lower()]) not in ports:
        return False
    host = host_of(url)
    if not host:
        return False
    allowed = _allowed_hosts(tuple(allowed_hosts))
    if host in allowed:
        return True
    if is_internal_host(host):
        return False
    return any(host.endswith("." + parent) for parent in allowed)

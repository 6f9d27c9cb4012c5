"""Which node crawls which profile: a rendezvous hash of the first start URL's ``host:port``.

All profiles of one host land on one node, so per-host politeness (delay, concurrency, AutoThrottle)
stays in one process. The partition depends only on the profile and the number of shards, so plain
cron on N machines (``--shard I/N``), Kubernetes indexed jobs and ``portalcrawl dispatch`` agree.
Rendezvous hashing moves only the hosts a new last shard wins when N grows by one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from portalcrawl.profiles import SiteProfile

DEFAULT_PORTS = {"http": 80, "https": 443}
_SHARD_RE = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (counting from 1) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"I/N"`` with 1 ≤ I ≤ N; ``ValueError`` with a one-line reason otherwise."""
    match = _SHARD_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"--shard {text!r}: expected I/N, e.g. 1/3")
    index, count = int(match[1]), int(match[2])
    if not 1 <= index <= count:
        raise ValueError(f"--shard {text!r}: I must be between 1 and N")
    return Shard(index, count)


def host_key(profile: SiteProfile) -> str:
    """``host:port`` of the first start URL, with the scheme's default port when none is given."""
    parts = urlsplit(profile.start_urls[0])
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    return f"{(parts.hostname or '').lower()}:{port}"


def _weight(node: str, key: str) -> int:
    digest = hashlib.sha256(f"{node}\0{key}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big")


def shard_of(profile: SiteProfile, count: int) -> int:
    """The shard (1…count) that owns ``profile``'s host."""
    key = host_key(profile)
    return max(range(1, count + 1), key=lambda index: _weight(str(index), key))


def owner_node(profile: SiteProfile, nodes: Sequence[str]) -> str:
    """The node of ``nodes`` owning ``profile``: the K-th node runs what ``--shard K/N`` selects."""
    return nodes[shard_of(profile, len(nodes)) - 1]


def select_shard(profiles: Iterable[SiteProfile], shard: Shard) -> list[SiteProfile]:
    return [p for p in profiles if shard_of(p, shard.count) == shard.index]

"""The URL shape that a listing's article links share, as an ``article_url_pattern`` regex."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

_DIGITS = re.compile(r"\d+")


def link_shape(url: str) -> str:
    """``url``'s path and query as a regex: literal text escaped, every run of digits ``\\d+``.

    ``/xwzx/202601/t20260116_5661632.html`` → ``/xwzx/\\d+/t\\d+_\\d+\\.html$``.
    """
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    pieces = _DIGITS.split(target)
    # re.escape also escapes "-", which outside a character class needs none: keep patterns readable.
    return r"\d+".join(re.escape(piece).replace("\\-", "-") for piece in pieces) + "$"


def common_shape(links: list[str], *, share: float = 0.5) -> tuple[str, int] | None:
    """The most common ``link_shape`` and how many links have it, if at least ``share`` of them do."""
    if not links:
        return None
    shape, count = Counter(link_shape(link) for link in links).most_common(1)[0]
    return (shape, count) if count >= max(2, share * len(links)) or len(links) == 1 else None

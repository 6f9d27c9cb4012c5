"""Comparison keys of text: ``squash``, the one ``content_hash``, and the page's lines searched by key."""

from __future__ import annotations

import hashlib

from portalcrawl.extract import content


def squash(text: str) -> str:
    """NFKC with all whitespace removed: how titles and body text are compared."""
    # str.split() splits on exactly the characters ``\s`` matches, and is faster than a regex.
    return "".join(content.nfkc(text).split())


def content_hash(title: str | None, body_text: str) -> str:
    """SHA-256 of ``squash`` of the title and text. Squashed line by line, which gives the same string
    (a line break composes with nothing and is removed), so the lines' remembered NFKC is reused."""
    lines = [title or "", *body_text.split("\n")]
    return hashlib.sha256("".join(squash(line) for line in lines).encode("utf-8")).hexdigest()


class LineKeys:
    """``squash`` of each page line, computed on first use: the body and title searches scan the same
    lines several times."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._keys: list[str | None] = [None] * len(lines)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index: int) -> str:
        key = self._keys[index]
        if key is None:
            key = self._keys[index] = squash(self.lines[index])
        return key


def index_of(keys: LineKeys, target: str, start: int = 0) -> int:
    key = squash(target)[:40]
    if not key:
        return -1
    for index in range(start, len(keys)):
        if keys[index].startswith(key):
            return index
    return -1

"""Text fit for the archive and a terminal: valid Unicode, without control characters."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from portalcrawl.items import Article

REPLACEMENT_CHARACTER = "\ufffd"
# A lone surrogate (a JSON ``"\ud800"``) has no UTF-8 form: SQLite, a terminal and every encoder refuse
# the string. C0 and C1 controls and DEL are what terminal escape sequences are made of.
SURROGATES = "\ud800-\udfff"
LINE_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{SURROGATES}]")
# Text of several lines keeps its tabs and line breaks; a carriage return becomes a line break.
TEXT_UNSAFE = re.compile(f"\r\n?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{SURROGATES}]")
# Fields whose value is text of several lines; every other text field is one line.
MULTILINE_FIELDS = frozenset(("body_text", "body_html"))


def _replacement(match: re.Match[str]) -> str:
    character = match.group()
    if character[0] == "\r":
        return "\n"
    if character in "\t\n\x0b\x0c":
        # Whitespace of a one-line value still separates words.
        return " "
    if "\ud800" <= character <= "\udfff":
        return REPLACEMENT_CHARACTER
    return ""


def clean_text(text: str, *, multiline: bool = False) -> str:
    """``text`` with lone surrogates replaced (U+FFFD) and control characters removed; a one-line value
    keeps its tabs and line breaks as spaces, text of several lines (``multiline``) keeps them."""
    pattern = TEXT_UNSAFE if multiline else LINE_UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_replacement, text)


def _clean_value(value: Any, multiline: bool) -> Any:
    if isinstance(value, str):
        return clean_text(value, multiline=multiline)
    if isinstance(value, list):
        return [_clean_value(item, multiline) for item in value]
    if isinstance(value, dict):
        return {_clean_value(key, False): _clean_value(item, multiline) for key, item in value.items()}
    return value


def clean_article(article: Article) -> Article:
    """Every text of ``article`` (fields, list items, dict keys and values) through ``clean_text``, in
    place: what the storage pipeline stores, whatever page or feed it came from."""
    for field in dataclasses.fields(article):
        value = getattr(article, field.name)
        setattr(article, field.name, _clean_value(value, field.name in MULTILINE_FIELDS))
    return article


def terminal_text(text: str) -> str:
    """``text`` as it may be printed: line breaks and tabs kept, no control character that a terminal
    would obey (an ESC from a page's ``&#27;[2J`` would clear the user's screen)."""
    return clean_text(text, multiline=True)

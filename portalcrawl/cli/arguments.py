"""Argument types shared by the subcommands: values checked where they are parsed, never deeper."""

from __future__ import annotations

import argparse

# Far beyond any real use, and well inside SQLite's 64-bit integers (a 20-digit --limit overflowed).
MAX_COUNT = 1_000_000


def count(text: str) -> int:
    """A positive integer up to ``MAX_COUNT`` (``--limit``, ``--max-pages``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to {MAX_COUNT}, got {text}")
    return value

"""Where the team's shared data lives: ``../shared`` beside the checkout (CI puts it there).

A fresh clone has nothing beside it: tests that read this data skip, with ``SHARED_MISSING`` as the
reason, instead of failing at collection.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed"
SHARED_MISSING = f"needs the shared page corpus at {SHARED} (../shared beside the checkout; CI has it)"
needs_corpus = pytest.mark.skipif(not (CORPUS / "manifest.jsonl").is_file(), reason=SHARED_MISSING)


def corpus_manifest() -> list[dict[str, Any]]:
    """The corpus's manifest entries; none when the corpus is absent (the tests using it skip)."""
    manifest = CORPUS / "manifest.jsonl"
    if not manifest.is_file():
        return []
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]

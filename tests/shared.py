"""Where the team's shared data lives: ``../shared`` beside the checkout (CI puts it there)."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed"

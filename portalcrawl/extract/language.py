"""The language of an article's text: CJK against Latin letters, then the declared ``lang``."""

from __future__ import annotations

import re

# Runs, not characters: counting their lengths allocates one string per run instead of one per letter.
CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
LATIN_RUN = re.compile(r"[A-Za-z]+")
GERMAN_HINTS = re.compile(r"[äöüß]|\b(?:und|der|die|das|nicht|mit)\b")


def language(text: str, declared: str | None) -> str | None:
    sample = text[:3000]
    cjk = sum(map(len, CJK_RUN.findall(sample)))
    latin = sum(map(len, LATIN_RUN.findall(sample)))
    if not cjk and not latin:
        return None
    if cjk >= latin * 0.3:
        return "zh"
    if declared and not declared.lower().startswith(("zh", "en")):
        return declared.split("-")[0].lower()
    return "de" if len(GERMAN_HINTS.findall(sample.lower())) > len(sample) / 400 else "en"

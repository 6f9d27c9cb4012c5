"""The column (栏目) an article is filed under: gov meta, the breadcrumb trail, structured data."""

from __future__ import annotations

import re

from portalcrawl.extract.lines import squash
from portalcrawl.extract.stages import Stage
from portalcrawl.extract.title import BREADCRUMB_START

BREADCRUMB_MARKER = re.compile(r"当前的?位置|您的位置|现在的位置|所在位置|当前栏目")
BREADCRUMB_ARROW = re.compile(r">|»|＞|›|→")
BREADCRUMB_SPLIT = re.compile(r"\s*(?:>>|>|»|＞|›|→|/)\s*")


def find_column(
    lines: list[str], meta: dict[str, str], title: str | None, section: str | None
) -> tuple[str | None, str]:
    for key in ("columnname", "lanmu", "catalog"):
        if meta.get(key):
            return meta[key], Stage.GOV_META
    title_key = squash(title or "")
    for line in lines[:60]:
        # Unlabelled trails (``首页 > 新闻中心 > 乡镇动态 > 正文``) start at the home page.
        if BREADCRUMB_MARKER.search(line) or (BREADCRUMB_START.match(line) and BREADCRUMB_ARROW.search(line)):
            tail = re.split(r"[:：]", line, maxsplit=1)[-1]
            parts = [
                p for p in BREADCRUMB_SPLIT.split(tail) if p and p not in ("正文", "详情", "内容", "正文内容")
            ]
            parts = [p for p in parts if squash(p) != title_key]
            if len(parts) >= 2 or (parts and len(parts[0]) <= 12):
                return parts[-1], Stage.BREADCRUMB
    if section:
        return section, Stage.STRUCTURED_DATA
    return None, Stage.NONE

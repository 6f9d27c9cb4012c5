"""Where an unfinished listing chain resumes: the depth and request of its deepest settled page."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from portalcrawl.extract.listing import ListingRequest


@dataclass(frozen=True)
class ResumePoint:
    """Page ``depth`` of a listing chain (1 = the start URL): a URL, or a data request (Hanweb POSTs)."""

    depth: int
    page: str | ListingRequest

    def to_json(self) -> str:
        page = {"url": self.page} if isinstance(self.page, str) else asdict(self.page)
        return json.dumps(page, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, depth: int, text: str) -> ResumePoint | None:
        """The stored point, or None for one this version cannot read (the chain then starts over)."""
        try:
            page = json.loads(text)
            if set(page) == {"url"}:
                return cls(depth, str(page["url"]))
            return cls(depth, ListingRequest(**page))
        except (ValueError, TypeError):
            return None

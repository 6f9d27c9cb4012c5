"""``ListingRequest``: a data request a listing page's script makes, as data for the spider to send."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ListingRequest:
    """A data request a listing page makes from script (e.g. Hanweb's dataproxy POST)."""

    method: str
    url: str
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

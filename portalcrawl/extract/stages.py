"""Names of the extraction stages: what ``Article.field_stages`` says produced each field."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """The stage that produced a field, in the order extraction trusts them (a CMS family's selectors
    are ``cms:<family>``, see ``cms_stage``)."""

    PROFILE = "profile"
    GOV_META = "gov_meta"
    STRUCTURED_DATA = "structured_data"
    XXGK = "xxgk"
    META_LINE = "meta_line"
    BYLINE = "byline"
    BREADCRUMB = "breadcrumb"
    HIDDEN_META = "hidden_meta"
    SCRIPT = "script"
    SELECTOR = "selector"
    GENERIC = "generic"
    TITLE_TAG = "title_tag"
    URL = "url"
    FINGERPRINT = "fingerprint"
    NONE = "none"


def cms_stage(family: str) -> str:
    """The stage of a field a CMS family's selectors found."""
    return f"cms:{family}"

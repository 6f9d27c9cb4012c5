"""PLACEHOLDER replaced by the article-extraction owner."""

def extract_article(html, url, *, fetched_at=None, profile=None):  # type: ignore[no-untyped-def]
    raise NotImplementedError

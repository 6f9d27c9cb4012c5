"""中国政府网 (gov.cn) and sites on its CMS: ``content_<id>.htm`` articles, lists filled from JSON."""

from __future__ import annotations

import re

from portalcrawl.extract.links import absolute_url

NAME = "govcn"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {"https://www.gov.cn/zhengce/content/2026-01/16/content_5661632.htm": "2026-01-16"}
HTML_FINGERPRINTS = ('id="ucap-content"', 'name="firstpublishedtime"', "pages_content")
URL_FINGERPRINTS = (r"\.gov\.cn/.*content_\d+\.html?$",)
ARTICLE_URLS = (r"/content_\d+\.s?html?$",)
# Its dated directories (/2026-01/16/) are the generic ones.
URL_DATES = ()
COLUMN_URLS = ()
BODY = ("#UCAP-CONTENT", ".pages_content")
TITLE = (".share-title",)
DOWNLOAD_HANDLERS = ()

# A JSON file named in a column page's script: the list the script fills the page from.
JSON_FEED_REF = re.compile(r"""["']([^"'\s<>]+\.json)(?:\?[^"'\s<>]*)?["']""")


def script_feeds(scripts: str, base: str) -> list[str]:
    """The JSON feeds a listing page's inline ``scripts`` load, absolute."""
    if ".json" not in scripts:
        # The pattern needs this literal; without it, it would still try every quote of the scripts.
        return []
    found = (absolute_url(m.group(1), base) for m in JSON_FEED_REF.finditer(scripts))
    return list(dict.fromkeys(url for url in found if url))

"""Discuz! forums, which some regional portals run beside their news: ``thread-<tid>-<page>-<n>.html``.

Known by its article links only: no page fingerprint or selector has been checked on its pages yet.
"""

NAME = "discuz"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {"https://bbs.example.com/thread-12345-1-1.html": None}
HTML_FINGERPRINTS = ()
URL_FINGERPRINTS = ()
ARTICLE_URLS = (r"/thread-\d+-\d+-\d+\.html?$",)
URL_DATES = ()
COLUMN_URLS = (r"/forum-\d+-\d+\.html$",)
BODY = ()
TITLE = ()
DOWNLOAD_HANDLERS = ()

"""DESTOON B2B, on regional trade and news portals: ``show-<itemid>.html`` and ``show.php?itemid=``."""

NAME = "destoon"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {
    "http://www.example.com/news/show-123.html": None,
    "http://www.example.com/news/show.php?itemid=123": None,
    "http://www.example.com/news/show-htm-itemid-123.html": None,
}
HTML_FINGERPRINTS = ("powered by destoon", "destoon")
URL_FINGERPRINTS = (r"show\.php\?itemid=\d+", r"show-htm-itemid-\d+", r"/show-\d+(?:-\d+)?\.html$")
ARTICLE_URLS = (
    r"/show-\d+(?:-\d+)?\.html?$",
    r"show(?:-htm)?[-.]php\?itemid=\d+|[?&]itemid=\d+",
    # The rewrite of show.php?itemid=, which detection knew and listings did not.
    r"show-htm-itemid-\d+\.html?$",
)
URL_DATES = ()
COLUMN_URLS = ()
BODY = ("#article", "#content", ".content")
TITLE = ("#title",)
DOWNLOAD_HANDLERS = ()

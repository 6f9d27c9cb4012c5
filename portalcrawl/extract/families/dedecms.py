"""DedeCMS (织梦), on regional news portals: ``<Y>/<MMDD>/<aid>.html`` and ``plus/view.php?aid=``."""

NAME = "dedecms"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {
    "http://www.example.com/a/xinwen/2026/0116/1234.html": "2026-01-16",
    "http://www.example.com/plus/view.php?aid=1234": None,
}
HTML_FINGERPRINTS = ("/plus/count.php?view=yes", "dedecms", "/plus/view.php")
URL_FINGERPRINTS = (r"/a/[\w/]+/\d+\.html$", r"/plus/view\.php\?aid=")
ARTICLE_URLS = (r"/20\d{2}/\d{4}/\d+\.html?$", r"[/?&]aid=\d+")
# Its {Y}/{M}{D} directories are the generic ones.
URL_DATES = ()
COLUMN_URLS = ()
BODY = (".conTxt", ".content", "#content")
TITLE = ()
DOWNLOAD_HANDLERS = ()

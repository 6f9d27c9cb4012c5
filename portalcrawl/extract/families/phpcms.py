"""PHPCMS: ``show-<catid>-<id>-<page>.html`` and ``index.php?m=content&c=index&a=show`` articles."""

NAME = "phpcms"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {
    "http://www.example.com/news/show-6-123-1.html": None,
    "http://www.example.com/index.php?m=content&c=index&a=show&catid=6&id=123": None,
}
HTML_FINGERPRINTS = ("phpcms", "api.php?op=count")
URL_FINGERPRINTS = (r"m=content&c=index&a=show", r"/(?:show|content)-\d+-\d+-\d+\.html$")
ARTICLE_URLS = (r"/show-\d+-\d+(?:-\d+)?\.html?$", r"[?&]a=show\b")
URL_DATES = ()
COLUMN_URLS = ()
BODY = ("#Article", "#content", ".content")
TITLE = ()
DOWNLOAD_HANDLERS = ()

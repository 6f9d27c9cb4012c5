"""EmpireCMS (帝国): ``showinfo-<classid>-<id>-<page>.html`` and ``e/action/ShowInfo.php`` articles."""

NAME = "empirecms"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {
    "http://www.example.com/news/showinfo-2-15-0.html": None,
    "http://www.example.com/e/action/ShowInfo.php?classid=2&id=15": None,
}
HTML_FINGERPRINTS = ("/e/public/", "empirecms", "/e/action/")
URL_FINGERPRINTS = (r"/e/action/ShowInfo\.php", r"showinfo-\d+-\d+-\d+\.html$")
ARTICLE_URLS = (r"/showinfo-\d+-\d+(?:-\d+)?\.html?$", r"ShowInfo\.php\?")
URL_DATES = ()
COLUMN_URLS = ()
BODY = ("#text", ".content")
TITLE = ()
DOWNLOAD_HANDLERS = ()

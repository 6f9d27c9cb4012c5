"""广东 gkmlpt, the province's 政府信息公开 platform: ``gkmlpt/content/<n>/<n>/post_<id>.html`` articles.

Known by its article links only: no page fingerprint or selector has been checked on its pages yet.
"""

NAME = "gkmlpt"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {"http://www.gd.gov.cn/gkmlpt/content/4/4123/post_4123456.html": None}
HTML_FINGERPRINTS = ()
URL_FINGERPRINTS = ()
ARTICLE_URLS = (r"/post_\d+\.html?$",)
URL_DATES = ()
COLUMN_URLS = ()
BODY = ()
TITLE = ()
DOWNLOAD_HANDLERS = ()

"""TRS WCM (拓尔思), behind most provincial and city portals: ``<YYYYMM>/t<YYYYMMDD>_<id>.html`` articles."""

NAME = "trs"
# Article URLs the platform makes, and the day each one names (None: none).
EXAMPLES = {"http://www.beijing.gov.cn/ywdt/gzdt/202601/t20260116_5661632.html": "2026-01-16"}
HTML_FINGERPRINTS = ("trs_editor", "trs_ueditor", "custom_unionstyle", "createpagehtml(")
URL_FINGERPRINTS = (r"/t20\d{6}_\d+\.s?html?$",)
ARTICLE_URLS = (r"/t20\d{6}_\d+\.s?html?$",)
# t20260116_5661632: the day the document was created, case-insensitive (T20260116_… is seen too).
URL_DATES = (r"(?i:(?<![0-9a-z])t)(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})_\d+",)
COLUMN_URLS = ()
BODY = (".TRS_Editor", ".TRS_UEDITOR", ".Custom_UnionStyle", "#zoom", ".view")
TITLE = ()
# Attachments are plain links to ./P0<date><id>.pdf; the ``oldsrc`` beside them is never read.
DOWNLOAD_HANDLERS = ()

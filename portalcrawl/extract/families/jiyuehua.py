"""The provincial 政府网站集约化 platforms: ``<YYYYMM>/<32 hex>.shtml`` articles."""

NAME = "jiyuehua"
# Article URLs the platform makes, and the day each one names (None: none; a month here).
EXAMPLES = {
    "http://www.wanzai.gov.cn/wzxrmzf/tjgb/201705/9c059bf058ef4db8b3c8f920e22186fe.shtml": "2017-05",
    "http://www.example.gov.cn/c100001/202305/36796cdc82d04268913f2884cf2fe579.shtml": "2023-05",
}
HTML_FINGERPRINTS = ("政府网站集约化", 'id="fontzoom"')
URL_FINGERPRINTS = (r"/\d{6}/[0-9a-f]{32}\.shtml$", r"/c\d+/\d{6}/[0-9a-f]{32}\.shtml$")
ARTICLE_URLS = (r"/\d{6}/[0-9a-f]{32}\.s?html?$",)
# Its month directories (/201705/) are the generic ones.
URL_DATES = ()
COLUMN_URLS = ()
BODY = ("#fontzoom", "#zoom", ".tyxlContent", "#zoomcon")
TITLE = ()
DOWNLOAD_HANDLERS = ()

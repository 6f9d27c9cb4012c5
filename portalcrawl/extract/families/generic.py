"""What no one platform owns: dated-path article URLs, URL dates, body containers and download handlers
seen across many. Tried after the families' own tables."""

# Article URLs of many platforms, and the day each one names (None: none).
EXAMPLES = {
    "https://news.sina.com.cn/c/2019-11-25/doc-iihnzahi3275702.shtml": "2019-11-25",
    "http://www.example.com/2026/01/16-road-works.html": "2026-01-16",
    "http://finance.people.com.cn/n1/2024/0510/c1004-40232587.html": "2024-05-10",
    "https://news.gmw.cn/2024-05/20/content_37330990.htm": "2024-05-20",
    "https://www.1905.com/news/20240511/1674843.shtml": "2024-05-11",
    "http://money.163.com/15/0729/10/AVJ5DL5F00253B0H.html": None,
    "https://www.example.com/article/AbCdEf12.html": None,
    "https://www.example.com/detail/road-works": None,
}
ARTICLE_URLS = (
    r"/(?:19|20)\d{2}[-/]?\d{1,2}[-/]?\d{1,2}/[^/]+\.s?html?$",  # dated paths
    r"/(?:19|20)\d{2}/\d{1,2}/\d{1,2}-[^/]+\.html?$",
    r"/\d{2}/\d{4}/\d{2}/[0-9A-Z]{16}\.html$",  # NetEase
    r"/article/[0-9A-Za-z]{8,}\.html$",
    r"/(?:post|p|detail|news|article|a)/[\w-]{4,}/?$",
)
# Day directories: /2026/0116/ (DedeCMS, people.cn), /2026-01/16/ (gov.cn, Xinhua), /2026-01-16/ …
URL_DATES = (
    r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{2})(?P<d>\d{2})/",
    r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})/(?P<d>\d{2})/",
    r"/(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})(?=[/_.-])",
    r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?=[/_.-])",
    r"/(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})/",
)
# Column, index and pager URLs of many platforms: a list of these is navigation, not the main list.
COLUMN_URLS = (
    r"(?:/|/index\.s?html?|/default\.s?html?|/list[\w-]*\.s?html?|[?&](?:page|pageno|pagenum)=\d+)$",
)
# A month directory (/202601/: TRS, 集约化), when no day is found.
URL_MONTHS = (r"/(?P<y>(?:19|20)\d{2})(?P<m>0[1-9]|1[0-2])/",)
# Body containers common across platforms, tried when the family's own selectors find nothing.
BODY = (
    "#UCAP-CONTENT",
    ".pages_content",
    "#zoom",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    ".Custom_UnionStyle",
    "#fontzoom",
    ".bt-content",
    ".article-content",
    ".article_con",
    ".art_con",
    "#zoomcon",
    ".tyxlContent",
    ".conTxt",
    ".rich_media_content",
)
# Handlers that serve a file by id, with no extension in the URL: download.jsp?id=…, .do / .action /
# .aspx handlers.
DOWNLOAD_HANDLERS = (
    r"(?:downfile|download|downloadfile|filedown|getfile|attachdown)\.(?:jsp|do|action|aspx?|php)$",
)

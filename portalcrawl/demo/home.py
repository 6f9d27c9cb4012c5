"""The sample portal's home page: its columns in the navigation, among the noise of a real portal.

Besides the columns it serves 新闻中心 (a section page showing a few items of each column), 办事服务 and
便民信息 (dateless service guides), 领导信息 and a login page; every other noise link is a 404.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portalcrawl.demo.server import Portal

# Links every gov home page carries besides its news columns: none of them is a news column.
HOME_NOISE = (
    ("用户登录", "/login.jsp"),
    ("注册", "/register.jsp"),
    ("无障碍", "javascript:void(0)"),
    ("English", "/english/"),
    ("站内搜索", "/search/"),
    ("中国政府网", "http://www.gov.cn/"),
    ("省人民政府", "http://www.example-province.gov.cn/"),
    ("办事服务", "/bsfw/"),
    # Named like news, but its pages are dateless service guides.
    ("便民信息", "/bsfw/"),
    ("政民互动", "/hdjl/"),
    ("领导信息", "/zwgk/ldxx/"),
    ("政府信息公开", "/zwgk/"),
    ("下载中心", "/xzzx/"),
    ("12345热线", "/12345/"),
    ("网站地图", "/wzdt/"),
    ("联系我们", "/lxwm/"),
)
GUIDES = (
    "身份证办理",
    "社保卡申领",
    "公积金提取",
    "营业执照登记",
    "不动产登记",
    "医保报销",
    "出入境证件",
    "婚姻登记",
)
LEADERS = ("市长", "常务副市长", "副市长", "秘书长")
HEADLINES_PER_COLUMN = 3


def _links(items: list[tuple[str, str]], tag: str = "li") -> str:
    return "\n".join(f'<{tag}><a href="{escape(href)}">{escape(text)}</a></{tag}>' for text, href in items)


def _page(site: str, title: str, main: str) -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="SiteName" content="{escape(site)}">'
        f"<title>{escape(title)}</title></head><body>"
        f'<div class="top"><a href="/">首页</a> <a href="/login.jsp">用户登录</a></div>'
        f'<div class="main">{main}</div>'
        f'<div class="footer">主办单位：{escape(site)}办公室 版权所有</div></body></html>'
    )


def render(portal: Portal, path: str, base_url: str) -> str | None:
    """The page at ``path`` if it is the home page or one of its non-news sections, else None."""
    site = portal.name
    if path in ("/", "/index.html"):
        return _home(portal, base_url)
    if path == "/bsfw/":
        guides = [(name, f"/bsfw/guide_{n}.html") for n, name in enumerate(GUIDES, 1)]
        return _page(site, f"办事服务_{site}", f'<h2>办事服务</h2><ul class="list">{_links(guides)}</ul>')
    if path.startswith("/bsfw/guide_") and path.endswith(".html"):
        number = path.removeprefix("/bsfw/guide_").removesuffix(".html")
        if number.isdigit() and 1 <= int(number) <= len(GUIDES):
            name = GUIDES[int(number) - 1]
            body = f"<p>{name}的办理条件、所需材料和办理流程如下。申请人可在政务服务大厅或网上办理。</p>" * 3
            return _page(
                site, f"{name}_办事指南", f'<h1>{name}办事指南</h1><div class="content">{body}</div>'
            )
    if path == "/zwgk/ldxx/":
        leaders = [(name, f"/zwgk/ldxx/leader_{n}.html") for n, name in enumerate(LEADERS, 1)]
        return _page(site, f"领导信息_{site}", f'<h2>领导信息</h2><ul class="leaders">{_links(leaders)}</ul>')
    if path == "/xwzx/" and portal.columns:
        return _section(portal)
    if path == "/login.jsp":
        form = '<form action="/login.jsp" method="post"><input name="user"><input type="password"></form>'
        return _page(site, "用户登录", form)
    return None


def _section(portal: Portal) -> str:
    """新闻中心: the newest few items of every column with a 更多 link, as section pages show them."""
    blocks = []
    for column in portal.columns.values():
        items = [
            (portal.article(column, n)["title"], column.article_path(n)) for n in column.newest_first(1, 4)
        ]
        blocks.append(
            f'<div class="block"><h3>{escape(column.title)}</h3><ul>{_links(items)}</ul>'
            f'<a class="more" href="{escape(column.start_path)}">更多&gt;&gt;</a></div>'
        )
    return _page(portal.name, f"新闻中心_{portal.name}", "".join(blocks))


def _home(portal: Portal, base_url: str) -> str:
    columns = list(portal.columns.values())
    navigation = [
        ("首页", "/"),
        ("新闻中心", "/xwzx/"),
        *((column.title, column.start_path) for column in columns),
    ]
    headlines = []
    for column in columns:
        for n in column.newest_first(1, HEADLINES_PER_COLUMN):
            headlines.append((portal.article(column, n)["title"], column.article_path(n)))
    friends = [("中国政府网", "http://www.gov.cn/"), ("省人民政府", "http://www.example-province.gov.cn/")]
    main = (
        f'<ul class="nav">{_links(navigation)}</ul>'
        f'<div class="service">{_links(list(HOME_NOISE), "span")}</div>'
        f'<div class="headlines"><h3>要闻</h3><ul>{_links(headlines)}</ul></div>'
        + "".join(
            f'<div class="block"><h3><a href="{escape(column.start_path)}">{escape(column.title)}</a></h3>'
            f'<a class="more" href="{escape(column.start_path)}">更多&gt;&gt;</a></div>'
            for column in columns
        )
        + f'<div class="links">友情链接：{_links(friends, "span")}</div>'
    )
    return _page(portal.name, portal.name, main).replace(
        "</head>", f'<link rel="canonical" href="{escape(base_url)}/"></head>', 1
    )

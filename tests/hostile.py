"""Hostile pages: valid HTML shaped to make a careless extraction step quadratic in page size."""

from __future__ import annotations

from tests.faultserver import FaultSite

ARTICLE_PATH = "/xwdt/202601/t20260116_{id}.html"


def pager_listing(pager_links: int = 40_000, *, articles: int = 5) -> str:
    """A listing with a few real article links and a numbered pager of ``pager_links`` links."""
    items = "".join(
        f'<li><a href="{ARTICLE_PATH.format(id=n)}">第{n}号测试文章：城市更新项目推进情况通报</a>'
        f"<span>2026-01-16</span></li>"
        for n in range(1, articles + 1)
    )
    pager = " ".join(f'<a href="index_{n}.html">{n}</a>' for n in range(1, pager_links + 1))
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻动态</title></head><body>'
        f'<div class="news-list"><ul>{items}</ul></div><div>{pager}</div></body></html>'
    )


def widget_article(blocks: int = 8_000) -> str:
    """An article page of ``blocks`` body blocks, each with its own share widget."""
    block = (
        '<div class="article-content"><p>本市推进城市更新、改善人居环境，第{n}段介绍具体做法和阶段成效。</p>'
        '<div class="share-box"><a href="#">分享到微信</a></div></div>'
    )
    body = "".join(block.format(n=n) for n in range(blocks))
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>城市更新项目推进情况通报</title></head>'
        f"<body><h1>城市更新项目推进情况通报</h1>{body}</body></html>"
    )


def drop_heavy_listing(scripts: int = 60_000) -> str:
    """A listing whose one ``<div>`` holds ``scripts`` inline scripts, each followed by text."""
    items = "".join(
        f'<li><a href="{ARTICLE_PATH.format(id=n)}">第{n}号测试文章：城市更新项目推进情况通报</a>'
        f"<span>2026-01-16</span></li>"
        for n in range(1, 6)
    )
    junk = "<script></script>正文内容文字" * scripts
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻动态</title></head><body>'
        f'<div class="news-list"><ul>{items}</ul></div><div><span>说明</span>{junk}</div></body></html>'
    )


def _listing_with(extra: str) -> str:
    """A listing of five article links, followed by ``extra``."""
    items = "".join(
        f'<li><a href="{ARTICLE_PATH.format(id=n)}">第{n}号测试文章：城市更新项目推进情况通报</a>'
        f"<span>2026-01-16</span></li>"
        for n in range(1, 6)
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻动态</title></head><body>'
        f'<div class="news-list"><ul>{items}</ul></div>{extra}</body></html>'
    )


def commented_links_listing(comments: int = 20_000) -> str:
    """A listing followed by ``comments`` HTML comments, each holding a link, and no pager."""
    return _listing_with("".join(f'<!--<a href="/old/{n}.html">旧版链接{n}</a>-->' for n in range(comments)))


def pager_script_listing(functions: int = 20_000) -> str:
    """A listing whose pager scripts define ``functions`` functions, each writing a joined next link:
    in scripts of 200 functions each and all again in one script."""
    write = 'document.write("<a href=\\"index_" + (p + {n}) + ".shtml\\">下一页</a>");'
    defined = [f"function showPage{n}(p) {{ {write.format(n=n)} }}" for n in range(functions)]
    scripts = "".join(f"<script>{''.join(defined[i : i + 200])}</script>" for i in range(0, functions, 200))
    return _listing_with(f"{scripts}<script>{''.join(defined)}</script>")


def javascript_pager_listing(links: int = 40_000) -> str:
    """A listing with a pager of ``links`` ``javascript:gotoPage(n)`` links and the function they call."""
    pager = " ".join(f'<a href="javascript:gotoPage({n})">{n}</a>' for n in range(1, links + 1))
    select = "".join(f'<option value="index_{n}.html">第{n}页</option>' for n in range(1, links + 1))
    script = '<script>function gotoPage(n) { window.location.href = "list.jsp?page=" + n; }</script>'
    return _listing_with(f'{script}<div class="page">{pager}</div><select>{select}</select>')


def serve(routes: dict[str, str | bytes], *, host: str = "127.0.0.1", content_type: str = "") -> FaultSite:
    """A started loopback site answering each path of ``routes`` with its page (404 elsewhere)."""
    site = FaultSite(host)
    for path, body in routes.items():
        kind = content_type or _content_type(path)
        site.routes[path] = lambda handler, body=body, kind=kind: handler.send_page(body, content_type=kind)
    return site.start()


def _content_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json"
    if path.endswith(".xml"):
        return "application/xml"
    return "text/html; charset=utf-8"


def nested_json_feed(values: int = 340_000, *, articles: int = 5) -> str:
    """A JSON feed whose records come after ``values`` empty lists, searched breadth-first."""
    records = ",".join(f'{{"url": "{ARTICLE_PATH.format(id=n)}"}}' for n in range(1, articles + 1))
    return f'{{"junk": [{",".join(["[]"] * values)}], "data": {{"list": [{records}]}}}}'


def crowded_feed_item(links: int = 20_000) -> str:
    """An RSS feed whose one item holds ``links`` links."""
    entries = "".join(f"<link>http://127.0.0.1{ARTICLE_PATH.format(id=n)}</link>" for n in range(links))
    return f"<rss><channel><item><pubDate>2026-01-16</pubDate>{entries}</item></channel></rss>"

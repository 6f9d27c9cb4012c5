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

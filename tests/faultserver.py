"""A loopback portal that misbehaves in every way the real web does, one fault per article URL.

Real sockets on 127.0.0.x, no mocking: hanging answers, resets, 5xx with and without Retry-After,
truncated bodies, a gzip bomb, a 60 MB page, redirect loops and escapes to another host, 404 storms,
WAF walls, robots.txt variants, broken encodings and pathological HTML. ``FaultPortal`` starts the sites,
lists the URL of every case and what a correct crawl does with it; ``start_crawl`` runs ``scrapy crawl``
against it the way cron does.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ARTICLE_PATH = "/xwdt/202601/t20260116_{id}.html"
PRIVATE_PATH = "/private/202601/t20260116_{id}.html"
LISTING_PATH = "/list/index.html"
# The longest any handler keeps a connection open without answering.
HANG_SECONDS = 30.0

Handler = Callable[["FaultHandler"], None]
# Sites of the fault matrix that are no start URL: reached (or not) only through links and redirects.
NOT_STARTED = ("elsewhere", "robots_apex")


def start_crawl(urls: list[str], db_path: Path, cwd: Path, **settings: str) -> subprocess.Popen:
    """Start ``scrapy crawl portal -a url=…`` in a subprocess, the way cron runs it."""
    args = [sys.executable, "-m", "scrapy", "crawl", "portal", "-a", "url=" + ",".join(urls)]
    for name, value in {"PORTALCRAWL_DB_PATH": str(db_path), **settings}.items():
        args += ["-s", f"{name}={value}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "portalcrawl.settings", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def article_html(
    ident: int, *, title: str | None = None, charset: str | None = "utf-8", extra: str = ""
) -> str:
    """A gov-style article page (47号 meta, TRS body) whose text is unique to ``ident``."""
    title = title or f"第{ident}号测试文章：城市更新项目推进情况通报"
    paragraphs = "".join(
        f"<p>这是第{ident}号文章的第{n}段正文，介绍本市推进城市更新、改善人居环境的具体做法和阶段成效。</p>"
        for n in range(1, 7)
    )
    meta_charset = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!DOCTYPE html><html><head>{meta_charset}<title>{title}_测试市人民政府</title>"
        f'<meta name="ArticleTitle" content="{title}">'
        f'<meta name="PubDate" content="2026-01-16 10:{ident % 60:02d}">'
        '<meta name="ContentSource" content="测试市住建局"></head><body>'
        '<div class="nav"><a href="/">首页</a> <a href="/list/index.html">新闻动态</a></div>'
        f'<div class="article"><h1>{title}</h1><div class="info">发布时间：2026-01-16 10:{ident % 60:02d}'
        f' 来源：测试市住建局</div><div class="TRS_Editor">{extra}{paragraphs}</div></div>'
        '<div class="footer">主办：测试市人民政府办公室</div></body></html>'
    )


def listing_html(links: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><a href="{href}" title="{text}" target="_blank">{text}</a><span>2026-01-16</span></li>'
        for href, text in links
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻动态_测试市人民政府</title></head><body>'
        f'<div class="news-list"><ul>{items}</ul></div></body></html>'
    )


@dataclass
class Case:
    """One URL of the fault portal: what it does and what the crawl must make of it."""

    name: str
    url: str
    # "stored": an article row must exist; "recorded": a fetch_errors row must exist;
    # "stored_or_recorded": either, as long as nothing crashes; "untouched": never requested.
    expect: str
    title: str | None = None
    reason_contains: str = ""


class FaultHandler(BaseHTTPRequestHandler):
    server: FaultSite
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the crawl's log, not the server's."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.server.hits[path] += 1
        route = self.server.routes.get(path)
        if route is None:
            self.send_page(b"<html><title>404 Not Found</title><body>Not Found</body></html>", status=404)
            return
        with contextlib.suppress(ConnectionError, OSError, ValueError):
            route(self)

    def send_page(
        self,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        **headers: str,
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(data)

    def hang(self) -> None:
        self.server.stopping.wait(HANG_SECONDS)
        self.close_connection = True

    def reset(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST instead of an orderly FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class FaultSite(ThreadingHTTPServer):
    """One host:port of the fault portal with its own routes (and so its own robots.txt)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), FaultHandler)
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up on a bomb or a hang are the point of this server, not errors."""

    def start(self) -> FaultSite:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


def _page(
    body: bytes | str, status: int = 200, content_type: str = "text/html; charset=utf-8", **headers: str
) -> Handler:
    return lambda handler: handler.send_page(body, status=status, content_type=content_type, **headers)


def _slow(route: Handler, seconds: float) -> Handler:
    def handle(handler: FaultHandler) -> None:
        handler.server.stopping.wait(seconds)
        route(handler)

    return handle


def _redirect(location: str | Callable[[], str]) -> Handler:
    def handle(handler: FaultHandler) -> None:
        target = location() if callable(location) else location
        handler.send_page(b"", status=302, Location=target)

    return handle


def _truncated(handler: FaultHandler) -> None:
    body = article_html(9108).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body) + 10_000))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)
    handler.close_connection = True


def _gzip_bomb(bomb: bytes) -> Handler:
    def handle(handler: FaultHandler) -> None:
        handler.send_page(bomb, content_type="text/html; charset=utf-8", Content_Encoding="gzip")

    return handle


def _huge(size: int) -> Handler:
    def handle(handler: FaultHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65_530 + b"</p>"
        sent = 0
        while sent < size and not handler.server.stopping.is_set():
            handler.wfile.write(chunk)
            sent += len(chunk)
        handler.close_connection = True

    return handle


def _retry_after_date(seconds: int) -> Handler:
    def handle(handler: FaultHandler) -> None:
        when = email.utils.formatdate(time.time() + seconds, usegmt=True)
        handler.send_page(b"<html><body>Too Many Requests</body></html>", status=429, Retry_After=when)

    return handle


RUISHU_WALL = (
    b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    b"<script>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=84123;$_ts.cd=\"qEfxrrAlWGLqcsAqDa\";</script>"
    b'<script type="text/javascript" charset="utf-8" src="/4QbVtADbnLVIc/d.FxJzG50F.3d5fca5.js" r="m">'
    b"</script>"
    b"</head><body></body></html>"
)
JIASULE_WALL = (
    b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')+('a')"
    b"+('n')+('c')+('e')+('_')+('s')+('=')+('1768530000.123|0|xyz');location.href=location.pathname"
    b"+location.search</script>"
)
CHALLENGE_PAGE = (
    "<html><head><meta charset='utf-8'><title>安全验证</title></head><body>"
    "<div id='captcha'>请完成安全验证后继续访问</div><script src='/verify.js'></script></body></html>"
)


@dataclass
class FaultPortal:
    """All fault sites, started together; ``cases`` says what each URL does and what must happen."""

    slow_article_seconds: float = 0.0
    good_articles: int = 0
    sites: dict[str, FaultSite] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)

    def __enter__(self) -> FaultPortal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FaultPortal:
        if self.good_articles:
            self._build_slow_portal()
        else:
            self._build_fault_matrix()
        for site in self.sites.values():
            site.start()
        return self

    def stop(self) -> None:
        for site in self.sites.values():
            site.stop()

    @property
    def start_urls(self) -> list[str]:
        return [site.base + LISTING_PATH for name, site in self.sites.items() if name not in NOT_STARTED]

    def _good(self, site: FaultSite, ident: int, links: list[tuple[str, str]], name: str) -> None:
        path = ARTICLE_PATH.format(id=ident)
        title = f"第{ident}号测试文章：城市更新项目推进情况通报"
        site.routes[path] = self._article_route(ident)
        links.append((path, title))
        self.cases.append(Case(name, site.base + path, "stored", title=title))

    def _article_route(self, ident: int) -> Handler:
        body = article_html(ident).encode()
        delay = self.slow_article_seconds

        def handle(handler: FaultHandler) -> None:
            if delay:
                handler.server.stopping.wait(delay)
            handler.send_page(body)

        return handle

    def _walled_site(
        self, site: FaultSite, walls: list[tuple[str, Handler]], first_id: int, reason: str
    ) -> None:
        links: list[tuple[str, str]] = []
        for n, (name, route) in enumerate(walls):
            path = ARTICLE_PATH.format(id=first_id + n)
            site.routes[path] = route
            links.append((path, f"受保护的文章{n}"))
            self.cases.append(Case(name, site.base + path, "recorded", reason_contains=reason))
        site.routes[LISTING_PATH] = _page(listing_html(links))

    def _build_slow_portal(self) -> None:
        """A well-behaved portal with slow article pages: for kill -9 and SIGTERM tests."""
        site = self.sites["main"] = FaultSite()
        site.routes["/robots.txt"] = _page("User-agent: *\nDisallow:\n", content_type="text/plain")
        links: list[tuple[str, str]] = []
        for ident in range(1, self.good_articles + 1):
            self._good(site, ident, links, f"good-{ident}")
        site.routes[LISTING_PATH] = _page(listing_html(links))

    def _build_fault_matrix(self) -> None:
        main = self.sites["main"] = FaultSite()
        elsewhere = self.sites["elsewhere"] = FaultSite("127.0.0.2")
        walled = self.sites["walled"] = FaultSite("127.0.0.3")
        mixed = self.sites["waf_mixed"] = FaultSite("127.0.0.4")
        robots_html = self.sites["robots_html"] = FaultSite()
        robots_404 = self.sites["robots_404"] = FaultSite()
        robots_hang = self.sites["robots_hang"] = FaultSite()

        elsewhere.routes[ARTICLE_PATH.format(id=1)] = self._article_route(1)
        main.routes["/robots.txt"] = _page(
            "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.02\n", content_type="text/plain"
        )
        robots_html.routes["/robots.txt"] = _page(
            "<html><head><title>首页</title></head><body><a href='/'>欢迎访问</a></body></html>"
        )
        robots_hang.routes["/robots.txt"] = FaultHandler.hang

        bomb = gzip.compress(b"<html><body>" + b" " * (64 * 1024 * 1024), compresslevel=9)
        faults: list[tuple[str, Handler, str]] = [
            ("timeout", FaultHandler.hang, ""),
            ("connection_reset", FaultHandler.reset, ""),
            ("http_500", _page("<h1>500 Internal Server Error</h1>", status=500), "500"),
            ("http_502", _page("<h1>502 Bad Gateway</h1>", status=502), "502"),
            ("http_503", _page("<h1>503 Service Unavailable</h1>", status=503), ""),
            ("http_503_retry_after", _page("<h1>系统繁忙</h1>", status=503, Retry_After="1"), ""),
            ("http_429_retry_after_date", _retry_after_date(1), ""),
            ("truncated_body", _truncated, ""),
            ("gzip_bomb", _gzip_bomb(bomb), ""),
            ("page_60mb", _huge(60 * 1024 * 1024), ""),
            ("redirect_loop", _redirect(lambda: main.base + "/loop/a.html"), "redirect"),
            (
                "redirect_other_host",
                _redirect(lambda: elsewhere.base + ARTICLE_PATH.format(id=1)),
                "refused_url",
            ),
        ]
        main.routes["/loop/a.html"] = _redirect(lambda: main.base + "/loop/b.html")
        main.routes["/loop/b.html"] = _redirect(lambda: main.base + "/loop/a.html")

        rng = random.Random(6)
        surrogates = (
            "控制字符\x00\x01\x08\x0b\x1b\x7f与孤立代理".encode()
            + b"\xed\xa0\x80\xed\xbf\xbf"
            + "结束".encode()
        )
        nested = "<div>" * 100_000 + "嵌套极深的正文。" * 20 + "</div>" * 100_000
        long_title = "超长标题" * 2500
        contents: list[tuple[str, Handler, str | None]] = [
            (
                "wrong_charset",
                _page(
                    article_html(9201, charset="gbk").encode("gbk"), content_type="text/html; charset=utf-8"
                ),
                "第9201号测试文章：城市更新项目推进情况通报",
            ),
            (
                "missing_charset",
                _page(article_html(9202, charset=None).encode("gbk"), content_type="text/html"),
                "第9202号测试文章：城市更新项目推进情况通报",
            ),
            (
                "malformed_html",
                _page("<html><head><title>残缺<body><div><p>未闭合<table><tr><td>" * 50),
                None,
            ),
            ("empty_html", _page(b""), None),
            ("binary_as_html", _page(rng.randbytes(200_000)), None),
            ("nested_100k_tags", _page(article_html(9206, extra=nested)), None),
            (
                "control_chars_and_surrogates",
                _page(
                    article_html(9207)
                    .encode()
                    .replace(
                        b'<div class="TRS_Editor">',
                        b'<div class="TRS_Editor"><p>' + surrogates + b"</p>",
                    )
                ),
                None,
            ),
            ("title_10k_chars", _page(article_html(9208, title=long_title)), None),
            (
                "redirected_article",
                _redirect(lambda: main.base + ARTICLE_PATH.format(id=9299)),
                "第9299号测试文章：城市更新项目推进情况通报",
            ),
        ]
        main.routes[ARTICLE_PATH.format(id=9299)] = self._article_route(9299)

        links: list[tuple[str, str]] = []
        ident = 9100
        for name, route, reason in faults:
            ident += 1
            path = ARTICLE_PATH.format(id=ident)
            main.routes[path] = route
            links.append((path, f"故障用例{name}"))
            self.cases.append(Case(name, main.base + path, "recorded", reason_contains=reason))
            self._good(main, ident - 9000, links, f"good-after-{name}")
        for n in range(30):
            path = ARTICLE_PATH.format(id=9300 + n)
            links.append((path, f"已删除的文章{n}"))
            self.cases.append(Case(f"404_storm_{n}", main.base + path, "recorded", reason_contains="404"))
        path = PRIVATE_PATH.format(id=9400)
        main.routes[path] = self._article_route(9400)
        links.append((path, "robots禁止的文章"))
        self.cases.append(Case("robots_disallowed", main.base + path, "untouched"))
        for offset, (name, route, title) in enumerate(contents):
            path = ARTICLE_PATH.format(id=9201 + offset)
            main.routes[path] = route
            links.append((path, f"内容用例{name}"))
            expect = "stored" if title else "stored_or_recorded"
            self.cases.append(Case(name, main.base + path, expect, title=title))
        main.routes[LISTING_PATH] = _page(listing_html(links))

        # A 瑞数-protected column: the listing answers, every article is walled, so the breaker trips.
        # Its answers take a real round trip: on instant loopback every queued request would be
        # downloaded before the first answer reached the middleware.
        self._walled_site(
            walled,
            [(f"wall_ruishu_412_{n}", _slow(_page(RUISHU_WALL, status=412), 0.2)) for n in range(9)],
            9500,
            "blocked",
        )
        # Two other kinds of wall on a host of their own, below the breaker's threshold.
        self._walled_site(
            mixed,
            [
                (
                    "wall_jiasule_521",
                    _page(JIASULE_WALL, status=521, Set_Cookie="__jsluid_h=0123; max-age=3600"),
                ),
                ("wall_challenge_200", _page(CHALLENGE_PAGE)),
            ],
            9600,
            "blocked: waf_",
        )

        # A listing needs two links to be recognised as one.
        for name, site, ident in (
            ("robots_html", robots_html, 610),
            ("robots_404", robots_404, 620),
        ):
            site_links: list[tuple[str, str]] = []
            for n in range(2):
                self._good(site, ident + n, site_links, f"good-{name}-{n}")
            site.routes[LISTING_PATH] = _page(listing_html(site_links))
        self._robots_unavailable_sites()

    def _robots_unavailable_sites(self) -> None:
        """RFC 9309: a robots.txt redirect is followed to any host; no answer or a 5xx disallows all."""
        robots_503 = self.sites["robots_503"] = FaultSite()
        robots_503.routes["/robots.txt"] = _page("<h1>503 Service Unavailable</h1>", status=503)
        # www → apex: the rules live on another host (here another loopback address, same port).
        robots_redirect = self.sites["robots_redirect"] = FaultSite()
        apex = self.sites["robots_apex"] = FaultSite("127.0.0.5", robots_redirect.server_address[1])
        robots_redirect.routes["/robots.txt"] = _redirect(apex.base + "/robots.txt")
        apex.routes["/robots.txt"] = _page("User-agent: *\nDisallow: /xwdt/\n", content_type="text/plain")
        for name, site, ident in (
            ("robots_hang", self.sites["robots_hang"], 630),
            ("robots_503", robots_503, 640),
            ("robots_redirect", robots_redirect, 650),
        ):
            site_links: list[tuple[str, str]] = []
            for n in range(2):
                self._good(site, ident + n, site_links, f"good-{name}-{n}")
                self.cases[-1].expect = "untouched"
            site.routes[LISTING_PATH] = _page(listing_html(site_links))
            if site is not robots_redirect:
                listing = Case(
                    f"{name}_listing",
                    site.base + LISTING_PATH,
                    "recorded",
                    reason_contains="robots_unavailable",
                )
                self.cases.append(listing)

"""A loopback site that serves a fixed set of pages (bytes and content type per path), for crawl tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Page = tuple[int, str, bytes]  # status, Content-Type, body


@dataclass
class PageServer:
    """``pages`` maps a path (with its query) to an answer; any other path is a 404. Tests may change
    ``pages`` between crawls. ``requests`` lists every path asked for, in order."""

    pages: dict[str, Page] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> PageServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                status, content_type, body = site.pages.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest output is for failures."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def html(self, path: str, page: str, *, encoding: str = "utf-8", charset: str | None = None) -> None:
        """Serve ``page`` at ``path`` as ``encoding`` bytes, declared ``charset`` in the header if given."""
        content_type = f"text/html; charset={charset}" if charset else "text/html"
        self.pages[path] = (200, content_type, page.encode(encoding))

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def article_page(title: str, *, date_line: str = "", charset: str = "utf-8", paragraphs: int = 4) -> str:
    """A plain article page: a headline, an optional date line and a body unique to the title."""
    body = "".join(
        f"<p>{title}的第{n}段正文：本市持续推进相关工作，各部门密切配合，取得了阶段性成效，群众满意度不断提升。</p>"
        for n in range(1, paragraphs + 1)
    )
    info = f'<div class="info">{date_line}</div>' if date_line else ""
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>{title}</title></head><body>'
        f'<div class="header"><a href="/">首页</a></div><div class="article"><h1>{title}</h1>{info}'
        f'<div class="content">{body}</div></div><div class="footer">版权所有：测试市人民政府</div>'
        "</body></html>"
    )


def listing_page(items: list[tuple[str, str, str]], *, charset: str = "utf-8", extra: str = "") -> str:
    """A column page: one ``<li>`` per (href, title, shown date)."""
    rows = "".join(
        f'<li><a href="{href}">{title}</a><span>{shown}</span></li>' for href, title, shown in items
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>新闻动态</title></head><body>'
        f'<div class="list"><ul>{rows}</ul></div>{extra}</body></html>'
    )

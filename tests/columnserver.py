"""A news portal on 127.0.0.1 whose columns publish daily up to today, and can be redesigned.

``/<column>/`` lists every article of the column (newest first, one page); article ``n`` of a column
was published ``offset + n`` days before today. ``redesign(column)`` moves its articles to URLs of
another shape, as a portal relaunch does; ``dead_links`` adds listed articles that answer 404.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class NewsColumn:
    articles: int
    offset: int = 0
    dead_links: int = 0
    redesigned: bool = False

    def published(self, n: int) -> date:
        return date.today() - timedelta(days=self.offset + n)


class ColumnPortal:
    def __init__(self, columns: dict[str, NewsColumn]) -> None:
        self.columns = columns
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = portal.page(self.path)
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def start_url(self, column: str) -> str:
        return f"{self.base}/{column}/"

    def redesign(self, column: str) -> None:
        self.columns[column].redesigned = True

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _article_path(self, name: str, n: int) -> str:
        column = self.columns[name]
        day = column.published(n)
        if column.redesigned:
            return f"/{name}/content/{day:%Y%m}/{n}.shtml"
        return f"/{name}/{day:%Y%m}/t{day:%Y%m%d}_{n}.html"

    def page(self, path: str) -> str | None:
        if path == "/robots.txt":
            return "User-agent: *\nAllow: /\n"
        name = path.strip("/").split("/")[0]
        column = self.columns.get(name)
        if column is None:
            return None
        if path == f"/{name}/":
            items = [
                f'<li><a href="{self._article_path(name, n)}">第{n}号 关于做好第{n}项重点工作的通知</a>'
                f"<span>{column.published(n):%Y-%m-%d}</span></li>"
                for n in range(1, column.articles + 1)
            ]
            today = date.today()
            items += [
                f'<li><a href="/{name}/{today:%Y%m}/t{today:%Y%m%d}_{gone}.html">第{gone}号 撤下的通知</a>'
                for gone in range(901, 901 + column.dead_links)
            ]
            return f"<html><body><ul class='list'>{''.join(items)}</ul></body></html>"
        for n in range(1, column.articles + 1):
            if path == self._article_path(name, n):
                day = column.published(n)
                return (
                    f"<html><head><title>第{n}号通知</title></head><body>"
                    f"<h1>第{n}号 关于做好第{n}项重点工作的通知</h1>"
                    f"<div class='info'>发布时间：{day:%Y-%m-%d} 10:00 来源：市政府办公室</div>"
                    "<div class='content'>"
                    + "<p>为进一步做好相关工作，现将有关事项通知如下，请各单位认真贯彻落实。</p>" * 4
                    + "</div></body></html>"
                )
        return None

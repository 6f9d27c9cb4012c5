"""A loopback portal serving attachments the way government portals do (TRS, Hanweb, download.jsp)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, urlsplit

from tests.attachment_files import make_doc, make_docx, make_ofd, make_pdf, make_xlsx

# One phrase per format, found nowhere but inside that file.
PHRASES = {
    "pdf": "Quarterly road maintenance ledger",
    "doc": "乡镇养护人员名单核定",
    "wps": "金山文字格式补充说明",
    "docx": "农村公路养护考核细则",
    "xlsx": "养护补助资金分配明细",
    "ofd": "版式文件签章核验要求",
}
LISTING = "/xwzx/tzgg/"
ROBOTS = "User-agent: *\nDisallow: /private/\n"
GBK_NAME = "补助资金分配表.xlsx"


def _article(title: str, date: str, links: list[tuple[str, str]]) -> bytes:
    anchors = "\n".join(f'<a href="{href}">{text}</a><br>' for href, text in links)
    paragraphs = "".join(
        f"<p>{line}</p>"
        for line in (
            "各乡镇人民政府，县直有关单位：",
            "为进一步提升农村公路养护水平，保障群众安全便捷出行，现就有关工作通知如下，请认真贯彻落实。",
            "一、压实养护责任。各乡镇要落实县道、乡道、村道分级养护责任，明确养护人员和养护经费。",
            "二、加强日常巡查。汛期前后要组织对桥梁、涵洞、边坡进行全面排查，发现隐患及时处置。",
            "特此通知。",
        )
    )
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{date} 09:30">
</head><body><div class="main"><h1>{title}</h1><div class="info">发布时间：{date} 09:30</div>
<div class="view"><div class="TRS_Editor">{paragraphs}</div></div>
<div class="fj">附件：{anchors}</div></div>
<div class="footer">主办：示范县人民政府办公室</div></body></html>""".encode()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a download past its timeout) resets the connection: expected here."""


class AttachmentPortal:
    """``start()`` serves on 127.0.0.1; ``hits`` counts requests per path (with query)."""

    def __init__(self, *, oversize: int = 300_000, slow_pdf_seconds: float = 0.0) -> None:
        self.slow_pdf_seconds = slow_pdf_seconds
        self.hits: Counter[str] = Counter()
        self.referers: dict[str, str] = {}
        self.files = {
            "/xwzx/tzgg/202503/P020250312000001.pdf": make_pdf([PHRASES["pdf"], "second page"]),
            "/uploads/2025/kaohe.docx": make_docx(["考核内容如下", PHRASES["docx"]]),
            "/xwzx/tzgg/202503/P020250312000002.ofd": make_ofd([f"第一页\n{PHRASES['ofd']}"]),
            "/xwzx/tzgg/202503/P020250312000003.doc": make_doc(["名单如下", PHRASES["doc"]]),
            "/xwzx/tzgg/202503/P020250312000004.wps": make_doc(["说明如下", PHRASES["wps"]]),
            "/files/same-a.pdf": make_pdf(["the same file under three urls"]),
            "/files/huge.pdf": b"%PDF-1.4\n" + b"0" * oversize,
            "/private/secret.pdf": make_pdf(["robots says no"]),
        }
        self.files["/files/same-b.pdf"] = self.files["/files/same-a.pdf"]
        self._server: ThreadingHTTPServer | None = None
        self.base = ""

    def articles(self) -> dict[str, bytes]:
        off_site = "http://files.other-portal.cn/a.pdf"
        return {
            "/xwzx/tzgg/202503/t20250312_1001.html": _article(
                "关于做好农村公路养护工作的通知",
                "2025-03-12",
                [
                    ("./P020250312000001.pdf", "1.养护台账.pdf"),
                    ("/module/download/downfile.jsp?classid=0&filename=kaohe.docx", "2.考核细则.docx"),
                    ("/jact/front/download.jsp?id=7", "3.资金分配表"),
                    ("./P020250312000002.ofd", "4.签章要求.ofd"),
                    ("./P020250312000003.doc", "5.人员名单.doc"),
                    ("./P020250312000004.wps", "6.补充说明.wps"),
                ],
            ),
            "/xwzx/tzgg/202503/t20250311_1002.html": _article(
                "关于公布养护检查结果的通知",
                "2025-03-11",
                [
                    ("/files/same-a.pdf", "结果A.pdf"),
                    ("/files/same-b.pdf", "结果B.pdf"),
                    ("/download.jsp?id=8", "结果C.pdf"),
                    ("/files/missing.pdf", "已删除.pdf"),
                    ("/files/gone.pdf", "不存在.pdf"),
                    ("/files/huge.pdf", "超大文件.pdf"),
                    ("/private/secret.pdf", "内部文件.pdf"),
                    ("http://10.1.2.3/intranet.pdf", "内网文件.pdf"),
                    (off_site, "外站文件.pdf"),
                ],
            ),
        }

    def listing(self) -> bytes:
        items = "".join(
            f'<li><a href="{path}">{title}</a><span>{date}</span></li>'
            for path, title, date in (
                ("./202503/t20250312_1001.html", "关于做好农村公路养护工作的通知", "2025-03-12"),
                ("./202503/t20250311_1002.html", "关于公布养护检查结果的通知", "2025-03-11"),
            )
        )
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
            f'<div class="list"><ul>{items}</ul></div></body></html>'
        ).encode()

    def answer(self, target: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(target).path
        self.hits[target] += 1
        if headers.get("Referer"):
            self.referers[target] = headers["Referer"]
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, ROBOTS.encode()
        if path in (LISTING, f"{LISTING}index.html"):
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.listing()
        if path in self.articles():
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self.articles()[path]
        if path == "/module/download/downfile.jsp":
            return 302, {"Location": "/uploads/2025/kaohe.docx"}, b""
        if target == "/jact/front/download.jsp?id=7":
            disposition = b'attachment; filename="' + GBK_NAME.encode("gbk") + b'"'
            return (
                200,
                {"Content-Type": "application/octet-stream", "Content-Disposition": disposition},
                (make_xlsx([["项目", "金额"], [PHRASES["xlsx"], "1200"]])),
            )
        if target == "/download.jsp?id=8":
            name = quote("结果C.pdf")
            headers_out = {
                "Content-Type": "application/pdf",
                "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            }
            return 200, headers_out, self.files["/files/same-a.pdf"]
        if path == "/files/missing.pdf":
            # Soft 404: the portal's error page, with a 200.
            return 200, {"Content-Type": "application/pdf"}, "<html><body>文件不存在</body></html>".encode()
        if path == "/xwzx/tzgg/202503/P020250312000001.pdf" and self.slow_pdf_seconds:
            time.sleep(self.slow_pdf_seconds)
        if path in self.files:
            return 200, {"Content-Type": "application/octet-stream"}, self.files[path]
        return 404, {"Content-Type": "text/html"}, b"<html><body>404</body></html>"

    def start(self) -> AttachmentPortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body = portal.answer(self.path, self.headers)
                self.send_response(status)
                for name, value in headers.items():
                    if isinstance(value, bytes):
                        self.send_header(name, value.decode("latin-1"))
                    else:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

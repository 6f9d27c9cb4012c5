"""Attachment links: which links of an article page are its documents, and where they lead."""

from __future__ import annotations

import pytest

from portalcrawl.extract.article import extract_article
from portalcrawl.extract.attachments import document_url

PAGE = "http://www.sfx.gov.cn/xxgk/tzgg/202503/t20250312_1234567.html"


@pytest.mark.parametrize(
    ("href", "named", "expected"),
    [
        (
            "./P020250312384756102938.pdf",
            False,
            "http://www.sfx.gov.cn/xxgk/tzgg/202503/P020250312384756102938.pdf",
        ),
        (
            "/module/download/downfile.jsp?classid=0&filename=1611221000123.pdf",
            False,
            "http://www.sfx.gov.cn/module/download/downfile.jsp?classid=0&filename=1611221000123.pdf",
        ),
        ("/jact/front/download.jsp?id=4471", False, "http://www.sfx.gov.cn/jact/front/download.jsp?id=4471"),
        ("/pdfjs/web/viewer.html?file=/upload/a.pdf", False, "http://www.sfx.gov.cn/upload/a.pdf"),
        ("/getDoc?file=b.docx", False, "http://www.sfx.gov.cn/getDoc?file=b.docx"),
        ("/attach/8c1f", True, "http://www.sfx.gov.cn/attach/8c1f"),
        # A page whose title ends in ".pdf" is still a page; so are plain article links and scripts.
        ("/art/2025/3/12/art_1_2.html", True, None),
        ("/xxgk/tzgg/202503/t20250312_1.html", False, None),
        ("javascript:void(0)", True, None),
        ("mailto:a@b.cn", False, None),
        ("/download.jsp", False, None),
    ],
)
def test_document_url(href: str, named: bool, expected: str | None) -> None:
    assert document_url(href, PAGE, named=named) == expected


def _page(after_body: str, in_body: str = "") -> str:
    return f"""<html><head><title>通知</title></head><body>
    <div class="main"><h1>关于开展专项检查的通知</h1>
    <div class="content"><div class="TRS_Editor">
    <p>各单位：为做好专项检查工作，现将有关事项通知如下，请认真贯彻落实，确保各项工作落到实处。</p>
    <p>一、检查范围为全县各类企业和单位，重点检查安全生产制度落实情况。</p>{in_body}
    </div></div>{after_body}</div>
    <div class="sidebar"><a href="/other/W0201.pdf">其他文件.pdf</a></div></body></html>"""


def test_a_fj_block_after_the_body_is_read_and_oldsrc_is_not() -> None:
    html = _page(
        '<div class="fj">附件：<a href="./P0201.pdf" oldsrc="/protect/P0201.pdf">检查表.pdf</a></div>'
    )
    article = extract_article(html, PAGE)
    assert [a["url"] for a in article.attachments] == ["http://www.sfx.gov.cn/xxgk/tzgg/202503/P0201.pdf"]
    assert article.attachments[0]["name"] == "检查表.pdf"


def test_a_block_after_the_body_counts_by_its_label() -> None:
    html = _page('<div><span>附件下载</span><a href="/download.jsp?id=9">名单</a></div>')
    assert [a["url"] for a in extract_article(html, PAGE).attachments] == [
        "http://www.sfx.gov.cn/download.jsp?id=9"
    ]


def test_documents_of_a_sidebar_are_not_attachments() -> None:
    html = _page("")
    assert extract_article(html, PAGE).attachments == []


def test_links_written_by_inline_scripts() -> None:
    html = _page(
        "<script>var rel_appendix = '<a href=\"./P0202.ofd\">示意图.ofd</a>' +"
        " '<a href=\"/download.jsp?id=7\">名单.xls</a>';</script>"
    )
    assert [a["url"] for a in extract_article(html, PAGE).attachments] == [
        "http://www.sfx.gov.cn/xxgk/tzgg/202503/P0202.ofd",
        "http://www.sfx.gov.cn/download.jsp?id=7",
    ]

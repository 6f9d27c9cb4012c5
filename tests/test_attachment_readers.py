"""Attachment readers and their sandbox: each format's text, real files, bombs ending in a status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from portalcrawl.attachments.readers import Caps, read_bytes, read_text
from portalcrawl.attachments.sandbox import Sandbox
from portalcrawl.attachments.sniff import disposition_filename, sniff_kind
from tests.attachment_files import (
    declare_size,
    make_doc,
    make_docx,
    make_flate_bomb_pdf,
    make_ofd,
    make_pdf,
    make_xlsx,
    make_zip_bomb,
)

pytest.importorskip("pypdfium2", reason="needs the attachments extra: pip install -e '.[attachments]'")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "attachments"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"{SHARED} (real attachment samples) is not beside the checkout"
)


@pytest.mark.parametrize(
    ("data", "kind", "text", "pages"),
    [
        (make_pdf(["first page", "second page"]), "pdf", "first page\fsecond page", 2),
        (make_docx(["第一段文字", "第二段文字"]), "docx", "第一段文字\n第二段文字", 1),
        (make_xlsx([["项目", "金额"], ["补助", "1200"]]), "xlsx", "表1\n项目\t金额\n补助\t1200", 1),
        (make_ofd(["第一行\n第二行", "第二页"]), "ofd", "第一行\n第二行\f第二页", 2),
        (make_doc(["二进制文档", "第二段"]), "doc", "二进制文档\n第二段", 1),
    ],
    ids=["pdf", "docx", "xlsx", "ofd", "doc"],
)
def test_each_format_is_told_from_its_bytes_and_read(data: bytes, kind: str, text: str, pages: int) -> None:
    assert sniff_kind(data) == kind
    result = read_bytes(data, kind, Caps())
    assert (result.status, result.text, result.pages) == ("ok", text, pages)


def test_an_html_page_served_as_a_file_and_other_bytes() -> None:
    assert sniff_kind(b"\r\n<!DOCTYPE html><html><body>404</body></html>") == "html"
    assert sniff_kind(b"Rar!\x1a\x07\x00...") == "rar"
    assert sniff_kind(b"\x00\x01binary") == "bin"
    assert read_bytes(b"Rar!\x1a\x07\x00", "rar", Caps()).status == "unsupported"


def test_a_zip_of_documents_with_gbk_names() -> None:
    import io
    import zipfile

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("deep.docx", make_docx(["深层文档"]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("XXXX.docx", make_docx(["压缩包里的文档"]))
        archive.writestr("名单.xlsx", make_xlsx([["压缩包里的表格"]]))
        archive.writestr("inner.zip", inner.getvalue())
    # Chinese zip tools write GBK names without the UTF-8 flag (same length as the placeholder).
    data = out.getvalue().replace(b"XXXX.docx", "通知.docx".encode("gbk"))
    result = read_bytes(data, "zip", Caps())
    assert result.status == "ok"
    # One level: the zip inside is listed, not opened.
    assert result.text.split("\f") == [
        "通知.docx\n压缩包里的文档",
        "名单.xlsx\n表1\n压缩包里的表格",
        "inner.zip",
    ]


def test_an_encrypted_word_file() -> None:
    assert read_bytes(make_doc(["秘密"], encrypted=True), "doc", Caps()).status == "encrypted"


def test_a_pdf_without_text_is_a_scan_when_it_has_images_and_garbage_is_an_error() -> None:
    assert read_bytes(make_pdf([""]), "pdf", Caps()).status == "empty"
    assert read_bytes(make_pdf(["", ""], image=True), "pdf", Caps()).status == "needs_ocr"
    assert read_bytes(make_pdf(["text beside a picture"], image=True), "pdf", Caps()).status == "ok"
    assert read_bytes(b"%PDF-1.4\nnot really a pdf", "pdf", Caps()).status == "error"


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('attachment; filename="补助资金表.xlsx"'.encode("gbk"), "补助资金表.xlsx"),
        ('attachment; filename="补助资金表.xlsx"'.encode(), "补助资金表.xlsx"),
        (b"attachment; filename*=UTF-8''%E7%BB%93%E6%9E%9C.pdf", "结果.pdf"),
        (b"attachment; filename=%BD%E1%B9%FB.doc", "结果.doc"),
        (b'attachment; filename="../../etc/passwd"', "passwd"),
        (b"inline", None),
    ],
)
def test_server_file_names(header: bytes, name: str | None) -> None:
    assert disposition_filename(header) == name


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(memory_bytes=512 * 1024 * 1024, timeout=8, caps=Caps(max_pages=10))
    yield box
    box.close()


def test_bombs_end_in_a_status_and_the_next_file_is_read(sandbox: Sandbox, tmp_path: Path) -> None:
    files = {
        "ratio.xlsx": make_zip_bomb(300 << 20),
        "declared.ofd": declare_size(make_ofd(["你好"]), "Doc_0/Pages/Page_0/Content.xml", 1_500_000_000),
        "pages.pdf": make_pdf([f"page {n}" for n in range(30)]),
        "fine.pdf": make_pdf(["still fine"]),
    }
    statuses = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        statuses[name] = sandbox.extract(tmp_path / name, sniff_kind(data)).status
    assert statuses["ratio.xlsx"] == "too_large"
    assert statuses["declared.ofd"] == "too_large"
    assert statuses["pages.pdf"] == "too_large"
    assert statuses["fine.pdf"] == "ok"


def test_a_flate_bomb_kills_only_the_worker(tmp_path: Path) -> None:
    (tmp_path / "flate.pdf").write_bytes(make_flate_bomb_pdf(512 << 20))
    (tmp_path / "fine.pdf").write_bytes(make_pdf(["read by the next worker"]))
    box = Sandbox(memory_bytes=256 * 1024 * 1024, timeout=20, caps=Caps())
    try:
        bomb = box.extract(tmp_path / "flate.pdf", "pdf")
        # The worker dies at its address-space limit (or PDFium gives up on the stream first).
        assert bomb.status in ("crashed", "too_large", "error", "empty"), bomb
        assert box.extract(tmp_path / "fine.pdf", "pdf").text == "read by the next worker"
    finally:
        box.close()


def test_a_page_cap_keeps_the_first_pages(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "long.pdf").write_bytes(make_pdf([f"page {n}" for n in range(30)]))
    result = sandbox.extract(tmp_path / "long.pdf", "pdf")
    assert result.pages == 30
    assert result.text.split("\f") == [f"page {n}" for n in range(10)]
    assert result.error == "30 pages, kept the first 10"


def test_a_reader_over_its_time_is_killed(tmp_path: Path) -> None:
    (tmp_path / "many.pdf").write_bytes(make_pdf([f"page {n}" for n in range(3000)]))
    box = Sandbox(memory_bytes=512 * 1024 * 1024, timeout=0.05, caps=Caps(max_pages=3000))
    try:
        assert box.extract(tmp_path / "many.pdf", "pdf").status == "timeout"
    finally:
        box.close()


@needs_shared
@pytest.mark.parametrize(
    ("name", "kind", "phrase"),
    [
        ("wps/h0w1in9+MyGit.wps", "doc", "身份证号码"),
        ("wps/tangchenxuzi+test.wps", "docx", "提出知道商城"),
        ("ofd/ofdrw-reader_src_test_resources_helloworld.ofd", "ofd", "你好呀，OFD Reader&Writer！"),
        ("ofd/ofdrw-reader_src_test_resources_chineseDir.ofd", "ofd", "你好呀"),
        ("ofd/ofdrw-sign_src_test_resources_namespace_no_std.ofd", "ofd", "你好呀"),
        ("ofd/ofdrw-reader_src_test_resources_keyword2.ofd", "ofd", "重庆市马上融资担保有限公司"),
        ("pdf/issue-625-identity-cmap.pdf", "pdf", "Faktura nr FV 1/2021"),
        ("pdf/issue-449-vertical.pdf", "pdf", "Vertical"),
    ],
)
def test_real_files(name: str, kind: str, phrase: str) -> None:
    data = (SHARED / name).read_bytes()
    assert sniff_kind(data) == kind
    result = read_text(SHARED / name, kind, Caps())
    assert result.status == "ok", result.error
    assert phrase in result.text


@needs_shared
def test_an_ofd_page_without_text_is_empty() -> None:
    assert (
        read_text(SHARED / "ofd/ofdrw-layout_src_test_resources_Page5.ofd", "ofd", Caps()).status == "empty"
    )


def test_text_is_cleaned_of_controls_and_lone_surrogates() -> None:
    from portalcrawl.attachments.readers import clean_text

    assert clean_text("第一行\r\n\x00第二\ud800行\x07\r\r\r\r第三行  ") == "第一行\n第二行\n\n第三行"

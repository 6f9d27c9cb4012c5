"""What a downloaded file is, from its bytes; the name a server gave it, as data."""

from __future__ import annotations

import io
import re
import zipfile
from email.message import Message
from urllib.parse import unquote

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Directory entry names of the OLE streams that say which Office program wrote a compound file.
OLE_STREAMS = (
    ("WordDocument".encode("utf-16-le"), "doc"),
    ("Workbook".encode("utf-16-le"), "xls"),
    ("Book".encode("utf-16-le"), "xls"),
    ("PowerPoint Document".encode("utf-16-le"), "ppt"),
)
# The stored file's extension for each kind.
EXTENSION_OF_KIND = {
    "pdf": "pdf",
    "doc": "doc",
    "xls": "xls",
    "ppt": "ppt",
    "ole": "ole",
    "docx": "docx",
    "xlsx": "xlsx",
    "pptx": "pptx",
    "ofd": "ofd",
    "zip": "zip",
    "rar": "rar",
    "7z": "7z",
    "rtf": "rtf",
    "bin": "bin",
}
HTML_START = re.compile(
    rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<script|<title|<!--)", re.IGNORECASE
)


def sniff_kind(body: bytes) -> str:
    """``pdf``, ``doc``/``xls``/``ppt``/``ole``, ``docx``/``xlsx``/``pptx``/``ofd``/``zip``, ``rar``,
    ``7z``, ``rtf``, ``html`` (an error or login page served for a file) or ``bin``.

    Decided by the bytes only: portals serve PDFs as application/octet-stream and soft-404 pages as
    ``.pdf``. ``%PDF`` may follow a little junk, which readers accept.
    """
    head = body[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if body.startswith(OLE_MAGIC):
        # The directory entries hold the stream names in UTF-16; a compound file's directory is small.
        for name, kind in OLE_STREAMS:
            if name in body:
                return kind
        return "ole"
    if body.startswith(b"PK\x03\x04") or body.startswith(b"PK\x05\x06"):
        return _zip_kind(body)
    if body.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if body.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if body.startswith(b"{\\rtf"):
        return "rtf"
    text_head = head.lstrip(b"\xef\xbb\xbf")
    if HTML_START.search(text_head):
        return "html"
    return "bin"


def _zip_kind(body: bytes) -> str:
    try:
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "zip"
    lowered = {name.lower() for name in names}
    if "ofd.xml" in lowered:
        return "ofd"
    if "[content_types].xml" in lowered:
        for prefix, kind in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
            if any(name.startswith(prefix) for name in lowered):
                return kind
    return "zip"


def _decode_header(raw: bytes) -> str:
    """A header value as servers send it: UTF-8, GBK (most Chinese portals) or Latin-1."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def disposition_filename(raw: bytes | None) -> str | None:
    """The file name of a Content-Disposition header (RFC 6266/5987 ``filename*``, %-encoded, GBK or
    UTF-8 bytes), cleaned to one line with no path: it is shown to users, never used as a path."""
    if not raw:
        return None
    message = Message()
    message["content-disposition"] = _decode_header(raw)
    name = message.get_filename()
    if not name:
        return None
    if "%" in name:
        # Servers %-encode the UTF-8 or GBK bytes in a plain filename= too.
        encoded = unquote(name, encoding="latin-1").encode("latin-1")
        name = _decode_header(encoded)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name or None

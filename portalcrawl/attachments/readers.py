"""Text of attachment files, one reader per format; run inside the sandbox worker, never in the crawl.

Each reader returns an ``Extraction``: the text (pages joined with form feeds), how many pages, and a
status. Sizes declared inside zip containers (DOCX, XLSX, OFD, zip) are checked before anything is
inflated; page and character caps bound what is kept.
"""

from __future__ import annotations

import re
import struct
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE_BREAK = "\f"


@dataclass(frozen=True, slots=True)
class Extraction:
    """The text of a file and how reading it went (the ``files`` columns it sets)."""

    status: str
    text: str = ""
    pages: int | None = None
    extracted_by: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Caps:
    """Bounds on one file's reading."""

    max_pages: int = 2000
    max_chars: int = 5_000_000
    # Total declared uncompressed size of a zip container's members, and the largest ratio of one.
    max_unzipped: int = 512 * 1024 * 1024
    max_ratio: int = 200


class Refused(Exception):
    """Reading stops with a status (``too_large``, ``encrypted``, ``unsupported``) and a reason."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


# Control characters other than tab, newline and form feed (Word and PDF text carry many), and lone
# surrogates (a broken PDF text map), which SQLite and JSON cannot store.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff\ud800-\udfff]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _suspicious(ch: str) -> bool:
    return ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc", "Cs")


def looks_garbled(text: str) -> bool:
    """Text of a PDF font without a ToUnicode map: replacement, private-use and control characters."""
    sample = [ch for ch in text[:20000] if not ch.isspace()]
    if len(sample) < 20:
        return False
    return sum(map(_suspicious, sample)) > 0.3 * len(sample)


def pages_extraction(
    pages: list[str], extracted_by: str, *, total_pages: int, caps: Caps, scanned: bool = False
) -> Extraction:
    cleaned = [clean_text(page) for page in pages]
    text = PAGE_BREAK.join(cleaned)
    truncated = len(text) > caps.max_chars
    text = text[: caps.max_chars]
    if not text.replace(PAGE_BREAK, "").strip():
        status = "needs_ocr" if scanned else "empty"
        return Extraction(status, "", total_pages, extracted_by)
    if looks_garbled(text):
        return Extraction(
            "garbled", "", total_pages, extracted_by, "text layer without a usable character map"
        )
    if total_pages > len(pages) or truncated:
        reason = f"{total_pages} pages, kept the first {len(pages)}" if total_pages > len(pages) else ""
        reason = reason or f"text cut at {caps.max_chars} characters"
        return Extraction("too_large", text, total_pages, extracted_by, reason)
    return Extraction("ok", text, total_pages, extracted_by)


# -- PDF ----------------------------------------------------------------------------------------------


def read_pdf(path: Path, caps: Caps) -> Extraction:
    """pypdfium2 (PDFium: fast, robust with CJK fonts); pypdf when PDFium cannot open the file."""
    try:
        return _read_pdf_pdfium(path, caps)
    except Refused:
        raise
    except Exception as exc:
        first_error = f"{type(exc).__name__}: {exc}"
    try:
        return _read_pdf_pypdf(path, caps)
    except Refused:
        raise
    except Exception as exc:
        raise Refused("error", f"pypdfium2: {first_error}; pypdf: {type(exc).__name__}: {exc}") from exc


def open_pdf(path: Path) -> Any:
    """The pypdfium2 document of ``path``; ``Refused("encrypted")`` when it needs a password."""
    import pypdfium2 as pdfium  # noqa: PLC0415 - the optional extra, imported in the worker only

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Refused("encrypted", "the PDF needs a password") from exc
        raise


def _read_pdf_pdfium(path: Path, caps: Caps) -> Extraction:
    import pypdfium2.raw as pdfium_c  # noqa: PLC0415 - the optional extra, imported in the worker only

    pdf = open_pdf(path)
    try:
        total = len(pdf)
        pages: list[str] = []
        chars = 0
        images = False
        for index in range(min(total, caps.max_pages)):
            page = pdf[index]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            if not text.strip() and not images:
                images = any(
                    True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)
                )
            page.close()
            pages.append(text)
            chars += len(text)
            if chars > caps.max_chars:
                break
        return pages_extraction(pages, "pypdfium2", total_pages=total, caps=caps, scanned=images)
    finally:
        pdf.close()


def _read_pdf_pypdf(path: Path, caps: Caps) -> Extraction:
    from pypdf import PdfReader  # noqa: PLC0415

    reader = PdfReader(str(path))
    if reader.is_encrypted and not reader.decrypt(""):
        raise Refused("encrypted", "the PDF needs a password")
    total = len(reader.pages)
    pages: list[str] = []
    chars = 0
    for index in range(min(total, caps.max_pages)):
        text = reader.pages[index].extract_text() or ""
        pages.append(text)
        chars += len(text)
        if chars > caps.max_chars:
            break
    return pages_extraction(pages, "pypdf", total_pages=total, caps=caps, scanned=True)


# -- Word binary (DOC, WPS 文字) ---------------------------------------------------------------------

WORD_IDENT = 0xA5EC
# FIB offsets (MS-DOC 2.5): flags, ccpText (main text length), fcClx/lcbClx (the piece table).
FIB_FLAGS, FIB_CCP_TEXT, FIB_FC_CLX, FIB_LCB_CLX = 0x0A, 0x4C, 0x01A2, 0x01A6
F_ENCRYPTED, F_WHICH_TABLE = 0x0100, 0x0200


def read_word_binary(path: Path, caps: Caps) -> Extraction:
    """The main text of a Word 97–2003 binary file (also Kingsoft WPS 文字), from its piece table."""
    import olefile  # noqa: PLC0415

    with olefile.OleFileIO(str(path)) as ole:
        if not ole.exists("WordDocument"):
            raise Refused("unsupported", "compound file without a WordDocument stream")
        word = ole.openstream("WordDocument").read()
        if len(word) < FIB_LCB_CLX + 4 or struct.unpack_from("<H", word, 0)[0] != WORD_IDENT:
            raise Refused("unsupported", "not a Word 97 or later document")
        flags = struct.unpack_from("<H", word, FIB_FLAGS)[0]
        if flags & F_ENCRYPTED:
            raise Refused("encrypted", "the document is encrypted")
        table_name = "1Table" if flags & F_WHICH_TABLE else "0Table"
        if not ole.exists(table_name):
            raise Refused("error", f"no {table_name} stream")
        table = ole.openstream(table_name).read()
    ccp_text = struct.unpack_from("<i", word, FIB_CCP_TEXT)[0]
    fc_clx, lcb_clx = struct.unpack_from("<II", word, FIB_FC_CLX)
    clx = table[fc_clx : fc_clx + lcb_clx]
    text = _piece_table_text(word, clx, ccp_text, caps.max_chars + 1)
    return pages_extraction([_word_text(text)], "olefile", total_pages=1, caps=caps)


def _piece_table_text(word: bytes, clx: bytes, ccp_text: int, limit: int) -> str:
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc: formatting, skipped
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos + 5 > len(clx) or clx[pos] != 0x02:
        raise Refused("error", "piece table not found")
    lcb = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5 : pos + 5 + lcb]
    count = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{count + 1}i", plc, 0)
    parts: list[str] = []
    length = 0
    for index in range(count):
        start, end = cps[index], min(cps[index + 1], ccp_text)
        if start >= ccp_text or length > limit:
            break
        fc = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * index + 2)[0]
        chars = max(0, end - start)
        if fc & 0x40000000:
            offset = (fc & 0x3FFFFFFF) // 2
            parts.append(word[offset : offset + chars].decode("cp1252", errors="replace"))
        else:
            parts.append(word[fc : fc + 2 * chars].decode("utf-16-le", errors="replace"))
        length += chars
    return "".join(parts)


def _word_text(text: str) -> str:
    """Word's special characters: fields keep their shown result, cells end with tabs, paragraphs \\r."""
    out: list[str] = []
    # A field is \x13 instructions \x14 result \x15 (nested); only the result is text.
    depth_in_instructions: list[bool] = []
    for ch in text:
        if ch == "\x13":
            depth_in_instructions.append(True)
        elif ch == "\x14":
            if depth_in_instructions:
                depth_in_instructions[-1] = False
        elif ch == "\x15":
            if depth_in_instructions:
                depth_in_instructions.pop()
        elif depth_in_instructions and depth_in_instructions[-1]:
            continue
        elif ch == "\x07":
            out.append("\t")
        elif ch in "\r\x0b\x0c":
            out.append("\n")
        else:
            out.append(ch)
    return "".join(out)


# -- zip containers: DOCX, XLSX, OFD, zip -----------------------------------------------------------


def member_name(info: zipfile.ZipInfo) -> str:
    """A member's name: zipfile reads names without the UTF-8 flag as CP437; Chinese tools write GBK."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def check_zip(archive: zipfile.ZipFile, caps: Caps) -> None:
    """Refuse a container whose declared sizes or compression ratios are those of a bomb."""
    members = archive.infolist()
    if len(members) > 20000:
        raise Refused("too_large", f"{len(members)} members")
    total = sum(info.file_size for info in members)
    if total > caps.max_unzipped:
        raise Refused("too_large", f"declares {total} bytes uncompressed (limit {caps.max_unzipped})")
    for info in members:
        if info.file_size > 1024 * 1024 and info.file_size > caps.max_ratio * max(info.compress_size, 1):
            raise Refused(
                "too_large",
                f"{member_name(info)}: compression ratio {info.file_size // max(info.compress_size, 1)}:1",
            )


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than it declares (a lying header is a bomb too)."""
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) > info.file_size:
        raise Refused("too_large", f"{member_name(info)} inflates past its declared size")
    return data


def _xml(data: bytes) -> Any:
    from lxml import etree  # noqa: PLC0415

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    return etree.fromstring(data, parser)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_docx(path: Path, caps: Caps) -> Extraction:
    """DOCX and OOXML WPS: paragraphs of word/document.xml; page breaks the writer recorded split pages."""
    with zipfile.ZipFile(path) as archive:
        check_zip(archive, caps)
        try:
            info = archive.getinfo("word/document.xml")
        except KeyError:
            raise Refused("unsupported", "no word/document.xml") from None
        root = _xml(read_member(archive, info))
    pages: list[list[str]] = [[]]
    for paragraph in root.iter("{*}p"):
        line: list[str] = []
        for element in paragraph.iter():
            name = _local(element.tag)
            if name == "t" and element.text:
                line.append(element.text)
            elif name == "tab":
                line.append("\t")
            elif name == "lastRenderedPageBreak" or (name == "br" and element.get(f"{{{_W}}}type") == "page"):
                pages[-1].append("".join(line))
                line = []
                pages.append([])
            elif name == "br":
                line.append("\n")
        pages[-1].append("".join(line))
    texts = ["\n".join(page) for page in pages]
    texts = [t for t in texts if t.strip()] or [""]
    kept = texts[: caps.max_pages]
    return pages_extraction(kept, "ooxml", total_pages=len(texts), caps=caps)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def read_spreadsheet(path: Path, caps: Caps) -> Extraction:
    """XLS, XLSX and Kingsoft ET with python-calamine: one page per sheet, cells joined by tabs."""
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            check_zip(archive, caps)
    workbook = CalamineWorkbook.from_path(str(path))
    names = list(workbook.sheet_names)
    pages: list[str] = []
    chars = 0
    for name in names[: caps.max_pages]:
        lines = [name]
        for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=True):
            cells = ["" if cell is None else _cell_text(cell) for cell in row]
            line = "\t".join(cells).rstrip("\t")
            if line:
                lines.append(line)
                chars += len(line)
            if chars > caps.max_chars:
                break
        pages.append("\n".join(lines))
        if chars > caps.max_chars:
            break
    return pages_extraction(pages, "python-calamine", total_pages=len(names), caps=caps)


def _cell_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def read_ofd(path: Path, caps: Caps) -> Extraction:
    """OFD (GB/T 33190): OFD.xml → Document.xml → each page's Content.xml TextCode, lines by position."""
    with zipfile.ZipFile(path) as archive:
        check_zip(archive, caps)
        members = {member_name(info).lstrip("/"): info for info in archive.infolist()}
        lowered = {name.lower(): name for name in members}

        def load(name: str) -> Any:
            key = lowered.get(name.lstrip("/").lower())
            if key is None:
                raise Refused("error", f"missing {name}")
            return _xml(read_member(archive, members[key]))

        root = load("OFD.xml")
        doc_root = next((e.text.strip() for e in root.iter() if _local(e.tag) == "DocRoot" and e.text), None)
        if not doc_root:
            raise Refused("error", "OFD.xml names no DocRoot")
        document = load(doc_root)
        base = doc_root.lstrip("/").rsplit("/", 1)[0] if "/" in doc_root.lstrip("/") else ""
        page_locations = [
            e.get("BaseLoc") or "" for e in document.iter() if _local(e.tag) == "Page" and e.get("BaseLoc")
        ]
        pages: list[str] = []
        chars = 0
        images = False
        for location in page_locations[: caps.max_pages]:
            name = location.lstrip("/") if location.startswith("/") else f"{base}/{location}".lstrip("/")
            content = load(name)
            text = _ofd_page_text(content)
            images = images or any(_local(e.tag) == "ImageObject" for e in content.iter())
            pages.append(text)
            chars += len(text)
            if chars > caps.max_chars:
                break
    return pages_extraction(pages, "ofd", total_pages=len(page_locations), caps=caps, scanned=images)


def _ofd_page_text(content: Any) -> str:
    lines: list[str] = []
    current: list[str] = []
    last_y: float | None = None
    for text_object in (e for e in content.iter() if _local(e.tag) == "TextObject"):
        boundary = (text_object.get("Boundary") or "0 0 0 0").split()
        top = _number(boundary[1]) if len(boundary) > 1 else 0.0
        height = _number(boundary[3]) if len(boundary) > 3 else 0.0
        for code in (e for e in text_object if _local(e.tag) == "TextCode"):
            y = top + _number(code.get("Y") or "0")
            if last_y is not None and abs(y - last_y) > max(height / 2, 1.0) and current:
                lines.append("".join(current))
                current = []
            current.append(code.text or "")
            last_y = y
    if current:
        lines.append("".join(current))
    return "\n".join(lines)


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def read_zip(path: Path, caps: Caps) -> Extraction:
    """A zip of documents: each member read by its own reader (one level; zips inside are listed only)."""
    from portalcrawl.attachments.sniff import sniff_kind  # noqa: PLC0415

    sections: list[str] = []
    with zipfile.ZipFile(path) as archive:
        check_zip(archive, caps)
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = member_name(info)
            data = read_member(archive, info)
            kind = sniff_kind(data)
            reader = READERS.get(kind)
            if reader is None or reader is read_zip:
                sections.append(f"{name}")
                continue
            with tempfile.NamedTemporaryFile(suffix=f".{kind}") as member_file:
                member_file.write(data)
                member_file.flush()
                try:
                    result = reader(Path(member_file.name), caps)
                    sections.append(f"{name}\n{result.text}")
                except Refused as refused:
                    sections.append(f"{name} ({refused.status})")
    return pages_extraction(sections, "zip", total_pages=len(sections), caps=caps)


READERS: dict[str, Callable[[Path, Caps], Extraction]] = {
    "pdf": read_pdf,
    "doc": read_word_binary,
    "docx": read_docx,
    "xls": read_spreadsheet,
    "xlsx": read_spreadsheet,
    "ofd": read_ofd,
    "zip": read_zip,
}


def read_text(path: Path, kind: str, caps: Caps) -> Extraction:
    """The text of a stored file of ``kind`` (from ``sniff_kind``); every failure is a status."""
    reader = READERS.get(kind)
    if reader is None:
        return Extraction("unsupported", error=f"no text reader for {kind} files")
    try:
        return reader(path, caps)
    except Refused as refused:
        return Extraction(refused.status, error=str(refused))
    except MemoryError:
        return Extraction("too_large", error="the reader ran out of its memory limit")
    except (zipfile.BadZipFile, struct.error, EOFError, ValueError, KeyError, OSError) as exc:
        return Extraction("error", error=f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        return Extraction("error", error=f"{type(exc).__name__}: {exc}")


def read_bytes(data: bytes, kind: str, caps: Caps) -> Extraction:
    """``read_text`` of in-memory bytes (tests and the zip reader's members)."""
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as handle:
        handle.write(data)
        handle.flush()
        return read_text(Path(handle.name), kind, caps)

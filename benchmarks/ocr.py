"""OCR of scans (``attachments extract --ocr``): seconds a page and how much of the text comes back.

A page of Chinese notice text (12 pt, drawn by PDFium with a CJK TrueType font found on the machine,
default WenQuanYi Micro Hei) and a page of English, each read by ``ocr_pdf`` through a 300 dpi render;
similarity is difflib's ratio of the OCR text to the drawn text, whitespace removed.

    python benchmarks/ocr.py [--font /usr/share/fonts/truetype/wqy/wqy-microhei.ttc] [--repeat 3]
"""

from __future__ import annotations

import argparse
import ctypes
import difflib
import re
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from portalcrawl.attachments.ocr import ocr_pdf, tesseract_languages  # noqa: E402
from portalcrawl.attachments.readers import Caps  # noqa: E402

CHINESE = [
    "关于做好农村公路养护工作的通知",
    "各乡镇人民政府，县直有关单位：",
    "为进一步提升农村公路养护水平，保障群众安全便捷出行，",
    "现就有关工作通知如下，请认真贯彻落实。",
    "一、压实养护责任。各乡镇要落实县道、乡道、村道分级养护责任。",
    "二、加强日常巡查。汛期前后要组织对桥梁、涵洞、边坡进行全面排查。",
    "养护补助资金分配明细 2025年3月12日",
]
ENGLISH = [
    "Notice of the county road office on winter maintenance",
    "All township governments and county departments:",
    "The gritting schedule for 2025 is set out below; report icy sections at once.",
]


def page_pdf(lines: list[str], font_file: Path) -> Path:
    import pypdfium2 as pdfium
    from pypdfium2 import raw

    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(595, 842)
    data = font_file.read_bytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    font = raw.FPDFText_LoadFont(pdf.raw, buffer, len(data), raw.FPDF_FONT_TRUETYPE, True)
    if not font:
        raise SystemExit(f"PDFium cannot load the font {font_file}")
    for index, line in enumerate(lines):
        text_object = raw.FPDFPageObj_CreateTextObj(pdf.raw, font, 12.0)
        utf16 = ctypes.create_string_buffer((line + "\0").encode("utf-16-le"))
        raw.FPDFText_SetText(text_object, ctypes.cast(utf16, ctypes.POINTER(raw.FPDF_WCHAR)))
        raw.FPDFPageObj_Transform(text_object, 1, 0, 0, 1, 50, 780 - 24 * index)
        raw.FPDFPage_InsertObject(page.raw, text_object)
    raw.FPDFPage_GenerateContent(page.raw)
    path = Path(tempfile.mkdtemp()) / "page.pdf"
    pdf.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=Path, default=Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    languages = tesseract_languages()
    if not languages:
        raise SystemExit("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-chi-sim)")
    print(
        f"tesseract languages: {'+'.join(languages)}; font: {args.font}; machine shared, figures indicative"
    )
    for name, lines in (("chinese", CHINESE), ("english", ENGLISH)):
        path = page_pdf(lines, args.font)
        drawn = re.sub(r"\s+", "", "".join(lines))
        timings = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = ocr_pdf(path, Caps(), languages, seconds=120)
            timings.append(time.perf_counter() - started)
        read = re.sub(r"\s+", "", result.text)
        similarity = difflib.SequenceMatcher(None, drawn, read).ratio()
        print(
            f"{name}: {min(timings):.2f} s a page (best of {args.repeat}), status {result.status}, "
            f"similarity {similarity:.3f}"
        )


if __name__ == "__main__":
    main()

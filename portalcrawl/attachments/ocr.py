"""Text of scanned PDF pages by OCR, outside the crawl: PDFium renders each page, tesseract reads it.

Runs in the sandbox worker (``attachments extract --ocr``): tesseract is a child of the worker, so it
inherits the worker's address-space limit, is killed with it, and each page has what is left of the
file's time.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from portalcrawl.attachments.readers import Caps, Extraction, Refused, clean_text, open_pdf, pages_extraction

TESSERACT = "tesseract"
# Used when installed: Chinese government scans, with the Latin letters and digits in them.
PREFERRED_LANGUAGES = ("chi_sim", "eng")
DPI = 300
# Largest page bitmap (an A3 page at 300 dpi is 17 M pixels): a PDF declaring a huge page is rendered
# at a lower resolution instead of exhausting the worker's memory.
MAX_PIXELS = 40_000_000
# tesseract puts a space between CJK characters; the archive's text (and its search) has none.
_CJK_SPACE = re.compile(
    r"(?<=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])[ \t]+(?=[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef])"
)
PR_SET_PDEATHSIG = 1


def tesseract_languages() -> tuple[str, ...] | None:
    """Those of ``PREFERRED_LANGUAGES`` tesseract has; None without tesseract on PATH (or with none)."""
    program = shutil.which(TESSERACT)
    if program is None:
        return None
    try:
        listed = subprocess.run(
            [program, "--list-langs"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    installed = set(listed.stdout.split())
    return tuple(language for language in PREFERRED_LANGUAGES if language in installed) or None


def extracted_by(languages: Sequence[str]) -> str:
    return f"tesseract ({'+'.join(languages)})"


def read_scanned(path: Path, caps: Caps, languages: Sequence[str], seconds: float) -> Extraction:
    """``ocr_pdf`` with every failure a status, as ``readers.read_text`` does for the text layer."""
    try:
        return ocr_pdf(path, caps, languages, seconds)
    except Refused as refused:
        return Extraction(refused.status, error=str(refused))
    except MemoryError:
        return Extraction("too_large", error="OCR ran out of the worker's memory limit")
    except Exception as exc:
        return Extraction("error", error=f"OCR: {type(exc).__name__}: {exc}")


def ocr_pdf(path: Path, caps: Caps, languages: Sequence[str], seconds: float) -> Extraction:
    """Each page (up to ``caps.max_pages``) rendered at ``DPI`` and read by tesseract within ``seconds``
    for the whole file; past them, the pages read so far are kept with status ``timeout``."""
    deadline = time.monotonic() + seconds
    by = extracted_by(languages)
    pdf = open_pdf(path)
    try:
        total = len(pdf)
        pages: list[str] = []
        for index in range(min(total, caps.max_pages)):
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise subprocess.TimeoutExpired(TESSERACT, seconds)
                pages.append(_tesseract(_page_image(pdf[index]), languages, remaining))
            except subprocess.TimeoutExpired:
                text = "\f".join(clean_text(page) for page in pages)[: caps.max_chars]
                reason = f"OCR stopped after {len(pages)} of {total} pages ({seconds:g} s per file)"
                return Extraction("timeout", text, total, by, reason)
        return pages_extraction(pages, by, total_pages=total, caps=caps)
    finally:
        pdf.close()


def _page_image(page: object) -> bytes:
    """The page as a grayscale PGM (what tesseract reads from stdin without any image library)."""
    width, height = page.get_size()  # type: ignore[attr-defined]
    scale = min(DPI / 72, math.sqrt(MAX_PIXELS / max(width * height, 1.0)))
    bitmap = page.render(scale=scale, grayscale=True)  # type: ignore[attr-defined]
    try:
        pixels = bytes(bitmap.buffer)
        stride, columns, rows = bitmap.stride, bitmap.width, bitmap.height
    finally:
        bitmap.close()
    body = (
        pixels
        if stride == columns
        else b"".join(pixels[y * stride : y * stride + columns] for y in range(rows))
    )
    return b"P5\n%d %d\n255\n" % (columns, rows) + body


def _die_with_parent() -> None:
    """In the tesseract child: killed when the worker is (its timeout, its memory limit)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _tesseract(image: bytes, languages: Sequence[str], timeout: float) -> str:
    program = shutil.which(TESSERACT)
    if program is None:
        raise Refused("error", "tesseract is not on PATH")
    result = subprocess.run(
        [program, "stdin", "stdout", "-l", "+".join(languages), "--dpi", str(DPI)],
        input=image,
        capture_output=True,
        timeout=timeout,
        check=False,
        # One thread: OpenMP threads multiply tesseract's address space (and the load of a cron host).
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        # The worker that runs this is single-threaded: preexec_fn is safe there.
        preexec_fn=_die_with_parent,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise Refused(
            "error", f"tesseract exited with status {result.returncode}: {message[-1] if message else ''}"
        )
    return _CJK_SPACE.sub("", result.stdout.decode("utf-8", "replace"))

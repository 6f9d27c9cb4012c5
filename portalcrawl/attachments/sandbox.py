"""Attachment text read in a separate worker process, bounded in memory, time, pages and characters.

A hostile file (a Flate bomb, a 50k-page PDF, a zip declaring gigabytes) can only cost the worker: it
runs under ``RLIMIT_AS``/``RLIMIT_CPU``, is killed when a file takes longer than its timeout, and is
started again for the next file. The worker is long-lived (Python, PDFium and lxml load once, which is
what makes ~100+ PDF pages a second possible) and restarted after ``MAX_JOBS`` files so that no leak
accumulates. ``Sandbox.extract`` blocks its caller: the crawl calls it from a thread (``deferToThread``),
so the reactor never waits on a reader; the CLI calls it directly.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from portalcrawl.attachments.ocr import read_scanned
from portalcrawl.attachments.readers import Caps, Extraction, read_text

# Files a worker reads before it is replaced by a fresh one.
MAX_JOBS = 500
# An OCR worker stops reading pages at its timeout and answers with the text so far; it is killed only
# when it has not answered this many seconds later.
OCR_GRACE = 15.0


class Sandbox:
    """A worker process that reads one file at a time; safe to use from one thread at a time."""

    def __init__(
        self, *, memory_bytes: int, timeout: float, caps: Caps, ocr_languages: tuple[str, ...] = ()
    ) -> None:
        """With ``ocr_languages``, PDFs are read by OCR (``portalcrawl.attachments.ocr``) in them."""
        self.memory_bytes = memory_bytes
        self.timeout = timeout
        self.caps = caps
        self.ocr_languages = ocr_languages
        self._process: subprocess.Popen[bytes] | None = None
        self._jobs = 0

    def _start(self) -> subprocess.Popen[bytes]:
        if self._process is not None and (self._process.poll() is not None or self._jobs >= MAX_JOBS):
            self.close()
        if self._process is None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "portalcrawl.attachments.sandbox", str(self.memory_bytes)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                bufsize=0,
                close_fds=True,
            )
            self._jobs = 0
        return self._process

    def extract(self, path: str | os.PathLike[str], kind: str) -> Extraction:
        process = self._start()
        self._jobs += 1
        job: dict[str, Any] = {"path": str(path), "kind": kind, "caps": asdict(self.caps)}
        wait = self.timeout
        if self.ocr_languages:
            job["ocr"] = {"languages": self.ocr_languages, "seconds": self.timeout}
            wait += OCR_GRACE
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(job).encode() + b"\n")
            process.stdin.flush()
        except OSError:
            self.close()
            return Extraction("crashed", error="the reader process could not be started")
        answer = _read_line(process.stdout, wait)
        if answer is None:
            self.close()
            return Extraction("timeout", error=f"no text after {self.timeout:g} s")
        if not answer:
            self.close()
            return Extraction("crashed", error=_death(process.returncode))
        result = json.loads(answer)
        return Extraction(**result)

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def _death(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        return f"the reader was killed by signal {-returncode} (memory or CPU limit)"
    return f"the reader exited with status {returncode} (memory limit?)"


def _read_line(stream: IO[bytes], timeout: float) -> bytes | None:
    """One answer line from the worker; ``b""`` when it died first, None when the time ran out."""
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
            chunk = os.read(stream.fileno(), 1 << 20)
            if not chunk:
                return b""
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                return b"".join(chunks)


def _limit_resources(memory_bytes: int) -> None:
    import resource  # noqa: PLC0415 - POSIX only, and only in the worker

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # No core dumps of a reader killed by its limits.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def worker(memory_bytes: int) -> None:
    """Read jobs (JSON lines) from stdin and answer each with one JSON line on the original stdout."""
    answers = os.fdopen(os.dup(1), "wb")
    # Anything a library prints goes to stderr, never into the answers.
    os.dup2(2, 1)
    _limit_resources(memory_bytes)
    for line in sys.stdin.buffer:
        job: dict[str, Any] = json.loads(line)
        try:
            if job.get("ocr"):
                ocr = job["ocr"]
                result = read_scanned(
                    Path(job["path"]), Caps(**job["caps"]), ocr["languages"], ocr["seconds"]
                )
            else:
                result = read_text(Path(job["path"]), job["kind"], Caps(**job["caps"]))
        except MemoryError:
            # Raised outside a reader's own handling (building the result): still one file's outcome.
            result = Extraction("too_large", error="the reader ran out of its memory limit")
        answers.write(json.dumps(asdict(result), ensure_ascii=False).encode() + b"\n")
        answers.flush()


if __name__ == "__main__":
    worker(int(sys.argv[1]))

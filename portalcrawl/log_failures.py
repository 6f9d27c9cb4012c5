"""One line on stderr, instead of a traceback per record, when the log file cannot be written."""

from __future__ import annotations

import contextlib
import logging
import sys


def report_log_failures_once() -> None:
    """For the rest of this process, a log handler's first write failure (a full disk, a vanished
    directory) is one line on stderr, and records that fail after it are dropped.

    logging's default prints ``--- Logging error ---`` and a full traceback for every record a
    handler cannot write: a crawl on a full disk buried its summary under dozens of them, and a
    failing flush when Scrapy replaces its file handler (one per crawler) crashed the run. Scrapy
    creates those handlers itself, so the policy is set on the classes they share.
    """
    reported: list[bool] = []
    close_file = logging.FileHandler.close

    def handle_error(handler: logging.Handler, record: logging.LogRecord | None) -> None:
        if reported:
            return
        reported.append(True)
        error = sys.exc_info()[1]
        target = getattr(handler, "baseFilename", None) or type(handler).__name__
        with contextlib.suppress(OSError, ValueError):
            print(
                f"portalcrawl: error: cannot write the log {target}: {error}; further log messages are lost",
                file=sys.stderr,
                flush=True,
            )

    def close(handler: logging.FileHandler) -> None:
        try:
            close_file(handler)
        except OSError:
            handle_error(handler, None)

    logging.Handler.handleError = handle_error  # type: ignore[method-assign,assignment]
    logging.FileHandler.close = close  # type: ignore[method-assign,assignment]

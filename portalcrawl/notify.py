"""Webhook notifications: a JSON summary POSTed when a site is unhealthy (``--notify URL``)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from portalcrawl import __version__

# A webhook that does not answer must not hold a cron job.
NOTIFY_TIMEOUT_SECONDS = 15


class NotifyError(Exception):
    """The webhook could not be reached or refused the summary."""


def check_notify_url(url: str) -> str:
    """``url`` when it is an http(s) URL; ``ValueError`` otherwise (a usage error, before any crawl)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--notify {url!r}: not an http(s) URL")
    return url


def summary(command: str, db_path: str, unhealthy: list[dict[str, Any]], checked: int) -> dict[str, Any]:
    """The JSON body: which command, on which host and archive, and each unhealthy site with why."""
    return {
        "source": f"portalcrawl {__version__}",
        "command": command,
        "host": socket.gethostname(),
        "db": db_path,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "sites_checked": checked,
        "unhealthy": unhealthy,
        "text": f"portalcrawl {command}: {len(unhealthy)} of {checked} sites unhealthy: "
        + "; ".join(f"{site['site']}: {site['reason']}" for site in unhealthy),
    }


def post(url: str, body: dict[str, Any]) -> None:
    """POST ``body`` as JSON to ``url``; ``NotifyError`` with a one-line reason when that fails."""
    check_notify_url(url)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - check_notify_url allows http(s) only
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": body["source"]},
    )
    try:
        with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise NotifyError(f"webhook {url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise NotifyError(f"webhook {url} unreachable: {reason}") from None

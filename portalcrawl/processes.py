"""Whether the process that started a crawl run is still alive (pid reuse included)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

# crawl_runs.started_at has whole seconds and is written a moment after the process starts.
START_SLACK_SECONDS = 2.0


def _process_start(pid: int) -> datetime | None:
    """When ``pid`` started, from /proc (Linux); None where /proc cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
    except (OSError, StopIteration, ValueError):
        return None
    # Field 22 (starttime, clock ticks after boot) counted after the parenthesised command name,
    # which may itself contain spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    ticks = int(fields[19])
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def run_process_alive(pid: int, started_at: datetime) -> bool:
    """Whether the process ``pid`` that started a run at ``started_at`` still runs.

    A pid whose current process started after the run did belongs to another program (the kernel
    reuses pids), so the run's own process is gone.
    """
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    began = _process_start(pid)
    if began is None:
        return True
    if started_at.tzinfo is None:
        started_at = started_at.replace(tzinfo=UTC)
    return (began - started_at).total_seconds() <= START_SLACK_SECONDS

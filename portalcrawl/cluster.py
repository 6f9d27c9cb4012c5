"""The Celery engine of `portalcrawl worker` and `portalcrawl dispatch`: one queue per node, Redis broker.

A task is a batch of profile slugs; the node's worker runs it as a ``portalcrawl crawl SITE…``
subprocess into the node's shard, so the crawl's lock, log file, summary and exit status are those of
any cron run. Delivery is at least once: tasks are acknowledged only when their crawl has ended, and a
batch whose worker died is delivered again once the broker's visibility timeout has passed. Running a
batch twice is safe: the shard's lock lets one crawl in at a time (a held lock becomes a retry) and
articles are upserted by URL.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from celery import Celery, Task
from kombu.exceptions import OperationalError

from portalcrawl.cli import EXIT_TEMPFAIL

TASK_NAME = "portalcrawl.crawl_batch"
QUEUE_PREFIX = "portalcrawl."
# Six hours: a day's batch of a node's sites fits well inside, and a lost node's batch returns the same day.
DEFAULT_VISIBILITY_TIMEOUT = 6 * 3600
# Each crawl is bounded (CLOSESPIDER_TIMEOUT) to this share of the visibility timeout, so a batch that
# is still running is never delivered a second time; the rest leaves room for a graceful stop.
CRAWL_TIME_SHARE = 0.9
# A held lock is retried after 10 s, 20 s, 40 s … at most this long (and half the visibility timeout).
MAX_RETRY_DELAY = 600
# Enough of a failed crawl's stderr to say why in the batch's outcome.
STDERR_TAIL = 2000
PR_SET_PDEATHSIG = 1


def queue_name(node: str) -> str:
    return f"{QUEUE_PREFIX}{node}"


@dataclass(frozen=True)
class NodeConfig:
    """What a worker node crawls into, and with which settings."""

    node: str
    db: str
    sites_dir: str | None = None
    settings: tuple[str, ...] = ()
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT

    def crawl_command(self, sites: Sequence[str]) -> list[str]:
        command = [sys.executable, "-m", "portalcrawl", "crawl", *sites, "--db", self.db]
        if self.sites_dir:
            command += ["--dir", self.sites_dir]
        if not any(setting.startswith("CLOSESPIDER_TIMEOUT=") for setting in self.settings):
            bound = max(1, int(self.visibility_timeout * CRAWL_TIME_SHARE))
            command += ["-s", f"CLOSESPIDER_TIMEOUT={bound}"]
        for setting in self.settings:
            command += ["-s", setting]
        return command


@dataclass
class BatchOutcome:
    """What became of one dispatched batch (the task's JSON result)."""

    node: str
    sites: list[str]
    exit_status: int
    summary: str = ""
    stderr: str = ""
    attempts: int = 1


def make_app(broker: str, *, visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT) -> Celery:
    """A Celery app on ``broker`` (``redis://:PASSWORD@HOST:PORT/DB`` or ``redis+socket:///PATH``).

    The broker also keeps the results, so ``dispatch --wait`` needs nothing else.
    """
    app = Celery("portalcrawl", broker=broker, backend=broker, set_as_current=False)
    restore_every = max(1, min(10, int(visibility_timeout // 4)))
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # A day's outcomes are enough for `dispatch --wait` and a look the morning after.
        result_expires=86400,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # An unacknowledged task comes back after the visibility timeout; the sweep that brings it back
        # runs every ``restore_every`` seconds (kombu's default scans only every 100 s).
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
        },
        result_backend_transport_options={"visibility_timeout": visibility_timeout},
    )
    return app


class BrokerUnavailable(Exception):
    """The broker cannot be reached or refuses the credentials; the message says why in one line."""


def check_broker(app: Celery) -> None:
    """Connect once now, so that a wrong URL or password is one line, not a retry loop of tracebacks."""
    with app.connection_for_write() as connection:
        try:
            connection.ensure_connection(max_retries=1, timeout=10)
        except OperationalError as error:
            raise BrokerUnavailable(f"cannot use the broker {connection.as_uri()}: {error}") from None


def run_batch(config: NodeConfig, sites: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run the batch's crawl; on Linux the crawl gets SIGTERM if the worker dies (a lost node stops)."""
    die_with_worker = None
    if sys.platform == "linux":
        # Resolved here, before the fork: between fork and exec the child only makes the one call.
        prctl = ctypes.CDLL(None, use_errno=True).prctl

        def die_with_worker() -> None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return subprocess.run(
        config.crawl_command(sites),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=die_with_worker,
    )


def register_worker_task(app: Celery, config: NodeConfig) -> None:
    """The task a node's worker runs: its batch as one crawl subprocess into the node's shard."""

    @app.task(name=TASK_NAME, bind=True, acks_late=True, reject_on_worker_lost=True)
    def crawl_batch(task: Task, sites: list[str]) -> dict[str, Any]:
        done = run_batch(config, sites)
        if done.returncode == EXIT_TEMPFAIL:
            delay = min(10 * 2**task.request.retries, MAX_RETRY_DELAY, config.visibility_timeout / 2)
            raise task.retry(countdown=delay, max_retries=None)
        outcome = BatchOutcome(
            node=config.node,
            sites=list(sites),
            exit_status=done.returncode,
            summary=done.stdout,
            stderr=done.stderr[-STDERR_TAIL:],
            attempts=task.request.retries + 1,
        )
        return asdict(outcome)

"""One crawl per database: an advisory ``flock`` on ``<db>.lock`` that records the holder's pid."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from pathlib import Path
from types import TracebackType

# The pid is written in place as one fixed-width record and blanked on release, so the file is never
# truncated: whatever the lock path turns out to be, nothing beyond this many bytes is ever touched.
PID_RECORD_BYTES = 21


class LockHeld(RuntimeError):
    """Another live process holds the lock; ``pid`` is the one it wrote (None if unreadable)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "an unknown process"
        super().__init__(f"another crawl ({holder}) is running on this database (lock {path})")
        self.path = path
        self.pid = pid


class LockUnusable(RuntimeError):
    """The lock file cannot be used safely (a symlink, not a plain file, not ours) or not created."""


def lock_path_for(db_path: str | Path) -> Path:
    """``<db>.lock`` beside the real file: the same archive reached through a symlink shares its lock."""
    return Path(f"{os.path.realpath(db_path)}.lock")


def pid_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def describe_previous_holder(pid: int) -> str:
    """Words for the pid a taken-over lock file named: the kernel released its lock, so it is not
    crawling, but the number may belong to a live process by now (a reused pid)."""
    if pid_is_running(pid):
        return f"pid {pid}, which no longer holds it (that pid now belongs to another process)"
    return f"pid {pid}, which is no longer running"


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, PID_RECORD_BYTES, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _open_lock_file(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise LockUnusable(f"lock file {path} is a symbolic link; refusing to use it") from None
        raise LockUnusable(f"cannot create the lock file {path}: {error.strerror}") from None
    info = os.fstat(fd)
    problem = ""
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_nlink != 1:
        problem = "has other hard links"
    elif info.st_size > PID_RECORD_BYTES:
        problem = f"holds more than a pid ({info.st_size} bytes)"
    if problem:
        os.close(fd)
        raise LockUnusable(f"lock file {path} {problem}; refusing to use it (remove it if it is stale)")
    return fd


class CrawlLock:
    """Exclusive lock held for the life of a crawl.

    The kernel releases a ``flock`` when its holder dies, so a lock file left behind by a killed
    crawl is simply taken over: ``previous_pid`` then names the dead process. The file is never
    deleted, because unlinking a lock file lets two processes lock two different inodes, and never
    followed through a symlink or truncated, because a root cron job must not clobber another file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.previous_pid: int | None = None
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = _open_lock_file(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise LockHeld(self.path, pid) from None
        self.previous_pid = _read_pid(fd)
        try:
            os.pwrite(fd, f"{os.getpid():<{PID_RECORD_BYTES - 1}}\n".encode("ascii"), 0)
        except OSError as error:
            os.close(fd)
            raise LockUnusable(f"cannot write the lock file {self.path}: {error.strerror}") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        # On a full disk the blanking can fail: the next holder then reports our pid as gone.
        with contextlib.suppress(OSError):
            os.pwrite(self._fd, b" " * (PID_RECORD_BYTES - 1) + b"\n", 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> CrawlLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

"""One crawl per database: an advisory ``flock`` on ``<db>.lock`` that records the holder's pid."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType


class LockHeld(RuntimeError):
    """Another live process holds the lock; ``pid`` is the one it wrote (None if unreadable)."""

    def __init__(self, path: Path, pid: int | None) -> None:
        holder = f"pid {pid}" if pid is not None else "an unknown process"
        super().__init__(f"another crawl ({holder}) is running on this database (lock {path})")
        self.path = path
        self.pid = pid


def lock_path_for(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class CrawlLock:
    """Exclusive lock held for the life of a crawl.

    The kernel releases a ``flock`` when its holder dies, so a lock file left behind by a killed
    crawl is simply taken over: ``previous_pid`` then names the dead process. The file is never
    deleted, because unlinking a lock file lets two processes lock two different inodes.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.previous_pid: int | None = None
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise LockHeld(self.path, pid) from None
        self.previous_pid = _read_pid(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
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

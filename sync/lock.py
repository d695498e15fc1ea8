"""One runner per ledger: an advisory `fcntl.flock` on `<ledger>.lock`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from deskbook.errors import DeskbookError


class LedgerLock:
    """Exclusive, non-blocking lock; released on close or when the process dies (even kill -9)."""

    def __init__(self, ledger_path: str | Path):
        self.path = Path(str(ledger_path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> "LedgerLock":
        """Take the lock or raise DeskbookError naming the ledger and the holder's pid."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except (OSError, ValueError) as exc:  # a path that cannot exist, a folder that cannot be written
            from deskbook.sync.ledger import ledger_error

            raise ledger_error(Path(str(self.path)[: -len(".lock")]), exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DeskbookError(
                "another deskbook sync is already running on this ledger",
                where=str(self.path),
                hint=f"pid {holder}; wait for it to finish (Kubernetes: concurrencyPolicy Forbid)",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock back."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "LedgerLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

"""The clock a sandbox reads: wall time, or a fake one tests move by hand."""

from __future__ import annotations

import threading
import time


class SystemClock:
    """Wall-clock time in epoch seconds."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()


class FakeClock:
    """A clock that only moves when told: `advance(seconds)`; for tests that must not sleep."""

    def __init__(self, start: float = 1_767_225_600.0):  # 2026-01-01T00:00:00Z
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The current fake time (epoch seconds)."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        with self._lock:
            self._now += seconds

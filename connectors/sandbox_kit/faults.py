"""Fault injection, deterministic for a seed.

- Random faults: for each API request a seeded RNG draws whether it fails (one of the desk's
  `kinds`: "500", "503", "503_retry_after", "slow" — a slow answer still does the work, after
  `slow_seconds`) at `rate`.
- Lost answers: a successful write (POST/PUT/PATCH/DELETE) answered 500 *after* the change was
  made, at `write_rate` (the client cannot tell whether the write happened).
- Scheduled faults: `inject(status, count, path_prefix=, retry_after=)` answers the next `count`
  requests (under `path_prefix`) with `status`, e.g. 429 + Retry-After.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Scheduled:
    """One scheduled fault: what to answer, how many more times, where."""

    status: int
    count: int
    path_prefix: str | None = None
    retry_after: int | None = None


class Faults:
    """Random, lost-answer and scheduled faults of one sandbox."""

    KINDS = ("500", "503", "503_retry_after", "slow")

    def __init__(self, rate: float = 0.0, seed: int | None = 0, *, slow_seconds: float = 3.0,
                 write_rate: float = 0.0, kinds: tuple[str, ...] = KINDS):
        self.rate = rate
        self.write_rate = write_rate
        self.slow_seconds = slow_seconds
        self.kinds = kinds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._scheduled: list[Scheduled] = []

    def draw(self) -> str | None:
        """The random fault for the next request, or None."""
        if self.rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.kinds)

    def lose_answer(self, method: str, status: int) -> bool:
        """Whether to answer this successful write with a 500 although it happened."""
        if self.write_rate <= 0 or method not in WRITE_METHODS or status >= 400:
            return False
        with self._lock:
            return self._rng.random() < self.write_rate

    def inject(self, status: int, count: int = 1, *, path_prefix: str | None = None,
               retry_after: int | None = None) -> None:
        """Answer the next `count` requests (under `path_prefix`) with `status`."""
        with self._lock:
            self._scheduled.append(Scheduled(status, count, path_prefix, retry_after))

    def scheduled(self, path: str) -> Scheduled | None:
        """Take the scheduled fault for a request to `path`, if one is due."""
        with self._lock:
            for fault in self._scheduled:
                if fault.path_prefix and not path.startswith(fault.path_prefix):
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    self._scheduled.remove(fault)
                return fault
        return None

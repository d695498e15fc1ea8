"""Per-endpoint-class rate limits (fixed one-minute windows) and a clock tests can move by hand."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from deskbook.connectors.zendesk.sandbox_command import DEFAULT_RATE_LIMITS as DEFAULT_LIMITS  # Zendesk's, per minute


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


def endpoint_class(path: str) -> str:
    """Rate-limit class of an API path: incremental exports, search export, or the account limit."""
    if path.startswith("/api/v2/incremental/"):
        return "incremental"
    if path.startswith("/api/v2/search/export"):
        return "search_export"
    return "account"


@dataclass
class Decision:
    """Outcome of one rate-limit check: what the response headers say, and whether to refuse."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class RateLimiter:
    """Counts requests per class in fixed minute windows of `clock`; every request also counts
    against the account limit, as Zendesk does."""

    def __init__(self, clock, limits: dict[str, int] | None = None):
        self.clock = clock
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def check(self, klass: str) -> Decision:
        """Count one request of `klass` (and of the account) unless a limit is exhausted."""
        now = self.clock.now()
        window = int(now // 60)
        retry_after = max(1, int(60 - (now - window * 60) + 0.999))
        classes = ["account"] if klass == "account" else [klass, "account"]
        with self._lock:
            for old in [k for k in self._counts if k[1] < window]:
                del self._counts[old]
            used = {c: self._counts.get((c, window), 0) for c in classes}
            exhausted = [c for c in classes if used[c] >= self.limits[c]]
            reported = classes[0]
            if exhausted:
                return Decision(False, self.limits[reported], 0, retry_after)
            for c in classes:
                self._counts[(c, window)] = used[c] + 1
            return Decision(True, self.limits[reported], self.limits[reported] - used[reported] - 1, retry_after)

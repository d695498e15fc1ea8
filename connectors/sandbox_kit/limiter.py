"""Rate limits per endpoint class in fixed one-minute windows of the sandbox's clock.

Every request counts against its class and, when the class is not the account itself, against
the `account` class too (Zendesk counts every request against the account limit). A class without
a limit (None or missing) is not limited. Because the windows are read from the sandbox clock, a
test with a `FakeClock` sees a 429 lift when it advances the clock, without sleeping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

ACCOUNT = "account"


@dataclass
class Decision:
    """Outcome of one rate-limit check: what the response headers say, and whether to refuse."""

    allowed: bool
    limit: int | None
    remaining: int | None
    retry_after: int
    #: the account class's limit and what is left of it in this window (None: the account is not limited)
    account_limit: int | None = None
    account_remaining: int | None = None
    #: when the window ends (epoch seconds of the sandbox clock)
    reset_at: float = 0.0


class RateLimiter:
    """Counts requests per class in fixed minute windows of `clock`."""

    def __init__(self, clock: Any, limits: dict[str, int | None] | None = None):
        self.clock = clock
        self.limits: dict[str, int | None] = dict(limits or {})
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def check(self, klass: str = ACCOUNT) -> Decision:
        """Count one request of `klass` (and of the account) unless a limit is exhausted."""
        now = self.clock.now()
        window = int(now // 60)
        retry_after = max(1, int(60 - (now - window * 60) + 0.999))
        classes = [c for c in ([ACCOUNT] if klass == ACCOUNT else [klass, ACCOUNT]) if self.limits.get(c)]
        reported = classes[0] if classes else None
        limit = self.limits[reported] if reported else None
        with self._lock:
            for old in [k for k in self._counts if k[1] < window]:
                del self._counts[old]
            used = {c: self._counts.get((c, window), 0) for c in classes}
            account = self.limits.get(ACCOUNT) or None
            account_used = used.get(ACCOUNT, 0)
            reset_at = (window + 1) * 60.0
            if any(used[c] >= self.limits[c] for c in classes):  # type: ignore[operator]
                left = max(0, account - account_used) if account else None
                return Decision(False, limit, 0, retry_after, account, left, reset_at)
            for c in classes:
                self._counts[(c, window)] = used[c] + 1
        remaining = limit - used[reported] - 1 if reported and limit is not None else None
        left = account - account_used - 1 if account else None
        return Decision(True, limit, remaining, retry_after, account, left, reset_at)

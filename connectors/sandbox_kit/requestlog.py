"""The request log of a sandbox (what tests and `/sandbox/requests` read), bounded.

At most `max_entries` requests are kept (the oldest go first), and a logged body larger than
`max_body_bytes` is replaced by a note of its size, so a sandbox left running takes bounded
memory however much it is sent. The checkers' violations are kept beside it (also bounded).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

MAX_ENTRIES = 20_000
MAX_LOGGED_BODY_BYTES = 64 * 1024
MAX_VIOLATIONS = 10_000


class RequestLog:
    """Thread-safe bounded list of request entries and violations."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_body_bytes: int = MAX_LOGGED_BODY_BYTES):
        self.max_body_bytes = max_body_bytes
        self._entries: deque[dict] = deque(maxlen=max_entries)
        self._violations: deque[str] = deque(maxlen=MAX_VIOLATIONS)
        self._lock = threading.Lock()

    def body(self, parsed: Any, size: int) -> Any:
        """What the log keeps of a request body of `size` bytes."""
        if size > self.max_body_bytes:
            return {"_omitted": f"{size} bytes"}
        return parsed

    def append(self, entry: dict) -> None:
        """Log one request."""
        with self._lock:
            self._entries.append(entry)

    def violation(self, text: str) -> None:
        """Record one checker problem."""
        with self._lock:
            self._violations.append(text)

    def entries(self) -> list[dict]:
        """Every logged request (oldest first), as copies."""
        with self._lock:
            return [dict(e) for e in self._entries]

    def violations(self) -> list[str]:
        """Every recorded checker problem."""
        with self._lock:
            return list(self._violations)

    def clear(self) -> None:
        """Forget the log and the violations."""
        with self._lock:
            self._entries.clear()
            self._violations.clear()

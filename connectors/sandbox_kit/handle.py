"""What a running sandbox hands a test: the request log, violations and scheduled faults of its app."""

from __future__ import annotations

from typing import Any


class KitHandle:
    """Mixed into each desk's handle (which has `.app`, a `SandboxPipeline`)."""

    app: Any

    def requests(self) -> list[dict]:
        """Every API request served so far (oldest first): method, path, query, json, status, ..."""
        return self.app.requests()

    def reset_log(self) -> None:
        """Forget the request log (and recorded violations)."""
        self.app.reset_log()

    clear_requests = reset_log

    def violations(self) -> list[str]:
        """Problems the request checkers (spec, `request_checker`) found."""
        return self.app.violations()

    def inject(self, status: int, count: int = 1, *, path_prefix: str | None = None,
               retry_after: int | None = None) -> None:
        """Answer the next `count` requests (under `path_prefix`) with `status` (e.g. 429 + Retry-After)."""
        self.app.faults.inject(status, count, path_prefix=path_prefix, retry_after=retry_after)

"""The one refusal the kit raises; each desk answers it in its own error shape."""

from __future__ import annotations


class KitError(Exception):
    """An answer the pipeline gives instead of the desk's handler.

    `reason` says which: "too_large" (413), "invalid_json" (400), "invalid" (400/422, a mistyped
    or missing field, `field` names it), "unauthorized" (401), "rate_limited" (429), "fault"
    (scheduled or random), "not_found" (404), "method_not_allowed" (405), "internal" (500).
    """

    def __init__(self, status: int, message: str, *, reason: str = "invalid", headers: dict | None = None,
                 field: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason
        self.headers = dict(headers or {})
        self.field = field

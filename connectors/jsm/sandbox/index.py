"""The search index of the JSM sandbox: JQL search sees each request as it stood a while ago.

FACTS.md 8.2: Jira's search (`/rest/api/3/search/jql`) is eventually consistent — "recent updates
might not be immediately visible in the returned search results" (the platform spec) — and
`reconcileIssues` (at most 50 issue ids) makes the results consistent for those issues. The sandbox
plays it with a fixed lag on the sandbox clock (`SandboxConfig.search_lag_seconds`):

- A write to a request (an API call, a rule's action, anything that stores it) reaches the index
  `lag` seconds later. Until then search matches the request as the index last held it — a request
  created less than `lag` ago is not found at all, a label added is not matched yet — and the
  issue it returns carries that older copy's fields and properties too (Atlassian's
  search-and-reconcile page: results "may return stale or outdated data").
- A request whose id is in `reconcileIssues` is matched and returned as it is now; an id no request
  has is ignored (the reading: the spec says only "strong consistency issue ids", at most 50).
- A deleted request leaves the results at once (reading: the hit can no longer be read).

Readings where FACTS.md gives no figure: the default lag is `DEFAULT_LAG_SECONDS` (FACTS.md 8.2 gives
none; Atlassian's search-and-reconcile page says most changes show "within seconds", some take
minutes): 5 s. Documents written straight into the store outside a watched write (`Store.put_many`:
seeding) count as indexed; `SearchIndex.catch_up()` lets a test say "the lag has passed" without
waiting. Only `/search/jql` reads the index: queues, SLA goals and rule conditions are evaluated on
the requests as they are (the site evaluates them itself; FACTS.md says nothing of their lag).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterable

from deskbook.connectors.jsm.sandbox_command import DEFAULT_SEARCH_LAG_SECONDS as DEFAULT_LAG_SECONDS

__all__ = ["DEFAULT_LAG_SECONDS", "SearchIndex"]


class SearchIndex:
    """Which copy of each request search sees, `lag` seconds behind the store (`Store.watchers`).

    Only requests written within the lag are tracked: `_pending[key]` is the copy the index holds (JSON
    text; None: not in the index yet) and the writes since, oldest first, as (time, JSON text or None
    for a deletion)."""

    def __init__(self, now: Any, lag: float):
        self._now = now
        self.lag = max(0.0, float(lag))
        self._pending: dict[str, tuple[str | None, list[tuple[float, str | None]]]] = {}
        self._lock = threading.Lock()
        self._writes = 0

    def written(self, kind: str, key: str, before: str | None, after: str | None) -> None:
        """A request changed from `before` (None: it is new) to `after` (None: deleted); JSON texts."""
        if self.lag <= 0:
            return
        now = self._now()
        with self._lock:
            base, writes = self._pending.get(key, (before, []))
            writes.append((now, after))
            self._pending[key] = (base, writes)
            self._writes += 1
            if self._writes % 1000 == 0:  # forget what every request's index copy has caught up with
                for ident in list(self._pending):
                    self._indexed(ident, now)

    def catch_up(self) -> None:
        """Index every write now (as if the lag had passed)."""
        with self._lock:
            self._pending.clear()

    def _indexed(self, key: str, now: float) -> tuple[bool, str | None]:
        """(whether the index's copy of one request differs from the store's, that copy); writes that
        have reached the index are folded into its copy."""
        entry = self._pending.get(key)
        if entry is None:
            return False, None
        base, writes = entry
        while writes and writes[0][0] <= now - self.lag:
            base = writes.pop(0)[1]
        if not writes:  # every write reached the index: the store's copy is the index's
            del self._pending[key]
            return False, None
        self._pending[key] = (base, writes)
        return True, base

    def view(self, current: Iterable[dict], reconcile: set[str]) -> list[dict]:
        """The requests search matches against, in store order: each as the index holds it, those whose
        id is in `reconcile` as they are (`current`: every stored request)."""
        now = self._now()
        out = []
        with self._lock:
            for issue in current:
                stale, held = self._indexed(issue["key"], now)
                if not stale or str(issue.get("id")) in reconcile:
                    out.append(issue)
                elif held is not None:
                    out.append(json.loads(held))
        return out

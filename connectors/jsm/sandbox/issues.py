"""The one path every change to a sandbox issue takes, whoever makes it (an API call or a rule).

Each write stamps the time on the store clock (a `FakeClock` in tests), appends what changed to
the issue's history and returns an `Event` saying what happened, which the app hands to the
automation engine (`engine.py`). Nothing else writes an issue's fields, status or comments.

The history is kept in the stored issue, in the shape of Jira's changelog
(`GET /rest/api/3/issue/{key}/changelog`): `issue["changelog"]` is a list of
`{"id", "created", "author", "items": [{"field", "fieldtype", "fieldId", "from", "fromString",
"to", "toString"}]}`; comments stay in `issue["comments"]` as `{"id", "body", "public",
"created", "author"}` (`public` false = an internal note). A creation writes no changelog entry,
as in Jira; the issue's `created` is its start. Readers (SLA cycles, queues) read these documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Statuses of the service-request workflow that resolve a request (status category "done").
DONE_STATUSES = ("Resolved", "Closed")


def stamp(store: Any) -> str:
    """The store clock's time in Jira's ISO 8601 form (`Store.stamp`)."""
    return str(store.stamp())


@dataclass
class Event:
    """What one write did to one issue, as automation triggers see it.

    `kind`: `created`, `updated` (field edits), `commented`, `transitioned`. `items`: the changelog
    items (field changes). `by_rule`: the uuid of the rule whose action made the write (None for
    an API call), so only rules that allow it (`canOtherRuleTrigger`) react.
    """

    kind: str
    key: str
    author: str
    items: list[dict] = field(default_factory=list)
    comment: dict | None = None
    by_rule: str | None = None


def _item(name: str, old: Any, new: Any) -> dict:
    def text(value: Any) -> str | None:
        if value is None or value == []:
            return None
        return " ".join(value) if isinstance(value, list) else str(value)
    return {"field": name, "fieldtype": "jira", "fieldId": name, "from": None, "fromString": text(old),
            "to": None, "toString": text(new)}


def _log(store: Any, issue: dict, author: str, items: list[dict]) -> None:
    issue.setdefault("changelog", []).append({"id": str(store.next_id("changelog")), "created": stamp(store),
                                              "author": author, "items": items})


def created(store: Any, issue: dict, author: str, *, by_rule: str | None = None) -> Event:
    """A new issue: stamped and stored."""
    issue["created"] = issue.get("created") or stamp(store)
    issue["updated"] = issue["created"]
    issue.setdefault("changelog", [])
    store.put("request", issue["key"], issue)
    return Event("created", issue["key"], author, by_rule=by_rule)


def edit(store: Any, issue: dict, changes: dict[str, Any], author: str, *, by_rule: str | None = None) -> Event | None:
    """Set fields (`labels`, `priority`, `summary`, `assignee`, `organizations`, ...); None when
    nothing changed (Jira sends no event for an edit that changes nothing)."""
    items = []
    for name, value in changes.items():
        old = issue.get(name)
        if name == "labels":
            if sorted(old or []) == sorted(value or []):
                continue
        elif old == value:
            continue
        items.append(_item(name, old, value))
        issue[name] = value
    if not items:
        return None
    _log(store, issue, author, items)
    issue["updated"] = stamp(store)
    store.put("request", issue["key"], issue)
    return Event("updated", issue["key"], author, items, by_rule=by_rule)


def transition(store: Any, issue: dict, status: str, author: str, *, by_rule: str | None = None) -> Event:
    """Move the issue to `status` (resolution date set when it is done, cleared when it leaves)."""
    items = [_item("status", issue.get("status"), status)]
    now = stamp(store)
    if status in DONE_STATUSES and issue.get("status") not in DONE_STATUSES:
        items.append(_item("resolution", None, "Done"))
        issue["resolutiondate"] = now
    elif status not in DONE_STATUSES and issue.get("resolutiondate"):
        items.append(_item("resolution", "Done", None))
        issue.pop("resolutiondate", None)
    issue["status"] = status
    _log(store, issue, author, items)
    issue["updated"] = now
    store.put("request", issue["key"], issue)
    return Event("transitioned", issue["key"], author, items, by_rule=by_rule)


def comment(store: Any, issue: dict, body: str, public: bool, author: str, *, by_rule: str | None = None) -> tuple[dict, Event]:
    """Add a comment (`public` false: an internal note the customer never sees)."""
    entry = {"id": str(store.next_id("comment")), "body": body, "public": bool(public), "created": stamp(store),
             "author": author}
    issue.setdefault("comments", []).append(entry)
    issue["updated"] = entry["created"]
    store.put("request", issue["key"], issue)
    return entry, Event("commented", issue["key"], author, comment=entry, by_rule=by_rule)

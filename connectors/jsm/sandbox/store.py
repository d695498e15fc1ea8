"""SQLite state of the JSM sandbox: JSON documents per kind, thread-safe.

Every object the sandbox knows (service desks, request types, requests, organizations,
customers, automation rules, SLA metrics) is one JSON document in `documents`, keyed by
(kind, id), kept in creation order (`position`). Ids come from per-kind sequences so they look
like Atlassian's (numeric strings, issue keys `SUP-1`, rule UUIDs). The connection, its lock,
transactions and sequences are the sandbox kit's `DocumentStore`.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from deskbook.connectors.sandbox_kit.store import DocumentStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS documents_by_position ON documents (kind, position);
"""

#: First id handed out per kind (Atlassian ids are numeric strings of this order).
SEQUENCE_START = {
    "servicedesk": 1,
    "requesttype": 1,
    "request": 10000,
    "issue_number": 1,
    "organization": 1,
    "customer": 1,
    "comment": 10000,
    "slametric": 1,
}


def now_iso(ts: float | None = None) -> str:
    """The time `ts` (epoch seconds; default: wall time) in Jira's ISO 8601 form (UTC, milliseconds,
    numeric offset). Handlers stamp with `Store.stamp()`, the sandbox clock's time."""
    moment = datetime.now(timezone.utc) if ts is None else datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def date_dto(iso: str) -> dict:
    """A servicedeskapi `DateDTO` for an ISO timestamp made by `now_iso`."""
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z")
    return {
        "iso8601": iso,
        "jira": iso,
        "friendly": moment.strftime("%d/%b/%y %I:%M %p"),
        "epochMillis": int(moment.timestamp() * 1000),
    }


class Store(DocumentStore):
    """JSON documents in SQLite behind one re-entrant lock."""

    SCHEMA = SCHEMA

    def __init__(self, path: str = ":memory:", clock: Any = None):
        super().__init__(path, clock)
        self._revisions: dict[str, int] = {}
        self._lookups: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        #: called as (kind, id, old JSON text or None, new JSON text or None) after each `put`/`delete`
        #: of a watched kind (the search index follows the requests: `index.py`)
        self.watchers: dict[str, list[Callable[[str, str, str | None, str | None], None]]] = {}

    def _notify(self, kind: str, ident: str, before: str | None, after: str | None) -> None:
        for watcher in self.watchers.get(kind, ()):
            watcher(kind, ident, before, after)

    def stamp(self) -> str:
        """The sandbox clock's current time as a Jira timestamp (what handlers write into documents)."""
        return now_iso(self.now())

    def revision(self, kind: str) -> int:
        """A number that changes whenever a document of `kind` is written or deleted (cache keys)."""
        return self._revisions.get(kind, 0)

    def _touch(self, kind: str) -> None:
        self._revisions[kind] = self._revisions.get(kind, 0) + 1

    def next_id(self, kind: str) -> int:
        """Take the next number of `kind`'s sequence."""
        return self.next_ids(kind, first=SEQUENCE_START.get(kind, 1))[0]

    def new_uuid(self) -> str:
        """A fresh UUID string (automation rules are addressed by UUID)."""
        return str(uuid.uuid4())

    def put(self, kind: str, ident: str, body: dict) -> dict:
        """Insert or replace a document; keeps the original position on replace."""
        with self.lock:
            watched = bool(self.watchers.get(kind))
            row = self.db.execute(
                f"SELECT position{', body' if watched else ''} FROM documents WHERE kind = ? AND id = ?", (kind, ident)
            ).fetchone()
            text = json.dumps(body)
            if row:
                self.db.execute(
                    "UPDATE documents SET body = ? WHERE kind = ? AND id = ?",
                    (text, kind, ident),
                )
            else:
                position = self.db.execute(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM documents WHERE kind = ?", (kind,)
                ).fetchone()[0]
                self.db.execute(
                    "INSERT INTO documents (kind, id, position, body) VALUES (?, ?, ?, ?)",
                    (kind, ident, position, text),
                )
            self._touch(kind)
            if watched:
                self._notify(kind, ident, row[1] if row else None, text)
            return body

    def put_many(self, kind: str, documents: list[tuple[str, dict]]) -> None:
        """Insert many new documents (id, body) in one transaction (seeding large sandboxes; watchers are
        not told: seeded documents are as old as the sandbox)."""
        with self.lock:
            start = self.db.execute(
                "SELECT COALESCE(MAX(position), 0) + 1 FROM documents WHERE kind = ?", (kind,)
            ).fetchone()[0]
            with self.transaction():
                self.db.executemany(
                    "INSERT INTO documents (kind, id, position, body) VALUES (?, ?, ?, ?)",
                    ((kind, str(ident), start + n, json.dumps(body)) for n, (ident, body) in enumerate(documents)),
                )
            self._touch(kind)

    def get(self, kind: str, ident: str) -> dict | None:
        """The document of `kind` with id `ident`, or None."""
        with self.lock:
            row = self.db.execute(
                "SELECT body FROM documents WHERE kind = ? AND id = ?", (kind, str(ident))
            ).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, kind: str, ident: str) -> bool:
        """Remove a document; True when it existed."""
        with self.lock:
            row = self.db.execute("SELECT body FROM documents WHERE kind = ? AND id = ?", (kind, str(ident))).fetchone() \
                if self.watchers.get(kind) else None
            cursor = self.db.execute("DELETE FROM documents WHERE kind = ? AND id = ?", (kind, str(ident)))
            self._touch(kind)
            if row:
                self._notify(kind, str(ident), row[0], None)
            return cursor.rowcount > 0

    def all(self, kind: str) -> list[dict]:
        """Every document of `kind`, in creation order."""
        with self.lock:
            rows = self.db.execute(
                "SELECT body FROM documents WHERE kind = ? ORDER BY position", (kind,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def slice(self, kind: str, start: int, limit: int) -> list[dict]:
        """Documents of `kind` number `start` .. `start + limit - 1` in creation order (one page)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT body FROM documents WHERE kind = ? ORDER BY position LIMIT ? OFFSET ?", (kind, limit, start)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def lookup(self, kind: str, field: str, value: str) -> dict | None:
        """The first document of `kind` whose `field` equals `value` (case-insensitive), via an
        index rebuilt only after `kind` changed."""
        with self.lock:
            cached = self._lookups.get((kind, field))
            if cached is None or cached[0] != self.revision(kind):
                index: dict[str, str] = {}
                for ident, body in self.db.execute(
                        "SELECT id, body FROM documents WHERE kind = ? ORDER BY position", (kind,)):
                    key = str(json.loads(body).get(field) or "").lower()
                    index.setdefault(key, ident)
                cached = (self.revision(kind), index)
                self._lookups[(kind, field)] = cached
            ident = cached[1].get(str(value).lower())
        return self.get(kind, ident) if ident is not None else None

    def count(self, kind: str) -> int:
        """How many documents of `kind` exist."""
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM documents WHERE kind = ?", (kind,)).fetchone()[0]

    def update(self, kind: str, ident: str, changes: dict[str, Any]) -> dict | None:
        """Merge `changes` into a document and store it; None when it does not exist."""
        with self.lock:
            body = self.get(kind, ident)
            if body is None:
                return None
            body.update(changes)
            return self.put(kind, ident, body)

    def iter_kinds(self) -> Iterator[str]:
        """The kinds that have at least one document."""
        with self.lock:
            rows = self.db.execute("SELECT DISTINCT kind FROM documents ORDER BY kind").fetchall()
        yield from (row[0] for row in rows)

"""The sandbox desk's state: one SQLite database (JSON documents per object), safe across threads.

Objects are stored in the shape Zendesk returns them, minus the `url` (which depends on the
host the sandbox answers on) and with private bookkeeping keys starting with `_`.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from deskbook.connectors.sandbox_kit.store import DocumentStore

#: First id handed out per kind (Zendesk ids are large integers; ticket ids count from 1).
FIRST_IDS = {"ticket": 1, "trigger_category": 10001}
DEFAULT_FIRST_ID = 360000000001
#: Kind under which a deleted ticket is kept (see `Store.delete`).
DELETED_TICKET = "deleted_ticket"
#: SQL for an object's `position` (missing = 0), for kinds Zendesk lists by position.
POSITION_SQL = "coalesce(json_extract(data, '$.position'), 0)"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    data TEXT NOT NULL,
    external_id TEXT,
    created_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS objects_external ON objects (kind, external_id);
CREATE INDEX IF NOT EXISTS objects_updated ON objects (kind, updated_ts, id);
CREATE INDEX IF NOT EXISTS objects_name ON objects (kind, lower(json_extract(data, '$.name')));
CREATE INDEX IF NOT EXISTS objects_user_email ON objects (lower(json_extract(data, '$.email'))) WHERE kind = 'user';
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body TEXT NOT NULL, created_ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


def iso(ts: float) -> str:
    """`ts` (epoch seconds) as Zendesk writes timestamps: 2023-09-18T23:34:26Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp or date (UTC when no offset is given)."""
    text = text.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


class Store(DocumentStore):
    """Thread-safe object store over one SQLite connection (`path=None`: in memory), on the
    sandbox kit's document store."""

    SCHEMA = _SCHEMA

    def next_ids(self, kind: str, count: int = 1) -> list[int]:  # type: ignore[override]
        """Reserve `count` new ids for `kind` (one account-wide sequence, like Zendesk's, except
        tickets and trigger categories, which count on their own)."""
        sequence = kind if kind in FIRST_IDS else "global"
        return super().next_ids(sequence, count, first=FIRST_IDS.get(kind, DEFAULT_FIRST_ID))

    # ------------------------------------------------------------ objects

    def insert(self, kind: str, data: dict, *, ts: float | None = None) -> dict:
        """Store a new object of `kind`; assigns `id`, `created_at`, `updated_at` unless given."""
        return self.insert_many(kind, [data], ts=ts)[0]

    def insert_many(self, kind: str, items: Iterable[dict], *, ts: float | None = None) -> list[dict]:
        """Store many new objects in one transaction (fast bulk path for seeding)."""
        items = list(items)
        with self.transaction():
            now = self.now() if ts is None else ts
            missing = [d for d in items if "id" not in d]
            for data, new_id in zip(missing, self.next_ids(kind, len(missing)), strict=True):
                data["id"] = new_id
            rows = []
            for data in items:
                created = data.pop("_created_ts", None)
                updated = data.pop("_updated_ts", None)
                if created is None:
                    created = parse_iso(data["created_at"]) if data.get("created_at") else now
                if updated is None:
                    updated = parse_iso(data["updated_at"]) if data.get("updated_at") else created
                if not data.get("created_at"):
                    data["created_at"] = iso(created)
                if not data.get("updated_at"):
                    data["updated_at"] = iso(updated)
                rows.append((kind, int(data["id"]), json.dumps(data), _text(data.get("external_id")), created, updated))
            self.db.executemany(
                "INSERT INTO objects (kind, id, data, external_id, created_ts, updated_ts) VALUES (?,?,?,?,?,?)",
                rows,
            )
        return items

    def put(self, kind: str, data: dict, *, touch: bool = True) -> dict:
        """Replace the stored object with the same id; sets `updated_at` to now when `touch`."""
        with self.transaction():
            now = self.now()
            if touch:
                data["updated_at"] = iso(now)
            updated = parse_iso(data["updated_at"]) if not touch else now
            self.db.execute(
                "UPDATE objects SET data=?, external_id=?, updated_ts=? WHERE kind=? AND id=?",
                (json.dumps(data), _text(data.get("external_id")), updated, kind, int(data["id"])),
            )
        return data

    def system_update(self, ticket_id: int) -> None:
        """A system update of a ticket: its `generated_timestamp` (and its place in the incremental
        export, which orders by it) moves to now, its `updated_at` does not. Spec, incremental ticket
        export: "The `updated_at` value is updated only if the update generates a ticket event. The
        `generated_timestamp` value is updated for all ticket updates, including system updates"."""
        with self.transaction():
            doc = self.get("ticket", ticket_id)
            if doc is None:
                raise KeyError(ticket_id)
            now = self.now()
            doc["_generated_ts"] = now
            self.db.execute("UPDATE objects SET data=?, updated_ts=? WHERE kind='ticket' AND id=?",
                            (json.dumps(doc), now, int(ticket_id)))

    def get(self, kind: str, object_id: Any) -> dict | None:
        """The stored object, or None."""
        object_id = _sqlite_id(object_id)
        if object_id is None:
            return None
        with self.lock:
            row = self.db.execute("SELECT data FROM objects WHERE kind=? AND id=?", (kind, object_id)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, kind: str, object_id: Any) -> bool:
        """Remove an object; False when it did not exist.

        A deleted ticket stays behind as a `deleted_ticket` (status "deleted", `_generated_ts` =
        the deletion time, `updated_at` unchanged): Zendesk's incremental ticket export keeps
        listing deleted tickets that way (recording TicketsIncrementalTest.test_pagination: status
        "deleted", updated_at = created_at, a later generated_timestamp)."""
        with self.transaction():
            if kind == "ticket":
                doc = self.get("ticket", object_id)
                if doc is not None:
                    now = self.now()
                    doc.update(status="deleted", _generated_ts=now)
                    self.db.execute(
                        "INSERT OR REPLACE INTO objects (kind, id, data, external_id, created_ts, updated_ts)"
                        " VALUES (?,?,?,?,?,?)",
                        (DELETED_TICKET, int(doc["id"]), json.dumps(doc), _text(doc.get("external_id")),
                         parse_iso(doc.get("created_at") or iso(now)), now),
                    )
            if _sqlite_id(object_id) is None:
                return False
            cur = self.db.execute("DELETE FROM objects WHERE kind=? AND id=?", (kind, int(object_id)))
            return cur.rowcount > 0

    def all(self, kind: str) -> list[dict]:
        """Every object of `kind`, by id."""
        return list(self.iter(kind))

    def iter(self, kind: str, *, where: str = "", params: tuple = (), by_position: bool = False) -> Iterator[dict]:
        """Objects of `kind` by id (or by `position`, then id), optionally filtered by an SQL expression over `data`."""
        sql = ("SELECT data FROM objects WHERE kind=?" + (f" AND ({where})" if where else "")
               + " ORDER BY " + (f"{POSITION_SQL}, id" if by_position else "id"))
        with self.lock:
            rows = self.db.execute(sql, (kind, *params)).fetchall()
        return (json.loads(r[0]) for r in rows)

    def page(self, kind: str, *, after_id: Any = None, before_id: Any = None,
             limit: int = 100, offset: int = 0, where: str = "", params: tuple = (),
             by_position: bool = False, sort: tuple[str, bool] | None = None) -> list[dict]:
        """One page of objects by id: after/before a cursor id, or at an offset.

        With `by_position` the order is (`position`, id), as Zendesk lists triggers, automations
        and views, and the cursors `after_id`/`before_id` are (position, id) pairs. `sort` (offset
        pages only) is (`updated_at` | `created_at` | `id`, descending): that field (whole seconds),
        then id. `updated_at` is the object's, not `updated_ts`: a system update (`system_update`)
        moves the latter only."""
        if sort is not None:
            column = "id" if sort[0] == "id" else f"json_extract(data, '$.{sort[0]}')"
            direction = "DESC" if sort[1] else "ASC"
            sql = ("SELECT data FROM objects WHERE kind=?" + (f" AND ({where})" if where else "")
                   + f" ORDER BY {column} {direction}, id {direction} LIMIT ? OFFSET ?")
            with self.lock:
                rows = self.db.execute(sql, (kind, *params, limit, offset)).fetchall()
            return [json.loads(r[0]) for r in rows]
        clauses, args = ["kind=?"], [kind]
        if where:
            clauses.append(f"({where})")
            args.extend(params)
        key = f"({POSITION_SQL}, id)" if by_position else "id"
        marks = "(?, ?)" if by_position else "?"
        if after_id is not None:
            clauses.append(f"{key} > {marks}")
            args.extend(after_id if by_position else [after_id])
        order = "ASC"
        if before_id is not None:
            clauses.append(f"{key} < {marks}")
            args.extend(before_id if by_position else [before_id])
            order = "DESC"
        order_sql = f"{POSITION_SQL} {order}, id {order}" if by_position else f"id {order}"
        sql = f"SELECT data FROM objects WHERE {' AND '.join(clauses)} ORDER BY {order_sql} LIMIT ? OFFSET ?"
        with self.lock:
            rows = self.db.execute(sql, (*args, limit, offset)).fetchall()
        found = [json.loads(r[0]) for r in rows]
        return found[::-1] if before_id is not None else found

    def count(self, kind: str, *, where: str = "", params: tuple = ()) -> int:
        """How many objects of `kind` (optionally filtered)."""
        sql = "SELECT COUNT(*) FROM objects WHERE kind=?" + (f" AND ({where})" if where else "")
        with self.lock:
            return self.db.execute(sql, (kind, *params)).fetchone()[0]

    def by_external_id(self, kind: str, external_id: str) -> list[dict]:
        """Objects of `kind` whose `external_id` equals the given text."""
        with self.lock:
            rows = self.db.execute(
                "SELECT data FROM objects WHERE kind=? AND external_id=? ORDER BY id", (kind, str(external_id))
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def changed_since(self, kind: str, start_ts: float, *, after_id: int = -1, limit: int = 1000,
                      until_ts: float | None = None, kinds: tuple[str, ...] = ()) -> list[tuple[float, dict]]:
        """(updated_ts, object) pairs updated at/after `start_ts` (and at/before `until_ts` when
        given), ordered by (updated_ts, id); `kinds` adds further kinds (e.g. deleted tickets)."""
        every = (kind, *kinds)
        marks = ", ".join("?" for _ in every)
        until = "" if until_ts is None else " AND updated_ts<=?"
        with self.lock:
            rows = self.db.execute(
                f"SELECT updated_ts, data FROM objects WHERE kind IN ({marks}) AND (updated_ts>? OR (updated_ts=? AND id>?))"
                f"{until} ORDER BY updated_ts, id LIMIT ?",
                (*every, start_ts, start_ts, after_id, *(() if until_ts is None else (until_ts,)), limit),
            ).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def find_by_text(self, kind: str, attribute: str, value: Any, *, exclude_id: Any = None) -> dict | None:
        """The first object of `kind` whose `attribute` equals `value` ignoring case (indexed for
        `name` and `email`), other than `exclude_id`."""
        if not re.fullmatch(r"[a-z_]+", kind) or not re.fullmatch(r"[a-z_]+", attribute):
            raise ValueError(f"not a kind/attribute name: {kind!r}, {attribute!r}")
        # the kind is written literally so that the partial index on user emails applies
        sql = (f"SELECT data FROM objects WHERE kind='{kind}' AND lower(json_extract(data, '$.{attribute}')) = lower(?)"
               " AND id != ? LIMIT 1")
        with self.lock:
            row = self.db.execute(sql, (str(value), -1 if exclude_id is None else int(exclude_id))).fetchone()
        return json.loads(row[0]) if row else None

    def find_first(self, kind: str, predicate: Callable[[dict], bool]) -> dict | None:
        """The first object of `kind` (by id) for which `predicate` holds."""
        return next((o for o in self.iter(kind) if predicate(o)), None)

    # ------------------------------------------------------------ idempotency keys and jobs

    def idempotent_lookup(self, key: str, max_age: float) -> tuple[str, int, str] | None:
        """(fingerprint, status, body) remembered for an Idempotency-Key younger than `max_age`."""
        with self.lock:
            row = self.db.execute(
                "SELECT fingerprint, status, body, created_ts FROM idempotency WHERE key=?", (key,)
            ).fetchone()
        if not row or self.now() - row[3] > max_age:
            return None
        return row[0], row[1], row[2]

    def idempotent_remember(self, key: str, fingerprint: str, status: int, body: str) -> None:
        """Remember the first response given for an Idempotency-Key."""
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO idempotency (key, fingerprint, status, body, created_ts) VALUES (?,?,?,?,?)",
                (key, fingerprint, status, body, self.now()),
            )

    def save_job(self, job: dict, *, completed: bool = False) -> None:
        """Store a job status document (`completed`: it moves to the newest place of `list_jobs`)."""
        with self.lock:
            if completed:
                self.db.execute("DELETE FROM jobs WHERE id=?", (job["id"],))
            self.db.execute("INSERT OR REPLACE INTO jobs (id, data) VALUES (?, ?)", (job["id"], json.dumps(job)))

    def list_jobs(self) -> list[dict]:
        """Every job status: unfinished ones first (newest first), then finished ones, newest first."""
        with self.lock:
            jobs = [json.loads(row[0]) for row in self.db.execute("SELECT data FROM jobs ORDER BY rowid DESC")]
        return [j for j in jobs if j.get("status") in ("queued", "working")] + \
            [j for j in jobs if j.get("status") not in ("queued", "working")]

    def get_job(self, job_id: str) -> dict | None:
        """A stored job status, or None."""
        with self.lock:
            row = self.db.execute("SELECT data FROM jobs WHERE id=?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    # ------------------------------------------------------------ seeding helpers for tests

    def seed_organizations(self, count: int, **options: Any) -> list[int]:
        """Create `count` sample organizations (see `seed.seed_organizations`); returns their ids."""
        from deskbook.connectors.zendesk.sandbox.seed import seed_organizations

        return seed_organizations(self, count, **options)

    def add_ticket(self, **fields: Any) -> dict:
        """Insert a ticket directly (any status, chosen `created_at`/`updated_at`); returns it."""
        from deskbook.connectors.zendesk.sandbox.rules import ticket_defaults

        data = ticket_defaults(self)
        data.update(fields)
        return self.insert("ticket", data)


def _sqlite_id(value: Any) -> int | None:
    """`value` as an id SQLite can look up (a 64-bit integer), or None: no object has another id."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2 ** 63) <= number < 2 ** 63 else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)

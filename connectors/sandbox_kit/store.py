"""JSON documents in SQLite, safe across a server's worker threads: the base of both desks' stores.

One connection (autocommit; explicit transactions), one re-entrant lock, nested transactions
(`with store.transaction():` — only the outermost one commits or rolls back), id sequences per
kind, and the sandbox clock. A desk's store adds its own tables (`SCHEMA`) and the lookups its
handlers need; documents are stored as JSON text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any

from deskbook.connectors.sandbox_kit.clock import SystemClock

_SEQUENCES = "CREATE TABLE IF NOT EXISTS sequences (kind TEXT PRIMARY KEY, next INTEGER NOT NULL);\n"


class DocumentStore:
    """SQLite at `path` (None or ":memory:": in memory) with the desk's `SCHEMA`."""

    #: The desk's tables (CREATE ... IF NOT EXISTS statements).
    SCHEMA = ""

    def __init__(self, path: str | None = None, clock: Any = None):
        self.clock = clock or SystemClock()
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._depth = 0
        with self.lock:
            self.db.executescript(_SEQUENCES + self.SCHEMA)

    def now(self) -> float:
        """The store clock's current time (epoch seconds)."""
        return float(self.clock.now())

    def close(self) -> None:
        """Close the database."""
        with self.lock:
            self.db.close()

    def transaction(self) -> "Transaction":
        """A context manager holding the store lock inside one SQLite transaction."""
        return Transaction(self)

    def next_ids(self, kind: str, count: int = 1, *, first: int = 1) -> list[int]:
        """Reserve `count` numbers of `kind`'s sequence (which starts at `first`)."""
        with self.lock:
            row = self.db.execute("SELECT next FROM sequences WHERE kind = ?", (kind,)).fetchone()
            start = row[0] if row else first
            self.db.execute("INSERT INTO sequences (kind, next) VALUES (?, ?) "
                            "ON CONFLICT(kind) DO UPDATE SET next = excluded.next", (kind, start + count))
            return list(range(start, start + count))

    @staticmethod
    def dumps(document: Any) -> str:
        """A document as stored."""
        return json.dumps(document)

    @staticmethod
    def loads(text: str) -> Any:
        """A stored document."""
        return json.loads(text)


class Transaction:
    """`with store.transaction():` — the outermost one begins and commits (rolls back on error)."""

    def __init__(self, store: DocumentStore):
        self.store = store

    def __enter__(self) -> DocumentStore:
        store = self.store
        store.lock.acquire()
        store._depth += 1
        if store._depth == 1:
            try:
                store.db.execute("BEGIN")
            except BaseException:
                store._depth -= 1
                store.lock.release()
                raise
        return store

    def __exit__(self, exc_type, exc, tb) -> None:
        store = self.store
        try:
            store._depth -= 1
            if store._depth == 0:
                store.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            store.lock.release()

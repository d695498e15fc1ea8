"""The sync ledger in PostgreSQL, for a fleet of workers on several machines.

`Ledger`'s statements run unchanged (psycopg 3; `?` placeholders become `%s`), in one schema per
desk (`deskbook_<desk>_<host>_<hash>`), so any number of desks share one database and a worker
needs nothing but the URL. The tables are `Ledger`'s, with PostgreSQL types (64-bit ids: Zendesk's
exceed 2^31; double-precision times).

One runner per desk: `PostgresLock` takes a session-level advisory lock keyed by the schema name
on its own connection. PostgreSQL releases it when that connection ends — a worker killed with
SIGKILL loses its lock as a process loses its `flock` — so a retried task on another worker can
take the desk over, and the pending→done intent log keeps exactly-once across them.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from deskbook.errors import DeskbookError
from deskbook.sync.ledger import SCHEMA as LEDGER_SCHEMA
from deskbook.sync.ledger import MIGRATIONS, Ledger, LedgerError

#: `Ledger`'s tables in PostgreSQL types: 64-bit ids (Zendesk's exceed 2^31), double-precision times.
SCHEMA = re.sub(r"\bINTEGER\b", "BIGINT", re.sub(r"\bREAL\b", "DOUBLE PRECISION", LEDGER_SCHEMA))


def redacted_url(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _connect(url: str):
    import psycopg

    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "@" in reason or "password" in reason.lower():
            reason = "connection refused or authentication failed"
        raise DeskbookError(f"cannot connect to the PostgreSQL ledger: {reason}", where=redacted_url(url),
                            hint="check DESKBOOK_LEDGER / --ledger and that the server is running") from None


class _Cursorless:
    """What `Ledger` calls on `self.db` (sqlite3's connection shape), over a psycopg connection;
    PostgreSQL's errors become `LedgerError` naming the ledger (as `_LedgerCursor` does for SQLite)."""

    def __init__(self, conn, where: str):
        self.conn = conn
        self.where = where

    def _fail(self, exc: Exception) -> LedgerError:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return LedgerError(f"the PostgreSQL ledger failed: {text}", where=self.where,
                           hint="check the server; re-running is safe (the desk is the source of truth)")

    @staticmethod
    def _sql(sql: str) -> str:
        return "BEGIN" if sql == "BEGIN IMMEDIATE" else sql.replace("?", "%s")

    def execute(self, sql: str, args=()):
        import psycopg

        try:
            return self.conn.execute(self._sql(sql), tuple(args) or None)
        except psycopg.Error as exc:
            raise self._fail(exc) from None

    def executemany(self, sql: str, rows):
        import psycopg

        rows = [tuple(r) for r in rows]
        if rows:
            try:
                with self.conn.cursor() as cur:
                    cur.executemany(self._sql(sql), rows)
            except psycopg.Error as exc:
                raise self._fail(exc) from None

    def close(self) -> None:
        self.conn.close()


class PostgresLedger(Ledger):
    """`Ledger` over PostgreSQL, in the desk's own schema."""

    def __init__(self, url: str, schema: str):  # noqa: D107 - the SQLite constructor is not called
        self.path = f"{redacted_url(url)}#{schema}"
        conn = _connect(url)
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            for statement in filter(str.strip, SCHEMA.split(";")):
                conn.execute(statement)
            for table, column in MIGRATIONS:  # ledgers made by an older deskbook
                conn.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} TEXT")
        except Exception as exc:
            conn.close()
            raise DeskbookError(f"cannot prepare the PostgreSQL ledger: {str(exc).splitlines()[0]}",
                                where=self.path, hint="the role needs CREATE on the database") from None
        self.db = _Cursorless(conn, self.path)


class PostgresLock:
    """One runner per desk: `pg_try_advisory_lock` on its own connection, released on exit or death."""

    def __init__(self, url: str, schema: str):
        self.url, self.schema = url, schema
        self.conn: Any = None  # a psycopg connection while held

    def __enter__(self) -> "PostgresLock":
        self.conn = conn = _connect(self.url)
        key = int.from_bytes(hashlib.sha256(self.schema.encode()).digest()[:8], "big", signed=True)
        taken = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
        if not taken:
            conn.close()
            self.conn = None
            raise DeskbookError("another deskbook sync is already running on this ledger",
                                where=f"{redacted_url(self.url)}#{self.schema}",
                                hint="wait for it to finish; one worker processes a desk at a time")
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:
            self.conn.close()  # ends the session: the advisory lock goes with it
            self.conn = None


class PostgresLocation:
    """The desk's schema in a PostgreSQL database."""

    def __init__(self, url: str, schema: str):
        self.url, self.schema = url, schema
        self.display = f"{redacted_url(url)}#{schema}"

    @staticmethod
    def schema_for(desk: str, desk_url: str) -> str:
        """`deskbook_<desk>_<host>_<hash>`: stable per desk instance, a legal identifier (≤ 63)."""
        host = re.sub(r"[^a-z0-9]+", "_", desk_url.split("://", 1)[-1].split("/", 1)[0].lower()).strip("_")
        digest = hashlib.sha256(desk_url.rstrip("/").encode()).hexdigest()[:8]
        return f"deskbook_{desk}_{host[:30]}_{digest}"

    def open(self) -> PostgresLedger:
        """A connection to the desk's ledger (one per thread)."""
        return PostgresLedger(self.url, self.schema)

    def lock(self) -> PostgresLock:
        """The advisory lock of this desk."""
        return PostgresLock(self.url, self.schema)

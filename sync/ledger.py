"""The embedded ledger: what was created, the local organization index, export cursors.

One SQLite file (WAL) per desk under `$DESKBOOK_HOME` (default `$XDG_DATA_HOME/deskbook`,
i.e. `~/.local/share/deskbook`). Tables:

- `items`: key → ticket id; `state` is `pending` (intent written before the create call)
  or `done`. A pending row after a crash means "look the key up in the desk before creating".
- `orgs`: the index of organizations (contract end date, tier, first service, name, locale,
  contact) kept current from the desk's incremental exports, so a daily run reads only changes.
- `cursors`: export cursors / start times, committed in the same transaction as the page
  they follow, so a run killed mid-scan resumes where it stopped.

The ledger is a cache of what the desk holds: deleting it is always safe (the next run rebuilds
it from the desk's exports, and the desk's keys keep creates exactly-once). So a ledger that
cannot be opened or written, or turns out damaged or foreign (another program's SQLite file, a
file that is not SQLite, garbage pages met mid-run), is one `LedgerError` naming the path and
what to do — every statement goes through `_LedgerCursor`, which turns SQLite's errors into it.

The same ledger lives in PostgreSQL for a fleet of workers (`DESKBOOK_LEDGER=postgresql://…` or
`--ledger postgresql://…`; `deskbook.sync.ledger_pg`): one schema per desk, the same tables and the
same statements (written once, in the SQL both databases speak; `?` placeholders are translated),
and a PostgreSQL advisory lock instead of the file lock. `ledger_location` picks the backend.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol

from deskbook.errors import DeskbookError
from deskbook.sync.schedule import Organization, parse_key

#: The columns each ledger table must have (a ledger from an older deskbook may lack `orgs.seen`,
#: which opening adds).
COLUMNS = {
    "items": {"key", "job", "organization_id", "period", "state", "ticket_id", "created_at"},
    "orgs": {"id", "name", "contract_end_date", "tier", "first_service_date", "locale", "contact_email"},
    "first_service": {"organization_id", "day"},
    "cursors": {"name", "value"},
}
_DAMAGE_HINT = ("delete it and run again: that is safe, the desk is the source of truth and the next run "
                "rebuilds the ledger from it (or pass --ledger with another file)")
_ACCESS_HINT = "make that folder and file writable, or pass --ledger (or set DESKBOOK_HOME) to a writable place"
#: SQLite messages that mean "cannot reach or write the file" rather than "the file is damaged".
_ACCESS_WORDS = ("readonly", "read-only", "unable to open", "permission", "disk i/o", "disk is full",
                 "locked", "access", "no such file")


class LedgerError(DeskbookError):
    """The ledger file cannot be used: unreachable, unwritable, damaged or not ours.

    `lasting` is True when waiting will not help (a damaged or foreign file, an impossible path):
    `sync serve` stops on such an error instead of failing every run while looking healthy."""

    lasting = False


def ledger_error(path: Path, exc: BaseException) -> LedgerError:
    """The one-line error for `exc` met while opening or using the ledger at `path`."""
    text = str(exc).split("\n", 1)[0] or type(exc).__name__
    if isinstance(exc, ValueError):  # e.g. an embedded NUL byte
        error = LedgerError(f"the sync ledger path is not a usable file name ({text}; NUL bytes are not allowed)",
                            where=repr(str(path))[1:-1], hint="pass --ledger with a plain file path")
        error.lasting = True
        return error
    if isinstance(exc, sqlite3.DatabaseError) and not any(w in text.lower() for w in _ACCESS_WORDS):
        error = LedgerError(f"the sync ledger is damaged or not a deskbook ledger ({text})", where=str(path),
                            hint=_DAMAGE_HINT)
        error.lasting = True
        return error
    return LedgerError(f"cannot open or write the sync ledger ({text})", where=str(path), hint=_ACCESS_HINT)


class _LedgerCursor(sqlite3.Cursor):
    """A cursor whose SQLite errors become `LedgerError` naming the ledger file."""

    def _fail(self, exc: sqlite3.Error) -> LedgerError:
        return ledger_error(getattr(self.connection, "ledger_path", Path("?")), exc)

    def execute(self, *args):
        try:
            return super().execute(*args)
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc) from None

    def executemany(self, *args):
        try:
            return super().executemany(*args)
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc) from None

    def executescript(self, *args):
        try:
            return super().executescript(*args)
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc) from None

    def __next__(self):
        try:
            return super().__next__()
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc) from None

    def fetchone(self):
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc) from None

    def fetchall(self):
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._fail(exc) from None


class _LedgerConnection(sqlite3.Connection):
    """A connection whose statements run on `_LedgerCursor` (`Connection.execute` would not)."""

    ledger_path = Path("?")

    def execute(self, *args):
        return self.cursor(_LedgerCursor).execute(*args)

    def executemany(self, *args):
        return self.cursor(_LedgerCursor).executemany(*args)

    def executescript(self, *args):
        return self.cursor(_LedgerCursor).executescript(*args)

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    organization_id INTEGER NOT NULL,
    period TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    ticket_id INTEGER,
    created_at REAL NOT NULL,
    job_ref TEXT
);
CREATE TABLE IF NOT EXISTS orgs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    contract_end_date TEXT,
    tier TEXT,
    first_service_date TEXT,
    locale TEXT,
    contact_email TEXT,
    seen TEXT
);
CREATE TABLE IF NOT EXISTS first_service (
    organization_id INTEGER PRIMARY KEY,
    day TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS survey_results (
    ticket_id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    response_speed INTEGER NOT NULL,
    resolution INTEGER NOT NULL,
    attitude INTEGER NOT NULL,
    suggestions TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS survey_held (
    organization_id INTEGER PRIMARY KEY,
    ticket TEXT,
    day TEXT
);
"""


#: Columns added since the first ledgers (table, column; TEXT): `orgs.seen` (full-scan desks),
#: `items.job_ref` (bulk creates).
MIGRATIONS = (("orgs", "seen"), ("items", "job_ref"))


def deskbook_home() -> Path:
    """`$DESKBOOK_HOME`, else `$XDG_DATA_HOME/deskbook`, else `~/.local/share/deskbook`."""
    if os.environ.get("DESKBOOK_HOME"):
        return Path(os.environ["DESKBOOK_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "deskbook"


def ledger_location(desk: str, url: str, explicit: str | None = None):
    """Where the ledger of one desk lives: `explicit` (`--ledger`: a file, or a postgresql:// URL),
    else `$DESKBOOK_LEDGER` (a postgresql:// URL: one schema per desk in that database), else the
    SQLite file under `$DESKBOOK_HOME`. Returns an object with `open()`, `lock()` and `display`."""
    target = explicit or os.environ.get("DESKBOOK_LEDGER") or ""
    if target.startswith(("postgresql://", "postgres://")):
        from deskbook.sync.ledger_pg import PostgresLocation

        return PostgresLocation(target, PostgresLocation.schema_for(desk, url))
    if target and not explicit:
        raise DeskbookError(f"DESKBOOK_LEDGER must be a postgresql:// URL, not {target[:40]!r}",
                            hint="unset it to use the SQLite ledger under $DESKBOOK_HOME, or use --ledger FILE")
    return FileLocation(Path(explicit) if explicit else ledger_path_for(desk, url))


class FileLocation:
    """The SQLite ledger file and its `flock` lock."""

    def __init__(self, path: Path):
        self.path = path
        self.display = str(path)

    def open(self) -> "Ledger":
        """A connection to the ledger (one per thread)."""
        return Ledger(self.path)

    def lock(self):
        """The one-runner-per-ledger lock (a context manager)."""
        from deskbook.sync.lock import LedgerLock

        return LedgerLock(self.path)


def ledger_path_for(desk: str, url: str, home: Path | None = None) -> Path:
    """The ledger file for one desk instance: `<home>/sync-<desk>-<host>-<hash>.sqlite` (never with
    the URL's user information, should one get this far: the connection refuses such URLs)."""
    scheme, _, rest = url.rpartition("://")
    where, slash, path = rest.partition("/")
    url = f"{scheme}://{where.rpartition('@')[2]}{slash}{path}" if scheme else where.rpartition("@")[2] + slash + path
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1].split("/", 1)[0]) or "desk"
    digest = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:8]
    return (home or deskbook_home()) / f"sync-{desk}-{host}-{digest}.sqlite"


class _Statements(Protocol):
    """What `Ledger`'s statements run on: sqlite3's connection shape (`_LedgerConnection`), or
    `ledger_pg._Cursorless` over a psycopg connection."""

    def execute(self, sql: str, args: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, rows: Any, /) -> Any: ...

    def close(self) -> None: ...


class Ledger:
    """SQLite ledger; one instance per thread (SQLite connections are not shared)."""

    #: The file (`PostgresLedger`: its database and schema, password masked), for messages.
    path: Path | str
    db: _Statements

    def __init__(self, path: str | Path):
        self.path = file = Path(path)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(file, timeout=30, isolation_level=None, factory=_LedgerConnection)
        except (OSError, ValueError, sqlite3.DatabaseError) as exc:
            raise ledger_error(file, exc) from None
        db.ledger_path = file
        try:
            self._prepare(db)
        except BaseException:
            db.close()
            raise
        self.db = db

    def _prepare(self, db: _LedgerConnection) -> None:
        """WAL mode, the tables (created, or checked to be ours), the `orgs.seen` migration."""
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and not set(COLUMNS) <= tables:  # another program's database: leave it untouched
            raise LedgerError(f"the file is an SQLite database but not a deskbook ledger (its tables: "
                              f"{', '.join(sorted(tables))[:200]})", where=str(self.path),
                              hint="pass --ledger with another file (a new one is created), or delete this one if it is "
                                   "an old ledger: that is safe, the desk is the source of truth")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        for table, column in MIGRATIONS:  # ledgers written before these columns existed
            if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                try:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
                except LedgerError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise
        for table, wanted in COLUMNS.items():
            have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if not wanted <= have:
                raise LedgerError(f"the sync ledger is not a deskbook ledger (table {table} lacks "
                                  f"{', '.join(sorted(wanted - have))})", where=str(self.path), hint=_DAMAGE_HINT)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # ------------------------------------------------------------ items

    def item_state(self, key: str) -> tuple[str, int | None] | None:
        """(state, ticket id) of `key`, or None when the ledger never saw it."""
        row = self.db.execute("SELECT state, ticket_id FROM items WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def mark_pending(self, key: str, job: str, organization_id: int, period: str) -> None:
        """Record the intent to create `key` (committed before the desk is called)."""
        self.db.execute(
            "INSERT INTO items(key, job, organization_id, period, state, created_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(key) DO NOTHING",
            (key, job, organization_id, period, "pending", time.time()),
        )

    #: `job_ref` of a pending item sent in a bulk create whose answer (the job id) has not come back.
    BATCH_SENT = "batch"

    def mark_pending_batch(self, items: Iterable[tuple[str, str, int, str]]) -> None:
        """Record the intent to create these (key, job, organization id, period) with one bulk request:
        pending rows marked `BATCH_SENT` until `note_job` names the desk's job (one transaction)."""
        now = time.time()
        with self.transaction():
            self.db.executemany(
                "INSERT INTO items(key, job, organization_id, period, state, created_at, job_ref) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT(key) DO NOTHING",
                ((key, job, org, period, "pending", now, self.BATCH_SENT) for key, job, org, period in items))

    def note_job(self, keys: list[str], job_id: str) -> None:
        """The desk queued the bulk create of `keys` (in that order) as job `job_id`: each pending row
        keeps `<job id>#<index>`, so a run killed while the job runs reads the job instead of searching."""
        with self.transaction():
            self.db.executemany("UPDATE items SET job_ref = ? WHERE key = ? AND state = 'pending'",
                                ((f"{job_id}#{index}", key) for index, key in enumerate(keys)))

    def pending_jobs(self) -> dict[str, dict[int, str]]:
        """job id -> {index -> key} of pending items whose bulk create the desk queued."""
        jobs: dict[str, dict[int, str]] = {}
        for key, ref in self.db.execute(
                "SELECT key, job_ref FROM items WHERE state = 'pending' AND job_ref LIKE '%#%' ORDER BY key"):
            job_id, _, index = ref.rpartition("#")
            if index.isdigit():
                jobs.setdefault(job_id, {})[int(index)] = key
        return jobs

    def pending_unconfirmed(self) -> list[tuple[str, float]]:
        """(key, created_at) of pending items sent in a bulk request whose job id never came back."""
        return [(row[0], row[1]) for row in self.db.execute(
            "SELECT key, created_at FROM items WHERE state = 'pending' AND job_ref = ? ORDER BY key", (self.BATCH_SENT,))]

    def clear_job_ref(self, keys: Iterable[str]) -> None:
        """Pending items that are now looked up by key, one by one (their job is gone or was never named)."""
        with self.transaction():
            self.db.executemany("UPDATE items SET job_ref = NULL WHERE key = ? AND state = 'pending'",
                                ((key,) for key in keys))

    def forget_pending(self, keys: Iterable[str]) -> None:
        """Drop pending rows the desk said it did not create (a later run creates the items again)."""
        with self.transaction():
            self.db.executemany("DELETE FROM items WHERE key = ? AND state = 'pending'", ((key,) for key in keys))

    def mark_done_many(self, rows: Iterable[tuple[str, int]]) -> None:
        """`mark_done` for (key, ticket id) pairs, in one transaction."""
        with self.transaction():
            for key, ticket_id in rows:
                parsed = parse_key(key)
                if parsed:
                    self.mark_done(key, parsed[0], parsed[1], parsed[2], ticket_id)

    def set_cursor(self, name: str, value: str | None) -> None:
        """Store (or, with None, drop) a named cursor outside an export page."""
        if value is None:
            self.db.execute("DELETE FROM cursors WHERE name = ?", (name,))
        else:
            self._set_cursor(name, value)

    def note_ticket(self, key: str, ticket_id: int) -> None:
        """Remember the desk's id for a `pending` item as soon as the desk names it (before the create
        is finished), so a killed run's successor can look at that task instead of searching for it."""
        self.db.execute("UPDATE items SET ticket_id = ? WHERE key = ? AND state = 'pending'", (ticket_id, key))

    def mark_done(self, key: str, job: str, organization_id: int, period: str, ticket_id: int | None) -> None:
        """Record that the desk holds `key` as ticket `ticket_id`."""
        self.db.execute(
            "INSERT INTO items(key, job, organization_id, period, state, ticket_id, created_at) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET state='done', ticket_id=excluded.ticket_id",
            (key, job, organization_id, period, "done", ticket_id, time.time()),
        )

    def pending_with_ticket(self) -> list[tuple[str, int]]:
        """(key, ticket id) of pending items whose task the desk already named (unfinished creates)."""
        return [(row[0], row[1]) for row in self.db.execute(
            "SELECT key, ticket_id FROM items WHERE state = 'pending' AND ticket_id IS NOT NULL ORDER BY key")]

    def done_keys(self, job: str | None = None) -> set[str]:
        """Keys recorded as done (tests and reports)."""
        sql = "SELECT key FROM items WHERE state='done'"
        args: tuple[str, ...] = ()
        if job:
            sql, args = sql + " AND job = ?", (job,)
        return {row[0] for row in self.db.execute(sql, args)}

    # ------------------------------------------------------------ organizations

    def upsert_organizations(self, orgs: Iterable[Organization], deleted_ids: Iterable[int], cursor: tuple[str, str] | None,
                             *, scan: str | None = None, survey_held: Iterable[tuple[int, Any]] = ()) -> None:
        """Apply one export page (and its cursor) in one transaction.

        `scan` names a full scan the page belongs to; organizations that scan did not see are
        listed by `unseen_organizations` once it is complete."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO orgs(id, name, contract_end_date, tier, locale, contact_email, seen) VALUES (?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET name=excluded.name, contract_end_date=excluded.contract_end_date, "
                "tier=excluded.tier, locale=excluded.locale, contact_email=excluded.contact_email, seen=excluded.seen",
                ((o.id, o.name, o.contract_end_date, o.tier, o.locale, o.contact_email, scan) for o in orgs),
            )
            deleted = [(i,) for i in deleted_ids]
            self.db.executemany("DELETE FROM orgs WHERE id = ?", deleted)
            self.db.executemany("DELETE FROM survey_held WHERE organization_id = ?", deleted)
            self.db.executemany(
                "INSERT INTO survey_held(organization_id, ticket, day) VALUES (?,?,?) "
                "ON CONFLICT(organization_id) DO UPDATE SET ticket=excluded.ticket, day=excluded.day",
                ((org_id, held.ticket, held.day) for org_id, held in survey_held),
            )
            if cursor:
                self._set_cursor(*cursor)

    # ------------------------------------------------------------ survey results (S-11)

    def record_surveys(self, results: Iterable[Any]) -> None:
        """Store survey results read from the desk (a request's latest scores win)."""
        self.db.executemany(
            "INSERT INTO survey_results(ticket_id, organization_id, day, response_speed, resolution, attitude, "
            "suggestions) VALUES (?,?,?,?,?,?,?) ON CONFLICT(ticket_id) DO UPDATE SET "
            "organization_id=excluded.organization_id, day=excluded.day, response_speed=excluded.response_speed, "
            "resolution=excluded.resolution, attitude=excluded.attitude, suggestions=excluded.suggestions",
            ((r.ticket_id, r.organization_id, r.day, r.response_speed, r.resolution, r.attitude, r.suggestions)
             for r in results),
        )

    def survey_organizations(self) -> list[int]:
        """Organizations with a survey result the ledger has not settled yet."""
        from deskbook.sync.surveys import SURVEY_JOB

        # the item is looked up by its key (`survey_key`), the primary key: matched on job, organization
        # and period instead, each result scanned the whole items table (13.9 s of a first run at
        # 100,000 organizations: 1,000 results x 45,560 tasks)
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT r.organization_id FROM survey_results r WHERE NOT EXISTS (SELECT 1 FROM items i "
            "WHERE i.key = CAST(? AS TEXT) || CAST(r.organization_id AS TEXT) || ':' || CAST(r.ticket_id AS TEXT) "
            "AND i.state = 'done') ORDER BY r.organization_id", (f"deskbook:{SURVEY_JOB}:",))]

    def survey_results(self, organization_id: int) -> list[Any]:
        """The organization's stored survey results."""
        from deskbook.sync.surveys import SurveyResult

        return [SurveyResult(row[0], row[1], row[2], row[3], row[4], row[5], row[6] or "") for row in self.db.execute(
            "SELECT organization_id, ticket_id, day, response_speed, resolution, attitude, suggestions "
            "FROM survey_results WHERE organization_id = ? ORDER BY ticket_id", (organization_id,))]

    def survey_held(self, organization_id: int) -> Any:
        """What the organization's record held at the last export (`HeldSurvey`)."""
        from deskbook.sync.surveys import HeldSurvey

        row = self.db.execute("SELECT ticket, day FROM survey_held WHERE organization_id = ?",
                              (organization_id,)).fetchone()
        return HeldSurvey(row[0], row[1]) if row else HeldSurvey()

    def unseen_organizations(self, scan: str) -> list[int]:
        """Indexed organizations a complete full scan `scan` did not list (deleted in the desk, or
        skipped because the listing shifted under the scan)."""
        return [row[0] for row in self.db.execute("SELECT id FROM orgs WHERE seen IS NULL OR seen <> ? ORDER BY id", (scan,))]

    def delete_organizations(self, ids: Iterable[int]) -> None:
        """Drop organizations from the index."""
        with self.transaction():
            self.db.executemany("DELETE FROM orgs WHERE id = ?", ((i,) for i in ids))

    def record_tickets(self, first_service: Iterable[tuple[int, str]], done: Iterable[tuple[str, int]],
                       cursor: tuple[str, str] | None, unfinished: Iterable[tuple[str, int]] = (),
                       surveys: Iterable[Any] = ()) -> None:
        """Apply one ticket export page: first-service dates (earliest wins), our own tickets, cursor.

        `unfinished` tasks exist in the desk but their create did not finish: they become
        `pending` (unless already done), so the next settle asks the desk to finish them."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO first_service(organization_id, day) VALUES (?, ?) "
                "ON CONFLICT(organization_id) DO UPDATE SET day = CASE WHEN excluded.day < first_service.day "
                "THEN excluded.day ELSE first_service.day END",
                first_service,
            )
            for key, ticket_id in done:
                parsed = parse_key(key)
                if parsed:
                    self.mark_done(key, parsed[0], parsed[1], parsed[2], ticket_id)
            for key, ticket_id in unfinished:
                parsed = parse_key(key)
                if parsed:
                    self.mark_pending(key, parsed[0], parsed[1], parsed[2])
                    self.note_ticket(key, ticket_id)
            self.record_surveys(surveys)
            if cursor:
                self._set_cursor(*cursor)

    def iter_organizations(self, batch: int = 2000) -> Iterator[Organization]:
        """Every indexed organization, streamed in id order."""
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT o.id, o.name, o.contract_end_date, o.tier, f.day, o.locale, o.contact_email "
                "FROM orgs o LEFT JOIN first_service f ON f.organization_id = o.id WHERE o.id > ? ORDER BY o.id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield Organization(*row)
            last = rows[-1][0]

    def organization(self, organization_id: int) -> Organization | None:
        """One indexed organization."""
        row = self.db.execute(
            "SELECT o.id, o.name, o.contract_end_date, o.tier, f.day, o.locale, o.contact_email "
            "FROM orgs o LEFT JOIN first_service f ON f.organization_id = o.id WHERE o.id = ?",
            (organization_id,),
        ).fetchone()
        return Organization(*row) if row else None

    def organization_count(self) -> int:
        """How many organizations the index holds."""
        return self.db.execute("SELECT count(*) FROM orgs").fetchone()[0]

    # ------------------------------------------------------------ cursors

    def cursor(self, name: str) -> str | None:
        """A stored export cursor / start time."""
        row = self.db.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def _set_cursor(self, name: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO cursors(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (name, value),
        )

    def transaction(self):
        """`with ledger.transaction():` — BEGIN IMMEDIATE … COMMIT (ROLLBACK on error)."""
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *rest):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")

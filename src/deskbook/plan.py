"""Plans: the diff between a desk's current objects and a playbook's desired objects.

Shaped after octoDNS: a connector *populates* the objects it finds in the desk, *renders*
the playbook into desired objects of the same shape, and `build_plan` diffs them into a
JSON-serialisable `Plan` of create / update / delete (and conflict) changes, ordered by
dependency. `Plan.checksum` lets `apply --checksum` refuse a plan that changed since it
was reviewed; `Plan.check_safety` refuses sweeping updates/deletes without `--force`.

Objects are plain dicts in the desk's own JSON shape. Each connector supplies the
`Comparator` that decides whether two of them mean the same (Zendesk rewrites conditions,
returns ids as strings or ints, reorders lists...).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable

from deskbook.errors import DeskbookError

CREATE, UPDATE, DELETE, CONFLICT, REORDER = "create", "update", "delete", "conflict", "reorder"
#: Actions that write to the desk.
WRITE_ACTIONS = (CREATE, UPDATE, DELETE, REORDER)
#: Fraction of existing managed objects of one kind that may be updated or deleted without --force.
UPDATE_PCT_THRESHOLD = 0.3
DELETE_PCT_THRESHOLD = 0.3
#: Below this many existing managed objects of a kind the thresholds do not apply.
MIN_EXISTING_FOR_THRESHOLD = 10


@dataclass(frozen=True)
class DesiredObject:
    """One object the playbook wants in the desk: its kind, stable key and desk-shaped payload."""

    kind: str  # e.g. "ticket_field", "macro", "trigger"
    key: str  # playbook element key; also recorded in the ownership marker
    name: str  # human title shown in plans
    payload: dict[str, Any]  # the desk's JSON for create/update (references may be symbolic)
    depends_on: tuple[tuple[str, str], ...] = ()  # (kind, key) that must exist first


@dataclass(frozen=True)
class ExistingObject:
    """One object found in the desk."""

    kind: str
    id: Any
    name: str
    payload: dict[str, Any]
    owner: str | None  # playbook name from the ownership marker, or None when unmanaged
    key: str | None  # playbook element key from the marker


@dataclass
class Change:
    """One step of a plan."""

    action: str  # create | update | delete | conflict | reorder
    kind: str
    name: str
    key: str | None
    id: Any = None
    desired: dict[str, Any] | None = None
    existing: dict[str, Any] | None = None
    diff: list[str] = field(default_factory=list)  # human-readable field changes
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """This change as plain JSON data."""
        return asdict(self)


@dataclass
class Plan:
    """An ordered list of changes for one playbook on one desk."""

    desk: str
    playbook: str
    changes: list[Change]
    notes: list[str] = field(default_factory=list)  # what the plan cannot do and how it is represented

    @property
    def has_changes(self) -> bool:
        """True when applying would write anything (conflicts alone write nothing)."""
        return any(c.action in WRITE_ACTIONS for c in self.changes)

    @property
    def conflicts(self) -> list[Change]:
        """Same-name unmanaged objects that block a create unless adopted."""
        return [c for c in self.changes if c.action == CONFLICT]

    @property
    def checksum(self) -> str:
        """SHA-256 of the plan's canonical JSON (without itself); stable across runs for equal plans."""
        body = json.dumps(
            {"desk": self.desk, "playbook": self.playbook, "changes": [c.to_json() for c in self.changes]},
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def summary(self) -> dict[str, int]:
        """Counts per action."""
        out = {CREATE: 0, UPDATE: 0, DELETE: 0, CONFLICT: 0, REORDER: 0}
        for c in self.changes:
            out[c.action] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        """The plan as the JSON object `plan --json` prints."""
        return {
            "desk": self.desk,
            "playbook": self.playbook,
            "checksum": self.checksum,
            "summary": self.summary(),
            "changes": [c.to_json() for c in self.changes],
            "notes": list(self.notes),
        }

    def check_safety(self, existing_managed: dict[str, int], *, force: bool) -> None:
        """Refuse (unless `force`) a plan that updates or deletes too large a share of a kind.

        `existing_managed` counts the managed objects of each kind found in the desk.
        """
        if force:
            return
        for kind, count in existing_managed.items():
            if count < MIN_EXISTING_FOR_THRESHOLD:
                continue
            updates = sum(1 for c in self.changes if c.kind == kind and c.action == UPDATE)
            deletes = sum(1 for c in self.changes if c.kind == kind and c.action == DELETE)
            if updates / count > UPDATE_PCT_THRESHOLD:
                raise DeskbookError(
                    f"plan updates {updates} of {count} managed {kind} objects "
                    f"(over {UPDATE_PCT_THRESHOLD:.0%})",
                    hint="review the plan, then re-run with --force",
                )
            if deletes / count > DELETE_PCT_THRESHOLD:
                raise DeskbookError(
                    f"plan deletes {deletes} of {count} managed {kind} objects "
                    f"(over {DELETE_PCT_THRESHOLD:.0%})",
                    hint="review the plan, then re-run with --force",
                )


#: Compares a desired payload with an existing one; returns the list of differences (empty = same).
Comparator = Callable[[DesiredObject, ExistingObject], list[str]]


def build_plan(
    desk: str,
    playbook: str,
    desired: Iterable[DesiredObject],
    existing: Iterable[ExistingObject],
    compare: Comparator,
    *,
    kind_order: Iterable[str],
    adopt: bool = False,
    delete_unlisted: bool = True,
    name_key: Callable[[str], str] = lambda name: name.strip().casefold(),
    identity: Callable[[str, str, dict[str, Any]], str] | None = None,
) -> Plan:
    """Diff desired against existing objects into an ordered plan.

    Matching is by (kind, key) from the ownership marker; an unmanaged object with the same
    kind and name (compared through `name_key`, or through `identity(kind, name, payload)` when
    the desk identifies some kinds by another attribute, e.g. a field `key`) is a conflict (or, with `adopt`, is taken
    over by an update). Managed
    objects of this playbook that the playbook no longer lists are deleted. Objects owned
    by other playbooks or by nobody are never touched.
    """
    order = {k: i for i, k in enumerate(kind_order)}
    existing = list(existing)
    mine = {(e.kind, e.key): e for e in existing if e.owner == playbook and e.key}
    def ident(kind: str, name: str, payload: dict[str, Any]) -> str:
        return identity(kind, name, payload) if identity else name_key(name)

    unmanaged_by_name = {(e.kind, ident(e.kind, e.name, e.payload)): e for e in existing if e.owner is None}
    creates_updates: list[Change] = []
    wanted: set[tuple[str, str]] = set()
    for d in desired:
        wanted.add((d.kind, d.key))
        current = mine.get((d.kind, d.key))
        if current is not None:
            diff = compare(d, current)
            if diff:
                creates_updates.append(
                    Change(UPDATE, d.kind, d.name, d.key, current.id, d.payload, current.payload, diff)
                )
            continue
        other = unmanaged_by_name.get((d.kind, ident(d.kind, d.name, d.payload)))
        if other is not None:
            if adopt:
                creates_updates.append(
                    Change(UPDATE, d.kind, d.name, d.key, other.id, d.payload, other.payload,
                           compare(d, other) or ["ownership marker"], reason="adopted")
                )
            else:
                creates_updates.append(
                    Change(CONFLICT, d.kind, d.name, d.key, other.id, d.payload, other.payload,
                           reason="an unmanaged object has this name; re-run with --adopt to take it over")
                )
            continue
        creates_updates.append(Change(CREATE, d.kind, d.name, d.key, None, d.payload, None))
    deletes = [
        Change(DELETE, e.kind, e.name, e.key, e.id, None, e.payload)
        for (kind, key), e in mine.items()
        if delete_unlisted and (kind, key) not in wanted
    ]
    creates_updates.sort(key=lambda c: order.get(c.kind, len(order)))
    # Deletes run last and in reverse dependency order (rules before the fields they use).
    deletes.sort(key=lambda c: -order.get(c.kind, len(order)))
    return Plan(desk=desk, playbook=playbook, changes=creates_updates + deletes)


# ---------------------------------------------------------------- how a change is shown

#: The mark a change's line starts with (`deskbook.term` colours a line by it).
SYMBOLS = {CREATE: "+", UPDATE: "~", DELETE: "-", CONFLICT: "!", REORDER: "↕"}


def change_line(action: str, kind: str, name: str, tail: str = "") -> str:
    """One change as a plan's text (and a restore's) lists it: `+ create macro "Greet"` then `tail`."""
    return f"{SYMBOLS.get(action, '?')} {action} {kind} \"{name}\"{tail}"


def diff_line(path: str, have: str, want: str) -> str:
    """One difference of an update as `Change.diff` lists it: `<path>: <the desk's> -> <the playbook's>`
    (each value already written as its desk's comparison shows values)."""
    return f"{path}: {have} -> {want}"


def value_differences(want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """A `diff_line` (values as `repr`) for each key of `want` whose value `have` does not share; both
    dicts already reduced to what the objects mean."""
    return [diff_line(k, repr(have.get(k)), repr(want.get(k))) for k in want if want.get(k) != have.get(k)]


# ---------------------------------------------------------------- symbolic references
#
# A desired payload names another managed object by `{ref:<kind>:<key>}` until that object has an id
# (created earlier in the same apply): alone in a string it becomes the integer id; inside a longer
# string, or with a `:text` suffix (`{ref:group:sales:text}`), the id as text.

_REF = re.compile(r"\{ref:(?P<kind>[a-z_]+):(?P<key>[A-Za-z0-9_.\-]+?)(?P<text>:text)?\}")


def ref(kind: str, key: str, *, text: bool = False) -> str:
    """A symbolic reference to a managed object: `{ref:kind:key}` (or `{ref:kind:key:text}`)."""
    return "{ref:%s:%s%s}" % (kind, key, ":text" if text else "")


def refs_in(payload: Any) -> set[tuple[str, str]]:
    """Every (kind, key) a payload refers to symbolically (its dependencies)."""
    found: set[tuple[str, str]] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.update((mt["kind"], mt["key"]) for mt in _REF.finditer(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(payload)
    return found


def resolve_refs(payload: Any, ids: dict[tuple[str, str], Any], *, strict: bool = True) -> Any:
    """A copy of `payload` with every symbolic ref replaced by the id from `ids[(kind, key)]`.

    A string that is exactly one `{ref:kind:key}` becomes the integer id; `{ref:kind:key:text}`
    and refs inside longer strings (also in dict keys) become the id as text. Raises
    DeskbookError naming the reference when an id is unknown (with `strict=False` the ref is
    left as it is instead — for comparing before the referenced object exists).
    """

    class _Unresolved(Exception):
        pass

    def lookup(mt: re.Match) -> Any:
        key = (mt["kind"], mt["key"])
        if key not in ids or ids[key] is None:
            if not strict:
                raise _Unresolved
            raise DeskbookError(
                f"unresolved reference {mt.group(0)}: no id for {mt['kind']} {mt['key']!r}",
                hint="the object it names must be created first (check the plan's order) or exist in the desk",
            )
        return ids[key]

    def one(mt: re.Match) -> str:
        try:
            return str(lookup(mt))
        except _Unresolved:
            return mt.group(0)

    def sub(value: Any) -> Any:
        if isinstance(value, str):
            whole = _REF.fullmatch(value)
            if whole and not whole["text"]:
                try:
                    found = lookup(whole)
                except _Unresolved:
                    return value
                try:
                    return int(found)
                except (TypeError, ValueError):
                    return found
            return _REF.sub(one, value)
        if isinstance(value, dict):
            return {sub(k): sub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [sub(v) for v in value]
        return value

    return sub(payload)

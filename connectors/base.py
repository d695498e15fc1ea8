"""The desk-independent half of every connector: populate → plan → guard → apply, and plan text.

A desk connector subclasses `DeskConnector` and supplies the desk's I/O and translation:
`list_kind`, `create_object`, `update_object`, `delete_object`, `ownership`, `display_name`,
`desired_objects`, `compare`, `resolve_refs` (and optionally `extra_changes` /
`apply_extra` for steps such as reorders, `plan_notes` for what the desk cannot represent,
`export`, and the verify steps). The connected connector is what a `Desk`
(`connectors/desk.py`) hands the shared commands. This module owns the order of things:

- `populate` lists every kind once (paginated) and reads each object's ownership marker;
- `plan_playbook(playbook, library)` is the plan of a loaded `Playbook`: populate, the desk's
  desired objects, then `plan`;
- `plan` diffs with `deskbook.plan.build_plan` (symbolic refs compared with the ids known), then
  asks the desk's `plan_notes` hook (as octoDNS's `_plan_meta`) for notes — given the
  `Playbook` when the plan has one, None for a plan by name (uninstall) — so notes never hang on
  state left by an earlier call;
- `guard` refuses a plan whose checksum differs from the reviewed one, a plan with
  unresolved conflicts, and (unless forced) sweeping updates/deletes;
- `apply` writes in dependency order, resolving refs with the ids known so far (existing
  managed objects + those just created), deletes after in reverse order, extra steps
  (reorders) last. Every create carries the ownership marker, so an apply interrupted
  anywhere is finished by the next one: the objects it created are found again by marker
  and are updated or left alone, never created twice.
- a create whose outcome is unknown (`DeskHTTPError.ambiguous`: a 5xx or a lost answer to a
  POST the session would not repeat) is not repeated blindly: `create_checked` lists the kind
  again and looks for the object's marker first (after giving the desk the client's timeout
  to finish storing it when no answer came at all), and only creates again when it is absent;
- with an intent log (`deskbook.connectors.intents`, the CLI's apply), a create a killed run sent
  and never saw answered is waited for and looked up by marker before it is created again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

from deskbook.errors import DeskbookError, ExitCode
from deskbook.plan import (
    CONFLICT,
    CREATE,
    DELETE,
    REORDER,
    UPDATE,
    Change,
    DesiredObject,
    ExistingObject,
    Plan,
    build_plan,
    change_line,
    resolve_refs,
)

if TYPE_CHECKING:
    from deskbook.connectors.intents import CreateIntents

log = logging.getLogger("deskbook.connectors")

@dataclass
class Snapshot:
    """What populate found: every object per kind (raw JSON) and the parsed existing objects."""

    raw: dict[str, list[dict[str, Any]]]
    existing: list[ExistingObject]

    def managed_ids(self, playbook: str) -> dict[tuple[str, Any], Any]:
        """(kind, key) -> id of the objects this playbook owns (the first one found when duplicated)."""
        ids: dict[tuple[str, Any], Any] = {}
        for e in self.existing:
            if e.owner == playbook and e.key:
                ids.setdefault((e.kind, e.key), e.id)
        return ids

    def duplicates(self, playbook: str) -> list[ExistingObject]:
        """Objects carrying the marker of a (kind, key) already carried by an earlier object."""
        seen: set[tuple[str, str]] = set()
        out = []
        for e in self.existing:
            if e.owner == playbook and e.key:
                if (e.kind, e.key) in seen:
                    out.append(e)
                seen.add((e.kind, e.key))
        return out

    def managed_counts(self, playbook: str) -> dict[str, int]:
        """Managed objects per kind (for the safety thresholds)."""
        return dict(Counter(e.kind for e in self.existing if e.owner == playbook))


@dataclass
class ApplyReport:
    """What an apply did."""

    done: list[Change] = field(default_factory=list)
    ids: dict[tuple[str, Any], Any] = field(default_factory=dict)

    def count(self, action: str) -> int:
        """How many changes of `action` were applied."""
        return sum(1 for c in self.done if c.action == action)

    def summary(self) -> str:
        """One line: created/updated/deleted/reordered counts."""
        return (f"{self.count(CREATE)} created, {self.count(UPDATE)} updated, {self.count(DELETE)} deleted"
                + (f", {self.count(REORDER)} reordered" if self.count(REORDER) else ""))


def object_label(kind: str, name: str, key: str | None) -> str:
    """How errors name a playbook object: `macro "S-1 Greeting" (playbook key greeting)`."""
    return f'{kind} "{name}"' + (f" (playbook key {key})" if key else "")


class DeskConnector:
    """populate → plan → guard → apply for one desk; subclasses supply the desk specifics."""

    desk: str = ""
    kind_order: tuple[str, ...] = ()
    #: Creates tried for one object whose outcome stayed unknown, each followed by a look-up.
    ambiguous_create_rounds = 4
    #: How the engine waits (tests replace it).
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    # ------------------------------------------------------------ desk specifics (override)

    def list_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of `kind` in the desk."""
        raise NotImplementedError

    def create_object(self, kind: str, payload: dict[str, Any], label: str) -> dict[str, Any]:
        """Create and return the stored object (with `id`)."""
        raise NotImplementedError

    def update_object(self, kind: str, object_id: Any, payload: dict[str, Any], existing: dict[str, Any] | None,
                      label: str) -> None:
        """Update one object."""
        raise NotImplementedError

    def delete_object(self, kind: str, object_id: Any, label: str) -> None:
        """Delete one object (already gone counts as deleted)."""
        raise NotImplementedError

    def ownership(self, kind: str, payload: dict[str, Any], playbook: str) -> tuple[str, str] | None:
        """(owner playbook, key) from the object's marker, or None when unmanaged."""
        raise NotImplementedError

    def location(self) -> str | None:
        """The desk account's base URL (names the apply intent log); None when there is none."""
        return getattr(getattr(self, "session", None), "base_url", None)

    def settle_seconds(self) -> float:
        """How long the desk may still take to store a write whose answer never came: as long as this
        client waits for an answer (its session's timeout)."""
        return float(getattr(getattr(self, "session", None), "timeout", 0) or 0)

    def finish_found(self, kind: str, found: dict[str, Any], payload: dict[str, Any], label: str) -> dict[str, Any]:
        """An object found by marker after an unconfirmed create, finished as the create would have
        (desks whose create takes several calls override this); returns it."""
        return found

    def display_name(self, kind: str, payload: dict[str, Any]) -> str:
        """The object's human name."""
        return str(payload.get("title") or payload.get("name") or "")

    def match_name(self, name: str) -> str:
        """Name as compared for conflicts with unmanaged objects (marker stripped, case folded)."""
        return name.strip().casefold()

    def identity(self, kind: str, name: str, payload: dict[str, Any]) -> str:
        """What makes two objects of `kind` the same for the desk (default: the matched name)."""
        return self.match_name(name)

    def desired_objects(self, playbook: Any, library: Any) -> list[DesiredObject]:
        """The playbook as this desk's objects."""
        raise NotImplementedError

    def compare(self, desired: DesiredObject, existing: ExistingObject, ids: dict) -> list[str]:
        """Differences by meaning (empty = same)."""
        raise NotImplementedError

    def resolve_refs(self, payload: dict[str, Any], ids: dict) -> dict[str, Any]:
        """`payload` with symbolic refs (`deskbook.plan.ref`) replaced by the ids known so far (raises
        naming a ref without an id)."""
        return resolve_refs(payload, ids)

    def extra_changes(self, playbook: str, desired: list[DesiredObject], snapshot: Snapshot,
                      changes: list[Change]) -> list[Change]:
        """Steps after creates/updates/deletes (e.g. reorders); none by default."""
        return []

    def apply_extra(self, change: Change, ids: dict, snapshot: Snapshot, done: list[Change]) -> None:
        """Carry out one step from `extra_changes`."""
        raise NotImplementedError

    def plan_notes(self, plan: Plan, playbook: Any | None, desired: list[DesiredObject]) -> list[str]:
        """Notes for `plan` (what the desk cannot install and how the plan represents it); may also
        add a `reason` to changes the desk carries out differently (JSM: request type replaces).
        `playbook` is the loaded `Playbook`, or None for a plan by name only (uninstall). None by default."""
        return []

    def export(self) -> dict[str, Any]:
        """Every object of the desk worth a backup, as JSON (`deskbook export`)."""
        raise DeskbookError(f"desk {self.desk!r} has no export")

    # ------------------------------------------------------------ verify (desks with `Desk.can_verify`)

    def test_request_draft(self, playbook: Any) -> dict[str, Any]:
        """The test request `verify` would raise (read-only)."""
        raise DeskbookError(f"desk {self.desk!r} has no verify")

    def describe_test_request(self, draft: dict[str, Any]) -> str:
        """`would raise … to read its SLAs`: what `raise_test_request(draft)` would write."""
        raise DeskbookError(f"desk {self.desk!r} has no verify")

    def raise_test_request(self, draft: dict[str, Any]) -> str:
        """Create the request `draft` describes (a write); its key."""
        raise DeskbookError(f"desk {self.desk!r} has no verify")

    def verify_sla(self, playbook: Any, request_key: str, out_of_scope: list[str] | None = None) -> list[str]:
        """Problems with the SLA goals the desk applies to `request_key` (empty = all there); SLAs
        whose scope the request is outside of are appended to `out_of_scope`."""
        raise DeskbookError(f"desk {self.desk!r} has no verify")

    # ------------------------------------------------------------ the engine

    def find_managed(self, kind: str, playbook: str, key: str) -> dict[str, Any] | None:
        """The desk object of `kind` carrying the marker of (`playbook`, `key`), listed afresh; or None."""
        for obj in self.list_kind(kind):
            if self.ownership(kind, obj, playbook) == (playbook, key):
                return obj
        return None

    def create_checked(self, kind: str, payload: dict[str, Any], label: str, playbook: str,
                       key: str | None, intents: CreateIntents | None = None) -> dict[str, Any]:
        """Create, never making a second copy of an object whose earlier create is unconfirmed:

        - a create an interrupted apply sent and never saw answered (`intents`) may still be stored
          late: wait until the desk has had the client's timeout since it was sent, list the kind
          again and take the object found by marker;
        - when this create's outcome is unknown (ambiguous), look the object up by marker before
          creating again (up to `ambiguous_create_rounds` creates)."""
        if intents is not None and key and (kind, key) in intents.unconfirmed:
            wait = intents.unconfirmed[(kind, key)] + self.settle_seconds() - time.time()
            if wait > 0:
                log.info("%s: an interrupted apply sent its create %.1fs ago; waiting %.1fs for the desk to store it",
                         label, self.settle_seconds() - wait, wait)
                self.sleep(wait)
            found = self.find_managed(kind, playbook, key)
            if found is not None:
                log.info("%s: found the object an interrupted apply created", label)
                found = self.finish_found(kind, found, payload, label)
                intents.confirmed(kind, key)
                return found
        for round_ in range(self.ambiguous_create_rounds):
            try:
                if intents is not None and key:
                    intents.sending(kind, key)
                created = self.create_object(kind, payload, label)
                if intents is not None and key:
                    intents.confirmed(kind, key)
                return created
            except DeskbookError as exc:
                if not getattr(exc, "ambiguous", False) or not key or round_ == self.ambiguous_create_rounds - 1:
                    raise
                status = getattr(exc, "status", None)
                log.warning("%s: the create may or may not have happened (%s); looking it up by its marker",
                            label, f"HTTP {status}" if status else "no answer")
                # No answer, or a gateway timeout: the desk may still be storing it.
                waits = [self.settle_seconds(), self.settle_seconds() * 2] if status in (None, 504) else [0.0]
                for wait in waits:
                    if wait:
                        self.sleep(wait)
                    found = self.find_managed(kind, playbook, key)
                    if found is not None:
                        found = self.finish_found(kind, found, payload, label)
                        if intents is not None:
                            intents.confirmed(kind, key)
                        return found
        raise AssertionError("unreachable")  # pragma: no cover

    def populate(self, playbook: str) -> Snapshot:
        """List every kind once and parse ownership markers."""
        raw: dict[str, list[dict[str, Any]]] = {}
        existing: list[ExistingObject] = []
        for kind in self.kind_order:
            raw[kind] = self.list_kind(kind)
            for obj in raw[kind]:
                owner_key = self.ownership(kind, obj, playbook)
                owner, key = owner_key if owner_key else (None, None)
                existing.append(ExistingObject(kind, obj.get("id"), self.display_name(kind, obj), obj, owner, key))
        return snapshot_checked(Snapshot(raw, existing), playbook)

    def plan_playbook(self, playbook: Any, library: Any, *, adopt: bool = False) -> tuple[Plan, Snapshot]:
        """(plan, snapshot) of a loaded `Playbook` against the desk as it is now."""
        snapshot = self.populate(playbook.name)
        return self.plan(playbook, self.desired_objects(playbook, library), snapshot, adopt=adopt), snapshot

    def plan(self, playbook: Any, desired: list[DesiredObject], snapshot: Snapshot, *, adopt: bool = False) -> Plan:
        """Diff `desired` with `snapshot` into an ordered plan (extra steps at the end), with the desk's
        notes. `playbook` is the `Playbook` or, for a plan by name (uninstall), its name."""
        loaded = None if isinstance(playbook, str) else playbook
        playbook = playbook if isinstance(playbook, str) else playbook.name
        ids = snapshot.managed_ids(playbook)
        extra_copies = snapshot.duplicates(playbook)
        copy_ids = {id(e) for e in extra_copies}
        plan = build_plan(self.desk, playbook, desired, [e for e in snapshot.existing if id(e) not in copy_ids],
                          lambda d, e: self.compare(d, e, ids), kind_order=self.kind_order, adopt=adopt,
                          name_key=self.match_name, identity=self.identity)
        # A second object with the same marker (a create whose answer was lost, then repeated) is
        # deleted with the other deletes, in reverse dependency order.
        order = {k: i for i, k in enumerate(self.kind_order)}
        for e in sorted(extra_copies, key=lambda e: -order.get(e.kind, len(order))):
            plan.changes.append(Change(DELETE, e.kind, e.name, e.key, e.id, None, e.payload,
                                       reason=f"duplicate of id {ids[(e.kind, e.key)]}"))
        plan.changes += self.extra_changes(playbook, desired, snapshot, plan.changes)
        plan.notes += self.plan_notes(plan, loaded, desired)
        if loaded is not None and desired:  # SOP items no scenario can prove on this desk
            from deskbook.connectors.scenarios.runner import not_expressible_notes

            plan.notes += not_expressible_notes(loaded.name, getattr(loaded, "path", None), self.desk)
        return plan

    def install_converged(self, playbook: Any, library: Any, *, adopt: bool = False,
                          planned: Callable[[Plan], None] | None = None,
                          applied: Callable[[ApplyReport], None] | None = None) -> tuple[Plan, ApplyReport]:
        """The demos' install (on a fresh sandbox): plan, guard, apply, plan again; (the first plan, the
        apply report). A change left after the apply means deskbook does not converge on this desk, a
        bug: `DeskbookError` naming the changes left. `planned` and `applied` hear each step as it ends."""
        plan, snapshot = self.plan_playbook(playbook, library, adopt=adopt)
        if planned is not None:
            planned(plan)
        self.guard(plan, snapshot)
        report = self.apply(plan, snapshot)
        if applied is not None:
            applied(report)
        again, _ = self.plan_playbook(playbook, library)
        if again.has_changes:
            left = "; ".join(f'{c.action} {c.kind} "{c.name}"' for c in again.changes[:5])
            more = f" and {len(again.changes) - 5} more" if len(again.changes) > 5 else ""
            raise DeskbookError(f"the {self.desk} sandbox did not converge: the plan after apply still has "
                                f"changes: {left}{more}",
                                hint=f"this is a deskbook bug; please report it with what `deskbook plan --desk {self.desk}` "
                                     "shows against the sandbox")
        return plan, report

    def guard_uninstall(self, plan: Plan, *, force: bool = False) -> None:
        """Refuse an uninstall that would destroy data beyond deskbook's own objects (none by default;
        JSM: request types that requests use). Reads only; `force` skips it."""

    @staticmethod
    def guard(plan: Plan, snapshot: Snapshot, *, force: bool = False, checksum: str | None = None) -> None:
        """Refuse to apply: a plan that differs from the reviewed checksum, unresolved conflicts,
        or (without `force`) sweeping updates/deletes."""
        if checksum and checksum != plan.checksum:
            raise DeskbookError(
                f"the plan changed since it was reviewed (checksum {plan.checksum[:12]}…, expected {checksum[:12]}…)",
                hint="run plan again, review it, and pass its new --checksum")
        if plan.conflicts:
            names = "; ".join(f'{c.kind} "{c.name}" (id {c.id})' for c in plan.conflicts[:5])
            more = f" and {len(plan.conflicts) - 5} more" if len(plan.conflicts) > 5 else ""
            raise DeskbookError(
                f"{len(plan.conflicts)} unmanaged object(s) already use names the playbook needs: {names}{more}",
                hint="re-run with --adopt to take them over, or rename them in the desk")
        plan.check_safety(snapshot.managed_counts(plan.playbook), force=force)

    def apply(self, plan: Plan, snapshot: Snapshot, *, on_change: Callable[[Change], None] | None = None,
              intents: CreateIntents | None = None) -> ApplyReport:
        """Carry out `plan` in order; ids of created objects feed the refs of later ones. With
        `intents` (the CLI's apply), creates are logged so that a killed run's late-stored create is
        found by the next run instead of made twice; the log is removed when the plan is done."""
        report = ApplyReport(ids=dict(snapshot.managed_ids(plan.playbook)))
        ids = report.ids
        for change in plan.changes:  # adopted objects are known by their id from the start
            if change.action == UPDATE and change.key:
                ids[(change.kind, change.key)] = change.id
        for change in plan.changes:
            label = object_label(change.kind, change.name, change.key)
            if change.action == CREATE:
                created = self.create_checked(change.kind, self.resolve_refs(change.desired or {}, ids), label,
                                              plan.playbook, change.key, intents)
                change.id = created.get("id")
                ids[(change.kind, change.key)] = change.id
            elif change.action == UPDATE:
                self.update_object(change.kind, change.id, self.resolve_refs(change.desired or {}, ids),
                                   change.existing, label)
            elif change.action == DELETE:
                self.delete_object(change.kind, change.id, label)
                if ids.get((change.kind, change.key)) == change.id:
                    ids.pop((change.kind, change.key), None)
            elif change.action == REORDER:
                self.apply_extra(change, ids, snapshot, report.done)
            else:
                continue
            log.debug("%s %s", change.action, label)
            report.done.append(change)
            if on_change:
                on_change(change)
        if intents is not None:
            intents.finish()
        return report


def snapshot_checked(snapshot: Snapshot, playbook: str) -> Snapshot:
    """Warn about two desk objects claiming the same marker (e.g. a copy made by hand)."""
    seen: dict[tuple[str, str], Any] = {}
    for e in snapshot.existing:
        if e.owner == playbook and e.key:
            if (e.kind, e.key) in seen:
                log.warning("%s objects %s and %s both carry the marker for key %s; %s is managed, "
                            "the plan deletes the copy", e.kind, seen[(e.kind, e.key)], e.id, e.key,
                            seen[(e.kind, e.key)])
                continue
            seen[(e.kind, e.key)] = e.id
    return snapshot


def render_plan(plan: Plan, *, verbose: bool = True) -> str:
    """Terraform-style text: `+ create macro "..."`, `~ update ...` with field diffs, and a summary."""
    lines = [f"Plan for playbook {plan.playbook} on {plan.desk}:"]
    if not plan.changes:
        lines.append("  No changes. The desk matches the playbook.")
    for c in plan.changes:
        where = f" (id {c.id})" if c.id not in (None, "") else ""
        line = "  " + change_line(c.action, c.kind, c.name, where)
        if c.reason:
            line += f": {c.reason}"
        lines.append(line)
        if verbose and c.action == UPDATE:
            lines += [f"      {d}" for d in c.diff[:10]]
            if len(c.diff) > 10:
                lines.append(f"      … {len(c.diff) - 10} more differences")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    s = plan.summary()
    lines.append(f"Plan: {s[CREATE]} to create, {s[UPDATE]} to update, {s[DELETE]} to delete"
                 + (f", {s[REORDER]} to reorder" if s[REORDER] else "")
                 + (f", {s[CONFLICT]} conflict(s)" if s[CONFLICT] else "") + ".")
    lines.append(f"checksum: {plan.checksum}")
    return "\n".join(lines)


def plan_exit(plan: Plan) -> ExitCode:
    """2 when the plan would write or has conflicts to resolve, else 0."""
    return ExitCode.CHANGES if plan.has_changes or plan.conflicts else ExitCode.OK


def uninstall_plan(connector: DeskConnector, playbook: str, snapshot: Snapshot) -> Plan:
    """A plan that deletes every object `playbook` owns (and nothing else)."""
    return connector.plan(playbook, [], snapshot)


def kinds_in(changes: Iterable[Change]) -> set[str]:
    """The kinds a list of changes touches."""
    return {c.kind for c in changes}

"""Zendesk Support connector: populate → plan → apply over `ZendeskClient`.

The engine (order, guard, resumability) is `deskbook.connectors.base.DeskConnector`; this
module supplies Zendesk's pieces:

- populate lists each kind once through the client (cursor or offset pagination) and reads
  the ownership marker with `compare.ownership` (description, name or title per kind);
- desired objects come from `translate.desired_objects`, drift from `compare.compare`
  (by meaning), refs are resolved (`deskbook.plan.resolve_refs`) just before each write;
- order is planned at the end, one `reorder` change per kind that is out of playbook order and
  one bulk write per kind when applied. SLA policies (`/slas/policies/reorder`): the desk's
  unmanaged policies keep their order and come first, the playbook's follow in playbook order.
  Trigger categories (`POST /trigger_categories/jobs`), triggers (firing order), macros,
  automations and views (`PUT /<rules>/update_many` with `{id, position}`, 100 per request): the
  playbook's objects keep the positions they hold and take them in playbook order
  (`rule_positions`). Only their positions are written, so objects deskbook does not own keep
  their positions, their order among themselves and their place between the playbook's.
  Zendesk appends new objects; when that already gives playbook order (a first install in
  order) no reorder is planned. New objects beside managed ones already in the desk get a
  reorder too (`joins_managed`): where Zendesk puts them is only known at apply, which then
  writes only the positions that differ. Triggers fire by category first (category `position`),
  then by their own `position` within the category (`trigger_firing_key`); `PUT /triggers/reorder`
  is refused by Zendesk once an account has more than one category, so positions are written with
  `update_many` instead. The wanted trigger order is (playbook category order, playbook order within
  the category) (`category_firing_order`), even when the playbook lists its triggers interleaved;
  the managed triggers of each category take the slots they hold in that category, so unmanaged
  triggers keep their place in every category and unmanaged categories are not touched. A trigger
  the plan moves to another category also gets a reorder checked at apply (`moves_category`);
- a create whose answer was lost (timeout after sending, 5xx) is not repeated blindly: the engine
  lists the kind again and looks the object up by its marker first (`finish_found` completes
  schedules and dynamic content, whose create takes several calls).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from deskbook.connectors.base import ApplyReport, DeskConnector, Snapshot
from deskbook.connectors.zendesk import compare as zcompare
from deskbook.connectors.zendesk import translate
from deskbook.connectors.zendesk.client import POSITIONED_KINDS, ZendeskClient
from deskbook.marker import without_trailing_marker
from deskbook.plan import CREATE, DELETE, REORDER, UPDATE, Change, DesiredObject, ExistingObject, Plan, refs_in

log = logging.getLogger("deskbook.connectors.zendesk")


class ZendeskConnector(DeskConnector):
    """Plans and applies playbooks on one Zendesk account (or the sandbox)."""

    desk = "zendesk"
    kind_order = tuple(translate.KIND_ORDER)


    def __init__(self, client: ZendeskClient):
        self.client = client
        #: (kind, id as text) -> position Zendesk answered for the rules this apply created or
        #: updated (for `apply_extra`); reset by each `apply`.
        self.written_positions: dict[tuple[str, str], Any] = {}

    @classmethod
    def connect(cls, url: str | None = None, email: str | None = None, token: str | None = None,
                **options: Any) -> "ZendeskConnector":
        """A connector for the account named by arguments or the ZENDESK_* environment."""
        return cls(ZendeskClient(url, email, token, **options))

    @property
    def session(self):
        """The client's DeskSession (call counters)."""
        return self.client.session

    # ------------------------------------------------------------ desk I/O

    def list_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of `kind`; SLA policies sorted by position (their order matters)."""
        items = self.client.list(kind)
        if kind == "sla_policy":
            items.sort(key=lambda p: (p.get("position") or 0, p.get("id") or 0))
        return items

    def finish_found(self, kind: str, found: dict[str, Any], payload: dict[str, Any], label: str) -> dict[str, Any]:
        """An object found after an unconfirmed create: kinds created in several steps (schedule
        holidays, dynamic content variants) are finished with an update; a rule's position is kept."""
        if kind in ("schedule", "dynamic_content"):
            self.client.update(kind, found["id"], payload, existing=found, label=label)
        if kind in POSITIONED_KINDS and found.get("id") is not None:
            self.written_positions[(kind, str(found["id"]))] = found.get("position")
        return found

    def update_object(self, kind: str, object_id: Any, payload: dict[str, Any], existing: dict[str, Any] | None,
                      label: str) -> None:
        """Update one object (variants of dynamic content by locale), remembering a rule's position
        as Zendesk answers it (a trigger moved to another category may change place)."""
        updated = self.client.update(kind, object_id, payload, existing=existing, label=label)
        if kind in POSITIONED_KINDS and isinstance((updated or {}).get("position"), int):
            self.written_positions[(kind, str(object_id))] = updated["position"]

    def delete_object(self, kind: str, object_id: Any, label: str) -> None:
        """Delete one object."""
        self.client.delete(kind, object_id, label=label)

    def ownership(self, kind: str, payload: dict[str, Any], playbook: str) -> tuple[str, str] | None:
        """(owner playbook, key) from the kind's marker attribute."""
        return zcompare.ownership(kind, payload, playbook)

    def display_name(self, kind: str, payload: dict[str, Any]) -> str:
        """Title or name as Zendesk shows it."""
        return zcompare.display_name(kind, payload)

    def match_name(self, name: str) -> str:
        """Name without a trailing ownership marker, case folded (for conflict detection)."""
        return without_trailing_marker(name).strip().casefold()

    def identity(self, kind: str, name: str, payload: dict[str, Any]) -> str:
        """Organization fields are unique by `key` in Zendesk; everything else by name."""
        if kind == "organization_field" and payload.get("key"):
            return "key:" + str(payload["key"]).casefold()
        return self.match_name(name)

    # ------------------------------------------------------------ translation

    def desired_objects(self, playbook: Any, library: Any) -> list[DesiredObject]:
        """The playbook as Zendesk objects (`translate.desired_objects`)."""
        return translate.desired_objects(playbook, library)

    def plan(self, playbook: Any, desired: list[DesiredObject], snapshot: Snapshot, *, adopt: bool = False) -> Plan:
        """The shared plan, keeping the dropdown option values the desk holds (`options.py`): an
        organization option keeps the desk's bare value, and an adoption that would orphan values
        is a conflict naming them."""
        from deskbook.connectors.zendesk import options

        name = playbook if isinstance(playbook, str) else playbook.name
        desired = options.keep_desk_option_values(desired, snapshot.existing, name, self.identity)
        plan = super().plan(playbook, desired, snapshot, adopt=adopt)
        options.refuse_orphaning_adoptions(plan)
        return plan

    def compare(self, desired: DesiredObject, existing: ExistingObject, ids: dict) -> list[str]:
        """Drift by meaning (`compare.compare`)."""
        return zcompare.compare(desired, existing, ids)

    def plan_notes(self, plan: Plan, playbook: Any | None, desired: list[DesiredObject]) -> list[str]:
        """Process stages without a view, and what the schedule cannot hold (make-up working days)."""
        if playbook is None:
            return []
        return ([f"the playbook has no view for {label}" for label in translate.missing_process_views(playbook)]
                + translate.schedule_notes(playbook) + translate.guardrail_notes(playbook)
                + translate.survey_notes(playbook))

    # ------------------------------------------------------------ order: SLA policies and rule positions

    def extra_changes(self, playbook: str, desired: list[DesiredObject], snapshot: Snapshot,
                      changes: list[Change]) -> list[Change]:
        """One `reorder` per kind whose managed objects are not (after the plan's creates and
        deletes) in playbook order: SLA policies (other policies first, then the playbook's), and
        the positioned kinds — trigger categories, triggers, macros, automations, views — whose managed objects keep
        the slots they occupy, only their order among themselves changes (see `rule_positions`)."""
        out = []
        category_of = trigger_categories_of(desired)
        category_order = [d.key for d in desired if d.kind == "trigger_category"]
        for kind in (k for k in self.kind_order if k == "sla_policy" or k in POSITIONED_KINDS):
            wanted = [d.key for d in desired if d.kind == kind]
            if not wanted:
                continue
            categories = snapshot.raw.get("trigger_category", []) if kind == "trigger" else None
            natural = natural_order(kind, snapshot.raw.get(kind, []), playbook, changes, categories=categories)
            have = [key for tag, key in natural if tag == "mine"]
            if kind == "trigger":
                # Zendesk fires by category, then by position within it: compare (and write) that order,
                # grouping each managed trigger under the category the plan leaves it in.
                wanted = category_firing_order(wanted, category_of, category_order)
                have = category_firing_order(have, category_of, category_order)
                known = dict(snapshot.managed_ids(playbook))
                known.update({(c.kind, c.key): c.id for c in changes if c.action == UPDATE and c.key})
                order = {"order": wanted, "categories": {key: category_of.get(key) for key in wanted}}
                if have != wanted:
                    out.append(Change(REORDER, kind, "trigger order", None, desired=order,
                                      diff=[f"order: {have} -> {wanted}"],
                                      reason="Zendesk fires triggers by category, then by position: the playbook's "
                                             "in playbook category order, then playbook order, in the positions "
                                             "they hold in each category; other triggers keep theirs"))
                elif joins_managed(kind, natural, changes) or moves_category(changes, category_of, known):
                    out.append(Change(REORDER, kind, "trigger order", None, desired=order,
                                      diff=["order: new or moved triggers join the playbook's at their playbook place"],
                                      reason="where Zendesk puts a new or moved trigger in its category varies; "
                                             "only positions that differ are written"))
                continue
            if kind == "sla_policy":
                target = [t for t in natural if t[0] == "other"] + [("mine", k) for k in wanted]
                if natural == target:
                    continue
                out.append(Change(REORDER, kind, "SLA policy order", None, desired={"order": wanted},
                                  diff=[f"order: {have} -> {wanted}"],
                                  reason="other policies first, then the playbook's in playbook order"))
            elif have != wanted:
                out.append(Change(REORDER, kind, f"{kind} order", None, desired={"order": wanted},
                                  diff=[f"order: {have} -> {wanted}"],
                                  reason="the playbook's in playbook order, in the positions they hold; "
                                         "other rules keep theirs"))
            elif joins_managed(kind, natural, changes):
                out.append(Change(REORDER, kind, f"{kind} order", None, desired={"order": wanted},
                                  diff=[f"order: new {kind} objects join the playbook's at their playbook place"],
                                  reason="where Zendesk puts a new rule among existing ones varies; only "
                                         "positions that differ are written"))
        return out

    def create_object(self, kind: str, payload: dict[str, Any], label: str) -> dict[str, Any]:
        """Create, remembering the position Zendesk gave a rule for the reorder step (a create whose
        outcome is unknown is looked up by marker by the engine: `DeskConnector.create_checked`)."""
        created = self.client.create(kind, payload, label=label)
        if kind in POSITIONED_KINDS and created.get("id") is not None:
            self.written_positions[(kind, str(created["id"]))] = created.get("position")
        return created

    def apply(self, plan: Plan, snapshot: Snapshot, *, on_change: Callable[[Change], None] | None = None,
              **options: Any) -> ApplyReport:
        """The engine's apply (`DeskConnector.apply`), with the positions of an earlier apply forgotten."""
        self.written_positions = {}
        return super().apply(plan, snapshot, on_change=on_change, **options)

    def apply_extra(self, change: Change, ids: dict, snapshot: Snapshot, done: list[Change]) -> None:
        """Write one kind's order: SLA policies with `/slas/policies/reorder` (unmanaged first, then
        the playbook's), rules with one `update_many` of the managed rules whose position changes
        (triggers: the slots each category's managed triggers hold, taken in playbook order)."""
        kind = change.kind
        wanted = change.desired or {}
        deleted = {str(c.id) for c in done if c.action == "delete" and c.kind == kind}
        if kind == "sla_policy":
            managed_ids = {ids.get(("sla_policy", key)) for key in wanted["order"]}
            others = [p["id"] for p in snapshot.raw.get("sla_policy", [])
                      if str(p["id"]) not in deleted and p["id"] not in managed_ids]
            order = others + [ids[("sla_policy", key)] for key in wanted["order"]
                              if ("sla_policy", key) in ids]
            self.client.reorder_sla_policies(order)
            return
        current = {str(o["id"]): o.get("position") for o in snapshot.raw.get(kind, [])
                   if str(o.get("id")) not in deleted}
        known = [p for p in current.values() if isinstance(p, int)]
        end = max(known, default=0)
        for (written_kind, object_id), position in self.written_positions.items():
            if written_kind != kind or object_id in deleted:
                continue
            if object_id in current:  # updated by this apply: where Zendesk says it now is
                if isinstance(position, int):
                    current[object_id] = position
                continue
            if not isinstance(position, int):  # created without a position: Zendesk appends it
                end += 1
                position = end
            current[object_id] = position
        group_of = wanted.get("categories") or {}
        groups: dict[Any, list[tuple[Any, int]]] = {}
        for key in wanted["order"]:
            if (kind, key) in ids:
                object_id = ids[(kind, key)]
                groups.setdefault(group_of.get(key), []).append((object_id, current.get(str(object_id)) or 0))
        writes = [write for managed in groups.values() for write in rule_positions(managed)]
        if writes:
            self.client.update_positions(kind, writes, label=f"{kind} order")

    # ------------------------------------------------------------ export

    def export(self) -> dict[str, Any]:
        """Every business rule, field, group, schedule, dynamic content item, view and SLA policy as JSON,
        by kind (`deskbook.connectors.backup` wraps it in the one backup format)."""
        return {"url": self.client.url, "objects": {kind: self.list_kind(kind) for kind in self.kind_order}}


# ------------------------------------------------------------------ order logic (pure)

def position_key(obj: dict[str, Any]) -> tuple[int, int]:
    """How Zendesk orders rules of one kind: by `position` (missing = 0), then by id."""
    position = obj.get("position")
    return (position if isinstance(position, int) else 0, int(obj.get("id") or 0))


def trigger_firing_key(categories: list[dict[str, Any]]) -> Callable[[dict[str, Any]], tuple]:
    """Sort key putting triggers in Zendesk's firing order given the account's trigger categories:
    category `position` (then category id), then the trigger's `position` (then its id). A trigger
    whose category is not among `categories` sorts after all of them."""
    rank = {str(c.get("id")): position_key(c) for c in categories}
    last = (float("inf"), 0)

    def key(trigger: dict[str, Any]) -> tuple:
        return (*rank.get(str(trigger.get("category_id")), last), *position_key(trigger))

    return key


def trigger_categories_of(desired: list[DesiredObject]) -> dict[str, str]:
    """Playbook trigger key -> key of the trigger category its payload refers to (`category_id`)."""
    out: dict[str, str] = {}
    for d in desired:
        if d.kind == "trigger":
            refs = [key for kind, key in refs_in(d.payload.get("category_id")) if kind == "trigger_category"]
            if refs:
                out[d.key] = refs[0]
    return out


def category_firing_order(keys: list[str], category_of: dict[str, str], category_order: list[str]) -> list[str]:
    """`keys` as Zendesk fires them: grouped by category in `category_order` (keys of unknown
    categories last), keeping the given order within each category (a stable sort)."""
    rank = {key: n for n, key in enumerate(category_order)}
    return sorted(keys, key=lambda key: rank.get(category_of.get(key, ""), len(rank)))


def moves_category(changes: list[Change], category_of: dict[str, str], ids: dict[tuple[str, Any], Any]) -> bool:
    """True when the plan moves a managed trigger into another category that holds other managed
    triggers (an update of its `category_id`): where Zendesk puts it there is only known at apply.
    `ids` maps (kind, key) to the ids known before the apply (an unknown category is a new one)."""
    members: dict[str, int] = {}
    for category in category_of.values():
        members[category] = members.get(category, 0) + 1
    for c in changes:
        if c.kind != "trigger" or c.action != UPDATE or c.key not in category_of:
            continue
        target = category_of[c.key]
        target_id = ids.get(("trigger_category", target))
        current = (c.existing or {}).get("category_id")
        if (target_id is None or str(target_id) != str(current)) and members.get(target, 0) > 1:
            return True
    return False


def natural_order(kind: str, raw: list[dict[str, Any]], playbook: str, changes: list[Change], *,
                  categories: list[dict[str, Any]] | None = None) -> list[tuple[str, Any]]:
    """The order of `kind` once `changes` are applied, before any reorder: the desk's objects
    (minus deleted ones) by position — triggers, when the account's `categories` are given, in
    firing order (`trigger_firing_key`) — then the plan's creates appended in plan order (Zendesk
    puts a new rule or policy last). Entries are ("mine", playbook key) — owned or adopted —
    or ("other", id)."""
    deleted = {str(c.id) for c in changes if c.kind == kind and c.action == DELETE}
    adopted = {str(c.id): c.key for c in changes if c.kind == kind and c.action == UPDATE and c.key}
    out: list[tuple[str, Any]] = []
    order_key = trigger_firing_key(categories) if categories is not None else position_key
    for obj in sorted(raw, key=order_key):
        if str(obj.get("id")) in deleted:
            continue
        owner = zcompare.ownership(kind, obj, playbook)
        if owner and owner[0] == playbook:
            out.append(("mine", owner[1]))
        elif str(obj.get("id")) in adopted:
            out.append(("mine", adopted[str(obj.get("id"))]))
        else:
            out.append(("other", obj.get("id")))
    out += [("mine", c.key) for c in changes if c.kind == kind and c.action == CREATE]
    return out


def joins_managed(kind: str, natural: list[tuple[str, Any]], changes: list[Change]) -> bool:
    """True when the plan creates objects of `kind` beside managed ones already in the desk: their
    place is only known once Zendesk has given them a position (a macro or view gets a default
    position, not necessarily the last), so the order is checked, and fixed if need be, at apply."""
    created = sum(1 for c in changes if c.kind == kind and c.action == CREATE)
    mine = sum(1 for tag, _ in natural if tag == "mine")
    return 0 < created < mine


def rule_positions(managed: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
    """New positions for managed rules given as (id, current position) in playbook order.

    The managed rules keep the set of positions they hold (their "slots", sorted) and take them in
    playbook order, so rules deskbook does not own are never written and keep their positions —
    hence their order among themselves and where they sit between the playbook's rules. Tied slots
    are spread (each position at least one above the previous) so the order does not hang on ids.
    Returns only the (id, position) pairs that change."""
    slots = sorted(position for _, position in managed)
    out: list[tuple[Any, int]] = []
    previous: int | None = None
    for (object_id, position), slot in zip(managed, slots, strict=True):
        new = slot if previous is None else max(slot, previous + 1)
        previous = new
        if new != position:
            out.append((object_id, new))
    return out

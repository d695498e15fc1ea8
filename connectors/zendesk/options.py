"""Dropdown option values the desk already holds are kept, never rewritten under its records.

A dropdown option's `value` is what tickets (as a tag) and organizations store. The playbook's
own values are tags (`customer_tier__key`, `translate.option_tag`); an existing field taken over
with `--adopt` usually holds other ones (`key`, typed by hand or imported). Rewriting them would
orphan every record's value — silent data loss on a real desk. So, before the plan is built:

- **organization fields** (adopted, or already managed): a playbook option whose bare value the
  desk already holds (`key` for `customer_tier__key`) keeps the desk's value. The sync jobs read
  either form (`translate.option_value`), and no rule refers to organization values by tag.
- after the plan is built, an **adopted** field (ticket or organization) whose update would drop
  an option value the desk holds becomes a `conflict` naming those values: apply refuses it, and
  the admin maps them (rename the options' values in Zendesk, or add them to the playbook) first.
  Ticket fields keep the tag form because triggers, views and SLA filters match tickets by tag.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from deskbook.connectors.zendesk.translate import option_value
from deskbook.plan import CONFLICT, UPDATE, DesiredObject, ExistingObject, Plan

FIELD_KINDS = ("ticket_field", "organization_field")


def _options(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((payload or {}).get("custom_field_options") or [])


def keep_desk_option_values(desired: list[DesiredObject], existing: list[ExistingObject], playbook: str,
                            identity: Callable[[str, str, dict[str, Any]], str]) -> list[DesiredObject]:
    """`desired` with each organization dropdown option using the bare value the desk already holds
    for it (matched by the field's marker key, or by identity for a field to adopt)."""
    managed = {(e.kind, e.key): e for e in existing if e.owner == playbook and e.key}
    unmanaged = {(e.kind, identity(e.kind, e.name, e.payload)): e for e in existing if e.owner is None}
    out = []
    for d in desired:
        current = None
        if d.kind == "organization_field" and _options(d.payload):
            current = managed.get((d.kind, d.key)) or unmanaged.get((d.kind, identity(d.kind, d.name, d.payload)))
        if current is None:
            out.append(d)
            continue
        held = {str(o.get("value")) for o in _options(current.payload)}
        field_key = str(d.payload.get("key") or d.key)
        options = []
        for option in _options(d.payload):
            bare = option_value(field_key, str(option["value"]))
            keep = bare if bare in held and str(option["value"]) not in held else option["value"]
            options.append({**option, "value": keep})
        out.append(replace(d, payload={**d.payload, "custom_field_options": options}))
    return out


def refuse_orphaning_adoptions(plan: Plan) -> None:
    """Turn each adopted field update that would drop option values the desk holds into a conflict."""
    for change in plan.changes:
        if change.action != UPDATE or change.reason != "adopted" or change.kind not in FIELD_KINDS:
            continue
        if not _options(change.desired) and not _options(change.existing):
            continue
        wanted = {str(o.get("value")) for o in _options(change.desired)}
        lost = [o for o in _options(change.existing) if str(o.get("value")) not in wanted]
        if not lost:
            continue
        names = ", ".join(f"{o.get('name')!r} (value {o.get('value')!r})" for o in lost)
        change.action = CONFLICT
        change.reason = (f"adopting would remove option(s) {names} that records may hold (their values would be "
                         "orphaned); give those options the playbook's values in Zendesk, or add them to the "
                         f"playbook, then re-run with --adopt. Playbook values: {', '.join(sorted(wanted))}")

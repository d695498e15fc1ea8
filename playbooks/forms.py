"""Which ticket fields each request category needs: the rule behind Zendesk's ticket forms and the
JSM plan's request-type form note (one rule, desk-neutral; the desks only shape it).

- A field implementing a process step (`S-*`), or no complaint/relationship item, is **common**:
  every category's form shows it.
- A field implementing complaint (`C-*`) or relationship (`R-*`) items only is **specific** to the
  categories implementing one of its items exactly (the callback record T-4/R-2/R-3 goes with the
  category implementing R-2/R-3) or, when none does, an item of the same family (the complaint
  fields C-2..C-4 go with the category implementing C-1/C-5): shown when that category is chosen.
- A common field that only the work after solving fills in (every item it implements is
  implemented by a rule acting on solved tickets only: the satisfaction survey) is shown once the
  ticket is solved, i.e. once the dropdown value a trigger sets on every solved ticket is there
  (`solved_marker`): desks condition fields on custom fields, never on the status itself.
"""

from __future__ import annotations

from deskbook.playbooks import model as m

#: Families of SOP items that make a ticket field specific to the request categories implementing
#: items of the same family (complaints C-*, relationship work R-*); a field implementing any
#: process step (S-*) is on every form.
SPECIFIC_ITEM_FAMILIES = ("C", "R")


def _family(item: str) -> str:
    return item.split("-", 1)[0]


def field_categories(pb: m.Playbook, fld: m.Field) -> set[str] | None:
    """The category keys a ticket field belongs to, or None when it belongs on every form.

    A field implementing a process step (`S-*`), or no complaint/relationship item, is common. Any
    other field belongs to the categories that implement one of its items exactly (the callback
    record T-4/R-2/R-3 goes with the `callback_request` category implementing R-2/R-3) or, when
    none does, an item of the same family (the complaint fields C-2..C-4 go with the category
    implementing C-1/C-5)."""
    items = set(fld.implements)
    specific = {i for i in items if _family(i) in SPECIFIC_ITEM_FAMILIES}
    if any(_family(i) == "S" for i in items) or not specific:
        return None
    categories = pb.all_categories()
    exact = {c.key for c in categories if specific & set(c.implements)}
    if exact:
        return exact
    families = {_family(i) for i in specific}
    return {c.key for c in categories if families & {_family(i) for i in c.implements}}


def _solved_only(conditions: m.Conditions) -> bool:
    return any(c.field == "status" and c.operator == "is" and c.value == "solved" for c in conditions.all)


def solved_marker(pb: m.Playbook) -> tuple[str, str] | None:
    """(ticket dropdown key, value) a trigger sets on every solved ticket (the record's "solved" state),
    or None: the one custom-field value a conditional field can wait for (Zendesk's conditions take a
    custom field as parent, never the status)."""
    dropdowns = {f.key for f in pb.ticket_fields() if f.type == "dropdown"}
    for trigger in pb.triggers:
        if _solved_only(trigger.conditions):
            for action in trigger.actions:
                key = action.field[len("field."):] if action.field.startswith("field.") else None
                if key in dropdowns:
                    return key, str(action.value)
    return None


def after_solve_fields(pb: m.Playbook) -> set[str]:
    """Ticket fields only the work after solving fills in (the satisfaction survey): every item they
    implement is implemented by a rule acting on solved tickets only (the solved marker's trigger aside)."""
    marker_trigger = None
    found = solved_marker(pb)
    if found is None:
        return set()
    for trigger in pb.triggers:
        if _solved_only(trigger.conditions) and any(a.field == f"field.{found[0]}" for a in trigger.actions):
            marker_trigger = trigger.key
            break
    rules: tuple[m.Automation | m.Trigger, ...] = (*pb.automations, *pb.triggers)
    items = {i for rule in rules
             if rule.key != marker_trigger and _solved_only(rule.conditions) for i in rule.implements}
    return {f.key for f in pb.ticket_fields()
            if f.key != found[0] and f.implements and set(f.implements) <= items}



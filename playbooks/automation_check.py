"""The automation rules, once: what makes a time-based automation acceptable.

Both `deskbook validate` (the loader, which reports every problem with its file:line:column) and
`deskbook plan` (Zendesk's translation, which refuses before any request) call
`automation_problems`, so a playbook one accepts the other accepts too. The rules are Zendesk's
(spec, CreateAutomation: "at least one condition that is true only once or an action that
nullifies at least one of the conditions", and the `all` conditions must hold a time-based one
and one on the ticket's status, group or assignee), read in the playbook's neutral vocabulary and
on the safe side of "would fire every hour":

- a time condition (`hours_*`) under `all`;
- a scope condition (`SCOPE_FIELDS`) under `all`;
- at least one action;
- a condition true only once (`hours_* is N`: its one-hour window passes once per ticket), or the
  actions make the conditions false for every ticket they ran on: an `all` condition one action
  nullifies, or every `any` condition nullified (one of several `any` conditions made false
  leaves the others to match again).

`nullifies(condition, action)`: after `action` the condition is false, whatever else the ticket
holds. Tags: `includes [a, b]` matches a ticket with a or b, so only removing both (or setting
tags without either) nullifies it; `not_includes [a, b]` is nullified by adding (or setting) a or
b. A field an action sets (status, priority, group, assignee, category, `field.<key>`): the
condition no longer holds for the value set (`is`/`is_not` compare as text, `less_than` /
`greater_than` by status or priority rank, `present` / `not_present`).
"""

from __future__ import annotations

from typing import Any, Iterable

from deskbook.playbooks.model import PRIORITIES, STATUSES, Action, Condition, Conditions

#: Fields of which an automation's `all` must test one.
SCOPE_FIELDS = ("status", "group", "assignee")
_RANKS = {"status": {s: i for i, s in enumerate(STATUSES)}, "priority": {p: i for i, p in enumerate(PRIORITIES)}}


def is_time_condition(condition: Condition) -> bool:
    """An hours since/until condition (Zendesk runs automations hourly on them)."""
    return condition.field.startswith("hours_")


def true_only_once(condition: Condition) -> bool:
    """`hours_* is N`: true during one hour of a ticket's life, so the automation fires once."""
    return is_time_condition(condition) and condition.operator == "is"


def _tags(value: Any) -> set[str]:
    if isinstance(value, (list, tuple)):
        return {str(v) for v in value}
    return set(str(value or "").split())


def _holds(condition: Condition, value: Any) -> bool | None:
    """Whether `condition` holds once its field is `value` (None: cannot tell)."""
    op, want = condition.operator, condition.value
    if op == "is":
        return str(value) == str(want)
    if op == "is_not":
        return str(value) != str(want)
    rank = _RANKS.get(condition.field)
    if op in ("less_than", "greater_than") and rank and value in rank and want in rank:
        return rank[value] < rank[want] if op == "less_than" else rank[value] > rank[want]
    if op == "present":
        return value not in (None, "", [])
    if op == "not_present":
        return value in (None, "", [])
    return None


def nullifies(condition: Condition, action: Action) -> bool:
    """True when, after `action`, `condition` is false on every ticket."""
    if condition.field == "tags":
        wanted = _tags(condition.value)
        if condition.operator == "includes":
            if action.field == "remove_tags":
                return bool(wanted) and wanted <= _tags(action.value)
            if action.field == "set_tags":
                return not wanted & _tags(action.value)
        elif condition.operator == "not_includes" and action.field in ("add_tags", "set_tags"):
            return bool(wanted & _tags(action.value))
        return False
    if is_time_condition(condition) or action.field != condition.field:
        return False
    return _holds(condition, action.value) is False


def _nullified(condition: Condition, actions: Iterable[Action]) -> bool:
    return any(nullifies(condition, action) for action in actions)


def fires_once(conditions: Conditions, actions: tuple[Action, ...]) -> bool:
    """A condition true only once, an `all` condition the actions nullify, or all `any` ones nullified."""
    every = (*conditions.all, *conditions.any)
    if any(true_only_once(c) for c in every):
        return True
    if any(_nullified(c, actions) for c in conditions.all):
        return True
    return bool(conditions.any) and all(_nullified(c, actions) for c in conditions.any)


def automation_problems(key: str, conditions: Conditions, actions: tuple[Action, ...]) -> list[tuple[str, str]]:
    """What is wrong with automation `key`: (part, message) pairs, part "conditions" or "actions"."""
    problems = []
    if not any(is_time_condition(c) for c in conditions.all):
        problems.append(("conditions", f"automation {key!r} has no time condition: it needs an hours_* condition "
                                       "under `all` (e.g. hours_since_updated greater_than 24)"))
    if not any(c.field in SCOPE_FIELDS for c in conditions.all):
        problems.append(("conditions", f"automation {key!r} needs a condition on {', '.join(SCOPE_FIELDS)} under "
                                       "`all` (e.g. status less_than solved); Zendesk refuses automations without one"))
    if not actions:
        problems.append(("actions", f"automation {key!r} needs at least one action"))
    elif not fires_once(conditions, actions):
        problems.append(("conditions", f"automation {key!r} has no nullifying condition, so it would fire every hour: "
                                       "add a condition under `all` that its own actions make false (e.g. `tags "
                                       "not_includes X` with `add_tags: [X]`, or `status is open` with `status: "
                                       "pending`), or make one true only once (`hours_since_* is N`)"))
    return problems

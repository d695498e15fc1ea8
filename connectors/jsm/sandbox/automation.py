"""What the sandbox's Rule Management API accepts, refuses and stores (`../shared/jsm/FACTS.md` §2).

Written from the site's side, independently of the client's `connectors/jsm/automation.py`, so a
client mistake is refused here instead of being echoed back:

* `check_write(body, ...)` — a create/update body: the `{"rule": ..., "connections": [...]}`
  wrapper (without it: the generic "cannot parse" 400, 2.2), the required rule fields
  (`REQUIRED_RULE_FIELDS`: `actor`, `authorAccountId`, `writeAccessType`, `canOtherRuleTrigger`,
  `notifyOnError`, ...) each refused on its own, scope ARIs of this site, and every node: a
  `component`, a known `type` (an unknown one gets the vague "systems are unavailable", 2.16),
  `schemaVersion`, `value` in its recorded shape (a JQL condition's object value and an ADF
  comment get a 500, as recorded; an edit without `operations` a field error). An actor without
  JSM project rights gets `component.missing.permissions.actor` (1.10).
* `enrich(rule, ...)` — what a read returns: node `id`s, `parentId`/`conditionParentId`,
  `connectionId: null`, value keys the type does not know dropped and known ones it was not given
  set to null, `description: null` when empty, `collaborators`, `uuid`, `created`, `updated` (2.15).
* `check_enable(rule)` — enabling is stricter than saving (2.9): created/updated triggers need
  `eventKey` and `issueEvent`, scheduled triggers `schedule.method: "CRON"` and a cron expression.
* The state sent on create does not stick (2.7): the sandbox stores every new rule DISABLED.
* If/else (FACTS.md §2's recorded shape): a `jira.condition.container.block` holds only
  `CONDITION_BLOCK` components of type `jira.condition.if.block`, and an if-block is a
  `CONDITION_BLOCK` inside such a container; anything else there is refused (400 naming the node —
  the reading: FACTS.md records the shape, not the site's answer to another one). An if-block's
  `conditionMatchType`: FACTS.md records `ALL` only and says nothing of other values being refused,
  so every value is accepted on save (the engine runs `ALL` and `ANY`).
* `jira.comparator.condition` (`{first, second, operator}`, the advanced compare condition over
  smart values) is not in FACTS.md's table: its shape is the one in the register's recorded if/else
  read-back (O4); deskbook's comment rules send it (`engine.py` runs it).

Errors are `Refused(status, message)`; the app answers them in the automation error body.
"""

from __future__ import annotations

import re
from typing import Any, Callable

COMPONENTS = ("TRIGGER", "CONDITION", "ACTION", "BRANCH", "CONDITION_BLOCK", "ORCHESTRATION")
ACTOR_TYPES = ("ACCOUNT_ID", "EVENT_INITIATOR", "SMART_VALUE")
WRITE_ACCESS = ("OWNER_ONLY", "UNRESTRICTED", "SPECIFIED_USERS")
NOTIFY = ("FIRSTERROR", "EVERYERROR", "NEVER")
STATES = ("ENABLED", "DISABLED")
UNPARSEABLE = "The request body could not be parsed: expected {\"rule\": {...}, \"connections\": [...]}."
UNAVAILABLE = "We're sorry, the automation systems are unavailable right now. Please try again later."

#: Value keys each component type keeps (a string value: `str`). Unknown keys are dropped.
VALUE_KEYS: dict[str, tuple[str, ...] | type] = {
    "jira.manual.trigger.issue": ("groups",),
    "jira.issue.event.trigger:created": ("eventFilters", "eventKey", "issueEvent"),
    "jira.issue.event.trigger:updated": ("eventFilters", "eventKey", "issueEvent"),
    "jira.issue.event.trigger:commented": ("eventFilters", "eventTypes"),
    "jira.issue.event.trigger:transitioned": ("eventFilters", "fromStatus", "toStatus", "eventKey", "issueEvent"),
    "jira.issue.field.changed": ("eventFilters", "changeType", "fields", "actions"),
    "jira.jql.scheduled": ("schedule", "jql", "executionMode", "onlyUpdatedIssues"),
    "jira.jql.condition": str,
    "jira.issue.condition": ("selectedField", "selectedFieldType", "comparison", "compareValue"),
    "jira.comparator.condition": ("first", "second", "operator"),
    "jira.condition.container.block": (),
    "jira.condition.if.block": ("conditionMatchType",),
    "jira.issue.comment": ("comment", "publicComment", "commentVisibility", "sendNotifications", "addCommentOnce"),
    "jira.issue.edit": ("operations", "advancedFields", "sendNotifications"),
    "jira.issue.assign": ("assignType", "assignee", "smartValue", "fieldId", "restrictToGroup", "restrictToRole"),
    "jira.issue.transition": ("destinationStatus", "operations", "advancedFields", "sendNotifications",
                              "transitionMatch"),
}
EVENT_TRIGGERS = ("jira.issue.event.trigger:created", "jira.issue.event.trigger:updated",
                  "jira.issue.event.trigger:transitioned")


class Refused(Exception):
    """The site refuses the body: `status` and the message of its error body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _missing(field: str) -> Refused:
    return Refused(400, f"{field}: must not be null")


#: rule field -> check of its value (returns an error message or None).
REQUIRED_RULE_FIELDS: dict[str, Callable[[Any], str | None]] = {
    "name": lambda v: None if isinstance(v, str) and v.strip() else "rule.name: must not be blank",
    "state": lambda v: None if v in STATES else f"rule.state: must be one of {', '.join(STATES)}",
    "trigger": lambda v: None if isinstance(v, dict) else "rule.trigger: must be a component",
    "components": lambda v: None if isinstance(v, list) else "rule.components: must be a list",
    "ruleScopeARIs": lambda v: None if isinstance(v, list) and v else "rule.ruleScopeARIs: must name at least one scope",
    "actor": lambda v: None if isinstance(v, dict) and v.get("type") in ACTOR_TYPES else
    f"rule.actor.type: must be one of {', '.join(ACTOR_TYPES)}",
    "authorAccountId": lambda v: None if isinstance(v, str) and v else "rule.authorAccountId: must not be blank",
    "writeAccessType": lambda v: None if v in WRITE_ACCESS else
    f"rule.writeAccessType: must be one of {', '.join(WRITE_ACCESS)}",
    "canOtherRuleTrigger": lambda v: None if isinstance(v, bool) else "rule.canOtherRuleTrigger: must be a boolean",
    "notifyOnError": lambda v: None if v in NOTIFY else f"rule.notifyOnError: must be one of {', '.join(NOTIFY)}",
}


def scope_pattern(cloud_id: str) -> re.Pattern:
    """The scope ARIs of the site `cloud_id` (one project, all JSM projects, global; FACTS.md 2.5)."""
    c = re.escape(cloud_id)
    return re.compile(rf"^(ari:cloud:jira:{c}:project/\d+|ari:cloud:jira-servicedesk::site/{c}|ari:cloud:jira::site/{c})$")


def check_write(body: Any, *, cloud_id: str, agents: set[str]) -> dict:
    """The rule of a create/update body, or `Refused` naming the first thing the site refuses."""
    if not isinstance(body, dict) or not isinstance(body.get("rule"), dict) or \
            not isinstance(body.get("connections", None), list):
        raise Refused(400, UNPARSEABLE)
    rule = body["rule"]
    for field, check in REQUIRED_RULE_FIELDS.items():
        if field not in rule or rule[field] is None:
            raise _missing(f"rule.{field}")
        problem = check(rule[field])
        if problem:
            raise Refused(400, problem)
    actor = rule["actor"]
    if actor["type"] == "ACCOUNT_ID":
        if not actor.get("actor"):
            raise _missing("rule.actor.actor")
        if actor["actor"] not in agents:
            raise Refused(400, "component.missing.permissions.actor: the rule actor has no permission in "
                               "the rule's projects (Service Desk Team role)")
    if rule["authorAccountId"] not in agents:
        raise Refused(400, f"rule.authorAccountId: no user with account id '{rule['authorAccountId']}'")
    pattern = scope_pattern(cloud_id)
    bad = [ari for ari in rule["ruleScopeARIs"] if not isinstance(ari, str) or not pattern.match(ari)]
    if bad:
        raise Refused(400, f"rule.ruleScopeARIs: '{bad[0]}' is not a scope of this site")
    labels = rule.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise Refused(400, "rule.labels: must be a list of label names")
    check_node(rule["trigger"], "rule.trigger", trigger=True)
    for n, item in enumerate(rule["components"]):
        check_node(item, f"rule.components[{n}]", trigger=False)
    return rule


CONTAINER_BLOCK = "jira.condition.container.block"
IF_BLOCK = "jira.condition.if.block"


def check_node(item: Any, where: str, *, trigger: bool, in_container: bool = False) -> None:
    """One node and its children/conditions, as the site checks them (`in_container`: a child of an
    if/else container, which must be an if-block)."""
    if not isinstance(item, dict):
        raise Refused(400, f"{where}: must be a component")
    for field in ("component", "type", "schemaVersion", "value"):
        if field not in item:
            raise _missing(f"{where}.{field}")
    if item["component"] not in COMPONENTS:
        raise Refused(400, f"{where}.component: must be one of {', '.join(COMPONENTS)}")
    if trigger != (item["component"] == "TRIGGER"):
        raise Refused(400, f"{where}.component: {'a rule trigger must be' if trigger else 'only the trigger is'} "
                           "a TRIGGER")
    if not isinstance(item["schemaVersion"], int) or isinstance(item["schemaVersion"], bool) or item["schemaVersion"] < 1:
        raise Refused(400, f"{where}.schemaVersion: must be a positive integer")
    kind = VALUE_KEYS.get(item["type"])
    if kind is None:
        raise Refused(400, UNAVAILABLE)
    if in_container and (item["component"], item["type"]) != ("CONDITION_BLOCK", IF_BLOCK):
        raise Refused(400, f"{where}: an if/else block holds only CONDITION_BLOCK components of type {IF_BLOCK}")
    if item["type"] == IF_BLOCK and not (in_container and item["component"] == "CONDITION_BLOCK"):
        raise Refused(400, f"{where}: an if-block ({IF_BLOCK}) is a CONDITION_BLOCK inside an if/else block "
                           f"({CONTAINER_BLOCK})")
    value = item["value"]
    if kind is str:
        if not isinstance(value, str):  # recorded: the object form {jql} got a 500
            raise Refused(500, "An internal error occurred while saving the rule.")
    elif not isinstance(value, dict):
        raise Refused(400, f"{where}.value: must be an object for {item['type']}")
    else:
        _check_value(item["type"], value, where)
    for key in ("children", "conditions"):
        nested = item.get(key, [])
        if not isinstance(nested, list):
            raise Refused(400, f"{where}.{key}: must be a list")
        for n, child in enumerate(nested):
            check_node(child, f"{where}.{key}[{n}]", trigger=False,
                       in_container=key == "children" and item["type"] == CONTAINER_BLOCK)


def _check_value(type_: str, value: dict, where: str) -> None:
    if type_ == "jira.issue.comment":
        if not isinstance(value.get("comment"), str):  # recorded: ADF gives a 500
            raise Refused(500, "An internal error occurred while saving the rule.")
        if not value["comment"].strip():
            raise Refused(400, f"{where}.value.comment: must not be blank")
    elif type_ == "jira.issue.edit":
        operations = value.get("operations")
        if not isinstance(operations, list):
            raise _missing(f"{where}.value.operations")
        for n, op in enumerate(operations):
            if not isinstance(op, dict) or not isinstance(op.get("field"), dict) or "type" not in op:
                raise Refused(400, f"{where}.value.operations[{n}]: needs field {{type, value}}, fieldType, type, value")
    elif type_ == "jira.issue.transition":
        target = value.get("destinationStatus")
        if not isinstance(target, dict) or not target.get("value"):
            raise Refused(400, f"{where}.value.destinationStatus: must be {{type, value}}")
    elif type_ == "jira.jql.scheduled":
        if not isinstance(value.get("schedule"), dict):
            raise _missing(f"{where}.value.schedule")


def check_ids(rule: dict, existing: dict) -> None:
    """A PUT may carry only the ids of the stored rule's nodes (2.6)."""
    known = {n.get("id") for n in walk(existing)}
    sent = {n.get("id") for n in walk(rule) if n.get("id") is not None}
    if sent - known:
        raise Refused(400, "Component ids do not match the components of the rule.")


def walk(rule: dict):
    """Every node of a rule (trigger first)."""
    stack = [rule.get("trigger") or {}] + list(rule.get("components") or [])
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict):
            continue
        yield item
        stack = list(item.get("children") or []) + list(item.get("conditions") or []) + stack


def enrich(rule: dict, *, next_id: Callable[[], int], stamp: str, created: str | None = None,
           rule_uuid: str) -> dict:
    """The rule as the site stores and returns it (see the module notes)."""

    def node(item: dict, parent: str | None, condition_parent: str | None) -> dict:
        ident = str(item.get("id") or next_id())
        value = item["value"]
        keys = VALUE_KEYS.get(item["type"])
        if isinstance(value, dict) and isinstance(keys, tuple):
            value = {k: value.get(k) for k in keys}
        return {"id": ident, "component": item["component"], "parentId": parent,
                "conditionParentId": condition_parent, "schemaVersion": item["schemaVersion"],
                "type": item["type"], "value": value,
                "children": [node(c, ident, None) for c in item.get("children") or []],
                "conditions": [node(c, None, ident) for c in item.get("conditions") or []],
                "connectionId": None}

    return {"uuid": rule_uuid, "name": rule["name"], "description": rule.get("description") or None,
            "state": rule["state"], "authorAccountId": rule["authorAccountId"], "actor": dict(rule["actor"]),
            "trigger": node(rule["trigger"], None, None),
            "components": [node(c, None, None) for c in rule["components"]],
            "canOtherRuleTrigger": rule["canOtherRuleTrigger"], "notifyOnError": rule["notifyOnError"],
            "writeAccessType": rule["writeAccessType"], "collaborators": list(rule.get("collaborators") or []),
            "labels": list(rule.get("labels") or []), "ruleScopeARIs": list(rule["ruleScopeARIs"]),
            "created": created or stamp, "updated": stamp}


def check_enable(rule: dict) -> None:
    """Refuse to enable a rule whose trigger the site could not run (2.9)."""
    trigger = rule.get("trigger") or {}
    value = trigger.get("value") if isinstance(trigger.get("value"), dict) else {}
    if trigger.get("type") in EVENT_TRIGGERS and not (value.get("eventKey") and value.get("issueEvent")):
        raise Refused(400, "The rule cannot be enabled: its trigger has no eventKey/issueEvent.")
    if trigger.get("type") == "jira.jql.scheduled":
        schedule = value.get("schedule") or {}
        if schedule.get("method") != "CRON" or not schedule.get("cronExpression"):
            raise Refused(400, "The rule cannot be enabled: its schedule needs method CRON and a cronExpression.")

"""Automation rules in the shape of Atlassian's Rule Management API (the one module that owns it).

Facts this follows (`../shared/jsm/FACTS.md` §2; the API documents no component `value`, so the
shapes are the recorded read-backs the register lists):

* Writes are wrapped: `{"rule": {...}, "connections": []}` (`wrap`); reads return the same wrapper.
* A rule carries `name`, `description`, `state`, `trigger`, `components`, `ruleScopeARIs`,
  `labels` and the fields the API requires: `actor {type: ACCOUNT_ID, actor: <accountId>}` and
  `authorAccountId` (both the account of `GET /rest/api/3/myself`: the "Automation for Jira"
  actor id is disputed, 2.14, so deskbook never guesses it), `writeAccessType`,
  `canOtherRuleTrigger`, `notifyOnError` (`RULE_SETTINGS`).
* Every node has `component`, `type`, `schemaVersion`, `value`, `children`, `conditions`
  (`node`). Schema versions are per type (`SCHEMA_VERSIONS`): the register records 2 for the
  comment action and 1 elsewhere.
* Values: a JQL condition's value is the JQL string; `jira.issue.edit` takes `operations`
  (`{field, fieldType, type, value}`); a comment is plain text; a transition names its
  destination status `{"type": "NAME", "value": ...}` (a request already in that status has no
  valid transition, an error in the rule's audit log that stops it, so rules guard a transition with
  an if-block on the status, `if_else`); scheduled triggers use Quartz cron
  (`HOURLY_CRON`) with `method: "CRON"`; created/updated triggers carry `eventFilters` (the
  project ARI), `eventKey` and `issueEvent`, without which a rule cannot be enabled.
* Labels: there is no confirmed label action. deskbook edits the `labels` field with operation
  `ADD` (and `REMOVE`) and `FREE` values; `SET` would replace every label. FACTS.md marks the
  additive operation name unverified: this is the reading taken (README "JSM on a real site").
* A rule is created DISABLED and enabled with `PUT /rule/{uuid}/state {"value": "ENABLED"}`
  (the state sent on create may not stick, 2.7); updates PUT the whole rule without the server's
  node ids (`for_write`: mismatched ids are refused, 2.6).
* The server enriches what it stores (node ids, `parentId`/`conditionParentId`,
  `connectionId: null`, trigger defaults, `description: null`, `uuid`, timestamps) and drops
  unknown value keys, so rules are compared by meaning (`meaning`, `differences`): ids and
  timestamps ignored, null the same as absent, scope ARIs and labels as sets. The actor and author
  are who installed the rule, not part of the playbook, and are not compared.
"""

from __future__ import annotations

from typing import Any

from deskbook.plan import value_differences

#: Rule settings the API requires on every write.
RULE_SETTINGS = {"writeAccessType": "UNRESTRICTED", "canOtherRuleTrigger": False, "notifyOnError": "FIRSTERROR"}
#: Component schema versions by type (the recorded ones; 1 for the rest).
SCHEMA_VERSIONS = {"jira.issue.comment": 2}
#: Every hour on the hour, Quartz syntax (what Zendesk's hourly automations become).
HOURLY_CRON = "0 0 * * * ?"
MANUAL_TRIGGER = "jira.manual.trigger.issue"
CREATED_TRIGGER = "jira.issue.event.trigger:created"
UPDATED_TRIGGER = "jira.issue.event.trigger:updated"
COMMENTED_TRIGGER = "jira.issue.event.trigger:commented"
SCHEDULED_TRIGGER = "jira.jql.scheduled"
#: Keys the server adds to nodes and rules on read-back (never part of a rule's meaning).
SERVER_KEYS = frozenset({"id", "parentId", "conditionParentId", "connectionId", "uuid", "idUuid", "created",
                         "updated", "ruleHome", "tags"})
#: Rule keys deskbook manages (what a comparison looks at).
MANAGED_KEYS = ("name", "description", "state", "trigger", "components", "ruleScopeARIs", "labels",
                *RULE_SETTINGS)


def node(component: str, type_: str, value: Any, *, children: list[dict] | None = None,
         conditions: list[dict] | None = None) -> dict:
    """One rule node (trigger, condition, action, branch) in the API's shape."""
    return {"component": component, "type": type_, "schemaVersion": SCHEMA_VERSIONS.get(type_, 1), "value": value,
            "children": list(children or []), "conditions": list(conditions or [])}


def manual_trigger() -> dict:
    """The trigger of a rule an agent runs from the issue view."""
    return node("TRIGGER", MANUAL_TRIGGER, {"groups": []})


def event_trigger(created: bool, project_ari: str) -> dict:
    """Issue created / issue updated in the project."""
    if created:
        return node("TRIGGER", CREATED_TRIGGER, {"eventFilters": [project_ari], "eventKey": "jira:issue_created",
                                                 "issueEvent": "issue_created"})
    return node("TRIGGER", UPDATED_TRIGGER, {"eventFilters": [project_ari], "eventKey": "jira:issue_updated",
                                             "issueEvent": "issue_generic"})


def commented_trigger(project_ari: str) -> dict:
    """A comment added in the project, public or internal (`eventTypes` empty: any, FACTS.md 2's
    third-party shape); conditions tell which comments count."""
    return node("TRIGGER", COMMENTED_TRIGGER, {"eventFilters": [project_ari], "eventTypes": []})


def comparator_condition(first: str, operator: str, second: str) -> dict:
    """A smart-value comparison (`jira.comparator.condition`: `first` OPERATOR `second`, both
    rendered; EQUALS, NOT_EQUALS, CONTAINS, NOT_CONTAINS). Not in FACTS.md's table; the shape is the
    one in the register's recorded read-back of an if/else rule (O4, `condition_then_else`)."""
    return node("CONDITION", "jira.comparator.condition", {"first": first, "second": second, "operator": operator})


def scheduled_trigger(jql: str, cron: str = HOURLY_CRON) -> dict:
    """Run on a Quartz schedule for every issue `jql` finds."""
    return node("TRIGGER", SCHEDULED_TRIGGER, {
        "schedule": {"method": "CRON", "cronExpression": cron, "rate": 0, "rateInterval": 0, "rRule": None},
        "jql": jql, "executionMode": "jql", "onlyUpdatedIssues": False})


def jql_condition(jql: str) -> dict:
    """A JQL condition: the value is the query string itself."""
    return node("CONDITION", "jira.jql.condition", jql)


def comment_action(text: str, public: bool) -> dict:
    """Comment on the issue (plain text; `public` shares it with the customer)."""
    return node("ACTION", "jira.issue.comment", {"comment": text, "publicComment": bool(public),
                                                 "commentVisibility": None, "sendNotifications": True,
                                                 "addCommentOnce": False})


def transition_action(status: str) -> dict:
    """Move the issue to the status named `status`."""
    return node("ACTION", "jira.issue.transition", {"destinationStatus": {"type": "NAME", "value": status},
                                                    "operations": [], "advancedFields": None,
                                                    "sendNotifications": False, "transitionMatch": None})


def if_block(conditions: list[dict], actions: list[dict], match: str = "ALL") -> dict:
    """One branch of an if/else (`if_else`): `actions` run when `conditions` hold (ALL or ANY); no
    conditions = the else branch. FACTS.md §2's recorded shape: conditions in `conditions`, actions
    in `children`."""
    return node("CONDITION_BLOCK", "jira.condition.if.block", {"conditionMatchType": match}, children=actions,
                conditions=conditions)


def if_else(*blocks: dict) -> dict:
    """If / else-if / else: the first `if_block` whose conditions hold runs; the rule goes on after it."""
    return node("CONDITION", "jira.condition.container.block", {}, children=list(blocks))


def edit_action(operations: list[dict]) -> dict:
    """Edit issue fields with `operations` (see `set_priority`, `label_operation`)."""
    return node("ACTION", "jira.issue.edit", {"operations": operations, "advancedFields": None,
                                              "sendNotifications": False})


def set_priority(name: str) -> dict:
    """An edit operation setting the priority by name."""
    return {"field": {"type": "ID", "value": "priority"}, "fieldType": "priority", "type": "SET",
            "value": {"type": "NAME", "value": name}}


def label_operation(op: str, labels: list[str]) -> dict:
    """An edit operation adding (`ADD`) or removing (`REMOVE`) labels, leaving the others."""
    return {"field": {"type": "ID", "value": "labels"}, "fieldType": "labels", "type": op,
            "value": [{"type": "FREE", "value": label} for label in labels]}


def rule_body(*, name: str, description: str, trigger: dict, components: list[dict], scope_aris: list[str],
              labels: list[str], account_id: str | None, state: str = "ENABLED",
              other_rules_trigger: bool = False) -> dict:
    """A complete rule (the inner object of the write wrapper). `other_rules_trigger`: whether other
    rules' actions may trigger it (`canOtherRuleTrigger`; event rules standing for Zendesk triggers
    need it, since Zendesk runs triggers after a macro's update too)."""
    return {"name": name, "description": description, "state": state, "trigger": trigger,
            "components": components, "ruleScopeARIs": list(scope_aris), "labels": list(labels),
            "actor": {"type": "ACCOUNT_ID", "actor": account_id}, "authorAccountId": account_id,
            **RULE_SETTINGS, "canOtherRuleTrigger": bool(other_rules_trigger)}


def wrap(rule: dict) -> dict:
    """The write body: `{"rule": ..., "connections": []}`."""
    return {"rule": rule, "connections": []}


def _strip_node(item: Any) -> Any:
    if isinstance(item, dict):
        out = {k: _strip_node(v) for k, v in item.items() if k not in ("id", "parentId", "conditionParentId")}
        return out
    if isinstance(item, list):
        return [_strip_node(x) for x in item]
    return item


def for_write(rule: dict, *, account_id: str | None = None) -> dict:
    """`rule` as a PUT body's inner object: node ids and server stamps removed, required settings
    present (kept when the rule has them), the author and actor filled from `account_id` when absent."""
    out = {k: v for k, v in rule.items() if k not in SERVER_KEYS}
    out["trigger"] = _strip_node(out.get("trigger") or {})
    out["components"] = _strip_node(out.get("components") or [])
    for key, value in RULE_SETTINGS.items():
        out.setdefault(key, value)
    if account_id:
        if not (out.get("actor") or {}).get("type"):
            out["actor"] = {"type": "ACCOUNT_ID", "actor": account_id}
        out.setdefault("authorAccountId", account_id)
    out.pop("actorAccountId", None)
    if out.get("description") is None:
        out["description"] = ""
    return out


def _clean(item: Any) -> Any:
    """Null = absent; server-side ids dropped; empty child lists dropped."""
    if isinstance(item, dict):
        out = {}
        for key, value in item.items():
            if key in ("id", "parentId", "conditionParentId", "connectionId") or value is None:
                continue
            value = _clean(value)
            if key in ("children", "conditions") and value == []:
                continue
            out[key] = value
        return out
    if isinstance(item, list):
        return [_clean(x) for x in item]
    return item


def meaning(rule: dict) -> dict:
    """What a rule means to deskbook: its managed keys, normalised (see the module notes)."""
    view = {k: _clean(rule.get(k)) for k in MANAGED_KEYS}
    view["description"] = rule.get("description") or ""
    scope = rule.get("ruleScopeARIs", rule.get("ruleScope"))
    view["ruleScopeARIs"] = sorted(scope or [])
    view["labels"] = sorted(str(x) for x in rule.get("labels") or [])
    for key, default in RULE_SETTINGS.items():
        if view.get(key) is None:
            view[key] = default
    return view


def differences(desired: dict, existing: dict) -> list[str]:
    """Human-readable differences by meaning between two rules (empty = same)."""
    want, have = meaning(desired), meaning(existing)
    return value_differences(want, have)

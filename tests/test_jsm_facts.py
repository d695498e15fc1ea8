"""Contract test over the sandbox's request log: every automation, request-type and request body
deskbook sends carries what `../shared/jsm/FACTS.md` lists as required, in its shapes.

The requirements are written out here from FACTS.md (not taken from deskbook's own builders), and
checked against what actually went over the wire during an install and a sync run."""

from __future__ import annotations

import re

from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection
from deskbook.connectors.jsm.connector import JsmConnector
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.connectors.jsm.sync_desk import JsmSyncDesk
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library
from deskbook.sync.jobs import settings_from_playbook
from deskbook.sync.ledger import Ledger
from deskbook.sync.runner import run_jobs

#: FACTS.md §2.3: fields every rule write carries (the API refuses a rule without them).
RULE_FIELDS = {"name", "state", "trigger", "components", "ruleScopeARIs", "actor", "authorAccountId",
               "writeAccessType", "canOtherRuleTrigger", "notifyOnError"}
#: FACTS.md §2.4: fields of every node.
NODE_FIELDS = {"component", "type", "schemaVersion", "value"}
RULE_PATH = re.compile(r"/automation/public/jira/[^/]+/rest/v1/rule(/(?!summary$)[^/]+)?(/state)?$")


def nodes(rule: dict):
    stack = [rule["trigger"], *rule["components"]]
    while stack:
        node = stack.pop()
        yield node
        stack += list(node.get("children") or []) + list(node.get("conditions") or [])


def check_rule_write(body: dict) -> list[str]:
    problems = []
    if set(body) != {"rule", "connections"}:
        return [f"not wrapped as {{rule, connections}}: {sorted(body)}"]
    rule = body["rule"]
    problems += [f"rule lacks {f}" for f in sorted(RULE_FIELDS - set(rule))]
    if rule.get("actor", {}).get("type") == "ACCOUNT_ID" and not rule["actor"].get("actor"):
        problems.append("actor without an account id")
    for node in nodes(rule):
        problems += [f"{node.get('type')} lacks {f}" for f in sorted(NODE_FIELDS - set(node))]
        if any(k in node for k in ("id", "parentId", "conditionParentId")):
            problems.append(f"{node['type']} carries server ids")
        if node.get("type") == "jira.jql.condition" and not isinstance(node.get("value"), str):
            problems.append("a JQL condition's value must be the JQL string")
        if node.get("type") == "jira.issue.edit" and "operations" not in (node.get("value") or {}):
            problems.append("an edit takes operations")
        if node.get("type") == "jira.issue.comment" and not isinstance((node.get("value") or {}).get("comment"), str):
            problems.append("a comment is plain text")
        if node.get("type") == "jira.jql.scheduled" and (node["value"].get("schedule") or {}).get("method") != "CRON":
            problems.append("a scheduled trigger needs method CRON")
        # FACTS.md 2.9 and the shapes of §2: created/updated/transitioned carry eventKey and issueEvent;
        # the commented trigger's recorded shape is {eventFilters, eventTypes} (and the sandbox drops more)
        if node.get("type", "").startswith("jira.issue.event.trigger:") and \
                not node["type"].endswith(":commented") and not (
                node["value"].get("eventKey") and node["value"].get("issueEvent")):
            problems.append("an event trigger needs eventKey and issueEvent")
    return problems


def test_every_body_deskbook_sends_has_the_fields_facts_lists(tmp_path):
    playbook = load_playbook(None)
    library = load_library()
    with running_sandbox(seed_orgs=12, seed=3) as sandbox:
        client = JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                                         cloud_id=sandbox.cloud_id))
        connector = JsmConnector(client)
        plan, snapshot = connector.plan_playbook(playbook, library)
        connector.apply(plan, snapshot)
        drifted = sandbox.store.all("rule")[0]  # an admin empties a managed rule: the next apply updates it
        sandbox.store.put("rule", drifted["uuid"], {**drifted, "components": []})
        plan, snapshot = connector.plan_playbook(playbook, library)
        connector.apply(plan, snapshot)
        for org in client.organizations():  # no detail values entered: sync reads the property fallback
            assert client.organization_property(org["id"], CONTRACT_PROPERTY)
        settings = settings_from_playbook(playbook)
        ledger = Ledger(tmp_path / "ledger.sqlite")
        try:
            run_jobs(JsmSyncDesk(client, contract_end_field=settings.contract_end_field,
                                 tier_field=settings.tier_field, playbook_name=playbook.name),
                     ledger, settings, library)
        finally:
            ledger.close()
        log = sandbox.requests()
        forms = {t["id"]: set(t.get("fields", [])) for t in sandbox.store.all("requesttype")}

    problems: list[str] = []
    seen = {"rule create": 0, "rule update": 0, "state": 0, "request type": 0, "request": 0}
    for entry in log:
        method, path, body = entry["method"], entry["path"], entry["json"]
        match = RULE_PATH.search(path)
        if match and method in ("POST", "PUT") and not match.group(2):
            seen["rule create" if method == "POST" else "rule update"] += 1
            problems += [f"{method} {path}: {p}" for p in check_rule_write(body)]
        elif match and match.group(2):
            seen["state"] += 1
            if set(body) != {"value"} or body["value"] not in ("ENABLED", "DISABLED"):  # FACTS.md 2.8
                problems.append(f"PUT {path}: state body {body}")
        elif method == "POST" and path.endswith("/requesttype"):
            seen["request type"] += 1
            if not body.get("issueTypeId") or set(body) - {"name", "issueTypeId", "description", "helpText"}:
                problems.append(f"POST {path}: {body}")  # FACTS.md 3.2
        elif method == "POST" and path == "/rest/servicedeskapi/request":
            seen["request"] += 1
            if "@" in str(body.get("raiseOnBehalfOf", "")):
                problems.append(f"raiseOnBehalfOf is an email: {body['raiseOnBehalfOf']}")  # FACTS.md 4.2
            extra = set(body["requestFieldValues"]) - forms.get(str(body["requestTypeId"]), set())
            if extra:
                problems.append(f"request sets fields not on its type's form: {sorted(extra)}")  # FACTS.md 4.3
    assert problems == []
    assert all(seen.values()), seen  # each kind of body was really sent
    creates = [e for e in log if RULE_PATH.search(e["path"]) and e["method"] == "POST"]
    assert all(e["json"]["rule"]["state"] == "DISABLED" for e in creates)  # created disabled (2.7), then enabled


#: FACTS.md 6.3: an SLA metric write; what a read adds must not be sent back.
SLA_READ_ONLY = {"id", "customFieldId", "timeMetricId", "subGoals", "inconsistent", "projectKey"}
CONDITION_FIELDS = {"pluginKey", "factoryKey", "conditionId", "name"}
GOAL_FIELDS = {"jqlQuery", "duration", "calendarId", "defaultGoal"}
SLA_PATH = re.compile(r"^/rest/servicedesk/1/servicedesk/agent/[^/]+/sla/metrics(/\d+)?$")
CALENDAR_PATH = re.compile(r"^/rest/workinghours/1/api/calendar/[^/]+(/\d+)?$")
QUEUE_PATH = re.compile(r"^/rest/servicedesk/1/servicedesk/(?P<key>[^/]+)/queues(/\d+)?$")


def check_sla_write(body: dict) -> list[str]:
    if set(body) != {"name", "config"}:
        return [f"an SLA metric is {{name, config}}, not {sorted(body)}"]
    config = body["config"]
    problems = [f"SLA config lacks {k}" for k in ("definition", "goals") if k not in config]
    definition = config.get("definition") or {}
    for part in ("start", "pause", "stop"):
        if not isinstance(definition.get(part), list):
            problems.append(f"definition lacks the {part} list")
            continue
        for condition in definition[part]:
            problems += [f"{part} condition lacks {f}" for f in sorted(CONDITION_FIELDS - set(condition))]
            if condition.get("pluginKey") != "com.atlassian.servicedesk":
                problems.append(f"{part} condition plugin {condition.get('pluginKey')}")
    for goal in config.get("goals") or []:
        problems += [f"goal lacks {f}" for f in sorted(GOAL_FIELDS - set(goal))]
        if not isinstance(goal.get("duration"), int) or goal["duration"] % 60_000:
            problems.append(f"goal duration is not whole minutes in ms: {goal.get('duration')}")
        if not isinstance(goal.get("calendarId"), int):
            problems.append(f"goal calendarId is not a calendar's id: {goal.get('calendarId')!r}")
    problems += [f"sends read-only {k}" for k in SLA_READ_ONLY & (set(body) | set(config) | set(definition))]
    return problems


def check_calendar_write(body: dict) -> list[str]:
    problems = [f"calendar lacks {k}" for k in ("name", "timezoneId", "workingTimes", "holidays") if k not in body]
    problems += [f"calendar sends read-only {k}" for k in ("canUpdate", "canDelete", "context", "id") if k in body]
    for slot in body.get("workingTimes") or []:
        if set(slot) != {"weekday", "start", "end"} or not all(isinstance(slot[k], int) for k in ("start", "end")):
            problems.append(f"working time {slot}")
    for holiday in body.get("holidays") or []:
        if set(holiday) != {"name", "iso8601Date", "recurring"}:
            problems.append(f"holiday {holiday}")
    return problems


def test_internal_sla_calendar_and_queue_bodies_have_the_fields_facts_lists():
    """#12 acceptance: every SLA, calendar and queue body an opt-in install, a drift repair and an
    uninstall send carries FACTS.md's fields (6.3, 6.6, 7.2) in its shape."""
    from deskbook.connectors.base import uninstall_plan

    playbook = load_playbook(None)
    library = load_library()
    with running_sandbox() as sandbox:
        client = JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                                         cloud_id=sandbox.cloud_id))
        connector = JsmConnector(client, allow_internal_api=True)
        connector.apply(*connector.plan_playbook(playbook, library))
        for kind, change in (("slametric", {"config": None}), ("calendar", {"timezoneId": "UTC"}),
                             ("queue", {"jql": "project = SUP AND labels = x"})):  # an admin edits one of each
            first = next(d for d in sandbox.store.all(kind) if "deskbook" in d["name"])
            if kind == "slametric":
                change = {"config": {**first["config"], "goals": first["config"]["goals"][:1]}}
            sandbox.store.put(kind, str(first["id"]), {**first, **change})
        repair, snapshot = connector.plan_playbook(playbook, library)
        assert {c.kind for c in repair.changes} == {"sla_metric", "calendar", "queue"}
        connector.apply(repair, snapshot)
        snapshot = connector.populate(playbook.name)
        connector.apply(uninstall_plan(connector, playbook.name, snapshot), snapshot)
        log = sandbox.requests()

    problems: list[str] = []
    seen = {"sla": 0, "calendar": 0, "queue": 0, "queue delete": 0}
    for entry in log:
        method, path, body = entry["method"], entry["path"].split("?")[0], entry["json"]
        if method not in ("POST", "PUT"):
            continue
        if SLA_PATH.match(path):
            seen["sla"] += 1
            problems += [f"{method} {path}: {p}" for p in check_sla_write(body)]
        elif CALENDAR_PATH.match(path):
            seen["calendar"] += 1
            problems += [f"{method} {path}: {p}" for p in check_calendar_write(body)]
        elif QUEUE_PATH.match(path) and set(body) == {"deleted"}:
            seen["queue delete"] += 1  # salto's delete (FACTS.md 7.3), refused here: then the queue is retired
        elif QUEUE_PATH.match(path):
            seen["queue"] += 1
            if set(body) != {"name", "jql", "columns"} or not body["columns"]:
                problems.append(f"{method} {path}: a queue is {{name, jql, columns}}: {sorted(body)}")
            if body["jql"].lower().startswith("project"):  # the server prepends `project = KEY` (7.2)
                problems.append(f"{method} {path}: queue JQL names the project: {body['jql']}")
    assert problems == []
    assert all(seen.values()), seen

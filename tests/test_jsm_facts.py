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
        if node.get("type", "").startswith("jira.issue.event.trigger:") and not (
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

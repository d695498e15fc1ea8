"""The JSM sandbox runs enabled automation rules as Jira Automation documents them (engine.py):
event triggers, JQL/field/comparator conditions, actions recorded in the issue's history,
`canOtherRuleTrigger`, scheduled JQL on a controlled clock, manual invocation, smart values.

Rules are written by hand in FACTS.md §2's shapes (not with deskbook's own builders) and sent
through the public Rule Management API, as a site administrator's script would."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from deskbook.connectors.jsm.sandbox import FakeClock, running_sandbox
from deskbook.connectors.jsm.sandbox.engine import cron_matches
from deskbook.connectors.jsm.sandbox.jql import compile_jql

SD = "/rest/servicedeskapi"
API = "/rest/api/3"
ME = "557058:sandbox-admin"
#: Monday 2 March 2026 01:30 UTC.
START = datetime(2026, 3, 2, 1, 30, tzinfo=timezone.utc).timestamp()


@pytest.fixture()
def site():
    with running_sandbox(clock=FakeClock(START)) as running:
        yield prepared(running)


def prepared(running):
    """A running sandbox with an HTTP session, a request type and a customer (`type_id`, `customer`)."""
    http = requests.Session()
    http.auth = (running.email, running.token)
    running.http = http
    rtype = http.post(f"{running.url}{SD}/servicedesk/1/requesttype", headers={"X-ExperimentalApi": "opt-in"},
                      json={"name": "Fault", "issueTypeId": "10004", "description": "d"}).json()
    running.type_id = rtype["id"]
    customer = http.post(f"{running.url}{SD}/customer", json={"email": "li@example.com", "displayName": "Ms Li"})
    http.post(f"{running.url}{SD}/servicedesk/1/customer", json={"accountIds": [customer.json()["accountId"]]})  # a customer of the desk
    running.customer = customer.json()["accountId"]
    return running


def node(component: str, type_: str, value, version: int = 1) -> dict:
    return {"component": component, "type": type_, "schemaVersion": version, "value": value,
            "children": [], "conditions": []}


def project(site) -> str:
    return f"ari:cloud:jira:{site.cloud_id}:project/10000"


def trigger(site, kind: str, **extra) -> dict:
    if kind == "manual":
        return node("TRIGGER", "jira.manual.trigger.issue", {"groups": []})
    if kind == "scheduled":
        return node("TRIGGER", "jira.jql.scheduled", {
            "schedule": {"method": "CRON", "cronExpression": extra.get("cron", "0 0 * * * ?"), "rate": 0,
                         "rateInterval": 0, "rRule": None},
            "jql": extra["jql"], "executionMode": "jql", "onlyUpdatedIssues": False})
    if kind == "field":
        return node("TRIGGER", "jira.issue.field.changed", {"eventFilters": [project(site)], "changeType": "ANY_CHANGE",
                                                           "fields": [{"type": "fieldName", "value": extra["field"]}],
                                                           "actions": []})
    value = {"eventFilters": [project(site)]}
    if kind == "created":
        value |= {"eventKey": "jira:issue_created", "issueEvent": "issue_created"}
    elif kind == "commented":
        value |= {"eventTypes": []}
    else:
        value |= {"eventKey": "jira:issue_updated", "issueEvent": "issue_generic"}
    if kind == "transitioned":
        value |= {"fromStatus": [], "toStatus": [{"type": "NAME", "value": extra["to"]}]}
    return node("TRIGGER", f"jira.issue.event.trigger:{kind}", value)


def jql(text: str) -> dict:
    return node("CONDITION", "jira.jql.condition", text)


def add_label(*labels: str) -> dict:
    return node("ACTION", "jira.issue.edit", {"operations": [
        {"field": {"type": "ID", "value": "labels"}, "fieldType": "labels", "type": "ADD",
         "value": [{"type": "FREE", "value": label} for label in labels]}], "advancedFields": None,
        "sendNotifications": False})


def comment(text: str, public: bool) -> dict:
    return node("ACTION", "jira.issue.comment", {"comment": text, "publicComment": public, "commentVisibility": None,
                                                "sendNotifications": True, "addCommentOnce": False}, 2)


def install(site, name: str, trig: dict, components: list[dict], *, other_rules: bool = False, enable: bool = True) -> str:
    body = {"rule": {"name": name, "description": "", "state": "DISABLED", "authorAccountId": ME,
                     "actor": {"type": "ACCOUNT_ID", "actor": ME}, "writeAccessType": "UNRESTRICTED",
                     "canOtherRuleTrigger": other_rules, "notifyOnError": "FIRSTERROR", "labels": [],
                     "ruleScopeARIs": [project(site)], "trigger": trig, "components": components},
            "connections": []}
    base = site.automation_url
    made = site.http.post(f"{base}/rule", json=body)
    assert made.status_code == 201, made.text
    uuid = made.json()["ruleUuid"]
    if enable:
        assert site.http.put(f"{base}/rule/{uuid}/state", json={"value": "ENABLED"}).status_code == 200
    return uuid


def raise_request(site, summary: str = "It will not charge") -> str:
    made = site.http.post(f"{site.url}{SD}/request", json={
        "serviceDeskId": "1", "requestTypeId": site.type_id, "raiseOnBehalfOf": site.customer,
        "requestFieldValues": {"summary": summary}})
    assert made.status_code == 201, made.text
    return made.json()["issueKey"]


def issue(site, key: str) -> dict:
    return site.store.get("request", key)


def labels(site, key: str) -> list[str]:
    return issue(site, key)["labels"]


def edit_labels(site, key: str, *add: str) -> None:
    answer = site.http.put(f"{site.url}{API}/issue/{key}", json={"update": {"labels": [{"add": a} for a in add]}})
    assert answer.status_code == 204, answer.text


# ---------------------------------------------------------------- event triggers and conditions

def test_created_trigger_with_a_jql_condition_acts_only_on_matching_new_issues(site):
    install(site, "faults", trigger(site, "created"), [jql('summary ~ "charge"'), add_label("fault")])
    charging = raise_request(site, "It will not charge")
    other = raise_request(site, "Invoice copy")
    assert labels(site, charging) == ["fault"]
    assert labels(site, other) == []
    history = issue(site, charging)["changelog"]
    assert history[-1]["author"] == ME
    assert history[-1]["items"][0]["field"] == "labels" and history[-1]["items"][0]["toString"] == "fault"


def test_a_disabled_rule_never_runs(site):
    install(site, "off", trigger(site, "created"), [add_label("x")], enable=False)
    assert labels(site, raise_request(site)) == []


def test_updated_fires_on_field_edits_not_on_comments_or_transitions(site):
    install(site, "on update", trigger(site, "updated"), [jql("labels is EMPTY OR labels not in (seen)"),
                                                         add_label("seen")])
    key = raise_request(site)
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "hello", "public": True})
    site.http.post(f"{site.url}{API}/issue/{key}/transitions", json={"transition": {"id": "21"}})
    assert labels(site, key) == []
    edit_labels(site, key, "vip")
    assert labels(site, key) == ["vip", "seen"]


def test_commented_trigger_tells_public_replies_from_internal_notes(site):
    public_only = node("CONDITION", "jira.comparator.condition",
                       {"first": "{{comment.internal}}", "second": "false", "operator": "EQUALS"})
    install(site, "public reply", trigger(site, "commented"), [public_only, add_label("customer_updated")])
    key = raise_request(site)
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "checking logs", "public": False})
    assert labels(site, key) == []
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "the part ships today", "public": True})
    assert labels(site, key) == ["customer_updated"]


def test_a_comment_body_condition_catches_a_public_agent_reply_in_any_case_and_nothing_else(site):
    conditions = [node("CONDITION", "jira.comparator.condition", value) for value in (
        {"first": "{{comment.internal}}", "second": "false", "operator": "EQUALS"},
        {"first": "{{comment.author.accountId}}", "second": "{{issue.reporter.accountId}}", "operator": "NOT_EQUALS"},
        {"first": "{{comment.body.toLowerCase()}}", "second": "not our fault", "operator": "CONTAINS"})]
    install(site, "guard", trigger(site, "commented"), [*conditions, add_label("caught")])
    chinese = [*conditions[:2], node("CONDITION", "jira.comparator.condition",
                                     {"first": "{{comment.body.toLowerCase()}}", "second": "不是我们的责任",
                                      "operator": "CONTAINS"})]
    install(site, "guard zh", trigger(site, "commented"), [*chinese, add_label("caught_zh")])
    key = raise_request(site)
    as_customer = {"X-Deskbook-Sandbox-Act-As": site.customer}
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "It is NOT OUR FAULT?", "public": True},
                   headers=as_customer)
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "not our fault, says the courier",
                                                                   "public": False})
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "We ship a new one today", "public": True})
    assert labels(site, key) == []
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "That is Not Our Fault.", "public": True})
    assert labels(site, key) == ["caught"]
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "配件损坏不是我们的责任。", "public": True})
    assert labels(site, key) == ["caught", "caught_zh"]


def test_transitioned_trigger_filters_on_the_destination_status(site):
    install(site, "resolved", trigger(site, "transitioned", to="Resolved"), [add_label("resolved_once")])
    key = raise_request(site)
    site.http.post(f"{site.url}{API}/issue/{key}/transitions", json={"transition": {"id": "21"}})
    assert labels(site, key) == []
    site.http.post(f"{site.url}{API}/issue/{key}/transitions", json={"transition": {"id": "51"}})
    assert labels(site, key) == ["resolved_once"]
    statuses = [i for entry in issue(site, key)["changelog"] for i in entry["items"] if i["field"] == "status"]
    assert [(i["fromString"], i["toString"]) for i in statuses] == [("Waiting for support", "Work in progress"),
                                                                   ("Work in progress", "Resolved")]


def test_field_value_changed_trigger_and_a_field_condition(site):
    high = node("CONDITION", "jira.issue.condition", {"selectedField": {"type": "ID", "value": "priority"},
                                                      "selectedFieldType": "priority", "comparison": "EQUALS",
                                                      "compareValue": {"type": "NAME", "value": "High"}})
    install(site, "priority", trigger(site, "field", field="Priority"), [high, add_label("hot")])
    key = raise_request(site)
    edit_labels(site, key, "vip")
    assert labels(site, key) == ["vip"]
    site.http.put(f"{site.url}{API}/issue/{key}", json={"fields": {"priority": {"name": "Low"}}})
    assert labels(site, key) == ["vip"]
    site.http.put(f"{site.url}{API}/issue/{key}", json={"fields": {"priority": {"name": "High"}}})
    assert labels(site, key) == ["vip", "hot"]


def test_a_failing_condition_stops_the_rule_before_later_actions(site):
    install(site, "two steps", trigger(site, "created"), [add_label("first"), jql("labels = nothing"), add_label("second")])
    assert labels(site, raise_request(site)) == ["first"]


# ---------------------------------------------------------------- canOtherRuleTrigger

@pytest.mark.parametrize("allowed", [False, True])
def test_rules_react_to_other_rules_only_when_they_allow_it(site, allowed):
    install(site, "tagger", trigger(site, "created"), [add_label("triaged")])
    install(site, "follower", trigger(site, "updated"), [jql("labels = triaged"), add_label("followed")],
            other_rules=allowed)
    key = raise_request(site)
    assert ("followed" in labels(site, key)) is allowed
    other = raise_request(site)  # an agent's own edit triggers it either way
    site.http.put(f"{site.url}{API}/issue/{other}", json={"update": {"labels": [{"add": "x"}]}})
    assert "followed" in labels(site, other)


def test_rules_that_keep_triggering_each_other_are_stopped(site):
    flip = node("ACTION", "jira.issue.edit", {"operations": [
        {"field": {"type": "ID", "value": "summary"}, "fieldType": "summary", "type": "SET",
         "value": {"type": "FREE", "value": "x{{issue.summary}}"}}], "advancedFields": None, "sendNotifications": False})
    install(site, "loop", trigger(site, "updated"), [flip], other_rules=True)
    key = raise_request(site, "s")
    edit_labels(site, key, "go")
    summary = issue(site, key)["summary"]
    assert summary.endswith("s") and 2 <= len(summary) <= 12  # ran, then loop detection stopped it
    assert any(a["status"] == "LOOP" for a in site.app.automation.audit)


# ---------------------------------------------------------------- scheduled rules and the clock

def test_scheduled_jql_rule_runs_on_the_hour_over_what_its_query_finds_on_the_sandbox_clock(site):
    install(site, "overdue", trigger(site, "scheduled", jql='created <= -24h AND (labels is EMPTY OR labels not in (overdue))'),
            [add_label("overdue"), comment("Still on it, {{reporter.displayName}}.", True)])
    key = raise_request(site)
    site.pass_time(23 * 3600)
    assert labels(site, key) == []
    site.pass_time(30 * 60)  # 24.5 h old at 02:00 next day: the hourly run at 02:00 finds it
    assert labels(site, key) == []
    site.pass_time(60 * 60)
    assert labels(site, key) == ["overdue"]
    comments = issue(site, key)["comments"]
    assert [(c["body"], c["public"]) for c in comments] == [("Still on it, Ms Li.", True)]
    assert comments[0]["created"].startswith("2026-03-03T02:00")
    site.pass_time(5 * 3600)
    assert len(issue(site, key)["comments"]) == 1  # the JQL no longer finds it


def test_the_clock_endpoint_runs_scheduled_rules_too(site):
    install(site, "every 15 min", trigger(site, "scheduled", jql="project = SUP", cron="0 0/15 * * * ?"),
            [add_label("seen")])
    key = raise_request(site)
    answer = site.http.post(f"{site.url}/sandbox/clock", json={"advance_seconds": 10 * 60})
    assert answer.status_code == 200 and answer.json()["scheduled_runs"] == 0
    answer = site.http.post(f"{site.url}/sandbox/clock", json={"advance_seconds": 10 * 60})
    assert answer.json()["scheduled_runs"] == 1 and labels(site, key) == ["seen"]


def test_the_clock_endpoint_refuses_time_that_cannot_pass(site):
    """Time passes forward by a finite number of seconds: a negative, NaN or infinite advance is a 400
    (NaN and infinity would otherwise never reach the end of the minute loop)."""
    before = site.store.now()
    for raw in (b'{"advance_seconds": -60}', b'{"advance_seconds": NaN}', b'{"advance_seconds": 1e400}',
                b'{"advance_seconds": "inf"}'):
        answer = site.http.post(f"{site.url}/sandbox/clock", data=raw, headers={"Content-Type": "application/json"},
                                timeout=10)
        assert answer.status_code == 400, raw
    assert site.store.now() == before


def test_quartz_cron_fields():
    at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
    assert cron_matches("0 0 * * * ?", at)
    assert not cron_matches("0 0 * * * ?", at.replace(minute=1))
    assert cron_matches("0 0 8-10 ? * MON-FRI", at)
    assert not cron_matches("0 0 8-10 ? * SAT,SUN", at)
    assert cron_matches("0 0/15 9 * * ?", at.replace(minute=45))


# ---------------------------------------------------------------- manual rules, actions, smart values

def test_manual_rule_invoked_on_an_issue_comments_transitions_and_renders_smart_values(site):
    uuid = install(site, "greet", trigger(site, "manual"), [
        comment("Hello {{reporter.displayName}}, this is {{initiator.displayName}} about {{issue.key}}: "
                "{{issue.url.customer}}{{no.such.value}}", True),
        node("ACTION", "jira.issue.transition", {"destinationStatus": {"type": "NAME", "value": "Work in progress"},
                                                 "operations": [], "advancedFields": None, "sendNotifications": False,
                                                 "transitionMatch": None}),
        comment("internal: greeted", False)])
    key = raise_request(site)
    answer = site.http.post(f"{site.automation_url}/rule/manual/{uuid}/invocation",
                            json={"objects": [f"ari:cloud:jira:{site.cloud_id}:issue/{issue(site, key)['id']}"]})
    assert answer.status_code == 204, answer.text
    stored = issue(site, key)
    assert stored["status"] == "Work in progress"
    public = [c["body"] for c in stored["comments"] if c["public"]]
    assert public == [f"Hello Ms Li, this is Sandbox Admin about {key}: {site.url}/servicedesk/customer/portal/1/{key}"]
    assert [c["body"] for c in stored["comments"] if not c["public"]] == ["internal: greeted"]
    changelog = site.http.get(f"{site.url}{API}/issue/{key}/changelog").json()
    assert [i["toString"] for v in changelog["values"] for i in v["items"] if i["field"] == "status"] == ["Work in progress"]


def test_an_if_else_block_runs_its_first_matching_branch_and_the_rule_goes_on(site):
    """FACTS.md §2's recorded if/else: a container of if-blocks; the first whose conditions hold runs,
    a block without conditions is the else. Transitioning to the status an issue is in has no valid
    transition (an error in Jira's audit log), so deskbook guards its transitions with such a block."""
    to_work = node("ACTION", "jira.issue.transition", {"destinationStatus": {"type": "NAME", "value": "Work in progress"},
                                                       "operations": [], "advancedFields": None,
                                                       "sendNotifications": False, "transitionMatch": None})
    guarded = dict(node("CONDITION_BLOCK", "jira.condition.if.block", {"conditionMatchType": "ALL"}),
                   conditions=[jql('status != "Work in progress"')], children=[to_work])
    otherwise = dict(node("CONDITION_BLOCK", "jira.condition.if.block", {"conditionMatchType": "ALL"}),
                     children=[add_label("was_in_progress")])
    container = dict(node("CONDITION", "jira.condition.container.block", {}), children=[guarded, otherwise])
    uuid = install(site, "take", trigger(site, "manual"), [container, add_label("taken")])
    key = raise_request(site)
    for _ in range(2):
        answer = site.http.post(f"{site.automation_url}/rule/manual/{uuid}/invocation", json={"objects": [key]})
        assert answer.status_code == 204, answer.text
        assert site.app.automation.audit[-1]["status"] == "SUCCESS"
    assert issue(site, key)["status"] == "Work in progress"
    assert labels(site, key) == ["taken", "was_in_progress"]


def test_only_enabled_manual_rules_can_be_invoked(site):
    event_rule = install(site, "auto", trigger(site, "created"), [])
    off = install(site, "off", trigger(site, "manual"), [add_label("x")], enable=False)
    key = raise_request(site)
    for uuid in (event_rule, off):
        answer = site.http.post(f"{site.automation_url}/rule/manual/{uuid}/invocation", json={"objects": [key]})
        assert answer.status_code == 400
    assert labels(site, key) == []


def test_an_impossible_action_is_audited_and_does_not_fail_the_api_call(site):
    install(site, "bad", trigger(site, "created"), [
        node("ACTION", "jira.issue.transition", {"destinationStatus": {"type": "NAME", "value": "Nowhere"},
                                                 "operations": [], "advancedFields": None, "sendNotifications": False,
                                                 "transitionMatch": None}), add_label("after")])
    key = raise_request(site)
    assert labels(site, key) == []
    assert site.app.automation.audit[-1]["status"] == "FAILURE"
    assert "Nowhere" in site.app.automation.audit[-1]["message"]


def test_a_customer_comment_is_public_authored_by_the_customer_and_triggers_rules(site):
    install(site, "customer replied", trigger(site, "commented"),
            [node("CONDITION", "jira.comparator.condition", {"first": "{{comment.author.accountId}}",
                                                              "second": site.customer, "operator": "EQUALS"}),
             add_label("customer_replied")])
    key = raise_request(site)
    answer = site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "Any news?", "public": True},
                            headers={"X-Deskbook-Sandbox-Act-As": site.customer})
    assert answer.status_code == 201
    assert labels(site, key) == ["customer_replied"]
    assert issue(site, key)["comments"][-1]["author"] == site.customer


def test_a_customer_reply_moves_a_request_out_of_waiting_for_customer_and_an_agent_reply_does_not(site):
    """The reopen rule deskbook installs (`translate.customer_reply_rule`), written by hand: Atlassian
    documents `{{comment.author}}` and `{{reporter}}` as user smart values with `accountId`."""
    by_reporter = node("CONDITION", "jira.comparator.condition", {"first": "{{comment.author.accountId}}",
                                                                   "second": "{{reporter.accountId}}",
                                                                   "operator": "EQUALS"})
    install(site, "customer replied", trigger(site, "commented"),
            [by_reporter, jql('status in ("Waiting for customer", "Resolved")'),
             node("ACTION", "jira.issue.transition", {"destinationStatus": {"type": "NAME", "value": "Work in progress"},
                                                      "operations": [], "advancedFields": None,
                                                      "sendNotifications": False, "transitionMatch": None})])
    key = raise_request(site)
    as_customer = {"X-Deskbook-Sandbox-Act-As": site.customer}
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "Any news?", "public": True},
                   headers=as_customer)
    assert issue(site, key)["status"] == "Waiting for support"  # not waiting for the customer: nothing to do
    site.http.post(f"{site.url}{API}/issue/{key}/transitions", json={"transition": {"id": "11"}})
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "Please try the other cable", "public": True})
    assert issue(site, key)["status"] == "Waiting for customer"  # the agent's own reply leaves it there
    site.http.post(f"{site.url}{SD}/request/{key}/comment", json={"body": "Done, it charges now", "public": True},
                   headers=as_customer)
    assert issue(site, key)["status"] == "Work in progress"
    assert issue(site, key)["changelog"][-1]["author"] == ME  # by the rule's actor


def test_rules_can_be_switched_off_for_a_sandbox():
    """With `run_rules=False` enabled rules are stored and never run: no event rule, no scheduled one."""
    with running_sandbox(run_rules=False, clock=FakeClock(START)) as running:
        site = prepared(running)
        install(site, "on create", trigger(site, "created"), [add_label("created")])
        install(site, "hourly", trigger(site, "scheduled", jql="project = SUP", cron="0 0 * * * ?"),
                [add_label("hourly")])
        key = raise_request(site)
        assert site.pass_time(2 * 3600) == 0
        assert labels(site, key) == [] and running.app.automation.enabled is False


# ---------------------------------------------------------------- JQL as Jira evaluates it

def test_not_equals_and_not_in_never_match_an_empty_field_as_jira_documents():
    bare = {"key": "SUP-1", "id": "1", "projectKey": "SUP", "projectId": "10000", "labels": [], "status": "Pending",
            "priority": "Medium", "properties": {}}
    tagged = {**bare, "labels": ["a"]}
    assert not compile_jql('labels != "x"')(bare)
    assert not compile_jql('labels not in ("x")')(bare)
    assert compile_jql('labels is EMPTY OR labels not in ("x")')(bare)
    assert compile_jql('labels not in ("x")')(tagged)
    assert compile_jql('priority = High OR status = Pending AND NOT labels = a')(bare)  # AND before OR
    assert not compile_jql('(priority = High OR status = Pending) AND labels = a')(bare)


def test_assign_action_sets_the_assignee_and_records_it(site):
    install(site, "assign", trigger(site, "created"), [
        node("ACTION", "jira.issue.assign", {"assignType": "SPECIFY_USER", "assignee": {"type": "ID", "value": ME},
                                             "smartValue": None, "fieldId": None, "restrictToGroup": None,
                                             "restrictToRole": None})])
    key = raise_request(site)
    assert issue(site, key)["assignee"] == ME
    site.pass_time(60)  # JQL search lags writes (FACTS.md 8.2)
    found = site.http.post(f"{site.url}{API}/search/jql", json={"jql": f"assignee = \"{ME}\"", "fields": ["summary"]})
    assert [i["key"] for i in found.json()["issues"]] == [key]
    items = [i for entry in issue(site, key)["changelog"] for i in entry["items"]]
    assert [(i["field"], i["toString"]) for i in items] == [("assignee", ME)]

"""The JSM connector against the sandbox: plan → apply → plan is empty; uninstall; SLA notes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deskbook.connectors.base import uninstall_plan
from deskbook.connectors.jsm import automation
from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.client import JsmClient, JsmConnection
from deskbook.connectors.jsm.connector import REMOVED_PREFIX, JsmConnector
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.errors import DeskbookError
from deskbook.http import DeskSession
from deskbook.playbooks import model as m
from deskbook.scripts_library import load_library, render_for_desk


def L(zh: str, en: str) -> m.Localized:
    return m.Localized({"zh-CN": zh, "en": en}, "zh-CN")


def C(field, operator, value=None):
    return m.Condition(field, operator, value)


def playbook() -> m.Playbook:
    meta = m.Metadata("jsm-sample", "1", L("样例", "Sample"), L("样例", "Sample"), ("zh-CN", "en"), "zh-CN",
                      "Asia/Shanghai", (m.BusinessHours(("mon", "tue"), "09:00", "18:00"),))
    categories = (
        m.Category("billing", L("账务", "Billing"), L("账务问题", "Billing questions"), subcategories=(
            m.Category("refund", L("退款", "Refund"), L("退款", "Refund")),)),
        m.Category("technical", L("技术", "Technical"), L("技术问题", "Technical")),
    )
    macros = (
        m.Macro("greeting", "S-2", L("问候", "Greeting"), L("问候客户", "Greet"), m.Comment("greeting"),
                actions=(m.Action("status", "open"),)),
        m.Macro("escalate", "S-7", L("升级", "Escalate"), L("升级处理", "Escalate"),
                m.Comment("escalation_notice", public=False),
                actions=(m.Action("priority", "urgent"), m.Action("add_tags", ["escalated"]),
                         m.Action("group", "complaints"))),
    )
    triggers = (
        m.Trigger("route_billing", L("账务分派", "Route billing"), L("账务请求", "Billing"), "routing",
                  m.Conditions(all=(C("via_update", "is", "created"), C("category", "is", "billing"))),
                  (m.Action("group", "complaints"),), comment=m.Comment("greeting")),
    )
    automations = (
        m.Automation("progress", L("进度提醒", "Progress"), L("24小时未更新", "No update 24h"),
                     m.Conditions(all=(C("status", "is", "open"), C("hours_since_agent_update", "greater_than", 24))),
                     (m.Action("add_tags", ["progress_reminded"]),),
                     comment=m.Comment("progress_update", public=False)),  # [ETA] is for the agent only
    )
    slas = (m.SLAPolicy("standard", L("标准", "Standard"), L("标准时限", "Standard"), m.Conditions(),
                        (m.SLATarget("first_reply_time", "urgent", 30), m.SLATarget("first_reply_time", "normal", 240))),)
    sync = m.SyncSchedule("09:00", 30, 7, "contract_end_date", "tier", (m.SyncJob("renewals", "support", "renewal_reminder"),))
    return m.Playbook(path="jsm-sample.yaml", metadata=meta, groups=(), fields=(), categories=categories, tiers=(),
                      trigger_categories=(("routing", L("分派", "Routing")),), macros=macros, triggers=triggers,
                      automations=automations, sla_policies=slas, views=(), sync=sync, forbidden_phrases={},
                      stages=(("S-2", L("受理", "Intake")), ("S-7", L("升级", "Escalation"))),
                      constants=m.Constants(company_name=L("样例服务", "Sample Service"), department=L("客服部", "Service")))


@pytest.fixture(scope="module")
def library():
    return load_library()


def connector_for(sandbox, **options) -> JsmConnector:
    connection = JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token, cloud_id=sandbox.cloud_id)
    session = DeskSession(sandbox.url, auth=(sandbox.email, sandbox.token), sleep=lambda s: None)
    return JsmConnector(JsmClient(connection, session=session), **options)


def test_translation_request_types_rules_markers_and_smart_values(library):
    desired = tr.desired_objects(playbook(), library, project_ari="ari:cloud:jira:c:project/10000")
    by_key = {d.key: d for d in desired}
    assert by_key["category.refund"].payload["name"] == "账务: 退款"
    assert by_key["category.billing"].payload["helpText"] == "en: Billing"
    escalate = by_key["macro.escalate"].payload
    assert escalate["trigger"]["type"] == "jira.manual.trigger.issue"
    comment = escalate["components"][0]["value"]
    assert comment["publicComment"] is False
    assert comment["comment"] == render_for_desk(library, "escalation_notice", "zh-CN", "jsm",
                                                 constants=playbook().constants.values("zh-CN"))
    edit = next(c for c in escalate["components"] if c["type"] == "jira.issue.edit")
    assert edit["value"]["operations"] == [  # FACTS.md §2: `operations`, not `fields`/`update`
        {"field": {"type": "ID", "value": "priority"}, "fieldType": "priority", "type": "SET",
         "value": {"type": "NAME", "value": "Highest"}},
        {"field": {"type": "ID", "value": "labels"}, "fieldType": "labels", "type": "ADD",
         "value": [{"type": "FREE", "value": "escalated"}, {"type": "FREE", "value": "group-complaints"}]}]
    route = by_key["trigger.route_billing"].payload
    assert route["trigger"]["type"] == "jira.issue.event.trigger:created"
    assert route["trigger"]["value"] == {"eventFilters": ["ari:cloud:jira:c:project/10000"],
                                         "eventKey": "jira:issue_created", "issueEvent": "issue_created"}
    # the category: a re-classifying rule's label, else the request type (without such a label)
    assert route["components"][0]["value"] == (
        'project = SUP AND (labels in ("category-billing", "category-refund") OR ("Request Type" in ("账务", '
        '"账务: 退款") AND (labels is EMPTY OR labels not in ("category-billing", "category-refund", '
        '"category-technical"))))')
    progress = by_key["automation.progress"].payload
    assert progress["trigger"]["value"]["jql"] == 'project = SUP AND status = "Work in progress" AND updated <= -24h'
    assert progress["trigger"]["value"]["schedule"]["method"] == "CRON"
    for d in desired:
        if d.kind == "automation_rule":
            nodes = [d.payload["trigger"], *d.payload["components"]]
            assert all({"component", "type", "schemaVersion", "value"} <= set(n) for n in nodes)
    for d in desired:  # request types: in the owner property, the portal shows their description to customers
        if d.kind == "request_type":
            assert tr.request_type_owner(d.payload) == ("jsm-sample", d.key)
            assert tr.parse_marker(d.payload["description"]) is None
        else:
            assert tr.parse_marker(d.payload["description"]) == ("jsm-sample", d.key)
    assert not any(d.kind == "sla_metric" for d in desired)
    statuses = {"Waiting for customer": "10002", "Pending": "10003"}
    with_sla = tr.desired_objects(playbook(), library, project_ari="a", allow_internal_api=True, status_ids=statuses)
    metric = next(d for d in with_sla if d.kind == "sla_metric").payload
    # FACTS.md 6.3 (salto's metric shape): the config also carries the display format JSM's UI uses
    assert set(metric) == {"name", "config"} and set(metric["config"]) == {"definition", "goals", "slaDisplayFormat"}
    assert metric["config"]["slaDisplayFormat"] == "NEW_SLA_FORMAT"
    assert tr.parse_marker(metric["name"]) == ("jsm-sample", "sla.first_reply_time")
    assert [(g["duration"], g["calendarId"], g["defaultGoal"]) for g in metric["config"]["goals"]] == [
        (30 * 60_000, "{ref:calendar:calendar.business_hours}", False), (240 * 60_000, "{ref:calendar:calendar.business_hours}", False)]
    assert [c["conditionId"] for c in metric["config"]["definition"]["start"]] == ["issue-created-hit-condition"]
    calendar = next(d for d in with_sla if d.kind == "calendar").payload
    assert calendar["timezoneId"] == "Asia/Shanghai" and tr.parse_marker(calendar["name"])[1] == "calendar.business_hours"
    assert calendar["workingTimes"] == [{"weekday": d, "start": 9 * 3_600_000, "end": 18 * 3_600_000}
                                        for d in ("monday", "tuesday")]


def test_plan_apply_plan_is_empty_and_uninstall_leaves_unmanaged_objects(shared, library):
    # rule_delete=False: a site without DELETE /rule/{uuid} (the 2025 spec), so "delete" disables and renames
    with running_sandbox(spec=shared / "jsm", rule_delete=False) as sandbox:
        connector = connector_for(sandbox)
        client = connector.client
        unmanaged_type = client.create_request_type("Walk-in", "made by hand")
        unmanaged_rule = client.create_rule({"name": "Hand-made rule", "trigger": automation.manual_trigger(),
                                             "components": [], "ruleScopeARIs": [client.project_ari]})
        pb = playbook()
        plan, snapshot = connector.plan_playbook(pb, library)
        assert plan.has_changes
        assert plan.summary()["create"] == 4 + 3 + 1 + 2 + 1 + 1 + 1  # detail fields, categories, sync type, macros, trigger, automation, customer reply
        assert any(n.startswith("contract data: Customer Service Management") for n in plan.notes)
        assert any("Time to first response" in note and "30 min" in note for note in plan.notes)
        connector.guard(plan, snapshot)
        connector.apply(plan, snapshot)
        again, _ = connector.plan_playbook(pb, library)
        assert not again.has_changes, [c.to_json() for c in again.changes]
        rules = {r["name"]: r for r in client.rule_summaries()}
        assert rules["S-7 升级 / 升级"]["state"] == "ENABLED"
        # drift: someone edits a managed rule by hand -> the plan updates it back
        uuid = rules["S-2 受理 / 问候"]["uuid"]
        edited = client.rule(uuid)
        client.update_rule(uuid, {**edited, "components": []})
        drift, snap = connector.plan_playbook(pb, library)
        assert [(c.action, c.key) for c in drift.changes] == [("update", "macro.greeting")]
        connector.apply(drift, snap)
        removal, snap = connector.plan_playbook(pb, library)
        gone = uninstall_plan(connector, pb.name, snap)
        assert {c.action for c in gone.changes} == {"delete"} and len(gone.changes) == 9
        connector.apply(gone, snap)
        assert [t["name"] for t in client.request_types()] == ["Walk-in"]
        assert client.request_types()[0]["id"] == unmanaged_type["id"]
        after = client.rule_summaries()
        assert client.rule(unmanaged_rule)["name"] == "Hand-made rule"
        retired = [r for r in after if r["uuid"] != unmanaged_rule]
        assert retired and all(r["state"] == "DISABLED" and r["name"].startswith(REMOVED_PREFIX) for r in retired)
        assert not any(tr.parse_marker(r.get("description")) for r in after)
        assert sandbox.violations() == []


def test_internal_sla_api_installs_goals_only_when_allowed(library):
    with running_sandbox() as sandbox:
        connector = connector_for(sandbox, allow_internal_api=True)
        plan, snapshot = connector.plan_playbook(playbook(), library)
        assert any(c.kind == "sla_metric" for c in plan.changes)
        assert any("internal endpoints" in note for note in plan.notes)
        connector.apply(plan, snapshot)
        metrics = connector.client.sla_metrics()
        assert [m_["name"] for m_ in metrics] == ["Time to first response (样例) [deskbook:jsm-sample:sla.first_reply_time]"]
        sent = [r["json"] for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/sla/metrics")]
        assert [b["config"]["slaDisplayFormat"] for b in sent] == ["NEW_SLA_FORMAT"]  # salto's shape, FACTS.md 6.3
        again, _ = connector.plan_playbook(playbook(), library)
        assert not again.has_changes
        # how the UI shows an SLA is not the playbook's: another format (or none, an older install) is no change
        stored = sandbox.store.get("slametric", str(metrics[0]["id"]))
        sandbox.store.put("slametric", str(metrics[0]["id"]), {**stored, "config": {**stored["config"], "slaDisplayFormat": "OLD_SLA_FORMAT"}})
        assert not connector.plan_playbook(playbook(), library)[0].has_changes
    with running_sandbox() as sandbox:
        connector = connector_for(sandbox)
        plan, snapshot = connector.plan_playbook(playbook(), library)
        connector.apply(plan, snapshot)
        internal_paths = ("/rest/servicedesk/1/", "/rest/workinghours/")
        assert not any(r["path"].startswith(internal_paths) and r["method"] != "GET" for r in sandbox.requests())
        assert connector.client.sla_metrics() == []


def with_view(pb):
    view = m.View("billing_open", L("账务待办", "Billing open"), L("未解决的账务请求", "Open billing requests"),
                  m.Conditions(all=(C("status", "less_than", "solved"), C("category", "is", "billing"))),
                  columns=("subject", "requester", "priority", "updated"), sort_by="updated", sort_order="asc")
    return dataclasses.replace(pb, views=(view,))


def test_the_opt_in_is_remembered_by_plain_plans_and_uninstall(library):
    """#12 item 5: what --allow-internal-api installed carries the marker and is seen by every later plan
    and uninstall, flag or not; only the flag writes there."""
    pb = with_view(playbook())
    with running_sandbox() as sandbox:
        flagged = connector_for(sandbox, allow_internal_api=True)
        plan, snapshot = flagged.plan_playbook(pb, library)
        assert {c.kind for c in plan.changes} >= {"calendar", "sla_metric", "queue"}
        flagged.apply(plan, snapshot)
        again, _ = flagged.plan_playbook(pb, library)
        assert not again.has_changes, [str(c) for c in again.changes]
        plain = connector_for(sandbox)
        quiet, _ = plain.plan_playbook(pb, library)
        assert not quiet.has_changes, [str(c) for c in quiet.changes]
        assert not any("is not installed" in n or n.startswith('Calendar "business hours"') for n in quiet.notes)
        [note] = [n for n in quiet.notes if "installed earlier with --allow-internal-api" in n]
        assert "managed only with the flag" in note and "they match the playbook" in note
        assert '"Time to first response (样例)"' in note and '"账务待办"' in note
        queue = next(q for q in flagged.client.queues() if tr.parse_marker(q["name"]))
        assert queue["jql"] == ('project = SUP AND status in ("Waiting for support", "Work in progress", '
                                '"Waiting for customer", "Pending") AND (labels in ("category-billing", "category-refund") '
                                'OR ("Request Type" in ("账务", "账务: 退款") AND (labels is EMPTY OR labels not in '
                                '("category-billing", "category-refund", "category-technical")))) ORDER BY updated ASC')
        # a changed goal: the plain plan says so and still writes nothing
        changed = dataclasses.replace(pb, sla_policies=tuple(dataclasses.replace(
            p, targets=tuple(dataclasses.replace(t, minutes=t.minutes + 5) for t in p.targets)) for p in pb.sla_policies))
        stale, _ = plain.plan_playbook(changed, library)
        assert not stale.has_changes and any("1 differ from the playbook" in n for n in stale.notes)
        updated, snap = flagged.plan_playbook(changed, library)
        assert [(c.action, c.kind) for c in updated.changes] == [("update", "sla_metric")]
        # uninstall without the flag: leaves them and says exactly what
        leaving = plain.plan("jsm-sample", [], plain.populate("jsm-sample"))
        assert not any(c.kind in ("calendar", "sla_metric", "queue") for c in leaving.changes)
        [left] = [n for n in leaving.notes if n.startswith("uninstall leaves")]
        assert '"Time to first response (样例)"' in left and '"账务待办"' in left and "--allow-internal-api" in left
        # with the flag: metrics and calendars deleted, the queue retired (the sandbox has no queue delete)
        removal = flagged.plan("jsm-sample", [], flagged.populate("jsm-sample"))
        flagged.apply(removal, flagged.populate("jsm-sample"))
        assert flagged.client.sla_metrics() == []
        assert [c["name"] for c in flagged.client.calendars()] == ["24/7 Calendar (Default)"]
        [retired] = flagged.client.queues()
        assert retired["name"] == "[removed] 账务待办" and retired["jql"] == "project = SUP AND issuekey is EMPTY"
        assert not flagged.plan_playbook(pb, library)[0].changes == []  # a fresh install would make them again


def test_apply_converges_under_faults(library):
    with running_sandbox(fault_rate=0.2, seed=11) as sandbox:
        connector = connector_for(sandbox)
        plan, snapshot = connector.plan_playbook(playbook(), library)
        connector.apply(plan, snapshot)
        again, _ = connector.plan_playbook(playbook(), library)
        assert not again.has_changes
        names = [t["name"] for t in connector.client.request_types()]
        assert len(names) == len(set(names)) == 4  # 3 categories + 1 sync job type


def with_escalated_policy(pb: m.Playbook) -> m.Playbook:
    """The sample playbook with a narrow policy before its standard one: escalated requests, 15 minutes."""
    escalated = m.SLAPolicy("escalated", L("升级", "Escalated"), L("升级后", "Escalated"),
                            m.Conditions(all=(C("tags", "includes", ["escalated"]),)),
                            tuple(m.SLATarget("first_reply_time", p, 15) for p in m.PRIORITIES))
    return dataclasses.replace(pb, sla_policies=(escalated, *pb.sla_policies))


def install_one_metric_per_policy(client: JsmClient, pb: m.Playbook) -> list[str]:
    """What `--allow-internal-api` installed before #11: one SLA metric per policy and metric (name `<SLA>
    (<policy title>)`, marker key `sla.<policy>.<metric>`), a goal per target; the calendar is the one
    installed. Returns the marker keys."""
    from deskbook.connectors.jsm import internal

    calendar = next(c for c in client.calendars() if (tr.parse_marker(c["name"]) or ("", ""))[1] == tr.BUSINESS_CALENDAR_KEY)
    statuses = client.statuses()
    keys = []
    for policy in pb.sla_policies:
        scope = tr.conditions_jql(pb, policy.filter, "SUP")
        for metric in dict.fromkeys(t.metric for t in policy.targets):
            key = f"sla.{policy.key}.{metric}"
            goals = [internal.goal(f'{scope} AND priority = "{tr.PRIORITY_NAMES[t.priority]}"', t.minutes,
                                   tr.BUSINESS_CALENDAR_KEY) for t in policy.targets if t.metric == metric]
            body = internal.metric_body(tr.with_marker(f"{tr.SLA_NAMES[metric]} ({policy.title.get('zh-CN')})", pb, key),
                                        internal.definition(metric, statuses), goals)
            client.create_sla_metric(internal.resolve_refs(body, {("calendar", tr.BUSINESS_CALENDAR_KEY): calendar["id"]}))
            keys.append(key)
    return keys


def test_an_install_of_one_metric_per_policy_migrates_to_one_metric_per_target_type(library):
    """#11: installs made before one metric per target type hold one metric per policy, so an escalated
    request runs the escalated and the standard goal side by side. The flag's plan deletes those and
    creates the new one; after apply the plan is empty, flag or not; a plain plan only lists and holds
    them; uninstall with the flag removes the metric."""
    pb = with_escalated_policy(playbook())
    with running_sandbox() as sandbox:
        flagged = connector_for(sandbox, allow_internal_api=True)
        plan, snapshot = flagged.plan_playbook(pb, library)
        flagged.apply(plan, snapshot)
        client = flagged.client
        for metric in client.sla_metrics():
            client.delete_sla_metric(metric["id"])
        old = install_one_metric_per_policy(client, pb)
        assert old == ["sla.escalated.first_reply_time", "sla.standard.first_reply_time"]
        types = {t["name"]: t["id"] for t in client.request_types()}
        request = client.create_request(types["技术"], "escalated")["issueKey"]
        client.edit_issue(request, update={"labels": [{"add": "escalated"}]})
        before = [(s_["name"], s_["ongoingCycle"]["goalDuration"]["millis"] // 60_000) for s_ in client.request_sla(request)]
        assert sorted(minutes for _, minutes in before) == [15, 240]  # both policies' goals run

        plain = connector_for(sandbox)
        held, _ = plain.plan_playbook(pb, library)
        assert not held.has_changes and not any("is not installed" in n for n in held.notes)
        [note] = [n for n in held.notes if "installed earlier with --allow-internal-api" in n]
        assert '"Time to first response (升级)"' in note and "3 differ from the playbook or are missing" in note
        [migration] = [n for n in held.notes if "one per policy" in n]
        assert "sla.escalated.first_reply_time, sla.standard.first_reply_time" in migration

        migrate, snapshot = flagged.plan_playbook(pb, library)
        assert sorted((c.action, c.kind, c.key) for c in migrate.changes) == [
            ("create", "sla_metric", "sla.first_reply_time"), ("delete", "sla_metric", "sla.escalated.first_reply_time"),
            ("delete", "sla_metric", "sla.standard.first_reply_time")]
        flagged.apply(migrate, snapshot)
        assert not flagged.plan_playbook(pb, library)[0].has_changes
        quiet, _ = plain.plan_playbook(pb, library)
        assert not quiet.has_changes and any("they match the playbook" in n for n in quiet.notes)
        assert not any("one per policy" in n for n in quiet.notes)
        [metric] = client.sla_metrics()
        assert tr.parse_marker(metric["name"]) == ("jsm-sample", "sla.first_reply_time")
        assert [(g["jqlQuery"], g["duration"] // 60_000) for g in metric["config"]["goals"]] == [
            ('project = SUP AND labels in ("escalated")', 15),
            ('project = SUP AND priority = "Highest"', 30), ('project = SUP AND priority = "Medium"', 240)]
        after = [(s_["name"], s_["ongoingCycle"]["goalDuration"]["millis"] // 60_000) for s_ in client.request_sla(request)]
        assert after == [(metric["name"], 15)]  # the first matching goal, alone

        removal = flagged.plan("jsm-sample", [], flagged.populate("jsm-sample"))
        assert ("delete", "sla.first_reply_time") in {(c.action, c.key) for c in removal.changes if c.kind == "sla_metric"}
        flagged.apply(removal, flagged.populate("jsm-sample"))
        assert client.sla_metrics() == []


def test_export_and_verify_sla(library):
    with running_sandbox() as sandbox:
        connector = connector_for(sandbox, allow_internal_api=True)
        pb = playbook()
        plan, snapshot = connector.plan_playbook(pb, library)
        connector.apply(plan, snapshot)
        client = connector.client
        org = client.create_organization("Acme")
        client.attach_organization(org["id"])
        client.create_organization("Other desk's customer")  # site-wide, not this desk's: not exported
        client.set_organization_property(org["id"], "deskbook.contract", {"customer_tier": "key"})
        exported = connector.export()["objects"]
        assert [o["name"] for o in exported["organization"]] == ["Acme"]
        assert len(exported["request_type"]) == 4 and len(exported["automation_rule"]) == 5  # with the customer reply rule
        assert exported["automation_rule"][0]["components"]
        assert exported["organization"][0]["properties"] == {"deskbook.contract": {"customer_tier": "key"}}
        assert [tr.parse_marker(s_["name"])[1] for s_ in exported["sla_metric"]] == ["sla.first_reply_time"]
        types = {t["name"]: t["id"] for t in client.request_types()}
        request = client.create_request(types["技术"], "SLA probe")
        # the sandbox applies the first goal whose JQL it can evaluate; both are playbook goals
        assert connector.verify_sla(pb, request["issueKey"]) == []
        metric = client.sla_metrics()[0]
        goals = [{"jqlQuery": "", "duration": 999 * 60_000, "calendarId": 1, "defaultGoal": True}]
        client.update_sla_metric(metric["id"], {"name": metric["name"],
                                                "config": {**metric["config"], "goals": goals}})
        problems = connector.verify_sla(pb, request["issueKey"])
        assert len(problems) == 1 and "999 min" in problems[0]
        client.delete_sla_metric(metric["id"])
        assert "is missing" in connector.verify_sla(pb, request["issueKey"])[0]


def test_demo_installs_converges_and_runs_the_sync_jobs(library):
    from datetime import date

    from deskbook.connectors.jsm.demo import run_demo
    from deskbook.sync.jobs import JobSettings, SyncSettings

    settings = SyncSettings(playbook_name="jsm-sample", default_locale="en", jobs={
        "renewals": JobSettings("renewals", "support", {"en": "Support"}, "renewal_reminder", ("renewal",), "high")})
    summary = run_demo(playbook(), library, settings, seed_orgs=6, as_of=date.today())
    assert summary["second_plan_has_changes"] is False
    assert summary["first_plan"]["create"] == 9 + 4  # and the four contract detail fields
    contract = summary["contract_details"]
    assert len(contract) == 6 and all(d.get("contract_end_date") and "@" in d["contact_email"] for d in contract.values())
    assert "续约提醒" in summary["request_types"] and len(summary["rules"]) == 5 and len(summary["agent_rules"]) == 2  # 2 macros + trigger + automation + customer reply
    assert set(summary["sync"]) == {"renewals"}  # the jobs the playbook lists
    assert summary["sync"]["renewals"] >= 1 and summary["requests_served"] > 0


def locale_note(notes: list[str]) -> list[str]:
    return [n for n in notes if "installed in zh-CN only on JSM" in n]


def test_plan_notes_that_rule_comments_are_in_the_default_locale_only(library):
    """Rule comments are rendered in the default locale (zh-CN); the plan says so and names the macro
    phrases en agents render with `deskbook render` (also with --allow-internal-api; not on uninstall)."""
    pb = playbook()
    desired = {d.key: d.payload for d in tr.desired_objects(pb, library, project_ari="a")}
    assert desired["macro.greeting"]["components"][0]["value"]["comment"] == \
        render_for_desk(library, "greeting", pb.metadata.default_locale, "jsm",
                        constants=pb.constants.values(pb.metadata.default_locale))
    with running_sandbox() as sandbox:
        for options in ({}, {"allow_internal_api": True}):
            connector = connector_for(sandbox, **options)
            plan, snapshot = connector.plan_playbook(pb, library)
            notes = locale_note(plan.notes)
            assert len(notes) == 1, plan.notes
            note = notes[0]
            macro_phrases = [mac.comment.phrase for mac in pb.macros if mac.comment]
            assert macro_phrases == ["greeting", "escalation_notice"]
            assert note.startswith("macros' approved phrases are installed in zh-CN only on JSM")
            assert ("for: " + ", ".join(macro_phrases) + ";") in note
            assert "deskbook render PHRASE_ID --locale en --desk values" in note
            automatic = sum(1 for r in (*pb.triggers, *pb.automations) if r.comment)
            assert f"the {automatic} trigger(s)/automation(s) that comment also comment in zh-CN only" in note
            assert note in plan.to_json()["notes"]
        assert locale_note(uninstall_plan(connector, pb.name, snapshot).notes) == []


def test_no_locale_note_for_a_single_locale_playbook_or_one_without_comments():
    import dataclasses

    pb = playbook()
    single = dataclasses.replace(pb, metadata=dataclasses.replace(pb.metadata, locales=("zh-CN",)))
    assert tr.locale_notes(single) == []
    silent = dataclasses.replace(
        pb, macros=tuple(dataclasses.replace(mac, comment=None) for mac in pb.macros),
        triggers=tuple(dataclasses.replace(r, comment=None) for r in pb.triggers),
        automations=tuple(dataclasses.replace(r, comment=None) for r in pb.automations))
    assert tr.locale_notes(silent) == []
    only_rules = dataclasses.replace(pb, macros=silent.macros)
    [note] = tr.locale_notes(only_rules)
    assert note.startswith("the 2 trigger(s)/automation(s) that comment do so in zh-CN only") and "en" in note
    english = dataclasses.replace(pb, metadata=dataclasses.replace(pb.metadata, default_locale="en"))
    [note] = tr.locale_notes(english)
    assert "installed in en only" in note and "--locale zh-CN" in note


# ---------------------------------------------------------------- request type replaces (JSM has no update)


def renamed_category(pb: m.Playbook, key: str, zh: str) -> m.Playbook:
    """A copy of `pb` whose top-level category `key` has the default-locale name `zh`."""
    import dataclasses

    categories = tuple(dataclasses.replace(c, name=m.Localized({**c.name.values, "zh-CN": zh}, "zh-CN"))
                       if c.key == key else c for c in pb.categories)
    return dataclasses.replace(pb, categories=categories)


def types_by_name(connector: JsmConnector) -> dict[str, str]:
    return {t["name"]: str(t["id"]) for t in connector.client.request_types()}


def install_sample(sandbox, library):
    """The sample playbook applied: (connector, playbook, its install plan, request type ids by name)."""
    connector = connector_for(sandbox)
    pb = playbook()
    plan, snapshot = connector.plan_playbook(pb, library)
    connector.apply(plan, snapshot)
    return connector, pb, plan, types_by_name(connector)


def request_type_writes(sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sandbox.requests()
            if "/requesttype" in r["path"] and r["method"] in ("POST", "DELETE")]


def test_a_renamed_category_is_planned_as_a_replace_and_applies_when_no_request_uses_it(library):
    with running_sandbox() as sandbox:
        connector, pb, plan, before = install_sample(sandbox, library)
        assert not any("replaces, not updates" in n for n in plan.notes)  # first install: creates only

        renamed = renamed_category(pb, "technical", "技术支持")
        plan, snapshot = connector.plan_playbook(renamed, library)
        [change] = [c for c in plan.changes if c.kind == "request_type"]
        assert (change.action, change.key, change.id, change.name) == \
            ("update", "category.technical", before["技术"], "技术支持")
        assert change.reason == tr.REQUEST_TYPE_REPLACE and "delete + create, the id changes" in change.reason
        assert "name: '技术' -> '技术支持'" in change.diff
        [note] = [n for n in plan.notes if "replaces, not updates" in n]
        assert note.startswith('1 request type change(s) are replaces, not updates ("技术支持")') and "--force" in note
        assert plan.to_json()["changes"][0]["reason"] == tr.REQUEST_TYPE_REPLACE

        sandbox.clear_requests()
        connector.guard(plan, snapshot)  # no request of that type: no --force needed
        searches = [r for r in sandbox.requests() if r["path"] == "/rest/api/3/search/jql"]
        assert [s["json"]["jql"] for s in searches] == ['project = SUP AND "Request Type" = "技术"']  # by its current name
        connector.apply(plan, snapshot)
        assert request_type_writes(sandbox) == [
            ("DELETE", f"/rest/servicedeskapi/servicedesk/1/requesttype/{before['技术']}"),
            ("POST", "/rest/servicedeskapi/servicedesk/1/requesttype")]
        after = types_by_name(connector)
        assert "技术" not in after and after["技术支持"] != before["技术"]  # a replace: the id changed
        assert {k: v for k, v in after.items() if k != "技术支持"} == {k: v for k, v in before.items() if k != "技术"}
        again, _ = connector.plan_playbook(renamed, library)
        assert not again.has_changes, [c.to_json() for c in again.changes]


def test_replacing_a_request_type_that_requests_use_is_refused_unless_forced(library):
    with running_sandbox() as sandbox:
        connector, pb, plan, before = install_sample(sandbox, library)
        client = connector.client
        used = client.create_request(before["技术"], "Printer on fire")["issueKey"]
        client.create_request(before["技术"], "Printer still on fire")
        client.create_request(before["账务"], "Invoice question")  # another type: not counted
        sandbox.index_caught_up()  # requests raised before the change: JQL search (FACTS.md 8.2: it lags) has them

        renamed = renamed_category(pb, "technical", "技术支持")
        plan, snapshot = connector.plan_playbook(renamed, library)
        sandbox.clear_requests()
        with pytest.raises(DeskbookError) as refused:
            connector.guard(plan, snapshot)
        text = str(refused.value)
        assert f'request type "技术" (id {before["技术"]}) is used by 2 request(s) in SUP' in text
        assert 'replacing it with "技术支持"' in text and "delete + create, new id" in text
        assert "Project settings > Request types" in text and f"property {tr.OWNER_PROPERTY}" in text
        assert "--force" in text
        assert request_type_writes(sandbox) == []  # refused before writing anything
        assert types_by_name(connector) == before
        assert client.request(used)["requestTypeId"] == before["技术"]

        connector.guard(plan, snapshot, force=True)  # --force: no usage check, the replace goes through
        connector.apply(plan, snapshot)
        after = types_by_name(connector)
        assert "技术" not in after and after["技术支持"] != before["技术"]
        # JSM "removes [a deleted request type] from all customer requests": the sandbox does too
        assert client.request(used)["requestTypeId"] == ""
        again, snap = connector.plan_playbook(renamed, library)
        assert not again.has_changes
        connector.guard(again, snap)  # nothing to replace: nothing counted, nothing refused


def test_deleting_a_request_type_that_requests_use_is_refused_and_a_failed_count_is_not_unused(library):
    import dataclasses

    with running_sandbox() as sandbox:
        connector, pb, plan, before = install_sample(sandbox, library)
        connector.client.create_request(before["技术"], "Printer on fire")
        sandbox.index_caught_up()  # a request raised before the change: JQL search (FACTS.md 8.2: it lags) has it
        without = dataclasses.replace(pb, categories=tuple(c for c in pb.categories if c.key != "technical"))
        plan, snapshot = connector.plan_playbook(without, library)
        assert [(c.action, c.key) for c in plan.changes if c.kind == "request_type"] == \
            [("delete", "category.technical")]
        with pytest.raises(DeskbookError, match=r'request type "技术" .* is used by 1 request\(s\) in SUP; '
                                                r"deleting it leaves them without a request type"):
            connector.guard(plan, snapshot)
        assert types_by_name(connector) == before

        renamed = renamed_category(pb, "technical", "技术支持")
        plan, snapshot = connector.plan_playbook(renamed, library)
        sandbox.inject(400, path_prefix="/rest/api/3/search/jql")
        with pytest.raises(DeskbookError, match=r'cannot tell whether requests use request type "技术" .*--force'):
            connector.guard(plan, snapshot)
        assert types_by_name(connector) == before


def test_cli_apply_refuses_an_in_use_replace_with_exit_1_and_force_goes_through(capsys, monkeypatch, tmp_path):
    """`deskbook apply --desk jsm --doit` on a copy of the shipped playbook whose category was renamed."""
    from deskbook.cli import main
    from deskbook.playbooks.loader import load_playbook

    shipped = load_playbook().path
    text = Path(shipped).read_text(encoding="utf-8")
    old_line = 'name: {zh-CN: "投诉", en: "Complaint"}'
    assert text.count(old_line) == 1
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(text.replace(old_line, 'name: {zh-CN: "客户投诉", en: "Complaint"}'), encoding="utf-8")
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JSM_PROJECT", "JIRA_CLOUD_ID"):
        monkeypatch.delenv(name, raising=False)

    def run(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    with running_sandbox() as sandbox:
        for name, value in (("JIRA_URL", sandbox.url), ("JIRA_EMAIL", sandbox.email),
                            ("JIRA_API_TOKEN", sandbox.token), ("JSM_PROJECT", sandbox.project_key),
                            ("JIRA_CLOUD_ID", sandbox.cloud_id)):
            monkeypatch.setenv(name, value)
        connector = connector_for(sandbox)
        code, _, err = run("apply", "--desk", "jsm", "--doit")
        assert code == 0, err
        before = types_by_name(connector)
        old_name, new_name = "问题类: 投诉", "问题类: 客户投诉"
        request = connector.client.create_request(before[old_name], "Rude reply")["issueKey"]
        sandbox.index_caught_up()  # a request raised before the change: JQL search (FACTS.md 8.2: it lags) has it

        code, out, _ = run("plan", "--desk", "jsm", "--playbook", str(renamed))
        assert code == 2
        assert f'~ update request_type "{new_name}" (id {before[old_name]}): replace (JSM has no request type update)' in out
        assert "note: 1 request type change(s) are replaces, not updates" in out

        sandbox.clear_requests()
        code, out, err = run("apply", "--desk", "jsm", "--playbook", str(renamed), "--doit")
        assert code == 1 and "Traceback" not in err
        [line] = [x for x in err.splitlines() if "refusing to apply" in x]
        assert f'request type "{old_name}" (id {before[old_name]}) is used by 1 request(s) in SUP' in line
        assert "--force" in line and "Project settings > Request types" in line
        reads = ("/rest/api/3/search/jql", "/rule/summary")  # POST searches
        writes = [(r["method"], r["path"]) for r in sandbox.requests()
                  if r["method"] != "GET" and not r["path"].endswith(reads)]
        assert writes == []  # refused before the first write: nothing half-done
        assert types_by_name(connector) == before

        code, out, err = run("apply", "--desk", "jsm", "--playbook", str(renamed), "--doit", "--force")
        assert code == 0, err
        assert ("DELETE", f"/rest/servicedeskapi/servicedesk/1/requesttype/{before[old_name]}") in \
            request_type_writes(sandbox)
        after = types_by_name(connector)
        assert old_name not in after and after[new_name] != before[old_name]
        assert connector.client.request(request)["requestTypeId"] == ""
        code, out, _ = run("plan", "--desk", "jsm", "--playbook", str(renamed))
        assert code == 0 and "No changes" in out


def test_renaming_the_type_in_jsm_instead_keeps_its_id_and_requests(library):
    """The refusal's first choice: edit the type in JSM's UI (no public API does it; the test writes the
    sandbox's store as the UI would) to what the plan shows, keeping the marker; the re-plan has no
    request type change, so nothing is replaced and no --force is needed."""
    with running_sandbox() as sandbox:
        connector, pb, plan, before = install_sample(sandbox, library)
        used = connector.client.create_request(before["技术"], "Printer on fire")["issueKey"]
        renamed = renamed_category(pb, "technical", "技术支持")
        plan, _ = connector.plan_playbook(renamed, library)
        [change] = [c for c in plan.changes if c.kind == "request_type"]
        sandbox.store.update("requesttype", before["技术"], {"name": change.desired["name"]})  # the admin, in the UI
        again, snapshot = connector.plan_playbook(renamed, library)
        assert not [c for c in again.changes if c.kind == "request_type"]
        connector.guard(again, snapshot)
        connector.apply(again, snapshot)
        assert types_by_name(connector)["技术支持"] == before["技术"]
        assert connector.client.request(used)["requestTypeId"] == before["技术"]


def test_a_rule_create_answered_500_after_it_was_stored_is_found_and_enabled_not_repeated(library, monkeypatch):
    """A POST without an idempotency key answered 500 is not re-sent: the engine finds the rule by its
    marker and finishes it (enables it, as the create's second call would have)."""
    from deskbook.connectors.jsm.sandbox.app import JsmSandboxApp

    dispatch = JsmSandboxApp.dispatch
    broken: list[str] = []

    def stored_then_500(self, request):
        response = dispatch(self, request)
        if request.method == "POST" and request.path.endswith("/rest/v1/rule") and not broken:
            broken.append(request.path)
            return self.json({"errors": [{"title": "Internal server error"}]}, status=500)
        return response

    monkeypatch.setattr(JsmSandboxApp, "dispatch", stored_then_500)
    with running_sandbox() as sandbox:
        connector = connector_for(sandbox)
        plan, snapshot = connector.plan_playbook(playbook(), library)
        connector.apply(plan, snapshot)
        assert broken, "the test must break a rule create to mean anything"
        creates = [r for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/rest/v1/rule")]
        rules = [r for r in connector.list_kind("automation_rule") if tr.parse_marker(r.get("description"))]
        assert len(creates) == len(rules) and len({tr.parse_marker(r["description"]) for r in rules}) == len(rules)
        assert all(r.get("state") == "ENABLED" for r in rules)
        assert not connector.plan_playbook(playbook(), library)[0].has_changes


def test_without_csm_the_plan_says_contract_data_stays_in_the_property(library):
    with running_sandbox(csm=False) as sandbox:
        connector = connector_for(sandbox)
        plan, _ = connector.plan_playbook(playbook(), library)
        assert not [c for c in plan.changes if c.kind == "organization_detail_field"]
        assert any(n.startswith("contract data: organization property deskbook.contract") for n in plan.notes)
    with running_sandbox() as sandbox:
        connector = connector_for(sandbox)
        plan, snapshot = connector.plan_playbook(playbook(), library)
        assert {c.name for c in plan.changes if c.kind == "organization_detail_field"} == {
            "contract_end_date", "tier", "locale", "contact_email"}
        connector.apply(plan, snapshot)
        again, snap = connector.plan_playbook(playbook(), library)
        assert not again.has_changes
        gone = uninstall_plan(connector, playbook().name, snap)  # uninstall keeps the data's fields
        assert not [c for c in gone.changes if c.kind == "organization_detail_field"]
        assert any("keeps the organization detail fields" in n for n in gone.notes)


def test_a_site_without_the_internal_endpoints_still_plans_without_the_flag(library):
    """Every plan reads the internal kinds to see what an opt-in installed; where the site has no such
    endpoint (FACTS.md 6.2: none was found on a live site) a plain plan says it could not look and goes
    on, and only a plan with --allow-internal-api fails on it."""
    with running_sandbox() as sandbox:
        plain = connector_for(sandbox)
        sandbox.inject(404, path_prefix="/rest/servicedesk/1/servicedesk/agent/")
        plan, _ = plain.plan_playbook(playbook(), library)
        assert not any(c.kind in ("calendar", "sla_metric", "queue") for c in plan.changes)
        [note] = [n for n in plan.notes if n.startswith("could not read")]
        assert "SLA metrics" in note and "HTTP 404" in note
        assert any(n.startswith("SLA ") and "is not installed" in n for n in plan.notes)
        flagged = connector_for(sandbox, allow_internal_api=True)
        sandbox.inject(404, path_prefix="/rest/servicedesk/1/servicedesk/agent/")
        with pytest.raises(DeskbookError):
            flagged.plan_playbook(playbook(), library)


def old_style(sandbox, type_ids) -> None:
    """What deskbook before the owner property installed: the marker at the end of the request type's
    description (which the portal shows customers), no property. Writes the sandbox's store."""
    for type_id in type_ids:
        rtype = sandbox.store.get("requesttype", type_id)
        props = dict(rtype.get("properties") or {})
        owner = props.pop(tr.OWNER_PROPERTY)
        sandbox.store.update("requesttype", type_id, {"description": f"{rtype['description']} {owner}".strip(),
                                                      "properties": props})


def test_request_type_descriptions_carry_no_marker_the_owner_property_does(library):
    """The portal shows a request type's description to customers: deskbook's marker goes into the
    request type property `deskbook.owner` instead, read once per request type by a plan."""
    with running_sandbox() as sandbox:
        connector, pb, plan, before = install_sample(sandbox, library)
        client = connector.client
        types = client.request_types()
        assert len(types) == 4 and not any(tr.parse_marker(t["description"]) for t in types)
        owners = {t["name"]: tr.parse_marker(client.request_type_property(t["id"], tr.OWNER_PROPERTY)) for t in types}
        assert owners["技术"] == ("jsm-sample", "category.technical")
        assert owners["账务: 退款"] == ("jsm-sample", "category.refund")
        sandbox.clear_requests()
        again, _ = connector.plan_playbook(pb, library)
        assert not again.has_changes, [c.to_json() for c in again.changes]
        reads = [r["path"] for r in sandbox.requests() if r["path"].endswith(f"/property/{tr.OWNER_PROPERTY}")]
        assert sorted(reads) == sorted(f"/rest/servicedeskapi/servicedesk/1/requesttype/{i}/property/{tr.OWNER_PROPERTY}"
                                       for i in before.values())
        unmanaged = client.create_request_type("Walk-in", "made by hand")
        plan, _ = connector.plan_playbook(pb, library)  # a type without the property: not deskbook's
        assert not plan.has_changes and not plan.conflicts
        assert types_by_name(connector)["Walk-in"] == unmanaged["id"]
        assert sandbox.violations() == []


def test_an_install_with_the_marker_in_descriptions_migrates_in_place_keeping_its_request_types(library):
    """An install by an older deskbook (marker in the description) is still deskbook's: the next plan
    sets each type's owner property in place (a PUT) — never a replace, which would take the type off
    its requests: JSM's API cannot edit a description, so the marker stays there and every plan says
    to delete it in JSM; the apply converges, and an uninstall before or after finds every type."""
    with running_sandbox() as sandbox:
        connector, pb, plan, before = install_sample(sandbox, library)
        old_style(sandbox, before.values())
        assert all(tr.parse_marker(t["description"]) for t in connector.client.request_types())
        plan, snapshot = connector.plan_playbook(pb, library)
        changes = [c for c in plan.changes if c.kind == "request_type"]
        assert {(c.action, c.id) for c in changes} == {("update", i) for i in before.values()}
        assert not plan.conflicts and not [c for c in plan.changes if c.kind != "request_type"]
        technical = next(c for c in changes if c.key == "category.technical")
        assert technical.diff == ["property deskbook.owner: None -> '[deskbook:jsm-sample:category.technical]'"]
        assert not technical.reason  # not a replace
        assert any("keeps the marker" in n and "Project settings > Request types" in n for n in plan.notes)
        removal = uninstall_plan(connector, pb.name, snapshot)  # the old marker: found by uninstall too
        assert {(c.action, c.id) for c in removal.changes if c.kind == "request_type"} == \
            {("delete", i) for i in before.values()}

        sandbox.reset_log()
        connector.guard(plan, snapshot)  # no replace: nothing to count, nothing refused
        connector.apply(plan, snapshot)
        assert request_type_writes(sandbox) == []  # no delete, no create: every request keeps its type
        types = connector.client.request_types()
        assert types_by_name(connector) == before and all(tr.parse_marker(t["description"]) for t in types)
        again, snapshot = connector.plan_playbook(pb, library)
        assert not again.has_changes, [c.to_json() for c in again.changes]
        assert any("keeps the marker" in n for n in again.notes)  # said until the admin deletes it in JSM
        for rtype in types:  # the admin deletes the marker from the descriptions in JSM
            sandbox.store.update("requesttype", rtype["id"], {"description": tr.without_trailing_marker(rtype["description"])})
        clean, snapshot = connector.plan_playbook(pb, library)
        assert not clean.has_changes and not any("keeps the marker" in n for n in clean.notes)

        # half migrated (one type still old-style): the uninstall finds both kinds
        old_style(sandbox, [types[0]["id"]])
        _, snapshot = connector.plan_playbook(pb, library)
        removal = uninstall_plan(connector, pb.name, snapshot)
        assert {c.id for c in removal.changes if c.kind == "request_type"} == {t["id"] for t in types}
        connector.apply(removal, snapshot)
        assert connector.client.request_types() == []


def test_a_request_type_created_before_a_kill_without_its_owner_property_is_found_not_made_twice(library, tmp_path):
    """A run killed between the request type's create and its owner property PUT leaves a type without
    any marker. Stored late (after the next run planned): that run's intent log names the create, so it
    takes the type by its name and sets the property instead of creating a second one (JSM refuses a
    second type of the same name). Stored before the next plan: the plan shows it as a conflict, and
    --adopt takes it over by setting the property alone (no replace: its fields already match)."""
    from deskbook.connectors.intents import CreateIntents

    with running_sandbox() as sandbox:
        connector = connector_for(sandbox)
        connector.settle_seconds = lambda: 0.0  # type: ignore[method-assign]
        pb = playbook()
        plan, snapshot = connector.plan_playbook(pb, library)
        change = next(c for c in plan.changes if c.key == "category.technical")
        log = tmp_path / "intents.jsonl"
        killed = CreateIntents(log)
        killed.sending("request_type", change.key)  # the killed run: create sent, never confirmed ...
        killed.close()
        stored = connector.client.create_request_type(change.desired["name"], change.desired["description"],
                                                      change.desired["helpText"])  # ... stored late, unmarked
        connector.apply(plan, snapshot, intents=CreateIntents(log))
        technical = [t for t in connector.client.request_types() if t["name"] == change.desired["name"]]
        assert [t["id"] for t in technical] == [stored["id"]]
        assert tr.parse_marker(connector.client.request_type_property(stored["id"], tr.OWNER_PROPERTY)) == \
            ("jsm-sample", "category.technical")
        final, _ = connector.plan_playbook(pb, library)
        assert not final.has_changes and not final.conflicts

        sandbox.store.update("requesttype", stored["id"], {"properties": {}})  # stored before the plan
        plan, snapshot = connector.plan_playbook(pb, library)
        assert [(c.kind, c.id) for c in plan.conflicts] == [("request_type", stored["id"])]
        adopted, snapshot = connector.plan_playbook(pb, library, adopt=True)
        [change] = adopted.changes
        assert (change.action, change.id) == ("update", stored["id"]) and change.reason != tr.REQUEST_TYPE_REPLACE
        sandbox.clear_requests()
        connector.guard(adopted, snapshot)
        connector.apply(adopted, snapshot)
        assert request_type_writes(sandbox) == []  # the property alone: no delete + create
        assert not connector.plan_playbook(pb, library)[0].has_changes

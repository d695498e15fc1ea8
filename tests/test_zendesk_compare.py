"""Drift by meaning: what Zendesk rewrites on read is not a change; a real edit is."""

from __future__ import annotations

import copy
import json

import pytest

from deskbook.connectors.zendesk import translate as tr
from deskbook.connectors.zendesk.compare import compare, comparator, normalize, ownership, parse_marker
from deskbook.plan import DesiredObject, ExistingObject, build_plan, resolve_refs
from deskbook.scripts_library import load_library
from test_zendesk_translate import fake_ids, sample_playbook


@pytest.fixture(scope="module")
def desired():
    return tr.desired_objects(sample_playbook(), load_library())


@pytest.fixture(scope="module")
def ids(desired):
    return fake_ids(desired)


def by(desired, kind, key):
    return next(d for d in desired if d.kind == kind and d.key == key)


def existing(kind: str, payload: dict, playbook: str = "sample-service") -> ExistingObject:
    owner = ownership(kind, payload, playbook)
    return ExistingObject(kind, payload.get("id"), str(payload.get("title") or payload.get("name")), payload,
                          owner[0] if owner else None, owner[1] if owner else None)


def as_zendesk_reads(kind: str, payload: dict, new_id: int) -> dict:
    """`payload` the way Zendesk returns it: read-only keys, all/any under conditions, order shuffled,
    ids as integers where it was given text, execution instead of output."""
    out = copy.deepcopy(payload)
    out.update({"id": new_id, "url": f"https://example.zendesk.com/api/v2/x/{new_id}.json", "position": 7,
                "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z", "default": False})
    if "title" in out:
        out["raw_title"] = out["title"]
    if kind in ("trigger", "automation", "view"):
        conds = out.pop("conditions", None) or {"all": out.pop("all", []), "any": out.pop("any", [])}
        for part in ("all", "any"):
            conds[part] = list(reversed(conds.get(part) or []))
            for c in conds[part]:
                if c["field"] == "group_id" and str(c["value"]).isdigit():
                    c["value"] = int(c["value"])
                if c["field"] == "current_tags":
                    c["value"] = " ".join(reversed(c["value"].split()))
        out["conditions"] = conds
    if "actions" in out:
        out["actions"] = list(reversed(out["actions"]))
    if kind == "trigger":
        out["category_id"] = str(out["category_id"])
    if kind == "view":
        output = out.pop("output")
        out["execution"] = {"group_by": None, "group_order": "desc", "sort_by": output["sort_by"],
                            "sort_order": output["sort_order"], "group": None, "sort": None,
                            "columns": [{"id": c, "title": str(c).title(), "filterable": True, "sortable": True}
                                        for c in output["columns"]], "fields": [], "custom_fields": []}
        out["restriction"] = None
    if kind == "sla_policy":
        out["policy_metrics"] = list(reversed(out["policy_metrics"]))
        out["filter"]["all"] = [dict(c, value=c["value"]) for c in out["filter"]["all"]]
    if kind in ("ticket_field", "organization_field") and "custom_field_options" in out:
        out["custom_field_options"] = [dict(o, id=900 + i, position=i, raw_name=o["name"])
                                       for i, o in enumerate(reversed(out["custom_field_options"]))]
        out.update({"raw_description": out["description"], "removable": True, "agent_description": None})
    if kind == "dynamic_content":
        out["placeholder"] = "{{dc.%s}}" % out["name"]
        out["variants"] = [dict(v, id=50 + i, outdated=False, url="u") for i, v in enumerate(reversed(out["variants"]))]
    if kind == "group":
        out["is_public"] = True
        out["deleted"] = False
    return out


def test_every_desired_object_read_back_from_zendesk_is_the_same(desired, ids):
    for d in desired:
        resolved = resolve_refs(d.payload, ids)
        read = as_zendesk_reads(d.kind, resolved, ids[(d.kind, d.key)])
        assert compare(d, existing(d.kind, read), ids) == [], (d.kind, d.key)


def test_real_changes_are_reported_readably(desired, ids):
    trig = by(desired, "trigger", "route_billing")
    read = as_zendesk_reads("trigger", resolve_refs(trig.payload, ids), 1)
    read["title"] = "Old title"
    assert compare(trig, existing("trigger", read), ids) == ['title: "Old title" -> "账务分派"']

    read = as_zendesk_reads("trigger", resolve_refs(trig.payload, ids), 1)
    update_type = next(c for c in read["conditions"]["all"] if c["field"] == "update_type")
    update_type["value"] = "Change"  # Create -> Change
    diff = compare(trig, existing("trigger", read), ids)
    assert any(line.startswith("conditions.all: remove") and "Change" in line for line in diff)
    assert any(line.startswith("conditions.all: add") and "Create" in line for line in diff)

    read = as_zendesk_reads("trigger", resolve_refs(trig.payload, ids), 1)
    read["category_id"] = "999"
    assert compare(trig, existing("trigger", read), ids) == [
        f'category_id: "999" -> "{ids[("trigger_category", "routing")]}"']

    sla = by(desired, "sla_policy", "standard")
    read = as_zendesk_reads("sla_policy", resolve_refs(sla.payload, ids), 2)
    read["policy_metrics"][0]["target"] = 999
    assert any(line.startswith("policy_metrics: remove") for line in compare(sla, existing("sla_policy", read), ids))

    item = by(desired, "dynamic_content", "greeting")
    read = as_zendesk_reads("dynamic_content", item.payload, 3)
    read["variants"].append({"locale_id": 16, "content": "Bonjour", "default": False, "active": True})
    assert compare(item, existing("dynamic_content", read), ids) == []  # a hand-added locale is left alone
    read["variants"][0]["content"] = "edited by hand"
    assert any("edited by hand" in line for line in compare(item, existing("dynamic_content", read), ids))

    view = by(desired, "view", "urgent")
    read = as_zendesk_reads("view", resolve_refs(view.payload, ids), 4)
    read["execution"]["sort_order"] = "asc"
    assert compare(view, existing("view", read), ids) == ['output.sort_order: "asc" -> "desc"']


def test_missing_key_equal_to_zendesk_default_is_not_drift(desired, ids):
    macro = by(desired, "macro", "greeting")
    read = as_zendesk_reads("macro", resolve_refs(macro.payload, ids), 5)
    del read["active"]  # Zendesk's default is active
    assert compare(macro, existing("macro", read), ids) == []
    read["active"] = False
    assert compare(macro, existing("macro", read), ids) == ["active: false -> true"]


def test_schedule_holidays_listed_elsewhere_are_not_drift(desired, ids):
    sched = by(desired, "schedule", tr.SCHEDULE_KEY)
    read = as_zendesk_reads("schedule", sched.payload, 6)
    read.pop("holidays")  # the schedule list does not embed holidays
    read["intervals"] = list(reversed(read["intervals"]))
    assert compare(sched, existing("schedule", read), ids) == []
    read["intervals"][0] = {"start_time": 0, "end_time": 60}
    assert any(line.startswith("intervals:") for line in compare(sched, existing("schedule", read), ids))


def test_ref_to_an_object_not_yet_created_is_a_difference(desired, ids):
    trig = by(desired, "trigger", "route_billing")
    read = as_zendesk_reads("trigger", resolve_refs(trig.payload, ids), 1)
    partial = {k: v for k, v in ids.items() if k != ("group", "complaints")}
    diff = compare(trig, existing("trigger", read), partial)
    assert any("{ref:group:complaints:text}" in line for line in diff)


@pytest.mark.parametrize("kind, wrapper", [("trigger", "trigger"), ("automation", "automation"),
                                           ("macro", "macro"), ("view", "view")])
def test_recorded_zendesk_rewrites_compare_as_same(shared, kind, wrapper):
    """Real recordings: what was sent compares equal to what Zendesk answered; an edit does not."""
    names = {"trigger": "TestTriggers", "automation": "TestAutomations", "macro": "TestMacrosCreateUpdateDelete",
             "view": "TestViews"}
    path = shared / "zendesk/recordings" / f"{names[kind]}.test_single_object_creation-create-single.json"
    exchange = json.loads(path.read_text(encoding="utf-8"))[0]
    sent, answered = exchange["request_json"][wrapper], exchange["response_json"][wrapper]
    want = DesiredObject(kind, "k", sent["title"], sent)
    assert compare(want, existing(kind, answered), {}) == []
    edited = copy.deepcopy(answered)
    edited["actions"] = [{"field": "status", "value": "closed"}] if kind != "view" else None
    if kind == "view":
        edited["conditions"]["all"][0]["value"] = "open"
    assert compare(want, existing(kind, edited), {})


def test_normalize_moves_top_level_conditions_and_stringifies_ids():
    written = {"title": "t", "all": [{"field": "group_id", "operator": "is", "value": 12},
                                     {"field": "status", "operator": "is", "value": "open"}]}
    read = {"title": "t", "id": 1, "conditions": {"all": [{"field": "status", "operator": "is", "value": "open"},
                                                          {"field": "group_id", "operator": "is", "value": "12"}],
                                                  "any": []}}
    assert normalize("view", written)["conditions"] == normalize("view", read)["conditions"]
    assert normalize("trigger", {"category_id": 5})["category_id"] == "5"


def test_markers_round_trip():
    text = "Routes billing requests\n\n" + tr.marker("standard-service", "route_billing")
    assert parse_marker(text) == ("standard-service", "route_billing")
    assert parse_marker("no marker here") is None
    assert parse_marker(None) is None
    assert parse_marker("quotes [deskbook:a:b] then " + tr.marker("pb", "key")) == ("pb", "key")
    name = tr.dynamic_content_name("standard-service", "progress_update")
    assert ownership("dynamic_content", {"name": name}, "standard-service") == ("standard-service", "progress_update")
    assert ownership("dynamic_content", {"name": name}, "other") == ("standard_service", "progress_update")
    assert ownership("dynamic_content", {"name": "password_help"}) is None
    assert ownership("automation", {"title": "Close " + tr.marker("pb", "close")}) == ("pb", "close")


def test_build_plan_with_the_comparator_is_a_no_op_for_what_zendesk_returned(desired, ids):
    reads = [existing(d.kind, as_zendesk_reads(d.kind, resolve_refs(d.payload, ids), ids[(d.kind, d.key)]))
             for d in desired]
    plan = build_plan("zendesk", "sample-service", desired, reads, comparator(ids), kind_order=tr.KIND_ORDER)
    assert not plan.has_changes, [c.to_json() for c in plan.changes][:2]
    reads[0].payload["description"] = reads[0].payload["description"].replace("处理技术问题", "改过")
    plan = build_plan("zendesk", "sample-service", desired, reads, comparator(ids), kind_order=tr.KIND_ORDER)
    assert [(c.action, c.kind, c.key) for c in plan.changes] == [("update", "group", "support")]


def test_sandbox_round_trip_replans_to_no_changes(shared):
    """Apply the sample playbook to the sandbox desk, read it back: compare finds no drift."""
    sandbox = pytest.importorskip("deskbook.connectors.zendesk.sandbox")
    connector_mod = pytest.importorskip("deskbook.connectors.zendesk.connector")
    contract = pytest.importorskip("deskbook.connectors.contract")
    pb = sample_playbook()
    with sandbox.running_sandbox(request_checker=contract.zendesk_contract(shared)) as sb:
        conn = connector_mod.ZendeskConnector.connect(sb.url, sb.email, sb.token)
        desired = conn.desired_objects(pb, load_library())
        snap = conn.populate(pb.name)
        first = conn.plan(pb.name, desired, snap)
        assert first.summary()["create"] == len(desired)
        conn.apply(first, snap)
        snap = conn.populate(pb.name)
        again = conn.plan(pb.name, desired, snap)
        assert not again.has_changes, [(c.action, c.kind, c.key, c.diff) for c in again.changes]
        assert sb.violations() == []
        # A hand edit in the desk is drift the next plan reports.
        trig = next(e for e in snap.existing if e.kind == "trigger" and e.key == "route_billing")
        conn.client.update("trigger", trig.id, {"title": "Edited by hand"})
        again = conn.plan(pb.name, desired, conn.populate(pb.name))
        assert [(c.action, c.key, c.diff) for c in again.changes if c.action != "reorder"] == [
            ("update", "route_billing", ['title: "Edited by hand" -> "账务分派"'])]

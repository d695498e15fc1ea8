"""The playbook model as Zendesk objects: kinds, markers, refs, payload shapes against the spec."""

from __future__ import annotations

import copy
import dataclasses
import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
import yaml

from deskbook.connectors.zendesk import translate as tr
from deskbook.plan import refs_in, resolve_refs
from deskbook.connectors.zendesk.compare import ownership
from deskbook.errors import DeskbookError
from deskbook.playbooks import model as m
from deskbook.scripts_library import load_library, render_for_desk


def L(zh: str, en: str) -> m.Localized:
    """A zh-CN/en text with zh-CN as default."""
    return m.Localized({"zh-CN": zh, "en": en}, "zh-CN")


def C(field: str, operator: str, value=None) -> m.Condition:
    return m.Condition(field, operator, value)


def A(field: str, value) -> m.Action:
    return m.Action(field, value)


def sample_playbook(**changes) -> m.Playbook:
    """A small but complete playbook built from the dataclasses (no loader needed)."""
    meta = m.Metadata(
        name="sample-service",
        version="1",
        title=L("样例服务", "Sample service"),
        description=L("样例", "Sample"),
        locales=("zh-CN", "en"),
        default_locale="zh-CN",
        time_zone="Asia/Shanghai",
        business_hours=(m.BusinessHours(("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00"),),
        holidays=(("国庆节", "2026-10-01", "2026-10-07"),),
    )
    groups = (
        m.Group("support", L("技术支持部", "Technical support"), L("处理技术问题", "Technical requests")),
        m.Group("complaints", L("投诉组", "Complaints"), L("处理投诉", "Handles complaints")),
    )
    fields = (
        m.Field("urgency", "ticket", "dropdown", L("紧急程度", "Urgency"), L("紧急", "Urgency"),
                options=(m.FieldOption("low", L("低", "Low")), m.FieldOption("high", L("高", "High")))),
        m.Field("eta", "ticket", "date", L("预计完成", "ETA"), L("预计完成日期", "Expected date")),
        m.Field("contract_end_date", "organization", "date", L("合同到期日", "Contract end"), L("到期", "End")),
        m.Field("tier", "organization", "dropdown", L("客户等级", "Tier"), L("等级", "Tier"),
                options=(m.FieldOption("key", L("重点", "Key")), m.FieldOption("regular", L("普通", "Regular")))),
    )
    categories = (
        m.Category("billing", L("账务", "Billing"), L("账务", "Billing"), subcategories=(
            m.Category("refund", L("退款", "Refund"), L("退款", "Refund")),
            m.Category("invoice", L("发票", "Invoice"), L("发票", "Invoice")),
        )),
        m.Category("technical", L("技术", "Technical"), L("技术", "Technical"), default_group="support"),
    )
    triggers = (
        m.Trigger(
            "route_billing", L("账务分派", "Route billing"), L("账务请求分派到投诉组", "Billing to complaints"),
            category="routing",
            conditions=m.Conditions(all=(C("via_update", "is", "created"), C("category", "is", "billing"))),
            actions=(A("group", "complaints"), A("add_tags", ["billing"])),
            comment=m.Comment("greeting"),
        ),
        m.Trigger(
            "urgent_phone", L("电话加急", "Urgent phone"), L("电话来的退款加急", "Phone refunds urgent"),
            category="routing",
            conditions=m.Conditions(all=(C("channel", "is", "phone"), C("category", "is", "refund")),
                                    any=(C("field.urgency", "is", "high"), C("priority", "is", "high"))),
            actions=(A("priority", "urgent"), A("field.urgency", "high")),
        ),
    )
    macros = (
        m.Macro("greeting", "S-2", L("问候", "Greeting"), L("问候客户", "Greet"), m.Comment("greeting"),
                actions=(A("status", "open"),)),
        m.Macro("escalate", "S-7", L("升级", "Escalate"), L("升级处理", "Escalate"), m.Comment("escalation_notice", False),
                actions=(A("priority", "urgent"), A("add_tags", ["escalated"]), A("group", "complaints"),
                         A("category", "invoice"))),
    )
    automations = (
        m.Automation(
            "progress_reminder", L("进度提醒", "Progress reminder"), L("24小时未更新", "No update for 24h"),
            conditions=m.Conditions(all=(C("status", "is", "open"), C("hours_since_agent_update", "greater_than", 24),
                                         C("tags", "not_includes", ["progress_reminded"]))),
            actions=(A("add_tags", ["progress_reminded"]),),
            comment=m.Comment("progress_update", public=False),  # its [ETA] is for the agent, never the requester
            implements=("S-9",),
        ),
    )
    slas = (
        m.SLAPolicy("standard", L("标准", "Standard"), L("标准时限", "Standard targets"),
                    filter=m.Conditions(all=(C("group", "is", "support"),)),
                    targets=(m.SLATarget("first_reply_time", "urgent", 30), m.SLATarget("first_reply_time", "normal", 240),
                             m.SLATarget("next_reply_time", "normal", 480, business_hours=False))),
    )
    views = (
        m.View("urgent", L("紧急与升级", "Urgent and escalated"), L("紧急", "Urgent"),
               conditions=m.Conditions(all=(C("status", "less_than", "solved"),),
                                       any=(C("priority", "is", "urgent"), C("tags", "includes", ["escalated"]))),
               columns=("subject", "requester", "priority", "field.urgency", "updated")),
    )
    sync = m.SyncSchedule("09:00", 30, 7, "contract_end_date", "tier",
                          (m.SyncJob("renewals", "support", "renewal_reminder"),))
    pb = m.Playbook(
        path="sample.yaml", metadata=meta, groups=groups, fields=fields, categories=categories,
        tiers=(m.Tier("key", L("重点", "Key"), "monthly"),),
        trigger_categories=(("routing", L("分派", "Routing")),),
        macros=macros, triggers=triggers, automations=automations, sla_policies=slas, views=views,
        sync=sync, forbidden_phrases={},
        stages=(("S-2", L("受理", "Intake")), ("S-7", L("升级", "Escalation"))),
    )
    return dataclasses.replace(pb, **changes) if changes else pb


@pytest.fixture(scope="module")
def library():
    return load_library()


@pytest.fixture(scope="module")
def desired(library):
    return tr.desired_objects(sample_playbook(), library)


def by(desired, kind, key):
    return next(d for d in desired if d.kind == kind and d.key == key)


def fake_ids(desired):
    """An id for every desired object, as Zendesk would assign on create."""
    return {(d.kind, d.key): 360000000 + i for i, d in enumerate(desired)}


# ---------------------------------------------------------------- spec validation helpers


@lru_cache(maxsize=None)
def _spec(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def spec_schema_for(shared: Path, kind: str) -> tuple[dict, str]:
    """(schema of the JSON body for creating `kind`, wrapper key) from the official spec.

    Where the spec gives a request schema (triggers, macros, trigger categories) that is used;
    otherwise the schema of the created object the endpoint returns (same properties and types);
    schedules come from the documented supplement.
    """
    spec = _spec(str(shared / "zendesk/spec/support-api.oas.json"))
    paths = {
        "group": ("/api/v2/groups", "group"), "ticket_field": ("/api/v2/ticket_fields", "ticket_field"),
        "organization_field": ("/api/v2/organization_fields", "organization_field"),
        "dynamic_content": ("/api/v2/dynamic_content/items", "item"),
        "trigger_category": ("/api/v2/trigger_categories", "trigger_category"),
        "trigger": ("/api/v2/triggers", "trigger"), "macro": ("/api/v2/macros", "macro"),
        "automation": ("/api/v2/automations", "automation"), "sla_policy": ("/api/v2/slas/policies", "sla_policy"),
        "view": ("/api/v2/views", "view"), "ticket_form": ("/api/v2/ticket_forms", "ticket_form"),
    }
    if kind == "schedule":
        supplement = yaml.safe_load((shared / "zendesk/spec/supplement-schedules.yml").read_text(encoding="utf-8"))
        op = supplement["paths"]["/api/v2/business_hours/schedules"]["post"]
        return op["requestBody"]["content"]["application/json"]["schema"], "schedule"
    path, wrapper = paths[kind]
    op = spec["paths"][path]["post"]
    body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
    if body is None:
        responses = op["responses"]
        body = (responses.get("201") or responses.get("200"))["content"]["application/json"]["schema"]
    schema = dict(body)
    schema["components"] = spec["components"]
    return schema, wrapper


def validate_against_spec(shared: Path, kind: str, payload: dict) -> None:
    """Raise jsonschema.ValidationError when `payload` does not fit the spec's body for `kind`."""
    schema, wrapper = spec_schema_for(shared, kind)
    body = {wrapper: copy.deepcopy(payload)}
    notifications = []
    if kind == "automation":
        # The spec types every automation action value as a string, but Zendesk's own
        # notification actions take [recipient, subject, body] (actions reference); check
        # those separately and the rest against the spec.
        notifications = [a for a in body[wrapper]["actions"] if a["field"].startswith("notification_")]
        body[wrapper]["actions"] = [a for a in body[wrapper]["actions"] if a not in notifications]
    jsonschema.validate(body, schema)
    for a in notifications:
        assert isinstance(a["value"], list) and len(a["value"]) == 3 and all(isinstance(v, str) for v in a["value"])
    if kind in ("trigger", "macro", "automation"):
        assert payload["actions"], f"{kind} needs actions"


def assert_valid_objects(shared: Path, desired) -> None:
    ids = fake_ids(desired)
    for obj in desired:
        resolved = resolve_refs(obj.payload, ids)
        assert not refs_in(resolved)
        try:
            validate_against_spec(shared, obj.kind, resolved)
        except jsonschema.ValidationError as exc:  # name the object in the failure
            pytest.fail(f"{obj.kind} {obj.key}: {exc.message} at {list(exc.absolute_path)}")


# ---------------------------------------------------------------- tests


def test_kind_order_is_the_documented_dependency_order():
    assert tr.KIND_ORDER == ("group", "ticket_field", "ticket_form", "organization_field", "schedule", "dynamic_content",
                             "trigger_category", "trigger", "macro", "automation", "sla_policy", "view")


def test_objects_come_in_kind_order_and_depend_only_on_earlier_kinds(desired):
    rank = {k: i for i, k in enumerate(tr.KIND_ORDER)}
    ranks = [rank[d.kind] for d in desired]
    assert ranks == sorted(ranks)
    keys = {(d.kind, d.key) for d in desired}
    for d in desired:
        for dep in d.depends_on:
            assert dep in keys, f"{d.kind} {d.key} depends on missing {dep}"
            assert rank[dep[0]] < rank[d.kind]
    counts = {k: sum(1 for d in desired if d.kind == k) for k in tr.KIND_ORDER}
    assert counts == {"group": 2, "ticket_field": 3, "ticket_form": 2, "organization_field": 2, "schedule": 1, "dynamic_content": 3,
                      "trigger_category": 1, "trigger": 2, "macro": 2, "automation": 1, "sla_policy": 1, "view": 1}


def test_every_object_carries_its_ownership_marker(desired):
    for d in desired:
        assert ownership(d.kind, d.payload, "sample-service") == ("sample-service", d.key), (d.kind, d.key)
    assert tr.marker("sample-service", "greeting") == "[deskbook:sample-service:greeting]"
    assert by(desired, "group", "support").payload["description"].endswith("[deskbook:sample-service:support]")


def test_payloads_validate_against_the_official_spec(shared, desired):
    assert_valid_objects(shared, desired)


def test_refs_resolve_to_ids_with_the_types_zendesk_wants(desired):
    ids = fake_ids(desired)
    trigger = resolve_refs(by(desired, "trigger", "route_billing").payload, ids)
    assert trigger["category_id"] == str(ids[("trigger_category", "routing")])
    assert {"field": "group_id", "value": str(ids[("group", "complaints")])} in trigger["actions"]
    urgent = resolve_refs(by(desired, "trigger", "urgent_phone").payload, ids)
    fields = {c["field"] for c in urgent["conditions"]["all"] + urgent["conditions"]["any"]}
    assert f"custom_fields_{ids[('ticket_field', 'request_category')]}" in fields
    assert f"custom_fields_{ids[('ticket_field', 'urgency')]}" in fields
    view = resolve_refs(by(desired, "view", "urgent").payload, ids)
    assert ids[("ticket_field", "urgency")] in view["output"]["columns"]  # a lone ref becomes the integer id
    # A parent category is matched by its leaves' tags, so the rule names no field.
    assert refs_in(by(desired, "trigger", "route_billing").payload) == {
        ("trigger_category", "routing"), ("group", "complaints")}
    assert ("ticket_field", "urgency") in refs_in(by(desired, "trigger", "urgent_phone").payload)


def test_unresolved_ref_is_a_clear_error():
    with pytest.raises(DeskbookError, match=r"\{ref:group:nobody\}.*'nobody'"):
        resolve_refs({"value": "{ref:group:nobody}"}, {})
    assert resolve_refs({"v": "x {ref:group:a} y"}, {("group", "a"): 7}) == {"v": "x 7 y"}
    assert resolve_refs({"v": "{ref:group:a:text}"}, {("group", "a"): 7}) == {"v": "7"}
    assert resolve_refs({"v": "{ref:group:a}"}, {}, strict=False) == {"v": "{ref:group:a}"}


def test_schedule_is_minutes_from_sunday_midnight_in_zendesk_time_zone(desired):
    sched = by(desired, "schedule", tr.SCHEDULE_KEY).payload
    assert sched["time_zone"] == "Beijing"
    assert sched["intervals"][0] == {"start_time": 1 * 1440 + 9 * 60, "end_time": 1 * 1440 + 18 * 60}
    assert sched["intervals"][-1] == {"start_time": 5 * 1440 + 540, "end_time": 5 * 1440 + 1080}
    assert len(sched["intervals"]) == 5
    assert sched["holidays"] == [{"name": "国庆节", "start_date": "2026-10-01", "end_date": "2026-10-07"}]
    with pytest.raises(DeskbookError, match="end before"):
        tr.schedule_intervals([m.BusinessHours(("sat",), "18:00", "09:00")])


def test_phrases_become_dynamic_content_with_a_variant_per_locale(desired, library):
    item = by(desired, "dynamic_content", "greeting").payload
    assert item["name"] == "deskbook__sample_service__greeting"
    assert item["default_locale_id"] == 10
    variants = {v["locale_id"]: v for v in item["variants"]}
    assert set(variants) == {10, 1}
    assert variants[10]["default"] and not variants[1]["default"]
    assert variants[1]["content"] == render_for_desk(library, "greeting", "en", "zendesk")
    assert "{{ticket.requester.name}}" in variants[10]["content"]
    # Sync-job phrases are rendered with real values, not installed as dynamic content.
    assert not any(d.kind == "dynamic_content" and d.key == "renewal_reminder" for d in desired)


def test_macros_nest_by_stage_and_answer_through_dynamic_content(desired):
    greeting = by(desired, "macro", "greeting").payload
    assert greeting["title"] == "样例服务::S-2 受理::问候"
    actions = {a["field"]: a["value"] for a in greeting["actions"]}
    assert actions["comment_value"] == "{{dc.deskbook__sample_service__greeting}}"
    assert actions["comment_mode_is_public"] == "true"
    assert actions["status"] == "open"
    escalate = {a["field"]: a["value"] for a in by(desired, "macro", "escalate").payload["actions"]}
    assert escalate["comment_mode_is_public"] == "false"
    assert escalate["current_tags"] == "escalated"
    assert escalate["custom_fields_{ref:ticket_field:request_category}"] == "request_category__invoice"
    assert ("dynamic_content", "escalation_notice") in by(desired, "macro", "escalate").depends_on


def test_category_dropdown_nests_sub_categories_and_parent_conditions_use_tags(desired):
    field = by(desired, "ticket_field", "request_category").payload
    assert field["type"] == "tagger"
    assert field["title"] == "请求类别"  # generated: the playbook does not declare it
    assert field["custom_field_options"] == [
        {"name": "账务::通用", "value": "request_category__billing"},
        {"name": "账务::退款", "value": "request_category__refund"},
        {"name": "账务::发票", "value": "request_category__invoice"},
        {"name": "技术", "value": "request_category__technical"},
    ]
    assert "en: Request category" in field["description"]
    route = by(desired, "trigger", "route_billing").payload["conditions"]["all"]
    assert {"field": "current_tags", "operator": "includes",
            "value": "request_category__billing request_category__refund request_category__invoice"} in route
    assert {"field": "update_type", "operator": "is", "value": "Create"} in route
    urgent = by(desired, "trigger", "urgent_phone").payload["conditions"]["all"]
    assert {"field": "via_id", "operator": "is", "value": "34"} in urgent


def test_unknown_group_and_empty_trigger_are_named(library):
    pb = sample_playbook()
    bad = dataclasses.replace(pb.macros[1], actions=(A("group", "ghosts"),), source=m.SourceRef("pb.yaml", 12, 3))
    with pytest.raises(DeskbookError, match=r"pb.yaml:12:3 \(macro 'escalate'\): unknown group 'ghosts'"):
        tr.desired_objects(dataclasses.replace(pb, macros=(pb.macros[0], bad)), library)
    empty = dataclasses.replace(pb.triggers[0], conditions=m.Conditions())
    with pytest.raises(DeskbookError, match="trigger 'route_billing' has no conditions"):
        tr.desired_objects(dataclasses.replace(pb, triggers=(empty,)), library)


def test_organization_fields_have_unique_keys(library):
    dup = sample_playbook()
    dup = dataclasses.replace(dup, fields=dup.fields + (
        m.Field("tier_", "organization", "text", L("等级2", "Tier2"), L("x", "x")),))
    with pytest.raises(DeskbookError, match="same Zendesk key 'tier'"):
        tr.desired_objects(dup, library)


def test_automation_rules_and_sla_shape(desired):
    auto = by(desired, "automation", "progress_reminder").payload
    assert {"field": "assignee_updated_at", "operator": "greater_than", "value": "24"} in auto["conditions"]["all"]
    assert auto["title"].endswith("[deskbook:sample-service:progress_reminder]")
    assert ["assignee_id", "[{{ticket.id}}] {{ticket.title}}", "{{dc.deskbook__sample_service__progress_update}}"] in [
        a["value"] for a in auto["actions"]]
    sla = by(desired, "sla_policy", "standard").payload
    assert {"priority": "normal", "metric": "next_reply_time", "target": 480, "business_hours": False} in sla[
        "policy_metrics"]
    assert sla["filter"]["all"] == [{"field": "group_id", "operator": "is", "value": "{ref:group:support:text}"}]


def _with_automation(**kw) -> m.Playbook:
    base = dict(key="loop", title=L("循环", "Loop"), description=L("x", "x"),
                conditions=m.Conditions(all=(C("status", "is", "open"), C("hours_since_updated", "greater_than", 4))),
                actions=(A("priority", "high"),), source=m.SourceRef("pb.yaml", 40, 5))
    base.update(kw)
    return sample_playbook(automations=(m.Automation(**base),))


def test_automation_without_nullifying_condition_is_rejected_naming_it(library):
    with pytest.raises(DeskbookError) as info:
        tr.desired_objects(_with_automation(), library)
    text = str(info.value)
    assert "'loop'" in text and "nullifying" in text and "pb.yaml:40:5" in text


@pytest.mark.parametrize("conditions, actions", [
    ((C("status", "is", "open"), C("hours_since_updated", "greater_than", 4)), (A("status", "pending"),)),
    ((C("status", "is", "open"), C("hours_since_updated", "is", 4)), (A("priority", "high"),)),
    ((C("status", "less_than", "solved"), C("hours_since_updated", "greater_than", 4),
      C("tags", "not_includes", ["nudged"])), (A("add_tags", ["nudged", "x"]),)),
    ((C("status", "is", "pending"), C("priority", "is_not", "high"), C("hours_since_pending", "greater_than", 4)),
     (A("priority", "high"),)),
])
def test_automations_with_a_nullifying_condition_are_accepted(library, conditions, actions):
    pb = _with_automation(conditions=m.Conditions(all=conditions), actions=actions)
    assert any(d.kind == "automation" for d in tr.desired_objects(pb, library))


def test_automation_needs_a_time_condition(library):
    pb = _with_automation(conditions=m.Conditions(all=(C("status", "is", "open"),)), actions=(A("status", "solved"),))
    with pytest.raises(DeskbookError, match="no time condition"):
        tr.desired_objects(pb, library)


def test_view_shape_and_scope_rule(desired, library):
    view = by(desired, "view", "urgent").payload
    assert view["all"] == [{"field": "status", "operator": "less_than", "value": "solved"}]
    assert {"field": "current_tags", "operator": "includes", "value": "escalated"} in view["any"]
    assert view["output"]["columns"][:3] == ["subject", "requester", "priority"]
    assert view["output"]["sort_by"] == "updated" and view["output"]["sort_order"] == "desc"
    bad = sample_playbook(views=(m.View("x", L("x", "x"), L("x", "x"),
                                        conditions=m.Conditions(all=(C("priority", "is", "urgent"),))),))
    with pytest.raises(DeskbookError, match="view 'x' needs an `all` condition"):
        tr.desired_objects(bad, library)


def test_process_views_report_names_what_is_missing():
    missing = tr.missing_process_views(sample_playbook())
    assert "urgent or escalated tickets" not in missing
    assert "complaints (C-*)" in missing and "renewal tasks" in missing


def _standard_playbook():
    try:
        from deskbook.playbooks.loader import load_playbook
    except ImportError:
        pytest.skip("playbook loader not available yet")
    try:
        return load_playbook()
    except (DeskbookError, FileNotFoundError, OSError) as exc:
        pytest.skip(f"shipped standard playbook does not load yet: {exc}")


def test_shipped_standard_playbook_translates_and_validates(shared, library):
    pb = _standard_playbook()
    desired = tr.desired_objects(pb, library)
    kinds = {d.kind for d in desired}
    assert {"group", "ticket_field", "macro", "trigger", "automation", "view"} <= kinds
    assert_valid_objects(shared, desired)
    for d in desired:
        assert ownership(d.kind, d.payload, pb.name) == (pb.name, d.key)
    macros = [d for d in desired if d.kind == "macro"]
    assert all(d.payload["title"].count("::") == 2 for d in macros)


#: Create endpoint and body wrapper per kind (what the connector POSTs).
CREATE_ENDPOINTS = {
    "group": ("/api/v2/groups.json", "group"), "ticket_field": ("/api/v2/ticket_fields.json", "ticket_field"),
    "organization_field": ("/api/v2/organization_fields.json", "organization_field"),
    "schedule": ("/api/v2/business_hours/schedules.json", "schedule"),
    "dynamic_content": ("/api/v2/dynamic_content/items.json", "item"),
    "trigger_category": ("/api/v2/trigger_categories", "trigger_category"),
    "trigger": ("/api/v2/triggers.json", "trigger"), "macro": ("/api/v2/macros.json", "macro"),
    "automation": ("/api/v2/automations.json", "automation"), "sla_policy": ("/api/v2/slas/policies.json", "sla_policy"),
    "view": ("/api/v2/views.json", "view"), "ticket_form": ("/api/v2/ticket_forms.json", "ticket_form"),
}


def test_create_requests_pass_the_shared_contract_checker(shared, desired):
    """The same check the sandbox and the suite-wide contract test apply to every request."""
    try:
        from deskbook.connectors.contract import zendesk_contract
    except ImportError:
        pytest.skip("deskbook.connectors.contract not available")
    contract = zendesk_contract(shared)
    ids = fake_ids(desired)
    assert set(CREATE_ENDPOINTS) == set(tr.KIND_ORDER)
    for obj in desired:
        path, wrapper = CREATE_ENDPOINTS[obj.kind]
        body = {wrapper: resolve_refs(obj.payload, ids)}
        assert contract.check_request("POST", path, None, body) == [], (obj.kind, obj.key)

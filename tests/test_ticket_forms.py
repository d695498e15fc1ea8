"""Ticket forms: each request category shows the fields it needs (Zendesk forms with conditional
fields; on JSM, a plan note per request-type group since its public API cannot set form fields)."""

from __future__ import annotations

import json

import pytest

from deskbook.cli import main
from deskbook.connectors.jsm import translate as jsm_translate
from deskbook.connectors.zendesk import translate as tr
from deskbook.connectors.zendesk.connector import ZendeskConnector
from deskbook.connectors.zendesk.compare import parse_marker
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library

PLAYBOOK = load_playbook()
COMPLAINT = {"emotional_state", "compensation_demand", "facts_verified", "root_cause", "remedy", "remedy_agreed"}
CALLBACK = {"callback_time", "callback_feedback", "callback_follow_up_items"}
SURVEY = {"score_response_speed", "score_resolution", "score_attitude", "survey_suggestions"}
REF = "{ref:ticket_field:%s}"


@pytest.fixture(scope="module")
def forms() -> dict[str, dict]:
    return {d.key: d.payload for d in tr.desired_objects(PLAYBOOK, load_library()) if d.kind == "ticket_form"}


def keys(refs) -> set[str]:
    return {r[len("{ref:ticket_field:"):-1] for r in refs}


def conditional(form: dict) -> dict[tuple[str, str], set[str]]:
    return {(keys([c["parent_field_id"]]).pop(), c["value"]): keys(f["id"] for f in c["child_fields"])
            for c in form["agent_conditions"]}


def test_one_form_per_top_level_category(forms):
    assert sorted(forms) == [f"form_{c.key}" for c in sorted(PLAYBOOK.categories, key=lambda c: c.key)]
    for form in forms.values():
        assert keys(form["ticket_field_ids"][:1]) == {PLAYBOOK.category_field}  # the category first


def test_a_product_question_shows_no_complaint_or_callback_field_and_the_survey_only_once_solved(forms):
    consultation = forms["form_consultation"]
    shown = keys(consultation["ticket_field_ids"])
    assert not shown & (COMPLAINT | CALLBACK)
    assert {"customer_need", "solution", "eta", "severity"} <= shown
    assert conditional(consultation) == {("request_stage", "request_stage__stage_solved"): SURVEY}


def test_complaint_and_callback_fields_appear_where_those_categories_need_them(forms):
    problem = conditional(forms["form_problem"])
    assert problem[(PLAYBOOK.category_field, tr.option_tag(PLAYBOOK.category_field, "complaint"))] == COMPLAINT
    assert COMPLAINT <= keys(forms["form_problem"]["ticket_field_ids"])
    service = conditional(forms["form_service"])
    assert service[(PLAYBOOK.category_field, tr.option_tag(PLAYBOOK.category_field, "callback_request"))] == CALLBACK
    assert not keys(forms["form_service"]["ticket_field_ids"]) & COMPLAINT
    every_field = {f.key for f in PLAYBOOK.ticket_fields()} | {PLAYBOOK.category_field}
    assert set().union(*(keys(f["ticket_field_ids"]) for f in forms.values())) == every_field  # none left out


def test_forms_install_with_real_field_ids_and_replan_clean(capsys):
    with running_sandbox() as desk:
        argv = ["--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", desk.token]
        assert main(["-q", "apply", "--doit", *argv]) == 0
        client = ZendeskConnector.connect(desk.url, desk.email, desk.token).client
        fields = {f["id"]: f for f in client.list("ticket_field")}
        key_of = {i: (parse_marker(f.get("description")) or (None, None))[1] for i, f in fields.items()}
        forms = {f["display_name"]: f for f in client.list("ticket_form")}
        assert sorted(forms) == sorted(c.name.get("zh-CN") for c in PLAYBOOK.categories)
        problem = forms["问题类"]
        assert {key_of[i] for i in problem["ticket_field_ids"]} >= COMPLAINT | {PLAYBOOK.category_field}
        complaint = next(c for c in problem["agent_conditions"] if key_of[c["parent_field_id"]] == PLAYBOOK.category_field)
        assert {key_of[f["id"]] for f in complaint["child_fields"]} == COMPLAINT
        assert "[deskbook:standard-service:form_problem]" in problem["name"]
        capsys.readouterr()
        assert main(["plan", "--json", *argv]) == 0, json.loads(capsys.readouterr().out)["changes"]
        assert main(["-q", "uninstall", "--doit", *argv]) == 0
        assert client.list("ticket_form") == []


@pytest.mark.contract_exempt("sends forms the desk must refuse")
def test_the_sandbox_refuses_forms_the_desk_refuses():
    from deskbook.http import DeskHTTPError

    with running_sandbox() as desk:
        client = ZendeskConnector.connect(desk.url, desk.email, desk.token).client
        first = client.create("ticket_field", {"type": "tagger", "title": "Kind",
                                               "custom_field_options": [{"name": "A", "value": "kind_a"}]})
        second = client.create("ticket_field", {"type": "text", "title": "Detail"})
        for form in (
            {"name": "Unknown field", "ticket_field_ids": [first["id"], 999999]},
            {"name": "Child outside", "ticket_field_ids": [first["id"]], "agent_conditions": [
                {"parent_field_id": first["id"], "value": "kind_a", "child_fields": [{"id": second["id"]}]}]},
            {"name": "Not an option", "ticket_field_ids": [first["id"], second["id"]], "agent_conditions": [
                {"parent_field_id": first["id"], "value": "kind_zzz", "child_fields": [{"id": second["id"]}]}]},
            {"ticket_field_ids": [first["id"]]},
        ):
            with pytest.raises(DeskHTTPError) as refused:
                client.create("ticket_form", form)
            assert refused.value.status == 422, form
        ok = client.create("ticket_form", {"name": "Fine", "ticket_field_ids": [first["id"], second["id"]],
                                           "agent_conditions": [{"parent_field_id": first["id"], "value": "kind_a",
                                                                 "child_fields": [{"id": second["id"]}]}]})
        assert ok["agent_conditions"][0]["child_fields"][0]["is_required"] is False


def test_the_jsm_plan_lists_each_request_types_fields():
    notes = jsm_translate.request_form_notes(PLAYBOOK)
    assert len(notes) == len(PLAYBOOK.categories)
    problem = next(n for n in notes if "问题类: 投诉" in n)
    assert "only on 问题类: 投诉: 客户情绪" in problem and "after resolution" in problem and "评分：响应速度" in problem
    consultation = next(n for n in notes if "咨询类: 产品咨询" in n)
    assert "客户情绪" not in consultation and "回访时间" not in consultation

"""`deskbook test`: scenarios on the embedded Zendesk sandbox, exit codes, JSON, coverage."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deskbook.cli import main

PLAYBOOKS = Path(__file__).resolve().parents[1] / "playbooks"


def test_one_scenario_passes_with_the_json_shape_the_issue_gives(capsys):
    assert main(["test", "--desk", "zendesk", "--scenario", "sla-policy-order", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["desk"] == "zendesk"
    [scenario] = report["scenarios"]
    assert scenario["name"] == "sla-policy-order" and scenario["status"] == "passed"
    assert {"S-7", "S-8", "S-10"} <= set(scenario["implements"])
    assert all(step["status"] == "passed" for step in scenario["steps"])
    assert {"id": "S-1", "reason": report["not_expressible"][0]["reason"]} == report["not_expressible"][0]


def test_the_sla_in_force_is_read_past_the_first_page_of_metric_events(capsys, monkeypatch):
    """On a busy desk a ticket's SLA events span several export pages: the policy in force after an
    escalation is the ticket's latest apply_sla, which the driver reads however many pages on."""
    from deskbook.connectors.scenarios import zendesk_driver
    from deskbook.connectors.zendesk.sandbox import app

    page = 2
    monkeypatch.setattr(app, "METRIC_EVENTS_PAGE", page)  # the time-based export's pages, too
    monkeypatch.setattr(zendesk_driver, "METRIC_EVENTS_PAGE", page)
    assert main(["test", "--desk", "zendesk", "--scenario", "sla-policy-order", "--json"]) == 0, capsys.readouterr().out


def test_a_failing_step_exits_1_naming_scenario_step_expected_and_actual(playbook_copy, capsys):
    path, folder = playbook_copy
    (folder / "wrong.yaml").write_text(
        "implements: [S-5]\nsteps:\n"
        "  - customer_writes: {channel: web, category: fault, priority: normal, subject: x, body: y}\n"
        "    expect: {group: sales}\n", encoding="utf-8")
    assert main(["test", "--desk", "zendesk", "--playbook", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED  wrong" in out
    assert "step 1 (customer_writes): group: expected 'sales', got 'technical_support'" in out
    # and no scenario proves most ids any more: coverage fails, naming them
    assert "FAILED coverage" in out and "S-2" in out


def test_a_real_desk_without_doit_writes_nothing_and_says_what_it_would_create(capsys, monkeypatch):
    monkeypatch.setenv("ZENDESK_URL", "https://example.zendesk.com")
    assert main(["test", "--desk", "zendesk", "--scenario", "one-survey"]) == 64
    out = capsys.readouterr().out
    assert "one-survey: 1 test customer + 1 test ticket tagged deskbook_test" in out
    assert "skips step 4 onwards (time cannot pass on a real desk)" in out


def test_jsm_refuses_a_rule_whose_condition_it_cannot_express_unless_the_playbook_accepts(tmp_path):
    from deskbook.connectors.jsm import translate as tr
    from deskbook.errors import DeskbookError
    from deskbook.playbooks.loader import load_playbook

    text = (PLAYBOOKS / "standard-service.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("      sla.online_first_reply:\n        effect: skip\n",
                                 "      sla.online_first_reply_x:\n        effect: skip\n"), encoding="utf-8")
    with pytest.raises(DeskbookError) as caught:
        tr.check_desk_limits(load_playbook(str(path)))
    assert "sla.online_first_reply" in str(caught.value) and "channel is chat" in str(caught.value)
    skipped, notes = tr.check_desk_limits(load_playbook())
    assert "sla.online_first_reply" in skipped
    assert any(n.startswith("sla.online_first_reply on JSM (not installed)") for n in notes)


# ---------------------------------------------------------------- JSM

def test_every_scenario_passes_on_the_embedded_jsm_sandbox_with_full_coverage(capsys):
    assert main(["test", "--desk", "jsm", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["desk"] == "jsm" and "coverage_missing" not in report
    names = {s["name"]: s["status"] for s in report["scenarios"]}
    assert names["robot-vacuum"] == "passed" and "survey-without-csat" not in names  # desks: [zendesk] only
    assert all(status == "passed" for status in names.values())
    assert {e["id"] for e in report["not_expressible"]} == {"S-1", "R-1", "R-2", "R-3", "R-4", "T-1", "T-4"}


def test_plan_for_jsm_prints_what_no_jsm_scenario_can_prove_as_notes(capsys):
    from deskbook.connectors.jsm.sandbox import running_sandbox

    with running_sandbox() as desk:
        code = main(["plan", "--desk", "jsm", "--url", desk.url, "--email", desk.email, "--token", desk.token,
                     "--cloud-id", desk.cloud_id, "--json"])
    assert code in (0, 2)
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any(n.startswith("R-4 is not enforced by jsm rules") and "sync jobs" in n for n in notes)


def test_a_desk_override_changes_a_steps_expectations_on_that_desk_only_and_needs_a_reason(tmp_path):
    from deskbook.connectors.scenarios.model import parse_scenario
    from deskbook.errors import DeskbookError

    data = {"implements": ["S-5"], "steps": [{
        "customer_writes": {"category": "fault"}, "expect": {"status": "open", "group": "sales"},
        "jsm": {"expect": {"status": "pending", "group": None}, "why": "JSM keeps it waiting"}}]}
    step = parse_scenario(data, "x.yaml").steps[0]
    assert step.expect_on("zendesk") == {"status": "open", "group": "sales"}
    assert step.expect_on("jsm") == {"status": "pending"}
    del data["steps"][0]["jsm"]["why"]
    with pytest.raises(DeskbookError, match="why"):
        parse_scenario(data, "x.yaml")


def test_a_step_the_jsm_desk_cannot_do_fails_the_scenario_with_the_reason(playbook_copy, capsys):
    path, folder = playbook_copy
    (folder / "no-such-macro.yaml").write_text(
        "implements: [S-5]\nsteps:\n"
        "  - customer_writes: {channel: web, category: fault, priority: normal, subject: x, body: y}\n"
        "  - agent_applies: no_such_macro\n", encoding="utf-8")
    assert main(["test", "--desk", "jsm", "--playbook", str(path), "--scenario", "no-such-macro"]) == 1
    out = capsys.readouterr().out
    assert "FAILED  no-such-macro" in out and "no manual rule for macro 'no_such_macro'" in out


@pytest.mark.parametrize("desk_name, scenario_name", [("zendesk", "routing"), ("jsm", "sla-policy-order")])
def test_a_state_reads_the_sla_only_for_steps_expecting_it_and_the_history_once(desk_name, scenario_name):
    """Reads per step: the SLA (JSM: one search per goal besides) only when the step expects it; the
    ticket's audits (Zendesk) / the request's changelog (JSM) at most once per state."""
    from deskbook.connectors.commands import load_inputs
    from deskbook.connectors.registry import get_desk
    from deskbook.connectors.scenarios.model import load_scenarios, scenario_folder
    from deskbook.connectors.scenarios.run import _patterns, _start
    from deskbook.connectors.scenarios.runner import run_scenario

    class Args:
        playbook = scripts = None

    playbook, library = load_inputs(Args())
    scenario = next(s for s in load_scenarios(scenario_folder(playbook.metadata.name, None)).scenarios
                    if s.name == scenario_name)
    with get_desk(desk_name).scenario_driver(playbook, library, scenario, start=_start(scenario, desk_name)) as driver:
        result = run_scenario(driver, scenario, pattern=_patterns(library, playbook, desk_name), desk=desk_name)
        calls = dict(driver.session.calls)
    assert result["status"] == "passed", result
    states = len(scenario.steps)
    sla_steps = sum("sla" in step.expect_on(desk_name) for step in scenario.steps)
    history = "/audits" if desk_name == "zendesk" else "/changelog"
    sla = "GET /api/v2/incremental/ticket_metric_events" if desk_name == "zendesk" else "/sla"
    assert sum(n for k, n in calls.items() if k.startswith("GET ") and k.endswith(history)) <= states
    assert sum(n for k, n in calls.items() if k.startswith("GET ") and k.endswith(sla)) == sla_steps
    if desk_name == "zendesk":  # a view's ticket list, one read per view, only for steps expecting views
        views = sum(kind == "view" for kind, _ in driver.ids)
        view_steps = sum("views" in step.expect_on(desk_name) for step in scenario.steps)
        assert sum(n for k, n in calls.items() if k.startswith("GET /api/v2/views/")) == views * view_steps


@pytest.mark.parametrize("where", ["sandbox", "dry run", "real desk"])
def test_a_misspelled_scenario_is_refused_naming_it_and_the_known_ones(capsys, monkeypatch, where):
    argv = ["test", "--desk", "zendesk", "--scenario", "one-survy"]
    if where != "sandbox":
        monkeypatch.setenv("ZENDESK_URL", "https://example.zendesk.com")
        monkeypatch.setenv("ZENDESK_EMAIL", "admin@example.com")
        monkeypatch.setenv("ZENDESK_TOKEN", "not-a-token")
    if where == "real desk":
        argv.append("--doit")
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "Would run" not in out
    [line] = err.strip().splitlines()
    assert "no scenario named one-survy" in line and "known scenarios:" in line and "one-survey" in line


def test_a_scenario_of_another_desk_is_refused_naming_the_desks_scenarios(capsys):
    assert main(["test", "--desk", "jsm", "--scenario", "survey-without-csat"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "scenario survey-without-csat does not run on jsm" in line and "routing" in line


def test_a_step_the_desk_cannot_run_is_named_by_its_kind_whatever_its_reason_says():
    from deskbook.connectors.scenarios.model import load_scenarios, scenario_folder
    from deskbook.connectors.scenarios.run import render
    from deskbook.connectors.scenarios.runner import run_scenario

    scenario = next(s for s in load_scenarios(scenario_folder("standard-service")).scenarios if s.name == "routing")

    class CannotRun:
        wanted: set = set()

        def skip_reason(self, action):  # a reason that reads like the runner's own "step N failed"
            return "step replay needs the customer's own login"

    result = run_scenario(CannotRun(), scenario, pattern=lambda *args: re.compile(""), desk="zendesk")
    assert [s["skip"] for s in result["steps"]] == ["cannot_run"] + ["after_skip"] * (len(scenario.steps) - 1)
    text = render({"desk": "zendesk", "scenarios": [result], "not_expressible": []})
    assert "step 1 and later skipped: step replay needs the customer's own login" in text
    assert text.count("skipped:") == 1

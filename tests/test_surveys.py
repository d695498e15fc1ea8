"""S-11: the three scores on the customer's record, exactly once (sync/surveys.py, the survey job)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deskbook.errors import ValidationError
from deskbook.playbooks.loader import load_playbook
from deskbook.sync.surveys import SURVEY_JOB, HeldSurvey, SurveyResult, score_of, survey_due

ROOT = Path(__file__).resolve().parents[1]


def result(ticket, day, speed=5, org=7):
    return SurveyResult(org, ticket, day, speed, 4, 5, f"suggestion {ticket}")


def test_the_newest_unsettled_result_is_written_older_ones_superseded_held_ones_done():
    a, b, c = result(11, "2026-03-01"), result(12, "2026-03-03"), result(10, "2026-03-03")
    due = survey_due([a, b, c], HeldSurvey(), done=set())
    assert due.write == b and set(due.superseded) == {a, c} and due.held == ()  # same day: the higher request id
    # the record already holds b (a lost ledger learns it from the organization export): nothing to write
    due = survey_due([a, b, c], HeldSurvey("12", "2026-03-03"), done=set())
    assert due.write is None and set(due.held) == {a, b, c}
    # done keys are never looked at again; a newer result than the record is written
    d = result(13, "2026-03-04")
    due = survey_due([a, b, c, d], HeldSurvey("12", "2026-03-03"), done={a.key, b.key, c.key})
    assert due.write == d and due.superseded == () and due.held == ()
    assert d.key == "deskbook:surveys:7:13"
    assert [score_of(v) for v in ("score_1", "score_5", "5", "score_6", None)] == [1, 5, 5, None, None]


def _variant(tmp_path, old, new, count=1):
    text = (ROOT / "playbooks" / "standard-service.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "standard-service.yaml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path, text.replace(old, new, count)


def test_desk_csat_and_the_playbooks_own_survey_are_never_both(tmp_path):
    shipped = load_playbook()
    assert shipped.survey is not None and shipped.survey.desk_csat is False
    # the desk's own survey on, while the automation still sends ours and marks the desk's offered: refused
    path, text = _variant(tmp_path, "  desk_csat: false", "  desk_csat: true")
    with pytest.raises(ValidationError) as caught:
        load_playbook(path)
    problems = "\n".join(caught.value.problems)
    assert "'satisfaction_survey' must not send 'satisfaction_survey' too: a customer gets one survey" in problems
    assert "marking the desk's survey offered in 'satisfaction_survey' would stop it" in problems
    # the desk's own off, and our automation does not mark it offered: an account that has it on sends two
    marked = "      # the desk's own one-question survey counts as sent, so the customer gets one survey, ours\n" \
             "      - {field: satisfaction, value: offered}\n"
    path, text = _variant(tmp_path, marked, "")
    with pytest.raises(ValidationError) as caught:
        load_playbook(path)
    assert "'satisfaction_survey' sends the survey invitation: add the action `{field: satisfaction, value: offered}`" \
        in "\n".join(caught.value.problems)


def test_a_score_field_without_five_scores_is_refused(tmp_path):
    path, _ = _variant(tmp_path, "  response_speed: score_response_speed\n", "  response_speed: severity\n")
    with pytest.raises(ValidationError) as caught:
        load_playbook(path)
    assert "'severity' needs five options scoring 1 to 5" in "\n".join(caught.value.problems)


def test_plan_says_which_survey_and_where_the_record_is():
    from deskbook.connectors.zendesk.translate import survey_notes

    notes = survey_notes(load_playbook())
    assert "switch Zendesk's customer satisfaction (CSAT) off" in notes[0]
    assert "survey_response_speed" in notes[1] and "48 hours" in notes[1]
    csat = dataclasses.replace(load_playbook(), survey=dataclasses.replace(load_playbook().survey, desk_csat=True))
    assert "keep it switched on" in survey_notes(csat)[0]


# ---------------------------------------------------------------- against the sandbox


@pytest.fixture(scope="module")
def installed():
    """A Zendesk sandbox with the shipped playbook applied, and a customer organization."""
    from deskbook.connectors.commands import make_plan
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox
    from deskbook.scripts_library import load_library

    playbook = load_playbook()
    with running_sandbox(export_lag_seconds=0) as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        plan, snapshot = make_plan(connector, playbook, load_library(), adopt=True)
        connector.apply(plan, snapshot)
        desk.playbook = playbook
        desk.connector = connector
        yield desk


def _scored_ticket(desk, org_id, speed, resolution, attitude, status="solved"):
    from deskbook.connectors.zendesk.translate import option_tag

    tags = [option_tag("score_response_speed", f"score_{speed}"), option_tag("score_resolution", f"score_{resolution}"),
            option_tag("score_attitude", f"score_{attitude}")]
    return desk.store.add_ticket(organization_id=org_id, status=status, subject="surveyed", tags=tags)


def _run(desk, ledger_path):
    from deskbook.connectors.zendesk.sync_desk import connect
    from deskbook.sync.jobs import settings_from_playbook
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.runner import run_jobs

    sync_desk = connect(desk.url, desk.email, desk.token)
    ledger = Ledger(ledger_path)
    try:
        report = run_jobs(sync_desk, ledger, settings_from_playbook(desk.playbook), jobs=(SURVEY_JOB,))
    finally:
        ledger.close()
    writes = sum(n for name, n in sync_desk.calls.items() if name.startswith("PUT /api/v2/organizations"))
    return report.jobs[SURVEY_JOB], writes, sync_desk.calls


def test_scores_reach_the_record_once_through_reruns_a_lost_ledger_and_a_killed_write(installed, tmp_path):
    org = installed.connector.client.create_organization({"name": "Northwind"})
    org_id = int(org["id"])
    _scored_ticket(installed, org_id, 3, 4, 5)
    newest = _scored_ticket(installed, org_id, 5, 4, 4)
    unscored = installed.store.add_ticket(organization_id=org_id, status="solved", subject="no survey")
    assert unscored

    job, writes, _ = _run(installed, tmp_path / "ledger.sqlite")
    assert (job.created, job.skipped, writes) == (1, 1, 1)  # the newest written, the older superseded
    record = installed.connector.client.organization(org_id)["organization_fields"]
    assert (record["survey_ticket"], record["survey_response_speed"], record["survey_attitude"]) == (str(newest["id"]), 5, 4)

    job, writes, calls = _run(installed, tmp_path / "ledger.sqlite")  # the next day: nothing new
    assert (job.created, writes) == (0, 0)
    assert not any(name.startswith("GET /api/v2/tickets/") for name in calls)  # no read per ticket

    job, writes, _ = _run(installed, tmp_path / "lost.sqlite")  # a lost ledger learns from the record
    assert (job.created, writes, job.already_done) == (0, 0, 2)

    # a run killed after its intent and around the write: the next one reads the record first
    later = _scored_ticket(installed, org_id, 2, 2, 2)
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.surveys import survey_key

    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.mark_pending(survey_key(org_id, later["id"]), SURVEY_JOB, org_id, str(later["id"]))
    ledger.close()
    record = installed.store.get("organization", org_id)  # it had landed, too late for the export to list it
    record["organization_fields"].update({"survey_ticket": str(later["id"]), "survey_date": "2099-01-01"})
    record["updated_at"] = "2020-01-01T00:00:00Z"  # (the export's last minute is left out: not listed)
    installed.store.put("organization", record, touch=False)
    job, writes, _ = _run(installed, tmp_path / "ledger.sqlite")
    assert (job.created, job.already_done, writes) == (0, 1, 0)


def test_jsm_says_what_it_does_not_install_yet_instead_of_dropping_it():
    from deskbook.connectors.jsm.translate import zendesk_only_notes

    notes = zendesk_only_notes(load_playbook())
    assert not any(n.startswith("C-1") for n in notes)  # the guardrail is installed on JSM (test_guardrail.py)
    assert any(n.startswith("S-11 record:") for n in notes)


def test_the_survey_scenarios_pass_one_survey_each_and_the_record_written_once(capsys):
    import json

    from deskbook.cli import main

    assert main(["test", "--desk", "zendesk", "--scenario", "one-survey", "--scenario", "phone-survey",
                 "--scenario", "survey-without-csat", "--json"]) == 0
    results = {r["name"]: r for r in json.loads(capsys.readouterr().out)["scenarios"]}
    assert {r["status"] for r in results.values()} == {"passed"}
    assert [s["action"] for s in results["phone-survey"]["steps"]].count("sync_runs") == 2

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


# ---------------------------------------------------------------- against the sandboxes
#
# One story on both desks: a desk adapter makes organizations and surveyed requests the way each
# desk keeps them (Zendesk: score dropdowns on the ticket, the record in organization fields; JSM:
# score labels and the `deskbook.fields` property on the request, the record in CSM detail fields)
# and counts record writes from the calls the sync desk sent.


class ZendeskSurveys:
    """The Zendesk sandbox with the shipped playbook applied."""

    writes_prefix = "PUT /api/v2/organizations"

    def __init__(self, desk):
        self.desk = desk
        self.client = desk.connector.client

    def organization(self, name):
        return int(self.client.create_organization({"name": name})["id"])

    def scored(self, org_id, speed, resolution, attitude):
        from deskbook.connectors.zendesk.translate import option_tag

        tags = [option_tag("score_response_speed", f"score_{speed}"), option_tag("score_resolution", f"score_{resolution}"),
                option_tag("score_attitude", f"score_{attitude}")]
        ticket = self.desk.store.add_ticket(organization_id=org_id, status="solved", subject="surveyed", tags=tags)
        return int(ticket["id"])

    def unscored(self, org_id):
        return self.desk.store.add_ticket(organization_id=org_id, status="solved", subject="no survey")["id"]

    def sync_desk(self):
        from deskbook.connectors.zendesk.sync_desk import connect

        return connect(self.desk.url, self.desk.email, self.desk.token)

    def record_writes(self, calls):
        return sum(n for name, n in calls.items() if name.startswith(self.writes_prefix))

    def record(self, org_id):
        fields = self.client.organization(org_id)["organization_fields"]
        return {k: fields.get(k) for k in ("survey_ticket", "survey_response_speed", "survey_attitude", "survey_date")}

    def reference(self, ticket):
        return str(ticket)

    def landed(self, org_id, ticket):
        """A write that landed, too late for the organization export to list it."""
        record = self.desk.store.get("organization", org_id)
        record["organization_fields"].update({"survey_ticket": str(ticket), "survey_date": "2099-01-01"})
        record["updated_at"] = "2020-01-01T00:00:00Z"  # (the export's last minute is left out: not listed)
        self.desk.store.put("organization", record, touch=False)


class JsmSurveys:
    """The JSM sandbox (Customer Service Management on) with the shipped playbook applied."""

    #: the six detail fields of a record: one PUT each
    fields = 6

    def __init__(self, desk):
        from test_jsm_sync import client_for

        self.desk = desk
        self.client = client_for(desk)
        self.types = {t["name"]: t["id"] for t in self.client.request_types()}

    def organization(self, name):
        org = self.client.create_organization(name)
        self.client.attach_organization(org["id"])
        return int(org["id"])

    def _request(self, org_id, labels, texts=None):
        from deskbook.connectors.jsm import translate as tr

        made = self.client.create_request(next(iter(self.types.values())), "surveyed")
        key = made["issueKey"]
        if texts:
            self.client.set_issue_property(key, tr.FIELDS_PROPERTY, texts)
        self.client.edit_issue(key, fields={self.client.organizations_field_id(): [org_id]},
                               update={"labels": [{"add": label} for label in labels]} if labels else None)
        path = f"/rest/api/3/issue/{key}/transitions"
        done = next(t for t in self.client.session.get_json(path)["transitions"] if t["to"]["name"] == "Resolved")
        self.client.session.request("POST", path, json={"transition": {"id": done["id"]}})
        self.desk.index_caught_up()  # surveyed before the run: JQL search (FACTS.md 8.2: it lags) has it
        return key

    def scored(self, org_id, speed, resolution, attitude):
        from deskbook.connectors.jsm import translate as tr

        labels = [tr.field_label("score_response_speed", f"score_{speed}"), tr.field_label("score_resolution", f"score_{resolution}"),
                  tr.field_label("score_attitude", f"score_{attitude}")]
        return self._request(org_id, labels, {"survey_suggestions": f"suggestion {speed}{resolution}{attitude}"})

    def unscored(self, org_id):
        from deskbook.connectors.jsm import translate as tr

        return self._request(org_id, [tr.field_label("score_response_speed", "score_5")])  # one score alone: no result

    def sync_desk(self):
        from deskbook.connectors.jsm.sync_desk import JsmSyncDesk

        return JsmSyncDesk(self.client.__class__(self.client.connection, session=self._session()))

    def _session(self):
        from deskbook.http import DeskSession

        return DeskSession(self.desk.url, auth=(self.desk.email, self.desk.token), sleep=lambda s: None)

    def record_writes(self, calls):
        puts = sum(n for name, n in calls.items() if name.startswith("PUT ") and name.endswith("/details"))
        assert puts % self.fields == 0, puts  # whole records only
        return puts // self.fields

    def record(self, org_id):
        profile = self.client.fetch_csm_profiles([str(org_id)])[0]
        values = {d["name"]: d["values"][0] if d["values"] else None for d in profile["details"]}
        return {"survey_ticket": values.get("survey_ticket"), "survey_date": values.get("survey_date"),
                **{k: int(float(values[k])) if values.get(k) else None for k in ("survey_response_speed", "survey_attitude")}}

    def reference(self, ticket):
        return ticket  # the request key, e.g. SUP-12

    def landed(self, org_id, ticket):
        for name, value in (("survey_date", "2099-01-01"), ("survey_ticket", ticket)):
            self.client.set_csm_detail(str(org_id), name, [value])


@pytest.fixture(scope="module", params=["zendesk", "jsm"])
def installed(request):
    """Each desk's sandbox with the shipped playbook applied (module-wide: organizations are per test)."""
    from deskbook.connectors.commands import make_plan
    from deskbook.scripts_library import load_library

    playbook = load_playbook()
    if request.param == "zendesk":
        from deskbook.connectors.zendesk.connector import ZendeskConnector
        from deskbook.connectors.zendesk.sandbox import running_sandbox

        with running_sandbox(export_lag_seconds=0) as desk:
            desk.connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
            plan, snapshot = make_plan(desk.connector, playbook, load_library(), adopt=True)
            desk.connector.apply(plan, snapshot)
            desk.playbook = playbook
            yield ZendeskSurveys(desk)
        return
    from deskbook.connectors.jsm.client import JsmClient, JsmConnection
    from deskbook.connectors.jsm.connector import JsmConnector
    from deskbook.connectors.jsm.sandbox import running_sandbox as jsm_sandbox

    from conftest import shared_dir

    with jsm_sandbox(spec=(shared_dir() / "jsm") if shared_dir() else None, run_rules=False) as desk:
        connection = JsmConnection(url=desk.url, email=desk.email, token=desk.token, project_key=desk.project_key,
                                   cloud_id=desk.cloud_id)
        connector = JsmConnector(JsmClient(connection))
        plan, snapshot = make_plan(connector, playbook, load_library(), adopt=True)
        connector.apply(plan, snapshot)
        desk.playbook = playbook
        yield JsmSurveys(desk)
        assert desk.violations() == []


def _run(desk, ledger_path):
    from deskbook.sync.jobs import settings_from_playbook
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.runner import run_jobs

    sync_desk = desk.sync_desk()
    ledger = Ledger(ledger_path)
    try:
        report = run_jobs(sync_desk, ledger, settings_from_playbook(desk.desk.playbook), jobs=(SURVEY_JOB,))
    finally:
        ledger.close()
    assert not report.jobs[SURVEY_JOB].skip_reasons or report.jobs[SURVEY_JOB].skipped, report.jobs[SURVEY_JOB].skip_reasons
    return report.jobs[SURVEY_JOB], desk.record_writes(sync_desk.calls), sync_desk.calls


def _number(reference):
    return int(str(reference).rsplit("-", 1)[-1])


def test_scores_reach_the_record_once_through_reruns_a_lost_ledger_and_a_killed_write(installed, tmp_path):
    desk = installed
    org_id = desk.organization("Northwind")
    desk.scored(org_id, 3, 4, 5)
    newest = desk.scored(org_id, 5, 4, 4)
    assert desk.unscored(org_id)

    job, writes, _ = _run(desk, tmp_path / "ledger.sqlite")
    assert (job.created, job.skipped, writes) == (1, 1, 1)  # the newest written, the older superseded
    record = desk.record(org_id)
    assert (record["survey_ticket"], record["survey_response_speed"], record["survey_attitude"]) == \
        (desk.reference(newest), 5, 4)

    job, writes, calls = _run(desk, tmp_path / "ledger.sqlite")  # the next day: nothing new
    assert (job.created, writes) == (0, 0)
    assert not any(name.startswith(("GET /api/v2/tickets/", "GET /rest/api/3/issue/")) for name in calls)  # no read per ticket

    job, writes, _ = _run(desk, tmp_path / "lost.sqlite")  # a lost ledger learns from the record
    assert (job.created, writes, job.already_done) == (0, 0, 2)

    # a run killed after its intent and around the write: the next one reads the record first
    later = desk.scored(org_id, 2, 2, 2)
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.surveys import survey_key

    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.mark_pending(survey_key(org_id, _number(later)), SURVEY_JOB, org_id, str(_number(later)))
    ledger.close()
    desk.landed(org_id, desk.reference(later))  # it had landed
    job, writes, _ = _run(desk, tmp_path / "ledger.sqlite")
    assert (job.created, job.already_done, writes) == (0, 1, 0)


@pytest.mark.parametrize("installed", ["jsm"], indirect=True)
def test_on_jsm_the_suggestions_are_the_agents_internal_note_when_the_request_has_no_text_field(installed, tmp_path):
    """An agent cannot edit an issue property in JSM's issue view: after the phone survey they note
    `Suggestions: …` (or `客户建议：…`) internally; the newest such note is the record's suggestions."""
    from deskbook.connectors.jsm import translate as tr
    from deskbook.sync.surveys import suggestions_in_note

    desk = installed
    org_id = desk.organization("Adventure Works")
    labels = [tr.field_label(key, "score_4") for key in ("score_response_speed", "score_resolution", "score_attitude")]
    key = desk._request(org_id, labels)
    for body, public in (("客户建议：先前的建议", False), ("Called back, all good", False),
                         ("Suggestions: faster spare parts", False), ("Suggestions: not this public reply", True)):
        desk.client.add_comment(key, body, public=public)
    job, writes, calls = _run(desk, tmp_path / "ledger.sqlite")
    assert (job.created, writes) == (1, 1)
    profile = desk.client.fetch_csm_profiles([str(org_id)])[0]
    values = {d["name"]: d["values"] for d in profile["details"]}
    assert values["survey_last_suggestions"] == ["faster spare parts"] and values["survey_ticket"] == [key]
    assert [suggestions_in_note(t, ("Suggestions", "客户建议")) for t in ("客户建议：快一点", "Suggestions : x", "Suggestion: y")] \
        == ["快一点", "x", None]


def test_jsm_plan_says_which_survey_and_installs_the_record_as_detail_fields_only_with_csm():
    from deskbook.connectors.jsm.translate import desired_objects, survey_notes
    from deskbook.scripts_library import load_library

    shipped = load_playbook()
    which, record = survey_notes(shipped, csm=True)
    assert "switch JSM's own request feedback off" in which and "phone_survey" in which  # one survey: ours
    assert "survey_date, survey_ticket, survey_response_speed" in record and "48 hours" in record
    assert "enter each customer's last survey by hand" in survey_notes(shipped, csm=False)[1]
    csat = dataclasses.replace(shipped, survey=dataclasses.replace(shipped.survey, desk_csat=True))
    assert "is the online survey; keep it on" in survey_notes(csat, csm=True)[0]

    def details(csm):
        return {d.name: d.payload["type"]["name"] for d in desired_objects(shipped, load_library(), project_ari="a",
                                                                           csm=csm) if d.kind == "organization_detail_field"}

    assert {k: v for k, v in details(True).items() if k.startswith("survey_")} == {
        "survey_date": "DATE", "survey_ticket": "TEXT", "survey_response_speed": "NUMBER", "survey_resolution": "NUMBER",
        "survey_attitude": "NUMBER", "survey_last_suggestions": "TEXT"}
    assert details(False) == {}


def test_jsm_without_csm_or_without_the_detail_fields_skips_the_job_and_says_why(tmp_path):
    from deskbook.connectors.jsm.sandbox import running_sandbox
    from deskbook.connectors.jsm.sync_desk import JsmSyncDesk
    from deskbook.sync.jobs import settings_from_playbook
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.runner import run_jobs
    from test_jsm_sync import client_for

    settings = settings_from_playbook(load_playbook())
    for csm in (False, True):  # no CSM; CSM without the fields (apply not run)
        with running_sandbox(csm=csm) as desk:
            ledger = Ledger(tmp_path / f"{csm}.sqlite")
            try:
                report = run_jobs(JsmSyncDesk(client_for(desk)), ledger, settings, jobs=(SURVEY_JOB,))
            finally:
                ledger.close()
            reasons = report.jobs[SURVEY_JOB].skip_reasons
            assert reasons == [("jsm: the organization detail fields survey_date, survey_ticket, survey_response_speed, "
                                "survey_resolution, survey_attitude, survey_last_suggestions are missing: run "
                                "`deskbook apply --desk jsm --doit` (it creates them)") if csm else
                               ("jsm: Customer Service Management is not available on this site, so there are no "
                                "organization detail fields to write the survey results to")]
            assert not any(r["method"] == "PUT" for r in desk.requests())


@pytest.mark.parametrize("desk", ["zendesk", "jsm"])
def test_the_survey_scenarios_pass_one_survey_each_and_the_record_written_once(capsys, desk):
    import json

    from deskbook.cli import main

    assert main(["test", "--desk", desk, "--scenario", "one-survey", "--scenario", "phone-survey",
                 "--scenario", "survey-without-csat", "--json"]) == 0
    results = {r["name"]: r for r in json.loads(capsys.readouterr().out)["scenarios"]}
    assert {r["status"] for r in results.values()} == {"passed"}
    assert {"one-survey", "phone-survey"} <= set(results)
    assert [s["action"] for s in results["phone-survey"]["steps"]].count("sync_runs") == 2


def test_a_real_jsm_site_skips_the_survey_job_step_and_makes_no_organization():
    """Live scenarios touch only their test request: the survey job would read and write every customer
    of the project, and organizations are site-wide."""
    from deskbook.connectors.scenarios.jsm_driver import live_skip_reason

    assert "every customer of the project" in live_skip_reason("sync_runs", customer_login=True)
    assert live_skip_reason("agent_sets", customer_login=False) is None


@pytest.mark.parametrize("installed", ["zendesk"], indirect=True)
def test_zendesk_writes_survey_records_a_hundred_per_request_and_a_lost_batch_is_read_back(installed, tmp_path):
    """The records due are sent with `organizations/update_many`, 100 a request (a first run at 100,000
    organizations wrote 1,000 records with 1,000 PUTs): 150 records -> 2 writes, none singly. A batch
    whose answer never comes stays pending; the next run reads those records and writes them once."""
    desk = installed
    orgs = [desk.organization(f"Batch {n}") for n in range(150)]
    for n, org_id in enumerate(orgs):
        desk.scored(org_id, 1 + n % 5, 4, 1 + (n + 2) % 5)
    job, writes, calls = _run(desk, tmp_path / "batch.sqlite")
    assert (job.created, job.failed) == (150, 0)
    assert calls["PUT /api/v2/organizations/update_many"] == 2 and writes == 2, calls
    assert all(desk.record(org_id)["survey_response_speed"] == 1 + n % 5 for n, org_id in enumerate(orgs))
    assert _run(desk, tmp_path / "batch.sqlite")[:2][1] == 0  # nothing due again

    more = [desk.organization(f"Lost {n}") for n in range(3)]
    for org_id in more:
        desk.scored(org_id, 2, 2, 2)
    desk.desk.inject(400, path_prefix="/api/v2/organizations/update_many")  # the batch refused: nothing known
    job, writes, _ = _run(desk, tmp_path / "batch.sqlite")
    assert (job.created, job.failed) == (0, 3)
    job, writes, calls = _run(desk, tmp_path / "batch.sqlite")  # pending: each record read, then written
    assert (job.created, job.failed, writes) == (3, 0, 3), calls
    assert all(desk.record(org_id)["survey_response_speed"] == 2 for org_id in more)
    assert _run(desk, tmp_path / "batch.sqlite")[1] == 0

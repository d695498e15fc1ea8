"""Sync jobs against the Zendesk sandbox: exactly once through runs, lost ledgers, kills and faults."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.connectors.zendesk.sandbox.rules import build_organization_field
from deskbook.connectors.zendesk.sandbox.seed import ensure_seed_fields
from deskbook.connectors.zendesk.sandbox.store import iso
from deskbook.connectors.zendesk.sync_desk import connect
from deskbook.errors import DeskbookError
from deskbook.sync.jobs import JobSettings, SyncSettings
from deskbook.sync.ledger import Ledger
from deskbook.sync.lock import LedgerLock
from deskbook.sync.runner import run_jobs
from deskbook.sync.schedule import Organization, due_for
from deskbook.sync.serve import SyncService

REPO = Path(__file__).resolve().parents[1]
NO_LIMITS = {"account": 10**9, "incremental": 10**9, "search_export": 10**9}
AS_OF = date(2026, 6, 5)

#: (name, contract end, tier, locale, contact email, first solved ticket day)
ORGS = [
    ("Northwind", "2026-06-30", "key", "en", None, None),
    ("Contoso", "2027-01-01", "regular", "zh-CN", "li@contoso.example", None),
    ("Fabrikam", "2026-07-01", "new", None, None, "2026-06-03"),
    ("Tailspin", None, "new", "en", None, "2026-05-20"),
    ("Broken", "31.12.2026", "gold", None, None, None),
    ("Litware", "2026-09-15", "key", "en", None, None),
    ("Adatum", "2026-12-20", "regular", "en", None, None),
    ("Proseware", "2027-03-01", "new", "en", None, "2026-08-01"),
]

SETTINGS = SyncSettings(
    default_locale="en",
    jobs={
        "renewals": JobSettings("renewals", "sales", {"en": "Sales"}, "renewal_reminder", ("renewal",), "high"),
        "callbacks": JobSettings("callbacks", "service", {"en": "Service"}, "periodic_callback", ("callback",)),
        "followups": JobSettings("followups", "service", {"en": "Service"}, "new_customer_followup", ("followup",)),
    },
)


def seed(store, group_names=("Sales", "Service")) -> list[Organization]:
    """Create the known organizations (bypassing validation for the broken one), groups, solved tickets."""
    ensure_seed_fields(store)
    for key in ("locale", "contact_email"):
        store.insert("organization_field", build_organization_field({"key": key, "title": key, "type": "text"}, None, store))
    for name in group_names:
        store.insert("group", {"name": name, "description": "", "is_public": True, "default": False, "deleted": False})
    now = int(store.now())
    docs = []
    for n, (name, end, tier, locale, contact, _) in enumerate(ORGS):
        stamp = iso(now - 1000 + n)
        docs.append({"name": name, "tags": [], "created_at": stamp, "updated_at": stamp, "external_id": None,
                     "organization_fields": {"contract_end_date": end, "customer_tier": tier, "locale": locale,
                                             "contact_email": contact}})
    created = store.insert_many("organization", docs)
    orgs = []
    for doc, (name, end, tier, locale, contact, first) in zip(created, ORGS):
        if first:
            store.add_ticket(organization_id=doc["id"], status="solved", subject="first service",
                             created_at=first + "T08:00:00Z", updated_at=first + "T09:00:00Z")
        orgs.append(Organization(doc["id"], name, end, tier, first, locale, contact))
    return orgs


def expected_keys(orgs, settings, days) -> set[str]:
    """Union of the keys due on each of `days` (pure schedule logic)."""
    keys = set()
    for day in days:
        for org in orgs:
            keys |= {item.key for item in due_for(org, day, settings.schedule)[0]}
    return keys


def desk_keys(store) -> Counter:
    """external_id → number of tickets carrying it (our keys only)."""
    return Counter(t["external_id"] for t in store.all("ticket") if (t.get("external_id") or "").startswith("deskbook:"))


@pytest.fixture
def sandbox():
    with running_sandbox(rate_limits=NO_LIMITS) as handle:
        handle.orgs = seed(handle.store)
        yield handle


def run_once(handle, ledger_path, as_of=AS_OF, settings=SETTINGS, **session_options):
    from deskbook.sync.jobs import selected_jobs

    desk = connect(handle.url, handle.email, handle.token, session_options=session_options or None)
    desk.export_lag_seconds = handle.app.export_lag_seconds  # the desk's lag is the sandbox's
    ledger = Ledger(ledger_path)
    try:
        return run_jobs(desk, ledger, settings, as_of=as_of, jobs=selected_jobs(None)), desk
    finally:
        ledger.close()


def test_expected_tickets_then_none_then_none_with_a_lost_ledger(sandbox, tmp_path):
    sandbox.app.export_lag_seconds = 2  # Zendesk's minute, shortened
    expected = expected_keys(sandbox.orgs, SETTINGS, [AS_OF])
    assert expected == {
        f"deskbook:renewals:{sandbox.orgs[0].id}:2026-06-30", f"deskbook:callbacks:{sandbox.orgs[0].id}:2026-06",
        f"deskbook:callbacks:{sandbox.orgs[1].id}:2026-Q2", f"deskbook:renewals:{sandbox.orgs[2].id}:2026-07-01",
        f"deskbook:followups:{sandbox.orgs[3].id}:once", f"deskbook:callbacks:{sandbox.orgs[5].id}:2026-06",
        f"deskbook:callbacks:{sandbox.orgs[6].id}:2026-Q2",
    }
    report, desk = run_once(sandbox, tmp_path / "a.sqlite")
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    assert sum(j.created for j in report.jobs.values()) == len(expected) and report.failed == 0
    assert report.jobs["callbacks"].skipped == 1 and "Broken" in report.jobs["callbacks"].skip_reasons[0]
    writes = Counter({k: n for k, n in desk.calls.items() if not k.startswith("GET")})
    assert writes == {"POST /api/v2/tickets/create_many": 1}  # one bulk create for the 7 tasks

    tickets = {t["external_id"]: t for t in sandbox.store.all("ticket") if t.get("external_id")}
    groups = {g["name"]: g["id"] for g in sandbox.store.all("group")}
    renewal = tickets[f"deskbook:renewals:{sandbox.orgs[0].id}:2026-06-30"]
    assert renewal["group_id"] == groups["Sales"] and renewal["organization_id"] == sandbox.orgs[0].id
    assert "renewal" in renewal["tags"] and renewal["priority"] == "high"
    note = renewal["_comments"][-1]
    assert note["public"] is False and "Northwind" in note["body"] and "2026-06-30" in note["body"]
    callback = tickets[f"deskbook:callbacks:{sandbox.orgs[1].id}:2026-Q2"]
    assert "T-4" in callback["_comments"][-1]["body"] and callback["group_id"] == groups["Service"]
    contact = [u for u in sandbox.store.all("user") if u.get("email") == "li@contoso.example"]
    assert contact and callback["requester_id"] == contact[0]["id"]

    again, desk = run_once(sandbox, tmp_path / "a.sqlite")
    assert sum(j.created for j in again.jobs.values()) == 0
    assert not [k for k in desk.calls if not k.startswith("GET")]
    assert sum(desk.calls.values()) <= 5  # daily run with nothing new: the two incremental exports

    # A lost ledger seconds later: Zendesk's exports leave out the most recent minute, so the new
    # tickets are not exported yet, and a bulk create carries no idempotency key. The new ledger
    # reads the tickets changed since the export's end live before it creates anything: nothing is
    # sent again.
    lost, desk = run_once(sandbox, tmp_path / "fresh.sqlite")
    assert sum(j.created for j in lost.jobs.values()) == 0
    assert sum(j.already_done for j in lost.jobs.values()) == len(expected)
    assert not [k for k in desk.calls if not k.startswith("GET")]
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    # Once the export has them (no lag from here on), another lost ledger learns them from the
    # ticket export: not even a replay.
    sandbox.app.export_lag_seconds = 0
    lost, desk = run_once(sandbox, tmp_path / "fresh2.sqlite")
    assert sum(j.created for j in lost.jobs.values()) == 0
    assert not [k for k in desk.calls if not k.startswith("GET")]
    assert sum(j.already_done for j in lost.jobs.values()) == len(expected)
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})


def test_lost_ledger_while_a_bulk_job_is_still_queued(sandbox, tmp_path):
    """A run killed right after Zendesk queued its bulk create, and its ledger lost: the job runs
    later than the export lag. The new ledger waits until no job is queued before it trusts the
    export, so the job's tickets are found, not created a second time."""
    sandbox.app.export_lag_seconds = 1
    sandbox.app.job_delay_seconds = 6  # the queued job runs well after the lag has passed
    expected = sorted(expected_keys(sandbox.orgs, SETTINGS, [AS_OF]))
    tickets = [{"subject": "task", "comment": {"body": "note", "public": False}, "external_id": key,
                "organization_id": int(key.split(":")[2])} for key in expected]
    response = requests.post(f"{sandbox.url}/api/v2/tickets/create_many.json", auth=sandbox.auth,
                             json={"tickets": tickets}, timeout=10)
    assert response.status_code == 200 and response.json()["job_status"]["status"] == "queued"
    assert desk_keys(sandbox.store) == Counter()  # not run yet
    report, desk = run_once(sandbox, tmp_path / "lost.sqlite")
    assert report.failed == 0 and sum(j.created for j in report.jobs.values()) == 0
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    assert desk.calls["GET /api/v2/job_statuses"] >= 2  # it waited for the job


class SleepLog:
    """Records every `time.sleep` (any thread) longer than `over` seconds, still sleeping."""

    def __init__(self, monkeypatch, over: float):
        self.long: list[float] = []
        real = time.sleep

        def sleep(seconds):
            if seconds > over:
                self.long.append(seconds)
            real(seconds)
        monkeypatch.setattr(time, "sleep", sleep)


def put_ticket(handle, ticket_id: int, **fields) -> None:
    """An agent's change of a ticket (through the API: `updated_at` moves)."""
    response = requests.put(f"{handle.url}/api/v2/tickets/{ticket_id}.json", auth=handle.auth,
                            json={"ticket": fields}, timeout=10)
    assert response.status_code == 200, response.text


LAG = 20  # Zendesk's minute, shortened; longer than any of these runs takes


def test_a_rebuilt_ledger_reads_the_hidden_minute_live_instead_of_waiting_the_export_lag(sandbox, tmp_path, monkeypatch):
    """A new ledger's first bulk run does not wait out the export lag: it reads the tickets changed
    since the export's end live, newest first. Still exactly once: a task deskbook made long ago
    that an agent touched in the export's last minute (hidden from the export) is found, not
    created again; and a ledger lost seconds after a run finds that run's tasks the same way."""
    sandbox.app.export_lag_seconds = LAG
    expected = sorted(expected_keys(sandbox.orgs, SETTINGS, [AS_OF]))
    old = iso(sandbox.store.now() - 3600)
    made = sandbox.store.add_ticket(external_id=expected[0], organization_id=int(expected[0].split(":")[2]),
                                    subject="made by deskbook last month", created_at=old, updated_at=old)
    put_ticket(sandbox, made["id"], priority="urgent")  # an agent, just now: the export hides it
    sleeps = SleepLog(monkeypatch, over=5)
    started = time.monotonic()
    report, desk = run_once(sandbox, tmp_path / "a.sqlite")
    assert time.monotonic() - started < LAG and sleeps.long == []
    assert report.failed == 0 and report.duplicates == []
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    assert sum(j.already_done for j in report.jobs.values()) == 1
    assert desk.calls["GET /api/v2/tickets"] == 1  # the live read: one page
    assert desk.calls["POST /api/v2/tickets/create_many"] == 1

    started = time.monotonic()
    lost, desk = run_once(sandbox, tmp_path / "lost.sqlite")  # seconds later: every task is hidden from the export
    assert time.monotonic() - started < LAG and sleeps.long == []
    assert sum(j.created for j in lost.jobs.values()) == 0 and lost.failed == 0
    assert sum(j.already_done for j in lost.jobs.values()) == len(expected)
    assert not [k for k in desk.calls if not k.startswith("GET")]
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})


def test_the_live_read_reads_again_when_a_ticket_moves_up_while_it_pages(sandbox, tmp_path, monkeypatch):
    """More than a page of tickets changed in the export's hidden minute, and an agent touches one of
    deskbook's tasks between the live read's first and second page: it moves to the top (already
    read), the pages below shift, and the pass skips it; the next pass from page 1 finds it."""
    sandbox.app.export_lag_seconds = LAG
    expected = sorted(expected_keys(sandbox.orgs, SETTINGS, [AS_OF]))
    now = sandbox.store.now()
    made = sandbox.store.add_ticket(external_id=expected[0], organization_id=int(expected[0].split(":")[2]),
                                    subject="made by deskbook", created_at=iso(now - 3600), updated_at=iso(now - 8))
    for n in range(150):  # other integrations' tickets, changed after it: it is on the second page
        sandbox.store.add_ticket(subject=f"busy {n}", created_at=iso(now - 3600), updated_at=iso(now - 2))
    desk = connect(sandbox.url, sandbox.email, sandbox.token)
    desk.export_lag_seconds = LAG
    read = getattr(desk.client, "tickets_newest_first", None)
    touched = []

    def live_page(page, **options):
        data = read(page, **options)
        if page == 1 and not touched:
            touched.append(made["id"])
            put_ticket(sandbox, made["id"], priority="urgent")
        return data
    if read is not None:
        monkeypatch.setattr(desk.client, "tickets_newest_first", live_page)
    sleeps = SleepLog(monkeypatch, over=5)
    ledger = Ledger(tmp_path / "l.sqlite")
    try:
        report = run_jobs(desk, ledger, SETTINGS, as_of=AS_OF)
    finally:
        ledger.close()
    assert sleeps.long == [] and touched
    assert report.failed == 0 and sum(j.already_done for j in report.jobs.values()) == 1
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    assert 3 <= desk.calls["GET /api/v2/tickets"] <= 6  # two pages, then passes from page 1


def test_past_the_live_reads_bound_the_rebuilt_ledger_waits_out_the_lag_as_before(sandbox, tmp_path, monkeypatch):
    """More tickets changed since the export's end than the live read may page through (Zendesk's
    offset pages end at 10,000 records; here at one page): the run falls back to waiting out the
    export lag and reading the export on — still exactly once for a task hidden from the export."""
    from deskbook.connectors.zendesk import sync_desk

    monkeypatch.setattr(sync_desk, "LIVE_OFFSET_LIMIT", 100)
    sandbox.app.export_lag_seconds = 3
    expected = sorted(expected_keys(sandbox.orgs, SETTINGS, [AS_OF]))
    now = sandbox.store.now()
    made = sandbox.store.add_ticket(external_id=expected[0], organization_id=int(expected[0].split(":")[2]),
                                    subject="made by deskbook", created_at=iso(now - 3600), updated_at=iso(now - 3600))
    put_ticket(sandbox, made["id"], priority="urgent")
    for n in range(120):
        sandbox.store.add_ticket(subject=f"busy {n}", created_at=iso(now - 3600), updated_at=iso(now))
    sleeps = SleepLog(monkeypatch, over=1)
    report, desk = run_once(sandbox, tmp_path / "l.sqlite")
    assert sleeps.long  # the lag, waited out
    assert desk.calls["GET /api/v2/tickets"] == 1  # the page the bound allowed
    assert report.failed == 0 and sum(j.already_done for j in report.jobs.values()) == 1
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})


def test_a_task_only_a_system_update_hid_is_reported_as_a_duplicate(sandbox, tmp_path):
    """The known gap of the live read: a task whose only change in the export's last minute was a
    system update (its generated_timestamp moved, its updated_at did not) is listed by neither read,
    so the first bulk run creates it again. Once the lag has passed, the export lists it: the next
    run reports the duplicate loudly (log and run report) instead of leaving it unseen."""
    sandbox.app.export_lag_seconds = 2
    expected = sorted(expected_keys(sandbox.orgs, SETTINGS, [AS_OF]))
    old = iso(sandbox.store.now() - 3600)
    made = sandbox.store.add_ticket(external_id=expected[0], organization_id=int(expected[0].split(":")[2]),
                                    subject="made by deskbook", created_at=old, updated_at=old)
    for n in range(100):  # a page of tickets changed half a minute ago: the live read stops after it
        sandbox.store.add_ticket(subject=f"busy {n}", created_at=old, updated_at=iso(sandbox.store.now() - 30))
    sandbox.store.system_update(made["id"])
    report, _ = run_once(sandbox, tmp_path / "l.sqlite")
    assert report.failed == 0 and report.duplicates == []  # not known yet: the export still hides it
    keys = desk_keys(sandbox.store)
    assert keys[expected[0]] == 2  # the gap, stated
    time.sleep(2 + 1 + 5 + 1)  # the lag, the margins: the export lists the live read's minute now
    again, desk = run_once(sandbox, tmp_path / "l.sqlite")
    assert len(again.duplicates) == 1 and again.duplicates[0].startswith(expected[0])
    assert str(made["id"]) in again.duplicates[0] and "DUPLICATE" in again.text()
    assert again.to_json()["duplicates"] == again.duplicates
    assert desk.calls["GET /api/v2/incremental/tickets/cursor"] == 1  # one export page from where the full export stopped
    third, _ = run_once(sandbox, tmp_path / "l.sqlite")
    assert third.duplicates == []  # reported once


def test_a_killed_runs_queued_bulk_job_is_read_even_with_bulk_creates_turned_off(sandbox, tmp_path, monkeypatch):
    """A run killed while its create_many job is still queued, and the next run with DESKBOOK_BULK=0:
    the pending rows name the job, so that run reads the job before it creates one by one, instead
    of finding no ticket yet by external_id and creating each a second time."""
    from deskbook.scripts_library import load_library
    from deskbook.sync.jobs import draft_task

    sandbox.app.export_lag_seconds = 0
    sandbox.app.job_delay_seconds = 3  # Zendesk's workers take the job a little later
    path = tmp_path / "l.sqlite"
    desk = connect(sandbox.url, sandbox.email, sandbox.token)
    desk.export_lag_seconds = 0
    ledger = Ledger(path)
    try:  # the index, then what the killed run left: pending rows naming the queued job
        run_jobs(desk, ledger, SETTINGS, as_of=AS_OF, jobs=())
        items = [(item, org) for org in ledger.iter_organizations() for item in due_for(org, AS_OF, SETTINGS.schedule)[0]]
        ledger.mark_pending_batch((item.key, item.job, item.organization_id, item.period) for item, _ in items)
        job_id = desk.submit_tasks([draft_task(item, org, SETTINGS, load_library()) for item, org in items])
        ledger.note_job([item.key for item, _ in items], job_id)
    finally:
        ledger.close()
    monkeypatch.setenv("DESKBOOK_BULK", "0")
    report, desk = run_once(sandbox, path)
    done = requests.get(f"{sandbox.url}/api/v2/job_statuses/show_many.json", params={"ids": job_id}, auth=sandbox.auth,
                        timeout=10).json()["job_statuses"]  # the sandbox runs a job when asked: it has run now
    assert [job["status"] for job in done] == ["completed"]
    assert report.failed == 0 and sum(j.created for j in report.jobs.values()) == 0
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected_keys(sandbox.orgs, SETTINGS, [AS_OF])})


def test_bulk_creates_through_faults_and_lost_answers_are_exactly_once(tmp_path):
    """create_many and job status polls under random 5xx and lost answers (the job queued, the
    answer a 500): runs repeated until nothing fails leave every due item once."""
    with running_sandbox(rate_limits=NO_LIMITS, fault_rate=0.15, write_fault_rate=0.3, seed=11,
                         fault_slow_seconds=0.05, export_lag_seconds=0) as handle:
        handle.orgs = seed(handle.store)
        handle.store.seed_organizations(400, today=AS_OF)
        ambiguous = 0
        for _ in range(8):
            report, desk = run_once(handle, tmp_path / "l.sqlite", sleep=lambda seconds: None, timeout=2)
            ambiguous += report.failed
            if report.failed == 0:
                break
        assert report.failed == 0
        assert ambiguous > 0  # some bulk creates did fail or lose their answer
        keys = desk_keys(handle.store)
        assert keys and max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
        ledger = Ledger(tmp_path / "l.sqlite")
        try:
            assert ledger.done_keys() == set(keys)
        finally:
            ledger.close()
        assert handle.violations() == []


def test_contract_moved_gets_a_new_reminder_only(sandbox, tmp_path):
    sandbox.app.export_lag_seconds = 0  # the next run is a day later: the change is in the export by then
    run_once(sandbox, tmp_path / "l.sqlite")
    org = sandbox.orgs[0]
    response = requests.put(f"{sandbox.url}/api/v2/organizations/{org.id}.json", auth=sandbox.auth,
                            json={"organization": {"organization_fields": {"contract_end_date": "2026-07-03"}}}, timeout=10)
    assert response.status_code == 200, response.text
    report, desk = run_once(sandbox, tmp_path / "l.sqlite", as_of=AS_OF + timedelta(days=1))
    keys = desk_keys(sandbox.store)
    assert keys[f"deskbook:renewals:{org.id}:2026-07-03"] == 1 and keys[f"deskbook:renewals:{org.id}:2026-06-30"] == 1
    assert max(keys.values()) == 1 and report.jobs["renewals"].created == 1


def test_fault_rate_converges(tmp_path):
    # no export lag: faults are the subject here, and a lag would only make the first (new-ledger) run wait it out
    with running_sandbox(rate_limits=NO_LIMITS, fault_rate=0.2, seed=7, fault_slow_seconds=0.05,
                         export_lag_seconds=0) as handle:
        orgs = seed(handle.store)
        expected = expected_keys(orgs, SETTINGS, [AS_OF])
        for _ in range(5):
            report, desk = run_once(handle, tmp_path / "l.sqlite", sleep=lambda seconds: None)
            if report.failed == 0:
                break
        assert report.failed == 0
        assert sum(desk.session.retries.values()) > 0  # faults did happen and were retried
        assert desk_keys(handle.store) == Counter({k: 1 for k in expected})


def test_serve_runs_each_job_and_stops(sandbox, tmp_path):
    path = tmp_path / "l.sqlite"
    service = SyncService(lambda: (connect(sandbox.url, sandbox.email, sandbox.token), Ledger(path)), SETTINGS,
                          interval_seconds=0.2, as_of=lambda: AS_OF)
    thread = threading.Thread(target=service.serve, kwargs={"install_signals": False})
    thread.start()
    deadline = time.monotonic() + 20
    while min(service.runs.values()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    service.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert min(service.runs.values()) >= 2  # catch-up run plus at least one scheduled tick per job
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected_keys(sandbox.orgs, SETTINGS, [AS_OF])})


# ---------------------------------------------------------------- the command line (shipped playbook)


@pytest.fixture
def playbook_settings():
    from deskbook.sync.jobs import load_settings

    try:
        return load_settings(None)
    except DeskbookError as exc:  # the shipped playbook lands with the playbooks package
        pytest.skip(f"shipped playbook not loadable: {exc}")


#: S-11: (organization index in ORGS, [(speed, resolution, attitude, day of the survey)]); the last is the newest
SURVEYS = [(0, [(3, 4, 5, "2026-01-05"), (5, 5, 4, "2026-01-06")]), (1, [(2, 3, 3, "2026-01-04")])]


def seed_surveys(store, orgs, survey) -> dict[int, int]:
    """The survey record's organization fields and scored solved requests: organization id -> the
    newest surveyed request's id."""
    from deskbook.connectors.zendesk.translate import option_tag

    types = {survey.record_date: "date", survey.record_ticket: "text", survey.record_response_speed: "integer",
             survey.record_resolution: "integer", survey.record_attitude: "integer", survey.record_suggestions: "textarea"}
    for key, kind in types.items():
        store.insert("organization_field", build_organization_field({"key": key, "title": key, "type": kind}, None, store))
    newest = {}
    for index, scores in SURVEYS:
        for speed, resolution, attitude, day in scores:
            tags = [option_tag(survey.response_speed, f"score_{speed}"), option_tag(survey.resolution, f"score_{resolution}"),
                    option_tag(survey.attitude, f"score_{attitude}")]
            ticket = store.add_ticket(organization_id=orgs[index].id, status="solved", subject="surveyed", tags=tags,
                                      created_at=day + "T01:00:00Z", updated_at=day + "T02:00:00Z")
            newest[orgs[index].id] = ticket["id"]
    return newest


@pytest.fixture
def cli_sandbox(playbook_settings):
    names = {job.group_names.get(playbook_settings.default_locale) for job in playbook_settings.jobs.values()}
    with running_sandbox(rate_limits=NO_LIMITS, latency_ms=15, export_lag_seconds=1) as handle:
        handle.orgs = seed(handle.store, tuple(n for n in names if n))
        handle.surveyed = seed_surveys(handle.store, handle.orgs, playbook_settings.survey)
        yield handle


def cli_args(handle, ledger, *extra):
    return ["sync", "run", "--url", handle.url, "--email", handle.email, "--token", handle.token,
            "--ledger", str(ledger), *extra]


def subprocess_env(tmp_path):
    env = dict(os.environ, DESKBOOK_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO),
               DESKBOOK_ZENDESK_EXPORT_LAG="1", DESKBOOK_HTTP_TIMEOUT="3")  # cli_sandbox's lag; a short answer wait
    env.pop("ZENDESK_API_TOKEN", None)
    return env


def test_cli_run_json_and_lock(cli_sandbox, playbook_settings, tmp_path, capsys):
    from deskbook.cli import main

    ledger = tmp_path / "l.sqlite"
    assert main(cli_args(cli_sandbox, ledger, "--as-of", AS_OF.isoformat(), "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    expected = expected_keys(cli_sandbox.orgs, playbook_settings, [AS_OF])
    assert sum(j["created"] for name, j in report["jobs"].items() if name != "surveys") == len(expected)
    assert set(report["jobs"]) == {"renewals", "callbacks", "followups", "surveys"}
    assert report["jobs"]["surveys"]["created"] == len(SURVEYS)  # one record write per surveyed customer
    assert desk_keys(cli_sandbox.store) == Counter({k: 1 for k in expected})
    with LedgerLock(ledger):
        assert main(cli_args(cli_sandbox, ledger, "--as-of", AS_OF.isoformat())) == 1
    assert "already running" in capsys.readouterr().err


#: A `deskbook sync run` process that imports everything and loads the playbook first, then waits
#: for a line on stdin before running `deskbook.cli.main` — so a kill lands in the run itself.
PREWARMED = (
    "import sys\n"
    "from deskbook.cli import main\n"
    "from deskbook.sync.jobs import load_settings\n"
    "load_settings(None)\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun_is_exactly_once(cli_sandbox, playbook_settings, tmp_path):
    """20 × (`deskbook sync run` killed with SIGKILL after a random number of its requests, i.e.
    anywhere from before the first read to after the last create) + a normal run."""
    rng = random.Random(4)
    ledger = tmp_path / "l.sqlite"
    env = subprocess_env(tmp_path)
    days = [date(2026, 1, 3) + timedelta(days=19 * i) for i in range(20)]
    killed_mid_run = 0
    record_writes = 0

    def writes_logged() -> int:  # organization records written: one a PUT, or each of a batch update
        return sum(len((r.get("json") or {}).get("organizations") or []) if r["path"].startswith("/api/v2/organizations/update_many")
                   else 1 for r in cli_sandbox.requests() if r["method"] == "PUT" and r["path"].startswith("/api/v2/organizations/"))
    for batch_start in range(0, len(days), 5):
        batch = days[batch_start:batch_start + 5]
        procs = [subprocess.Popen([sys.executable, "-c", PREWARMED, "-q", *cli_args(cli_sandbox, ledger, "--as-of", d.isoformat())],
                                  env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for d in batch]
        for day, proc in zip(batch, procs):
            assert proc.stdout.readline().strip() == "ready"
            record_writes += writes_logged()
            cli_sandbox.reset_log()
            # a new ledger's job list and catch-up read, 2 reads, a group lookup, the bulk create, its polls
            target = rng.randint(0, 9)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            deadline = time.monotonic() + 30
            if target == 0:
                time.sleep(rng.uniform(0, 0.05))
            while proc.poll() is None and len(cli_sandbox.requests()) < target and time.monotonic() < deadline:
                time.sleep(0.001)
            if proc.poll() is None and cli_sandbox.requests():
                killed_mid_run += 1
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            report, _ = run_once(cli_sandbox, ledger, as_of=day, settings=playbook_settings, timeout=3)  # the normal run
            assert report.failed == 0
    expected = expected_keys(cli_sandbox.orgs, playbook_settings, days)
    keys = desk_keys(cli_sandbox.store)
    assert set(keys) == expected, (set(keys) ^ expected)
    assert max(keys.values()) == 1, [k for k, n in keys.items() if n > 1]
    assert killed_mid_run >= 5  # the kills really interrupted runs that had started talking to the desk
    # S-11: each surveyed customer's record holds its newest survey, written exactly once
    record_writes += writes_logged()
    for org_id, ticket_id in cli_sandbox.surveyed.items():
        fields = cli_sandbox.store.get("organization", org_id)["organization_fields"]
        assert fields[playbook_settings.survey.record_ticket] == str(ticket_id)
    assert record_writes == len(cli_sandbox.surveyed)


def serve_until_created(args: list[str], env: dict, created, wait: float = 30) -> tuple[int, str]:
    """Run `deskbook sync serve <args>`, send SIGTERM once `created()` is true (or after `wait` s):
    (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "deskbook", "sync", "serve", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not created():
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def test_cli_serve_stops_on_sigterm(cli_sandbox, tmp_path):
    code, err = serve_until_created(
        ["--interval-seconds", "1", "--url", cli_sandbox.url, "--email", cli_sandbox.email, "--token",
         cli_sandbox.token, "--ledger", str(tmp_path / "l.sqlite")],
        subprocess_env(tmp_path), lambda: bool(desk_keys(cli_sandbox.store)), wait=20)
    assert code == 0, err
    assert "run finished" in err and "sync serve stopped" in err
    assert desk_keys(cli_sandbox.store)


def test_owner_group_found_by_ownership_marker_before_name(sandbox):
    sandbox.store.insert("group", {"name": "Account managers", "description": "Sales\n[deskbook:standard-service:sales]",
                                   "is_public": True, "default": False, "deleted": False})
    desk = connect(sandbox.url, sandbox.email, sandbox.token)
    groups = {g["name"]: g["id"] for g in sandbox.store.all("group")}
    assert desk.group_id("sales", "Sales") == groups["Account managers"]  # renamed in Zendesk: the marker wins
    assert desk.group_id("service", "Service") == groups["Service"]
    assert desk.group_id("nowhere", "Nowhere") is None
    assert desk.calls["GET /api/v2/groups"] == 1  # listed once per run


def test_cli_forecast_first_day_equals_what_the_run_then_creates(cli_sandbox, tmp_path, capsys):
    """The forecast's first day is exactly what `sync run` on that day creates; after the run, nothing."""
    from deskbook.cli import main

    ledger = tmp_path / "f.sqlite"
    args = ["sync", "forecast", "--url", cli_sandbox.url, "--email", cli_sandbox.email, "--token", cli_sandbox.token,
            "--ledger", str(ledger), "--as-of", AS_OF.isoformat(), "--days", "30"]
    assert main([*args, "--json"]) == 0
    days = json.loads(capsys.readouterr().out)["days"]
    assert len(days) == 30 and set(days[0]) == {"date", "renewals", "callbacks", "followups"}
    assert main(cli_args(cli_sandbox, ledger, "--as-of", AS_OF.isoformat(), "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert {job: report["jobs"][job]["created"] for job in ("renewals", "callbacks", "followups")} == \
        {job: days[0][job] for job in ("renewals", "callbacks", "followups")}
    assert main([*args, "--offline", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["days"]
    assert sum(again[0][job] for job in ("renewals", "callbacks", "followups")) == 0
    assert main([*args, "--offline"]) == 0
    assert "forecast from" in capsys.readouterr().out

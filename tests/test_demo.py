"""`deskbook demo` on both desks shows all three sync jobs, the new-customer follow-up (R-1) included.

The sandboxes seed a first service (Zendesk: a solved ticket; JSM: a resolved request) for the new
customers, dated before the demo's run date; the follow-ups the demo creates must be exactly the
ones the schedule rule says are due for those seeded days.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from deskbook.cli import main
from deskbook.connectors.jsm import demo as jsm_demo
from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection
from deskbook.connectors.jsm.sandbox import running_sandbox as running_jsm_sandbox
from deskbook.connectors.jsm.sandbox.app import FIRST_SERVICE_DAYS_AGO as JSM_FIRST_SERVICE_DAYS_AGO
from deskbook.connectors.jsm.sandbox.app import seed_first_services as seed_jsm_first_services
from deskbook.connectors.jsm.sync_desk import JsmSyncDesk
from deskbook.connectors.zendesk.sandbox import running_sandbox as running_zendesk_sandbox
from deskbook.connectors.zendesk.sandbox import seed as zendesk_seed
from deskbook.connectors.zendesk.client import ZendeskClient
from deskbook.connectors.zendesk.sync_desk import ZendeskSyncDesk
from deskbook.connectors.zendesk.translate import option_value
from deskbook.playbooks.loader import load_playbook
from deskbook.sync.jobs import settings_from_playbook
from deskbook.sync.schedule import DueItem, Organization, followup_due

SETTINGS = settings_from_playbook(load_playbook())


def due_followups(first_services: dict, tiers: dict, as_of: date) -> int:
    """How many of the seeded first services make a follow-up due on `as_of` (the schedule's own rule)."""
    return sum(isinstance(followup_due(Organization(id=int(org_id), tier=tiers[org_id], first_service_date=day.isoformat()),
                                       as_of, SETTINGS.schedule), DueItem)
               for org_id, day in first_services.items())


def created(line: str, job: str) -> int:
    """The count a demo's sync line gives for `job`."""
    return int(re.search(rf"\b{job}: (\d+)", line).group(1))


def test_zendesk_demo_creates_the_followups_the_seeded_first_services_make_due(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the demo writes its week's review (deskbook-report.html/.json) here
    seeded: dict = {}
    original = zendesk_seed.seed_first_services

    def recording(store, organization_ids, today, **options):
        tiers = {org["id"]: option_value(SETTINGS.tier_field, org["organization_fields"].get(SETTINGS.tier_field))
                 for org in store.all("organization")}
        seeded.update(tiers=tiers, today=today, served=original(store, organization_ids, today, **options))
        return seeded["served"]

    monkeypatch.setattr(zendesk_seed, "seed_first_services", recording)
    assert main(["-q", "demo", "--seed-orgs", "12"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("4. sync jobs once"))

    tiers, served = seeded["tiers"], seeded["served"]
    assert set(served) == {org_id for org_id, tier in tiers.items() if tier == "new"} != set()
    assert f"as of {seeded['today']}" in line
    expected = due_followups(served, tiers, seeded["today"])
    assert created(line, "followups") == expected > 0, line
    assert created(line, "renewals") > 0 and created(line, "callbacks") > 0, line


def test_jsm_demo_creates_the_followups_the_seeded_first_services_make_due(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the demo writes its week's review into the working directory
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JSM_PROJECT", "JIRA_CLOUD_ID"):
        monkeypatch.delenv(name, raising=False)
    seeded: dict = {}

    def recording(store, organization_ids, today, **options):
        tiers = {org["id"]: org["properties"][CONTRACT_PROPERTY][SETTINGS.tier_field] for org in store.all("organization")}
        seeded.update(tiers=tiers, today=today, served=seed_jsm_first_services(store, organization_ids, today, **options))
        return seeded["served"]

    monkeypatch.setattr(jsm_demo, "seed_first_services", recording)
    monkeypatch.setattr(jsm_demo, "demo_week", lambda *a, **k: [])  # the week and its review: test_report.py
    assert main(["-q", "demo", "--desk", "jsm", "--seed-orgs", "12"]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("4. sync jobs once"))

    tiers, served = seeded["tiers"], seeded["served"]
    assert set(served) == {org_id for org_id, tier in tiers.items() if tier == "new"} != set()
    expected = due_followups(served, tiers, seeded["today"])
    assert created(line, "followups") == expected > 0, line
    assert created(line, "callbacks") > 0, line


def test_seeded_days_include_one_too_recent_for_a_followup():
    """The demo shows the rule, not just a count: some first services are too recent to follow up yet."""
    today = date(2026, 11, 23)
    for days_ago in (zendesk_seed.FIRST_SERVICE_DAYS_AGO, JSM_FIRST_SERVICE_DAYS_AGO):
        days = {n: today - timedelta(days=d) for n, d in enumerate(days_ago)}
        due = due_followups(days, {n: "new" for n in days}, today)
        assert 0 < due < len(days)


def test_zendesk_ticket_export_reports_the_seeded_first_service_day():
    today = date.today()
    with running_zendesk_sandbox() as desk:
        org_ids = desk.store.seed_organizations(3)
        served = zendesk_seed.seed_first_services(desk.store, org_ids[:2], today, days_ago=(9, 2))
        sync_desk = ZendeskSyncDesk(ZendeskClient(desk.url, desk.email, desk.token))
        reported = [pair for page in sync_desk.ticket_pages(None) for pair in page.first_service]
    assert sorted(reported) == sorted((org_id, day.isoformat()) for org_id, day in served.items())
    assert sorted(served.values()) == [today - timedelta(days=9), today - timedelta(days=2)]


def test_jsm_search_reports_the_seeded_first_service_day():
    today = date.today()
    with running_jsm_sandbox(seed_orgs=3) as sandbox:
        org_ids = [org["id"] for org in sandbox.store.all("organization")]
        served = seed_jsm_first_services(sandbox.store, org_ids[1:], today, days_ago=(9, 2))
        client = JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                                         project_key=sandbox.project_key, cloud_id=sandbox.cloud_id))
        reported = [pair for page in JsmSyncDesk(client).ticket_pages(None) for pair in page.first_service]
    assert sorted(reported) == sorted((int(org_id), day.isoformat()) for org_id, day in served.items())
    assert len(served) == 2

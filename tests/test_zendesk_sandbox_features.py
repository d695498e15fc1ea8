"""Sandbox endpoints beyond plain CRUD: SLA reorder, dynamic content, schedules, bulk jobs, search, exports, seeding, CLI."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from deskbook.connectors.zendesk.sandbox import FakeClock, running_sandbox
from deskbook.connectors.zendesk.sandbox.store import Store

API = "/api/v2"


@pytest.fixture()
def desk():
    with running_sandbox(clock=FakeClock()) as handle:
        yield handle


@pytest.fixture()
def http(desk):
    with requests.Session() as session:
        session.auth = desk.auth
        session.base = desk.url + API
        yield session


def call(http, method, path, status, **kwargs):
    response = http.request(method, http.base + path, **kwargs)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


SLA = {"title": "Urgent first reply", "filter": {"all": [{"field": "priority", "operator": "is", "value": "urgent"}], "any": []},
       "policy_metrics": [{"priority": "urgent", "metric": "first_reply_time", "target": 30, "business_hours": False}]}


def test_sla_policies_return_the_created_policy_and_reorder(http):
    first = call(http, "POST", "/slas/policies.json", 201, json={"sla_policy": SLA})["sla_policy"]
    second = call(http, "POST", "/slas/policies", 201, json={"sla_policy": dict(SLA, title="Second")})["sla_policy"]
    assert first["policy_metrics"][0]["target"] == 30 and first["filter"]["all"][0]["value"] == "urgent"
    call(http, "PUT", f"/slas/policies/reorder.json?sla_policy_ids[]={second['id']}&sla_policy_ids[]={first['id']}", 200)
    listed = call(http, "GET", "/slas/policies.json", 200)
    assert set(listed) == {"sla_policies", "count", "next_page", "previous_page"}
    positions = {p["title"]: p["position"] for p in listed["sla_policies"]}
    assert positions == {"Second": 1, "Urgent first reply": 2}
    bad = dict(SLA, policy_metrics=[{"priority": "urgent", "metric": "fastest", "target": 1}])
    assert "policy_metrics" in call(http, "POST", "/slas/policies", 422, json={"sla_policy": bad})["details"]


def test_dynamic_content_items_with_variants(http):
    item = call(http, "POST", "/dynamic_content/items.json", 201, json={"item": {
        "name": "Greeting", "default_locale_id": 1,
        "variants": [{"locale_id": 1, "default": True, "content": "Hello"}]}})["item"]
    assert item["placeholder"] == "{{dc.greeting}}" and item["variants"][0]["default"] is True
    variant = call(http, "POST", f"/dynamic_content/items/{item['id']}/variants.json", 201,
                   json={"variant": {"locale_id": 10, "content": "您好"}})["variant"]
    call(http, "POST", f"/dynamic_content/items/{item['id']}/variants.json", 422,
         json={"variant": {"locale_id": 10, "content": "again"}})
    call(http, "PUT", f"/dynamic_content/items/{item['id']}/variants/{variant['id']}.json", 200,
         json={"variant": {"content": "你好"}})
    shown = call(http, "GET", f"/dynamic_content/items/{item['id']}", 200)["item"]
    assert {v["locale_id"]: v["content"] for v in shown["variants"]} == {1: "Hello", 10: "你好"}
    call(http, "POST", "/dynamic_content/items", 422, json={"item": {"name": "greeting", "default_locale_id": 1, "content": "x"}})
    listed = call(http, "GET", "/dynamic_content/items.json?page[size]=10", 200)
    assert [i["name"] for i in listed["items"]] == ["Greeting"]


def test_schedules_workweek_and_holidays(http):
    schedule = call(http, "POST", "/business_hours/schedules.json", 201,
                    json={"schedule": {"name": "Beijing office", "time_zone": "Beijing"}})["schedule"]
    assert len(schedule["intervals"]) == 5
    week = [{"start_time": 1980 + d * 1440, "end_time": 2520 + d * 1440} for d in range(6)]
    call(http, "PUT", f"/business_hours/schedules/{schedule['id']}/workweek.json", 200, json={"workweek": {"intervals": week}})
    call(http, "PUT", f"/business_hours/schedules/{schedule['id']}/workweek.json", 422,
         json={"workweek": {"intervals": [{"start_time": 1400, "end_time": 1500}]}})  # spans midnight
    call(http, "POST", f"/business_hours/schedules/{schedule['id']}/holidays.json", 201,
         json={"holiday": {"name": "National Day", "start_date": "2026-10-01", "end_date": "2026-10-07"}})
    shown = call(http, "GET", f"/business_hours/schedules/{schedule['id']}.json", 200)["schedule"]
    assert shown["intervals"] == week and "holidays" not in shown
    holidays = call(http, "GET", f"/business_hours/schedules/{schedule['id']}/holidays.json", 200)["holidays"]
    assert [h["name"] for h in holidays] == ["National Day"]
    assert call(http, "GET", "/business_hours/schedules.json", 200)["schedules"][0]["id"] == schedule["id"]


def test_macro_update_many_takes_only_id_position_active(http):
    macro = call(http, "POST", "/macros.json", 201, json={"macro": {"title": "M", "actions": [{"field": "status", "value": "open"}]}})["macro"]
    done = call(http, "PUT", "/macros/update_many.json", 200, json={"macros": [{"id": macro["id"], "position": 3, "active": False}]})
    assert done["macros"][0]["position"] == 3 and done["macros"][0]["active"] is False
    call(http, "PUT", "/macros/update_many.json", 422, json={"macros": [{"id": macro["id"], "title": "renamed"}]})


def test_view_needs_a_status_like_condition(http):
    call(http, "POST", "/views.json", 422, json={"view": {"title": "V", "all": [{"field": "priority", "operator": "is", "value": "urgent"}]}})
    view = call(http, "POST", "/views.json", 201, json={"view": {"title": "V", "all": [
        {"field": "status", "operator": "less_than", "value": "solved"}]}})["view"]
    assert view["conditions"]["all"][0]["field"] == "status" and view["execution"]["columns"]


def test_bulk_organizations_through_job_statuses(http):
    job = call(http, "POST", "/organizations/create_many.json", 200,
               json={"organizations": [{"name": f"Org {n}", "external_id": f"e{n}"} for n in range(3)] + [{"name": "Org 0"}]})
    assert job["job_status"]["status"] == "queued"
    results = call(http, "GET", f"/job_statuses/{job['job_status']['id']}.json", 200)["job_status"]["results"]
    assert [r.get("status") for r in results[:3]] == ["Created"] * 3 and results[3]["error"] == "RecordInvalid"
    ids = [r["id"] for r in results[:3]]
    call(http, "PUT", "/organizations/update_many.json", 200, json={"organizations": [{"id": i, "notes": "vip"} for i in ids]})
    shown = call(http, "GET", f"/organizations/show_many.json?ids={','.join(map(str, ids))}", 200)["organizations"]
    assert {o["notes"] for o in shown} == {"vip"}
    assert call(http, "GET", "/organizations/search.json?external_id=e1", 200)["organizations"][0]["id"] == ids[1]


def test_search_and_search_export_over_seeded_organizations(desk, http):
    ids = desk.store.seed_organizations(250, seed=3)
    assert len(ids) == 250
    fields = call(http, "GET", "/organization_fields.json", 200)["organization_fields"]
    assert {f["key"] for f in fields} == {"contract_end_date", "customer_tier"}
    expected = [o for o in desk.store.all("organization") if o["organization_fields"]["customer_tier"] == "key"]
    body = call(http, "GET", "/search.json", 200, params={"query": "type:organization customer_tier:key", "per_page": 50})
    assert body["count"] == len(expected) and len(body["results"]) == min(50, len(expected))
    assert all(r["result_type"] == "organization" for r in body["results"])
    cutoff = sorted(o["organization_fields"]["contract_end_date"] for o in expected)[10]
    soon = call(http, "GET", "/search.json", 200, params={"query": f"type:organization customer_tier:key contract_end_date<{cutoff}"})
    assert soon["count"] == 10
    seen, url = [], desk.url + API + "/search/export.json?query=type:organization&filter[type]=organization&page[size]=100"
    while url:
        page = http.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["links"]["next"] if page["meta"]["has_more"] else None
    assert sorted(seen) == sorted(ids)
    call(http, "GET", "/search/export.json?query=type:organization", 400)  # filter[type] is required
    call(http, "GET", "/search.json?query=type:organization&page=11&per_page=100", 422)


def test_incremental_organizations_and_tickets(desk, http):
    desk.store.seed_organizations(30)
    desk.clock.advance(61)  # exports leave out the most recent minute, as Zendesk's do
    pages, start, seen = 0, 0, set()
    while True:
        body = call(http, "GET", f"/incremental/organizations.json?start_time={start}&per_page=10", 200)
        pages += 1
        seen |= {o["id"] for o in body["organizations"]}
        if body["end_of_stream"]:
            break
        assert body["next_page"].endswith(f"start_time={body['end_time']}")
        start = body["end_time"]
    assert len(seen) == 30 and pages >= 3
    for n in range(5):
        desk.store.add_ticket(subject=f"T{n}", status="solved", updated_at=f"2026-01-0{n + 1}T00:00:00Z")
    desk.clock.advance(6 * 86400)  # the fake clock starts on 2026-01-01: let the tickets be in the past
    first = call(http, "GET", "/incremental/tickets/cursor.json?start_time=0&per_page=2", 200)
    assert [t["subject"] for t in first["tickets"]] == ["T0", "T1"] and first["end_of_stream"] is False
    rest = call(http, "GET", f"/incremental/tickets/cursor.json?cursor={first['after_cursor']}&per_page=10", 200)
    assert [t["subject"] for t in rest["tickets"]] == ["T2", "T3", "T4"] and rest["end_of_stream"] is True
    call(http, "GET", "/incremental/organizations.json", 400)


@pytest.mark.slow
def test_seeding_a_hundred_thousand_orgs_is_a_bulk_insert():
    store = Store(clock=FakeClock())
    began = time.perf_counter()
    store.seed_organizations(100_000)
    assert time.perf_counter() - began < 60  # ~4 s on an idle 2-core box; one row at a time takes minutes
    assert store.count("organization") == 100_000
    tiers = {o["organization_fields"]["customer_tier"] for o in store.page("organization", limit=300)}
    assert tiers == {"key", "regular", "new"}


def test_state_persists_in_a_sqlite_file(tmp_path):
    db = str(tmp_path / "desk.sqlite")
    with running_sandbox(db=db) as desk:
        requests.post(desk.url + API + "/groups.json", json={"group": {"name": "Kept"}}, auth=desk.auth)
    with running_sandbox(db=db) as desk:
        names = [g["name"] for g in requests.get(desk.url + API + "/groups.json", auth=desk.auth).json()["groups"]]
    assert names == ["Kept"]


def test_cli_registers_the_zendesk_sandbox_and_refuses_non_loopback(capsys):
    from deskbook.cli import main

    assert main(["sandbox", "zendesk", "--host", "0.0.0.0"]) == 1
    assert "loopback" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        main(["sandbox", "zendesk", "--help"])
    assert raised.value.code == 0
    assert "--seed-orgs" in capsys.readouterr().out


def test_ticket_field_options_endpoint(http):
    field = call(http, "POST", "/ticket_fields.json", 201, json={"ticket_field": {
        "type": "tagger", "title": "Category", "custom_field_options": [{"name": "Billing", "value": "cat_billing"}]}})["ticket_field"]
    call(http, "POST", "/ticket_fields.json", 422, json={"ticket_field": {"type": "tagger", "title": "Empty"}})
    added = call(http, "POST", f"/ticket_fields/{field['id']}/options.json", 201,
                 json={"custom_field_option": {"name": "Complaint", "value": "cat_complaint"}})["custom_field_option"]
    renamed = call(http, "POST", f"/ticket_fields/{field['id']}/options.json", 200,
                   json={"custom_field_option": {"id": added["id"], "name": "Complaints", "value": "cat_complaint"}})
    assert renamed["custom_field_option"]["id"] == added["id"]
    options = call(http, "GET", f"/ticket_fields/{field['id']}/options.json", 200)["custom_field_options"]
    assert [(o["name"], o["value"]) for o in options] == [("Billing", "cat_billing"), ("Complaints", "cat_complaint")]


def test_users_bulk_and_requester_by_email(http):
    job = call(http, "POST", "/users/create_many.json", 200, json={"users": [
        {"name": "Li", "email": "li@example.com"}, {"name": "Wang", "email": "LI@example.com"}]})
    results = call(http, "GET", f"/job_statuses/{job['job_status']['id']}", 200)["job_status"]["results"]
    assert results[0]["status"] == "Created" and results[1]["error"] == "RecordInvalid"  # same email
    ticket = call(http, "POST", "/tickets.json", 201, json={"ticket": {
        "subject": "Hi", "comment": {"body": "x"}, "requester": {"name": "Li", "email": "li@example.com"}}})["ticket"]
    assert ticket["requester_id"] == results[0]["id"]
    found = call(http, "GET", "/users/search.json?query=li@example.com", 200)["users"]
    assert [u["id"] for u in found] == [results[0]["id"]]


def test_latency_and_retry_after_on_503():
    with running_sandbox(latency_ms=40) as desk, requests.Session() as session:
        session.auth = desk.auth
        began = time.perf_counter()
        session.get(desk.url + API + "/groups.json")
        assert time.perf_counter() - began >= 0.04
    with running_sandbox(fault_rate=1.0, fault_slow_seconds=0.0, seed=1) as desk, requests.Session() as session:
        session.auth = desk.auth
        answers = [session.get(desk.url + API + "/groups.json") for _ in range(40)]
    unavailable = [a for a in answers if a.status_code == 503]
    assert any("Retry-After" in a.headers for a in unavailable) and any("Retry-After" not in a.headers for a in unavailable)
    assert any(a.status_code == 200 for a in answers)  # the "slow" fault still answers
    assert all("X-Rate-Limit-Remaining" in a.headers for a in answers)


def test_trigger_categories_patch_and_refuse_deleting_a_used_category(http):
    category = call(http, "POST", "/trigger_categories.json", 200, json={"trigger_category": {"name": "Intake"}})["trigger_category"]
    assert isinstance(category["id"], str)
    renamed = call(http, "PATCH", f"/trigger_categories/{category['id']}.json", 200,
                   json={"trigger_category": {"name": "Intake and record"}})["trigger_category"]
    assert renamed["name"] == "Intake and record"
    call(http, "POST", "/triggers.json", 201, json={"trigger": {
        "title": "T", "category_id": str(category["id"]),
        "conditions": {"all": [{"field": "status", "operator": "is", "value": "new"}]},
        "actions": [{"field": "status", "value": "open"}]}})
    assert call(http, "DELETE", f"/trigger_categories/{category['id']}", 400)["errors"][0]["code"] == "CategoryNotEmpty"


def test_ticket_updates_add_comments_and_closed_tickets_stay_closed(desk, http):
    ticket = call(http, "POST", "/tickets.json", 201, json={"ticket": {"subject": "S", "comment": {"body": "first"}}})["ticket"]
    updated = call(http, "PUT", f"/tickets/{ticket['id']}.json", 200, json={"ticket": {
        "status": "pending", "comment": {"body": "progress", "public": False}, "additional_tags": ["s9"]}})
    assert updated["ticket"]["status"] == "pending" and updated["ticket"]["tags"] == ["s9"] and updated["audit"]["events"]
    comments = call(http, "GET", f"/tickets/{ticket['id']}/comments.json", 200)["comments"]
    assert [(c["body"], c["public"]) for c in comments] == [("first", True), ("progress", False)]
    closed = desk.store.add_ticket(subject="old", status="closed")
    call(http, "PUT", f"/tickets/{closed['id']}.json", 422, json={"ticket": {"status": "open"}})


def test_cursor_pages_go_backwards_with_page_before(http):
    for n in range(5):
        call(http, "POST", "/groups.json", 201, json={"group": {"name": f"B{n}"}})
    last = call(http, "GET", "/groups.json?page[size]=2", 200)
    second = http.get(last["links"]["next"]).json()
    back = http.get(second["links"]["prev"]).json()
    assert [g["name"] for g in back["groups"]] == ["B0", "B1"]


def test_cli_serves_until_interrupted(tmp_path):
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "deskbook", "sandbox", "zendesk", "--port", "0", "--token", "s3cret",
                             "--db", str(tmp_path / "d.sqlite"), "--seed-orgs", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split("listening on ")[1].split(" ")[0]
        answer = requests.get(url + API + "/organizations.json?page[size]=10", auth=("admin@example.com/token", "s3cret"))
        assert answer.status_code == 200 and len(answer.json()["organizations"]) == 5
        assert requests.get(url + API + "/organizations.json").status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)  # under load (2 cores, a full suite) 10 s was once too short
        except subprocess.TimeoutExpired:
            proc.kill()  # a server that ignores the interrupt must not outlive the test run
            proc.wait()
            raise
    assert proc.returncode == 0
    assert "s3cret" not in line


def test_plan_without_sla_answers_403():
    with running_sandbox(sla_available=False) as desk:
        answer = requests.get(desk.url + API + "/slas/policies.json", auth=desk.auth)
        assert answer.status_code == 403 and answer.json()["error"] == "Forbidden"
        assert requests.get(desk.url + API + "/macros.json", auth=desk.auth).status_code == 200


def test_concurrent_clients_get_distinct_objects_and_one_ticket_per_idempotency_key():
    from concurrent.futures import ThreadPoolExecutor

    with running_sandbox() as desk:
        def work(n):
            with requests.Session() as session:
                session.auth = desk.auth
                org = session.post(desk.url + API + "/organizations.json", json={"organization": {"name": f"C{n}"}})
                ticket = session.post(desk.url + API + "/tickets.json", headers={"Idempotency-Key": f"k{n % 5}"},
                                      json={"ticket": {"subject": f"s{n % 5}", "comment": {"body": "b"}}})
                return org.status_code, ticket.status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(work, range(40)))
        assert all(o == (201, 201) for o in outcomes), outcomes
        assert desk.store.count("organization") == 40
        assert desk.store.count("ticket") == 5


def test_bulk_ticket_creates_are_queued_and_refused_over_100(desk, http):
    """`tickets/create_many` answers `queued` with no results (as recorded); the job runs in the
    background once `job_delay_seconds` passed, or at its first status poll; the account's jobs are
    listed; more than 100 tickets are refused as Zendesk refuses them."""
    desk.app.job_delay_seconds = 3600  # on the fake clock: only a poll runs it
    job = call(http, "POST", "/tickets/create_many.json", 200, json={"tickets": [
        {"subject": "a", "comment": {"body": "b"}, "external_id": "k1"}, {"subject": "c", "comment": {"body": "d"}}]})["job_status"]
    assert job["status"] == "queued" and job["results"] is None and job["total"] == 2
    time.sleep(0.2)
    assert not desk.store.by_external_id("ticket", "k1")  # not run before it is due
    listed = call(http, "GET", "/job_statuses.json", 200)["job_statuses"]
    assert [j["status"] for j in listed if j["id"] == job["id"]] == ["queued"]
    assert http.get(http.base + "/job_statuses.json", params={"page[size]": 101}).status_code == 400  # cursor pages <= 100
    done = call(http, "GET", f"/job_statuses/{job['id']}.json", 200)["job_status"]
    assert done["status"] == "completed" and [r["index"] for r in done["results"]] == [0, 1]
    assert desk.store.by_external_id("ticket", "k1")[0]["id"] == done["results"][0]["id"]
    too_many = http.post(http.base + "/tickets/create_many.json",
                         json={"tickets": [{"subject": f"t{n}", "comment": {"body": "b"}} for n in range(101)]})
    assert too_many.status_code == 400 and too_many.json()["error"] == "TooManyValues"
    desk.app.job_delay_seconds = 0  # due at once: the background worker runs it without a poll
    job = call(http, "POST", "/tickets/create_many.json", 200,
               json={"tickets": [{"subject": "e", "comment": {"body": "f"}, "external_id": "k2"}]})["job_status"]
    deadline = time.monotonic() + 10
    while not desk.store.by_external_id("ticket", "k2") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert desk.store.by_external_id("ticket", "k2")


def test_an_account_holds_at_most_30_jobs_queued_or_running(desk, http):
    """Zendesk's job limit (API reference, rate limits, "Job limit": 30 jobs queued or running per
    account): a 31st bulk create is refused with 429 and a Retry-After; once one of them ran, the next
    is taken again. deskbook keeps a third of the limit in flight (the rest is other integrations')."""
    from deskbook.connectors.zendesk.sandbox.app import JOB_LIMIT
    from deskbook.sync.runner import JOBS_IN_FLIGHT

    assert JOB_LIMIT == 30 and 1 < JOBS_IN_FLIGHT <= JOB_LIMIT // 3
    desk.app.job_delay_seconds = 3600  # on the fake clock: only a status poll runs a job
    body = {"tickets": [{"subject": "s", "comment": {"body": "b"}}]}
    jobs = [call(http, "POST", "/tickets/create_many.json", 200, json=body)["job_status"]["id"] for _ in range(JOB_LIMIT)]
    refused = http.post(http.base + "/tickets/create_many.json", json=body)
    assert refused.status_code == 429 and refused.headers.get("Retry-After") == "1"
    assert refused.json()["error"] == "TooManyJobs"
    assert desk.store.count("ticket") == 0  # nothing of the refused batch was created or queued
    assert call(http, "GET", f"/job_statuses/{jobs[0]}.json", 200)["job_status"]["status"] == "completed"
    call(http, "POST", "/tickets/create_many.json", 200, json=body)


def test_job_statuses_show_many_requires_ids(desk, http):
    """`GET /job_statuses/show_many` without `ids` is refused (spec ShowManyJobStatuses: `ids` is
    required) — answered with an empty list, a client sending no ids would pass here only."""
    for params in ({}, {"ids": ""}):
        refused = http.get(http.base + "/job_statuses/show_many.json", params=params)
        assert refused.status_code == 400, params


def test_tickets_show_many_requires_ids(desk, http):
    """`GET /tickets/show_many` takes `ids` only, and requires them (spec TicketIds); without, the
    sandbox answered an empty list (and took `external_ids`, which the spec does not offer here)."""
    for params in ({}, {"ids": ""}, {"external_ids": "k1"}):
        refused = http.get(http.base + "/tickets/show_many.json", params=params)
        assert refused.status_code == 400, params
    job = call(http, "POST", "/tickets/create_many.json", 200,
               json={"tickets": [{"subject": "a", "comment": {"body": "b"}}]})["job_status"]
    shown = call(http, "GET", f"/job_statuses/show_many.json?ids={job['id']}", 200)["job_statuses"]
    assert [j["id"] for j in shown] == [job["id"]]


def test_a_tickets_comments_and_audits_come_in_pages_of_at_most_100(desk, http):
    """Spec ListTicketComments / ListAuditsForTicket (and ListTicketsFromView, ListJobStatuses):
    cursor or offset pages, "a maximum of 100 records per page" — the whole list in one answer, or
    a bigger page, is what the desk does not give."""
    tid = call(http, "POST", "/tickets.json", 201, json={"ticket": {"subject": "s", "comment": {"body": "one"}}})["ticket"]["id"]
    for body in ("two", "three"):
        call(http, "PUT", f"/tickets/{tid}.json", 200, json={"ticket": {"comment": {"body": body}}})
    for plural in ("comments", "audits"):
        first = call(http, "GET", f"/tickets/{tid}/{plural}.json", 200, params={"page[size]": 2})
        assert len(first[plural]) == 2 and first["meta"]["has_more"]
        rest = call(http, "GET", f"/tickets/{tid}/{plural}.json", 200,
                    params={"page[size]": 2, "page[after]": first["meta"]["after_cursor"]})
        assert len(rest[plural]) == 1 and not rest["meta"]["has_more"]
        assert http.get(http.base + f"/tickets/{tid}/{plural}.json", params={"page[size]": 101}).status_code == 400
    offset = call(http, "GET", f"/tickets/{tid}/comments.json", 200, params={"per_page": 1})
    assert [c["body"] for c in offset["comments"]] == ["one"] and offset["count"] == 3 and offset["next_page"]


def test_a_bulk_job_reads_the_accounts_settings_once_and_runs_the_triggers_on_each_ticket(desk, http, monkeypatch):
    """A 100-ticket `create_many` job runs the trigger cycle on every ticket (as Zendesk does) under the
    settings of the moment it starts: fields, triggers, categories, dynamic content, SLA policies and
    schedules are read once per job, not once per ticket (the sandbox's cost per ticket at scale)."""
    call(http, "POST", "/triggers.json", 201, json={"trigger": {
        "title": "Tag new", "conditions": {"all": [{"field": "status", "operator": "is", "value": "new"}]},
        "actions": [{"field": "set_tags", "value": "bulk_seen"}]}})
    desk.app.job_delay_seconds = 3600  # on the fake clock: the status poll runs it
    reads = []
    real_all = desk.store.all
    monkeypatch.setattr(desk.store, "all", lambda kind: reads.append(kind) or real_all(kind))
    job = call(http, "POST", "/tickets/create_many.json", 200, json={"tickets": [
        {"subject": f"t{n}", "comment": {"body": "b"}, "external_id": f"bulk{n}"} for n in range(100)]})["job_status"]
    done = call(http, "GET", f"/job_statuses/{job['id']}.json", 200)["job_status"]
    assert done["status"] == "completed" and len(done["results"]) == 100
    assert all("bulk_seen" in desk.store.by_external_id("ticket", f"bulk{n}")[0]["tags"] for n in range(100))
    setting_reads = Counter(kind for kind in reads if kind != "ticket")
    assert setting_reads and max(setting_reads.values()) == 1, setting_reads
    # outside a job each write still reads the settings of its moment
    reads.clear()
    call(http, "POST", "/tickets.json", 201, json={"ticket": {"subject": "one", "comment": {"body": "b"}}})
    assert "trigger" in reads


def test_the_ticket_export_cursor_loses_no_ticket_changed_within_the_same_tenth_of_a_second(desk, http):
    """A bulk job changes a hundred tickets within a fraction of a second. The cursor-based export's
    cursor named its last ticket's change time to a tenth of a second, rounded: a page ending at
    x.16 s resumed after x.2 s, and the tickets changed in between, after the last one listed, were
    never exported (a rebuilt sync ledger then did not know them and created them again)."""
    from deskbook.connectors.zendesk.sandbox.rules import ticket_defaults

    base = desk.store.now() - 3600
    desk.store.insert_many("ticket", [{**ticket_defaults(desk.store), "subject": f"B{n}", "status": "open",
                                       "_created_ts": base + 0.16 + n / 100, "_updated_ts": base + 0.16 + n / 100}
                                      for n in range(4)])
    seen, url = [], "/incremental/tickets/cursor.json?start_time=0&per_page=1"
    for _ in range(10):
        page = call(http, "GET", url, 200)
        seen += [t["subject"] for t in page["tickets"]]
        if page["end_of_stream"]:
            break
        url = f"/incremental/tickets/cursor.json?cursor={page['after_cursor']}&per_page=1"
    assert seen == ["B0", "B1", "B2", "B3"]


def test_list_tickets_sorted_by_update_in_offset_pages(desk, http):
    """`GET /tickets?sort_by=updated_at&sort_order=desc` (offset pages): newest change first; a ticket
    changed meanwhile goes to the top and shifts the pages below it; past the offset limit a 400."""
    for n in range(5):
        desk.store.add_ticket(subject=f"T{n}", updated_at=f"2026-01-01T00:00:0{n + 1}Z")  # T4 newest
    newest = call(http, "GET", "/tickets.json", 200, params={"sort_by": "updated_at", "sort_order": "desc", "per_page": 2})
    assert [t["subject"] for t in newest["tickets"]] == ["T4", "T3"] and newest["count"] == 5
    assert "sort_by=updated_at" in newest["next_page"] and "page=2" in newest["next_page"]
    oldest = call(http, "GET", "/tickets.json", 200, params={"sort_by": "updated_at", "per_page": 2})
    assert [t["subject"] for t in oldest["tickets"]] == ["T0", "T1"]  # sort_order defaults to asc
    by_id = call(http, "GET", "/tickets.json", 200, params={"per_page": 2})
    assert [t["subject"] for t in by_id["tickets"]] == ["T0", "T1"] and by_id["tickets"][0]["id"] < by_id["tickets"][1]["id"]
    desk.clock.advance(60)
    t1 = next(t for t in desk.store.all("ticket") if t["subject"] == "T1")
    call(http, "PUT", f"/tickets/{t1['id']}.json", 200, json={"ticket": {"priority": "high"}})
    second = call(http, "GET", newest["next_page"].split(API, 1)[1], 200)
    assert [t["subject"] for t in second["tickets"]] == ["T3", "T2"]  # shifted by T1's move: T3 again
    first = call(http, "GET", "/tickets.json", 200, params={"sort_by": "updated_at", "sort_order": "desc", "per_page": 2})
    assert [t["subject"] for t in first["tickets"]] == ["T1", "T4"]
    assert first["tickets"][0]["updated_at"] > first["tickets"][1]["updated_at"]
    big = call(http, "GET", "/tickets.json", 200, params={"sort_by": "updated_at", "per_page": 500})
    assert len(big["tickets"]) == 5 and "per_page=100" not in (big["next_page"] or "")
    call(http, "GET", "/tickets.json", 200, params={"sort_by": "updated_at", "sort_order": "desc", "page": 100, "per_page": 100})
    refused = call(http, "GET", "/tickets.json", 400,
                   params={"sort_by": "updated_at", "sort_order": "desc", "page": 101, "per_page": 100})
    assert refused["error"] == "InvalidPaginationParameter"
    # a system update moves the ticket's generated_timestamp (its place in the export), not updated_at
    t0 = next(t for t in desk.store.all("ticket") if t["subject"] == "T0")
    desk.clock.advance(60)
    desk.store.system_update(t0["id"])
    desk.clock.advance(61)
    still = call(http, "GET", "/tickets.json", 200, params={"sort_by": "updated_at", "sort_order": "desc"})
    assert [t["subject"] for t in still["tickets"]] == ["T1", "T4", "T3", "T2", "T0"]
    export = call(http, "GET", "/incremental/tickets/cursor.json?start_time=0", 200)["tickets"]
    assert export[-1]["subject"] == "T0" and export[-1]["generated_timestamp"] > export[-2]["generated_timestamp"]
    assert export[-1]["updated_at"] == t0["updated_at"]

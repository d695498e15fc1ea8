"""The JSM sandbox computes SLAs and queues as JSM documents them (connectors/jsm/sandbox/sla.py, app.py):
goal order (first matching JQL wins), start/pause/stop conditions over the request's history, time in
the goal's calendar (business hours, holidays, time zone), breach times; queues by their JQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests

from deskbook.connectors.jsm.sandbox import running_sandbox, sla
from deskbook.connectors.jsm.sandbox.app import ACT_AS_HEADER, STATUS_IDS
from deskbook.connectors.jsm.sandbox.jql import compile_jql
from deskbook.connectors.sandbox_kit.clock import FakeClock

SD = "/rest/servicedeskapi"
OPT_IN = {"X-ExperimentalApi": "opt-in"}
HOUR_MS = 3_600_000


def cond(factory: str, ident: str) -> dict:
    return {"pluginKey": sla.PLUGIN_KEY, "factoryKey": factory, "conditionId": ident, "name": ident}


CREATED = cond(sla.CREATED, "issue-created-hit-condition")
FOR_CUSTOMERS = cond(sla.COMMENT, "comment-for-reporter-hit-condition")
BY_CUSTOMER = cond(sla.COMMENT, "comment-by-reporter-hit-condition")
RESOLVED = cond(sla.RESOLUTION, "resolution-set-hit-condition")
WAITING_FOR_CUSTOMER = cond(sla.STATUS, STATUS_IDS["Waiting for customer"])


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def stamp(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def issue(created: str, **extra) -> dict:
    return {"key": "SUP-1", "id": "10000", "projectKey": "SUP", "projectId": "10000", "labels": [],
            "status": "Waiting for support", "priority": "Medium", "created": stamp(created), "comments": [],
            "changelog": [], **extra}


def moved(at: str, old: str, new: str) -> dict:
    """A changelog entry (Jira's shape, as `issues.py` writes it): the status moved from `old` to `new`."""
    return {"created": stamp(at), "items": [{"field": "status", "fromString": old, "toString": new}]}


def metric(goals: list[dict], start=(CREATED,), pause=(), stop=(RESOLVED,), name="Time to resolution") -> dict:
    return {"id": 1, "name": name, "config": {"definition": {"start": list(start), "pause": list(pause),
                                                             "stop": list(stop)}, "goals": goals}}


def goal(jql: str, hours: float, calendar=None, default=False) -> dict:
    return {"jqlQuery": jql, "duration": int(hours * HOUR_MS), "calendarId": calendar, "defaultGoal": default}


def matcher(jql: str, found: dict) -> bool:
    return compile_jql(jql)(found)


def values(found: dict, metrics: list[dict], now: str, calendars: dict | None = None) -> list[dict]:
    return sla.sla_values(found, metrics, calendars or {}, now=ts(now), is_customer=lambda a: a.startswith("qm:"),
                          status_ids=STATUS_IDS, matcher=matcher)


#: 09:00-18:00 Monday to Friday in Shanghai, 2026-10-05 (a Monday) closed.
SHANGHAI = {"id": 7, "name": "business hours", "timezoneId": "Asia/Shanghai",
            "workingTimes": [{"weekday": d, "start": 9 * HOUR_MS, "end": 18 * HOUR_MS}
                             for d in ("monday", "tuesday", "wednesday", "thursday", "friday")],
            "holidays": [{"name": "National Day", "iso8601Date": "2026-10-05", "recurring": False}]}


# ---------------------------------------------------------------- goal order


def test_the_first_goal_whose_jql_matches_applies():
    vip = issue("2026-03-02T10:00:00+00:00", labels=["vip"])
    goals = [goal("labels = vip", 1), goal("", 4, default=True)]
    [found] = values(vip, [metric(goals)], "2026-03-02T10:30:00+00:00")
    assert found["goal"]["duration"] == HOUR_MS
    [plain] = values(issue("2026-03-02T10:00:00+00:00"), [metric(goals)], "2026-03-02T10:30:00+00:00")
    assert plain["goal"]["duration"] == 4 * HOUR_MS
    # order, not specificity: of two matching goals the first wins
    both = [goal("labels = vip", 2), goal("labels = vip AND priority = Medium", 1)]
    [first] = values(vip, [metric(both)], "2026-03-02T10:30:00+00:00")
    assert first["goal"]["duration"] == 2 * HOUR_MS
    # the default goal is "All remaining issues": only for a request no other goal matches, wherever it stands
    [still] = values(vip, [metric(list(reversed(goals)))], "2026-03-02T10:30:00+00:00")
    assert still["goal"]["duration"] == HOUR_MS


def test_no_matching_goal_means_no_sla():
    assert values(issue("2026-03-02T10:00:00+00:00"), [metric([goal("labels = vip", 1)])],
                  "2026-03-02T11:00:00+00:00") == []


# ---------------------------------------------------------------- start, pause, stop


def test_time_in_a_pause_condition_does_not_count():
    waiting = issue("2026-03-02T10:00:00+00:00", status="Work in progress", changelog=[
        moved("2026-03-02T11:00:00+00:00", "Waiting for support", "Waiting for customer"),
        moved("2026-03-02T14:00:00+00:00", "Waiting for customer", "Work in progress")])
    m = metric([goal("", 2)], pause=(WAITING_FOR_CUSTOMER,))
    [found] = values(waiting, [m], "2026-03-02T14:30:00+00:00")
    [cycle] = found["cycles"]
    assert cycle["elapsed_ms"] == 1.5 * HOUR_MS and not cycle["paused"] and not cycle["breached"]
    # the 3 paused hours push the breach time: 10:00 + 2 h + 3 h
    assert cycle["breach_time"] == stamp("2026-03-02T15:00:00+00:00")
    # while paused: no breach time, the clock stands still
    [still] = values(waiting, [m], "2026-03-02T13:00:00+00:00")
    assert still["cycles"][0]["paused"] and still["cycles"][0]["elapsed_ms"] == HOUR_MS
    assert still["cycles"][0]["breach_time"] is None
    # the same history without the pause condition counts every hour and breaches at 12:00
    [counted] = values(waiting, [metric([goal("", 2)])], "2026-03-02T14:30:00+00:00")
    assert counted["cycles"][0]["elapsed_ms"] == 4.5 * HOUR_MS and counted["cycles"][0]["breached"]
    assert counted["cycles"][0]["breach_time"] == stamp("2026-03-02T12:00:00+00:00")


def test_a_public_agent_comment_stops_first_response_and_a_customer_comment_does_not():
    m = metric([goal("", 1)], stop=(FOR_CUSTOMERS, RESOLVED), name="Time to first response")
    found = issue("2026-03-02T10:00:00+00:00", comments=[
        {"created": stamp("2026-03-02T10:10:00+00:00"), "public": True, "author": "qm:customer"},
        {"created": stamp("2026-03-02T10:20:00+00:00"), "public": False, "author": "agent"},
        {"created": stamp("2026-03-02T10:45:00+00:00"), "public": True, "author": "agent"}])
    [done] = values(found, [m], "2026-03-02T12:00:00+00:00")
    [cycle] = done["cycles"]
    assert cycle["stop"] == stamp("2026-03-02T10:45:00+00:00")
    assert cycle["elapsed_ms"] == 45 * 60_000 and cycle["remaining_ms"] == 15 * 60_000 and not cycle["breached"]


def test_an_event_that_stops_and_starts_opens_the_next_cycle():
    m = metric([goal("", 24)], start=(CREATED, FOR_CUSTOMERS), stop=(FOR_CUSTOMERS, RESOLVED))
    found = issue("2026-03-02T10:00:00+00:00", comments=[
        {"created": stamp("2026-03-03T12:00:00+00:00"), "public": True, "author": "agent"}])
    [periodic] = values(found, [m], "2026-03-03T13:00:00+00:00")
    first, second = periodic["cycles"]
    assert first["breached"] and first["stop"] == stamp("2026-03-03T12:00:00+00:00")
    assert second["stop"] is None and second["elapsed_ms"] == HOUR_MS


def test_a_customer_comment_starts_time_to_next_response():
    m = metric([goal("", 2)], start=(BY_CUSTOMER,), stop=(FOR_CUSTOMERS,))
    [waiting] = values(issue("2026-03-02T10:00:00+00:00"), [m], "2026-03-02T12:00:00+00:00")
    assert waiting["cycles"] == []  # the goal applies, the clock has not started
    replied = issue("2026-03-02T10:00:00+00:00", comments=[
        {"created": stamp("2026-03-02T11:00:00+00:00"), "public": True, "author": "qm:customer"}])
    [found] = values(replied, [m], "2026-03-02T12:00:00+00:00")
    assert found["cycles"][0]["start"] == stamp("2026-03-02T11:00:00+00:00")
    assert found["cycles"][0]["elapsed_ms"] == HOUR_MS


# ---------------------------------------------------------------- calendars


def test_breach_time_counts_business_hours_in_the_calendars_zone_and_skips_holidays():
    calendars = {"7": SHANGHAI}
    m = metric([goal("", 2, calendar=7)])
    # Friday 2026-10-02 17:00 Shanghai: one hour left that day; Monday 10-05 is a holiday -> Tuesday 10:00
    friday = issue("2026-10-02T17:00:00+08:00")
    [found] = values(friday, [m], "2026-10-03T12:00:00+08:00", calendars)
    cycle = found["cycles"][0]
    assert cycle["breach_time"] == stamp("2026-10-06T10:00:00+08:00")
    assert cycle["elapsed_ms"] == HOUR_MS and not cycle["within"]
    # without the holiday: Monday 10:00
    open_monday = {**SHANGHAI, "holidays": []}
    [plain] = values(friday, [m], "2026-10-03T12:00:00+08:00", {"7": open_monday})
    assert plain["cycles"][0]["breach_time"] == stamp("2026-10-05T10:00:00+08:00")
    # a recurring holiday closes the same day every year
    recurring = {**SHANGHAI, "holidays": [{"name": "National Day", "iso8601Date": "2020-10-05", "recurring": True}]}
    [again] = values(friday, [m], "2026-10-03T12:00:00+08:00", {"7": recurring})
    assert again["cycles"][0]["breach_time"] == stamp("2026-10-06T10:00:00+08:00")


def test_a_goal_without_calendar_counts_around_the_clock():
    [found] = values(issue("2026-10-02T17:00:00+08:00"), [metric([goal("", 2)])], "2026-10-03T12:00:00+08:00")
    assert found["cycles"][0]["breach_time"] == stamp("2026-10-02T19:00:00+08:00")
    assert found["cycles"][0]["breached"] and found["cycles"][0]["within"]


# ---------------------------------------------------------------- through the sandbox, on its clock


def session_for(sandbox) -> requests.Session:
    http = requests.Session()
    http.auth = (sandbox.email, sandbox.token)
    return http


def sla_body(name: str, goals: list[dict], **definition) -> dict:
    parts = {"start": [CREATED], "pause": [], "stop": [FOR_CUSTOMERS, RESOLVED], **definition}
    return {"name": name, "config": {"definition": parts, "goals": goals}}


def test_request_sla_follows_the_requests_history_on_the_sandbox_clock():
    clock = FakeClock(ts("2026-03-02T10:00:00+00:00"))
    with running_sandbox(clock=clock) as sandbox:
        http = session_for(sandbox)
        metrics = f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics"
        made = http.post(metrics, json=sla_body("Time to first response", [
            {"jqlQuery": 'priority = "Highest"', "duration": HOUR_MS // 2, "calendarId": 1, "defaultGoal": False},
            {"jqlQuery": "", "duration": 2 * HOUR_MS, "calendarId": 1, "defaultGoal": True}]))
        assert made.status_code == 201, made.text
        rtype = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype", headers=OPT_IN,
                          json={"name": "Help", "issueTypeId": "10004"}).json()
        customer = http.post(f"{sandbox.url}{SD}/customer", json={"email": "c@x.example", "displayName": "C"}).json()
        http.post(f"{sandbox.url}{SD}/servicedesk/1/customer", json={"accountIds": [customer["accountId"]]})  # a customer of the desk
        key = http.post(f"{sandbox.url}{SD}/request", json={
            "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": customer["accountId"],
            "requestFieldValues": {"summary": "x"}}).json()["issueKey"]
        assert http.get(f"{sandbox.url}/rest/api/3/issue/{key}", params={"fields": "created"}).json()[
            "fields"]["created"] == stamp("2026-03-02T10:00:00+00:00")
        clock.advance(3600)
        http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "still broken", "public": True},
                  headers={ACT_AS_HEADER: customer["accountId"]})
        [ongoing] = http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()["values"]
        cycle = ongoing["ongoingCycle"]
        assert cycle["elapsedTime"]["millis"] == HOUR_MS and cycle["remainingTime"]["millis"] == HOUR_MS
        assert cycle["breachTime"]["iso8601"] == stamp("2026-03-02T12:00:00+00:00") and not cycle["breached"]
        clock.advance(1800)
        http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "on it", "public": True})
        [done] = http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()["values"]
        assert "ongoingCycle" not in done
        assert done["completedCycles"][0]["stopTime"]["iso8601"] == stamp("2026-03-02T11:30:00+00:00")
        assert done["completedCycles"][0]["elapsedTime"]["millis"] == 90 * 60_000


def test_transitions_are_recorded_in_the_history_and_pause_the_clock():
    clock = FakeClock(ts("2026-03-02T10:00:00+00:00"))
    with running_sandbox(clock=clock) as sandbox:
        http = session_for(sandbox)
        http.post(f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics", json=sla_body(
            "Time to resolution", [{"jqlQuery": "", "duration": 4 * HOUR_MS, "calendarId": 1, "defaultGoal": True}],
            pause=[WAITING_FOR_CUSTOMER], stop=[RESOLVED])).raise_for_status()
        rtype = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype", headers=OPT_IN,
                          json={"name": "Help", "issueTypeId": "10004"}).json()
        key = http.post(f"{sandbox.url}{SD}/request", json={"serviceDeskId": "1", "requestTypeId": rtype["id"],
                                                             "requestFieldValues": {"summary": "x"}}).json()["issueKey"]
        clock.advance(3600)
        http.post(f"{sandbox.url}/rest/api/3/issue/{key}/transitions", json={"transition": {"id": "11"}})  # waiting
        clock.advance(5 * 3600)
        http.post(f"{sandbox.url}/rest/api/3/issue/{key}/transitions", json={"transition": {"id": "21"}})  # in progress
        clock.advance(3600)
        [found] = http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()["values"]
        assert found["ongoingCycle"]["elapsedTime"]["millis"] == 2 * HOUR_MS
        assert found["ongoingCycle"]["breachTime"]["iso8601"] == stamp("2026-03-02T19:00:00+00:00")
        clock.advance(3 * 3600)
        http.post(f"{sandbox.url}/rest/api/3/issue/{key}/transitions", json={"transition": {"id": "51"}})  # resolved
        [done] = http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()["values"]
        assert done["completedCycles"][0]["breached"] is True
        assert done["completedCycles"][0]["elapsedTime"]["millis"] == 5 * HOUR_MS


def test_goals_count_in_a_calendar_made_through_the_working_hours_api():
    clock = FakeClock(ts("2026-10-02T17:00:00+08:00"))
    with running_sandbox(clock=clock) as sandbox:
        http = session_for(sandbox)
        body = {k: v for k, v in SHANGHAI.items() if k != "id"}
        calendar = http.post(f"{sandbox.url}/rest/workinghours/1/api/calendar/SUP", json=body)
        assert calendar.status_code == 201, calendar.text
        listed = http.get(f"{sandbox.url}/rest/workinghours/1/internal/dialog/SUP").json()["calendars"]
        assert [c["name"] for c in listed] == ["24/7 Calendar (Default)", "business hours"]
        http.post(f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics", json=sla_body(
            "Time to first response", [{"jqlQuery": "", "duration": 2 * HOUR_MS, "calendarId": calendar.json()["id"],
                                        "defaultGoal": True}])).raise_for_status()
        rtype = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype", headers=OPT_IN,
                          json={"name": "Help", "issueTypeId": "10004"}).json()
        key = http.post(f"{sandbox.url}{SD}/request", json={"serviceDeskId": "1", "requestTypeId": rtype["id"],
                                                             "requestFieldValues": {"summary": "x"}}).json()["issueKey"]
        [found] = http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()["values"]
        assert found["ongoingCycle"]["breachTime"]["iso8601"] == stamp("2026-10-06T10:00:00+08:00")
        assert found["ongoingCycle"]["withinCalendarHours"] is True


# ---------------------------------------------------------------- refusals


def sla_goal(**changes) -> dict:
    return {"jqlQuery": "", "duration": HOUR_MS, "calendarId": 1, "defaultGoal": True, **changes}


@pytest.mark.parametrize("body, field", [
    ({"name": "TTR", "description": "x", "goals": [{"jql": "", "duration": 60, "calendar": "24/7"}]}, "config"),
    ({"config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]}, "goals": [sla_goal()]}}, "name"),
    ({"name": "TTR"}, "config"),
    ({"name": "TTR", "config": {"goals": [sla_goal()]}}, "config.definition"),
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "stop": [RESOLVED]}, "goals": [sla_goal()]}},
     "config.definition.pause"),
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]}}}, "config.goals"),
    ({"name": "TTR", "config": {"definition": {"start": [{"factoryKey": sla.CREATED}], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal()]}}, "config.definition.start"),
    ({"name": "TTR", "config": {"definition": {"start": [cond("made-up-factory", "x")], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal()]}}, "config.definition.start"),
    *[({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]},
                                  "goals": [{k: v for k, v in sla_goal().items() if k != missing}]}},
       f"config.goals[0].{missing}") for missing in ("jqlQuery", "duration", "calendarId", "defaultGoal")],
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal(calendarId=999)]}}, "config.goals[0].calendarId"),
    # only the default goal goes without JQL
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal(defaultGoal=False), sla_goal()]}}, "config.goals[0].jqlQuery"),
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal(jqlQuery="labels = vip"), sla_goal()]}}, "config.goals[0].jqlQuery"),
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal(), sla_goal()]}}, "config.goals"),
    ({"name": "TTR", "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]},
                                "goals": [sla_goal(jqlQuery=f"priority = P{n}", defaultGoal=False)
                                          for n in range(sla.GOAL_LIMIT + 1)]}}, "config.goals"),
])
def test_sla_metric_bodies_missing_a_required_field_are_refused(body, field):
    with running_sandbox() as sandbox:
        answer = session_for(sandbox).post(f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics",
                                           json=body)
        assert answer.status_code == 400
        assert field in answer.json()["errors"] and answer.json()["errorMessages"] == []


@pytest.mark.parametrize("missing", ["name", "timezoneId", "workingTimes"])
def test_calendar_bodies_missing_a_required_field_are_refused(missing):
    body = {k: v for k, v in SHANGHAI.items() if k not in ("id", missing)}
    with running_sandbox() as sandbox:
        answer = session_for(sandbox).post(f"{sandbox.url}/rest/workinghours/1/api/calendar/SUP", json=body)
        assert answer.status_code == 400 and missing in answer.json()["errors"]


def test_sla_and_calendar_names_stay_unique_in_the_project_when_one_is_renamed():
    """Names are unique per project (a create with a taken name is refused) — so is a rename onto one."""
    calendar = {k: v for k, v in SHANGHAI.items() if k != "id"}
    with running_sandbox() as sandbox:
        http = session_for(sandbox)
        metrics = f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics"
        first, second = (http.post(metrics, json=sla_body(name, [sla_goal()])).json() for name in ("TTR", "TTFR"))
        renamed = http.put(f"{metrics}/{second['id']}", json=sla_body("ttr", [sla_goal()]))
        assert renamed.status_code == 400 and "name" in renamed.json()["errors"]
        assert http.put(f"{metrics}/{first['id']}", json=sla_body("TTR", [sla_goal()])).status_code == 200
        calendars = f"{sandbox.url}/rest/workinghours/1/api/calendar/SUP"
        made = [http.post(calendars, json={**calendar, "name": name}).json() for name in ("Office", "Night")]
        renamed = http.put(f"{calendars}/{made[1]['id']}", json={**calendar, "name": "OFFICE"})
        assert renamed.status_code == 400 and "name" in renamed.json()["errors"]
        assert http.put(f"{calendars}/{made[0]['id']}", json={**calendar, "name": "Office"}).status_code == 200


# ---------------------------------------------------------------- queues


@pytest.mark.contract_exempt("POSTs to the read-only public queue endpoint to see the sandbox refuse it")
def test_queues_list_their_requests_by_jql_through_the_public_endpoints():
    with running_sandbox() as sandbox:
        http = session_for(sandbox)
        internal = f"{sandbox.url}/rest/servicedesk/1/servicedesk/SUP/queues"
        for missing in ("name", "jql", "columns"):
            body = {k: v for k, v in {"name": "Urgent", "jql": "labels = x", "columns": ["issuekey"]}.items()
                    if k != missing}
            refused = http.post(internal, json=body)
            assert refused.status_code == 400 and missing in refused.json()["errors"]
        queue = http.post(internal, json={"name": "Urgent", "columns": ["issuekey", "summary", "priority"],
                                          "jql": '(priority = "Highest" OR labels in ("escalated"))'})
        assert queue.status_code == 201, queue.text
        assert queue.json()["jql"] == 'project = SUP AND (priority = "Highest" OR labels in ("escalated"))'
        rtype = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype", headers=OPT_IN,
                          json={"name": "Help", "issueTypeId": "10004"}).json()
        keys = [http.post(f"{sandbox.url}{SD}/request", json={"serviceDeskId": "1", "requestTypeId": rtype["id"],
                                                               "requestFieldValues": {"summary": s}}).json()["issueKey"]
                for s in ("a", "b", "c")]
        http.put(f"{sandbox.url}/rest/api/3/issue/{keys[1]}", json={"update": {"labels": [{"add": "escalated"}]}})
        listed = http.get(f"{sandbox.url}{SD}/servicedesk/1/queue", params={"includeCount": "true"}).json()
        [mine] = [q for q in listed["values"] if q["name"] == "Urgent"]
        assert mine["issueCount"] == 1 and mine["fields"] == ["issuekey", "summary", "priority"]
        issues = http.get(f"{sandbox.url}{SD}/servicedesk/1/queue/{mine['id']}/issue").json()["values"]
        assert [i["key"] for i in issues] == [keys[1]]
        assert http.post(f"{sandbox.url}{SD}/servicedesk/1/queue", json={"name": "x"}).status_code == 405
        renamed = http.put(f"{internal}/{mine['id']}", json={"name": "Urgent now", "jql": "labels = none",
                                                              "columns": ["issuekey"]})
        assert renamed.status_code == 200
        assert http.get(f"{sandbox.url}{SD}/servicedesk/1/queue/{mine['id']}/issue").json()["values"] == []


def test_a_jira_shaped_changelog_is_read_as_the_history():
    """The history is Jira's changelog (`{created, items: [{field, fromString, toString}]}`): other fields'
    items in an entry are skipped, a status item in it still counts."""
    logged = issue("2026-03-02T10:00:00+00:00", status="Work in progress", changelog=[
        {"created": stamp("2026-03-02T11:00:00+00:00"), "items": [
            {"field": "status", "fromString": "Waiting for support", "toString": "Waiting for customer"}]},
        {"created": stamp("2026-03-02T14:00:00+00:00"), "items": [
            {"field": "labels", "fromString": None, "toString": "x"},
            {"field": "status", "fromString": "Waiting for customer", "toString": "Work in progress"}]}])
    [found] = values(logged, [metric([goal("", 2)], pause=(WAITING_FOR_CUSTOMER,))], "2026-03-02T14:30:00+00:00")
    assert found["cycles"][0]["elapsed_ms"] == 1.5 * HOUR_MS


# ---------------------------------------------------------------- the playbook's policies as goals


def _first_match_policies() -> tuple:
    """Policies whose first match matters: a narrow one before a broad one, targets for some priorities
    only, a policy without some metrics, an `any` filter and a negated tag."""
    from deskbook.playbooks import model as m

    def policy(key, conditions, targets):
        title = m.Localized({"en": key}, "en")
        return m.SLAPolicy(key, title, title, conditions, tuple(m.SLATarget(*t) for t in targets))

    every = m.PRIORITIES
    return (
        policy("vip_urgent", m.Conditions(all=(m.Condition("tags", "includes", ["vip"]),
                                               m.Condition("priority", "is", "urgent"))),
               [("first_reply_time", "urgent", 10)]),
        policy("vip", m.Conditions(all=(m.Condition("tags", "includes", ["vip"]),)),
               [("first_reply_time", "high", 20), ("first_reply_time", "normal", 40)]
               + [("next_reply_time", p, 60) for p in every]),
        policy("waiting", m.Conditions(any=(m.Condition("status", "is", "pending"), m.Condition("status", "is", "hold"))),
               [("periodic_update_time", p, 1440, False) for p in every]),
        policy("not_closed", m.Conditions(all=(m.Condition("status", "less_than", "solved"),
                                               m.Condition("tags", "not_includes", ["ignore"]))),
               [("first_reply_time", p, 30) for p in every] + [("next_reply_time", p, 90) for p in every]
               + [("periodic_update_time", p, 100 if p in ("low", "normal") else 50) for p in every]),
    )


@pytest.mark.parametrize("which", ["shipped", "first-match cases"])
def test_each_metrics_goals_give_every_request_the_target_of_zendesks_first_matching_policy(which):
    """#11: Zendesk applies the first SLA policy (by position) whose filter matches, and only it; JSM
    the first goal (in order) of each SLA metric whose JQL matches. The JSM translation (one metric per
    target type, the policies' goals in order) gives every request — tags, status, priority — the
    same target per metric, and the same policy, as the Zendesk sandbox's engine gives the ticket."""
    import dataclasses
    from itertools import chain, combinations

    from deskbook.connectors.jsm import translate as tr
    from deskbook.connectors.zendesk import translate as zt
    from deskbook.connectors.zendesk.sandbox import engine
    from deskbook.playbooks import model as m
    from deskbook.playbooks.loader import load_playbook

    playbook = load_playbook()
    if which != "shipped":
        playbook = dataclasses.replace(playbook, sla_policies=_first_match_policies())
    skipped, _ = tr.check_desk_limits(playbook)  # online_first_reply (chat and web) is not installed on JSM
    zendesk = [{**d.payload, "id": n, "position": n, "key": d.key} for n, d in enumerate(zt._sla_policies(playbook), 1)
               if f"sla.{d.key}" not in skipped]
    metrics = tr.sla_metrics(playbook, "SUP")
    assert [mt["key"] for mt in metrics] == [f"sla.{k}" for k in m.SLA_METRICS
                                               if any(t.metric == k for p in playbook.sla_policies for t in p.targets)]
    tags = ["deskbook_escalated", "deskbook_owner_resolved", "vip", "ignore"]
    checked = set()
    for labels in chain.from_iterable(combinations(tags, n) for n in range(3)):
        for status in m.STATUSES:
            for priority in m.PRIORITIES:
                ticket = {"tags": list(labels), "status": status, "priority": priority, "via": {"channel": "email"}}
                policy = engine.select_policy(zendesk, ticket)
                wanted = engine.policy_targets(policy, priority)
                request = issue("2026-03-02T10:00:00+00:00", labels=list(labels), status=tr.STATUS_NAMES[status],
                                priority=tr.PRIORITY_NAMES[priority])
                for metric in metrics:
                    goal = next((g for g in metric["payload"]["goals"] if compile_jql(g["jql"])(request)), None)
                    want = wanted.get(metric["metric"])
                    got = None if goal is None else (goal["policy"], goal["duration"], goal["calendar"] == "business hours")
                    expected = None if want is None else (policy["key"], want["target"], want["business_hours"])
                    assert got == expected, (labels, status, priority, metric["metric"])
                    checked.add(got)
    assert len(checked) > 4  # several policies and targets were in force, and "no target" too
    assert None in checked


def test_a_playbook_needing_more_goals_than_a_jsm_metric_holds_is_refused_naming_the_metric():
    """23 policies with a different target per priority need 92 goals of one metric; JSM takes 90."""
    import dataclasses

    from deskbook.connectors.jsm import translate as tr
    from deskbook.errors import DeskbookError
    from deskbook.playbooks import model as m
    from deskbook.playbooks.loader import load_playbook

    def policy(n):
        title = m.Localized({"en": f"p{n}"}, "en")
        return m.SLAPolicy(f"p{n}", title, title, m.Conditions(all=(m.Condition("tags", "includes", [f"t{n}"]),)),
                           tuple(m.SLATarget("first_reply_time", p, 10 + i) for i, p in enumerate(m.PRIORITIES)))

    shipped = load_playbook()
    assert len(tr.sla_metrics(dataclasses.replace(shipped, sla_policies=tuple(policy(n) for n in range(22))), "SUP")
               [0]["payload"]["goals"]) == 88
    with pytest.raises(DeskbookError, match="first_reply_time would need 92 goals"):
        tr.sla_metrics(dataclasses.replace(shipped, sla_policies=tuple(policy(n) for n in range(23))), "SUP")


# ---------------------------------------------------------------- completed cycles keep their goal


def resolved_at(at: str) -> dict:
    """A changelog entry (as `issues.py`'s transition writes it): resolved at `at`."""
    return {"created": stamp(at), "items": [{"field": "status", "fromString": "Work in progress", "toString": "Resolved"},
                                            {"field": "resolution", "fromString": None, "toString": "Done"}]}


def test_a_resolved_request_keeps_its_completed_first_response_cycle_with_its_goal_and_breach():
    """The goal's JQL excludes resolved requests, so no goal matches the request now; its first-response
    cycle completed (breached) while the goal applied and is still reported with that goal (sla.py's
    inferred reading: FACTS.md 6.x is silent)."""
    m = metric([goal("resolution is EMPTY", 1)], stop=(FOR_CUSTOMERS, RESOLVED), name="Time to first response")
    done = issue("2026-03-02T10:00:00+00:00", status="Resolved", resolutiondate=stamp("2026-03-02T12:00:00+00:00"),
                 comments=[{"created": stamp("2026-03-02T11:30:00+00:00"), "public": True, "author": "agent"}],
                 changelog=[resolved_at("2026-03-02T12:00:00+00:00")])
    [found] = values(done, [m], "2026-03-02T13:00:00+00:00")
    [cycle] = found["cycles"]
    assert cycle["stop"] == stamp("2026-03-02T11:30:00+00:00") and cycle["goal"]["duration"] == HOUR_MS
    assert cycle["breached"] and cycle["elapsed_ms"] == 1.5 * HOUR_MS
    # a resolution that itself stops the cycle: the goal is the one matched just before it
    quiet = issue("2026-03-02T10:00:00+00:00", status="Resolved", resolutiondate=stamp("2026-03-02T10:40:00+00:00"),
                  changelog=[resolved_at("2026-03-02T10:40:00+00:00")])
    [closed] = values(quiet, [m], "2026-03-02T13:00:00+00:00")
    assert [(c["goal"]["duration"], c["breached"]) for c in closed["cycles"]] == [(HOUR_MS, False)]


def test_a_completed_cycle_keeps_the_goal_it_ran_under_and_the_ongoing_one_follows_the_request():
    """VIP until after the first reply, then the label went: the first cycle stays on the VIP goal, the
    customer's next cycle (ongoing) runs on the default goal."""
    m = metric([goal("labels = vip", 1), goal("", 4, default=True)], start=(CREATED, BY_CUSTOMER),
               stop=(FOR_CUSTOMERS, RESOLVED), name="Time to first response")
    found = issue("2026-03-02T10:00:00+00:00", labels=[], comments=[
        {"created": stamp("2026-03-02T11:30:00+00:00"), "public": True, "author": "agent"},
        {"created": stamp("2026-03-02T13:00:00+00:00"), "public": True, "author": "qm:customer"}],
        changelog=[{"created": stamp("2026-03-02T12:00:00+00:00"),
                    "items": [{"field": "labels", "fromString": "vip", "toString": None}]}])
    [sla_now] = values(found, [m], "2026-03-02T14:00:00+00:00")
    first, second = sla_now["cycles"]
    assert (first["goal"]["duration"], first["breached"]) == (HOUR_MS, True)
    assert (second["goal"]["duration"], second["stop"], second["breached"]) == (4 * HOUR_MS, None, False)
    assert sla_now["goal"]["duration"] == 4 * HOUR_MS

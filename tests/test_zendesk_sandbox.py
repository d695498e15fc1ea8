"""The Zendesk sandbox desk answers like Zendesk: auth, envelopes, pagination, errors, rules, limits."""

from __future__ import annotations

import pytest
import requests

from deskbook.connectors.zendesk.sandbox import FakeClock, running_sandbox

API = "/api/v2"


@pytest.fixture()
def desk():
    with running_sandbox() as handle:
        yield handle


@pytest.fixture()
def http(desk):
    session = requests.Session()
    session.auth = desk.auth
    session.base = desk.url + API
    yield session
    session.close()


def _url(http, path):
    return http.base + path


def _create(http, path, key, payload, status=201):
    response = http.post(_url(http, path), json={key: payload})
    assert response.status_code == status, response.text
    return response.json()[key]


MACRO = {"title": "Greeting", "actions": [{"field": "comment_value", "value": "Hello"}]}


def test_wrong_credentials_get_zendesks_401_body(desk):
    for auth in (None, ("admin@example.com/token", "wrong"), ("admin@example.com", "sandbox")):
        response = requests.get(desk.url + API + "/macros.json", auth=auth)
        assert response.status_code == 401
        assert response.json() == {"error": "Couldn't authenticate you"}


def test_urls_answer_with_and_without_json_suffix(http):
    created = _create(http, "/macros.json", "macro", MACRO)
    assert isinstance(created["id"], int)
    assert created["url"].endswith(f"/api/v2/macros/{created['id']}.json")
    for path in (f"/macros/{created['id']}.json", f"/macros/{created['id']}"):
        assert http.get(_url(http, path)).json()["macro"]["title"] == "Greeting"


def test_cursor_pagination_walks_every_object_and_stops_on_has_more(http):
    ids = {_create(http, "/groups.json", "group", {"name": f"Team {n}"})["id"] for n in range(5)}
    seen, url, pages = [], _url(http, "/groups.json?page[size]=2"), 0
    while True:
        body = http.get(url).json()
        pages += 1
        assert set(body) == {"groups", "meta", "links"}
        assert set(body["meta"]) == {"has_more", "after_cursor", "before_cursor"}
        seen += [g["id"] for g in body["groups"]]
        if not body["meta"]["has_more"]:
            assert body["links"]["next"] is not None  # like Zendesk: next is set on the last page too
            break
        assert body["meta"]["after_cursor"] in requests.utils.unquote(body["links"]["next"])
        url = body["links"]["next"]
    assert set(seen) == ids and len(seen) == 5 and pages == 3
    too_big = http.get(_url(http, "/groups.json?page[size]=101"))
    assert too_big.status_code == 400


def test_offset_pagination_has_count_and_next_page(http):
    for n in range(3):
        _create(http, "/groups.json", "group", {"name": f"G{n}"})
    body = http.get(_url(http, "/groups.json?per_page=2")).json()
    assert body["count"] == 3 and len(body["groups"]) == 2
    second = http.get(body["next_page"]).json()
    assert len(second["groups"]) == 1 and second["next_page"] is None and second["previous_page"]


@pytest.mark.contract_exempt("asks for unknown endpoints to check the error bodies")
def test_not_found_and_invalid_endpoint_bodies(http):
    missing = http.put(_url(http, "/automations/9223372036854775807.json"), json={"automation": {"title": "x"}})
    assert missing.status_code == 404
    assert missing.json() == {"error": "RecordNotFound", "description": "Not found"}
    unknown = http.get(_url(http, "/no_such_things.json"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "InvalidEndpoint"


@pytest.mark.contract_exempt("sends an invalid record to check the 422 body")
def test_record_invalid_body_names_the_attribute(http):
    response = http.post(_url(http, "/macros.json"), json={"macro": {"actions": MACRO["actions"]}})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RecordInvalid" and body["description"] == "Record validation errors"
    assert body["details"]["title"][0]["error"] == "BlankValue"


AUTOMATION_ACTIONS = [{"field": "status", "value": "solved"}]


@pytest.mark.parametrize("conditions, accepted", [
    # no time-based condition
    ([{"field": "status", "operator": "is", "value": "pending"}], False),
    # time-based, but nothing the action nullifies (status is solved stays true after setting solved)
    ([{"field": "PENDING", "operator": "greater_than", "value": "24"},
      {"field": "status", "operator": "is", "value": "solved"}], False),
    # time-based + a condition the action nullifies
    ([{"field": "PENDING", "operator": "greater_than", "value": "24"},
      {"field": "status", "operator": "is", "value": "pending"}], True),
])
def test_automation_rules(http, conditions, accepted):
    response = http.post(_url(http, "/automations.json"),
                         json={"automation": {"title": "Close stale", "all": conditions, "actions": AUTOMATION_ACTIONS}})
    assert response.status_code == (201 if accepted else 422), response.text
    if not accepted:
        assert response.json()["details"]["base"][0]["description"].startswith("Automations must")


def test_tag_condition_nullified_by_tag_action(http):
    automation = {"title": "Remind once", "all": [
        {"field": "OPEN", "operator": "greater_than", "value": "48"},
        {"field": "status", "operator": "is", "value": "open"},
        {"field": "current_tags", "operator": "not_includes", "value": "reminded"}],
        "actions": [{"field": "current_tags", "value": "reminded"}]}
    assert http.post(_url(http, "/automations"), json={"automation": automation}).status_code == 201


@pytest.mark.contract_exempt("sends the legacy top-level all/any form Zendesk still accepts")
def test_trigger_read_form_moves_all_any_into_conditions_and_fills_category(http):
    created = _create(http, "/triggers.json", "trigger", {
        "title": "Auto-open", "all": [{"field": "update_type", "operator": "is", "value": "Create"}],
        "actions": [{"field": "status", "value": "open"}]})
    assert "all" not in created and created["conditions"] == {
        "all": [{"field": "update_type", "operator": "is", "value": "Create"}], "any": []}
    categories = http.get(_url(http, "/trigger_categories.json")).json()["trigger_categories"]
    assert [c["id"] for c in categories] == [created["category_id"]]
    assert isinstance(created["category_id"], str)
    shown = http.get(_url(http, f"/triggers/{created['id']}.json")).json()["trigger"]
    assert shown["conditions"] == created["conditions"]
    bad = http.post(_url(http, "/triggers.json"), json={"trigger": {
        "title": "x", "category_id": "999", "all": created["conditions"]["all"], "actions": created["actions"]}})
    assert bad.status_code == 422 and "category_id" in bad.json()["details"]


def test_organization_field_keys_are_unique_and_values_show_on_organizations(http):
    _create(http, "/organization_fields.json", "organization_field", {"key": "tier", "title": "Tier"})
    again = http.post(_url(http, "/organization_fields.json"), json={"organization_field": {"key": "tier", "title": "T2"}})
    assert again.status_code == 422 and again.json()["details"]["key"][0]["error"] == "DuplicateValue"
    org = _create(http, "/organizations.json", "organization", {"name": "Acme", "organization_fields": {"tier": "gold"}})
    plain = _create(http, "/organizations.json", "organization", {"name": "Plain"})
    assert org["organization_fields"] == {"tier": "gold"} and plain["organization_fields"] == {"tier": None}
    unknown = http.post(_url(http, "/organizations.json"), json={"organization": {"name": "X", "organization_fields": {"nope": 1}}})
    assert unknown.status_code == 422


def test_ticket_idempotency_key_replays_and_rejects_other_bodies(http):
    ticket = {"ticket": {"subject": "Callback", "comment": {"body": "Call the customer"}, "external_id": "job-1"}}
    first = http.post(_url(http, "/tickets.json"), json=ticket, headers={"Idempotency-Key": "k1"})
    second = http.post(_url(http, "/tickets.json"), json=ticket, headers={"Idempotency-Key": "k1"})
    assert first.status_code == second.status_code == 201
    assert first.headers["x-idempotency-lookup"] == "miss" and second.headers["x-idempotency-lookup"] == "hit"
    assert first.json()["ticket"]["id"] == second.json()["ticket"]["id"]
    other = http.post(_url(http, "/tickets.json"), json={"ticket": {"subject": "Other", "comment": {"body": "x"}}},
                      headers={"Idempotency-Key": "k1"})
    assert other.status_code == 400 and other.json()["error"] == "IdempotentRequestError"
    found = http.get(_url(http, "/tickets.json?external_id=job-1")).json()["tickets"]
    assert [t["id"] for t in found] == [first.json()["ticket"]["id"]]
    assert http.get(_url(http, "/tickets.json?external_id=none")).json()["tickets"] == []


@pytest.mark.contract_exempt("sends a ticket without comment to check the 422")
def test_ticket_without_comment_is_invalid(http):
    response = http.post(_url(http, "/tickets.json"), json={"ticket": {"subject": "x"}})
    assert response.status_code == 422 and "comment" in response.json()["details"]


def test_rate_limit_answers_429_with_retry_after_on_a_fake_clock():
    clock = FakeClock(start=1_800_000_000.0)  # on a minute boundary
    with running_sandbox(clock=clock, rate_limits={"account": 3, "incremental": 2}) as desk:
        get = lambda path: requests.get(desk.url + API + path, auth=desk.auth)  # noqa: E731
        answers = [get("/groups.json") for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers["X-Rate-Limit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert all(a.headers["X-Rate-Limit"] == "3" for a in answers)
        assert answers[-1].headers["Retry-After"] == "60"
        clock.advance(45)
        assert get("/groups.json").headers["Retry-After"] == "15"
        clock.advance(15)
        assert get("/groups.json").status_code == 200
        exports = [get("/incremental/organizations.json?start_time=0").status_code for _ in range(3)]
        assert exports == [200, 200, 429]


def _statuses(**options):
    with running_sandbox(fault_rate=0.5, fault_slow_seconds=0.0, **options) as desk, requests.Session() as session:
        session.auth = desk.auth
        return [session.get(desk.url + API + "/groups.json").status_code for _ in range(30)]


def test_fault_injection_is_deterministic_per_seed():
    first, again, other = _statuses(seed=7), _statuses(seed=7), _statuses(seed=8)
    assert first == again
    assert first != other
    assert {500, 503} & set(first) and 200 in first


def test_request_log_and_checker(desk, http):
    calls = []

    def checker(method, path, query, body):
        calls.append((method, path))
        assert isinstance(query, list)
        return ["bad"] if method == "POST" else []

    desk.app.checkers.append(checker)
    _create(http, "/groups.json", "group", {"name": "Log me"})
    http.get(_url(http, "/groups.json?page[size]=10"))
    log = desk.requests()
    assert [(r["method"], r["status"]) for r in log] == [("POST", 201), ("GET", 200)]
    assert log[0]["json"] == {"group": {"name": "Log me"}} and log[1]["query"] == {"page[size]": "10"}
    assert log[1]["endpoint"] == "GET /api/v2/groups" and log[1]["endpoint_class"] == "account"
    assert calls == [("POST", "/api/v2/groups"), ("GET", "/api/v2/groups")]
    assert desk.violations() == ["POST /api/v2/groups.json: bad"]
    over_http = http.get(desk.url + "/sandbox/requests").json()
    assert len(over_http["requests"]) == 2
    assert http.delete(desk.url + "/sandbox/requests").status_code == 204
    assert desk.requests() == []

"""The JSM sandbox answers like JSM Cloud: auth, paging, errors, experimental header, 429, shapes."""

from __future__ import annotations

import pytest
import requests

from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.connectors.jsm.sandbox.spec import SpecChecker, response_problems

SD = "/rest/servicedeskapi"
OPT_IN = {"X-ExperimentalApi": "opt-in"}


@pytest.fixture()
def sandbox():
    with running_sandbox(seed=1) as running:
        yield running


@pytest.fixture()
def checked_sandbox(shared):
    """A sandbox that checks every request against ../shared/jsm; asserts no violations at the end."""
    with running_sandbox(spec=shared / "jsm", seed=1) as running:
        yield running
        assert running.violations() == []


def session_for(sandbox) -> requests.Session:
    http = requests.Session()
    http.auth = (sandbox.email, sandbox.token)
    return http


def create_type(http, sandbox, name: str) -> requests.Response:
    return http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype",
                     json={"name": name, "issueTypeId": "10004", "description": "d"}, headers=OPT_IN)


# ---------------------------------------------------------------- auth


def test_wrong_or_missing_credentials_get_401_with_atlassian_bodies(sandbox):
    no_auth = requests.get(f"{sandbox.url}{SD}/servicedesk")
    assert no_auth.status_code == 401
    assert "errorMessage" in no_auth.json() and "i18nErrorMessage" in no_auth.json()
    wrong = requests.get(f"{sandbox.url}/rest/api/3/myself", auth=(sandbox.email, "not-the-token"))
    assert wrong.status_code == 401
    assert wrong.json()["errorMessages"]
    good = session_for(sandbox).get(f"{sandbox.url}/rest/api/3/myself")
    assert good.status_code == 200 and good.json()["emailAddress"] == "admin@example.com"


def test_custom_credentials_are_the_only_ones_accepted():
    with running_sandbox(email="ops@example.org", token="t0k3n") as sandbox:
        assert requests.get(f"{sandbox.url}{SD}/servicedesk", auth=("admin@example.com", "sandbox")).status_code == 401
        assert requests.get(f"{sandbox.url}{SD}/servicedesk", auth=("ops@example.org", "t0k3n")).status_code == 200


# ---------------------------------------------------------------- project, paging


def test_one_service_project_sup_by_default(sandbox):
    page = session_for(sandbox).get(f"{sandbox.url}{SD}/servicedesk").json()
    assert [d["projectKey"] for d in page["values"]] == ["SUP"]
    assert page["isLastPage"] is True and page["size"] == 1


def test_pages_follow_is_last_page_and_the_server_caps_limit():
    with running_sandbox(max_limit=5, seed_orgs=12) as sandbox:
        http = session_for(sandbox)
        first = http.get(f"{sandbox.url}{SD}/organization", params={"limit": 500}).json()
        assert first["limit"] == 5 and first["size"] == 5 and first["isLastPage"] is False
        assert "next" in first["_links"]
        names, start = [], 0
        while True:
            page = http.get(f"{sandbox.url}{SD}/organization", params={"start": start, "limit": 500}).json()
            names += [o["name"] for o in page["values"]]
            if page["isLastPage"]:
                break
            start += page["size"]
        assert len(names) == len(set(names)) == 12
        assert page["size"] == 2 and "next" not in page["_links"]


# ---------------------------------------------------------------- errors, experimental header


def test_every_experimental_operation_the_sandbox_routes_needs_the_opt_in(shared, sandbox):
    """FACTS.md 1.8: each operation Atlassian marks `x-experimental` in ../shared/jsm answers 412 without
    `X-ExperimentalApi: opt-in` — all of them the sandbox routes, read from the spec, not a hand list."""
    import json
    import re

    spec = json.loads((shared / "jsm" / "servicedesk-openapi.json").read_text())
    routes = {re.sub(r"<[^>]+>", "{}", rule.rule): rule for rule in sandbox.app.url_map.iter_rules()}
    http = session_for(sandbox)
    checked = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            rule = routes.get(re.sub(r"\{[^}]+\}", "{}", path))
            if not isinstance(operation, dict) or not operation.get("x-experimental") or rule is None \
                    or method.upper() not in rule.methods:
                continue
            url = sandbox.url + re.sub(r"\{[^}]+\}", "1", path)
            answer = http.request(method.upper(), url, json={})
            assert answer.status_code == 412, f"{method.upper()} {path}: {answer.status_code}"
            checked.append((method.upper(), path))
    assert ("POST", f"{SD}/request/{{requestIdOrKey}}/feedback") in checked and len(checked) >= 7


def test_request_type_create_needs_the_experimental_opt_in(sandbox):
    http = session_for(sandbox)
    refused = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype", json={"name": "Renewal"})
    assert refused.status_code == 412
    assert "X-ExperimentalApi" in refused.json()["errorMessage"]
    assert http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype").json()["values"] == []
    created = create_type(http, sandbox, "Renewal")
    assert created.status_code == 200  # Atlassian documents 200 for this create
    listed = http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype").json()["values"]
    assert [(t["id"], t["name"]) for t in listed] == [(created.json()["id"], "Renewal")]


@pytest.mark.parametrize("body, words", [
    ({"name": "Help"}, "issue type ID is required"),
    ({"name": "Help", "issueTypeId": "99999"}, "not in the issue type scheme"),
    ({"name": "Help", "issueTypeId": "10002"}, "not in the issue type scheme"),  # a subtask type
    ({"name": "Help", "issueTypeId": "10004", "groupIds": ["1"]}, "groupIds"),
    ({"name": "Help", "issueTypeId": "10004", "iconId": "10500"}, "iconId"),
])
def test_request_type_create_takes_the_projects_issue_type_and_nothing_else(sandbox, body, words):
    http = session_for(sandbox)
    refused = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype", json=body, headers=OPT_IN)
    assert refused.status_code == 400 and words in refused.json()["errorMessage"]
    assert http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype").json()["values"] == []
    types = http.get(f"{sandbox.url}/rest/api/3/issuetype/project", params={"projectId": "10000"}).json()
    assert "10004" in {t["id"] for t in types if not t["subtask"]}


def test_servicedeskapi_and_platform_error_bodies(sandbox):
    http = session_for(sandbox)
    missing = http.get(f"{sandbox.url}{SD}/organization/999")
    assert missing.status_code == 404
    assert set(missing.json()) == {"errorMessage", "i18nErrorMessage"}
    assert set(missing.json()["i18nErrorMessage"]) == {"i18nKey", "parameters"}
    assert create_type(http, sandbox, "Same").status_code == 200
    duplicate = create_type(http, sandbox, "same")
    assert duplicate.status_code == 400 and "already exists" in duplicate.json()["errorMessage"]
    bad_jql = http.post(f"{sandbox.url}/rest/api/3/search/jql", json={"jql": "nosuchfield = 1"})
    assert bad_jql.status_code == 400
    assert bad_jql.json()["errorMessages"] and isinstance(bad_jql.json()["errors"], dict)
    not_json = http.post(f"{sandbox.url}{SD}/organization", data="{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert http.get(f"{sandbox.url}/rest/api/3/search", params={"jql": "project = SUP"}).status_code == 410


# ---------------------------------------------------------------- 429 and faults


def test_rate_limit_answers_429_with_retry_after():
    with running_sandbox(rate_limit_per_minute=3) as sandbox:
        http = session_for(sandbox)
        statuses = [http.get(f"{sandbox.url}{SD}/servicedesk").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = http.get(f"{sandbox.url}{SD}/servicedesk")
        assert int(limited.headers["Retry-After"]) >= 1
        assert limited.json()["errorMessage"]


def test_injected_faults_and_fault_rate(sandbox):
    http = session_for(sandbox)
    sandbox.inject(429, count=2, retry_after=7)
    first, second, third = (http.get(f"{sandbox.url}{SD}/servicedesk") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "7"
    with running_sandbox(fault_rate=0.5, seed=3) as faulty:
        codes = [session_for(faulty).get(f"{faulty.url}{SD}/servicedesk").status_code for _ in range(40)]
        assert set(codes) <= {200, 500, 503} and 5 < codes.count(200) < 35


def test_request_log_and_checker_see_every_request():
    seen = []

    def checker(method, path, query, body):
        seen.append((method, path))
        return ["flagged"] if path.endswith("/organization") and method == "POST" else []

    with running_sandbox(request_checker=checker) as sandbox:
        http = session_for(sandbox)
        http.post(f"{sandbox.url}{SD}/organization", json={"name": "Acme"})
        http.get(f"{sandbox.url}{SD}/organization", params={"limit": 2})
        log = sandbox.requests()
        assert [(r["method"], r["path"], r["status"]) for r in log] == [
            ("POST", f"{SD}/organization", 201), ("GET", f"{SD}/organization", 200)]
        assert log[0]["json"] == {"name": "Acme"} and log[1]["query"] == {"limit": "2"}
        assert seen == [("POST", f"{SD}/organization"), ("GET", f"{SD}/organization")]
        assert sandbox.violations() == [f"POST {SD}/organization: flagged"]
        served = http.get(f"{sandbox.url}/sandbox/requests").json()
        assert len(served["requests"]) == 2


# ---------------------------------------------------------------- organization properties, requests, search


def test_organization_property_round_trip(sandbox):
    http = session_for(sandbox)
    org = http.post(f"{sandbox.url}{SD}/organization", json={"name": "Acme"}).json()
    url = f"{sandbox.url}{SD}/organization/{org['id']}/property/deskbook.contract"
    assert http.get(url).status_code == 404
    value = {"contract_end": "2027-03-31", "tier": "gold", "seats": 40}
    assert http.put(url, json=value).status_code == 201
    assert http.put(url, json={**value, "tier": "silver"}).status_code == 200
    assert http.get(url).json() == {"key": "deskbook.contract", "value": {**value, "tier": "silver"}}
    keys = http.get(f"{sandbox.url}{SD}/organization/{org['id']}/property").json()["keys"]
    assert [k["key"] for k in keys] == ["deskbook.contract"]
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404


def test_request_type_property_round_trip_and_refusals(sandbox):
    """`/servicedesk/{id}/requesttype/{id}/property[/{key}]` (servicedesk-openapi.json, experimental):
    GET of a missing key 404, PUT 201 new / 200 replaced, DELETE 204; a key over 255 characters and an
    empty or over-long value are refused (400); the type's DTO does not show its properties."""
    http = session_for(sandbox)
    type_id = create_type(http, sandbox, "Billing").json()["id"]
    base = f"{sandbox.url}{SD}/servicedesk/1/requesttype/{type_id}/property"
    url = f"{base}/deskbook.owner"
    assert http.get(url).status_code == 412  # experimental: the opt-in is required
    http.headers.update(OPT_IN)
    missing = http.get(url)
    assert missing.status_code == 404 and "deskbook.owner" in missing.json()["errorMessage"]
    assert http.get(base).json() == {"keys": []}
    assert http.put(url, json="[deskbook:pb:category.billing]").status_code == 201
    assert http.put(url, json={"v": 2}).status_code == 200
    assert http.get(url).json() == {"key": "deskbook.owner", "value": {"v": 2}}
    assert [k["key"] for k in http.get(base).json()["keys"]] == ["deskbook.owner"]
    listed = http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype").json()["values"]
    assert "properties" not in listed[0]
    assert http.put(f"{base}/{'k' * 256}", json=1).status_code == 400
    assert http.put(url, data=b"", headers={"Content-Type": "application/json"}).status_code == 400
    assert http.put(url, data=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert http.put(url, json="x" * 40_000).status_code == 400
    assert http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype/999/property/deskbook.owner").status_code == 404
    assert http.delete(url).status_code == 204
    assert http.delete(url).status_code == 404
    assert http.get(url).status_code == 404


def test_request_on_behalf_comments_properties_and_jql(sandbox):
    http = session_for(sandbox)
    rtype = create_type(http, sandbox, "Renewal").json()
    customer = http.post(f"{sandbox.url}{SD}/customer", json={"email": "c@x.example", "displayName": "C"}).json()
    http.post(f"{sandbox.url}{SD}/servicedesk/1/customer", json={"accountIds": [customer["accountId"]]})  # a customer of the desk
    unknown = http.post(f"{sandbox.url}{SD}/request", json={
        "serviceDeskId": "1", "requestTypeId": rtype["id"], "requestFieldValues": {"summary": "s"},
        "raiseOnBehalfOf": "nobody@x.example"})
    assert unknown.status_code == 400
    by_email = http.post(f"{sandbox.url}{SD}/request", json={  # an email, even a customer's, is refused
        "serviceDeskId": "1", "requestTypeId": rtype["id"], "requestFieldValues": {"summary": "s"},
        "raiseOnBehalfOf": "c@x.example"})
    assert by_email.status_code == 400 and "c@x.example" in by_email.json()["errorMessage"]
    off_form = http.post(f"{sandbox.url}{SD}/request", json={  # an API-made type's form has only summary
        "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": customer["accountId"],
        "requestFieldValues": {"summary": "Renew Acme", "labels": ["x"]}})
    assert off_form.status_code == 400 and "Field 'labels' cannot be set" in off_form.json()["errorMessage"]
    fields = http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype/{rtype['id']}/field").json()["requestTypeFields"]
    assert [f["fieldId"] for f in fields] == ["summary"]
    created = http.post(f"{sandbox.url}{SD}/request", json={
        "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": customer["accountId"],
        "requestFieldValues": {"summary": "Renew Acme"}})
    assert created.status_code == 201
    key = created.json()["issueKey"]
    assert key.startswith("SUP-") and created.json()["reporter"]["accountId"] == customer["accountId"]
    http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "internal", "public": False})
    http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "hello", "public": True})
    public_only = http.get(f"{sandbox.url}{SD}/request/{key}/comment", params={"internal": "false"}).json()
    assert [c["body"] for c in public_only["values"]] == ["hello"]
    assert http.put(f"{sandbox.url}/rest/api/3/issue/{key}/properties/deskbook.sync",
                    json={"key": "renewal:1:2027-Q1"}).status_code == 201
    http.put(f"{sandbox.url}/rest/api/3/issue/{key}", json={"update": {"labels": [{"add": "deskbook-renewal"}]}})
    sandbox.index_caught_up()  # JQL search lags writes (FACTS.md 8.2): the setup is the past
    found = http.post(f"{sandbox.url}/rest/api/3/search/jql", json={
        "jql": 'project = SUP AND issue.property[deskbook.sync].key = "renewal:1:2027-Q1" AND labels = deskbook-renewal',
        "fields": ["labels"]}).json()
    assert [i["key"] for i in found["issues"]] == [key] and found["isLast"] is True
    assert found["issues"][0]["fields"] == {"labels": ["deskbook-renewal"]}
    none = http.post(f"{sandbox.url}/rest/api/3/search/jql", json={"jql": 'labels = "other"'}).json()
    assert none["issues"] == []


def test_a_customer_writes_public_comments_only(sandbox):
    """Internal notes are agents' (a customer never sees one, so cannot write one): the sandbox's stand-in
    for a customer's login (`X-Deskbook-Sandbox-Act-As`) is refused an internal comment on either API."""
    from deskbook.connectors.jsm.sandbox.app import ACT_AS_HEADER

    http = session_for(sandbox)
    rtype = create_type(http, sandbox, "Help").json()
    customer = http.post(f"{sandbox.url}{SD}/customer", json={"email": "c@x.example", "displayName": "C"}).json()
    http.post(f"{sandbox.url}{SD}/servicedesk/1/customer", json={"accountIds": [customer["accountId"]]})  # a customer of the desk
    key = http.post(f"{sandbox.url}{SD}/request", json={
        "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": customer["accountId"],
        "requestFieldValues": {"summary": "s"}}).json()["issueKey"]
    as_customer = {ACT_AS_HEADER: customer["accountId"]}
    note = http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "psst", "public": False},
                     headers=as_customer)
    assert note.status_code == 403
    platform_note = http.post(f"{sandbox.url}/rest/api/2/issue/{key}/comment", headers=as_customer, json={
        "body": "psst", "properties": [{"key": "sd.public.comment", "value": {"internal": True}}]})
    assert platform_note.status_code == 403
    reply = http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "thanks", "public": True},
                      headers=as_customer)
    assert reply.status_code == 201 and reply.json()["author"]["accountId"] == customer["accountId"]
    comments = http.get(f"{sandbox.url}{SD}/request/{key}/comment").json()["values"]
    assert [c["body"] for c in comments] == ["thanks"]


def test_a_customers_own_login_gets_no_sla_through_the_request_list(sandbox):
    """SLAs are agents': a customer's own login is refused `/request/{key}/sla` (403), and `expand=sla` on
    the request list does not hand the same figures over."""
    http = session_for(sandbox)
    rtype = create_type(http, sandbox, "Help").json()
    account, token = sandbox.customer_login("own@x.example", "Own")
    key = http.post(f"{sandbox.url}{SD}/request", json={
        "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": account,
        "requestFieldValues": {"summary": "s"}}).json()["issueKey"]
    customer = requests.Session()
    customer.auth = ("own@x.example", token)
    assert customer.get(f"{sandbox.url}{SD}/request/{key}/sla").status_code == 403
    listed = customer.get(f"{sandbox.url}{SD}/request", params={"expand": "sla"}).json()["values"]
    assert [r["issueKey"] for r in listed] == [key] and "sla" not in listed[0]
    assert "sla" in http.get(f"{sandbox.url}{SD}/request", params={"expand": "sla"}).json()["values"][0]


def test_the_request_list_puts_the_latest_activity_first_a_recorded_change_included():
    """`GET /request` is ordered by the latest activity on each request: a label edit or a transition
    (written to the changelog) counts as much as a comment."""
    from deskbook.connectors.sandbox_kit.clock import FakeClock

    clock = FakeClock(1_780_000_000)
    with running_sandbox(clock=clock) as sandbox:
        http = session_for(sandbox)
        rtype = create_type(http, sandbox, "Help").json()
        customer = http.post(f"{sandbox.url}{SD}/customer", json={"email": "c@x.example", "displayName": "C"}).json()
        http.post(f"{sandbox.url}{SD}/servicedesk/1/customer", json={"accountIds": [customer["accountId"]]})  # a customer of the desk
        keys = []
        for n in range(3):
            clock.advance(60)
            keys.append(http.post(f"{sandbox.url}{SD}/request", json={
                "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": customer["accountId"],
                "requestFieldValues": {"summary": f"r{n}"}}).json()["issueKey"])
        clock.advance(60)
        http.put(f"{sandbox.url}/rest/api/3/issue/{keys[0]}", json={"update": {"labels": [{"add": "vip"}]}})
        clock.advance(60)
        http.post(f"{sandbox.url}/rest/api/3/issue/{keys[1]}/transitions", json={"transition": {"id": "11"}})
        listed = [r["issueKey"] for r in http.get(f"{sandbox.url}{SD}/request").json()["values"]]
        assert listed == [keys[1], keys[0], keys[2]]


def test_jql_pages_with_next_page_token(sandbox):
    http = session_for(sandbox)
    rtype = create_type(http, sandbox, "Task").json()
    for n in range(7):
        http.post(f"{sandbox.url}{SD}/request", json={"serviceDeskId": "1", "requestTypeId": rtype["id"],
                                                       "requestFieldValues": {"summary": f"r{n}"}})
    sandbox.index_caught_up()  # JQL search lags writes (FACTS.md 8.2): the setup is the past
    keys, token = [], None
    while True:
        body = {"jql": "project = SUP", "maxResults": 3, **({"nextPageToken": token} if token else {})}
        page = http.post(f"{sandbox.url}/rest/api/3/search/jql", json=body).json()
        keys += [i["key"] for i in page["issues"]]
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]
    assert len(keys) == len(set(keys)) == 7


def test_jql_dates_empty_and_order_by(sandbox):
    """What incremental reads send: relative/absolute date comparisons, `is [not] EMPTY`, ORDER BY."""
    http = session_for(sandbox)
    rtype = create_type(http, sandbox, "Task").json()
    keys = [http.post(f"{sandbox.url}{SD}/request", json={"serviceDeskId": "1", "requestTypeId": rtype["id"],
                                                           "requestFieldValues": {"summary": f"r{n}"}}).json()["issueKey"]
            for n in range(3)]
    old = sandbox.store.get("request", keys[0])
    sandbox.store.put("request", keys[0], {**old, "created": "2026-01-02T08:00:00.000+0000", "status": "Resolved",
                                           "resolutiondate": "2026-01-03T08:00:00.000+0000"})
    sandbox.index_caught_up()  # JQL search lags writes (FACTS.md 8.2): the setup is the past

    def search(jql):
        response = http.post(f"{sandbox.url}/rest/api/3/search/jql", json={"jql": jql, "maxResults": 50})
        return response.status_code, [i["key"] for i in response.json().get("issues", [])]

    assert search("project = SUP AND created >= -10m ORDER BY created ASC") == (200, keys[1:])
    assert search('project = SUP AND created < "2026/01/05" ') == (200, keys[:1])
    assert search("project = SUP AND resolved is not EMPTY") == (200, keys[:1])
    assert search("project = SUP AND resolved is EMPTY ORDER BY key DESC") == (200, keys[:0:-1])
    assert search("project = SUP ORDER BY created DESC")[1][-1] == keys[0]
    status, _ = search('project = SUP AND created >= "yesterday-ish"')
    assert status == 400
    assert search("project = SUP AND labels > 3")[0] == 400
    assert search("project = SUP ORDER BY nonsense ASC")[0] == 400


# ---------------------------------------------------------------- automation and internal SLA


ME = "557058:sandbox-admin"  # the sandbox admin's accountId (GET /rest/api/3/myself)


def rule_body(sandbox, name: str) -> dict:
    """FACTS.md §2's minimal create body, written out by hand (not from deskbook's own builders)."""
    project = f"ari:cloud:jira:{sandbox.cloud_id}:project/10000"
    return {"rule": {"name": name, "description": "[deskbook:standard-service:x]", "state": "DISABLED",
                     "authorAccountId": ME, "actor": {"type": "ACCOUNT_ID", "actor": ME},
                     "writeAccessType": "UNRESTRICTED", "canOtherRuleTrigger": False, "notifyOnError": "FIRSTERROR",
                     "labels": ["deskbook"], "ruleScopeARIs": [project],
                     "trigger": {"component": "TRIGGER", "type": "jira.issue.event.trigger:created",
                                 "schemaVersion": 1,
                                 "value": {"eventFilters": [project], "eventKey": "jira:issue_created",
                                           "issueEvent": "issue_created"}},
                     "components": [
                         {"component": "CONDITION", "type": "jira.jql.condition", "schemaVersion": 1,
                          "value": '"Organizations" = "Acme"', "children": [], "conditions": []},
                         {"component": "ACTION", "type": "jira.issue.comment", "schemaVersion": 2,
                          "value": {"comment": "Hello {{reporter.displayName}}", "publicComment": True,
                                    "shinyNewKey": 1}, "children": [], "conditions": []}]},
            "connections": []}


def test_automation_rules_create_get_update_state_and_cursor_pages():
    with running_sandbox() as sandbox:
        http = session_for(sandbox)
        base = sandbox.automation_url
        made = [http.post(f"{base}/rule", json=rule_body(sandbox, f"Rule {n}")) for n in range(5)]
        assert {r.status_code for r in made} == {201}
        uuids = [r.json()["ruleUuid"] for r in made]
        assert len(set(uuids)) == 5
        got = http.get(f"{base}/rule/{uuids[0]}").json()
        assert set(got) == {"rule", "connections"}
        rule = got["rule"]
        assert rule["name"] == "Rule 0" and rule["components"][1]["value"]["publicComment"] is True
        # read-back enrichment (FACTS.md 2.15): ids, parent ids, connectionId null, unknown value keys dropped
        assert rule["trigger"]["id"] and rule["components"][0]["id"] != rule["components"][1]["id"]
        assert rule["components"][0]["connectionId"] is None and "parentId" in rule["components"][0]
        assert "shinyNewKey" not in rule["components"][1]["value"]
        assert rule["components"][1]["value"]["commentVisibility"] is None
        assert rule["uuid"] == uuids[0] and rule["created"] and rule["updated"]
        changed = rule_body(sandbox, "Rule 0 renamed")
        assert http.put(f"{base}/rule/{uuids[0]}", json=changed).status_code == 200
        foreign = rule_body(sandbox, "Rule 0 renamed")
        foreign["rule"]["components"][0]["id"] = "999999"
        refused = http.put(f"{base}/rule/{uuids[0]}", json=foreign)
        assert refused.status_code == 400 and "Component ids do not match" in refused.json()["errors"][0]["detail"]
        for uuid in uuids[2:] + uuids[:1]:
            assert http.put(f"{base}/rule/{uuid}/state", json={"value": "ENABLED"}).status_code == 200
        for bad in ({"value": "OFF"}, {"state": "ENABLED"}, {"ruleState": "ENABLED"}, "ENABLED"):
            assert http.put(f"{base}/rule/{uuids[1]}/state", json=bad).status_code == 400  # FACTS.md 2.8
        names, cursor = [], None
        while True:
            page = http.get(f"{base}/rule/summary", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
            names += [r["name"] for r in page["data"]]
            if "next" not in page["links"]:
                break
            cursor = page["links"]["next"].split("cursor=")[1].split("&")[0]
        assert names[0] == "Rule 0 renamed" and len(names) == 5
        disabled = http.post(f"{base}/rule/summary", json={"state": "DISABLED"}).json()["data"]
        assert [r["uuid"] for r in disabled] == [uuids[1]]
        assert http.delete(f"{base}/rule/{uuids[0]}").status_code == 400  # enabled: disable first
        assert http.delete(f"{base}/rule/{uuids[1]}").status_code == 204
        assert http.get(f"{base}/rule/{uuids[1]}").status_code == 404
        site_path = http.get(f"{sandbox.url}/gateway/api/automation/public/jira/{sandbox.cloud_id}/rest/v1/rule/summary")
        assert site_path.status_code == 200 and len(site_path.json()["data"]) == 4
        assert http.get(f"{sandbox.url}/automation/public/jira/other-cloud/rest/v1/rule/summary").status_code == 404
    with running_sandbox(rule_delete=False) as sandbox:  # the 2025 spec has no DELETE
        http = session_for(sandbox)
        uuid = http.post(f"{sandbox.automation_url}/rule", json=rule_body(sandbox, "R")).json()["ruleUuid"]
        assert http.delete(f"{sandbox.automation_url}/rule/{uuid}").status_code == 405


def _without(body: dict, path: tuple) -> dict:
    import copy

    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return body


RULE_REQUIRED = [("rule",), ("connections",), ("rule", "name"), ("rule", "state"), ("rule", "trigger"),
                 ("rule", "components"), ("rule", "ruleScopeARIs"), ("rule", "actor"), ("rule", "authorAccountId"),
                 ("rule", "writeAccessType"), ("rule", "canOtherRuleTrigger"), ("rule", "notifyOnError"),
                 ("rule", "actor", "actor"), ("rule", "trigger", "component"), ("rule", "trigger", "type"),
                 ("rule", "trigger", "schemaVersion"), ("rule", "trigger", "value"),
                 ("rule", "components", 1, "schemaVersion"), ("rule", "components", 1, "value"),
                 ("rule", "components", 0, "component")]


@pytest.mark.parametrize("path", RULE_REQUIRED, ids=lambda p: ".".join(map(str, p)))
def test_each_missing_required_rule_field_is_refused_with_the_sites_error_body(sandbox, path):
    http = session_for(sandbox)
    response = http.post(f"{sandbox.automation_url}/rule", json=_without(rule_body(sandbox, "R"), path))
    assert response.status_code == 400
    error = response.json()["errors"][0]
    field = ".".join(str(p) for p in path if not isinstance(p, int))
    if path in (("rule",), ("connections",)):
        assert "could not be parsed" in error["detail"]  # no wrapper: the generic unparseable-body 400 (2.2)
    else:
        assert field.split(".")[-1] in error["detail"] and error["status"] == 400
    assert http.get(f"{sandbox.automation_url}/rule/summary").json()["data"] == []


@pytest.mark.parametrize("mutate, status, words", [
    (lambda r: r["components"][0].update(value={"jql": "project = SUP"}), 500, "internal error"),  # object JQL
    (lambda r: r["components"][1]["value"].update(comment={"type": "doc", "content": []}), 500, "internal error"),
    (lambda r: r["components"].append({"component": "ACTION", "type": "jira.issue.edit", "schemaVersion": 1,
                                       "value": {"fields": {"priority": {"name": "High"}}}}), 400, "operations"),
    (lambda r: r["components"].append({"component": "ACTION", "type": "jira.nonsense", "schemaVersion": 1,
                                       "value": {}}), 400, "unavailable"),
    (lambda r: r.update(actor={"type": "ACCOUNT_ID", "actor": "557058:someone-else"}), 400,
     "component.missing.permissions.actor"),
    (lambda r: r.update(ruleScopeARIs=["ari:cloud:jira:other-cloud:project/1"]), 400, "ruleScopeARIs"),
])
def test_values_in_the_wrong_shape_are_refused_as_the_site_does(sandbox, mutate, status, words):
    http = session_for(sandbox)
    body = rule_body(sandbox, "R")
    mutate(body["rule"])
    response = http.post(f"{sandbox.automation_url}/rule", json=body)
    assert response.status_code == status and words in response.json()["errors"][0]["detail"]


def test_a_rule_is_stored_disabled_and_enabling_is_stricter_than_saving(sandbox):
    http = session_for(sandbox)
    body = rule_body(sandbox, "R")
    body["rule"]["state"] = "ENABLED"
    del body["rule"]["trigger"]["value"]["eventKey"]
    uuid = http.post(f"{sandbox.automation_url}/rule", json=body).json()["ruleUuid"]
    assert http.get(f"{sandbox.automation_url}/rule/{uuid}").json()["rule"]["state"] == "DISABLED"  # 2.7
    refused = http.put(f"{sandbox.automation_url}/rule/{uuid}/state", json={"value": "ENABLED"})
    assert refused.status_code == 400 and "eventKey" in refused.json()["errors"][0]["detail"]  # 2.9


CREATED = {"pluginKey": "com.atlassian.servicedesk", "factoryKey": "issue-created-sla-condition-factory",
           "conditionId": "issue-created-hit-condition", "name": "Issue Created"}
RESOLVED = {"pluginKey": "com.atlassian.servicedesk", "factoryKey": "resolution-sla-condition-factory",
            "conditionId": "resolution-set-hit-condition", "name": "Resolution: Set"}


def metric_body(name: str, *goals: tuple[str, int]) -> dict:
    """An SLA metric in the shape a real site takes (FACTS.md 6.3), goals (JQL, minutes) on the 24/7 calendar."""
    return {"name": name, "config": {"definition": {"start": [CREATED], "pause": [], "stop": [RESOLVED]}, "goals": [
        {"jqlQuery": jql, "duration": minutes * 60_000, "calendarId": 1, "defaultGoal": not jql} for jql, minutes in goals]}}


def test_internal_sla_metrics_show_on_request_sla(sandbox):
    http = session_for(sandbox)
    metrics = f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics"
    assert http.post(metrics, json={"name": "Time to first response", "config": {}}).status_code == 400
    made = http.post(metrics, json=metric_body("Time to first response", ("labels = urgent", 60), ("", 240)))
    assert made.status_code == 201
    rtype = create_type(http, sandbox, "Help").json()
    key = http.post(f"{sandbox.url}{SD}/request", json={"serviceDeskId": "1", "requestTypeId": rtype["id"],
                                                         "requestFieldValues": {"summary": "x"}}).json()["issueKey"]
    slas = http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()["values"]
    assert [s["name"] for s in slas] == ["Time to first response"]
    assert slas[0]["ongoingCycle"]["goalDuration"]["millis"] == 240 * 60_000
    assert http.get(metrics).json()["timeMetrics"][0]["config"]["goals"][1]["duration"] == 240 * 60_000


# ---------------------------------------------------------------- shapes against ../shared/jsm


def test_responses_match_the_servicedesk_component_schemas(checked_sandbox, shared):
    spec = shared / "jsm" / "servicedesk-openapi.json"
    sandbox, http = checked_sandbox, session_for(checked_sandbox)
    rtype = create_type(http, sandbox, "Renewal")
    customer = http.post(f"{sandbox.url}{SD}/customer", json={"email": "c@x.example", "displayName": "C"})
    http.post(f"{sandbox.url}{SD}/servicedesk/1/customer", json={"accountIds": [customer.json()["accountId"]]})  # a customer of the desk
    org = http.post(f"{sandbox.url}{SD}/organization", json={"name": "Acme"})
    request = http.post(f"{sandbox.url}{SD}/request", json={
        "serviceDeskId": "1", "requestTypeId": rtype.json()["id"], "raiseOnBehalfOf": customer.json()["accountId"],
        "requestFieldValues": {"summary": "Renew"}})
    key = request.json()["issueKey"]
    comment = http.post(f"{sandbox.url}{SD}/request/{key}/comment", json={"body": "note", "public": False})
    http.post(f"{sandbox.url}/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics",
              json=metric_body("Resolution", ("", 480)))
    queue = http.post(f"{sandbox.url}/rest/servicedesk/1/servicedesk/SUP/queues",
                      json={"name": "Open", "jql": "resolution is EMPTY", "columns": ["issuekey", "summary"]})
    http.put(f"{sandbox.url}{SD}/organization/{org.json()['id']}/property/deskbook.contract", json={"tier": "gold"})
    http.post(f"{sandbox.url}{SD}/organization/{org.json()['id']}/user", json={"accountIds": [customer.json()["accountId"]]})
    cases = [
        ("PagedDTOServiceDeskDTO", http.get(f"{sandbox.url}{SD}/servicedesk").json()),
        ("ServiceDeskDTO", http.get(f"{sandbox.url}{SD}/servicedesk/1").json()),
        ("RequestTypeDTO", rtype.json()),
        ("PagedDTORequestTypeDTO", http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype").json()),
        ("CustomerRequestCreateMetaDTO",
         http.get(f"{sandbox.url}{SD}/servicedesk/1/requesttype/{rtype.json()['id']}/field").json()),
        ("UserDTO", customer.json()),
        ("OrganizationDTO", org.json()),
        ("PagedDTOOrganizationDTO", http.get(f"{sandbox.url}{SD}/organization").json()),
        ("PagedDTOUserDTO", http.get(f"{sandbox.url}{SD}/organization/{org.json()['id']}/user").json()),
        ("PropertyKeys", http.get(f"{sandbox.url}{SD}/organization/{org.json()['id']}/property").json()),
        ("EntityProperty",
         http.get(f"{sandbox.url}{SD}/organization/{org.json()['id']}/property/deskbook.contract").json()),
        ("CustomerRequestDTO", request.json()),
        ("CommentDTO", comment.json()),
        ("PagedDTOCommentDTO", http.get(f"{sandbox.url}{SD}/request/{key}/comment").json()),
        ("PagedDTOSlaInformationDTO", http.get(f"{sandbox.url}{SD}/request/{key}/sla").json()),
        ("PagedDTOQueueDTO", http.get(f"{sandbox.url}{SD}/servicedesk/1/queue", params={"includeCount": "true"}).json()),
        ("QueueDTO", http.get(f"{sandbox.url}{SD}/servicedesk/1/queue/{queue.json()['id']}").json()),
        ("PagedDTOIssueBean", http.get(f"{sandbox.url}{SD}/servicedesk/1/queue/{queue.json()['id']}/issue").json()),
        ("ErrorResponse", http.get(f"{sandbox.url}{SD}/organization/424242").json()),
    ]
    for schema_name, body in cases:
        assert response_problems(spec, schema_name, body) == [], schema_name
    platform = shared / "jsm" / "jira-platform-openapi.json"
    search = http.post(f"{sandbox.url}/rest/api/3/search/jql", json={"jql": "project = SUP", "fields": ["summary"]})
    assert response_problems(platform, "SearchAndReconcileResults", search.json()) == []
    bad = http.post(f"{sandbox.url}/rest/api/3/search/jql", json={"jql": "bogus = 1"})
    assert response_problems(platform, "ErrorCollection", bad.json()) == []


def test_spec_checker_flags_unknown_paths_wrong_methods_and_bad_bodies(shared):
    checker = SpecChecker(shared / "jsm")
    assert checker("GET", f"{SD}/organization/5/property/k", {}, None) == []
    assert checker("POST", f"{SD}/organization", {}, {"name": "x"}) == []
    assert checker("GET", f"{SD}/no/such/thing", {}, None)
    assert checker("PATCH", f"{SD}/organization/5", {}, None)
    assert checker("POST", f"{SD}/organization", {}, {"name": 5})
    assert checker("POST", "/rest/api/3/search/jql", {}, {"jql": "x", "maxResults": "many"})
    assert checker("GET", "/automation/public/jira/c/rest/v1/rule/summary", {}, None) == []  # not covered by spec


def test_concurrent_writes_are_not_lost(sandbox):
    """Parallel property writes and organization creates from many threads all land."""
    from concurrent.futures import ThreadPoolExecutor

    http = session_for(sandbox)
    org = http.post(f"{sandbox.url}{SD}/organization", json={"name": "Busy"}).json()

    def work(n: int) -> tuple[int, int]:
        own = session_for(sandbox)
        put = own.put(f"{sandbox.url}{SD}/organization/{org['id']}/property/k{n}", json={"n": n})
        made = own.post(f"{sandbox.url}{SD}/organization", json={"name": f"Org {n}"})
        return put.status_code, made.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(24)))
    assert set(results) == {(201, 201)}
    keys = http.get(f"{sandbox.url}{SD}/organization/{org['id']}/property").json()["keys"]
    assert len(keys) == 24
    ids = [o["id"] for o in http.get(f"{sandbox.url}{SD}/organization", params={"limit": 50}).json()["values"]]
    assert len(ids) == len(set(ids)) == 25


# ---------------------------------------------------------------- Customer Service Management


def test_csm_detail_fields_values_and_profile_fetch(sandbox):
    http = session_for(sandbox)
    base = f"{sandbox.url}/jsm/csm/cloudid/{sandbox.cloud_id}/api/v1"
    assert http.get(f"{base}/organization/details").status_code == 412  # experimental: opt-in header
    made = http.post(f"{base}/organization/details", headers=OPT_IN,
                     json={"name": "tier", "type": {"name": "SELECT", "options": ["key", "regular"]}})
    assert made.status_code == 201 and made.json()["type"] == {"name": "SELECT", "options": ["key", "regular"]}
    for body in ({"name": "x", "type": {"name": "COLOUR"}}, {"name": "tier", "type": {"name": "TEXT"}},
                 {"name": "y", "type": {"name": "SELECT", "options": [str(n) for n in range(51)]}}):
        assert http.post(f"{base}/organization/details", headers=OPT_IN, json=body).status_code in (400, 409)
    http.post(f"{base}/organization/details", headers=OPT_IN, json={"name": "ends", "type": {"name": "DATE"}})
    orgs = sandbox.seed_organizations(30)
    def put(org, name, values):
        return http.put(f"{base}/organization/{org}/details", params={"fieldName": name}, headers=OPT_IN,
                        json={"values": values}).status_code

    assert put(orgs[0], "tier", ["key"]) == 204 and put(orgs[0], "ends", ["2027-01-31"]) == 204
    assert put(orgs[0], "tier", ["gold"]) == 400 and put(orgs[0], "ends", ["31/01/2027"]) == 400
    assert put(orgs[0], "nope", ["x"]) == 404
    # a NUMBER field (the S-11 scores) takes a number and nothing else; text takes anything
    http.post(f"{base}/organization/details", headers=OPT_IN, json={"name": "score", "type": {"name": "NUMBER"}})
    assert put(orgs[2], "score", ["4"]) == 204
    assert [put(orgs[2], "score", v) for v in (["four"], ["nan"], ["inf"], [4], ["4", "5"])] == [400] * 5
    assert [put(orgs[2], "score", [v]) for v in ("1_000", "\u0664", "Infinity", "4.5", "-2e3")] == [400] * 3 + [204] * 2
    assert put(orgs[2], "score", []) == 204  # cleared
    def fetch(ids):
        return http.post(f"{base}/organization/profile/fetch", headers=OPT_IN, json={"organizationIds": ids})

    assert fetch(orgs[:26]).status_code == 400  # at most 25 a call (FACTS.md 5.6)
    got = fetch([orgs[0], orgs[1], "999999"]).json()["results"]  # unknown ids dropped silently
    assert [p["id"] for p in got] == [orgs[0], orgs[1]]
    assert got[0]["details"] == [{"name": "tier", "values": ["key"]}, {"name": "ends", "values": ["2027-01-31"]}]
    assert got[1]["details"] == []


def test_a_site_without_csm_answers_404():
    with running_sandbox(csm=False) as sandbox:
        http = session_for(sandbox)
        base = f"{sandbox.url}/jsm/csm/cloudid/{sandbox.cloud_id}/api/v1"
        assert http.get(f"{base}/organization/details", headers=OPT_IN).status_code == 404

"""The OpenAPI contract checker: real Zendesk recordings pass, made-up requests fail, JSM too."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

import pytest
import requests

from contract_support import (
    ContractRecorder,
    assert_no_violations,
    checked_responses,
    guarding_requests,
    zendesk_responses,  # noqa: F401  (fixture)
    zendesk_checker,  # noqa: F401  (fixture)
)
from deskbook.connectors.contract import (
    JSM_ALLOWED_ENDPOINTS,
    ZENDESK_SPEC_FILES,
    ZENDESK_TOLERANCES,
    OpenAPIContract,
    desk_checker,
    jsm_contract,
    normalize_path,
    zendesk_contract,
)
from deskbook.errors import DeskbookError

#: The Support API resources deskbook uses (sandbox, connector, sync jobs).
DESKBOOK_RESOURCES = re.compile(
    r"^/api/v2/(macros|triggers|trigger_categories|automations|slas|dynamic_content|groups|ticket_fields|"
    r"organization_fields|organizations|tickets|users|views|job_statuses|search|incremental/(?:tickets|organizations)|"
    r"business_hours)"
    r"(/|\.json$|$)")

#: Recorded requests (real Zendesk answered 2xx) whose bodies Zendesk's own spec rejects, by
#: operationId. The checker does NOT tolerate these: deskbook must send the documented form.
KNOWN_REQUEST_DISAGREEMENTS = {
    "TicketsCreateMany": "zenpy sends tickets with `description` and no `comment`; the spec requires `comment`",
    "CreateTicket": "zenpy sends `comment.uploads` as one token string; the spec says an array of tokens",
    "CreateTrigger": "zenpy sends the deprecated top-level `all`/`any`; the spec requires `conditions`",
    "UpdateTrigger": "the spec's anyOf(TriggerCategory, TriggerCategoryId) is applied to the trigger itself, so "
                     "an integer trigger `id` in the body fails TriggerCategory's string `id`",
}

#: Response checks sample this many recorded 2xx exchanges per operation, and this many items of
#: each top-level list in a body (keeps the test fast: exports carry 1,000 records).
RESPONSES_PER_OPERATION = 3
ITEMS_PER_LIST = 10


@pytest.fixture(scope="module")
def recordings(shared):
    """Every recorded exchange: (file name, exchange dict)."""
    exchanges = []
    for file in sorted((shared / "zendesk" / "recordings").glob("*.json")):
        exchanges.extend((file.name, exchange) for exchange in json.loads(file.read_text(encoding="utf-8")))
    assert len(exchanges) > 1000, "the recordings folder should hold ~1,500 exchanges"
    return exchanges


@pytest.fixture(scope="module")
def zendesk(shared):
    return zendesk_contract(shared)


@pytest.fixture(scope="module")
def jsm(shared):
    return jsm_contract(shared)


# ----------------------------------------------------------------------------- Zendesk: requests


def test_recorded_requests_match_the_spec(zendesk, recordings):
    """Real requests for the resources deskbook uses match an operation; bodies validate except known cases."""
    matched = relevant = valid = 0
    unmatched: Counter = Counter()
    failing_operations: dict[str, list[str]] = defaultdict(list)
    for name, exchange in recordings:
        operation = zendesk.match(exchange["method"], exchange["path"])
        matched += operation is not None
        if not DESKBOOK_RESOURCES.match(exchange["path"]):
            continue
        relevant += 1
        if operation is None:
            unmatched[f"{exchange['method']} {exchange['path']}"] += 1
            continue
        problems = zendesk.check_request(exchange["method"], exchange["path"], exchange["query"], exchange["request_json"])
        if problems:
            failing_operations[operation.operation_id].append(f"{name}: {problems[0]}")
        else:
            valid += 1
    print(f"\nZendesk recordings: {matched}/{len(recordings)} requests match a spec operation; "
          f"{valid}/{relevant} requests to deskbook's resources match and validate")
    assert not unmatched, f"recorded requests to deskbook's resources with no spec operation: {dict(unmatched)}"
    assert relevant > 500
    assert valid / relevant > 0.95
    assert set(failing_operations) == set(KNOWN_REQUEST_DISAGREEMENTS), dict(failing_operations)
    # most recorded traffic outside deskbook's resources is Help Center/webhooks/engagements (other specs)
    assert matched / len(recordings) > 0.75


def test_outside_resources_are_reported_as_unmatched(zendesk, recordings):
    """Help Center and webhook requests are not in the Support spec: the checker says so."""
    help_center = [e for _, e in recordings if e["path"].startswith("/api/v2/help_center/")]
    assert help_center
    for exchange in help_center:
        problems = zendesk.check_request(exchange["method"], exchange["path"], exchange["query"], exchange["request_json"])
        assert problems and "no path" in problems[0]


def test_json_suffix_trailing_slash_and_literal_segments(zendesk):
    assert zendesk.match("GET", "/api/v2/macros.json").operation_id == "ListMacros"
    assert zendesk.match("POST", "/api/v2/macros").operation_id == "CreateMacro"
    assert zendesk.match("GET", "/api/v2/macros/active.json").operation_id == "ListActiveMacros"
    assert zendesk.match("GET", "/api/v2/macros/active/").operation_id == "ListActiveMacros"
    assert zendesk.match("GET", "/api/v2/macros/360012.json").operation_id == "ShowMacro"
    assert zendesk.match("PUT", "/api/v2/macros/update_many.json").operation_id == "UpdateManyMacros"
    # `active` has no DELETE: the templated operation answers instead
    assert zendesk.match("DELETE", "/api/v2/macros/active.json").operation_id == "DeleteMacro"
    assert zendesk.check_request("GET", "/api/v2/ticket_fields.json", {"page[size]": "100"}, None) == []


def test_made_up_path_and_wrong_method_are_rejected(zendesk):
    problems = zendesk.check_request("GET", "/api/v2/playbooks.json", {}, None)
    assert len(problems) == 1 and "no path" in problems[0] and "/api/v2/playbooks.json" in problems[0]
    problems = zendesk.check_request("PATCH", "/api/v2/macros/12.json", {}, {"macro": {"title": "x"}})
    assert len(problems) == 1 and "has no PATCH" in problems[0] and "DELETE, GET, PUT" in problems[0]


def test_body_with_a_wrong_type_is_rejected(zendesk):
    good = {"macro": {"title": "Stage 1::Greeting", "actions": [{"field": "comment_value", "value": "Hello"}]}}
    assert zendesk.check_request("POST", "/api/v2/macros.json", {}, good) == []
    bad = {"macro": {"title": "Stage 1::Greeting", "actions": "comment_value=Hello"}}
    problems = zendesk.check_request("POST", "/api/v2/macros.json", {}, bad)
    assert problems and "$.macro.actions" in problems[0] and "not of type 'array'" in problems[0]
    assert "CreateMacro" in problems[0]
    missing = zendesk.check_request("POST", "/api/v2/macros.json", {}, {"macro": {"title": "no actions"}})
    assert any("'actions' is a required property" in p for p in missing)


def test_nullable_is_honoured_and_partial_updates_are_tolerated(zendesk):
    assert zendesk.check_request("POST", "/api/v2/macros.json", {}, {"macro": {
        "title": "t", "actions": [], "description": None}}) == []  # MacroInput.description is nullable
    assert zendesk.check_request("POST", "/api/v2/macros.json", {}, {"macro": {
        "title": None, "actions": []}})  # title is not
    partial = {"macro": {"title": "renamed"}}
    assert zendesk.check_request("PUT", "/api/v2/macros/5.json", {}, partial) == []
    assert any("required" in p for p in zendesk.check_request("PUT", "/api/v2/macros/5.json", {}, partial, strict=True))
    assert zendesk.check_request("PUT", "/api/v2/business_hours/schedules/5.json", {}, {}) == []  # no schema
    assert zendesk.check_request("POST", "/api/v2/business_hours/schedules.json", {}, {"name": "x"})  # no wrapper
    # a partial update still has its types checked
    assert zendesk.check_request("PUT", "/api/v2/macros/5.json", {}, {"macro": {"actions": {}}})


def test_schedules_supplement_is_merged(zendesk):
    ok = {"schedule": {"name": "Support hours", "time_zone": "Beijing"}}
    assert zendesk.check_request("POST", "/api/v2/business_hours/schedules.json", {}, ok) == []
    problems = zendesk.check_request("POST", "/api/v2/business_hours/schedules.json", {}, {"schedule": {"name": "x"}})
    assert problems and "time_zone" in problems[0] and "supplement-schedules.yml" in problems[0]
    assert zendesk.match("PUT", "/api/v2/business_hours/schedules/7/workweek.json") is not None
    assert set(zendesk.sources) == {"support-api.oas.json", "supplement-schedules.yml"}


def test_sandbox_control_paths_and_other_desks_are_not_judged(zendesk):
    assert zendesk.check_request("GET", "/sandbox/requests", {}, None) == []
    assert zendesk.check_request("GET", "/rest/servicedeskapi/servicedesk", {}, None) == []


# ----------------------------------------------------------------------------- Zendesk: responses


def _sample_items(items: list) -> list:
    """The first ITEMS_PER_LIST items, plus any deleted ticket (a rare shape worth keeping)."""
    rare = [i for i in items[ITEMS_PER_LIST:] if isinstance(i, dict) and i.get("status") == "deleted"]
    return items[:ITEMS_PER_LIST] + rare[:2]


def _shape(body) -> tuple:
    """A cheap fingerprint of a body's shape (keys and value types two levels deep), to sample variety."""
    if not isinstance(body, dict):
        return (type(body).__name__,)
    return tuple(sorted((k, tuple(sorted((kk, type(vv).__name__) for kk, vv in v.items())) if isinstance(v, dict)
                         else type(v).__name__) for k, v in body.items()))


def _sampled_responses(recordings):
    """Up to RESPONSES_PER_OPERATION 2xx exchanges per operation and body shape, lists shortened."""
    per_operation: Counter = Counter()
    for name, exchange in recordings:
        if not (DESKBOOK_RESOURCES.match(exchange["path"]) and 200 <= exchange["status"] < 300):
            continue
        key = (exchange["method"], re.sub(r"/[^/]*\d[^/]*(?=/|\.json|$)", "/{id}", normalize_path(exchange["path"])),
               _shape(exchange["response_json"]))
        if per_operation[key] < RESPONSES_PER_OPERATION:
            per_operation[key] += 1
            body = exchange["response_json"]
            if isinstance(body, dict):
                body = {k: _sample_items(v) if isinstance(v, list) else v for k, v in body.items()}
            yield name, {**exchange, "response_json": body}


def test_recorded_responses_validate_with_documented_tolerances(zendesk, recordings):
    """Real 2xx responses of deskbook's resources validate; strict mode shows the tolerances are needed."""
    checked = strict_failures = 0
    problems = []
    for name, exchange in _sampled_responses(recordings):
        args = (exchange["method"], exchange["path"], exchange["status"], exchange["response_json"])
        checked += 1
        problems += [f"{name}: {p}" for p in zendesk.check_response(*args)]
        strict_failures += bool(zendesk.check_response(*args, strict=True))
    print(f"\nZendesk recorded responses: {checked} checked, {strict_failures} need a documented tolerance")
    assert checked > 40
    assert problems == []
    assert strict_failures > 0


@pytest.mark.parametrize("tolerance", [t.name for t in ZENDESK_TOLERANCES])
def test_each_tolerance_is_still_needed(shared, recordings, tolerance):
    """Without any one tolerance some real 2xx exchange fails: none of them is dead weight."""
    others = tuple(t for t in ZENDESK_TOLERANCES if t.name != tolerance)
    contract = OpenAPIContract.from_file(*(shared / f for f in ZENDESK_SPEC_FILES), tolerances=others)
    direction = next(t.applies_to for t in ZENDESK_TOLERANCES if t.name == tolerance)
    exchanges = recordings if direction == "request" else list(_sampled_responses(recordings))
    for _, exchange in exchanges:
        if not (DESKBOOK_RESOURCES.match(exchange["path"]) and 200 <= exchange["status"] < 300):
            continue
        if direction == "request":
            found = contract.check_request(exchange["method"], exchange["path"], None, exchange["request_json"])
            found = found and zendesk_contract(shared).check_request(
                exchange["method"], exchange["path"], None, exchange["request_json"]) == []
        else:
            found = contract.check_response(exchange["method"], exchange["path"], exchange["status"], exchange["response_json"])
        if found:
            return
    pytest.fail(f"no recorded exchange needs the tolerance {tolerance!r}: remove it from contract.py")


def test_response_with_a_wrong_shape_is_rejected(zendesk):
    assert zendesk.check_response("GET", "/api/v2/macros.json", 200, {"macros": "none", "count": 0})
    assert zendesk.check_response("GET", "/api/v2/macros.json", 200, {"macros": [], "count": 0}) == []
    assert zendesk.check_response("DELETE", "/api/v2/macros/1.json", 204, None) == []
    assert "no operation" in zendesk.check_response("GET", "/api/v2/nothing.json", 200, {})[0]


# ----------------------------------------------------------------------------- JSM


def test_jsm_request_type_create(jsm):
    path = "/rest/servicedeskapi/servicedesk/1/requesttype"
    body = {"name": "Renewal", "issueTypeId": "10001", "description": "Contract renewal [deskbook:standard:renewal]",
            "helpText": "Renewal reminders raised by deskbook"}
    assert jsm.match("POST", path).operation_id == "createRequestType"
    assert jsm.check_request("POST", path, {}, body) == []
    problems = jsm.check_request("POST", path, {}, {"name": ["Renewal"], "issueTypeId": 10001})
    assert len(problems) == 2 and all("createRequestType" in p for p in problems)


def test_jsm_customer_request_and_unknown_paths(jsm):
    body = {"serviceDeskId": "1", "requestTypeId": "7", "raiseOnBehalfOf": "acc-1",
            "requestFieldValues": {"summary": "Renewal reminder: ACME"}}
    assert jsm.check_request("POST", "/rest/servicedeskapi/request", {}, body) == []
    assert jsm.check_request("POST", "/rest/servicedeskapi/request", {}, {**body, "serviceDeskId": 1})
    problems = jsm.check_request("GET", "/rest/servicedeskapi/servicedesk/1/slagoals", {}, None)
    assert problems and "no path" in problems[0]
    assert jsm.check_request("GET", "/rest/servicedeskapi/request/SUP-1/sla", {"limit": "50"}, None) == []
    assert jsm.check_request("PUT", "/rest/servicedeskapi/organization/3/property/deskbook.contract", {}, {"tier": "key"}) == []


def test_jsm_platform_spec_and_api_v2_alias(jsm):
    assert jsm.match("POST", "/rest/api/3/search/jql") is not None
    assert jsm.check_request("PUT", "/rest/api/3/issue/SUP-1/properties/deskbook", {}, {"key": "x"}) == []
    # python-jira talks /rest/api/2: same resources as the v3 spec
    assert jsm.match("GET", "/rest/api/2/myself") is not None
    assert jsm.check_request("GET", "/rest/api/2/nonexistent", {}, None)


def test_jsm_allow_list_is_explicit_and_documented(jsm):
    for base in ("/automation/public/jira/cloud-1/rest/v1", "/gateway/api/automation/public/jira/cloud-1/rest/v1"):
        assert jsm.check_request("POST", f"{base}/rule", {}, {"rule": {"name": "x"}}) == []
        assert jsm.check_request("PUT", f"{base}/rule/0f0e/state", {}, {"value": "DISABLED"}) == []
        # not in the 2025 spec, but later clients call it (FACTS.md 2.12): allow-listed with that reason
        assert jsm.check_request("DELETE", f"{base}/rule/0f0e", {}, None) == []
        assert jsm.check_request("DELETE", f"{base}/rule/0f0e/state", {}, None)  # never documented anywhere
    assert jsm.check_request("POST", "/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics", {}, {"name": "TTR"}) == []
    entry = jsm.allowed_endpoint("GET", "/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics/4")
    assert entry is not None and "internal" in entry.reason
    assert all(e.doc_url.startswith("https://") and e.reason for e in JSM_ALLOWED_ENDPOINTS)
    # nothing on the allow-list is in fact in the specs (else it should not be allow-listed)
    assert all(jsm.match(e.method, e.template.replace("{", "").replace("}", "")) is None for e in JSM_ALLOWED_ENDPOINTS)


# ----------------------------------------------------------------------------- loading, caching


def test_contracts_are_cached(shared):
    assert zendesk_contract(shared) is zendesk_contract(str(shared) + "/")
    assert jsm_contract(shared) is jsm_contract(shared)


def test_bad_spec_files_give_clear_errors(tmp_path):
    with pytest.raises(DeskbookError, match="not found") as missing:
        OpenAPIContract.from_file(tmp_path / "nope.json")
    assert "nope.json" in str(missing.value)
    not_openapi = tmp_path / "notes.yml"
    not_openapi.write_text("title: just notes\n", encoding="utf-8")
    with pytest.raises(DeskbookError, match="not an OpenAPI 3 document") as wrong:
        OpenAPIContract.from_file(not_openapi)
    assert "notes.yml" in str(wrong.value)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(DeskbookError, match="cannot parse"):
        OpenAPIContract.from_file(broken)


MINI_SPEC = """
openapi: 3.0.3
info: {title: mini, version: "1"}
paths:
  /things/{id}:
    get: {operationId: ShowThing, responses: {200: {description: OK, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}}}
  /things/special:
    get: {operationId: Special, responses: {"200": {description: OK}}}
  /things:
    post:
      operationId: CreateThing
      requestBody: {content: {application/json: {schema: {type: object, required: [thing], properties: {thing: {$ref: '#/components/schemas/Thing'}}}}}}
      responses: {"201": {description: Created}}
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name: {type: string}
        note: {type: string, nullable: true}
        size: {type: integer, minimum: 0, exclusiveMinimum: true}
"""


def test_yaml_spec_refs_nullable_and_templates(tmp_path):
    spec = tmp_path / "mini.yml"
    spec.write_text(MINI_SPEC, encoding="utf-8")
    contract = OpenAPIContract.from_file(spec)
    assert contract.match("GET", "/things/special").operation_id == "Special"
    assert contract.match("GET", "/things/12").operation_id == "ShowThing"
    assert contract.check_request("POST", "/things", {}, {"thing": {"name": "a", "note": None}}) == []
    assert contract.check_request("POST", "/things", {}, {"thing": {"name": None}})
    assert contract.check_request("POST", "/things", {}, {"thing": {"name": "a", "size": 0}})  # draft-4 exclusive
    assert contract.check_response("GET", "/things/1", 200, {"name": "a"}) == []  # integer status key in YAML
    assert contract.check_response("GET", "/things/1", 200, {"note": "no name"})


# ----------------------------------------------------------------------------- pytest helpers


@pytest.mark.contract_exempt("sends requests outside the contract to test the checker")
def test_checked_responses_collects_violations(zendesk):
    with checked_responses(zendesk, assert_clean=False) as rsps:
        rsps.post("https://acme.zendesk.com/api/v2/macros.json", json={"macro": {"id": 1}}, status=201)
        rsps.get("https://acme.zendesk.com/api/v2/playbooks.json", json={}, status=404)
        requests.post("https://acme.zendesk.com/api/v2/macros.json",
                      json={"macro": {"title": "Greeting", "actions": "not a list"}}, timeout=5)
        requests.get("https://acme.zendesk.com/api/v2/playbooks.json?page[size]=100", timeout=5)
    recorder = rsps.contract
    assert recorder.checked == 2
    assert len(recorder.violations) == 2
    assert recorder.violations[0].startswith("POST /api/v2/macros.json: ") and "$.macro.actions" in recorder.violations[0]
    assert recorder.violations[1].startswith("GET /api/v2/playbooks.json: ")
    with pytest.raises(AssertionError) as failure:
        assert_no_violations(recorder.violations + recorder.violations[:1])
    message = str(failure.value)
    assert "3 contract violation(s)" in message and "(x2)" in message and "  2. GET /api/v2/playbooks.json" in message


@pytest.mark.contract_exempt("sends requests outside the contract to test the checker")
def test_checked_responses_raises_on_exit(zendesk):
    with pytest.raises(AssertionError, match="1 contract violation"):
        with checked_responses(zendesk) as rsps:
            rsps.delete("https://acme.zendesk.com/api/v2/macros/1/apply.json", status=204)
            requests.delete("https://acme.zendesk.com/api/v2/macros/1/apply.json", timeout=5)


def test_zendesk_responses_fixture_accepts_documented_requests(zendesk_responses):
    zendesk_responses.get("https://acme.zendesk.com/api/v2/macros.json", json={"macros": [], "count": 0})
    zendesk_responses.put("https://acme.zendesk.com/api/v2/macros/9.json", json={"macro": {"id": 9}})
    session = requests.Session()
    assert session.get("https://acme.zendesk.com/api/v2/macros.json", params={"page[size]": 100}, timeout=5).ok
    assert session.put("https://acme.zendesk.com/api/v2/macros/9.json", json={"macro": {"active": False}}, timeout=5).ok


@pytest.mark.contract_exempt("sends requests outside the contract to test the checker")
def test_recorder_attaches_to_a_session(zendesk):
    recorder = ContractRecorder(zendesk)
    session = recorder.attach(requests.Session())
    with checked_responses(zendesk, assert_clean=False) as rsps:
        rsps.get("https://acme.zendesk.com/api/v2/groups.json", json={"groups": []})
        rsps.get("https://acme.zendesk.com/api/v2/grups.json", json={})
        session.get("https://acme.zendesk.com/api/v2/groups.json", timeout=5)
        session.get("https://acme.zendesk.com/api/v2/grups.json", timeout=5)
    assert recorder.checked == 2 and len(recorder.violations) == 1 and "/api/v2/grups.json" in recorder.violations[0]


@pytest.mark.contract_exempt("sends requests outside the contract to test the checker")
def test_guarding_requests_checks_every_session_by_desk(shared):
    """The suite-wide guard: both desks' contracts, chosen by path; other traffic is not judged."""
    with guarding_requests(desk_checker(shared)) as recorder, checked_responses(zendesk_contract(shared), assert_clean=False) as rsps:
        rsps.get("https://acme.zendesk.com/api/v2/macros/active.json", json={"macros": []})
        rsps.post("https://acme.atlassian.net/rest/servicedeskapi/servicedesk/1/requesttype", json={"id": "5"})
        rsps.get("https://acme.atlassian.net/rest/servicedeskapi/nowhere", json={})
        rsps.get("http://127.0.0.1:9/sandbox/requests", json=[])
        with requests.Session() as session:
            session.get("https://acme.zendesk.com/api/v2/macros/active.json", timeout=5)
            session.post("https://acme.atlassian.net/rest/servicedeskapi/servicedesk/1/requesttype",
                         json={"name": 7}, headers={"X-ExperimentalApi": "opt-in"}, timeout=5)
            session.get("https://acme.atlassian.net/rest/servicedeskapi/nowhere", timeout=5)
            session.get("http://127.0.0.1:9/sandbox/requests", timeout=5)
    assert recorder.checked == 4
    assert [v.split(":")[0] for v in recorder.violations] == [
        "POST /rest/servicedeskapi/servicedesk/1/requesttype", "GET /rest/servicedeskapi/nowhere"]
    assert requests.Session.send.__name__ == "send"  # unpatched after the block

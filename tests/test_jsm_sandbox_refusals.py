"""The JSM sandbox refuses what JSM refuses (FACTS.md; readings named where it is silent): detail field
updates, if/else blocks, customers of another desk, request list filters."""

from __future__ import annotations

import pytest
import requests

from deskbook.connectors.jsm.sandbox import running_sandbox

SD = "/rest/servicedeskapi"
OPT_IN = {"X-ExperimentalApi": "opt-in"}


@pytest.fixture()
def sandbox():
    with running_sandbox(seed=3) as running:
        yield running


def session_for(sandbox) -> requests.Session:
    http = requests.Session()
    http.auth = (sandbox.email, sandbox.token)
    http.headers.update(OPT_IN)
    return http


# ---------------------------------------------------------------- CSM detail fields (FACTS.md 5.4)


@pytest.mark.contract_exempt("CSM is not in ../shared's specs; bodies that must be refused on purpose")
def test_a_detail_field_update_changes_only_its_label_and_refuses_the_rest(sandbox):
    http = session_for(sandbox)
    base = f"{sandbox.url}/jsm/csm/cloudid/{sandbox.cloud_id}/api/v1/organization"
    assert http.post(f"{base}/details", json={"name": "tier", "type": {"name": "SELECT", "options": ["key", "new"]}}).status_code == 201
    assert http.post(f"{base}/details", json={"name": "ends", "type": {"name": "DATE"}}).status_code == 201
    [org] = sandbox.seed_organizations(1)
    assert http.put(f"{base}/{org}/details", params={"fieldName": "tier"}, json={"values": ["key"]}).status_code == 204
    as_read = next(f for f in http.get(f"{base}/details").json()["results"] if f["name"] == "tier")

    refused = [
        {"name": "tier", "type": {"name": "TEXT"}},  # the type
        {"type": {"name": "SELECT", "options": ["key", "new", "vip"]}},  # a select's options
        {"configuration": {"position": 2}},  # its place
        {"name": "tier", "description": "who they are"},  # not a definition's attribute
        {"type": "SELECT"},  # a type that is not an object: 400, not 500
        {"name": ["tier"]},
        {"name": "  "},
        "tier",
    ]
    for body in refused:
        answer = http.put(f"{base}/details/tier", json=body)
        assert answer.status_code == 400, (body, answer.status_code, answer.text)
    assert http.put(f"{base}/details/tier", json={"name": "ends"}).status_code == 409  # taken

    renamed = http.put(f"{base}/details/tier", json={**as_read, "name": "customer tier"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {**as_read, "name": "customer tier"}
    listed = http.get(f"{base}/details").json()["results"]
    assert [f["name"] for f in listed] == ["customer tier", "ends"]  # in its place
    profile = http.get(f"{base}/profile/{org}").json()
    assert profile["details"] == [{"name": "customer tier", "values": ["key"]}]  # the value followed
    assert http.put(f"{base}/details/tier", json={"name": "x"}).status_code == 404


# ---------------------------------------------------------------- automation: if/else (FACTS.md §2)


def test_if_else_blocks_hold_only_condition_block_if_blocks_and_any_match_type_is_kept(sandbox):
    """FACTS.md's recorded if/else: a container whose children are CONDITION_BLOCKs of type if-block.
    Anything else there, or an if-block outside a container, is refused; conditionMatchType values FACTS.md
    does not record are kept (it records ALL and says nothing of refusals)."""
    from test_jsm_engine import ME, add_label, jql, node, project, trigger

    http = session_for(sandbox)

    def save(components):
        body = {"rule": {"name": "take", "description": "", "state": "DISABLED", "authorAccountId": ME,
                         "actor": {"type": "ACCOUNT_ID", "actor": ME}, "writeAccessType": "UNRESTRICTED",
                         "canOtherRuleTrigger": False, "notifyOnError": "FIRSTERROR", "labels": [],
                         "ruleScopeARIs": [project(sandbox)], "trigger": trigger(sandbox, "manual"),
                         "components": components}, "connections": []}
        return http.post(f"{sandbox.automation_url}/rule", json=body)

    def block(component="CONDITION_BLOCK", match="ALL", conditions=()):
        return dict(node(component, "jira.condition.if.block", {"conditionMatchType": match}),
                    conditions=list(conditions), children=[add_label("x")])

    def container(*children):
        return dict(node("CONDITION", "jira.condition.container.block", {}), children=list(children))

    good = save([container(block(conditions=[jql("priority = High")]), block())])
    assert good.status_code == 201, good.text
    for components in ([container(block(component="CONDITION"))],  # an if-block that is not a CONDITION_BLOCK
                       [container(block(), add_label("y"))],  # an action straight in the container
                       [container(jql("priority = High"))],  # a condition straight in the container
                       [block()]):  # an if-block outside a container
        answer = save(components)
        assert answer.status_code == 400, (components, answer.text)
        assert "CONDITION_BLOCK" in answer.text  # the refusal names what the block must hold
    for match in ("ANY", "NONE"):
        kept = save([container(block(match=match, conditions=[jql("priority = High")]))])
        assert kept.status_code == 201, kept.text
        rule = http.get(f"{sandbox.automation_url}/rule/{kept.json()['ruleUuid']}").json()["rule"]
        assert rule["components"][0]["children"][0]["value"] == {"conditionMatchType": match}


# ---------------------------------------------------------------- customers belong to a service desk


def test_only_the_desks_customers_raise_requests_there(sandbox):
    """A customer account is site-wide (POST /customer, FACTS.md 4.9), a desk's customers are those added to
    it or in its organizations (5.1): anyone else cannot raise a request there — on behalf of them 400 (as
    an unknown account), with their own login 403 (the readings: FACTS.md and the spec name no error)."""
    from deskbook.connectors.jsm.sandbox.app import desk_customer_kind

    http = session_for(sandbox)
    rtype = http.post(f"{sandbox.url}{SD}/servicedesk/1/requesttype",
                      json={"name": "Help", "issueTypeId": "10004", "description": "d"}).json()

    def customer(email):
        return http.post(f"{sandbox.url}{SD}/customer", json={"email": email, "displayName": email}).json()["accountId"]

    def raise_for(account, session=http):
        return session.post(f"{sandbox.url}{SD}/request", json={
            "serviceDeskId": "1", "requestTypeId": rtype["id"], "raiseOnBehalfOf": account,
            "requestFieldValues": {"summary": "help"}})

    stranger, added, member = customer("s@x.example"), customer("a@x.example"), customer("m@x.example")
    refused = raise_for(stranger)
    assert refused.status_code == 400 and "not a customer of this service desk" in refused.json()["errorMessage"]
    assert http.post(f"{sandbox.url}{SD}/servicedesk/1/customer", json={"accountIds": [added]}).status_code == 204
    assert raise_for(added).status_code == 201
    org = http.post(f"{sandbox.url}{SD}/organization", json={"name": "Acme"}).json()
    assert http.post(f"{sandbox.url}{SD}/organization/{org['id']}/user", json={"accountIds": [member]}).status_code == 204
    assert raise_for(member).status_code == 400  # the organization is not the desk's yet
    assert http.post(f"{sandbox.url}{SD}/servicedesk/1/organization", json={"organizationId": int(org["id"])}).status_code == 204
    assert raise_for(member).status_code == 201

    account, token = sandbox.customer_login("own@x.example")  # a test customer: one of the desk's
    own = requests.Session()
    own.auth = ("own@x.example", token)
    assert raise_for(account, own).status_code == 201
    sandbox.store.delete(desk_customer_kind("1"), account)  # no longer the desk's
    assert raise_for(account, own).status_code == 403


# ---------------------------------------------------------------- JQL search must be bounded (FACTS.md 8.3)


def test_a_search_without_a_restriction_is_refused(sandbox):
    """`order by key desc` alone (or nothing) is an unbounded query: /search/jql refuses it (400), by POST
    and by GET; any restriction before the ORDER BY is enough."""
    http = session_for(sandbox)
    url = f"{sandbox.url}/rest/api/3/search/jql"
    for jql in ("order by key desc", "ORDER BY created", "", "   "):
        answer = http.post(url, json={"jql": jql})
        assert answer.status_code == 400 and "Unbounded" in answer.text, (jql, answer.status_code, answer.text)
    assert http.post(url, json={}).status_code == 400  # no jql at all
    assert http.get(url, params={"jql": "order by key desc"}).status_code == 400
    assert http.post(url, json={"jql": "project = SUP order by key desc"}).status_code == 200


def test_a_search_orders_by_at_most_seven_fields(sandbox):
    """FACTS.md 8.3: ORDER BY takes at most 7 fields; an eighth is refused (400)."""
    http = session_for(sandbox)
    fields = ["key", "created", "updated", "priority", "id", "resolutiondate", "createddate", "issuekey"]
    url = f"{sandbox.url}/rest/api/3/search/jql"
    assert http.post(url, json={"jql": f"project = SUP ORDER BY {', '.join(fields[:7])}"}).status_code == 200
    answer = http.post(url, json={"jql": f"project = SUP ORDER BY {', '.join(fields)}"})
    assert answer.status_code == 400 and "7" in answer.text, answer.text

"""JsmClient against the JSM sandbox: env config, paging objects, retries, automation, properties."""

from __future__ import annotations

import pytest

from deskbook.connectors.jsm import automation
from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.errors import DeskbookError
from deskbook.http import DeskHTTPError, DeskSession, RetryPolicy
from conftest import shared_dir

#: Check every request against ../shared/jsm when it is there (the spec-covered paths).
SPEC = (shared_dir() / "jsm") if shared_dir() else None


def client_for(sandbox, **kwargs) -> JsmClient:
    connection = JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                               project_key=sandbox.project_key, cloud_id=kwargs.pop("cloud_id", None))
    sleeps: list[float] = []
    session = DeskSession(sandbox.url, auth=(sandbox.email, sandbox.token),
                          policy=kwargs.pop("policy", RetryPolicy()), sleep=sleeps.append)
    client = JsmClient(connection, session=session, **kwargs)
    client.sleeps = sleeps
    return client


@pytest.fixture()
def sandbox():
    with running_sandbox(seed=2, spec=SPEC) as running:
        yield running
        assert running.violations() == []


def test_connection_from_env_names_what_is_missing_and_reads_everything():
    with pytest.raises(DeskbookError) as missing:
        JsmConnection.from_env({"JIRA_URL": "https://x.atlassian.net"})
    assert "JIRA_EMAIL" in str(missing.value) and "JIRA_API_TOKEN" in str(missing.value)
    assert "JIRA_URL" not in str(missing.value).split("(")[0]
    connection = JsmConnection.from_env({"JIRA_URL": "https://x.atlassian.net/", "JIRA_EMAIL": "a@b.c",
                                         "JIRA_API_TOKEN": "secret-token", "JSM_PROJECT": "HELP",
                                         "JIRA_CLOUD_ID": "abc"})
    assert (connection.url, connection.project_key, connection.cloud_id) == ("https://x.atlassian.net", "HELP", "abc")
    assert JsmConnection.from_env({"JIRA_URL": "u", "JIRA_EMAIL": "e", "JIRA_API_TOKEN": "tttt"},
                                  project_key="OPS").project_key == "OPS"


def test_request_types_are_created_with_the_projects_service_request_issue_type(sandbox):
    client = client_for(sandbox)
    made = client.create_request_type("Help", "d")
    assert made["issueTypeId"] == "10004"  # the project's "Service Request" type
    sent = [r["json"] for r in sandbox.requests() if r["method"] == "POST" and r["path"].endswith("/requesttype")]
    assert sent == [{"name": "Help", "issueTypeId": "10004", "description": "d", "helpText": ""}]
    client.create_request_type("Other", "d")
    assert client.calls["GET /rest/api/3/issuetype/project"] == 1  # looked up once


def test_plain_http_to_a_remote_host_is_refused():
    with pytest.raises(DeskbookError, match="plain http"):
        JsmClient(JsmConnection(url="http://jira.example.com", email="e", token="t"))


def test_request_types_paged_past_the_server_cap():
    with running_sandbox(max_limit=3, spec=SPEC) as sandbox:
        client = client_for(sandbox)
        for n in range(8):
            client.create_request_type(f"Type {n}", description=f"[deskbook:standard-service:t{n}]")
        names = [t["name"] for t in client.request_types()]
        assert names == [f"Type {n}" for n in range(8)]
        assert client.calls["GET /rest/servicedeskapi/servicedesk/{id}/requesttype"] == 3
        assert client.request_type_fields(client.request_types()[0]["id"])[0]["fieldId"] == "summary"


def test_unknown_project_is_a_clear_error(sandbox):
    client = JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token, project_key="NOPE"))
    with pytest.raises(DeskbookError, match="no service project with key NOPE"):
        client.request_types()


def test_429_is_retried_after_retry_after_and_401_is_fatal(sandbox):
    client = client_for(sandbox)
    sandbox.inject(429, count=2, retry_after=4, path_prefix="/rest/servicedeskapi/organization")
    assert client.organizations() == []
    assert client.sleeps == [4.0, 4.0]
    bad = JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token="wrong"))
    with pytest.raises(DeskHTTPError) as error:
        bad.organizations()
    assert error.value.status == 401 and "wrong" not in str(error.value)


def test_organization_contract_property_round_trip(sandbox):
    client = client_for(sandbox)
    org = client.create_organization("Acme")
    assert client.organization_property(org["id"], CONTRACT_PROPERTY) is None
    assert client.set_organization_property(org["id"], CONTRACT_PROPERTY, {"contract_end": "2027-01-31"}) is True
    assert client.set_organization_property(org["id"], CONTRACT_PROPERTY, {"contract_end": "2027-02-28"}) is False
    assert client.organization_property(org["id"], CONTRACT_PROPERTY) == {"contract_end": "2027-02-28"}
    assert client.organization_property_keys(org["id"]) == [CONTRACT_PROPERTY]
    client.delete_organization_property(org["id"], CONTRACT_PROPERTY)
    assert client.organization_property_keys(org["id"]) == []


def test_request_on_behalf_internal_comment_and_exactly_once_lookup(sandbox):
    client = client_for(sandbox)
    rtype = client.create_request_type("Renewal")
    customer = client.create_customer("buyer@acme.example", "Buyer")
    org = client.create_organization("Acme")
    client.add_organization_users(org["id"], [customer["accountId"]])
    assert [u["emailAddress"] for u in client.organization_users(org["id"])] == ["buyer@acme.example"]
    key = "renewal:1:2027-01"
    jql = f'project = SUP AND issue.property[deskbook.sync].key = "{key}"'
    assert list(client.search(jql)) == []
    request = client.create_request(rtype["id"], "Renew Acme", raise_on_behalf_of=customer["accountId"])
    client.set_issue_property(request["issueKey"], "deskbook.sync", {"key": key})
    client.add_labels(request["issueKey"], ["deskbook-renewal"])
    client.add_comment(request["issueKey"], "Contract ends soon", public=False)
    assert [i["key"] for i in client.search(jql)] == [request["issueKey"]]
    assert client.issue_property(request["issueKey"], "deskbook.sync") == {"key": key}
    assert [c["public"] for c in client.comments(request["issueKey"])] == [False]


def test_search_follows_next_page_token(sandbox):
    client = client_for(sandbox)
    rtype = client.create_request_type("Task")
    for n in range(5):
        client.create_request(rtype["id"], f"Task {n}")
    found = list(client.search("project = SUP", max_results=2))
    assert sorted(i["fields"]["summary"] for i in found) == [f"Task {n}" for n in range(5)]
    assert client.calls["POST /rest/api/3/search/jql"] == 3  # the API version is kept in the endpoint name


def test_automation_rules_through_the_cloud_id_from_tenant_info(sandbox):
    client = client_for(sandbox)
    assert client.cloud_id == sandbox.cloud_id
    rule = {"name": "Greeting", "description": "[deskbook:standard-service:greeting]", "state": "ENABLED",
            "trigger": automation.manual_trigger(), "components": [], "labels": ["deskbook"],
            "ruleScopeARIs": [client.project_ari]}
    uuids = [client.create_rule({**rule, "name": f"Rule {n}"}) for n in range(3)]
    assert [s["state"] for s in client.rule_summaries()] == ["ENABLED"] * 3  # created DISABLED, then enabled
    client.set_rule_state(uuids[0], enabled=False)
    client.update_rule(uuids[1], {**rule, "name": "Renamed"})
    summaries = client.rule_summaries(scope=client.project_ari)
    assert [s["name"] for s in summaries] == ["Rule 0", "Renamed", "Rule 2"]
    assert [s["uuid"] for s in client.rule_summaries(state="DISABLED")] == [uuids[0]]
    assert client.rule(uuids[1])["description"] == "[deskbook:standard-service:greeting]"


def test_automation_cursor_pages():
    with running_sandbox(rule_page_limit=2, spec=SPEC) as sandbox:
        client = client_for(sandbox, cloud_id=sandbox.cloud_id)
        rule = {"name": "R", "trigger": automation.manual_trigger(), "components": [],
                "ruleScopeARIs": [client.project_ari]}
        for n in range(5):
            client.create_rule({**rule, "name": f"R{n}"})
        assert [s["name"] for s in client.rule_summaries()] == [f"R{n}" for n in range(5)]
        assert client.calls["GET /gateway/api/automation/public/jira/{id}/rest/v1/rule/summary"] == 3


def test_internal_sla_metrics_and_request_sla(sandbox):
    client = client_for(sandbox)
    made = client.create_sla_metric({"name": "Time to resolution", "goals": [{"jql": "", "duration": 480}]})
    client.update_sla_metric(made["id"], {"name": "Time to resolution", "goals": [{"jql": "", "duration": 240}]})
    assert [m["goals"][0]["duration"] for m in client.sla_metrics()] == [240]
    rtype = client.create_request_type("Help")
    request = client.create_request(rtype["id"], "Broken")
    sla = client.request_sla(request["issueKey"])
    assert sla[0]["ongoingCycle"]["goalDuration"]["millis"] == 240 * 60_000
    client.delete_sla_metric(made["id"])
    assert client.sla_metrics() == []


def test_python_jira_reaches_the_sandbox(sandbox):
    client = client_for(sandbox)
    assert client.jira().myself()["emailAddress"] == sandbox.email

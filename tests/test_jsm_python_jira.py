"""python-jira's defaults against the JSM sandbox: what users' own scripts call works."""

from __future__ import annotations

import jira
import pytest

from deskbook.connectors.jsm.client import JsmClient, JsmConnection
from deskbook.connectors.jsm.sandbox import running_sandbox


@pytest.mark.contract_exempt("python-jira's transition_issue sends the transition id as a number where the "
                             "spec types a string; Jira Cloud accepts both")
def test_the_default_constructor_and_common_calls():
    with running_sandbox() as sandbox:
        drive_python_jira(sandbox)
        problems = [r for r in sandbox.requests() if r["status"] >= 400]
        assert problems == []


def drive_python_jira(sandbox) -> None:
    client = jira.JIRA(server=sandbox.url, basic_auth=(sandbox.email, sandbox.token), max_retries=0)
    assert client._is_cloud and client.server_info()["deploymentType"] == "Cloud"
    assert client.myself()["emailAddress"] == sandbox.email
    organizations = [f for f in client.fields() if (f.get("schema") or {}).get("custom", "").endswith(
        "sd-customer-organizations")]
    assert len(organizations) == 1
    assert [p.key for p in client.projects()] == ["SUP"]
    assert {t.name for t in client.project("SUP").issueTypes} >= {"Service Request"}
    desk = client.service_desks()[0]
    assert desk.projectKey == "SUP"
    JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token)).create_request_type("Help")
    help_type = client.request_type_by_name(desk, "Help")
    assert help_type.name == "Help"
    issue = client.create_customer_request({"serviceDeskId": desk.id, "requestTypeId": "Help",  # looked up by name
                                            "requestFieldValues": {"summary": "Printer jam"}})
    assert issue.fields.summary == "Printer jam"
    client.add_comment(issue.key, "We are on it")
    assert [c.body for c in client.comments(issue.key)] == ["We are on it"]
    transitions = {t["name"]: t["id"] for t in client.transitions(issue.key)}
    client.transition_issue(issue.key, transitions["Resolve this issue"])
    assert client.issue(issue.key).fields.status.name == "Resolved"
    sandbox.index_caught_up()  # JQL search lags writes (FACTS.md 8.2)
    found = client.search_issues("project = SUP AND resolved is not EMPTY")
    assert [i.key for i in found] == [issue.key]
    client.add_issue_property(issue.key, "deskbook.note", {"seen": True})
    assert client.issue_property(issue.key, "deskbook.note").value.seen is True

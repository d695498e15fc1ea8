"""The design card's clients for users' own scripts: `ZendeskClient.zenpy()` and `JsmClient.jira()`
hand out working, configured zenpy / python-jira (Cloud mode) clients, checked against the sandboxes."""

from __future__ import annotations

import pytest

from deskbook.connectors.jsm.client import JsmClient, JsmConnection
from deskbook.connectors.jsm.sandbox import running_sandbox as running_jsm_sandbox
from deskbook.connectors.zendesk.client import ZendeskClient
from deskbook.connectors.zendesk.sandbox import running_sandbox as running_zendesk_sandbox


def test_zenpy_reads_and_writes_the_account_through_the_clients_session():
    from zenpy.lib.api_objects import Comment, Ticket
    from zenpy.lib.exception import RecordNotFoundException

    with running_zendesk_sandbox() as desk:
        client = ZendeskClient(desk.url, desk.email, desk.token)
        group = client.create("group", {"name": "Front line", "description": "first answers"})
        zenpy = client.zenpy()

        assert [g.name for g in zenpy.groups()] == ["Front line"]
        audit = zenpy.tickets.create(Ticket(subject="Printer on fire", comment=Comment(body="help", public=False),
                                            group_id=group["id"]))
        ticket = zenpy.tickets(id=audit.ticket.id)
        assert (ticket.subject, ticket.group_id) == ("Printer on fire", group["id"])
        assert [t["subject"] for t in client.tickets()] == ["Printer on fire"]  # the same account
        with pytest.raises(RecordNotFoundException):  # errors are zenpy's own, not deskbook's
            zenpy.tickets(id=999_999_999)
        # zenpy's requests share the client's session policy and counters
        assert client.session.calls["POST /api/v2/tickets"] == 1
        assert client.session.calls["GET /api/v2/groups"] >= 1


def jsm_client(sandbox) -> JsmClient:
    return JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                                   project_key=sandbox.project_key))


def test_python_jira_in_cloud_mode_reads_the_site():
    with running_jsm_sandbox(seed=2) as sandbox:
        client = jsm_client(sandbox)
        made = client.create_request(client.create_request_type("Help")["id"], "Printer on fire")
        jira = client.jira()

        assert jira._is_cloud and jira._options["rest_api_version"] == "3"  # Cloud mode, no serverInfo call
        assert jira.myself()["emailAddress"] == sandbox.email
        issue = jira.issue(made["issueKey"])
        assert (issue.key, issue.fields.summary) == (made["issueKey"], "Printer on fire")
        assert jira.issue_properties(made["issueKey"]) == []
        assert not any("serverInfo" in str(r) for r in sandbox.requests())


def test_python_jira_in_cloud_mode_searches_with_search_jql():
    with running_jsm_sandbox(seed=2) as sandbox:
        client = jsm_client(sandbox)
        made = client.create_request(client.create_request_type("Help")["id"], "Printer on fire")
        sandbox.index_caught_up()  # JQL search lags writes (FACTS.md 8.2): the request is the past here
        found = client.jira().search_issues(f"project = {sandbox.project_key}", maxResults=50)
        assert made["issueKey"] in [issue.key for issue in found]
        assert any("/rest/api/3/search/jql" in str(r) for r in sandbox.requests())  # Cloud's search, not /search

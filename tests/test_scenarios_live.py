"""`deskbook test --doit` against a real desk, both desks through the same `Desk.scenario_driver` hook.

JSM: a real site is played by the JSM sandbox with its
shortcuts off (`shortcuts=False`: the act-as header is refused, the clock cannot be moved), a
customer with a login of their own, the playbook installed beforehand as an admin would.

What is proved: the scenarios run and their outcome is read back through documented endpoints
only; every test request is deleted afterwards (also when a step fails or raises), or resolved
and closed where the site refuses deletion, and the report says so; the customer's steps run with
the customer's own login or are skipped naming why; the dry run writes nothing; no secret is
printed. Zendesk: the tickets, test customers and organizations go again, also when run twice.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

import pytest
import requests

from deskbook.cli import main
from deskbook.connectors.commands import make_plan
from deskbook.connectors.jsm.client import JsmClient, JsmConnection
from deskbook.connectors.jsm.connector import JsmConnector
from deskbook.connectors.jsm.sandbox import FakeClock, running_sandbox
from deskbook.connectors.sandbox_kit.errors import KitError
from deskbook.connectors.scenarios import jsm_driver
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library

TOKEN = "jsm-live-agent-secret-7f3a"
CUSTOMER = "li.test@example.com"
ENV = ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JSM_PROJECT", "JIRA_CLOUD_ID",
       jsm_driver.CUSTOMER_EMAIL_ENV, jsm_driver.CUSTOMER_TOKEN_ENV)
#: Paths no live run may call: the sandbox's control API and JSM's internal (undocumented) endpoints.
NOT_LIVE = ("/sandbox/", "/rest/servicedesk/1/", "/rest/workinghours/")
START = datetime.fromisoformat("2026-03-02T09:30:00+08:00").timestamp()


@pytest.fixture()
def env(monkeypatch):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@contextlib.contextmanager
def real_site(internal_api: bool = True, **options):
    """A sandbox playing a real site with the standard playbook installed (by an admin, with the
    internal SLA API unless `internal_api` is False), and a customer with their own API token; the
    request log starts after the install."""
    with running_sandbox(clock=FakeClock(START), token=TOKEN, shortcuts=False, **options) as site:
        connection = JsmConnection(url=site.url, email=site.email, token=site.token, project_key=site.project_key,
                                   cloud_id=site.cloud_id)
        connector = JsmConnector(JsmClient(connection), allow_internal_api=internal_api)
        plan, snapshot = make_plan(connector, load_playbook(), load_library(), adopt=True)
        connector.apply(plan, snapshot)
        account, token = site.customer_login(CUSTOMER, "Ms Li")
        site.reset_log()
        yield site, account, token


def run(capsys, site, *extra) -> tuple[int, str, str]:
    code = main(["test", "--desk", "jsm", "--url", site.url, "--email", site.email, "--token", TOKEN,
                 "--cloud-id", site.cloud_id, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def writes(site) -> list[dict]:
    """What changed the site: every request but reads (GETs, searches, rule listings)."""
    return [r for r in site.requests() if r["method"] != "GET"
            and not r["path"].endswith(("/search/jql", "/rule/summary"))]


def test_the_scenarios_run_on_a_real_site_with_the_customers_login_and_every_request_is_deleted(capsys, env):
    with real_site() as (site, account, customer_token):
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        env.setenv(jsm_driver.CUSTOMER_TOKEN_ENV, customer_token)
        code, out, err = run(capsys, site, "--doit", "--json")
        report = json.loads(out)
        served = site.requests()
        left = site.store.all("request")

    assert code == 0, err
    by_name = {s["name"]: s for s in report["scenarios"]}
    assert {"complaint", "forbidden-phrases", "routing", "sla-policy-order", "robot-vacuum"} <= set(by_name)
    for name in ("complaint", "forbidden-phrases", "routing", "sla-policy-order"):
        assert by_name[name]["status"] == "passed", by_name[name]
    vacuum = by_name["robot-vacuum"]  # the customer's reply (step 7) ran; 26 hours cannot pass (step 9)
    assert vacuum["status"] == "skipped"
    steps = {s["step"]: s for s in vacuum["steps"]}
    assert steps[7]["action"] == "customer_replies" and steps[7]["status"] == "passed"
    assert all(steps[n]["status"] == "passed" for n in range(1, 9))
    assert steps[9] == {**steps[9], "status": "skipped", "reason": "time cannot pass on a real desk"}
    assert all(s["status"] == "skipped" for s in vacuum["steps"][9:])

    # every test request was marked, and deleted once its scenario ended
    raised = [r for r in served if r["method"] == "POST" and r["path"] == "/rest/servicedeskapi/request"]
    assert len(raised) == len(report["scenarios"]) and left == []
    assert all(r["json"]["requestFieldValues"]["summary"].startswith("[deskbook test] ") for r in raised)
    assert all(r["json"]["raiseOnBehalfOf"] == account for r in raised)
    deleted = sorted(r["path"].rsplit("/", 1)[1] for r in served if r["method"] == "DELETE")
    assert deleted == sorted(k for s in report["scenarios"] for k in s["cleanup"]["deleted"])
    assert len(deleted) == len(raised)
    labelled = [r for r in served if r["method"] == "PUT" and r["path"].startswith("/rest/api/3/issue/")
                and {"add": "deskbook_test"} in ((r["json"] or {}).get("update") or {}).get("labels", [])]
    assert len(labelled) == len(raised)

    # the customer wrote with their own login; nothing sandbox-only or internal was used
    replies = [r for r in served if r["method"] == "POST" and r["path"].endswith("/comment") and r["user"] == CUSTOMER]
    assert replies and all(r["status"] == 201 for r in replies)
    assert not [r for r in served if "act_as" in r or r["path"].startswith(NOT_LIVE)]
    assert site.violations() == []
    assert TOKEN not in out + err and customer_token not in out + err


def test_without_the_customers_login_their_steps_are_skipped_and_named(capsys, env):
    with real_site() as (site, _, customer_token):
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        code, out, err = run(capsys, site, "--doit", "--scenario", "forbidden-phrases", "--scenario", "routing")
        left = site.store.all("request")
        by_customer = [r for r in site.requests() if r["user"] == CUSTOMER]

    assert code == 0, err
    assert "SKIPPED forbidden-phrases" in out and "PASSED  routing" in out
    assert ("step 3 and later skipped: the customer acts here, which on a real site needs the customer's own "
            "login (set DESKBOOK_JSM_CUSTOMER_EMAIL and DESKBOOK_JSM_CUSTOMER_TOKEN)") in out
    assert out.count("test tickets deleted: SUP-") == 2 and left == [] and by_customer == []


@pytest.fixture
def wrong_and_fine(playbook_copy):
    """The playbook copy with two JSM scenarios of its own: `wrong` fails at its first step, `fine` passes."""
    path, folder = playbook_copy
    (folder / "wrong.yaml").write_text(
        "implements: [S-5]\ndesks: [jsm]\nsteps:\n"
        "  - customer_writes: {channel: web, category: fault, priority: normal, subject: x, body: y}\n"
        "    expect: {group: sales}\n"
        "  - agent_replies: never sent\n", encoding="utf-8")
    (folder / "fine.yaml").write_text(
        "implements: [S-5]\ndesks: [jsm]\nsteps:\n"
        "  - customer_writes: {channel: web, category: fault, priority: normal, subject: x, body: y}\n"
        "  - agent_notes: looked at it\n", encoding="utf-8")
    return path


def test_a_failing_step_and_a_raising_step_still_delete_their_requests(capsys, env, wrong_and_fine, monkeypatch):
    with real_site() as (site, _, _token):
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        code, out, err = run(capsys, site, "--doit", "--playbook", str(wrong_and_fine), "--scenario", "wrong")
        assert code == 1 and "FAILED  wrong" in out and "group: expected 'sales'" in out
        assert "test tickets deleted: SUP-1" in out and site.store.all("request") == []

        def broken(self, text):
            raise RuntimeError("the agent's tool crashed")

        monkeypatch.setattr(jsm_driver.JsmDriver, "agent_notes", broken)
        code, out, err = run(capsys, site, "--doit", "--playbook", str(wrong_and_fine), "--scenario", "fine")
        assert code == 1 and "the agent's tool crashed" in err
        assert "test request SUP-2 deleted" in err and site.store.all("request") == []
        assert [r["path"] for r in site.requests() if r["method"] == "DELETE"] == \
            ["/rest/api/3/issue/SUP-1", "/rest/api/3/issue/SUP-2"]


def test_a_request_whose_create_answer_was_lost_is_found_and_deleted(capsys, env):
    with real_site() as (site, _, _token):
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        route, lost = site.app.route, []

        def losing(request, path, body, entry):  # the first create happens, its answer is lost (a 500)
            answer = route(request, path, body, entry)
            if request.method == "POST" and path == "/rest/servicedeskapi/request" and not lost:
                lost.append(json.loads(answer.get_data())["issueKey"])
                raise KitError(500, "lost answer", reason="lost_answer")
            return answer

        site.app.route = losing
        code, out, err = run(capsys, site, "--doit", "--scenario", "routing", "--json")
        left = site.store.all("request")
    assert code == 1
    [scenario] = json.loads(out)["scenarios"]
    assert scenario["status"] == "failed" and scenario["cleanup"]["deleted"] == lost and left == []


def test_a_site_that_refuses_deletion_gets_its_requests_resolved_and_closed_and_the_report_says_so(capsys, env):
    with real_site(issue_delete=False) as (site, _, customer_token):
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        env.setenv(jsm_driver.CUSTOMER_TOKEN_ENV, customer_token)
        code, out, err = run(capsys, site, "--doit", "--scenario", "routing", "--json")
        statuses = {i["key"]: i["status"] for i in site.store.all("request")}

    assert code == 0, err
    [scenario] = json.loads(out)["scenarios"]
    assert scenario["status"] == "passed"
    assert scenario["cleanup"]["deleted"] == [] and scenario["cleanup"]["left"] == []
    [closed] = scenario["cleanup"]["closed"]
    assert closed["status"] == "Closed" and "the site refused deletion (HTTP 403" in closed["why"]
    assert statuses == {closed["key"]: "Closed"}
    assert f"test request {closed['key']} could not be deleted (HTTP 403" in err


def test_the_dry_run_writes_nothing_and_says_what_it_would_create_and_skip(capsys, env):
    with real_site() as (site, _, _token):
        env.setenv("JIRA_URL", site.url)
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        code = main(["test", "--desk", "jsm"])
        out, err = capsys.readouterr()
        assert site.requests() == [] and site.store.all("request") == []
    assert code == 64
    assert ("robot-vacuum: 1 test request labelled deskbook_test, summary '[deskbook test] Robot vacuum will not "
            f"charge (run …)', raised on behalf of the customer {CUSTOMER}, deleted afterwards") in out
    assert "skips step 7 onwards (the customer acts here" in out
    assert "one-survey:" in out and "skips step 4 onwards (time cannot pass on a real desk)" in out


def test_without_a_test_customer_doit_refuses_before_writing_anything(capsys, env):
    with real_site() as (site, _, _token):
        code, out, err = run(capsys, site, "--doit")
        assert writes(site) == []
    assert code == 1 and "live JSM scenarios raise their requests on behalf of a test customer: none given" in err
    assert "DESKBOOK_JSM_CUSTOMER_EMAIL" in err and TOKEN not in out + err


def test_jsm_flags_of_deskbook_test_are_refused_for_zendesk(capsys, env):
    code = main(["test", "--desk", "zendesk", "--customer-email", CUSTOMER])
    assert code == 1 and "--customer-email only apply to --desk jsm" in capsys.readouterr().err


# ---------------------------------------------------------------- the sandbox playing a real site


@pytest.mark.contract_exempt("sends the sandbox-only act-as header and calls a customer may not make, on purpose")
def test_the_sandbox_playing_a_real_site_refuses_its_shortcuts_and_keeps_customers_to_their_own_requests():
    with running_sandbox(shortcuts=False, issue_delete=False) as site:
        agent = requests.Session()
        agent.auth = (site.email, site.token)
        account, token = site.customer_login(CUSTOMER, "Ms Li")
        customer = requests.Session()
        customer.auth = (CUSTOMER, token)
        other, _ = site.customer_login("someone.else@example.com")
        desk = agent.get(f"{site.url}/rest/servicedeskapi/servicedesk").json()["values"][0]["id"]
        rtype = agent.post(f"{site.url}/rest/servicedeskapi/servicedesk/{desk}/requesttype",
                           headers={"X-ExperimentalApi": "opt-in"},
                           json={"name": "Help", "issueTypeId": "10004"}).json()["id"]

        def raise_for(who):
            made = agent.post(f"{site.url}/rest/servicedeskapi/request", json={
                "serviceDeskId": desk, "requestTypeId": rtype, "requestFieldValues": {"summary": "s"},
                "raiseOnBehalfOf": who})
            return made.json()["issueKey"]

        mine, theirs = raise_for(account), raise_for(other)
        act_as = agent.post(f"{site.url}/rest/servicedeskapi/request/{mine}/comment", json={"body": "hi"},
                            headers={"X-Deskbook-Sandbox-Act-As": account})
        assert act_as.status_code == 400 and "sandbox-only header" in act_as.text
        assert agent.post(f"{site.url}/sandbox/clock", json={"advance_seconds": 60}).status_code == 404

        assert customer.get(f"{site.url}/rest/api/3/myself").json()["accountId"] == account
        assert customer.get(f"{site.url}/rest/api/3/issue/{mine}").status_code == 403  # platform API: agents'
        assert customer.get(f"{site.url}/rest/servicedeskapi/request/{theirs}").status_code == 404
        agent.post(f"{site.url}/rest/servicedeskapi/request/{mine}/comment", json={"body": "note", "public": False})
        written = customer.post(f"{site.url}/rest/servicedeskapi/request/{mine}/comment", json={"body": "thanks"})
        assert written.status_code == 201 and written.json()["author"]["accountId"] == account
        assert customer.post(f"{site.url}/rest/servicedeskapi/request/{mine}/comment",
                             json={"body": "x", "public": False}).status_code == 403
        seen = customer.get(f"{site.url}/rest/servicedeskapi/request/{mine}/comment").json()["values"]
        assert [c["body"] for c in seen] == ["thanks"]  # internal notes are the agents'
        assert customer.post(f"{site.url}/rest/servicedeskapi/request", json={
            "serviceDeskId": desk, "requestTypeId": rtype, "requestFieldValues": {"summary": "s"},
            "raiseOnBehalfOf": other}).status_code == 403

        refused = agent.delete(f"{site.url}/rest/api/3/issue/{mine}")
        assert refused.status_code == 403 and "permission to delete" in refused.text
        site.app.config.issue_delete = True
        assert agent.delete(f"{site.url}/rest/api/3/issue/{mine}").status_code == 204
        assert agent.get(f"{site.url}/rest/api/3/issue/{mine}").status_code == 404


# ---------------------------------------------------------------- Zendesk through the same hook


def test_zendesk_live_deletes_its_tickets_customers_and_organizations_run_after_run(capsys, monkeypatch):
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox as zendesk_sandbox

    for name in ("ZENDESK_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with zendesk_sandbox(clock=FakeClock(START), export_lag_seconds=0, system_rules=True, run_rules=True) as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        plan, snapshot = make_plan(connector, load_playbook(), load_library(), adopt=True)
        connector.apply(plan, snapshot)
        people, organizations = desk.store.count("user"), desk.store.count("organization")
        for _ in range(2):
            code = main(["test", "--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", desk.token,
                         "--doit", "--json", "--scenario", "routing", "--scenario", "phone-survey"])
            report = json.loads(capsys.readouterr().out)
            assert code == 0
            by_name = {s["name"]: s for s in report["scenarios"]}
            assert by_name["routing"]["status"] == "passed" and by_name["phone-survey"]["status"] == "skipped"
            assert [len(s["cleanup"]["deleted"]) for s in report["scenarios"]] == [1, 1]
            assert len(by_name["phone-survey"]["cleanup"]["deleted_organizations"]) == 1
        assert desk.store.count("ticket") == 0
        assert (desk.store.count("user"), desk.store.count("organization")) == (people, organizations)


def test_the_customers_rating_goes_with_their_own_login_and_is_skipped_without_it(env):
    with real_site() as (site, account, customer_token):
        env.setenv(jsm_driver.CUSTOMER_TOKEN_ENV, customer_token)
        live = {"url": site.url, "email": site.email, "token": TOKEN, "cloud_id": site.cloud_id,
                "customer_email": CUSTOMER}
        with jsm_driver.live_driver(load_playbook(), live, {}) as driver:
            driver.customer_writes({"category": "fault", "subject": "x", "body": "y"})
            driver.agent_sets({"status": "solved"})
            driver.customer_rates({"rating": 5, "comment": "quick"})
            key = driver.key
            assert site.store.get("request", key)["feedback"] == {"type": "csat", "rating": 5, "comment": {"body": "quick"}}
        rated = [r for r in site.requests() if r["path"].endswith("/feedback")]
        assert [(r["method"], r["user"], r["status"]) for r in rated] == [("POST", CUSTOMER, 201)]  # postFeedback: 201 Created
        assert site.store.all("request") == []
    assert jsm_driver.live_skip_reason("customer_rates", customer_login=False).startswith("the customer acts here")


def test_a_site_installed_without_the_internal_api_fails_the_sla_and_queue_steps_naming_the_missing_install(capsys, env):
    """A plain apply leaves SLA goals and queues out (JSM's internal API): the steps that expect them
    fail saying so and how to install them — not "expected standard, got None" — and the rest passes."""
    with real_site(internal_api=False) as (site, account, customer_token):
        env.setenv(jsm_driver.CUSTOMER_EMAIL_ENV, CUSTOMER)
        env.setenv(jsm_driver.CUSTOMER_TOKEN_ENV, customer_token)
        code, out, err = run(capsys, site, "--doit", "--json")
    report = json.loads(out)
    assert code == 1, err
    problems = {s["name"]: [p for step in s["steps"] for p in step.get("problems") or []] for s in report["scenarios"]}
    assert [name for name, found in problems.items() if not found and name != "robot-vacuum"]  # the rest passes
    assert {p["what"] for p in problems["sla-policy-order"]} == {"sla"} and {p["what"] for p in problems["routing"]} == {"views"}
    for found in problems.values():
        assert all(p["what"] in ("sla", "views") and "not installed" in p["actual"] and "--allow-internal-api" in p["actual"]
                   for p in found), found

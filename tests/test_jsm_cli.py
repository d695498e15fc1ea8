"""`deskbook plan/apply/uninstall/export/verify/demo --desk jsm` against the JSM sandbox, via `deskbook.cli.main`."""

from __future__ import annotations

import json

import pytest

from deskbook.cli import main
from deskbook.connectors.contract import jsm_contract
from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.client import JsmClient, JsmConnection
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.connectors import commands
from deskbook.http import normalize_path
from deskbook.scripts_library import load_library

from test_jsm_connector import playbook as sample_playbook

TOKEN = "jsm-cli-secret-token"
ENV = ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JSM_PROJECT", "JIRA_CLOUD_ID")


@pytest.fixture()
def jsm_env(monkeypatch):
    """A clean JSM environment (no real site settings leak into the tests)."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def use_sandbox_env(monkeypatch, sandbox) -> None:
    """Point the JIRA_* / JSM_PROJECT environment at `sandbox`."""
    monkeypatch.setenv("JIRA_URL", sandbox.url)
    monkeypatch.setenv("JIRA_EMAIL", sandbox.email)
    monkeypatch.setenv("JIRA_API_TOKEN", sandbox.token)
    monkeypatch.setenv("JSM_PROJECT", sandbox.project_key)
    monkeypatch.setenv("JIRA_CLOUD_ID", sandbox.cloud_id)


def run(capsys, *argv):
    """`deskbook <argv>`: (exit code, stdout, stderr); the token never shows."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert TOKEN not in out and TOKEN not in err
    return code, out, err


def client_for(sandbox) -> JsmClient:
    return JsmClient(JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                                   project_key=sandbox.project_key, cloud_id=sandbox.cloud_id))


def strict_checker(contract):
    """A request checker that also flags requests to paths the JSM contract does not cover."""
    def check(method, path, query=None, json_body=None):
        if path.startswith("/sandbox/"):
            return []
        if not contract.covers(path):
            return [f"{method} {path}: not a JSM path the contract covers"]
        return contract.check_request(method, path, query, json_body)
    return check


def test_normalize_path_keeps_api_versions_and_folds_uuids():
    assert normalize_path("/rest/api/3/search/jql") == "/rest/api/3/search/jql"
    assert normalize_path("/rest/api/3/issue/SUP-12/properties/k") == "/rest/api/3/issue/{id}/properties/k"
    assert normalize_path("/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics/4") == \
        "/rest/servicedesk/1/servicedesk/agent/SUP/sla/metrics/{id}"
    assert normalize_path("/rest/servicedeskapi/servicedesk/1/requesttype") == \
        "/rest/servicedeskapi/servicedesk/{id}/requesttype"
    rule = "/gateway/api/automation/public/jira/5f1c2b7e-0000-4000-8000-00000000d35c/rest/v1/rule/" \
           "0f0e1d2c-aaaa-4bbb-8ccc-123456789abc"
    assert normalize_path(rule) == "/gateway/api/automation/public/jira/{id}/rest/v1/rule/{id}"
    assert normalize_path("https://x/api/v2/macros/123.json?a=1") == "/api/v2/macros/{id}"


def test_plan_apply_plan_uninstall_through_the_cli_against_the_spec(capsys, jsm_env, shared, tmp_path):
    contract = jsm_contract(shared)
    with running_sandbox(token=TOKEN, spec=shared / "jsm", request_checker=strict_checker(contract)) as sandbox:
        use_sandbox_env(jsm_env, sandbox)
        client = client_for(sandbox)
        hand_type = client.create_request_type("Walk-in", "made by hand")
        hand_rule = client.create_rule({"name": "Hand-made rule", "description": "by an admin",
                                        "trigger": {"type": "jira.manual.trigger.issue"},
                                        "ruleScopeARIs": [client.project_ari]})

        code, out, _ = run(capsys, "plan", "--desk", "jsm")
        assert code == 2 and '+ create request_type "' in out and '+ create automation_rule "' in out
        assert "note: SLA " in out and "--allow-internal-api" in out

        code, out, _ = run(capsys, "plan", "--desk", "jsm", "--json")
        body = json.loads(out)
        assert code == 2 and len(body["checksum"]) == 64
        assert all({"action", "kind", "name", "id"} <= set(c) for c in body["changes"])
        assert {c["kind"] for c in body["changes"]} == {"request_type", "automation_rule"}
        sla_notes = [n for n in body["notes"] if n.startswith("SLA ")]
        assert sla_notes and all("not installed" in n and " min " in n for n in sla_notes)

        code, out, _ = run(capsys, "apply", "--desk", "jsm")  # without --doit: plan only
        assert code == 2 and "--doit" in out
        code, out, err = run(capsys, "apply", "--desk", "jsm", "--doit", "--checksum", body["checksum"])
        assert code == 0, err
        assert "Apply complete" in out
        code, out, _ = run(capsys, "plan", "--desk", "jsm")
        assert code == 0 and "No changes" in out

        managed_types = [t for t in client.request_types() if tr.parse_marker(t.get("description"))]
        assert len(managed_types) == sum(1 for c in body["changes"] if c["kind"] == "request_type")

        out_file = tmp_path / "jsm-export.json"
        code, out, _ = run(capsys, "export", "--desk", "jsm", "--out", str(out_file))
        exported = json.loads(out_file.read_text(encoding="utf-8"))
        assert code == 0 and "request types" in out
        assert {t["name"] for t in exported["request_types"]} >= {"Walk-in"}
        assert len(exported["automation_rules"]) == len(client.rule_summaries())

        code, out, err = run(capsys, "uninstall", "--desk", "jsm", "--doit")
        assert code == 0, err
        assert "Uninstall complete" in out
        types = client.request_types()
        assert [t["name"] for t in types] == ["Walk-in"] and types[0]["id"] == hand_type["id"]
        kept = client.rule(hand_rule)
        assert kept["name"] == "Hand-made rule" and kept["description"] == "by an admin"
        assert kept["state"] == "ENABLED"
        remaining = [s for s in client.rule_summaries() if s["uuid"] != hand_rule]
        assert remaining and all(s["name"].startswith("[removed] ") and s["state"] == "DISABLED"
                                 and not tr.parse_marker(s.get("description")) for s in remaining)
        code, out, _ = run(capsys, "uninstall", "--desk", "jsm", "--json")
        again = json.loads(out)
        assert code == 0 and again["changes"] == []
        assert any("--allow-internal-api" in n for n in again["notes"])

        assert sandbox.violations() == []
        served = {(r["method"], normalize_path(r["path"])) for r in sandbox.requests()}
        assert ("POST", "/rest/servicedeskapi/servicedesk/{id}/requesttype") in served
        assert any(path.endswith("/rule/summary") for _, path in served)


def test_flags_instead_of_env_internal_api_and_verify(capsys, jsm_env, shared):
    """A playbook whose SLA policy covers every request, so one test request shows all its SLAs."""
    library = load_library()
    jsm_env.setattr(commands, "load_inputs", lambda args: (sample_playbook(), library))
    contract = jsm_contract(shared)
    with running_sandbox(token=TOKEN, spec=shared / "jsm", request_checker=strict_checker(contract)) as sandbox:
        flags = ["--desk", "jsm", "--url", sandbox.url, "--email", sandbox.email, "--token", sandbox.token,
                 "--project", sandbox.project_key, "--cloud-id", sandbox.cloud_id]

        code, out, err = run(capsys, "verify", *flags)  # empty project: no request type to test with
        assert code == 1 and "no request type" in err and "--request KEY" in err

        code, _, err = run(capsys, "apply", *flags, "--doit")  # without SLA goals
        assert code == 0, err
        code, out, err = run(capsys, "verify", *flags)
        assert code == 1, err
        assert "Raised test request SUP-" in out and "NOT all in place" in out and "is missing" in out

        code, out, _ = run(capsys, "plan", *flags, "--allow-internal-api", "--json")
        body = json.loads(out)
        assert code == 2 and "sla_metric" in {c["kind"] for c in body["changes"]}
        assert any("internal SLA endpoints" in n for n in body["notes"])
        assert not any(n.startswith("SLA ") and "not installed" in n for n in body["notes"])

        code, _, err = run(capsys, "apply", *flags, "--allow-internal-api", "--doit")
        assert code == 0, err
        code, _, _ = run(capsys, "plan", *flags, "--allow-internal-api")
        assert code == 0

        code, out, err = run(capsys, "verify", *flags, "--json")
        result = json.loads(out)
        assert code == 0, (result, err)
        assert result["ok"] and result["created_test_request"] and result["problems"] == []
        key = result["request"]

        metric = client_for(sandbox).sla_metrics()[0]
        client_for(sandbox).delete_sla_metric(metric["id"])
        code, out, _ = run(capsys, "verify", *flags, "--request", key)
        assert code == 1 and f'SLA "{metric["name"]}" is missing on {key}' in out
        assert "Raised test request" not in out
        assert sandbox.violations() == []


def test_jsm_only_flags_are_refused_for_zendesk(capsys, jsm_env):
    code, _, err = run(capsys, "plan", "--desk", "zendesk", "--url", "http://127.0.0.1:9", "--email", "a@b.c",
                       "--token", TOKEN, "--allow-internal-api")
    assert code == 1 and "--allow-internal-api only apply to --desk jsm" in err


def test_missing_connection_settings_name_the_variables(capsys, jsm_env):
    code, _, err = run(capsys, "plan", "--desk", "jsm")
    assert code == 1 and "JIRA_URL" in err and "JIRA_API_TOKEN" in err and "Traceback" not in err


def test_demo_on_jsm_runs_the_whole_story(capsys, jsm_env):
    code, out, err = run(capsys, "demo", "--desk", "jsm", "--seed-orgs", "6")
    assert code == 0, err
    assert "Sandbox JSM site at http://127.0.0.1:" in out
    assert "3. plan again: no changes (exit 0)." in out
    assert "4. sync jobs once: customer requests created" in out and "renewals:" in out
    assert "SLA goal(s) to enter by hand" in out


def test_verify_with_the_standard_playbook_confirms_the_slas_a_new_request_gets(capsys, jsm_env):
    """A new request (status "Waiting for support", priority Medium) gets the standard SLAs; the ones
    scoped to escalated / owner-resolved requests are reported with the JQL a matching request needs."""
    with running_sandbox(token=TOKEN) as sandbox:
        use_sandbox_env(jsm_env, sandbox)
        code, _, err = run(capsys, "apply", "--desk", "jsm", "--allow-internal-api", "--doit")
        assert code == 0, err
        code, out, _ = run(capsys, "verify", "--desk", "jsm", "--json")
        result = json.loads(out)
        assert code == 1 and not result["ok"]
        metrics = [s["name"] for s in client_for(sandbox).sla_metrics()]
        missing = [name for name in metrics if any(f'"{name}" is missing' in p for p in result["problems"])]
        assert len(result["problems"]) == len(missing) < len(metrics)
        assert all("labels in" in p and "--request KEY" in p for p in result["problems"])

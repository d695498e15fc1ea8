"""`deskbook plan/apply/uninstall/export/verify/demo --desk jsm` against the JSM sandbox, via `deskbook.cli.main`."""

from __future__ import annotations

import json
import re

import pytest

from deskbook.cli import main
from deskbook.connectors.contract import jsm_contract
from deskbook.connectors.jsm import automation
from deskbook.connectors.jsm import translate as tr
from deskbook.marker import without_trailing_marker
from deskbook.connectors.jsm.client import JsmClient, JsmConnection
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.connectors import commands
from deskbook.errors import ExitCode
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


def owned_type(client: JsmClient, rtype: dict) -> tuple[str, str] | None:
    """deskbook's (playbook, key) of a listed request type: its owner property's marker."""
    return tr.request_type_owner({**rtype, "properties": {
        tr.OWNER_PROPERTY: client.request_type_property(str(rtype["id"]), tr.OWNER_PROPERTY)}})


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
                                        "trigger": automation.manual_trigger(), "components": [],
                                        "ruleScopeARIs": [client.project_ari]})

        code, out, _ = run(capsys, "plan", "--desk", "jsm")
        assert code == 2 and '+ create request_type "' in out and '+ create automation_rule "' in out
        assert "note: SLA " in out and "--allow-internal-api" in out

        code, out, _ = run(capsys, "plan", "--desk", "jsm", "--json")
        body = json.loads(out)
        assert code == 2 and len(body["checksum"]) == 64
        assert all({"action", "kind", "name", "id"} <= set(c) for c in body["changes"])
        assert {c["kind"] for c in body["changes"]} == {"organization_detail_field", "request_type", "automation_rule"}
        sla_notes = [n for n in body["notes"] if n.startswith("SLA ")]
        assert sla_notes and all("not installed" in n and " min " in n for n in sla_notes)

        code, out, _ = run(capsys, "apply", "--desk", "jsm")  # without --doit: plan only
        assert code == 2 and "--doit" in out
        code, out, err = run(capsys, "apply", "--desk", "jsm", "--doit", "--checksum", body["checksum"])
        assert code == 0, err
        assert "Apply complete" in out
        code, out, _ = run(capsys, "plan", "--desk", "jsm")
        assert code == 0 and "No changes" in out

        managed_types = [t for t in client.request_types() if owned_type(client, t)]
        assert len(managed_types) == sum(1 for c in body["changes"] if c["kind"] == "request_type")

        out_file = tmp_path / "jsm-export.json"
        code, out, _ = run(capsys, "export", "--desk", "jsm", "--out", str(out_file))
        exported = json.loads(out_file.read_text(encoding="utf-8"))
        assert code == 0 and "request type(s)" in out
        assert (exported["format"], exported["desk"], exported["project"]) == ("deskbook-export", "jsm", "SUP")
        assert {t["name"] for t in exported["objects"]["request_type"]} >= {"Walk-in"}
        assert len(exported["objects"]["automation_rule"]) == len(client.rule_summaries())

        code, out, err = run(capsys, "uninstall", "--desk", "jsm", "--doit")
        assert code == 0, err
        assert "Uninstall complete" in out
        types = client.request_types()
        assert [t["name"] for t in types] == ["Walk-in"] and types[0]["id"] == hand_type["id"]
        kept = client.rule(hand_rule)
        assert kept["name"] == "Hand-made rule" and kept["description"] == "by an admin"
        assert kept["state"] == "ENABLED"
        # the site deletes disabled rules (DELETE /rule/{uuid}); the fallback is tested in test_jsm_connector
        assert [s["uuid"] for s in client.rule_summaries()] == [hand_rule]
        code, out, _ = run(capsys, "uninstall", "--desk", "jsm", "--json")
        again = json.loads(out)
        assert code == 0 and again["changes"] == []
        assert any("entered by hand" in n for n in again["notes"])  # an opt-in install would be listed (test_jsm_connector)

        assert sandbox.violations() == []
        served = {(r["method"], normalize_path(r["path"])) for r in sandbox.requests()}
        assert ("POST", "/rest/servicedeskapi/servicedesk/{id}/requesttype") in served
        assert any(path.endswith("/rule/summary") for _, path in served)


def test_flags_instead_of_env_internal_api_and_verify(capsys, jsm_env, shared):
    """A playbook whose SLA policy covers every request, so one test request shows all its SLAs."""
    library = load_library()
    jsm_env.setattr(commands, "load_inputs", lambda args, **_: (sample_playbook(), library))
    contract = jsm_contract(shared)
    with running_sandbox(token=TOKEN, spec=shared / "jsm", request_checker=strict_checker(contract)) as sandbox:
        flags = ["--desk", "jsm", "--url", sandbox.url, "--email", sandbox.email, "--token", sandbox.token,
                 "--project", sandbox.project_key, "--cloud-id", sandbox.cloud_id]

        code, out, err = run(capsys, "verify", *flags)  # empty project: no request type to test with
        assert code == 1 and "no request type" in err and "--request KEY" in err

        code, _, err = run(capsys, "apply", *flags, "--doit")  # without SLA goals
        assert code == 0, err
        code, out, err = run(capsys, "verify", *flags, "--doit")
        assert code == 1, err
        assert "Raised test request SUP-" in out and "NOT all in place" in out and "is missing" in out

        code, out, _ = run(capsys, "plan", *flags, "--allow-internal-api", "--json")
        body = json.loads(out)
        assert code == 2 and "sla_metric" in {c["kind"] for c in body["changes"]}
        assert any("internal endpoints" in n for n in body["notes"])
        assert not any(n.startswith("SLA ") and "not installed" in n for n in body["notes"])

        code, _, err = run(capsys, "apply", *flags, "--allow-internal-api", "--doit")
        assert code == 0, err
        code, _, _ = run(capsys, "plan", *flags, "--allow-internal-api")
        assert code == 0
        code, out, _ = run(capsys, "plan", *flags)  # the opt-in is remembered: no changes, no "missing SLA"
        assert code == 0 and "managed only with the flag" in out and "is not installed" not in out

        code, out, err = run(capsys, "verify", *flags, "--json", "--doit")
        result = json.loads(out)
        assert code == 0, (result, err)
        assert result["ok"] and result["verified"] and result["created_test_request"] and result["problems"] == []
        key = result["request"]

        metric = client_for(sandbox).sla_metrics()[0]
        client_for(sandbox).delete_sla_metric(metric["id"])
        code, out, _ = run(capsys, "verify", *flags, "--request", key)
        assert code == 1 and f'SLA "{without_trailing_marker(metric["name"])}" is missing on {key}' in out
        assert "Raised test request" not in out
        assert sandbox.violations() == []


def test_jsm_only_flags_are_refused_for_zendesk(capsys, jsm_env):
    code, _, err = run(capsys, "plan", "--desk", "zendesk", "--url", "http://127.0.0.1:9", "--email", "a@b.c",
                       "--token", TOKEN, "--allow-internal-api")
    assert code == 1 and "--allow-internal-api only apply to --desk jsm" in err


def test_missing_connection_settings_name_the_variables(capsys, jsm_env):
    code, _, err = run(capsys, "plan", "--desk", "jsm")
    assert code == 1 and "JIRA_URL" in err and "JIRA_API_TOKEN" in err and "Traceback" not in err


def test_demo_on_jsm_runs_the_whole_story(capsys, jsm_env, tmp_path):
    jsm_env.chdir(tmp_path)  # the demo writes its week's review into the working directory
    code, out, err = run(capsys, "demo", "--desk", "jsm", "--seed-orgs", "6")
    assert code == 0, err
    assert "Sandbox JSM site at http://127.0.0.1:" in out
    assert "3. plan again: no changes (exit 0)." in out
    assert re.search(r"4\. sync jobs once as of \d{4}-\d\d-\d\d: customer requests created", out) and "renewals:" in out
    assert "followups: 0" not in out and "followups:" in out  # the seeded new customers' first service
    # the SLA metrics installed through the internal API (without them no request of the week has an SLA)
    assert re.search(r"\d+ SLA metric\(s\) \(JSM's internal API", out) and "SLA goal(s) to enter by hand" not in out
    assert "5. a simulated week" in out and str(tmp_path / "deskbook-report.json") in out


def test_verify_with_the_standard_playbook_confirms_the_slas_a_new_request_gets(capsys, jsm_env):
    """A new request (status "Waiting for support", priority Medium) gets the standard goal of every SLA
    metric (one per target type), so verify passes with nothing out of scope; a request the owner
    reported resolved has no first-response goal (the confirmation policy, first in order, sets none, as
    on Zendesk): that SLA is out of its scope, not missing, listed with the JQL a request needs."""
    with running_sandbox(token=TOKEN) as sandbox:
        use_sandbox_env(jsm_env, sandbox)
        code, _, err = run(capsys, "apply", "--desk", "jsm", "--allow-internal-api", "--doit")
        assert code == 0, err
        for flags in (["--allow-internal-api"], []):  # #12: no changes after an opt-in install, flag or not
            code, out, err = run(capsys, "plan", "--desk", "jsm", *flags)
            assert code == 0, out + err
        assert "managed only with the flag" in out and "they match the playbook" in out
        code, out, _ = run(capsys, "verify", "--desk", "jsm", "--json", "--doit")
        result = json.loads(out)
        assert code == 0 and result["ok"] and result["created_test_request"] and result["problems"] == []
        assert result["out_of_scope"] == []
        client = client_for(sandbox)
        client.edit_issue(result["request"], update={"labels": [{"add": "deskbook_owner_resolved"}]})
        code, out, _ = run(capsys, "verify", "--desk", "jsm", "--json", "--request", result["request"])
        resolved = json.loads(out)
        assert code == 0 and resolved["problems"] == [], resolved
        [scoped_out] = resolved["out_of_scope"]
        assert scoped_out.startswith('SLA "Time to first response (') and "--request KEY" in scoped_out
        assert 'labels not in ("deskbook_owner_resolved")' in scoped_out

        # a metric deleted by hand is missing on a request inside its scope: exit 1, naming it
        doomed = next(s for s in client.sla_metrics() if "Time to periodic update" in s["name"])
        client.delete_sla_metric(doomed["id"])
        code, out, _ = run(capsys, "verify", "--desk", "jsm", "--request", result["request"])
        assert code == 1 and f'"{without_trailing_marker(doomed["name"])}" is missing' in out and "Out of scope for" in out


def raised_requests(sandbox) -> list[dict]:
    """Requests created through the servicedeskapi (`POST /rest/servicedeskapi/request`) in the request log."""
    return [r for r in sandbox.requests()
            if r["method"] == "POST" and r["path"].split("?")[0].rstrip("/") == "/rest/servicedeskapi/request"]


def test_verify_without_request_or_doit_writes_nothing_and_says_what_it_would_raise(capsys, jsm_env, shared):
    contract = jsm_contract(shared)
    with running_sandbox(token=TOKEN, spec=shared / "jsm", request_checker=strict_checker(contract)) as sandbox:
        use_sandbox_env(jsm_env, sandbox)
        code, _, err = run(capsys, "apply", "--desk", "jsm", "--doit")
        assert code == 0, err
        client = client_for(sandbox)
        types_before = client.request_types()
        owned = [t for t in types_before if owned_type(client, t)]

        code, out, err = run(capsys, "verify", "--desk", "jsm")
        assert code == ExitCode.USAGE == 64
        assert out == ""
        assert "nothing written" in err and "--request KEY" in err and "--doit" in err
        assert f'request type "{owned[0]["name"]}"' in err and "deskbook SLA check" in err
        assert "Raised test request" not in err + out

        code, out, err = run(capsys, "verify", "--desk", "jsm", "--json")
        result = json.loads(out)  # stdout holds only the JSON; the explanation is on stderr
        assert code == 64 and "--doit" in err
        assert result["verified"] is False and result["ok"] is False and result["request"] is None
        assert result["created_test_request"] is False
        assert result["would_raise"]["request_type"]["id"] == str(owned[0]["id"])
        assert result["would_raise"]["request_type"]["owned_by_playbook"] is True
        assert result["would_raise"]["summary"].startswith("deskbook SLA check")
        assert any("--request KEY" in step for step in result["next_steps"])
        assert raised_requests(sandbox) == []  # verify never wrote without --doit

        code, out, err = run(capsys, "verify", "--desk", "jsm", "--doit", "--json")
        result = json.loads(out)
        assert code in (0, 1) and result["verified"] and result["created_test_request"]
        raised = raised_requests(sandbox)
        assert len(raised) == 1  # the one --doit test request; the request log does see these writes
        key = result["request"]

        code, out, _ = run(capsys, "verify", "--desk", "jsm", "--request", key, "--json")
        assert code in (0, 1) and json.loads(out)["request"] == key
        assert len(raised_requests(sandbox)) == 1  # --request reads only
        assert client_for(sandbox).request_types() == types_before
        assert sandbox.violations() == []


def test_plan_apply_uninstall_share_one_connection_and_playbook_block():
    """plan/apply/uninstall take the same desk, connection and playbook options (one parent parser),
    first and in the same order, each followed by its own flags; verify offers --doit."""
    from deskbook.cli import build_parser

    parser = build_parser()
    commands_by_name = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict)).choices
    shared_block = ["-h", "--desk", "--url", "--email", "--token", "--project", "--cloud-id",
                    "--allow-internal-api", "--playbook", "--scripts"]
    own = {"plan": ["--adopt", "--json"], "apply": ["--doit", "--force", "--adopt", "--checksum", "--json"],
           "uninstall": ["--doit", "--force", "--json"]}
    for name, tail in own.items():
        sub = commands_by_name[name]
        flags = [a.option_strings[0] for a in sub._actions]
        assert flags == shared_block + tail, name
        desk = next(a for a in sub._actions if "--desk" in a.option_strings)
        assert desk.required and set(desk.choices) == {"zendesk", "jsm"}
        assert all(a.default in (None, False) for a in sub._actions if a.option_strings[0] != "-h")
        args = sub.parse_args(["--desk", "jsm"])
        assert args.playbook is None and args.allow_internal_api is False and args.json is False
    verify = commands_by_name["verify"]
    assert [a.option_strings[0] for a in verify._actions][-3:] == ["--request", "--doit", "--json"]
    assert next(a for a in verify._actions if "--desk" in a.option_strings).choices == ["jsm"]
    assert verify.parse_args(["--desk", "jsm"]).doit is False


def test_uninstall_refuses_to_delete_request_types_requests_use_unless_forced(capsys, jsm_env):
    """Deleting a request type strips it from its requests: uninstall names them and deletes nothing."""
    with running_sandbox() as sandbox:
        use_sandbox_env(jsm_env, sandbox)
        assert run(capsys, "apply", "--desk", "jsm", "--doit")[0] == 0
        client = client_for(sandbox)
        used = next(t for t in client.request_types() if owned_type(client, t))
        client.create_request(used["id"], "a customer's request")
        sandbox.index_caught_up()  # raised before the uninstall: JQL search (FACTS.md 8.2: it lags) has it
        before = sorted(t["id"] for t in client.request_types())
        rules_before = [(s["name"], s["state"]) for s in client.rule_summaries()]

        code, _, err = run(capsys, "uninstall", "--desk", "jsm", "--doit")
        assert code == ExitCode.ERROR
        assert "refusing to uninstall" in err and f'"{used["name"]}"' in err and "1 request(s)" in err
        assert "--force" in err and "Traceback" not in err
        assert sorted(t["id"] for t in client.request_types()) == before  # nothing half-done
        assert [(s["name"], s["state"]) for s in client.rule_summaries()] == rules_before

        # --force lifts the refusal, not the warning: stripping request types is never silent
        code, out, err = run(capsys, "uninstall", "--desk", "jsm", "--doit", "--force")
        assert code == 0, err
        assert not [t for t in client.request_types() if owned_type(client, t)]
        warned = [line for line in err.splitlines() if "--force: going ahead" in line]
        assert any(f'"{used["name"]}"' in w and "1 request(s)" in w for w in warned), err


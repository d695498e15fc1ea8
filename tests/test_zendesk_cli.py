"""`deskbook plan/apply/uninstall/export` against the sandbox, through `deskbook.cli.main`."""

from __future__ import annotations

import json

import pytest

from deskbook.cli import main
from deskbook.connectors import commands
from deskbook.connectors.zendesk.connector import ZendeskConnector
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.scripts_library import load_library

from test_zendesk_translate import sample_playbook

PLAYBOOK = sample_playbook()


@pytest.fixture()
def desk(monkeypatch):
    library = load_library()
    monkeypatch.setattr(commands, "load_inputs", lambda args, **_: (PLAYBOOK, library))
    monkeypatch.setattr(commands, "playbook_name", lambda args: PLAYBOOK.metadata.name)
    for name in ("ZENDESK_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with running_sandbox(token="cli-secret-token") as handle:
        yield handle


def run(capsys, desk, *argv):
    code = main([*argv, "--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", desk.token])
    out, err = capsys.readouterr()
    assert desk.token not in out and desk.token not in err
    return code, out, err


def test_plan_apply_plan_uninstall_round_trip(capsys, desk, tmp_path):
    ZendeskConnector.connect(desk.url, desk.email, desk.token).client.create(
        "view", {"title": "Hand view", "all": [{"field": "status", "operator": "is", "value": "open"}]})

    code, out, _ = run(capsys, desk, "plan")
    assert code == 2 and '+ create macro "' in out and "checksum: " in out

    code, out, _ = run(capsys, desk, "plan", "--json")
    body = json.loads(out)
    assert code == 2 and len(body["checksum"]) == 64
    assert {c["action"] for c in body["changes"]} >= {"create"}
    assert all({"action", "kind", "name", "id"} <= set(c) for c in body["changes"])

    code, out, _ = run(capsys, desk, "apply")  # without --doit: plan only
    assert code == 2 and "--doit" in out
    code, out, _ = run(capsys, desk, "plan")
    assert code == 2

    code, out, err = run(capsys, desk, "apply", "--doit", "--checksum", body["checksum"])
    assert code == 0, err
    assert "Apply complete" in out

    code, out, _ = run(capsys, desk, "plan")
    assert code == 0 and "No changes" in out

    export = tmp_path / "backup.json"
    code, out, _ = run(capsys, desk, "export", "--out", str(export))
    data = json.loads(export.read_text(encoding="utf-8"))
    assert code == 0
    assert (data["format"], data["version"], data["desk"]) == ("deskbook-export", 1, "zendesk")
    assert any(v["title"] == "Hand view" for v in data["objects"]["view"])
    assert data["objects"]["macro"] and data["objects"]["sla_policy"]

    code, out, _ = run(capsys, desk, "uninstall")
    assert code == 2 and "- delete" in out and "+ create" not in out
    code, out, _ = run(capsys, desk, "uninstall", "--doit")
    assert code == 0 and "Uninstall complete" in out
    code, out, _ = run(capsys, desk, "uninstall")
    assert code == 0

    views = ZendeskConnector.connect(desk.url, desk.email, desk.token).client.list("view")
    assert [v["title"] for v in views] == ["Hand view"]


def test_apply_refuses_a_changed_plan(capsys, desk):
    code, _, err = run(capsys, desk, "apply", "--doit", "--checksum", "f" * 64)
    assert code == 1 and "changed since it was reviewed" in err and len(err.strip().splitlines()) == 1


def test_wrong_token_is_one_line_without_the_token(capsys, desk):
    code = main(["plan", "--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", "bad-token-123"])
    out, err = capsys.readouterr()
    assert code == 1 and "401" in err and len(err.strip().splitlines()) == 1
    assert "bad-token-123" not in err + out


def test_missing_connection_and_plain_http_are_clear_errors(capsys, monkeypatch):
    for name in ("ZENDESK_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(commands, "load_inputs", lambda args, **_: (PLAYBOOK, None))
    assert main(["plan", "--desk", "zendesk"]) == 1
    assert "ZENDESK_API_TOKEN" in capsys.readouterr().err
    assert main(["plan", "--desk", "zendesk", "--url", "http://acme.example.com", "--email", "a@b.c",
                 "--token", "tok-123456"]) == 1
    err = capsys.readouterr().err
    assert "plain http" in err and "tok-123456" not in err


def test_shipped_playbook_round_trip_follows_the_zendesk_contract(capsys, monkeypatch, shared):
    """Acceptance: plan 2, apply --doit 0, plan 0, uninstall --doit; every request matches the spec."""
    from contract_support import assert_no_violations

    from deskbook.connectors.contract import zendesk_contract

    for name in ("ZENDESK_URL", "ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with running_sandbox(request_checker=zendesk_contract(shared)) as handle:
        monkeypatch.setenv("ZENDESK_URL", handle.url)
        monkeypatch.setenv("ZENDESK_EMAIL", handle.email)
        monkeypatch.setenv("ZENDESK_API_TOKEN", handle.token)
        assert main(["plan", "--desk", "zendesk"]) == 2
        assert main(["apply", "--desk", "zendesk", "--doit"]) == 0
        assert main(["plan", "--desk", "zendesk", "--json"]) == 0
        capsys.readouterr()
        assert main(["uninstall", "--desk", "zendesk", "--doit"]) == 0
        capsys.readouterr()
        assert main(["plan", "--desk", "zendesk", "--json"]) == 2
        body = json.loads(capsys.readouterr().out)
        assert body["summary"]["create"] > 50 and body["summary"]["update"] == 0
        assert_no_violations(handle.violations(), "sandbox requests")


def test_demo_installs_replans_and_runs_the_sync_jobs(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the demo writes its week's review (deskbook-report.html/.json) here
    assert main(["-q", "demo", "--seed-orgs", "6"]) == 0
    out = capsys.readouterr().out
    assert "3. plan again: no changes" in out and "Agent sees:" in out and "views:" in out


def test_demo_sync_reads_the_tier_the_connector_installed(capsys, monkeypatch, tmp_path):
    """The tier is a dropdown the connector installs: its stored value is the option tag
    (`customer_tier__key`), which the sync jobs must read back as the playbook's tier."""
    # Callbacks are spread over their period's working days by organization id (sync/schedule.py),
    # so a handful of customers may have none due on a given day (and a playbook with more objects
    # shifts the ids): 30 customers make a misread tier the only way to get no callback at all.
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--seed-orgs", "30"]) == 0
    captured = capsys.readouterr()
    assert "unknown tier" not in captured.err
    line = next(l for l in captured.out.splitlines() if "sync jobs once" in l)
    assert "callbacks: 0" not in line, line


def test_option_value_inverts_option_tag():
    from deskbook.connectors.zendesk.translate import option_tag, option_value

    assert option_value("customer_tier", option_tag("customer_tier", "key")) == "key"
    assert option_value("customer_tier", "regular") == "regular"
    assert option_value("customer_tier", None) is None

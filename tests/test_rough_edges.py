"""The rough edges a new admin hits (issue #16), each pinned by a test that failed before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deskbook.cli import build_parser, main
from deskbook.errors import ExitCode

DATA = Path(__file__).parent / "data" / "playbooks"
MINIMAL = DATA / "minimal.yaml"


# ---------------------------------------------------------------- usage errors exit 64, not 2


@pytest.mark.parametrize("argv", [
    ["plan", "--desk", "zendsk"],          # a typo in a choice
    ["plan"],                              # a required option missing
    ["bogus-command"],                     # an unknown command
    ["sync", "run", "--job", "nightly"],   # a nested sub-command's choice
    ["sandbox", "bogus"],
    ["validate", "--no-such-flag"],
])
def test_usage_errors_exit_64_not_the_plan_has_changes_code(capsys, monkeypatch, argv):
    monkeypatch.delenv("DESKBOOK_DESK", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == ExitCode.USAGE == 64
    assert exited.value.code != ExitCode.CHANGES
    err = capsys.readouterr().err
    assert "usage: deskbook" in err and "error:" in err and "Traceback" not in err


def test_a_usage_error_in_a_real_process_exits_64():
    done = subprocess.run([sys.executable, "-m", "deskbook", "plan", "--desk", "zendsk"],
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("DESKBOOK_")})
    assert done.returncode == 64, done.stderr
    assert "invalid choice: 'zendsk'" in done.stderr


# ---------------------------------------------------------------- validate prints problems in one order


def test_validate_prints_problems_in_the_same_order_whatever_the_hash_seed(tmp_path):
    text = MINIMAL.read_text(encoding="utf-8")
    # one group missing three required keys (three problems at one position) and one with two unknown keys
    text = text.replace("  - key: frontline\n", "  - {}\n  - key: frontline\n    bogus_one: 1\n    bogus_two: 2\n", 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    outputs = set()
    for seed in ("1", "2", "3", "4", "5", "6"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-m", "deskbook", "validate", str(broken)],
                              capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 1
        outputs.add(done.stderr)
    assert len(outputs) == 1, outputs
    lines = outputs.pop().splitlines()
    missing = [line for line in lines if "missing key" in line]
    assert [line.split("missing key ")[1].split(" ")[0] for line in missing] == ["'key'", "'name'", "'description'"]


# ---------------------------------------------------------------- help texts


def subparser(*path: str):
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(getattr(a, "choices", None), dict) and name in a.choices)
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", [("plan",), ("apply",), ("uninstall",), ("export",), ("verify",), ("validate",),
                                  ("sync", "run"), ("sync", "serve"), ("render",), ("scripts", "approve")])
def test_every_main_command_help_has_examples(path):
    text = subparser(*path).format_help()
    assert "examples:" in text
    assert f"deskbook {' '.join(path)}" in text.split("examples:", 1)[1]


def test_verify_help_names_jira_variables_not_zendesk_ones():
    text = subparser("verify").format_help()
    assert "JIRA_URL" in text and "JIRA_API_TOKEN" in text
    assert "ZENDESK" not in text


def test_sync_run_desk_and_job_have_help():
    parser = subparser("sync", "run")
    for dest in ("desk", "job"):
        action = next(a for a in parser._actions if a.dest == dest)
        assert action.help, dest


# ---------------------------------------------------------------- one set of connection settings


def test_sync_reads_zendesk_subdomain_like_plan(monkeypatch):
    from deskbook.connectors.zendesk import sync_desk
    from deskbook.connectors.zendesk.client import connection_from

    monkeypatch.delenv("ZENDESK_URL", raising=False)
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "acme")
    monkeypatch.setenv("ZENDESK_EMAIL", "admin@acme.example")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "subdomain-secret")
    assert connection_from()[0] == "https://acme.zendesk.com"  # what plan/apply use
    desk = sync_desk.connect(None, None, None, contract_end_field="contract_end_date", tier_field="customer_tier",
                             playbook_name="standard-service")
    assert desk.url == "https://acme.zendesk.com"


def option_strings(*path: str) -> set[str]:
    return {flag for action in subparser(*path)._actions for flag in action.option_strings}


def test_sync_takes_the_same_connection_and_content_options_as_plan():
    shared = {"--desk", "--url", "--email", "--token", "--project", "--cloud-id", "--playbook", "--scripts"}
    assert shared <= option_strings("plan")
    assert shared <= option_strings("sync", "run") and shared <= option_strings("sync", "serve")


def test_sync_refuses_jsm_only_flags_on_zendesk_as_plan_does(capsys):
    code = main(["sync", "run", "--desk", "zendesk", "--cloud-id", "abc", "--url", "http://127.0.0.1:9",
                 "--email", "a@b.c", "--token", "tok-1234"])
    assert code == 1
    assert "--cloud-id only apply to --desk jsm" in capsys.readouterr().err


# ---------------------------------------------------------------- shell completion and colour


def test_bash_completion_completes_commands_and_desks(tmp_path, capsys):
    import shutil

    if shutil.which("bash") is None:
        pytest.skip("no bash")
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "deskbook.bash"
    script.write_text(capsys.readouterr().out)
    probe = (f'source {script}; COMP_WORDS=(deskbook pl); COMP_CWORD=1; _shtab_deskbook; echo "${{COMPREPLY[@]}}"; '
             'COMP_WORDS=(deskbook plan --desk ""); COMP_CWORD=3; _shtab_deskbook; echo "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == ["plan", "jsm zendesk"], done.stderr


class FakeTty:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_colour_only_on_a_terminal_and_never_with_no_color():
    from deskbook.term import colour_plan, colour_wanted

    assert colour_wanted(FakeTty(True), env={"TERM": "xterm"})
    assert not colour_wanted(FakeTty(False), env={"TERM": "xterm"})
    assert not colour_wanted(FakeTty(True), env={"TERM": "xterm", "NO_COLOR": "1"})
    assert colour_wanted(FakeTty(True), env={"TERM": "xterm", "NO_COLOR": ""})  # empty means unset (no-color.org)
    assert not colour_wanted(FakeTty(True), env={"TERM": "dumb"})
    text = 'Plan for playbook p on zendesk:\n  + create macro "A"\n  - delete view "B"\n  ~ update group "C"'
    painted = colour_plan(text, True)
    assert '\x1b[32m+ create macro "A"\x1b[0m' in painted and '\x1b[31m- delete view "B"\x1b[0m' in painted
    assert colour_plan(text, False) == text


def test_errors_are_red_on_a_terminal_unless_no_color(monkeypatch, capsys):
    import io

    class TtyBuffer(io.StringIO):
        def isatty(self):
            return True

    for no_color, expected in (("", "\x1b[31mdeskbook: error:\x1b[0m"), ("1", "deskbook: error: ")):
        buffer = TtyBuffer()
        monkeypatch.setattr(sys, "stderr", buffer)
        monkeypatch.setenv("NO_COLOR", no_color)
        monkeypatch.setenv("TERM", "xterm")
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        assert main(["render", "no_such_phrase", "--locale", "en", "--desk", "zendesk"]) == 1
        assert buffer.getvalue().startswith(expected), buffer.getvalue()


# ---------------------------------------------------------------- a refused apply shows what it refused


def test_a_threshold_refusal_prints_the_plan_it_refused(capsys, monkeypatch):
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    with running_sandbox() as desk:
        argv = ["--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", desk.token]
        assert main(["-q", "apply", "--doit", *argv]) == 0
        original = ZendeskConnector.desired_objects
        monkeypatch.setattr(ZendeskConnector, "desired_objects",
                            lambda self, *a, **k: [d for d in original(self, *a, **k) if d.kind != "macro"])
        capsys.readouterr()
        assert main(["-q", "apply", "--doit", *argv]) == 1
        out, err = capsys.readouterr()
        assert "plan deletes" in err and "--force" in err
        assert '- delete macro "' in out and "Plan: 0 to create" in out and "checksum: " in out
        assert main(["-q", "apply", "--doit", "--json", *argv]) == 1
        import json

        body = json.loads(capsys.readouterr().out)
        assert body["refused"].startswith("plan deletes") and body["summary"]["delete"] > 10


# ---------------------------------------------------------------- sync task text from playbook constants


def sync_note(job: str, locale: str, playbook=None) -> str:
    from datetime import date

    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library
    from deskbook.sync.jobs import draft_task, settings_from_playbook
    from deskbook.sync.schedule import DueItem, Organization

    settings = settings_from_playbook(playbook or load_playbook())
    org = Organization(id=7, name="北风贸易", contract_end_date="2027-01-31", tier="key", locale=locale)
    item = DueItem(job=job, organization_id=7, period="2026-12", due_on=date(2026, 12, 1))
    return draft_task(item, org, settings, load_library()).note


@pytest.mark.parametrize("job", ["callbacks", "followups"])
def test_sync_task_text_reads_naturally_by_default(job):
    import dataclasses

    from deskbook.playbooks import model
    from deskbook.playbooks.loader import load_playbook

    no_company = dataclasses.replace(load_playbook(), constants=model.Constants())
    zh = sync_note(job, "zh-CN", no_company)
    assert "我们的服务团队的" not in zh
    assert "我是客户服务中心的客服专员" in zh  # without a company name: the job's group and the agent's role
    en = sync_note(job, "en", no_company)
    assert "our service team" not in en and "your customer service specialist from Customer service centre" in en


@pytest.mark.parametrize("job", ["callbacks", "followups"])
def test_sync_task_text_names_the_company_of_the_playbook_constants(job):
    from deskbook.playbooks.loader import load_playbook

    company = load_playbook().constants.company_name
    assert f"我是{company.get('zh-CN')}的客服专员" in sync_note(job, "zh-CN")
    assert f"your customer service specialist from {company.get('en')}" in sync_note(job, "en")


def test_sync_values_in_the_playbook_override_the_defaults():
    import dataclasses

    from deskbook.playbooks.loader import load_playbook

    playbook = load_playbook()
    custom = dataclasses.replace(playbook, extra={"sync_values": {"zh-CN": {"company_name": "北极星科技"}}})
    assert "我是北极星科技的客服专员" in sync_note("callbacks", "zh-CN", custom)


# ---------------------------------------------------------------- --adopt keeps the desk's option values


def desk_argv(desk) -> list[str]:
    return ["--desk", "zendesk", "--url", desk.url, "--email", desk.email, "--token", desk.token]


def hand_made_tier_field(client, *extra_options):
    options = [{"name": "Key", "value": "key"}, {"name": "Regular", "value": "regular"},
               {"name": "New", "value": "new"}, *extra_options]
    return client.create("organization_field", {"key": "customer_tier", "type": "dropdown", "title": "Tier",
                                                 "custom_field_options": options})


def test_adopting_an_existing_dropdown_keeps_the_values_organizations_hold(capsys):
    import json

    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    with running_sandbox(export_lag_seconds=0) as desk:
        client = ZendeskConnector.connect(desk.url, desk.email, desk.token).client
        field = hand_made_tier_field(client)
        client.create_many_organizations([{"name": "Northwind", "organization_fields": {"customer_tier": "key"}}])
        assert main(["plan", "--adopt", "--json", *desk_argv(desk)]) == 2
        change = next(c for c in json.loads(capsys.readouterr().out)["changes"]
                      if c["kind"] == "organization_field" and c["key"] == "customer_tier")
        assert change["action"] == "update" and change["reason"] == "adopted"
        assert sorted(o["value"] for o in change["desired"]["custom_field_options"]) == ["key", "new", "regular"]

        assert main(["-q", "apply", "--adopt", "--doit", *desk_argv(desk)]) == 0
        after = next(f for f in client.list("organization_field") if f["id"] == field["id"])
        assert sorted(o["value"] for o in after["custom_field_options"]) == ["key", "new", "regular"]
        assert "[deskbook:standard-service:customer_tier]" in after["description"]  # now managed
        org = next(o for o in desk.store.all("organization") if o["name"] == "Northwind")
        assert org["organization_fields"]["customer_tier"] == "key"  # the record's value still means something
        capsys.readouterr()
        assert main(["plan", "--json", *desk_argv(desk)]) == 0  # and it stays that way
        from deskbook.connectors.zendesk.translate import option_value

        assert option_value("customer_tier", "key") == "key"  # what the sync jobs read as the tier


def test_adopting_a_dropdown_that_would_orphan_values_is_refused_naming_them(capsys):
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    with running_sandbox() as desk:
        client = ZendeskConnector.connect(desk.url, desk.email, desk.token).client
        field = hand_made_tier_field(client, {"name": "VIP", "value": "vip"})
        assert main(["plan", "--adopt", *desk_argv(desk)]) == 2
        out = capsys.readouterr().out
        line = next(l for l in out.splitlines() if "organization_field" in l and "customer_tier" not in l
                    and "'VIP'" in l)
        assert line.lstrip().startswith("! conflict") and "'VIP' (value 'vip')" in line and "orphaned" in line
        assert main(["-q", "apply", "--adopt", "--doit", *desk_argv(desk)]) == 1
        capsys.readouterr()
        after = next(f for f in client.list("organization_field") if f["id"] == field["id"])
        assert sorted(o["value"] for o in after["custom_field_options"]) == ["key", "new", "regular", "vip"]


# ---------------------------------------------------------------- one export format, and restore


def test_restore_brings_back_deleted_and_changed_objects_and_repoints_references(capsys, tmp_path):
    import json

    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    with running_sandbox() as desk:
        client = ZendeskConnector.connect(desk.url, desk.email, desk.token).client
        group = client.create("group", {"name": "Night shift"})
        trigger = client.create("trigger", {
            "title": "Night tickets to the night shift",
            "conditions": {"all": [{"field": "status", "operator": "is", "value": "new"}], "any": []},
            "actions": [{"field": "group_id", "value": str(group["id"])}]})
        view = client.create("view", {"title": "Night queue",
                                      "all": [{"field": "group_id", "operator": "is", "value": str(group["id"])}]})
        backup = tmp_path / "backup.json"
        assert main(["export", "--out", str(backup), *desk_argv(desk)]) == 0
        capsys.readouterr()

        client.delete("view", view["id"])
        client.delete("trigger", trigger["id"])
        client.delete("group", group["id"])
        client.create("macro", {"title": "Made after the backup", "actions": [{"field": "status", "value": "open"}]})

        assert main(["restore", str(backup), *desk_argv(desk)]) == 2  # plan only
        out = capsys.readouterr().out
        assert '+ create group "Night shift"' in out and '+ create view "Night queue"' in out
        assert "re-run with --doit" in out and client.list("view") == [] or all(
            v["title"] != "Night queue" for v in client.list("view"))

        assert main(["restore", str(backup), "--doit", *desk_argv(desk)]) == 0
        capsys.readouterr()
        new_group = next(g for g in client.list("group") if g["name"] == "Night shift")
        assert new_group["id"] != group["id"]
        restored_trigger = next(t for t in client.list("trigger") if t["title"] == "Night tickets to the night shift")
        assert restored_trigger["actions"] == [{"field": "group_id", "value": str(new_group["id"])}]
        restored_view = next(v for v in client.list("view") if v["title"] == "Night queue")
        assert str(new_group["id"]) in json.dumps(restored_view["conditions"])
        assert any(m["title"] == "Made after the backup" for m in client.list("macro"))  # restore never deletes
        code = main(["restore", str(backup), *desk_argv(desk)])
        assert code == 0, capsys.readouterr().out  # the desk matches the backup again


def test_restore_refuses_what_it_cannot_write_back(capsys, tmp_path):
    backup = tmp_path / "jsm.json"
    backup.write_text('{"format": "deskbook-export", "version": 1, "desk": "jsm", "objects": {"request_type": []}}')
    assert main(["restore", str(backup), "--desk", "jsm", "--url", "https://x.atlassian.net", "--email", "a@b.c",
                 "--token", "tok-1234"]) == 1
    assert "cannot write JSM backups back" in capsys.readouterr().err
    other = tmp_path / "other.json"
    other.write_text('{"objects": {}}')
    assert main(["restore", str(other), "--desk", "zendesk", "--url", "https://x.zendesk.com", "--email", "a@b.c",
                 "--token", "tok-1234"]) == 1
    assert "not a deskbook export" in capsys.readouterr().err


def test_uninstall_reads_the_playbooks_name_without_its_phrase_library(tmp_path):
    """uninstall needs only the playbook's machine name (the marker's owner): a playbook that uses
    phrases of its own library (a project after `deskbook init`) is not refused against the shipped one."""
    import argparse

    from deskbook.connectors.commands import playbook_name
    from deskbook.playbooks.loader import load_playbook

    text = Path(load_playbook().path).read_text(encoding="utf-8")
    assert "phrase: closing" in text
    path = tmp_path / "playbook.yaml"
    path.write_text(text.replace("phrase: closing", "phrase: our_closing", 1), encoding="utf-8")
    assert playbook_name(argparse.Namespace(playbook=str(path))) == "standard-service"

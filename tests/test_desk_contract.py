"""The desk contract: a third desk is one package plus one registry line, and the shared commands
name no desk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import fake_desk
from deskbook.cli import main
from deskbook.connectors import registry
from deskbook.connectors.jsm.connector import JsmConnector

REPO = Path(__file__).resolve().parent.parent
PLAYBOOK = str(REPO / "tests" / "data" / "playbooks" / "minimal.yaml")
FLAGS = ["--desk", "fake", "--url", "mem://desk-one", "--email", "a@b.c", "--token", "secret", "--playbook", PLAYBOOK]


@pytest.fixture
def fake(monkeypatch):
    """The fake desk registered with one line; a clean in-memory desk."""
    monkeypatch.setitem(registry.DESKS, "fake", "fake_desk:DESK")
    fake_desk.STORES.clear()
    fake_desk.WRITES.clear()
    yield fake_desk
    fake_desk.STORES.clear()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_third_desk_plans_applies_and_replans_through_the_shared_commands(fake, capsys):
    code, out, _ = run(capsys, "plan", *FLAGS, "--json")
    first = json.loads(out)
    assert code == 2 and first["summary"]["create"] == 2 and fake.WRITES == []
    assert "fake desk: 1 macro(s) of minimal on shelf main" in first["notes"]  # the notes hook got the Playbook

    code, out, _ = run(capsys, "apply", *FLAGS, "--doit", "--checksum", first["checksum"])
    assert code == 0 and "Apply complete: 2 created, 0 updated, 0 deleted." in out
    assert fake.WRITES == [("create", "group"), ("create", "macro")]
    store = fake.STORES["mem://desk-one"]
    assert store["macro"][0]["group_id"] == store["group"][0]["id"]  # the ref was resolved at apply

    code, out, _ = run(capsys, "plan", *FLAGS, "--shelf", "b")
    assert code == 0 and "No changes. The desk matches the playbook." in out and "on shelf b" in out

    store["macro"][0]["name"] = "Edited by hand"  # drift is planned back
    code, out, _ = run(capsys, "apply", *FLAGS, "--doit")
    assert code == 0 and "1 updated" in out and store["macro"][0]["name"] == "Greet"

    code, out, _ = run(capsys, "export", *FLAGS[:8], "--out", "-")
    assert code == 0 and len(json.loads(out)["objects"]["macro"]) == 1

    code, out, _ = run(capsys, "uninstall", *FLAGS, "--doit")
    assert code == 0 and "Uninstall complete: 0 created, 0 updated, 2 deleted." in out
    assert "fake desk: uninstall" in out and store == {"group": [], "macro": []}


def test_each_desk_refuses_the_flags_of_another(fake, capsys):
    code, _, err = run(capsys, "plan", *FLAGS, "--project", "SUP")
    assert code == 1 and "--project only apply to --desk jsm, not --desk fake" in err
    code, _, err = run(capsys, "plan", "--desk", "zendesk", "--url", "http://127.0.0.1:9", "--email", "a@b.c",
                       "--token", "x", "--shelf", "b")
    assert code == 1 and "--shelf only apply to --desk fake, not --desk zendesk" in err


def test_a_desk_without_verify_or_sync_is_not_offered_them(fake, capsys):
    with pytest.raises(SystemExit):
        main(["verify", *FLAGS])
    assert "invalid choice: 'fake'" in capsys.readouterr().err
    code, _, err = run(capsys, "sync", "run", "--desk", "fake", "--url", "mem://x", "--email", "a", "--token", "t")
    assert code == 1 and "desk 'fake' has no sync jobs" in err
    with pytest.raises(SystemExit):  # no scenario driver (`Desk.scenario_module`): no `deskbook test`
        main(["test", "--desk", "fake"])
    assert "invalid choice: 'fake'" in capsys.readouterr().err


@pytest.mark.parametrize("path", ["connectors/commands.py", "sync/cli.py", "connectors/scenarios/run.py",
                                  "connectors/scenarios/cli.py"])
def test_the_shared_commands_name_no_desk(path):
    text = (REPO / path).read_text(encoding="utf-8")
    named = sorted({m.group(0).lower() for m in re.finditer("|".join(registry.DESKS), text, re.IGNORECASE)})
    assert named == [], f"{path} names {named}"
    assert "hasattr(" not in text


def test_jsm_notes_do_not_hang_on_an_earlier_call():
    """The plan's notes come from the Playbook handed to `plan`, never from state an earlier
    `plan_playbook` left on the connector."""
    assert not hasattr(JsmConnector, "_playbook")
    assert "plan" not in vars(JsmConnector) and "plan_playbook" not in vars(JsmConnector)


def test_the_zendesk_sync_desk_is_built_on_the_client():
    """Every Zendesk call of the sync jobs goes through `ZendeskClient` (paths, pagination, the
    idempotent ticket create live there once), none through the raw session."""
    text = (REPO / "connectors" / "zendesk" / "sync_desk.py").read_text(encoding="utf-8")
    raw = re.findall(r"session\.(?:request|get_json|json_request)\(|iter_items\(|(?<!\w)pages\(|[\"']/api/v2/", text)
    assert raw == []


def test_the_demos_install_reports_each_step_and_refuses_a_desk_that_did_not_converge(fake):
    """`install_converged` is the demos' plan -> guard -> apply -> plan again, on any desk."""
    from deskbook.errors import DeskbookError
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    playbook, library = load_playbook(PLAYBOOK), load_library()
    heard: list = []
    connector = fake.DESK.connect("mem://demo", None, None)
    plan, report = connector.install_converged(playbook, library, planned=lambda p: heard.append(p.summary()["create"]),
                                               applied=lambda r: heard.append(r.summary()))
    assert heard == [2, report.summary()] and plan.summary()["create"] == 2
    assert fake.WRITES == [("create", "group"), ("create", "macro")]

    class Lossy(fake.FakeConnector):
        """A desk that keeps a macro under another name than the one written."""

        def create_object(self, kind, payload, label):
            return super().create_object(kind, {**payload, "name": "Renamed"} if kind == "macro" else payload, label)

    with pytest.raises(DeskbookError, match='fake sandbox did not converge.*update macro "Greet"'):
        Lossy(fake.STORES.setdefault("mem://lossy", {}), None).install_converged(playbook, library)

"""No secret in any output or file: every command family runs with a distinctive token in the
credentials or in the URL, and neither stdout, stderr nor any file written holds it.

Each `main([...])` here stands for one process: the secrets a run registered are forgotten
before the next, so one run's masking cannot hide another run's leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskbook import log as deskbook_log
from deskbook.cli import main
from deskbook.connectors.jsm.sandbox import running_sandbox as jsm_sandbox
from deskbook.connectors.zendesk.sandbox import running_sandbox as zendesk_sandbox

TOKEN = "Tq7-distinctive-9Zx4"
CUSTOMER_TOKEN = "Cu5-distinctive-8Wq2"  # a JSM test customer's own (deskbook test --doit)
AS_OF = "2026-11-23"


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """`run(argv...)` -> (exit code, stdout + stderr), with a fresh set of registered secrets."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DESKBOOK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")
    outputs: list[str] = []

    def invoke(*argv: str) -> tuple[int, str]:
        deskbook_log._SECRETS.clear()
        code = main(["-v", *argv])
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
        return code, captured.out + captured.err

    invoke.outputs = outputs
    return invoke


def assert_nowhere(token: str, outputs: list[str], folder: Path) -> None:
    leaks = [text for text in outputs if token in text]
    assert not leaks, leaks[0][:2000]
    for path in folder.rglob("*"):
        assert token not in str(path.relative_to(folder)), path
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_no_command_prints_or_writes_the_token(run, monkeypatch, tmp_path):
    # commands that need no desk, with the token in the environment all the same
    monkeypatch.setenv("ZENDESK_API_TOKEN", TOKEN)
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    assert run("validate")[0] == 0
    assert run("render", "greeting", "--locale", "en", "--desk", "zendesk")[0] == 0
    assert run("scripts", "list")[0] == 0
    assert run("demo", "--seed-orgs", "3")[0] == 0

    with zendesk_sandbox(token=TOKEN, seed_orgs=4) as desk:
        monkeypatch.setenv("ZENDESK_URL", desk.url)
        monkeypatch.setenv("ZENDESK_EMAIL", desk.email)
        assert run("plan", "--desk", "zendesk")[0] == 2
        assert run("apply", "--desk", "zendesk", "--doit", "--adopt")[0] == 0
        assert run("export", "--desk", "zendesk", "--out", str(tmp_path / "zendesk.json"))[0] == 0
        assert run("sync", "run", "--desk", "zendesk", "--as-of", AS_OF)[0] == 0
        assert run("uninstall", "--desk", "zendesk", "--doit", "--force")[0] == 0
        # the token given where a wrong one is expected: refused by the desk
        assert run("plan", "--desk", "zendesk", "--token", TOKEN + "-wrong")[0] == 1

    with jsm_sandbox(token=TOKEN, seed_orgs=4) as desk:
        monkeypatch.setenv("JIRA_URL", desk.url)
        monkeypatch.setenv("JIRA_EMAIL", desk.email)
        monkeypatch.setenv("JSM_PROJECT", desk.project_key)
        assert run("apply", "--desk", "jsm", "--doit")[0] == 0
        desk.customer_login("li@example.com", "Ms Li", token=CUSTOMER_TOKEN)
        monkeypatch.setenv("DESKBOOK_JSM_CUSTOMER_EMAIL", "li@example.com")
        monkeypatch.setenv("DESKBOOK_JSM_CUSTOMER_TOKEN", CUSTOMER_TOKEN)
        assert run("test", "--desk", "jsm", "--scenario", "forbidden-phrases")[0] == 64
        assert run("test", "--desk", "jsm", "--scenario", "forbidden-phrases", "--doit")[0] in (0, 1)
        assert run("verify", "--desk", "jsm", "--doit")[0] in (0, 1)
        assert run("export", "--desk", "jsm", "--out", str(tmp_path / "jsm.json"))[0] == 0
        assert run("sync", "run", "--desk", "jsm", "--as-of", AS_OF)[0] == 0
        assert run("uninstall", "--desk", "jsm", "--doit", "--force")[0] == 0

    # a desk that is not there: the connection error (after retries without waiting)
    monkeypatch.setattr("deskbook.http.random.uniform", lambda low, high: 0.0)
    monkeypatch.setenv("ZENDESK_URL", "https://127.0.0.1:9")
    assert run("plan", "--desk", "zendesk")[0] == 1
    assert_nowhere(TOKEN, run.outputs, tmp_path)
    assert_nowhere(CUSTOMER_TOKEN, run.outputs, tmp_path)


@pytest.mark.parametrize("desk, variable", [("zendesk", "ZENDESK_URL"), ("jsm", "JIRA_URL")])
def test_a_url_with_user_information_is_refused_before_anything_prints_it(run, monkeypatch, tmp_path, desk,
                                                                          variable):
    monkeypatch.setenv("ZENDESK_EMAIL", "admin@example.com")
    monkeypatch.setenv("ZENDESK_API_TOKEN", "other-token")
    monkeypatch.setenv("JIRA_EMAIL", "admin@example.com")
    monkeypatch.setenv("JIRA_API_TOKEN", "other-token")
    commands = [["plan"], ["apply", "--doit"], ["uninstall", "--doit"], ["export", "--out", "x.json"],
                ["sync", "run", "--as-of", AS_OF]] + ([["verify", "--doit"]] if desk == "jsm" else [])
    for url in (f"https://admin:{TOKEN}@127.0.0.1:9", f"http://admin:{TOKEN}@127.0.0.1:9/",
                f"https://{TOKEN}@desk.example.com"):
        monkeypatch.setenv(variable, url)
        for command in commands:
            code, text = run(*command[:1], *(command[1:2] if command[0] == "sync" else []), "--desk", desk,
                             *(command[2:] if command[0] == "sync" else command[1:]))
            assert code == 1, (command, text)
            errors = [line for line in text.splitlines() if line.startswith("deskbook: error:")]
            assert len(errors) == 1 and "user information" in errors[0], (command, text)
    # an unsupported scheme names the URL without its query
    monkeypatch.setenv(variable, f"ftp://desk.example.com/?token={TOKEN}")
    code, text = run("plan", "--desk", desk)
    assert code == 1 and "unsupported URL" in text
    assert_nowhere(TOKEN, run.outputs, tmp_path)


def test_file_names_and_log_records_never_carry_user_information(tmp_path):
    from deskbook.connectors.intents import intents_path_for
    from deskbook.sync.ledger import ledger_path_for

    url = f"https://admin:{TOKEN}@acme.zendesk.com"
    for path in (ledger_path_for("zendesk", url, tmp_path), intents_path_for("zendesk", url, "pb", tmp_path)):
        assert TOKEN not in str(path) and "acme.zendesk.com" in str(path)
    assert ledger_path_for("zendesk", url, tmp_path) == ledger_path_for("zendesk", "https://acme.zendesk.com", tmp_path)
    deskbook_log._SECRETS.clear()
    assert TOKEN not in deskbook_log.redact(f"GET {url}/api/v2/groups failed")

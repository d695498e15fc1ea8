"""`deskbook sync run --desk jsm` against the JSM sandbox: exactly once, like on Zendesk."""

from __future__ import annotations

import json

import pytest

from deskbook.cli import main
from deskbook.connectors.jsm.sandbox import running_sandbox


@pytest.fixture
def jsm_env(monkeypatch, tmp_path):
    """A JSM sandbox with the standard playbook installed and sample customers; env points at it."""
    with running_sandbox(seed_orgs=8) as desk:
        monkeypatch.setenv("JIRA_URL", desk.url)
        monkeypatch.setenv("JIRA_EMAIL", desk.email)
        monkeypatch.setenv("JIRA_API_TOKEN", desk.token)
        monkeypatch.setenv("JSM_PROJECT", desk.project_key)
        monkeypatch.setenv("DESKBOOK_HOME", str(tmp_path / "home"))
        assert main(["-q", "apply", "--desk", "jsm", "--doit"]) == 0
        yield desk


def _run(capsys, *extra):
    assert main(["-q", "sync", "run", "--desk", "jsm", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def _created(report):
    return sum(job["created"] for job in report["jobs"].values())


def test_sync_run_on_jsm_creates_once_then_nothing(jsm_env, capsys, tmp_path):
    capsys.readouterr()
    first = _run(capsys, "--as-of", "2026-11-23")
    assert _created(first) > 0
    again = _run(capsys, "--as-of", "2026-11-23")
    assert _created(again) == 0
    # A lost ledger: the desk-side key (label looked up by JQL) still prevents duplicates.
    lost = _run(capsys, "--as-of", "2026-11-23", "--ledger", str(tmp_path / "fresh.sqlite"))
    assert _created(lost) == 0
    assert sum(job["already_done"] for job in lost["jobs"].values()) == _created(first)


def test_project_flag_is_refused_for_zendesk(capsys):
    assert main(["sync", "run", "--desk", "zendesk", "--project", "SUP", "--url", "http://127.0.0.1:9",
                 "--email", "a@b.c", "--token", "x"]) == 1
    assert "only apply to --desk jsm" in capsys.readouterr().err

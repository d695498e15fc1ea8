"""`deskbook render` and `deskbook scripts list|approve` through deskbook.cli.main."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deskbook.cli import main
from deskbook.scripts_library import LOCALES, STANDARD_PHRASES, load_library
from deskbook.scripts_library.library import APPROVALS_FILE, shipped_library_root


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped library."""
    root = shipped_library_root()
    target = tmp_path / "scripts"
    shutil.copytree(root / "templates", target / "templates")
    shutil.copy2(root / APPROVALS_FILE, target / APPROVALS_FILE)
    return target


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_render_greeting_zh_for_zendesk(capsys):
    code, out, err = run(capsys, "render", "greeting", "--locale", "zh-CN", "--desk", "zendesk")
    assert code == 0, err
    assert "{{ticket.requester.name}}" in out and "{{current_user.name}}" in out


def test_render_values_prints_template_syntax_literally(capsys):
    code, out, err = run(
        capsys, "render", "greeting", "--locale", "zh-CN", "--desk", "values", "--examples",
        "--var", "customer_name={{ 7*7 }}",
    )
    assert code == 0, err
    assert out.startswith("{{ 7*7 }}，您好")
    assert "49" not in out


def test_render_values_with_every_var_given(capsys):
    code, out, err = run(
        capsys, "render", "closing", "--locale", "en", "--desk", "values",
        "--var", "customer_name=<b>Ada</b>", "--var", "agent_name=Li = Na", "--html",
    )
    assert code == 0, err
    assert "&lt;b&gt;Ada&lt;/b&gt;" in out and "Li = Na" in out


def test_render_values_missing_var_is_one_line_error(capsys):
    code, out, err = run(capsys, "render", "closing", "--locale", "en", "--desk", "values", "--var", "customer_name=Ada")
    assert code == 1 and out == ""
    assert "agent_name" in err and "Traceback" not in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["render", "greting", "--locale", "en", "--desk", "jsm"], "unknown phrase 'greting'"),
        (["render", "greeting", "--locale", "fr", "--desk", "jsm"], "no 'fr' template"),
        (["render", "greeting", "--locale", "en", "--desk", "jsm", "--var", "customer_name"], "bad --var"),
        (["render", "greeting", "--locale", "en", "--desk", "values", "--var", "=x"], "bad --var"),
        (["render", "greeting", "--locale", "en", "--desk", "values", "--var", "colour=red"], "no variable colour"),
        (["render", "greeting", "--locale", "en", "--desk", "zendesk", "--html"], "only apply to --desk values"),
        (["scripts", "approve", "--by", "X"], "name one phrase ID"),
        (["scripts", "list", "--scripts", "/nonexistent/dir"], "no templates/ folder"),
    ],
)
def test_user_errors_exit_1_without_traceback(capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert expected in err
    assert "Traceback" not in err


def test_render_desk_mode_var_sets_a_placeholder(capsys):
    code, out, err = run(
        capsys, "render", "progress_update", "--locale", "en", "--desk", "jsm", "--var", "eta={{issue.duedate}}"
    )
    assert code == 0, err
    assert "{{issue.duedate}}" in out and "{{issue.key}}" in out and "[ETA]" not in out


def test_scripts_list_json(capsys):
    code, out, err = run(capsys, "scripts", "list", "--json")
    assert code == 0, err
    entries = json.loads(out)
    assert {(e["id"], e["locale"]) for e in entries} == {(p, loc) for p in STANDARD_PHRASES for loc in LOCALES}
    for entry in entries:
        assert set(entry) == {"id", "locale", "version", "variables", "approved"}
        assert entry["approved"] is True and isinstance(entry["version"], int)
    greeting = next(e for e in entries if e["id"] == "greeting" and e["locale"] == "en")
    assert greeting["variables"] == ["customer_name", "company_name", "department", "agent_name"]


def test_edit_then_approve_via_cli(capsys, library_copy: Path):
    path = library_copy / "templates" / "en" / "thanks_feedback.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("thank you", "many thanks"), encoding="utf-8")
    code, out, _ = run(capsys, "scripts", "list", "--json", "--scripts", str(library_copy))
    states = {(e["id"], e["locale"]): e["approved"] for e in json.loads(out)}
    assert states[("thanks_feedback", "en")] is False and states[("thanks_feedback", "zh-CN")] is True
    code, out, err = run(capsys, "scripts", "approve", "thanks_feedback", "--locale", "en", "--by", "Li Na",
                         "--scripts", str(library_copy))
    assert code == 0, err
    assert "approved thanks_feedback (en)" in out and "Li Na" in out
    assert load_library(library_copy).validate({}, set(STANDARD_PHRASES)) == []
    code, out, _ = run(capsys, "render", "thanks_feedback", "--locale", "en", "--desk", "zendesk",
                       "--scripts", str(library_copy))
    assert "many thanks" in out


def test_approve_all_locales_of_a_phrase(capsys, library_copy: Path):
    for locale in LOCALES:  # approving unchanged text does nothing, so change both
        path = library_copy / "templates" / locale / "closing.j2"
        path.write_text(path.read_text(encoding="utf-8") + " ", encoding="utf-8")
    code, out, err = run(capsys, "scripts", "approve", "closing", "--by", "Li Na", "--scripts", str(library_copy))
    assert code == 0, err
    assert "approved closing (en)" in out and "approved closing (zh-CN)" in out
    library = load_library(library_copy)
    for locale in LOCALES:
        assert library.phrase("closing", locale).approval["approved_by"] == "Li Na"
        assert library.approvals["closing"][locale]["approved_by"] == "Li Na"
    assert library.phrase("greeting", "en").approval["approved_by"] != "Li Na"


def test_approving_unchanged_text_writes_nothing(capsys, library_copy: Path):
    approvals = library_copy / APPROVALS_FILE
    template = library_copy / "templates" / "en" / "greeting.j2"
    before = (approvals.read_bytes(), template.read_bytes())
    code, out, err = run(capsys, "scripts", "approve", "greeting", "--by", "Li Na", "--scripts", str(library_copy))
    assert code == 0, err
    assert "unchanged greeting (en)" in out and "unchanged greeting (zh-CN)" in out and "approved greeting" not in out
    assert (approvals.read_bytes(), template.read_bytes()) == before


def test_approving_changed_text_bumps_the_version_once(capsys, library_copy: Path):
    template = library_copy / "templates" / "en" / "thanks_feedback.j2"
    version = load_library(library_copy).phrase("thanks_feedback", "en").version
    template.write_text(template.read_text(encoding="utf-8").replace("thank you", "many thanks"), encoding="utf-8")
    code, out, _ = run(capsys, "scripts", "approve", "thanks_feedback", "--locale", "en", "--by", "Li Na",
                       "--scripts", str(library_copy))
    assert code == 0 and f"v{version + 1}" in out
    library = load_library(library_copy)
    assert library.phrase("thanks_feedback", "en").version == version + 1
    assert library.approvals["thanks_feedback"]["en"]["version"] == version + 1
    assert library.phrase("thanks_feedback", "zh-CN").version == version  # untouched
    run(capsys, "scripts", "approve", "thanks_feedback", "--locale", "en", "--by", "Li Na", "--scripts", str(library_copy))
    assert load_library(library_copy).phrase("thanks_feedback", "en").version == version + 1  # no second bump


def test_approve_refuses_to_write_into_the_installed_package(capsys, monkeypatch, tmp_path):
    for name in ("DESKBOOK_SCRIPTS", "DESKBOOK_PLAYBOOK", "DESKBOOK_DESK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no deskbook.toml here
    approvals = shipped_library_root() / APPROVALS_FILE
    before = approvals.read_bytes()
    code, _, err = run(capsys, "scripts", "approve", "--all", "--by", "Li Na")
    assert code == 1 and "refusing to approve inside the installed package" in err and "deskbook init" in err
    code, _, err = run(capsys, "scripts", "approve", "greeting", "--by", "Li Na", "--scripts", str(shipped_library_root()))
    assert code == 1 and "--in-package" in err
    assert approvals.read_bytes() == before

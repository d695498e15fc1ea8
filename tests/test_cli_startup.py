"""Every `deskbook` command starts fast: building the parser imports no desk servers or clients
(sandbox sub-commands import their desk only when run), and phrase YAML is read by libyaml with
the pure parser's messages."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deskbook import yaml_reading
from deskbook.cli import build_parser, main
from deskbook.connectors.jsm import sandbox_command as jsm_sandbox_command
from deskbook.connectors.jsm.sandbox_command import serve_jsm_sandbox
from deskbook.connectors.zendesk import sandbox_command as zendesk_sandbox_command
from deskbook.connectors.zendesk.sandbox_command import serve_zendesk_sandbox
from deskbook.errors import DeskbookError
from deskbook.scripts_library import library as library_module
from deskbook.scripts_library.library import (
    APPROVALS_FILE,
    load_library,
    safe_load_yaml,
    shipped_library_root,
    split_front_matter,
)

#: Top-level packages a handler may need but building the parser must not import.
HEAVY_PACKAGES = ("werkzeug", "jira", "zenpy", "openapi_core", "openapi_schema_validator", "pygal")

#: Light modules that define the sandbox sub-commands; the parser imports these and no other sandbox module.
SANDBOX_COMMAND_MODULES = {"deskbook.connectors.sandbox_cli", "deskbook.connectors.zendesk.sandbox_command",
                           "deskbook.connectors.jsm.sandbox_command", "deskbook.connectors.sandbox_kit",
                           "deskbook.connectors.sandbox_kit.options"}

#: Runs in a fresh interpreter: import the CLI, build the parser, list what got imported.
PROBE = """
import json, sys
import deskbook.cli
deskbook.cli.build_parser()
print(json.dumps(sorted(sys.modules)))
"""


def modules_after_building_parser() -> set[str]:
    """Module names loaded by `import deskbook.cli; build_parser()` in a clean interpreter."""
    done = subprocess.run([sys.executable, "-I", "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_building_the_parser_imports_no_desk_server_or_client_library():
    loaded = modules_after_building_parser()
    assert "deskbook.cli" in loaded and "argparse" in loaded  # the probe really ran the CLI
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY_PACKAGES)
    assert heavy == [], f"imported while building the parser: {heavy}"
    assert SANDBOX_COMMAND_MODULES <= loaded  # the sandbox sub-commands were registered
    sandboxes = sorted(m for m in loaded if ".sandbox" in m and m not in SANDBOX_COMMAND_MODULES)
    assert sandboxes == [], f"sandbox packages imported while building the parser: {sandboxes}"
    assert "jsonschema" not in loaded  # only validation needs it
    assert "pydantic" not in loaded  # only loading a playbook needs the model


def sandbox_desk_parsers() -> dict:
    """The DESK parsers under `deskbook sandbox`."""
    top = build_parser()
    commands = next(a for a in top._actions if isinstance(a.choices, dict)).choices
    desks = next(a for a in commands["sandbox"]._actions if a.dest == "desk")
    return dict(desks.choices)


def test_sandbox_desks_are_registered_with_their_handlers():
    args = build_parser().parse_args(["sandbox", "jsm", "--port", "0", "--seed-orgs", "3"])
    assert args.func is serve_jsm_sandbox
    assert (args.desk, args.port, args.seed_orgs, args.project) == ("jsm", 0, 3, "SUP")
    args = build_parser().parse_args(["sandbox", "zendesk", "--fault-rate", "0.5"])
    assert args.func is serve_zendesk_sandbox
    assert (args.desk, args.port, args.fault_rate, args.export_lag) == ("zendesk", 8765, 0.5, 60)
    assert sorted(sandbox_desk_parsers()) == ["jsm", "zendesk"]


def test_sandbox_command_defaults_are_the_desks_defaults():
    from deskbook.connectors.jsm.sandbox import SandboxConfig
    from deskbook.connectors.zendesk.sandbox import app as zendesk_app
    from deskbook.connectors.zendesk.sandbox.app import DEFAULT_RATE_LIMITS as DEFAULT_LIMITS

    assert zendesk_app.EXPORT_LAG_SECONDS == zendesk_sandbox_command.EXPORT_LAG_SECONDS
    assert DEFAULT_LIMITS == zendesk_sandbox_command.DEFAULT_RATE_LIMITS
    config = SandboxConfig()
    assert (config.email, config.token, config.project_key) == (
        jsm_sandbox_command.DEFAULT_EMAIL, jsm_sandbox_command.DEFAULT_TOKEN, jsm_sandbox_command.DEFAULT_PROJECT_KEY)


def test_sandbox_help_lists_the_desks(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["sandbox", "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "zendesk" in help_text and "run a local desk that answers like Zendesk Support" in help_text
    assert "jsm" in help_text and "a local Jira Service Management" in help_text


def test_unknown_or_missing_sandbox_desk_is_a_usage_error(capsys):
    for argv, expected in ((["sandbox", "bogus"], "invalid choice: 'bogus' (choose from 'zendesk', 'jsm')"),
                           (["sandbox"], "the following arguments are required: DESK")):
        with pytest.raises(SystemExit) as exited:
            build_parser().parse_args(argv)
        assert exited.value.code == 64  # ExitCode.USAGE: 2 means "plan has changes"
        assert expected in capsys.readouterr().err


def test_version_is_read_when_asked(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"deskbook {importlib.metadata.version('deskbook')}"


# ---------------------------------------------------------------- phrase YAML through libyaml


def shipped_yaml_texts() -> list[tuple[str, str]]:
    """(file, YAML text) of every shipped template's front matter and of approvals.yaml."""
    root = shipped_library_root()
    texts = [(str(root / APPROVALS_FILE), (root / APPROVALS_FILE).read_text(encoding="utf-8"))]
    for path in sorted((root / "templates").glob("*/*.j2")):
        lines = path.read_text(encoding="utf-8").split("\n")
        end = lines.index("---", 1)
        texts.append((str(path), "\n".join(lines[1:end])))
    return texts


def test_libyaml_and_pure_loader_read_the_shipped_library_alike():
    texts = shipped_yaml_texts()
    assert len(texts) > 30
    for file, text in texts:
        assert safe_load_yaml(text) == safe_load_yaml(text, use_libyaml=False) == yaml.safe_load(text), file


@pytest.mark.skipif(yaml_reading.LIBYAML_LOADER is None, reason="PyYAML built without libyaml")
def test_valid_yaml_never_reaches_the_pure_parser(monkeypatch):
    class RefusingLoader(yaml.SafeLoader):
        def __init__(self, stream):
            raise AssertionError("the pure loader read text libyaml accepts")

    monkeypatch.setattr(yaml, "SafeLoader", RefusingLoader)
    for file, text in shipped_yaml_texts():
        assert isinstance(safe_load_yaml(text), dict), file


BROKEN_YAML = [
    "id: greeting\nlocale: [en\nversion: 1\n",
    "id: greeting\n  locale: en\n",
    "id: greeting\nlocale: en\nlocale: en: x\n",
    "id: 'greeting\n",
    "a:\n\t- b\n",
    "description: \x07 bell\n",
]


@pytest.mark.parametrize("text", BROKEN_YAML)
def test_broken_yaml_raises_the_pure_parsers_error(text: str):
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.load(text, Loader=yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError) as fast:
        safe_load_yaml(text)
    assert type(fast.value) is type(pure.value)
    assert str(fast.value) == str(pure.value)


def library_errors(root: Path) -> tuple[list[str], str]:
    """(load problems, approvals error) of a library folder."""
    try:
        return load_library(root).load_problems, ""
    except DeskbookError as exc:
        return [], str(exc)


def test_library_messages_are_the_same_with_and_without_libyaml(tmp_path: Path, monkeypatch):
    root = tmp_path / "scripts"
    shutil.copytree(shipped_library_root() / "templates", root / "templates")
    greeting = root / "templates" / "en" / "greeting.j2"
    greeting.write_text(greeting.read_text(encoding="utf-8").replace("locale: en", "locale: [en", 1), encoding="utf-8")
    closing = root / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8").replace("version: 1", "version: 1\n  bad: indent", 1),
                       encoding="utf-8")
    (root / APPROVALS_FILE).write_text("greeting:\n  en: {sha256: x\n", encoding="utf-8")

    fast = library_errors(root)
    monkeypatch.setattr(yaml_reading, "LIBYAML_LOADER", None)
    pure = library_errors(root)
    assert fast == pure
    assert fast[1].startswith(f"{root / APPROVALS_FILE}:") and "approvals file is not valid YAML" in fast[1]

    (root / APPROVALS_FILE).unlink()
    problems, _ = library_errors(root)
    monkeypatch.undo()
    assert library_errors(root)[0] == problems
    assert any(p.startswith(f"{greeting}:") and "front matter is not valid YAML" in p for p in problems)
    assert any(p.startswith(f"{closing}:") and "front matter is not valid YAML" in p for p in problems)


def test_front_matter_error_names_the_line_of_the_file():
    text = "---\nid: greeting\nlocale: en\nversion: [1\n---\nHello\n"
    with pytest.raises(DeskbookError) as error:
        split_front_matter(text, "t.j2")
    pure_mark = None
    try:
        yaml.load("id: greeting\nlocale: en\nversion: [1", Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        pure_mark = exc.problem_mark
    assert pure_mark is not None
    assert str(error.value).startswith(f"t.j2:{pure_mark.line + 2}: front matter is not valid YAML")

"""`deskbook.toml` and DESKBOOK_* settings: flags need not repeat (issue #16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskbook.cli import build_parser, main
from deskbook.config import UsageError, find_config_file, load_settings

DATA = Path(__file__).parent / "data" / "playbooks"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("DESKBOOK_PLAYBOOK", "DESKBOOK_SCRIPTS", "DESKBOOK_DESK"):
        monkeypatch.delenv(name, raising=False)


def test_the_nearest_deskbook_toml_upward_is_read_with_paths_relative_to_it(tmp_path, monkeypatch):
    (tmp_path / "deskbook.toml").write_text('playbook = "book.yaml"\nscripts = "phrases"\ndesk = "jsm"\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config_file(deep) == tmp_path / "deskbook.toml"
    settings = load_settings(deep, env={})
    assert settings.playbook == str((tmp_path / "book.yaml").resolve())
    assert settings.scripts == str((tmp_path / "phrases").resolve())
    assert settings.desk == "jsm" and settings.sources["desk"] == str(tmp_path / "deskbook.toml")


def test_the_environment_wins_over_the_file_and_a_shipped_name_stays_a_name(tmp_path):
    (tmp_path / "deskbook.toml").write_text('playbook = "book.yaml"\ndesk = "jsm"\n')
    settings = load_settings(tmp_path, env={"DESKBOOK_PLAYBOOK": "standard-service", "DESKBOOK_DESK": "zendesk"})
    assert settings.playbook == "standard-service"
    assert (settings.desk, settings.sources["desk"]) == ("zendesk", "DESKBOOK_DESK")


@pytest.mark.parametrize("text, message", [
    ('desk = "zendsk"\n', "unknown desk 'zendsk'"),
    ('colour = "yes"\n', "unknown setting(s) colour"),
    ('desk = \n', "not valid TOML"),
])
def test_a_bad_settings_file_is_a_usage_error_naming_it(tmp_path, monkeypatch, capsys, text, message):
    (tmp_path / "deskbook.toml").write_text(text)
    with pytest.raises(UsageError):
        load_settings(tmp_path, env={})
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 64
    err = capsys.readouterr().err
    assert message in err and str(tmp_path / "deskbook.toml") in err


def test_a_configured_desk_makes_desk_optional_and_shows_in_help(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKBOOK_DESK", "jsm")
    parser = build_parser()
    args = parser.parse_args(["plan"])
    assert args.desk == "jsm"
    assert parser.parse_args(["plan", "--desk", "zendesk"]).desk == "zendesk"  # a flag wins
    assert parser.parse_args(["sync", "run"]).desk == "jsm"


def test_validate_uses_the_configured_playbook(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text((DATA / "minimal.yaml").read_text(encoding="utf-8").replace("key: frontline", "key: 1", 1))
    monkeypatch.setenv("DESKBOOK_PLAYBOOK", str(broken))
    assert main(["validate"]) == 1
    assert str(broken) in capsys.readouterr().err


def test_init_writes_an_editable_copy_and_never_overwrites(tmp_path, monkeypatch, capsys):
    from deskbook.scripts_library.library import shipped_library_root

    target = tmp_path / "mydesk"
    assert main(["init", str(target), "--desk", "jsm"]) == 0
    assert "deskbook validate" in capsys.readouterr().out
    monkeypatch.chdir(target / "scripts")  # found upward from a sub-folder too
    settings = load_settings()
    assert (settings.playbook, settings.scripts, settings.desk) == (
        str((target / "playbook.yaml").resolve()), str((target / "scripts").resolve()), "jsm")
    shipped = sorted(p.relative_to(shipped_library_root()) for p in (shipped_library_root() / "templates").rglob("*.j2"))
    assert sorted(p.relative_to(target / "scripts") for p in (target / "scripts" / "templates").rglob("*.j2")) == shipped
    before = (target / "playbook.yaml").read_bytes()
    assert main(["init", str(target)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (target / "playbook.yaml").read_bytes() == before
    assert main(["init", str(tmp_path / "other"), "--from-playbook", "no-such-playbook"]) == 1
    assert not (tmp_path / "other" / "deskbook.toml").exists()

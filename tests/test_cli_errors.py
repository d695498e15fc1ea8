"""An exception no user error explains is still one line on stderr (the traceback only with -v)."""

from __future__ import annotations

import pytest

from deskbook.cli import main
from deskbook.log import register_secret
from deskbook.scripts_library import cli as scripts_cli

TOKEN = "unexpected-secret-4711"


@pytest.fixture()
def broken_command(monkeypatch):
    register_secret(TOKEN)

    def explode(args):
        raise RuntimeError(f"boom while talking to https://agent:{TOKEN}@example.zendesk.com\nsecond line")

    monkeypatch.setattr(scripts_cli, "cmd_list", explode)


def test_unexpected_exception_is_one_line_with_a_hint(capsys, broken_command):
    code = main(["scripts", "list"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("deskbook: error: unexpected RuntimeError: boom")
    assert "deskbook -v" in err and TOKEN not in err and "second line" not in err


def test_verbose_adds_the_masked_traceback(capsys, broken_command):
    code = main(["-v", "scripts", "list"])
    _, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" in err and "in explode" in err
    assert err.rstrip().splitlines()[-1].startswith("deskbook: error: unexpected RuntimeError")
    assert TOKEN not in err

"""A phrase library folder in a bad state (issue #13 "no traceback, ever, for a user's state"): one line
naming the path and what to do — a folder where a template should be, an approvals file that is
not UTF-8, a library that cannot be written when approving."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from deskbook.cli import main
from deskbook.scripts_library.library import shipped_library_root


@pytest.fixture()
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(shipped_library_root() / "templates", root / "templates")
    shutil.copy(shipped_library_root() / "approvals.yaml", root / "approvals.yaml")
    return root


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    _, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected" not in err, err
    return code, err


def test_a_folder_named_like_a_template_is_a_problem(capsys, library):
    odd = library / "templates" / "en" / "odd.j2"
    odd.mkdir()
    code, err = run(capsys, "validate", "--scripts", str(library))
    assert code == 1 and f"{odd}: cannot read the template" in err
    code, err = run(capsys, "scripts", "list", "--scripts", str(library))
    assert code == 0 and f"{odd}: cannot read the template" in err


def test_an_approvals_file_that_is_not_utf8(capsys, library):
    (library / "approvals.yaml").write_bytes(b"\xff\xfe not text")
    code, err = run(capsys, "validate", "--scripts", str(library))
    assert code == 1 and f"{library / 'approvals.yaml'}: approvals file is not UTF-8 text" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root")
def test_approving_in_a_library_that_cannot_be_written(capsys, library):
    closing = library / "templates" / "en" / "closing.j2"
    closing.write_text(closing.read_text(encoding="utf-8") + " Bye.", encoding="utf-8")
    closing.chmod(0o444)
    try:
        code, err = run(capsys, "scripts", "approve", "closing", "--locale", "en", "--by", "Li Na", "--scripts", str(library))
    finally:
        closing.chmod(0o644)
    assert code == 1 and f"{closing}: cannot write the phrase library" in err and "writable" in err


def test_approving_when_the_approvals_file_is_a_folder(capsys, library):
    """The root-proof variant of an unwritable library: the lock's path is taken by a folder."""
    (library / "approvals.yaml").unlink()
    (library / "approvals.yaml").mkdir()
    code, err = run(capsys, "scripts", "approve", "closing", "--locale", "en", "--by", "Li Na", "--scripts", str(library))
    assert code == 1 and f"{library / 'approvals.yaml'}: cannot write the phrase library" in err

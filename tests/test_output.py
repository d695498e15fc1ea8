"""`--out` documents (export, handbook, report) are written whole or not at all."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from deskbook.errors import DeskbookError
from deskbook.output import write_output


def test_stdout_for_dash(capsys):
    assert write_output("hello\n", "-", "the export") is False
    assert capsys.readouterr().out == "hello\n"


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_part_file(tmp_path, monkeypatch):
    target = tmp_path / "backup.json"
    target.write_text("previous backup\n", encoding="utf-8")

    def disk_full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("deskbook.output.os.replace", disk_full)
    with pytest.raises(DeskbookError, match="cannot write the export: No space left on device") as caught:
        write_output("new backup\n" * 1000, target, "the export")
    monkeypatch.undo()
    assert caught.value.where == str(target)
    assert target.read_text(encoding="utf-8") == "previous backup\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.json"]


def test_a_missing_folder_is_one_error_naming_the_file(tmp_path):
    with pytest.raises(DeskbookError, match="cannot write the handbook") as caught:
        write_output("x", tmp_path / "nope" / "handbook.html", "the handbook")
    assert caught.value.where.endswith("handbook.html")


def test_a_written_file_holds_the_text(tmp_path):
    assert write_output("全部\n", tmp_path / "h.html", "the handbook") is True
    assert (tmp_path / "h.html").read_text(encoding="utf-8") == "全部\n"


def test_a_written_file_has_the_permissions_a_plain_write_gives(tmp_path):
    """The temporary file beside the target is 0600; the document must not be (a handbook a web server
    serves, a phrase library a team shares): a new file gets the umask's mode, a rewritten one keeps its own."""
    umask = os.umask(0o022)
    try:
        write_output("x", tmp_path / "new.html", "the handbook")
        assert stat.S_IMODE((tmp_path / "new.html").stat().st_mode) == 0o644
        shared = tmp_path / "approvals.yaml"
        shared.write_text("old", encoding="utf-8")
        shared.chmod(0o664)
        write_output("new", shared, "the approvals")
        assert stat.S_IMODE(shared.stat().st_mode) == 0o664 and shared.read_text(encoding="utf-8") == "new"
    finally:
        os.umask(umask)

"""A sync ledger that cannot be written, cannot exist or is damaged: one line, never a traceback.

Issue #13: 7 of 7 path variants (a folder that cannot be written, a read-only ledger file, paths
that cannot exist) and 2 of 10 damaged ledgers (garbage pages, a foreign schema) ended in a
traceback. Each now names the path and what to do; for a damaged ledger, that deleting it is
safe because the desk is the source of truth and the next run rebuilds it.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

import pytest

from deskbook.cli import main
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.sync.ledger import Ledger
from deskbook.sync.schedule import Organization

DAMAGE_HINT = "the desk is the source of truth"


@pytest.fixture(scope="module")
def desk():
    # One desk for the module's ~20 sync runs: Zendesk's 10 incremental exports a minute would make
    # the later runs wait out 429s (a minute each); these tests are about the ledger, not that limit.
    with running_sandbox(token="ledger-secret-token", rate_limits={"incremental": 1000}) as handle:
        yield handle


@pytest.fixture()
def open_dir():
    """A folder every user can reach (pytest's own tmp folders are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="deskbook-ledger-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir():
            sub.chmod(0o755)
    shutil.rmtree(path)


def sync_argv(desk, ledger: str | Path | None) -> list[str]:
    argv = ["sync", "run", "--url", desk.url, "--email", desk.email, "--token", desk.token]
    return argv if ledger is None else [*argv, "--ledger", str(ledger)]


def _skip_unless_others_can_read_the_install() -> None:
    """The unprivileged child imports and reads deskbook's files as `nobody`: every folder above the
    installed package must let others in (a virtualenv under a 0700 folder does not; `.ci/run`
    makes its own readable)."""
    import deskbook

    path = Path(deskbook.__file__).resolve().parent
    for folder in (path, *path.parents):
        if os.stat(folder).st_mode & 0o005 != 0o005:
            pytest.skip(f"user nobody cannot read {folder} (where deskbook is installed); make it o+rx to run this test")


def run_sync(argv: list[str], *, unprivileged: bool = False) -> tuple[int, str]:
    """`deskbook <argv>` in this process, or (as root, `unprivileged`) in a forked child that has
    dropped to user `nobody`, since permissions do not stop root. Returns (exit code, stderr)."""
    if not unprivileged or os.geteuid() != 0:
        saved = sys.stderr, sys.stdout
        sys.stderr, sys.stdout = io.StringIO(), io.StringIO()
        try:
            code = main(argv)
            return code, sys.stderr.getvalue()
        finally:
            sys.stderr, sys.stdout = saved
    _skip_unless_others_can_read_the_install()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report through the pipe
        code = 70
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            sys.stdout = open(os.devnull, "w")
            sys.stderr = os.fdopen(write, "w")
            code = main(argv)
            sys.stderr.flush()
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            try:
                sys.stderr.write(f"child failed: {exc!r}\n")
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as stream:
        err = stream.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def assert_one_line(code: int, err: str, path: str, *needles: str) -> str:
    assert code == 1, err
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("deskbook: error:")]
    assert len(errors) == 1, err
    assert path in errors[0], err
    for needle in needles:
        assert needle in errors[0], err
    return errors[0]


def _warm(desk, tmp_path: Path) -> None:
    """One good run, so everything a run imports is imported before a child drops privileges."""
    assert run_sync(sync_argv(desk, tmp_path / "warm.sqlite"))[0] == 0


@pytest.mark.parametrize("variant", ["parent_is_a_file", "is_a_directory", "name_too_long", "in_proc",
                                     "nul_byte", "home_is_a_file"])
def test_a_ledger_path_that_cannot_exist(desk, tmp_path, monkeypatch, variant):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    ledger: str | Path | None
    if variant == "parent_is_a_file":
        ledger = blocker / "ledger.sqlite"
    elif variant == "is_a_directory":
        ledger = tmp_path / "dir.sqlite"
        ledger.mkdir()
    elif variant == "name_too_long":
        ledger = tmp_path / ("n" * 300 + ".sqlite")
    elif variant == "in_proc":
        ledger = "/proc/deskbook-ledger.sqlite"
    elif variant == "nul_byte":
        ledger = str(tmp_path / "led\0ger.sqlite")
    else:
        monkeypatch.setenv("DESKBOOK_HOME", str(blocker))
        ledger = None
    code, err = run_sync(sync_argv(desk, ledger))
    shown = str(blocker) if ledger is None else str(ledger).replace("\0", "\\x00")[:60]
    assert_one_line(code, err, shown if variant != "nul_byte" else "NUL", "--ledger")


def test_a_folder_that_cannot_be_written(desk, tmp_path, open_dir):
    _warm(desk, tmp_path)
    folder = open_dir / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    ledger = folder / "ledger.sqlite"
    code, err = run_sync(sync_argv(desk, ledger), unprivileged=True)
    assert_one_line(code, err, str(folder), "writable")


def test_a_read_only_ledger_file(desk, tmp_path, open_dir):
    _warm(desk, tmp_path)
    folder = open_dir / "ro"
    folder.mkdir()
    folder.chmod(0o777)
    ledger = folder / "ledger.sqlite"
    Ledger(ledger).close()
    ledger.chmod(0o444)
    code, err = run_sync(sync_argv(desk, ledger), unprivileged=True)
    assert_one_line(code, err, str(ledger), "writable")


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _foreign_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
    db.execute("CREATE TABLE orgs (uuid TEXT)")
    db.commit()
    db.close()


def _someone_elses_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    db.commit()
    db.close()


def _garbage_pages(path: Path) -> None:
    ledger = Ledger(path)
    ledger.upsert_organizations([Organization(id=i, name="n" * 200) for i in range(1, 2001)], [], None)
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    data = bytearray(path.read_bytes())
    for offset in range(4096 * 3, len(data), 4096):
        data[offset:offset + 64] = bytes(range(64))
    path.write_bytes(bytes(data))


def _truncated(path: Path) -> None:
    _garbage_pages(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("damage", [_garbage, _foreign_schema, _garbage_pages, _truncated],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_ledger_says_deleting_it_is_safe(desk, tmp_path, damage):
    ledger = tmp_path / "ledger.sqlite"
    damage(ledger)
    code, err = run_sync(sync_argv(desk, ledger))
    assert_one_line(code, err, str(ledger), DAMAGE_HINT, "delete")
    ledger.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(ledger) + suffix).unlink(missing_ok=True)
    assert run_sync(sync_argv(desk, ledger))[0] == 0  # and the next run rebuilds it


def test_a_foreign_sqlite_file_is_not_altered(desk, tmp_path):
    ledger = tmp_path / "other-app.sqlite"
    _someone_elses_database(ledger)
    code, err = run_sync(sync_argv(desk, ledger))
    assert_one_line(code, err, str(ledger), "not a deskbook ledger")
    tables = {row[0] for row in sqlite3.connect(ledger).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"customers"}


def test_sync_serve_stops_on_a_damaged_ledger_instead_of_failing_every_run(desk, tmp_path):
    """Review: `sync serve` logged one error per run against a damaged ledger and ran on, healthy
    to systemd and Kubernetes, raising nothing. A damaged or foreign ledger does not mend itself:
    the service stops with the one-line error (exit 1), so the supervisor shows it failed."""
    import subprocess

    ledger = tmp_path / "ledger.sqlite"
    _garbage(ledger)
    argv = [sys.executable, "-m", "deskbook", "sync", "serve", "--interval-seconds", "1",
            *sync_argv(desk, ledger)[2:]]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"sync serve kept running on a damaged ledger: {exc.stderr!r}")
    assert_one_line(done.returncode, done.stderr, str(ledger), DAMAGE_HINT)

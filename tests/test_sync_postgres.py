"""The sync ledger in PostgreSQL (the fleet's shared ledger): same behaviour as the SQLite one,
one schema per desk, an advisory lock that dies with its holder."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter

import pytest

from deskbook.errors import DeskbookError
from deskbook.sync.ledger import ledger_location
from deskbook.sync.ledger_pg import PostgresLocation, redacted_url
from deskbook.sync.runner import run_jobs
from test_sync_zendesk import (AS_OF, SETTINGS, cli_args, cli_sandbox, connect, desk_keys, expected_keys,  # noqa: F401
                               playbook_settings, sandbox, subprocess_env)

pytestmark = pytest.mark.service


@pytest.fixture
def location(postgres_url, sandbox):  # noqa: F811
    import psycopg

    loc = ledger_location("zendesk", sandbox.url, postgres_url)
    assert isinstance(loc, PostgresLocation)
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # a schema per desk URL: a desk on the same
        conn.execute(f'DROP SCHEMA IF EXISTS "{loc.schema}" CASCADE')  # port earlier (a benchmark) left its own
    yield loc
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{loc.schema}" CASCADE')


def run(handle, loc, as_of=AS_OF):
    ledger = loc.open()
    try:
        desk = connect(handle.url, handle.email, handle.token)
        desk.export_lag_seconds = handle.app.export_lag_seconds  # the desk's lag is the sandbox's
        return run_jobs(desk, ledger, SETTINGS, as_of=as_of)
    finally:
        ledger.close()


def test_runs_on_postgres_exactly_once_even_with_the_ledger_lost(sandbox, location, postgres_url):  # noqa: F811
    import psycopg

    sandbox.app.export_lag_seconds = 2  # Zendesk's minute, shortened: the ledger is lost within it
    first = run(sandbox, location)
    expected = expected_keys(sandbox.orgs, SETTINGS, [AS_OF])
    assert sum(j.created for j in first.jobs.values()) == len(expected) > 0
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    again = run(sandbox, location)
    assert sum(j.created for j in again.jobs.values()) == 0
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # the database is lost and recreated
        conn.execute(f'DROP SCHEMA "{location.schema}" CASCADE')
    rebuilt = run(sandbox, location)
    assert sum(j.created for j in rebuilt.jobs.values()) == 0  # rebuilt from the desk: nothing twice
    assert desk_keys(sandbox.store) == Counter({k: 1 for k in expected})
    ledger = location.open()
    try:
        assert ledger.done_keys() == expected and ledger.organization_count() == len(sandbox.orgs)
    finally:
        ledger.close()


def test_the_same_statements_give_the_same_ledger_as_sqlite(sandbox, location, tmp_path):  # noqa: F811
    sandbox.app.export_lag_seconds = 1  # Zendesk's minute, shortened: each new ledger waits it out
    run(sandbox, location)
    sqlite = ledger_location("zendesk", sandbox.url, str(tmp_path / "l.sqlite"))
    run(sandbox, sqlite)  # a second ledger on the same desk: learns everything, creates nothing
    a, b = location.open(), sqlite.open()
    try:
        assert a.done_keys() == b.done_keys()
        assert list(a.iter_organizations()) == list(b.iter_organizations())
        assert a.cursor("organizations") is not None and b.cursor("organizations") is not None
    finally:
        a.close()
        b.close()


def test_one_worker_per_desk_and_a_killed_holder_frees_it(location, postgres_url):
    with location.lock():
        with pytest.raises(DeskbookError, match="already running"):
            with location.lock():
                pass
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom deskbook.sync.ledger_pg import PostgresLocation\n"
         f"lock = PostgresLocation({postgres_url!r}, {location.schema!r}).lock().__enter__()\n"
         "print('locked', flush=True)\ntime.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DeskbookError):
            with location.lock():
                pass
        holder.kill()
        holder.wait()
        deadline = time.monotonic() + 10
        while True:
            try:
                with location.lock():
                    break
            except DeskbookError:
                assert time.monotonic() < deadline, "the lock outlived its killed holder"
                time.sleep(0.1)
    finally:
        if holder.poll() is None:
            holder.kill()


def test_cli_takes_a_postgres_ledger_from_the_environment(cli_sandbox, postgres_url, tmp_path, capsys):  # noqa: F811
    import psycopg

    env = dict(subprocess_env(tmp_path), DESKBOOK_LEDGER=postgres_url)
    args = ["sync", "run", "--url", cli_sandbox.url, "--email", cli_sandbox.email, "--token", cli_sandbox.token,
            "--as-of", AS_OF.isoformat(), "--json"]
    out = subprocess.run([sys.executable, "-m", "deskbook", *args], env=env, capture_output=True, text=True, timeout=120)
    try:
        assert out.returncode == 0, out.stderr
        assert sum(j["created"] for j in json.loads(out.stdout)["jobs"].values()) > 0
        assert not list((tmp_path / "home").glob("*.sqlite"))  # no SQLite file: the ledger is in PostgreSQL
    finally:
        schema = PostgresLocation.schema_for("zendesk", cli_sandbox.url)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_bad_postgres_url_is_one_line_without_the_password(tmp_path):
    env = dict(subprocess_env(tmp_path), DESKBOOK_LEDGER="postgresql://deskbook:s3cretPW@127.0.0.1:9/nowhere")
    out = subprocess.run([sys.executable, "-m", "deskbook", "sync", "run", "--url", "http://127.0.0.1:9",
                          "--email", "a@b.c", "--token", "t0ken-t0ken"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 1 and "s3cretPW" not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
    assert redacted_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"

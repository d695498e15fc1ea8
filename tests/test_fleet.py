"""A fleet of desks (desks.yaml): the inventory's rules, the local fan-out, and Celery workers with
the PostgreSQL ledger — every due item exactly once, also after a worker is killed and the run retried."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from datetime import date

import pytest

from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.errors import DeskbookError
from deskbook.sync.fleet import load_fleet
from deskbook.sync.ledger_pg import PostgresLocation
from test_sync_zendesk import NO_LIMITS, REPO, desk_keys, expected_keys, playbook_settings, seed  # noqa: F401

AS_OF = date(2026, 6, 22)
#: The sandboxes' export lag (Zendesk's minute, shortened): the ledger lost below is lost within it.
EXPORT_LAG = 3


def write(tmp_path, text: str):
    path = tmp_path / "desks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, line, message", [
    ("desks:\n  - name: a\n    desk: zendesk\n    url: https://a.example\n    email: a@a\n    token: hunter22\n",
     6, "inline token is refused"),
    ("desks:\n  - name: a\n    desk: zendesk\n    url: https://a.example\n    email: a@a\n    token_env: T\n"
     "  - name: a\n    desk: jsm\n    url: https://b.example\n    email: b@b\n    token_env: U\n", 7, "listed twice"),
    ("desks:\n  - name: a\n    desk: freshdesk\n    url: https://a.example\n    email: a@a\n    token_env: T\n",
     3, "desk must be one of"),
    ("desks:\n  - name: a\n    desk: zendesk\n    url: https://a.example\n    email: a@a\n    tokn_env: T\n",
     6, "unknown key 'tokn_env'"),
    ("x: &x [1, 2]\ndesks:\n  - name: a\n    desk: zendesk\n    url: u\n    email: e\n    token_env: T\n    "
     "options: {y: *x}\n", 8, "aliases"),
    ("desks:\n  - name: a\n    desk: zendesk\n    url: u\n    email: e\n", 2, "exactly one of token_env"),
])
def test_inventory_mistakes_name_the_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(DeskbookError) as err:
        load_fleet(path)
    assert message in str(err.value) and f"desks.yaml:{line}" in str(err.value), str(err.value)
    assert "hunter22" not in str(err.value)


def test_an_undecodable_or_huge_inventory_is_one_line_naming_where(tmp_path):
    """desks.yaml goes through the same bounded reader as a playbook: the bad byte by line and
    column, a huge file refused by its size before it is read."""
    path = tmp_path / "desks.yaml"
    path.write_bytes(b"desks:\n  - name: caf\xe9\n")
    with pytest.raises(DeskbookError) as err:
        load_fleet(path)
    assert f"{path}:2:" in str(err.value), str(err.value)
    path.write_bytes(b"# " + b"x" * 5_000_000 + b"\n")
    with pytest.raises(DeskbookError, match="too big"):
        load_fleet(path)


@pytest.fixture
def desks(playbook_settings):  # noqa: F811
    """Three Zendesk sandboxes (latency: network-bound as against a real desk), each seeded."""
    names = tuple(n for n in {j.group_names.get(playbook_settings.default_locale)
                              for j in playbook_settings.jobs.values()} if n)
    with ExitStack() as stack:
        handles = [stack.enter_context(running_sandbox(rate_limits=NO_LIMITS, latency_ms=20, export_lag_seconds=EXPORT_LAG))
                   for _ in range(3)]
        for handle in handles:
            handle.orgs = seed(handle.store, names)
        yield handles


def inventory(tmp_path, handles, ledger: str | None = None):
    lines = [f"ledger: {ledger}"] if ledger else []
    lines.append("desks:")
    env = {}
    for n, h in enumerate(handles):
        lines += [f"  - name: brand-{n}", "    desk: zendesk", f"    url: {h.url}", f"    email: {h.email}",
                  f"    token_env: BRAND_{n}_TOKEN"]
        env[f"BRAND_{n}_TOKEN"] = h.token
    return write(tmp_path, "\n".join(lines) + "\n"), env


def assert_exactly_once(handles, settings, days):
    for h in handles:
        expected = expected_keys(h.orgs, settings, days)
        assert expected and desk_keys(h.store) == Counter({k: 1 for k in expected})


def run_cli(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "deskbook", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_local_fan_out_runs_every_desk_once(desks, playbook_settings, tmp_path):  # noqa: F811
    path, tokens = inventory(tmp_path, desks)
    env = dict(os.environ, DESKBOOK_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO), DESKBOOK_ZENDESK_EXPORT_LAG=str(EXPORT_LAG),
               **tokens)
    out = run_cli(["sync", "run", "--fleet", str(path), "--parallel", "3", "--as-of", AS_OF.isoformat(), "--json"], env)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)["desks"]
    assert [r["desk"] for r in results] == ["brand-0", "brand-1", "brand-2"]
    assert_exactly_once(desks, playbook_settings, [AS_OF])
    again = run_cli(["sync", "run", "--fleet", str(path), "--as-of", AS_OF.isoformat()], env)
    assert again.returncode == 0 and again.stdout.count("created 0") == 3, again.stdout
    for token in tokens.values():
        assert token not in out.stdout + out.stderr + again.stdout + again.stderr


def test_a_desk_without_its_token_fails_alone(desks, tmp_path):
    path, tokens = inventory(tmp_path, desks)
    tokens.pop("BRAND_1_TOKEN")
    env = dict(os.environ, DESKBOOK_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO), DESKBOOK_ZENDESK_EXPORT_LAG=str(EXPORT_LAG),
               **tokens)
    env.pop("BRAND_1_TOKEN", None)
    out = run_cli(["sync", "run", "--fleet", str(path), "--as-of", AS_OF.isoformat()], env)
    assert out.returncode == 1
    assert "brand-1: error: desk brand-1: no token (environment variable BRAND_1_TOKEN" in out.stdout
    assert "brand-0: " in out.stdout and "brand-2: " in out.stdout and "Traceback" not in out.stderr


def start_worker(env, name):
    return subprocess.Popen([sys.executable, "-m", "deskbook", "sync", "worker", "--concurrency", "1",
                             "--hostname", f"{name}@%h"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop(proc, sig=signal.SIGTERM):
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.service
@pytest.mark.slow
def test_celery_workers_with_postgres_exactly_once_through_a_killed_worker(
        desks, playbook_settings, tmp_path, postgres_url, redis_url):  # noqa: F811
    import psycopg

    path, tokens = inventory(tmp_path, desks, ledger=postgres_url)
    queue = f"deskbook-test-{uuid.uuid4().hex[:12]}"  # its own queue: other runs may share the broker
    env = dict(os.environ, DESKBOOK_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO), DESKBOOK_BROKER=redis_url,
               DESKBOOK_ZENDESK_EXPORT_LAG=str(EXPORT_LAG),  # the sandboxes' lag: the rebuilt ledgers read it live
               DESKBOOK_QUEUE=queue,
               DESKBOOK_VISIBILITY_TIMEOUT="5", **tokens)
    workers = [start_worker(env, "w1"), start_worker(env, "w2")]
    schemas = []
    try:
        out = run_cli(["sync", "run", "--fleet", str(path), "--celery", "--timeout", "240", "--as-of",
                       AS_OF.isoformat(), "--json"], env, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-2000:]
        assert_exactly_once(desks, playbook_settings, [AS_OF])
        schemas = [PostgresLocation.schema_for("zendesk", h.url) for h in desks]  # ours only: others may share the db
        # next month: kill one worker while the fleet runs, then run the fleet again (this submitter waits
        # for the killed worker's desk until its --timeout; only the retried run below is checked)
        later = date(2026, 7, 27)
        submit = subprocess.Popen([sys.executable, "-m", "deskbook", "sync", "run", "--fleet", str(path), "--celery",
                                   "--timeout", "5", "--as-of", later.isoformat()], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(sum(desk_keys(h.store).values()) for h in desks) == \
                sum(len(expected_keys(h.orgs, playbook_settings, [AS_OF])) for h in desks):
            time.sleep(0.02)
        stop(workers[0], signal.SIGKILL)
        submit.communicate(timeout=120)
        retried = run_cli(["sync", "run", "--fleet", str(path), "--celery", "--timeout", "240", "--as-of",
                           later.isoformat()], env, timeout=300)
        assert retried.returncode == 0, retried.stderr[-3000:] + retried.stdout[-2000:]
        assert_exactly_once(desks, playbook_settings, [AS_OF, later])
        # the PostgreSQL ledger lost: rebuilt from the desks, nothing created twice
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        rebuilt = run_cli(["sync", "run", "--fleet", str(path), "--celery", "--timeout", "240", "--as-of",
                           later.isoformat(), "--json"], env, timeout=300)
        assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
        assert all(sum(j["created"] for j in r["report"]["jobs"].values()) == 0
                   for r in json.loads(rebuilt.stdout)["desks"])
        assert_exactly_once(desks, playbook_settings, [AS_OF, later])
    finally:
        for w in workers:
            stop(w)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            for h in desks:
                conn.execute(f'DROP SCHEMA IF EXISTS "{PostgresLocation.schema_for("zendesk", h.url)}" CASCADE')

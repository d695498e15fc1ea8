"""`deskbook apply --doit` killed with SIGKILL at random moments against a Zendesk sandbox that stores
its writes late: afterwards exactly one managed copy of every object, and nothing left to plan.

Seen before the apply intent log: a killed run's POST landed after the next run had listed the
kind, and that run created a second copy (a supervisor-notification trigger twice)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from deskbook.connectors.zendesk.connector import ZendeskConnector
from deskbook.connectors.zendesk.sandbox import running_sandbox

PLAYBOOK = Path(__file__).parent / "data" / "playbooks" / "minimal.yaml"
NAME = "minimal"
WRITE_DELAY = 2.0  # the desk stores each create this long after it arrives: longer than a run takes to list


def managed_copies(desk) -> Counter:
    connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
    return Counter((e.kind, e.key) for e in connector.populate(NAME).existing if e.owner == NAME)


def test_apply_killed_at_random_moments_on_a_slow_desk_leaves_one_copy_of_each_object(tmp_path):
    rng = random.Random(20261206)
    with running_sandbox(write_delay_seconds=WRITE_DELAY) as desk:
        env = {**os.environ, "DESKBOOK_HOME": str(tmp_path), "DESKBOOK_HTTP_TIMEOUT": "3",
               "ZENDESK_URL": desk.url, "ZENDESK_EMAIL": desk.email, "ZENDESK_API_TOKEN": desk.token}
        apply = [sys.executable, "-m", "deskbook", "apply", "--desk", "zendesk", "--playbook", str(PLAYBOOK), "--doit"]

        def start() -> subprocess.Popen:
            return subprocess.Popen(apply, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def kill(process: subprocess.Popen) -> None:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()

        killed_in_flight = 0
        for _ in range(3):
            # a run killed while one of its creates is in flight: the desk stores it after the kill ...
            first = start()
            deadline = time.monotonic() + 60
            while desk.app.writes_in_flight == 0 and first.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, WRITE_DELAY * 0.5))
            killed_in_flight += desk.app.writes_in_flight > 0 and first.poll() is None
            kill(first)
            # ... while the next run, started at once, lists the desk; it is killed at any moment or ends
            second = start()
            try:
                second.wait(timeout=rng.uniform(0.5, 8.0))
            except subprocess.TimeoutExpired:
                pass
            kill(second)
            time.sleep(WRITE_DELAY * 1.5)  # every write sent so far has landed
            copies = managed_copies(desk)
            assert {k: n for k, n in copies.items() if n > 1} == {}
        assert killed_in_flight >= 2, "the test must kill runs whose creates were still in flight"

        desk.app.write_delay_seconds = 0.0  # the last run, to its end, on a quick desk
        done = subprocess.run(apply, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        copies = managed_copies(desk)
        assert copies and {k: n for k, n in copies.items() if n > 1} == {}
        replan = subprocess.run([*apply[:-1]], env=env, capture_output=True, text=True, timeout=300)
        assert replan.returncode == 0 and "No changes" in replan.stdout, replan.stdout + replan.stderr
        assert not list(tmp_path.glob("apply-*.jsonl")), "a finished apply removes its intent log"


def test_the_intent_log_survives_a_line_cut_short_and_forgets_confirmed_creates(tmp_path):
    from deskbook.connectors.intents import CreateIntents, intents_path_for

    path = intents_path_for("zendesk", "https://admin:s3cret@acme.zendesk.com/", "standard-service", home=tmp_path)
    assert "s3cret" not in str(path) and "admin" not in str(path) and path.parent == tmp_path
    log = CreateIntents(path)
    log.sending("trigger", "notify")
    log.sending("macro", "greeting")
    log.confirmed("macro", "greeting")
    log.close()
    with open(path, "a", encoding="utf-8") as file:
        file.write('{"kind": "view", "ke')  # the kill came mid-line
    again = CreateIntents(path)
    assert list(again.unconfirmed) == [("trigger", "notify")]
    again.finish()
    assert not path.exists() and CreateIntents(path).unconfirmed == {}

"""An operable `sync serve`: timestamped or JSON log lines, one line per event, /healthz and /metrics."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from deskbook.sync.metrics import SyncMetrics
from deskbook.sync.runner import JobReport, SyncReport
from test_sync_zendesk import cli_sandbox, desk_keys, playbook_settings, subprocess_env  # noqa: F401


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def report(created=3, failed=0, interrupted=False) -> SyncReport:
    from datetime import date

    jobs = {"renewals": JobReport(created=created, failed=failed), "callbacks": JobReport(already_done=2)}
    return SyncReport(as_of=date(2026, 12, 7), dry_run=False, jobs=jobs, organizations=40,
                      requests={"GET /api/v2/organizations": 2, "POST /api/v2/tickets": created}, interrupted=interrupted)


def test_health_follows_the_runs():
    clock = SimpleNamespace(now=1000.0)
    metrics = SyncMetrics(stale_after=100, clock=lambda: clock.now)
    assert metrics.health()[0] == 200 and metrics.health()[1]["status"] == "starting"
    clock.now = 1200.0
    assert metrics.health()[1]["status"] == "stale"  # no run has succeeded for two periods
    metrics.observe(report())
    assert metrics.health() [0] == 200 and metrics.health()[1]["status"] == "ok"
    metrics.observe(report(failed=1))
    status, body = metrics.health()
    assert status == 503 and "1 task(s) failed" in body["reason"]
    metrics.observe(report())
    clock.now = 1350.0
    assert metrics.health()[0] == 503  # the last success is too old
    metrics.crashed("cannot reach the desk")
    assert metrics.health()[1]["reason"] == "cannot reach the desk"


def test_metrics_text_parses_and_counts_add_up():
    metrics = SyncMetrics(stale_after=100)
    metrics.observe(report(created=3))
    metrics.observe(report(created=2))
    status, headers, text = None, None, None
    body = []
    metrics.wsgi({"PATH_INFO": "/metrics"}, lambda s, h: body.append((s, h)))
    families = {f.name: f for f in text_string_to_metric_families(
        b"".join(metrics.wsgi({"PATH_INFO": "/metrics"}, lambda s, h: None)).decode())}
    created = {s.labels["job"]: s.value for s in families["deskbook_sync_tasks"].samples
               if s.name.endswith("_total") and s.labels["outcome"] == "created"}
    assert created == {"renewals": 5.0, "callbacks": 0.0}
    requests = {s.labels["endpoint"]: s.value for s in families["deskbook_sync_requests"].samples if s.name.endswith("_total")}
    assert requests["POST /api/v2/tickets"] == 5.0
    assert [s.value for s in families["deskbook_sync_last_success_timestamp_seconds"].samples][0] > 0


@pytest.mark.slow
def test_serve_answers_healthz_and_metrics_and_logs_json_lines(cli_sandbox, tmp_path):  # noqa: F811
    port = free_port()
    env = subprocess_env(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "deskbook", "--log-format", "json", "sync", "serve", "--interval-seconds", "30",
         "--metrics-port", str(port), "--url", cli_sandbox.url, "--email", cli_sandbox.email, "--token",
         cli_sandbox.token, "--ledger", str(tmp_path / "l.sqlite")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 40
        families = {}
        while time.monotonic() < deadline:
            try:
                status, text = get(f"http://127.0.0.1:{port}/metrics")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
                continue
            families = {f.name: f for f in text_string_to_metric_families(text)}
            runs = [s for s in families["deskbook_sync_runs"].samples if s.name.endswith("_total")]
            if any(s.value >= 1 for s in runs):
                break
            time.sleep(0.2)
        status, body = get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok", body
        created = sum(s.value for s in families["deskbook_sync_tasks"].samples
                      if s.name.endswith("_total") and s.labels["outcome"] == "created")
        assert created == sum(desk_keys(cli_sandbox.store).values()) > 0
        proc.send_signal(15)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is JSON
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"]) for line in lines)
    finished = [line for line in lines if line.get("event") == "run_finished"]
    assert len(finished) == 1 and finished[0]["tasks_created"] == created
    per_job = [line for line in lines if line.get("event") == "job_counts"]
    assert sorted(line["job"] for line in per_job) == ["callbacks", "followups", "renewals"]  # once each
    assert cli_sandbox.token not in err


def test_text_log_lines_carry_a_timestamp(cli_sandbox, tmp_path):  # noqa: F811
    out = subprocess.run([sys.executable, "-m", "deskbook", "-v", "sync", "run", "--dry-run", "--url", cli_sandbox.url,
                          "--email", cli_sandbox.email, "--token", cli_sandbox.token, "--ledger", str(tmp_path / "x.sqlite")],
                         capture_output=True, text=True, env=subprocess_env(tmp_path), timeout=120)
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert out.returncode == 0 and len(lines) >= 3, out.stderr
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) deskbook", line)
               for line in lines), out.stderr

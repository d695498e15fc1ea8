"""Rate-limit headroom: the desk's rate-limit headers are read in one place (`DeskSession`), a sync
run is paced to stay under its share of the account's limit, and the run report says the share used."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import datetime, timezone

import pytest
from prometheus_client import generate_latest
import requests
import responses

from deskbook.connectors.zendesk.sandbox import FakeClock, running_sandbox
from deskbook.connectors.zendesk.sync_desk import connect
from deskbook.errors import DeskbookError
from deskbook.http import DeskSession, RateHeadroom, parse_rate_limit, rate_share_from_env
from deskbook.sync.ledger import Ledger
from deskbook.sync.metrics import SyncMetrics
from deskbook.sync.runner import run_jobs

from test_sync_zendesk import AS_OF, SETTINGS, seed

BASE = "https://acme.zendesk.com"


def _recorded_headers(shared, want) -> dict:
    """The headers of the first recorded Zendesk exchange whose lower-cased header names satisfy `want`."""
    for path in sorted((shared / "zendesk" / "recordings").glob("*.json")):
        data = json.loads(path.read_text())
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                headers = node.get("headers")
                if isinstance(headers, dict) and want({k.lower() for k in headers}):
                    return headers
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    pytest.skip("no recorded exchange with these headers")


def test_zendesk_recorded_headers_prefer_the_account_limit(shared):
    both = _recorded_headers(shared, lambda names: {"ratelimit-limit", "ratelimit-reset", "x-rate-limit"} <= names)
    lower = {k.lower(): v for k, v in both.items()}
    parsed = parse_rate_limit(both)
    assert parsed.limit == int(lower["ratelimit-limit"]) and parsed.account
    assert parsed.remaining == int(lower["ratelimit-remaining"])
    assert parsed.reset_seconds == float(lower["ratelimit-reset"])
    # an endpoint with its own limit (webhooks) reports only X-Rate-Limit: not known to be the account's
    only = _recorded_headers(shared, lambda names: "x-rate-limit" in names and "ratelimit-limit" not in names)
    lower = {k.lower(): v for k, v in only.items()}
    parsed = parse_rate_limit(only)
    assert parsed.limit == int(lower["x-rate-limit"]) and not parsed.account
    assert parsed.remaining == int(lower["x-rate-limit-remaining"]) and parsed.reset_seconds is None


def test_jira_headers_reset_as_iso_timestamp_and_retry_after():
    now = datetime(2026, 12, 6, 20, 30, 15, tzinfo=timezone.utc).timestamp()
    parsed = parse_rate_limit({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "7",
                               "X-RateLimit-Reset": "2026-12-06T20:31Z", "Retry-After": "12"}, now=now)
    assert (parsed.limit, parsed.remaining, parsed.reset_seconds, parsed.retry_after) == (100, 7, 45.0, 12.0)
    assert not parsed.account
    assert parse_rate_limit({"Content-Type": "application/json"}) is None
    assert parse_rate_limit({"X-Rate-Limit": "None", "X-Rate-Limit-Remaining": "None"}) is None


def test_the_share_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("DESKBOOK_RATE_SHARE", raising=False)
    assert rate_share_from_env() == 0.5
    for value, share in (("0.25", 0.25), ("30%", 0.3), ("1", 1.0)):
        monkeypatch.setenv("DESKBOOK_RATE_SHARE", value)
        assert rate_share_from_env() == share
    for bad in ("0", "1.5", "lots", "-10%"):
        monkeypatch.setenv("DESKBOOK_RATE_SHARE", bad)
        with pytest.raises(DeskbookError, match="DESKBOOK_RATE_SHARE"):
            rate_share_from_env()


def test_the_budget_waits_for_the_oldest_request_to_leave_the_window():
    now = [1000.0]
    headroom = RateHeadroom(share=0.5, clock=lambda: now[0])
    assert headroom.delay() == 0.0
    headroom.observe({"ratelimit-limit": "4", "ratelimit-remaining": "3", "ratelimit-reset": "60"})
    for step in range(2):
        assert headroom.delay() == 0.0
        headroom.sent()
        now[0] += 1
    assert headroom.delay() == pytest.approx(58.0)  # two requests (= 50 % of 4) in the last minute
    assert headroom.peak == 0.5


@responses.activate
def test_no_pacing_and_no_share_when_the_desk_sends_no_limit_headers():
    responses.get(BASE + "/api/v2/views", json={"views": []})
    slept: list[float] = []
    session = DeskSession(BASE, sleep=slept.append, timeout=5)
    session.headroom.start(0.1)
    for _ in range(30):
        session.get("/api/v2/views")
    assert slept == [] and session.headroom.peak is None
    assert session.calls == Counter({"GET /api/v2/views": 30})


@responses.activate
def test_pacing_is_off_unless_a_run_turns_it_on():
    responses.get(BASE + "/api/v2/views", json={"views": []},
                  headers={"X-Rate-Limit": "4", "X-Rate-Limit-Remaining": "3"})
    slept: list[float] = []
    session = DeskSession(BASE, sleep=slept.append, timeout=5)
    for _ in range(10):
        session.get("/api/v2/views")
    assert slept == []
    session.headroom.start(0.5)
    for _ in range(3):
        session.get("/api/v2/views")
    assert slept and session.calls["GET /api/v2/views"] == 13


def test_a_sync_run_stays_under_its_share_of_a_small_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKBOOK_RATE_SHARE", "50%")
    clock = FakeClock(start=1_800_000_000.0)  # on a minute boundary
    limits = {"account": 6, "incremental": 10**9, "search_export": 10**9}
    with running_sandbox(clock=clock, rate_limits=limits) as handle:
        seed(handle.store)
        seen: list[float] = []
        check = handle.app.limiter.check

        def counting(klass="account"):
            seen.append(clock.now())
            return check(klass)

        handle.app.limiter.check = counting
        desk = connect(handle.url, handle.email, handle.token,
                       session_options={"sleep": clock.advance, "clock": clock.now})
        ledger = Ledger(tmp_path / "l.sqlite")
        try:
            report = run_jobs(desk, ledger, SETTINGS, as_of=AS_OF)
        finally:
            ledger.close()
    assert report.failed == 0 and sum(j.created for j in report.jobs.values()) == 7
    assert len(seen) == sum(report.requests.values()) > 6  # more than one window's worth
    assert not any(desk.session.retries.values())  # never a 429
    per_minute = Counter(int(t // 60) for t in seen)
    assert max(per_minute.values()) <= 3, per_minute  # 50 % of 6 in every window of the desk
    assert report.rate_share == 0.5
    assert report.to_json()["rate_share"] == 0.5
    assert "rate limit: at most 50% of the desk's limit in any minute (budget 50%)" in report.text()
    metrics = SyncMetrics(stale_after=3600)
    metrics.observe(report)
    assert "deskbook_sync_rate_limit_share 0.5" in generate_latest(metrics.registry).decode()


def test_a_run_against_an_unlimited_desk_reports_its_small_share(tmp_path):
    with running_sandbox(rate_limits={"account": 10**4, "incremental": 10**9, "search_export": 10**9}) as handle:
        seed(handle.store)
        desk = connect(handle.url, handle.email, handle.token)
        ledger = Ledger(tmp_path / "l.sqlite")
        try:
            report = run_jobs(desk, ledger, SETTINGS, as_of=AS_OF)
        finally:
            ledger.close()
    assert report.rate_share is not None and 0 < report.rate_share < 0.01
    assert desk.session.waited_seconds == 0 and desk.session.headroom.paced_seconds == 0


def test_the_zendesk_sandbox_sends_the_account_headers_zendesk_sends():
    clock = FakeClock(start=1_800_000_000.0 + 15)  # 15 s into a minute
    with running_sandbox(clock=clock, rate_limits={"account": 5, "incremental": 2}) as handle:
        get = lambda path: requests.get(handle.url + path, auth=handle.auth)  # noqa: E731
        plain = get("/api/v2/groups.json")
        export = get("/api/v2/incremental/organizations.json?start_time=0")
    assert {k: plain.headers[k] for k in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")} == {
        "ratelimit-limit": "5", "ratelimit-remaining": "4", "ratelimit-reset": "45"}
    # the incremental export's own limit in X-Rate-Limit, the account's in ratelimit-*
    assert (export.headers["X-Rate-Limit"], export.headers["X-Rate-Limit-Remaining"]) == ("2", "1")
    parsed = parse_rate_limit(export.headers)
    assert (parsed.limit, parsed.remaining, parsed.reset_seconds, parsed.account) == (5, 3, 45.0, True)


def test_the_jsm_sandbox_refusal_carries_x_ratelimit_reset():
    from deskbook.connectors.jsm.sandbox import running_sandbox as jsm_sandbox

    clock = FakeClock(start=1_800_000_000.0 + 15)
    with jsm_sandbox(rate_limit_per_minute=1, clock=clock) as handle:
        get = lambda: requests.get(handle.url + "/rest/servicedeskapi/servicedesk",  # noqa: E731
                                   auth=(handle.email, handle.token))
        first, refused = get(), get()
    assert "X-RateLimit-Reset" not in first.headers and first.headers["X-RateLimit-Limit"] == "1"
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "45"
    assert refused.headers["X-RateLimit-Reset"] == "2027-01-15T08:01Z"
    parsed = parse_rate_limit(refused.headers, now=clock.now())
    assert (parsed.limit, parsed.remaining, parsed.reset_seconds, parsed.retry_after) == (1, 0, 45.0, 45.0)


def test_sync_rate_share_option_sets_the_share_and_refuses_a_bad_one(capsys, monkeypatch, tmp_path):
    from deskbook.cli import main

    monkeypatch.delenv("DESKBOOK_RATE_SHARE", raising=False)
    monkeypatch.setenv("DESKBOOK_HOME", str(tmp_path))
    code = main(["sync", "run", "--desk", "zendesk", "--rate-share", "120%", "--url", "https://acme.zendesk.com"])
    err = capsys.readouterr().err
    assert code != 0 and "--rate-share" in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) <= 2
    from deskbook.sync.cli import apply_rate_share

    apply_rate_share(argparse.Namespace(rate_share="25%"))
    assert rate_share_from_env() == 0.25

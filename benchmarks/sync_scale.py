"""Scale benchmark of `deskbook sync` against the sandbox desks (not a timed test).

Seeds the sandbox with N organizations (default 100,000) and prints, for each run, the
requests by endpoint, reads/writes, wall time and the runner's peak RSS, beside the goals.

Zendesk (`--desk zendesk`, default):

1. first run (empty ledger)            reads <= ceil(N/1000) + 10 + at most one job status read per bulk create,
                                       writes <= ceil(due items / 100) (bulk creates; with
                                       DESKBOOK_BULK=0 one per item, as before bulk creates)
2. second run, same day                reads <= 5, writes 0
3. next day                            reads <= 5 (+ job polls), writes <= ceil(newly due / 100)
   (each run also shows the S-11 survey job: one organization write per newly surveyed customer,
   no read of its own beyond the ticket pages, and one ticket-field list when they hold a survey)
4. naive baseline: list every organization (100 per page), then one ticket search per
   organization — measured on a sample of organizations and extrapolated to N.
5. `--wall`: wall time of the first run, batched, against one create per task (`DESKBOOK_BULK=0`,
   how every task was made before bulk creates), each on a freshly seeded sandbox. Goal: batched
   <= 0.2 x. Shown without an export lag and with Zendesk's 60 s lag (run 1 above). The export hides
   every ticket updated in its last minute, so before its first batch a new or rebuilt ledger reads
   the tickets changed since the export's end live, newest first (`deskbook.sync.runner`, "Bulk
   creates"; `GET /api/v2/tickets` in the rows: one page when nothing changed meanwhile) instead of
   waiting the minute out, and checks that read against the export once the lag has passed (one
   more export page, in the same run when it outlasts the lag, else in the next).

JSM (`--desk jsm`): JSM has no change feed, so every run lists the desk's organizations (50 per
page) and reads their contract data from Customer Service Management detail fields, 25 profiles a
call: F = ceil(N/50) + ceil(N/25) (goal F + 50). Tickets are read by JQL, incrementally after the
first run; a task also looks its requester's accountId up once (cached per email).
A run that raises requests also reads the request types once and, for each type named as a sync
job's, its owner property (deskbook's marker is a request type property, not in the portal-visible
description): J = one read per sync job, included in the goals below; it also reads the request type
list once and the form of each request type it raises (which fields a create may carry, FACTS.md
3.3): at most 1 + J more, in the next day's goal (the first run's fits its margin). Every run also makes one JQL
search for the request ids search has not indexed yet (JSM's search lags a create, FACTS.md 8.2:
`JsmClient.unindexed_ids`), the 6th of the fixed reads below.

1. first run (empty ledger)            reads <= F + ceil(R/100) + customers + 5 + J (R = resolved requests),
                                       writes <= 4 x due items (request, key label + Organizations edit,
                                       internal note, finished mark)
2. second run, same day                reads <= F + ceil(P/100) + 6, writes 0 (P = requests raised
                                       since the previous scan began, less 1 h: that run's own)
3. next day                            reads <= F + ceil(P/100) + 6 + (1 + 2J) + customers, writes <= 4 x newly due items
`--scan-only` measures just the organization scan (the part every run repeats) at N.
4. naive baseline: the same listing and property reads, plus one JQL search per organization
   for its existing requests — measured on a sample and extrapolated to N.

Each sync run is a separate process (so its peak RSS is its own): this script re-runs itself
with `--worker`. Usage: `python benchmarks/sync_scale.py [--desk zendesk|jsm] [--orgs 100000]
[--naive-sample 2000]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

RSS_GOAL_MB = 200


def peak_rss_mb() -> float:
    """This process's peak RSS since exec (VmHWM). `ru_maxrss` is not used: it survives exec and so
    includes the benchmark parent's memory copied at fork time."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args: argparse.Namespace) -> None:
    """One sync run in this process; prints a JSON line with counts, wall time and peak RSS."""
    from deskbook.sync.jobs import SyncSettings, load_settings
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.runner import run_jobs

    try:
        settings = load_settings(None)
    except Exception:  # noqa: BLE001 - the benchmark also runs before the shipped playbook exists
        settings = SyncSettings()
    if args.desk == "jsm":
        from deskbook.connectors.jsm.client import JsmClient, JsmConnection
        from deskbook.connectors.jsm.sync_desk import JsmSyncDesk

        client = JsmClient(JsmConnection(url=args.url, email=args.email, token=args.token))
        desk = JsmSyncDesk(client, contract_end_field=settings.contract_end_field, tier_field=settings.tier_field,
                           playbook_name=settings.playbook_name)
    else:
        from deskbook.connectors.zendesk.sync_desk import connect

        desk = connect(args.url, args.email, args.token, contract_end_field=settings.contract_end_field,
                       tier_field=settings.tier_field, playbook_name=settings.playbook_name)
    ledger = Ledger(args.ledger)
    started = time.perf_counter()
    from deskbook.sync.jobs import selected_jobs

    report = run_jobs(desk, ledger, settings, as_of=date.fromisoformat(args.as_of), jobs=selected_jobs(None))
    wall = time.perf_counter() - started
    ledger.close()
    rss_mb = peak_rss_mb()
    print(json.dumps({"requests": dict(desk.calls), "wall": wall, "rss_mb": rss_mb,
                      "created": sum(j.created for name, j in report.jobs.items() if name != "surveys"),
                      "survey_records": report.jobs["surveys"].created if "surveys" in report.jobs else None,
                      "failed": report.failed, "organizations": report.organizations,
                      "duplicates": report.duplicates}))


def run_worker(handle, ledger: Path, as_of: date, desk: str = "zendesk", env: dict | None = None) -> dict:
    """Run one sync in a subprocess (`env`: extra environment) and return its JSON line."""
    cmd = [sys.executable, __file__, "--worker", "--desk", desk, "--url", handle.url, "--email", handle.email,
           "--token", handle.token, "--ledger", str(ledger), "--as-of", as_of.isoformat()]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})})
    if out.returncode != 0:
        sys.exit(f"worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive_baseline(handle, sample: int) -> dict:
    """List every organization, then one ticket search per organization (on `sample` of them)."""
    from deskbook.connectors.zendesk.client import ZendeskClient
    from deskbook.http import CursorPaginator

    session = ZendeskClient(handle.url, handle.email, handle.token).session
    started = time.perf_counter()
    ids = [org["id"] for org in CursorPaginator(100).iter_items(session, "/api/v2/organizations.json", "organizations")]
    listed = time.perf_counter() - started
    searched = 0
    for org_id in ids[:sample]:
        session.get_json("/api/v2/search.json", params={"query": f"type:ticket organization:{org_id} tags:deskbook"})
        searched += 1
    wall = time.perf_counter() - started
    per_search = (wall - listed) / max(1, searched)
    scale = len(ids) / max(1, searched)
    calls = Counter(session.calls)
    extrapolated = {k: (round(v * scale) if "search" in k else v) for k, v in calls.items()}
    return {"requests": dict(calls), "extrapolated": extrapolated, "wall": wall,
            "wall_extrapolated": listed + per_search * len(ids), "sampled": searched, "organizations": len(ids)}


def seed(store, count: int, as_of: date) -> None:
    """`count` organizations with the playbook's tiers (key/regular/new) and contract end dates spread
    over two years around `as_of`, plus a first solved ticket for 2% of them."""
    import random

    from deskbook.connectors.zendesk.sandbox.seed import ensure_seed_fields
    from deskbook.connectors.zendesk.sandbox.store import iso

    ensure_seed_fields(store)
    rng = random.Random(1)
    now = int(store.now())
    tiers = ("key", "regular", "regular", "regular", "new")
    docs = []
    for n in range(count):
        stamp = iso(now - 2 * count + n)
        end = as_of + timedelta(days=rng.randint(-180, 540))
        docs.append({"name": f"Customer {n:06d}", "tags": [], "external_id": None, "created_at": stamp,
                     "updated_at": stamp, "organization_fields": {"contract_end_date": end.isoformat(),
                                                                  "customer_tier": tiers[n % len(tiers)]}})
    created = store.insert_many("organization", docs)
    from deskbook.connectors.zendesk.sandbox.rules import build_organization_field

    for key, kind in (("survey_date", "date"), ("survey_ticket", "text"), ("survey_response_speed", "integer"),
                      ("survey_resolution", "integer"), ("survey_attitude", "integer"),
                      ("survey_last_suggestions", "textarea")):  # the shipped playbook's S-11 record
        store.insert("organization_field", build_organization_field({"key": key, "title": key, "type": kind}, None, store))
    tickets = []
    for n, doc in enumerate(created[:: 50]):
        day = (as_of - timedelta(days=rng.randint(0, 20))).isoformat()
        # every other first service was surveyed: the S-11 job writes its scores onto the record
        tags = [f"{field}__score_{rng.randint(1, 5)}" for field in ("score_response_speed", "score_resolution",
                                                                     "score_attitude")] if n % 2 == 0 else []
        tickets.append({"organization_id": doc["id"], "status": "solved", "subject": "first service", "tags": tags,
                        "created_at": day + "T08:00:00Z", "updated_at": day + "T09:00:00Z"})
    from deskbook.connectors.zendesk.sandbox.rules import ticket_defaults

    store.insert_many("ticket", [{**ticket_defaults(store), **t} for t in tickets])


def seed_jsm(store, count: int, as_of: date) -> int:
    """`count` organizations (tiers key/regular/new, contract ends over two years around `as_of`),
    each with a contact customer and the contract property, plus a first resolved request for 2% of
    them; returns how many resolved requests were made."""
    import random

    from deskbook.connectors.jsm.client import CONTRACT_PROPERTY
    from deskbook.connectors.jsm.sandbox.store import now_iso

    rng = random.Random(1)
    tiers = ("key", "regular", "regular", "regular", "new")
    first_org = store.next_id("organization")
    orgs, customers = [], []
    for n in range(count):
        org_id = str(first_org + n)
        contact = {"accountId": f"qm:bench:{n:07d}", "emailAddress": f"contact{n}@customer{n}.example",
                   "displayName": f"Contact {n}"}
        customers.append((contact["accountId"], contact))
        end = as_of + timedelta(days=rng.randint(-180, 540))
        orgs.append((org_id, {"id": org_id, "name": f"Customer {n:06d}", "uuid": f"bench-{n}", "created": now_iso(),
                              "users": [contact["accountId"]],
                              # the contract data in CSM detail fields (what sync reads when CSM is on)
                              "details": {"contract_end_date": [end.isoformat()],
                                          "customer_tier": [tiers[n % len(tiers)]],
                                          "contact_email": [contact["emailAddress"]]},
                              "properties": {CONTRACT_PROPERTY: {"contract_end_date": end.isoformat(),
                                                                 "customer_tier": tiers[n % len(tiers)],
                                                                 "contact_email": contact["emailAddress"]}}}))
    store.db.execute("UPDATE sequences SET next = ? WHERE kind = 'organization'", (first_org + count,))
    store.put_many("customer", customers)
    store.put_many("organization", orgs)
    from deskbook.connectors.jsm.sandbox.app import attach_organizations

    attach_organizations(store, [org_id for org_id, _ in orgs])  # the desk's organizations, as sync lists them
    desk = store.all("servicedesk")[0]
    resolved = []
    for org_id, org in orgs[::50]:
        number = store.next_id("issue_number")
        day = (as_of - timedelta(days=rng.randint(0, 20))).isoformat()
        key = f"{desk['projectKey']}-{number}"
        resolved.append((key, {"id": str(store.next_id("request")), "key": key, "summary": "first service",
                               "description": "", "labels": [], "requestTypeId": "", "serviceDeskId": desk["id"],
                               "projectKey": desk["projectKey"], "projectId": desk["projectId"],
                               "reporter": org["users"][0], "status": "Resolved", "priority": "Medium",
                               "created": day + "T08:00:00.000+0000", "resolutiondate": day + "T09:00:00.000+0000",
                               "properties": {}, "comments": [], "participants": [], "organizations": [org_id]}))
    store.put_many("request", resolved)
    return len(resolved)


def install_jsm(handle) -> None:
    """Apply the shipped playbook (it creates the sync jobs' request types)."""
    from deskbook.connectors.jsm.client import JsmClient, JsmConnection
    from deskbook.connectors.jsm.connector import JsmConnector
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    connector = JsmConnector(JsmClient(JsmConnection(url=handle.url, email=handle.email, token=handle.token,
                                                     project_key=handle.project_key, cloud_id=handle.cloud_id)))
    plan, snapshot = connector.plan_playbook(load_playbook(None), load_library())
    connector.apply(plan, snapshot)


def scan_jsm(handle, goal: int) -> None:
    """One full organization scan through the sync desk, as every daily run starts: requests by endpoint."""
    from deskbook.connectors.jsm.client import JsmClient, JsmConnection
    from deskbook.connectors.jsm.sync_desk import JsmSyncDesk

    desk = JsmSyncDesk(JsmClient(JsmConnection(url=handle.url, email=handle.email, token=handle.token,
                                               project_key=handle.project_key, cloud_id=handle.cloud_id)))
    started = time.perf_counter()
    seen = sum(len(page.organizations) for page in desk.organization_pages(None))
    calls = Counter(desk.calls)
    print(f"\n== organization scan ({seen} organizations with their contract data)")
    for endpoint, count in sorted(calls.items()):
        print(f"   {count:>8}  {endpoint}")
    print(f"   requests {sum(calls.values())} (goal <= {goal}); wall {time.perf_counter() - started:.1f}s")


def naive_baseline_jsm(handle, sample: int) -> dict:
    """List every organization, read its property, one JQL search per organization (on `sample`)."""
    from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection

    client = JsmClient(JsmConnection(url=handle.url, email=handle.email, token=handle.token))
    started = time.perf_counter()
    ids = [org["id"] for org in client.iter_organizations()]
    listed = time.perf_counter() - started
    for org_id in ids[:sample]:
        client.organization_property(org_id, CONTRACT_PROPERTY)
        list(client.search(f"project = SUP AND organizations = {org_id} AND labels = deskbook-sync", fields=["labels"]))
    wall = time.perf_counter() - started
    scale = len(ids) / max(1, min(sample, len(ids)))
    calls = Counter(client.calls)
    extrapolated = {k: (round(v * scale) if ("property" in k or "search" in k) else v) for k, v in calls.items()}
    return {"requests": dict(calls), "extrapolated": extrapolated, "wall": wall,
            "wall_extrapolated": listed + (wall - listed) * scale, "sampled": min(sample, len(ids)),
            "organizations": len(ids)}


def forecast_row(ledger: Path, as_of: date) -> None:
    """The next quarter's callbacks per working day from the ledger's organization index (no desk call):
    the busiest working day against the mean (goal <= 1.25 x; before the spread, all on day one)."""
    from deskbook.sync.forecast import forecast
    from deskbook.sync.jobs import load_settings
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.schedule import period_end

    settings = load_settings(None).schedule
    start = period_end(as_of, "quarterly") + timedelta(days=1)
    end = period_end(start, "quarterly")
    store = Ledger(ledger)
    try:
        orgs = list(store.iter_organizations())
        done = store.done_keys()
    finally:
        store.close()
    result = forecast(orgs, start, (end - start).days + 1, settings, done)
    unspread = forecast(orgs, start, (end - start).days + 1, dataclasses.replace(settings, calendar=None), done)
    workdays = [row["callbacks"] for row in result.rows() if settings.calendar.is_workday(date.fromisoformat(row["date"]))]
    mean = sum(workdays) / max(1, len(workdays))
    day, busiest = result.busiest("callbacks")
    print(f"\n== callbacks forecast {start.isoformat()} to {end.isoformat()} ({len(workdays)} working days)")
    print(f"   {sum(workdays)} callbacks; mean {mean:.1f} per working day; busiest {busiest} on {day} "
          f"= {busiest / max(mean, 1e-9):.3f} x mean (goal <= 1.25 x)")
    old_day, old_busiest = unspread.busiest("callbacks")
    print(f"   before the spread (due on each period's first day): busiest {old_busiest} on {old_day} "
          f"= {old_busiest / max(mean, 1e-9):.1f} x mean")


def reads_writes(requests: dict) -> tuple[int, int]:
    """(reads, writes): GETs, and POST /search/jql and CSM profile fetches (reads with a body), are reads."""
    reads = sum(n for k, n in requests.items() if k.startswith("GET ") or k.endswith(("/search/jql", "/profile/fetch")))
    return reads, sum(requests.values()) - reads


def show(title: str, result: dict, read_goal: str, write_goal: str) -> None:
    """Print one run's numbers beside its goals."""
    reads, writes = reads_writes(result["requests"])
    print(f"\n== {title}")
    for endpoint, count in sorted(result["requests"].items()):
        print(f"   {count:>8}  {endpoint}")
    print(f"   reads {reads} (goal {read_goal}); writes {writes} (goal {write_goal}); created {result.get('created', '-')}")
    print(f"   wall {result['wall']:.1f}s; peak RSS {result.get('rss_mb', float('nan')):.0f} MB (goal <= {RSS_GOAL_MB} MB)")
    live = result["requests"].get("GET /api/v2/tickets", 0)
    if live:
        print(f"   live catch-up read of the new ledger: {live} List Tickets page(s); duplicates reported by its "
              f"check: {len(result.get('duplicates') or [])}")
    if result.get("survey_records") is not None:
        writes_by_survey = sum(n for endpoint, n in result["requests"].items() if endpoint.startswith("PUT /api/v2/organizations"))
        print(f"   S-11 surveys: {result['survey_records']} customer records written ({writes_by_survey} writes, "
              "goal: one per newly surveyed customer; reads: the ticket pages above, plus one ticket-field list when a page holds a survey)")


def first_run_fresh(orgs: int, as_of: date, *, lag: float, bulk: bool) -> dict:
    """The first run (empty ledger) on a freshly seeded sandbox whose exports leave out the last `lag`
    seconds, with bulk creates or one create per task (`DESKBOOK_BULK=0`)."""
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    unlimited = {"account": 10**9, "incremental": 10**9, "search_export": 10**9}
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(rate_limits=unlimited, export_lag_seconds=lag) as handle:
        seed(handle.store, orgs, as_of)
        return run_worker(handle, Path(tmp) / "ledger.sqlite", as_of,
                          env={"DESKBOOK_ZENDESK_EXPORT_LAG": str(lag), "DESKBOOK_BULK": "1" if bulk else "0"})


def wall_rows(orgs: int, as_of: date, batched_with_lag: dict) -> None:
    """Wall time of the first run against one create per task (the goal: <= 0.2 x), with Zendesk's
    one-minute export lag (a new ledger reads the hidden minute live before its first batch) and
    without it."""
    single = first_run_fresh(orgs, as_of, lag=0, bulk=False)
    batched = first_run_fresh(orgs, as_of, lag=0, bulk=True)
    print(f"\n== wall time of the first run at {orgs} organizations (goal: batched <= 0.2 x one create per task)")
    print(f"   one create per task (DESKBOOK_BULK=0, no export lag): {single['wall']:.1f}s, "
          f"{sum(single['requests'].values())} requests, {single['created']} created")
    print(f"   batched, no export lag:                            {batched['wall']:.1f}s = "
          f"{batched['wall'] / single['wall']:.2f} x")
    live = batched_with_lag["requests"].get("GET /api/v2/tickets", 0)
    print(f"   batched, Zendesk's 60 s export lag (the run above): {batched_with_lag['wall']:.1f}s = "
          f"{batched_with_lag['wall'] / single['wall']:.2f} x (the new ledger read the hidden minute live: "
          f"{live} request(s), no wait)")
    print(f"   machine load (1, 5, 15 min) at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    """Seed, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--as-of", default="2026-06-01")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive baseline")
    parser.add_argument("--wall", action="store_true",
                        help="Zendesk: also time the first run with one create per task and batched without the "
                             "export lag, on fresh sandboxes (the wall-time rows)")
    parser.add_argument("--scan-only", action="store_true",
                        help="JSM: measure one organization scan (the part every daily run repeats), no task runs")
    parser.add_argument("--desk", choices=("zendesk", "jsm"), default="zendesk")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url")
    parser.add_argument("--email")
    parser.add_argument("--token")
    parser.add_argument("--ledger")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    as_of = date.fromisoformat(args.as_of)
    if args.desk == "jsm":
        main_jsm(args, as_of)
        return

    from deskbook.connectors.zendesk.sandbox import running_sandbox

    unlimited = {"account": 10**9, "incremental": 10**9, "search_export": 10**9}
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(rate_limits=unlimited) as handle:
        started = time.perf_counter()
        seed(handle.store, args.orgs, as_of)
        print(f"seeded {args.orgs} organizations in {time.perf_counter() - started:.1f}s")
        ledger = Path(tmp) / "ledger.sqlite"
        first = run_worker(handle, ledger, as_of)
        batches = math.ceil(first["created"] / 100)  # bulk creates (DESKBOOK_BULK=0: one per task)
        show("first run (empty ledger)", first, f"<= {math.ceil(args.orgs / 1000) + 10} + {batches} job polls",
             f"<= {batches} bulk creates of {first['created']} due + {first.get('survey_records') or 0} survey records")
        second = run_worker(handle, ledger, as_of)
        show("second run, same day", second, "<= 5", "0")
        next_day = run_worker(handle, ledger, as_of + timedelta(days=1))
        show("next day", next_day, "<= 5 + job polls", f"<= {math.ceil(next_day['created'] / 100)} bulk creates of "
             f"{next_day['created']} newly due")
        forecast_row(ledger, as_of)
        if args.wall:
            wall_rows(args.orgs, as_of, first)
        if args.skip_naive:
            return
        naive = naive_baseline(handle, args.naive_sample)
        print(f"\n== naive baseline (list all, one search per organization; {naive['sampled']} searched, extrapolated to {naive['organizations']})")
        for endpoint, count in sorted(naive["extrapolated"].items()):
            print(f"   {count:>8}  {endpoint}")
        reads, _ = reads_writes(naive["extrapolated"])
        print(f"   reads {reads}; wall {naive['wall']:.1f}s measured, ~{naive['wall_extrapolated']:.0f}s extrapolated")


def main_jsm(args: argparse.Namespace, as_of: date) -> None:
    """The JSM rows: seed, install, three runs, naive baseline."""
    from deskbook.connectors.jsm.sandbox import running_sandbox

    floor = math.ceil(args.orgs / 50) + math.ceil(args.orgs / 25)
    with tempfile.TemporaryDirectory() as tmp, running_sandbox() as handle:
        started = time.perf_counter()
        resolved = seed_jsm(handle.store, args.orgs, as_of)
        install_jsm(handle)
        print(f"seeded {args.orgs} organizations and {resolved} resolved requests, installed the playbook "
              f"in {time.perf_counter() - started:.1f}s; F = ceil(N/50) + ceil(N/25) = {floor} reads per run "
              f"(goal F + 50 = {floor + 50} for the organizations)")
        if args.scan_only:
            scan_jsm(handle, floor + 50)
            return
        ledger = Path(tmp) / "ledger.sqlite"
        from deskbook.playbooks.loader import load_playbook

        jobs = len(load_playbook(None).sync.jobs)  # J: the sync request types' owner property reads
        first = run_worker(handle, ledger, as_of, "jsm")
        show("first run (empty ledger)", first, f"<= F + {math.ceil(resolved / 100) + 5} + J + customers = "
             f"{floor + math.ceil(resolved / 100) + 5 + jobs} + {first['created']}",
             f"<= 4 x {first['created']} due = {4 * first['created']}")
        second = run_worker(handle, ledger, as_of, "jsm")
        goal = floor + math.ceil(first["created"] / 100) + 6
        show("second run, same day", second, f"<= F + ceil(P/100) + 6 = {goal}", "0")
        next_day = run_worker(handle, ledger, as_of + timedelta(days=1), "jsm")
        # P counts what was raised since the previous scan began less the hour of overlap: these runs
        # are minutes apart on the wall clock, so the first run's requests still count (a day apart
        # it would be the previous day's only).
        goal = floor + math.ceil((first["created"] + second["created"]) / 100) + 6 + (1 + 2 * jobs if next_day["created"] else 0)
        show("next day", next_day, f"<= F + ceil(P/100) + 6 (+ 1 + 2J when it raises requests) + customers = {goal} + "
             f"{next_day['created']}",
             f"<= 4 x {next_day['created']} newly due = {4 * next_day['created']}")
        if args.skip_naive:
            return
        naive = naive_baseline_jsm(handle, args.naive_sample)
        print(f"\n== naive baseline (list all, property + one search per organization; {naive['sampled']} "
              f"sampled, extrapolated to {naive['organizations']})")
        for endpoint, count in sorted(naive["extrapolated"].items()):
            print(f"   {count:>8}  {endpoint}")
        reads, _ = reads_writes(naive["extrapolated"])
        print(f"   reads {reads}; wall {naive['wall']:.1f}s measured, ~{naive['wall_extrapolated']:.0f}s extrapolated")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

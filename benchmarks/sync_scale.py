"""Scale benchmark of `deskbook sync` against the Zendesk sandbox (not a timed test).

Seeds the sandbox with N organizations (default 100,000) and prints, for each run, the
requests by endpoint, reads/writes, wall time and the runner's peak RSS, beside the goals:

1. first run (empty ledger)            reads <= ceil(N/1000) + 10, writes <= due items
2. second run, same day                reads <= 5, writes 0
3. next day                            reads <= 5 (+ lookups), writes <= newly due items
4. naive baseline: list every organization (100 per page), then one ticket search per
   organization — measured on a sample of organizations and extrapolated to N.

Each sync run is a separate process (so its peak RSS is its own): this script re-runs itself
with `--worker`. Usage: `python benchmarks/sync_scale.py [--orgs 100000] [--naive-sample 2000]`.
"""

from __future__ import annotations

import argparse
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
    from deskbook.connectors.zendesk.sync_desk import connect
    from deskbook.sync.jobs import SyncSettings, load_settings
    from deskbook.sync.ledger import Ledger
    from deskbook.sync.runner import run_jobs

    try:
        settings = load_settings(None)
    except Exception:  # noqa: BLE001 - the benchmark also runs before the shipped playbook exists
        settings = SyncSettings()
    desk = connect(args.url, args.email, args.token, contract_end_field=settings.contract_end_field,
                   tier_field=settings.tier_field, playbook_name=settings.playbook_name)
    ledger = Ledger(args.ledger)
    started = time.perf_counter()
    report = run_jobs(desk, ledger, settings, as_of=date.fromisoformat(args.as_of))
    wall = time.perf_counter() - started
    ledger.close()
    rss_mb = peak_rss_mb()
    print(json.dumps({"requests": dict(desk.calls), "wall": wall, "rss_mb": rss_mb,
                      "created": sum(j.created for j in report.jobs.values()),
                      "failed": report.failed, "organizations": report.organizations}))


def run_worker(handle, ledger: Path, as_of: date) -> dict:
    """Run one sync in a subprocess and return its JSON line."""
    cmd = [sys.executable, __file__, "--worker", "--url", handle.url, "--email", handle.email,
           "--token", handle.token, "--ledger", str(ledger), "--as-of", as_of.isoformat()]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"worker failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def naive_baseline(handle, sample: int) -> dict:
    """List every organization, then one ticket search per organization (on `sample` of them)."""
    from deskbook.connectors.zendesk.sync_desk import make_session
    from deskbook.http import CursorPaginator

    session = make_session(handle.url, handle.email, handle.token)
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
    tickets = []
    for doc in created[:: 50]:
        day = (as_of - timedelta(days=rng.randint(0, 20))).isoformat()
        tickets.append({"organization_id": doc["id"], "status": "solved", "subject": "first service",
                        "created_at": day + "T08:00:00Z", "updated_at": day + "T09:00:00Z"})
    from deskbook.connectors.zendesk.sandbox.rules import ticket_defaults

    store.insert_many("ticket", [{**ticket_defaults(store), **t} for t in tickets])


def reads_writes(requests: dict) -> tuple[int, int]:
    """(GET count, other count)."""
    reads = sum(n for k, n in requests.items() if k.startswith("GET "))
    return reads, sum(requests.values()) - reads


def show(title: str, result: dict, read_goal: str, write_goal: str) -> None:
    """Print one run's numbers beside its goals."""
    reads, writes = reads_writes(result["requests"])
    print(f"\n== {title}")
    for endpoint, count in sorted(result["requests"].items()):
        print(f"   {count:>8}  {endpoint}")
    print(f"   reads {reads} (goal {read_goal}); writes {writes} (goal {write_goal}); created {result.get('created', '-')}")
    print(f"   wall {result['wall']:.1f}s; peak RSS {result.get('rss_mb', float('nan')):.0f} MB (goal <= {RSS_GOAL_MB} MB)")


def main() -> None:
    """Seed, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--as-of", default="2026-06-01")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive baseline")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url")
    parser.add_argument("--email")
    parser.add_argument("--token")
    parser.add_argument("--ledger")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    from deskbook.connectors.zendesk.sandbox import running_sandbox

    as_of = date.fromisoformat(args.as_of)
    unlimited = {"account": 10**9, "incremental": 10**9, "search_export": 10**9}
    with tempfile.TemporaryDirectory() as tmp, running_sandbox(rate_limits=unlimited) as handle:
        started = time.perf_counter()
        seed(handle.store, args.orgs, as_of)
        print(f"seeded {args.orgs} organizations in {time.perf_counter() - started:.1f}s")
        ledger = Path(tmp) / "ledger.sqlite"
        first = run_worker(handle, ledger, as_of)
        show("first run (empty ledger)", first, f"<= {math.ceil(args.orgs / 1000) + 10}", f"<= {first['created']} due")
        second = run_worker(handle, ledger, as_of)
        show("second run, same day", second, "<= 5", "0")
        next_day = run_worker(handle, ledger, as_of + timedelta(days=1))
        show("next day", next_day, "<= 5 + lookups", f"<= {next_day['created']} newly due")
        if args.skip_naive:
            return
        naive = naive_baseline(handle, args.naive_sample)
        print(f"\n== naive baseline (list all, one search per organization; {naive['sampled']} searched, extrapolated to {naive['organizations']})")
        for endpoint, count in sorted(naive["extrapolated"].items()):
            print(f"   {count:>8}  {endpoint}")
        reads, _ = reads_writes(naive["extrapolated"])
        print(f"   reads {reads}; wall {naive['wall']:.1f}s measured, ~{naive['wall_extrapolated']:.0f}s extrapolated")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()

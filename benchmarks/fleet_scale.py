"""Fleet benchmark (not a timed test): D sandbox desks × N organizations synced by Celery workers.

Each desk is a Zendesk sandbox with `--latency` ms per request (so the work is network-bound, as
against a real desk), seeded like `sync_scale.py`. The same first run is done twice on fresh desks
and ledgers: by one worker, then by two (`deskbook sync worker --concurrency 1` each), with the
ledger in PostgreSQL and Redis as the broker (`sh tests/services.sh` starts both). Prints the wall
time of each, their ratio (goal <= 0.6: two workers should nearly halve a network-bound fleet), and
checks every due item exists exactly once on every desk.

    python benchmarks/fleet_scale.py [--desks 20] [--orgs 5000] [--latency 50]
        [--postgres postgresql:///deskbook_test] [--redis redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

AS_OF = date(2026, 6, 22)


def fleet_run(args, workers: int, tmp: Path) -> tuple[float, int]:
    """Seed fresh desks, start `workers` workers, run the fleet once; (wall seconds, tasks created)."""
    import psycopg

    from deskbook.connectors.zendesk.sandbox import running_sandbox
    from deskbook.sync.jobs import load_settings
    from deskbook.sync.schedule import due_for
    from sync_scale import seed

    import uuid

    unlimited = {"account": 10**9, "incremental": 10**9, "search_export": 10**9}
    with ExitStack() as stack:
        handles = [stack.enter_context(running_sandbox(rate_limits=unlimited, latency_ms=args.latency,
                                                     export_lag_seconds=0))
                   for _ in range(args.desks)]
        env = dict(os.environ, DESKBOOK_BROKER=args.redis, DESKBOOK_HOME=str(tmp / f"home{workers}"),
                   DESKBOOK_QUEUE=f"deskbook-bench-{uuid.uuid4().hex[:12]}",
                   PYTHONPATH=str(REPO), DESKBOOK_ZENDESK_EXPORT_LAG="0")  # the sandboxes' lag
        lines = [f"ledger: {args.postgres}", "desks:"]
        for n, h in enumerate(handles):
            seed(h.store, args.orgs, AS_OF)
            lines += [f"  - {{name: desk-{n:02d}, desk: zendesk, url: {h.url}, email: {h.email}, token_env: T{n}}}"]
            env[f"T{n}"] = h.token
        inventory = tmp / f"desks{workers}.yaml"
        inventory.write_text("\n".join(lines) + "\n", encoding="utf-8")
        procs = [subprocess.Popen([sys.executable, "-m", "deskbook", "-q", "sync", "worker", "--concurrency", "1",
                                   "--hostname", f"bench{i}@%h"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True) for i in range(workers)]
        try:
            time.sleep(3)  # workers connect to the broker
            started = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "deskbook", "-q", "sync", "run", "--fleet", str(inventory),
                                  "--celery", "--as-of", AS_OF.isoformat()], env=env, capture_output=True, text=True)
            wall = time.perf_counter() - started
            if out.returncode != 0:
                sys.exit(f"fleet run failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait()
            from deskbook.sync.ledger_pg import PostgresLocation

            with psycopg.connect(args.postgres, autocommit=True) as conn:  # this run's schemas only
                for h in handles:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{PostgresLocation.schema_for("zendesk", h.url)}" CASCADE')
        settings = load_settings(None)
        created = 0
        for h in handles:
            keys = Counter(t["external_id"] for t in h.store.all("ticket") if (t.get("external_id") or "").startswith("deskbook:"))
            assert all(n == 1 for n in keys.values()), "a due item was created twice"
            from deskbook.sync.schedule import Organization

            orgs = []
            for doc in h.store.all("organization"):
                f = doc.get("organization_fields") or {}
                orgs.append(Organization(doc["id"], doc["name"], f.get("contract_end_date"), f.get("customer_tier")))
            due = {i.key for o in orgs for i in due_for(o, AS_OF, settings.schedule)[0] if i.job != "followups"}
            assert due <= set(keys), f"{len(due - set(keys))} due items missing"
            created += len(keys)
        return wall, created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--desks", type=int, default=20)
    parser.add_argument("--orgs", type=int, default=5000)
    parser.add_argument("--latency", type=int, default=50)
    parser.add_argument("--postgres", default=os.environ.get("DESKBOOK_TEST_POSTGRES", "postgresql:///deskbook_test"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, created_one = fleet_run(args, 1, Path(tmp))
        print(f"one worker:  {args.desks} desks x {args.orgs} organizations, {created_one} tasks, wall {one:.1f} s")
        two, created_two = fleet_run(args, 2, Path(tmp))
        print(f"two workers: {args.desks} desks x {args.orgs} organizations, {created_two} tasks, wall {two:.1f} s")
        print(f"ratio {two / one:.2f} (goal <= 0.6); every due item exactly once on every desk")


if __name__ == "__main__":
    main()

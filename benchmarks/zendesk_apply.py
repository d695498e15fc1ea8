"""Requests the Zendesk connector sends, by endpoint, against the local sandbox desk.

    python benchmarks/zendesk_apply.py [--playbook NAME|PATH] [--json]

Four runs (three in one sandbox session), each with the goal printed beside the count:

1. first install of the playbook: goal <= objects + object kinds + reorders
   (one list per kind, one write per object, one call per reorder);
2. a no-op re-plan: goal <= 1 read per kind per 100 objects, 0 writes;
3. a reorder: the same playbook with every positioned kind (trigger categories, triggers,
   macros, automations, views) listed in reverse: goal <= 1 read per kind + 1 write per
   reordered kind, and the re-plan after it has no changes;
4. a naive baseline in a fresh sandbox: the same install done the way a per-object script
   does it — look each object up before writing it (one list call per object) — for comparison.

Not a test: it prints numbers (and exits 1 if a goal is missed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from collections import Counter
from typing import Any

from deskbook.connectors.commands import make_plan
from deskbook.connectors.zendesk.connector import ZendeskConnector
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.playbooks.loader import load_playbook
from deskbook.plan import CREATE, DELETE, REORDER, UPDATE
from deskbook.scripts_library import load_library


def _table(title: str, calls: Counter) -> list[str]:
    lines = [title]
    for endpoint, count in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {count:5d}  {endpoint}")
    lines.append(f"  {sum(calls.values()):5d}  total")
    return lines


def _delta(after: Counter, before: Counter) -> Counter:
    return Counter({k: after[k] - before[k] for k in after if after[k] - before[k] > 0})


def first_install(connector: ZendeskConnector, playbook: Any, library: Any) -> dict[str, Any]:
    """Plan + apply on an empty desk; counts and goal."""
    start = time.perf_counter()
    plan, snapshot = make_plan(connector, playbook, library)
    connector.guard(plan, snapshot)
    connector.apply(plan, snapshot)
    calls = Counter(connector.session.calls)
    # each holiday of a schedule is its own Zendesk object (POST .../holidays; no bulk create)
    holidays = sum(len((c.desired or {}).get("holidays") or []) for c in plan.changes
                   if c.action == CREATE and c.kind == "schedule")
    objects = sum(1 for c in plan.changes if c.action in (CREATE, UPDATE, DELETE)) + holidays
    reorders = sum(1 for c in plan.changes if c.action == REORDER)
    kinds = len(connector.kind_order)
    return {"calls": calls, "objects": objects, "holidays": holidays, "kinds": kinds, "reorders": reorders,
            "goal": objects + kinds + reorders, "total": sum(calls.values()),
            "seconds": round(time.perf_counter() - start, 2)}


def noop_replan(connector: ZendeskConnector, playbook: Any, library: Any) -> dict[str, Any]:
    """Re-plan after the install: reads only; goal 1 read per kind per 100 objects."""
    before = Counter(connector.session.calls)
    plan, snapshot = make_plan(connector, playbook, library)
    calls = _delta(Counter(connector.session.calls), before)
    per_kind = Counter(e.kind for e in snapshot.existing)
    goal_reads = sum(max(1, math.ceil(per_kind[k] / 100)) for k in connector.kind_order)
    writes = sum(n for k, n in calls.items() if not k.startswith("GET "))
    return {"calls": calls, "has_changes": plan.has_changes, "reads": sum(calls.values()) - writes,
            "writes": writes, "goal_reads": goal_reads}


#: Playbook attributes whose order becomes Zendesk positions.
POSITIONED_ELEMENTS = ("trigger_categories", "triggers", "macros", "automations", "views")


def reorder_all(connector: ZendeskConnector, playbook: Any, library: Any) -> dict[str, Any]:
    """Plan + apply the playbook with every positioned kind reversed; counts, goal and the re-plan after."""
    reversed_playbook = dataclasses.replace(playbook, **{name: tuple(getattr(playbook, name))[::-1]
                                                         for name in POSITIONED_ELEMENTS})
    before = Counter(connector.session.calls)
    plan, snapshot = make_plan(connector, reversed_playbook, library)
    connector.guard(plan, snapshot)
    connector.apply(plan, snapshot)
    calls = _delta(Counter(connector.session.calls), before)
    reorders = sum(1 for c in plan.changes if c.action == REORDER)
    others = sum(1 for c in plan.changes if c.action != REORDER)
    writes = sum(n for k, n in calls.items() if not k.startswith("GET "))
    after, _ = make_plan(connector, reversed_playbook, library)
    return {"calls": calls, "reorders": reorders, "other_changes": others, "writes": writes,
            "reads": sum(calls.values()) - writes, "goal_reads": len(connector.kind_order),
            "converged": not after.has_changes}


def naive_install(connector: ZendeskConnector, playbook: Any, library: Any) -> dict[str, Any]:
    """Baseline: for each object, list its kind to see whether it exists, then create it."""
    desired = connector.desired_objects(playbook, library)
    ids: dict = {}
    for d in desired:
        found = [o for o in connector.client.list(d.kind)
                 if connector.ownership(d.kind, o, playbook.metadata.name) == (playbook.metadata.name, d.key)]
        if found:
            ids[(d.kind, d.key)] = found[0]["id"]
            continue
        created = connector.client.create(d.kind, connector.resolve_refs(d.payload, ids))
        ids[(d.kind, d.key)] = created.get("id")
    calls = Counter(connector.session.calls)
    return {"calls": calls, "total": sum(calls.values()), "objects": len(desired)}


def main(argv: list[str] | None = None) -> int:
    """Run the four measurements and print them with their goals."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbook", help="playbook name or path (default: standard-service)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    library = load_library()
    playbook = load_playbook(args.playbook, phrase_ids=library.ids())

    with running_sandbox() as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        install = first_install(connector, playbook, library)
        replan = noop_replan(connector, playbook, library)
        reorder = reorder_all(connector, playbook, library)
    with running_sandbox() as desk:
        naive = naive_install(ZendeskConnector.connect(desk.url, desk.email, desk.token), playbook, library)

    ok_install = install["total"] <= install["goal"]
    ok_replan = replan["writes"] == 0 and replan["reads"] <= replan["goal_reads"] and not replan["has_changes"]
    ok_reorder = (reorder["writes"] <= reorder["reorders"] and reorder["other_changes"] == 0
                  and reorder["reads"] <= reorder["goal_reads"] and reorder["converged"])
    if args.json:
        json.dump({"first_install": {**install, "calls": dict(install["calls"])},
                   "noop_replan": {**replan, "calls": dict(replan["calls"])},
                   "reorder": {**reorder, "calls": dict(reorder["calls"])},
                   "naive_baseline": {**naive, "calls": dict(naive["calls"])},
                   "goals_met": ok_install and ok_replan and ok_reorder}, sys.stdout, indent=2)
        print()
    else:
        lines = [f"playbook {playbook.metadata.name}: {install['objects']} objects in {install['kinds']} kinds "
                 f"(incl. {install['holidays']} schedule holidays)", ""]
        lines += _table(f"1. first install ({install['seconds']}s)", install["calls"])
        lines.append(f"  goal <= objects {install['objects']} (incl. {install['holidays']} schedule holidays) + kinds {install['kinds']} + reorders "
                     f"{install['reorders']} = {install['goal']}: {'met' if ok_install else 'MISSED'}"
                     f" ({install['total']})")
        lines.append("")
        lines += _table("2. no-op re-plan", replan["calls"])
        lines.append(f"  goal <= {replan['goal_reads']} reads (1 per kind per 100 objects), 0 writes: "
                     f"{'met' if ok_replan else 'MISSED'} ({replan['reads']} reads, {replan['writes']} writes)")
        lines.append("")
        lines += _table("3. reorder (every positioned kind reversed)", reorder["calls"])
        lines.append(f"  goal <= {reorder['goal_reads']} reads + 1 write per reordered kind ({reorder['reorders']}), "
                     f"nothing else, re-plan clean: {'met' if ok_reorder else 'MISSED'} "
                     f"({reorder['reads']} reads, {reorder['writes']} writes, re-plan "
                     f"{'clean' if reorder['converged'] else 'NOT clean'})")
        lines.append("")
        lines += _table("4. naive per-object lookup baseline (same objects)", naive["calls"])
        lines.append(f"  {naive['total']} requests vs {install['total']} for the planned install "
                     f"({naive['total'] / max(1, install['total']):.1f}x)")
        print("\n".join(lines))
    return 0 if ok_install and ok_replan and ok_reorder else 1


if __name__ == "__main__":
    sys.exit(main())

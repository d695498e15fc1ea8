"""Request count of `deskbook report` for a week of N tickets (default 10,000) on the Zendesk sandbox.

Installs the standard playbook into a sandbox whose clock stands at a Monday, then sends a week
of traffic through the API so every ticket flows through the installed rules (triggers, SLA
policies, hourly automations): each day's tickets come in bulk (`tickets/create_many`, 100 a call,
on phone, chat, web and email), most get a first reply 5-60 minutes later and are solved with the
three survey scores recorded (`tickets/update_many`), a third of the solved ones are rated on the
desk (the customer's click, `SandboxHandle.rate`), the rest stay open. Then the report's reader
reads the week and the script prints its requests by endpoint beside the goal
⌈N/100⌉ + 20, and the naive reading (list the week's tickets, then per ticket its metrics and its
metric events: ⌈N/100⌉ + 2N).

JSM (`--desk jsm`, default 1,000 requests: the JSM sandbox has no bulk create, each request is its
own call): requests of the playbook's types raised through the servicedeskapi over the week, most
answered by a public comment and resolved, half of the resolved ones rated (request feedback);
the reader's requests are printed beside JSM's floor ⌈N/100⌉ + ⌈O/50⌉ + ⌈C/50⌉ + R + 1 (JQL pages,
pages of the open and of the closed request list with `expand=sla`, one feedback read per resolved
request, the service desk; O open, C and R resolved).

Usage: `python benchmarks/report_scale.py [--desk zendesk|jsm] [--tickets 10000]`.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--desk", choices=("zendesk", "jsm"), default="zendesk")
    parser.add_argument("--tickets", type=int, default=None, help="default 10,000 (Zendesk), 1,000 (JSM)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.desk == "jsm":
        return jsm(args.tickets or 1000, args.seed)
    args.tickets = args.tickets or 10_000

    from deskbook.connectors.report.metrics import build_report, week_window
    from deskbook.connectors.report.zendesk_reader import read
    from deskbook.connectors.sandbox_kit.clock import FakeClock
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    playbook, library = load_playbook(), load_library()
    start, end, label = week_window("2026-W49", playbook.metadata.time_zone)
    rng = random.Random(args.seed)
    began = time.monotonic()
    with running_sandbox(clock=FakeClock(start), export_lag_seconds=0, rate_limits={"account": 10**9, "incremental": 10**9,
                                                                                    "search_export": 10**9}) as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        plan, snapshot = connector.plan_playbook(playbook, library, adopt=True)
        connector.apply(plan, snapshot)
        session = connector.client.session
        snapshot = connector.populate(playbook.metadata.name)
        ids = snapshot.managed_ids(playbook.metadata.name)
        field = {key: int(i) for (kind, key), i in ids.items() if kind == "ticket_field"}
        user = session.json_request("POST", "/api/v2/users.json", json={"user": {
            "name": "Benchmark customer", "email": "bench@example.com", "role": "end-user"}})["user"]
        per_day = [args.tickets // 7 + (1 if d < args.tickets % 7 else 0) for d in range(7)]
        channels = ["voice", "chat", "web", "email"]
        categories = ["request_category__fault", "request_category__product_question", "request_category__complaint",
                      "request_category__after_sales_issue"]
        rated = 0
        for day, count in enumerate(per_day):
            day_start = start + day * 86400 + 9 * 3600
            batches = math.ceil(count / 100)
            for b in range(batches):
                size = min(100, count - b * 100)
                at = day_start + b * (9 * 3600 / batches)
                if at > desk.clock.now():
                    desk.pass_time(at - desk.clock.now())
                tickets = [{"subject": f"bench {day}-{b}-{i}", "comment": {"body": "help", "public": True},
                            "priority": "normal", "requester_id": user["id"], "submitter_id": user["id"],
                            "via": {"channel": rng.choice(channels)},
                            "custom_fields": [{"id": field["request_category"], "value": rng.choice(categories)}]}
                           for i in range(size)]
                job = session.json_request("POST", "/api/v2/tickets/create_many.json", json={"tickets": tickets})
                done = session.get_json(f"/api/v2/job_statuses/{job['job_status']['id']}.json")["job_status"]
                made = [r["id"] for r in done["results"]]
                desk.pass_time(rng.uniform(5, 60) * 60)
                updates = []
                for tid in made:
                    change: dict = {"id": tid, "comment": {"body": "answer", "public": True}}
                    if rng.random() < 0.85:
                        change["status"] = "solved"
                        change["custom_fields"] = [{"id": field[k], "value": f"score_{rng.randint(1, 5)}"}
                                                   for k in ("score_response_speed", "score_resolution", "score_attitude")]
                    updates.append(change)
                session.json_request("PUT", "/api/v2/tickets/update_many.json", json={"tickets": updates})
                for change in updates:
                    if change.get("status") == "solved" and rng.random() < 0.33:
                        desk.rate(change["id"], rng.choice(("good", "good", "bad")))
                        rated += 1
            print(f"  day {day + 1}: {count} tickets ({time.monotonic() - began:.0f} s)", file=sys.stderr)
        desk.pass_time(end - desk.clock.now() + 3600)
        seeded = time.monotonic() - began
        client = type(connector.client)(desk.url, desk.email, desk.token)  # a fresh session: its own counters
        data = read(client, playbook, start, end, now=desk.clock.now())
        report = build_report(playbook, data, (start, end, label))
    n = report["intake"]["requests"]
    total = report["requests"]["total"]
    goal = math.ceil(n / 100) + 20
    print(f"Report of {label}: {n} tickets in the week, {rated} desk ratings, {len(data.sla)} SLA cycles "
          f"(seeded in {seeded:.0f} s)")
    for endpoint, count in sorted(report["requests"]["by_endpoint"].items()):
        print(f"  {count:6d}  {endpoint}")
    print(f"Zendesk reader: {total} requests; goal ceil(N/100) + 20 = {goal}: {'met' if total <= goal else 'MISSED'}")
    print(f"Naive per-ticket reading (list, then metrics and metric events per ticket): {math.ceil(n / 100) + 2 * n}")
    return 0 if total <= goal else 1


def jsm(count: int, seed: int) -> int:
    """The JSM measurement (see the module docstring)."""
    import requests

    from deskbook.connectors.jsm import translate as tr
    from deskbook.connectors.jsm.connector import JsmConnector
    from deskbook.connectors.jsm.sandbox import running_sandbox
    from deskbook.connectors.jsm.sandbox.app import ACT_AS_HEADER
    from deskbook.connectors.report.jsm_reader import read
    from deskbook.connectors.report.metrics import build_report, week_window
    from deskbook.connectors.sandbox_kit.clock import FakeClock
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    playbook, library = load_playbook(), load_library()
    start, end, label = week_window("2026-W49", playbook.metadata.time_zone)
    rng = random.Random(seed)
    clock = FakeClock(start + 9 * 3600)
    sd = "/rest/servicedeskapi"
    began = time.monotonic()
    with running_sandbox(clock=clock, rate_limit_per_minute=10**9) as desk:
        connector = JsmConnector.connect(desk.url, desk.email, desk.token, project_key=desk.project_key,
                                         cloud_id=desk.cloud_id, allow_internal_api=True)
        plan, snapshot = connector.plan_playbook(playbook, library, adopt=True)
        connector.apply(plan, snapshot)
        http = requests.Session()
        http.auth = (desk.email, desk.token)
        types = {t["name"]: t["id"] for t in http.get(f"{desk.url}{sd}/servicedesk/1/requesttype",
                                                     params={"limit": 100}).json()["values"]}
        names = tr.category_names(playbook)
        wanted = [types[names[c]] for c in ("fault", "product_question", "complaint", "after_sales_issue")]
        customer = http.post(f"{desk.url}{sd}/customer", json={"email": "c@x.example", "displayName": "C"}).json()
        http.post(f"{desk.url}{sd}/servicedesk/1/customer", json={"accountIds": [customer["accountId"]]})  # the desk's
        step = 7 * 86400 / count
        resolved = rated = 0
        for n in range(count):
            clock.advance(step / 2)
            key = http.post(f"{desk.url}{sd}/request", json={
                "serviceDeskId": "1", "requestTypeId": rng.choice(wanted), "raiseOnBehalfOf": customer["accountId"],
                "requestFieldValues": {"summary": f"bench {n}"}}).json()["issueKey"]
            clock.advance(step / 4)
            http.post(f"{desk.url}{sd}/request/{key}/comment", json={"body": "on it", "public": True})
            if rng.random() < 0.85:
                http.post(f"{desk.url}/rest/api/3/issue/{key}/transitions", json={"transition": {"id": "51"}})
                resolved += 1
                if rng.random() < 0.5:
                    http.post(f"{desk.url}{sd}/request/{key}/feedback", json={"rating": rng.randint(1, 5)},
                              headers={ACT_AS_HEADER: customer["accountId"]})
                    rated += 1
            clock.advance(step / 4)
        clock.advance(end - clock.now() + 3600)
        seeded = time.monotonic() - began
        client = type(connector.client)(connector.client.connection)  # a fresh session: its own counters
        data = read(client, playbook, start, end, now=clock.now())
        report = build_report(playbook, data, (start, end, label))
    n = report["intake"]["requests"]
    total = report["requests"]["total"]
    floor = math.ceil(n / 100) + math.ceil((n - resolved) / 50) + math.ceil(resolved / 50) + resolved + 1
    print(f"Report of {label} on JSM: {n} requests, {resolved} resolved, {rated} rated (seeded in {seeded:.0f} s)")
    for endpoint, calls in sorted(report["requests"]["by_endpoint"].items()):
        print(f"  {calls:6d}  {endpoint}")
    print(f"JSM reader: {total} requests; floor ceil(N/100) + ceil(O/50) + ceil(C/50) + R + 1 = {floor}: "
          f"{'met' if total <= floor else 'MISSED'}")
    print(f"Per-request reading (JQL, then SLA and feedback per request): {math.ceil(n / 100) + 2 * n + 1}")
    return 0 if total <= floor else 1


if __name__ == "__main__":
    sys.exit(main())

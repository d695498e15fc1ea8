"""The JSM story end to end on a local sandbox, for `deskbook demo --desk jsm`.

`run_demo(playbook, library, settings, seed_orgs=8)` starts a sandbox on a free loopback port,
seeds sample customers (organizations with a contact and a contract property) and, for the new
customers, a first service (a resolved request, most of them long enough ago that the follow-up
is due on the run date), plans, applies, re-plans (expecting no changes), runs the sync jobs once
as of the run date and returns a summary dict; `render_demo(summary)` is the text `deskbook demo
--desk jsm` prints. Nothing here reads the environment or touches a real site.

With `week=True` (what `deskbook demo --desk jsm` does) it is the Zendesk demo's story on JSM: the
sandbox's clock stands at the start of the last complete week (Monday 00:00 in the playbook's time
zone, the run date of the sync jobs), the SLA metrics, calendar and queues are installed too (the
internal API, as `apply --allow-internal-api` does: without them no request has an SLA to report
on), and after the sync jobs the simulated week (`connectors/report/week.py`, the same stories as
on Zendesk, on the JSM scenario driver) runs through the installed rules; `demo_week` then reads
the week back with `deskbook report`'s JSM reader and writes `deskbook-report.html` and
`deskbook-report.json` into the working directory (`summary["week"]`: the lines printed).
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection
from deskbook.connectors.jsm.connector import JsmConnector
from deskbook.connectors.jsm.sandbox import running_sandbox
from deskbook.connectors.jsm.sandbox.app import seed_first_services
from deskbook.connectors.jsm.sync_desk import JsmSyncDesk


def run_demo(playbook: Any, library: Any, settings: Any = None, *, seed_orgs: int = 8,
             as_of: date | None = None, week: bool = False, directory: Path | None = None) -> dict[str, Any]:
    """Install `playbook` into a fresh JSM sandbox, check it converged, run the sync jobs once
    as of `as_of` (default today); `summary["first_services"]` has the seeded first-service days.
    With `week`, the simulated week and its review in `directory` (default: the working
    directory) follow, as of the last complete week (see the module docstring)."""
    import time

    from deskbook.connectors.report.metrics import last_week, local_date
    from deskbook.connectors.sandbox_kit.clock import FakeClock

    window = last_week(time.time(), playbook.metadata.time_zone) if week else None
    options: dict[str, Any] = {}
    if window is not None:
        options["clock"] = FakeClock(window[0])
        as_of = local_date(window[0], playbook.metadata.time_zone)
    as_of = as_of or date.today()
    with running_sandbox(seed_orgs=seed_orgs, seed=1, **options) as sandbox:
        served = seed_first_services(sandbox.store, new_customer_ids(sandbox.store, settings), as_of)
        connection = JsmConnection(url=sandbox.url, email=sandbox.email, token=sandbox.token,
                                   project_key=sandbox.project_key, cloud_id=sandbox.cloud_id)
        connector = JsmConnector(JsmClient(connection), allow_internal_api=window is not None)
        plan, report = connector.install_converged(playbook, library)
        # organization detail values, which no plan compares (their fields are the playbook's)
        contract = enter_contract_details(connector.client, sandbox.store) if connector.detail_fields() is not None else {}
        summary: dict[str, Any] = {
            "desk": "jsm", "url": sandbox.url, "first_plan": plan.summary(), "applied": report.summary(),
            "second_plan_has_changes": False,  # `install_converged` refuses a second plan with changes
            "notes": list(plan.notes), "as_of": as_of.isoformat(),
            "first_services": {org_id: day.isoformat() for org_id, day in served.items()},
            "request_types": [t["name"] for t in connector.client.request_types()],
            "rules": [r["name"] for r in connector.client.rule_summaries()],
            "agent_rules": [r["name"] for r in connector.client.rule_summaries(trigger=tr.MANUAL_TRIGGER)],
            "contract_details": contract,
            "sla_metrics": [m["name"] for m in connector.client.sla_metrics()] if connector.allow_internal_api else [],
        }
        if settings is not None:
            from deskbook.sync.ledger import Ledger
            from deskbook.sync.runner import run_jobs

            with tempfile.TemporaryDirectory() as folder:
                ledger = Ledger(Path(folder) / "ledger.sqlite")
                try:
                    sync = run_jobs(JsmSyncDesk(connector.client, contract_end_field=settings.contract_end_field,
                                                tier_field=settings.tier_field, playbook_name=playbook.name),
                                    ledger, settings, library, as_of=as_of,
                                    jobs=[job.name for job in playbook.sync.jobs])
                finally:
                    ledger.close()
            summary["sync"] = {name: job.created for name, job in sync.jobs.items()}
        if window is not None:
            summary["week"] = demo_week(connector, playbook, sandbox, window, directory=directory)
        summary["requests_served"] = len(sandbox.requests())
        return summary


def demo_week(connector: JsmConnector, playbook: Any, sandbox: Any, window: tuple[float, float, str], *,
              directory: Path | None = None) -> list[str]:
    """The simulated week on the JSM sandbox, then its review written as deskbook-report.html/.json
    in `directory` (default: the working directory); returns the lines the demo prints. Two in
    three of the relationship requests the sync jobs raised (found by their jobs' labels) are
    worked this week with their job's macro and resolved."""
    from deskbook.connectors.report.jsm_reader import read
    from deskbook.connectors.report.week import review_week
    from deskbook.connectors.scenarios.jsm_driver import JsmDriver

    macros = {tag: job.phrase for job in playbook.sync.jobs for tag in job.tags}
    tasks = []
    project = connector.client.connection.project_key
    sandbox.index_caught_up()  # the sync run was before the week's work: JQL search (it lags) has its requests
    for issue in connector.client.search(f"project = {project} AND resolution is EMPTY ORDER BY key", fields=["labels"]):
        found = [macros[label] for label in (issue.get("fields") or {}).get("labels") or [] if label in macros]
        if found:
            tasks.append((issue["key"], found[0]))
    driver = JsmDriver(connector, playbook, handle=sandbox)
    client = JsmClient(connector.client.connection)  # its own request counters: the review's cost
    return review_week(driver, playbook, window, lambda: read(client, playbook, window[0], window[1],
                                                               now=sandbox.clock.now()),
                       tasks=tasks, directory=directory)


def enter_contract_details(client: JsmClient, store: Any) -> dict[str, dict[str, str]]:
    """What an admin does once after `apply` on a site whose contract data sat in organization
    properties: enter it into the detail fields agents see (one `PUT …/details` per value). Returns
    organization name -> detail name -> value, read back through the profile fetch sync uses."""
    names = {f["name"] for f in client.csm_detail_fields() or []}
    orgs = list(client.iter_organizations())
    for org in orgs:
        contract = client.organization_property(org["id"], CONTRACT_PROPERTY) or {}
        for name, value in contract.items():
            if name in names and value not in (None, ""):
                client.set_csm_detail(org["id"], name, [str(value)])
    profiles = client.fetch_csm_profiles([o["id"] for o in orgs])
    return {p["name"]: {d["name"]: ", ".join(d.get("values") or []) for d in p.get("details") or []} for p in profiles}


def new_customer_ids(store: Any, settings: Any = None) -> list[str]:
    """Sandbox organizations whose contract property names a tier followed up after first service."""
    from deskbook.sync.schedule import DEFAULT_TIER_CADENCE

    tier_field = settings.tier_field if settings is not None else "customer_tier"
    cadence = settings.schedule.tier_cadence if settings is not None else DEFAULT_TIER_CADENCE
    tiers = {tier for tier, rule in cadence.items() if rule == "after_first_service"}
    return [org["id"] for org in store.all("organization")
            if ((org.get("properties") or {}).get(CONTRACT_PROPERTY) or {}).get(tier_field) in tiers]


def render_demo(summary: dict[str, Any]) -> str:
    """The JSM demo's summary (what `run_demo` returns) as the lines the demo prints."""
    first = summary["first_plan"]
    lines = [f"Sandbox JSM site at {summary['url']} (service project SUP, sample customers seeded).",
             f"1. plan: {first.get('create', 0)} objects to create (exit {2 if any(first.values()) else 0}).",
             f"2. apply: {summary['applied']}.",
             "3. plan again: no changes (exit 0)."]
    sync = summary.get("sync")
    if sync is None:
        lines.append("4. sync jobs: not run.")
    else:
        made = ", ".join(f"{name}: {count}" for name, count in sync.items()) or "none"
        lines.append(f"4. sync jobs once as of {summary['as_of']}: customer requests created {made}.")
    lines += summary.get("week") or []
    types = summary.get("request_types") or []
    rules = summary.get("rules") or []
    lines.append("Admin sees (Project settings, all marked as managed by deskbook):")
    lines.append(f"  {len(types):3d} request type(s)")
    lines.append(f"  {len(rules):3d} automation rule(s)")
    if summary.get("sla_metrics"):
        lines.append(f"  {len(summary['sla_metrics']):3d} SLA metric(s) (JSM's internal API, as `apply --allow-internal-api` does)")
    notes = [note for note in summary.get("notes") or [] if note.startswith("SLA ") and " is not installed" in note]
    if notes:
        lines.append(f"  {len(notes)} SLA goal(s) to enter by hand (JSM has no public SLA API; "
                     "see `deskbook plan --desk jsm`, or use --allow-internal-api):")
        lines += [f"    - {note.split(' is not installed')[0]}" for note in notes]
    lines.append("Agent sees:")
    lines.append(f"  request types: {', '.join(types[:8])}{' …' if len(types) > 8 else ''}")
    lines.append(f"  manual rules (macros) in the issue view: {len(summary.get('agent_rules') or [])}")
    contract = summary.get("contract_details") or {}
    if contract:
        lines.append(f"  contract data in organization detail fields ({len(contract)} organizations), e.g.:")
        for name, details in list(contract.items())[:3]:
            lines.append(f"    {name}: " + "; ".join(f"{k} {v}" for k, v in details.items()))
    lines.append(f"  {summary.get('requests_served', 0)} API requests served by the sandbox")
    lines += [f"Note: {note}" for note in summary.get("notes") or [] if note not in notes]
    return "\n".join(lines)

"""The Zendesk story end to end on a local sandbox, for `deskbook demo` (`--desk zendesk`, the default).

`run_demo(playbook, library, seed_orgs=20)` starts a sandbox on a free loopback port whose clock
stands at the start of the last complete week (Monday 00:00 in the playbook's time zone), plans,
applies, re-plans (a change left is a bug), seeds sample customers in the playbook's fields
(`seed_customers`), gives the new ones a first service and runs the sync jobs once as of that
Monday (`demo_sync`), then runs a simulated week of traffic through the installed rules
(`connectors/report/week.py`) and ends with the week's review: `deskbook-report.html` and
`deskbook-report.json` in the working directory (the same reader and metrics as `deskbook
report`), printing both paths, and what an admin and an agent now see (`demo_summary`). Lines are
printed as each step finishes. Nothing here reads the environment or touches a real account.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deskbook.connectors.base import plan_exit
from deskbook.errors import DeskbookError


def run_demo(playbook: Any, library: Any, *, seed_orgs: int = 20) -> None:
    """Install `playbook` into a fresh Zendesk sandbox, check it converged, run the sync jobs once."""
    import time

    from deskbook.connectors.report.metrics import last_week, local_date
    from deskbook.connectors.sandbox_kit.clock import FakeClock
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox
    from deskbook.connectors.zendesk.sandbox_command import NO_RATE_LIMITS

    name = playbook.metadata.name
    window = last_week(time.time(), playbook.metadata.time_zone)
    # Zendesk's incremental exports leave out the most recent minute; the demo's sync runs seconds
    # after the sample customers are created, so its sandbox hands out changes at once.
    # Its clock is fake, so it has no per-minute limits either (see NO_RATE_LIMITS).
    with running_sandbox(export_lag_seconds=0, clock=FakeClock(window[0]), rate_limits=NO_RATE_LIMITS) as desk:
        print(f"Sandbox Zendesk desk at {desk.url}.")
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        connector.install_converged(
            playbook, library, adopt=True,
            planned=lambda plan: print(f"1. plan: {plan.summary()['create']} objects to create "
                                       f"(exit {int(plan_exit(plan))})."),
            applied=lambda report: print(f"2. apply: {report.summary()} in {connector.session.total_calls} requests."))
        print("3. plan again: no changes (exit 0).")
        monday = local_date(window[0], playbook.metadata.time_zone)
        made = seed_customers(connector, playbook, seed_orgs, today=monday)
        print(f"   seeded {made} sample customers (contract end dates, tiers) in the playbook's fields.")
        print("\n".join(demo_sync(desk, playbook, today=monday)))
        print("\n".join(demo_week(connector, playbook, desk, window)))
        print(demo_summary(connector, name))


def demo_week(connector: Any, playbook: Any, desk: Any, window: tuple[float, float, str], *,
              directory: Path | None = None) -> list[str]:
    """The simulated week on the sandbox, then its review written as deskbook-report.html/.json in
    `directory` (default: the working directory); returns the lines the demo prints."""
    from deskbook.connectors.report.week import review_week
    from deskbook.connectors.report.zendesk_reader import read
    from deskbook.connectors.scenarios.zendesk_driver import ZendeskDriver

    macros = {job.name: job.phrase for job in playbook.sync.jobs}
    tags = {tag: macros[job.name] for job in playbook.sync.jobs for tag in job.tags}
    tasks = []
    for page in connector.client.search_export("status<solved"):
        for ticket in page.data.get("results") or []:
            found = [tags[t] for t in ticket.get("tags") or [] if t in tags]
            if found:
                tasks.append((ticket["id"], found[0]))
    driver = ZendeskDriver(connector, playbook, handle=desk)
    return review_week(driver, playbook, window, lambda: read(connector.client, playbook, window[0], window[1],
                                                               now=desk.clock.now()),
                       tasks=tasks, directory=directory)


def seed_customers(connector: Any, playbook: Any, count: int, *, today: Any = None) -> int:
    """Create `count` sample organizations whose contract-end date and tier use the installed fields."""
    import datetime as dt

    from deskbook.sync.jobs import settings_from_playbook

    settings = settings_from_playbook(playbook)
    fields = {f["key"]: f for f in connector.client.list("organization_field")}
    tier_field = fields.get(settings.tier_field) or {}
    tiers = [o["value"] for o in tier_field.get("custom_field_options") or []] or [None]
    today = today or dt.date.today()
    organizations = []
    for i in range(count):
        values = {settings.contract_end_field: (today + dt.timedelta(days=(i * 11) % 150)).isoformat()}
        if tiers[i % len(tiers)] is not None:
            values[settings.tier_field] = tiers[i % len(tiers)]
        organizations.append({"name": f"Sample customer {i + 1:03d}", "organization_fields": values})
    for start in range(0, len(organizations), 100):
        connector.client.create_many_organizations(organizations[start:start + 100])
    return len(organizations)


def demo_sync(desk: Any, playbook: Any, *, today: Any = None) -> list[str]:
    """Give the sandbox's new customers a first service (a solved ticket), then run the sync jobs
    once as of `today` (default: the real today); returns the lines the demo prints."""
    try:
        from deskbook.sync import run_jobs
        from deskbook.connectors.zendesk.sync_desk import connect as sync_connect
        from deskbook.sync.jobs import settings_from_playbook
        from deskbook.sync.ledger import Ledger
    except ImportError:
        return ["4. sync jobs: not available in this build."]
    import datetime as dt
    import tempfile

    from deskbook.connectors.zendesk.sandbox.seed import seed_first_services
    from deskbook.connectors.zendesk.translate import option_value

    settings = settings_from_playbook(playbook)
    today = today or dt.date.today()
    new_tiers = {tier for tier, rule in settings.schedule.tier_cadence.items() if rule == "after_first_service"}
    new_ids = [org["id"] for org in desk.store.all("organization")
               if option_value(settings.tier_field, (org.get("organization_fields") or {}).get(settings.tier_field))
               in new_tiers]
    served = seed_first_services(desk.store, new_ids, today)
    days = settings.schedule.followup_after_days
    ripe = sum(1 for day in served.values() if (today - day).days >= days)
    lines = [f"   seeded a first service (a solved ticket) for {len(served)} new customer(s), "
             f"{ripe} of them at least {days} days ago."]
    sync_desk = sync_connect(desk.url, desk.email, desk.token, contract_end_field=settings.contract_end_field,
                             tier_field=settings.tier_field, playbook_name=settings.playbook_name)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        try:
            sync_report = run_jobs(sync_desk, ledger, settings, as_of=today)
        finally:
            ledger.close()
    made = ", ".join(f"{n}: {j.created}" for n, j in sync_report.jobs.items())
    lines.append(f"4. sync jobs once over {sync_report.organizations} customers as of {today}: tasks created {made}.")
    return lines


def demo_summary(connector: Any, playbook_name: str) -> str:
    """What an admin and an agent would now see in the desk."""
    snapshot = connector.populate(playbook_name)
    mine = [e for e in snapshot.existing if e.owner == playbook_name]
    by_kind: dict[str, list[str]] = {}
    for e in mine:
        by_kind.setdefault(e.kind, []).append(e.name)
    folders = sorted({"::".join(p.strip() for p in n.split("::")[:-1]) for n in by_kind.get("macro", [])
                      if "::" in n})
    views = by_kind.get("view", [])
    lines = ["Admin sees (Admin Center, all marked as managed by deskbook):"]
    lines += [f"  {len(v):3d} {k.replace('_', ' ')}(s)" for k, v in by_kind.items()]
    lines.append("Agent sees:")
    lines.append(f"  macro folders: {', '.join(folders) if folders else '(none)'}")
    lines.append(f"  views: {', '.join(views) if views else '(none)'}")
    try:
        tickets = list(connector.client.tickets())
        lines.append(f"  {len(tickets)} ticket(s) in the desk (sync tasks included)")
    except DeskbookError:
        pass
    return "\n".join(lines)

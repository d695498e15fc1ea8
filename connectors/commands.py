"""Desk commands: `plan`, `apply`, `uninstall`, `export`, `demo`, `verify`.

    deskbook plan      --desk zendesk|jsm [--playbook NAME|PATH] [--scripts DIR] [--adopt] [--json]
    deskbook apply     --desk zendesk|jsm [...] [--doit] [--force] [--adopt] [--checksum SHA]
    deskbook uninstall --desk zendesk|jsm [--playbook NAME|PATH] [--doit]
    deskbook export    --desk zendesk|jsm --out FILE
    deskbook demo      [--desk zendesk|jsm] [--seed-orgs N]
    deskbook verify    --desk jsm [--request KEY | --doit] [--json]

Connection: `--url --email --token` or, for Zendesk, `ZENDESK_URL` (or `ZENDESK_SUBDOMAIN`),
`ZENDESK_EMAIL`, `ZENDESK_API_TOKEN`; for JSM `JIRA_URL`, `JIRA_EMAIL`, `JIRA_API_TOKEN`,
`JSM_PROJECT` (`--project`), `JIRA_CLOUD_ID` (`--cloud-id`). JSM only: `--allow-internal-api`
installs SLA goals through JSM's internal SLA endpoints (the plan says so); without it the plan
notes the exact goals for an admin to enter, and `verify --desk jsm` confirms them on a request.
Exit codes (Terraform-style): plan 0 = no changes, 2 = changes (or conflicts to resolve),
1 = error. `apply` without `--doit` only plans. `verify` without `--request KEY` raises a test
request only with `--doit`; without it nothing is written and it exits 64 (`ExitCode.USAGE`) saying
what it would raise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from deskbook.connectors.base import DeskConnector, render_plan, uninstall_plan
from deskbook.connectors.registry import desks, get_connector
from deskbook.errors import DeskbookError, ExitCode
from deskbook.log import register_secret
from deskbook.plan import Plan

log = logging.getLogger("deskbook.connectors")


def register(subparsers) -> None:
    """Add plan/apply/uninstall/export/demo/verify to the `deskbook` parser."""
    connection = connection_parent()
    target = [connection, playbook_parent()]  # which desk and which playbook: plan, apply, uninstall

    p = subparsers.add_parser("plan", parents=target,
                              help="show what apply would change in the desk (exit 2 when something)")
    p.add_argument("--adopt", action="store_true", help="plan to take over same-name unmanaged objects")
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object")
    p.set_defaults(func=cmd_plan)

    p = subparsers.add_parser("apply", parents=target,
                              help="install the playbook into the desk (plans only without --doit)")
    p.add_argument("--doit", action="store_true", help="really write to the desk")
    p.add_argument("--force", action="store_true", help="allow updating/deleting a large share of managed objects, and (JSM) replacing "
                                                            "or deleting request types that requests use")
    p.add_argument("--adopt", action="store_true", help="take over same-name unmanaged objects")
    p.add_argument("--checksum", metavar="SHA", help="refuse unless the plan's checksum is this (from a reviewed plan)")
    p.add_argument("--json", action="store_true", help="print the plan (and result) as JSON")
    p.set_defaults(func=cmd_apply)

    p = subparsers.add_parser("uninstall", parents=target,
                              help="remove every object the playbook owns (and nothing else)")
    p.add_argument("--doit", action="store_true", help="really delete")
    p.add_argument("--force", action="store_true", help="(JSM) also delete request types that requests use "
                                                        "(their requests lose the type)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_uninstall)

    p = subparsers.add_parser("export", parents=[connection],
                              help="back up every business rule, field, group, view and SLA policy as JSON")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the JSON ('-' for stdout)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("demo", help="sandbox desk + install + re-plan + sync jobs, with a summary")
    p.add_argument("--desk", default="zendesk", choices=["zendesk", "jsm"], help="which sandbox desk (default zendesk)")
    p.add_argument("--playbook", metavar="NAME|PATH", help="playbook to install (default: standard-service)")
    p.add_argument("--scripts", metavar="DIR", help="phrase library folder (default: the shipped one)")
    p.add_argument("--seed-orgs", type=int, default=20, metavar="N", help="sample customers to create (default 20)")
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser("verify", parents=[connection_parent(desk_choices=["jsm"]), playbook_parent()],
                              help="JSM: confirm the playbook's SLA goals apply to a request "
                                   "(exit 1 with what is missing)")
    p.add_argument("--request", metavar="KEY", help="request to read the SLAs of (default: with --doit, raise a "
                                                    "test request of a playbook request type and print its key)")
    p.add_argument("--doit", action="store_true", help="without --request: really raise the test request "
                                                       "(otherwise say what would be raised, exit 64)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=cmd_verify)


#: Per desk: (URL, email, token) environment variables the connection options fall back to.
CONNECTION_ENV = {
    "zendesk": ("ZENDESK_URL or ZENDESK_SUBDOMAIN", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
    "jsm": ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN"),
}


def connection_parent(desk_choices: list[str] | None = None, *, desk_default: str | None = None,
                      internal_api: bool = True) -> argparse.ArgumentParser:
    """A parent parser (`parents=[...]`) with `--desk` and the connection options every desk command
    takes (`deskbook sync` too: one set of connection settings for every command). Help texts name
    only the environment variables of the desks offered."""
    choices = desk_choices or desks()
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--desk", required=desk_default is None, default=desk_default, choices=choices,
                   help="which desk" + (f" (default {desk_default})" if desk_default else "")
                        + " (env DESKBOOK_DESK, or `desk` in deskbook.toml)")

    def env(index: int) -> str:
        names = [f"{desk}: env {CONNECTION_ENV[desk][index]}" for desk in choices if desk in CONNECTION_ENV]
        if len(names) == 1:
            return names[0].split(": ", 1)[1]
        return "; ".join(names)

    p.add_argument("--url", help=f"desk base URL ({env(0)})")
    p.add_argument("--email", help=f"agent email ({env(1)})")
    p.add_argument("--token", help=f"API token ({env(2)}); never printed")
    if "jsm" in choices:
        p.add_argument("--project", metavar="KEY", help="JSM: service project key (env JSM_PROJECT, default SUP)")
        p.add_argument("--cloud-id", metavar="ID", help="JSM: site cloud id for the automation API "
                                                        "(env JIRA_CLOUD_ID; read from the site when absent)")
        if internal_api:
            p.add_argument("--allow-internal-api", action="store_true",
                           help="JSM: install SLA goals through JSM's internal (undocumented) SLA endpoints")
    return p


def playbook_parent() -> argparse.ArgumentParser:
    """A parent parser (`parents=[...]`) with `--playbook` and `--scripts`."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--playbook", metavar="NAME|PATH", help="playbook (default: the shipped standard-service; "
                                                           "env DESKBOOK_PLAYBOOK, or `playbook` in deskbook.toml)")
    p.add_argument("--scripts", metavar="DIR", help="phrase library folder (default: the shipped one; "
                                                    "env DESKBOOK_SCRIPTS, or `scripts` in deskbook.toml)")
    return p


# ---------------------------------------------------------------- shared steps


def connect(args: argparse.Namespace) -> DeskConnector:
    """The connector for `--desk`, connected with flags or environment."""
    register_secret(getattr(args, "token", None))
    options = desk_options(args)
    return get_connector(args.desk).connect(args.url, args.email, args.token, **options)


def desk_options(args: argparse.Namespace) -> dict[str, Any]:
    """Desk-specific connection options from the flags (JSM: project, cloud id, internal API)."""
    allow_internal = bool(getattr(args, "allow_internal_api", False))
    if args.desk == "jsm":
        return {"project_key": getattr(args, "project", None), "cloud_id": getattr(args, "cloud_id", None),
                "allow_internal_api": allow_internal}
    jsm_only = [flag for flag, value in (("--project", getattr(args, "project", None)),
                                         ("--cloud-id", getattr(args, "cloud_id", None)),
                                         ("--allow-internal-api", allow_internal)) if value]
    if jsm_only:
        raise DeskbookError(f"{', '.join(jsm_only)} only apply to --desk jsm, not --desk {args.desk}",
                            hint="drop the flag(s)")
    return {}


def load_inputs(args: argparse.Namespace) -> tuple[Any, Any]:
    """(playbook, phrase library) for `--playbook` / `--scripts`."""
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    library = load_library(args.scripts) if getattr(args, "scripts", None) else load_library()
    playbook = load_playbook(args.playbook, phrase_ids=library.ids())
    return playbook, library


def playbook_name(args: argparse.Namespace) -> str:
    """The machine name of `--playbook` (the marker's owner), without needing its phrases."""
    from deskbook.playbooks.loader import load_playbook

    return load_playbook(args.playbook).metadata.name if args.playbook else "standard-service"


def make_plan(connector: DeskConnector, playbook: Any, library: Any, *, adopt: bool = False):
    """(plan, snapshot) for `playbook` against the desk's current state."""
    if hasattr(connector, "plan_playbook"):  # JSM: the plan also notes the SLA goals it cannot install
        plan, snapshot = connector.plan_playbook(playbook, library, adopt=adopt)
    else:
        desired = connector.desired_objects(playbook, library)
        snapshot = connector.populate(playbook.metadata.name)
        plan = connector.plan(playbook.metadata.name, desired, snapshot, adopt=adopt)
    plan.notes += _plan_notes(connector, playbook)
    return plan, snapshot


def _plan_notes(connector: DeskConnector, playbook: Any) -> list[str]:
    try:
        from deskbook.connectors.zendesk.translate import missing_process_views, schedule_notes
    except ImportError:  # pragma: no cover
        return []
    if connector.desk != "zendesk":
        return []
    return [f"the playbook has no view for {label}" for label in missing_process_views(playbook)] + schedule_notes(playbook)


def plan_exit(plan: Plan) -> ExitCode:
    """2 when the plan would write or has conflicts to resolve, else 0."""
    return ExitCode.CHANGES if plan.has_changes or plan.conflicts else ExitCode.OK


def print_plan(plan: Plan, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """The plan on stdout, as text or one JSON object."""
    if as_json:
        body = plan.to_json()
        body.update(extra or {})
        json.dump(body, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        show_plan(plan)


def show_plan(plan: Plan) -> None:
    """The plan as text on stdout, coloured on a terminal (`deskbook.term`: honours NO_COLOR)."""
    from deskbook.term import colour_plan, colour_wanted

    print(colour_plan(render_plan(plan), colour_wanted(sys.stdout)))


# ---------------------------------------------------------------- commands


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    """`deskbook plan`."""
    playbook, library = load_inputs(args)
    connector = connect(args)
    plan, _ = make_plan(connector, playbook, library, adopt=args.adopt)
    print_plan(plan, args.json)
    return plan_exit(plan)


def cmd_apply(args: argparse.Namespace) -> ExitCode:
    """`deskbook apply`: plan, guard, and with --doit write."""
    playbook, library = load_inputs(args)
    connector = connect(args)
    plan, snapshot = make_plan(connector, playbook, library, adopt=args.adopt)
    if not args.doit:
        print_plan(plan, args.json)
        if not args.json:
            print("(plan only: re-run with --doit to apply)")
        return plan_exit(plan)
    connector.guard(plan, snapshot, force=args.force, checksum=args.checksum)
    if not plan.has_changes:
        print_plan(plan, args.json, {"applied": {}})
        return ExitCode.OK
    if not args.json:
        show_plan(plan)
    report = connector.apply(plan, snapshot)
    if args.json:
        print_plan(plan, True, {"applied": {"summary": report.summary(), "count": len(report.done)}})
    else:
        print(f"Apply complete: {report.summary()}.")
    return ExitCode.OK


def cmd_uninstall(args: argparse.Namespace) -> ExitCode:
    """`deskbook uninstall`: delete only what the playbook owns."""
    name = playbook_name(args)
    connector = connect(args)
    snapshot = connector.populate(name)
    plan = uninstall_plan(connector, name, snapshot)
    if not args.doit:
        print_plan(plan, args.json)
        if not args.json:
            print("(plan only: re-run with --doit to delete)")
        return plan_exit(plan)
    connector.guard_uninstall(plan, force=args.force)
    report = connector.apply(plan, snapshot)
    if args.json:
        print_plan(plan, True, {"applied": {"summary": report.summary()}})
    else:
        show_plan(plan)
        print(f"Uninstall complete: {report.summary()}.")
    return ExitCode.OK


def cmd_export(args: argparse.Namespace) -> ExitCode:
    """`deskbook export`: all business rules, fields, groups, views and SLA policies as JSON."""
    connector = connect(args)
    data = connector.export()
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise DeskbookError(f"cannot write the export: {exc.strerror}", where=args.out) from None
        groups = data["objects"] if isinstance(data.get("objects"), dict) else data
        counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in groups.items() if isinstance(v, list))
        print(f"Exported {counts} to {args.out}")
    return ExitCode.OK


def cmd_demo(args: argparse.Namespace) -> ExitCode:
    """`deskbook demo`: a sandbox desk, the playbook installed, re-planned, sync jobs run, summary printed.

    The sync jobs' one-line-per-task log (what a cron log wants) is held back to warnings unless
    `-v`: the demo prints the counts itself."""
    sync_log = logging.getLogger("deskbook.sync")
    previous = sync_log.level
    if not getattr(args, "verbose", 0):
        sync_log.setLevel(logging.WARNING)
    try:
        return _demo(args)
    finally:
        sync_log.setLevel(previous)


def _demo(args: argparse.Namespace) -> ExitCode:
    if args.desk == "jsm":
        return _demo_jsm(args)
    if args.desk != "zendesk":
        raise DeskbookError(f"no demo for desk {args.desk!r}", hint="use --desk zendesk or --desk jsm")
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    playbook, library = load_inputs(args)
    name = playbook.metadata.name
    # Zendesk's incremental exports leave out the most recent minute; the demo's sync runs seconds
    # after the sample customers are created, so its sandbox hands out changes at once.
    with running_sandbox(export_lag_seconds=0) as desk:
        print(f"Sandbox Zendesk desk at {desk.url}.")
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        plan, snapshot = make_plan(connector, playbook, library, adopt=True)
        s = plan.summary()
        print(f"1. plan: {s['create']} objects to create (exit {int(plan_exit(plan))}).")
        connector.guard(plan, snapshot)
        report = connector.apply(plan, snapshot)
        print(f"2. apply: {report.summary()} in {connector.session.total_calls} requests.")
        replan, _ = make_plan(connector, playbook, library)
        if replan.has_changes:
            print(render_plan(replan))
            raise DeskbookError("re-plan after apply still has changes", hint="this is a bug; please report it")
        print("3. plan again: no changes (exit 0).")
        made = seed_customers(connector, playbook, args.seed_orgs)
        print(f"   seeded {made} sample customers (contract end dates, tiers) in the playbook's fields.")
        print("\n".join(_demo_sync(desk, playbook)))
        print(_demo_summary(connector, name))
    return ExitCode.OK


def seed_customers(connector: Any, playbook: Any, count: int) -> int:
    """Create `count` sample organizations whose contract-end date and tier use the installed fields."""
    import datetime as dt

    from deskbook.sync.jobs import settings_from_playbook

    settings = settings_from_playbook(playbook)
    fields = {f["key"]: f for f in connector.client.list("organization_field")}
    tier_field = fields.get(settings.tier_field) or {}
    tiers = [o["value"] for o in tier_field.get("custom_field_options") or []] or [None]
    today = dt.date.today()
    organizations = []
    for i in range(count):
        values = {settings.contract_end_field: (today + dt.timedelta(days=(i * 11) % 150)).isoformat()}
        if tiers[i % len(tiers)] is not None:
            values[settings.tier_field] = tiers[i % len(tiers)]
        organizations.append({"name": f"Sample customer {i + 1:03d}", "organization_fields": values})
    for start in range(0, len(organizations), 100):
        connector.client.create_many_organizations(organizations[start:start + 100])
    return len(organizations)


def _demo_sync(desk: Any, playbook: Any) -> list[str]:
    """Give the sandbox's new customers a first service (a solved ticket), then run the sync jobs
    once as of today; returns the lines the demo prints."""
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
    today = dt.date.today()
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


def _demo_summary(connector: Any, playbook_name: str) -> str:
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


# ---------------------------------------------------------------- JSM: demo and verify


def _demo_jsm(args: argparse.Namespace) -> ExitCode:
    """`deskbook demo --desk jsm`: the same story on a local JSM sandbox (`connectors/jsm/demo.py`)."""
    from deskbook.connectors.jsm.demo import run_demo
    from deskbook.sync.jobs import settings_from_playbook

    playbook, library = load_inputs(args)
    summary = run_demo(playbook, library, settings_from_playbook(playbook), seed_orgs=args.seed_orgs)
    print(render_jsm_demo(summary))
    return ExitCode.OK


def render_jsm_demo(summary: dict[str, Any]) -> str:
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
        lines.append(f"4. sync jobs once: customer requests created {made}.")
    types = summary.get("request_types") or []
    rules = summary.get("rules") or []
    lines.append("Admin sees (Project settings, all marked as managed by deskbook):")
    lines.append(f"  {len(types):3d} request type(s)")
    lines.append(f"  {len(rules):3d} automation rule(s)")
    notes = [note for note in summary.get("notes") or [] if note.startswith("SLA ") and " is not installed" in note]
    if notes:
        lines.append(f"  {len(notes)} SLA goal(s) to enter by hand (JSM has no public SLA API; "
                     "see `deskbook plan --desk jsm`, or use --allow-internal-api):")
        lines += [f"    - {note.split(' is not installed')[0]}" for note in notes]
    lines.append("Agent sees:")
    lines.append(f"  request types: {', '.join(types[:8])}{' …' if len(types) > 8 else ''}")
    lines.append(f"  manual rules (macros) in the issue view: {len(summary.get('agent_rules') or [])}")
    lines.append(f"  {summary.get('requests_served', 0)} API requests served by the sandbox")
    lines += [f"Note: {note}" for note in summary.get("notes") or [] if note not in notes]
    return "\n".join(lines)


def cmd_verify(args: argparse.Namespace) -> ExitCode:
    """`deskbook verify --desk jsm`: the playbook's SLA goals apply to a request; exit 1 listing gaps.

    JSM shows a request's SLAs only on a real request. With `--request KEY` that request is read
    (read-only). Without it a test request must be raised, which writes to the desk, so like every
    deskbook write it needs `--doit`. Without either, nothing is written: verify says on stderr (and
    in `--json`) which request it would raise and how to go on, and exits `ExitCode.USAGE` (64).
    Not 0 (nothing was verified), not 1 (that means "goals missing", a finding about the desk),
    not 2 (a plan's "changes to apply"): the command was run without the input it needs to verify.
    """
    playbook, _library = load_inputs(args)
    connector = connect(args)
    key = args.request
    created = False
    if not key:
        draft = connector.test_request_draft(playbook)
        if not args.doit:
            return _verify_dry_run(args, connector, draft)
        key = connector.raise_test_request(draft)
        created = True
    problems = connector.verify_sla(playbook, key)
    if args.json:
        json.dump({"desk": args.desk, "request": key, "created_test_request": created, "verified": True,
                   "ok": not problems, "problems": problems}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        if created:
            print(f"Raised test request {key} to read its SLAs (close it when done).")
        if problems:
            print(f"SLA goals of playbook {playbook.name} NOT all in place on {key}:")
            print("\n".join(f"  - {p}" for p in problems))
        else:
            print(f"SLA goals of playbook {playbook.name} are in place on {key}.")
    return ExitCode.ERROR if problems else ExitCode.OK


def _verify_dry_run(args: argparse.Namespace, connector: Any, draft: dict[str, Any]) -> ExitCode:
    """verify without --request and --doit: say what would be raised and how to proceed; exit USAGE."""
    request_type = draft["request_type"]
    project = connector.client.connection.project_key
    would = (f"would raise a test request in project {project} (request type \"{request_type['name']}\", "
             f"id {request_type['id']}; summary \"{draft['summary']}\") to read its SLAs")
    steps = ["pass --request KEY of an existing request (read-only)",
             "or re-run with --doit to raise the test request (close it when done)"]
    print(f"deskbook verify: nothing verified, nothing written: {would}; {'; '.join(steps)}.", file=sys.stderr)
    if args.json:
        json.dump({"desk": args.desk, "request": None, "created_test_request": False, "verified": False,
                   "ok": False, "problems": [], "would_raise": {"project": project, **draft},
                   "next_steps": steps}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    return ExitCode.USAGE

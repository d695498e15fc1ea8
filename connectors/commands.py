"""Desk commands: `plan`, `apply`, `uninstall`, `export`, `demo`, `verify`, for every registered desk.

    deskbook plan      --desk DESK [--playbook NAME|PATH] [--scripts DIR] [--adopt] [--json]
    deskbook apply     --desk DESK [...] [--doit] [--force] [--adopt] [--checksum SHA]
    deskbook uninstall --desk DESK [--playbook NAME|PATH] [--doit]
    deskbook export    --desk DESK --out FILE
    deskbook demo      [--desk DESK] [--seed-orgs N]
    deskbook verify    --desk DESK [--request KEY | --doit] [--json]   (desks with `can_verify`)

This module names no desk: the desks come from `connectors/registry.py`, each a `Desk`
(`connectors/desk.py`) that adds its own flags (`Desk.add_options`), connects (`Desk.connect`,
a `DeskConnector`), and runs its demo. Connection: `--url --email --token`, else each desk's
environment (the flags' help lists them). Exit codes (Terraform-style): plan 0 = no changes, 2 = changes (or conflicts to resolve),
1 = error. `apply` without `--doit` only plans. `verify` without `--request KEY` raises a test
request only with `--doit`; without it nothing is written and it exits 64 (`ExitCode.USAGE`) saying
what it would raise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from deskbook.connectors.base import DeskConnector, plan_exit, render_plan, uninstall_plan
from deskbook.connectors.desk import CONNECTION_FLAGS, Desk, connection_help, refuse_foreign_options
from deskbook.connectors.registry import all_desks, default_desk, desks, get_desk
from deskbook.errors import DeskbookError, ExitCode
from deskbook.log import register_secret
from deskbook.plan import Plan, change_line

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
    p.add_argument("--force", action="store_true", help="allow updating/deleting a large share of managed objects"
                                                            + "".join(f", and ({d.title}) {d.force_help['apply']}"
                                                                      for d in all_desks() if "apply" in d.force_help))
    p.add_argument("--adopt", action="store_true", help="take over same-name unmanaged objects")
    p.add_argument("--checksum", metavar="SHA", help="refuse unless the plan's checksum is this (from a reviewed plan)")
    p.add_argument("--json", action="store_true", help="print the plan (and result) as JSON")
    p.set_defaults(func=cmd_apply)

    p = subparsers.add_parser("uninstall", parents=target,
                              help="remove every object the playbook owns (and nothing else)")
    p.add_argument("--doit", action="store_true", help="really delete")
    p.add_argument("--force", action="store_true", help="; ".join(f"({d.title}) {d.force_help['uninstall']}"
                                                                  for d in all_desks() if "uninstall" in d.force_help))
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=cmd_uninstall)

    p = subparsers.add_parser("export", parents=[connection],
                              help="back up every business rule, field, group, view and SLA policy as JSON")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the JSON ('-' for stdout)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("restore", parents=[connection],
                              help="write a backup's configuration back into the desk (plans only without --doit; "
                                   + ", ".join(d.title for d in all_desks() if d.restore_refusal is None) + " only)")
    p.add_argument("file", metavar="FILE", help="a file written by `deskbook export` ('-' for stdin)")
    p.add_argument("--doit", action="store_true", help="really write (re-create deleted objects, revert changed ones)")
    p.set_defaults(func=cmd_restore)

    p = subparsers.add_parser("demo", help="sandbox desk + install + re-plan + sync jobs, with a summary")
    p.add_argument("--desk", default=default_desk(), choices=desks(),
                   help=f"which sandbox desk (default {default_desk()})")
    p.add_argument("--playbook", metavar="NAME|PATH", help="playbook to install (default: standard-service)")
    p.add_argument("--scripts", metavar="DIR", help="phrase library folder (default: the shipped one)")
    p.add_argument("--seed-orgs", type=int, default=20, metavar="N", help="sample customers to create (default 20)")
    p.set_defaults(func=cmd_demo)

    verifying = sorted(d.name for d in all_desks() if d.can_verify)
    p = subparsers.add_parser("verify", parents=[connection_parent(desk_choices=verifying), playbook_parent()],
                              help=f"{', '.join(d.title for d in all_desks() if d.can_verify)}: confirm the "
                                   "playbook's SLA goals apply to a request (exit 1 with what is missing)")
    p.add_argument("--request", metavar="KEY", help="request to read the SLAs of (default: with --doit, raise a "
                                                    "test request of a playbook request type and print its key)")
    p.add_argument("--doit", action="store_true", help="without --request: really raise the test request "
                                                       "(otherwise say what would be raised, exit 64)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=cmd_verify)


def connection_parent(desk_choices: list[str] | None = None, *, desk_default: str | None = None,
                      command: str = "desk") -> argparse.ArgumentParser:
    """A parent parser (`parents=[...]`) with `--desk` and the connection options every desk command
    takes (`deskbook sync` too, with `command="sync"`: one set of connection settings for every
    command), then the offered desks' own flags for `command`. Help texts name only the environment
    variables of the desks offered."""
    choices = desk_choices or desks()
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--desk", required=desk_default is None, default=desk_default, choices=choices,
                   help="which desk" + (f" (default {desk_default})" if desk_default else "")
                        + " (env DESKBOOK_DESK, or `desk` in deskbook.toml)")
    add_connection_flags(p, command, [get_desk(name) for name in choices])
    return p


#: The shared connection flags' help (each desk's environment is appended).
CONNECTION_HELP = {"url": "desk base URL ({})", "email": "agent email ({})", "token": "API token ({}); never printed"}


def add_connection_flags(parser: argparse.ArgumentParser, command: str, every: list[Desk]) -> None:
    """`--url --email --token` (help naming each desk's environment), then the desks' own flags."""
    for flag in CONNECTION_FLAGS:
        parser.add_argument(f"--{flag}", help=CONNECTION_HELP[flag].format(connection_help(every, flag)))
    seen: set[str] = set()
    for desk in every:  # a flag two desks share (same name) is added once, by the first
        probe = argparse.ArgumentParser(add_help=False)
        desk.add_options(probe, command)
        for action in probe._actions:
            if action.option_strings[0] not in seen:
                seen.add(action.option_strings[0])
                parser._add_action(action)


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
    return get_desk(args.desk).connect(args.url, args.email, args.token, **desk_options(args, "desk"))


def desk_options(args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The `--desk` desk's own flags as keyword options; a flag only another desk takes is refused."""
    desk = get_desk(args.desk)
    refuse_foreign_options(desk, all_desks(), args, command)
    return desk.options(args, command)


def load_inputs(args: argparse.Namespace, *, approved: bool = True) -> tuple[Any, Any]:
    """(playbook, phrase library) for `--playbook` / `--scripts`.

    With `approved` (every command that hands phrases to a desk or a customer), the library's one
    approval lock is asked for every phrase the playbook uses in each of its locales before anything
    else happens, so an admin sees every unapproved phrase at once rather than the first one a
    rendering meets (rendering still checks, so a command that passes False cannot leak text)."""
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    library = load_library(args.scripts) if getattr(args, "scripts", None) else load_library()
    playbook = load_playbook(args.playbook, phrase_ids=library.ids())
    if approved:
        library.require_approved(sorted(playbook.phrases_used()), playbook.metadata.locales)
    return playbook, library


def playbook_name(args: argparse.Namespace) -> str:
    """The machine name of `--playbook` (the marker's owner), without needing its phrases: the file is
    checked, its phrase references are not (they may be a project library's own)."""
    from deskbook.playbooks.loader import _read_source, parse_playbook

    return parse_playbook(*_read_source(args.playbook)).metadata.name if args.playbook else "standard-service"


def make_plan(connector: DeskConnector, playbook: Any, library: Any, *, adopt: bool = False):
    """(plan, snapshot) for `playbook` against the desk's current state (with the desk's notes)."""
    return connector.plan_playbook(playbook, library, adopt=adopt)


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
    try:
        connector.guard(plan, snapshot, force=args.force, checksum=args.checksum)
    except DeskbookError as exc:  # show what was refused, so it can be reviewed before --force
        print_plan(plan, args.json, {"refused": str(exc)})
        raise
    if not plan.has_changes:
        print_plan(plan, args.json, {"applied": {}})
        return ExitCode.OK
    if not args.json:
        show_plan(plan)
    intents = None
    location = connector.location()
    if location:  # creates a killed run sent are waited for, not made twice
        from deskbook.connectors.intents import CreateIntents, intents_path_for

        intents = CreateIntents(intents_path_for(args.desk, location, plan.playbook))
    report = connector.apply(plan, snapshot, intents=intents)
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
    """`deskbook export`: all business rules, fields, groups, views and SLA policies as JSON (one format
    for both desks, `deskbook.connectors.backup`)."""
    from deskbook.connectors.backup import export_document

    connector = connect(args)
    data = export_document(connector)
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    from deskbook.output import write_output

    if write_output(text, args.out, "the export"):
        counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}(s)" for k, v in data["objects"].items())
        print(f"Exported {counts} to {args.out}")
    return ExitCode.OK


def cmd_restore(args: argparse.Namespace) -> ExitCode:
    """`deskbook restore FILE`: write a backup's configuration back; plan only without --doit."""
    from deskbook.connectors.backup import read_document

    document = read_document(args.file)
    if document.get("desk") != args.desk:
        raise DeskbookError(f"the backup is of desk {document.get('desk')!r}, not --desk {args.desk}", where=args.file)
    desk = get_desk(args.desk)
    if desk.restore_refusal is not None:
        desk.restore(None, document, doit=False)  # raises, saying why
    connector = connect(args)
    steps = desk.restore(connector, document, doit=args.doit)
    for step in steps:
        was = f" (backed up as id {step['was_id']}" + (f", now id {step['id']})" if step.get("id") else ")") \
            if step["action"] == "create" else f" (id {step['id']})"
        print("  " + change_line(step["action"], step["kind"], step["name"], was))
    creates = sum(1 for s in steps if s["action"] == "create")
    print(f"Restore of {args.file} (exported {document.get('exported_at')}): {creates} to create, "
          f"{len(steps) - creates} to update" + ("." if args.doit else "; plan only: re-run with --doit to write."))
    if args.doit:
        return ExitCode.OK
    return ExitCode.CHANGES if steps else ExitCode.OK


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
    playbook, library = load_inputs(args)
    get_desk(args.desk).demo(playbook, library, seed_orgs=args.seed_orgs)
    return ExitCode.OK


def cmd_verify(args: argparse.Namespace) -> ExitCode:
    """`deskbook verify`: the playbook's SLA goals apply to a request; exit 1 listing gaps.

    A desk shows a request's SLAs only on a real request. With `--request KEY` that request is read
    (read-only). Without it a test request must be raised, which writes to the desk, so like every
    deskbook write it needs `--doit`. Without either, nothing is written: verify says on stderr (and
    in `--json`) which request it would raise and how to go on, and exits `ExitCode.USAGE` (64).
    Not 0 (nothing was verified), not 1 (that means "goals missing", a finding about the desk),
    not 2 (a plan's "changes to apply"): the command was run without the input it needs to verify.
    """
    playbook, _library = load_inputs(args, approved=False)  # verify hands out no phrase text
    connector = connect(args)
    key = args.request
    created = False
    if not key:
        draft = connector.test_request_draft(playbook)
        if not args.doit:
            return _verify_dry_run(args, connector, draft)
        key = connector.raise_test_request(draft)
        created = True
    out_of_scope: list[str] = []
    problems = connector.verify_sla(playbook, key, out_of_scope)
    if args.json:
        json.dump({"desk": args.desk, "request": key, "created_test_request": created, "verified": True,
                   "ok": not problems, "problems": problems, "out_of_scope": out_of_scope},
                  sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        if created:
            print(f"Raised test request {key} to read its SLAs (close it when done).")
        if problems:
            print(f"SLA goals of playbook {playbook.name} NOT all in place on {key}:")
            print("\n".join(f"  - {p}" for p in problems))
        else:
            print(f"SLA goals of playbook {playbook.name} that apply to {key} are in place.")
        if out_of_scope:
            print(f"Out of scope for {key} (the desk shows an SLA only on requests its goal JQL matches):")
            print("\n".join(f"  - {p}" for p in out_of_scope))
    return ExitCode.ERROR if problems else ExitCode.OK


def _verify_dry_run(args: argparse.Namespace, connector: Any, draft: dict[str, Any]) -> ExitCode:
    """verify without --request and --doit: say what would be raised and how to proceed; exit USAGE."""
    would = connector.describe_test_request(draft)
    steps = ["pass --request KEY of an existing request (read-only)",
             "or re-run with --doit to raise the test request (close it when done)"]
    print(f"deskbook verify: nothing verified, nothing written: {would}; {'; '.join(steps)}.", file=sys.stderr)
    if args.json:
        json.dump({"desk": args.desk, "request": None, "created_test_request": False, "verified": False,
                   "ok": False, "problems": [], "would_raise": draft,
                   "next_steps": steps}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    return ExitCode.USAGE

"""`deskbook test` at work: embedded sandboxes or a real desk, results as text or JSON.

Names no desk: each desk's driver is reached through its `Desk` (`scenario_driver`,
`scenario_dry_run`, `url_env`, the `test` flags of `add_options`), see `connectors/desk.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from deskbook.connectors.registry import default_desk, get_desk
from deskbook.connectors.scenarios.model import Scenario, ScenarioSet, load_scenarios, scenario_folder
from deskbook.connectors.scenarios.runner import SKIP_CANNOT_RUN, coverage, phrase_pattern, run_scenario
from deskbook.errors import DeskbookError, ExitCode

#: Where the embedded desks' clocks start unless a scenario says: Monday 2 March 2026, 09:30 in
#: Beijing (inside the standard playbook's business hours, no holiday near).
DEFAULT_START = "2026-03-02T09:30:00+08:00"


def _patterns(library: Any, playbook: Any, desk: str):
    cache: dict[tuple[str, str], Any] = {}

    def pattern(phrase: str, locale: str | None = None):
        key = (phrase, locale or playbook.metadata.default_locale)
        if key not in cache:
            cache[key] = phrase_pattern(library, phrase, key[1], desk)
        return cache[key]
    return pattern


def _start(scenario: Scenario, desk: str) -> float:
    text = str((scenario.options.get(desk) or {}).get("start") or DEFAULT_START)
    return datetime.fromisoformat(text).timestamp()


def _chosen(scenario_set: ScenarioSet, desk_name: str, only: list[str] | None) -> list[Scenario]:
    """The scenarios of the set that run on the desk (only those named in `only`, when given). A name
    in `only` that is no scenario of the set is refused; one of another desk is passed over (one list
    serves both desks), unless none of the names runs on this desk."""
    chosen = [s for s in scenario_set.scenarios if desk_name in s.desks and (not only or s.name in only)]
    if only:
        known = sorted(s.name for s in scenario_set.scenarios)
        unknown = [name for name in dict.fromkeys(only) if name not in known]
        if unknown:
            raise DeskbookError(f"no scenario named {', '.join(unknown)}", where=scenario_set.folder,
                                hint="known scenarios: " + ", ".join(known))
        if not chosen:
            raise DeskbookError(f"scenario {', '.join(dict.fromkeys(only))} does not run on {desk_name} (see its `desks:`)",
                                where=scenario_set.folder, hint=f"scenarios on {desk_name}: " + ", ".join(
                                    s.name for s in scenario_set.scenarios if desk_name in s.desks))
    return chosen


def run_desk(desk_name: str, scenario_set: ScenarioSet, playbook: Any, library: Any,
             only: list[str] | None = None, live: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every scenario of the set that runs on the desk — each on a fresh embedded sandbox, or with
    `live` (connection and the desk's options) on the real desk, its test tickets removed after each
    scenario whatever happened (`cleanup` in the result); the JSON-ready report."""
    desk = get_desk(desk_name)
    chosen = _chosen(scenario_set, desk_name, only)
    pattern = _patterns(library, playbook, desk_name)
    cache: dict[str, Any] = {}  # what a live desk reads once per run
    results = []
    for scenario in chosen:
        with desk.scenario_driver(playbook, library, scenario, start=_start(scenario, desk_name), live=live,
                                  cache=cache) as driver:
            result = run_scenario(driver, scenario, pattern=pattern, desk=desk_name)
        if live is not None:
            result["cleanup"] = driver.cleaned
        results.append(result)
    listed, missing = coverage(scenario_set, desk_name, results)
    report = {"desk": desk_name, "scenarios": results, "not_expressible": listed}
    if missing and not only and live is None:  # a real desk skips steps: coverage is the sandbox's to prove
        report["coverage_missing"] = missing
    return report


def report_ok(report: dict[str, Any]) -> bool:
    """Whether a desk's report passes: no failed scenario and full SOP coverage."""
    return not report.get("coverage_missing") and all(s["status"] != "failed" for s in report["scenarios"])


def render(report: dict[str, Any]) -> str:
    """A desk's report as text: one line per scenario, the failing step's differences."""
    lines = [f"{report['desk']}:"]
    for result in report["scenarios"]:
        lines.append(f"  {result['status'].upper():7} {result['name']} ({', '.join(result['implements'])})")
        for step in result["steps"]:
            if step["status"] == "failed":
                for problem in step.get("problems", []):
                    lines.append(f"          step {step['step']} ({step['action']}{': ' + step['say'] if step['say'] else ''}): "
                                 f"{problem['what']}: expected {problem['expected']!r}, got {problem['actual']!r}")
            if step["status"] == "skipped" and step.get("skip") == SKIP_CANNOT_RUN:
                lines.append(f"          step {step['step']} and later skipped: {step['reason']}")
        cleanup = result.get("cleanup") or {}
        if cleanup.get("deleted"):
            lines.append(f"          test tickets deleted: {', '.join(str(k) for k in cleanup['deleted'])}")
        for closed in cleanup.get("closed") or []:
            lines.append(f"          test ticket {closed['key']} not deleted, {closed['status'].lower()} instead: {closed['why']}")
        for left in cleanup.get("left") or []:
            lines.append(f"          test ticket {left['key']} LEFT on the desk: {left['why']}")
    for entry in report["not_expressible"]:
        lines.append(f"  note: {entry['id']} not expressible on {report['desk']}: {entry['reason']}")
    if report.get("coverage_missing"):
        lines.append(f"  FAILED coverage: no passing scenario proves {', '.join(report['coverage_missing'])} "
                     f"and coverage.yaml does not list them as not expressible")
    return "\n".join(lines)


def _live_settings(args: argparse.Namespace, desk: Any) -> dict[str, Any] | None:
    """The real desk's connection and the desk's own `test` flags, or None (no real desk given); a flag
    only another desk takes is refused."""
    from deskbook.connectors.desk import refuse_foreign_options
    from deskbook.connectors.registry import all_desks

    refuse_foreign_options(desk, all_desks(), args, "test")
    options = desk.options(args, "test")
    if not args.url and not any(os.environ.get(name) for name in desk.url_env):
        return None
    return {"url": args.url, "email": args.email, "token": args.token, **options}


def _dry_run(desk: Any, scenario_set: ScenarioSet, playbook: Any, live: dict[str, Any],
             only: list[str] | None) -> dict[str, Any]:
    """What a live run would create, written nowhere."""
    chosen = _chosen(scenario_set, desk.name, only)
    lines = [f"Would run {len(chosen)} scenario(s) on the real {desk.name} desk, writing nothing now (re-run with --doit):"]
    lines += [f"  {desk.scenario_dry_run(playbook, s, live)}" for s in chosen]
    return {"desk": desk.name, "dry_run": "\n".join(lines)}


def cmd_test(args: argparse.Namespace) -> ExitCode:
    """`deskbook test`."""
    from deskbook.connectors.commands import load_inputs
    from deskbook.log import register_secret

    register_secret(getattr(args, "token", None))
    desk = get_desk(args.desk or default_desk())
    live = _live_settings(args, desk)
    if live is None and args.doit:
        raise DeskbookError("--doit needs a real desk (--url/--email/--token or the desk's environment)",
                            hint="leave --doit out to run on the embedded sandbox")
    playbook, library = load_inputs(args)
    scenario_set = load_scenarios(scenario_folder(playbook.metadata.name, args.playbook))
    if live is not None and not args.doit:
        report = _dry_run(desk, scenario_set, playbook, live, args.scenario)
    else:
        report = run_desk(desk.name, scenario_set, playbook, library, args.scenario, live)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print(report["dry_run"] if "dry_run" in report else render(report))
    if "dry_run" in report:
        return ExitCode.USAGE
    return ExitCode.OK if report_ok(report) else ExitCode.ERROR

"""`deskbook test` at work: embedded sandboxes or a real desk, results as text or JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from deskbook.connectors.scenarios.model import Scenario, ScenarioSet, load_scenarios, scenario_folder
from deskbook.connectors.scenarios.runner import coverage, phrase_pattern, run_scenario
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


def run_zendesk_embedded(scenario: Scenario, playbook: Any, library: Any) -> dict[str, Any]:
    """One scenario on a fresh embedded Zendesk sandbox with the playbook installed."""
    from deskbook.connectors.commands import make_plan
    from deskbook.connectors.scenarios.zendesk_driver import ZendeskDriver
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import FakeClock, running_sandbox

    options = dict(scenario.options.get("zendesk") or {})
    with running_sandbox(clock=FakeClock(_start(scenario, "zendesk")), export_lag_seconds=0, system_rules=True, run_rules=True,
                         csat=bool(options.get("csat", True))) as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        plan, snapshot = make_plan(connector, playbook, library, adopt=True)
        connector.apply(plan, snapshot)
        driver = ZendeskDriver(connector, playbook, handle=desk)
        return run_scenario(driver, scenario, pattern=_patterns(library, playbook, "zendesk"), desk="zendesk")


def run_desk(desk: str, scenario_set: ScenarioSet, playbook: Any, library: Any,
             only: list[str] | None = None) -> dict[str, Any]:
    """Every scenario of the set that runs on `desk`, embedded; the JSON-ready report."""
    runner = {"zendesk": run_zendesk_embedded, "jsm": run_jsm_embedded}[desk]
    chosen = [s for s in scenario_set.scenarios if desk in s.desks and (not only or s.name in only)]
    if only:
        unknown = sorted(set(only) - {s.name for s in scenario_set.scenarios})
        if unknown:
            raise DeskbookError(f"no scenario named {', '.join(unknown)}", where=scenario_set.folder,
                                hint="names: " + ", ".join(s.name for s in scenario_set.scenarios))
    results = [runner(s, playbook, library) for s in chosen]
    listed, missing = coverage(scenario_set, desk, results)
    report = {"desk": desk, "scenarios": results, "not_expressible": listed}
    if missing and not only:
        report["coverage_missing"] = missing
    return report


def run_jsm_embedded(scenario: Scenario, playbook: Any, library: Any) -> dict[str, Any]:
    """One scenario on a fresh embedded JSM sandbox with the playbook installed (rules enabled and
    run by the sandbox's automation engine; SLA metrics through the internal API)."""
    from deskbook.connectors.commands import make_plan
    from deskbook.connectors.jsm.client import JsmClient, JsmConnection
    from deskbook.connectors.jsm.connector import JsmConnector
    from deskbook.connectors.jsm.sandbox import FakeClock, running_sandbox
    from deskbook.connectors.scenarios.jsm_driver import JsmDriver

    with running_sandbox(clock=FakeClock(_start(scenario, "jsm"))) as desk:
        connection = JsmConnection(url=desk.url, email=desk.email, token=desk.token, project_key=desk.project_key,
                                   cloud_id=desk.cloud_id)
        connector = JsmConnector(JsmClient(connection), allow_internal_api=True)
        plan, snapshot = make_plan(connector, playbook, library, adopt=True)
        connector.apply(plan, snapshot)
        driver = JsmDriver(connector, playbook, handle=desk)
        return run_scenario(driver, scenario, pattern=_patterns(library, playbook, "jsm"), desk="jsm")


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
            if step["status"] == "skipped" and step.get("reason", "").startswith("time"):
                lines.append(f"          step {step['step']} and later skipped: {step['reason']}")
    for entry in report["not_expressible"]:
        lines.append(f"  note: {entry['id']} not expressible on {report['desk']}: {entry['reason']}")
    if report.get("coverage_missing"):
        lines.append(f"  FAILED coverage: no passing scenario proves {', '.join(report['coverage_missing'])} "
                     f"and coverage.yaml does not list them as not expressible")
    return "\n".join(lines)


def _real_desk_given(args: argparse.Namespace, desk: str) -> bool:
    if args.url:
        return True
    env = ("ZENDESK_URL", "ZENDESK_SUBDOMAIN") if desk == "zendesk" else ("JIRA_URL",)
    return any(os.environ.get(name) for name in env)


def _real(args: argparse.Namespace, desk: str, scenario_set: ScenarioSet, playbook: Any, library: Any) -> dict[str, Any]:
    """The scenarios against a real desk (only with --doit; else what would be created)."""
    chosen = [s for s in scenario_set.scenarios if desk in s.desks and (not args.scenario or s.name in args.scenario)]
    if not args.doit:
        lines = [f"Would run {len(chosen)} scenario(s) on the real {desk} desk, writing nothing now (re-run with --doit):"]
        for s in chosen:
            timed = [st.index for st in s.steps if st.action == "time_passes"]
            skip = f"; skips step {timed[0]} onwards (time cannot pass on a real desk)" if timed else ""
            lines.append(f"  {s.name}: 1 test customer + 1 test ticket tagged deskbook_test, subject "
                         f"'[deskbook test] ...', deleted afterwards{skip}")
        return {"desk": desk, "dry_run": "\n".join(lines)}
    if desk != "zendesk":
        raise DeskbookError("running scenarios against a real JSM site is not available yet",
                            hint="run `deskbook test --desk jsm` on the embedded sandbox")
    from deskbook.connectors.scenarios.zendesk_driver import ZendeskDriver
    from deskbook.connectors.zendesk.connector import ZendeskConnector

    connector = ZendeskConnector.connect(args.url, args.email, args.token)
    results = []
    pattern = _patterns(library, playbook, desk)
    ids = None  # the desk is read once for the installed objects, not once per scenario
    for scenario in chosen:
        driver = ZendeskDriver(connector, playbook, live=True, ids=ids)
        ids = driver.ids
        try:
            results.append(run_scenario(driver, scenario, pattern=pattern, desk=desk))
        finally:
            driver.cleanup()
    listed, _ = coverage(scenario_set, desk, results)
    return {"desk": desk, "scenarios": results, "not_expressible": listed}


def cmd_test(args: argparse.Namespace) -> ExitCode:
    """`deskbook test`."""
    from deskbook.connectors.commands import load_inputs

    playbook, library = load_inputs(args)
    scenario_set = load_scenarios(scenario_folder(playbook.metadata.name, args.playbook))
    desks = [args.desk or "zendesk"]
    reports = []
    for desk in desks:
        if _real_desk_given(args, desk):
            report = _real(args, desk, scenario_set, playbook, library)
        else:
            if args.doit:
                raise DeskbookError("--doit needs a real desk (--url/--email/--token or the desk's environment)",
                                    hint="leave --doit out to run on the embedded sandbox")
            report = run_desk(desk, scenario_set, playbook, library, args.scenario)
        reports.append(report)
    if args.json:
        body: Any = reports[0] if len(reports) == 1 else {"desks": reports}
        json.dump(body, sys.stdout, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        for report in reports:
            print(report["dry_run"] if "dry_run" in report else render(report))
    if any("dry_run" in r for r in reports):
        return ExitCode.USAGE
    return ExitCode.OK if all(report_ok(r) for r in reports) else ExitCode.ERROR

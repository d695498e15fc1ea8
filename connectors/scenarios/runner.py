"""Run scenarios on a desk driver, compare each step's expectations, and check SOP coverage.

A driver (see `zendesk_driver.py`) acts (`customer_writes`, `agent_applies`, ...) and reads the
ticket back in the playbook's words (`state()`: status, priority, group key, category key, tags,
field values, SLA policy key and targets, the views it is in, messages the customer received,
metrics). A driver's `skip_reason(action)` says why a step cannot run there (a real desk cannot
make time pass; a customer's step may need the customer's own login): the scenario stops at that
step and it and the rest are reported as skipped, with the reason.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from deskbook.connectors.scenarios.model import SOP_IDS, Scenario, ScenarioSet
from deskbook.errors import DeskbookError

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
#: Why a real desk skips a `time_passes` step (and the rest of the story).
TIME_SKIP = "time cannot pass on a real desk"
#: The kinds of skipped step (a skipped step's `skip`): the desk cannot run it (its `reason` says
#: why), or an earlier step stopped the story: one the desk could not run, or one that failed.
SKIP_CANNOT_RUN, SKIP_AFTER_SKIP, SKIP_AFTER_FAILURE = "cannot_run", "after_skip", "after_failure"


class Driver:
    """What both desks' scenario drivers do alike (`zendesk_driver.py`, `jsm_driver.py` subclass it): a step
    is the driver method of its action's name; time passes only on an embedded sandbox (`handle`);
    `wanted` (set by `run_scenario`) lets a state skip reads no expectation of the step needs; the S-11
    survey job runs with one ledger per story."""

    live: bool = False
    handle: Any = None
    playbook: Any = None
    wanted: set[str] | None = None  # the expectation keys of the step being checked (None: all)
    ledger_dir: str | None = None  # the survey job's ledger for this story (sync_runs)

    def act(self, action: str, argument: Any) -> None:
        """Perform one scenario step."""
        getattr(self, action)(argument)

    def time_passes(self, argument: dict[str, Any]) -> None:
        if self.live or self.handle is None:
            raise RuntimeError("time can only pass on the embedded sandbox")
        hours = float(argument.get("hours", 0)) + float(argument.get("days", 0)) * 24
        self.handle.pass_time(hours * 3600 + float(argument.get("minutes", 0)) * 60)

    def _wants(self, key: str) -> bool:
        """Whether the step being checked expects `key` of the state (`wanted` None: every key)."""
        return self.wanted is None or key in self.wanted

    def _survey_job(self, sync_desk: Any, client: Any) -> Any:
        """`deskbook sync`'s S-11 survey job, once, on `sync_desk(client, ...)` (the desk's sync adapter) with
        this story's ledger; the run's report."""
        import tempfile

        from deskbook.sync.jobs import settings_from_playbook
        from deskbook.sync.ledger import Ledger
        from deskbook.sync.runner import run_jobs
        from deskbook.sync.surveys import SURVEY_JOB

        settings = settings_from_playbook(self.playbook)
        desk = sync_desk(client, contract_end_field=settings.contract_end_field, tier_field=settings.tier_field,
                         playbook_name=settings.playbook_name)
        if self.ledger_dir is None:
            self.ledger_dir = tempfile.mkdtemp(prefix="deskbook-scenario-")
        ledger = Ledger(f"{self.ledger_dir}/ledger.sqlite")
        try:
            return run_jobs(desk, ledger, settings, jobs=(SURVEY_JOB,))
        finally:
            ledger.close()


def phrase_pattern(library: Any, phrase_id: str, locale: str, desk: str) -> re.Pattern:
    """A pattern matching the approved phrase as the desk sends it, each placeholder filled by
    something (an empty placeholder does not match). A fill-in marker (`[公司名称]`) matches what the
    install put there (the playbook's constants, a JSM rule's group) as well as the marker itself."""
    from deskbook.scripts_library import render_for_desk
    from deskbook.scripts_library.placeholders import unfilled_slots

    text = render_for_desk(library, phrase_id, locale, desk).strip()
    for marker, _ in unfilled_slots(text):
        text = text.replace(marker, "{{slot}}")
    parts = [re.escape(p) for p in _PLACEHOLDER.split(text)]
    return re.compile(r"\s*" + r"(\S.*?)".join(parts) + r"\s*", re.S)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def compare(expect: dict[str, Any], state: dict[str, Any], new_messages: list[str], *,
            pattern: Callable[..., re.Pattern], new_notes: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Differences between what a step expects and the desk state: [{what, expected, actual}]."""
    problems: list[dict[str, Any]] = []

    def differ(what: str, expected: Any, actual: Any) -> None:
        problems.append({"what": what, "expected": expected, "actual": actual})

    # what this install lacks (`state["unavailable"]`: area -> why, e.g. SLA goals a plain apply left
    # out): one problem naming the reason instead of a comparison with nothing
    unavailable = state.get("unavailable") or {}
    for area in ("sla", "views"):
        if area in expect and area in unavailable:
            differ(area, expect[area], unavailable[area])
    expect = {k: v for k, v in expect.items() if k not in unavailable}
    for key in ("status", "priority", "group", "category"):
        if key in expect and _text(expect[key]) != _text(state.get(key)):
            differ(key, expect[key], state.get(key))
    tags = set(state.get("tags") or [])
    for tag in (expect.get("tags") or {}).get("has") or []:
        if tag not in tags:
            differ(f"tags has {tag}", True, sorted(tags))
    for tag in (expect.get("tags") or {}).get("lacks") or []:
        if tag in tags:
            differ(f"tags lacks {tag}", True, sorted(tags))
    for key, value in (expect.get("fields") or {}).items():
        actual = (state.get("fields") or {}).get(key)
        if _text(value) != _text(actual):
            differ(f"field {key}", value, actual)
    if "sla" in expect:
        sla, have = expect["sla"] or {}, state.get("sla") or {}
        if "policy" in sla and _text(sla["policy"]) != _text(have.get("policy")):
            differ("sla policy", sla["policy"], have.get("policy"))
        for metric, minutes in (sla.get("targets") or {}).items():
            actual = (have.get("targets") or {}).get(metric)
            if _text(minutes) != _text(actual):
                differ(f"sla target {metric} (minutes)", minutes, actual)
        for metric, when in (sla.get("breach_at") or {}).items():
            actual = (have.get("breach_at") or {}).get(metric)
            if _text(when) != _text(actual):
                differ(f"sla breach_at {metric}", when, actual)
    views = set(state.get("views") or [])
    for view in (expect.get("views") or {}).get("in") or []:
        if view not in views:
            differ(f"in view {view}", True, sorted(views))
    for view in (expect.get("views") or {}).get("out") or []:
        if view in views:
            differ(f"not in view {view}", True, sorted(views))
    for phrase in expect.get("customer_received") or []:
        if not any(pattern(phrase).fullmatch(m) for m in new_messages):
            differ(f"customer received {phrase}", "the approved phrase, every placeholder filled",
                   new_messages or "no new message")
    if "customer_received_count" in expect and len(new_messages) != int(expect["customer_received_count"]):
        differ("new messages to the customer", expect["customer_received_count"], new_messages)
    for phrase, count in (expect.get("customer_total") or {}).items():
        found = [m for m in state.get("messages") or [] if _loose(pattern(phrase)).search(m)]
        if len(found) != int(count):
            differ(f"messages to the customer with {phrase}", count, len(found))
    notes = new_notes or []
    if "notes_count" in expect and len(notes) != int(expect["notes_count"]):
        differ("new notes to agents", expect["notes_count"], [n["body"] for n in notes])
    locales = state.get("locales") or [None]
    for wanted in expect.get("notes") or []:
        phrase, alternative = str(wanted.get("phrase") or ""), wanted.get("alternative")
        if not any(_names(n["body"], phrase, alternative, locales, pattern) for n in notes):
            differ(f"a note naming {phrase!r}" + (f" and the approved {alternative}" if alternative else ""), True,
                   [n["body"] for n in notes] or "no new note")
    told = {g for n in notes for g in n.get("groups") or []}
    for group in expect.get("notified") or []:
        if group not in told:
            differ(f"group {group} notified", True, sorted(told))
    for key, value in (expect.get("organization") or {}).items():
        actual = (state.get("organization") or {}).get(key)
        if _text(value) != _text(actual):
            differ(f"organization field {key}", value, actual)
    if "organization_writes" in expect and _text(expect["organization_writes"]) != _text(state.get("organization_writes")):
        differ("survey record writes", expect["organization_writes"], state.get("organization_writes"))
    for key, value in (expect.get("metrics") or {}).items():
        if _text(value) != _text((state.get("metrics") or {}).get(key)):
            differ(f"metric {key}", value, (state.get("metrics") or {}).get(key))
    return problems


def _names(body: str, phrase: str, alternative: str | None, locales: list, pattern: Callable[..., re.Pattern]) -> bool:
    """Whether a note names `phrase` and carries the approved text of phrase `alternative` (any locale)."""
    if phrase not in body:
        return False
    return alternative is None or any(_loose(pattern(alternative, loc)).search(body) for loc in locales)


def _loose(pattern: re.Pattern) -> re.Pattern:
    """The phrase pattern with placeholders allowed to be empty (to count sends, filled or not)."""
    return re.compile(pattern.pattern.replace(r"(\S.*?)", r"(.*?)"), re.S)


def run_scenario(driver: Any, scenario: Scenario, *, pattern: Callable[..., re.Pattern],
                 desk: str | None = None) -> dict[str, Any]:
    """Run one scenario on `desk`'s driver; the JSON-ready result (`status` passed/failed/skipped,
    per-step detail). A step whose action the desk refuses fails with the desk's answer."""
    result: dict[str, Any] = {"name": scenario.name, "title": scenario.title, "implements": list(scenario.implements),
                              "status": "passed", "steps": []}
    seen = seen_notes = 0
    for step in scenario.steps:
        entry: dict[str, Any] = {"step": step.index, "action": step.action, "say": step.say}
        reason = driver.skip_reason(step.action)
        if reason:
            entry.update(status="skipped", skip=SKIP_CANNOT_RUN, reason=reason)
            result["steps"].append(entry)
            result["status"] = "skipped" if result["status"] == "passed" else result["status"]
            result["steps"] += _skipped_after(scenario, step.index, SKIP_AFTER_SKIP, f"after step {step.index}, skipped")
            break
        expect = step.expect_on(desk)
        try:
            driver.act(step.action, step.argument)
            driver.wanted = set(expect)  # a driver may skip reads no expectation needs (Zendesk: SLA events)
            state = driver.state()
        except (KeyError, DeskbookError) as exc:
            problems = [{"what": f"{step.action} {step.argument!r}", "expected": "the desk does it",
                         "actual": str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)}]
            state = None
        if state is not None:
            messages = state.get("messages") or []
            notes = state.get("notes") or []
            problems = compare(expect, state, messages[seen:], pattern=pattern, new_notes=notes[seen_notes:])
            seen, seen_notes = len(messages), len(notes)
        entry["status"] = "failed" if problems else "passed"
        if problems:
            entry["problems"] = problems
            result["status"] = "failed"
        result["steps"].append(entry)
        if problems:
            result["steps"] += _skipped_after(scenario, step.index, SKIP_AFTER_FAILURE, f"step {step.index} failed")
            break
    return result


def _skipped_after(scenario: Scenario, index: int, kind: str, reason: str) -> list[dict[str, Any]]:
    """The steps after step `index` (1-based), skipped: `kind` and `reason` say why."""
    return [{"step": rest.index, "action": rest.action, "say": rest.say, "status": "skipped", "skip": kind,
             "reason": reason} for rest in scenario.steps[index:]]


def coverage(scenario_set: ScenarioSet, desk: str, results: list[dict[str, Any]]) -> tuple[list[dict], list[str]]:
    """(not_expressible entries for `desk`, SOP ids neither proved by a passing scenario nor listed)."""
    listed = [{"id": i, "reason": r} for i, r in scenario_set.not_expressible.get(desk, ())]
    proved = {i for r in results if r["status"] == "passed" for i in r["implements"]}
    missing = [i for i in SOP_IDS if i not in proved and i not in {e["id"] for e in listed}]
    return listed, missing


def not_expressible_notes(playbook_name: str, playbook_path: str | None, desk: str) -> list[str]:
    """Plan notes: the SOP ids the playbook's scenarios list as not expressible on `desk`."""
    from deskbook.connectors.scenarios.model import load_scenarios, scenario_folder

    folder = scenario_folder(playbook_name, playbook_path)
    if not folder.is_dir():
        return []
    found = load_scenarios(folder).not_expressible.get(desk, ())
    return [f"{sop_id} is not enforced by {desk} rules (no scenario can prove it there): {reason}" for sop_id, reason in found]

"""SLA cycles of a JSM request, computed from its history: pure functions, no store.

What the sandbox's `GET /rest/servicedeskapi/request/{key}/sla` answers. An SLA metric is stored in
the shape a real site uses (FACTS.md 6.3): `{name, config: {definition: {start, pause, stop}, goals:
[{jqlQuery, duration (ms), calendarId, defaultGoal}]}}`; a calendar in the working-hours shape
(FACTS.md 6.6): `{name, timezoneId, workingTimes: [{weekday, start, end}] (ms after midnight),
holidays: [{name, iso8601Date, recurring}]}`.

Semantics (Atlassian's "Create service level agreements (SLAs)" and "SLA conditions" pages):

* **Goal**: the first goal, in the metric's order, whose JQL matches the request applies (Atlassian's
  "Use priority to group SLA goals": issues "are checked against goals in the list from top to
  bottom"); the default goal (`defaultGoal`, JQL `""`), "All remaining issues", applies to a request no
  other goal matches. No goal, or a goal without a duration (JSM's "no target"), means the request has
  no such SLA: it is left out of the answer. A metric holds at most `GOAL_LIMIT` goals (the same page:
  "the current goal limit of 90").
* **Start / stop** are *hit* conditions, events in the request's history; **pause** conditions are
  *match* conditions, states the request is in. Time counts from a start to the next stop, except
  while a pause condition matches, and only inside the goal's calendar (working hours, holidays, time
  zone: `sandbox_kit/working_time.py`). A goal without a calendar counts around the clock (JSM's
  "24/7 Calendar (Default)").
* **Breach**: the instant the counted time reaches the goal; a cycle is breached when its counted
  time exceeds the goal. An ongoing, unpaused cycle reports the breach time it will reach if nothing
  pauses it; a paused one that has not breached yet reports none.

Conditions understood — the reading taken (FACTS.md 6.3 gives the condition *shape*
`{pluginKey: "com.atlassian.servicedesk", factoryKey, conditionId, name}`, not the vocabulary; the
values below are those salto's jira adapter sends and reads back on Cloud, its e2e SLA instance and
a recorded `sla/metrics` read, salto-io/salto `packages/jira-adapter`, 2024-25; not checked on a
live site by deskbook):

| factoryKey | conditionId | kind | meaning here |
|---|---|---|---|
| `issue-created-sla-condition-factory` | `issue-created-hit-condition` | hit | the request is created |
| `comment-sla-condition-factory` | `comment-for-reporter-hit-condition` | hit | a public comment by an agent ("Comment: For Customers") |
| `comment-sla-condition-factory` | `comment-by-reporter-hit-condition` | hit | a comment by a customer ("Comment: By Customer") |
| `resolution-sla-condition-factory` | `resolution-set-hit-condition` / `resolution-cleared-hit-condition` | hit | a resolution is set / cleared |
| `resolution-sla-condition-factory` | `resolution-set-match-condition` / `resolution-not-set-match-condition` | match | while resolved / unresolved |
| `status-sla-condition-factory` | a status id | hit | "Entered Status: X" (start/stop) |
| `status-sla-condition-factory` | a status id | match | "Status: X", while in it (pause) |
| `assignee-sla-condition-factory` | `assignee-set-hit-condition`, `assignee-cleared-hit-condition`, `assignee-changed-hit-condition` | hit | assignee from unassigned / to unassigned / changed |
| `assignee-sla-condition-factory` | `assignee-set-match-condition` / `assignee-not-set-match-condition` | match | while assigned / unassigned |

Readings taken where FACTS.md is silent or unverified (6.3 gives the metric shape and says the default
goal's JQL is `""`): every other goal needs a JQL query (JSM's goal editor asks for one; the app
refuses a goal without it, 400 naming the goal); the default goal is evaluated after every other goal,
wherever it stands in the list (JSM's editor keeps it last, as "All remaining issues"); metric names
are unique in the project, case-blind (the app refuses a duplicate on create and rename; FACTS.md 6.4:
salto updates a same-named metric instead of creating one); a goal's priority sub-goals (`subGoals`,
FACTS.md 6.3, Atlassian's "group SLA goals by priority") are not evaluated: deskbook writes the priority
into each goal's JQL instead and sends none.

Assumptions where Atlassian's pages are silent, taken here: an event that both stops and starts a
metric completes the ongoing cycle and starts the next one (periodic-update SLAs); an ongoing cycle's
goal is chosen by the request's current state (JSM recalculates an SLA when the request changes),
while a completed cycle keeps the goal it ran under — the one the request matched just before the
event that stopped it, its state then rebuilt from the changelog (`as_it_stood`). FACTS.md 6.x is
silent on both; this is the inferred reading (JSM reports a completed cycle with its own goal and
breach, and a goal whose JQL a request no longer matches, e.g. one that excludes resolved requests,
does not take the request's finished cycles with it). A metric no goal matches now is still listed
with the completed cycles that had one; a relative date in a goal's JQL is read against now. A comment is "by
a customer" when its author is a customer account (`is_customer`; agents, the API user and rule
actors are not); an SLA whose goal
applies but which has not started yet (no start event so far) is listed without cycles.

The request's history is read from the stored request — its changelog, which `issues.py` writes for
every change, whoever makes it (API handlers or the automation engine) — never from hooks of the
code that changed it. A request stored without one (the seeded first services) counts from its
`created` and `resolutiondate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable

from deskbook.connectors.jsm.sandbox.store import now_iso
from deskbook.connectors.sandbox_kit.working_time import (
    WorkingTime,
    add_working_seconds,
    is_working,
    working_seconds,
)

PLUGIN_KEY = "com.atlassian.servicedesk"
CREATED = "issue-created-sla-condition-factory"
COMMENT = "comment-sla-condition-factory"
RESOLUTION = "resolution-sla-condition-factory"
STATUS = "status-sla-condition-factory"
ASSIGNEE = "assignee-sla-condition-factory"

#: (factoryKey, conditionId) of the hit conditions (start/stop) the sandbox evaluates; status ids are
#: checked against the workflow's statuses separately.
HIT_CONDITIONS = {
    (CREATED, "issue-created-hit-condition"), (COMMENT, "comment-for-reporter-hit-condition"),
    (COMMENT, "comment-by-reporter-hit-condition"), (RESOLUTION, "resolution-set-hit-condition"),
    (RESOLUTION, "resolution-cleared-hit-condition"), (ASSIGNEE, "assignee-set-hit-condition"),
    (ASSIGNEE, "assignee-cleared-hit-condition"), (ASSIGNEE, "assignee-changed-hit-condition"),
}
#: (factoryKey, conditionId) of the match conditions (pause).
MATCH_CONDITIONS = {
    (RESOLUTION, "resolution-set-match-condition"), (RESOLUTION, "resolution-not-set-match-condition"),
    (ASSIGNEE, "assignee-set-match-condition"), (ASSIGNEE, "assignee-not-set-match-condition"),
}
#: Goals one SLA metric holds at most (Atlassian, "Use priority to group SLA goals").
GOAL_LIMIT = 90
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MS = 86_400_000


def condition_problem(part: str, condition: Any, status_ids: Iterable[str]) -> str | None:
    """Why `condition` cannot be a `part` ("start", "pause", "stop") condition, or None."""
    if not isinstance(condition, dict):
        return f"{part}: each condition is an object {{pluginKey, factoryKey, conditionId}}"
    missing = [k for k in ("pluginKey", "factoryKey", "conditionId") if not condition.get(k)]
    if missing:
        return f"{part}: a condition needs {', '.join(missing)}"
    key = (condition["factoryKey"], str(condition["conditionId"]))
    if key[0] == STATUS:
        return None if key[1] in set(status_ids) else f"{part}: no status with id {key[1]}"
    known = MATCH_CONDITIONS if part == "pause" else HIT_CONDITIONS
    if key not in known:
        return f"{part}: unknown condition {key[0]}/{key[1]}"
    return None


# ------------------------------------------------------------------------ calendars

def working_time(calendar: dict | None) -> WorkingTime:
    """A stored JSM calendar as the kit's `WorkingTime` (None: 24/7)."""
    if not calendar:
        return WorkingTime()
    weekly = tuple((WEEKDAYS.index(str(w["weekday"]).lower()), int(w["start"]) // 1000, int(w["end"]) // 1000)
                   for w in calendar.get("workingTimes") or [])
    closed, recurring = set(), set()
    for holiday in calendar.get("holidays") or []:
        day = date.fromisoformat(str(holiday["iso8601Date"]))
        (recurring.add((day.month, day.day)) if holiday.get("recurring") else closed.add(day))
    return WorkingTime(zone=str(calendar.get("timezoneId") or "UTC"), weekly=weekly, closed=frozenset(closed),
                       recurring=frozenset(recurring))


# ------------------------------------------------------------------------ history

@dataclass(frozen=True)
class Event:
    """One thing that happened to a request, at `at` (epoch seconds)."""

    at: float
    kind: str  # created | status | resolution | assignee | comment
    data: dict = field(default_factory=dict)


@dataclass
class State:
    """What the pause conditions look at."""

    status: str
    resolved: bool
    assignee: str | None


def stamp_seconds(value: str) -> float:
    """A stored Jira timestamp (`2026-11-23T10:00:00.000+0000`) in epoch seconds."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def changes(issue: dict) -> list[dict]:
    """The request's status, resolution and assignee changes as `{at, field, from, to}`, oldest first,
    from its Jira-shaped changelog (`changelog: [{created, items: [{field, fromString, toString}]}]`,
    written by `issues.py`, the one path every change takes)."""
    return [{"at": entry["created"], "field": item["field"], "from": item.get("fromString"),
             "to": item.get("toString")}
            for entry in issue.get("changelog") or [] for item in entry.get("items") or []
            if item.get("field") in ("status", "resolution", "assignee")]


def events(issue: dict, is_customer: Callable[[str], bool]) -> tuple[State, list[Event]]:
    """The request's initial state and its history as ordered events (created first)."""
    history = changes(issue)
    first = {}
    for change in history:
        first.setdefault(change["field"], change.get("from"))
    resolved_in_history = any(c["field"] == "resolution" for c in history)
    initial = State(status=str(first.get("status", issue.get("status") or "")),
                    resolved=bool(first.get("resolution")) if resolved_in_history else False,
                    assignee=first["assignee"] if "assignee" in first else issue.get("assignee"))
    out = [Event(stamp_seconds(issue["created"]), "created")]
    for change in history:
        out.append(Event(stamp_seconds(change["at"]), change["field"], {"from": change.get("from"), "to": change.get("to")}))
    if not resolved_in_history and issue.get("resolutiondate"):  # written without history (seeded requests)
        out.append(Event(stamp_seconds(issue["resolutiondate"]), "resolution", {"from": None, "to": issue["resolutiondate"]}))
    for comment in issue.get("comments") or []:
        by_customer = is_customer(str(comment.get("author")))
        out.append(Event(stamp_seconds(comment["created"]), "comment",
                         {"public": bool(comment.get("public", True)), "by_customer": by_customer}))
    order = {"created": 0}
    return initial, sorted(out, key=lambda e: (e.at, order.get(e.kind, 1)))


def hits(event: Event, condition: dict, status_ids: dict[str, str]) -> bool:
    """Whether the hit condition fires on `event` (`status_ids`: status name -> id)."""
    factory, ident = condition.get("factoryKey"), str(condition.get("conditionId"))
    data = event.data
    if factory == CREATED:
        return event.kind == "created"
    if factory == COMMENT and event.kind == "comment":
        if ident == "comment-by-reporter-hit-condition":
            return bool(data["by_customer"])
        return data["public"] and not data["by_customer"]
    if factory == RESOLUTION and event.kind == "resolution":
        return bool(data["to"]) if ident == "resolution-set-hit-condition" else not data["to"]
    if factory == STATUS and event.kind == "status":
        return status_ids.get(str(data["to"])) == ident
    if factory == ASSIGNEE and event.kind == "assignee":
        if ident == "assignee-set-hit-condition":
            return not data["from"] and bool(data["to"])
        if ident == "assignee-cleared-hit-condition":
            return bool(data["from"]) and not data["to"]
        return data["from"] != data["to"]
    return False


def matches(state: State, condition: dict, status_ids: dict[str, str]) -> bool:
    """Whether the match (pause) condition holds in `state`."""
    factory, ident = condition.get("factoryKey"), str(condition.get("conditionId"))
    if factory == STATUS:
        return status_ids.get(state.status) == ident
    if factory == RESOLUTION:
        return state.resolved == (ident == "resolution-set-match-condition")
    if factory == ASSIGNEE:
        return bool(state.assignee) == (ident == "assignee-set-match-condition")
    return False


def _apply(state: State, event: Event) -> None:
    if event.kind == "status":
        state.status = str(event.data["to"])
    elif event.kind == "resolution":
        state.resolved = bool(event.data["to"])
    elif event.kind == "assignee":
        state.assignee = event.data["to"]


# ------------------------------------------------------------------------ cycles

@dataclass
class Cycle:
    """One start..stop of a metric: the spans (epoch seconds) in which its clock ran."""

    start: float
    stop: float | None = None
    running: list[tuple[float, float]] = field(default_factory=list)
    running_since: float | None = None


def run_cycles(issue: dict, definition: dict, *, now: float, is_customer: Callable[[str], bool],
               status_ids: dict[str, str]) -> list[Cycle]:
    """The metric's cycles on the request up to `now` (the last one may be ongoing)."""
    start, pause, stop = (list(definition.get(k) or []) for k in ("start", "pause", "stop"))
    state, history = events(issue, is_customer)
    cycles: list[Cycle] = []
    ongoing: Cycle | None = None

    def paused() -> bool:
        return any(matches(state, c, status_ids) for c in pause)

    for event in history:
        if event.at > now:
            break
        if ongoing and ongoing.running_since is not None:
            ongoing.running.append((ongoing.running_since, event.at))
            ongoing.running_since = event.at
        _apply(state, event)
        if ongoing and any(hits(event, c, status_ids) for c in stop):
            if ongoing.running_since is not None:
                ongoing.running_since = None
            ongoing.stop = event.at
            ongoing = None
        if ongoing is None and any(hits(event, c, status_ids) for c in start):
            ongoing = Cycle(start=event.at)
            cycles.append(ongoing)
        if ongoing:
            if paused():
                ongoing.running_since = None
            elif ongoing.running_since is None:
                ongoing.running_since = event.at
    if ongoing and ongoing.running_since is not None:
        ongoing.running.append((ongoing.running_since, now))
    return cycles


def _undone(issue: dict, item: dict, at: str) -> None:
    """Put back the value a changelog item (`issues.py`'s `_item`: lists as space-separated text) changed."""
    name, old = item.get("field"), item.get("fromString")
    if name == "resolution":  # JQL reads `resolution`/`resolved` from the resolution date
        if old:
            issue["resolutiondate"] = at  # resolved before: the date itself is not in the item
        else:
            issue.pop("resolutiondate", None)
    elif name in ("labels", "organizations"):
        issue[name] = (old or "").split()
    elif name:
        issue[name] = old


def as_it_stood(issue: dict, moment: float) -> dict:
    """The request's fields just before `moment` (epoch seconds): its current fields with every change
    its changelog records at or after `moment` undone, newest first."""
    past = dict(issue)
    for entry in reversed(issue.get("changelog") or []):
        if stamp_seconds(entry["created"]) < moment:
            break
        for item in reversed(entry.get("items") or []):
            _undone(past, item, entry["created"])
    return past


def choose_goal(metric: dict, issue: dict, matcher: Callable[[str, dict], bool]) -> dict | None:
    """The first goal (in order) whose JQL matches the request (`matcher(jql, issue)`), else the default
    goal ("All remaining issues", wherever it stands), else None."""
    goals = (metric.get("config") or {}).get("goals") or []
    for goal in goals:
        if not goal.get("defaultGoal") and matcher(str(goal.get("jqlQuery") or ""), issue):
            return goal
    return next((goal for goal in goals if goal.get("defaultGoal")), None)


def measure(cycle: Cycle, hours: WorkingTime, goal_ms: int, *, now: float, paused: bool) -> dict:
    """Elapsed, remaining, breach time and breached of one cycle (times as ISO strings)."""
    goal = goal_ms / 1000.0
    elapsed, breach_at = 0.0, None
    for begin, end in cycle.running:
        part = working_seconds(hours, begin, end)
        if breach_at is None and elapsed + part >= goal:
            breach_at = add_working_seconds(hours, begin, goal - elapsed)
        elapsed += part
    if breach_at is None and cycle.stop is None and not paused:
        breach_at = add_working_seconds(hours, now, goal - elapsed)
    elapsed_ms = int(round(elapsed * 1000))
    return {"elapsed_ms": elapsed_ms, "remaining_ms": goal_ms - elapsed_ms, "breached": elapsed_ms > goal_ms,
            "breach_time": now_iso(breach_at) if breach_at is not None else None}


def sla_values(issue: dict, metrics: list[dict], calendars: dict[str, dict], *, now: float,
               is_customer: Callable[[str], bool], status_ids: dict[str, str],
               matcher: Callable[[str, dict], bool]) -> list[dict]:
    """Per metric whose goal applies now or applied to a completed cycle: `{metric, goal (now's, else the
    last cycle's), cycles: [{start, stop, paused, within, goal, elapsed_ms, remaining_ms, breached,
    breach_time}]}` — the app turns it into `SlaInformationDTO`s."""
    out = []
    for metric in metrics:
        current = choose_goal(metric, issue, matcher)
        definition = (metric.get("config") or {}).get("definition") or {}
        cycles = run_cycles(issue, definition, now=now, is_customer=is_customer, status_ids=status_ids)
        shown = []
        for cycle in cycles:
            # a completed cycle keeps the goal it ran under; the ongoing one follows the request's state now
            goal = current if cycle.stop is None else choose_goal(metric, as_it_stood(issue, cycle.stop), matcher)
            if goal is None or not goal.get("duration"):
                continue
            hours = working_time(calendars.get(str(goal.get("calendarId"))) if goal.get("calendarId") is not None else None)
            paused = cycle.stop is None and cycle.running_since is None
            numbers = measure(cycle, hours, int(goal["duration"]), now=now, paused=paused)
            shown.append({"start": now_iso(cycle.start), "stop": now_iso(cycle.stop) if cycle.stop is not None else None,
                          "paused": paused, "within": is_working(hours, now), "goal": goal, **numbers})
        applies = current is not None and bool(current.get("duration"))
        if applies or shown:
            out.append({"metric": metric, "goal": current if applies else shown[-1]["goal"], "cycles": shown})
    return out

"""The formats of JSM's internal admin endpoints deskbook uses only behind `--allow-internal-api`.

JSM has no public API to write SLA metrics, SLA calendars or queues (FACTS.md 6.1, 6.2, 7.1, §10); its
admin pages call internal endpoints, which salto's jira adapter also drives. This module owns what
deskbook sends there and how it compares what it reads back, as `automation.py` does for rules:

* **SLA metric** (`POST|PUT /rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics[/{id}]`,
  FACTS.md 6.3): `{name, config: {definition: {start, pause, stop}, goals: [{jqlQuery, duration (ms),
  calendarId, defaultGoal}], slaDisplayFormat}}`. A condition is `{pluginKey, factoryKey, conditionId, name}`.
  `slaDisplayFormat` is salto's `"NEW_SLA_FORMAT"` (`SLA_DISPLAY_FORMAT`); neither FACTS.md nor salto
  says a site requires it (the sandbox takes a metric without it, as it takes salto's), and it is how
  the UI shows the SLA, not something the playbook says: comparison ignores it, so an install made
  without it, or an admin's other choice in the UI, is no change.
* **Calendar** (`POST /rest/workinghours/1/api/calendar/{projectKey}`, `PUT …/{projectKey}/{id}`,
  `DELETE …/calendar/{id}`, listed by `GET /rest/workinghours/1/internal/dialog/{projectKey}`; FACTS.md
  6.5, 6.6): `{name, timezoneId, workingTimes: [{weekday, start, end}] (ms after local midnight),
  holidays: [{name, iso8601Date, recurring}]}`. Goals refer to a calendar by `calendarId`
  (`{ref:calendar:<key>}` until the calendar exists; the connector resolves it).
* **Queue** (`POST /rest/servicedesk/1/servicedesk/{projectKey}/queues`, `PUT …/queues/{id}`; FACTS.md
  7.2): `{name, jql, columns}`; the server prepends `project = KEY`, so the JQL omits it. Queues are
  listed through the public, read-only `GET /rest/servicedeskapi/servicedesk/{id}/queue` (7.1).
  Delete is disputed (7.3): deskbook sends salto's `PUT …/queues {"deleted": [id]}` and, where the site
  refuses it, *retires* the queue — renamed `[removed] …`, unmarked, its JQL `issuekey is EMPTY`
  (matches nothing) — for an admin to delete in Project settings > Queues.

None of these objects has a description, so deskbook's ownership marker (`deskbook.marker`) ends the
name: `Time to first response (Standard customer service) [deskbook:standard-service:sla.first_reply_time]`
(one metric per target type, the policies' goals in policy order: `translate.sla_metrics`).

The readings taken (FACTS.md gives the condition *shape* only; nobody on deskbook has tried these on a
live site): the start/pause/stop vocabulary is salto's (issue created, comment for / by customer,
resolution set, status entered / in status by status id — see `sandbox/sla.py`, written separately
for the sandbox); deskbook sends no default goal (a site may add a "no target" default goal on read:
comparison ignores a goal without a duration); a read adds ids, `customFieldId`, `timeMetricId`,
`subGoals`, `inconsistent`, a condition's `type`/`missing`, a calendar's `canUpdate`/`canDelete`/
`context` — comparison ignores them; a queue read shows the JQL with the server's `project = KEY AND `
in front — comparison strips it; queue columns read back as `fields`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from deskbook.errors import DeskbookError
from deskbook.marker import without_trailing_marker
from deskbook.plan import ref, resolve_refs, value_differences

#: The object kinds only the internal API writes (in dependency order: goals name calendars).
KINDS = ("calendar", "sla_metric", "queue")
PLUGIN_KEY = "com.atlassian.servicedesk"
REMOVED_PREFIX = "[removed] "
#: A queue JQL that matches no request (every issue has a key): what a retired queue shows.
NOTHING_JQL = "issuekey is EMPTY"


def condition(factory: str, ident: str, name: str) -> dict:
    """One SLA condition (FACTS.md 6.3)."""
    return {"pluginKey": PLUGIN_KEY, "factoryKey": factory, "conditionId": ident, "name": name}


ISSUE_CREATED = condition("issue-created-sla-condition-factory", "issue-created-hit-condition", "Issue Created")
COMMENT_FOR_CUSTOMERS = condition("comment-sla-condition-factory", "comment-for-reporter-hit-condition",
                                  "Comment: For Customers")
COMMENT_BY_CUSTOMER = condition("comment-sla-condition-factory", "comment-by-reporter-hit-condition",
                                "Comment: By Customer")
RESOLUTION_SET = condition("resolution-sla-condition-factory", "resolution-set-hit-condition", "Resolution: Set")


def status_condition(status_ids: dict[str, str], status: str, *, pause: bool) -> dict:
    """"Status: X" (a pause, while in it) or "Entered Status: X" (start/stop), by the site's status id."""
    if status not in status_ids:
        raise DeskbookError(f'the project has no workflow status "{status}" an SLA condition needs',
                            hint="check the service project's workflow (GET /rest/api/3/status)")
    return condition("status-sla-condition-factory", str(status_ids[status]),
                     f"{'Status' if pause else 'Entered Status'}: {status}")


#: Per playbook SLA metric: (start, pause statuses, stop), the JSM equivalents of Zendesk's metrics.
#: Statuses are JSM service-request workflow names (`translate.STATUS_NAMES`).
METRICS: dict[str, tuple[tuple[dict, ...], tuple[str, ...], tuple[dict, ...]]] = {
    "first_reply_time": ((ISSUE_CREATED,), (), (COMMENT_FOR_CUSTOMERS, RESOLUTION_SET)),
    "next_reply_time": ((COMMENT_BY_CUSTOMER,), (), (COMMENT_FOR_CUSTOMERS, RESOLUTION_SET)),
    "periodic_update_time": ((ISSUE_CREATED, COMMENT_FOR_CUSTOMERS), ("Waiting for customer",),
                             (COMMENT_FOR_CUSTOMERS, RESOLUTION_SET)),
    "pausable_update_time": ((ISSUE_CREATED, COMMENT_FOR_CUSTOMERS), ("Waiting for customer", "Pending"),
                             (COMMENT_FOR_CUSTOMERS, RESOLUTION_SET)),
    "requester_wait_time": ((ISSUE_CREATED,), ("Waiting for customer",), (RESOLUTION_SET,)),
    "agent_work_time": ((ISSUE_CREATED,), ("Waiting for customer", "Pending"), (RESOLUTION_SET,)),
}


def definition(metric: str, status_ids: dict[str, str]) -> dict:
    """The start/pause/stop conditions of a playbook metric."""
    start, pause, stop = METRICS[metric]
    return {"start": list(start), "pause": [status_condition(status_ids, s, pause=True) for s in pause],
            "stop": list(stop)}


def calendar_ref(key: str) -> str:
    """The symbolic calendar id a goal carries until the calendar exists (`deskbook.plan.resolve_refs`
    makes it the calendar's id)."""
    return ref("calendar", key)


def goal(jql: str, minutes: int, calendar_key: str) -> dict:
    """One goal: requests matching `jql` get `minutes`, counted in the calendar `calendar_key`."""
    return {"jqlQuery": jql, "duration": int(minutes) * 60_000, "calendarId": calendar_ref(calendar_key),
            "defaultGoal": False}


#: The display format salto sends in an SLA metric's config (FACTS.md 6.3).
SLA_DISPLAY_FORMAT = "NEW_SLA_FORMAT"


def metric_body(name: str, conditions: dict, goals: list[dict]) -> dict:
    """An SLA metric as the site takes it."""
    return {"name": name, "config": {"definition": conditions, "goals": goals, "slaDisplayFormat": SLA_DISPLAY_FORMAT}}


WEEKDAYS = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
            "sat": "saturday", "sun": "sunday"}


def _ms(clock: str) -> int:
    hours, minutes = clock.split(":")
    return (int(hours) * 60 + int(minutes)) * 60_000


def calendar_body(name: str, time_zone: str, business_hours: Any, holidays: Any) -> dict:
    """A calendar: weekly hours (`BusinessHours` blocks), holidays (name, start, end: one entry per day)."""
    times = [{"weekday": WEEKDAYS[day], "start": _ms(block.start), "end": _ms(block.end)}
             for block in business_hours for day in block.days]
    days = []
    for holiday_name, start, end in holidays:
        day, last = date.fromisoformat(str(start)), date.fromisoformat(str(end))
        while day <= last:
            days.append({"name": str(holiday_name), "iso8601Date": day.isoformat(), "recurring": False})
            day += timedelta(days=1)
    return {"name": name, "timezoneId": time_zone, "workingTimes": times, "holidays": days}


def around_the_clock(name: str) -> dict:
    """A calendar open every hour of every day (goals the playbook counts in calendar hours)."""
    return {"name": name, "timezoneId": "UTC", "holidays": [],
            "workingTimes": [{"weekday": day, "start": 0, "end": 86_400_000} for day in WEEKDAYS.values()]}


#: Playbook view columns -> Jira field ids a queue shows (a column with no field is left out).
COLUMNS = {"subject": "summary", "requester": "reporter", "priority": "priority", "status": "status",
           "updated": "updated", "created": "created", "assignee": "assignee", "group": "labels",
           "solved": "resolutiondate", "type": "issuetype", "organization": "organizations"}
#: Playbook sort fields -> JQL ORDER BY fields.
SORT_FIELDS = {"updated": "updated", "created": "created", "solved": "resolutiondate", "priority": "priority"}


def queue_body(name: str, conditions_jql: str, project_key: str, columns: Any, sort_by: str | None,
               sort_order: str | None) -> dict:
    """A queue: the view's conditions as JQL without the `project = KEY` the server prepends, its sort as
    ORDER BY, its columns as field ids (the issue key first)."""
    jql = strip_project(conditions_jql, project_key) or "issuekey is not EMPTY"
    if sort_by in SORT_FIELDS:
        jql += f" ORDER BY {SORT_FIELDS[sort_by]} {'ASC' if sort_order == 'asc' else 'DESC'}"
    fields = ["issuekey"] + [COLUMNS[c] for c in columns if c in COLUMNS]
    return {"name": name, "jql": jql, "columns": list(dict.fromkeys(fields))}


def strip_project(jql: str, project_key: str) -> str:
    """`jql` without a leading `project = KEY AND ` (or a bare `project = KEY`)."""
    text = (jql or "").strip()
    match = re.match(rf"^project\s*=\s*\"?{re.escape(project_key)}\"?(\s+AND\s+|\s*$)", text, re.IGNORECASE)
    return text[match.end():].strip() if match else text


def _conditions(items: Any) -> list[tuple[str, str]]:
    return sorted((str(c.get("factoryKey")), str(c.get("conditionId"))) for c in items or [] if isinstance(c, dict))


def _goals(items: Any) -> list[tuple[str, int, str]]:
    return [(str(g.get("jqlQuery") or ""), int(g.get("duration") or 0), str(g.get("calendarId")))
            for g in items or [] if isinstance(g, dict) and g.get("duration")]


def meaning(kind: str, payload: dict, project_key: str) -> dict:
    """What deskbook sets on an internal object, read-back additions left out."""
    if kind == "sla_metric":
        config = payload.get("config") or {}
        parts = config.get("definition") or {}
        return {"name": payload.get("name"), "start": _conditions(parts.get("start")),
                "pause": _conditions(parts.get("pause")), "stop": _conditions(parts.get("stop")),
                "goals": _goals(config.get("goals"))}
    if kind == "calendar":
        return {"name": payload.get("name"), "timezoneId": payload.get("timezoneId"),
                "workingTimes": sorted((str(w.get("weekday")).lower(), int(w.get("start")), int(w.get("end")))
                                       for w in payload.get("workingTimes") or []),
                "holidays": sorted((str(h.get("iso8601Date")), bool(h.get("recurring")), str(h.get("name")))
                                   for h in payload.get("holidays") or [])}
    return {"name": payload.get("name"), "jql": strip_project(str(payload.get("jql") or ""), project_key),
            "columns": list(payload.get("columns") or payload.get("fields") or [])}


def differences(kind: str, desired: dict, existing: dict, project_key: str, ids: dict | None = None) -> list[str]:
    """Differences by meaning between a desired and an existing internal object (empty = same)."""
    if kind == "sla_metric" and ids is not None:
        desired = resolve_refs(desired, ids, strict=False)  # a calendar not installed yet: the goals differ
    return value_differences(meaning(kind, desired, project_key), meaning(kind, existing, project_key))


def retired_queue(queue: dict) -> dict:
    """A queue deskbook no longer manages and cannot delete: renamed, unmarked, matching nothing."""
    name = without_trailing_marker(str(queue.get("name") or "")).strip()
    return {"name": name if name.startswith(REMOVED_PREFIX) else REMOVED_PREFIX + name, "jql": NOTHING_JQL,
            "columns": list(queue.get("columns") or queue.get("fields") or ["issuekey"])}

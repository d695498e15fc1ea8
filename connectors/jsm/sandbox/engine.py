"""The JSM sandbox runs the project's ENABLED automation rules as Jira Automation does.

What happens to an issue (`issues.Event`: created, updated, commented, transitioned) is matched
against each enabled rule's trigger, in the order the rules were created; a matching rule runs
its components top to bottom: a condition that fails stops the rule there, actions change the
issue through `issues.py` (the same path as an API edit, so the changelog and comments record
them exactly like an agent's), and the events those actions cause are queued and matched in turn.

Triggers (`../shared/jsm/FACTS.md` §2 shapes):

* `jira.issue.event.trigger:created` — a new issue. `…:updated` — a field edit (labels,
  priority, summary, assignee, ...); a transition or a comment is not an update (they have their
  own triggers). `…:commented` — a comment, public or internal (`eventTypes` empty: any).
  `…:transitioned` — a status change, filtered by `fromStatus`/`toStatus` (`{type: NAME, value}`
  lists; empty = any). `eventFilters` (project ARIs) limit each to those projects; empty = all.
* `jira.issue.field.changed` — an edit or transition that changed one of `fields` (`{type:
  fieldName|field|ID, value}`; FACTS.md lists both item types as a CONFLICT, the sandbox accepts
  either and compares names and ids case-insensitively).
* `jira.jql.scheduled` — runs at every time its Quartz cron (`schedule.cronExpression`; seconds,
  minutes, hours, day of month, month, day of week; `*`, `?`, numbers, lists, ranges, `/` steps,
  `MON-FRI`) fires on the sandbox clock, evaluated in UTC, once for each issue its `jql` finds at that
  moment. Time passes only when a test says so (`Automation.pass_time`, `POST /sandbox/clock`).
* `jira.manual.trigger.issue` — only when invoked on an issue (`invoke`, `POST
  /rule/manual/{ruleId}/invocation`); the invoking user is `{{initiator}}`.

Conditions: `jira.jql.condition` (the value is the JQL string; the issue must match it *now*,
after the actions before it), `jira.issue.condition` (`selectedField {type, value}`,
`comparison` EQUALS | NOT_EQUALS | ONE_OF | NOT_ONE_OF | CONTAINS | NOT_CONTAINS | IS_EMPTY |
IS_NOT_EMPTY, `compareValue {type, value}` or a list of them; fields status, priority, labels,
assignee, reporter, summary, request type) and `jira.comparator.condition` (`{first, second,
operator: EQUALS|NOT_EQUALS|CONTAINS|NOT_CONTAINS}` over rendered smart values, e.g.
`{{comment.internal}}` = `false`: the public/internal distinction of the comment that triggered;
`{{comment.author.accountId}}` against `{{issue.reporter.accountId}}` or `{{reporter.accountId}}` —
Atlassian's "smart values - users" page documents `{{comment.author}}` (who added the comment) and
`{{reporter}}` with the `accountId` every user smart value has; CONTAINS is case-sensitive, so
a case-blind test renders `{{comment.body.toLowerCase()}}` — the text functions `.toLowerCase()`,
`.toUpperCase()`, `.trim()` of Atlassian's smart-value reference are applied).

If/else (FACTS.md §2, recorded): a `jira.condition.container.block` CONDITION whose children are
`CONDITION_BLOCK`s of type `jira.condition.if.block` (`{conditionMatchType: ALL|ANY}`, their
conditions in `conditions`, their actions in `children`); the first block whose conditions hold
runs, a block without conditions is the else, and the rule goes on after the container either way.

Actions: `jira.issue.edit` (`operations`: `SET` priority by name, summary; labels `SET`, `ADD`,
`REMOVE` with `FREE` values), `jira.issue.comment` (`publicComment` true: shared with the
customer, who receives it; false: internal), `jira.issue.assign` (`SPECIFY_USER` with an account
id), `jira.issue.transition` (`destinationStatus {type: NAME, value}`). A comment's smart values
are rendered from the issue (`render`). An action that cannot be done (unknown status, a field
the sandbox does not have) stops the rule and is written to the rule's audit log (`audit`), as
Jira's audit log shows an error; it never fails the API call that triggered the rule.

Readings taken where FACTS.md is silent or unverified:

* `canOtherRuleTrigger` is read on the rule being triggered (Jira's "Allow rule trigger: allow
  other rule actions to trigger this rule"): an event caused by a rule's action triggers only
  rules whose own `canOtherRuleTrigger` is true. API writes trigger every matching rule.
* A chain of rule-caused events stops after `MAX_CHAIN` steps (Jira's loop detection stops
  rules that keep triggering each other; the exact limit is not documented in FACTS.md).
* Rules run synchronously, right after the write that triggered them (Jira runs them moments
  later, asynchronously); the API answer is sent after they ran, so a test reads their outcome.
* Actions run as the rule's actor (`actor.actor`, the account comments are authored by);
  `{{initiator}}` is the user who invoked a manual rule, or who made the triggering change.
* The labels `ADD` operation adds labels and keeps the others (FACTS.md: the additive operation
  name is unverified; `SET` replaces all labels).
* Smart values without a value render empty, as in Jira; `{{issue.url.customer}}` is the
  request's portal page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from deskbook.connectors.jsm.sandbox import issues
from deskbook.connectors.jsm.sandbox.jql import JqlError, compile_jql

MANUAL = "jira.manual.trigger.issue"
SCHEDULED = "jira.jql.scheduled"
FIELD_CHANGED = "jira.issue.field.changed"
CONTAINER_BLOCK = "jira.condition.container.block"
IF_BLOCK = "jira.condition.if.block"
EVENT_TRIGGERS = {"jira.issue.event.trigger:created": "created", "jira.issue.event.trigger:updated": "updated",
                  "jira.issue.event.trigger:commented": "commented",
                  "jira.issue.event.trigger:transitioned": "transitioned"}
#: How many rule-caused events one API write may lead to (Jira's loop detection).
MAX_CHAIN = 10
#: A smart value `{{issue.key}}` in a comment or field value.
SMART_VALUE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
#: Smart-value text functions (Atlassian's "Jira smart values - text field" reference), e.g.
#: `{{comment.body.toLowerCase()}}`.
TEXT_FUNCTIONS = {".toLowerCase()": str.lower, ".toUpperCase()": str.upper, ".trim()": str.strip}


class RuleError(Exception):
    """An action or condition the rule cannot carry out (written to the audit log)."""


@dataclass
class Context:
    """What a rule run knows besides the issue: the event, the invoking user."""

    event: issues.Event | None
    initiator: str
    rule: dict


@dataclass
class Site:
    """What the engine needs from the sandbox app: users, request type names, URLs, statuses."""

    display_name: Callable[[str], str]
    request_type_name: Callable[[str], str]
    organization_name: Callable[[str], str]
    portal_url: Callable[[dict], str]
    statuses: tuple[str, ...]
    project_ari: Callable[[dict], str]


# ---------------------------------------------------------------- cron

_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m: n for n, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                       "NOV", "DEC"), start=1)}


def _cron_field(text: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    """The values one Quartz field allows (None: any, for `*` and `?`)."""
    if text in ("*", "?"):
        return None
    out: set[int] = set()
    for part in text.split(","):
        step, stepped = 1, "/" in part
        if stepped:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", ""):
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _cron_number(a, names), _cron_number(b, names)
        else:
            start = _cron_number(part, names)
            end = high if stepped else start
        out.update(range(start, end + 1, step))
    return out


def _cron_number(text: str, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise RuleError(f"'{text}' is not a number or name in a cron expression")
    return int(text)


def cron_matches(expression: str, moment: datetime) -> bool:
    """Whether the Quartz cron `expression` fires at `moment` (a whole minute, UTC)."""
    parts = expression.split()
    if len(parts) not in (6, 7):
        raise RuleError(f"'{expression}' is not a Quartz cron expression (seconds minutes hours day month weekday)")
    seconds, minutes, hours, day, month, weekday = parts[:6]
    checks = [(_cron_field(seconds, 0, 59, {}), moment.second), (_cron_field(minutes, 0, 59, {}), moment.minute),
              (_cron_field(hours, 0, 23, {}), moment.hour), (_cron_field(day, 1, 31, {}), moment.day),
              (_cron_field(month, 1, 12, _MONTHS), moment.month),
              (_cron_field(weekday, 1, 7, _DAYS), moment.isoweekday() % 7 + 1)]
    return all(allowed is None or value in allowed for allowed, value in checks)


# ---------------------------------------------------------------- smart values

def render(text: str, issue: dict, site: Site, ctx: Context | None = None) -> str:
    """`{{...}}` smart values filled from the issue (unknown ones render empty, as in Jira); only the
    values the text names are looked up (users, organizations, request types are store reads)."""
    comment = (ctx.event.comment if ctx and ctx.event else None) or {}
    organizations = issue.get("organizations") or []
    reporter = lambda: site.display_name(issue.get("reporter", ""))  # noqa: E731
    values: dict[str, Callable[[], Any]] = {
        "issue.key": lambda: issue.get("key", ""), "issue.id": lambda: issue.get("id", ""),
        "issue.summary": lambda: issue.get("summary", ""), "issue.status.name": lambda: issue.get("status", ""),
        "issue.priority.name": lambda: issue.get("priority", ""),
        "issue.reporter.displayName": reporter,
        "issue.reporter.accountId": lambda: issue.get("reporter", ""),
        "reporter.displayName": reporter,
        "reporter.accountId": lambda: issue.get("reporter", ""),
        "issue.assignee.displayName": lambda: site.display_name(issue["assignee"]) if issue.get("assignee") else "",
        "initiator.displayName": lambda: site.display_name(ctx.initiator) if ctx else "",
        "initiator.accountId": lambda: ctx.initiator if ctx else "",
        "issue.organizations.first.name": lambda: site.organization_name(organizations[0]) if organizations else "",
        "issue.url.customer": lambda: site.portal_url(issue),
        "issue.request.type.name": lambda: site.request_type_name(issue.get("requestTypeId", "")),
        "comment.body": lambda: comment.get("body", ""),
        "comment.internal": lambda: ("false" if comment.get("public") else "true") if comment else "",
        "comment.author.accountId": lambda: comment.get("author", ""),
        "comment.author.displayName": lambda: site.display_name(comment["author"]) if comment.get("author") else "",
    }

    def fill(name: str) -> str:
        # the text functions Atlassian documents for smart values that the sandbox knows
        for function, apply in TEXT_FUNCTIONS.items():
            if name.endswith(function):
                return apply(fill(name[:-len(function)]))
        found = values.get(name)
        return str(found()) if found else ""

    return SMART_VALUE.sub(lambda m: fill(m.group(1)), text)


# ---------------------------------------------------------------- the engine

class Automation:
    """Runs a sandbox's enabled rules over its store (one per sandbox app)."""

    def __init__(self, store: Any, site: Site, *, enabled: bool = True):
        self.store, self.site, self.enabled = store, site, enabled
        self.audit: list[dict] = []

    # ------------------------------------------------------------ lookups

    def rules(self) -> list[dict]:
        return [r for r in self.store.all("rule") if r.get("state") == "ENABLED"]

    def _in_scope(self, rule: dict, issue: dict) -> bool:
        scopes = rule.get("ruleScopeARIs") or []
        project = self.site.project_ari(issue)
        return not scopes or project in scopes or any(":site/" in s for s in scopes)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.store.now(), timezone.utc)

    def _matches(self, jql: str, issue: dict) -> bool:
        return self._matcher(jql)(issue)

    def _matcher(self, jql: str) -> Callable[[dict], bool]:
        """The JQL compiled once, as a test of issues (with their request type's name, as JQL reads it;
        each type's name looked up once)."""
        test, names = compile_jql(jql, now=self._now()), {}

        def matches(issue: dict) -> bool:
            type_id = issue.get("requestTypeId", "")
            if type_id not in names:
                names[type_id] = self.site.request_type_name(type_id)
            return test({**issue, "requestTypeName": names[type_id]})
        return matches

    # ------------------------------------------------------------ triggers

    def triggered(self, rule: dict, event: issues.Event, issue: dict) -> bool:
        """Whether `rule`'s trigger reacts to `event` on `issue` (canOtherRuleTrigger included)."""
        trigger = rule.get("trigger") or {}
        value = trigger.get("value") if isinstance(trigger.get("value"), dict) else {}
        if event.by_rule is not None and not rule.get("canOtherRuleTrigger"):
            return False
        filters = value.get("eventFilters") or []
        if filters and self.site.project_ari(issue) not in filters:
            return False
        kind = EVENT_TRIGGERS.get(trigger.get("type", ""))
        if kind is not None:
            if kind != event.kind:
                return False
            if kind == "transitioned":
                status = next((i for i in event.items if i["field"] == "status"), None)
                if status is None:
                    return False
                wanted_from = {str(s.get("value")).lower() for s in value.get("fromStatus") or []}
                wanted_to = {str(s.get("value")).lower() for s in value.get("toStatus") or []}
                if wanted_from and str(status["fromString"]).lower() not in wanted_from:
                    return False
                if wanted_to and str(status["toString"]).lower() not in wanted_to:
                    return False
            return True
        if trigger.get("type") == FIELD_CHANGED:
            if event.kind not in ("updated", "transitioned"):
                return False
            wanted = {str(f.get("value")).lower() for f in value.get("fields") or []}
            return any(i["field"].lower() in wanted or i["fieldId"].lower() in wanted for i in event.items)
        return False

    # ------------------------------------------------------------ running

    def dispatch(self, first: list[issues.Event | None]) -> None:
        """Run the rules the events trigger, then the rules their actions trigger, and so on."""
        if not self.enabled:
            return
        queue = [e for e in first if e is not None]
        if not queue:
            return
        enabled = self.rules()  # one read: actions change issues, never rules
        chained = 0
        while queue:
            event = queue.pop(0)
            if event.by_rule is not None:
                chained += 1
                if chained > MAX_CHAIN:
                    self.audit.append({"rule": event.by_rule, "issue": event.key, "status": "LOOP",
                                       "message": f"stopped after {MAX_CHAIN} rule-triggered events (loop detection)"})
                    return
            issue = self.store.get("request", event.key)
            for rule in enabled:
                if issue is None or not self._in_scope(rule, issue) or not self.triggered(rule, event, issue):
                    continue
                queue += self.run(rule, issue, Context(event, event.author, rule))
                issue = self.store.get("request", event.key)  # as the rule's actions left it

    def invoke(self, rule: dict, issue: dict, initiator: str) -> None:
        """Run a manual rule on one issue, then whatever its actions trigger."""
        if (rule.get("trigger") or {}).get("type") != MANUAL:
            raise RuleError("only a rule with the manual trigger can be invoked on an issue")
        if rule.get("state") != "ENABLED":
            raise RuleError("the rule is not enabled")
        if not self._in_scope(rule, issue):
            raise RuleError("the issue is outside the rule's scope")
        events = self.run(rule, issue, Context(None, initiator, rule))
        self.dispatch(events)

    def run(self, rule: dict, issue: dict, ctx: Context) -> list[issues.Event]:
        """One rule on one issue; the events its actions caused (to be dispatched)."""
        events: list[issues.Event] = []
        try:
            if not self._steps(rule.get("components") or [], issue, rule, ctx, events):
                self.audit.append({"rule": rule.get("uuid"), "issue": issue["key"], "status": "NO_ACTIONS_PERFORMED"})
                return events
        except (RuleError, JqlError) as exc:
            self.audit.append({"rule": rule.get("uuid"), "issue": issue["key"], "status": "FAILURE", "message": str(exc)})
            return events
        self.audit.append({"rule": rule.get("uuid"), "issue": issue["key"], "status": "SUCCESS"})
        return events

    def _steps(self, components: list[dict], issue: dict, rule: dict, ctx: Context, events: list[issues.Event]) -> bool:
        """Run `components` top to bottom (the events of their actions added to `events`); False when a
        condition stopped them. An if/else container (`jira.condition.container.block`) runs the
        children of its first `jira.condition.if.block` whose conditions hold (`conditionMatchType`
        ALL or ANY; a block without conditions is the else) and then goes on; a condition inside a
        block stops that block only."""
        for component in components:
            kind = component.get("component")
            current = self.store.get("request", issue["key"]) or issue  # as the actions before left it
            if kind == "CONDITION" and component.get("type") == CONTAINER_BLOCK:
                for block in component.get("children") or []:
                    if block.get("type") != IF_BLOCK:
                        raise RuleError(f"the sandbox cannot evaluate block {block.get('type')!r}")
                    if self._block_holds(block, current, ctx):
                        self._steps(block.get("children") or [], current, rule, ctx, events)
                        break
            elif kind == "CONDITION" and not self.condition(component, current, ctx):
                return False
            elif kind == "ACTION":
                events += self.action(component, current, rule, ctx)
        return True

    def _block_holds(self, block: dict, issue: dict, ctx: Context) -> bool:
        conditions = block.get("conditions") or []
        match = str((block.get("value") or {}).get("conditionMatchType") or "ALL").upper()
        if match not in ("ALL", "ANY"):
            raise RuleError(f"unknown conditionMatchType {match!r}")
        if not conditions:
            return True
        results = (self.condition(c, issue, ctx) for c in conditions)
        return all(results) if match == "ALL" else any(results)

    # ------------------------------------------------------------ conditions

    def condition(self, component: dict, issue: dict, ctx: Context) -> bool:
        kind, value = component.get("type"), component.get("value")
        if kind == "jira.jql.condition":
            return self._matches(str(value or ""), issue)
        if kind == "jira.issue.condition":
            return self._field_condition(value or {}, issue)
        if kind == "jira.comparator.condition":
            first = render(str(value.get("first", "")), issue, self.site, ctx)
            second = render(str(value.get("second", "")), issue, self.site, ctx)
            op = value.get("operator", "EQUALS")
            tests = {"EQUALS": first == second, "NOT_EQUALS": first != second,
                     "CONTAINS": second in first, "NOT_CONTAINS": second not in first}
            if op not in tests:
                raise RuleError(f"unknown comparator operator {op!r}")
            return tests[op]
        raise RuleError(f"the sandbox cannot evaluate condition {kind!r}")

    def _field_values(self, name: str, issue: dict) -> list[str]:
        name = name.lower()
        if name in ("status",):
            return [issue.get("status", "")]
        if name == "priority":
            return [issue.get("priority", "")]
        if name == "labels":
            return list(issue.get("labels") or [])
        if name in ("assignee", "reporter", "summary"):
            return [issue[name]] if issue.get(name) else []
        if name in ("request type", "requesttype", "customfield_10010"):
            return [self.site.request_type_name(issue.get("requestTypeId", ""))]
        raise RuleError(f"the sandbox has no field {name!r}")

    def _field_condition(self, value: dict, issue: dict) -> bool:
        selected = value.get("selectedField") or {}
        have = [h.lower() for h in self._field_values(str(selected.get("value", "")), issue) if h]
        compare = value.get("compareValue")
        wanted_items = compare if isinstance(compare, list) else [compare] if compare else []
        wanted = [str((w or {}).get("value", "")).lower() if isinstance(w, dict) else str(w).lower() for w in wanted_items]
        op = value.get("comparison", "EQUALS")
        hit = any(w in have for w in wanted)
        tests = {"EQUALS": hit, "ONE_OF": hit, "CONTAINS": hit, "NOT_EQUALS": not hit, "NOT_ONE_OF": not hit,
                 "NOT_CONTAINS": not hit, "IS_EMPTY": not have, "IS_NOT_EMPTY": bool(have)}
        if op not in tests:
            raise RuleError(f"unknown comparison {op!r}")
        return tests[op]

    # ------------------------------------------------------------ actions

    def action(self, component: dict, issue: dict, rule: dict, ctx: Context) -> list[issues.Event]:
        kind, value = component.get("type"), component.get("value") or {}
        actor = ((rule.get("actor") or {}).get("actor")) or ctx.initiator
        uuid = rule.get("uuid")
        if kind == "jira.issue.comment":
            text = render(str(value.get("comment", "")), issue, self.site, ctx)
            if value.get("addCommentOnce") and any(c["body"] == text for c in issue.get("comments") or []):
                return []
            _, event = issues.comment(self.store, issue, text, bool(value.get("publicComment")), actor, by_rule=uuid)
            return [event]
        if kind == "jira.issue.transition":
            target = str((value.get("destinationStatus") or {}).get("value") or "")
            match = next((s for s in self.site.statuses if s.lower() == target.lower()), None)
            if match is None:
                raise RuleError(f"no transition to status '{target}' in the workflow")
            if match == issue.get("status"):
                raise RuleError(f"the issue is already in status '{match}': no transition leads there")
            return [issues.transition(self.store, issue, match, actor, by_rule=uuid)]
        if kind == "jira.issue.assign":
            if value.get("assignType") != "SPECIFY_USER":
                raise RuleError(f"assign type {value.get('assignType')!r} is not supported")
            event = issues.edit(self.store, issue, {"assignee": str((value.get("assignee") or {}).get("value") or "")},
                                actor, by_rule=uuid)
            return [event] if event else []
        if kind == "jira.issue.edit":
            changes = self._edit_changes(value.get("operations") or [], issue, ctx)
            event = issues.edit(self.store, issue, changes, actor, by_rule=uuid)
            return [event] if event else []
        raise RuleError(f"the sandbox cannot perform action {kind!r}")

    def _edit_changes(self, operations: list[dict], issue: dict, ctx: Context) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        labels = list(issue.get("labels") or [])
        for op in operations:
            name = str((op.get("field") or {}).get("value", "")).lower()
            kind = op.get("type", "SET")
            raw = op.get("value")
            if name == "labels":
                given = [render(str((v or {}).get("value", "")), issue, self.site, ctx) if isinstance(v, dict) else str(v)
                         for v in (raw if isinstance(raw, list) else [raw])]
                if any(" " in g or not g for g in given):
                    raise RuleError(f"a label cannot be empty or contain spaces: {given}")
                if kind == "SET":
                    labels = list(dict.fromkeys(given))
                elif kind == "ADD":
                    labels += [g for g in given if g not in labels]
                elif kind == "REMOVE":
                    labels = [label for label in labels if label not in given]
                else:
                    raise RuleError(f"labels take SET, ADD or REMOVE, not {kind!r}")
                changes["labels"] = labels
            elif name in ("priority", "summary"):
                if kind != "SET":
                    raise RuleError(f"{name} takes SET, not {kind!r}")
                changes[name] = render(str((raw or {}).get("value", "") if isinstance(raw, dict) else raw), issue,
                                       self.site, ctx)
            else:
                raise RuleError(f"the sandbox cannot edit field {name!r}")
        return changes

    # ------------------------------------------------------------ time

    def run_scheduled(self, moment: datetime) -> int:
        """Every enabled scheduled rule whose cron fires at `moment`, over the issues its JQL finds."""
        ran = 0
        for rule in self.rules():
            trigger = rule.get("trigger") or {}
            if trigger.get("type") != SCHEDULED:
                continue
            value = trigger.get("value") or {}
            try:
                if not cron_matches(str((value.get("schedule") or {}).get("cronExpression") or ""), moment):
                    continue
                jql = str(value.get("jql") or "")
                matches = self._matcher(jql) if jql else (lambda issue: True)
                found = [i for i in self.store.all("request") if self._in_scope(rule, i) and matches(i)]
            except (RuleError, JqlError, ValueError) as exc:
                self.audit.append({"rule": rule.get("uuid"), "status": "FAILURE", "message": str(exc)})
                continue
            actor = (rule.get("actor") or {}).get("actor") or ""
            for issue in found:
                ran += 1
                self.dispatch(self.run(rule, issue, Context(None, actor, rule)))
        return ran

    def pass_time(self, seconds: float) -> int:
        """Move the (fake) clock on by `seconds`, running scheduled rules at every whole minute their
        cron fires in between; how many issue runs the scheduled rules made."""
        clock = self.store.clock
        if not hasattr(clock, "advance"):
            raise ValueError("time can only pass on a sandbox with a fake clock")
        end = clock.now() + seconds
        ran = 0
        crons = [str(((r.get("trigger") or {}).get("value") or {}).get("schedule", {}).get("cronExpression") or "")
                 for r in self.rules() if (r.get("trigger") or {}).get("type") == SCHEDULED] if self.enabled else []
        while crons:  # minute by minute only while a scheduled rule may fire
            minute = (int(clock.now()) // 60 + 1) * 60
            if minute > end:
                break
            moment = datetime.fromtimestamp(minute, timezone.utc)
            clock.advance(minute - clock.now())
            if any(_fires(c, moment) for c in crons):
                ran += self.run_scheduled(moment)
        clock.advance(max(0.0, end - clock.now()))
        return ran


def _fires(expression: str, moment: datetime) -> bool:
    try:
        return cron_matches(expression, moment)
    except (RuleError, ValueError):
        return False

"""The playbook as Jira Service Management objects.

`desired_objects(playbook, library, project_ari=..., project_key=..., allow_internal_api=False)`
returns one `DesiredObject` per JSM object, in dependency order (`KIND_ORDER`):

* `request_type` — every category and sub-category (S-5) becomes a request type
  (`RequestTypeCreateDTO`: name, description, helpText). JSM request types are flat, so a
  sub-category is named `Parent: Child`; names are cut to JSM's 60 characters. The other
  locales' names go into `helpText`.
  Each sync job also gets a dedicated request type (`SYNC_REQUEST_TYPES`, key `sync.<job>`).
  All three attributes come from the playbook and JSM's public API cannot change any of them
  (`/servicedesk/{id}/requesttype/{typeId}` has GET and DELETE only). The portal shows a request
  type's description to customers, so its ownership marker is not there but in the request type
  property `OWNER_PROPERTY` (`.../requesttype/{typeId}/property/deskbook.owner`, the marker as a JSON
  string; a plan reads it once per request type). An install by an older deskbook has the marker at
  the end of the description: `request_type_owner` reads either, so such a type is still owned, and
  the plan shows it as an update (the description without the marker, the property set), which
  `compare_payloads` finds. Setting the property alone is an in-place write; a changed request type is therefore
  a *replace*: delete + create, the id changes, its requests lose their request type (JSM
  "removes it from all customer requests") and portal groups / fields set in JSM are lost. The
  plan says so (`REQUEST_TYPE_REPLACE`, `replace_note`) and the connector refuses to replace or
  delete a type that requests use unless forced (`request_type_usage_jql`).
* `automation_rule` — macros become **manual** rules (trigger `jira.manual.trigger.issue`)
  an agent runs from the issue view; triggers become event rules
  (`jira.issue.event.trigger:created|updated`, or `…:commented` for a trigger on a comment,
  `on_comment`) and automations scheduled rules (`jira.jql.scheduled`, hourly like Zendesk
  automations). Conditions become one JQL condition component, and conditions on the update itself
  (public comment, who made it) smart-value comparisons (`comparator_condition`); the approved phrase
  is a comment action rendered with JSM smart values (`render_for_desk(..., "jsm")`), public or
  internal as the playbook says; status becomes a transition guarded by an if-block on the status,
  priority/labels one edit (`operations`). One rule stands for what Zendesk does without a
  trigger: a customer's reply opens a pending or solved request again (`customer_reply_rule`). Rules are scoped to the service project
  (`ruleScopeARIs`) and labelled `deskbook`. The rule and component shapes, the required fields
  (actor and author: `account_id`, the API user from `/myself`) and the comparison by meaning
  belong to `automation.py` (FACTS.md §2).
* `calendar`, `sla_metric`, `queue` — only with `allow_internal_api` (formats: `internal.py`): the
  playbook's business-hours calendar (time zone, weekly hours, holidays; plus a 24/7 one when a goal
  counts calendar hours), one SLA metric per target type (start/pause/stop conditions; the policies'
  goals in policy order, so JSM's first matching goal is Zendesk's first matching policy: `sla_metrics`),
  one queue per view (JQL, columns, order). Their marker ends the
  name (they have no description). Without the flag, `sla_notes` gives the exact goals for an admin
  to enter (the plan prints them) and `calendar_notes` the calendar; either way the playbook's make-up
  working days, which a JSM calendar (weekly hours and holidays only) cannot hold, are a note.
* Locales: a rule's comment is rendered in the playbook's default locale only (JSM has no
  per-language variant like Zendesk dynamic content); `locale_notes` says so in the plan and names
  the phrase ids other locales' agents render with `deskbook render`.

Ownership marker `[deskbook:<playbook>:<key>]` ends every rule's description (request types: the
owner property; SLA metrics, calendars, queues: the name). Keys are prefixed by
their source (`macro.greeting`, `trigger.route_billing`, `automation.x`, `category.billing`,
`sla.first_reply_time`) so one kind never mixes two playbook namespaces.

Groups have no JSM equivalent on an issue: a group becomes the label `group-<key>` (queues can
filter on it). Conditions JSM's JQL cannot express are listed by `unsupported_conditions`.
"""

from __future__ import annotations

from typing import Any, Iterable, cast

from deskbook.connectors.jsm import automation as au
from deskbook.connectors.jsm import internal
from deskbook.marker import format_marker, parse_marker, without_trailing_marker  # noqa: F401  (parse_marker: re-exported)
from deskbook.errors import DeskbookError
from deskbook.plan import DesiredObject, value_differences
from deskbook.playbooks import model as m
from deskbook.scripts_library import render_customer_text, render_for_desk
from deskbook.scripts_library.placeholders import CustomerTextError, unfilled_slots

KIND_ORDER = ("organization_detail_field", "request_type", "automation_rule", *internal.KINDS)
NAME_LIMIT = 60
RULE_LABEL = "deskbook"
#: The issue property that holds a request's playbook text fields (a label cannot hold text, and JSM's
#: public API cannot create custom fields): `{field key: text}`.
FIELDS_PROPERTY = "deskbook.fields"

#: Request types the sync jobs raise their requests in (one per job), by locale.
SYNC_REQUEST_TYPES = {
    "renewals": {"zh-CN": "续约提醒", "en": "Renewal reminder"},
    "callbacks": {"zh-CN": "定期回访", "en": "Periodic callback"},
    "followups": {"zh-CN": "新客户回访", "en": "New customer follow-up"},
}
SYNC_DESCRIPTION = "Raised by deskbook's scheduled jobs"

#: Playbook priorities -> Jira priority names.
PRIORITY_NAMES = {"low": "Low", "normal": "Medium", "high": "High", "urgent": "Highest"}
#: Playbook statuses -> JSM service-project workflow statuses ("Waiting for support" is where a new
#: customer request starts in JSM Cloud's service-request workflow, as in the sandbox).
STATUS_NAMES = {"new": "Waiting for support", "open": "Work in progress", "pending": "Waiting for customer",
                "hold": "Pending", "solved": "Resolved", "closed": "Closed"}
#: SLA metrics -> JSM's SLA names.
SLA_NAMES = {"first_reply_time": "Time to first response", "next_reply_time": "Time to next response",
             "periodic_update_time": "Time to periodic update", "requester_wait_time": "Time to resolution",
             "agent_work_time": "Agent work time", "pausable_update_time": "Time to update"}
#: hours_* conditions -> the JQL date field they measure from.
HOURS_FIELDS = {"hours_since_created": "created", "hours_since_updated": "updated",
                "hours_since_solved": "resolutiondate", "hours_since_agent_update": "updated",
                "hours_since_requester_update": "updated", "hours_since_open": "updated",
                "hours_since_pending": "updated", "hours_since_assigned": "updated"}


#: The trigger of rules an agent runs from the issue view (what macros become).
MANUAL_TRIGGER = au.MANUAL_TRIGGER


def marker(playbook: m.Playbook | str, key: str) -> str:
    """The ownership marker `[deskbook:<playbook>:<key>]` (`deskbook.marker`)."""
    return format_marker(playbook if isinstance(playbook, str) else playbook.name, key)


def with_marker(text: str, playbook: m.Playbook, key: str) -> str:
    """`text` followed by the marker."""
    return f"{text.strip()} {marker(playbook, key)}".strip()


#: The request type property holding deskbook's ownership marker (a request type's description is
#: shown on the portal): its value is the marker, a JSON string.
OWNER_PROPERTY = "deskbook.owner"


def request_type_payload(name: str, description: str, help_text: str, playbook: m.Playbook, key: str) -> dict:
    """A request type as deskbook wants it: the create body's name, description and help text, and under
    `properties` the request type properties set after the create (the ownership marker)."""
    return {"name": name, "description": description.strip(), "helpText": help_text,
            "properties": {OWNER_PROPERTY: marker(playbook, key)}}


def request_type_owner(rtype: dict) -> tuple[str, str] | None:
    """(playbook, key) of a request type as listed with its `properties`: the owner property's marker,
    else (an install by an older deskbook) the marker at the end of its description."""
    held = (rtype.get("properties") or {}).get(OWNER_PROPERTY)
    return parse_marker(held if isinstance(held, str) else None) or parse_marker(rtype.get("description"))


def _label_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def group_label(key: str) -> str:
    """The label that puts an issue in a playbook group (JSM issues have no group): `group-<key>`."""
    return field_label("group", key)


def category_label(key: str) -> str:
    """The label a rule sets when it re-classifies a request (its request type stays): `category-<key>`."""
    return field_label("category", key)


def field_label(key: str, value: Any) -> str:
    """The label that holds a playbook field's value: `<key>-<value>` (booleans `true`/`false`). A key
    holds no `-` (`model.KEY_PATTERN`), so the first `-` ends it; the value may hold more
    (`parse_field_label` reads it back)."""
    return f"{key}-{_label_text(value)}"


def parse_field_label(label: str) -> tuple[str, str] | None:
    """(key, value) of a `field_label` (the value as text), or None for a label without a `-`."""
    key, sep, value = label.partition("-")
    return (key, value) if sep and key else None


def field_label_values(labels: Iterable[str], key: str) -> list[str]:
    """The values the labels hold for field `key`, in label order."""
    return [parsed[1] for parsed in map(parse_field_label, labels) if parsed and parsed[0] == key]


def field_labels(playbook: m.Playbook, key: str) -> list[str]:
    """Every label a choice field can hold (its options; true/false for a checkbox), else []."""
    fld = next((f for f in playbook.fields if f.key == key), None)
    if fld is None:
        return []
    if fld.type == "checkbox":
        return [field_label(key, True), field_label(key, False)]
    return [field_label(key, option.value) for option in fld.options]


def _quote(value: Any) -> str:
    return '"' + str(value).replace('"', '\\"') + '"'


def category_names(playbook: m.Playbook) -> dict[str, str]:
    """Category key -> request type name (sub-categories as `Parent: Child`, max 60 chars)."""
    locale = playbook.metadata.default_locale
    names: dict[str, str] = {}
    for top in playbook.categories:
        names[top.key] = top.name.get(locale)[:NAME_LIMIT]
        for sub in top.subcategories:
            for leaf in sub.walk():
                names[leaf.key] = f"{top.name.get(locale)}: {leaf.name.get(locale)}"[:NAME_LIMIT]
    return names


def _leaf_keys(playbook: m.Playbook, key: str) -> list[str]:
    for category in playbook.all_categories():
        if category.key == key:
            return [c.key for c in category.walk()]
    return [key]


def condition_jql(playbook: m.Playbook, condition: m.Condition) -> str | None:
    """One neutral condition as JQL, or None when JQL cannot express it."""
    field, op, value = condition.field, condition.operator, condition.value
    negate = op in ("is_not", "not_includes")
    if field == "status" and op in ("is", "is_not"):
        return f"status {'!=' if negate else '='} {_quote(STATUS_NAMES.get(value, value))}"
    if field == "status" and op == "less_than":
        order = list(m.STATUSES)
        allowed = [STATUS_NAMES[s] for s in order[: order.index(value)]] if value in order else []
        return f"status in ({', '.join(map(_quote, allowed))})" if allowed else None
    if field == "priority" and op in ("is", "is_not"):
        return f"priority {'!=' if negate else '='} {_quote(PRIORITY_NAMES.get(value, value))}"
    if field == "tags" and op in ("includes", "not_includes"):
        labels = value if isinstance(value, (list, tuple)) else [value]
        return _labels_clause(list(labels), negate)
    if field == "group" and op in ("is", "is_not"):
        return _labels_clause([group_label(value)], negate)
    if field == "category" and op in ("is", "is_not"):
        return _category_clause(playbook, value, negate)
    if field.startswith("field.") and op in ("is", "is_not"):  # a playbook field is a label `<key>-<value>`
        return _labels_clause([field_label(field[len('field.'):], value)], negate)
    if field in HOURS_FIELDS and op in ("greater_than", "is"):
        return f"{HOURS_FIELDS[field]} <= -{int(value)}h"
    if field in HOURS_FIELDS and op == "less_than":
        return f"{HOURS_FIELDS[field]} > -{int(value)}h"
    return None


def _category_clause(playbook: m.Playbook, key: str, negate: bool) -> str:
    """A request's category is the label a rule re-classified it with (`category_label`), else its
    request type: `category is X` matches X's labels, or X's request types when no category label is
    set; `is_not` the other categories' labels, or another request type without a category label."""
    names = category_names(playbook)
    leaves = _leaf_keys(playbook, key)
    everything = [category_label(c.key) for c in playbook.all_categories()]
    types = ", ".join(_quote(names.get(k, k)) for k in leaves)
    unlabelled = f"(labels is EMPTY OR labels not in ({', '.join(map(_quote, everything))}))"
    if negate:
        others = [x for x in everything if x not in {category_label(k) for k in leaves}]
        return f'(labels in ({", ".join(map(_quote, others))}) OR ("Request Type" not in ({types}) AND {unlabelled}))'
    mine = ", ".join(_quote(category_label(k)) for k in leaves)
    return f'(labels in ({mine}) OR ("Request Type" in ({types}) AND {unlabelled}))'


def _labels_clause(labels: list[Any], negate: bool) -> str:
    """`labels in (...)`, or its negation written so it also holds for an issue without labels:
    Jira's `NOT IN` and `!=` never match an empty field (JQL reference), so a bare
    `labels not in ("x")` would leave out every new request that has no label yet."""
    listed = ", ".join(map(_quote, labels))
    return f"(labels is EMPTY OR labels not in ({listed}))" if negate else f"labels in ({listed})"


def unsupported_conditions(playbook: m.Playbook, conditions: m.Conditions, *, trigger: bool = False) -> list[str]:
    """Conditions (as text) that neither JQL nor, in a trigger (`trigger`), a smart-value comparison
    (`comparator_conditions`) can express."""
    expressible = {id(c) for c in conditions.all if comparator_condition(c, conditions) is not None} if trigger else set()
    skipped = [c for c in (*conditions.all, *conditions.any)
               if c.field != "via_update" and id(c) not in expressible and condition_jql(playbook, c) is None]
    return [f"{c.field} {c.operator} {c.value}" for c in skipped]


#: Conditions on the update itself rather than the request: what a smart-value comparison of the
#: triggering event expresses (`comparator_condition`).
EVENT_CONDITIONS = ("comment_is_public", "updated_by")
#: Who the customer is on a JSM request: its reporter. Atlassian's "smart values - users" page
#: documents `{{comment.author}}` (who added the comment), `{{initiator}}` (who triggered the rule)
#: and `{{reporter}}`/`{{issue.reporter}}`, each with `accountId`. JSM has no documented smart value
#: telling an agent from a customer, so "by an agent" reads "not by the reporter" (a request
#: participant's comment counts as an agent's) and "by the customer" reads "by the reporter".
REPORTER_ID = "{{issue.reporter.accountId}}"
#: Who wrote the comment a rule on "Issue commented" runs for; who made the change otherwise.
COMMENT_AUTHOR_ID = "{{comment.author.accountId}}"
INITIATOR_ID = "{{initiator.accountId}}"


def public_comment_condition(public: bool = True) -> dict:
    """On a comment rule: the comment is public (`{{comment.internal}}` = false), or internal."""
    return au.comparator_condition("{{comment.internal}}", "EQUALS", "false" if public else "true")


def by_reporter_condition(who: str, reporter: bool) -> dict:
    """`who` (`COMMENT_AUTHOR_ID` or `INITIATOR_ID`) is the reporter (`reporter`), or is not."""
    return au.comparator_condition(who, "EQUALS" if reporter else "NOT_EQUALS", REPORTER_ID)


def on_comment(conditions: m.Conditions) -> bool:
    """Whether a trigger is about a comment (`comment_is_public` among its `all` conditions): on JSM
    it becomes a rule on "Issue commented", whose smart values name the comment and its author. Not
    for a trigger limited to new tickets: a new request's description is not a comment in JSM."""
    created = any(c.field == "via_update" and c.operator == "is" and c.value == "created" for c in conditions.all)
    return not created and any(c.field == "comment_is_public" for c in conditions.all)


def _truth(value: Any) -> bool | None:
    text = str(value).lower()
    return True if text == "true" else False if text == "false" else None


def comparator_condition(condition: m.Condition, conditions: m.Conditions) -> dict | None:
    """A condition on the update (in a trigger whose conditions are `conditions`) as a smart-value
    comparison, or None. `comment_is_public is true|false` -> `{{comment.internal}}` = false|true (a
    rule on comments, `on_comment`); `updated_by is agent|end_user` (`is_not` the other) -> the
    comment's author (on a comment rule), else the user who made the change (`{{initiator}}`),
    compared with the reporter (`REPORTER_ID`)."""
    op, value = condition.operator, condition.value
    if op not in ("is", "is_not"):
        return None
    if condition.field == "comment_is_public" and on_comment(conditions):
        public = _truth(value)
        if public is None:
            return None
        return public_comment_condition(public == (op == "is"))
    if condition.field == "updated_by" and str(value) in ("agent", "end_user"):
        who = COMMENT_AUTHOR_ID if on_comment(conditions) else INITIATOR_ID
        return by_reporter_condition(who, (str(value) == "end_user") == (op == "is"))
    return None


def comparator_conditions(conditions: m.Conditions) -> list[dict]:
    """The trigger's `all` conditions on the update as comparisons (`comparator_condition`)."""
    return [node for node in (comparator_condition(c, conditions) for c in conditions.all) if node is not None]


#: Action fields a JSM rule has no component for.
UNSUPPORTED_ACTIONS = {"satisfaction": "JSM has no action that marks a request's satisfaction survey as sent",
                       "assignee": "JSM's assign action is documented only for a named account (FACTS.md §2: "
                                   "SPECIFY_USER; other assignee forms got a 500), not for the agent who runs the rule",
                       "set_tags": "JSM's labels SET replaces every label, also the group-, category- and field labels "
                                   "that hold the request's group, category and choice fields, so the tags alone cannot "
                                   "be replaced; accepted with effect: without, the tags are added and the others kept"}
#: The desk-limit key of the C-1 guardrail (its rules, `guardrail_rules`, are one playbook element).
GUARDRAIL_KEY = "guardrail"
#: Why the guardrail's notify group is not told on JSM (Zendesk: `notification_group`).
GROUP_EMAIL = ("an automation rule's send-email recipients cannot be set through the API, FACTS.md §10, so no "
               "group is emailed")
#: What accepting a desk limit does (`extra.desk_limits.jsm.<kind>.<key>: {effect, note}`).
LIMIT_EFFECTS = ("skip", "without")


def _limits(playbook: m.Playbook) -> dict[str, dict[str, str]]:
    raw = ((playbook.extra or {}).get("desk_limits") or {}).get("jsm") or {}
    out = {}
    for key, value in raw.items():
        if not isinstance(value, dict) or value.get("effect") not in LIMIT_EFFECTS or not value.get("note"):
            raise DeskbookError(f"extra.desk_limits.jsm.{key} needs effect ({' or '.join(LIMIT_EFFECTS)}) and a note",
                                where=playbook.path, hint="e.g. {effect: skip, note: what happens on JSM instead}")
        out[str(key)] = {"effect": value["effect"], "note": str(value["note"])}
    return out


def desk_limit_problems(playbook: m.Playbook, *, views: bool = False) -> list[tuple[str, str, Any]]:
    """(rule key, what JSM cannot express, source) for every trigger, automation, macro and SLA
    policy (and, with `views` — queues are installed only with the internal API — view) that has a
    condition or action JSM cannot express."""
    found = []
    groups: tuple[tuple[str, Any, str | None], ...] = (
        ("trigger", playbook.triggers, "conditions"), ("automation", playbook.automations, "conditions"),
        ("sla", playbook.sla_policies, "filter"), ("macro", playbook.macros, None))
    if views:
        groups += (("view", playbook.views, "conditions"),)
    for kind, rules, attribute in groups:
        for rule in rules:
            what = [f"condition `{c}`" for c in (unsupported_conditions(playbook, getattr(rule, attribute),
                                                                          trigger=kind == "trigger")
                                                   if attribute else [])]
            what += [f"action `{a.field} {a.value}` ({UNSUPPORTED_ACTIONS[a.field]})"
                     for a in getattr(rule, "actions", ()) if a.field in UNSUPPORTED_ACTIONS]
            if what:
                found.append((f"{kind}.{rule.key}", "; ".join(what), getattr(rule, "source", None)))
    if playbook.guardrail is not None and playbook.forbidden_phrases:
        found.append((GUARDRAIL_KEY, f"action `notify_group {playbook.guardrail.notify_group}` ({GROUP_EMAIL})", None))
    return found


def check_desk_limits(playbook: m.Playbook, *, views: bool = False) -> tuple[set[str], list[str]]:
    """(rule keys to leave out, plan notes): refuses (DeskbookError naming the rule and the
    condition or action) any rule JSM cannot express unless the playbook accepts JSM's limit for
    it under `extra.desk_limits.jsm.<kind>.<key>` with `effect: skip` (the rule is not installed)
    or `effect: without` (installed without what JSM cannot express) and a note."""
    accepted = _limits(playbook)
    skipped: set[str] = set()
    notes = []
    for key, what, source in desk_limit_problems(playbook, views=views):
        if key not in accepted:
            raise DeskbookError(
                f"{key} cannot be installed on JSM as written: {what} has no JSM equivalent",
                where=str(source or playbook.path),
                hint=f"change the rule, or accept JSM's limit in the playbook: extra: {{desk_limits: {{jsm: "
                     f"{{{key}: {{effect: skip|without, note: what the rule does on JSM instead}}}}}}}}")
        limit = accepted[key]
        if limit["effect"] == "skip":
            skipped.add(key)
        notes.append(f"{key} on JSM ({'not installed' if limit['effect'] == 'skip' else 'installed without ' + what}): "
                     f"{limit['note']}")
    return skipped, notes


def trigger_events(rule: m.Trigger) -> list[tuple[str, str, str]]:
    """The JSM event rules one Zendesk trigger becomes: (key suffix, event, name suffix), the event
    `created`, `updated` or `commented`.

    A Zendesk trigger runs on every create and update unless a `via_update` condition limits it;
    a Jira rule has one trigger, and "Issue updated" does not fire for a new issue. So a trigger
    without that condition becomes two rules, the second (`.created`) on "Issue created". A trigger
    about a comment (`on_comment`) becomes one rule on "Issue commented" (a Jira comment is not an
    update)."""
    if on_comment(rule.conditions):
        return [("", "commented", "")]
    kinds = {c.value for c in rule.conditions.all if c.field == "via_update" and c.operator == "is"}
    if kinds == {"created"}:
        return [("", "created", "")]
    if kinds:
        return [("", "updated", "")]
    return [("", "updated", ""), (".created", "created", " (new requests)")]


def conditions_jql(playbook: m.Playbook, conditions: m.Conditions, project_key: str) -> str:
    """The conditions as one JQL query within the project (`filter_jql`'s clauses after the project)."""
    return " AND ".join([f"project = {project_key}", *filter_jql(playbook, conditions)])


def action_components(playbook: m.Playbook, actions: tuple[m.Action, ...]) -> list[dict]:
    """Neutral actions as automation components (transition; one edit for priority and labels)."""
    components: list[dict] = []
    operations: list[dict] = []
    add_labels: list[str] = []
    remove_labels: list[str] = []
    for action in actions:
        if action.field == "status":  # Zendesk sets a status a ticket already has; JSM has no transition there
            status = STATUS_NAMES.get(action.value, action.value)
            components.append(au.if_else(au.if_block([au.jql_condition(f"status != {_quote(status)}")],
                                                     [au.transition_action(status)])))
        elif action.field == "priority":
            operations.append(au.set_priority(PRIORITY_NAMES.get(action.value, action.value)))
        elif action.field in ("add_tags", "set_tags"):  # set_tags: only as an accepted limit (UNSUPPORTED_ACTIONS)
            add_labels += list(action.value if isinstance(action.value, (list, tuple)) else [action.value])
        elif action.field == "remove_tags":
            remove_labels += list(action.value if isinstance(action.value, (list, tuple)) else [action.value])
        elif action.field == "group":
            add_labels.append(group_label(action.value))
            remove_labels += [group_label(g.key) for g in playbook.groups if g.key != action.value]
        elif action.field == "category":
            add_labels.append(category_label(action.value))
            remove_labels += [category_label(c.key) for c in playbook.all_categories() if c.key != action.value]
        elif action.field.startswith("field."):
            key = action.field[len('field.'):]
            add_labels.append(field_label(key, action.value))
            remove_labels += [x for x in field_labels(playbook, key) if x != field_label(key, action.value)]
    # a group, category or choice field holds one value: setting it removes the labels of the others
    # (REMOVE first, so the value set stays)
    if remove_labels:
        operations.append(au.label_operation("REMOVE", list(dict.fromkeys(remove_labels))))
    if add_labels:
        operations.append(au.label_operation("ADD", add_labels))
    if operations:
        components.append(au.edit_action(operations))
    return components


#: What a playbook can do about a public rule comment holding a value only an agent knows (the hint
#: of `placeholders.customer_text_problem`; `{key}` is the rule's key).
AGENT_VALUE_HINT = ("JSM cannot ask the agent for it (FACTS.md gives no API shape for a manual rule's user inputs): "
                    "make the comment internal (public: false), or accept the limit with extra: {{desk_limits: {{jsm: "
                    "{{{key}: {{effect: without, note: ...}}}}}}}}, which posts the phrase as an internal note for the "
                    "agent to complete and send")


def fill_values(playbook: m.Playbook, actions: tuple[m.Action, ...], locale: str) -> dict[str, str]:
    """What a rule's phrase gets besides JSM's smart values and the playbook's constants: `department`
    is the name of the group the rule hands the request to (JSM has no group on an issue, so no
    smart value names it)."""
    groups = [a.value for a in actions if a.field == "group"]
    if not groups:
        return {}
    try:
        return {"department": playbook.group(str(groups[-1])).name.get(locale)}
    except KeyError:
        return {}


def comment_component(playbook: m.Playbook, library: Any, comment: m.Comment, *, key: str = "",
                      actions: tuple[m.Action, ...] = (), source: Any = None) -> dict:
    """The approved phrase as a comment action with JSM smart values, the rule's group and the playbook's
    constants. A public comment reaches the customer as posted (every JSM rule, manual ones included,
    posts without an edit), so a fill-in slot left in it is an error naming the rule (`key`) —
    unless the playbook accepts JSM's limit for the rule with `effect: without`: then the phrase is
    posted as an internal note, slots and all, for the agent to complete and send."""
    locale = playbook.metadata.default_locale
    constants = playbook.constants.values(locale)
    extra = fill_values(playbook, actions, locale)
    if not comment.public:
        return au.comment_action(render_for_desk(library, comment.phrase, locale, "jsm", extra, constants), False)
    where = f"{key} ({source})" if source else key
    body, problem = render_customer_text(library, comment.phrase, locale, "jsm", where=where, constants=constants,
                                         extra_placeholders=extra, otherwise=AGENT_VALUE_HINT.format(key=key))
    if problem is None:
        return au.comment_action(body, True)
    if _limits(playbook).get(key, {}).get("effect") == "without":
        return au.comment_action(body, False)
    raise problem


def customer_text_problems(playbook: m.Playbook, library: Any) -> list[DeskbookError]:
    """Offline, for `deskbook validate`: every rule whose public comment `comment_component` would refuse
    (the check `plan` runs), `where` the rule's file:line:column. Rules the playbook leaves out on JSM
    (`effect: skip`) are not installed, so not checked; a rule JSM cannot express is the loader's problem."""
    try:
        skipped = check_desk_limits(playbook)[0]
    except DeskbookError:
        skipped = set()
    problems = []
    for kind, rules in (("macro", playbook.macros), ("trigger", playbook.triggers),
                        ("automation", playbook.automations)):
        for rule in rules:
            key = f"{kind}.{rule.key}"
            if rule.comment is None or not rule.comment.public or key in skipped:
                continue
            try:
                comment_component(playbook, library, rule.comment, key=key, actions=rule.actions)
            except CustomerTextError as problem:
                problems.append(DeskbookError(f"JSM: {problem.message}", where=str(rule.source or playbook.path),
                                              hint=problem.hint))
            except DeskbookError:
                continue  # the phrase itself (unapproved, missing): the library's check reports it
    return problems


def comment_limit_notes(playbook: m.Playbook, desired: list[DesiredObject]) -> list[str]:
    """Plan notes for rules whose public comment JSM gets as an internal note (a value only an agent
    knows, limit accepted with `effect: without`): the rule, the slots and the playbook's note."""
    limits = _limits(playbook)
    public = {f"{kind}.{rule.key}": rule.comment.phrase
              for kind, rules in (("macro", playbook.macros), ("trigger", playbook.triggers),
                                  ("automation", playbook.automations))
              for rule in rules if rule.comment is not None and rule.comment.public}
    notes = []
    for obj in desired:
        if obj.kind != "automation_rule" or obj.key not in public:
            continue
        for node in obj.payload.get("components", []):
            value = node.get("value")
            if node.get("type") == "jira.issue.comment" and isinstance(value, dict) and not value.get("publicComment"):
                slots = ", ".join(dict.fromkeys(marker for marker, _ in unfilled_slots(value.get("comment", ""))))
                notes.append(f"{obj.key} on JSM posts phrase `{public[obj.key]}` as an internal note, not to the "
                             f"customer: it needs {slots}, which only the agent knows and a JSM rule cannot ask for; "
                             f"{limits.get(obj.key, {}).get('note', '')}".rstrip("; "))
    return notes


def _rule(playbook: m.Playbook, key: str, name: str, description: str, trigger: dict, components: list[dict],
          project_ari: str, account_id: str | None, *, other_rules_trigger: bool = False) -> dict:
    return au.rule_body(name=name[:255], description=with_marker(description, playbook, key), trigger=trigger,
                        components=components, scope_aris=[project_ari], labels=[RULE_LABEL], account_id=account_id,
                        other_rules_trigger=other_rules_trigger)


def survey_notes(playbook: m.Playbook, *, csm: bool) -> list[str]:
    """Plan notes (S-11, never two surveys): which survey the playbook uses on JSM, and where the job
    writes each customer's last survey (`survey_detail_fields`; without CSM nowhere: said instead)."""
    sv = playbook.survey
    if sv is None:
        return []
    if sv.desk_csat:
        which = ("S-11 survey: JSM's own request feedback (the portal's satisfaction rating, Project settings > "
                 "Customer satisfaction) is the online survey; keep it on; the playbook sends no survey of its own")
    else:
        which = (f"S-11 survey: the playbook's own three-score invitation ({sv.invitation}) or the phone survey "
                 "(manual rule phone_survey, the scores entered as the labels "
                 f"{sv.response_speed}-score_N, {sv.resolution}-score_N, {sv.attitude}-score_N, the suggestions as an "
                 "internal note starting with the suggestions field's title and a colon) is the survey; switch "
                 "JSM's own request feedback off (Project settings > Customer satisfaction): no rule can mark it "
                 "sent, so with it on a customer gets two surveys")
    names = ", ".join(f["name"] for f in survey_detail_fields(playbook))
    if not csm:
        return [which, "S-11 record: Customer Service Management is not available on this site, so `deskbook sync` "
                       "has no organization detail fields to write the survey results to; enter each customer's last "
                       "survey by hand"]
    return [which, f"S-11 record: `deskbook sync` writes each customer's last survey onto the organization detail "
                   f"fields {names} (run it at least daily: results reach the record within {sv.within_hours} hours)"]


def guardrail_rules(playbook: m.Playbook, library: Any, project_ari: str, account_id: str | None) -> list[DesiredObject]:
    """C-1 (`deskbook.playbooks.guardrail`): one rule per forbidden phrase, on "Issue commented".
    Conditions (smart-value comparisons, `au.comparator_condition`): the comment is public
    (`{{comment.internal}}` = false), not by the requester (`{{comment.author.accountId}}` !=
    `{{issue.reporter.accountId}}`: the reading taken for "by an agent", since a customer can only
    write public comments on their own request; another customer added as a participant would be
    taken for an agent), and its body contains the phrase whatever the case
    (`{{comment.body.toLowerCase()}}` contains the lower-cased phrase: Atlassian's smart-value text
    functions; a plain substring test, so Chinese phrases inside a sentence are found). Actions: the
    `CAUGHT_TAG` label (ADD, the others kept) and an internal comment with the approved note
    (`guardrail.note_text`, JSM smart values). The rule does not let other rules trigger it, so its
    own note is never checked. The notify group is not emailed (`GROUP_EMAIL`): a desk limit the
    playbook accepts under `extra.desk_limits.jsm.guardrail`, else `check_desk_limits` refuses."""
    from deskbook.playbooks.guardrail import CAUGHT_TAG, guard_rules, note_text, rule_title

    g = playbook.guardrail
    if g is None:
        return []
    out = []
    for rule in guard_rules(playbook):
        key = f"guardrail.{rule.key}"
        name = rule_title(rule)
        components = [public_comment_condition(), by_reporter_condition(COMMENT_AUTHOR_ID, False),
                      au.comparator_condition("{{comment.body.toLowerCase()}}", "CONTAINS", rule.phrase.lower()),
                      au.edit_action([au.label_operation("ADD", [CAUGHT_TAG])]),
                      au.comment_action(note_text(library, playbook, rule, "jsm"), False)]
        description = f"C-1: {rule.phrase} -> {rule.alternative}\nImplements: " + ", ".join(g.implements or ("C-1",))
        out.append(DesiredObject("automation_rule", key, name,
                                 _rule(playbook, key, name, description, au.commented_trigger(project_ari), components,
                                       project_ari, account_id)))
    return out


#: The rule standing for what Zendesk does by itself when a requester replies (`customer_reply_rule`).
CUSTOMER_REPLY_KEY = "desk.customer_reply"
CUSTOMER_REPLY_TITLES = {"zh-CN": "客户回复：请求重新处理", "en": "Customer reply: back to work in progress"}
#: The playbook statuses a customer's reply takes a request out of (Zendesk: pending and solved).
REOPENED_BY_REPLY = ("pending", "solved")


def customer_reply_rule(playbook: m.Playbook, project_ari: str, project_key: str,
                        account_id: str | None) -> DesiredObject:
    """Zendesk opens a pending or solved ticket again when its requester replies (no trigger does it:
    the desk does); JSM leaves the request where it is, so a customer's answer sat in "Waiting for
    customer". This rule does what Zendesk does: on "Issue commented", when the comment's author is
    the reporter (`{{comment.author.accountId}}` = `REPORTER_ID`) and the request is waiting for the
    customer or resolved, it moves the request to the playbook's open status. A participant's
    comment does not count (see `REPORTER_ID`). Other rules' comments never trigger it."""
    locale = playbook.metadata.default_locale
    name = CUSTOMER_REPLY_TITLES.get(locale) or CUSTOMER_REPLY_TITLES["en"]
    statuses = ", ".join(_quote(STATUS_NAMES[s]) for s in REOPENED_BY_REPLY)
    components = [by_reporter_condition(COMMENT_AUTHOR_ID, True),
                  au.jql_condition(f"project = {project_key} AND status in ({statuses})"),
                  au.transition_action(STATUS_NAMES["open"])]
    description = ("Zendesk opens a pending or solved ticket again when its requester replies; on JSM this rule "
                   f"moves a request the reporter comments on from {' or '.join(STATUS_NAMES[s] for s in REOPENED_BY_REPLY)} "
                   f"to {STATUS_NAMES['open']}.")
    return DesiredObject("automation_rule", CUSTOMER_REPLY_KEY, name,
                         _rule(playbook, CUSTOMER_REPLY_KEY, name, description, au.commented_trigger(project_ari),
                               components, project_ari, account_id))


def contract_detail_fields(playbook: m.Playbook) -> list[dict]:
    """The CSM organization detail fields holding the sync jobs' contract data: the contract end (DATE),
    the tier (SELECT of the playbook field's options), the locale (SELECT of the playbook's locales)
    and the contact (EMAIL). Named by their keys, which sync reads (`sync_desk`); a detail field has
    no description to carry a marker, so these names are what deskbook owns."""
    sync = playbook.sync
    fields = {f.key: f for f in playbook.organization_fields()}
    tier = fields.get(sync.tier_field)
    tiers = [o.value for o in tier.options] if tier is not None and tier.options else ["key", "regular", "new"]
    return [{"name": sync.contract_end_field, "type": {"name": "DATE"}},
            {"name": sync.tier_field, "type": {"name": "SELECT", "options": tiers}},
            {"name": "locale", "type": {"name": "SELECT", "options": list(playbook.metadata.locales)}},
            {"name": "contact_email", "type": {"name": "EMAIL"}}]


#: Playbook organization field types -> CSM detail field types (FACTS.md 5.4: no long text, no range).
DETAIL_TYPES = {"date": "DATE", "text": "TEXT", "textarea": "TEXT", "integer": "NUMBER", "decimal": "NUMBER"}


def survey_detail_fields(playbook: m.Playbook) -> list[dict]:
    """The CSM organization detail fields holding a customer's last survey (S-11, `survey.record`):
    date (DATE), request (TEXT: the request key; NUMBER for an integer field), the three scores
    (NUMBER: CSM has no range, so 1-5 is the job's to keep) and the suggestions (TEXT). Named by
    their keys, owned like the contract fields (`contract_detail_fields`)."""
    if playbook.survey is None:
        return []
    fields = {f.key: f for f in playbook.organization_fields()}
    r = playbook.survey.record
    return [{"name": key, "type": {"name": DETAIL_TYPES.get(fields[key].type, "TEXT")}}
            for key in (r.date, r.ticket, r.response_speed, r.resolution, r.attitude, r.suggestions)]


def desired_objects(playbook: m.Playbook, library: Any, *, project_ari: str, project_key: str = "SUP",
                    allow_internal_api: bool = False, account_id: str | None = None,
                    csm: bool = False, status_ids: dict[str, str] | None = None) -> list[DesiredObject]:
    """The playbook as JSM request types, automation rules (and SLA metrics when allowed; the contract
    detail fields when `csm`, Customer Service Management, is available)."""
    locale = playbook.metadata.default_locale
    out: list[DesiredObject] = []
    if csm:
        details = (contract_detail_fields(playbook) if playbook.sync.jobs else []) + survey_detail_fields(playbook)
        out += [DesiredObject("organization_detail_field", f"detail.{f['name']}", f["name"], f) for f in details]
    names = category_names(playbook)
    skipped, _ = check_desk_limits(playbook)
    for category in playbook.all_categories():
        key = f"category.{category.key}"
        others = "; ".join(f"{loc}: {category.name.values[loc]}" for loc in playbook.metadata.locales
                           if loc != locale and loc in category.name.values)
        out.append(DesiredObject("request_type", key, names[category.key], request_type_payload(
            names[category.key], category.description.get(locale), others, playbook, key)))
    for job in playbook.sync.jobs:
        key = f"sync.{job.name}"
        titles = SYNC_REQUEST_TYPES.get(job.name, {})
        name = titles.get(locale) or titles.get("en") or job.name
        others = "; ".join(f"{loc}: {titles[loc]}" for loc in playbook.metadata.locales if loc != locale and loc in titles)
        out.append(DesiredObject("request_type", key, name,
                                 request_type_payload(name, SYNC_DESCRIPTION, others, playbook, key)))
    stages = {stage.id: stage.title for stage in playbook.stages}
    for macro in playbook.macros:
        key = f"macro.{macro.key}"
        if key in skipped:
            continue
        stage = stages.get(macro.stage)
        name = f"{macro.stage} {stage.get(locale)} / {macro.title.get(locale)}" if stage else \
            f"{macro.stage} / {macro.title.get(locale)}"
        components = [comment_component(playbook, library, macro.comment, key=key, actions=macro.actions,
                                        source=macro.source)] if macro.comment else []
        components += action_components(playbook, macro.actions)
        trigger = au.manual_trigger()
        out.append(DesiredObject("automation_rule", key, name,
                                 _rule(playbook, key, name, macro.description.get(locale), trigger, components,
                                       project_ari, account_id)))
    for rule in playbook.triggers:
        key = f"trigger.{rule.key}"
        if key in skipped:
            continue
        components = [au.jql_condition(conditions_jql(playbook, rule.conditions, project_key))]
        components += comparator_conditions(rule.conditions)
        components += action_components(playbook, rule.actions)
        if rule.comment:
            components.append(comment_component(playbook, library, rule.comment, key=key, actions=rule.actions,
                                                source=rule.source))
        name = rule.title.get(locale)
        for suffix, event, title in trigger_events(rule):
            trigger = au.commented_trigger(project_ari) if event == "commented" else \
                au.event_trigger(event == "created", project_ari)
            out.append(DesiredObject("automation_rule", key + suffix, name + title,
                                     _rule(playbook, key + suffix, name + title, rule.description.get(locale),
                                           trigger, components, project_ari, account_id, other_rules_trigger=True)))
    for auto in playbook.automations:
        key = f"automation.{auto.key}"
        if key in skipped:
            continue
        trigger = au.scheduled_trigger(conditions_jql(playbook, auto.conditions, project_key))
        components = action_components(playbook, auto.actions)
        if auto.comment:
            components.append(comment_component(playbook, library, auto.comment, key=key, actions=auto.actions,
                                                source=auto.source))
        name = auto.title.get(locale)
        out.append(DesiredObject("automation_rule", key, name,
                                 _rule(playbook, key, name, auto.description.get(locale), trigger, components,
                                       project_ari, account_id)))
    if GUARDRAIL_KEY not in skipped:
        out += guardrail_rules(playbook, library, project_ari, account_id)
    out.append(customer_reply_rule(playbook, project_ari, project_key, account_id))
    if allow_internal_api:
        out += internal_objects(playbook, project_key, status_ids or {})
    return out


#: Keys of the calendars deskbook installs (with the internal API).
BUSINESS_CALENDAR_KEY = "calendar.business_hours"
ALWAYS_CALENDAR_KEY = "calendar.around_the_clock"


def internal_objects(playbook: m.Playbook, project_key: str, status_ids: dict[str, str]) -> list[DesiredObject]:
    """The calendars the goals count in, the SLA metrics (real shape, `internal.py`) and one queue per
    view, marker at the end of each name; `status_ids` (the site's workflow status name -> id) feed the
    SLA pause conditions."""
    locale = playbook.metadata.default_locale
    meta = playbook.metadata
    metrics = sla_metrics(playbook, project_key)
    calendars = {g["calendar"] for metric in metrics for g in metric["payload"]["goals"]}
    out: list[DesiredObject] = []
    title = meta.title.get(locale)
    if BUSINESS_CALENDAR in calendars:
        name = f"{title} {BUSINESS_CALENDAR}"[:NAME_LIMIT]
        body = internal.calendar_body(with_marker(name, playbook, BUSINESS_CALENDAR_KEY), meta.time_zone,
                                      meta.business_hours, meta.holidays)
        out.append(DesiredObject("calendar", BUSINESS_CALENDAR_KEY, name, body))
    if ALWAYS_CALENDAR in calendars:
        name = f"{title} 24/7"[:NAME_LIMIT]
        out.append(DesiredObject("calendar", ALWAYS_CALENDAR_KEY, name,
                                 internal.around_the_clock(with_marker(name, playbook, ALWAYS_CALENDAR_KEY))))
    for metric in metrics:
        name = metric["payload"]["name"]
        goals = [internal.goal(g["jql"], g["duration"], BUSINESS_CALENDAR_KEY if g["calendar"] == BUSINESS_CALENDAR
                               else ALWAYS_CALENDAR_KEY) for g in metric["payload"]["goals"]]
        body = internal.metric_body(with_marker(name, playbook, metric["key"]),
                                    internal.definition(metric["metric"], status_ids), goals)
        out.append(DesiredObject("sla_metric", metric["key"], name, body))
    skipped, _ = check_desk_limits(playbook, views=True)
    for view in playbook.views:
        key = f"view.{view.key}"
        if key in skipped:
            continue
        name = view.title.get(locale)[:NAME_LIMIT]
        body = internal.queue_body(with_marker(name, playbook, key), conditions_jql(playbook, view.conditions, project_key),
                                   project_key, view.columns, view.sort_by, view.sort_order)
        out.append(DesiredObject("queue", key, name, body))
    return out


#: The calendar name SLA goals measured in business hours are listed with (and 24/7 goals).
BUSINESS_CALENDAR = "business hours"
ALWAYS_CALENDAR = "24/7"


#: Goals one JSM SLA metric holds at most (Atlassian, "Use priority to group SLA goals": "the current
#: goal limit of 90").
GOAL_LIMIT = 90


def _negated_condition_jql(playbook: m.Playbook, condition: m.Condition) -> str | None:
    """JQL matching exactly the requests `condition_jql(condition)` does not match, written so that an
    empty field counts (Jira's `!=` and `NOT IN` never match an empty field, and `NOT clause` is read
    as them): the inverse operator where the playbook has one, else `NOT (...)`."""
    field, op, value = condition.field, condition.operator, condition.value
    inverse = {"is": "is_not", "is_not": "is", "includes": "not_includes", "not_includes": "includes"}
    if op in inverse and (field in ("status", "priority", "tags", "group", "category") or field.startswith("field.")):
        model = cast(Any, m.Condition)  # a pydantic dataclass: mypy does not see its fields
        return condition_jql(playbook, model(field, inverse[op], value))
    if field == "status" and op == "less_than" and value in m.STATUSES:
        rest = [STATUS_NAMES[s] for s in m.STATUSES[m.STATUSES.index(value):]]
        return f"status in ({', '.join(map(_quote, rest))})"
    if field in HOURS_FIELDS and op in ("greater_than", "is", "less_than"):
        date = HOURS_FIELDS[field]
        kept = f"{date} > -{int(value)}h" if op != "less_than" else f"{date} <= -{int(value)}h"
        return f"({kept} OR {date} is EMPTY)"
    found = condition_jql(playbook, condition)
    return f"NOT ({found})" if found else None


def filter_jql(playbook: m.Playbook, conditions: m.Conditions) -> list[str]:
    """The JQL clauses (ANDed) of a filter, without the project (`conditions_jql` adds it)."""
    parts = [q for q in (condition_jql(playbook, c) for c in conditions.all if c.field != "via_update") if q]
    any_parts = [q for q in (condition_jql(playbook, c) for c in conditions.any) if q]
    if any_parts:
        parts.append("(" + " OR ".join(any_parts) + ")")
    return parts


def negated_filter_jql(playbook: m.Playbook, conditions: m.Conditions) -> str | None:
    """JQL for the requests `filter_jql(conditions)` leaves out (De Morgan over the conditions JQL can
    express, the ones `filter_jql` keeps); None when the filter holds every request."""
    alternatives = [_negated_condition_jql(playbook, c) for c in conditions.all
                    if c.field != "via_update" and condition_jql(playbook, c)]
    any_kept = [c for c in conditions.any if condition_jql(playbook, c)]
    if any_kept:
        alternatives.append(" AND ".join(str(_negated_condition_jql(playbook, c)) for c in any_kept))
    alternatives = [a for a in alternatives if a]
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(f"({a})" for a in alternatives) + ")"


def _priorities_clause(priorities: list[str], negate: bool = False) -> str:
    names = [_quote(PRIORITY_NAMES[p]) for p in priorities]
    if len(names) == 1:
        return f"priority {'!=' if negate else '='} {names[0]}"
    return f"priority {'not in' if negate else 'in'} ({', '.join(names)})"


def sla_metrics(playbook: m.Playbook, project_key: str) -> list[dict]:
    """One JSM SLA metric per metric the policies target (time to first response, next response, periodic
    update, ...), desk-neutral (the notes, `verify`, the scenario driver and the weekly report read it;
    `internal_objects` turns it into the site's shape): `{key: "sla.<metric>", metric, payload: {name,
    goals: [{policy, jql, duration (minutes), calendar}]}}`.

    Zendesk applies the first policy, by position, whose filter matches a ticket, and only that one;
    JSM applies, within one SLA metric, the first goal whose JQL matches (Atlassian: "issues will
    continue to be checked against goals in the list from top to bottom"). So each metric carries the
    policies' goals in policy order: a goal's JQL is the policy's filter, plus the priority where the
    policy's targets differ per priority (one goal per distinct target, `priority in (...)`), on the
    business-hours or 24/7 calendar. A policy that matches but sets no target for the metric (or not
    for some priorities) still wins on Zendesk — the ticket gets no such target — so every later
    goal of that metric leaves its requests out (`AND NOT` the filter, written with `negated_filter_jql`
    so empty fields count). Policies the playbook does not install on JSM (`extra.desk_limits`,
    `effect: skip`) take no part."""
    locale = playbook.metadata.default_locale
    skipped, _ = check_desk_limits(playbook)
    policies = [p for p in playbook.sla_policies if f"sla.{p.key}" not in skipped]
    metrics = [metric for metric in m.SLA_METRICS if any(t.metric == metric for p in policies for t in p.targets)]
    title = playbook.metadata.title.get(locale)
    out = []
    for metric in metrics:
        goals: list[dict] = []
        shadows: list[str] = []  # requests an earlier policy holds without a target for this metric
        for policy in policies:
            scope = [f"project = {project_key}", *filter_jql(playbook, policy.filter)]
            targets = {t.priority: t for t in policy.targets if t.metric == metric}
            groups: dict[tuple[int, str], list[str]] = {}
            for priority, target in targets.items():  # the playbook's order (priorities never overlap)
                calendar = BUSINESS_CALENDAR if target.business_hours else ALWAYS_CALENDAR
                groups.setdefault((int(target.minutes), calendar), []).append(priority)
            every = len(targets) == len(m.PRIORITIES)
            for (minutes, calendar), priorities in groups.items():
                parts = scope + ([] if every and len(groups) == 1 else [_priorities_clause(priorities)])
                goals.append({"policy": policy.key, "jql": " AND ".join(parts + shadows), "duration": minutes,
                              "calendar": calendar})
            missing = [p for p in m.PRIORITIES if p not in targets]
            if missing:
                negated = negated_filter_jql(playbook, policy.filter)
                if len(missing) < len(m.PRIORITIES):
                    rest = _priorities_clause(missing, negate=True)
                    negated = f"({negated} OR {rest})" if negated else rest
                if negated is None:
                    break  # the policy holds every request: no later goal can apply
                shadows.append(negated)
        if len(goals) > GOAL_LIMIT:
            raise DeskbookError(f"the JSM SLA metric for {metric} would need {len(goals)} goals (one per policy and "
                                f"distinct target); JSM takes at most {GOAL_LIMIT}", where=playbook.path,
                                hint="give a policy the same target for every priority, or merge policies")
        name = f"{SLA_NAMES.get(metric, metric)} ({title})"[:NAME_LIMIT]
        out.append({"key": f"sla.{metric}", "metric": metric, "payload": {"name": name, "goals": goals}})
    return out


def sla_notes(playbook: m.Playbook, project_key: str, *, installed: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Plan notes with the exact SLA goals an admin enters by hand (no public SLA API), in the order JSM
    must keep them (the first matching goal applies), then the business-hours calendar and its make-up
    working days (`calendar_notes`). `installed`: keys of the metrics and calendars an earlier
    `--allow-internal-api` install put there (not "not installed"). Metrics of the layout before #11, one
    per policy (`sla.<policy>.<metric>`), get a note of their own: the flag's plan replaces them."""
    notes = []
    old = sorted(k for k in installed if k.startswith("sla.") and k.count(".") == 2)
    if old:
        notes.append(f"{len(old)} SLA metric(s) installed by an earlier deskbook run one per policy ({', '.join(old)}), "
                     "so JSM runs every matching policy's goals side by side, where Zendesk applies only the first "
                     "matching policy: `deskbook plan --desk jsm --allow-internal-api` shows them replaced by one "
                     "metric per target type, the policies' goals in policy order")
    metrics = sla_metrics(playbook, project_key)
    for metric in metrics:
        if metric["key"] in installed or old:
            continue
        goals = "; ".join(f"{n}. {g['jql']} -> {g['duration']} min ({g['calendar']}, policy {g['policy']})"
                          for n, g in enumerate(metric["payload"]["goals"], 1))
        notes.append(f"SLA \"{metric['payload']['name']}\" is not installed (JSM has no public SLA API; "
                     f"use --allow-internal-api or enter it in Project settings > SLAs, its goals in this order: "
                     f"the first whose JQL matches applies): {goals}")
    return notes + calendar_notes(playbook, project_key, installed=BUSINESS_CALENDAR_KEY in installed)


def uses_business_calendar(playbook: m.Playbook, project_key: str) -> bool:
    """Whether any SLA goal counts in the business-hours calendar."""
    return any(g["calendar"] == BUSINESS_CALENDAR
               for metric in sla_metrics(playbook, project_key) for g in metric["payload"]["goals"])


def calendar_notes(playbook: m.Playbook, project_key: str, *, installed: bool = False) -> list[str]:
    """Plan notes for the business-hours calendar, when a goal uses it: JSM SLA calendars have no public
    API, so unless deskbook installs it through the internal one (`installed`: with
    --allow-internal-api) the admin enters it (time zone, weekly hours, holidays) in Project settings >
    Calendars; and the make-up working days (`metadata.extra_workdays`) no calendar can hold: a
    calendar has working hours per weekday and holidays only, so the goals' clocks stay paused then."""
    if not uses_business_calendar(playbook, project_key):
        return []
    meta = playbook.metadata
    hours = "; ".join(f"{','.join(block.days)} {block.start}-{block.end}" for block in meta.business_hours)
    holidays = "; ".join(f"{name} {start}..{end}" for name, start, end in meta.holidays) or "none"
    notes = [] if installed else [
        f"Calendar \"{BUSINESS_CALENDAR}\" (the SLA goals' working time) must be entered by hand, JSM has no public "
        f"calendar API (Project settings > Calendars; or --allow-internal-api): time zone {meta.time_zone}; working "
        f"hours {hours}; holidays {holidays}"]
    workdays = meta.extra_workdays
    if not workdays:
        return notes
    days = "; ".join(w.label for w in workdays)
    return notes + [f"{len(workdays)} make-up working day(s) cannot be entered in the \"{BUSINESS_CALENDAR}\" SLA calendar: "
            f"JSM calendars (Project settings > Calendars) have working hours per weekday and holidays only, "
            f"no working-day exception, so goals on that calendar stay paused on these days (a request raised "
            f"on one counts from the next working hour): {days}. Tell the agents working those days "
            f"that SLA clocks do not run"]


def request_form_notes(playbook: m.Playbook) -> list[str]:
    """The fields each request type's form should show (`deskbook.playbooks.forms`): JSM's public API
    reads a request type's fields but cannot set them (FACTS 3.1, 3.6: no update; forms are edited in
    Project settings > Request types), so the plan lists them for an admin, one note per top-level
    category (its request types), with the fields that only some types or only solved requests need."""
    from deskbook.playbooks.forms import after_solve_fields, field_categories

    locale = playbook.metadata.default_locale
    fields = [f for f in playbook.ticket_fields() if f.key != playbook.category_field]
    title = {f.key: f.title.get(locale) for f in fields}
    belongs = {f.key: field_categories(playbook, f) for f in fields}
    survey = after_solve_fields(playbook)
    notes = []
    for top in playbook.categories:
        subtree = list(top.walk())
        names = category_names(playbook)
        common = [title[k] for k in title if belongs[k] is None and k not in survey]
        parts = [f"request types {', '.join(names.get(c.key, c.key) for c in subtree)}: show "
                 + ", ".join(common)]
        for category in subtree:
            only = [title[k] for k in title if category.key in (belongs[k] or ())]
            if only:
                parts.append(f"only on {names.get(category.key, category.key)}: {', '.join(only)}")
        if survey:
            parts.append(f"after resolution (hidden on the portal): {', '.join(title[k] for k in title if k in survey)}")
        notes.append("request type fields are not settable through JSM's public API; in Project settings > "
                     "Request types set " + "; ".join(parts))
    return notes


def locale_notes(playbook: m.Playbook) -> list[str]:
    """Plan notes on the locales JSM rules do not carry: a rule's comment action has one text, so the
    approved phrases are installed in the playbook's default locale only (`comment_component`).

    One note per other locale, naming the macros' phrase ids its agents render themselves with
    `deskbook render` (and, when triggers or automations comment, that those comment in the default
    locale too). No note for a single-locale playbook or one whose rules never comment.
    """
    default = playbook.metadata.default_locale
    others = [loc for loc in playbook.metadata.locales if loc != default]
    macro_phrases = list(dict.fromkeys(mac.comment.phrase for mac in playbook.macros if mac.comment))
    rules: tuple[m.Trigger | m.Automation, ...] = (*playbook.triggers, *playbook.automations)
    automatic = [r.key for r in rules if r.comment]
    if not others or not (macro_phrases or automatic):
        return []
    why = "an automation rule's comment has one text, no per-language variant"
    notes = []
    for locale in others:
        if macro_phrases:
            text = (f"macros' approved phrases are installed in {default} only on JSM ({why}), so running "
                    f"a macro posts its {default} text; agents answering in {locale} post the phrase themselves "
                    f"instead, rendered with `deskbook render PHRASE_ID --locale {locale} --desk values "
                    f"--var NAME=VALUE ...`, for: {', '.join(macro_phrases)}")
            if automatic:
                text += f"; the {len(automatic)} trigger(s)/automation(s) that comment also comment in {default} only"
        else:
            text = (f"the {len(automatic)} trigger(s)/automation(s) that comment do so in {default} only on JSM "
                    f"({why}), also for customers who write in {locale}")
        notes.append(text)
    return notes


#: Why a request type change is shown as a replace (the `reason` of its plan change).
REQUEST_TYPE_REPLACE = ("replace (JSM has no request type update): delete + create, the id changes, "
                        "requests of this type lose it, portal groups and fields set in JSM are lost")


def replace_note(names: list[str]) -> str:
    """The plan note for request types that will be replaced (delete + create)."""
    shown = ", ".join(f'"{n}"' for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"{len(names)} request type change(s) are replaces, not updates ({shown}): JSM's API cannot change "
            "a request type, so apply deletes it and creates it again with a new id; its requests lose their "
            "request type and portal groups/fields set in JSM are lost. Apply refuses to replace a type that "
            "requests use unless --force; to keep such a type, edit it in JSM (Project settings > Request types) "
            "to the name, description and help text the plan shows, and re-run")


def _request_type_fields(rtype: dict) -> dict[str, str]:
    """What JSM cannot change on a request type (name, description, help text), compared by meaning: a
    marker an older deskbook left at the end of the description is not part of it (it moved to the
    owner property; removing it from the description would be a replace, see `marker_move_note`)."""
    fields = {k: str(rtype.get(k) or "") for k in ("name", "description", "helpText")}
    fields["description"] = without_trailing_marker(fields["description"])
    return fields


def request_type_replaced(desired: dict, existing: dict) -> bool:
    """Whether making `existing` into `desired` needs a replace: its name, description or help text
    differ (what JSM cannot change); properties alone are set in place."""
    return _request_type_fields(desired) != _request_type_fields(existing)


def marker_move_note(names: list[str]) -> str:
    """The plan note for request types an older deskbook marked in their description."""
    shown = ", ".join(f'"{n}"' for n in names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"{len(names)} request type(s) carry deskbook's ownership marker at the end of their description, which "
            f"the portal shows customers ({shown}): installed by an earlier deskbook. This plan sets the request type "
            f"property {OWNER_PROPERTY} in place; the description keeps the marker, because JSM's API cannot edit a "
            "description and a replace would take the type off its requests. Delete the marker from each description "
            "in JSM (Project settings > Request types); deskbook reads the property either way")


def request_type_usage_jql(project_key: str, type_name: str) -> str:
    """JQL for the project's requests of the request type named `type_name` (its current name in
    JSM: what a replace or delete would strip). Jira Cloud's JQL documents request types by name
    (`"Request Type" = "Get IT help"`); if a site rejects the query the search fails and the
    connector refuses the change and says so (never assumes "unused")."""
    return f'project = {project_key} AND "Request Type" = {_quote(type_name)}'


def compare_payloads(kind: str, desired: dict, existing: dict) -> list[str]:
    """Differences by meaning between a desired and an existing JSM object (empty = same)."""
    if kind == "automation_rule":
        return au.differences(desired, existing)
    want: dict[str, Any]
    have: dict[str, Any]
    if kind == "organization_detail_field":
        want = {"type": desired.get("type", {}).get("name"), "options": desired.get("type", {}).get("options")}
        have = {"type": (existing.get("type") or {}).get("name"), "options": (existing.get("type") or {}).get("options")}
    elif kind == "request_type":
        want = dict(_request_type_fields(desired))
        have = dict(_request_type_fields(existing))
        for prop, value in (desired.get("properties") or {}).items():
            want[f"property {prop}"] = value
            have[f"property {prop}"] = (existing.get("properties") or {}).get(prop)
    else:
        raise ValueError(kind)  # internal kinds: `internal.differences`
    return value_differences(want, have)

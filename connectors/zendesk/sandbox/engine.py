"""Zendesk business rules, executed: triggers, automations, SLA policies, views, macros, metrics.

Pure functions over a ticket (the sandbox's stored document) and the account's rules (stored
documents, in the shape the API returns them). `app.py` calls `ticket_written` after every ticket
create/update, `run_automations` on each hour of the test clock, and the read functions for
`/views/{id}/tickets`, `/tickets/{id}/macros/{id}/apply`, `?include=slas` and metrics.

Documented semantics followed (Zendesk help centre: "About triggers and how they work",
"Automations: about and how they work", "Defining SLA policies", "Ticket metrics", the
conditions/actions references):

* **Trigger cycle.** On every create and update, active triggers are checked in order (category
  position, then trigger position). When one fires, its actions change the ticket and the check
  starts again from the first trigger; a trigger fires at most once per update; the cycle ends
  when a whole pass fires nothing. Conditions see the ticket as changed so far; `changed`,
  `value_previous` and `not_changed` compare with the ticket before the update began.
* **Automations** run hourly over every ticket that is not closed, in position order; each fires
  at most once per ticket per run, later automations see the earlier ones' changes, and their
  changes are an update (triggers run on it, with the update made by the system). An automation
  whose conditions stay true keeps firing every hour; that is why Zendesk demands a nullifying
  action (checked on create in `rules.check_automation`).
* **Time conditions** (`hours_since_*`) count whole hours, rounded down; the `*_business_hours`
  operators count open hours of the account's schedule (holidays closed).
* **SLA policies**: the first policy by position whose filter (all + any) matches the ticket
  applies; re-checked on every update. The target for the ticket's priority is used.
* **Views** list the tickets matching all + any conditions, sorted as the view's output says.
* **Macros** applied through `/tickets/{id}/macros/{id}/apply` return the ticket as it would be,
  without changing it.

Assumptions where the documentation is silent (the sandbox's reading):

* A ticket without a priority gets no SLA targets (policies have targets per priority only).
* `first_reply_time` starts at creation and is fulfilled by the first public agent comment after
  the one that created the ticket (also in the metrics' reply time and reply count);
  `next_reply_time` starts at the first public end-user comment after an agent's public reply and is
  fulfilled by the next public agent comment; `periodic_update_time` starts at the first public
  agent comment and restarts at each; all stop when the ticket is solved. Other metrics
  (requester_wait_time, agent_work_time, pausable_update_time) are accepted but not measured.
* "Hours since assignee update" counts from the last update made by the ticket's assignee.
* "Comment text" (`comment_includes_word`) looks at the comment added by the update only (no
  comment: the condition does not hold, with any operator). `is` ("contains the following string")
  holds when the whole value occurs anywhere in the comment; `includes` ("contains at least one of
  the following words") when one of its space-separated words does, a word of Latin letters or
  digits only as a whole word ("refund" is not found in "refunds"). Case never matters. Zendesk
  says nothing of scripts written without spaces: the sandbox looks for a Chinese or Japanese word
  (or string) as a substring of the comment, so "这不是我们的责任" is found inside a sentence.
  `not_includes` / `is_not` are the negations. deskbook's C-1 guardrail uses `is`.
* Placeholders in notifications and macro comments are rendered for `{{dc.*}}` (the default
  variant, or the requester's locale's), `{{ticket.id}}`, `{{ticket.title}}`,
  `{{ticket.requester.name}}`, `{{current_user.name}}`, `{{ticket.url}}` and
  `{{satisfaction.rating_url}}` (empty unless customer satisfaction is on, as Zendesk renders it).
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable

from deskbook.connectors.zendesk.sandbox.business_hours import business_seconds

ADMIN_USER_ID = 360000000000
STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]
PRIORITIES = ["low", "normal", "high", "urgent"]
#: Zendesk via ids (the "Via types" reference) -> `via.channel`.
VIA_CHANNELS = {"0": "web", "4": "email", "5": "api", "29": "chat", "34": "voice", "33": "voice", "45": "voice"}
#: Automation/view time condition field -> the ticket timestamp it counts from.
TIME_SOURCES = {
    "NEW": "created", "OPEN": "status:open", "PENDING": "status:pending", "HOLD": "status:hold",
    "SOLVED": "status:solved", "CLOSED": "status:closed", "assigned_at": "_assigned_ts",
    "updated_at": "updated", "requester_updated_at": "_requester_updated_ts",
    "assignee_updated_at": "_assignee_updated_ts", "due_date": "due", "until_due_date": "until_due",
}
SYSTEM = "system"


class Update:
    """What one write to a ticket carries: the ticket before it (None on create), the comment
    added (body, public, author_id), who made it (`agent`, `end-user` or `system`) and via."""

    def __init__(self, previous: dict | None, *, comment: dict | None = None, actor_role: str = "agent",
                 actor_id: int = ADMIN_USER_ID, via: str = "api"):
        self.previous = copy.deepcopy(previous) if previous is not None else None
        self.comment = comment
        self.actor_role = actor_role
        self.actor_id = actor_id
        self.via = via

    @property
    def update_type(self) -> str:
        """`Create` or `Change` (the `update_type` condition's values)."""
        return "Create" if self.previous is None else "Change"


# ---------------------------------------------------------------- reading a ticket


def _tags(value: Any) -> set[str]:
    if isinstance(value, (list, tuple)):
        return {str(v) for v in value}
    return set(str(value or "").split())


def custom_value(ticket: dict, field_id: Any) -> Any:
    """The ticket's value of custom field `field_id` (None when unset)."""
    for entry in ticket.get("custom_fields") or []:
        if str(entry.get("id")) == str(field_id):
            return entry.get("value")
    return None


def field_value(ticket: dict | None, field: str) -> Any:
    """The value a condition on `field` reads from `ticket` (None for a missing ticket)."""
    if ticket is None:
        return None
    if field.startswith("custom_fields_"):
        return custom_value(ticket, field.removeprefix("custom_fields_"))
    if field in ("via_id", "current_via_id"):
        return (ticket.get("via") or {}).get("channel")
    if field == "ticket_type_id" or field == "type":
        return ticket.get("type")
    if field == "satisfaction_score":
        rating = ticket.get("satisfaction_rating") or {}
        return rating.get("score") or "unoffered"
    return ticket.get(field)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _compare_ordered(field: str, op: str, have: Any, want: Any) -> bool | None:
    order = {"status": STATUSES, "priority": PRIORITIES}.get(field)
    if not order or op not in ("less_than", "greater_than") or want not in order:
        return None
    if have not in order:
        return False
    a, b = order.index(have), order.index(want)
    return a < b if op == "less_than" else a > b


def _equal(field: str, have: Any, want: Any) -> bool:
    if field in ("via_id", "current_via_id"):
        return _text(have) == VIA_CHANNELS.get(_text(want), _text(want))
    if isinstance(have, bool) or want in ("true", "false"):
        return _text(bool(have) if have not in (None, "") else False) == _text(want)
    if field.endswith("_id") and want in ("", None):
        return have in (None, "")
    return _text(have) == _text(want)


def hours_since(ticket: dict, field: str, now: float, schedule: dict | None, business: bool) -> float | None:
    """Whole hours since (or, for `until_due_date`, until) the moment a time condition counts
    from; None when that moment never happened (e.g. never solved)."""
    source = TIME_SOURCES[field]
    if source == "created":
        start = ticket.get("_created_ts")
    elif source == "updated":
        start = ticket.get("_updated_ts")
    elif source.startswith("status:"):
        start = (ticket.get("_status_ts") or {}).get(source.split(":")[1])
        if ticket.get("status") != source.split(":")[1] and source != "status:solved":
            start = None if field != "SOLVED" else start
    elif source in ("due", "until_due"):
        start = ticket.get("_due_ts")
    else:
        start = ticket.get(source)
    if start is None:
        return None
    a, b = (now, start) if source == "until_due" else (start, now)
    seconds = business_seconds(schedule, a, b) if business else max(0.0, b - a)
    return float(int(seconds // 3600))


def condition_holds(cond: dict, ticket: dict, update: Update | None = None, *, now: float | None = None,
                    schedule: dict | None = None, current_user: int | None = None) -> bool:
    """Whether one Zendesk condition holds for `ticket` (during `update`, at time `now`)."""
    field, op, want = cond.get("field"), cond.get("operator"), cond.get("value")
    previous = update.previous if update is not None else None
    if field == "update_type":
        kind = update.update_type if update is not None else "Change"
        return (kind == want) if op == "is" else (kind != want)
    if field == "comment_is_public":
        comment = update.comment if update is not None else None
        if want in ("not_relevant", None):
            return True
        if comment is None:  # no comment in this update: neither public nor private holds
            return False
        public = _text(bool(comment.get("public", True)))
        return (public == _text(want)) if op == "is" else (public != _text(want))
    if field == "comment_includes_word":
        comment = update.comment if update is not None else None
        if comment is None:  # no comment in this update: the text condition does not hold
            return False
        found = comment_text_matches(comment.get("body") or "", op, _text(want))
        return found if op in ("includes", "is") else not found
    if field == "role":
        role = update.actor_role if update is not None else SYSTEM
        role = {"end-user": "end_user"}.get(role, role)
        return (role == want) if op == "is" else (role != want)
    if field in TIME_SOURCES:
        business = op.endswith("_business_hours")
        base_op = op.removesuffix("_business_hours")
        hours = hours_since(ticket, field, now if now is not None else 0.0, schedule, business)
        if hours is None:
            return False
        target = float(want)
        return {"is": hours == target, "less_than": hours < target, "greater_than": hours > target}[base_op]
    if field == "current_tags":
        have, wanted = _tags(ticket.get("tags")), _tags(want)
        return bool(have & wanted) if op == "includes" else not (have & wanted)
    if field == "satisfaction_score":
        have = field_value(ticket, field)
        return (have == want) if op == "is" else (have != want)
    have = field_value(ticket, field)
    if _text(want) == "current_user" and current_user is not None:
        want = current_user
    if op in ("changed", "not_changed"):
        if previous is None:
            changed = have not in (None, "")
        else:
            changed = _text(field_value(previous, field)) != _text(have)
        return changed if op == "changed" else not changed
    if op in ("value", "not_value"):  # changed to
        before = field_value(previous, field)
        hit = _text(before) != _text(have) and _equal(field, have, want)
        return hit if op == "value" else not hit
    if op in ("value_previous", "not_value_previous"):  # changed from
        before = field_value(previous, field)
        hit = _text(before) != _text(have) and _equal(field, before, want) if previous is not None else False
        return hit if op == "value_previous" else not hit
    ordered = _compare_ordered(field, op, have, want)
    if ordered is not None:
        return ordered
    if op == "is":
        return _equal(field, have, want)
    if op == "is_not":
        return not _equal(field, have, want)
    if op == "present":
        return have not in (None, "", False)
    if op == "not_present":
        return have in (None, "", False)
    if op == "includes":
        return bool(_tags(have) & _tags(want))
    if op == "not_includes":
        return not (_tags(have) & _tags(want))
    raise ValueError(f"operator {op!r} is not supported on {field!r}")


_LATIN_WORD = re.compile(r"^[0-9A-Za-z\u00c0-\u024f'_-]+$")


def comment_text_matches(body: str, op: str, want: str) -> bool:
    """Whether a comment's text has what a "Comment text" condition looks for (see the module
    docstring): `is`/`is_not` the whole string anywhere, `includes`/`not_includes` any of the
    space-separated words, a Latin-script word as a whole word; case never matters."""
    text = body.casefold()
    if op in ("is", "is_not"):
        return bool(want.strip()) and want.strip().casefold() in text
    for word in want.casefold().split():
        if _LATIN_WORD.match(word):
            if re.search(r"(?<![0-9a-z\u00c0-\u024f_])" + re.escape(word) + r"(?![0-9a-z\u00c0-\u024f_])", text):
                return True
        elif word in text:  # no spaces between words in Chinese or Japanese: a substring
            return True
    return False


def conditions_hold(conditions: dict, ticket: dict, update: Update | None = None, **context: Any) -> bool:
    """All of `all` and, when `any` is not empty, at least one of `any`."""
    every = all(condition_holds(c, ticket, update, **context) for c in conditions.get("all") or [])
    anyof = conditions.get("any") or []
    return every and (not anyof or any(condition_holds(c, ticket, update, **context) for c in anyof))


# ---------------------------------------------------------------- changing a ticket


class Effects:
    """What rules did besides changing fields: notifications sent and comments added."""

    def __init__(self) -> None:
        self.notifications: list[dict] = []
        self.comments: list[dict] = []
        self.fired: list[str] = []


def set_custom(ticket: dict, field_id: int, value: Any, fields: dict[int, dict]) -> None:
    """Set a custom field; a dropdown (tagger) or checkbox also swaps its tag in the ticket's tags,
    as Zendesk does (the option's value is its tag)."""
    field = fields.get(int(field_id)) or {}
    old = custom_value(ticket, field_id)
    entries = [e for e in ticket.get("custom_fields") or [] if str(e.get("id")) != str(field_id)]
    if field.get("type") == "checkbox":
        value = value in (True, "true", "1", 1)
    entries.append({"id": int(field_id), "value": value})
    ticket["custom_fields"] = sorted(entries, key=lambda e: e["id"])
    ticket["fields"] = ticket["custom_fields"]
    tags = _tags(ticket.get("tags"))
    if field.get("type") in ("tagger", "dropdown"):
        if old:
            tags.discard(str(old))
        if value:
            tags.add(str(value))
    if field.get("type") == "checkbox" and field.get("tag"):
        (tags.add if value else tags.discard)(field["tag"])
    ticket["tags"] = sorted(tags)


def clear_untagged(ticket: dict, fields: dict[int, dict]) -> None:
    """After tags were taken away: a dropdown whose option's tag is gone is cleared, a checkbox whose
    tag is gone unchecked — Zendesk keeps a field's value and its tag together (`set_custom`)."""
    tags = _tags(ticket.get("tags"))
    entries = []
    for entry in ticket.get("custom_fields") or []:
        field, value = fields.get(int(entry["id"])) or {}, entry.get("value")
        if field.get("type") in ("tagger", "dropdown") and value and str(value) not in tags:
            entry = {**entry, "value": None}
        elif field.get("type") == "checkbox" and field.get("tag") and value is True and field["tag"] not in tags:
            entry = {**entry, "value": False}
        entries.append(entry)
    ticket["custom_fields"] = entries
    ticket["fields"] = ticket["custom_fields"]


def apply_actions(ticket: dict, actions: Iterable[dict], *, fields: dict[int, dict], effects: Effects,
                  rule: str, current_user: int | None = None, render=None, rule_id: int | None = None) -> None:
    """Apply rule or macro actions to `ticket` in place (notifications/comments go to `effects`)."""
    pending_comment: dict | None = None
    for act in actions:
        field, value = act.get("field"), act.get("value")
        if field in ("status", "priority", "type"):
            ticket[field] = value or None if field != "status" else value
        elif field in ("group_id", "assignee_id", "organization_id", "requester_id"):
            if _text(value) == "current_user":
                value = current_user
            ticket[field] = int(value) if _text(value).isdigit() else None
        elif field == "current_tags":
            ticket["tags"] = sorted(_tags(ticket.get("tags")) | _tags(value))
        elif field == "remove_tags":
            ticket["tags"] = sorted(_tags(ticket.get("tags")) - _tags(value))
            clear_untagged(ticket, fields)
        elif field == "set_tags":
            ticket["tags"] = sorted(_tags(value))
            clear_untagged(ticket, fields)
        elif isinstance(field, str) and field.startswith("custom_fields_"):
            set_custom(ticket, int(field.removeprefix("custom_fields_")), value, fields)
        elif field == "notification_user":
            recipient, subject, body = (list(value) + ["", "", ""])[:3]
            to = {"requester_id": ticket.get("requester_id"), "assignee_id": ticket.get("assignee_id"),
                  "current_user": current_user}.get(str(recipient), recipient)
            effects.notifications.append({"to": to, "recipient": str(recipient), "subject": subject,
                                          "body": render(body) if render else body, "rule": rule,
                                          "rule_id": rule_id})
        elif field == "notification_group":  # [group id, or "group_id" for the ticket's group, subject, body]
            group, subject, body = (list(value) + ["", "", ""])[:3]
            group = ticket.get("group_id") if str(group) == "group_id" else group
            effects.notifications.append({"to": None, "group_id": int(group) if _text(group).isdigit() else None,
                                          "recipient": str(group), "subject": subject,
                                          "body": render(body) if render else body, "rule": rule,
                                          "rule_id": rule_id})
        elif field == "comment_value":
            pending_comment = {"body": render(_text(value)) if render else _text(value), "public": True,
                               "author_id": current_user or ADMIN_USER_ID}
        elif field == "comment_mode_is_public":
            if pending_comment is None:
                pending_comment = {"body": "", "public": True, "author_id": current_user or ADMIN_USER_ID}
            pending_comment["public"] = _text(value) == "true"
        elif field == "satisfaction_score":
            ticket["satisfaction_rating"] = {"score": "offered" if "offered" in _text(value) else _text(value)}
        else:
            raise ValueError(f"action field {field!r} is not supported by the sandbox engine")
    if pending_comment is not None:
        effects.comments.append(pending_comment)
    effects.fired.append(rule)


def trigger_order(triggers: list[dict], categories: list[dict]) -> list[dict]:
    """Active triggers in firing order: category position, then trigger position (then id)."""
    rank = {int(c["id"]): (c.get("position") or 0, int(c["id"])) for c in categories}
    active = [t for t in triggers if t.get("active", True)]
    return sorted(active, key=lambda t: (rank.get(int(t.get("category_id") or 0), (0, 0)), t.get("position") or 0, t["id"]))


def run_triggers(ticket: dict, update: Update, triggers: list[dict], *, fields: dict[int, dict],
                 effects: Effects, render=None, now: float = 0.0, schedule: dict | None = None) -> dict:
    """The trigger cycle over `ticket` (changed in place and returned)."""
    fired: set[int] = set()
    while True:
        for trigger in triggers:
            if trigger["id"] in fired:
                continue
            if conditions_hold(trigger.get("conditions") or {}, ticket, update, now=now, schedule=schedule,
                               current_user=update.actor_id):
                fired.add(trigger["id"])
                apply_actions(ticket, trigger.get("actions") or [], fields=fields, effects=effects,
                              rule=f"trigger:{trigger.get('title')}", current_user=update.actor_id, render=render,
                              rule_id=trigger.get("id"))
                break
        else:
            return ticket


def automations_due(ticket: dict, automations: list[dict], *, now: float, schedule: dict | None) -> list[dict]:
    """The automations (position order) whose conditions hold for `ticket` at `now` (no changes)."""
    return [a for a in automations if a.get("active", True)
            and conditions_hold(a.get("conditions") or {}, ticket, None, now=now, schedule=schedule)]


# ---------------------------------------------------------------- SLA


def select_policy(policies: list[dict], ticket: dict, update: Update | None = None) -> dict | None:
    """The first SLA policy by position whose filter matches (Zendesk applies only that one)."""
    for policy in sorted(policies, key=lambda p: (p.get("position") or 0, p["id"])):
        if conditions_hold(policy.get("filter") or {}, ticket, update):
            return policy
    return None


def policy_targets(policy: dict | None, priority: str | None) -> dict[str, dict]:
    """metric -> {target minutes, business_hours} for the ticket's priority (none without one)."""
    if policy is None or not priority:
        return {}
    return {m["metric"]: {"target": int(m["target"]), "business_hours": bool(m.get("business_hours"))}
            for m in policy.get("policy_metrics") or [] if m.get("priority") == priority}


MEASURED = ("first_reply_time", "next_reply_time", "periodic_update_time")


def metric_clocks(ticket: dict) -> dict[str, float | None]:
    """When each measured SLA metric's current cycle started (None: not running)."""
    comments = ticket.get("_comments") or []
    solved = ticket.get("status") in ("solved", "closed")
    # the comment that created the ticket is not a reply, whoever wrote it (an agent opening a ticket
    # for a caller has not replied yet)
    agent_public = [c for c in comments[1:] if c.get("public") and c.get("role") == "agent"]
    created = ticket.get("_created_ts")
    clocks: dict[str, float | None] = {m: None for m in MEASURED}
    if solved:
        return clocks
    if not agent_public:
        clocks["first_reply_time"] = created
        return clocks
    last_agent = agent_public[-1]["ts"]
    clocks["periodic_update_time"] = last_agent
    waiting = [c for c in comments if c.get("public") and c.get("role") == "end-user" and c["ts"] > last_agent]
    if waiting:
        clocks["next_reply_time"] = waiting[0]["ts"]
    return clocks


def breach_time(start: float, target_minutes: int, business_hours: bool, schedule: dict | None) -> float:
    """When a target of `target_minutes` started at `start` is breached."""
    from deskbook.connectors.zendesk.sandbox.business_hours import add_business_minutes

    if business_hours:
        return add_business_minutes(schedule, start, target_minutes)
    return start + target_minutes * 60


def sla_state(ticket: dict, policy: dict | None, schedule: dict | None) -> list[dict]:
    """The ticket's running SLA targets: [{metric, target, business_hours, start, breach_at}]."""
    targets = policy_targets(policy, ticket.get("priority"))
    out = []
    for metric, start in metric_clocks(ticket).items():
        if start is None or metric not in targets:
            continue
        t = targets[metric]
        out.append({"metric": metric, "target": t["target"], "business_hours": t["business_hours"], "start": start,
                    "breach_at": breach_time(start, t["target"], t["business_hours"], schedule)})
    return out


# ---------------------------------------------------------------- views and metrics

_SORT_KEYS = {"created": "_created_ts", "updated": "_updated_ts", "priority": "priority", "status": "status",
              "solved": "_solved_ts", "nice_id": "id", "id": "id"}


def view_tickets(view: dict, tickets: list[dict], *, now: float, schedule: dict | None,
                 sort_by: str | None = None, sort_order: str | None = None) -> list[dict]:
    """The tickets a view lists, in its order (closed tickets only when a condition asks for them)."""
    conditions = view.get("conditions") or {"all": view.get("all") or [], "any": view.get("any") or []}
    found = [t for t in tickets if conditions_hold(conditions, t, None, now=now, schedule=schedule)]
    output = view.get("output") or view.get("execution") or {}
    column = sort_by or output.get("sort_by") or "created"
    order = sort_order or output.get("sort_order") or "desc"
    key = _SORT_KEYS.get(str(column), "_created_ts")

    def sort_key(t: dict) -> Any:
        value = t.get(key)
        if key == "priority":
            return PRIORITIES.index(value) if value in PRIORITIES else -1
        if key == "status":
            return STATUSES.index(value) if value in STATUSES else -1
        return value if value is not None else 0

    return sorted(found, key=lambda t: (sort_key(t), t["id"]), reverse=(order == "desc"))


def ticket_metrics(ticket: dict, schedule: dict | None) -> dict[str, Any]:
    """Zendesk's ticket metric set (reply/resolution times in calendar and business minutes,
    reopens, replies)."""
    from deskbook.connectors.zendesk.sandbox.store import iso

    comments = ticket.get("_comments") or []
    created = ticket.get("_created_ts") or 0.0
    agent_public = [c for c in comments[1:] if c.get("public") and c.get("role") == "agent"]

    def minutes(end: float | None) -> dict[str, int | None]:
        if end is None:
            return {"calendar": None, "business": None}
        return {"calendar": int((end - created) // 60), "business": int(business_seconds(schedule, created, end) // 60)}

    first_solved = ticket.get("_first_solved_ts")
    full = ticket.get("_solved_ts") if ticket.get("status") in ("solved", "closed") else None
    stamp = lambda ts: iso(ts) if ts else None  # noqa: E731
    return {
        "id": ticket["id"], "ticket_id": ticket["id"],
        "reply_time_in_minutes": minutes(agent_public[0]["ts"] if agent_public else None),
        "first_resolution_time_in_minutes": minutes(first_solved),
        "full_resolution_time_in_minutes": minutes(full),
        "reopens": int(ticket.get("_reopens") or 0), "replies": len(agent_public),
        "assigned_at": stamp(ticket.get("_assigned_ts")), "solved_at": stamp(ticket.get("_solved_ts")),
        "requester_updated_at": stamp(ticket.get("_requester_updated_ts")),
        "assignee_updated_at": stamp(ticket.get("_assignee_updated_ts")),
        "latest_comment_added_at": stamp(comments[-1]["ts"] if comments else None),
        "created_at": stamp(created), "updated_at": ticket.get("updated_at"),
        "group_stations": int(ticket.get("_group_stations") or 0),
        "assignee_stations": int(ticket.get("_assignee_stations") or 0),
    }


# ---------------------------------------------------------------- placeholders

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][\w.]*)\s*\}\}")


def render_placeholders(text: str, values: dict[str, str], dynamic: dict[str, str]) -> str:
    """Fill `{{dc.x}}` from `dynamic`, then the other placeholders from `values` (unknown ones
    become empty, as Liquid renders them)."""
    def one(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("dc."):
            return render_placeholders(dynamic.get(name[3:], ""), values, dynamic)
        return values.get(name, "")
    return _PLACEHOLDER.sub(one, text or "")

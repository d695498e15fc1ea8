"""The playbook as Zendesk Support objects: one `DesiredObject` per group, field, rule, view...

`desired_objects(playbook, library)` renders the platform-neutral model
(`deskbook.playbooks.model`) into the JSON Zendesk takes on create/update — the inner object,
e.g. the value of `"macro"` — in dependency order (`KIND_ORDER`). Every payload shape follows
the official Support API OpenAPI file and Zendesk's conditions/actions references.

Choices this module makes (and tests hold it to):

* **Ownership marker** `[deskbook:<playbook>:<key>]` ends the `description` (groups, ticket and
  organization fields, macros, triggers, SLA policies, views). Objects that have no description
  carry it at the end of their name instead: schedules and trigger categories (`name`) and
  automations (`title` — Zendesk automations have no description).
* **Dynamic content items** have only a name, and Zendesk derives the item's placeholder from
  that name. So the name is a plain slug that is its own placeholder and encodes ownership:
  `deskbook__<playbook slug>__<phrase id>` (slug: lower case, `-` and other non-alphanumerics
  become `_`), and macros insert `{{dc.<that name>}}`. `compare.ownership` maps it back.
* **Localized titles** use the playbook's default locale; a field's description also lists its
  title in the other locales (`en: Request category`), so agents of every language recognise it.
  Replies are localized through dynamic content: one item per phrase a macro or rule uses, one
  variant per playbook locale (`ZENDESK_LOCALE_IDS`), the default variant in the default locale.
* **Dropdown option tags** are `<field key>__<option value>` (Zendesk needs tags unique across
  all fields; `option_tag`). The request-category dropdown (`playbook.category_field`) is
  generated from `categories` (the playbook does not declare it; titled by
  `CATEGORY_FIELD_TITLE`): one option per category key, a sub-category named `Parent::Child` so
  Zendesk nests it, and a parent's own option `Parent::General` (`GENERAL_LABEL`) because a
  nested name cannot be both a folder and a value. A condition on a parent category becomes a
  `current_tags` condition over the tags of the parent and everything below it.
* **Symbolic references**: `{ref:<kind>:<key>}` alone in a string becomes the integer id;
  inside a longer string it becomes the id text (`custom_fields_{ref:ticket_field:x}`). Zendesk
  wants some ids as strings (condition values, macro/automation action values, trigger
  `category_id`); for those the ref carries a `:text` suffix — `{ref:group:sales:text}` becomes
  `"360001"`. `deskbook.plan.resolve_refs` substitutes, `refs_in` lists them (dependencies).
* **Schedule**: weekly hours become workweek intervals and holidays the schedule's holidays.
  Make-up working days (`metadata.extra_workdays`) have no Zendesk equivalent (a holiday only
  closes days); `schedule_notes` lists them in the plan for an admin.
* **Automations** are checked locally the way Zendesk checks them on create: an `all` time
  condition, an `all` condition on status/type/group/assignee/requester, and a condition that
  is true only once (`hours_since_* is N`) or an action that nullifies a condition.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from deskbook.errors import DeskbookError
from deskbook.marker import format_marker
from deskbook.plan import DesiredObject, ref, refs_in
from deskbook.playbooks import model as m
from deskbook.playbooks.automation_check import automation_problems

#: Object kinds in dependency order (the plan creates in this order, deletes in reverse).
KIND_ORDER = (
    "group",
    "ticket_field",
    "ticket_form",
    "organization_field",
    "schedule",
    "dynamic_content",
    "trigger_category",
    "trigger",
    "macro",
    "automation",
    "sla_policy",
    "view",
)

#: Zendesk locale ids (GET /api/v2/locales) for the playbook locales deskbook supports.
#: Confirmed (2026-11): Zendesk's own public locale list, https://support.zendesk.com/api/v2/locales/public.json,
#: gives {"id": 1, "locale": "en-US"}, {"id": 9, "locale": "zh-tw"}, {"id": 10, "locale": "zh-cn"};
#: the recordings (../shared/zendesk/recordings, e.g. TestUserCreateUpdateDelete.*) show every
#: en-US user with "locale_id": 1, and the spec's examples (UserObject, DynamicContentResponseExample:
#: "default_locale_id": 1) agree. Zendesk spells the Chinese locales in lower case (zh-cn, zh-tw);
#: the ids are what the API takes, so the playbook spellings map onto them.
ZENDESK_LOCALE_IDS = {
    "en": 1,
    "en-US": 1,
    "zh-CN": 10,
    "zh-TW": 9,
}

#: IANA time zone -> the Rails zone name Zendesk schedules use ("time_zone").
ZENDESK_TIME_ZONES = {
    "Asia/Shanghai": "Beijing",
    "Asia/Hong_Kong": "Hong Kong",
    "Asia/Taipei": "Taipei",
    "Asia/Singapore": "Singapore",
    "Asia/Tokyo": "Tokyo",
    "Europe/London": "London",
    "Europe/Berlin": "Berlin",
    "Europe/Paris": "Paris",
    "America/New_York": "Eastern Time (US & Canada)",
    "America/Chicago": "Central Time (US & Canada)",
    "America/Denver": "Mountain Time (US & Canada)",
    "America/Los_Angeles": "Pacific Time (US & Canada)",
    "UTC": "UTC",
    "Etc/UTC": "UTC",
}

#: Neutral channel -> Zendesk `via_id` (Zendesk "Via types" reference).
VIA_IDS = {"web": "0", "email": "4", "api": "5", "chat": "29", "phone": "34"}

#: Neutral time condition -> Zendesk automation/view time condition field.
TIME_FIELDS = {
    "hours_since_created": "NEW",
    "hours_since_open": "OPEN",
    "hours_since_pending": "PENDING",
    "hours_since_solved": "SOLVED",
    "hours_since_assigned": "assigned_at",
    "hours_since_updated": "updated_at",
    "hours_since_requester_update": "requester_updated_at",
    "hours_since_agent_update": "assignee_updated_at",
    "hours_until_due": "until_due_date",
}

#: Neutral field type -> Zendesk custom field type (single-select dropdowns are "tagger").
FIELD_TYPES = {
    "text": "text",
    "textarea": "textarea",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "checkbox": "checkbox",
    "dropdown": "tagger",
    "multiselect": "multiselect",
    "regexp": "regexp",
}
#: Organization fields call the single-select type "dropdown".
ORG_FIELD_TYPES = {**FIELD_TYPES, "dropdown": "dropdown"}

#: Neutral view column -> Zendesk view column id.
VIEW_COLUMNS = {
    "subject": "subject",
    "requester": "requester",
    "priority": "priority",
    "status": "status",
    "updated": "updated",
    "created": "created",
    "assignee": "assignee",
    "group": "group",
    "organization": "organization",
    "type": "type",
    "due_date": "due_date",
    "score": "score",
    "id": "nice_id",
    "solved": "solved",
    "satisfaction": "satisfaction_score",
    "requester_updated": "updated_requester",
    "assignee_updated": "updated_assignee",
    "brand": "brand",
}

# ---------------------------------------------------------------- markers and refs


def marker(playbook: m.Playbook | str, key: str) -> str:
    """The ownership marker `[deskbook:<playbook>:<key>]` (playbook given as object or name; `deskbook.marker`)."""
    return format_marker(playbook if isinstance(playbook, str) else playbook.name, key)


def slug(text: str) -> str:
    """Lower case, every run of characters other than a-z/0-9 as one `_` (a Zendesk-safe name)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def dynamic_content_name(playbook: m.Playbook | str, phrase_id: str) -> str:
    """The managed dynamic content item name for `phrase_id`; it is also its `{{dc.…}}` placeholder."""
    name = playbook if isinstance(playbook, str) else playbook.name
    return f"deskbook__{slug(name)}__{slug(phrase_id)}"


def dc_placeholder(playbook: m.Playbook | str, phrase_id: str) -> str:
    """The Liquid placeholder that inserts the phrase's dynamic content in the requester's language."""
    return "{{dc." + dynamic_content_name(playbook, phrase_id) + "}}"


# ---------------------------------------------------------------- small helpers


def _where(element: Any, kind: str) -> str:
    source = getattr(element, "source", None)
    label = f"{kind} {getattr(element, 'key', '?')!r}"
    return f"{source} ({label})" if source else label


def _described(text: str, playbook: m.Playbook, key: str) -> str:
    """`text` followed by the ownership marker on its own line."""
    mark = marker(playbook, key)
    return f"{text.strip()}\n\n{mark}" if text and text.strip() else mark


def _localized_lines(playbook: m.Playbook, value: m.Localized) -> list[str]:
    """`<locale>: <text>` for each non-default playbook locale that has its own text."""
    default = playbook.metadata.default_locale
    return [f"{loc}: {value.values[loc]}" for loc in playbook.metadata.locales if loc != default and loc in value.values]


def _title(playbook: m.Playbook, value: m.Localized) -> str:
    return value.get(playbook.metadata.default_locale)


def option_tag(field_key: str, value: str) -> str:
    """The Zendesk tag of dropdown option `value` of field `field_key` (unique across fields)."""
    return f"{slug(field_key)}__{slug(value)}"


def option_value(field_key: str, tag: str | None) -> str | None:
    """The playbook value behind dropdown tag `tag` of field `field_key` (inverse of `option_tag`).

    A tag without this field's prefix (an organization filled in by hand or by an import with
    the bare value) is returned as it is.
    """
    if tag is None:
        return None
    prefix = f"{slug(field_key)}__"
    return tag[len(prefix):] if tag.startswith(prefix) else tag


def _category_path(playbook: m.Playbook) -> dict[str, list[m.Category]]:
    """Category key -> its path of categories from the top."""
    paths: dict[str, list[m.Category]] = {}

    def visit(cat: m.Category, trail: list[m.Category]) -> None:
        paths[cat.key] = trail + [cat]
        for sub in cat.subcategories:
            visit(sub, trail + [cat])

    for top in playbook.categories:
        visit(top, [])
    return paths


def _find_category(playbook: m.Playbook, key: str, where: str) -> m.Category:
    for cat in playbook.all_categories():
        if cat.key == key:
            return cat
    raise DeskbookError(f"unknown category {key!r}", where=where, hint="use a key from categories:")


def _group_ref(playbook: m.Playbook, key: Any, where: str) -> str:
    """The text ref of group `key` ("" unassigns); DeskbookError when the playbook has no such group."""
    if not key:
        return ""
    try:
        playbook.group(key)
    except KeyError:
        raise DeskbookError(f"unknown group {key!r}", where=where, hint="use a key from groups:") from None
    return ref("group", key, text=True)


def _field_ref(key: str) -> str:
    return "custom_fields_" + ref("ticket_field", key)


def _field_value(playbook: m.Playbook, key: str, value: Any, where: str) -> str:
    """A condition/action value for playbook field `key` as Zendesk stores it (option tags for dropdowns)."""
    try:
        fld = playbook.field_(key)
    except KeyError:
        raise DeskbookError(f"unknown field {key!r}", where=where, hint="use a key from fields:") from None
    if fld.type in ("dropdown", "multiselect"):
        values = value if isinstance(value, (list, tuple)) else [value]
        known = {o.value for o in fld.options}
        for v in values:
            if v not in known:
                raise DeskbookError(f"field {key!r} has no option {v!r}", where=where)
        return " ".join(option_tag(key, str(v)) for v in values)
    if fld.type == "checkbox":
        return "true" if value in (True, "true", "yes", 1) else "false"
    return "" if value is None else str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


# ---------------------------------------------------------------- conditions and actions


def condition(playbook: m.Playbook, cond: m.Condition, where: str) -> dict[str, Any]:
    """One neutral condition as a Zendesk condition (values as strings, as the spec types them)."""
    f, op, value = cond.field, cond.operator, cond.value
    if f in ("status", "priority"):
        return {"field": f, "operator": op, "value": _text(value)}
    if f == "group":
        return {"field": "group_id", "operator": op, "value": _group_ref(playbook, value, where)}
    if f == "assignee":
        return {"field": "assignee_id", "operator": op, "value": _text(value)}
    if f == "tags":
        zop = {"is": "includes", "is_not": "not_includes"}.get(op, op)
        return {"field": "current_tags", "operator": zop, "value": _text(value)}
    if f == "channel":
        values = value if isinstance(value, (list, tuple)) else [value]
        unknown = [v for v in values if v not in VIA_IDS]
        if unknown or len(values) != 1:
            raise DeskbookError(f"channel condition needs one of {', '.join(VIA_IDS)}; got {value!r}", where=where)
        return {"field": "via_id", "operator": op, "value": VIA_IDS[values[0]]}
    if f == "via_update":
        update = {"created": "Create", "create": "Create", "updated": "Change", "update": "Change",
                  "change": "Change"}.get(str(value).lower())
        if update is None:
            raise DeskbookError(f"via_update must be created or updated; got {value!r}", where=where)
        return {"field": "update_type", "operator": "is", "value": update}
    if f == "comment_is_public":
        return {"field": "comment_is_public", "operator": "is", "value": _text(bool(value) if value is not None else True)}
    if f == "updated_by":  # Zendesk's "Current user" condition: field role, values agent / end_user
        role = {"agent": "agent", "end_user": "end_user", "end-user": "end_user", "customer": "end_user"}.get(str(value))
        if role is None or op not in ("is", "is_not"):
            raise DeskbookError(f"updated_by takes is/is_not agent or end_user; got {op} {value!r}", where=where)
        return {"field": "role", "operator": op, "value": role}
    if f in TIME_FIELDS:
        return {"field": TIME_FIELDS[f], "operator": op, "value": _text(value)}
    if f == "category":
        cat = _find_category(playbook, value, where)
        if cat.subcategories:  # a folder in the nested dropdown: its own option or any below it
            zop = "not_includes" if op == "is_not" else "includes"
            tags = " ".join(option_tag(playbook.category_field, c.key) for c in cat.walk())
            return {"field": "current_tags", "operator": zop, "value": tags}
        return {"field": _field_ref(playbook.category_field), "operator": op,
                "value": option_tag(playbook.category_field, cat.key)}
    if f.startswith("field."):
        key = f.split(".", 1)[1]
        return {"field": _field_ref(key), "operator": op, "value": _field_value(playbook, key, value, where)}
    raise DeskbookError(f"condition field {f!r} has no Zendesk equivalent", where=where)


def conditions(playbook: m.Playbook, conds: m.Conditions, where: str) -> dict[str, list[dict[str, Any]]]:
    """Neutral all/any conditions as Zendesk's {"all": [...], "any": [...]}."""
    return {
        "all": [condition(playbook, c, where) for c in conds.all],
        "any": [condition(playbook, c, where) for c in conds.any],
    }


def action(playbook: m.Playbook, act: m.Action, where: str) -> dict[str, Any]:
    """One neutral action as a Zendesk action (values as strings; tags space-delimited)."""
    f, value = act.field, act.value
    if f in ("status", "priority"):
        return {"field": f, "value": _text(value)}
    if f == "group":
        return {"field": "group_id", "value": _group_ref(playbook, value, where)}
    if f == "assignee":
        return {"field": "assignee_id", "value": _text(value)}
    if f == "add_tags":
        return {"field": "current_tags", "value": _text(value)}
    if f in ("remove_tags", "set_tags"):
        return {"field": f, "value": _text(value)}
    if f == "satisfaction":  # "Satisfaction: Offered to requester": Zendesk's own CSAT request then never fires
        if str(value) != "offered":
            raise DeskbookError(f"satisfaction can only be set to offered; got {value!r}", where=where)
        return {"field": "satisfaction_score", "value": "offered_to_requester"}
    if f == "category":
        cat = _find_category(playbook, value, where)
        return {"field": _field_ref(playbook.category_field), "value": option_tag(playbook.category_field, cat.key)}
    if f.startswith("field."):
        key = f.split(".", 1)[1]
        return {"field": _field_ref(key), "value": _field_value(playbook, key, value, where)}
    raise DeskbookError(f"action field {f!r} has no Zendesk equivalent", where=where)


def _notification(playbook: m.Playbook, comment: m.Comment) -> dict[str, Any]:
    """A rule's phrase as an email to the requester (public) or the assignee (internal)."""
    recipient = "requester_id" if comment.public else "assignee_id"
    subject = "[{{ticket.id}}] {{ticket.title}}"
    return {"field": "notification_user", "value": [recipient, subject, dc_placeholder(playbook, comment.phrase)]}


# ---------------------------------------------------------------- automation rule check

def check_automation(auto: m.Automation) -> None:
    """The automation rules (`deskbook.playbooks.automation_check`, the ones `validate` applies),
    checked before any request: DeskbookError naming the automation and its first problem."""
    problems = automation_problems(auto.key, auto.conditions, auto.actions)
    if problems:
        raise DeskbookError(problems[0][1], where=_where(auto, "automation"))


_VIEW_SCOPE = {"status", "group", "assignee"}


# ---------------------------------------------------------------- object builders


def _groups(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    for g in pb.groups:
        name = _title(pb, g.name)
        desc = "\n".join([_title(pb, g.description), *_localized_lines(pb, g.name)])
        out.append(DesiredObject("group", g.key, name, {"name": name, "description": _described(desc, pb, g.key)}))
    return out


def _options(pb: m.Playbook, fld: m.Field) -> list[dict[str, str]]:
    return [{"name": _title(pb, o.label), "value": option_tag(fld.key, o.value)} for o in fld.options]


#: Title of the generated category dropdown, per locale (the playbook does not declare it).
CATEGORY_FIELD_TITLE = {"zh-CN": "请求类别", "en": "Request category"}
#: Leaf label of a category that has sub-categories (`Parent::General`), per locale.
GENERAL_LABEL = {"zh-CN": "通用", "en": "General"}


def _builtin(pb: m.Playbook, table: dict[str, str]) -> m.Localized:
    values = {loc: table.get(loc) or table.get(loc.split("-")[0]) or table["en"] for loc in pb.metadata.locales}
    return m.Localized(values, pb.metadata.default_locale)


def _category_options(pb: m.Playbook) -> list[dict[str, str]]:
    """One option per category key: `Parent::Child` nests; a parent's own option is `Parent::General`."""
    paths = _category_path(pb)
    general = _title(pb, _builtin(pb, GENERAL_LABEL))
    out = []
    for cat in pb.all_categories():
        names = [_title(pb, c.name).replace("::", ":") for c in paths[cat.key]]
        if cat.subcategories:
            names.append(general)
        out.append({"name": "::".join(names), "value": option_tag(pb.category_field, cat.key)})
    return out


def _category_field(pb: m.Playbook) -> DesiredObject:
    """The generated request-category dropdown (`playbook.category_field`)."""
    title = _builtin(pb, CATEGORY_FIELD_TITLE)
    lines = [_title(pb, title), *_localized_lines(pb, title)]
    payload: dict[str, Any] = {
        "type": "tagger",
        "title": _title(pb, title),
        "description": _described("\n".join(lines), pb, pb.category_field),
        "active": True,
        "required": False,
        "custom_field_options": _category_options(pb),
    }
    return DesiredObject("ticket_field", pb.category_field, payload["title"], payload)


def _field_description(pb: m.Playbook, fld: m.Field) -> str:
    lines = [_title(pb, fld.description), *_localized_lines(pb, fld.title)]
    return _described("\n".join(line for line in lines if line), pb, fld.key)


def _ticket_fields(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    keys = {f.key for f in pb.ticket_fields()}
    for fld in pb.ticket_fields():
        title = _title(pb, fld.title)
        payload: dict[str, Any] = {
            "type": FIELD_TYPES[fld.type],
            "title": title,
            "description": _field_description(pb, fld),
            "active": True,
            "required": fld.required,
        }
        if fld.key == pb.category_field:
            payload["type"] = "tagger"
            payload["custom_field_options"] = _category_options(pb)
        elif fld.type in ("dropdown", "multiselect"):
            payload["custom_field_options"] = _options(pb, fld)
        if fld.type == "checkbox":
            payload["tag"] = slug(fld.key)
        if fld.type == "regexp" and fld.regexp:
            payload["regexp_for_validation"] = fld.regexp
        out.append(DesiredObject("ticket_field", fld.key, title, payload))
    if pb.categories and pb.category_field not in keys:
        out.insert(0, _category_field(pb))
    return out


def _organization_fields(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    seen: dict[str, str] = {}
    for fld in pb.organization_fields():
        key = slug(fld.key)
        if key in seen:
            raise DeskbookError(
                f"organization fields {seen[key]!r} and {fld.key!r} have the same Zendesk key {key!r}",
                where=_where(fld, "field"),
                hint="Zendesk organization field keys must be unique",
            )
        seen[key] = fld.key
        title = _title(pb, fld.title)
        payload: dict[str, Any] = {
            "key": key,
            "type": ORG_FIELD_TYPES[fld.type],
            "title": title,
            "description": _field_description(pb, fld),
            "active": True,
        }
        if fld.type in ("dropdown", "multiselect"):
            payload["custom_field_options"] = _options(pb, fld)
        if fld.type == "regexp" and fld.regexp:
            payload["regexp_for_validation"] = fld.regexp
        out.append(DesiredObject("organization_field", fld.key, title, payload))
    return out


_DAY_INDEX = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def _minutes(hhmm: str, where: str) -> int:
    mt = re.fullmatch(r"(\d{1,2}):(\d{2})", hhmm.strip())
    if not mt or int(mt[1]) > 24 or int(mt[2]) > 59 or (int(mt[1]) == 24 and int(mt[2])):
        raise DeskbookError(f"business hours time {hhmm!r} is not HH:MM", where=where)
    return int(mt[1]) * 60 + int(mt[2])


def schedule_intervals(hours: Iterable[m.BusinessHours], where: str = "metadata.business_hours") -> list[dict[str, int]]:
    """Weekly opening hours as Zendesk workweek intervals (minutes since Sunday 00:00, one per day)."""
    out = []
    for block in hours:
        start, end = _minutes(block.start, where), _minutes(block.end, where)
        if end <= start:
            raise DeskbookError(f"business hours {block.start}-{block.end} end before they start", where=where,
                                hint="Zendesk intervals may not span midnight; split them per day")
        for day in block.days:
            index = _DAY_INDEX.get(day.lower()[:3])
            if index is None:
                raise DeskbookError(f"unknown day {day!r}", where=where, hint="use mon..sun")
            out.append({"start_time": index * 1440 + start, "end_time": index * 1440 + end})
    out.sort(key=lambda i: i["start_time"])
    for a, b in zip(out, out[1:], strict=False):
        if b["start_time"] < a["end_time"]:
            raise DeskbookError("business hours overlap", where=where)
    return out


def zendesk_time_zone(iana: str) -> str:
    """The Zendesk (Rails) zone name for an IANA zone; DeskbookError when deskbook has no mapping."""
    if iana in ZENDESK_TIME_ZONES:
        return ZENDESK_TIME_ZONES[iana]
    raise DeskbookError(
        f"time zone {iana!r} has no Zendesk schedule equivalent in deskbook",
        where="metadata.time_zone",
        hint="use one of: " + ", ".join(sorted(ZENDESK_TIME_ZONES)),
    )


SCHEDULE_KEY = "business_hours"


def ticket_form_key(category: m.Category) -> str:
    """Key (marker) of the ticket form of a top-level category."""
    return f"form_{category.key}"


def _ticket_forms(pb: m.Playbook) -> list[DesiredObject]:
    """One ticket form per top-level request category: the category dropdown, the common fields, and
    the fields specific to a category of the form (complaint, callback record) shown only when the
    category dropdown holds that category, and the survey fields shown only once the record field says
    solved (`agent_conditions`, Zendesk's conditional fields: a parent custom field and its value)."""
    if not pb.categories:
        return []
    from deskbook.playbooks.forms import after_solve_fields, field_categories, solved_marker

    fields = [f for f in pb.ticket_fields() if f.key != pb.category_field]
    belongs = {f.key: field_categories(pb, f) for f in fields}
    solved = solved_marker(pb)
    survey = after_solve_fields(pb)
    ref = "{ref:ticket_field:%s}"
    out = []
    for top in pb.categories:
        subtree = [c.key for c in top.walk()]
        common = [f.key for f in fields if belongs[f.key] is None]
        specific = [f.key for f in fields if (belongs[f.key] or set()) & set(subtree)]
        conditions = []
        if solved and survey:  # the survey fields show once the record says solved
            conditions.append({"parent_field_id": ref % solved[0], "value": option_tag(solved[0], solved[1]),
                               "child_fields": [{"id": ref % k, "is_required": False} for k in common if k in survey]})
        for category in subtree:
            children = [k for k in specific if category in (belongs[k] or ())]
            if children:
                conditions.append({"parent_field_id": ref % pb.category_field,
                                   "value": option_tag(pb.category_field, category),
                                   "child_fields": [{"id": ref % k, "is_required": False} for k in children]})
        title = _title(pb, top.name)
        name = f"{title} {marker(pb, ticket_form_key(top))}"
        payload: dict[str, Any] = {
            "name": name,
            "display_name": title,
            "active": True,
            "end_user_visible": True,
            "ticket_field_ids": [ref % k for k in (pb.category_field, *common, *specific)],
            "agent_conditions": conditions,
        }
        out.append(DesiredObject("ticket_form", ticket_form_key(top), name, payload))
    return out


def _schedule(pb: m.Playbook) -> list[DesiredObject]:
    if not pb.metadata.business_hours:
        return []
    title = _title(pb, pb.metadata.title)
    name = f"{title} {marker(pb, SCHEDULE_KEY)}"
    payload: dict[str, Any] = {
        "name": name,
        "time_zone": zendesk_time_zone(pb.metadata.time_zone),
        "intervals": schedule_intervals(pb.metadata.business_hours),
    }
    if pb.metadata.holidays:  # created after the schedule: POST .../schedules/{id}/holidays
        payload["holidays"] = [{"name": n, "start_date": str(start), "end_date": str(end)}
                               for n, start, end in pb.metadata.holidays]
    return [DesiredObject("schedule", SCHEDULE_KEY, name, payload)]


def schedule_notes(pb: m.Playbook) -> list[str]:
    """Plan notes on what the schedule cannot hold: the playbook's make-up working days.

    A Zendesk schedule is a weekly workweek plus holidays, and a holiday only closes days
    (Schedules API: schedules, workweek intervals, holidays); nothing opens a day the workweek
    closes. So the dates are listed for an admin instead of being installed.
    """
    workdays = pb.metadata.extra_workdays
    if not pb.metadata.business_hours or not workdays:
        return []
    days = "; ".join(w.label for w in workdays)
    return [
        f'{len(workdays)} make-up working day(s) are not installed in schedule "{_title(pb, pb.metadata.title)}": '
        f"Zendesk schedules have weekly hours and holidays (days off) only, no working-day override, so "
        f"SLA targets measured in business hours stay paused on these days "
        f"(a ticket raised on one counts from the next open hour): {days}. Zendesk has no per-date setting "
        f"for this; tell the agents working those days that SLA clocks do not run, and read SLA reports for "
        f"those days accordingly"
    ]


def rule_phrases(pb: m.Playbook) -> list[str]:
    """Phrase ids that macros, triggers and automations insert (each becomes dynamic content)."""
    seen: list[str] = []
    elements: tuple[m.Macro | m.Trigger | m.Automation, ...] = (*pb.macros, *pb.triggers, *pb.automations)
    for element in elements:
        if element.comment and element.comment.phrase not in seen:
            seen.append(element.comment.phrase)
    return seen


def zendesk_locale_id(locale: str) -> int:
    """The Zendesk locale id of a playbook locale; DeskbookError when unknown."""
    for candidate in (locale, locale.split("-")[0]):
        if candidate in ZENDESK_LOCALE_IDS:
            return ZENDESK_LOCALE_IDS[candidate]
    raise DeskbookError(f"locale {locale!r} has no Zendesk locale id in deskbook",
                        where="metadata.locales", hint="use one of: " + ", ".join(ZENDESK_LOCALE_IDS))


def customer_visible_rules(pb: m.Playbook) -> dict[str, tuple[str, Any]]:
    """Phrase id -> (`trigger.<key>`, its file:line:column) of the first rule that sends it to the
    requester without an agent's edit: triggers and automations with a public comment (a notification
    to the requester). Macros are not here: the agent edits a macro's text before submitting it."""
    found: dict[str, tuple[str, Any]] = {}
    for kind, rules in (("trigger", pb.triggers), ("automation", pb.automations)):
        for rule in rules:
            if rule.comment is not None and rule.comment.public and rule.comment.phrase not in found:
                found[rule.comment.phrase] = (f"{kind}.{rule.key}", rule.source)
    return found


def customer_visible_phrases(pb: m.Playbook) -> dict[str, str]:
    """Phrase id -> the first rule ("trigger.<key> (file:line:column)") that sends it to the requester
    without an agent's edit (`customer_visible_rules`)."""
    return {phrase: f"{label} ({source})" if source else label
            for phrase, (label, source) in customer_visible_rules(pb).items()}


def customer_text(pb: m.Playbook, library: Any, phrase_id: str, locale: str, where: str) -> str:
    """The dynamic content variant of a customer-visible phrase; raises the fill-in slot it still holds
    (`placeholders.customer_text_problem`, naming `where`)."""
    from deskbook.scripts_library import render_customer_text

    content, problem = render_customer_text(library, phrase_id, locale, "zendesk", where=where,
                                            constants=pb.constants.values(locale), otherwise=AGENT_VALUE_HINT)
    if problem is not None:
        raise problem
    return content


def customer_text_problems(pb: m.Playbook, library: Any) -> list[DeskbookError]:
    """Offline, for `deskbook validate`: each customer-visible phrase and locale whose text still holds a
    fill-in slot (what `plan` refuses in `_dynamic_content`), `where` the first rule's file:line:column."""
    from deskbook.scripts_library.placeholders import CustomerTextError

    problems = []
    for phrase_id, (label, source) in customer_visible_rules(pb).items():
        for locale in pb.metadata.locales:
            try:
                customer_text(pb, library, phrase_id, locale, label)
            except CustomerTextError as problem:
                problems.append(DeskbookError(f"Zendesk: {problem.message}", where=str(source or pb.path),
                                              hint=problem.hint))
            except DeskbookError:
                continue  # the phrase itself (unapproved, missing): the library's check reports it
    return problems


#: What to do about a value only an agent knows in a Zendesk trigger's or automation's notification.
AGENT_VALUE_HINT = ("a trigger or automation emails the requester without an agent's edit: use the phrase in a "
                    "macro (the agent fills it in before sending), or make the comment internal (public: false)")


def _dynamic_content(pb: m.Playbook, library: Any) -> list[DesiredObject]:
    from deskbook.scripts_library import render_for_desk

    out = []
    default = pb.metadata.default_locale
    visible = customer_visible_phrases(pb)
    for phrase_id in rule_phrases(pb):
        variants = []
        for locale in pb.metadata.locales:
            constants = pb.constants.values(locale)
            if phrase_id in visible:  # one item serves every rule and macro using the phrase
                content = customer_text(pb, library, phrase_id, locale, visible[phrase_id])
            else:
                content = render_for_desk(library, phrase_id, locale, "zendesk", constants=constants)
            variants.append({"locale_id": zendesk_locale_id(locale), "content": content,
                             "default": locale == default, "active": True})
        name = dynamic_content_name(pb, phrase_id)
        payload = {"name": name, "default_locale_id": zendesk_locale_id(default), "variants": variants}
        out.append(DesiredObject("dynamic_content", phrase_id, name, payload))
    return out


def _trigger_categories(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    for key, title in pb.trigger_categories:
        name = f"{_title(pb, title)} {marker(pb, key)}"
        out.append(DesiredObject("trigger_category", key, name, {"name": name}))
    return out


def _rule_description(pb: m.Playbook, element: Any) -> str:
    lines = [_title(pb, element.description)]
    if element.implements:
        lines.append("Implements: " + ", ".join(element.implements))
    return _described("\n".join(line for line in lines if line), pb, element.key)


def _triggers(pb: m.Playbook) -> list[DesiredObject]:
    known = {k for k, _ in pb.trigger_categories}
    out = []
    for t in pb.triggers:
        where = _where(t, "trigger")
        if t.category not in known:
            raise DeskbookError(f"trigger {t.key!r} names unknown trigger category {t.category!r}", where=where)
        if not t.conditions.all and not t.conditions.any:
            raise DeskbookError(f"trigger {t.key!r} has no conditions", where=where,
                                hint="Zendesk needs at least one; e.g. via_update is created")
        actions = [action(pb, a, where) for a in t.actions]
        if t.comment:
            actions.append(_notification(pb, t.comment))
        if not actions:
            raise DeskbookError(f"trigger {t.key!r} has no actions", where=where)
        title = _title(pb, t.title)
        payload = {
            "title": title,
            "description": _rule_description(pb, t),
            "active": True,
            "category_id": ref("trigger_category", t.category, text=True),
            "conditions": conditions(pb, t.conditions, where),
            "actions": actions,
        }
        out.append(DesiredObject("trigger", t.key, title, payload))
    return out


def _guardrail_triggers(pb: m.Playbook, library: Any) -> list[DesiredObject]:
    """C-1 (`deskbook.playbooks.guardrail`): one trigger per forbidden phrase. Conditions: a public
    comment (`comment_is_public`), by an agent (`role`), whose text contains the phrase ("Comment
    text: contains the following string", `comment_includes_word` with `is`). Actions: the caught
    tag, the note to the agent who wrote it (`notification_user` current_user) and to the notify
    group (`notification_group`).

    Zendesk triggers cannot write a comment: `comment_value` is one of the "additional actions for
    macros" (Actions reference), so the agent's note arrives as the trigger's email to the agent and
    stays in the ticket's events (audits); the plan says so."""
    from deskbook.playbooks.guardrail import CAUGHT_TAG, guard_rules, note_text, rule_title

    g = pb.guardrail
    if g is None:
        return []
    category = g.trigger_category or (pb.trigger_categories[0].key if pb.trigger_categories else None)
    if category is None or category not in {key for key, _ in pb.trigger_categories}:
        raise DeskbookError("the guardrail's Zendesk triggers need a trigger category", where="guardrail",
                            hint="add guardrail.trigger_category (a key from trigger_categories)")
    group = _group_ref(pb, g.notify_group, "guardrail.notify_group")
    subject = "[{{ticket.id}}] C-1: {{ticket.title}}"
    out = []
    for rule in guard_rules(pb):
        note = note_text(library, pb, rule, "zendesk")
        title = rule_title(rule)
        payload = {
            "title": title,
            "description": _described(f"C-1: {rule.phrase} -> {rule.alternative}\nImplements: "
                                      + ", ".join(g.implements or ("C-1",)), pb, rule.key),
            "active": True,
            "category_id": ref("trigger_category", category, text=True),
            "conditions": {"all": [
                {"field": "comment_is_public", "operator": "is", "value": "true"},
                {"field": "role", "operator": "is", "value": "agent"},
                {"field": "comment_includes_word", "operator": "is", "value": rule.phrase},
            ], "any": []},
            "actions": [
                {"field": "current_tags", "value": CAUGHT_TAG},
                {"field": "notification_user", "value": ["current_user", subject, note]},
                {"field": "notification_group", "value": [group, subject, note]},
            ],
        }
        out.append(DesiredObject("trigger", rule.key, title, payload))
    return out


def guardrail_notes(pb: m.Playbook) -> list[str]:
    """Plan notes: what the C-1 guardrail does differently on Zendesk."""
    if pb.guardrail is None or not pb.forbidden_phrases:
        return []
    return ["C-1 guardrail: Zendesk triggers cannot add a comment (comment actions are for macros only), so "
            "the note naming the forbidden phrase and the approved alternative reaches the agent who wrote the "
            f"reply and the {pb.guardrail.notify_group!r} group as the trigger's email, kept in the ticket's events"]


def survey_notes(pb: m.Playbook) -> list[str]:
    """Plan notes: which satisfaction survey the playbook uses on Zendesk (S-11: never two)."""
    sv = pb.survey
    if sv is None:
        return []
    record = ", ".join((sv.record.date, sv.record.ticket, sv.record.response_speed, sv.record.resolution,
                        sv.record.attitude, sv.record.suggestions))
    if sv.desk_csat:
        which = ("S-11 survey: Zendesk's own customer satisfaction (CSAT) is the online survey; keep it switched on "
                 "(Admin Center > Objects and rules > Customer satisfaction); the playbook sends no survey of its own")
    else:
        which = (f"S-11 survey: the playbook's own three-score invitation ({sv.invitation}) is the online survey; "
                 "switch Zendesk's customer satisfaction (CSAT) off (Admin Center > Objects and rules > Customer "
                 "satisfaction); while it is on, the survey marks it offered so Zendesk sends no second one")
    return [which, f"S-11 record: `deskbook sync` writes each customer's last survey onto organization fields {record} "
                   f"(run it at least daily: results reach the record within {sv.within_hours} hours)"]


def macro_title(pb: m.Playbook, macro: m.Macro) -> str:
    """`Playbook::Stage::Macro` in the default locale, so agents see stages as menu folders."""
    stages = {stage.id: stage.title for stage in pb.stages}
    stage = stages.get(macro.stage)
    if stage is None:
        stage_label = macro.stage
    elif re.fullmatch(r"[A-Z]+-\d+", macro.stage):  # "S-2 接待与问候": process step ids sort the menu
        stage_label = f"{macro.stage} {_title(pb, stage)}"
    else:  # named stages ("complaints") read better by title alone
        stage_label = _title(pb, stage)
    parts = [_title(pb, pb.metadata.title), stage_label, _title(pb, macro.title)]
    return "::".join(p.replace("::", ":") for p in parts)


def _macros(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    for mac in pb.macros:
        where = _where(mac, "macro")
        actions = [action(pb, a, where) for a in mac.actions]
        if mac.comment:
            actions.append({"field": "comment_value", "value": dc_placeholder(pb, mac.comment.phrase)})
            actions.append({"field": "comment_mode_is_public", "value": _text(mac.comment.public)})
        if not actions:
            raise DeskbookError(f"macro {mac.key!r} has no comment and no actions", where=where)
        title = macro_title(pb, mac)
        payload = {"title": title, "description": _rule_description(pb, mac), "active": True, "actions": actions}
        out.append(DesiredObject("macro", mac.key, title, payload))
    return out


def _automations(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    for auto in pb.automations:
        check_automation(auto)
        where = _where(auto, "automation")
        actions = [action(pb, a, where) for a in auto.actions]
        if auto.comment:
            actions.append(_notification(pb, auto.comment))
        title = f"{_title(pb, auto.title)} {marker(pb, auto.key)}"
        payload = {"title": title, "active": True, "conditions": conditions(pb, auto.conditions, where),
                   "actions": actions}
        out.append(DesiredObject("automation", auto.key, title, payload))
    return out


def _sla_policies(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    for sla in pb.sla_policies:
        where = _where(sla, "sla_policy")
        seen = set()
        metrics = []
        for t in sla.targets:
            if (t.metric, t.priority) in seen:
                raise DeskbookError(f"SLA policy {sla.key!r} has two targets for {t.metric}/{t.priority}", where=where)
            seen.add((t.metric, t.priority))
            metrics.append({"priority": t.priority, "metric": t.metric, "target": int(t.minutes),
                            "business_hours": bool(t.business_hours)})
        title = _title(pb, sla.title)
        payload = {"title": title, "description": _rule_description(pb, sla),
                   "filter": conditions(pb, sla.filter, where), "policy_metrics": metrics}
        out.append(DesiredObject("sla_policy", sla.key, title, payload))
    return out


def _column(column: str, where: str, playbook: m.Playbook | None = None) -> Any:
    if column == "category" and playbook is not None:
        return ref("ticket_field", playbook.category_field)
    if column.startswith("field."):
        return ref("ticket_field", column.split(".", 1)[1])
    if column in VIEW_COLUMNS:
        return VIEW_COLUMNS[column]
    raise DeskbookError(f"unknown view column {column!r}", where=where,
                        hint="use one of: " + ", ".join(VIEW_COLUMNS) + ", category or field.<key>")


def _views(pb: m.Playbook) -> list[DesiredObject]:
    out = []
    for view in pb.views:
        where = _where(view, "view")
        if not any(c.field in _VIEW_SCOPE for c in view.conditions.all):
            raise DeskbookError(
                f"view {view.key!r} needs an `all` condition on status, group or assignee (Zendesk requires one)",
                where=where,
            )
        if len(view.columns) > 10:
            raise DeskbookError(f"view {view.key!r} has {len(view.columns)} columns; Zendesk allows 10", where=where)
        conds = conditions(pb, view.conditions, where)
        title = _title(pb, view.title)
        payload = {
            "title": title,
            "description": _rule_description(pb, view),
            "active": True,
            "all": conds["all"],
            "any": conds["any"],
            "output": {
                "columns": [_column(c, where, pb) for c in view.columns],
                "sort_by": _column(view.sort_by, where, pb),
                "sort_order": view.sort_order,
            },
        }
        out.append(DesiredObject("view", view.key, title, payload))
    return out


def desired_objects(playbook: m.Playbook, library: Any) -> list[DesiredObject]:
    """Every Zendesk object the playbook wants, in `KIND_ORDER`, with `depends_on` from its refs."""
    built = [
        *_groups(playbook),
        *_ticket_fields(playbook),
        *_ticket_forms(playbook),
        *_organization_fields(playbook),
        *_schedule(playbook),
        *_dynamic_content(playbook, library),
        *_trigger_categories(playbook),
        *_triggers(playbook),
        *_guardrail_triggers(playbook, library),
        *_macros(playbook),
        *_automations(playbook),
        *_sla_policies(playbook),
        *_views(playbook),
    ]
    # Macros, triggers and automations insert phrases by placeholder, not by ref: depend on them too.
    phrase_deps = {d.key for d in built if d.kind == "dynamic_content"}
    seen: set[tuple[str, str]] = set()
    out = []
    for obj in built:
        if (obj.kind, obj.key) in seen:
            raise DeskbookError(f"two {obj.kind} objects have the key {obj.key!r}", where=playbook.path)
        seen.add((obj.kind, obj.key))
        deps = set(refs_in(obj.payload))
        text = json.dumps(obj.payload, ensure_ascii=False)
        deps |= {("dynamic_content", p) for p in phrase_deps if dc_placeholder(playbook, p) in text}
        out.append(DesiredObject(obj.kind, obj.key, obj.name, obj.payload, tuple(sorted(deps))))
    return out


def missing_process_views(playbook: m.Playbook) -> list[str]:
    """The agent views issue 3 asks for that the playbook lacks (urgent/escalated, S-9, complaints, tasks)."""
    wanted = {
        "urgent or escalated tickets": lambda v: any(
            (c.field == "priority" and str(c.value) == "urgent") or (c.field == "tags" and "escalat" in _text(c.value))
            for c in (*v.conditions.all, *v.conditions.any)),
        "waiting for a progress update (S-9)": lambda v: "S-9" in v.implements,
        "complaints (C-*)": lambda v: any(i.startswith("C-") for i in v.implements),
        "renewal tasks": lambda v: "renewal" in v.key or any(i in ("R-4",) for i in v.implements),
        "callback tasks": lambda v: "callback" in v.key or any(i in ("R-1", "R-2", "R-3") for i in v.implements),
    }
    return [label for label, test in wanted.items() if not any(test(v) for v in playbook.views)]

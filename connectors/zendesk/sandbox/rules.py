"""Zendesk's validation rules and what it rewrites on write/read, per object kind.

Each `build_<kind>(payload, existing, store)` takes the inner request object (e.g. the value of
`"macro"`) and the stored object being updated (None on create) and returns the new stored
document, or raises `RecordInvalid` with Zendesk's `details` shape:
`{"title": [{"description": "Title: cannot be blank", "error": "BlankValue"}]}`.
"""

from __future__ import annotations

import re
from typing import Any

from deskbook.connectors.sandbox_kit.fields import mistyped
from deskbook.connectors.zendesk.sandbox.store import Store, iso


class ApiError(Exception):
    """An HTTP error answer with Zendesk's JSON body."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}


class RecordInvalid(ApiError):
    """422 RecordInvalid with per-attribute `details`."""

    def __init__(self, details: dict[str, list[dict]]):
        super().__init__(422, {"error": "RecordInvalid", "description": "Record validation errors", "details": details})
        self.details = details


def not_found() -> ApiError:
    """Zendesk's 404 for a missing record."""
    return ApiError(404, {"error": "RecordNotFound", "description": "Not found"})


def bad_request(error: str, description: str, **extra: Any) -> ApiError:
    """A 400 answer such as TooManyValues or InvalidValue."""
    return ApiError(400, {"error": error, "description": description, **extra})


def _problem(attribute: str, text: str, error: str = "InvalidValue", **extra: Any) -> dict[str, list[dict]]:
    label = attribute.replace("_", " ").capitalize()
    return {attribute: [{"description": f"{label}: {text}", "error": error, **extra}]}


def blank(attribute: str) -> RecordInvalid:
    """`<Attribute>: cannot be blank`."""
    return RecordInvalid(_problem(attribute, "cannot be blank", "BlankValue"))


def invalid(attribute: str, text: str, error: str = "InvalidValue", **extra: Any) -> RecordInvalid:
    """One attribute problem."""
    return RecordInvalid(_problem(attribute, text, error, **extra))


def base_invalid(text: str, error: str = "InvalidValue") -> RecordInvalid:
    """A whole-record problem (`details.base`)."""
    return RecordInvalid({"base": [{"description": text, "error": error}]})


def _merged(payload: dict, existing: dict | None, allowed: tuple[str, ...]) -> dict:
    doc = dict(existing or {})
    for key in allowed:
        if key in payload:
            doc[key] = payload[key]
    return doc


def _require_text(doc: dict, attribute: str) -> None:
    value = doc.get(attribute)
    if not isinstance(value, str) or not value.strip():
        raise blank(attribute)


def _unique(store: Store, kind: str, attribute: str, value: Any, existing: dict | None, *, casefold: bool = True) -> None:
    if value is None:
        return
    own_id = existing.get("id") if existing else None
    if casefold:
        clash = store.find_by_text(kind, attribute, value, exclude_id=own_id)
    else:
        clash = store.find_first(kind, lambda o: o.get(attribute) == value and o["id"] != own_id)
    if clash:
        raise invalid(attribute, f"{value} has already been taken", "DuplicateValue", value=value)


# ------------------------------------------------------------------ conditions (business rules)


def conditions_from(payload: dict, existing: dict | None) -> dict:
    """Zendesk's read form of rule conditions: top-level `all`/`any` (deprecated) move into
    `conditions: {all: [...], any: [...]}`; missing lists become []."""
    current = dict((existing or {}).get("conditions") or {"all": [], "any": []})
    if "conditions" in payload and isinstance(payload["conditions"], dict):
        current = {"all": list(payload["conditions"].get("all") or []), "any": list(payload["conditions"].get("any") or [])}
    if "all" in payload:
        current["all"] = list(payload["all"] or [])
    if "any" in payload:
        current["any"] = list(payload["any"] or [])
    current.setdefault("all", [])
    current.setdefault("any", [])
    for cond in current["all"] + current["any"]:
        if not isinstance(cond, dict) or not cond.get("field") or "operator" not in cond:
            raise invalid("conditions", "each condition needs field, operator and value")
    return {"all": current["all"], "any": current["any"]}


def _actions(doc: dict) -> list[dict]:
    actions = doc.get("actions")
    if not isinstance(actions, list) or not actions:
        raise blank("actions")
    for action in actions:
        if not isinstance(action, dict) or not action.get("field"):
            raise invalid("actions", "each action needs a field and a value")
    return actions


#: Time-based condition fields of automations ("hours since/until"). Evidence: Zendesk's help
#: article "Automation conditions and actions reference" (support.zendesk.com 4408885654298) lists
#: hours since created/open/pending/on-hold/solved/closed/assigned/update/requester update/assignee
#: update, since/until due date, since last / until next SLA breach; the API names are those of
#: the recordings (`PENDING`, TestAutomations.*) and the Conditions reference. Operators: `is`,
#: `less_than`, `greater_than` (whole calendar hours) and their `*_business_hours` forms.
TIME_FIELDS = {
    "NEW", "OPEN", "PENDING", "HOLD", "SOLVED", "CLOSED", "assigned_at", "updated_at",
    "requester_updated_at", "assignee_updated_at", "due_date", "until_due_date",
    "sla_next_breach_at", "until_sla_next_breach_at",
}
TIME_OPERATORS = {"is", "less_than", "greater_than",
                  # the same counted in business hours (Conditions reference: "(business)" hours)
                  "is_business_hours", "less_than_business_hours", "greater_than_business_hours"}
#: Fields of which an automation's `all` must test one (spec, CreateAutomation/UpdateAutomation).
AUTOMATION_SCOPE_FIELDS = {"status", "type", "group_id", "assignee_id", "requester_id"}
_STATUS_ORDER = ["new", "open", "pending", "hold", "solved", "closed"]
_PRIORITY_ORDER = ["low", "normal", "high", "urgent"]


def _tags(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v) for v in value}
    return set(str(value or "").split())


def _condition_holds(condition: dict, field_value: Any) -> bool:
    """Whether `condition` holds for a ticket whose field is `field_value` (True when unknown)."""
    op, value = condition.get("operator"), condition.get("value")
    order = {"status": _STATUS_ORDER, "priority": _PRIORITY_ORDER}.get(condition.get("field"))
    if op in ("less_than", "greater_than") and order and field_value in order and value in order:
        a, b = order.index(field_value), order.index(value)
        return a < b if op == "less_than" else a > b
    if op == "is":
        return str(field_value) == str(value)
    if op == "is_not":
        return str(field_value) != str(value)
    if op == "present":
        return field_value not in (None, "")
    if op == "not_present":
        return field_value in (None, "")
    return True


def nullifies(condition: dict, action: dict) -> bool:
    """Whether running `action` makes `condition` false, so the automation cannot fire again."""
    cfield, afield, avalue = condition.get("field"), action.get("field"), action.get("value")
    if cfield == "current_tags":
        wanted = _tags(condition.get("value"))
        if condition.get("operator") == "includes":
            return afield == "remove_tags" and bool(wanted & _tags(avalue)) or (afield == "set_tags" and not wanted <= _tags(avalue))
        if condition.get("operator") == "not_includes":
            return afield in ("current_tags", "set_tags") and bool(wanted & _tags(avalue))
        return False
    if cfield in TIME_FIELDS or cfield != afield:
        return False
    return not _condition_holds(condition, avalue)


def true_only_once(condition: dict) -> bool:
    """A time-based condition with `is` (e.g. hours since pending is 24): its one-hour window
    passes once per ticket, so the automation fires at most once without a nullifying action
    (Zendesk: "Using 'Hours since...is'": `is` gives the automation a one-hour window)."""
    return condition.get("field") in TIME_FIELDS and condition.get("operator") in ("is", "is_business_hours")


def check_automation(conditions: dict, actions: list[dict]) -> None:
    """Zendesk's automation rules (spec, CreateAutomation/UpdateAutomation): the `all` conditions
    hold a time-based condition and one on status, type, group_id, assignee_id or requester_id;
    and a condition is true only once or an action nullifies a condition.

    The spec gives the rules but not the error texts, and no recording holds an automation 422:
    the `details.base` descriptions below are the sandbox's own wording (inferred)."""
    every = conditions["all"] + conditions["any"]
    for cond in every:
        if cond.get("field") in TIME_FIELDS:
            if cond.get("operator") not in TIME_OPERATORS:
                raise base_invalid(f"Invalid operator '{cond.get('operator')}' for time-based condition '{cond.get('field')}'"
                                   " (use is, less_than or greater_than)")
    # Not modelled, for lack of evidence that the API refuses them: time-based conditions under
    # `any` (the help center says only that the automation editor does not offer them there) and
    # fractional hours (the help center says 1.5 is read as 1).
    if not any(c.get("field") in TIME_FIELDS for c in conditions["all"]):
        raise base_invalid("Automations must contain at least one time-based condition in the ALL conditions")
    if not any(c.get("field") in AUTOMATION_SCOPE_FIELDS for c in conditions["all"]):
        raise base_invalid(
            "Automations must test for at least one of the following ticket properties in the ALL conditions: "
            "Status, Type, Group, Assignee, Requester."
        )
    if not any(true_only_once(c) for c in every) and not any(nullifies(c, a) for c in every for a in actions):
        raise base_invalid(
            "Automations must contain at least one condition that is true only once or an action that nullifies "
            "at least one of the conditions (for example: status is not solved, with an action setting status to solved)"
        )


def next_position(store: Store, kind: str, first: int) -> int:
    """Where Zendesk puts a new rule of `kind`: after the last one (at least `first`)."""
    positions = [d.get("position") for d in store.all(kind)]
    return max([first - 1] + [p for p in positions if isinstance(p, int)]) + 1


def _default_category(store: Store) -> int:
    categories = sorted(store.all("trigger_category"), key=lambda c: (c.get("position", 0), c["id"]))
    if categories:
        return categories[0]["id"]
    return store.insert("trigger_category", {"name": "Initial category", "position": 0})["id"]


RULE_COMMON = ("title", "active", "position", "description", "actions")


def build_trigger(payload: dict, existing: dict | None, store: Store) -> dict:
    """Triggers: title, conditions (all/any), actions; `category_id` defaults to the first category."""
    doc = _merged(payload, existing, RULE_COMMON + ("category_id",))
    _require_text(doc, "title")
    doc["conditions"] = conditions_from(payload, existing)
    if not doc["conditions"]["all"] and not doc["conditions"]["any"]:
        raise blank("conditions")
    _actions(doc)
    if doc.get("category_id") in (None, ""):
        doc["category_id"] = _default_category(store)
    elif store.get("trigger_category", doc["category_id"]) is None:
        raise invalid("category_id", f"trigger category {doc['category_id']} does not exist")
    doc["category_id"] = int(doc["category_id"])
    doc.setdefault("active", True)
    doc.setdefault("description", None)
    doc.setdefault("default", False)
    doc.setdefault("position", next_position(store, "trigger", 1))
    doc["raw_title"] = doc["title"]
    return doc


def _rule_meaning(doc: dict) -> tuple:
    """An automation's conditions and actions, order-insensitive, values compared as text."""
    def norm(items: list[dict]) -> tuple:
        return tuple(sorted(tuple(sorted((k, str(v)) for k, v in i.items())) for i in items))
    conditions = doc.get("conditions") or {}
    return norm(conditions.get("all") or []), norm(conditions.get("any") or []), norm(doc.get("actions") or [])


def _check_not_identical(doc: dict, existing: dict | None, store: Store) -> None:
    """Spec: "Active automations can have overlapping conditions but can't be identical".
    The error text is the sandbox's own (no recording or doc shows Zendesk's)."""
    own_id = existing.get("id") if existing else None
    meaning = _rule_meaning(doc)
    twin = store.find_first("automation", lambda o: o["id"] != own_id and o.get("active", True)
                            and _rule_meaning(o) == meaning)
    if twin:
        raise base_invalid(f"Automation is identical to the active automation '{twin.get('title')}' "
                           "(same conditions and actions)", "DuplicateValue")


def build_automation(payload: dict, existing: dict | None, store: Store) -> dict:
    """Automations: title, conditions with a time-based condition and one an action nullifies."""
    doc = _merged(payload, existing, RULE_COMMON)
    _require_text(doc, "title")
    doc["conditions"] = conditions_from(payload, existing)
    check_automation(doc["conditions"], _actions(doc))
    doc.setdefault("active", True)
    if doc["active"]:
        _check_not_identical(doc, existing, store)
    doc.setdefault("default", False)
    doc.setdefault("position", 10000 + store.count("automation"))
    doc["raw_title"] = doc["title"]
    return doc


def _personal_rule_defaults(doc: dict) -> dict:
    """What Zendesk fills in on macros and views the request left out (active, shared, no description)."""
    doc.setdefault("active", True)
    doc.setdefault("default", False)
    doc.setdefault("position", 10000)
    doc.setdefault("description", None)
    doc.setdefault("restriction", None)
    doc["raw_title"] = doc["title"]
    return doc


def build_macro(payload: dict, existing: dict | None, store: Store) -> dict:
    """Macros: title and at least one action."""
    doc = _merged(payload, existing, RULE_COMMON + ("restriction",))
    _require_text(doc, "title")
    _actions(doc)
    return _personal_rule_defaults(doc)


VIEW_REQUIRED_FIELDS = {"status", "type", "group_id", "assignee_id", "requester_id"}


def build_view(payload: dict, existing: dict | None, store: Store) -> dict:
    """Views: title, and an ALL condition on status, type, group, assignee or requester."""
    doc = _merged(payload, existing, ("title", "active", "position", "description", "restriction", "output"))
    _require_text(doc, "title")
    doc["conditions"] = conditions_from(payload, existing)
    if not any(c.get("field") in VIEW_REQUIRED_FIELDS for c in doc["conditions"]["all"]):
        raise base_invalid(
            "View must test for at least one of the following ticket properties in the ALL conditions section: "
            "Status, Type, Group, Assignee, Requester."
        )
    columns = [
        {"id": "subject", "title": "Subject", "filterable": False, "sortable": False},
        {"id": "requester", "title": "Requester", "filterable": True, "sortable": True},
        {"id": "created", "title": "Requested", "filterable": False, "sortable": True},
        {"id": "updated", "title": "Updated", "filterable": True, "sortable": True},
        {"id": "group", "title": "Group", "filterable": True, "sortable": True},
        {"id": "assignee", "title": "Assignee", "filterable": True, "sortable": True},
    ]
    output = doc.pop("output", None) or {}
    if output.get("columns"):
        columns = [{"id": c, "title": str(c), "filterable": True, "sortable": True} for c in output["columns"]]
    execution = (existing or {}).get("execution") or {}
    doc["execution"] = {
        "group_by": output.get("group_by", execution.get("group_by")), "group_order": output.get("group_order", "desc"),
        "sort_by": output.get("sort_by", execution.get("sort_by")), "sort_order": output.get("sort_order", "desc"),
        "group": None, "sort": None, "columns": columns, "fields": columns, "custom_fields": [],
    }
    return _personal_rule_defaults(doc)


def build_group(payload: dict, existing: dict | None, store: Store) -> dict:
    """Groups: a unique name."""
    doc = _merged(payload, existing, ("name", "description", "is_public", "default"))
    _require_text(doc, "name")
    _unique(store, "group", "name", doc["name"], existing)
    doc.setdefault("is_public", True)
    doc.setdefault("description", "")
    doc.setdefault("default", False)
    doc.setdefault("deleted", False)
    return doc


TICKET_FIELD_TYPES = {"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "partialcreditcard",
                      "multiselect", "tagger", "lookup"}


def _options(raw: Any, attribute: str, store: Store, existing_options: list[dict]) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise invalid(attribute, "must have at least one option", "BlankValue")
    by_value = {o["value"]: o for o in existing_options}
    seen, result = set(), []
    for position, option in enumerate(raw):
        if not isinstance(option, dict) or not option.get("name") or not option.get("value"):
            raise invalid(attribute, "each option needs a name and a value (tag)")
        value = str(option["value"])
        if value in seen:
            raise invalid(attribute, f"option value {value} is used twice", "DuplicateValue")
        seen.add(value)
        previous = by_value.get(value) or {}
        result.append({
            "id": option.get("id") or previous.get("id") or store.next_ids("custom_field_option")[0],
            "name": option["name"], "raw_name": option["name"], "value": value,
            "default": bool(option.get("default", False)), "position": position,
        })
    return result


def build_ticket_field(payload: dict, existing: dict | None, store: Store) -> dict:
    """Ticket fields: title, a known type; dropdowns (`tagger`, `multiselect`) need options."""
    doc = _merged(payload, existing, (
        "type", "title", "description", "position", "active", "required", "collapsed_for_agents",
        "regexp_for_validation", "title_in_portal", "visible_in_portal", "editable_in_portal",
        "required_in_portal", "tag", "key", "agent_description", "custom_field_options",
    ))
    _require_text(doc, "title")
    if doc.get("type") not in TICKET_FIELD_TYPES:
        raise invalid("type", f"{doc.get('type')!r} is not a ticket field type ({', '.join(sorted(TICKET_FIELD_TYPES))})")
    if existing and existing.get("type") != doc["type"]:
        raise invalid("type", "cannot be changed")
    if doc["type"] in ("tagger", "multiselect"):
        doc["custom_field_options"] = _options(doc.get("custom_field_options"), "custom_field_options", store,
                                               (existing or {}).get("custom_field_options") or [])
    else:
        doc.pop("custom_field_options", None)
    if doc["type"] == "regexp" and not doc.get("regexp_for_validation"):
        raise blank("regexp_for_validation")
    if doc.get("key") is not None:
        _unique(store, "ticket_field", "key", doc["key"], existing, casefold=False)
    doc.setdefault("description", doc["title"])
    doc["raw_title"], doc["raw_description"] = doc["title"], doc["description"]
    for key, default in (("position", 9999), ("active", True), ("required", False), ("collapsed_for_agents", False),
                         ("regexp_for_validation", None), ("visible_in_portal", False), ("editable_in_portal", False),
                         ("required_in_portal", False), ("tag", None), ("key", None), ("agent_description", None),
                         ("removable", True)):
        doc.setdefault(key, default)
    doc.setdefault("title_in_portal", doc["title"])
    doc["raw_title_in_portal"] = doc["title_in_portal"]
    return doc


ORG_FIELD_TYPES = {"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "dropdown", "lookup"}
_KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")


def build_organization_field(payload: dict, existing: dict | None, store: Store) -> dict:
    """Organization fields: title, a unique `key` (letters, digits, underscores), a known type."""
    doc = _merged(payload, existing, ("type", "key", "title", "description", "position", "active",
                                      "regexp_for_validation", "custom_field_options", "tag"))
    _require_text(doc, "title")
    if existing and payload.get("key") not in (None, existing.get("key")):
        raise invalid("key", "cannot be changed")
    key = doc.get("key")
    if not key:
        raise blank("key")
    if not _KEY_RE.match(str(key)) or str(key).isdigit():
        raise invalid("key", "can only contain alphanumeric characters and underscores, and must not be only digits")
    _unique(store, "organization_field", "key", key, existing, casefold=False)
    doc.setdefault("type", "text")
    if doc["type"] not in ORG_FIELD_TYPES:
        raise invalid("type", f"{doc['type']!r} is not an organization field type ({', '.join(sorted(ORG_FIELD_TYPES))})")
    if existing and existing.get("type") != doc["type"]:
        raise invalid("type", "cannot be changed")
    if doc["type"] == "dropdown":
        doc["custom_field_options"] = _options(doc.get("custom_field_options"), "custom_field_options", store,
                                               (existing or {}).get("custom_field_options") or [])
    else:
        doc.pop("custom_field_options", None)
    doc.setdefault("description", "")
    doc["raw_title"], doc["raw_description"] = doc["title"], doc["description"]
    doc.setdefault("position", 9999)
    doc.setdefault("active", True)
    doc.setdefault("system", False)
    doc.setdefault("regexp_for_validation", None)
    return doc


def _field_values(values: Any, fields: list[dict], attribute: str) -> dict:
    """Check custom field values against their fields' types (unknown keys are rejected)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise invalid(attribute, "must be an object of field key to value")
    by_key = {f["key"]: f for f in fields}
    for key, value in values.items():
        field = by_key.get(key)
        if field is None:
            raise invalid(attribute, f"{key} is not an organization field key")
        if value in (None, ""):
            continue
        kind = field.get("type")
        if kind == "date" and not re.match(r"^\d{4}-\d{2}-\d{2}", str(value)):
            raise invalid(attribute, f"{key}: {value!r} is not a date (YYYY-MM-DD)")
        if kind == "integer" and not re.match(r"^-?\d+$", str(value)):
            raise invalid(attribute, f"{key}: {value!r} is not an integer")
        if kind == "dropdown" and str(value) not in {o["value"] for o in field.get("custom_field_options") or []}:
            raise invalid(attribute, f"{key}: {value!r} is not one of the field's option values")
    return dict(values)


def organization_name_taken(name: str) -> str:
    """Zendesk's words for a taken organization name, two spaces after the colon as recorded
    (recordings/TestOrganizationCreateUpdateDelete.*-update-many.json)."""
    return f"Name:  {name} has already been taken"


def build_organization(payload: dict, existing: dict | None, store: Store) -> dict:
    """Organizations: a unique name (ignoring case; 422 `DuplicateValue`); `organization_fields` values
    keyed by field key."""
    doc = _merged(payload, existing, ("name", "shared_tickets", "shared_comments", "external_id", "domain_names",
                                      "details", "notes", "group_id", "tags"))
    _require_text(doc, "name")
    if store.find_by_text("organization", "name", doc["name"], exclude_id=existing.get("id") if existing else None):
        raise RecordInvalid({"name": [{"description": organization_name_taken(doc["name"]), "error": "DuplicateValue",
                                       "value": doc["name"]}]})
    if "organization_fields" in payload:
        values = dict((existing or {}).get("organization_fields") or {})
        values.update(_field_values(payload["organization_fields"], store.all("organization_field"), "organization_fields"))
        doc["organization_fields"] = values
    for key, default in (("shared_tickets", False), ("shared_comments", False), ("external_id", None), ("domain_names", []),
                         ("details", None), ("notes", None), ("group_id", None), ("tags", []), ("organization_fields", {})):
        doc.setdefault(key, default)
    return doc


USER_ROLES = {"end-user", "agent", "admin"}


def build_user(payload: dict, existing: dict | None, store: Store) -> dict:
    """Users: a name; a unique email; role end-user unless given."""
    doc = _merged(payload, existing, ("name", "email", "role", "external_id", "organization_id", "phone", "locale",
                                      "time_zone", "tags", "details", "notes", "verified", "active"))
    _require_text(doc, "name")
    if doc.get("email"):
        own = existing.get("id") if existing else None
        if store.find_by_text("user", "email", doc["email"], exclude_id=own):
            raise invalid("email", f"{doc['email']} is already being used by another user", "DuplicateValue")
    doc.setdefault("role", "end-user")
    if doc["role"] not in USER_ROLES:
        raise invalid("role", f"{doc['role']!r} is not a role ({', '.join(sorted(USER_ROLES))})")
    if "user_fields" in payload:
        doc["user_fields"] = {**(doc.get("user_fields") or {}), **dict(payload["user_fields"] or {})}
    for key, default in (("email", None), ("external_id", None), ("organization_id", None), ("phone", None),
                         ("locale", "en-US"), ("time_zone", "UTC"), ("tags", []), ("details", ""), ("notes", ""),
                         ("verified", False), ("active", True), ("user_fields", {}), ("suspended", False),
                         ("shared", False), ("moderator", False), ("alias", ""), ("photo", None),
                         ("shared_phone_number", None), ("locale_id", 1), ("shared_agent", False), ("last_login_at", None),
                         ("two_factor_auth_enabled", None), ("signature", None), ("role_type", None),
                         ("custom_role_id", None), ("only_private_comments", False), ("default_group_id", None),
                         ("report_csv", False),
                         ("restricted_agent", doc["role"] == "end-user"), ("ticket_restriction", "requested" if doc["role"] == "end-user" else None)):
        doc.setdefault(key, default)
    return doc


TICKET_STATUSES = {"new", "open", "pending", "hold", "solved", "closed"}
TICKET_PRIORITIES = {None, "low", "normal", "high", "urgent"}
TICKET_TYPES = {None, "problem", "incident", "question", "task"}
ADMIN_USER_ID = 360000000000


#: What a ticket's writable fields hold (spec: TicketObject); another type is a 422.
TICKET_FIELD_RULES = {
    "subject": "text?", "description": "text?", "status": "text", "priority": "text?", "type": "text?",
    "external_id": "text|number?", "organization_id": "id?", "group_id": "id?", "assignee_id": "id?",
    "requester_id": "id?", "brand_id": "id?", "problem_id": "id?", "custom_status_id": "id?", "due_at": "text?",
    "tags": "texts", "additional_tags": "texts|text", "remove_tags": "texts|text", "collaborator_ids": "ids",
    "comment": "object|text", "requester": "object", "custom_fields": "objects", "fields": "objects",
}
#: What a ticket comment's fields hold.
COMMENT_FIELD_RULES = {"body": "text", "html_body": "text", "public": "bool"}
#: What a new requester's fields hold.
REQUESTER_FIELD_RULES = {"name": "text?", "email": "text?", "locale": "text?"}


def refuse_mistyped(payload: Any, rules: dict[str, str], prefix: str = "") -> None:
    """422 RecordInvalid naming the first field of `payload` whose value breaks `rules`."""
    found = mistyped(payload, rules)
    if found is not None:
        raise invalid(prefix + found[0], f"must be {found[1]}")


def ticket_defaults(store: Store) -> dict:
    """A ticket's attributes before the request's own values (as the recordings show them)."""
    return {
        "external_id": None, "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
        "type": None, "subject": None, "raw_subject": None, "description": "", "priority": None, "status": "new",
        "recipient": None, "requester_id": ADMIN_USER_ID, "submitter_id": ADMIN_USER_ID, "assignee_id": None,
        "organization_id": None, "group_id": None, "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
        "forum_topic_id": None, "problem_id": None, "has_incidents": False, "is_public": True, "due_at": None,
        "tags": [], "custom_fields": [], "satisfaction_rating": None, "sharing_agreement_ids": [],
        "fields": [], "followup_ids": [], "brand_id": 360000000002, "allow_channelback": False,
        "allow_attachments": True, "from_messaging_channel": False, "_comments": [],
    }


def _comment_body(comment: Any) -> tuple[str, bool] | None:
    if comment is None:
        return None
    if isinstance(comment, str):
        return comment, True
    if isinstance(comment, dict):
        body = comment.get("body") or comment.get("html_body") or ""
        return body, bool(comment.get("public", True))
    raise invalid("comment", "must be an object with a body")


def build_ticket(payload: dict, existing: dict | None, store: Store) -> dict:
    """Tickets: a comment (or description) on create; known status/priority/type; requester by id or
    `{name, email}` (created when new); organization and group must exist."""
    refuse_mistyped(payload, TICKET_FIELD_RULES)
    refuse_mistyped(payload.get("comment"), COMMENT_FIELD_RULES, "comment.")
    refuse_mistyped(payload.get("requester"), REQUESTER_FIELD_RULES, "requester.")
    doc = dict(existing) if existing else ticket_defaults(store)
    for key in ("subject", "status", "priority", "type", "external_id", "organization_id", "group_id", "assignee_id",
                "requester_id", "tags", "due_at", "custom_status_id", "problem_id", "collaborator_ids", "brand_id",
                "submitter_id"):
        if key in payload:
            doc[key] = payload[key]
    if "additional_tags" in payload:
        doc["tags"] = sorted(set(doc.get("tags") or []) | _tags(payload["additional_tags"]))
    if "remove_tags" in payload:
        doc["tags"] = sorted(set(doc.get("tags") or []) - _tags(payload["remove_tags"]))
    comment = _comment_body(payload.get("comment"))
    if existing is None:
        if comment is None and payload.get("description"):
            comment = (payload["description"], True)
        if comment is None or not comment[0].strip():
            raise blank("comment")
        doc["description"] = comment[0]
        if "status" not in payload and payload.get("assignee_id"):
            doc["status"] = "open"
    if doc["status"] not in TICKET_STATUSES:
        raise invalid("status", f"{doc['status']!r} is not a ticket status")
    if existing and existing.get("status") == "closed":
        raise invalid("status", "closed prevents ticket update", "InvalidValue")
    if doc.get("priority") not in TICKET_PRIORITIES:
        raise invalid("priority", f"{doc['priority']!r} is not a priority")
    if doc.get("type") not in TICKET_TYPES:
        raise invalid("type", f"{doc['type']!r} is not a ticket type")
    requester = payload.get("requester")
    if isinstance(requester, dict):
        email = requester.get("email")
        found = store.find_by_text("user", "email", email) if email else None
        if found is None:
            found = store.insert("user", build_user({"name": requester.get("name") or email or "Requester", "email": email,
                                                     "locale": requester.get("locale", "en-US")}, None, store))
        doc["requester_id"] = found["id"]
    elif doc.get("requester_id") not in (None, ADMIN_USER_ID) and store.get("user", doc["requester_id"]) is None:
        raise invalid("requester_id", f"user {doc['requester_id']} does not exist")
    if doc.get("organization_id") is not None and store.get("organization", doc["organization_id"]) is None:
        raise invalid("organization_id", f"organization {doc['organization_id']} does not exist")
    if doc.get("group_id") is not None and store.get("group", doc["group_id"]) is None:
        raise invalid("group_id", f"group {doc['group_id']} does not exist")
    if "custom_fields" in payload or "fields" in payload:
        values = {int(c["id"]): c.get("value") for c in (doc.get("custom_fields") or [])}
        for entry in (payload.get("custom_fields") or []) + (payload.get("fields") or []):
            if not isinstance(entry, dict) or not str(entry.get("id", "")).isdigit():
                raise invalid("custom_fields", "each entry needs an id and a value")
            if store.get("ticket_field", entry["id"]) is None:
                raise invalid("custom_fields", f"ticket field {entry['id']} does not exist")
            values[int(entry["id"])] = entry.get("value")
        doc["custom_fields"] = [{"id": k, "value": v} for k, v in sorted(values.items())]
        doc["fields"] = doc["custom_fields"]
    doc["raw_subject"] = doc.get("subject")
    if comment is not None:
        author = payload["comment"].get("author_id") if isinstance(payload.get("comment"), dict) else None
        if author is not None and store.get("user", author) is None and author != ADMIN_USER_ID:
            raise invalid("comment", f"author {author} does not exist")
        doc["_comments"] = list(doc.get("_comments") or []) + [
            {"body": comment[0], "public": comment[1], "author_id": author or ADMIN_USER_ID}]
    return doc


SLA_METRICS = {"first_reply_time", "next_reply_time", "periodic_update_time", "pausable_update_time",
               "requester_wait_time", "agent_work_time"}


def build_sla_policy(payload: dict, existing: dict | None, store: Store) -> dict:
    """SLA policies: title, filter (all/any conditions), policy_metrics with known metric and priority."""
    doc = _merged(payload, existing, ("title", "description", "position", "filter", "policy_metrics"))
    _require_text(doc, "title")
    flt = doc.get("filter")
    if not isinstance(flt, dict):
        raise blank("filter")
    doc["filter"] = {"all": list(flt.get("all") or []), "any": list(flt.get("any") or [])}
    metrics = doc.get("policy_metrics") or []
    if not isinstance(metrics, list):
        raise invalid("policy_metrics", "must be a list")
    for metric in metrics:
        if metric.get("metric") not in SLA_METRICS:
            raise invalid("policy_metrics", f"{metric.get('metric')!r} is not an SLA metric")
        if metric.get("priority") not in {"low", "normal", "high", "urgent"}:
            raise invalid("policy_metrics", f"{metric.get('priority')!r} is not a priority")
        if not isinstance(metric.get("target"), int) or metric["target"] <= 0:
            raise invalid("policy_metrics", "target must be a positive number of minutes")
        metric.setdefault("business_hours", False)
    doc.setdefault("description", "")
    doc.setdefault("position", store.count("sla_policy") + 1)
    return doc


def placeholder_for(name: str) -> str:
    """The `{{dc.<name>}}` placeholder Zendesk derives from a dynamic content item's name."""
    return "{{dc." + re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_") + "}}"


def build_dynamic_content_item(payload: dict, existing: dict | None, store: Store) -> dict:
    """Dynamic content items: a unique name, a default locale and, on create, variants with content."""
    doc = _merged(payload, existing, ("name", "default_locale_id"))
    _require_text(doc, "name")
    _unique(store, "dynamic_content_item", "name", doc["name"], existing)
    if not isinstance(doc.get("default_locale_id"), int):
        raise blank("default_locale_id")
    if existing is None:
        raw = payload.get("variants")
        if not raw and payload.get("content"):
            raw = [{"locale_id": doc["default_locale_id"], "default": True, "content": payload["content"]}]
        if not raw:
            raise blank("variants")
        doc["variants"] = [build_variant(v, None, store, []) for v in raw]
        if not any(v["default"] for v in doc["variants"]):
            for v in doc["variants"]:
                v["default"] = v["locale_id"] == doc["default_locale_id"]
    doc["placeholder"] = placeholder_for(doc["name"])
    doc.setdefault("outdated", False)
    return doc


def build_variant(payload: dict, existing: dict | None, store: Store, siblings: list[dict]) -> dict:
    """One dynamic content variant: content and a locale not used by another variant of the item."""
    doc = _merged(payload, existing, ("content", "locale_id", "active", "default"))
    _require_text(doc, "content")
    if not isinstance(doc.get("locale_id"), int):
        raise blank("locale_id")
    own = existing.get("id") if existing else None
    if any(v["locale_id"] == doc["locale_id"] and v["id"] != own for v in siblings):
        raise invalid("locale_id", f"a variant for locale {doc['locale_id']} already exists", "DuplicateValue")
    now = store.now()
    doc.setdefault("id", store.next_ids("dynamic_content_variant")[0])
    doc.setdefault("active", True)
    doc.setdefault("default", False)
    doc.setdefault("outdated", False)
    doc.setdefault("created_at", iso(now))
    doc["updated_at"] = iso(now)
    return doc


DEFAULT_INTERVALS = [{"start_time": 1980 + day * 1440, "end_time": 2460 + day * 1440} for day in range(5)]


def check_intervals(intervals: Any) -> list[dict]:
    """Workweek intervals: minutes since Sunday 00:00, start < end, none spanning a calendar day."""
    if not isinstance(intervals, list) or not intervals:
        raise blank("intervals")
    for interval in intervals:
        start, end = interval.get("start_time"), interval.get("end_time")
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= 10080:
            raise invalid("intervals", f"{interval} is not a start_time < end_time within the week (0..10080 minutes)")
        if start // 1440 != (end - 1) // 1440:
            raise invalid("intervals", f"{interval} spans more than one calendar day")
    return [{"start_time": i["start_time"], "end_time": i["end_time"]} for i in intervals]


def build_schedule(payload: dict, existing: dict | None, store: Store) -> dict:
    """Schedules: name and time_zone; intervals default to Mon–Fri 9:00–17:00 (holidays live under
    `/holidays`, not in the schedule's JSON)."""
    doc = _merged(payload, existing, ("name", "time_zone"))
    _require_text(doc, "name")
    _require_text(doc, "time_zone")
    doc.setdefault("intervals", DEFAULT_INTERVALS)
    if "intervals" in payload:
        doc["intervals"] = check_intervals(payload["intervals"])
    doc.setdefault("_holidays", [])  # served by /holidays only, as Zendesk does
    return doc


def build_trigger_category(payload: dict, existing: dict | None, store: Store) -> dict:
    """Trigger categories: a name; position defaults to the end."""
    doc = _merged(payload, existing, ("name", "position"))
    _require_text(doc, "name")
    doc.setdefault("position", store.count("trigger_category"))
    return doc


def build_ticket_form(payload: dict, existing: dict | None, store: Store) -> dict:
    """Ticket forms: a name, ticket fields that exist, and conditions (`agent_conditions`,
    `end_user_conditions`) whose parent and child fields are fields of the form, a parent never its own
    child, and a dropdown parent's value one of its options."""
    doc = _merged(payload, existing, ("name", "display_name", "active", "end_user_visible", "default", "position",
                                      "in_all_brands", "ticket_field_ids", "agent_conditions", "end_user_conditions"))
    _require_text(doc, "name")
    ids = doc.get("ticket_field_ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise invalid("ticket_field_ids", "must be a list of ticket field ids")
    fields = {}
    for field_id in ids:
        found = store.get("ticket_field", field_id)
        if found is None:
            raise invalid("ticket_field_ids", f"ticket field {field_id} does not exist")
        fields[field_id] = found
    for attribute in ("agent_conditions", "end_user_conditions"):
        conditions = doc.get(attribute) or []
        if not isinstance(conditions, list):
            raise invalid(attribute, "must be a list of conditions")
        for condition in conditions:
            parent = condition.get("parent_field_id") if isinstance(condition, dict) else None
            if parent not in fields:
                raise invalid(attribute, f"parent field {parent} is not a field of this form")
            options = {str(o.get("value")) for o in fields[parent].get("custom_field_options") or []}
            if fields[parent].get("type") == "tagger" and str(condition.get("value")) not in options:
                raise invalid(attribute, f"value {condition.get('value')!r} is not an option of field {parent}")
            children = condition.get("child_fields")
            if not isinstance(children, list) or not children:
                raise invalid(attribute, "each condition needs child_fields")
            for child in children:
                child_id = child.get("id") if isinstance(child, dict) else None
                if child_id not in fields or child_id == parent:
                    raise invalid(attribute, f"child field {child_id} is not another field of this form")
                child.setdefault("is_required", False)
    doc.setdefault("display_name", doc["name"])
    doc.setdefault("active", True)
    doc.setdefault("end_user_visible", True)
    doc.setdefault("default", False)
    doc.setdefault("in_all_brands", True)
    doc.setdefault("ticket_field_ids", [])
    doc.setdefault("agent_conditions", [])
    doc.setdefault("end_user_conditions", [])
    doc.setdefault("position", len(store.all("ticket_form")) + (0 if existing else 1))
    return doc


BUILDERS = {
    "trigger": build_trigger, "automation": build_automation, "macro": build_macro, "view": build_view,
    "group": build_group, "ticket_field": build_ticket_field, "organization_field": build_organization_field,
    "organization": build_organization, "user": build_user, "ticket": build_ticket, "sla_policy": build_sla_policy,
    "dynamic_content_item": build_dynamic_content_item, "schedule": build_schedule,
    "trigger_category": build_trigger_category, "ticket_form": build_ticket_form,
}

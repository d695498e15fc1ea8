"""The JSON Schema (draft 2020-12) of a playbook YAML file; `deskbook schema` prints it.

The schema checks shape only: keys, types, enumerations from `deskbook.playbooks.model`.
References between elements (a macro naming a group, a condition naming a field, ...) and
rules that span elements (automations must be able to stop themselves, unique keys) are
checked by `deskbook.playbooks.loader`, which also turns every error into `file:line:column`.

Enumerated and patterned values carry a `description` that says what is expected; the
loader shows it in its messages.
"""

from __future__ import annotations

import re
from typing import Any

from deskbook.playbooks import model

SCHEMA_ID = "https://deskbook.invalid/schema/playbook.json"

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
ITEM_ID_PATTERN = r"^[SCRT]-[0-9]+$"
STAGE_PATTERN = r"^(S-[0-9]+|[a-z][a-z0-9_]*)$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
WEEKDAYS = model.WEEKDAY_NAMES
SYNC_JOB_NAMES = ("renewals", "callbacks", "followups")
CADENCES = ("monthly", "quarterly", "after_first_service", "none")
SCOPES = ("ticket", "organization")
#: Element kinds a representation (or the coverage table) may point at: "<kind>.<key>".
ELEMENT_KINDS = ("groups", "fields", "categories", "tiers", "macros", "triggers", "automations",
                 "sla_policies", "views", "sync")


def _words(values) -> str:
    return ", ".join(values)


def _enum(values, what: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": f"{what}: one of {_words(values)}"}


def _pattern(pattern: str, expected: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern, "description": expected}


def _object(properties: dict[str, Any], required: list[str], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }
    if description:
        out["description"] = description
    return out


def _field_ref_pattern(names) -> str:
    alternatives = "|".join(re.escape(n) for n in names)
    return rf"^({alternatives}|field\.[a-z][a-z0-9_]*)$"


def playbook_schema() -> dict[str, Any]:
    """The playbook JSON Schema as a dict (fresh copy on every call)."""
    key = _pattern(KEY_PATTERN, "a key: lower-case letters, digits and _ , starting with a letter (e.g. technical_support)")
    implements = {
        "type": "array",
        "items": _pattern(ITEM_ID_PATTERN, "a process item id such as S-2, C-1, R-4 or T-3"),
        "uniqueItems": True,
        "description": "ids of ../shared/sop/standard-process.md items this element implements",
    }
    localized = {"$ref": "#/$defs/localized"}
    conditions = {"$ref": "#/$defs/conditions"}
    actions = {"type": "array", "items": {"$ref": "#/$defs/action"}}
    comment = {"$ref": "#/$defs/comment"}

    defs: dict[str, Any] = {
        "localized": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _pattern(LOCALE_PATTERN, "a locale such as zh-CN or en"),
            "additionalProperties": {"type": "string", "minLength": 1},
            "description": "text per locale, e.g. {zh-CN: 技术支持, en: Technical support}",
        },
        "condition": _object(
            {
                "field": _pattern(
                    _field_ref_pattern(model.CONDITION_FIELDS),
                    f"a condition field: one of {_words(model.CONDITION_FIELDS)}, or field.<field key>",
                ),
                "operator": _enum(model.OPERATORS, "an operator"),
                "value": {"description": "the value compared with (a key, a list of tags, a number of hours, ...)"},
            },
            ["field", "operator"],
        ),
        "conditions": _object(
            {
                "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
                "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}},
            },
            [],
            "all of `all` and at least one of `any`",
        ),
        "action": _object(
            {
                "field": _pattern(
                    _field_ref_pattern(model.ACTION_FIELDS),
                    f"an action field: one of {_words(model.ACTION_FIELDS)}, or field.<field key>",
                ),
                "value": {"description": "the value set (a key, a list of tags, ...)"},
            },
            ["field", "value"],
        ),
        "comment": _object(
            {
                "phrase": _pattern(KEY_PATTERN, "an approved phrase id (see `deskbook scripts list`)"),
                "public": {"type": "boolean"},
            },
            ["phrase"],
        ),
        "category": _object(
            {
                "key": key,
                "name": localized,
                "description": localized,
                "default_group": key,
                "implements": implements,
                "subcategories": {"type": "array", "items": {"$ref": "#/$defs/category"}},
            },
            ["key", "name", "description"],
        ),
    }

    properties: dict[str, Any] = {
        "metadata": _object(
            {
                "name": _pattern(r"^[a-z][a-z0-9-]*$", "a machine name such as standard-service"),
                "version": {"type": "string", "minLength": 1, "description": "a version string; quote it (\"1.0\")"},
                "title": localized,
                "description": localized,
                "locales": {"type": "array", "minItems": 1, "uniqueItems": True,
                            "items": _pattern(LOCALE_PATTERN, "a locale such as zh-CN or en")},
                "default_locale": _pattern(LOCALE_PATTERN, "a locale such as zh-CN or en"),
                "time_zone": {"type": "string", "minLength": 1, "description": "an IANA time zone such as Asia/Shanghai"},
                "business_hours": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object(
                        {
                            "days": {"type": "array", "minItems": 1, "uniqueItems": True,
                                     "items": _enum(WEEKDAYS, "a weekday")},
                            "start": _pattern(TIME_PATTERN, "a time HH:MM (quote it: \"09:00\")"),
                            "end": _pattern(TIME_PATTERN, "a time HH:MM (quote it: \"18:00\")"),
                        },
                        ["days", "start", "end"],
                    ),
                },
                "holidays": {
                    "type": "array",
                    "items": _object(
                        {
                            "name": {"type": "string", "minLength": 1},
                            "start": _pattern(DATE_PATTERN, "a date YYYY-MM-DD"),
                            "end": _pattern(DATE_PATTERN, "a date YYYY-MM-DD"),
                        },
                        ["name", "start", "end"],
                    ),
                },
                "extra_workdays": {
                    "type": "array",
                    "description": "make-up working days (调休上班): closed weekdays on which staff work",
                    "items": _object(
                        {
                            "date": _pattern(DATE_PATTERN, "a date YYYY-MM-DD"),
                            "name": {"type": "string", "minLength": 1},
                        },
                        ["date", "name"],
                    ),
                },
            },
            ["name", "version", "title", "description", "locales", "default_locale", "time_zone", "business_hours"],
        ),
        "stages": {
            "type": "array",
            "items": _object({"id": _pattern(STAGE_PATTERN, "a stage id such as S-2 (or a key such as complaints)"), "title": localized}, ["id", "title"]),
        },
        "category_field": key,
        "groups": {
            "type": "array",
            "items": _object(
                {"key": key, "name": localized, "description": localized, "implements": implements},
                ["key", "name", "description"],
            ),
        },
        "fields": {
            "type": "array",
            "items": _object(
                {
                    "key": key,
                    "scope": _enum(SCOPES, "a field scope"),
                    "type": _enum(model.FIELD_TYPES, "a field type"),
                    "title": localized,
                    "description": localized,
                    "required": {"type": "boolean"},
                    "options": {
                        "type": "array",
                        "items": _object({"value": key, "label": localized}, ["value", "label"]),
                    },
                    "regexp": {"type": "string", "minLength": 1},
                    "implements": implements,
                },
                ["key", "scope", "type", "title", "description"],
            ),
        },
        "categories": {"type": "array", "items": {"$ref": "#/$defs/category"}},
        "tiers": {
            "type": "array",
            "items": _object(
                {"key": key, "name": localized, "callback": _enum(CADENCES, "a callback cadence"), "implements": implements},
                ["key", "name", "callback"],
            ),
        },
        "trigger_categories": {
            "type": "array",
            "items": _object({"key": key, "title": localized}, ["key", "title"]),
        },
        "macros": {
            "type": "array",
            "items": _object(
                {
                    "key": key,
                    "stage": _pattern(STAGE_PATTERN, "a stage id such as S-2 (or a key such as complaints)"),
                    "title": localized,
                    "description": localized,
                    "comment": comment,
                    "actions": actions,
                    "implements": implements,
                },
                ["key", "stage", "title", "description"],
            ),
        },
        "triggers": {
            "type": "array",
            "items": _object(
                {
                    "key": key,
                    "title": localized,
                    "description": localized,
                    "category": key,
                    "conditions": conditions,
                    "actions": actions,
                    "comment": comment,
                    "implements": implements,
                },
                ["key", "title", "description", "category", "conditions", "actions"],
            ),
        },
        "automations": {
            "type": "array",
            "items": _object(
                {
                    "key": key,
                    "title": localized,
                    "description": localized,
                    "conditions": conditions,
                    "actions": actions,
                    "comment": comment,
                    "implements": implements,
                },
                ["key", "title", "description", "conditions", "actions"],
            ),
        },
        "sla_policies": {
            "type": "array",
            "items": _object(
                {
                    "key": key,
                    "title": localized,
                    "description": localized,
                    "filter": conditions,
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": _object(
                            {
                                "metric": _enum(model.SLA_METRICS, "an SLA metric"),
                                "priority": _enum(model.PRIORITIES, "a priority"),
                                "minutes": {"type": "integer", "minimum": 1, "description": "whole minutes, at least 1"},
                                "business_hours": {"type": "boolean"},
                            },
                            ["metric", "priority", "minutes"],
                        ),
                    },
                    "implements": implements,
                },
                ["key", "title", "description", "filter", "targets"],
            ),
        },
        "views": {
            "type": "array",
            "items": _object(
                {
                    "key": key,
                    "title": localized,
                    "description": localized,
                    "conditions": conditions,
                    "columns": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                    "sort_by": {"type": "string", "minLength": 1},
                    "sort_order": _enum(("asc", "desc"), "a sort order"),
                    "implements": implements,
                },
                ["key", "title", "description", "conditions"],
            ),
        },
        "sync": _object(
            {
                "run_at": _pattern(TIME_PATTERN, "a local time HH:MM (quote it: \"09:00\")"),
                "renewal_lead_days": {"type": "integer", "minimum": 1},
                "followup_after_days": {"type": "integer", "minimum": 1},
                "contract_end_field": key,
                "tier_field": key,
                "jobs": {
                    "type": "array",
                    "items": _object(
                        {
                            "name": _enum(SYNC_JOB_NAMES, "a sync job"),
                            "group": key,
                            "phrase": _pattern(KEY_PATTERN, "an approved phrase id (see `deskbook scripts list`)"),
                            "tags": {"type": "array", "items": _pattern(r"^[a-z0-9_]+$", "a tag: lower-case letters, digits and _")},
                            "priority": _enum(model.PRIORITIES, "a priority"),
                            "implements": implements,
                        },
                        ["name", "group", "phrase"],
                    ),
                },
            },
            ["run_at", "renewal_lead_days", "followup_after_days", "contract_end_field", "tier_field", "jobs"],
        ),
        "forbidden_phrases": {
            "type": "object",
            "propertyNames": _pattern(LOCALE_PATTERN, "a locale such as zh-CN or en"),
            "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
        "representations": {
            "type": "array",
            "items": _object(
                {
                    "item": _pattern(ITEM_ID_PATTERN, "a process item id such as S-2"),
                    "requirement": {"type": "string", "minLength": 1},
                    "represented_by": {
                        "type": "array",
                        "minItems": 1,
                        "items": _pattern(
                            rf"^({'|'.join(ELEMENT_KINDS)})\.[a-z][a-z0-9_]*$",
                            f"an element reference <kind>.<key>, kind one of {_words(ELEMENT_KINDS)}",
                        ),
                    },
                    "note": {"type": "string"},
                },
                ["item", "requirement", "represented_by"],
            ),
        },
        "extra": {"type": "object", "description": "free-form settings for other parts (e.g. sync_values)"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "deskbook playbook",
        "description": "A customer-service playbook: the desired state deskbook installs into a help desk.",
        "type": "object",
        "additionalProperties": False,
        "required": ["metadata", "groups", "fields", "categories", "tiers", "macros", "sync"],
        "properties": properties,
        "$defs": defs,
    }

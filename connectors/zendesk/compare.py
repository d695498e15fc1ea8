"""Zendesk drift by meaning: is the object in the desk what the playbook wants?

Zendesk answers a write with the object in its own read shape: top-level `all`/`any` move
into `conditions` (views: `output` becomes `execution`), ids come back as strings or ints,
`category_id` is filled in, read-only and default keys appear (`url`, `position`, `raw_title`,
`created_at`, `is_public`, `restriction`...), and list order (conditions, options, variants,
SLA metrics) is not guaranteed. `normalize(kind, payload)` maps both sides onto one canonical
form; `compare` then looks only at what the playbook sets, so defaults Zendesk adds are not
drift, and returns readable differences such as `title: "A" -> "B"` (desk -> playbook).

`parse_marker` / `ownership` read the ownership marker back (see `translate.py` for where it
lives per kind).
"""

from __future__ import annotations

import json
import re
from typing import Any

from deskbook.connectors.zendesk.translate import slug
from deskbook import marker
from deskbook.plan import DesiredObject, ExistingObject, diff_line, resolve_refs

_DC_NAME_RE = re.compile(r"^deskbook__(?P<playbook>[a-z0-9_]+?)__(?P<key>[a-z0-9_]+)$")

#: Keys Zendesk adds on read (or that deskbook never manages): never drift.
READ_ONLY = {
    "id", "url", "created_at", "updated_at", "position", "default", "deleted", "outdated", "placeholder",
    "raw_title", "raw_description", "raw_name", "raw_title_in_portal", "system", "removable",
    "agent_can_edit", "creator_user_id", "creator_app_name", "custom_statuses", "system_field_options",
}
#: What Zendesk assumes when a key is absent, per key (absent == default is not drift).
DEFAULTS: dict[str, Any] = {
    "active": True,
    "restriction": None,
    "is_public": True,
    "required": False,
    "description": "",
    "regexp_for_validation": None,
}
_TAG_FIELDS = {"current_tags", "set_tags", "remove_tags"}
#: Where each kind keeps its marker.
MARKER_ATTRIBUTE = {
    "group": "description",
    "ticket_field": "description",
    "organization_field": "description",
    "schedule": "name",
    "ticket_form": "name",
    "dynamic_content": "name",
    "trigger_category": "name",
    "trigger": "description",
    "macro": "description",
    "automation": "title",
    "sla_policy": "description",
    "view": "description",
}


# ---------------------------------------------------------------- markers


def parse_marker(text: str | None) -> tuple[str, str] | None:
    """(playbook, key) from the last `[deskbook:<playbook>:<key>]` in `text`, or from a managed
    dynamic content item name `deskbook__<playbook slug>__<key>` (then the playbook is its slug);
    None when there is no marker."""
    if not text:
        return None
    found = marker.parse_marker(text)
    if found:
        return found
    dc = _DC_NAME_RE.match(text.strip())
    if dc:
        return dc["playbook"], dc["key"]
    return None


def ownership(kind: str, payload: dict[str, Any], playbook: str | None = None) -> tuple[str, str] | None:
    """(owner playbook, key) of a desk object from its marker attribute, or None when unmanaged.

    Dynamic content names carry the playbook as a slug; pass the playbook being planned to get
    its real name back when the slug matches.
    """
    attribute = MARKER_ATTRIBUTE.get(kind, "description")
    found = parse_marker(payload.get(attribute))
    if found and kind == "dynamic_content" and playbook and found[0] == slug(playbook):
        return playbook, found[1]
    return found


def display_name(kind: str, payload: dict[str, Any]) -> str:
    """The human name of a desk object (title or name)."""
    return str(payload.get("title") or payload.get("name") or "")


# ---------------------------------------------------------------- normalization


def _scalar(value: Any) -> Any:
    """Ids and numbers as text, booleans as "true"/"false", None as ""."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _tags(value: Any) -> str:
    items = value if isinstance(value, (list, tuple)) else str(value or "").split()
    return " ".join(sorted({str(v) for v in items}))


def _value(field: str, value: Any) -> Any:
    if field in ("comment_value", "comment_value_html") and isinstance(value, (list, tuple)) and len(value) == 2:
        value = value[1]  # Zendesk may answer ["channel:all", text] for a macro comment
    if field in _TAG_FIELDS:
        return _tags(value)
    if field.startswith("notification_") and isinstance(value, (list, tuple)):
        return [_scalar(v) for v in value]  # [recipient, subject, body]: order is meaning
    if isinstance(value, (list, tuple)):
        return sorted(_scalar(v) for v in value)
    return _scalar(value)


def _condition(c: dict[str, Any]) -> dict[str, Any]:
    field = str(c.get("field", ""))
    return {"field": field, "operator": str(c.get("operator", "")), "value": _value(field, c.get("value"))}


def _sorted(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, ensure_ascii=False))


def _conditions(block: Any) -> dict[str, list[dict[str, Any]]]:
    block = block or {}
    return {part: _sorted([_condition(c) for c in (block.get(part) or [])]) for part in ("all", "any")}


def _actions(actions: Any) -> list[dict[str, Any]]:
    out = []
    for a in actions or []:
        field = str(a.get("field", ""))
        out.append({"field": field, "value": _value(field, a.get("value"))})
    return _sorted(out)


def _view_output(payload: dict[str, Any]) -> dict[str, Any]:
    """`output` (write shape) or `execution` (read shape) as {columns, sort_by, sort_order, group_by...}."""
    if "output" in payload and payload["output"] is not None:
        src = payload["output"]
        columns = src.get("columns") or []
    else:
        src = payload.get("execution") or {}
        columns = src.get("columns") or []
    out: dict[str, Any] = {"columns": [_scalar(c.get("id") if isinstance(c, dict) else c) for c in columns]}
    sort_by = src.get("sort_by")
    if sort_by is None and isinstance(src.get("sort"), dict):
        sort_by = src["sort"].get("id")
    for key, value in (("sort_by", sort_by), ("sort_order", src.get("sort_order")),
                       ("group_by", src.get("group_by")), ("group_order", src.get("group_order"))):
        if value is not None:
            out[key] = _scalar(value)
    return out


def normalize(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` (write or read shape) in the canonical form `compare` diffs."""
    out = {k: v for k, v in (payload or {}).items() if k not in READ_ONLY}
    if kind in ("trigger", "automation", "view"):
        cond_src = dict(out.pop("conditions", None) or {})
        for part in ("all", "any"):
            if part in out:
                cond_src[part] = out.pop(part)
        out["conditions"] = _conditions(cond_src)
    if kind in ("trigger", "automation", "macro"):
        out["actions"] = _actions(out.get("actions"))
    if kind == "trigger" and out.get("category_id") is not None:
        out["category_id"] = _scalar(out["category_id"])
    if kind == "view" and (out.get("output") is not None or out.get("execution") is not None):
        out["output"] = _view_output(out)
    out.pop("execution", None)
    if kind == "sla_policy":
        out["filter"] = _conditions(out.get("filter"))
        out["policy_metrics"] = sorted(
            ({"priority": str(pm.get("priority")), "metric": str(pm.get("metric")),
              "target": int(pm.get("target") or 0), "business_hours": bool(pm.get("business_hours", False))}
             for pm in out.get("policy_metrics") or []),
            key=lambda pm: (pm["metric"], pm["priority"]),
        )
    if kind == "ticket_form":
        # field order is display order (kept); conditions and their children compare as sets
        out["ticket_field_ids"] = " ".join(_scalar(i) for i in out.get("ticket_field_ids") or [])
        for part in ("agent_conditions", "end_user_conditions"):
            if part in out:
                out[part] = sorted(
                    ({"parent_field_id": _scalar(c.get("parent_field_id")), "value": _scalar(c.get("value")),
                      "child_fields": " ".join(sorted(f"{_scalar(f.get('id'))}:{bool(f.get('is_required'))}"
                                                      for f in c.get("child_fields") or []))}
                     for c in out[part] or []),
                    key=lambda c: (c["parent_field_id"], c["value"]))
    if kind in ("ticket_field", "organization_field"):
        if out.get("type") == "dropdown" and kind == "ticket_field":
            out["type"] = "tagger"
        if "custom_field_options" in out:
            out["custom_field_options"] = _sorted(
                [{"name": str(o.get("name")), "value": str(o.get("value"))} for o in out["custom_field_options"] or []]
            )
    if kind == "dynamic_content":
        if out.get("default_locale_id") is not None:
            out["default_locale_id"] = int(out["default_locale_id"])
        out["variants"] = sorted(
            ({"locale_id": int(v.get("locale_id")), "content": str(v.get("content", "")).replace("\r\n", "\n").strip(),
              "default": bool(v.get("default", False)), "active": bool(v.get("active", True))}
             for v in out.get("variants") or []),
            key=lambda v: v["locale_id"],
        )
    if kind == "schedule":
        out["intervals"] = sorted(
            ({"start_time": int(i["start_time"]), "end_time": int(i["end_time"])} for i in out.get("intervals") or []),
            key=lambda i: i["start_time"],
        )
    if kind == "schedule" and "holidays" in out:
        days = {(str(h.get("start_date")), str(h.get("name")), str(h.get("end_date"))) for h in out.get("holidays") or []}
        out["holidays"] = [{"name": n, "start_date": start, "end_date": end} for start, n, end in sorted(days)]
    if isinstance(out.get("description"), str):
        out["description"] = out["description"].replace("\r\n", "\n").strip()
    return out


# ---------------------------------------------------------------- comparison


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff_list(path: str, have: list[Any], want: list[Any]) -> list[str]:
    """Added/removed items of an order-free list of objects."""
    have_keys = [_show(x) for x in have]
    want_keys = [_show(x) for x in want]
    out = [f"{path}: remove {k}" for k in have_keys if k not in want_keys]
    out += [f"{path}: add {k}" for k in want_keys if k not in have_keys]
    return out


def _diff(path: str, have: Any, want: Any) -> list[str]:
    if isinstance(want, dict) and isinstance(have, dict):
        out: list[str] = []
        for key, value in want.items():
            sub = f"{path}.{key}" if path else key
            if key not in have:
                if key in DEFAULTS and DEFAULTS[key] == value:
                    continue
                out.append(diff_line(sub, "(not set)", _show(value)))
                continue
            out.extend(_diff(sub, have[key], value))
        return out
    if (isinstance(want, list) and isinstance(have, list) and want and all(isinstance(x, dict) for x in want)
            and all(isinstance(x, dict) for x in have)):
        return _diff_list(path, have, want)
    if have != want:
        if (have in (None, "") and want in (None, "")) or (have is None and DEFAULTS.get(path) == want):
            return []
        return [diff_line(path, _show(have), _show(want))]
    return []


def compare(desired: DesiredObject, existing: ExistingObject, ids: dict[tuple[str, str], Any] | None = None) -> list[str]:
    """Differences between what the desk has and what the playbook wants (empty = same meaning).

    Symbolic refs in the desired payload are resolved with `ids` first; a ref to an object that
    has no id yet stays symbolic and so shows as a difference.
    """
    want_raw = resolve_refs(desired.payload, ids or {}, strict=False)
    want = normalize(desired.kind, want_raw)
    have = normalize(existing.kind, existing.payload)
    if desired.kind == "dynamic_content" and "variants" in want and "variants" in have:
        # Variants in locales the playbook does not speak (added by hand) are left alone by
        # apply, so they are not drift either.
        locales = {v["locale_id"] for v in want["variants"]}
        have["variants"] = [v for v in have["variants"] if v["locale_id"] in locales]
    if desired.kind == "schedule" and "holidays" not in have:
        want.pop("holidays", None)  # Zendesk lists holidays at their own endpoint, not in the schedule
    return _diff("", have, want)


def comparator(ids: dict[tuple[str, str], Any]):
    """`compare` bound to `ids`, in the two-argument shape `deskbook.plan.build_plan` takes."""
    return lambda desired, existing: compare(desired, existing, ids)

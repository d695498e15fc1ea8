"""`deskbook export` and `deskbook restore`: one backup format for both desks, and the way back.

The document (this module owns it)::

    {"format": "deskbook-export", "version": 1, "desk": "zendesk" | "jsm", "url": ..., "exported_at": ...,
     "project": "SUP" (JSM only), "objects": {<kind>: [<the desk's own JSON of each object>, ...]}}

`<kind>` is the plan's kind name (`group`, `ticket_field`, `macro`, ... on Zendesk; `request_type`,
`automation_rule`, `organization`, and with `--allow-internal-api` `sla_metric`, `calendar`, `queue` on
JSM), so a backup reads like a plan.

`restore` writes back what the desk lets deskbook write, Zendesk configuration only, in
dependency order (`translate.KIND_ORDER`): an object whose id still exists (or, when its id is
gone, an object of the same kind and name that is not itself in the backup) is updated back to
its backed-up content when it differs by meaning (`compare.normalize`); one that no longer exists
is created again (a new id), and the references other restored objects make to it (group ids in
conditions and actions, `custom_fields_<id>`, a trigger's `category_id`) are re-pointed to the
new id. Nothing is deleted: objects made after the backup stay. Without `--doit` it only lists
what it would write (exit 2 when something, 0 when the desk already matches). What cannot be
restored (README, "Backups"): tickets, users and organizations (the export holds configuration),
references to a re-created object from outside the backup, and anything on JSM, which cannot
update a request type and whose rules and SLA goals do not round-trip through its public API.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from deskbook.errors import DeskbookError

FORMAT = "deskbook-export"
VERSION = 1
#: Attributes Zendesk sets itself: never sent back.
READ_ONLY = ("id", "url", "created_at", "updated_at", "raw_title", "raw_description", "raw_name",
             "raw_display_name", "raw_position")
_CUSTOM_FIELD = re.compile(r"^custom_fields_(\d+)$")


def export_document(connector: Any) -> dict[str, Any]:
    """The backup of the desk behind `connector` in the one format above."""
    exported = connector.export()
    document = {"format": FORMAT, "version": VERSION, "desk": connector.desk,
                "url": exported.get("url"), "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    if exported.get("project"):
        document["project"] = exported["project"]
    document["objects"] = {kind: list(items) for kind, items in exported["objects"].items() if items is not None}
    return document


def read_document(path: str) -> dict[str, Any]:
    """A backup file, checked to be this format (DeskbookError naming the file otherwise)."""
    try:
        text = Path(path).read_text(encoding="utf-8") if path != "-" else __import__("sys").stdin.read()
        document = json.loads(text)
    except OSError as exc:
        raise DeskbookError(f"cannot read the backup: {exc.strerror}", where=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeskbookError(f"not a JSON backup ({exc})", where=path, hint="give a file written by `deskbook export`") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("objects"), dict):
        raise DeskbookError("not a deskbook export", where=path, hint="give a file written by `deskbook export`")
    if document.get("version") != VERSION:
        raise DeskbookError(f"backup format version {document.get('version')!r} is not {VERSION}", where=path)
    return document


def writable(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without the attributes Zendesk sets itself (nor empty ones: Zendesk answers `null` for
    attributes it refuses `null` for on a write)."""
    return {k: v for k, v in obj.items() if k not in READ_ONLY and v is not None}


def repoint(value: Any, new_ids: dict[tuple[str, str], Any]) -> Any:
    """`value` with references to re-created objects (by their backed-up id) pointing at the new ids."""
    if isinstance(value, list):
        return [repoint(v, new_ids) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    field = value.get("field")
    for key, item in value.items():
        if key == "field" and isinstance(item, str):
            match = _CUSTOM_FIELD.match(item)
            if match and ("ticket_field", match.group(1)) in new_ids:
                item = f"custom_fields_{new_ids[('ticket_field', match.group(1))]}"
        elif key == "value" and field == "group_id" and ("group", str(item)) in new_ids:
            item = _same_type(item, new_ids[("group", str(item))])
        elif key == "category_id" and ("trigger_category", str(item)) in new_ids:
            item = _same_type(item, new_ids[("trigger_category", str(item))])
        elif key == "group_id" and ("group", str(item)) in new_ids:
            item = _same_type(item, new_ids[("group", str(item))])
        out[key] = repoint(item, new_ids)
    return out


def _same_type(old: Any, new: Any) -> Any:
    return str(new) if isinstance(old, str) else new


def restore_zendesk(connector: Any, document: dict[str, Any], *, doit: bool) -> list[dict[str, Any]]:
    """Restore (or with `doit=False` only list) the Zendesk configuration in `document`; the steps."""
    from deskbook.connectors.zendesk import compare as zcompare

    objects = document["objects"]
    unknown = sorted(set(objects) - set(connector.kind_order))
    if unknown:
        raise DeskbookError(f"the backup holds kinds this desk does not know: {', '.join(unknown)}",
                            hint="restore a backup made by `deskbook export --desk zendesk`")
    new_ids: dict[tuple[str, str], Any] = {}
    steps = []
    for kind in connector.kind_order:
        saved = objects.get(kind) or []
        if not saved:
            continue
        current = {str(o.get("id")): o for o in connector.list_kind(kind)}
        saved_ids = {str(o.get("id")) for o in saved}
        # an object whose id is gone may have been made again (by an earlier restore or by hand):
        # the same kind and name, not itself in the backup, stands for it
        by_name = {connector.match_name(connector.display_name(kind, o)): o for i, o in current.items()
                   if i not in saved_ids}
        for obj in saved:
            old_id = str(obj.get("id"))
            name = connector.display_name(kind, obj)
            there = current.get(old_id)
            if there is None:
                there = by_name.pop(connector.match_name(name), None)
                if there is not None:
                    new_ids[(kind, old_id)] = there.get("id")
            payload = repoint(writable(kind, obj), new_ids)
            if there is not None:
                if zcompare.normalize(kind, payload) == zcompare.normalize(kind, writable(kind, there)):
                    continue
                steps.append({"action": "update", "kind": kind, "name": name, "id": str(there.get("id"))})
                if doit:
                    connector.update_object(kind, there.get("id"), payload, there, f'{kind} "{name}"')
            else:
                step = {"action": "create", "kind": kind, "name": name, "was_id": old_id, "id": None}
                steps.append(step)
                if doit:
                    made = connector.create_object(kind, payload, f'{kind} "{name}"')
                    step["id"] = made.get("id")
                    new_ids[(kind, old_id)] = made.get("id")
    return steps

"""A third desk, in memory, written only against the desk contract (`connectors/desk.py`).

It is what a new desk package would hold: a `DeskConnector` (list/create/update/delete, marker,
translation, comparison, notes) and a light `Desk` with one flag of its own (`--shelf`). The tests
register it with one line in `deskbook.connectors.registry.DESKS` and drive it through the shared
CLI commands and engine. Its objects: the playbook's groups and macros (a macro names its group by
a symbolic ref resolved at apply).
"""

from __future__ import annotations

import argparse
from typing import Any

from deskbook.connectors.base import DeskConnector
from deskbook.connectors.desk import Desk
from deskbook.errors import DeskbookError
from deskbook.marker import format_marker, parse_marker
from deskbook.plan import DesiredObject, ExistingObject

#: url -> kind -> objects: the "desk" every connection to the same URL sees.
STORES: dict[str, dict[str, list[dict[str, Any]]]] = {}
#: Every write, as (method, kind) — what the tests count.
WRITES: list[tuple[str, str]] = []


class FakeConnector(DeskConnector):
    desk = "fake"
    kind_order = ("group", "macro")

    def __init__(self, store: dict[str, list[dict[str, Any]]], shelf: str | None):
        self.store = store
        self.shelf = shelf or "main"

    def list_kind(self, kind: str) -> list[dict[str, Any]]:
        return [dict(o) for o in self.store.setdefault(kind, [])]

    def create_object(self, kind: str, payload: dict[str, Any], label: str) -> dict[str, Any]:
        WRITES.append(("create", kind))
        items = self.store.setdefault(kind, [])
        obj = {**payload, "id": 1 + max((o["id"] for o in items), default=0)}
        items.append(obj)
        return dict(obj)

    def update_object(self, kind: str, object_id: Any, payload: dict[str, Any], existing: dict[str, Any] | None,
                      label: str) -> None:
        WRITES.append(("update", kind))
        for obj in self.store.get(kind, []):
            if obj["id"] == object_id:
                obj.update(payload)

    def delete_object(self, kind: str, object_id: Any, label: str) -> None:
        WRITES.append(("delete", kind))
        self.store[kind] = [o for o in self.store.get(kind, []) if o["id"] != object_id]

    def ownership(self, kind: str, payload: dict[str, Any], playbook: str) -> tuple[str, str] | None:
        return parse_marker(payload.get("description"))

    def desired_objects(self, playbook: Any, library: Any) -> list[DesiredObject]:
        locale = playbook.metadata.default_locale
        out = [DesiredObject("group", g.key, g.name.get(locale),
                             {"name": g.name.get(locale),
                              "description": f"{g.description.get(locale)} {format_marker(playbook.name, g.key)}"})
               for g in playbook.groups]
        for macro in playbook.macros:
            group = next((a.value for a in macro.actions if a.field == "group"), None)
            payload = {"name": macro.title.get(locale),
                       "description": f"{macro.description.get(locale)} {format_marker(playbook.name, macro.key)}",
                       "group_id": {"ref": group} if group else None}
            out.append(DesiredObject("macro", macro.key, payload["name"], payload,
                                     depends_on=(("group", group),) if group else ()))
        return out

    def resolve_refs(self, payload: dict[str, Any], ids: dict) -> dict[str, Any]:
        ref = payload.get("group_id")
        if isinstance(ref, dict):
            return {**payload, "group_id": ids[("group", ref["ref"])]}
        return payload

    def compare(self, desired: DesiredObject, existing: ExistingObject, ids: dict) -> list[str]:
        want = desired.payload
        if isinstance(want.get("group_id"), dict):
            want = {**want, "group_id": ids.get(("group", want["group_id"]["ref"]))}
        return [f"{k}: {existing.payload.get(k)!r} -> {v!r}" for k, v in want.items() if existing.payload.get(k) != v]

    def plan_notes(self, plan, playbook, desired) -> list[str]:
        if playbook is None:
            return ["fake desk: uninstall"]
        return [f"fake desk: {len(playbook.macros)} macro(s) of {playbook.name} on shelf {self.shelf}"]

    def export(self) -> dict[str, Any]:
        return {"desk": self.desk, "objects": {kind: self.list_kind(kind) for kind in self.kind_order}}


class FakeDesk(Desk):
    name = "fake"
    title = "Fake"
    env = {"url": "env FAKE_URL"}

    def add_options(self, parser: argparse.ArgumentParser, command: str) -> None:
        parser.add_argument("--shelf", help="Fake: which shelf")

    def connect(self, url: str | None, email: str | None, token: str | None, **options: Any) -> FakeConnector:
        if not url:
            raise DeskbookError("fake desk: --url is missing")
        return FakeConnector(STORES.setdefault(url, {}), options.get("shelf"))


DESK = FakeDesk()

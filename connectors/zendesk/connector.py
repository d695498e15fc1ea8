"""Zendesk Support connector: populate → plan → apply over `ZendeskClient`.

The engine (order, guard, resumability) is `deskbook.connectors.base.DeskConnector`; this
module supplies Zendesk's pieces:

- populate lists each kind once through the client (cursor or offset pagination) and reads
  the ownership marker with `compare.ownership` (description, name or title per kind);
- desired objects come from `translate.desired_objects`, drift from `compare.compare`
  (by meaning), refs are resolved with `translate.resolve_refs` just before each write;
- SLA policies are ordered at the end (`reorder`): the desk's unmanaged policies keep their
  order and come first, the playbook's follow in playbook order;
- a create whose answer was lost (timeout after sending) is not repeated blindly: the kind is
  listed again and the object is looked up by its marker first.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import time
from typing import Any

from deskbook.connectors.base import DeskConnector, Snapshot
from deskbook.connectors.zendesk import compare as zcompare
from deskbook.connectors.zendesk import translate
from deskbook.connectors.zendesk.client import ENDPOINTS, ZendeskClient
from deskbook.http import DeskHTTPError
from deskbook.plan import REORDER, Change, DesiredObject, ExistingObject

log = logging.getLogger("deskbook.connectors.zendesk")

_MARKER_TEXT = re.compile(r"\s*\[deskbook:[^\[\]\s]+\]\s*$")


class ZendeskConnector(DeskConnector):
    """Plans and applies playbooks on one Zendesk account (or the sandbox)."""

    desk = "zendesk"
    kind_order = tuple(translate.KIND_ORDER)

    #: How many times to look for the object of a create whose answer was lost.
    lost_write_lookups = 2

    def __init__(self, client: ZendeskClient):
        self.client = client

    @classmethod
    def connect(cls, url: str | None = None, email: str | None = None, token: str | None = None,
                **options: Any) -> "ZendeskConnector":
        """A connector for the account named by arguments or the ZENDESK_* environment."""
        return cls(ZendeskClient(url, email, token, **options))

    @property
    def session(self):
        """The client's DeskSession (call counters)."""
        return self.client.session

    # ------------------------------------------------------------ desk I/O

    def list_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of `kind`; SLA policies sorted by position (their order matters)."""
        items = self.client.list(kind)
        if kind == "sla_policy":
            items.sort(key=lambda p: (p.get("position") or 0, p.get("id") or 0))
        return items

    def create_object(self, kind: str, payload: dict[str, Any], label: str) -> dict[str, Any]:
        """Create; after a lost answer, find the object by marker before creating again."""
        try:
            return self.client.create(kind, payload, label=label)
        except DeskHTTPError as exc:
            if not exc.ambiguous:
                raise
            wanted = zcompare.ownership(kind, payload)
            log.warning("%s: the create's answer was lost; looking it up by its marker", label)
            for attempt in range(self.lost_write_lookups):
                # give the desk the time it may still need to finish the lost create
                time.sleep(self.client.session.timeout if attempt == 0 else self.client.session.timeout * 2)
                for obj in self.client.list(kind):
                    if wanted and zcompare.ownership(kind, obj) == wanted:
                        if kind in ("schedule", "dynamic_content"):  # created in several steps: finish them
                            self.client.update(kind, obj["id"], payload, existing=obj, label=label)
                        return obj
            # Not there: create again (should the first still land, the next plan deletes the copy).
            return self.client.create(kind, payload, label=label)

    def update_object(self, kind: str, object_id: Any, payload: dict[str, Any], existing: dict[str, Any] | None,
                      label: str) -> None:
        """Update one object (variants of dynamic content by locale)."""
        self.client.update(kind, object_id, payload, existing=existing, label=label)

    def delete_object(self, kind: str, object_id: Any, label: str) -> None:
        """Delete one object."""
        self.client.delete(kind, object_id, label=label)

    def ownership(self, kind: str, payload: dict[str, Any], playbook: str) -> tuple[str, str] | None:
        """(owner playbook, key) from the kind's marker attribute."""
        return zcompare.ownership(kind, payload, playbook)

    def display_name(self, kind: str, payload: dict[str, Any]) -> str:
        """Title or name as Zendesk shows it."""
        return zcompare.display_name(kind, payload)

    def match_name(self, name: str) -> str:
        """Name without a trailing ownership marker, case folded (for conflict detection)."""
        return _MARKER_TEXT.sub("", name).strip().casefold()

    def identity(self, kind: str, name: str, payload: dict[str, Any]) -> str:
        """Organization fields are unique by `key` in Zendesk; everything else by name."""
        if kind == "organization_field" and payload.get("key"):
            return "key:" + str(payload["key"]).casefold()
        return self.match_name(name)

    # ------------------------------------------------------------ translation

    def desired_objects(self, playbook: Any, library: Any) -> list[DesiredObject]:
        """The playbook as Zendesk objects (`translate.desired_objects`)."""
        return translate.desired_objects(playbook, library)

    def compare(self, desired: DesiredObject, existing: ExistingObject, ids: dict) -> list[str]:
        """Drift by meaning (`compare.compare`)."""
        return zcompare.compare(desired, existing, ids)

    def resolve_refs(self, payload: dict[str, Any], ids: dict) -> dict[str, Any]:
        """Symbolic refs → ids known so far (raises naming a ref without an id)."""
        return translate.resolve_refs(payload, ids)

    # ------------------------------------------------------------ SLA policy order

    def extra_changes(self, playbook: str, desired: list[DesiredObject], snapshot: Snapshot,
                      changes: list[Change]) -> list[Change]:
        """A `reorder` of SLA policies unless, after the plan's creates (appended by Zendesk) and
        deletes, the order is already: other policies first, then the playbook's in playbook order."""
        wanted = [d.key for d in desired if d.kind == "sla_policy"]
        if not wanted:
            return []
        deleted = {c.id for c in changes if c.kind == "sla_policy" and c.action == "delete"}
        natural: list[tuple[str, Any]] = []
        for policy in snapshot.raw.get("sla_policy", []):
            if policy.get("id") in deleted:
                continue
            owner = zcompare.ownership("sla_policy", policy, playbook)
            adopted = next((c.key for c in changes if c.kind == "sla_policy" and c.id == policy.get("id")
                            and c.action == "update" and c.key), None)
            if owner and owner[0] == playbook:
                natural.append(("mine", owner[1]))
            elif adopted:
                natural.append(("mine", adopted))
            else:
                natural.append(("other", policy.get("id")))
        natural += [("mine", c.key) for c in changes if c.kind == "sla_policy" and c.action == "create"]
        target = [t for t in natural if t[0] == "other"] + [("mine", k) for k in wanted]
        if natural == target:
            return []
        have = [k for t, k in natural if t == "mine"]
        return [Change(REORDER, "sla_policy", "SLA policy order", None,
                       desired={"order": wanted}, diff=[f"order: {have} -> {wanted}"],
                       reason="other policies first, then the playbook's in playbook order")]

    def apply_extra(self, change: Change, ids: dict, snapshot: Snapshot, done: list[Change]) -> None:
        """Send the SLA policy order (unmanaged first, then the playbook's)."""
        deleted = {c.id for c in done if c.action == "delete" and c.kind == "sla_policy"}
        managed_ids = {ids.get(("sla_policy", key)) for key in change.desired["order"]}
        others = [p["id"] for p in snapshot.raw.get("sla_policy", [])
                  if p["id"] not in deleted and p["id"] not in managed_ids]
        order = others + [ids[("sla_policy", key)] for key in change.desired["order"] if ("sla_policy", key) in ids]
        self.client.reorder_sla_policies(order)

    # ------------------------------------------------------------ export

    def export(self) -> dict[str, Any]:
        """Every business rule, field, group, schedule, dynamic content item, view and SLA policy as JSON."""
        return {
            "desk": self.desk,
            "url": self.client.url,
            "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "objects": {ENDPOINTS[kind].plural if kind != "dynamic_content" else "dynamic_content_items":
                        self.list_kind(kind) for kind in self.kind_order},
        }

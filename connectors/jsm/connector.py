"""The JSM connector: populate → plan → apply through the shared engine (`connectors/base.py`).

Kinds (`translate.KIND_ORDER`): request types, automation rules and — only with
`allow_internal_api` — SLA metrics. What JSM's API cannot do and how the connector copes:

* Request types have no update endpoint (`/servicedesk/{id}/requesttype/{typeId}` has GET and
  DELETE only), and what the playbook sets — name, description, help text — is exactly what cannot
  change. The ownership marker is not in the description (the portal shows it to customers) but in the
  request type property `translate.OWNER_PROPERTY`, read once per request type by `list_kind` and set
  after each create; a type whose only difference is that property is updated in place (PUT). An
  install by an older deskbook (marker in the description) is still owned (`translate.request_type_owner`)
  and its plan shows the move as an update. Otherwise a changed or adopted request type is a *replace*, delete +
  create (experimental API). The id changes, JSM removes the deleted type from all its requests,
  and portal groups / fields set in JSM are lost. The plan shows each one as a replace (the
  change's `reason`, plus a note), and `guard` counts the requests of every request type the plan
  replaces or deletes (JQL `translate.request_type_usage_jql`, by the type's current name) and refuses, unless `--force`,
  naming the types, their request counts and the choices. Rules' JQL names request types by name,
  so a replace with the same name breaks no rule.
* Automation rules (shape: `automation.py`) are deleted by disabling them and sending
  `DELETE /rule/{uuid}` (FACTS.md 2.12: not in the 2025 spec, used by later clients). Where
  the site answers 404/405 to it, "delete" disables the rule, removes the ownership marker
  (description) and prefixes the name with `[removed] `, so the rule is no longer managed,
  cannot run, and frees its name; an admin may delete it in the UI.
* SLA metrics, their calendars and queues have no public write API. With `allow_internal_api` they
  are planned and applied through JSM's internal endpoints (`internal.py`). The opt-in is
  remembered by the desk itself: what it installed carries the ownership marker (at the end of the
  name), and every later plan, verify and uninstall reads those kinds — also without the flag, only to
  see what deskbook owns (`INTERNAL_KINDS`). Without the flag nothing is written there: their changes
  are taken out of the plan (`plan_notes`) and a note says what is installed, whether it matches the playbook and
  that it is managed only with the flag; an uninstall without it says exactly what it leaves. A
  queue cannot be deleted for sure (FACTS.md 7.3): deskbook tries, and where the site refuses,
  retires it (renamed `[removed] …`, unmarked, JQL matching nothing).
* Without `allow_internal_api` and nothing installed, the plan carries notes with the
  exact goals (`translate.sla_notes`), and `deskbook verify --desk jsm` can read
  `GET /rest/servicedeskapi/request/{key}/sla` of a request to confirm them (`test_request_draft`
  says which test request it would raise; `raise_test_request` raises it, with `--doit` only).
* A rule's comment has one text: phrases are installed in the default locale only, and the plan
  says so (`translate.locale_notes`).
"""

from __future__ import annotations

import logging
from itertools import islice
from typing import Any

from deskbook.connectors.base import DeskConnector, Snapshot
from deskbook.connectors.jsm import internal
from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient, JsmConnection
from deskbook.errors import DeskbookError
from deskbook.http import DeskHTTPError
from deskbook.marker import strip_marker, without_trailing_marker
from deskbook.plan import DELETE, UPDATE, Change, DesiredObject, ExistingObject, Plan, build_plan

#: Kinds written only through the internal API (with `--allow-internal-api`), read by every plan.
INTERNAL_KINDS = internal.KINDS
#: How the plan notes name them.
INTERNAL_TITLES = {"calendar": "calendar", "sla_metric": "SLA metric", "queue": "queue"}

REMOVED_PREFIX = internal.REMOVED_PREFIX
#: Counting the requests of a request type stops here (the refusal then says "at least").
USAGE_COUNT_LIMIT = 1000
TEST_REQUEST_SUMMARY = "deskbook SLA check (test request, safe to close)"
TEST_REQUEST_DESCRIPTION = "Raised by `deskbook verify --desk jsm --doit` to read the SLA goals JSM applies."


log = logging.getLogger("deskbook.connectors.jsm")


class JsmConnector(DeskConnector):
    """Jira Service Management behind the desk-independent plan/apply engine."""

    desk = "jsm"

    def __init__(self, client: JsmClient, *, allow_internal_api: bool = False):
        self.client = client
        self.allow_internal_api = allow_internal_api
        self.kind_order = tr.KIND_ORDER  # internal kinds too: what an opt-in installed is seen without the flag
        self.unreadable: dict[str, str] = {}  # internal kinds a plan without the flag could not read, and why
        self._reconcile: dict[str, list[int]] = {}  # request key -> its id, for searches that must see it
        self._detail_fields: list[dict] | None | bool = False  # False: not read yet; None: no CSM
        self._pending_types: dict[str, dict[str, Any]] = {}  # request type key -> payload being created
        self._marked_types: list[tuple[str, Any]] = []  # (name, marker) of types marked in their description

    def detail_fields(self) -> list[dict] | None:
        """The site's CSM organization detail fields (read once), None when CSM is not available."""
        if self._detail_fields is False:
            self._detail_fields = self.client.csm_detail_fields()
        return self._detail_fields  # type: ignore[return-value]

    @classmethod
    def connect(cls, url: str | None = None, email: str | None = None, token: str | None = None,
                **options: Any) -> "JsmConnector":
        """A connector for the site named by arguments or the JIRA_* / JSM_PROJECT environment."""
        allow_internal = bool(options.pop("allow_internal_api", False))
        connection = JsmConnection.from_env(url=url, email=email, token=token,
                                            project_key=options.pop("project_key", None),
                                            cloud_id=options.pop("cloud_id", None))
        return cls(JsmClient(connection, **options), allow_internal_api=allow_internal)

    @property
    def session(self):
        """The client's DeskSession (call counters)."""
        return self.client.session

    # ------------------------------------------------------------ desk I/O

    def list_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of `kind` in the service project (full rules only for marked ones)."""
        if kind == "request_type":  # with the owner property: one read per type (404 = none)
            types = [{**t, "properties": {tr.OWNER_PROPERTY: self.client.request_type_property(str(t["id"]),
                                                                                                tr.OWNER_PROPERTY)}}
                     for t in self.client.request_types()]
            # types whose description still ends with a marker (an older deskbook's): the plan says so
            self._marked_types = [(str(t.get("name") or ""), tr.parse_marker(t.get("description"))) for t in types
                                  if tr.parse_marker(t.get("description"))]
            return types
        if kind == "automation_rule":
            rules = []
            for summary in self.client.rule_summaries(scope=self.client.project_ari):
                if tr.parse_marker(summary.get("description")):
                    rules.append({**self.client.rule(summary["uuid"]), "id": summary["uuid"]})
                else:
                    rules.append({**summary, "id": summary["uuid"]})
            return rules
        if kind in INTERNAL_KINDS:
            return self.list_internal(kind)
        if kind == "organization_detail_field":
            self._detail_fields = self.client.csm_detail_fields()  # read fresh on every populate
            return [{**f, "id": f["name"]} for f in self._detail_fields or []]
        raise ValueError(kind)

    def list_internal(self, kind: str) -> list[dict[str, Any]]:
        """Calendars, SLA metrics or queues of the project. Without the flag a refused read (the site
        has no such endpoint for this account) is not an error: nothing deskbook owns is visible there,
        and the plan says it could not look (`unreadable`)."""
        read = {"calendar": self.client.calendars, "sla_metric": self.client.sla_metrics,
                "queue": self.client.queues}[kind]
        self.unreadable.pop(kind, None)
        try:
            found = read()
        except DeskHTTPError as exc:
            if self.allow_internal_api or exc.status not in (401, 403, 404, 405):
                raise
            self.unreadable[kind] = f"HTTP {exc.status}"
            return []
        return [{**item, "id": item.get("id")} for item in found]

    def create_object(self, kind: str, payload: dict[str, Any], label: str) -> dict[str, Any]:
        """Create one object and return it with its `id`."""
        if kind == "request_type":
            return self.create_request_type(payload, label)
        if kind == "automation_rule":
            return {"id": self.client.create_rule(payload, label=label)}
        if kind == "organization_detail_field":
            made = self.client.create_csm_detail_field(payload["name"], payload["type"]["name"],
                                                       payload["type"].get("options"), label=label)
            return {**made, "id": payload["name"]}
        if kind == "calendar":
            return self.client.create_calendar(payload, label=label)
        if kind == "queue":
            return self.client.create_queue(payload, label=label)
        return self.client.create_sla_metric(payload, label=label)

    def create_request_type(self, payload: dict[str, Any], label: str) -> dict[str, Any]:
        """Create a request type, then set its properties (the owner marker) on it."""
        created = self.client.create_request_type(payload["name"], payload.get("description", ""),
                                                  payload.get("helpText", ""), label=label)
        for key, value in (payload.get("properties") or {}).items():
            self.client.set_request_type_property(str(created["id"]), key, value, label=label)
        return {**created, "properties": dict(payload.get("properties") or {})}

    def find_managed(self, kind: str, playbook: str, key: str) -> dict[str, Any] | None:
        """By marker; for a request type also the one a create left without its owner property (the
        create stored, its property PUT never sent): the type named as the key's, carrying no marker at
        all, is taken and its property set — the caller knows a create of that key was sent."""
        found = DeskConnector.find_managed(self, kind, playbook, key)
        if found is not None or kind != "request_type":
            return found
        wanted = self._pending_types.get(key)
        if wanted is None:
            return None
        for rtype in self.list_kind(kind):
            if rtype.get("name") == wanted["name"] and tr.request_type_owner(rtype) is None:
                for prop, value in (wanted.get("properties") or {}).items():
                    self.client.set_request_type_property(str(rtype["id"]), prop, value)
                return {**rtype, "properties": dict(wanted.get("properties") or {})}
        return None

    def create_checked(self, kind: str, payload: dict[str, Any], label: str, playbook: str,
                       key: str | None, intents: Any = None) -> dict[str, Any]:
        """The engine's create, remembering which request type payload a key stands for (`find_managed`)."""
        if kind == "request_type" and key:
            self._pending_types[key] = payload
        return DeskConnector.create_checked(self, kind, payload, label, playbook, key, intents)

    def finish_found(self, kind: str, found: dict[str, Any], payload: dict[str, Any], label: str) -> dict[str, Any]:
        """A rule found after an unconfirmed create may still be DISABLED (`create_rule` creates it
        disabled, then enables it in a second call): enable it as the create would have."""
        wanted = str(payload.get("state") or "ENABLED").upper()
        if kind == "automation_rule" and wanted == "ENABLED" and str(found.get("state") or "").upper() != "ENABLED":
            self.client.set_rule_state(str(found["id"]), enabled=True, label=label)
        return found

    def update_object(self, kind: str, object_id: Any, payload: dict[str, Any], existing: dict[str, Any] | None,
                      label: str) -> None:
        """Update one object (request types: their properties in place when only those differ, else
        delete + create, JSM has no update)."""
        if kind == "request_type":
            if not tr.request_type_replaced(payload, existing or {}):
                for key, value in (payload.get("properties") or {}).items():
                    if (existing or {}).get("properties", {}).get(key) != value:
                        self.client.set_request_type_property(str(object_id), key, value, label=label)
                return
            self.client.delete_request_type(str(object_id), label=label)
            self.create_request_type(payload, label)
        elif kind == "automation_rule":
            self.client.update_rule(str(object_id), payload, label=label)
        elif kind == "organization_detail_field":
            raise DeskbookError(f"organization detail field {object_id!r} has another type or other options than the "
                                "playbook's, and only a detail field's label can change (FACTS.md 5.4)",
                                where=label, hint="fix it in JSM (Settings > Organization details) or rename the field")
        elif kind == "calendar":
            self.client.update_calendar(object_id, payload, label=label)
        elif kind == "queue":
            self.client.update_queue(object_id, payload, label=label)
        else:
            self.client.update_sla_metric(int(object_id), payload, label=label)

    def delete_object(self, kind: str, object_id: Any, label: str) -> None:
        """Delete one object (rules: disable and delete; where the site has no rule delete, disable,
        unmark and rename)."""
        if kind == "request_type":
            self.client.delete_request_type(str(object_id), label=label)
        elif kind == "automation_rule":
            if self.client.delete_rule(str(object_id), label=label):
                return
            rule = self.client.rule(str(object_id))
            description = strip_marker(rule.get("description"))
            name = rule.get("name") or ""
            retired = {**rule, "state": "DISABLED", "description": description,
                       "name": name if name.startswith(REMOVED_PREFIX) else REMOVED_PREFIX + name}
            retired.pop("id", None)
            self.client.update_rule(str(object_id), retired, label=label)
        elif kind == "calendar":
            self.client.delete_calendar(object_id, label=label)
        elif kind == "queue":
            if not self.client.delete_queue(object_id, label=label):
                found = self.client.queue(object_id)  # the one queue, as a rule's retire reads the one rule
                if found is not None:
                    self.client.update_queue(object_id, internal.retired_queue(found), label=label)
        else:
            self.client.delete_sla_metric(int(object_id), label=label)

    def ownership(self, kind: str, payload: dict[str, Any], playbook: str) -> tuple[str, str] | None:
        """(playbook, key) from the marker in the description (request types: `tr.request_type_owner`). A detail field has no description: any is
        taken as the planned playbook's, keyed by name, so the one the playbook names is compared, never
        conflicts, and the others are left alone (`extra_changes` drops their deletes)."""
        if kind == "organization_detail_field":
            return (playbook, f"detail.{payload.get('name')}")
        if kind in INTERNAL_KINDS:  # no description: the marker ends the name
            return tr.parse_marker(payload.get("name"))
        if kind == "request_type":  # the owner property, or an older install's description
            return tr.request_type_owner(payload)
        return tr.parse_marker(payload.get("description"))

    def display_name(self, kind: str, payload: dict[str, Any]) -> str:
        """The object's name (without a marker at its end)."""
        name = str(payload.get("name") or "")
        return without_trailing_marker(name).strip() if kind in INTERNAL_KINDS else name

    def desired_objects(self, playbook: Any, library: Any) -> list[DesiredObject]:
        """The playbook as JSM objects for this project."""
        return tr.desired_objects(playbook, library, project_ari=self.client.project_ari,
                                  project_key=self.client.connection.project_key,
                                  allow_internal_api=self.allow_internal_api, account_id=self.client.account_id,
                                  csm=self.detail_fields() is not None,
                                  status_ids=self.client.statuses() if self.allow_internal_api else None)

    def compare(self, desired: DesiredObject, existing: ExistingObject, ids: dict) -> list[str]:
        """Differences by meaning."""
        if desired.kind in INTERNAL_KINDS:
            return internal.differences(desired.kind, desired.payload, existing.payload,
                                        self.client.connection.project_key, ids)
        return tr.compare_payloads(desired.kind, desired.payload, existing.payload)

    def internal_notes(self, plan: Plan, playbook: Any | None, held: list[Change]) -> list[str]:
        """Without the flag: what an opt-in installed (`held`: the plan's changes to those kinds, taken out
        of it — deletes of what the playbook owns, since only the flag plans them), whether it still
        matches the playbook (`playbook` loaded), and that it is managed only with --allow-internal-api;
        for an uninstall (`playbook` None), exactly what it leaves."""
        notes = [f"could not read the project's {INTERNAL_TITLES[k]}s without --allow-internal-api ({why}): anything "
                 "deskbook installed there with the flag is not shown" for k, why in self.unreadable.items()]
        owned = [c for c in held if c.action == DELETE and c.key]
        if not owned:
            return notes
        listing = "; ".join(f"{INTERNAL_TITLES[k]}s: " + ", ".join(f'"{c.name}"' for c in owned if c.kind == k)
                            for k in INTERNAL_KINDS if any(c.kind == k for c in owned))
        if playbook is None:
            return notes + [f"uninstall leaves what --allow-internal-api installed ({listing}); JSM's internal "
                            "endpoints are used only with the flag: re-run `deskbook uninstall --desk jsm "
                            "--allow-internal-api` to remove them"]
        # what the flag's plan would change there: the plan core over the installed objects alone
        desired = tr.internal_objects(playbook, self.client.connection.project_key, self.client.statuses())
        ids = {(c.kind, c.key): c.id for c in owned}
        installed = [ExistingObject(c.kind, c.id, c.name, c.existing or {}, playbook.name, c.key) for c in owned]
        stale = [c.name for c in build_plan(self.desk, playbook.name, desired, installed,
                                            lambda d, e: self.compare(d, e, ids), kind_order=INTERNAL_KINDS).changes]
        state = (f"{len(stale)} differ from the playbook or are missing ({', '.join(stale[:5])}"
                 f"{' …' if len(stale) > 5 else ''}): run `deskbook plan --desk jsm --allow-internal-api`"
                 if stale else "they match the playbook")
        return notes + [f"installed earlier with --allow-internal-api and managed only with the flag ({listing}); "
                        f"this plan leaves them as they are, {state}"]

    def plan_notes(self, plan: Plan, playbook: Any | None, desired: list[DesiredObject]) -> list[str]:
        """What JSM cannot take through its public API: request type changes shown as replaces (their
        `reason` says so), SLA goals (and their calendars), locales. Without --allow-internal-api the
        changes to calendars, SLA metrics and queues an opt-in installed are taken out of the plan here
        and described instead (`internal_notes`). `playbook` None: a plan by name (uninstall)."""
        notes: list[str] = []
        held: list[Change] = []
        if not self.allow_internal_api:  # what an opt-in installed is written only with the flag
            held = [c for c in plan.changes if c.kind in INTERNAL_KINDS]
            plan.changes[:] = [c for c in plan.changes if c.kind not in INTERNAL_KINDS]
            notes += self.internal_notes(plan, playbook, held)
        replaces = [c for c in plan.changes if is_request_type_replace(c)]
        for change in replaces:
            change.reason = f"{change.reason}; {tr.REQUEST_TYPE_REPLACE}" if change.reason else tr.REQUEST_TYPE_REPLACE
        if replaces:
            notes.append(tr.replace_note([c.name for c in replaces]))
        name = playbook.name if playbook is not None else None
        moved = [type_name for type_name, marker in self._marked_types if marker and marker[0] == name]
        if moved:
            notes.append(tr.marker_move_note(moved))
        if self.allow_internal_api:
            notes.append("SLA metrics, their calendars and queues use JSM's internal endpoints (--allow-internal-api): "
                         "not a public contract, may change without notice")
            notes.append(QUEUE_DELETE_NOTE)
            if playbook is not None and desired:  # the calendar is installed; make-up days still cannot be
                notes += tr.calendar_notes(playbook, self.client.connection.project_key, installed=True)
        elif playbook is not None:
            installed = {str(c.key) for c in held if c.action == DELETE and c.key}
            notes += tr.sla_notes(playbook, self.client.connection.project_key, installed=installed)
        elif not desired:  # uninstall: goals entered by hand are not deskbook's
            notes.append("SLA goals entered by hand stay for an admin to remove")
        if playbook is not None and desired:  # rule comments carry the default locale only
            notes += tr.locale_notes(playbook)
            notes += tr.request_form_notes(playbook)  # request type forms: not settable by the public API
        if playbook is not None and desired:  # rules JSM cannot express, accepted by the playbook
            notes += tr.check_desk_limits(playbook, views=self.allow_internal_api)[1]
            notes += tr.comment_limit_notes(playbook, desired)
        if playbook is not None and desired:  # S-11: what JSM does differently (#15); C-1's limit is a desk limit
            notes += tr.survey_notes(playbook, csm=self.detail_fields() is not None)
        if playbook is not None and desired and playbook.sync.jobs:
            notes.append(contract_store_note(self.detail_fields() is not None))
        elif not desired and self.detail_fields():
            notes.append("uninstall keeps the organization detail fields deskbook made for contract data and the "
                         "last survey (site-wide, they hold the customers' data); delete them in JSM (Settings > "
                         "Organization details) when no longer wanted")
        return notes

    def extra_changes(self, playbook: str, desired: list[DesiredObject], snapshot: Snapshot,
                      changes: list[Change]) -> list[Change]:
        """No extra steps; organization detail fields are never deleted (site-wide, they hold the
        customers' contract data): their deletes are taken out of the plan, whose notes say so."""
        changes[:] = [c for c in changes if not (c.kind == "organization_detail_field" and c.action == DELETE)]
        return []

    def guard(self, plan: Plan, snapshot: Snapshot, *, force: bool = False,  # type: ignore[override]
              checksum: str | None = None) -> None:
        """The shared checks (checksum, conflicts, thresholds), then — unless `force` — refuse a plan that
        replaces or deletes a request type requests use (JSM strips the type from them). Reads only."""
        DeskConnector.guard(plan, snapshot, force=force, checksum=checksum)
        self.refuse_types_in_use(plan, force=force)

    def guard_uninstall(self, plan: Plan, *, force: bool = False) -> None:
        """Uninstall deletes request types: refuse, unless `force`, when requests use them."""
        self.refuse_types_in_use(plan, "uninstall", force=force)

    def refuse_types_in_use(self, plan: Plan, operation: str = "apply", *, force: bool = False) -> None:
        """DeskbookError naming the request types the plan replaces or deletes that requests use; with
        `force` (which also lifts other safety checks) a warning on stderr instead, so it is never silent."""
        in_use = []
        for change in plan.changes:
            if change.kind == "request_type" and (change.action == DELETE or is_request_type_replace(change)) \
                    and change.id not in (None, ""):
                try:
                    count = self.requests_of_type(change)
                except DeskbookError as exc:
                    if not force:
                        raise
                    log.warning("--force: going ahead without knowing whether requests use it: %s", exc)
                    continue
                if count:
                    in_use.append((change, count))
        if in_use:
            error = in_use_error(in_use, self.client.connection.project_key, operation)
            if not force:
                raise error
            log.warning("--force: going ahead although %s", str(error.args[0]).split(": ", 1)[-1])

    def requests_of_type(self, change: Change) -> int:
        """How many requests of the project have the request type `change` replaces or deletes (counted up
        to `USAGE_COUNT_LIMIT`); a failed search is an error naming the type, never "unused"."""
        jql = tr.request_type_usage_jql(self.client.connection.project_key, existing_name(change))
        try:
            return sum(1 for _ in islice(self.client.search(jql, fields=["summary"]), USAGE_COUNT_LIMIT))
        except DeskbookError as exc:
            verb = "replacing" if change.action == UPDATE else "deleting"
            raise DeskbookError(
                f'cannot tell whether requests use request type "{existing_name(change)}" (id {change.id}) '
                f"before {verb} it: the search `{jql}` failed: {exc}",
                hint=f"re-run with --force to go ahead without the check ({verb} a type strips it from its requests)",
            ) from None

    # ------------------------------------------------------------ export and verify

    def export(self) -> dict[str, Any]:
        """Every request type (with deskbook's owner property), automation rule of the project (full definitions), organization
        (with its properties) and, with the internal API allowed, SLA metric, as JSON by kind
        (`deskbook.connectors.backup` wraps it in the one backup format)."""
        rules = [{**self.client.rule(s["uuid"]), "uuid": s["uuid"]}
                 for s in self.client.rule_summaries(scope=self.client.project_ari)]
        organizations = []
        for org in self.client.organizations():
            props = {key: self.client.organization_property(org["id"], key)
                     for key in self.client.organization_property_keys(org["id"])}
            organizations.append({**org, "properties": props})
        return {"url": self.client.connection.url, "project": self.client.connection.project_key,
                "objects": {"request_type": self.list_kind("request_type"), "automation_rule": rules,
                            "organization": organizations,
                            "sla_metric": self.client.sla_metrics() if self.allow_internal_api else None,
                            "calendar": self.client.calendars() if self.allow_internal_api else None,
                            "queue": self.client.queues() if self.allow_internal_api else None}}

    def test_request_draft(self, playbook: Any) -> dict[str, Any]:
        """The test request `verify` would raise, read-only: a request type the playbook owns (any type
        when none is installed), `summary` and `description`. Raises when the project has no request type."""
        types = self.list_kind("request_type")
        if not types:
            raise DeskbookError(f"project {self.client.connection.project_key} has no request type to raise a "
                                "test request with",
                                hint="run `deskbook apply --desk jsm --doit` first, or pass --request KEY")
        owned = [t for t in types if (tr.request_type_owner(t) or (None,))[0] == playbook.name]
        request_type = (owned or types)[0]
        return {"project": self.client.connection.project_key,
                "request_type": {"id": str(request_type["id"]), "name": request_type.get("name") or "",
                                 "owned_by_playbook": bool(owned)},
                "summary": TEST_REQUEST_SUMMARY, "description": TEST_REQUEST_DESCRIPTION}

    def describe_test_request(self, draft: dict[str, Any]) -> str:
        """What `raise_test_request(draft)` would write, for `verify` without `--doit`."""
        request_type = draft["request_type"]
        return (f"would raise a test request in project {draft['project']} (request type \"{request_type['name']}\", "
                f"id {request_type['id']}; summary \"{draft['summary']}\") to read its SLAs")

    def raise_test_request(self, draft: dict[str, Any]) -> str:
        """Create the request `draft` describes (a write); its key."""
        request = self.client.create_request(draft["request_type"]["id"], draft["summary"], draft["description"],
                                             label="SLA test request")
        return request["issueKey"]

    def verify_sla(self, playbook: Any, request_key: str, out_of_scope: list[str] | None = None) -> list[str]:
        """Problems with the SLA goals JSM applies to `request_key` versus the playbook (empty = all there).

        Reads `GET /rest/servicedeskapi/request/{key}/sla` (public API) and checks that each SLA metric the
        playbook needs (`translate.sla_metrics`: one per target type, the policies' goals in policy order)
        is present by name with the goal in force: JSM applies the first goal whose JQL matches, so the
        goal expected is the first whose search `key = KEY AND (goal JQL)` finds the request (one search
        per goal, in order, up to that one). JSM lists only the SLAs with a goal for the request, so an SLA
        it does not list is a problem only when one of its goals matches; otherwise it is out of this
        request's scope and its description (the JQL a request must match) is added to `out_of_scope`.
        """
        metrics = tr.sla_metrics(playbook, self.client.connection.project_key)
        found = {without_trailing_marker(s["name"]).strip(): s for s in self.client.request_sla(request_key)}
        problems = []
        for metric in metrics:
            name, goals = metric["payload"]["name"], metric["payload"]["goals"]
            goal = next((g for g in goals if self._request_matches(request_key, g["jql"])), None)
            sla = found.get(name)
            if sla is None:
                if goal is None:
                    if out_of_scope is not None and goals:
                        out_of_scope.append(f'SLA "{name}" is out of scope for {request_key}: its goals apply to '
                                            f"requests matching {' or '.join(g['jql'] for g in goals)}; verify it "
                                            "with --request KEY of such a request")
                    continue
                problems.append(f'SLA "{name}" is missing on {request_key}, which matches its goal JQL: add it in '
                                "Project settings > SLAs (see the goals in `deskbook plan --desk jsm`)")
                continue
            cycle = sla.get("ongoingCycle") or (sla.get("completedCycles") or [{}])[-1]
            millis = (cycle.get("goalDuration") or {}).get("millis")
            if millis is None:
                continue
            if goal is None:
                problems.append(f'SLA "{name}" on {request_key} has goal {millis // 60_000} min; the playbook sets no '
                                "goal for this request (JSM applies a goal the playbook does not have: check its goals' "
                                "order and JQL in Project settings > SLAs)")
            elif millis != goal["duration"] * 60_000:
                problems.append(f'SLA "{name}" on {request_key} has goal {millis // 60_000} min; the playbook\'s goal '
                                f"in force for it (policy {goal['policy']}, the first whose JQL matches) is "
                                f"{goal['duration']} min: check the goals' order and JQL in Project settings > SLAs")
        return problems

    def _request_matches(self, request_key: str, jql: str) -> bool:
        """Whether the request is among the issues `jql` finds (the request reconciled: a test request
        just raised must be in the results, FACTS.md 8.2)."""
        if request_key not in self._reconcile:
            found = self.client.issue(request_key, fields=["summary"])
            self._reconcile[request_key] = [int(found["id"])] if found and str(found.get("id", "")).isdigit() else []
        return any(True for _ in self.client.search(f"key = {request_key} AND ({jql})", fields=["summary"],
                                                    max_results=1, reconcile=self._reconcile[request_key]))


#: What removing a queue does (FACTS.md 7.3: no certain delete).
QUEUE_DELETE_NOTE = ("JSM may not let deskbook delete a queue (FACTS.md 7.3): removing one tries the internal "
                     "delete and, where the site refuses it, renames the queue \"[removed] …\", drops deskbook's "
                     "marker and gives it a JQL that matches nothing; delete it in Project settings > Queues")


def contract_store_note(csm: bool) -> str:
    """The plan note saying where the sync jobs read contract data."""
    if csm:
        return ("contract data: Customer Service Management organization detail fields (agents see and edit them "
                "on the organization's profile); sync reads them 25 organizations a call")
    return (f"contract data: organization property {CONTRACT_PROPERTY} (Customer Service Management is not available "
            "on this site, so agents cannot see it; sync reads it one organization a call)")


def is_request_type_replace(change: Change) -> bool:
    """True for a request type `update` of its name, description or help text: JSM cannot update one, so
    apply deletes and re-creates it (an update of its properties alone is a PUT)."""
    return change.kind == "request_type" and change.action == UPDATE and \
        tr.request_type_replaced(change.desired or {}, change.existing or {})


def existing_name(change: Change) -> str:
    """The name the object has in the desk now (the plan's name is the desired one)."""
    return str((change.existing or {}).get("name") or change.name)


def in_use_error(in_use: list[tuple[Change, int]], project_key: str, operation: str = "apply") -> DeskbookError:
    """The refusal for request types that requests use: each type with its request count and what the
    plan would do to it, and the choices (edit it in JSM and re-run, or --force)."""
    parts = []
    for change, count in in_use:
        used = f"at least {count}" if count >= USAGE_COUNT_LIMIT else str(count)
        label = f'request type "{existing_name(change)}" (id {change.id})'
        if change.action == UPDATE:
            parts.append(f'{label} is used by {used} request(s) in {project_key}; replacing it with "{change.name}" '
                         "(JSM has no request type update: delete + create, new id) leaves them without a request type")
        else:
            parts.append(f"{label} is used by {used} request(s) in {project_key}; deleting it leaves them without "
                         "a request type")
    if operation == "uninstall":
        return DeskbookError("refusing to uninstall: " + "; ".join(parts),
                             hint="move those requests to another request type in JSM and re-run, or re-run "
                                  "with --force to delete the types anyway; nothing was deleted")
    choices = []
    if any(c.action == UPDATE for c, _ in in_use):
        choices.append("to keep a type, edit it in JSM (Project settings > Request types) to the name, description "
                       "and help text the plan shows (deskbook's marker is in the type's property "
                       f"{tr.OWNER_PROPERTY}, which the edit keeps), and re-run: it then matches, with its id and requests")
    if any(c.action == DELETE for c, _ in in_use):
        choices.append("to keep a type the playbook no longer lists, put its category back in the playbook")
    choices.append("or re-run with --force to go ahead anyway")
    return DeskbookError("refusing to apply: " + "; ".join(parts), hint="; ".join(choices))

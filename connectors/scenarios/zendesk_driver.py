"""Scenario steps on a Zendesk desk, and the ticket read back in the playbook's words.

Every action is an ordinary API call a Zendesk integration makes: a customer's request is a
ticket created for the customer (requester and submitter the customer, `via` the channel); a macro
is applied as agents' tools do it (`GET /tickets/{id}/macros/{id}/apply`, then `PUT` the changes);
a reply is a ticket update with a comment by its author. The state is read with `GET
/tickets/{id}?include=slas`, `/tickets/{id}/comments`, `/tickets/{id}/audits` (notifications),
`/incremental/ticket_metric_events` (the SLA policy applied), `/views/{id}/tickets` and
`include=metric_sets`.

Embedded (`live=False`): the sandbox runs the rules and `time_passes` moves its clock (automations
hourly). Live (a real account): test tickets carry the subject prefix `[deskbook test]` and the tag
`deskbook_test`, and are deleted afterwards, then the test customers and organizations (marked with
the run, so a later run's do not collide with them); `via` is only a request on a real desk (Zendesk sets
the channel of API-made tickets itself), so channel-dependent expectations may differ there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import secrets
from typing import Any, Iterator

from deskbook.connectors.scenarios.runner import TIME_SKIP, Driver
from deskbook.connectors.zendesk import translate as zt
from deskbook.http import CursorPaginator, pages

TEST_TAG = "deskbook_test"
TEST_PREFIX = "[deskbook test]"
CHANNELS = {"phone": "voice", "chat": "chat", "web": "web", "email": "email", "api": "api"}
_counter = itertools.count(1)
#: This process's mark on live test customers and organizations: Zendesk refuses a second user with
#: an email, or a second organization with a name, already taken (an earlier run's).
_RUN = secrets.token_hex(3)

#: Metric events per cursor page (the spec's maximum for cursor pagination).
METRIC_EVENTS_PAGE = 100


@contextlib.contextmanager
def embedded_driver(playbook: Any, library: Any, scenario: Any, start: float) -> Iterator["ZendeskDriver"]:
    """A driver on a fresh embedded Zendesk sandbox with the playbook installed, its clock at `start`."""
    from deskbook.connectors.commands import make_plan
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import FakeClock, running_sandbox
    from deskbook.connectors.zendesk.sandbox_command import NO_RATE_LIMITS

    options = dict(scenario.options.get("zendesk") or {})
    with running_sandbox(clock=FakeClock(start), export_lag_seconds=0, system_rules=True, run_rules=True,
                         rate_limits=NO_RATE_LIMITS,
                         csat=bool(options.get("csat", True))) as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token)
        plan, snapshot = make_plan(connector, playbook, library, adopt=True)
        connector.apply(plan, snapshot)
        yield ZendeskDriver(connector, playbook, handle=desk)


@contextlib.contextmanager
def live_driver(playbook: Any, live: dict[str, Any], cache: dict[str, Any]) -> Iterator["ZendeskDriver"]:
    """A driver on the real account (the installed objects read once per run, kept in `cache`); its
    test tickets are deleted when the block ends, also when it raises."""
    from deskbook.connectors.zendesk.connector import ZendeskConnector

    if "connector" not in cache:
        cache["connector"] = ZendeskConnector.connect(live.get("url"), live.get("email"), live.get("token"))
    driver = ZendeskDriver(cache["connector"], playbook, live=True, ids=cache.get("ids"))
    cache["ids"] = driver.ids
    try:
        yield driver
    finally:
        driver.cleanup()


def dry_run(playbook: Any, scenario: Any, live: dict[str, Any]) -> str:
    """What a live run of `scenario` would create (nothing is read or written)."""
    timed = [st.index for st in scenario.steps if st.action == "time_passes"]
    skip = f"; skips step {timed[0]} onwards ({TIME_SKIP})" if timed else ""
    org = " + its organization" if (scenario.steps[0].argument or {}).get("organization") else ""
    return (f"{scenario.name}: 1 test customer{org} + 1 test ticket tagged {TEST_TAG}, subject '{TEST_PREFIX} ...', "
            f"deleted afterwards{skip}")


class ZendeskDriver(Driver):
    """Acts on one ticket at a time through a `ZendeskConnector`'s session."""

    #: the attributes naming the ticket a step acts on and its customer (the simulated week switches them)
    CURRENT = ("ticket_id", "requester_id")

    def __init__(self, connector: Any, playbook: Any, *, handle: Any = None, live: bool = False,
                 ids: dict | None = None):
        self.connector = connector
        self.session = connector.client.session
        self.playbook = playbook
        self.handle = handle
        self.live = live
        self.ticket_id: int | None = None
        self.requester_id: int | None = None
        self.created: list[int] = []
        self.created_users: list[int] = []  # live: the test customers and organizations, removed too
        self.created_organizations: list[int] = []
        self.cleaned: dict[str, Any] | None = None  # live: what `cleanup` did
        self.organization_id: int | None = None
        self.record_writes = 0
        # the installed objects' ids (`ids`: another driver's on the same desk, not read again)
        self.ids = ids if ids is not None else connector.populate(playbook.metadata.name).managed_ids(playbook.metadata.name)
        self.keys = {(kind, str(i)): key for (kind, key), i in self.ids.items()}
        self.fields = {f.key: f for f in playbook.fields if f.scope == "ticket"}
        # the installed rules and SLA policies do not change while scenarios run: each is read once
        self._installed: dict[str, dict] = {}

    # ------------------------------------------------------------ helpers

    def _read_installed(self, path: str, key: str) -> dict:
        """An installed rule or SLA policy (`GET path`), read once per driver."""
        if path not in self._installed:
            self._installed[path] = self.session.get_json(path)[key]
        return self._installed[path]

    def _listed(self, path: str, key: str) -> Any:
        """Every item of a list the desk pages (at most 100 a page), through the client's cursor paginator."""
        return self.connector.client.cursor.iter_items(self.session, path, key)

    def _id(self, kind: str, key: str) -> int:
        if (kind, key) not in self.ids:
            raise KeyError(f"the playbook installed no {kind} {key!r}")
        return int(self.ids[(kind, key)])

    def _field_id(self, key: str) -> int:
        return self._id("ticket_field", key)

    def _changes(self, values: dict[str, Any]) -> dict[str, Any]:
        """Neutral `{priority: high, group: sales, field.x: v, category: c}` as a ticket update."""
        out: dict[str, Any] = {}
        custom = []
        for name, value in values.items():
            if name in ("status", "priority", "type"):
                out[name] = value
            elif name == "group":
                out["group_id"] = self._id("group", value) if value else None
            elif name == "category":
                custom.append({"id": self._field_id(self.playbook.category_field),
                               "value": zt.option_tag(self.playbook.category_field, value)})
            elif name.startswith("field."):
                key = name.split(".", 1)[1]
                fld = self.fields[key]
                custom.append({"id": self._field_id(key),
                               "value": zt.option_tag(key, value) if fld.type == "dropdown" else value})
            elif name == "add_tags":
                out["additional_tags"] = list(value)
            else:
                raise KeyError(f"agent_sets does not know {name!r}")
        if custom:
            # `fields`, the alias of `custom_fields` tickets also answer with: the spec types
            # `custom_fields` entries as field definitions (key, type, title required)
            out["fields"] = custom
        return out

    def _put(self, body: dict[str, Any]) -> None:
        self.session.json_request("PUT", f"/api/v2/tickets/{self.ticket_id}.json", json={"ticket": body})

    # ------------------------------------------------------------ actions

    def skip_reason(self, action: str) -> str | None:
        """Why this step cannot run here (None: it can): a real desk's time cannot be moved."""
        return TIME_SKIP if self.live and action == "time_passes" else None

    def customer_writes(self, request: dict[str, Any]) -> None:
        n = next(_counter)
        email = f"deskbook-test-{_RUN}-{n}@example.com" if self.live else f"deskbook-test-{n}@example.com"
        user = self.session.json_request("POST", "/api/v2/users.json", json={"user": {
            "name": request.get("customer", "Ms Li"), "email": email,
            "locale": request.get("locale", self.playbook.metadata.default_locale).lower(), "role": "end-user"}})["user"]
        self.requester_id = user["id"]
        if self.live:
            self.created_users.append(user["id"])
        subject = request.get("subject", "request")
        body: dict[str, Any] = {
            "subject": f"{TEST_PREFIX} {subject}" if self.live else subject,
            "comment": {"body": request.get("body", subject), "public": True},
            "requester_id": user["id"], "submitter_id": user["id"],
            "via": {"channel": CHANNELS.get(request.get("channel", "web"), "web")},
        }
        changes = self._changes({k: v for k, v in request.items() if k in ("priority", "category") or k.startswith("field.")})
        body.update(changes)
        if self.live:
            body["tags"] = [TEST_TAG]
        if request.get("organization"):
            org = self.session.json_request("POST", "/api/v2/organizations.json", json={"organization": {
                "name": f"{TEST_PREFIX} {request['organization']} ({_RUN})" if self.live else str(request["organization"])}})
            self.organization_id = org["organization"]["id"]
            if self.live:
                self.created_organizations.append(org["organization"]["id"])
            self.session.json_request("PUT", f"/api/v2/users/{user['id']}.json",
                                      json={"user": {"organization_id": self.organization_id}})
            body["organization_id"] = self.organization_id
        ticket = self.session.json_request("POST", "/api/v2/tickets.json", json={"ticket": body})["ticket"]
        self.ticket_id = ticket["id"]
        self.created.append(ticket["id"])

    def agent_applies(self, macro_key: str) -> None:
        macro_id = self._id("macro", macro_key)
        result = self.session.get_json(f"/api/v2/tickets/{self.ticket_id}/macros/{macro_id}/apply.json")["result"]["ticket"]
        body: dict[str, Any] = {k: result[k] for k in ("status", "priority", "type", "group_id", "assignee_id", "tags")
                                if k in result}
        if "fields" in result:
            body["fields"] = result["fields"] if isinstance(result["fields"], list) else [result["fields"]]
        if "comment" in result:
            body["comment"] = {"body": result["comment"]["body"], "public": result["comment"].get("public", True)}
        self._put(body)

    def agent_replies(self, text: str) -> None:
        self._put({"comment": {"body": str(text), "public": True}})

    def agent_notes(self, text: str) -> None:
        self._put({"comment": {"body": str(text), "public": False}})

    def agent_sets(self, values: dict[str, Any]) -> None:
        self._put(self._changes(dict(values)))

    def customer_replies(self, text: str) -> None:
        self._put({"comment": {"body": str(text), "public": True, "author_id": self.requester_id}})

    def customer_rates(self, answer: dict[str, Any]) -> None:
        """The customer answers the rating link of a solved ticket (`rating` 1-5: 4 and 5 are good,
        the rest bad — Zendesk asks good or bad). Embedded only: a click in the browser, outside the API."""
        if self.live or self.handle is None:
            raise RuntimeError("a rating can only be given on the embedded sandbox")
        self.handle.rate(self.ticket_id, "good" if int(answer["rating"]) >= 4 else "bad", str(answer.get("comment", "")))

    def sync_runs(self, argument: Any) -> None:
        """`deskbook sync`'s S-11 survey job, once, with this story's ledger."""
        from deskbook.connectors.zendesk.sync_desk import ZendeskSyncDesk
        from deskbook.sync.surveys import SURVEY_JOB

        before = self._organization_puts()
        report = self._survey_job(ZendeskSyncDesk, self.connector.client)
        if report.failed:
            raise RuntimeError(f"the survey job failed: {report.jobs[SURVEY_JOB].errors}")
        self.record_writes += self._organization_puts() - before

    def _organization_puts(self) -> int:
        """Organization PUTs this driver's session sent (the survey job writes through it)."""
        return sum(n for name, n in self.session.calls.items() if name.startswith("PUT /api/v2/organizations"))

    # ------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """The ticket in the playbook's words (see runner.py)."""
        tid = self.ticket_id
        ticket = self.session.get_json(f"/api/v2/tickets/{tid}.json", params={"include": "slas,metric_sets"})["ticket"]
        values = {str(c["id"]): c.get("value") for c in ticket.get("custom_fields") or []}
        fields: dict[str, Any] = {}
        for key, fld in self.fields.items():
            if ("ticket_field", key) not in self.ids:
                continue
            raw = values.get(str(self._field_id(key)))
            fields[key] = zt.option_value(key, raw) if fld.type == "dropdown" and raw else raw
        category_raw = values.get(str(self._field_id(self.playbook.category_field)))
        state: dict[str, Any] = {
            "status": ticket.get("status"), "priority": ticket.get("priority"),
            "group": self.keys.get(("group", str(ticket.get("group_id")))) if ticket.get("group_id") else None,
            "category": zt.option_value(self.playbook.category_field, category_raw) if category_raw else None,
            "tags": ticket.get("tags") or [], "fields": fields,
        }
        # the SLA policy comes from the incremental metric events export (10 requests a minute on
        # Zendesk): read only when a step expects it
        state["sla"] = self._sla(ticket) if self._wants("sla") else {}
        # one read per view: only when a step expects the views
        state["views"] = sorted(key for (kind, key), vid in self.ids.items() if kind == "view"
                                and any(t["id"] == tid for t in self._listed(f"/api/v2/views/{vid}/tickets.json", "tickets"))
                                ) if self._wants("views") else None
        audits = list(self._listed(f"/api/v2/tickets/{tid}/audits.json", "audits"))
        state["messages"] = self._messages(ticket, audits)
        state["notes"] = self._notes(ticket, audits)
        state["organization_writes"] = self.record_writes
        if self.organization_id and self._wants("organization"):
            org = self.session.get_json(f"/api/v2/organizations/{self.organization_id}.json")["organization"]
            values = org.get("organization_fields") or {}
            state["organization"] = {f.key: values.get(zt.slug(f.key)) for f in self.playbook.organization_fields()}
        state["locales"] = list(self.playbook.metadata.locales)
        metrics = ticket.get("metric_set") or {}
        state["metrics"] = {"replies": metrics.get("replies"), "reopens": metrics.get("reopens")}
        return state

    def _sla(self, ticket: dict) -> dict[str, Any]:
        # from a minute before the ticket was created (an export's start_time is at least a minute
        # old): from 0, the first page holds the account's oldest events, not this ticket's
        created = dt.datetime.fromisoformat(str(ticket["created_at"]).replace("Z", "+00:00")).timestamp()
        # every page, in cursor pages (exact: a time-based page full inside one second skips the rest
        # of that second): on a busy desk the latest apply_sla (after an escalation) is pages on
        events = [e for page in pages(self.session, CursorPaginator(METRIC_EVENTS_PAGE),
                                      "/api/v2/incremental/ticket_metric_events.json",
                                      params={"start_time": int(created) - 60})
                  for e in page.data.get("ticket_metric_events") or []
                  if e["ticket_id"] == ticket["id"] and e["type"] == "apply_sla"]  # oldest first, as exported
        policy_id = ((events[-1].get("sla") or {}).get("policy") or {}).get("id") if events else None
        out: dict[str, Any] = {"policy": self.keys.get(("sla_policy", str(policy_id))) if policy_id else None,
                               "targets": {}, "breach_at": {}}
        if policy_id:
            policy = self._read_installed(f"/api/v2/slas/policies/{policy_id}.json", "sla_policy")
            out["targets"] = {m["metric"]: m["target"] for m in policy.get("policy_metrics") or []
                              if m.get("priority") == ticket.get("priority")}
        for running in (ticket.get("slas") or {}).get("policy_metrics") or []:
            out["breach_at"][running["metric"]] = running.get("breach_at")
        return out

    def _messages(self, ticket: dict, audits: list[dict]) -> list[str]:
        """What the customer received, oldest first: public comments by others than the requester and
        email notifications addressed to the requester."""
        found: list[tuple[str, str]] = []
        comments = self._listed(f"/api/v2/tickets/{ticket['id']}/comments.json", "comments")
        for comment in comments:
            if comment.get("public") and comment.get("author_id") != ticket.get("requester_id"):
                found.append((comment.get("created_at") or "", comment.get("body") or ""))
        for audit in audits:
            for event in audit.get("events") or []:
                if event.get("type") == "Notification" and ticket.get("requester_id") in (event.get("recipients") or []):
                    found.append((audit.get("created_at") or "", event.get("body") or ""))
        return [body for _, body in sorted(found, key=lambda pair: pair[0])]

    def _notes(self, ticket: dict, audits: list[dict]) -> list[dict[str, Any]]:
        """What rules told agents, oldest first: trigger/automation emails not addressed to the
        requester, each with the playbook groups its rule's `notification_group` actions address
        (read from the rule the audit names in `via.source.from`)."""
        found: list[tuple[str, dict[str, Any]]] = []
        for audit in audits:
            source = (audit.get("via") or {}).get("source") or {}
            for event in audit.get("events") or []:
                if event.get("type") != "Notification" or ticket.get("requester_id") in (event.get("recipients") or []):
                    continue
                groups = self._rule_groups(source.get("rel"), (source.get("from") or {}).get("id"), event.get("body") or "")
                found.append((audit.get("created_at") or "", {"body": event.get("body") or "", "groups": groups}))
        return [note for _, note in sorted(found, key=lambda pair: pair[0])]

    def _rule_groups(self, rel: Any, rule_id: Any, body: str) -> list[str]:
        """Playbook groups addressed by the rule's group notifications whose body is this one's."""
        if rel not in ("trigger", "automation") or not rule_id:
            return []
        rule = self._read_installed(f"/api/v2/{rel}s/{rule_id}.json", rel)
        out = []
        for act in rule.get("actions") or []:
            if act.get("field") == "notification_group":
                group = self.keys.get(("group", str((act.get("value") or [None])[0])))
                if group:
                    out.append(group)
        return out

    # ------------------------------------------------------------ live desks

    def cleanup(self) -> dict[str, Any]:
        """Delete the test tickets this driver made (live desks), then its test customers and
        organizations; what was done is kept in `cleaned`."""
        deleted = []
        for tid in self.created:
            self.session.request("DELETE", f"/api/v2/tickets/{tid}.json")
            deleted.append(tid)
        self.created.clear()
        for kind, made in (("users", self.created_users), ("organizations", self.created_organizations)):
            for object_id in made:
                self.session.request("DELETE", f"/api/v2/{kind}/{object_id}.json")
        self.cleaned = {"deleted": deleted, "deleted_users": list(self.created_users),
                        "deleted_organizations": list(self.created_organizations)}
        self.created_users.clear()
        self.created_organizations.clear()
        return self.cleaned

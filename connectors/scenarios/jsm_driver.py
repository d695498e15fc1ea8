"""Scenario steps on a JSM desk, and the request read back in the playbook's words.

Every action is an API call a JSM integration makes, through `JsmClient`: a customer's request is
raised on behalf of the customer (`POST /rest/servicedeskapi/request`, `raiseOnBehalfOf` the
customer's account id) in the request type of its category, its priority then recorded by the
agent (`PUT /rest/api/3/issue/{key}`: API-made request types carry only the summary on their
form); a macro is the playbook's manual automation rule, invoked on the request (`POST
…/rule/manual/{ruleId}/invocation`); a reply or note is a request comment (public or internal), and the notes rules
left for agents are the internal comments the story's people did not write;
an agent's edit is an issue edit (labels, priority) or a transition.

What JSM keeps where deskbook puts it (`translate.py`): the group, a category changed after
creation and the playbook's choice fields are labels (`translate.group_label`,
`category_label`, `field_label`); the category is the request type otherwise; text fields, which
a label cannot hold, are kept in the issue property `deskbook.fields` (JSM's public API cannot
create custom fields). The state is read with `GET /rest/api/3/issue/{key}` (status, priority,
labels), `GET /rest/servicedeskapi/request/{key}/comment` (public comments by others than the
customer are what the customer received), `GET …/request/{key}/sla` (the SLA in force: its
name maps to the playbook policy and metric, `translate.sla_metrics`), the queues of the service
desk with their issues (`GET …/servicedesk/{id}/queue`, `…/queue/{id}/issue`; a queue is a
playbook view by name) and the changelog (replies and reopens).

Embedded only: a customer's reply is a request comment written as the customer (the sandbox's
`X-Deskbook-Sandbox-Act-As` header: the API user cannot comment as the customer; a real customer
replies on the portal or by email) and `time_passes` moves the
sandbox clock (scheduled rules run when their cron fires). The channel of the first message
is not recorded: JSM has no chat or phone channel on a request (see coverage.yaml and the plan
notes for what depends on it).
"""

from __future__ import annotations

import itertools
from typing import Any

from deskbook.connectors.jsm import translate as tr
from deskbook.http import DeskHTTPError

TEXT_PROPERTY = "deskbook.fields"
#: The sandbox's stand-in for a customer's own login (`sandbox/app.py`).
ACT_AS = "X-Deskbook-Sandbox-Act-As"
#: The priority a new request gets in JSM when nobody sets one.
DEFAULT_PRIORITY = "Medium"
_counter = itertools.count(1)


class JsmDriver:
    """Acts on one request at a time through a `JsmConnector`'s client."""

    live = False

    def __init__(self, connector: Any, playbook: Any, *, handle: Any):
        self.client = connector.client
        self.session = self.client.session
        self.playbook = playbook
        self.handle = handle
        self.key: str | None = None
        self.customer: str | None = None
        self.written: set[str] = set()  # ids of the comments the story's people wrote (not the rules)
        snapshot = connector.populate(playbook.metadata.name)
        self.ids = snapshot.managed_ids(playbook.metadata.name)
        self.fields = {f.key: f for f in playbook.fields if f.scope == "ticket"}
        names = tr.category_names(playbook)
        self.type_ids = {key: str(self.ids[("request_type", f"category.{key}")]) for key in names
                         if ("request_type", f"category.{key}") in self.ids}
        self.categories_by_type = {type_id: key for key, type_id in self.type_ids.items()}
        self.sla_names = {m["payload"]["name"]: m["key"] for m in tr.sla_metrics(playbook, self.client.connection.project_key)}
        self.views = {view.title.get(playbook.metadata.default_locale): view.key for view in playbook.views}

    # ------------------------------------------------------------ actions

    def act(self, action: str, argument: Any) -> None:
        """Perform one scenario step."""
        getattr(self, action)(argument)

    def customer_writes(self, request: dict[str, Any]) -> None:
        n = next(_counter)
        self.customer = self.client.customer_account_id(f"deskbook-test-{n}@example.com",
                                                        str(request.get("customer", "Ms Li")))
        category = str(request.get("category") or "")
        if category not in self.type_ids:
            raise KeyError(f"the playbook installed no request type for category {category!r}")
        subject = str(request.get("subject", "request"))
        made = self.client.create_request(self.type_ids[category], subject, str(request.get("body", subject)),
                                          raise_on_behalf_of=self.customer)
        self.key = str(made["issueKey"])
        # The agent records the priority the customer states; "normal" is Medium, what a new request
        # already has, so nothing is sent then (an edit would undo what the rules set on creation).
        rest = {k: v for k, v in request.items()
                if (k == "priority" and tr.PRIORITY_NAMES.get(v, v) != DEFAULT_PRIORITY) or k.startswith("field.")}
        if rest:
            self.agent_sets(rest)

    def agent_applies(self, macro_key: str) -> None:
        if ("automation_rule", f"macro.{macro_key}") not in self.ids:
            raise KeyError(f"the playbook installed no manual rule for macro {macro_key!r}")
        rule = self.ids[("automation_rule", f"macro.{macro_key}")]
        macro = next((m for m in self.playbook.macros if m.key == macro_key), None)
        drafts = macro is not None and macro.comment is not None and macro.comment.public
        before = {str(c.get("id")) for c in self.client.comments(self.key)} if drafts else set()
        self.session.request("POST", f"{self.client.automation_base}/rule/manual/{rule}/invocation",
                             json={"objects": [f"ari:cloud:jira:{self.client.cloud_id}:issue/{self._issue()['id']}"]},
                             label=f"macro {macro_key} on {self.key}")
        if drafts:  # a phrase needing values only the agent knows comes as an internal draft (translate.py)
            self._send_drafts(before)

    def _send_drafts(self, before: set[str]) -> None:
        """What the agent does with a draft the rule left: types each value in (here: the slot's own
        label) and sends the text as a public reply."""
        from deskbook.scripts_library.placeholders import unfilled_slots

        for comment in self.client.comments(self.key):
            body = str(comment.get("body") or "")
            if str(comment.get("id")) in before or comment.get("public") or not unfilled_slots(body):
                continue
            for marker, _ in unfilled_slots(body):
                body = body.replace(marker, marker[1:-1])
            self.client.add_comment(self.key, body, public=True)

    def agent_replies(self, text: str) -> None:
        self.written.add(str(self.client.add_comment(self.key, str(text), public=True).get("id")))

    def agent_notes(self, text: str) -> None:
        self.written.add(str(self.client.add_comment(self.key, str(text), public=False).get("id")))

    def agent_sets(self, values: dict[str, Any]) -> None:
        labels = self._issue()["fields"].get("labels") or []
        add: list[str] = []
        remove: list[str] = []
        fields: dict[str, Any] = {}
        texts: dict[str, Any] = {}
        status = None
        for name, value in values.items():
            if name == "priority":
                fields["priority"] = {"name": tr.PRIORITY_NAMES.get(value, value)}
            elif name == "status":
                status = tr.STATUS_NAMES.get(value, value)
            elif name in ("group", "category") or (name.startswith("field.") and self._as_label(name[6:])):
                wanted, others = self._label_choice(name, value)
                remove += [label for label in labels if label in others and label != wanted]
                add.append(wanted)
            elif name.startswith("field."):
                texts[name[6:]] = value
            else:
                raise KeyError(f"agent_sets does not know {name!r}")
        update = {"labels": [{"remove": x} for x in dict.fromkeys(remove)] + [{"add": x} for x in dict.fromkeys(add)]}
        if fields or add or remove:
            self.client.edit_issue(self.key, fields=fields or None, update=update if add or remove else None)
        if texts:
            stored = self.client.issue_property(self.key, TEXT_PROPERTY) or {}
            self.client.set_issue_property(self.key, TEXT_PROPERTY, {**stored, **texts})
        if status:
            self._transition(status)

    def customer_replies(self, text: str) -> None:
        self.session.request("POST", f"/rest/servicedeskapi/request/{self.key}/comment",
                             json={"body": str(text), "public": True}, headers={ACT_AS: str(self.customer)},
                             label=f"request {self.key}")

    def time_passes(self, argument: dict[str, Any]) -> None:
        hours = float(argument.get("hours", 0)) + float(argument.get("days", 0)) * 24
        self.handle.pass_time(hours * 3600 + float(argument.get("minutes", 0)) * 60)

    # ------------------------------------------------------------ helpers

    def _issue(self) -> dict:
        found = self.client.issue(self.key, fields=["status", "priority", "labels", "created", "resolutiondate"])
        if found is None:
            raise KeyError(f"request {self.key} is gone")
        return found

    def _as_label(self, key: str) -> bool:
        """Whether a playbook field is kept as a label (choices, dates, numbers) rather than as text."""
        fld = self.fields.get(key)
        return fld is not None and fld.type not in ("text", "textarea", "regexp")

    def _label_choice(self, name: str, value: Any) -> tuple[str, set[str]]:
        """The label for `group`, `category` or a field value, and every label of the same choice."""
        if name == "group":
            return tr.group_label(value), {tr.group_label(g.key) for g in self.playbook.groups}
        if name == "category":
            return tr.category_label(value), {tr.category_label(c.key) for c in self.playbook.all_categories()}
        key = name[6:]
        return tr.field_label(key, value), set(tr.field_labels(self.playbook, key))

    def _transition(self, status: str) -> None:
        path = f"/rest/api/3/issue/{self.key}/transitions"
        options = self.session.get_json(path)["transitions"]
        chosen = next((t for t in options if t["to"]["name"] == status), None)
        if chosen is None:
            raise KeyError(f"no transition of {self.key} leads to {status!r}")
        self.session.request("POST", path, json={"transition": {"id": chosen["id"]}}, label=f"issue {self.key}")

    # ------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """The request in the playbook's words (see runner.py)."""
        issue = self._issue()["fields"]
        labels = list(issue.get("labels") or [])
        by_status = {v: k for k, v in tr.STATUS_NAMES.items()}
        by_priority = {v: k for k, v in tr.PRIORITY_NAMES.items()}
        groups = [g.key for g in self.playbook.groups if tr.group_label(g.key) in labels]
        relabelled = [c.key for c in self.playbook.all_categories() if tr.category_label(c.key) in labels]
        request = self.client.request(self.key)
        comments = self.client.comments(self.key)
        texts = self.client.issue_property(self.key, TEXT_PROPERTY) or {}
        fields: dict[str, Any] = {}
        for key, fld in self.fields.items():
            if self._as_label(key):
                fields[key] = next((tr.label_value(key, label) for label in labels
                                    if label in tr.field_labels(self.playbook, key) or
                                    (not fld.options and fld.type != "checkbox" and label.startswith(f"{key}-"))), None)
            else:
                fields[key] = texts.get(key)
        status = str((issue.get("status") or {}).get("name") or "")
        priority = str((issue.get("priority") or {}).get("name") or "")
        return {
            "status": by_status.get(status, status), "priority": by_priority.get(priority),
            "group": groups[-1] if groups else None,
            "category": relabelled[-1] if relabelled else self.categories_by_type.get(str(request.get("requestTypeId"))),
            "tags": labels, "fields": fields, "sla": self._sla(), "views": self._queues(),
            "messages": self._messages(request, comments), "metrics": self._metrics(), "notes": self._notes(comments),
            "locales": list(self.playbook.metadata.locales),  # a note carries its phrase's language
        }

    def _sla(self) -> dict[str, Any]:
        """The SLAs running on the request: policy (from the metric's name) and goal minutes."""
        out: dict[str, Any] = {"policy": None, "targets": {}, "breach_at": {}}
        for sla in self.client.request_sla(self.key):
            key = self._owned(sla.get("name"), "sla.") or self.sla_names.get(sla.get("name"))
            cycle = sla.get("ongoingCycle")
            if not key or not cycle:
                continue
            _, policy, metric = key.split(".", 2)
            out["policy"] = out["policy"] or policy
            out["targets"][metric] = int(((cycle.get("goalDuration") or {}).get("millis") or 0) // 60000)
            out["breach_at"][metric] = (cycle.get("breachTime") or {}).get("iso8601")
        return out

    def _queues(self) -> list[str] | None:
        """The playbook views (queues, by name) the request is in; None when the site lists no queue."""
        try:
            queues = self.client.queues()
        except DeskHTTPError:
            return None
        found = []
        for queue in queues:
            owned = self._owned(queue.get("name"), "view.")
            view = owned[len("view."):] if owned else self.views.get(queue.get("name"))
            if view is None:
                continue
            if any(i.get("key") == self.key for i in self.client.queue_issues(queue["id"])):
                found.append(view)
        return sorted(found)

    def _owned(self, name: Any, prefix: str) -> str | None:
        """The key of this playbook's object whose name ends with its marker (`sla.…`, `view.…`)."""
        found = tr.parse_marker(str(name or ""))
        if found and found[0] == self.playbook.metadata.name and found[1].startswith(prefix):
            return found[1]
        return None

    def _messages(self, request: dict, comments: list[dict]) -> list[str]:
        """What the customer received, oldest first: public comments by others than the customer."""
        reporter = (request.get("reporter") or {}).get("accountId")
        return [c.get("body") or "" for c in comments
                if c.get("public") and (c.get("author") or {}).get("accountId") != reporter]

    def _notes(self, comments: list[dict]) -> list[dict[str, Any]]:
        """What rules told agents, oldest first: internal comments nobody in the story wrote (the rule
        actor is the installing account, the same as the agent's, so the driver knows its own by id).
        JSM rules email no group (`translate.guardrail_notes`): no note names one."""
        return [{"body": c.get("body") or "", "groups": []} for c in comments
                if not c.get("public") and str(c.get("id")) not in self.written]

    def _metrics(self) -> dict[str, Any]:
        """Replies (public agent comments) and reopens (a done status left again), from the history."""
        changelog = self.session.get_json(f"/rest/api/3/issue/{self.key}/changelog")
        reopens = sum(1 for entry in changelog.get("values") or [] for item in entry.get("items") or []
                      if item.get("field") == "status" and item.get("fromString") in ("Resolved", "Closed")
                      and item.get("toString") not in ("Resolved", "Closed"))
        return {"reopens": reopens}

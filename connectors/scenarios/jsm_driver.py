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
customer are what the customer received), `GET …/request/{key}/sla` (the SLAs in force, see `_sla`), the queues of the service
desk with their issues (`GET …/servicedesk/{id}/queue`, `…/queue/{id}/issue`; a queue is a
playbook view by name) and the changelog (replies and reopens).

Embedded (`embedded_driver`): a fresh sandbox with the playbook installed; a customer's reply is
a request comment written as the customer (the sandbox's `X-Deskbook-Sandbox-Act-As` header: the
API user cannot comment as the customer) and `time_passes` moves the sandbox clock (scheduled
rules run when their cron fires).

Live (`live_driver`, `deskbook test --desk jsm --doit` on a real site): only documented endpoints,
nothing sandbox-only (no act-as header, no clock). The installed request types and manual rules
are found by their markers (the playbook must be installed); each request is raised on behalf of
one test customer, an existing customer of the service desk named by `--customer-email` or
`DESKBOOK_JSM_CUSTOMER_EMAIL` (deskbook creates no customer account on a real site: JSM cannot
delete one, FACTS.md 4.9), with the summary prefix `[deskbook test]` and the label
`deskbook_test`. The customer's own steps (a reply) need the customer's own login — their API
token in `DESKBOOK_JSM_CUSTOMER_TOKEN`, never printed — and are otherwise skipped, named, with the
rest of the story; so are the steps from the first `time_passes` on (a real site's time cannot be
moved). The requests are deleted when the scenario ends, also when a step fails or raises (`DELETE
/rest/api/3/issue/{key}`); where the site refuses (no "Delete issues" permission) they are resolved
and closed instead, and the result says so (`cleanup`).

The channel of the first message is not recorded: JSM has no chat or phone channel on a request
(see coverage.yaml and the plan notes for what depends on it).

S-11: a customer's `organization` is a JSM organization attached to the service desk, the customer
its member and the request's Organizations field set to it (`PUT /rest/api/3/issue/{key}`); the phone
survey (`record_phone_survey`) is the `phone_survey` manual rule plus the agent's score labels and
suggestions (the `deskbook.fields` property, which the report reads too; the sync job also takes
an agent's internal note `<field title>: …`, `tests/test_surveys.py`); `sync_runs` runs `deskbook sync`'s survey job (`JsmSyncDesk`) with one ledger for the
story, and the record is the organization's CSM profile (`…/organization/profile/fetch`), its writes
counted as the detail PUTs the job sent, six a record (`translate.survey_detail_fields`). Embedded
only: on a real site the job would read and write every customer of the project (`sync_runs` is
skipped, and no organization is made: organizations are site-wide).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.sandbox_command import CUSTOMER_TOKEN_ENV
from deskbook.connectors.scenarios.runner import TIME_SKIP, Driver
from deskbook.errors import DeskbookError
from deskbook.http import DeskHTTPError
from deskbook.marker import without_trailing_marker

log = logging.getLogger("deskbook.scenarios")

TEXT_PROPERTY = tr.FIELDS_PROPERTY
#: How a live test request is marked (summary prefix and label).
TEST_PREFIX = "[deskbook test]"
TEST_LABEL = "deskbook_test"
#: The test customer of live runs: an existing customer's email, and their own API token.
CUSTOMER_EMAIL_ENV = "DESKBOOK_JSM_CUSTOMER_EMAIL"
# (the token: CUSTOMER_TOKEN_ENV, one name with `deskbook sandbox jsm --customer`)
#: Steps the customer takes (a real site lets only the customer's own login do them; `as_customer`).
CUSTOMER_ACTIONS = ("customer_replies", "customer_rates")
#: Statuses a request whose deletion the site refuses is moved to, in this order (those offered).
DONE_STATUSES = ("Resolved", "Closed")
#: The sandbox's stand-in for a customer's own login (`sandbox/app.py`).
ACT_AS = "X-Deskbook-Sandbox-Act-As"
#: The priority a new request gets in JSM when nobody sets one.
DEFAULT_PRIORITY = "Medium"
_counter = itertools.count(1)


def live_skip_reason(action: str, *, customer_login: bool) -> str | None:
    """Why a step cannot run on a real site (None: it can)."""
    if action == "time_passes":
        return TIME_SKIP
    if action == "sync_runs":
        return ("the survey job reads and writes every customer of the project; on a real site run "
                "`deskbook sync --desk jsm --job surveys` itself")
    if action in CUSTOMER_ACTIONS and not customer_login:
        return (f"the customer acts here, which on a real site needs the customer's own login (set {CUSTOMER_EMAIL_ENV} "
                f"and {CUSTOMER_TOKEN_ENV}): the API user cannot write as the customer")
    return None


#: Areas a step may expect that JSM's internal API installs: area -> (installed kind, what an admin calls them).
MISSING = {"sla": ("sla_metric", "SLA goals"), "views": ("queue", "queues")}


def not_installed(what: str) -> str:
    """Why a step's `sla`/`views` expectation cannot hold on this site."""
    return (f"not installed: the playbook's {what} are not on this site (a plain apply leaves them out; "
            "deskbook apply --desk jsm --doit --allow-internal-api installs them)")


@dataclass
class LiveSite:
    """A real site the scenarios run on: the agent's connector, the installed objects' ids, and the test
    customer (account id; `customer_client` their own login, or None)."""

    connector: Any
    ids: dict
    customer_email: str
    customer_id: str
    customer_client: Any = None
    #: this run's mark at the end of each summary: finds a request whose create answer was lost
    run: str = field(default_factory=lambda: secrets.token_hex(4))


def connect_live(playbook: Any, live: dict[str, Any]) -> LiveSite:
    """Connect to the real site `live` names (url, email, token, project, cloud_id, customer_email; the
    JIRA_* / DESKBOOK_JSM_CUSTOMER_* environment otherwise) and read what the scenarios need. Reads only."""
    from deskbook.connectors.jsm.client import JsmClient, JsmConnection
    from deskbook.connectors.jsm.connector import JsmConnector
    from deskbook.log import register_secret

    connection = JsmConnection.from_env(url=live.get("url"), email=live.get("email"), token=live.get("token"),
                                        project_key=live.get("project"), cloud_id=live.get("cloud_id"))
    email = live.get("customer_email") or os.environ.get(CUSTOMER_EMAIL_ENV)
    token = os.environ.get(CUSTOMER_TOKEN_ENV) or None
    register_secret(token)
    if not email:
        raise DeskbookError("live JSM scenarios raise their requests on behalf of a test customer: none given",
                            where=connection.url,
                            hint=f"set {CUSTOMER_EMAIL_ENV} (or --customer-email) to the email of an existing customer "
                                 f"of project {connection.project_key}, and {CUSTOMER_TOKEN_ENV} to their API token for "
                                 "the customer's own steps; deskbook creates no customer account on a real site")
    connector = JsmConnector(JsmClient(connection))
    name = playbook.metadata.name
    ids: dict = {}
    for kind in ("request_type", "automation_rule"):  # all the driver acts through
        for obj in connector.list_kind(kind):
            owner_key = connector.ownership(kind, obj, name)
            if owner_key and owner_key[0] == name:
                ids.setdefault((kind, owner_key[1]), obj.get("id"))
    if not any(kind == "request_type" for kind, _ in ids):
        raise DeskbookError(f"the playbook {name} is not installed in project {connection.project_key}: no request "
                            "type carries its marker", where=connection.url,
                            hint="install it first: deskbook apply --desk jsm --doit")
    customer_client = None
    if token:
        customer_client = JsmClient(JsmConnection(url=connection.url, email=email, token=token,
                                                  project_key=connection.project_key, cloud_id=connection.cloud_id))
        customer_id = str(customer_client.session.get_json("/rest/api/3/myself",
                                                           label=f"the test customer's own login ({email})")["accountId"])
    else:
        found = connector.client.find_customer(email)
        if found is None:
            raise DeskbookError(f"no customer with the email {email} in project {connection.project_key}",
                                where=connection.url, hint="add that customer to the service project, or name another "
                                                           f"in {CUSTOMER_EMAIL_ENV}")
        customer_id = found
    return LiveSite(connector, ids, email, customer_id, customer_client)


@contextlib.contextmanager
def embedded_driver(playbook: Any, library: Any, scenario: Any, start: float) -> Iterator["JsmDriver"]:
    """A driver on a fresh embedded JSM sandbox with the playbook installed (rules enabled and run by the
    sandbox's automation engine; SLA metrics through the internal API), its clock at `start`."""
    from deskbook.connectors.commands import make_plan
    from deskbook.connectors.jsm.client import JsmClient, JsmConnection
    from deskbook.connectors.jsm.connector import JsmConnector
    from deskbook.connectors.jsm.sandbox import FakeClock, running_sandbox

    with running_sandbox(clock=FakeClock(start)) as desk:
        connection = JsmConnection(url=desk.url, email=desk.email, token=desk.token, project_key=desk.project_key,
                                   cloud_id=desk.cloud_id)
        connector = JsmConnector(JsmClient(connection), allow_internal_api=True)
        plan, snapshot = make_plan(connector, playbook, library, adopt=True)
        connector.apply(plan, snapshot)
        yield JsmDriver(connector, playbook, handle=desk)


@contextlib.contextmanager
def live_driver(playbook: Any, live: dict[str, Any], cache: dict[str, Any]) -> Iterator["JsmDriver"]:
    """A driver on the real site (connected once per run, kept in `cache`); the test requests it raised
    are deleted (or resolved and closed) when the block ends, also when it raises."""
    if "site" not in cache:
        cache["site"] = connect_live(playbook, live)
    driver = JsmDriver(cache["site"].connector, playbook, site=cache["site"])
    try:
        yield driver
    finally:
        driver.cleanup()


def dry_run(playbook: Any, scenario: Any, live: dict[str, Any]) -> str:
    """What a live run of `scenario` would create (nothing is read or written)."""
    email = live.get("customer_email") or os.environ.get(CUSTOMER_EMAIL_ENV) or f"(none: set {CUSTOMER_EMAIL_ENV})"
    login = bool(os.environ.get(CUSTOMER_TOKEN_ENV))
    skip = next(((st.index, reason) for st in scenario.steps
                 if (reason := live_skip_reason(st.action, customer_login=login))), None)
    subject = str((scenario.steps[0].argument or {}).get("subject", "request"))
    return (f"{scenario.name}: 1 test request labelled {TEST_LABEL}, summary '{TEST_PREFIX} {subject} (run …)', raised on "
            f"behalf of the customer {email}, deleted afterwards (resolved and closed where the site refuses)"
            + (f"; skips step {skip[0]} onwards ({skip[1]})" if skip else ""))


class JsmDriver(Driver):
    """Acts on one request at a time through a `JsmConnector`'s client; `site` given: on a real site."""

    #: the attributes naming the request a step acts on and its customer (the simulated week switches them)
    CURRENT = ("key", "customer")

    def __init__(self, connector: Any, playbook: Any, *, handle: Any = None, site: LiveSite | None = None):
        self.client = connector.client
        self.session = self.client.session
        self.playbook = playbook
        self.handle = handle
        self.site = site
        self.live = site is not None
        self.key: str | None = None
        self.customer: str | None = None
        self.created: list[str] = []  # live: the test requests to remove afterwards
        self.cleaned: dict[str, Any] | None = None  # live: what `cleanup` did
        self.written: set[str] = set()  # ids of the comments the story's people wrote (not the rules)
        self.ids = site.ids if site is not None else connector.populate(playbook.metadata.name).managed_ids(playbook.metadata.name)
        self.fields = {f.key: f for f in playbook.fields if f.scope == "ticket"}
        names = tr.category_names(playbook)
        self.type_ids = {key: str(self.ids[("request_type", f"category.{key}")]) for key in names
                         if ("request_type", f"category.{key}") in self.ids}
        self.categories_by_type = {type_id: key for key, type_id in self.type_ids.items()}
        metrics = tr.sla_metrics(playbook, self.client.connection.project_key)
        self.sla_names = {m["payload"]["name"]: m["key"] for m in metrics}
        self.sla_goals = {m["metric"]: m["payload"]["goals"] for m in metrics}
        self.views = {view.title.get(playbook.metadata.default_locale): view.key for view in playbook.views}
        # SLA goals and queues go through JSM's internal API, which a plain apply leaves out: embedded,
        # the installed ids say so; live (no internal reads) a request no SLA of the playbook runs on, or
        # a service desk without its queues, does (`state`)
        kinds = {kind for kind, _ in self.ids}
        self.unavailable = {area: not_installed(what) for area, (kind, what) in MISSING.items()
                            if site is None and kind not in kinds and (area != "sla" or metrics)
                            and (area != "views" or self.views)}
        self.connector = connector
        self._owned_queue_seen = False  # live: whether the service desk lists a queue of the playbook
        self.organization_id: str | None = None
        self.record_writes = 0

    # ------------------------------------------------------------ actions

    def skip_reason(self, action: str) -> str | None:
        """Why this step cannot run here (None: it can)."""
        if self.site is None:
            return None
        return live_skip_reason(action, customer_login=self.site.customer_client is not None)

    def customer_writes(self, request: dict[str, Any]) -> None:
        if self.site is not None:
            self.customer = self.site.customer_id
        else:
            n = next(_counter)
            self.customer = self.client.customer_account_id(f"deskbook-test-{n}@example.com",
                                                            str(request.get("customer", "Ms Li")))
        category = str(request.get("category") or "")
        if category not in self.type_ids:
            raise KeyError(f"the playbook installed no request type for category {category!r}")
        subject = str(request.get("subject", "request"))
        summary = f"{TEST_PREFIX} {subject} (run {self.site.run})" if self.site is not None else subject
        try:
            made = self.client.create_request(self.type_ids[category], summary, str(request.get("body", subject)),
                                              raise_on_behalf_of=self.customer)
        except DeskHTTPError as exc:
            if self.site is not None and exc.ambiguous:  # sent, answer lost: it may exist; remove it too
                self.created += self._find_lost(summary)
            raise
        self.key = str(made["issueKey"])
        if self.live:
            self.created.append(self.key)
        if request.get("organization") and not self.live:  # organizations are site-wide: embedded only
            self._join_organization(str(request["organization"]))
        # The agent records the priority the customer states; "normal" is Medium, what a new request
        # already has, so nothing is sent then (an edit would undo what the rules set on creation).
        rest = {k: v for k, v in request.items()
                if (k == "priority" and tr.PRIORITY_NAMES.get(v, v) != DEFAULT_PRIORITY) or k.startswith("field.")}
        if rest or self.live:  # live: the test label goes on with the same edit (a request's form has no labels)
            self.agent_sets(rest, label=TEST_LABEL if self.live else None)

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

    def agent_sets(self, values: dict[str, Any], *, label: str | None = None) -> None:
        labels = self._issue()["fields"].get("labels") or []
        add: list[str] = [label] if label else []
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

    def record_phone_survey(self, speed: int, resolution: int, attitude: int, suggestions: str = "") -> None:
        """What the agent does after the phone survey (S-11): runs the phone-survey rule, then enters the
        three 1-5 scores (labels) and the suggestions (text) on the request."""
        survey = self.playbook.survey
        self.agent_applies("phone_survey")
        values: dict[str, Any] = {f"field.{survey.response_speed}": f"score_{speed}",
                                  f"field.{survey.resolution}": f"score_{resolution}",
                                  f"field.{survey.attitude}": f"score_{attitude}"}
        if suggestions:
            values[f"field.{survey.suggestions}"] = suggestions
        self.agent_sets(values)

    def sync_runs(self, argument: Any) -> None:
        """`deskbook sync`'s S-11 survey job, once, with this story's ledger."""
        from deskbook.connectors.jsm.sync_desk import JsmSyncDesk
        from deskbook.sync.surveys import SURVEY_JOB

        before = self._detail_puts()
        report = self._survey_job(JsmSyncDesk, self.client)
        job = report.jobs[SURVEY_JOB]
        if report.failed or (job.skip_reasons and not job.skipped):
            raise RuntimeError(f"the survey job failed or did not run: {job.errors or job.skip_reasons}")
        puts = self._detail_puts() - before
        self.record_writes += puts // len(tr.survey_detail_fields(self.playbook))

    def _detail_puts(self) -> int:
        """Detail value PUTs this driver's client sent (the survey job writes through it)."""
        return sum(n for name, n in self.client.calls.items() if name.startswith("PUT ") and name.endswith("/details"))

    def _join_organization(self, name: str) -> None:
        """The customer's organization: made, attached to the desk, the customer its member, and the
        request's Organizations field set to it (an API-made request type's form has no such field)."""
        org = self.client.create_organization(name)
        self.organization_id = str(org["id"])
        self.client.attach_organization(self.organization_id)
        self.client.add_organization_users(self.organization_id, [str(self.customer)])
        self.client.edit_issue(self.key, fields={self.client.organizations_field_id(): [int(self.organization_id)]})

    def customer_replies(self, text: str) -> None:
        self.as_customer("POST", f"/rest/servicedeskapi/request/{self.key}/comment",
                         json={"body": str(text), "public": True}, label=f"request {self.key}")

    def as_customer(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call the customer makes (a step of `CUSTOMER_ACTIONS`): on a real site with the customer's own
        login; embedded, as the API user with the sandbox's act-as header naming the customer."""
        if self.site is None:
            headers = {**(kwargs.pop("headers", None) or {}), ACT_AS: str(self.customer)}
            return self.session.request(method, path, headers=headers, **kwargs)
        if self.site.customer_client is None:
            raise RuntimeError(live_skip_reason("customer_replies", customer_login=False))
        return self.site.customer_client.session.request(method, path, **kwargs)

    def customer_rates(self, answer: dict[str, Any]) -> None:
        """The customer's request feedback on a resolved request (`rating` 1-5, an optional
        `comment`): `POST …/request/{key}/feedback` as the customer (experimental API)."""
        from deskbook.connectors.jsm.client import EXPERIMENTAL

        body: dict[str, Any] = {"rating": int(answer["rating"])}
        if answer.get("comment"):
            body["comment"] = {"body": str(answer["comment"])}
        self.as_customer("POST", f"/rest/servicedeskapi/request/{self.key}/feedback", json=body, headers=EXPERIMENTAL,
                         label=f"feedback on {self.key}")

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
        if not self._move(str(self.key), status):
            raise KeyError(f"no transition of {self.key} leads to {status!r}")

    def _move(self, key: str, status: str) -> bool:
        """Take the transition of `key` that leads to `status`, if its workflow offers one now."""
        path = f"/rest/api/3/issue/{key}/transitions"
        chosen = next((t for t in self.session.get_json(path)["transitions"] if t["to"]["name"] == status), None)
        if chosen is not None:
            self.session.request("POST", path, json={"transition": {"id": chosen["id"]}}, label=f"issue {key}")
        return chosen is not None

    # ------------------------------------------------------------ state

    def state(self) -> dict[str, Any]:
        """The request in the playbook's words (see runner.py)."""
        found = self._issue()
        issue = found["fields"]
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
                values = tr.field_label_values(labels, key)
                if fld.options or fld.type == "checkbox":  # only the labels of its choices
                    choices = tr.field_labels(self.playbook, key)
                    values = [v for v in values if tr.field_label(key, v) in choices]
                fields[key] = values[0] if values else None
            else:
                fields[key] = texts.get(key)
        status = str((issue.get("status") or {}).get("name") or "")
        priority = str((issue.get("priority") or {}).get("name") or "")
        # read only when a step expects them (the SLA: one search per goal; the queues: one read per queue)
        sla = self._sla(int(found["id"])) if self._wants("sla") and "sla" not in self.unavailable else {}
        views = self._queues() if self._wants("views") and "views" not in self.unavailable else None
        ours = sla.pop("ours", None)  # SLAs of the playbook on the request (`_sla`), no state key
        if self.live and ours == 0:  # no SLA of the playbook on the request at all
            self.unavailable["sla"] = "no SLA of the playbook runs on this request: " + not_installed(MISSING["sla"][1])
        if self.live and not views and self._wants("views") and not self._owned_queue_seen:
            self.unavailable["views"] = not_installed(MISSING["views"][1])
        return {
            "status": by_status.get(status, status), "priority": by_priority.get(priority),
            "group": groups[-1] if groups else None,
            "category": relabelled[-1] if relabelled else self.categories_by_type.get(str(request.get("requestTypeId"))),
            "tags": labels, "fields": fields,
            "sla": sla, "views": views,
            "messages": self._messages(request, comments), "notes": self._notes(comments),
            "metrics": self._metrics() if self._wants("metrics") else {},
            "locales": list(self.playbook.metadata.locales),  # a note carries its phrase's language
            "organization_writes": self.record_writes,
            "organization": self._organization() if self._wants("organization") else None,
            "unavailable": dict(self.unavailable),
        }

    def _organization(self) -> dict[str, Any] | None:
        """The customer organization's detail values, by playbook field key (None: no organization)."""
        if self.organization_id is None:
            return None
        profiles = self.client.fetch_csm_profiles([self.organization_id])
        details = {d.get("name"): (d.get("values") or [None])[0] for d in (profiles[0] if profiles else {}).get("details") or []}
        return {f.key: details.get(f.key) for f in self.playbook.organization_fields()}

    def _sla(self, issue_id: int) -> dict[str, Any]:
        """The SLAs running on the request (an ongoing cycle): the policy in force and each metric's goal
        minutes as JSM reports them (`goalDuration`).

        An SLA named `sla.<metric>` (one JSM metric per target type, the policies' goals in policy order:
        `translate.sla_metrics`) does not say which goal applies; JSM applies the first goal whose JQL
        the request matches, so the driver finds that goal the way an admin would, one search `key = KEY
        AND (goal JQL)` per goal in order, and names its policy only when the goal's minutes are the ones
        JSM reports (else the policy reads "a <n> min goal, not <policy>'s <m> min", which no expectation
        matches). An SLA named `sla.<policy>.<metric>` (one metric per policy, before #11) names its
        policy. Several SLAs of one metric (the per-policy layout runs every matching policy's) give the
        metric a list of minutes and the policy a list of names: an expectation of one fails."""
        policies: list[str] = []
        targets: dict[str, list[int]] = {}
        breach: dict[str, Any] = {}
        ours = 0  # SLAs of the playbook on the request, running or not
        for sla in self.client.request_sla(self.key):
            key = self._owned(sla.get("name"), "sla.") or self.sla_names.get(without_trailing_marker(str(sla.get("name") or "")).strip())
            ours += bool(key)
            cycle = sla.get("ongoingCycle")
            if not key or not cycle:
                continue
            minutes = int(((cycle.get("goalDuration") or {}).get("millis") or 0) // 60000)
            parts = key.split(".")
            if len(parts) == 3:
                policy, metric = parts[1], parts[2]
            else:
                metric = parts[1]
                policy = self._goal_policy(metric, minutes, issue_id)
            policies.append(policy)
            targets.setdefault(metric, []).append(minutes)
            breach[metric] = (cycle.get("breachTime") or {}).get("iso8601")
        named = sorted(set(policies))
        return {"policy": (named[0] if len(named) == 1 else ", ".join(named)) if named else None,
                "targets": {k: v[0] if len(v) == 1 else sorted(v) for k, v in targets.items()}, "breach_at": breach,
                "ours": ours}

    def _goal_policy(self, metric: str, minutes: int, issue_id: int) -> str:
        """The policy of the first goal of `metric` whose JQL the request matches, when JSM reports its
        minutes (see `_sla`); `issue_id`: the request's, which the state has just read."""
        ident = [issue_id]  # the request was just written: its search result must be current
        for goal in self.sla_goals.get(metric, []):
            if any(True for _ in self.client.search(f"key = {self.key} AND ({goal['jql']})", fields=["summary"],
                                                    max_results=1, reconcile=ident)):
                if int(goal["duration"]) == minutes:
                    return str(goal["policy"])
                return f"a {minutes} min goal, not {goal['policy']}'s {goal['duration']} min"
        return f"a {minutes} min goal the request matches none of"

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
            self._owned_queue_seen = True
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
        JSM rules email no group (`translate.GROUP_EMAIL`, an accepted playbook limit): no note names one."""
        return [{"body": c.get("body") or "", "groups": []} for c in comments
                if not c.get("public") and str(c.get("id")) not in self.written]

    def _metrics(self) -> dict[str, Any]:
        """Replies (public agent comments) and reopens (a done status left again), from the history."""
        changelog = self.session.get_json(f"/rest/api/3/issue/{self.key}/changelog")
        reopens = sum(1 for entry in changelog.get("values") or [] for item in entry.get("items") or []
                      if item.get("field") == "status" and item.get("fromString") in ("Resolved", "Closed")
                      and item.get("toString") not in ("Resolved", "Closed"))
        return {"reopens": reopens}

    # ------------------------------------------------------------ live sites

    def cleanup(self) -> dict[str, Any]:
        """Delete the test requests this driver raised (live); where the site refuses deletion, resolve
        and close them instead. Every request is tried, whatever happens to the others; what was done
        is kept in `cleaned` (and logged)."""
        out: dict[str, Any] = {"deleted": [], "closed": [], "left": []}
        for key in self.created:
            try:
                self.client.delete_issue(key)
            except DeskHTTPError as exc:
                if exc.status == 404:  # gone already
                    out["deleted"].append(key)
                    continue
                refusal = f"HTTP {exc.status}" + (f": {exc.summary}" if exc.summary else "")
                try:
                    reached = self._close(key)
                except DeskbookError as closing:
                    out["left"].append({"key": key, "why": f"deletion refused ({refusal}); closing failed: {closing}"})
                    log.warning("test request %s is left on the site: %s", key, out["left"][-1]["why"])
                    continue
                out["closed"].append({"key": key, "status": reached, "why": f"the site refused deletion ({refusal})"})
                log.warning("test request %s could not be deleted (%s): %s instead", key, refusal, reached.lower())
            else:
                out["deleted"].append(key)
                log.info("test request %s deleted", key)
        self.created.clear()
        self.cleaned = out
        return out

    def _find_lost(self, summary: str, *, attempts: int = 3, wait: float = 2.0) -> list[str]:
        """The requests with exactly `summary` (this run's mark makes it unique) raised for the test
        customer: a create whose answer was lost. Search is eventually consistent (FACTS.md 8.2), so
        the ids of the project's newest requests, which search may not list yet, are named to be current
        (`JsmClient.unindexed_ids`) and an empty answer is asked again a few times."""
        assert self.site is not None
        jql = (f'project = "{self.client.connection.project_key}" AND reporter = "{self.site.customer_id}" '
               f'AND summary ~ "{self.site.run}" AND created >= "-1d"')
        for attempt in range(attempts):
            fresh = self.client.unindexed_ids()
            found = [str(i["key"]) for i in self.client.search(jql, fields=["summary"], reconcile=fresh)
                     if (i.get("fields") or {}).get("summary") == summary and str(i["key"]) not in self.created]
            if found or attempt == attempts - 1:
                return found
            time.sleep(wait)
        return []

    def _close(self, key: str) -> str:
        """Move a request on to a done status (each of `DONE_STATUSES` the workflow offers, in turn); the
        status reached."""
        reached = ""
        for status in DONE_STATUSES:
            if self._move(key, status):
                reached = status
        if not reached:
            raise DeskbookError(f"no transition of {key} leads to {' or '.join(DONE_STATUSES)}")
        return reached

"""Jira Service Management as a sync desk (`deskbook.sync.desk.SyncDesk`).

Reads (through `JsmClient`, i.e. `deskbook.http.DeskSession`):

- organizations: JSM has no incremental export, so every run lists all organizations
  (`start`/`limit` pages) and reads each one's contract property `deskbook.contract`
  (`client.CONTRACT_PROPERTY`: `{<contract_end_field>, <tier_field>, locale, contact_email}`) —
  one extra call per organization. The cursor is a timestamp for the record only.
- tickets: JQL search (`nextPageToken` pages): resolved requests with their Organizations
  field (`customfield_10002`) give each organization's first service date; requests labelled
  `deskbook-sync` carry our item keys as labels (known-done items).

Exactly-once on the desk side: the item key (`deskbook:<job>:<org>:<period>`) is a label set
in the same `POST /rest/servicedeskapi/request` that creates the request, so a request can
never exist without its key, and `find_task` looks it up by JQL (`labels = "<key>"`) before
any create. The key is also stored as the issue property `deskbook.sync`. The request is
raised on behalf of the organization's contact when the contact is a JSM customer, in the
job's dedicated request type (`translate.SYNC_REQUEST_TYPES`, created by `deskbook apply`),
with the rendered phrase as an internal comment.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Iterator

from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, JsmClient
from deskbook.errors import DeskbookError
from deskbook.http import DeskSession, RetryPolicy
from deskbook.sync.desk import OrganizationPage, TaskDraft, TicketPage
from deskbook.sync.schedule import Organization, parse_key

log = logging.getLogger("deskbook.sync.jsm")

SYNC_LABEL = "deskbook-sync"
SYNC_PROPERTY = "deskbook.sync"
ORGANIZATIONS_FIELD = "customfield_10002"


class JsmSyncDesk:
    """JSM implementation of the sync desk interface."""

    name = "jsm"

    def __init__(self, client: JsmClient, *, contract_end_field: str = "contract_end_date",
                 tier_field: str = "customer_tier", playbook_name: str = "standard-service"):
        self.client = client
        self.url = client.connection.url
        self.contract_end_field = contract_end_field
        self.tier_field = tier_field
        self.playbook_name = playbook_name
        self._types: dict[str, str] | None = None
        # JSM has no idempotency key: a create whose answer is lost must not be re-sent blindly.
        # Creates go through a session that retries only 429 (never executed); any other failure
        # ends this item's attempt, and the next run's `find_task` (by label) sees whether it landed.
        self.create_session = DeskSession(client.connection.url, auth=client.session.auth,
                                          policy=RetryPolicy(retry_statuses=frozenset({429})),
                                          sleep=client.session.sleep)

    @property
    def calls(self) -> Counter:
        """Requests made, by endpoint (reads and creates)."""
        return self.client.calls + self.create_session.calls

    # ------------------------------------------------------------ reads

    def organization_pages(self, cursor: str | None) -> Iterator[OrganizationPage]:
        """Every organization with its contract property (a full scan: JSM has no incremental export)."""
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        batch: list[Organization] = []
        for raw in self.client.organizations():
            batch.append(self._organization(raw))
            if len(batch) == 50:
                yield OrganizationPage(batch, [], stamp)
                batch = []
        yield OrganizationPage(batch, [], stamp)

    def _organization(self, raw: dict) -> Organization:
        contract = self.client.organization_property(raw["id"], CONTRACT_PROPERTY) or {}

        def text(value: Any) -> str | None:
            return None if value is None or value == "" else str(value)

        return Organization(id=int(raw["id"]), name=raw.get("name") or "",
                            contract_end_date=text(contract.get(self.contract_end_field)),
                            tier=text(contract.get(self.tier_field)), locale=text(contract.get("locale")),
                            contact_email=text(contract.get("contact_email")))

    def ticket_pages(self, cursor: str | None) -> Iterator[TicketPage]:
        """First service days (resolved requests per organization) and our keyed requests."""
        project = self.client.connection.project_key
        first: list[tuple[int, str]] = []
        for issue in self.client.search(f'project = {project} AND status in ("Resolved", "Closed")',
                                        fields=["resolutiondate", "created", ORGANIZATIONS_FIELD, "labels"]):
            fields = issue.get("fields") or {}
            if SYNC_LABEL in (fields.get("labels") or []):
                continue
            day = str(fields.get("resolutiondate") or fields.get("created") or "")[:10]
            for org in fields.get(ORGANIZATIONS_FIELD) or []:
                if day:
                    first.append((int(org["id"]), day))
        ours: list[tuple[str, int]] = []
        for issue in self.client.search(f"project = {project} AND labels = {SYNC_LABEL}", fields=["labels"]):
            for label in (issue.get("fields") or {}).get("labels") or []:
                if parse_key(label):
                    ours.append((label, int(issue["id"])))
        yield TicketPage(first, ours, datetime.now(timezone.utc).isoformat(timespec="seconds"))

    # ------------------------------------------------------------ tasks

    def find_task(self, key: str) -> int | None:
        """The lowest request id labelled with `key`, or None."""
        project = self.client.connection.project_key
        ids = [int(i["id"]) for i in self.client.search(f'project = {project} AND labels = "{key}"', fields=["labels"])]
        return min(ids) if ids else None

    def request_type_id(self, job: str) -> str:
        """The id of the job's dedicated request type (created by `deskbook apply --desk jsm`)."""
        if self._types is None:
            self._types = {}
            for rtype in self.client.request_types():
                owner = tr.parse_marker(rtype.get("description"))
                if owner and owner[1].startswith("sync."):
                    self._types[owner[1][len("sync."):]] = rtype["id"]
        if job not in self._types:
            raise DeskbookError(f"no request type for the {job} job in project {self.client.connection.project_key}",
                                hint="run `deskbook apply --desk jsm --doit` first (it creates the sync request types)")
        return self._types[job]

    def create_task(self, draft: TaskDraft) -> tuple[int, bool]:
        """Raise the request with the key as a label (atomic), then the property and the internal note."""
        labels = [SYNC_LABEL, draft.key, *[t for t in draft.tags if " " not in t]]
        if draft.group_key:
            labels.append(f"group-{draft.group_key}")
        body = {"serviceDeskId": self.client.desk_id, "requestTypeId": self.request_type_id(draft.job),
                "requestFieldValues": {"summary": draft.subject, "description": "", "labels": labels,
                                       ORGANIZATIONS_FIELD: [{"id": draft.organization_id}]}}
        if draft.requester_email:
            body["raiseOnBehalfOf"] = draft.requester_email
        response = self.create_session.request("POST", "/rest/servicedeskapi/request", json=body,
                                               label=f"sync task {draft.key}", raise_for_status=False)
        if response.status_code == 400 and draft.requester_email:
            log.warning("%s: %s is not a JSM customer; raising the request as the API user", draft.key,
                        draft.requester_email)
            body.pop("raiseOnBehalfOf")
            response = self.create_session.request("POST", "/rest/servicedeskapi/request", json=body,
                                                   label=f"sync task {draft.key}", raise_for_status=False)
        if response.status_code >= 400:
            raise self.create_session.error_for(response, "POST", "/rest/servicedeskapi/request", f"sync task {draft.key}")
        created = response.json()
        key = created["issueKey"]
        self.client.set_issue_property(key, SYNC_PROPERTY, {"key": draft.key, "job": draft.job})
        self.client.add_comment(key, draft.note, public=False)
        return int(created["issueId"]), False

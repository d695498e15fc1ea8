"""Jira Service Management as a sync desk (`deskbook.sync.desk.SyncDesk`).

Reads (through `JsmClient`, i.e. `deskbook.http.DeskSession`):

- organizations: those of the project's service desk (`/servicedesk/{id}/organization`, not the
  site-wide list, which holds other desks' customers). JSM has no change feed for organizations
  or their properties and no bulk property read, so every run lists them all (`start`/`limit`
  pages, ≤ 50 each) and reads each one's contract property `deskbook.contract`
  (`client.CONTRACT_PROPERTY`: `{<contract_end_field>, <tier_field>, locale, contact_email}`):
  ⌈N/50⌉ + N reads. The pages form one full scan; organizations the scan did not see are dropped
  from the ledger's index (deleted in JSM).
- tickets: JQL search (`nextPageToken` pages), incremental after the first run: requests
  resolved since the last scan (minus an hour of overlap) give first service dates through
  their Organizations field (found by its schema in `/rest/api/3/field`: the id differs per
  site); requests labelled `deskbook-sync` created since then carry our item keys as labels,
  with the `deskbook.sync` issue property returned in the same search. JQL reads relative dates
  (`-90m`), so the user's time zone does not matter.

S-11 survey results (`deskbook.sync.surveys`, when the runner calls `use_survey`): the scores are the
labels `<score field>-score_N` (`translate.field_label`: JSM keeps a playbook choice field as a label),
the suggestions the `survey_suggestions` entry of the issue property `deskbook.fields`
(`translate.FIELDS_PROPERTY`: where text fields live on JSM), both read in the resolved-requests
search the run makes anyway (by `updated` rather than `resolved` then: the phone survey's scores come
after the resolution), so no request per ticket. An agent cannot edit an issue property in JSM's
issue view, so without it the suggestions are the agent's newest internal note starting with the
field's title and a colon (`Suggestions: …`, `客户建议：…`): one comment read per surveyed request. The request's first organization gets the result;
its survey day is the resolution day (stable: a later comment must not make an old survey look new).
The record is the organization's CSM detail fields `translate.survey_detail_fields` (made by
`apply`), read with the profiles the organization scan fetches anyway (25 a call), which give
`survey_held`. A detail value is written one field a call (`PUT …/organization/{id}/details?fieldName=`,
FACTS.md 5.5), so a write is six idempotent PUTs: suggestions, scores, date, and the request last —
the request is what `survey_held` reads, so a run killed inside a write leaves a record that does not
claim the new survey, and the next run writes all six again (the same values) instead of skipping.
Without CSM or without those fields `use_survey` says why and the job is skipped.

Exactly-once on the desk side. A JSM create is several calls, none with an idempotency key:

1. `POST /rest/servicedeskapi/request` with only the fields on the request type's form (an
   API-made type has just `summary`, FACTS.md 3.3; labels there are refused unless on the form,
   4.4), on behalf of the contact's accountId (emails are refused, 4.2: the customer is looked
   up by email among the desk's customers and created when missing).
2. When the form had no labels or Organizations field: a platform edit adding the labels
   `deskbook-sync` and the item key (`deskbook:<job>:<org>:<period>`) and setting the
   Organizations field (numeric ids). `find_task` looks the key up by JQL (`labels = "<key>"`):
   labels are indexed on every site, while JQL on an issue property sees only properties an
   app declares for indexing, so the property is not the lookup key.
3. The rendered phrase as an internal comment.
4. The issue property `deskbook.sync` = `{key, job}`: the *finished* mark.

Creates and comments are never retried blindly (`deskbook.http.classify`: only 429, which
Atlassian did not execute, or a connection refused before sending): a 5xx or a lost answer ends
the item's attempt. A request with its key but without the property is
unfinished: the next run finishes it — reading its comments first, so the note is added once.
The issue id is handed to the ledger (`on_created`) the moment JSM answers the create, so a run
restarted right after a crash reads that request directly instead of trusting JQL, whose index
can lag a few seconds behind a create. A create whose answer was lost left a request without its
key (when the form takes no labels): before raising, `create_task` looks among the job's requests
of the last `ORPHAN_DAYS` days for one without a key with the same summary and requester, and
finishes that one instead. Requests go into the job's dedicated request type
(`translate.SYNC_REQUEST_TYPES`, created by `deskbook apply`).
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from deskbook.connectors.jsm import translate as tr
from deskbook.connectors.jsm.client import CONTRACT_PROPERTY, SD, JsmClient
from deskbook.errors import DeskbookError
from deskbook.sync.desk import OrganizationPage, TaskDraft, TicketPage
from deskbook.sync.schedule import Organization, parse_key


def _detail_values(profile: dict | None) -> dict[str, Any]:
    """A CSM organization profile's detail values, name -> first value."""
    return {d.get("name"): (d.get("values") or [None])[0] for d in (profile or {}).get("details") or []}


def _key_number(text: Any, project_key: str) -> str | None:
    """The number of a request of the project (`SUP-12` or `12` -> "12"), None for anything else."""
    value = str(text or "").strip()
    if value.upper().startswith(f"{project_key.upper()}-"):
        value = value[len(project_key) + 1:]
    if value.endswith(".0"):  # a NUMBER detail field may answer 12.0
        value = value[:-2]
    return value if value.isdigit() else None


def item_key(issue: dict) -> str | None:
    """The sync item key a request carries (label or `deskbook.sync` property), None when it has none."""
    prop = (issue.get("properties") or {}).get(SYNC_PROPERTY) or {}
    if prop.get("key"):
        return str(prop["key"])
    return next((label for label in (issue.get("fields") or {}).get("labels") or [] if parse_key(label)), None)

log = logging.getLogger("deskbook.sync.jsm")

SYNC_LABEL = "deskbook-sync"
SYNC_PROPERTY = "deskbook.sync"
#: How far back a create whose answer was lost is looked for (runs are daily; a retry comes sooner).
ORPHAN_DAYS = 3
#: Minutes re-read before the last scan's start: index lag and clock skew between us and Jira.
SCAN_OVERLAP_MINUTES = 60
#: Search results folded into one ledger transaction.
PAGE_SIZE = 100
#: How many issue ids after search's newest request are reconciled (`reconcileIssues` takes 50).
FRESH_LIMIT = 50


def since_clause(field: str, cursor: str | None, now: datetime) -> str:
    """` AND <field> >= -<n>m` for the minutes since `cursor` plus the overlap ("" on a first run)."""
    if not cursor:
        return ""
    try:
        last = datetime.fromisoformat(cursor)
    except ValueError:
        return ""  # a cursor from an older deskbook: read everything once
    if last.tzinfo is None:
        last = last.replace(tzinfo=timezone.utc)
    minutes = max(0, math.ceil((now - last).total_seconds() / 60)) + SCAN_OVERLAP_MINUTES
    return f" AND {field} >= -{minutes}m"


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
        self._type_names: dict[str, str] = {}
        self._orphans: dict[str, dict[str, Any]] = {}  # job -> request summary -> issue bean
        self._unfinished: dict[str, tuple[int, str]] = {}  # item key -> (issue id, issue key)
        self._fresh_ids: list[int] | None = None  # requests search may not list yet (`_fresh`), read once a run
        self.survey: Any = None  # `deskbook.sync.surveys.SurveyFields` while the survey job runs
        self._details: dict[str, str] | None | bool = False  # detail field name -> type; None: no CSM; False: unread
        self._record_types: dict[str, str] = {}  # the survey record's detail fields -> their types

    @property
    def calls(self) -> Counter:
        """Requests made, by endpoint (reads and creates)."""
        return self.client.calls

    # ------------------------------------------------------------ reads

    def organization_pages(self, cursor: str | None) -> Iterator[OrganizationPage]:
        """Every organization with its contract property: one full scan (JSM has no change feed)."""
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        scan = uuid.uuid4().hex  # unique per scan: two scans in the same second must differ
        fields = self._detail_fields() or {}
        self._details = False  # the next scan reads the definitions again
        csm = self.contract_end_field in fields  # else the organization property (CSM absent or not installed)
        raws: list[dict] = []
        for raw in self.client.iter_organizations():
            raws.append(raw)
            if len(raws) == 50:
                yield self._page(raws, csm, stamp, scan, False)
                raws = []
        yield self._page(raws, csm, stamp, scan, True)

    def _detail_fields(self) -> dict[str, str] | None:
        """The site's organization detail fields (name -> type), None without CSM; read once per scan."""
        if self._details is False:
            found = self.client.csm_detail_fields()
            self._details = None if found is None else {
                str(f.get("name")): str((f.get("type") or {}).get("name") or "") for f in found}
        return self._details  # type: ignore[return-value]

    def _page(self, raws: list[dict], csm: bool, stamp: str, scan: str, last: bool) -> OrganizationPage:
        """Organizations with their contract data: from CSM detail fields (25 profiles a call) or, without
        CSM, each one's contract property; an organization whose detail fields hold none of it yet (data
        not moved over) is read from its property too. With the survey job, the profiles also give the
        survey each record holds."""
        profiles: dict[str, dict] = {}
        if raws and (csm or self.survey):
            profiles = {str(p["id"]): p for p in self.client.fetch_csm_profiles([raw["id"] for raw in raws])
                        if p.get("id")}
        out, held = [], []
        for raw in raws:
            values = _detail_values(profiles.get(str(raw["id"])))
            if self.survey:
                held.append((int(raw["id"]), self._held(values)))
            if not csm or not any(values.get(name) for name in self.contract_names):  # the property, if any
                values = self.client.organization_property(raw["id"], CONTRACT_PROPERTY) or {}
            out.append(self._organization(raw, values))
        return OrganizationPage(out, [], stamp, scan=scan, scan_complete=last, survey_held=held)

    @property
    def contract_names(self) -> tuple[str, ...]:
        """The contract data's names (detail fields and property keys)."""
        return (self.contract_end_field, self.tier_field, "locale", "contact_email")

    def organizations_gone(self, ids: list[int]) -> list[int]:
        """Of organizations a full scan did not list, those JSM answers 404 for (really deleted)."""
        return [org_id for org_id in ids if self.client.organization(str(org_id)) is None]

    def _organization(self, raw: dict, contract: dict) -> Organization:

        def text(value: Any) -> str | None:
            return None if value is None or value == "" else str(value)

        return Organization(id=int(raw["id"]), name=raw.get("name") or "",
                            contract_end_date=text(contract.get(self.contract_end_field)),
                            tier=text(contract.get(self.tier_field)), locale=text(contract.get("locale")),
                            contact_email=text(contract.get("contact_email")))

    def ticket_pages(self, cursor: str | None) -> Iterator[TicketPage]:
        """First service days (resolved requests) and our keyed requests, since `cursor` (all when None)."""
        project = self.client.connection.project_key
        started = datetime.now(timezone.utc)
        # with the survey job, requests changed since the last scan: scores come after the resolution
        since = since_clause("updated" if self.survey else "resolved", cursor, started)
        resolved = f"project = {project} AND resolved is not EMPTY{since} ORDER BY resolved ASC"
        first: list[tuple[int, str]] = []
        surveys: list = []
        organizations = self.client.organizations_field_id()
        properties = [SYNC_PROPERTY, tr.FIELDS_PROPERTY] if self.survey else [SYNC_PROPERTY]
        for issue in self.client.search(resolved, fields=["resolutiondate", organizations, "labels"],
                                        properties=properties, max_results=PAGE_SIZE):
            fields = issue.get("fields") or {}
            day = str(fields.get("resolutiondate") or "")[:10]
            ours_too = SYNC_LABEL in (fields.get("labels") or []) or SYNC_PROPERTY in (issue.get("properties") or {})
            if not ours_too and day:
                orgs = [int(org["id"]) for org in fields.get(organizations) or []]
                first += [(org_id, day) for org_id in orgs]
                surveys += self._survey(issue, orgs, day)
            if len(first) >= PAGE_SIZE:
                yield TicketPage(first, [], cursor or "", surveys=surveys)
                first, surveys = [], []
        ours: list[tuple[str, int]] = []
        unfinished: list[tuple[str, int]] = []
        labelled = (f"project = {project} AND labels = {SYNC_LABEL}{since_clause('created', cursor, started)} "
                    "ORDER BY created ASC")
        for issue in self.client.search(labelled, fields=["labels"], properties=[SYNC_PROPERTY], max_results=PAGE_SIZE,
                                        reconcile=self._fresh()):
            finished = SYNC_PROPERTY in (issue.get("properties") or {})
            for label in (issue.get("fields") or {}).get("labels") or []:
                if parse_key(label):
                    (ours if finished else unfinished).append((label, int(issue["id"])))
            if len(ours) + len(unfinished) >= PAGE_SIZE:
                yield TicketPage(first, ours, cursor or "", unfinished, surveys=surveys)
                first, ours, unfinished, surveys = [], [], [], []
        yield TicketPage(first, ours, started.isoformat(timespec="seconds"), unfinished, surveys=surveys)

    # ------------------------------------------------------------ S-11 survey results

    def use_survey(self, fields: Any) -> str | None:
        """Report survey results and held records with these playbook survey fields (`SurveyFields`);
        returns why this site cannot keep them (no CSM, or the detail fields not made yet), else None."""
        details = self._detail_fields()
        if details is None:
            return ("Customer Service Management is not available on this site, so there are no organization "
                    "detail fields to write the survey results to")
        names = (fields.record_date, fields.record_ticket, fields.record_response_speed, fields.record_resolution,
                 fields.record_attitude, fields.record_suggestions)
        missing = [name for name in names if name not in details]
        if missing:
            return (f"the organization detail fields {', '.join(missing)} are missing: run "
                    "`deskbook apply --desk jsm --doit` (it creates them)")
        self.survey = fields
        self._record_types = {name: details[name] for name in names}
        return None

    def _survey(self, issue: dict, orgs: list[int], day: str) -> list[Any]:
        """The survey result of a resolved request with all three score labels (for its first organization)."""
        from deskbook.sync.surveys import SurveyResult, score_of, survey_scores

        if not self.survey or not orgs:
            return []
        labels = (issue.get("fields") or {}).get("labels") or []
        scores = survey_scores(self.survey, lambda key: next(
            (n for n in map(score_of, tr.field_label_values(labels, key)) if n), None))
        if scores is None:
            return []
        number = _key_number(issue.get("key"), self.client.connection.project_key)
        if number is None:
            return []
        texts = (issue.get("properties") or {}).get(tr.FIELDS_PROPERTY) or {}
        suggestions = texts.get(self.survey.suggestions) if isinstance(texts, dict) else None
        if not suggestions and self.survey.suggestions_titles:  # what an agent can write: an internal note
            suggestions = self._noted_suggestions(str(issue.get("key")))
        return [SurveyResult(orgs[0], int(number), day, *scores, str(suggestions or ""))]

    def _noted_suggestions(self, key: str) -> str | None:
        """The suggestions of the newest internal note starting with the suggestions field's title and a
        colon (`Suggestions: …`, `客户建议：…`): one comment read per surveyed request without the property."""
        from deskbook.sync.surveys import noted_suggestions

        return noted_suggestions((str(c.get("body") or "") for c in self.client.comments(key) if c.get("public") is False),
                                 self.survey.suggestions_titles)

    def _held(self, values: dict[str, Any]) -> Any:
        """What a record holds (`HeldSurvey`): the request by its number within the project, and the day."""
        from deskbook.sync.surveys import HeldSurvey

        return HeldSurvey.of(_key_number(values.get(self.survey.record_ticket), self.client.connection.project_key),
                             values.get(self.survey.record_date))

    def survey_held(self, organization_id: int) -> Any:
        """What the organization's record holds now (its profile, read from the desk)."""
        profiles = self.client.fetch_csm_profiles([str(organization_id)])
        return self._held(_detail_values(profiles[0] if profiles else None))

    def write_survey(self, organization_id: int, values: dict[str, Any]) -> None:
        """Put one survey result on the organization's detail fields, one PUT a field, the request last
        (see the module docstring); the request as its key (`SUP-12`) in a text field."""
        ticket = self.survey.record_ticket
        order = [k for k in values if k != ticket] + [ticket]
        for name in order:
            value = values[name]
            if name == ticket and self._record_types.get(name) != "NUMBER":
                value = f"{self.client.connection.project_key}-{value}"
            text = "" if value is None else str(value)
            self.client.set_csm_detail(str(organization_id), name, [text] if text else [])

    # ------------------------------------------------------------ tasks

    def find_task(self, key: str, ticket_id: int | None = None) -> int | None:
        """The request labelled `key` when it is finished; an unfinished one is kept for `create_task`.

        With the `ticket_id` an earlier run was answered (kept by the ledger), the request is read
        directly: JQL reads a search index that can lag seconds behind a create, and a run restarted
        right after a crash must not miss its own request and raise it again."""
        if ticket_id is not None:
            issue = self.client.issue(str(ticket_id), fields=["labels"], properties=[SYNC_PROPERTY])
            if issue is not None and item_key(issue) in (key, None):  # the ledger says it is ours
                return self._settled(key, [issue])
        project = self.client.connection.project_key
        found = list(self.client.search(f'project = {project} AND labels = "{key}" ORDER BY created ASC',
                                        fields=["labels"], properties=[SYNC_PROPERTY], reconcile=self._fresh()))
        return self._settled(key, found)

    def _fresh(self) -> list[int]:
        """Ids the project's requests JQL may not list yet have (`JsmClient.unindexed_ids`: search lags a
        create, FACTS.md 8.2; the ids after the newest request it finds). The searches
        that must see what an earlier run created moments ago — the item key lookups and the
        lost-create lookup, when a run follows a failed, killed or ledger-less one within the index's
        lag — name them in `reconcileIssues`. Read once a run: what this run creates, its ledger knows."""
        if self._fresh_ids is None:
            self._fresh_ids = self.client.unindexed_ids(FRESH_LIMIT)
        return self._fresh_ids

    def _settled(self, key: str, found: list[dict]) -> int | None:
        """The finished request among `found` (issue beans), else None, remembering an unfinished one."""
        if not found:
            return None
        for issue in found:
            if SYNC_PROPERTY in (issue.get("properties") or {}):
                return int(issue["id"])
        first = found[0]  # raised, but the note or the finished mark is missing: finish it, do not re-raise
        self._unfinished[key] = (int(first["id"]), first["key"])
        return None

    def request_type_id(self, job: str) -> str:
        """The id of the job's dedicated request type (created by `deskbook apply --desk jsm`)."""
        if self._types is None:
            self._types = {}
            titles = {job, *(title for names in tr.SYNC_REQUEST_TYPES.values() for title in names.values())}
            for rtype in self.client.request_types():
                # the owner property (one read, only for a type named as a job's) or an older install's description
                owner = tr.parse_marker(rtype.get("description"))
                if owner is None and rtype.get("name") in titles:
                    owner = tr.request_type_owner({"properties": {tr.OWNER_PROPERTY: self.client.request_type_property(
                        str(rtype["id"]), tr.OWNER_PROPERTY)}})
                if owner and owner[1].startswith("sync."):
                    self._types[owner[1][len("sync."):]] = rtype["id"]
                    self._type_names[owner[1][len("sync."):]] = rtype.get("name") or ""
        if job not in self._types:
            raise DeskbookError(f"no request type for the {job} job in project {self.client.connection.project_key}",
                                hint="run `deskbook apply --desk jsm --doit` first (it creates the sync request types)")
        return self._types[job]

    def create_task(self, draft: TaskDraft, on_created: Callable[[int], None] | None = None) -> tuple[int, bool]:
        """Raise the request (with its key as a label when the request type's form takes labels), then
        label it and set its Organizations field through the platform API, add the note, then the
        finished mark.

        Only fields on the request type's form go into the create (an API-made type has just
        `summary`, FACTS.md 3.3); the requester is an accountId (customer looked up by email, created
        when missing). When `find_task` met an unfinished request for this key, or a request of this
        job raised for the same summary and requester whose create answer was lost (no key yet), it is
        finished instead (returned as replayed: the request already existed)."""
        type_id = self.request_type_id(draft.job)
        on_form = self.client.request_type_field_ids(type_id)
        account = self.client.customer_account_id(draft.requester_email, draft.requester_name) \
            if draft.requester_email else None
        if draft.may_exist and draft.key not in self._unfinished and "labels" not in on_form:
            orphan = self._orphan(draft, account)  # only where an earlier attempt may have landed keyless
            if orphan is not None:
                self._unfinished[draft.key] = (int(orphan["id"]), orphan["key"])
        if draft.key in self._unfinished:
            issue_id, issue_key = self._unfinished.pop(draft.key)
            log.info("%s: finishing request %s left unfinished by an earlier run", draft.key, issue_key)
            self._link(issue_key, draft, on_form)
            self._finish(issue_key, draft, check_comments=True)
            return issue_id, True
        values: dict[str, Any] = {"summary": draft.subject}
        if "labels" in on_form:  # the key lands with the request itself
            values["labels"] = self._labels(draft)
        organizations = self.client.organizations_field_id()
        if organizations in on_form:
            values[organizations] = [int(draft.organization_id)]
        body: dict[str, Any] = {"serviceDeskId": self.client.desk_id, "requestTypeId": type_id,
                                "requestFieldValues": values}
        if account:
            body["raiseOnBehalfOf"] = account
        response = self._send_once("POST", f"{SD}/request", body, f"sync task {draft.key}")
        if response.status_code >= 400:
            raise self.client.session.error_for(response, "POST", f"{SD}/request", f"sync task {draft.key}")
        created = response.json()
        if on_created is not None:  # before the rest: a kill from here on is finished, not re-raised
            on_created(int(created["issueId"]))
        self._link(created["issueKey"], draft, on_form)
        self._finish(created["issueKey"], draft, check_comments=False)
        return int(created["issueId"]), False

    def _labels(self, draft: TaskDraft) -> list[str]:
        labels = [SYNC_LABEL, draft.key, *[t for t in draft.tags if " " not in t]]
        return labels + ([f"group-{draft.group_key}"] if draft.group_key else [])

    def _link(self, issue_key: str, draft: TaskDraft, on_form: set[str]) -> None:
        """Label the request with its key and set its Organizations field where the create could not
        (platform edit, FACTS.md 4.4; numeric organization ids, 4.5). Idempotent: retried normally."""
        organizations = self.client.organizations_field_id()
        fields = {} if organizations in on_form else {organizations: [int(draft.organization_id)]}
        update = {} if "labels" in on_form else {"labels": [{"add": label} for label in self._labels(draft)]}
        if fields or update:
            self.client.edit_issue(issue_key, fields=fields, update=update, label=f"sync task {draft.key}")

    def _orphan(self, draft: TaskDraft, account: str | None) -> dict | None:
        """A request of the draft's job from the last `ORPHAN_DAYS` days that carries no item key yet
        (its create was answered with an error or not at all) with the draft's summary and requester."""
        if draft.job not in self._orphans:
            self.request_type_id(draft.job)
            jql = (f"project = {self.client.connection.project_key} AND \"Request Type\" = "
                   f"{tr._quote(self._type_names[draft.job])} AND created >= -{ORPHAN_DAYS}d ORDER BY created ASC")
            found: dict[str, dict] = {}
            for issue in self.client.search(jql, fields=["summary", "labels", "reporter"], properties=[SYNC_PROPERTY],
                                            max_results=PAGE_SIZE, reconcile=self._fresh()):
                if item_key(issue) is None:
                    found.setdefault(str((issue.get("fields") or {}).get("summary") or ""), issue)
            self._orphans[draft.job] = found
        issue = self._orphans[draft.job].pop(draft.subject, None)
        reporter = ((issue or {}).get("fields") or {}).get("reporter") or {}
        if issue is not None and account and reporter.get("accountId") not in (None, account):
            return None
        return issue

    def _send_once(self, method: str, path: str, body: dict, label: str):
        """A write without an idempotency key: the session repeats it only when the desk did not run
        it (429, refused connection); after a 5xx or a lost answer it is not re-sent (`DeskSession`'s
        retry decision) and this item's attempt ends: the next run's `find_task` (by label) sees
        whether it landed. Other answers are returned for the caller to read."""
        return self.client.session.request(method, path, json=body, label=label, raise_for_status=False)

    def _finish(self, issue_key: str, draft: TaskDraft, *, check_comments: bool) -> None:
        """Add the internal note (unless, resuming, the request already has an internal comment: the
        note from the interrupted run, whose text may differ from today's rendering if the
        organization or playbook changed since), then set the finished mark."""
        if not (check_comments and any(c.get("public") is False for c in self.client.comments(issue_key))):
            path = f"{SD}/request/{issue_key}/comment"
            response = self._send_once("POST", path, {"body": draft.note, "public": False}, f"sync note {draft.key}")
            if response.status_code >= 400:
                raise self.client.session.error_for(response, "POST", path, f"sync note {draft.key}")
        # PUT of the same value is idempotent: the normal retry policy is safe here.
        self.client.set_issue_property(issue_key, SYNC_PROPERTY, {"key": draft.key, "job": draft.job})

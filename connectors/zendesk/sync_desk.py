"""Zendesk Support as a sync desk (`deskbook.sync.desk.SyncDesk`).

Built on `ZendeskClient` (`client.py`), like the connector: every call goes through its
`deskbook.http.DeskSession`, which owns retries and counts calls. Reads:

- organizations: time-based incremental export `GET /api/v2/incremental/organizations`
  (`start_time`, up to 1000 per page, `end_time` stored as the cursor, `end_of_stream`);
  the contract end date and tier come from `organization_fields.<contract_end_field>` and
  `.<tier_field>`; optional `organization_fields.locale` and `.contact_email` give the
  language of the note and the requester (otherwise the playbook default locale and the
  authenticated agent, i.e. the owner/admin, as Zendesk does when no requester is sent);
- tickets: on a fresh ledger the cursor-based incremental export
  `GET /api/v2/incremental/tickets/cursor` (the earliest solved/closed ticket per organization
  is its first service date; tickets whose `external_id` is one of our keys are known-done
  items); afterwards `GET /api/v2/search/export` for tickets solved since the last run;
- S-11 (`deskbook.sync.surveys`, when the runner passes the playbook's survey fields): the same
  ticket pages report each solved request of an organization whose three score dropdowns are set
  (read from the option tags; the suggestions from the ticket field, whose id one `GET
  /ticket_fields` per run finds by the ownership marker, only when a page holds such a request),
  and the organization pages report which survey each record holds; the record is written with
  `PUT /api/v2/organizations/{id}` (organization fields only) and, after an interrupted write, read
  back with `GET /api/v2/organizations/{id}`;
- `GET /api/v2/tickets?external_id=` looks one key up (only after an interrupted create);
- groups once per run when something is created (owner group found by the ownership
  marker `[deskbook:<playbook>:...<group key>]` or by name).

Writes: each task is a ticket with `external_id` = key, an internal (public: false) note, the
job's group, tags and priority, created in bulk — `POST /api/v2/tickets/create_many`, up to 100
tickets a call (`submit_tasks`); Zendesk queues a job, polled at `GET /api/v2/job_statuses/show_many`
until `completed`, whose `results` give each ticket's id (or error) by index — or one by one —
`POST /api/v2/tickets` with `Idempotency-Key` = key (`create_task`), for what a batch could not
settle. Why bulk creates stay exactly-once although `create_many` takes no Idempotency-Key is the
runner's business (`deskbook.sync.runner`, "Bulk creates"); this desk offers what it needs:

- `submit_tasks(drafts)`: the job id, as soon as Zendesk has queued the job (before it runs), so
  the ledger's pending rows name it while the run goes on with the next batch;
- `job_outcomes(job_ids)` / `wait_jobs(job_ids)`: the jobs' states and results, all from one read
  (`gone`: Zendesk no longer knows the job, job statuses expire);
- `wait_jobs_idle()`: waits until `GET /api/v2/job_statuses` (the account's recent jobs) lists
  none `queued` or `working` — after that no queued create can still add a ticket;
- `export_tail` / `export_end` / `export_tail_pages(tail, until)`: the cursor where the full ticket
  export stopped and the time before which it listed every change (this machine's clock when its
  last page was asked for, less the lag), and the export read on from there once Zendesk's
  one-minute lag has passed (`export_lag_seconds`: 60, as Zendesk documents, or
  `DESKBOOK_ZENDESK_EXPORT_LAG` for a sandbox started with `--export-lag`) — to the end, or only
  up to a time (the runner's check of its live catch-up);
- `live_changes(since)`: the tickets updated since a time, read live, without the export's lag:
  `GET /api/v2/tickets?sort_by=updated_at&sort_order=desc&per_page=100&page=N`, offset pages,
  newest change first, until a page reaches an older `updated_at`. A reading, not the spec's
  word: the official OpenAPI file lists only `external_id` for List Tickets; that it sorts by
  `sort_by`/`sort_order` with offset pagination (not with cursor pagination) is what answers in
  Zendesk's developer community report. Offset pages stop at 10,000 records (Zendesk refuses deeper
  pages with 400 since 2024, "New limits for offset-based pagination"); past that, or after
  `LIVE_MAX_PASSES` passes, the read gives up (None) and the runner waits out the lag instead.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from collections import Counter
from typing import Any, Callable, Iterator

from deskbook.connectors.zendesk.client import ZendeskClient, epoch_seconds
from deskbook.marker import owned_by
from deskbook.connectors.zendesk.translate import option_value, slug
from deskbook.sync.desk import RUNNING, OrganizationPage, TaskDraft, TicketPage
from deskbook.sync.schedule import Organization, parse_key

log = logging.getLogger("deskbook.sync.zendesk")

#: Search is indexed with a delay: look back this much further than the last scan.
SEARCH_MARGIN_SECONDS = 3600
#: The live read of a rebuilt ledger (`live_changes`): tickets a List Tickets offset page (Zendesk's
#: maximum), the records offset pages reach (Zendesk refuses past 10,000 with 400 since 2024), passes.
LIVE_PAGE_SIZE = 100
LIVE_OFFSET_LIMIT = 10_000
LIVE_MAX_PASSES = 5
#: A bulk job's (status, outcome by index: (ticket id, None) or (None, error)).
JobOutcome = tuple[str, dict[int, tuple[int | None, str | None]]]


def _solved_day(ticket: dict) -> str:
    """YYYY-MM-DD a solved ticket was solved (its last update when the export leaves `solved_at` out)."""
    return str(ticket.get("solved_at") or ticket.get("updated_at") or ticket.get("created_at") or "")[:10]


def _outcome(job: dict | None) -> JobOutcome:
    """(status, outcome by index) of one job status (None: Zendesk no longer knows the job)."""
    if job is None:
        return "gone", {}
    status = str(job.get("status") or "queued")
    out: dict[int, tuple[int | None, str | None]] = {}
    if status in ("completed", "failed"):
        raw = job.get("results")
        for position, result in enumerate(raw if isinstance(raw, list) else []):
            index = int(result.get("index", position))
            if result.get("id") is not None and not result.get("error"):
                out[index] = (int(result["id"]), None)
            else:
                out[index] = (None, f"{result.get('error') or 'failed'}: {result.get('details') or ''}".strip(": "))
    return status, out


def _export_lag_seconds() -> float:
    """Zendesk's export lag (its exports leave out the most recent minute): 60, or the
    `DESKBOOK_ZENDESK_EXPORT_LAG` of a sandbox started with another `--export-lag`."""
    value = os.environ.get("DESKBOOK_ZENDESK_EXPORT_LAG", "").strip()
    try:
        return max(0.0, float(value)) if value else 60.0
    except ValueError:
        from deskbook.errors import DeskbookError

        raise DeskbookError(f"DESKBOOK_ZENDESK_EXPORT_LAG={value!r} is not a number of seconds",
                            hint="unset it (Zendesk's lag is 60 s) or give the sandbox's --export-lag") from None


class ZendeskSyncDesk:
    """Zendesk implementation of the sync desk interface."""

    name = "zendesk"
    #: Tickets per `create_many` call (Zendesk's maximum; a larger batch is refused with 400).
    batch_size = 100
    #: Survey records per `organizations/update_many` call (Zendesk's maximum).
    survey_batch_size = 100
    #: How long to wait for bulk jobs, and the first pause between polls (doubling, at most 5 s).
    JOB_WAIT_SECONDS = 600.0
    JOB_POLL_SECONDS = 0.1

    def __init__(self, client: ZendeskClient, *, contract_end_field: str = "contract_end_date",
                 tier_field: str = "customer_tier", playbook_name: str = "standard-service"):
        self.client = client
        self.url = client.url
        self.contract_end_field = contract_end_field
        self.tier_field = tier_field
        self.playbook_name = playbook_name
        self._groups: list[dict] | None = None
        self._missing_groups: set[str] = set()
        self.survey: Any = None  # `deskbook.sync.surveys.SurveyFields` while the survey job runs
        self._ticket_field_ids: dict[str, int] | None = None
        self.export_lag_seconds = _export_lag_seconds()
        #: the `after_cursor` where the last full ticket export (no cursor) stopped
        self.export_tail: str | None = None
        #: epoch seconds (this machine's clock) before which the full export listed every change:
        #: when its last page was asked for, less the export lag
        self.export_end: float | None = None

    @property
    def session(self) -> Any:
        """The client's DeskSession (retry policy, call and retry counters)."""
        return self.client.session

    @property
    def calls(self) -> Counter:
        """Requests made, by endpoint (the session counts them)."""
        return self.client.session.calls

    # ------------------------------------------------------------ exports

    def organization_pages(self, cursor: str | None) -> Iterator[OrganizationPage]:
        """Organizations changed since the stored `end_time` (all from 0 the first time)."""
        start_time = int(cursor) if cursor else 0
        for page in self.client.organization_export(start_time):
            data = page.data
            orgs, deleted, held = [], [], []
            for raw in data.get("organizations") or []:
                if raw.get("deleted_at"):
                    deleted.append(int(raw["id"]))
                else:
                    orgs.append(self._organization(raw))
                    if self.survey:
                        held.append((int(raw["id"]), self._held(raw)))
            yield OrganizationPage(orgs, deleted, str(data.get("end_time") or dict(page.request.params)["start_time"]),
                                   survey_held=held)

    # ------------------------------------------------------------ S-11 survey results

    def use_survey(self, fields: Any) -> str | None:
        """Report survey results and held records with these playbook survey fields (`SurveyFields`)."""
        self.survey = fields
        return None

    def _held(self, raw: dict) -> Any:
        from deskbook.sync.surveys import HeldSurvey

        fields = raw.get("organization_fields") or {}
        return HeldSurvey.of(fields.get(slug(self.survey.record_ticket)), fields.get(slug(self.survey.record_date)))

    def survey_held(self, organization_id: int) -> Any:
        """What the organization's record holds now (read from the desk)."""
        return self._held(self.client.organization(organization_id))

    def write_survey(self, organization_id: int, values: dict[str, Any]) -> None:
        """Put one survey result on the organization's record (playbook keys -> Zendesk field keys)."""
        self.client.update_organization_fields(organization_id, {slug(k): v for k, v in values.items()},
                                               label=f"survey record of organization {organization_id}")

    def write_surveys(self, records: list[tuple[int, dict[str, Any]]]) -> dict[int, str | None]:
        """Put up to `survey_batch_size` survey results on their organizations' records with one
        `PUT /api/v2/organizations/update_many` (a job, waited for): organization id -> None (written)
        or the job's error for it (an organization the results do not name: not known to be written).
        Raises `DeskbookError` when the job's outcome is unknown (its answer lost, or still running after
        `JOB_WAIT_SECONDS`): the runner leaves those records pending and a later run reads them."""
        from deskbook.errors import DeskbookError

        job = self.client.update_many_organizations(
            [{"id": int(org_id), "organization_fields": {slug(k): v for k, v in values.items()}} for org_id, values in records],
            label=f"survey records of {len(records)} organization(s)")
        job_id = str(job.get("id") or "")
        if not job_id:
            raise DeskbookError("Zendesk queued a batch update without a job id", hint="the next run reads the records")
        status = self._poll(lambda: self._job_statuses([job_id])[job_id] or {},
                            lambda job: job.get("status") not in RUNNING)
        if status.get("status") not in ("completed", "failed"):
            raise DeskbookError(f"Zendesk's batch update {job_id} is {status.get('status') or 'gone'}",
                                hint="the next run reads the records and writes what they lack")
        outcome: dict[int, str | None] = {int(org_id): "no result for it in the job" for org_id, _ in records}
        for result in status.get("results") or []:  # as recorded: {id, success} or {index, error, id, details}
            org_id = int(result.get("id") or 0)
            if org_id in outcome:
                outcome[org_id] = None if result.get("success") or result.get("status") == "Updated" else \
                    f"{result.get('error') or 'failed'}: {result.get('details') or ''}".strip(": ")
        return outcome

    def _surveys(self, tickets: list[dict]) -> list[Any]:
        """Survey results of solved requests with an organization and all three scores set."""
        from deskbook.sync.surveys import SurveyResult, score_of, survey_scores

        if not self.survey:
            return []
        out = []
        for ticket in tickets:
            org_id = ticket.get("organization_id")
            if not org_id or ticket.get("status") not in ("solved", "closed") or (ticket.get("external_id") or "").startswith("deskbook:"):
                continue
            tags = ticket.get("tags") or []
            def score(key: str, tags: list[str] = tags) -> Any:  # this ticket's tags, bound now
                return score_of(next((option_value(key, t) for t in tags if t.startswith(slug(key) + "__")), None))

            scores = survey_scores(self.survey, score)
            if scores is None:
                continue
            out.append(SurveyResult(int(org_id), int(ticket["id"]), _solved_day(ticket), *scores,
                                    self._suggestions(ticket)))
        return out

    def _suggestions(self, ticket: dict) -> str:
        if self._ticket_field_ids is None:
            self._ticket_field_ids = {}
            for fld in self.client.list("ticket_field"):
                key = owned_by(fld.get("description") or "", self.playbook_name)
                if key:
                    self._ticket_field_ids[key] = int(fld["id"])
        field_id = self._ticket_field_ids.get(self.survey.suggestions)
        for entry in ticket.get("custom_fields") or ticket.get("fields") or []:
            if field_id is not None and int(entry.get("id") or 0) == field_id:
                return str(entry.get("value") or "")
        return ""

    def _organization(self, raw: dict) -> Organization:
        fields = raw.get("organization_fields") or {}

        def text(value):
            return None if value is None or value == "" else str(value)

        return Organization(
            id=int(raw["id"]),
            name=raw.get("name") or "",
            contract_end_date=text(fields.get(self.contract_end_field)),
            # the connector installs the tier as a dropdown: its value is the option's tag
            tier=option_value(self.tier_field, text(fields.get(self.tier_field))),
            locale=text(fields.get("locale")),
            contact_email=text(fields.get("contact_email")),
        )

    def ticket_pages(self, cursor: str | None) -> Iterator[TicketPage]:
        """Tickets that tell first-service dates (and, on a fresh ledger, our own tasks).

        - no cursor (fresh or lost ledger): the whole cursor-based incremental ticket export,
          which also finds every task we created before (external_id = our key);
          intermediate pages store `export:<after_cursor>` so a killed scan resumes;
        - `since:<epoch>` (every later run): only solved/closed tickets updated since then,
          through the search export. The incremental export would also page through every
          task the previous run created, which is most of the traffic at scale; tasks we
          create are recorded in the ledger directly (and looked up after a crash).
        """
        scan_started = int(time.time())
        if cursor and cursor.startswith("since:"):
            yield from self._solved_since(int(cursor.split(":", 1)[1]), scan_started)
            return
        export = iter(self.client.ticket_export(cursor.split(":", 1)[1] if cursor else None))
        while True:
            asked = time.time()  # the page's request goes out now: it lists no change after asked - lag
            page = next(export, None)
            if page is None:
                return
            tickets = page.data.get("tickets") or []
            first_service, ours = self._reduce(tickets)
            after = dict(page.next.params)["cursor"] if page.next else None
            self.export_tail = page.data.get("after_cursor") or after or self.export_tail
            if not after:
                self.export_end = asked - self.export_lag_seconds
            yield TicketPage(first_service, ours, f"export:{after}" if after else f"since:{scan_started}",
                             surveys=self._surveys(tickets))

    def export_tail_pages(self, tail: str | None, until: float | None = None) -> Iterator[TicketPage]:
        """The cursor-based ticket export read on from `tail` (None: from the start), for what the
        full export could not list yet (the most recent minute); with `until` (epoch seconds), only
        until a page lists a change after it (the export is ordered by `generated_timestamp`).
        Pages carry no cursor to store."""
        for page in self.client.ticket_export(tail):
            tickets = page.data.get("tickets") or []
            first_service, ours = self._reduce(tickets)
            yield TicketPage(first_service, ours, "")
            if until is not None and any(int(t.get("generated_timestamp") or 0) > until for t in tickets):
                return

    def live_changes(self, since: float) -> list[TicketPage] | None:
        """Every ticket whose `updated_at` is at or after `since` (epoch seconds), read live — List
        Tickets newest first (`tickets_newest_first`), no export lag — as ticket pages (our keys and
        first-service dates; no cursor); None when the read would pass Zendesk's offset limit or
        `LIVE_MAX_PASSES` (the caller then waits out the export lag instead).

        Offset pages over a list that changes while it is read: a ticket updated meanwhile moves to
        the top, and the pages below shift down by one, so a ticket not yet reached can be skipped
        (and another seen twice, which is harmless). So a pass that took more than one page is
        followed by another from page 1 down to the newest `updated_at` the previous pass saw
        (inclusive: `updated_at` has whole seconds), which lists every ticket updated since that
        pass began; a pass of one page is one answer, a consistent snapshot, and ends the read."""
        found: list[TicketPage] = []
        floor = since
        for _ in range(LIVE_MAX_PASSES):
            newest: float | None = None
            page = 0
            while True:
                page += 1
                if page * LIVE_PAGE_SIZE > LIVE_OFFSET_LIMIT:
                    return None
                data = self.client.tickets_newest_first(page, per_page=LIVE_PAGE_SIZE)
                tickets = data.get("tickets") or []
                first_service, ours = self._reduce(tickets)
                found.append(TicketPage(first_service, ours, ""))
                stamps = [epoch_seconds(t.get("updated_at")) or 0.0 for t in tickets]
                if newest is None and stamps:
                    newest = stamps[0]
                if not data.get("next_page") or not tickets or min(stamps) < floor:
                    break
            if page == 1 or newest is None:
                return found
            floor = newest
        return None

    def _solved_since(self, since: int, scan_started: int) -> Iterator[TicketPage]:
        stamp = datetime.fromtimestamp(since - SEARCH_MARGIN_SECONDS, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for page in self.client.search_export(f"type:ticket status>=solved updated>={stamp}"):
            tickets = page.data.get("results") or []
            first_service, ours = self._reduce(tickets)
            yield TicketPage(first_service, ours, f"since:{scan_started}" if page.last else f"since:{since}",
                             surveys=self._surveys(tickets))

    @staticmethod
    def _reduce(tickets: list[dict]) -> tuple[list[tuple[int, str]], list[tuple[str, int]]]:
        """(organization id, first-service day) of solved tickets; (key, id) of our own tasks."""
        first_service, ours = [], []
        for ticket in tickets:
            key = ticket.get("external_id") or ""
            if key.startswith("deskbook:") and parse_key(key):
                if ticket.get("status") != "deleted":
                    ours.append((key, int(ticket["id"])))
                continue
            org_id = ticket.get("organization_id")
            if org_id and ticket.get("status") in ("solved", "closed"):
                day = _solved_day(ticket)
                if day:
                    first_service.append((int(org_id), day))
        return first_service, ours

    # ------------------------------------------------------------ tasks

    def find_task(self, key: str, ticket_id: int | None = None) -> int | None:
        """The lowest ticket id with external_id `key`, or None (a Zendesk create is one call, so the
        ledger never holds an id for an unfinished one: `ticket_id` is not needed)."""
        ids = [int(t["id"]) for t in self.client.tickets_by_external_id(key)
               if t.get("external_id") == key and t.get("status") != "deleted"]
        return min(ids) if ids else None

    def create_task(self, draft: TaskDraft, on_created: Callable[[int], None] | None = None) -> tuple[int, bool]:
        """POST the ticket with external_id and Idempotency-Key = the item key (one call: `on_created`
        is not needed)."""
        created, replayed = self.client.create_ticket_replayed(self._ticket(draft), idempotency_key=draft.key,
                                                               label=f"sync task {draft.key}")
        return int(created["id"]), replayed

    def submit_tasks(self, drafts: list[TaskDraft]) -> str:
        """Queue the create of up to `batch_size` tasks with one `create_many`; the job id (its outcome:
        `wait_jobs`). Raises `DeskHTTPError` — ambiguous when the answer was lost: a job may exist."""
        from deskbook.errors import DeskbookError

        if not drafts or len(drafts) > self.batch_size:
            raise ValueError(f"1 to {self.batch_size} tickets per create_many, not {len(drafts)}")
        job = self.client.create_many_tickets([self._ticket(d) for d in drafts],
                                              label=f"sync tasks {drafts[0].key} +{len(drafts) - 1}")
        job_id = str(job.get("id") or "")
        if not job_id:
            raise DeskbookError("Zendesk queued a bulk create without a job id", hint="the next run looks the tasks up")
        return job_id

    def job_outcomes(self, job_ids: list[str]) -> dict[str, JobOutcome]:
        """Each job's (status, outcome by index), read with one `GET /api/v2/job_statuses/show_many`:
        `completed` or `failed` with each listed index's (ticket id, None) or (None, error) — an index
        without a result is unknown, not refused; `queued`/`working` with no results yet; `gone` when
        Zendesk no longer knows the job (only a 404 of the job's own status says so: a job the many
        read does not list is read alone)."""
        statuses = self._job_statuses(job_ids)
        return {job_id: _outcome(statuses[job_id]) for job_id in job_ids}

    def _job_statuses(self, job_ids: list[str]) -> dict[str, dict | None]:
        """Each job's status (None: Zendesk no longer knows it): one `show_many` read, and the job's own
        read for one it does not list (only that read's 404 says "gone")."""
        listed = {str(job.get("id")): job for job in self.client.job_statuses_many(job_ids)}
        return {job_id: listed[job_id] if job_id in listed else self.client.job_status(job_id) for job_id in job_ids}

    def wait_jobs(self, job_ids: list[str], *, every: bool = False) -> dict[str, JobOutcome]:
        """`job_outcomes`, polled until the first job (with `every`: each job) is no longer queued or
        working, or `JOB_WAIT_SECONDS` have passed. One read serves every job named, so the jobs that
        finished meanwhile are settled without reads of their own."""
        watched = job_ids if every else job_ids[:1]
        return self._poll(lambda: self.job_outcomes(job_ids),
                          lambda outcomes: all(outcomes[j][0] not in RUNNING for j in watched))

    def wait_jobs_idle(self) -> None:
        """Wait until the account's job list shows no job queued or working (any job: which ones are
        ours cannot be told before they finish); `DeskbookError` after `JOB_WAIT_SECONDS`."""
        from deskbook.errors import DeskbookError

        busy = self._poll(lambda: [j.get("id") for j in self.client.job_statuses() if j.get("status") in RUNNING],
                          lambda busy: not busy)
        if busy:
            raise DeskbookError(f"Zendesk still runs {len(busy)} background job(s) (e.g. {busy[0]}) after "
                                f"{self.JOB_WAIT_SECONDS:.0f} s", hint="run again later; nothing was created")

    def _poll(self, read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
        """`read()` until `done` says so or `JOB_WAIT_SECONDS` have passed (pauses from `JOB_POLL_SECONDS`,
        doubling, at most 5 s); the last reading."""
        deadline = time.monotonic() + self.JOB_WAIT_SECONDS
        pause = self.JOB_POLL_SECONDS
        while True:
            result = read()
            if done(result) or time.monotonic() >= deadline:
                return result
            time.sleep(pause)
            pause = min(5.0, pause * 2)

    def _ticket(self, draft: TaskDraft) -> dict[str, Any]:
        """The ticket JSON of one task (single and bulk creates send the same)."""
        ticket: dict[str, Any] = {
            "subject": draft.subject,
            "comment": {"body": draft.note, "public": False},
            "external_id": draft.key,
            "organization_id": draft.organization_id,
            "tags": list(draft.tags),
            "priority": draft.priority,
        }
        group_id = self.group_id(draft.group_key, draft.group_name)
        if group_id is not None:
            ticket["group_id"] = group_id
        if draft.requester_email:
            ticket["requester"] = {"email": draft.requester_email, "name": draft.requester_name or draft.requester_email}
        return ticket

    def group_id(self, group_key: str | None, group_name: str | None) -> int | None:
        """The Zendesk id of the job's owner group (by ownership marker, then by name); None with a warning."""
        if not group_key and not group_name:
            return None
        if self._groups is None:
            self._groups = self.client.list("group")
        for group in self._groups:
            description = group.get("description") or ""
            if group_key and owned_by(description, self.playbook_name) == group_key:
                return int(group["id"])
        for group in self._groups:
            if group_name and group.get("name") == group_name:
                return int(group["id"])
        label = group_key or group_name or ""
        if label not in self._missing_groups:
            self._missing_groups.add(label)
            log.warning("group %r is not in Zendesk; tasks stay unassigned (run `deskbook apply` first)", label)
        return None


def connect(url: str | None, email: str | None, token: str | None, *, session_options: dict | None = None,
            **options: Any) -> ZendeskSyncDesk:
    """A ZendeskSyncDesk over a `ZendeskClient` for explicit values or the environment, read as `plan`
    reads it (ZENDESK_URL or ZENDESK_SUBDOMAIN, ZENDESK_EMAIL, ZENDESK_API_TOKEN)."""
    return ZendeskSyncDesk(ZendeskClient(url, email, token, **(session_options or {})), **options)

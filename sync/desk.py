"""The desk interface the sync jobs use; one implementation per desk (Zendesk first).

A desk streams its organizations and tickets as export pages (each page carries the cursor
to store once the page is applied), finds a task by its key, and creates a task with the key
as desk-side idempotency key. Nothing here talks HTTP.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Protocol

from deskbook.sync.schedule import Organization

#: The statuses of a desk's bulk job that has not finished (a bulk desk's `wait_jobs` outcomes:
#: `queued`/`working`, then `completed`/`failed`, or `gone` when the desk no longer knows the job).
RUNNING = ("queued", "working")


@dataclass(frozen=True)
class OrganizationPage:
    """One page of the organization export."""

    organizations: list[Organization]
    deleted_ids: list[int]
    cursor: str  # what to store to continue after this page
    #: set by desks without a change feed (JSM), which list every organization each run: the id
    #: of this full scan; on the scan's last page `scan_complete` is True and the runner drops the
    #: organizations the scan did not see that the desk's `organizations_gone(ids)` confirms.
    scan: str | None = None
    scan_complete: bool = False
    #: (organization id, `deskbook.sync.surveys.HeldSurvey`): the last survey each organization's
    #: record holds (desks that keep S-11 results on the record; empty otherwise)
    survey_held: list = field(default_factory=list)


@dataclass(frozen=True)
class TicketPage:
    """One page of the ticket export, already reduced to what the jobs need."""

    first_service: list[tuple[int, str]]  # (organization id, YYYY-MM-DD of a solved ticket)
    our_items: list[tuple[str, int]]  # (item key found as external_id, ticket id)
    cursor: str
    #: (item key, ticket id) of tasks the desk holds but whose multi-step create did not finish
    #: (JSM: request raised, internal note or key property missing): the ledger marks them
    #: pending, so the runner asks the desk to finish them instead of counting them done.
    unfinished: list[tuple[str, int]] = field(default_factory=list)
    #: `deskbook.sync.surveys.SurveyResult`s of surveyed requests on this page (S-11)
    surveys: list = field(default_factory=list)


@dataclass(frozen=True)
class TaskDraft:
    """A task (ticket) to create for one due item."""

    key: str  # external_id and Idempotency-Key
    job: str
    organization_id: int
    subject: str
    note: str  # internal (non-public) note
    group_name: str | None
    group_key: str | None
    tags: tuple[str, ...] = ()
    priority: str = "normal"
    requester_email: str | None = None
    requester_name: str | None = None
    fields: dict = field(default_factory=dict)  # playbook field key -> value
    #: whether an earlier attempt may have made this task where the desk cannot find it by its key
    #: (the item is pending, or the ledger is new or rebuilt and has not finished a run): a desk whose
    #: create can land without its key (JSM) then looks for such a task first; False: never tried
    may_exist: bool = True


class SyncDesk(Protocol):
    """What a desk offers the sync jobs."""

    name: str
    url: str

    @property
    def calls(self) -> Counter:
        """"METHOD /path" -> count, read by reports and benchmarks."""

    def organization_pages(self, cursor: str | None) -> Iterator[OrganizationPage]:
        """Organizations changed since `cursor` (all when None), page by page."""

    def ticket_pages(self, cursor: str | None) -> Iterator[TicketPage]:
        """Tickets changed since `cursor` (all when None), page by page."""

    def find_task(self, key: str, ticket_id: int | None = None) -> int | None:
        """The id of the task whose external key is `key`, or None; `ticket_id` is the id an earlier
        run was told by the desk (the ledger keeps it), to look at directly instead of searching."""

    def create_task(self, draft: TaskDraft, on_created: Callable[[int], None] | None = None) -> tuple[int, bool]:
        """Create the task (idempotent on `draft.key`): (ticket id, True when the desk replayed an earlier
        create). Desks whose create takes several calls report the id through `on_created` as soon as
        the desk answers with it, so a run killed before the last call knows what to finish."""


class SurveyDesk(SyncDesk, Protocol):
    """A sync desk that keeps S-11 survey results on the customer's record (`deskbook.sync.surveys`;
    the runner runs the survey job on desks that have `write_survey`)."""

    def use_survey(self, fields: Any) -> str | None:
        """From now on report `TicketPage.surveys` and `OrganizationPage.survey_held` for these playbook
        survey fields (`SurveyFields`); returns why this desk cannot keep the record (the job is skipped
        with that reason), else None."""

    def survey_held(self, organization_id: int) -> Any:
        """What the organization's record holds now (`HeldSurvey`), read from the desk."""

    def write_survey(self, organization_id: int, values: dict[str, Any]) -> None:
        """Put one survey result (playbook record field key -> value) on the organization's record;
        repeating it must be harmless, and after a write cut short `survey_held` must not report it."""


class BatchSurveyDesk(SurveyDesk, Protocol):
    """A survey desk that also writes many records with one request (`survey_batch_size` over 1): the
    runner sends its due records in batches (`deskbook.sync.runner.settle_surveys`)."""

    survey_batch_size: int

    def write_surveys(self, records: list[tuple[int, dict[str, Any]]]) -> dict[int, str | None]:
        """Put each (organization id, values) on its record with one bulk request; organization id ->
        None (written) or why not. Raises when the outcome of the whole request is unknown."""


class BulkDesk(SyncDesk, Protocol):
    """A sync desk that also creates tasks in bulk (`deskbook.sync.runner.bulk_desk`: `submit_tasks` and
    a `batch_size` over 1); the runner's "Bulk creates" drive it."""

    batch_size: int

    def submit_tasks(self, drafts: list[TaskDraft]) -> str:
        """Queue the create of up to `batch_size` tasks in one bulk job; returns the job id."""

    def wait_jobs(self, job_ids: list[str], *, every: bool = False) -> dict[str, Any]:
        """Each job's (status, outcome by index) once the first job (with `every`: each) is no longer
        `RUNNING`, or after the desk's wait budget."""

    def wait_jobs_idle(self) -> None:
        """Return once the desk runs no bulk job (of anyone's): every create sent before has landed."""

    def export_tail_pages(self, tail: str | None, until: float | None = None) -> Iterator[TicketPage]:
        """The ticket export read on from `tail`, for what the full export could not list yet (with
        `until`, epoch seconds: only until a page lists a change after it)."""

    def live_changes(self, since: float) -> list[TicketPage] | None:
        """The tickets updated at or after `since` (epoch seconds), read live without the export's lag,
        as ticket pages; None when that read would pass the desk's bounds (the runner waits out the
        lag then). Optional: the runner waits out the lag on a bulk desk without it."""

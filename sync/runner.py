"""One sync run: refresh the local index from the desk's exports, then create what is due.

Exactly once, level-triggered:

1. The organization and ticket exports are read incrementally from the stored cursors;
   each page and its cursor are committed together. The ticket export also reports every
   ticket whose `external_id` is one of our keys, so a lost or fresh ledger learns what the
   desk already holds before anything is created.
2. For each due item: `done` in the ledger → already done. Otherwise a `pending` intent is
   committed *before* the create call; a `pending` row left by a killed run is looked up in
   the desk by external_id first. The create itself carries `Idempotency-Key` = the key, so
   a retried or replayed request never makes a second ticket.

Bulk creates (desks with `submit_tasks` and `batch_size` > 1: Zendesk's `create_many`, 100
tickets a call, so a first run at 100,000 organizations sends hundreds of writes, not tens of
thousands). A bulk create carries no idempotency key: Zendesk queues a job and whatever the job
creates stays created. Exactly-once then rests on the ledger seeing every task deskbook made before
it sends a batch, and on never sending a key again while a create of it may still land:

- **Intent, then job id, then outcome** (`_Batcher.flush`): the batch's pending rows are committed
  (marked "sent in a batch") before the call; when Zendesk answers with the job id, each row keeps
  `<job id>#<index>`; when the job completes, each row becomes done with its ticket id, or is dropped
  when the job's result for its index is an error (nothing was created: a later run tries again).
  Up to `JOBS_IN_FLIGHT` jobs run while the next batches are prepared and sent (the desk works
  while deskbook renders); the oldest is waited for first, and one status read (`show_many`) serves
  every job in flight, so the jobs finished meanwhile are settled with it.
- **After a crash** (`_Batcher.recover`, before anything is created): the rows naming jobs read
  those jobs (together; waits while one is queued or working) and take their results. A row whose job
  id never came back (killed while the request was in flight, or an ambiguous answer: a 5xx or a
  lost answer) waits until the request can no longer be answered (the HTTP timeout since it was
  sent), then until the desk lists no job queued or working; after that no queued create can add
  a ticket, and the key goes the single way: looked up by external_id, created with the
  Idempotency-Key only if absent. A job Zendesk no longer knows (statuses expire) goes the same way.
- **A new or rebuilt ledger** (`_catch_up`) cannot see what deskbook created in the export's last
  minute (Zendesk's incremental exports leave out the most recent minute), and a bulk create would
  not be caught by an idempotency key. What the export leaves out is every ticket *updated* in its
  last minute, not only the new ones: a task made long ago that an agent touched in that minute is
  hidden too. So a ledger whose ticket export starts from the beginning is marked `bulk=wait`, and
  before its first batch the run (1) waits until the desk lists no job queued or working, at the
  run's start, so every earlier create has landed by then; (2) reads the exports as usual,
  remembering where the ticket export stopped (`bulk=wait:<cursor>`, kept across a kill) and when
  (`bulk_export_end`: this machine's clock when the export's last page was asked for, less the
  lag — the export lists every change before it); (3) reads live what the export could not list:
  every ticket whose `updated_at` is at or after that end, less `LIVE_READ_MARGIN_SECONDS`
  (`updated_at` has whole seconds; the desk's clock may differ from this one by a little), newest
  first (the desk's `live_changes`: Zendesk's List Tickets `sort_by=updated_at&sort_order=desc`,
  offset pages, re-read from page 1 while a pass takes more than one page, since a ticket changed
  meanwhile jumps to the top past the offset), records our keys, and marks `bulk=ok`. No minute is
  waited out. Only when the live read would pass the desk's bounds (Zendesk's offset pages reach
  10,000 records; a handful of passes), or the export's end is unknown (a ledger from an older
  deskbook, a kill between the two cursors), does the run do what it did before: wait until the
  export lag has passed since (1) — often already, the export of a large desk takes longer — and
  read the ticket export on from the stored cursor, which then lists every ticket changed before (1).
  **The known gap** of the live read: the export orders by `generated_timestamp`, which system
  updates move without moving `updated_at` (spec, Incremental Ticket Export: "The `updated_at`
  value is updated only if the update generates a ticket event. The `generated_timestamp` value is
  updated for all ticket updates, including system updates"). A task of ours whose only change in
  the export's last minute (or while the export paged past it) was a system update is listed by
  neither read, and a bulk create makes it a second time. No documented live read lists those
  (search is indexed late; List All Ticket Audits "should not be used for capturing change data"),
  so the gap is not closed but watched: **the safety net** (`check_hidden`, cursor `bulk_check`)
  reads the export on from the stored cursor once the lag has passed since the live read — at the
  end of the same run when it outlasted the lag, else at the start of the next run that comes
  after it (a daily run always does) — up to the live read's end (a few export pages: the tasks made within the margin
  after the live read come first, 1,000 a page; 4 at 100,000 organizations), records a key the
  ledger did not know, and reports a key the ledger holds with another ticket as a duplicate
  deskbook made (an error in the log and `duplicates` in the run report), once. It costs a few reads,
  where the wait it replaces cost a minute of every rebuilt ledger's first run; the duplicate it
  names needs a system update on one of our tasks inside one particular minute. `DESKBOOK_BULK=0`
  turns bulk creates off; the recovery and the catch-up still run on such a desk (an earlier run
  may have created in bulk).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Iterable, cast

from deskbook.errors import DeskbookError
from deskbook.sync.desk import RUNNING, BulkDesk, SurveyDesk, SyncDesk
from deskbook.sync.jobs import SyncSettings, draft_task
from deskbook.sync.ledger import Ledger, LedgerError
from deskbook.sync.schedule import JOBS, DueItem, due_for, parse_key
from deskbook.sync.surveys import SURVEY_JOB, record_values, survey_due

log = logging.getLogger("deskbook.sync")

#: How many skip reasons a report lists per job (all are counted).
MAX_REASONS = 20


@dataclass
class JobReport:
    """Counts for one job."""

    created: int = 0
    already_done: int = 0
    skipped: int = 0
    failed: int = 0
    would_create: int = 0
    skip_reasons: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        """Count a skipped item (the first `MAX_REASONS` reasons are listed)."""
        self.skipped += 1
        if len(self.skip_reasons) < MAX_REASONS:
            self.skip_reasons.append(reason)

    def fail(self, key: str, error: Any) -> None:
        """Count an item that could not be made (the first `MAX_REASONS` errors are listed)."""
        self.failed += 1
        if len(self.errors) < MAX_REASONS:
            self.errors.append(f"{key}: {error}")

    def to_json(self) -> dict:
        """Plain dict for `--json`."""
        return {
            "created": self.created,
            "already_done": self.already_done,
            "skipped": self.skipped,
            "failed": self.failed,
            "would_create": self.would_create,
            "skip_reasons": self.skip_reasons,
            "errors": self.errors,
        }


@dataclass
class SyncReport:
    """The result of one run."""

    as_of: date
    dry_run: bool
    jobs: dict[str, JobReport]
    organizations: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    #: the largest share of the desk's rate limit the run used in any minute (None: no limit reported)
    rate_share: float | None = None
    #: the share the run kept to (`DESKBOOK_RATE_SHARE`)
    rate_budget: float | None = None
    #: "<key>: tickets <a> and <b>": a task found twice by `check_hidden` (a live catch-up missed one)
    duplicates: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Failures over all jobs."""
        return sum(j.failed for j in self.jobs.values())

    def to_json(self) -> dict:
        """Plain dict for `--json`."""
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "organizations": self.organizations,
            "interrupted": self.interrupted,
            "jobs": {name: job.to_json() for name, job in self.jobs.items()},
            "requests": self.requests,
            "rate_share": self.rate_share,
            "rate_budget": self.rate_budget,
            "duplicates": self.duplicates,
        }

    def text(self) -> str:
        """Human-readable summary, one line per job."""
        lines = [f"sync as of {self.as_of.isoformat()}{' (dry run)' if self.dry_run else ''}: {self.organizations} organizations"]
        for name, job in self.jobs.items():
            made = f"would create {job.would_create}" if self.dry_run else f"created {job.created}"
            lines.append(f"  {name}: {made}, already done {job.already_done}, skipped {job.skipped}, failed {job.failed}")
            lines += [f"    skipped: {reason}" for reason in job.skip_reasons]
            lines += [f"    failed: {error}" for error in job.errors]
        if self.rate_share is not None:
            budget = f" (budget {self.rate_budget:.0%})" if self.rate_budget is not None else ""
            lines.append(f"  rate limit: at most {self.rate_share:.0%} of the desk's limit in any minute{budget}")
        lines += [f"  DUPLICATE task (the live catch-up read missed the first): {entry}" for entry in self.duplicates]
        if self.interrupted:
            lines.append("  interrupted: stopped before the end; the next run continues")
        return "\n".join(lines)


_index_lock = threading.Lock()


def _progress(total_hint: str):
    """A tqdm bar on a terminal, None otherwise (plain log lines then)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(desc=total_hint, unit="page", file=sys.stderr, leave=False)


def _creation_bar(ledger: Ledger, settings: SyncSettings, jobs: tuple[str, ...], as_of: date):
    """On a terminal, a tqdm bar over the tasks this run will create (total and ETA): a first pass
    over the index counts the due items not done yet. None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    done = ledger.done_keys()
    total = sum(1 for org in ledger.iter_organizations()
                for item in due_for(org, as_of, settings.schedule, jobs)[0] if item.key not in done)
    return tqdm(total=total, desc="creating tasks", unit="task", file=sys.stderr, leave=False) if total else None


#: Bulk jobs a run keeps queued or running at the desk at once: a third of Zendesk's job limit (30 per
#: account, "Job limit" in the API reference's rate limits; other integrations share it, and a job over
#: the limit is refused with 429 and sent again after its Retry-After). With fewer, the run stalls on
#: every status poll while the desk idles (at 3: 39 status reads and 15.7 s for 92 jobs on the sandbox;
#: at 10: 10 reads and 5.1 s — benchmarks/sync_scale.py --wall).
JOBS_IN_FLIGHT = 10
#: Ledger cursor (`<name>:<job>`): "yes" once a run with this ledger settled every due item of the job (a
#: new or rebuilt ledger has not: an attempt of the lost one may have left a task the desk cannot find by
#: its key, `TaskDraft.may_exist`).
CHECKED_CURSOR = "settled_once"
#: Seconds added to the desk's export lag before the catch-up read of a new ledger.
CATCH_UP_MARGIN_SECONDS = 1.0
#: Seconds the live catch-up read looks back before the export's end: `updated_at` has whole
#: seconds, and the export's end is this machine's clock (the desk's may differ a little).
LIVE_READ_MARGIN_SECONDS = 5.0


def bulk_desk(desk: Any) -> bool:
    """Whether `desk` takes bulk creates: then every run settles the bulk jobs earlier runs left and a
    new ledger catches up before creating anything — whether this run creates in bulk or not
    (`DESKBOOK_BULK=0`), an earlier one may have."""
    return callable(getattr(desk, "submit_tasks", None)) and getattr(desk, "batch_size", 1) > 1


def _rebuilding(ledger: Ledger) -> bool:
    """True for a ledger that has not yet seen every task in the desk (new, rebuilt, or its
    catch-up read not done): it must not send bulk creates yet."""
    tickets = ledger.cursor("tickets")
    return tickets is None or tickets.startswith("export:") or (ledger.cursor("bulk") or "").startswith("wait")


def refresh_index(desk: SyncDesk, ledger: Ledger) -> None:
    """Bring the ledger's organization index and our-ticket knowledge up to date (incremental)."""
    bulk = bulk_desk(desk)
    if bulk and _rebuilding(ledger) and not (ledger.cursor("bulk") or "").startswith("wait"):
        ledger.set_cursor("bulk", "wait")
    with _index_lock:
        for name, pages, apply in (
            ("organizations", desk.organization_pages,
             lambda p: _apply_organization_page(desk, ledger, p)),
            ("tickets", desk.ticket_pages,
             lambda p: ledger.record_tickets(p.first_service, p.our_items, ("tickets", p.cursor), p.unfinished,
                                             p.surveys)),
        ):
            bar = _progress(f"reading {name}")
            count = 0
            for page in pages(ledger.cursor(name)):
                apply(page)
                count += 1
                if bar is not None:
                    bar.update(1)
                elif count % 10 == 0:
                    log.info("read %d pages of %s", count, name)
            if bar is not None:
                bar.close()
            log.debug("%s export: %d page(s)", name, count)
    tail = getattr(desk, "export_tail", None)
    if bulk and tail and ledger.cursor("bulk") == "wait" and (ledger.cursor("tickets") or "").startswith("since:"):
        end = getattr(desk, "export_end", None)
        ledger.set_cursor("bulk_export_end", None if end is None else repr(float(end)))
        ledger.set_cursor("bulk", f"wait:{tail}")  # where the full export stopped: the catch-up reads on from here


def _catch_up(desk: Any, ledger: Ledger, since: float) -> None:
    """The catch-up of a new or rebuilt ledger (see "Bulk creates" above): read live what the
    full export could not list yet — every ticket updated since the export's end, less
    `LIVE_READ_MARGIN_SECONDS` — then mark `bulk=ok` and leave the hidden-window check for later
    (`check_hidden`). When the desk has no live read, the live read would pass its bounds, or the
    export's end is unknown (a ledger from an older deskbook, or a kill between the two cursors):
    once the desk's export lag has passed since `since` (a monotonic time at which no bulk job was
    running), read the ticket export on from where the full export stopped instead."""
    lag = float(getattr(desk, "export_lag_seconds", 60.0))
    tail = (ledger.cursor("bulk") or "wait").partition(":")[2] or None
    wait = since + lag + CATCH_UP_MARGIN_SECONDS - time.monotonic()
    end = ledger.cursor("bulk_export_end")
    live = getattr(desk, "live_changes", None)
    if wait > 0 and lag > 0 and end and callable(live):
        calls = sum(desk.calls.values())
        pages = live(float(end) - LIVE_READ_MARGIN_SECONDS)
        if pages is not None:
            for page in pages:
                ledger.record_tickets(page.first_service, page.our_items, None, page.unfinished)
            ledger.set_cursor("bulk_check", f"{time.time() + LIVE_READ_MARGIN_SECONDS!r}:{tail or ''}")
            ledger.set_cursor("bulk_export_end", None)
            ledger.set_cursor("bulk", "ok")
            log.info("new ledger: caught up with the desk by a live read (%d request(s), no wait for the "
                     "export lag); bulk creates from here", sum(desk.calls.values()) - calls)
            return
        log.info("new ledger: too many tickets changed since the export's end for a live read")
        wait = since + lag + CATCH_UP_MARGIN_SECONDS - time.monotonic()
    if wait > 0:
        log.info("new ledger: waiting %.0f s for the desk's export to list the last minute's tickets", wait)
        time.sleep(wait)
    pages = 0
    for page in desk.export_tail_pages(tail):
        ledger.record_tickets(page.first_service, page.our_items, None, page.unfinished)
        pages += 1
    ledger.set_cursor("bulk_export_end", None)
    ledger.set_cursor("bulk", "ok")
    log.info("new ledger: caught up with the desk (%d export page(s)); bulk creates from here", pages)


def check_hidden(desk: Any, ledger: Ledger, report: SyncReport) -> None:
    """The safety net behind a live catch-up (see "Bulk creates" above): once the export lag has
    passed since the live read, read the ticket export on from where the full export stopped, up to
    the live read's end, for tickets carrying our keys. A key the ledger did not know is recorded (it
    was hidden from both reads: a system update moved it); a key the ledger holds with another ticket
    is a duplicate this deskbook made — logged as an error and listed in the run report. Deferred to a
    later run while the lag has not passed; a few export pages. It reads the export
    only up to the live read's end: a hidden task that a further system update moved past that too
    is not seen here (the net is cheap, not complete)."""
    value = ledger.cursor("bulk_check")
    if not value:
        return
    until_text, _, tail = value.partition(":")
    until = float(until_text)
    lag = float(getattr(desk, "export_lag_seconds", 60.0))
    if time.time() < until + lag + CATCH_UP_MARGIN_SECONDS:
        log.debug("the check of the live catch-up waits for the export lag (a later run does it)")
        return
    pages = 0
    for page in desk.export_tail_pages(tail or None, until=until):
        pages += 1
        for key, ticket_id in page.our_items:
            state = ledger.item_state(key)
            if state is None:
                ledger.record_tickets((), [(key, ticket_id)], None)
                log.warning("the export lists task %s (ticket %s) that the live catch-up read did not: recorded",
                            key, ticket_id)
            elif state[0] == "done" and state[1] is not None and int(state[1]) != int(ticket_id):
                report.duplicates.append(f"{key}: tickets {state[1]} and {ticket_id}")
                log.error("DUPLICATE: %s is on tickets %s and %s — the live catch-up read did not list ticket %s "
                          "(a system update hid it); merge or delete one in the desk", key, state[1], ticket_id,
                          min(int(state[1]), int(ticket_id)))
    ledger.set_cursor("bulk_check", None)
    log.info("checked the live catch-up against the export (%d page(s)): %d duplicate(s)", pages,
             len(report.duplicates))


def _apply_organization_page(desk: SyncDesk, ledger: Ledger, page) -> None:
    """Store one organization page; after a complete full scan, drop the organizations it did not
    list once the desk confirms they are gone (a listing that shifted mid-scan can skip a live one)."""
    ledger.upsert_organizations(page.organizations, page.deleted_ids, ("organizations", page.cursor), scan=page.scan,
                                survey_held=page.survey_held)
    if page.scan and page.scan_complete:
        unseen = ledger.unseen_organizations(page.scan)
        confirm = getattr(desk, "organizations_gone", None)
        gone = confirm(unseen) if (confirm is not None and unseen) else unseen
        if len(gone) < len(unseen):
            log.info("%d organization(s) missing from the scan still exist; kept", len(unseen) - len(gone))
        ledger.delete_organizations(gone)


def run_jobs(
    desk: SyncDesk,
    ledger: Ledger,
    settings: SyncSettings,
    library: Any = None,
    *,
    jobs: Iterable[str] = JOBS,
    as_of: date | None = None,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    refresh: bool = True,
) -> SyncReport:
    """Run the given jobs once against `desk`, recording in `ledger`; returns the report.

    Refuses (before reading the desk) when a phrase one of the jobs writes is not approved."""
    jobs = tuple(jobs)
    task_jobs = tuple(j for j in jobs if j in JOBS)
    surveys = SURVEY_JOB in jobs and settings.survey is not None and hasattr(desk, "write_survey")
    library = approved_job_library(settings, library, task_jobs)
    as_of = as_of or date.today()
    report = SyncReport(as_of=as_of, dry_run=dry_run, jobs={name: JobReport() for name in jobs})
    if SURVEY_JOB in jobs and settings.survey is not None and not surveys:
        report.jobs[SURVEY_JOB].skip_reasons.append(f"{desk.name}: this desk keeps no survey record")
    headroom = _headroom(desk)
    if headroom is not None:
        from deskbook.http import rate_share_from_env

        report.rate_budget = rate_share_from_env()
        headroom.start(report.rate_budget)
    if surveys:  # the ticket export then also reports survey results, the organization pages the records
        refusal = cast(SurveyDesk, desk).use_survey(settings.survey)  # `surveys`: it has write_survey
        if refusal:
            surveys = False
            report.jobs[SURVEY_JOB].skip_reasons.append(f"{desk.name}: {refusal}")
            log.warning("%s: skipped: %s", SURVEY_JOB, refusal)
    bulk = not dry_run and bulk_desk(desk)
    # per job, before this run reads anything into the ledger
    unchecked = {job: ledger.cursor(f"{CHECKED_CURSOR}:{job}") != "yes" for job in task_jobs}
    caught_up_from = None
    if bulk and _rebuilding(ledger):
        cast(BulkDesk, desk).wait_jobs_idle()  # every create sent before this run has landed from here on
        caught_up_from = time.monotonic()
    if refresh:
        refresh_index(desk, ledger)
    if caught_up_from is not None:
        _catch_up(desk, ledger, caught_up_from)
    if bulk:
        check_hidden(desk, ledger, report)  # an earlier run's live catch-up, once the lag has passed
    report.organizations = ledger.organization_count()
    bar = None if dry_run else _creation_bar(ledger, settings, task_jobs, as_of)
    batcher = _Batcher(desk, ledger, settings, library, report, bar) if bulk else None
    if batcher is not None:
        batcher.recover()
        if os.environ.get("DESKBOOK_BULK", "1").strip() == "0":
            batcher = None  # creates one by one
    for org in ledger.iter_organizations():
        if stop is not None and stop.is_set():
            report.interrupted = True
            break
        items, skips = due_for(org, as_of, settings.schedule, task_jobs)
        for skip in skips:
            report.jobs[skip.job].skip(skip.reason)
            log.warning("%s: skipped %s", skip.job, skip.reason)
        for item in items:
            if batcher is not None and batcher.take(item, org):
                continue
            before = report.jobs[item.job].created + report.jobs[item.job].failed
            _settle(item, org, desk, ledger, settings, library, report.jobs[item.job], dry_run,
                    unchecked.get(item.job, True))
            if bar is not None and report.jobs[item.job].created + report.jobs[item.job].failed > before:
                bar.update(1)
    if batcher is not None:
        batcher.flush()
        batcher.finish()
    if bar is not None:
        bar.close()
    if not dry_run and not report.interrupted:
        _finish_leftovers(desk, ledger, settings, library, report, as_of, unchecked)
        for job_name in [name for name, fresh in unchecked.items() if fresh]:  # each due item settled against the desk
            ledger.set_cursor(f"{CHECKED_CURSOR}:{job_name}", "yes")
    if bulk:
        check_hidden(desk, ledger, report)  # this run's live catch-up, when the run outlasted the lag
    if surveys and not report.interrupted:
        settle_surveys(desk, ledger, settings, report.jobs[SURVEY_JOB], dry_run, stop)
    report.requests = dict(sorted(desk.calls.items()))
    if headroom is not None and headroom.peak is not None:
        report.rate_share = round(headroom.peak, 6)
    for name, job in report.jobs.items():
        log.info("%s: created %d, already done %d, skipped %d, failed %d%s", name, job.created,
                 job.already_done, job.skipped, job.failed, f", would create {job.would_create}" if dry_run else "",
                 extra={"event": "job_counts", "job": name, "tasks_created": job.created, "already_done": job.already_done,
                        "skipped": job.skipped, "failed": job.failed})
    return report


def settle_surveys(desk: Any, ledger: Ledger, settings: SyncSettings, job_report: JobReport, dry_run: bool,
                   stop: threading.Event | None = None) -> None:
    """S-11 (`deskbook.sync.surveys`): for each organization with unsettled survey results, write
    the newest onto its record exactly once (pending -> write -> done); older ones are superseded,
    ones the record already holds are done. `created` counts records written. A desk that writes
    many records with one request (`write_surveys`, `survey_batch_size`) gets the due records in
    batches: each is marked pending, the batch sent, each written one marked done — a record write is
    idempotent (the same values twice leave it as once), so a batch whose outcome is unknown stays
    pending and a later run reads each record first, as for a single write."""
    batch = _SurveyBatch(desk, ledger, job_report) if not dry_run and callable(getattr(desk, "write_surveys", None)) \
        and getattr(desk, "survey_batch_size", 1) > 1 else None
    for org_id in ledger.survey_organizations():
        if stop is not None and stop.is_set():
            return
        results = ledger.survey_results(org_id)
        done = {r.key for r in results if (ledger.item_state(r.key) or ("",))[0] == "done"}
        due = survey_due(results, ledger.survey_held(org_id), done)
        if dry_run:
            job_report.would_create += 1 if due.write else 0
            continue
        for held in due.held:
            ledger.mark_done(held.key, SURVEY_JOB, org_id, str(held.ticket_id), None)
            job_report.already_done += 1
        for old in due.superseded:
            ledger.mark_done(old.key, SURVEY_JOB, org_id, str(old.ticket_id), None)
            job_report.skip(f"organization {org_id}: the survey of request {old.ticket_id} "
                            f"is superseded by request {due.write.ticket_id if due.write else '?'}")
        if due.write is not None:
            state = ledger.item_state(due.write.key)
            if batch is not None and state is None:
                batch.add(org_id, due.write, settings)
            else:
                _write_survey(org_id, due.write, state, desk, ledger, settings, job_report)
    if batch is not None:
        batch.flush()


class _SurveyBatch:
    """Survey record writes sent `survey_batch_size` at a time (see `settle_surveys`)."""

    def __init__(self, desk: Any, ledger: Ledger, job_report: JobReport):
        self.desk, self.ledger, self.job_report = desk, ledger, job_report
        self.size = int(desk.survey_batch_size)
        self.items: list[tuple[int, Any, dict[str, Any]]] = []  # organization id, result, record values

    def add(self, org_id: int, result: Any, settings: SyncSettings) -> None:
        try:
            values = record_values(result, settings.survey)
        except (DeskbookError, OSError) as exc:
            self.job_report.fail(result.key, exc)
            log.warning("%s: could not make %s: %s", SURVEY_JOB, result.key, exc)
            return
        self.items.append((org_id, result, values))
        if len(self.items) >= self.size:
            self.flush()

    def flush(self) -> None:
        items, self.items = self.items, []
        if not items:
            return
        intents = {org_id: (result.key, SURVEY_JOB, org_id, str(result.ticket_id)) for org_id, result, _ in items}
        for intent in intents.values():
            self.ledger.mark_pending(*intent)  # committed before the desk is asked
        try:
            outcome = self.desk.write_surveys([(org_id, values) for org_id, _, values in items])
        except LedgerError:
            raise
        except (DeskbookError, OSError) as exc:  # unknown: left pending, a later run reads each record
            for _, result, _ in items:
                self.job_report.fail(result.key, exc)
            log.warning("%s: could not write %d record(s): %s", SURVEY_JOB, len(items), exc)
            return
        for org_id, result, _ in items:
            error = outcome.get(org_id, "no result for it")
            if error is None:
                self.ledger.mark_done(*intents[org_id], None)
                self.job_report.created += 1
                log.info("%s: made %s", SURVEY_JOB, result.key)
            else:  # pending: a later run reads the record and writes what it lacks
                self.job_report.fail(result.key, DeskbookError(error))
                log.warning("%s: could not make %s: %s", SURVEY_JOB, result.key, error)


def _write_survey(org_id: int, result: Any, state: tuple[str, int | None] | None, desk: Any, ledger: Ledger,
                  settings: SyncSettings, job_report: JobReport) -> None:
    """Put `result` (`SurveyResult`, ledger state `state`) on the organization's record exactly once
    (`_exactly_once`)."""

    def held(_ticket_id: int | None) -> tuple[bool, None]:  # does the record hold it (or a newer one)?
        order = desk.survey_held(org_id).order()
        return order is not None and order >= result.order(), None

    def write(values: dict[str, Any]) -> tuple[None, bool]:
        desk.write_survey(org_id, values)
        return None, False

    _exactly_once((result.key, SURVEY_JOB, org_id, str(result.ticket_id)), state, ledger, job_report,
                  in_desk=held, prepare=lambda: record_values(result, settings.survey), act=write)


def _headroom(desk: SyncDesk) -> Any:
    """The desk session's `RateHeadroom` (None for a desk without a `DeskSession`)."""
    session = getattr(desk, "session", None) or getattr(getattr(desk, "client", None), "session", None)
    return getattr(session, "headroom", None)


def approved_job_library(settings: SyncSettings, library: Any = None, jobs: Iterable[str] = JOBS) -> Any:
    """`library` (None: the shipped one), after checking that every phrase `jobs` write is approved in
    every locale (`UnapprovedPhrase` naming each phrase, locale and diff otherwise)."""
    if library is None:
        from deskbook.scripts_library import load_library

        library = load_library()
    if hasattr(library, "require_approved"):
        library.require_approved({settings.job(name).phrase for name in jobs})
    return library


def _finish_leftovers(desk, ledger, settings, library, report: SyncReport, as_of: date,
                      unchecked: dict[str, bool]) -> None:
    """Finish tasks a killed run left half-made whose item is no longer due (its month, quarter or
    contract date has passed since): they exist in the desk, so they are completed, not dropped."""
    for key, _ticket_id in ledger.pending_with_ticket():
        parsed = parse_key(key)
        if parsed is None:
            continue
        job, org_id, period = parsed
        org = ledger.organization(org_id)
        if org is None or job not in report.jobs:
            continue
        item = DueItem(job, org_id, period, as_of)
        _settle(item, org, desk, ledger, settings, library, report.jobs[item.job], False, unchecked.get(job, True))


class _Batcher:
    """Bulk creates, exactly once (see "Bulk creates" in the module docstring)."""

    def __init__(self, desk, ledger: Ledger, settings, library, report: SyncReport, bar):
        self.desk, self.ledger, self.settings, self.library = desk, ledger, settings, library
        self.report, self.bar = report, bar
        self.batch: list[tuple[DueItem, Any]] = []
        self.in_flight: list[tuple[str, list[DueItem]]] = []  # job id, its items by index
        self.size = int(desk.batch_size)
        session = getattr(desk, "session", None)
        self.answer_timeout = float(getattr(session, "timeout", 30.0) or 30.0)

    def recover(self) -> None:
        """Settle the pending rows a killed run left from its bulk creates, before creating anything."""
        pending = self.ledger.pending_jobs()
        outcomes = self.desk.wait_jobs(list(pending), every=True) if pending else {}
        for job_id, keys in pending.items():
            state, results = outcomes[job_id]
            if state in RUNNING:
                raise DeskbookError(f"Zendesk's bulk job {job_id} from an earlier run is still {state}",
                                    hint="run again later: its tasks are created by the job, not again")
            made, refused, unknown = self._record(results, keys)
            log.info("bulk job %s of an earlier run: %s, %d task(s) made, %d refused, %d to look up",
                     job_id, state, len(made), len(refused), len(unknown))
        unconfirmed = self.ledger.pending_unconfirmed()
        if unconfirmed:
            wait = max(sent for _, sent in unconfirmed) + self.answer_timeout - time.time()
            if wait > 0:  # the request may still be on its way to a job
                log.info("%d task(s) were sent in bulk without an answer: waiting %.0f s", len(unconfirmed), wait)
                time.sleep(wait)
            self.desk.wait_jobs_idle()
            self.ledger.clear_job_ref(key for key, _ in unconfirmed)  # now looked up by key, one by one

    def _record(self, results: dict, keys: dict[int, str]) -> tuple[list[tuple[str, int]], dict[str, str], list[str]]:
        """A finished job's results in the ledger: (key, ticket id) made (done), key -> error refused
        (dropped: nothing was created, a later run tries again), keys without a result (unknown:
        looked up by key, one by one)."""
        made = [(key, results[i][0]) for i, key in keys.items() if i in results and results[i][0] is not None]
        refused = {key: results[i][1] or "not created" for i, key in keys.items()
                   if i in results and results[i][0] is None}
        unknown = [key for i, key in keys.items() if i not in results]
        self.ledger.mark_done_many(made)
        self.ledger.forget_pending(refused)
        self.ledger.clear_job_ref(unknown)
        return made, refused, unknown

    def take(self, item: DueItem, org: Any) -> bool:
        """True when the batcher handles `item` (queued for the next batch, or already done); False:
        settle it singly (a pending row: looked up by key first)."""
        state = self.ledger.item_state(item.key)
        if state is None:
            self.batch.append((item, org))
            if len(self.batch) >= self.size:
                self.flush()
            return True
        if state[0] == "done":
            self.report.jobs[item.job].already_done += 1
            return True
        return False

    def flush(self) -> None:
        """Send the queued batch with one bulk request (its job is settled later, oldest first)."""
        from deskbook.http import DeskHTTPError

        batch, self.batch = self.batch, []
        drafts = []
        for item, org in batch:
            try:
                drafts.append((item, draft_task(item, org, self.settings, self.library)))
            except (DeskbookError, OSError) as exc:
                self._failed(item, exc)
        if not drafts:
            return
        keys = [item.key for item, _ in drafts]
        self.ledger.mark_pending_batch((item.key, item.job, item.organization_id, item.period) for item, _ in drafts)
        try:
            job_id = self.desk.submit_tasks([draft for _, draft in drafts])
        except (DeskbookError, OSError) as exc:
            if isinstance(exc, DeskHTTPError) and not exc.ambiguous:
                self.ledger.forget_pending(keys)  # refused: no job exists, nothing was created
            for item, _ in drafts:  # otherwise left pending: the next run looks the keys up
                self._failed(item, exc)
            return
        self.ledger.note_job(keys, job_id)
        self.in_flight.append((job_id, [item for item, _ in drafts]))
        while len(self.in_flight) >= JOBS_IN_FLIGHT:
            self._settle_finished()

    def finish(self) -> None:
        """Wait for every job still in flight."""
        while self.in_flight:
            self._settle_finished()

    def _settle_finished(self) -> None:
        """Wait for the oldest job in flight; the same status reads cover every job in flight, so the
        others finished by then are settled too."""
        try:
            outcomes = self.desk.wait_jobs([job_id for job_id, _ in self.in_flight])
        except LedgerError:
            raise
        except (DeskbookError, OSError) as exc:
            _, items = self.in_flight.pop(0)
            for item in items:  # pending with the job id: the next run reads the job
                self._failed(item, exc)
            return
        oldest, self.in_flight = self.in_flight[0], self.in_flight[1:]
        self._settle_job(*oldest, *outcomes[oldest[0]])
        for job in [job for job in self.in_flight if outcomes[job[0]][0] not in RUNNING]:
            self.in_flight.remove(job)
            self._settle_job(*job, *outcomes[job[0]])

    def _settle_job(self, job_id: str, items: list[DueItem], state: str, results: dict) -> None:
        if state in RUNNING or state == "gone":
            error = DeskbookError(f"Zendesk's bulk job {job_id} is {state} (the next run settles it)")
            for item in items:
                self._failed(item, error)
            return
        made, refused, unknown = self._record(results, {index: item.key for index, item in enumerate(items)})
        by_key = {item.key: item for item in items}
        for key, _ in made:
            self.report.jobs[by_key[key].job].created += 1
            if self.bar is not None:
                self.bar.update(1)
        for key, message in refused.items():
            self._failed(by_key[key], DeskbookError(message))
        for key in unknown:
            self._failed(by_key[key], DeskbookError(f"bulk job {job_id} ({state}) gave no result for it"))
        log.info("bulk job %s: %d task(s) created", job_id, len(made))

    def _failed(self, item: DueItem, exc: Exception) -> None:
        self.report.jobs[item.job].fail(item.key, exc)
        log.warning("%s: could not create %s: %s", item.job, item.key, exc)
        if self.bar is not None:
            self.bar.update(1)


def _settle(item, org, desk, ledger, settings, library, job_report: JobReport, dry_run: bool,
            unchecked_ledger: bool = True) -> None:
    """Make sure `item` exists exactly once in the desk. `unchecked_ledger`: the ledger has not finished
    a run since it was made (a lost one's attempts may have left tasks it cannot know of)."""
    state = ledger.item_state(item.key)
    if state and state[0] == "done":
        job_report.already_done += 1
        return
    if dry_run:
        job_report.would_create += 1
        return

    def found(ticket_id: int | None) -> tuple[bool, int | None]:  # the id the desk named, if it did
        made = desk.find_task(item.key, ticket_id)
        return made is not None, made

    _exactly_once((item.key, item.job, item.organization_id, item.period), state, ledger, job_report, in_desk=found,
                  prepare=lambda: dataclasses.replace(draft_task(item, org, settings, library),
                                                      may_exist=unchecked_ledger or bool(state and state[0] == "pending")),
                  act=lambda draft: desk.create_task(draft, lambda made: ledger.note_ticket(item.key, made)))


def _exactly_once(intent: tuple[str, str, int, str], state: tuple[str, int | None] | None, ledger: Ledger,
                  job_report: JobReport, *, in_desk: Callable[[int | None], tuple[bool, int | None]],
                  prepare: Callable[[], Any], act: Callable[[Any], tuple[int | None, bool]]) -> None:
    """The intent log's one sequence (pending -> ask -> act -> done), for a task and a survey record
    alike. `intent` is the item's (key, job, organization id, period) in the ledger, `state` its
    ledger state (not done). A `pending` item a run left when it died is looked for in the desk
    first: `in_desk(the ticket id the ledger noted)` -> (found, ticket id to record). Else
    `prepare()` what to send (when that fails nothing is recorded), mark the item pending —
    committed before the desk is called — `act(prepared)` -> (ticket id, replayed: the desk already
    had it), mark it done. A ledger failure stops the run; the desk's (`DeskbookError`, `OSError`)
    are this item's failure, counted, and a later run settles it."""
    key, job = intent[:2]
    try:
        if state and state[0] == "pending":
            found, ticket_id = in_desk(state[1])
            if found:
                ledger.mark_done(*intent, ticket_id)
                job_report.already_done += 1
                return
        prepared = prepare()
        ledger.mark_pending(*intent)
        ticket_id, replayed = act(prepared)
        ledger.mark_done(*intent, ticket_id)
        if replayed:
            job_report.already_done += 1
        else:
            job_report.created += 1
            log.info("%s: made %s%s", job, key, f" as ticket {ticket_id}" if ticket_id is not None else "")
    except LedgerError:  # the ledger itself is unusable: stop the run, not just this item
        raise
    except (DeskbookError, OSError) as exc:
        job_report.fail(key, exc)
        log.warning("%s: could not make %s: %s", job, key, exc)

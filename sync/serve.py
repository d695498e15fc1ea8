"""`deskbook sync serve`: a long-running scheduler built on the `schedule` library.

- Runs every job once at start (catch-up), then daily at the playbook's `run_at` in its
  time zone (or every `interval_seconds`, for tests and demos).
- Each tick is one run of all the jobs in a worker thread with its own desk session and ledger
  connection: the jobs share one read of the desk's organizations and tickets (on JSM a full
  organization scan, ⌈N/50⌉ + N reads, so one per tick, not one per job). A run still going at
  the next tick is not started twice.
- An error that waiting cannot mend (`LedgerError.lasting`: a damaged or foreign ledger) stops the
  service with that one-line error and exit 1, so systemd or Kubernetes shows the failure; any
  other failed or crashed run is logged and the next tick tries again.
- SIGTERM / SIGINT set a stop flag: jobs finish the request in flight, stop between items,
  and the process exits 0. Every run is logged: one line when it starts, one per job with its
  counts (the runner's), one when it finishes.
- With `metrics` (`sync serve --metrics-port N`), each run's report feeds `/metrics` and
  `/healthz` (`deskbook.sync.metrics`).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import date
from typing import Any, Callable, Iterable

import schedule

from deskbook.errors import DeskbookError
from deskbook.sync.jobs import SyncSettings
from deskbook.sync.runner import approved_job_library, run_jobs
from deskbook.sync.schedule import JOBS

log = logging.getLogger("deskbook.sync.serve")


class SyncService:
    """The scheduler: one worker thread per run of all jobs; `stop` ends it cleanly."""

    def __init__(self, make_context: Callable[[], tuple[Any, Any]], settings: SyncSettings, library: Any = None,
                 *, jobs: Iterable[str] = JOBS, interval_seconds: float | None = None,
                 as_of: Callable[[], date] | None = None, metrics: Any = None):
        self.make_context = make_context
        self.settings = settings
        self.library = library
        self.jobs = tuple(jobs)
        self.interval_seconds = interval_seconds
        self.as_of = as_of or date.today
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.runs: dict[str, int] = {job: 0 for job in self.jobs}
        self.scheduler = schedule.Scheduler()
        self.metrics = metrics
        self.fatal: DeskbookError | None = None

    def launch(self) -> None:
        """Start a run of every job, unless the previous one is still going."""
        if self.thread is not None and self.thread.is_alive():
            log.warning("previous run still going; this tick is skipped")
            return
        self.thread = threading.Thread(target=self._run, name="sync-run", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        desk, ledger = None, None
        started = time.monotonic()
        try:
            desk, ledger = self.make_context()
            log.info("run started: %s", ", ".join(self.jobs), extra={"event": "run_started"})
            report = run_jobs(desk, ledger, self.settings, self.library, jobs=self.jobs, as_of=self.as_of(),
                              stop=self.stop_event)
            created = sum(j.created for j in report.jobs.values())
            log.info("run finished in %.1f s: %d organizations, created %d, failed %d%s", time.monotonic() - started,
                     report.organizations, created, report.failed, " (interrupted)" if report.interrupted else "",
                     extra={"event": "run_finished", "tasks_created": created, "failed": report.failed,
                            "organizations": report.organizations, "interrupted": report.interrupted})
            if self.metrics is not None:
                self.metrics.observe(report)
        except DeskbookError as exc:
            log.error("run failed: %s", exc, extra={"event": "run_failed"})
            if getattr(exc, "lasting", False):  # e.g. a damaged ledger: every later run would fail the same way
                self.fatal = exc
                self.stop_event.set()
            if self.metrics is not None:
                self.metrics.crashed(str(exc))
        except Exception as exc:  # a scheduler must survive one bad run; the log carries the traceback
            log.exception("run crashed", extra={"event": "run_crashed"})
            if self.metrics is not None:
                self.metrics.crashed(f"run crashed: {type(exc).__name__}")
        finally:
            for job in self.jobs:
                self.runs[job] = self.runs.get(job, 0) + 1
            if ledger is not None:
                ledger.close()

    def schedule_runs(self) -> None:
        """Register the daily (or interval) tick."""
        if self.interval_seconds:
            # schedule annotates the interval `int`; its period is a timedelta of any number (tests tick at 0.2 s)
            self.scheduler.every(self.interval_seconds).seconds.do(self.launch)  # type: ignore[arg-type]
            log.info("scheduled every %s seconds", self.interval_seconds)
        else:
            self.scheduler.every().day.at(self.settings.run_at, self.settings.time_zone).do(self.launch)
            log.info("scheduled daily at %s %s", self.settings.run_at, self.settings.time_zone)

    def serve(self, install_signals: bool = True) -> int:
        """Catch up, then run on schedule until SIGTERM/SIGINT (or `stop()`); returns exit code 0.

        Refuses to start (DeskbookError) when a phrase the jobs write is not approved; each run
        checks again, so a template edited while serving stops that run, not the service. Raises a
        run's `lasting` error (a damaged ledger) after stopping."""
        approved_job_library(self.settings, self.library, self.jobs)
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda signum, frame: self.stop())
        self.schedule_runs()
        self.launch()
        while not self.stop_event.is_set():
            self.scheduler.run_pending()
            idle = self.scheduler.idle_seconds
            self.stop_event.wait(max(0.05, min(1.0, idle if idle is not None else 1.0)))
        if self.thread is not None:
            self.thread.join()
        if self.fatal is not None:
            raise self.fatal  # printed as the one-line error; the supervisor sees exit 1
        log.info("sync serve stopped")
        return 0

    def stop(self) -> None:
        """Ask the service to finish the current requests and exit."""
        if not self.stop_event.is_set():
            log.info("stop requested; finishing the current request")
        self.stop_event.set()

"""`deskbook sync serve`: a long-running scheduler built on the `schedule` library.

- Runs every job once at start (catch-up), then daily at the playbook's `run_at` in its
  time zone (or every `interval_seconds`, for tests and demos).
- Each tick is one run of all the jobs in a worker thread with its own desk session and ledger
  connection: the jobs share one read of the desk's organizations and tickets (on JSM a full
  organization scan, ⌈N/50⌉ + N reads, so one per tick, not one per job). A run still going at
  the next tick is not started twice.
- SIGTERM / SIGINT set a stop flag: jobs finish the request in flight, stop between items,
  and the process exits 0. Every run is logged.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import date
from typing import Any, Callable, Iterable

import schedule

from deskbook.errors import DeskbookError
from deskbook.sync.jobs import SyncSettings
from deskbook.sync.runner import run_jobs
from deskbook.sync.schedule import JOBS

log = logging.getLogger("deskbook.sync.serve")


class SyncService:
    """The scheduler: one worker thread per run of all jobs; `stop` ends it cleanly."""

    def __init__(self, make_context: Callable[[], tuple[Any, Any]], settings: SyncSettings, library: Any = None,
                 *, jobs: Iterable[str] = JOBS, interval_seconds: float | None = None,
                 as_of: Callable[[], date] | None = None):
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

    def launch(self) -> None:
        """Start a run of every job, unless the previous one is still going."""
        if self.thread is not None and self.thread.is_alive():
            log.warning("previous run still going; this tick is skipped")
            return
        self.thread = threading.Thread(target=self._run, name="sync-run", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        desk, ledger = None, None
        try:
            desk, ledger = self.make_context()
            log.info("run started: %s", ", ".join(self.jobs))
            report = run_jobs(desk, ledger, self.settings, self.library, jobs=self.jobs, as_of=self.as_of(),
                              stop=self.stop_event)
            for job, counts in report.jobs.items():
                log.info("%s: run finished: created %d, already done %d, skipped %d, failed %d%s", job, counts.created,
                         counts.already_done, counts.skipped, counts.failed,
                         " (interrupted)" if report.interrupted else "")
        except DeskbookError as exc:
            log.error("run failed: %s", exc)
        except Exception:  # a scheduler must survive one bad run; the log carries the traceback
            log.exception("run crashed")
        finally:
            for job in self.jobs:
                self.runs[job] = self.runs.get(job, 0) + 1
            if ledger is not None:
                ledger.close()

    def schedule_runs(self) -> None:
        """Register the daily (or interval) tick."""
        if self.interval_seconds:
            self.scheduler.every(self.interval_seconds).seconds.do(self.launch)
            log.info("scheduled every %s seconds", self.interval_seconds)
        else:
            self.scheduler.every().day.at(self.settings.run_at, self.settings.time_zone).do(self.launch)
            log.info("scheduled daily at %s %s", self.settings.run_at, self.settings.time_zone)

    def serve(self, install_signals: bool = True) -> int:
        """Catch up, then run on schedule until SIGTERM/SIGINT (or `stop()`); returns exit code 0."""
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
        log.info("sync serve stopped")
        return 0

    def stop(self) -> None:
        """Ask the service to finish the current requests and exit."""
        if not self.stop_event.is_set():
            log.info("stop requested; finishing the current request")
        self.stop_event.set()

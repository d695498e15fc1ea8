"""Scheduled sync jobs: renewal reminders, periodic callbacks, new-customer follow-ups.

`run_jobs(desk, ledger, settings, library=None, jobs=..., as_of=..., dry_run=...)` runs them
once (what `deskbook sync run` and `deskbook demo` call); see `runner.py` for how each item
is created exactly once.
"""

from deskbook.sync.runner import SyncReport, run_jobs

__all__ = ["SyncReport", "run_jobs"]

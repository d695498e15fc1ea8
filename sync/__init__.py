"""Scheduled sync jobs: renewal reminders, periodic callbacks, new-customer follow-ups.

`run_jobs(desk, ledger, settings, library=None, jobs=..., as_of=..., dry_run=...)` runs them
once (what `deskbook sync run` and `deskbook demo` call); see `runner.py` for how each item
is created exactly once. Imported on first use, so building the CLI does not load the runner.
"""

from typing import Any

__all__ = ["SyncReport", "run_jobs"]


def __getattr__(name: str) -> Any:
    """`SyncReport` and `run_jobs` from `deskbook.sync.runner`."""
    if name not in __all__:
        raise AttributeError(f"module 'deskbook.sync' has no attribute {name!r}")
    from deskbook.sync import runner

    return getattr(runner, name)

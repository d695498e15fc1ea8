"""The fleet on Celery: one task per desk, any number of workers on any number of machines.

Broker and result backend: `DESKBOOK_BROKER` (default `redis://127.0.0.1:6379/0`). The ledger must
be shared by the workers, so give the inventory a `ledger: postgresql://…` (or set
`DESKBOOK_LEDGER`); a worker that finds a desk's advisory lock taken (another worker has it)
answers `busy` at once and the submitter sends it again after a pause, so one desk is processed by
one worker at a time.

Delivery: tasks are acknowledged late (`acks_late`), and re-queued when their worker process dies
(`reject_on_worker_lost`), so a worker killed with SIGKILL mid-run leaves the desk to another worker
(Redis restores the unacknowledged message after `DESKBOOK_VISIBILITY_TIMEOUT` seconds, default
600, when the whole worker died). Re-running a desk is always safe: the pending→done intent log in
the ledger and the desk-side keys make every due item exist once, whichever worker and however
many attempts. Workers: `deskbook sync worker [--concurrency N]`; submitting:
`deskbook sync run --fleet desks.yaml --celery`.
"""

from __future__ import annotations

import os

from celery import Celery

BROKER = os.environ.get("DESKBOOK_BROKER", "redis://127.0.0.1:6379/0")
#: The queue fleet tasks travel on (`DESKBOOK_QUEUE`): separate fleets can share one broker.
QUEUE = os.environ.get("DESKBOOK_QUEUE", "deskbook")

app = Celery("deskbook", broker=BROKER, backend=BROKER)
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a worker takes one desk at a time per process
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=24 * 3600,
    broker_transport_options={"visibility_timeout": int(os.environ.get("DESKBOOK_VISIBILITY_TIMEOUT", "600"))},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="deskbook.sync_desk")
def sync_desk_task(entry: dict, as_of: str | None = None, jobs: list[str] | None = None,
                   ledger: str | None = None, dry_run: bool = False) -> dict:
    """`deskbook.sync.fleet.sync_one` on a worker; `{"desk", "busy": true}` when another worker holds it."""
    from deskbook.sync.fleet import sync_one

    result = sync_one(entry, as_of=as_of, jobs=tuple(jobs) if jobs else None, ledger=ledger, dry_run=dry_run)
    if "already running" in result.get("error", ""):
        return {"desk": result["desk"], "busy": True}
    return result


def run_on_celery(fleet, *, timeout: float, as_of: str | None = None, jobs: tuple[str, ...] | None = None,
                  dry_run: bool = False, retry_busy_after: float = 5.0) -> list[dict]:
    """Send one task per desk and wait for all; a desk found busy is sent again after a pause."""
    import time

    from deskbook.errors import DeskbookError

    deadline = time.monotonic() + timeout
    pending = {d.name: d for d in fleet.desks}
    results: dict[str, dict] = {}
    while pending:
        sent = {name: sync_desk_task.apply_async(args=[d.to_json()],
                                                 kwargs={"as_of": as_of, "jobs": list(jobs) if jobs else None,
                                                         "ledger": fleet.ledger, "dry_run": dry_run})
                for name, d in pending.items()}
        busy = {}
        for name, async_result in sent.items():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeskbookError(f"the fleet run did not finish in {timeout:.0f} s",
                                    hint="are workers running (deskbook sync worker)? re-running is safe")
            try:
                result = async_result.get(timeout=remaining, propagate=False)
            except Exception as exc:  # noqa: BLE001 - a timeout or a broker error: report, re-running is safe
                raise DeskbookError(f"desk {name}: no answer from the workers ({type(exc).__name__})",
                                    hint="are workers running (deskbook sync worker)? re-running is safe") from None
            if not isinstance(result, dict):  # the task raised (e.g. its worker was lost)
                results[name] = {"desk": name, "error": f"worker failed: {result!r}"[:300]}
            elif result.get("busy"):
                busy[name] = pending[name]
            else:
                results[name] = result
        pending = busy
        if pending:
            time.sleep(retry_busy_after)
    return [results[d.name] for d in fleet.desks]

"""A local desk that answers like Zendesk Support API v2 (`deskbook sandbox zendesk`).

In tests::

    with running_sandbox(clock=FakeClock(), request_checker=contract) as desk:
        requests.get(desk.url + "/api/v2/macros.json", auth=desk.auth)
        desk.requests(); desk.violations(); desk.store.seed_organizations(1000); desk.store.add_ticket(...)

Served (with and without `.json`), basic auth `email/token:TOKEN`:

- CRUD + cursor/offset lists: macros, triggers, trigger_categories, automations, views, groups,
  ticket_fields (+ `/options`), organization_fields, organizations, users, tickets,
  slas/policies (+ `/reorder`), dynamic_content/items (+ `/variants`, create_many, update_many),
  business_hours/schedules (+ `/workweek`, `/holidays`).
- Bulk: organizations|tickets|users `create_many`/`update_many`/`show_many`/`destroy_many` (job
  statuses at `/job_statuses/{id}`); macros|triggers|automations|views `update_many` (id,
  position, active), `destroy_many`, `active`; `triggers/reorder`; `trigger_categories/jobs`
  (batch patch of category and trigger positions).
- Order: triggers, automations, views, trigger categories and SLA policies are listed by
  `position`, then id (cursors carry both), as Zendesk lists them; a new trigger goes last.
- Tickets: `Idempotency-Key` on create, `?external_id=`, comments; `users/me`, `users/search`,
  `organizations/search`.
- Search: `/search` (offset, 1000 results), `/search/count`, `/search/export` (cursor,
  `filter[type]`); exports: `/incremental/organizations` (time-based),
  `/incremental/tickets/cursor` (cursor-based, deleted tickets listed with status "deleted");
  as in Zendesk, a `start_time` less than a minute old is refused (422) and changes of the most
  recent minute are left out (`export_lag_seconds`, default 60; 0 turns both off).
- Answers from the spec: `slas/policies/reorder` 200 with an empty body; `triggers/reorder`
  takes every trigger id (else 404), is refused with more than one trigger category
  (`LimitOneCategory`) and answers `{"trigger": ...}`; automations need a time-based and a
  status/type/group/assignee/requester condition in `all`, and a condition true only once
  (`hours since ... is N`) or an action that nullifies a condition.
- Control: `GET /sandbox/requests` (log + checker violations), `DELETE /sandbox/requests`.

See `app.py` for routing and pagination, `rules.py` for Zendesk's validation rules and read-form
rewrites, `ratelimit.py` for limits and the fake clock, `seed.py` for sample data.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sqlite3
from typing import Any, Callable, Iterator

from werkzeug.serving import WSGIRequestHandler, make_server

from deskbook.connectors.zendesk.sandbox.app import EXPORT_LAG_SECONDS, SandboxApp
from deskbook.connectors.zendesk.sandbox.ratelimit import FakeClock
from deskbook.connectors.zendesk.sandbox.seed import ensure_admin, seed_organizations
from deskbook.connectors.zendesk.sandbox.store import Store
from deskbook.connectors.sandbox_server import LOOPBACK, serving_in_background

__all__ = ["running_sandbox", "SandboxHandle", "FakeClock", "build_app"]

log = logging.getLogger("deskbook.sandbox.zendesk")


class _KeepAliveHandler(WSGIRequestHandler):
    """Keep-alive connections for the foreground server (access log lines stay on)."""

    protocol_version = "HTTP/1.1"


class SandboxHandle:
    """What `running_sandbox` yields: where the desk listens and what it saw."""

    def __init__(self, app: SandboxApp, url: str):
        self.app = app
        self.url = url
        self.email = app.email
        self.token = app.token
        self.store = app.store
        self.clock = app.store.clock

    @property
    def auth(self) -> tuple[str, str]:
        """(username, password) for requests' basic auth: `email/token`, token."""
        return f"{self.email}/token", self.token

    def requests(self) -> list[dict]:
        """The request log: dicts with method, path, query, status, endpoint, endpoint_class, json."""
        return self.app.requests()

    def reset_log(self) -> None:
        """Clear the request log (and recorded violations)."""
        self.app.reset_log()

    def violations(self) -> list[str]:
        """What the `request_checker` reported."""
        return self.app.violations()


def build_app(*, email: str = "admin@example.com", token: str = "sandbox", db: str | None = None,
              seed_orgs: int = 0, fault_rate: float = 0.0, latency_ms: int = 0,
              rate_limits: dict[str, int] | None = None,
              request_checker: Callable[[str, str, dict, Any], list[str]] | None = None,
              seed: int = 0, clock: Any = None, fault_slow_seconds: float = 3.0,
              sla_available: bool = True, export_lag_seconds: float = EXPORT_LAG_SECONDS,
              write_delay_seconds: float = 0.0) -> SandboxApp:
    """The WSGI app over a (new or existing) SQLite store, with the admin user and seeded orgs."""
    store = Store(db, clock=clock)
    ensure_admin(store, email)
    if seed_orgs:
        seed_organizations(store, seed_orgs, seed=seed)
    return SandboxApp(store, email=email, token=token, fault_rate=fault_rate, seed=seed,
                      fault_slow_seconds=fault_slow_seconds, latency_ms=latency_ms, rate_limits=rate_limits,
                      request_checker=request_checker, sla_available=sla_available,
                      export_lag_seconds=export_lag_seconds, write_delay_seconds=write_delay_seconds)


@contextlib.contextmanager
def running_sandbox(*, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox desk on a free loopback port in a background thread; stop it on exit.

    Options: email, token, db, seed_orgs, fault_rate, latency_ms, rate_limits (e.g.
    {"account": 700, "incremental": 10, "search_export": 100}), request_checker(method, path, query,
    json) -> [problems], seed (fault and data RNG), clock (e.g. `FakeClock()`), fault_slow_seconds
    (how long a "slow" fault stalls before answering), sla_available (False: 403 on /slas/, as on a
    plan without SLA policies), export_lag_seconds (default 60, as Zendesk: incremental exports
    refuse a newer `start_time` and leave out changes this recent; 0 turns that off),
    write_delay_seconds (each POST is carried out this long after it arrives, answered or not)."""
    app = build_app(**options)
    with serving_in_background(app, host=host, port=port, name="zendesk-sandbox", on_close=app.store.close) as url:
        yield SandboxHandle(app, url)


def _serve(args: argparse.Namespace) -> int:
    """Run the sandbox in the foreground until interrupted."""
    from deskbook.errors import DeskbookError, ExitCode
    from deskbook.log import register_secret

    if args.host not in LOOPBACK:
        raise DeskbookError(f"--host {args.host} is not a loopback address", where="deskbook sandbox zendesk",
                            hint="the sandbox only listens on 127.0.0.1, localhost or ::1")
    if not 0.0 <= args.fault_rate <= 1.0:
        raise DeskbookError(f"--fault-rate {args.fault_rate} is not between 0 and 1", where="deskbook sandbox zendesk")
    register_secret(args.token)
    try:
        app = build_app(email=args.email, token=args.token, db=args.db, seed_orgs=args.seed_orgs, seed=args.seed,
                        fault_rate=args.fault_rate, latency_ms=args.latency,
                        rate_limits={"account": args.rate_limit, "incremental": args.incremental_rate_limit,
                                     "search_export": args.search_export_rate_limit},
                        sla_available=not args.no_sla, export_lag_seconds=max(0.0, args.export_lag))
    except sqlite3.Error as exc:
        raise DeskbookError(f"cannot open the sandbox database {args.db}: {exc}", where="deskbook sandbox zendesk --db",
                            hint="give a writable file path, or leave --db out for an in-memory desk") from exc
    try:
        server = make_server(args.host, args.port, app, threaded=True, request_handler=_KeepAliveHandler)
    except OSError as exc:
        raise DeskbookError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}", where="deskbook sandbox zendesk",
                            hint="pick another --port (0 = any free port)") from exc
    print(f"Zendesk sandbox listening on http://{args.host}:{server.server_port} "
          f"(user {args.email}/token; request log at /sandbox/requests). Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.store.close()
    return ExitCode.OK

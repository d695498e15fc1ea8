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
  statuses at `/job_statuses/{id}`, listed at `/job_statuses`; `tickets/create_many` is queued as
  Zendesk queues it and a background worker runs it `job_delay_seconds` later (a status poll runs it at once),
  more than 100 tickets refused with `TooManyValues`); macros|triggers|automations|views `update_many` (id,
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
- Control: `GET /sandbox/requests` (log + checker violations), `DELETE /sandbox/requests`, behind
  the same basic auth.

Built on the sandbox kit (`deskbook.connectors.sandbox_kit`: pipeline, store, clock, limiter,
faults, request log, serving). See `app.py` for routing, pagination and Zendesk's error bodies,
`rules.py` for Zendesk's validation rules and read-form rewrites, `seed.py` for sample data.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from deskbook.connectors.sandbox_kit.clock import FakeClock
from deskbook.connectors.sandbox_kit.handle import KitHandle
from deskbook.connectors.sandbox_kit.serve import serve_in_foreground, serving_in_background, shared_root
from deskbook.connectors.zendesk.sandbox.app import SandboxApp
from deskbook.connectors.zendesk.sandbox.desk_rules import install_system_rules
from deskbook.connectors.zendesk.sandbox.seed import ensure_admin, seed_organizations
from deskbook.connectors.zendesk.sandbox.store import Store

__all__ = ["running_sandbox", "SandboxHandle", "FakeClock", "build_app"]

log = logging.getLogger("deskbook.sandbox.zendesk")


class SandboxHandle(KitHandle):
    """What `running_sandbox` yields: where the desk listens; what it saw (`requests()`,
    `violations()`, `reset_log()`) and `inject(...)` come from the kit."""

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

    def pass_time(self, seconds: float) -> int:
        """Move the fake clock on, running automations hourly (see `desk_rules.DeskRules.pass_time`)."""
        return self.app.rules.pass_time(seconds)

    def rate(self, ticket_id: int, score: str, comment: str = "") -> dict:
        """The requester answers the satisfaction link of a solved ticket (`good`/`bad`): what a
        customer does in the browser, outside the API (see `desk_rules.DeskRules.rate`)."""
        return self.app.rules.rate(ticket_id, score, comment)


def spec_checker(spec: str | Path) -> Callable[[str, str, Any, Any], list[str]]:
    """The Zendesk request contract of the vendor material `spec` is or lies in (`../shared`)."""
    from deskbook.connectors.contract import zendesk_contract

    return zendesk_contract(shared_root(spec, "zendesk"))


def build_app(*, email: str = "admin@example.com", token: str = "sandbox", db: str | None = None,
              seed_orgs: int = 0, seed: int = 0, clock: Any = None, spec: str | Path | None = None,
              request_checker: Callable[[str, str, Any, Any], list[str]] | None = None,
              csat: bool = False, system_rules: bool = False, **options: Any) -> SandboxApp:
    """The WSGI app over a (new or existing) SQLite store, with the admin user and seeded orgs;
    `spec` (e.g. `../shared`) checks every request against Zendesk's OpenAPI file; `system_rules`
    adds the automations a new Zendesk account comes with."""
    store = Store(db, clock=clock)
    ensure_admin(store, email)
    if system_rules:
        install_system_rules(store, csat=csat)
    if seed_orgs:
        seed_organizations(store, seed_orgs, seed=seed)
    app = SandboxApp(store, email=email, token=token, seed=seed, request_checker=request_checker, csat=csat,
                     **options)
    if spec is not None:
        app.checkers.append(spec_checker(spec))
    return app


@contextlib.contextmanager
def running_sandbox(*, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox desk on a free loopback port in a background thread; stop it on exit.

    Options: email, token, db, spec, seed_orgs, fault_rate, write_fault_rate, latency_ms, rate_limits (e.g.
    {"account": 700, "incremental": 10, "search_export": 100}), request_checker(method, path, query,
    json) -> [problems], seed (fault and data RNG), clock (e.g. `FakeClock()`), fault_slow_seconds
    (how long a "slow" fault stalls before answering), sla_available (False: 403 on /slas/, as on a
    plan without SLA policies), export_lag_seconds (default 60, as Zendesk: incremental exports
    refuse a newer `start_time` and leave out changes this recent; 0 turns that off),
    write_delay_seconds (each POST is carried out this long after it arrives, answered or not),
    max_body_bytes, max_json_depth, max_logged_requests, run_rules (default True: triggers,
    automations, SLA policies run, see `engine.py`), csat (customer satisfaction on:
    `{{satisfaction.rating_url}}` renders) and system_rules (Zendesk's default automations: close 4
    days after solved, and the CSAT request when csat)."""
    app = build_app(**options)
    with serving_in_background(app, host=host, port=port, name="zendesk-sandbox", on_close=app.close) as url:
        yield SandboxHandle(app, url)


def _serve(args: argparse.Namespace) -> int:
    """Run the sandbox in the foreground until interrupted."""
    from deskbook.connectors.sandbox_kit.options import check_serve_options
    from deskbook.errors import DeskbookError, ExitCode
    from deskbook.log import register_secret

    where = "deskbook sandbox zendesk"
    check_serve_options(args, where=where)
    register_secret(args.token)
    try:
        app = build_app(email=args.email, token=args.token, db=args.db, seed_orgs=args.seed_orgs, seed=args.seed,
                        fault_rate=args.fault_rate, write_fault_rate=args.write_fault_rate, latency_ms=args.latency,
                        rate_limits={"account": args.rate_limit, "incremental": args.incremental_rate_limit,
                                     "search_export": args.search_export_rate_limit},
                        sla_available=not args.no_sla, export_lag_seconds=max(0.0, args.export_lag), spec=args.spec)
    except sqlite3.Error as exc:
        raise DeskbookError(f"cannot open the sandbox database {args.db}: {exc}", where=f"{where} --db",
                            hint="give a writable file path, or leave --db out for an in-memory desk") from exc
    except ValueError as exc:
        raise DeskbookError(str(exc), where=f"{where} --spec", hint="give the folder of vendor material, e.g. ../shared") from None
    serve_in_foreground(app, host=args.host, port=args.port, where=where, on_close=app.close,
                        banner=lambda url: f"Zendesk sandbox listening on {url} (user {args.email}/token; request "
                                           f"log at /sandbox/requests). Ctrl-C to stop.")
    return ExitCode.OK

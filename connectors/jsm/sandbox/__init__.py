"""A local Jira Service Management that answers like JSM Cloud (see `app.py` for what it covers).

- `running_sandbox(**options)`: in-process server for tests; yields a `Sandbox` with `.url`,
  `.email`, `.token`, `.cloud_id`, `.requests()`, `.violations()`, `.store`, `.inject(...)`,
  `.pass_time(seconds)` (a `FakeClock` moves on, scheduled rules run), `.customer_login(email)` (a
  customer's own API token). Enabled automation rules run (`engine.py`) unless `run_rules=False`;
  `shortcuts=False` plays a real site (no act-as header, no clock endpoint).
- `deskbook sandbox jsm [--host --allow-remote] [--port] [--db] [--email] [--token] [--fault-rate]
  [--write-fault-rate] [--latency] [--rate-limit] [--seed-orgs N] [--seed] [--spec] [--project KEY]
  [--search-lag SECONDS]`. JQL search lags writes (`index.py`, FACTS.md 8.2; `search_lag_seconds`, 0: at once);
  `.index_caught_up()` lets search see every write so far.

Built on the sandbox kit (`deskbook.connectors.sandbox_kit`): pipeline, store, clock, limiter,
faults, request log and serving are the kit's; this package keeps JSM's routes, handlers and rules.
"""

from __future__ import annotations

import contextlib
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from deskbook.connectors.jsm.sandbox.app import (
    DEFAULT_CLOUD_ID,
    JsmSandboxApp,
    RequestChecker,
    SandboxConfig,
    seed_organizations,
)
from deskbook.connectors.jsm.sandbox.store import Store
from deskbook.connectors.jsm.sandbox_command import CUSTOMER_TOKEN_ENV
from deskbook.connectors.sandbox_kit.clock import FakeClock
from deskbook.connectors.sandbox_kit.handle import KitHandle
from deskbook.connectors.sandbox_kit.serve import serve_in_foreground, serving_in_background
from deskbook.errors import DeskbookError, ExitCode

__all__ = ["Sandbox", "running_sandbox", "run_sandbox_command", "SandboxConfig", "DEFAULT_CLOUD_ID", "FakeClock"]


@dataclass
class Sandbox(KitHandle):
    """A running sandbox: where it is, how to log in; what it saw (`requests()`, `violations()`) and
    `inject(...)` come from the kit."""

    url: str
    email: str
    token: str
    cloud_id: str
    project_key: str
    app: JsmSandboxApp
    store: Store

    @property
    def automation_url(self) -> str:
        """Base URL of the automation rule-management API on this sandbox."""
        return f"{self.url}/automation/public/jira/{self.cloud_id}/rest/v1"

    @property
    def clock(self) -> Any:
        """The sandbox's clock (`now()`), as the Zendesk sandbox's handle has it."""
        return self.store.clock

    def pass_time(self, seconds: float) -> int:
        """Move the fake clock on, running scheduled rules when their cron fires (`engine.py`); how many
        issue runs they made (what `POST /sandbox/clock` answers as `scheduled_runs`)."""
        return self.app.pass_time(seconds)["scheduled_runs"]

    def customer_login(self, email: str, display_name: str | None = None, token: str | None = None) -> tuple[str, str]:
        """A customer account with its own API token (created when new): (account id, token)."""
        return self.app.customer_login(email, display_name, token)

    def index_caught_up(self) -> None:
        """Let JQL search see every write made so far, as if its lag had passed (`index.py`): for a
        test's setup, which plays the past."""
        self.app.search_index.catch_up()

    def seed_organizations(self, count: int) -> list[str]:
        """Add `count` sample organizations (contact customer, contract property)."""
        return seed_organizations(self.store, count, random.Random(self.app.config.seed))


def build_app(*, db: str = ":memory:", spec: str | Path | None = None,
              request_checker: RequestChecker | None = None, **options) -> JsmSandboxApp:
    """The WSGI app over a store at `db` with `SandboxConfig(**options)`."""
    config = SandboxConfig(**options)
    if spec is not None:
        from deskbook.connectors.jsm.sandbox.spec import SpecChecker  # imports the OpenAPI validators

        config.request_checkers.append(SpecChecker(spec))
    if request_checker is not None:
        config.request_checkers.append(request_checker)
    return JsmSandboxApp(Store(db, clock=config.clock), config)


@contextlib.contextmanager
def running_sandbox(*, host: str = "127.0.0.1", port: int = 0, db: str = ":memory:",
                    spec: str | Path | None = None, request_checker: RequestChecker | None = None,
                    seed_orgs: int = 0, **options) -> Iterator[Sandbox]:
    """Serve a sandbox on a free loopback port in a background thread for the `with` block.

    `spec` is `../shared` (or `../shared/jsm`, or one of its files): requests are then checked
    against it; `options` are `SandboxConfig` fields (email, token, fault_rate, latency_ms, max_limit,
    rate_limit_per_minute, seed, clock, max_body_bytes, ...).
    """
    app = build_app(db=db, spec=spec, request_checker=request_checker, **options)
    with serving_in_background(app, host=host, port=port, name="jsm-sandbox", on_close=app.store.close) as url:
        app.base_url = url
        sandbox = Sandbox(url=url, email=app.config.email, token=app.config.token, cloud_id=app.config.cloud_id,
                          project_key=app.config.project_key, app=app, store=app.store)
        if seed_orgs:
            sandbox.seed_organizations(seed_orgs)
        yield sandbox


def run_sandbox_command(args) -> ExitCode:
    """Serve the sandbox until interrupted."""
    from deskbook.connectors.sandbox_kit.options import check_serve_options
    from deskbook.log import register_secret

    where = "deskbook sandbox jsm"
    check_serve_options(args, where=where)
    register_secret(args.token)
    customer = args.customer
    customer_token = os.environ.get(CUSTOMER_TOKEN_ENV, "").strip() if customer else ""
    if customer and ("@" not in customer or not customer_token):
        raise DeskbookError(f"--customer {customer!r} needs an email address and its token in ${CUSTOMER_TOKEN_ENV}",
                            where=f"{where} --customer",
                            hint=f"e.g. {CUSTOMER_TOKEN_ENV}=<a token you choose> deskbook sandbox jsm --customer li@example.com")
    if customer_token:
        register_secret(customer_token)
    try:
        app = build_app(db=args.db, email=args.email, token=args.token, fault_rate=args.fault_rate,
                        write_fault_rate=args.write_fault_rate, latency_ms=args.latency, seed=args.seed,
                        rate_limit_per_minute=args.rate_limit, project_key=args.project, spec=args.spec,
                        shortcuts=not args.real_site,
                        search_lag_seconds=max(0.0, args.search_lag))
    except ValueError as exc:
        raise DeskbookError(str(exc), where=f"{where} --spec", hint="give the folder of vendor material, e.g. ../shared") from None
    if args.seed_orgs:
        seed_organizations(app.store, args.seed_orgs, random.Random(args.seed))
    if customer:
        app.customer_login(customer, token=customer_token)

    def listening(url: str) -> None:
        app.base_url = url

    serve_in_foreground(app, host=args.host, port=args.port, where=where, on_listen=listening, on_close=app.store.close,
                        banner=lambda url: f"JSM sandbox on {url} (project {args.project}, cloud id {app.config.cloud_id}); "
                                           f"export JIRA_URL={url} JIRA_EMAIL={args.email} JSM_PROJECT={args.project} "
                                           f"JIRA_CLOUD_ID={app.config.cloud_id} and JIRA_API_TOKEN"
                                           + ("; playing a real site (no sandbox shortcuts)" if not app.config.shortcuts else "")
                                           + (f"; test customer {customer} (DESKBOOK_JSM_CUSTOMER_EMAIL={customer}, "
                                              f"token from ${CUSTOMER_TOKEN_ENV})" if customer else "")
                                           + "; Ctrl-C stops it")
    return ExitCode.OK

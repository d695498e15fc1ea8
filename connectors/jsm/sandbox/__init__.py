"""A local Jira Service Management that answers like JSM Cloud (see `app.py` for what it covers).

- `running_sandbox(**options)`: in-process server for tests; yields a `Sandbox` with `.url`,
  `.email`, `.token`, `.cloud_id`, `.requests()`, `.violations()`, `.store`, `.inject(...)`.
- `deskbook sandbox jsm [--port] [--db] [--email] [--token] [--fault-rate] [--write-fault-rate]
  [--latency] [--rate-limit] [--seed-orgs N] [--project KEY]`.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from deskbook.connectors.jsm.sandbox.app import (
    DEFAULT_CLOUD_ID,
    JsmSandboxApp,
    RequestChecker,
    SandboxConfig,
    seed_organizations,
)
from deskbook.connectors.jsm.sandbox.store import Store
from deskbook.connectors.sandbox_server import QuietRequestHandler, serving_in_background
from deskbook.errors import DeskbookError, ExitCode

__all__ = ["Sandbox", "running_sandbox", "run_sandbox_command", "SandboxConfig", "DEFAULT_CLOUD_ID"]


@dataclass
class Sandbox:
    """A running sandbox: where it is, how to log in, what it saw."""

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

    def requests(self) -> list[dict]:
        """Every API request served so far: method, path, query, json, status."""
        with self.app.lock:
            return list(self.app.log)

    def clear_requests(self) -> None:
        """Forget the request log (and recorded violations)."""
        with self.app.lock:
            self.app.log.clear()
            self.app.violations.clear()

    def violations(self) -> list[str]:
        """Problems the request checkers (spec, `request_checker`) found."""
        with self.app.lock:
            return list(self.app.violations)

    def inject(self, status: int, count: int = 1, *, path_prefix: str | None = None,
               retry_after: int | None = None) -> None:
        """Answer the next `count` requests (under `path_prefix`) with `status` (e.g. 429 + Retry-After)."""
        with self.app.lock:
            self.app.faults.append({"status": status, "count": count, "path_prefix": path_prefix,
                                    "retry_after": retry_after})

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
    return JsmSandboxApp(Store(db), config)


@contextlib.contextmanager
def running_sandbox(*, host: str = "127.0.0.1", port: int = 0, db: str = ":memory:",
                    spec: str | Path | None = None, request_checker: RequestChecker | None = None,
                    seed_orgs: int = 0, **options) -> Iterator[Sandbox]:
    """Serve a sandbox on a free loopback port in a background thread for the `with` block.

    `spec` is `../shared/jsm` (or one of its files): requests are then checked against it;
    `options` are `SandboxConfig` fields (email, token, fault_rate, latency_ms, max_limit,
    rate_limit_per_minute, seed, ...).
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
    from werkzeug.serving import make_server

    for flag, value in (("--fault-rate", args.fault_rate), ("--write-fault-rate", args.write_fault_rate)):
        if not 0.0 <= value <= 1.0:
            raise DeskbookError(f"{flag} {value} is outside 0..1", hint=f"use e.g. {flag} 0.2")
    app = build_app(db=args.db, email=args.email, token=args.token, fault_rate=args.fault_rate,
                    write_fault_rate=args.write_fault_rate, latency_ms=args.latency,
                    rate_limit_per_minute=args.rate_limit, project_key=args.project)
    if args.seed_orgs:
        seed_organizations(app.store, args.seed_orgs)
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        raise DeskbookError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}",
                            hint="choose another --port") from None
    url = f"http://{args.host}:{server.server_port}"
    app.base_url = url
    print(f"JSM sandbox on {url} (project {args.project}, cloud id {app.config.cloud_id}); "
          f"export JIRA_URL={url} JIRA_EMAIL={args.email} JSM_PROJECT={args.project} "
          f"JIRA_CLOUD_ID={app.config.cloud_id} and JIRA_API_TOKEN; Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return ExitCode.OK

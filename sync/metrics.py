"""`sync serve --metrics-port N`: `/healthz` and Prometheus `/metrics` for whoever runs the service.

The numbers come from each run's `SyncReport` (no desk call of their own), kept in a private
`prometheus_client` registry and served by a small Werkzeug server on a thread:

- `deskbook_sync_last_success_timestamp_seconds`, `deskbook_sync_last_run_timestamp_seconds`,
  `deskbook_sync_runs_total{outcome="ok|failed|interrupted"}`;
- `deskbook_sync_tasks_total{job, outcome="created|already_done|skipped|failed"}`;
- `deskbook_sync_requests_total{endpoint}` (desk requests by endpoint, summed over runs);
- `deskbook_sync_organizations` (organizations in the index after the last run);
- `deskbook_sync_rate_limit_share` (share of the desk's rate limit the last run used, when the desk
  reported its limit).

`/healthz` answers 200 with a JSON body while the service is healthy: no run has failed since the
last success, and the last success is not older than `stale_after` seconds (two periods, so one late
run is not an alarm); else 503 with the reason. Before the first run finishes it answers 200
`starting`, so an orchestrator's liveness probe does not kill a service doing its first long scan.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class SyncMetrics:
    """Counters and gauges of the runs of one `sync serve` process."""

    def __init__(self, stale_after: float, clock=time.time):
        self.registry = CollectorRegistry()
        self.clock = clock
        self.stale_after = stale_after
        self.started = clock()
        self.last_success: float | None = None
        self.last_failure: tuple[float, str] | None = None
        ns = "deskbook_sync"
        self.last_success_gauge = Gauge(f"{ns}_last_success_timestamp_seconds",
                                        "Unix time of the last run that finished without failures", registry=self.registry)
        self.last_run_gauge = Gauge(f"{ns}_last_run_timestamp_seconds", "Unix time the last run finished",
                                    registry=self.registry)
        self.runs = Counter(f"{ns}_runs", "Sync runs by outcome", ["outcome"], registry=self.registry)
        self.tasks = Counter(f"{ns}_tasks", "Due items by job and outcome", ["job", "outcome"], registry=self.registry)
        self.requests = Counter(f"{ns}_requests", "Desk requests by endpoint", ["endpoint"], registry=self.registry)
        self.organizations = Gauge(f"{ns}_organizations", "Organizations in the local index", registry=self.registry)
        self.rate_share = Gauge(f"{ns}_rate_limit_share", "Share of the desk's rate limit the last run used",
                                registry=self.registry)
        self._lock = threading.Lock()

    def observe(self, report: Any) -> None:
        """Record a finished run (`deskbook.sync.runner.SyncReport`)."""
        now = self.clock()
        with self._lock:
            for job, counts in report.jobs.items():
                for outcome in ("created", "already_done", "skipped", "failed"):
                    self.tasks.labels(job=job, outcome=outcome).inc(getattr(counts, outcome))
            for endpoint, count in report.requests.items():
                self.requests.labels(endpoint=endpoint).inc(count)
            self.organizations.set(report.organizations)
            share = getattr(report, "rate_share", None)
            if share is not None:
                self.rate_share.set(share)
            self.last_run_gauge.set(now)
            if report.failed:
                self.runs.labels(outcome="failed").inc()
                self.last_failure = (now, f"{report.failed} task(s) failed in the last run")
            elif report.interrupted:
                self.runs.labels(outcome="interrupted").inc()
            else:
                self.runs.labels(outcome="ok").inc()
                self.last_success = now
                self.last_failure = None
                self.last_success_gauge.set(now)

    def crashed(self, reason: str) -> None:
        """Record a run that could not run at all (desk unreachable, damaged ledger, ...)."""
        with self._lock:
            self.runs.labels(outcome="failed").inc()
            self.last_failure = (self.clock(), reason)
            self.last_run_gauge.set(self.clock())

    def health(self) -> tuple[int, dict]:
        """(HTTP status, JSON body) for `/healthz`."""
        now = self.clock()
        with self._lock:
            body: dict[str, Any] = {"last_success": self.last_success, "uptime_seconds": round(now - self.started, 3)}
            if self.last_failure is not None:
                return 503, {**body, "status": "failing", "reason": self.last_failure[1]}
            if self.last_success is None:
                if now - self.started > self.stale_after:
                    return 503, {**body, "status": "stale", "reason": "no successful run since the service started"}
                return 200, {**body, "status": "starting"}
            if now - self.last_success > self.stale_after:
                return 503, {**body, "status": "stale",
                             "reason": f"last successful run {round(now - self.last_success)} s ago"}
            return 200, {**body, "status": "ok"}

    def wsgi(self, environ, start_response):
        """The WSGI app: `/metrics` (Prometheus text) and `/healthz` (JSON)."""
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            payload = generate_latest(self.registry)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(payload)))])
            return [payload]
        if path == "/healthz":
            status, body = self.health()
            payload = json.dumps(body).encode()
            start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics or /healthz\n"]


class MetricsServer:
    """Serves `SyncMetrics.wsgi` on host:port in a daemon thread until `close()`."""

    def __init__(self, metrics: SyncMetrics, host: str, port: int):
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            """No access-log line per scrape: the service's stderr stays one line per event."""

            def log_request(self, *args, **kwargs) -> None:
                pass

        self.server = make_server(host, port, metrics.wsgi, threaded=True, request_handler=Quiet)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.thread.join(timeout=5)

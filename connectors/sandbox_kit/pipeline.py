"""The request pipeline both sandbox desks answer through (see the package docstring for the order).

A desk subclasses `SandboxPipeline` and supplies:

- `route(request, path, body, entry) -> Response`: its routes and handlers (it may raise
  `KitError`, e.g. for an unknown path, and set `entry["endpoint"]`);
- `error_response(request, path, error: KitError) -> Response`: the vendor's error body for a
  refusal (the vendor error-body hook);
- optionally `api_path` (the path routes and limits see), `limit_class`, `limit_headers`,
  `common_headers` and `log_fields` (extra request-log fields).

Basic auth is the pipeline's: `authenticated(request)` compares the username the desk expects
(`auth_username()`) and the token.
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import Any, Callable, Iterable

from werkzeug.wrappers import Request, Response

from deskbook.connectors.sandbox_kit.body import MAX_BODY_BYTES, MAX_JSON_DEPTH, read_json
from deskbook.connectors.sandbox_kit.errors import KitError
from deskbook.connectors.sandbox_kit.faults import Faults
from deskbook.connectors.sandbox_kit.limiter import ACCOUNT, Decision, RateLimiter
from deskbook.connectors.sandbox_kit.requestlog import MAX_ENTRIES, RequestLog

log = logging.getLogger("deskbook.sandbox")

#: `checker(method, path, query, json) -> [problems]`, e.g. a vendor OpenAPI contract.
RequestChecker = Callable[[str, str, Any, Any], list]
#: Where the sandbox's own endpoints live (the request log).
CONTROL_PREFIX = "/sandbox/"


class SandboxPipeline:
    """The WSGI app's shared half. Options: credentials, the clock the limiter reads, rate
    `limits` per endpoint class, `faults`, `latency_ms`, request `checkers`, body limits
    (`max_body_bytes`, `max_json_depth`) and how many requests the log keeps."""

    def __init__(self, *, email: str, token: str, clock: Any, limits: dict[str, int | None] | None = None,
                 faults: Faults | None = None, latency_ms: int = 0, checkers: Iterable[RequestChecker] = (),
                 max_body_bytes: int = MAX_BODY_BYTES, max_json_depth: int = MAX_JSON_DEPTH,
                 max_logged_requests: int = MAX_ENTRIES):
        self.email, self.token = email, token
        self.clock = clock
        self.limiter = RateLimiter(clock, limits)
        self.faults = faults or Faults()
        self.latency_ms = latency_ms
        self.checkers: list[RequestChecker] = list(checkers)
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.request_log = RequestLog(max_logged_requests)

    # ------------------------------------------------------------ the desk's hooks

    def route(self, request: Request, path: str, body: Any, entry: dict) -> Response:
        """Answer an authenticated, admitted API request (the desk's routes and handlers)."""
        raise NotImplementedError

    def error_response(self, request: Request, path: str, error: KitError) -> Response:
        """The vendor's error answer for a refusal."""
        raise NotImplementedError

    def auth_username(self) -> str:
        """The basic-auth username the desk expects."""
        return self.email

    def api_path(self, request: Request) -> str:
        """The path routes and limits see (e.g. without a `.json` suffix)."""
        return request.path

    def limit_class(self, path: str) -> str:
        """The rate-limit class of an API path."""
        return ACCOUNT

    def limit_headers(self, decision: Decision) -> dict[str, str]:
        """Headers every answer carries about the rate limit."""
        return {}

    def common_headers(self) -> dict[str, str]:
        """Headers every API answer carries."""
        return {}

    def log_fields(self, request: Request, path: str) -> dict[str, Any]:
        """Extra fields of a request-log entry."""
        return {}

    # ------------------------------------------------------------ log

    def requests(self) -> list[dict]:
        """Every API request served so far (oldest first; bounded, see `RequestLog`)."""
        return self.request_log.entries()

    def violations(self) -> list[str]:
        """Problems the request checkers reported, as 'METHOD path: problem'."""
        return self.request_log.violations()

    def reset_log(self) -> None:
        """Forget the request log and the recorded violations."""
        self.request_log.clear()

    # ------------------------------------------------------------ WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def authenticated(self, request: Request) -> bool:
        """Basic auth with the desk's username and the token (compared in constant time)."""
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False
        return (hmac.compare_digest((auth.username or "").encode(), self.auth_username().encode())
                and hmac.compare_digest((auth.password or "").encode(), self.token.encode()))

    def dispatch(self, request: Request) -> Response:
        """Answer one request."""
        if request.path.startswith(CONTROL_PREFIX):
            return self._guarded(request, request.path, self.control)
        path = self.api_path(request)
        entry: dict[str, Any] = {
            "method": request.method, "path": request.path,
            "query": {k: v if len(v) > 1 else v[0] for k, v in request.args.lists()},
            "json": None, "status": None, "time": time.time(),
        }
        entry.update(self.log_fields(request, path))
        response = self._guarded(request, path, lambda r: self._api(r, path, entry))
        headers = self.common_headers()
        headers.update(entry.pop("_limit_headers", {}))
        for key, value in headers.items():
            response.headers.setdefault(key, value)
        entry["status"] = response.status_code
        self.request_log.append(entry)
        return response

    def _guarded(self, request: Request, path: str, answer: Callable[[Request], Response]) -> Response:
        try:
            return answer(request)
        except KitError as exc:
            return self.error_response(request, path, exc)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer in the desk's shape
            log.exception("sandbox error on %s %s", request.method, request.path)
            return self.error_response(request, path, KitError(500, f"sandbox error: {exc!r}", reason="internal"))

    def _api(self, request: Request, path: str, entry: dict) -> Response:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        body, refusal = None, None
        try:
            parsed = read_json(request, max_bytes=self.max_body_bytes, max_depth=self.max_json_depth)
        except KitError as exc:
            if exc.status == 413:  # refused at the edge, before anything else
                raise
            refusal = exc
        else:
            body = parsed.json
            entry["json"] = self.request_log.body(parsed.json, parsed.size)
            query = list(request.args.items(multi=True))
            for checker in self.checkers:
                for problem in checker(request.method, path, query, body) or []:
                    self.request_log.violation(f"{request.method} {request.path}: {problem}")
        if not self.authenticated(request):
            raise KitError(401, "Authentication required.", reason="unauthorized")
        scheduled = self.faults.scheduled(request.path)
        if scheduled is not None:
            headers = {"Retry-After": str(scheduled.retry_after)} if scheduled.retry_after is not None else {}
            raise KitError(scheduled.status, "Injected sandbox fault.", reason="fault", headers=headers)
        decision = self.limiter.check(self.limit_class(path))
        entry["_limit_headers"] = self.limit_headers(decision)
        if not decision.allowed:
            raise KitError(429, "Rate limit exceeded.", reason="rate_limited",
                           headers={"Retry-After": str(decision.retry_after), **entry["_limit_headers"]})
        fault = self.faults.draw()
        if fault == "500":
            raise KitError(500, "Injected sandbox fault.", reason="fault")
        if fault in ("503", "503_retry_after"):
            headers = {"Retry-After": "1"} if fault == "503_retry_after" else {}
            raise KitError(503, "Injected sandbox fault.", reason="fault", headers=headers)
        if fault == "slow":
            time.sleep(self.faults.slow_seconds)
        if refusal is not None:
            raise refusal
        response = self.route(request, path, body, entry)
        if self.faults.lose_answer(request.method, response.status_code):
            raise KitError(500, "Injected sandbox fault after the write.", reason="lost_answer")
        return response

    def control(self, request: Request) -> Response:
        """`GET /sandbox/requests` (the log and the violations), `DELETE` clears them; `POST
        /sandbox/clock` moves a fake clock on (`pass_time`); behind the same auth as the API."""
        import json
        import math

        if not self.authenticated(request):
            raise KitError(401, "Authentication required.", reason="unauthorized")
        if request.path.rstrip("/") == "/sandbox/requests":
            if request.method == "GET":
                text = json.dumps({"requests": self.requests(), "violations": self.violations()})
                return Response(text, status=200, content_type="application/json; charset=utf-8")
            if request.method == "DELETE":
                self.reset_log()
                return Response(status=204)
            raise KitError(405, f"Method {request.method} is not allowed here.", reason="method_not_allowed",
                           headers={"Allow": "GET, DELETE"})
        if request.path.rstrip("/") == "/sandbox/clock":
            if request.method != "POST":
                raise KitError(405, f"Method {request.method} is not allowed here.", reason="method_not_allowed",
                               headers={"Allow": "POST"})
            try:
                body = json.loads(request.get_data(cache=True) or b"{}")
                seconds = float(body.get("advance_seconds", 0))
                if not 0 <= seconds < math.inf:  # NaN too: time passes forward, a finite amount
                    raise ValueError(f"must be a finite number of seconds, 0 or more, not {seconds}")
                answer = self.pass_time(seconds)
            except (TypeError, ValueError, AttributeError) as exc:
                raise KitError(400, f"advance_seconds: {exc}", reason="invalid") from None
            if answer is not None:
                return Response(json.dumps(answer), status=200, content_type="application/json; charset=utf-8")
        raise KitError(404, f"No resource at {request.path}.", reason="not_found")

    def pass_time(self, seconds: float) -> dict[str, Any] | None:
        """Hook for `POST /sandbox/clock {"advance_seconds": N}`: a sandbox whose rules run on a fake
        clock moves it on by `seconds` (running what falls due) and returns the answer's body; the
        default, None, means this sandbox has no clock to move (404)."""
        return None

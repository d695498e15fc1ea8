"""The sandbox desk's WSGI application: Zendesk Support API v2 routes over a `Store`.

Routing is a Werkzeug `Map`; `.json` suffixes are accepted and ignored. Every `/api/v2` request
passes the sandbox kit's pipeline (`deskbook.connectors.sandbox_kit.pipeline`: size limit,
latency, JSON parsing, request checkers, basic auth, faults, the rate limiter, then the routes
here) and is logged (see `SandboxApp.requests`). This module keeps Zendesk's routes, handlers,
rate-limit classes and error bodies.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import logging
import re
import threading
import time
import uuid
from typing import Any, Callable
from urllib.parse import urlencode

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from deskbook.connectors.sandbox_kit.errors import KitError
from deskbook.connectors.sandbox_kit.faults import Faults
from deskbook.connectors.sandbox_kit.limiter import Decision
from deskbook.connectors.sandbox_kit.pipeline import SandboxPipeline
from deskbook.connectors.zendesk.sandbox import engine, rules
from deskbook.connectors.zendesk.sandbox.desk_rules import DeskRules
from deskbook.connectors.zendesk.sandbox.rules import ApiError, bad_request, not_found
from deskbook.connectors.zendesk.sandbox.store import DELETED_TICKET, Store, iso, parse_iso
from deskbook.connectors.zendesk.sandbox_command import DEFAULT_RATE_LIMITS, EXPORT_LAG_SECONDS  # one source with the CLI

#: A queued bulk job waits this long (sandbox clock) before the background worker runs it; a status
#: poll runs it at once.
JOB_DELAY_SECONDS = 0.0
#: Background jobs an account may have queued or running at once (Zendesk's "Job limit" in the API
#: reference's rate limits page: 30); one more is refused with 429 and a Retry-After.
JOB_LIMIT = 30

log = logging.getLogger("deskbook.sandbox.zendesk")

#: URL collection -> (store kind, singular key, plural key, pagination style).
#: Pagination: "cursor" (cursor or offset), "cursor_or_all" (cursor, or everything at once), "all".
RESOURCES: dict[str, tuple[str, str, str, str]] = {
    "macros": ("macro", "macro", "macros", "cursor"),
    "triggers": ("trigger", "trigger", "triggers", "cursor"),
    "trigger_categories": ("trigger_category", "trigger_category", "trigger_categories", "cursor"),
    "automations": ("automation", "automation", "automations", "cursor"),
    "views": ("view", "view", "views", "cursor"),
    "groups": ("group", "group", "groups", "cursor"),
    "ticket_fields": ("ticket_field", "ticket_field", "ticket_fields", "cursor_or_all"),
    "organization_fields": ("organization_field", "organization_field", "organization_fields", "cursor"),
    "organizations": ("organization", "organization", "organizations", "cursor"),
    "users": ("user", "user", "users", "cursor"),
    "tickets": ("ticket", "ticket", "tickets", "cursor"),
    "slas/policies": ("sla_policy", "sla_policy", "sla_policies", "all"),
    "dynamic_content/items": ("dynamic_content_item", "item", "items", "cursor"),
    "business_hours/schedules": ("schedule", "schedule", "schedules", "all"),
    "ticket_forms": ("ticket_form", "ticket_form", "ticket_forms", "all"),
}
#: Kinds served by their own routes only (no generic create/update/delete), with their URL path.
READ_ONLY_PATHS = {"satisfaction_rating": "satisfaction_ratings"}
PATH_OF_KIND = {spec[0]: path for path, spec in RESOURCES.items()} | READ_ONLY_PATHS
#: Kinds Zendesk lists by `position` (then id) rather than by id: the order rules fire or show in.
POSITION_ORDERED_KINDS = {"trigger", "automation", "view", "trigger_category", "sla_policy"}
#: Kinds whose ids Zendesk returns as strings.
STRING_ID_KINDS = {"trigger_category"}
MAX_PAGE_SIZE = 100
OFFSET_LIMIT = 10_000
SEARCH_RESULT_LIMIT = 1000
#: The `score` filters of `GET /satisfaction_ratings` (spec, ListSatisfactionRatings "Filters").
SATISFACTION_SCORE_FILTERS = {"offered", "unoffered"} | {
    base + suffix for base in ("received", "good", "bad") for suffix in ("", "_with_comment", "_without_comment")}
#: Events per page of the time-based ticket metric events export (see `do_ticket_metric_events`).
METRIC_EVENTS_PAGE = 1000
IDEMPOTENCY_TTL = 2 * 3600
STATUS_RANK = "CASE json_extract(data, '$.status') WHEN 'new' THEN 0 WHEN 'open' THEN 1 WHEN 'pending' THEN 2 " \
              "WHEN 'hold' THEN 3 WHEN 'solved' THEN 4 WHEN 'closed' THEN 5 END"
_STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]


def _required_ids(args: Any, kind: str) -> list[str]:
    """The `ids` of a `show_many` whose spec makes them required; 400 when there are none."""
    ids = [i for i in (args.get("ids") or "").split(",") if i.strip()]
    if not ids:
        raise bad_request("InvalidValue", f"ids is required (comma-separated {kind} ids)")
    return ids


def _rules() -> Map:
    found: list[Rule] = [
        Rule("/api/v2/users/me", methods=["GET"], endpoint="users_me"),
        Rule("/api/v2/job_statuses", methods=["GET"], endpoint="job_status_list"),
        Rule("/api/v2/job_statuses/<job_id>", methods=["GET"], endpoint="job_status"),
        Rule("/api/v2/job_statuses/show_many", methods=["GET"], endpoint="job_status_many"),
        Rule("/api/v2/search", methods=["GET"], endpoint="search"),
        Rule("/api/v2/search/count", methods=["GET"], endpoint="search_count"),
        Rule("/api/v2/search/export", methods=["GET"], endpoint="search_export"),
        Rule("/api/v2/incremental/organizations", methods=["GET"], endpoint="incremental_organizations"),
        Rule("/api/v2/incremental/tickets/cursor", methods=["GET"], endpoint="incremental_tickets"),
        Rule("/api/v2/slas/policies/reorder", methods=["PUT"], endpoint="sla_reorder"),
        Rule("/api/v2/triggers/reorder", methods=["PUT"], endpoint="trigger_reorder"),
        Rule("/api/v2/trigger_categories/jobs", methods=["POST"], endpoint="trigger_category_jobs"),
        Rule("/api/v2/organizations/search", methods=["GET"], endpoint="organizations_search"),
        Rule("/api/v2/users/search", methods=["GET"], endpoint="users_search"),
        Rule("/api/v2/tickets/<int:object_id>/comments", methods=["GET"], endpoint="ticket_comments"),
        Rule("/api/v2/tickets/<int:object_id>/metrics", methods=["GET"], endpoint="ticket_metrics"),
        Rule("/api/v2/tickets/<int:object_id>/audits", methods=["GET"], endpoint="ticket_audits"),
        Rule("/api/v2/ticket_metrics/<int:object_id>", methods=["GET"], endpoint="ticket_metrics"),
        Rule("/api/v2/tickets/<int:object_id>/macros/<int:macro_id>/apply", methods=["GET"], endpoint="macro_apply"),
        Rule("/api/v2/macros/<int:macro_id>/apply", methods=["GET"], endpoint="macro_changes"),
        Rule("/api/v2/views/<int:object_id>/tickets", methods=["GET"], endpoint="view_tickets"),
        Rule("/api/v2/views/<int:object_id>/count", methods=["GET"], endpoint="view_count"),
        Rule("/api/v2/incremental/ticket_metric_events", methods=["GET"], endpoint="ticket_metric_events"),
        Rule("/api/v2/satisfaction_ratings", methods=["GET"], endpoint="satisfaction_ratings"),
        Rule("/api/v2/satisfaction_ratings/<int:object_id>", methods=["GET"], endpoint="satisfaction_rating"),
        Rule("/api/v2/ticket_fields/<int:object_id>/options", methods=["GET", "POST"], endpoint="field_options"),
        Rule("/api/v2/ticket_fields/<int:object_id>/options/<int:option_id>", methods=["GET", "DELETE"], endpoint="field_option"),
        Rule("/api/v2/dynamic_content/items/<int:object_id>/variants", methods=["GET", "POST"], endpoint="variants"),
        Rule("/api/v2/dynamic_content/items/<int:object_id>/variants/create_many", methods=["POST"], endpoint="variants_create_many"),
        Rule("/api/v2/dynamic_content/items/<int:object_id>/variants/update_many", methods=["PUT"], endpoint="variants_update_many"),
        Rule("/api/v2/dynamic_content/items/<int:object_id>/variants/<int:variant_id>", methods=["GET", "PUT", "DELETE"], endpoint="variant"),
        Rule("/api/v2/business_hours/schedules/<int:object_id>/workweek", methods=["PUT"], endpoint="workweek"),
        Rule("/api/v2/business_hours/schedules/<int:object_id>/holidays", methods=["GET", "POST"], endpoint="holidays"),
        Rule("/api/v2/business_hours/schedules/<int:object_id>/holidays/<int:holiday_id>", methods=["GET", "PUT", "DELETE"], endpoint="holiday"),
    ]
    for collection in ("organizations", "tickets", "users"):
        found += [
            Rule(f"/api/v2/{collection}/create_many", methods=["POST"], endpoint=f"create_many:{collection}"),
            Rule(f"/api/v2/{collection}/update_many", methods=["PUT"], endpoint=f"update_many:{collection}"),
            Rule(f"/api/v2/{collection}/show_many", methods=["GET"], endpoint=f"show_many:{collection}"),
            Rule(f"/api/v2/{collection}/destroy_many", methods=["DELETE"], endpoint=f"destroy_many:{collection}"),
        ]
    for collection in ("macros", "triggers", "automations", "views"):
        found += [
            Rule(f"/api/v2/{collection}/update_many", methods=["PUT"], endpoint=f"rules_update_many:{collection}"),
            Rule(f"/api/v2/{collection}/destroy_many", methods=["DELETE"], endpoint=f"destroy_many:{collection}"),
            Rule(f"/api/v2/{collection}/active", methods=["GET"], endpoint=f"active:{collection}"),
        ]
    for collection in RESOURCES:
        found += [
            Rule(f"/api/v2/{collection}", methods=["GET"], endpoint=f"list:{collection}"),
            Rule(f"/api/v2/{collection}", methods=["POST"], endpoint=f"create:{collection}"),
            Rule(f"/api/v2/{collection}/<int:object_id>", methods=["GET"], endpoint=f"show:{collection}"),
            Rule(f"/api/v2/{collection}/<int:object_id>", methods=["PUT", "PATCH"], endpoint=f"update:{collection}"),
            Rule(f"/api/v2/{collection}/<int:object_id>", methods=["DELETE"], endpoint=f"delete:{collection}"),
        ]
    return Map(found, strict_slashes=False)


URL_MAP = _rules()


def encode_cursor(object_id: int) -> str:
    """An opaque page cursor naming the last id seen (Zendesk's look: base64 JSON)."""
    return base64.b64encode(json.dumps({"o": "id", "v": object_id}, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The id inside a cursor from `encode_cursor`; 400 when it is not one."""
    try:
        return int(json.loads(base64.b64decode(cursor.encode()))["v"])
    except Exception as exc:  # noqa: BLE001 - any malformed cursor is the client's error
        raise bad_request("InvalidPaginationParameter", f"page cursor {cursor!r} is not valid") from exc


def encode_position_cursor(doc: dict) -> str:
    """A page cursor for a list ordered by position: the last (position, id) seen."""
    value = [doc.get("position") or 0, doc["id"]]
    return base64.b64encode(json.dumps({"o": "position", "v": value}, separators=(",", ":")).encode()).decode()


def decode_position_cursor(cursor: str) -> tuple[int, int]:
    """The (position, id) inside a cursor from `encode_position_cursor`; 400 when it is not one."""
    try:
        position, object_id = json.loads(base64.b64decode(cursor.encode()))["v"]
        return int(position), int(object_id)
    except Exception as exc:  # noqa: BLE001 - any malformed cursor is the client's error
        raise bad_request("InvalidPaginationParameter", f"page cursor {cursor!r} is not valid") from exc


def endpoint_class(path: str) -> str:
    """Rate-limit class of an API path: incremental exports, search export, or the account limit."""
    if path.startswith("/api/v2/incremental/"):
        return "incremental"
    if path.startswith("/api/v2/search/export"):
        return "search_export"
    return "account"


def _numeric_ids(text: str) -> list[str]:
    """The ids of a comma-separated `ids` parameter; 400 InvalidValue unless each is a number."""
    ids = [i.strip() for i in text.split(",") if i.strip()]
    if not all(i.isdigit() and len(i) < 19 for i in ids):
        raise bad_request("InvalidValue", "ids must be a comma-separated list of numeric ids")
    return ids


def _fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Ctx:
    """Per-request helpers: base URL, store, and lazily loaded organization field keys."""

    def __init__(self, app: "SandboxApp", request: Request, path: str):
        self.app, self.store, self.request, self.path = app, app.store, request, path
        self.base = request.host_url.rstrip("/")
        self._org_keys: list[str] | None = None

    def org_keys(self) -> list[str]:
        """Keys of every organization field (organizations list all of them, null when unset)."""
        if self._org_keys is None:
            self._org_keys = [f["key"] for f in self.store.all("organization_field")]
        return self._org_keys

    def url(self, path: str, params: dict | list | None = None) -> str:
        """An absolute URL on this sandbox."""
        query = urlencode(params or {}, doseq=True)
        return f"{self.base}{path}" + (f"?{query}" if query else "")

    def present(self, kind: str, doc: dict) -> dict:
        """A stored document as Zendesk returns it (url first, private keys dropped, ids typed)."""
        out: dict[str, Any] = {"url": f"{self.base}/api/v2/{PATH_OF_KIND.get(kind, kind + 's')}/{doc['id']}.json",
                               "id": doc["id"]}
        out.update((k, v) for k, v in doc.items() if not k.startswith("_"))
        if kind in STRING_ID_KINDS:
            out["id"] = str(doc["id"])
        if kind == "trigger" and out.get("category_id") is not None:
            out["category_id"] = str(out["category_id"])
        if kind == "organization":
            out["organization_fields"] = {key: (doc.get("organization_fields") or {}).get(key) for key in self.org_keys()}
        if kind == "ticket":
            out.pop("fields", None)
            out["fields"] = out.get("custom_fields", [])
            # a system update (or a deletion) moves it alone; a later event moves both
            out["generated_timestamp"] = int(max(doc.get("_generated_ts") or 0, parse_iso(doc["updated_at"])))
        if kind == "dynamic_content_item":
            out["variants"] = [self.present_variant(doc["id"], v) for v in doc.get("variants", [])]
        return out

    def present_variant(self, item_id: int, variant: dict) -> dict:
        """A dynamic content variant with its url."""
        return {"url": f"{self.base}/api/v2/dynamic_content/items/{item_id}/variants/{variant['id']}.json", **variant}


def _json_response(status: int, body: Any, headers: dict | None = None) -> Response:
    text = "" if body is None else json.dumps(body)
    response = Response(text, status=status, content_type="application/json; charset=utf-8")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


#: Zendesk's error bodies for the kit's refusals (status, reason) -> body; see `SandboxApp.error_response`.
_KIT_ERRORS: dict[tuple[int, str], dict] = {
    (401, "unauthorized"): {"error": "Couldn't authenticate you"},
    (429, "rate_limited"): {"error": "APIRateLimitExceeded", "description": "Number of allowed API requests per minute exceeded"},
    (429, "fault"): {"error": "APIRateLimitExceeded", "description": "Number of allowed API requests per minute exceeded"},
    (500, "fault"): {"error": "InternalServerError", "description": "Sandbox fault injection: internal error"},
    (500, "lost_answer"): {"error": "InternalServerError", "description": "Sandbox fault injection: internal error"},
    (503, "fault"): {"error": "ServiceUnavailable", "description": "Sandbox fault injection: try again later"},
    (404, "not_found"): {"error": "InvalidEndpoint", "description": "Not found"},
}
#: Error codes of the other refusals, by reason.
_KIT_ERROR_CODES = {"invalid_json": "InvalidJSON", "too_large": "RequestTooLarge", "invalid": "InvalidValue",
                    "method_not_allowed": "InvalidEndpoint", "internal": "InternalError", "fault": "SandboxFault"}


class SandboxApp(SandboxPipeline):
    """The WSGI app. Options mirror `running_sandbox`; `sla_available=False` answers 403 on
    `/slas/...` like an account whose plan has no SLA policies."""

    def __init__(self, store: Store, *, email: str = "admin@example.com", token: str = "sandbox",
                 fault_rate: float = 0.0, seed: int = 0, fault_slow_seconds: float = 3.0, latency_ms: int = 0,
                 rate_limits: dict[str, int] | None = None,
                 request_checker: Callable[[str, str, Any, Any], list[str]] | None = None,
                 sla_available: bool = True, export_lag_seconds: float = EXPORT_LAG_SECONDS,
                 write_fault_rate: float = 0.0, write_delay_seconds: float = 0.0, run_rules: bool = True,
                 csat: bool = False, job_delay_seconds: float = JOB_DELAY_SECONDS, **pipeline: Any):
        super().__init__(email=email, token=token, clock=store.clock,
                         limits={**DEFAULT_RATE_LIMITS, **(rate_limits or {})},
                         faults=Faults(fault_rate, seed, slow_seconds=fault_slow_seconds, write_rate=write_fault_rate),
                         latency_ms=latency_ms, checkers=[request_checker] if request_checker else [], **pipeline)
        self.store = store
        self.rules = DeskRules(store, csat=csat, enabled=run_rules)
        # A slow desk: each POST is carried out this long after it arrived, whether or not the
        # client is still there to read the answer (tests kill clients while writes are in flight).
        self.write_delay_seconds = write_delay_seconds
        self.writes_in_flight = 0
        self._in_flight_lock = threading.Lock()
        self.sla_available = sla_available
        self.export_lag_seconds = export_lag_seconds
        # Bulk ticket creates are queued as Zendesk queues them: a background worker runs each once
        # it has waited `job_delay_seconds` (Zendesk's workers do not wait for a poll), a status
        # poll runs it at once if it is still queued. job id -> (queued at, the tickets to create).
        self.job_delay_seconds = job_delay_seconds
        self._queued_jobs: dict[str, tuple[float, list[dict]]] = {}
        self._jobs_working = 0  # taken from the queue, not yet completed (counts against JOB_LIMIT)
        self._jobs_lock = threading.Lock()
        self._jobs_wake = threading.Event()
        self._closing = threading.Event()
        self._job_worker: threading.Thread | None = None

    def close(self) -> None:
        """Stop the background job worker (queued jobs stay queued), then close the store."""
        self._closing.set()
        self._jobs_wake.set()
        if self._job_worker is not None:
            self._job_worker.join(30)
        self.store.close()

    def _work_jobs(self) -> None:
        """The background job worker: runs queued jobs once they are due, until `close`."""
        while not self._closing.is_set():
            self._jobs_wake.wait(0.05)
            self._jobs_wake.clear()
            if self._queued_jobs and not self._closing.is_set():
                try:
                    self._run_queued_jobs(self.store, due_only=True)
                except Exception:  # noqa: BLE001 - the store closed under it: the sandbox is stopping
                    if not self._closing.is_set():
                        log.exception("sandbox bulk job failed")

    # ------------------------------------------------------------ the kit's hooks

    def auth_username(self) -> str:
        """Zendesk API tokens authenticate as `email/token`."""
        return f"{self.email}/token"

    def api_path(self, request: Request) -> str:
        """The path without a `.json` suffix."""
        return request.path[:-5] if request.path.endswith(".json") else request.path

    def limit_class(self, path: str) -> str:
        """Zendesk's rate-limit classes."""
        return endpoint_class(path)

    def limit_headers(self, decision: Decision) -> dict[str, str]:
        """`X-Rate-Limit` and `X-Rate-Limit-Remaining` of the request's class and, as Zendesk sends
        them, the account's `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds)."""
        headers = {"X-Rate-Limit": str(decision.limit), "X-Rate-Limit-Remaining": str(decision.remaining)}
        if decision.account_limit is not None:
            headers.update({"ratelimit-limit": str(decision.account_limit),
                            "ratelimit-remaining": str(decision.account_remaining),
                            "ratelimit-reset": str(decision.retry_after)})
        return headers

    def common_headers(self) -> dict[str, str]:
        """Every answer names the API version."""
        return {"x-zendesk-api-version": "v2"}

    def log_fields(self, request: Request, path: str) -> dict[str, Any]:
        """The endpoint (ids folded) and its rate-limit class."""
        endpoint, _ = self._match(request, path)
        return {"endpoint": self._endpoint_name(request.method, endpoint, path), "endpoint_class": endpoint_class(path)}

    def error_response(self, request: Request, path: str, error: KitError) -> Response:
        """Zendesk's JSON error body for a refusal of the pipeline."""
        body = _KIT_ERRORS.get((error.status, error.reason))
        if body is None:
            body = {"error": _KIT_ERROR_CODES.get(error.reason, "InvalidValue"), "description": error.message}
        headers = dict(error.headers)
        if error.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Web Password"'
        return _json_response(error.status, body, headers)

    def route(self, request: Request, path: str, body: Any, entry: dict) -> Response:
        """Zendesk's routes (404 InvalidEndpoint for others; 403 on `/slas/` without SLA policies)."""
        endpoint, args = self._match(request, path)
        try:
            if endpoint is None:
                raise ApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})
            if not self.sla_available and path.startswith("/api/v2/slas/"):
                raise ApiError(403, {"error": "Forbidden", "description": "You do not have access to this page. Please "
                                     "contact the account owner of this help desk for further help."})
            if self.write_delay_seconds and request.method == "POST":
                with self._in_flight_lock:
                    self.writes_in_flight += 1
                try:
                    time.sleep(self.write_delay_seconds)
                finally:
                    with self._in_flight_lock:
                        self.writes_in_flight -= 1
            return self._handle(endpoint, args, request, path, body)
        except ApiError as exc:
            return _json_response(exc.status, exc.body, exc.headers)

    @staticmethod
    def _match(request: Request, path: str) -> tuple[str | None, dict]:
        adapter = URL_MAP.bind_to_environ(request.environ)
        try:
            return adapter.match(path, method=request.method)
        except (NotFound, MethodNotAllowed):
            return None, {}

    @staticmethod
    def _endpoint_name(method: str, endpoint: str | None, path: str) -> str:
        if endpoint is None:
            return f"{method} {path}"
        return f"{method} " + re.sub(r"/\d+(?=/|$)", "/{id}", path)

    def pass_time(self, seconds: float) -> dict[str, Any]:
        """`POST /sandbox/clock` (the kit's control API): time passes on a fake clock, automations
        running at each whole hour (`DeskRules.pass_time`)."""
        fired = self.rules.pass_time(seconds)
        return {"now": iso(self.store.now()), "automation_actions": fired}

    def _handle(self, endpoint: str, args: dict, request: Request, path: str, body: Any) -> Response:
        ctx = Ctx(self, request, path)
        if self._queued_jobs:
            self._run_queued_jobs(ctx.store, due_only=True)
        action, _, collection = endpoint.partition(":")
        handler = getattr(self, f"do_{action}")
        if collection:
            return handler(ctx, collection, body, **args)
        return handler(ctx, body, **args)

    # ------------------------------------------------------------ generic CRUD

    @staticmethod
    def _inner(body: Any, key: str) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get(key), dict):
            raise bad_request("InvalidValue", f"The request body must be a JSON object with a {key!r} object")
        return body[key]

    def _list_filter(self, ctx: Ctx, kind: str) -> tuple[str, tuple]:
        args = ctx.request.args
        clauses, params = [], []
        if "active" in args and kind in ("macro", "trigger", "automation", "view", "ticket_field", "organization_field"):
            clauses.append("json_extract(data, '$.active') = ?")
            params.append(1 if args["active"].lower() == "true" else 0)
        if kind == "ticket" and "external_id" in args:
            clauses.append("external_id = ?")
            params.append(args["external_id"])
        if kind == "trigger" and "category_id" in args:
            clauses.append("json_extract(data, '$.category_id') = ?")
            params.append(self._int_arg(args, "category_id", 0))
        if kind == "user" and "role" in args:
            clauses.append("json_extract(data, '$.role') = ?")
            params.append(args["role"])
        return " AND ".join(clauses), tuple(params)

    def do_list(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """List a collection with Zendesk's pagination for it."""
        kind, _, plural, style = RESOURCES[collection]
        where, params = self._list_filter(ctx, kind)
        return _json_response(200, self.paginate(ctx, kind, plural, style, where=where, params=params))

    def do_active(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """`GET /<rules>/active`: the active rules, paginated like the list."""
        kind, _, plural, style = RESOURCES[collection]
        return _json_response(200, self.paginate(ctx, kind, plural, style, where="json_extract(data, '$.active') = 1"))

    def paginate(self, ctx: Ctx, kind: str, plural: str, style: str, *, where: str = "", params: tuple = ()) -> dict:
        """One page in cursor (`page[size]`/`page[after]`/`page[before]`) or offset (`page`/`per_page`) form."""
        args = ctx.request.args
        present = lambda docs: [ctx.present(kind, d) for d in docs]  # noqa: E731
        by_position = kind in POSITION_ORDERED_KINDS
        cursor_mode = any(k in args for k in ("page[size]", "page[after]", "page[before]"))
        if cursor_mode and style != "all":
            size = self._int_arg(args, "page[size]", MAX_PAGE_SIZE)
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise bad_request("InvalidPaginationParameter", f"page[size] must be between 1 and {MAX_PAGE_SIZE}")
            decode = decode_position_cursor if by_position else decode_cursor
            encode = encode_position_cursor if by_position else (lambda doc: encode_cursor(doc["id"]))
            after = decode(args["page[after]"]) if args.get("page[after]") else None
            before = decode(args["page[before]"]) if args.get("page[before]") else None
            docs = ctx.store.page(kind, after_id=after, before_id=before, limit=size + 1, where=where, params=params,
                                  by_position=by_position)
            has_more = len(docs) > size
            docs = docs[1:] if (before is not None and has_more) else docs[:size]
            first = encode(docs[0]) if docs else None
            last = encode(docs[-1]) if docs else None
            extra = [(k, v) for k, v in args.items(multi=True) if not k.startswith("page[")]
            return {
                plural: present(docs),
                "meta": {"has_more": has_more, "after_cursor": last, "before_cursor": first},
                "links": {
                    "prev": ctx.url(ctx.request.path, [("page[before]", first), ("page[size]", size)] + extra) if first else None,
                    "next": ctx.url(ctx.request.path, [("page[after]", last), ("page[size]", size)] + extra) if last else None,
                },
            }
        if style in ("all", "cursor_or_all") and "page" not in args and "per_page" not in args:
            docs = list(ctx.store.iter(kind, where=where, params=params, by_position=by_position))
            return {plural: present(docs), "next_page": None, "previous_page": None, "count": len(docs)}
        page = self._int_arg(args, "page", 1)
        per_page = min(self._int_arg(args, "per_page", 100), 100)
        if page < 1 or per_page < 1:
            raise bad_request("InvalidPaginationParameter", "page and per_page must be positive")
        if page * per_page > OFFSET_LIMIT:
            raise bad_request("InvalidPaginationParameter",
                              f"Offset pagination is limited to the first {OFFSET_LIMIT} records; use cursor pagination (page[size])")
        total = ctx.store.count(kind, where=where, params=params)
        docs = ctx.store.page(kind, offset=(page - 1) * per_page, limit=per_page, where=where, params=params,
                              by_position=by_position, sort=self._ticket_sort(kind, args))
        extra = [(k, v) for k, v in args.items(multi=True) if k not in ("page", "per_page")]
        return {
            plural: present(docs),
            "next_page": ctx.url(ctx.request.path, extra + [("page", page + 1), ("per_page", per_page)]) if page * per_page < total else None,
            "previous_page": ctx.url(ctx.request.path, extra + [("page", page - 1), ("per_page", per_page)]) if page > 1 else None,
            "count": total,
        }

    @staticmethod
    def _ticket_sort(kind: str, args: Any) -> tuple[str, bool] | None:
        """List Tickets' order on offset pages: `sort_by` (`updated_at`, `created_at` or `id`) and
        `sort_order` (`asc`, the default, or `desc`); None (by id) for other kinds and other values.

        The spec's ListTickets names only `external_id`; `sort_by`/`sort_order` are what Zendesk's
        developer community reports List Tickets accepting with offset pagination (cursor pages keep
        their id order here: no source says a cursor page sorts). Each ticket's `updated_at` moves on
        every change (`Store.put`), so a changed ticket goes to the top of `updated_at desc` and shifts
        the pages below it by one, as offset pages over a live list do. Refusals stay those of every
        offset list: past the first `OFFSET_LIMIT` records a 400 (Zendesk's offset limit of 10,000
        records, 100 pages, since 2024: "New limits for offset-based pagination"); `per_page` is at
        most 100 (larger values give 100 a page, as before)."""
        field = args.get("sort_by")
        if kind != "ticket" or field not in ("updated_at", "created_at", "id"):
            return None
        return field, (args.get("sort_order") or "asc").lower() == "desc"

    def list_page(self, ctx: Ctx, plural: str, listed: list, *, offset: bool = True) -> dict:
        """One page of a list the sandbox builds in memory (a ticket's comments or audits, a view's
        tickets, the job statuses), at most `MAX_PAGE_SIZE` a page as the spec gives these lists:
        cursor pages (`page[size]`, `page[after]`; the cursor holds a position in the list) or, with
        `offset` and no cursor parameter, offset pages (`page`, `per_page`) as `paginate` serves them."""
        args = ctx.request.args
        if not offset or any(k in args for k in ("page[size]", "page[after]")):
            size = self._int_arg(args, "page[size]", MAX_PAGE_SIZE)
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise bad_request("InvalidPaginationParameter", f"page[size] must be between 1 and {MAX_PAGE_SIZE}")
            start = decode_cursor(args["page[after]"]) if args.get("page[after]") else 0
            has_more = start + size < len(listed)
            after = encode_cursor(start + size) if has_more else None
            extra = [(k, v) for k, v in args.items(multi=True) if not k.startswith("page[")]
            return {plural: listed[start:start + size],
                    "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": None},
                    "links": {"next": ctx.url(ctx.request.path, [("page[after]", after), ("page[size]", size)] + extra)
                              if has_more else None, "prev": None}}
        page = self._int_arg(args, "page", 1)
        per_page = min(self._int_arg(args, "per_page", MAX_PAGE_SIZE), MAX_PAGE_SIZE)
        if page < 1 or per_page < 1:
            raise bad_request("InvalidPaginationParameter", "page and per_page must be positive")
        extra = [(k, v) for k, v in args.items(multi=True) if k not in ("page", "per_page")]
        return {plural: listed[(page - 1) * per_page:page * per_page],
                "next_page": ctx.url(ctx.request.path, extra + [("page", page + 1), ("per_page", per_page)])
                if page * per_page < len(listed) else None,
                "previous_page": ctx.url(ctx.request.path, extra + [("page", page - 1), ("per_page", per_page)])
                if page > 1 else None,
                "count": len(listed)}

    @staticmethod
    def _int_arg(args, name: str, default: int) -> int:
        raw = args.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise bad_request("InvalidValue", f"{name} must be an integer, got {raw!r}") from exc
        if not -(2 ** 63) <= value < 2 ** 63:
            raise bad_request("InvalidValue", f"{name} is out of range: {raw!r}")
        return value

    def _get(self, ctx: Ctx, kind: str, object_id: Any) -> dict:
        doc = ctx.store.get(kind, object_id)
        if doc is None:
            raise not_found()
        return doc

    def do_show(self, ctx: Ctx, collection: str, body: Any, object_id: int) -> Response:
        """Show one object; a ticket with `?include=slas` also shows its running SLA targets
        (`ticket.slas.policy_metrics`) and with `include=metric_sets` its metrics."""
        kind, singular, _, _ = RESOURCES[collection]
        doc = self._get(ctx, kind, object_id)
        shown = ctx.present(kind, doc)
        include = {i.strip() for i in (ctx.request.args.get("include") or "").split(",")}
        if kind == "ticket" and "slas" in include:
            shown["slas"] = self.rules.slas(doc)
        if kind == "ticket" and "metric_sets" in include:
            shown["metric_set"] = engine.ticket_metrics(doc, self._schedule(ctx))
        return _json_response(200, {singular: shown})

    # ------------------------------------------------------------ rules at work (see engine.py)

    @staticmethod
    def _schedule(ctx: Ctx) -> dict | None:
        from deskbook.connectors.zendesk.sandbox.business_hours import schedule_of

        return schedule_of(ctx.store)

    def do_ticket_metrics(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """`GET /tickets/{id}/metrics` (and `/ticket_metrics/{id}`, the sandbox using the ticket id
        as the metric set's id): reply and resolution times, reopens, replies."""
        doc = self._get(ctx, "ticket", object_id)
        return _json_response(200, {"ticket_metric": engine.ticket_metrics(doc, self._schedule(ctx))})

    def do_ticket_metric_events(self, ctx: Ctx, body: Any) -> Response:
        """`GET /incremental/ticket_metric_events?start_time=` (required, spec): the events at or after
        `start_time`, oldest first. With `page[size]` (at most 100, spec: "Cursor pagination returns
        a maximum of 100 records per page") or `page[after]` they come in cursor pages (`meta`,
        `links`); without, as a time-based export of at most `METRIC_EVENTS_PAGE` events a page
        (`next_page` starts at the last event's second, so a client drops the events it already has
        by id; the spec says unpaginated results are a time-based export — the page size of that is
        the incremental exports' 1000). Breach events are derived as read (`desk_rules.breach_events`)."""
        from deskbook.connectors.zendesk.sandbox.desk_rules import breach_events

        args = ctx.request.args
        if "start_time" not in args:
            raise bad_request("InvalidValue", "start_time is required (epoch seconds)")
        start = float(self._int_arg(args, "start_time", 0))
        now = ctx.store.now()
        events = []
        for doc in ctx.store.iter("ticket"):
            for event in (doc.get("_metric_events") or []) + breach_events(doc, now):
                if parse_iso(event["time"]) >= start:
                    events.append({k: v for k, v in event.items() if not k.startswith("_")})
        events.sort(key=lambda e: (e["time"], e["id"]))
        if any(k in args for k in ("page[size]", "page[after]")):
            return _json_response(200, self._metric_event_page(ctx, events))
        events = events[:METRIC_EVENTS_PAGE]
        end = int(parse_iso(events[-1]["time"])) if events else int(start)
        return _json_response(200, {"ticket_metric_events": events, "count": len(events), "end_time": end,
                                    "next_page": ctx.url(ctx.request.path, [("start_time", end)])})

    def _metric_event_page(self, ctx: Ctx, events: list[dict]) -> dict:
        """One cursor page of metric events (ordered by time, then id; the cursor holds both)."""
        args = ctx.request.args
        size = self._int_arg(args, "page[size]", MAX_PAGE_SIZE)
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise bad_request("InvalidPaginationParameter", f"page[size] must be between 1 and {MAX_PAGE_SIZE}")
        place = lambda e: (int(parse_iso(e["time"])), e["id"])  # noqa: E731
        if args.get("page[after]"):
            after = decode_position_cursor(args["page[after]"])
            events = [e for e in events if place(e) > after]
        page, has_more = events[:size], len(events) > size
        last = encode_position_cursor({"position": place(page[-1])[0], "id": page[-1]["id"]}) if page else None
        extra = [(k, v) for k, v in args.items(multi=True) if not k.startswith("page[")]
        return {"ticket_metric_events": page,
                "meta": {"has_more": has_more, "after_cursor": last, "before_cursor": None},
                "links": {"prev": None,
                          "next": ctx.url(ctx.request.path, [("page[after]", last), ("page[size]", size)] + extra)
                          if has_more else None}}

    def do_satisfaction_ratings(self, ctx: Ctx, body: Any) -> Response:
        """`GET /satisfaction_ratings`: cursor (`page[size]` <= 100) or offset pages, filtered by
        `score` (good, bad, received, ...), `start_time` and `end_time` (epoch seconds, on `created_at`)."""
        args = ctx.request.args
        clauses, params = [], []
        score = args.get("score")
        if score:
            if score not in SATISFACTION_SCORE_FILTERS:
                raise bad_request("InvalidValue", f"score {score!r} is not a satisfaction score filter")
            base, _, comment = score.partition("_with")
            if base in ("good", "bad"):
                clauses.append("json_extract(data, '$.score') = ?")
                params.append(base)
            elif base in ("offered", "unoffered"):
                clauses.append("0")  # stored ratings are all received
            if comment:  # "_comment" (with one) or "out_comment" (without)
                clauses.append("COALESCE(json_extract(data, '$.comment'), '') " + ("!=" if comment == "_comment" else "=") + " ''")
        for name, op in (("start_time", ">="), ("end_time", "<=")):
            if name in args:
                clauses.append(f"created_ts {op} ?")
                params.append(self._int_arg(args, name, 0))
        return _json_response(200, self.paginate(ctx, "satisfaction_rating", "satisfaction_ratings", "cursor",
                                                 where=" AND ".join(clauses), params=tuple(params)))

    def do_satisfaction_rating(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """`GET /satisfaction_ratings/{id}`."""
        return _json_response(200, {"satisfaction_rating": ctx.present("satisfaction_rating",
                                                                        self._get(ctx, "satisfaction_rating", object_id))})

    def do_macro_apply(self, ctx: Ctx, body: Any, object_id: int, macro_id: int) -> Response:
        """`GET /tickets/{id}/macros/{macro_id}/apply`: the ticket as the macro would leave it
        (changed fields and the comment), without changing it."""
        ticket = copy.deepcopy(self._get(ctx, "ticket", object_id))
        return _json_response(200, {"result": self._macro_result(ctx, macro_id, ticket)})

    def do_macro_changes(self, ctx: Ctx, body: Any, macro_id: int) -> Response:
        """`GET /macros/{id}/apply`: the changes the macro makes to an empty ticket."""
        ticket = rules.ticket_defaults(ctx.store)
        ticket["id"] = 0
        return _json_response(200, {"result": self._macro_result(ctx, macro_id, ticket)})

    def _macro_result(self, ctx: Ctx, macro_id: int, ticket: dict) -> dict:
        macro = self._get(ctx, "macro", macro_id)
        effects = engine.Effects()
        before = copy.deepcopy(ticket)
        fields = {int(f["id"]): f for f in ctx.store.all("ticket_field")}
        engine.apply_actions(ticket, macro.get("actions") or [], fields=fields, effects=effects,
                             rule=f"macro:{macro.get('title')}", current_user=rules.ADMIN_USER_ID,
                             render=self.rules._renderer(ticket, rules.ADMIN_USER_ID))
        changed: dict[str, Any] = {}
        for key in ("status", "priority", "type", "group_id", "assignee_id", "tags"):
            if ticket.get(key) != before.get(key):
                changed[key] = ticket.get(key)
        if ticket.get("custom_fields") != before.get("custom_fields"):
            changed["fields"] = ticket.get("custom_fields")
        if effects.comments:
            comment = effects.comments[-1]
            changed["comment"] = {"body": comment["body"], "public": comment["public"],
                                  "scoped_body": [["channel:all", comment["body"]]]}
        if ticket.get("id"):
            changed["id"] = ticket["id"]
            changed["url"] = f"{ctx.base}/api/v2/tickets/{ticket['id']}.json"
        return {"ticket": changed}

    def do_view_tickets(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """`GET /views/{id}/tickets`: the tickets the view's conditions match, in its order."""
        found = self._view_rows(ctx, object_id)
        return _json_response(200, self.list_page(ctx, "tickets", [ctx.present("ticket", d) for d in found]))

    def do_view_count(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """`GET /views/{id}/count` (always fresh in the sandbox)."""
        found = self._view_rows(ctx, object_id)
        return _json_response(200, {"view_count": {"view_id": object_id, "url": f"{ctx.base}/api/v2/views/{object_id}/count.json",
                                                   "value": len(found), "pretty": str(len(found)), "fresh": True}})

    def _view_rows(self, ctx: Ctx, object_id: int) -> list[dict]:
        view = self._get(ctx, "view", object_id)
        args = ctx.request.args
        return engine.view_tickets(view, ctx.store.all("ticket"), now=ctx.store.now(), schedule=self._schedule(ctx),
                                   sort_by=args.get("sort_by"), sort_order=args.get("sort_order"))

    def do_create(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """Create one object (tickets honour `Idempotency-Key`)."""
        kind, singular, _, _ = RESOURCES[collection]
        if kind == "ticket":
            return self._create_ticket(ctx, body)
        with ctx.store.transaction():
            doc = ctx.store.insert(kind, rules.BUILDERS[kind](self._inner(body, singular), None, ctx.store))
        presented = ctx.present(kind, doc)
        status = 200 if kind == "trigger_category" else 201
        return _json_response(status, {singular: presented}, {"Location": presented["url"]})

    def _create_ticket(self, ctx: Ctx, body: Any) -> Response:
        key = ctx.request.headers.get("Idempotency-Key")
        store = ctx.store
        with store.transaction():
            if key:
                found = store.idempotent_lookup(key, IDEMPOTENCY_TTL)
                if found is not None:
                    fingerprint, status, text = found
                    if fingerprint != _fingerprint(body):
                        raise bad_request("IdempotentRequestError",
                                          "The request parameters don't match the original request for this idempotency key")
                    return _json_response(status, json.loads(text), {"x-idempotency-lookup": "hit"})
            payload = self._inner(body, "ticket")
            doc = store.insert("ticket", rules.build_ticket(payload, None, store))
            doc = store.put("ticket", self.rules.ticket_written(None, doc, payload))
            presented = ctx.present("ticket", doc)
            answer = {"ticket": presented, "audit": self._audit(doc)}
            if key:
                store.idempotent_remember(key, _fingerprint(body), 201, json.dumps(answer))
        headers = {"Location": presented["url"]}
        if key:
            headers["x-idempotency-lookup"] = "miss"
        return _json_response(201, answer, headers)

    @staticmethod
    def _audit(doc: dict) -> dict:
        comments = doc.get("_comments") or []
        events = [{"id": doc["id"] * 1000 + 1, "type": "Comment", "author_id": rules.ADMIN_USER_ID,
                   "body": comments[-1]["body"], "plain_body": comments[-1]["body"], "public": comments[-1]["public"],
                   "attachments": []}] if comments else []
        return {"id": doc["id"] * 1000, "ticket_id": doc["id"], "created_at": doc["updated_at"],
                "author_id": rules.ADMIN_USER_ID, "metadata": {"system": {}, "custom": {}}, "events": events,
                "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}}

    def do_update(self, ctx: Ctx, collection: str, body: Any, object_id: int) -> Response:
        """Update one object (PUT; PATCH for trigger categories)."""
        kind, singular, _, _ = RESOURCES[collection]
        with ctx.store.transaction():
            existing = self._get(ctx, kind, object_id)
            payload = self._inner(body, singular)
            before = copy.deepcopy(existing)
            doc = rules.BUILDERS[kind](payload, existing, ctx.store)
            doc["id"] = existing["id"]
            if kind == "ticket":
                doc = self.rules.ticket_written(before, doc, payload)
            ctx.store.put(kind, doc)
        answer = {singular: ctx.present(kind, doc)}
        if kind == "ticket":
            answer["audit"] = self._audit(doc)
        return _json_response(200, answer)

    def do_delete(self, ctx: Ctx, collection: str, body: Any, object_id: int) -> Response:
        """Delete one object (204; trigger categories that still hold triggers are refused)."""
        kind = RESOURCES[collection][0]
        with ctx.store.transaction():
            self._get(ctx, kind, object_id)
            if kind == "trigger_category" and ctx.store.find_first("trigger", lambda t: t.get("category_id") == object_id):
                raise ApiError(400, {"errors": [{"code": "CategoryNotEmpty", "title": "Invalid category",
                                                 "detail": "Cannot delete a trigger category that contains triggers"}]})
            if kind == "organization_field":
                key = ctx.store.get(kind, object_id)["key"]
                for org in ctx.store.iter("organization", where="json_type(data, ?) IS NOT NULL", params=(f"$.organization_fields.{key}",)):
                    org["organization_fields"].pop(key, None)
                    ctx.store.put("organization", org, touch=False)
            ctx.store.delete(kind, object_id)
        return Response(status=204)

    # ------------------------------------------------------------ bulk endpoints and jobs

    def _job(self, ctx: Ctx, results: list[dict]) -> Response:
        job_id = "V3-" + uuid.uuid4().hex
        job = {"id": job_id, "url": f"{ctx.base}/api/v2/job_statuses/{job_id}.json", "total": len(results),
               "progress": len(results), "status": "completed",
               "message": f"Completed at {iso(ctx.store.now()).replace('T', ' ').replace('Z', ' +0000')}", "results": results}
        ctx.store.save_job(job)
        queued = dict(job, progress=None, status="queued", message=None, results=None)
        return _json_response(200, {"job_status": queued})

    def _queue_job(self, ctx: Ctx, items: list[dict]) -> Response:
        """Queue a bulk ticket create: answered `queued` (no results), run later (`_run_queued_jobs`)."""
        with self._jobs_lock:
            waiting = len(self._queued_jobs) + self._jobs_working
        if waiting >= JOB_LIMIT:
            raise ApiError(429, {"error": "TooManyJobs",
                                 "description": f"Number of allowed jobs queued or running ({JOB_LIMIT}) exceeded"},
                           {"Retry-After": "1"})
        job_id = "V3-" + uuid.uuid4().hex
        queued = {"id": job_id, "url": f"{ctx.base}/api/v2/job_statuses/{job_id}.json", "total": len(items),
                  "progress": None, "status": "queued", "message": None, "results": None}
        ctx.store.save_job(queued)
        with self._jobs_lock:
            self._queued_jobs[job_id] = (ctx.store.now(), copy.deepcopy(items))
            if self._job_worker is None:
                self._job_worker = threading.Thread(target=self._work_jobs, name="zendesk-sandbox-jobs", daemon=True)
                self._job_worker.start()
        self._jobs_wake.set()
        return _json_response(200, {"job_status": queued})

    def _run_queued_jobs(self, store: Store, *, ids: set[str] | None = None, due_only: bool = False) -> None:
        """Run queued bulk ticket creates: those in `ids` (a status poll), or with `due_only` those queued
        at least `job_delay_seconds` ago. Each runs once (taken under a lock)."""
        now = store.now()
        with self._jobs_lock:
            take = [job_id for job_id, (queued_at, _) in self._queued_jobs.items()
                    if (ids is None or job_id in ids) and (not due_only or now - queued_at >= self.job_delay_seconds)]
            work = [(job_id, self._queued_jobs.pop(job_id)[1]) for job_id in take]
            self._jobs_working += len(work)
        for job_id, items in work:
            try:
                job = store.get_job(job_id) or {"id": job_id}
                store.save_job(dict(job, status="working", progress=0, message="Creating ticket #1"))
                with self.rules.settings_held():  # one job, one read of the account's settings
                    results = self._create_items(store, "ticket", items)
                store.save_job(dict(job, total=len(results), progress=len(results), status="completed",
                                    message=f"Completed at {iso(store.now()).replace('T', ' ').replace('Z', ' +0000')}",
                                    results=results), completed=True)
            finally:
                with self._jobs_lock:
                    self._jobs_working -= 1

    @staticmethod
    def _too_many(items: list) -> None:
        if len(items) > 100:
            raise bad_request("TooManyValues", "Parameter  cannot specify more than 100 values", max_count=100)

    def _bulk_items(self, items: Any, plural: str) -> list[dict]:
        """The entries of a bulk request: a list of at most 100 objects, else Zendesk's 400."""
        if not isinstance(items, list):
            raise bad_request("InvalidValue", f"The request body must have a {plural!r} list")
        self._too_many(items)
        if not all(isinstance(item, dict) for item in items):
            raise bad_request("InvalidValue", f"every entry of {plural!r} must be an object")
        return items

    def do_create_many(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """Bulk create (at most 100); answers a job_status whose results list each outcome."""
        kind, _, plural, _ = RESOURCES[collection]
        items = self._bulk_items(body.get(plural) if isinstance(body, dict) else None, plural)
        if kind == "ticket":  # queued, as Zendesk does (the recordings: queued, working, completed)
            return self._queue_job(ctx, items)
        return self._job(ctx, self._create_items(ctx.store, kind, items))

    def _create_items(self, store: Store, kind: str, items: list[dict]) -> list[dict]:
        """Create each item in its own transaction; the job results by index (errors included)."""
        results = []
        for index, item in enumerate(items):
            try:
                with store.transaction():
                    doc = store.insert(kind, rules.BUILDERS[kind](item, None, store))
                    if kind == "ticket":
                        doc = store.put("ticket", self.rules.ticket_written(None, doc, item))
                results.append({"index": index, "id": doc["id"]} if kind == "ticket" else {"id": doc["id"], "status": "Created"})
            except ApiError as exc:
                results.append({"index": index, "error": exc.body.get("error"), "details": json.dumps(exc.body.get("details", exc.body))})
        return results

    def do_update_many(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """Bulk update: `{plural: [{id, ...}]}` or `?ids=1,2` with `{singular: {...}}`; a job_status."""
        kind, singular, plural, _ = RESOURCES[collection]
        if ctx.request.args.get("ids"):
            change = self._inner(body, singular)
            items = [dict(change, id=int(i)) for i in _numeric_ids(ctx.request.args["ids"])]
        else:
            items = body.get(plural) if isinstance(body, dict) else None
        items = self._bulk_items(items, plural)
        results = []
        for index, item in enumerate(items):
            try:
                with ctx.store.transaction():
                    existing = self._get(ctx, kind, item.get("id"))
                    before = copy.deepcopy(existing)
                    doc = rules.BUILDERS[kind](item, existing, ctx.store)
                    doc["id"] = existing["id"]
                    if kind == "ticket":
                        doc = self.rules.ticket_written(before, doc, item)
                    ctx.store.put(kind, doc)
                results.append({"action": "update", "id": doc["id"], "status": "Updated", "success": True})
            except ApiError as exc:
                if kind == "organization" and exc.body.get("error") == "RecordInvalid":  # as recorded
                    details = "; ".join(p["description"] for problems in exc.body["details"].values() for p in problems)
                    results.append({"index": index, "error": "OrganizationUpdateFailed", "id": item.get("id"),
                                    "details": details})
                    continue
                results.append({"action": "update", "id": item.get("id"), "success": False,
                                "error": exc.body.get("error"), "details": json.dumps(exc.body.get("details", exc.body))})
        return self._job(ctx, results)

    def do_show_many(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """`show_many?ids=` (or `external_ids=`): offset-shaped list of the found objects."""
        kind, _, plural, _ = RESOURCES[collection]
        args = ctx.request.args
        docs: list[dict] = []
        if kind == "ticket" or args.get("ids"):  # tickets: by `ids` only, and required (spec TicketIds)
            ids = _required_ids(args, kind)
            self._too_many(ids)
            docs = [d for d in (ctx.store.get(kind, i) for i in ids) if d]
        elif args.get("external_ids"):
            for external in args["external_ids"].split(","):
                docs += ctx.store.by_external_id(kind, external)
        docs.sort(key=lambda d: d["id"])
        return _json_response(200, {plural: [ctx.present(kind, d) for d in docs], "next_page": None,
                                    "previous_page": None, "count": len(docs)})

    def do_destroy_many(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """`destroy_many?ids=`: rules answer 204, organizations/tickets/users a job_status."""
        kind = RESOURCES[collection][0]
        ids = [i.strip() for i in (ctx.request.args.get("ids") or "").split(",") if i.strip()]
        if not ids or not all(i.isdigit() for i in ids):
            raise bad_request("InvalidValue", "ids is required: a comma-separated list of numeric ids")
        self._too_many(ids)
        results = []
        with ctx.store.transaction():
            for object_id in ids:
                ok = ctx.store.delete(kind, object_id)
                results.append({"action": "delete", "id": int(object_id), "status": "Deleted" if ok else "Failed", "success": ok})
        if collection in ("macros", "triggers", "automations", "views"):
            return Response(status=204)
        return self._job(ctx, results)

    def do_rules_update_many(self, ctx: Ctx, collection: str, body: Any) -> Response:
        """`PUT /<rules>/update_many`: only id, position, active (and category_id for triggers)."""
        kind, _, plural, _ = RESOURCES[collection]
        allowed = {"id", "position", "active"} | ({"category_id"} if kind == "trigger" else set())
        items = body.get(plural) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise bad_request("InvalidValue", f"The request body must have a {plural!r} list")
        for item in items:
            if not isinstance(item, dict):
                raise bad_request("InvalidValue", f"every entry of {plural!r} must be an object")
            extra = set(item) - allowed
            if extra:
                raise rules.invalid(plural, f"update_many only takes {', '.join(sorted(allowed))}; got {', '.join(sorted(extra))}")
            if "position" in item and (not isinstance(item["position"], int) or isinstance(item["position"], bool)):
                raise rules.invalid("position", f"position must be an integer, got {item['position']!r}")
        updated = []
        with ctx.store.transaction():
            docs = [self._get(ctx, kind, item.get("id")) for item in items]
            for doc, item in zip(docs, items, strict=False):
                doc.update({k: v for k, v in item.items() if k != "id"})
                if kind == "trigger" and "category_id" in item:
                    if ctx.store.get("trigger_category", item["category_id"]) is None:
                        raise rules.invalid("category_id", f"trigger category {item['category_id']} does not exist")
                    doc["category_id"] = int(item["category_id"])
                ctx.store.put(kind, doc)
                updated.append(ctx.present(kind, doc))
        return _json_response(200, {plural: updated, "count": len(updated), "next_page": None, "previous_page": None})

    def do_job_status(self, ctx: Ctx, body: Any, job_id: str) -> Response:
        """Show one job status (a queued job runs at its first poll)."""
        self._run_queued_jobs(ctx.store, ids={job_id})
        job = ctx.store.get_job(job_id)
        if job is None:
            raise not_found()
        return _json_response(200, {"job_status": job})

    def do_job_status_many(self, ctx: Ctx, body: Any) -> Response:
        """Show several job statuses (`ids` is required, spec ShowManyJobStatuses)."""
        ids = _required_ids(ctx.request.args, "job status")
        self._run_queued_jobs(ctx.store, ids=set(ids))
        return _json_response(200, {"job_statuses": [j for j in map(ctx.store.get_job, ids) if j]})

    def do_job_status_list(self, ctx: Ctx, body: Any) -> Response:
        """`GET /job_statuses`: the account's jobs, unfinished first, then by completion, newest first
        (spec: "sorted first by completion date and then by creation date in descending order"; where
        unfinished ones go is not said). Cursor pagination only (spec), `page[size]` up to 100."""
        return _json_response(200, self.list_page(ctx, "job_statuses", ctx.store.list_jobs(), offset=False))

    # ------------------------------------------------------------ special endpoints

    def do_users_me(self, ctx: Ctx, body: Any) -> Response:
        """The authenticated admin."""
        return _json_response(200, {"user": ctx.present("user", self._get(ctx, "user", rules.ADMIN_USER_ID))})

    def do_sla_reorder(self, ctx: Ctx, body: Any) -> Response:
        """`PUT /slas/policies/reorder?sla_policy_ids[]=..` (or JSON body): positions follow the list."""
        ids = ctx.request.args.getlist("sla_policy_ids[]") or ctx.request.args.getlist("sla_policy_ids")
        if len(ids) == 1 and "," in ids[0]:
            ids = ids[0].split(",")
        if not ids and isinstance(body, dict):
            ids = body.get("sla_policy_ids") or []
        self._reorder(ctx, "sla_policy", [int(i) for i in _numeric_ids(",".join(map(str, ids)))])
        # spec ReorderSLAPolicies: 200 "Empty response" (schema type string, example "")
        return Response(b"", status=200, content_type="application/json; charset=utf-8")

    def do_trigger_reorder(self, ctx: Ctx, body: Any) -> Response:
        """`PUT /triggers/reorder` with `{"trigger_ids": [...]}` (spec ReorderTriggers): every
        trigger id of the account, and only while the account has one trigger category."""
        ids = body.get("trigger_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            raise bad_request("InvalidValue", "trigger_ids is required")
        if ctx.store.count("trigger_category") > 1:
            # spec: "the endpoint will return a `LimitOneCategory` error"; its status and body are
            # not documented: 400 in Zendesk's {error, description} shape is the sandbox's guess
            raise bad_request("LimitOneCategory", "Reordering triggers is not permitted with more than one trigger category;"
                              " use POST /api/v2/trigger_categories/jobs")
        wanted = [int(i) for i in ids]
        if sorted(wanted) != sorted(d["id"] for d in ctx.store.all("trigger")):
            # spec: "You must include every ticket trigger id ... If not, the endpoint will return
            # 404"; the body is not documented: Zendesk's usual 404 body is the sandbox's guess
            raise not_found()
        docs = self._reorder(ctx, "trigger", wanted)
        # spec: 200 with a TriggerResponse ({"trigger": {...}}, which trigger is not documented):
        # the sandbox answers the trigger that is now first
        return _json_response(200, {"trigger": ctx.present("trigger", docs[0])} if docs else {})

    def do_trigger_category_jobs(self, ctx: Ctx, body: Any) -> Response:
        """`POST /trigger_categories/jobs` with `{"job": {"action": "patch", "items": {"trigger_categories":
        [{id, position}], "triggers": [{id, position, category_id, active}]}}}`: all or nothing; answers
        `{"status": "complete", "results": {...}}` (400 with `errors` when an item is invalid)."""
        def refuse(detail: str) -> ApiError:
            return ApiError(400, {"errors": [{"code": "InvalidBatchJob", "title": "Invalid job", "detail": detail}]})

        job = body.get("job") if isinstance(body, dict) else None
        if not isinstance(job, dict) or job.get("action") != "patch" or not isinstance(job.get("items"), dict):
            raise refuse('the body must be {"job": {"action": "patch", "items": {...}}}')
        items = job["items"]
        allowed = {"trigger_categories": ({"id", "position"}, {"id", "position"}),
                   "triggers": ({"id", "position", "category_id", "active"}, {"id"})}
        if set(items) - set(allowed):
            raise refuse(f"items takes only trigger_categories and triggers; got {', '.join(sorted(set(items) - set(allowed)))}")
        results: dict[str, list[dict]] = {"trigger_categories": [], "triggers": []}
        with ctx.store.transaction():
            for group, kind in (("trigger_categories", "trigger_category"), ("triggers", "trigger")):
                keys, required = allowed[group]
                for item in items.get(group) or []:
                    if not isinstance(item, dict) or set(item) - keys or required - set(item):
                        raise refuse(f"each of {group} takes {', '.join(sorted(keys))} (required: "
                                     f"{', '.join(sorted(required))}); got {item!r}")
                    if "position" in item and (not isinstance(item["position"], int) or isinstance(item["position"], bool)):
                        raise refuse(f"position must be an integer in {item!r}")
                    doc = ctx.store.get(kind, item["id"]) if str(item["id"]).isdigit() else None
                    if doc is None:
                        raise refuse(f"{kind} {item['id']} does not exist")
                    if "category_id" in item:
                        if ctx.store.get("trigger_category", item["category_id"]) is None:
                            raise refuse(f"trigger category {item['category_id']} does not exist")
                        doc["category_id"] = int(item["category_id"])
                    doc.update({k: item[k] for k in ("position", "active") if k in item})
                    ctx.store.put(kind, doc)
                    results[group].append(ctx.present(kind, doc))
        return _json_response(200, {"status": "complete", "results": results})

    def _reorder(self, ctx: Ctx, kind: str, ids: list[int]) -> list[dict]:
        """Give the objects `ids` positions 1, 2, ... in that order (404 when one is missing)."""
        with ctx.store.transaction():
            docs = [self._get(ctx, kind, i) for i in ids]
            for position, doc in enumerate(docs, start=1):
                doc["position"] = position
                ctx.store.put(kind, doc)
        return docs

    def do_ticket_comments(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """Comments of a ticket, oldest first."""
        doc = self._get(ctx, "ticket", object_id)
        comments = [{"id": object_id * 1000 + n, "type": "Comment", "body": c["body"], "plain_body": c["body"],
                     "public": c["public"], "author_id": c["author_id"], "attachments": [],
                     "created_at": iso(c["ts"]) if c.get("ts") else doc.get("created_at")}
                    for n, c in enumerate(doc.get("_comments") or [], start=1)]
        return _json_response(200, self.list_page(ctx, "comments", comments))

    def do_ticket_audits(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """Audits of a ticket, oldest first: one per comment (a Comment event) and one per email a
        trigger or automation sent (a Notification event: subject, body, recipients, the rule in
        `via.source.from`)."""
        doc = self._get(ctx, "ticket", object_id)
        audits = []
        for n, c in enumerate(doc.get("_comments") or [], start=1):
            audits.append({"id": object_id * 1000 + n, "ticket_id": object_id, "author_id": c["author_id"],
                           "created_at": iso(c["ts"]) if c.get("ts") else doc.get("created_at"),
                           "metadata": {"system": {}, "custom": {}}, "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
                           "events": [{"id": object_id * 100000 + n, "type": "Comment", "body": c["body"],
                                       "plain_body": c["body"], "public": c["public"], "author_id": c["author_id"],
                                       "attachments": []}]})
        for n, note in enumerate(doc.get("_notifications") or [], start=1):
            audits.append({"id": object_id * 1000 + 500 + n, "ticket_id": object_id, "author_id": -1,
                           "created_at": iso(note["ts"]), "metadata": {"system": {}, "custom": {}},
                           "via": {"channel": "rule", "source": {"from": {"id": note.get("rule_id"), "title": str(note.get("rule") or "").split(":", 1)[-1]},
                                                                 "to": {}, "rel": str(note.get("rule") or "trigger").split(":", 1)[0]}},
                           "events": [{"id": object_id * 100000 + 500 + n, "type": "Notification",
                                       "subject": note.get("subject"), "body": note.get("body"),
                                       "recipients": [note["to"]] if note.get("to") is not None else []}]})
        audits.sort(key=lambda a: (a["created_at"], a["id"]))
        return _json_response(200, self.list_page(ctx, "audits", audits))

    def do_field_options(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """List, or create/update (by id or value) one option of a dropdown ticket field."""
        with ctx.store.transaction():
            field = self._get(ctx, "ticket_field", object_id)
            options = field.get("custom_field_options")
            if options is None:
                raise rules.invalid("custom_field_options", "this field type has no options")
            if ctx.request.method == "GET":
                return _json_response(200, {"custom_field_options": options, "next_page": None, "previous_page": None,
                                            "count": len(options)})
            option = self._inner(body, "custom_field_option")
            match = next((o for o in options if o["id"] == option.get("id") or o["value"] == option.get("value")), None)
            raw = [dict(o) for o in options]
            if match:
                raw = [dict(o, **option) if o["id"] == match["id"] else o for o in raw]
            else:
                raw.append(option)
            field["custom_field_options"] = rules._options(raw, "custom_field_options", ctx.store, options)
            ctx.store.put("ticket_field", field)
        saved = next(o for o in field["custom_field_options"] if o["value"] == (option.get("value") or match["value"]))
        return _json_response(200 if match else 201, {"custom_field_option": saved})

    def do_field_option(self, ctx: Ctx, body: Any, object_id: int, option_id: int) -> Response:
        """Show or delete one option of a dropdown ticket field."""
        with ctx.store.transaction():
            field = self._get(ctx, "ticket_field", object_id)
            options = field.get("custom_field_options") or []
            option = next((o for o in options if o["id"] == option_id), None)
            if option is None:
                raise not_found()
            if ctx.request.method == "GET":
                return _json_response(200, {"custom_field_option": option})
            field["custom_field_options"] = [o for o in options if o["id"] != option_id]
            ctx.store.put("ticket_field", field)
        return Response(status=204)

    # dynamic content variants

    def do_variants(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """List or create variants of a dynamic content item."""
        with ctx.store.transaction():
            item = self._get(ctx, "dynamic_content_item", object_id)
            if ctx.request.method == "GET":
                return _json_response(200, {"variants": [ctx.present_variant(object_id, v) for v in item["variants"]]})
            variant = rules.build_variant(self._inner(body, "variant"), None, ctx.store, item["variants"])
            self._add_variant(item, variant)
            ctx.store.put("dynamic_content_item", item)
        return _json_response(201, {"variant": ctx.present_variant(object_id, variant)})

    @staticmethod
    def _add_variant(item: dict, variant: dict) -> None:
        if variant["default"]:
            for other in item["variants"]:
                other["default"] = False
            item["default_locale_id"] = variant["locale_id"]
        item["variants"].append(variant)

    def do_variants_create_many(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """Create several variants at once."""
        raw = body.get("variants") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            raise bad_request("InvalidValue", "The request body must have a 'variants' list")
        with ctx.store.transaction():
            item = self._get(ctx, "dynamic_content_item", object_id)
            created = []
            for entry in raw:
                variant = rules.build_variant(entry, None, ctx.store, item["variants"])
                self._add_variant(item, variant)
                created.append(variant)
            ctx.store.put("dynamic_content_item", item)
        return _json_response(201, {"variants": [ctx.present_variant(object_id, v) for v in created]})

    def do_variants_update_many(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """Update several variants (by id) at once."""
        raw = body.get("variants") if isinstance(body, dict) else None
        if not isinstance(raw, list):
            raise bad_request("InvalidValue", "The request body must have a 'variants' list")
        with ctx.store.transaction():
            item = self._get(ctx, "dynamic_content_item", object_id)
            for entry in raw:
                self._update_variant(ctx, item, entry.get("id"), entry)
            ctx.store.put("dynamic_content_item", item)
        return _json_response(200, {"variants": [ctx.present_variant(object_id, v) for v in item["variants"]]})

    def _update_variant(self, ctx: Ctx, item: dict, variant_id: Any, change: dict) -> dict:
        index = next((n for n, v in enumerate(item["variants"]) if v["id"] == variant_id), None)
        if index is None:
            raise not_found()
        variant = rules.build_variant(change, item["variants"][index], ctx.store, item["variants"])
        item["variants"][index] = variant
        if change.get("default"):
            for other in item["variants"]:
                other["default"] = other["id"] == variant["id"]
            item["default_locale_id"] = variant["locale_id"]
        return variant

    def do_variant(self, ctx: Ctx, body: Any, object_id: int, variant_id: int) -> Response:
        """Show, update or delete one variant (the default variant cannot be deleted)."""
        with ctx.store.transaction():
            item = self._get(ctx, "dynamic_content_item", object_id)
            variant = next((v for v in item["variants"] if v["id"] == variant_id), None)
            if variant is None:
                raise not_found()
            if ctx.request.method == "GET":
                return _json_response(200, {"variant": ctx.present_variant(object_id, variant)})
            if ctx.request.method == "DELETE":
                if variant["default"]:
                    raise rules.invalid("default", "the default variant cannot be deleted")
                item["variants"] = [v for v in item["variants"] if v["id"] != variant_id]
                ctx.store.put("dynamic_content_item", item)
                return Response(status=204)
            variant = self._update_variant(ctx, item, variant_id, self._inner(body, "variant"))
            ctx.store.put("dynamic_content_item", item)
        return _json_response(200, {"variant": ctx.present_variant(object_id, variant)})

    # schedules

    def do_workweek(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """Replace a schedule's weekly intervals."""
        week = self._inner(body, "workweek")
        with ctx.store.transaction():
            schedule = self._get(ctx, "schedule", object_id)
            schedule["intervals"] = rules.check_intervals(week.get("intervals"))
            ctx.store.put("schedule", schedule)
        return _json_response(200, {"workweek": {"intervals": schedule["intervals"]}})

    def do_holidays(self, ctx: Ctx, body: Any, object_id: int) -> Response:
        """List or create holidays of a schedule."""
        with ctx.store.transaction():
            schedule = self._get(ctx, "schedule", object_id)
            if ctx.request.method == "GET":
                return _json_response(200, {"holidays": schedule.get("_holidays", [])})
            holiday = self._holiday(ctx, self._inner(body, "holiday"), None)
            schedule.setdefault("_holidays", []).append(holiday)
            ctx.store.put("schedule", schedule)
        return _json_response(201, {"holiday": holiday})

    def _holiday(self, ctx: Ctx, payload: dict, existing: dict | None) -> dict:
        doc = dict(existing or {})
        doc.update({k: payload[k] for k in ("name", "start_date", "end_date") if k in payload})
        for key in ("name", "start_date", "end_date"):
            if not doc.get(key):
                raise rules.blank(key)
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", doc["start_date"]) or not re.match(r"^\d{4}-\d{2}-\d{2}$", doc["end_date"]):
            raise rules.invalid("start_date", "dates must be YYYY-MM-DD")
        if doc["end_date"] < doc["start_date"]:
            raise rules.invalid("end_date", "must not be before start_date")
        doc.setdefault("id", ctx.store.next_ids("holiday")[0])
        return doc

    def do_holiday(self, ctx: Ctx, body: Any, object_id: int, holiday_id: int) -> Response:
        """Show, update or delete one holiday."""
        with ctx.store.transaction():
            schedule = self._get(ctx, "schedule", object_id)
            holidays = schedule.get("_holidays", [])
            index = next((n for n, h in enumerate(holidays) if h["id"] == holiday_id), None)
            if index is None:
                raise not_found()
            if ctx.request.method == "GET":
                return _json_response(200, {"holiday": holidays[index]})
            if ctx.request.method == "DELETE":
                holidays.pop(index)
                ctx.store.put("schedule", schedule)
                return Response(status=204)
            holidays[index] = self._holiday(ctx, self._inner(body, "holiday"), holidays[index])
            ctx.store.put("schedule", schedule)
        return _json_response(200, {"holiday": holidays[index]})

    # ------------------------------------------------------------ search and exports

    def do_organizations_search(self, ctx: Ctx, body: Any) -> Response:
        """`GET /organizations/search?external_id=` or `?name=`."""
        args = ctx.request.args
        if "external_id" in args:
            docs = ctx.store.by_external_id("organization", args["external_id"])
        elif "name" in args:
            docs = [d for d in ctx.store.iter("organization", where="lower(json_extract(data, '$.name')) = lower(?)",
                                                params=(args["name"],))]
        else:
            raise bad_request("InvalidValue", "external_id or name is required")
        return _json_response(200, {"organizations": [ctx.present("organization", d) for d in docs],
                                    "next_page": None, "previous_page": None, "count": len(docs)})

    def do_users_search(self, ctx: Ctx, body: Any) -> Response:
        """`GET /users/search?external_id=` or `?query=` (matches email or name)."""
        args = ctx.request.args
        if "external_id" in args:
            docs = ctx.store.by_external_id("user", args["external_id"])
        else:
            query = (args.get("query") or "").strip().removeprefix("email:").lower()
            docs = [d for d in ctx.store.iter("user") if query and (query == (d.get("email") or "").lower() or query in d["name"].lower())]
        return _json_response(200, {"users": [ctx.present("user", d) for d in docs], "next_page": None,
                                    "previous_page": None, "count": len(docs)})

    def _search_sql(self, ctx: Ctx, query: str, forced_type: str | None = None) -> tuple[str, str, tuple]:
        kind, where, params = query_to_sql(query, ctx.org_keys(), forced_type)
        return kind, where, params

    def do_search(self, ctx: Ctx, body: Any) -> Response:
        """`GET /search?query=`: offset pages (per_page <= 100), at most 1000 results reachable."""
        args = ctx.request.args
        if not args.get("query"):
            raise bad_request("InvalidValue", "query is required")
        kind, where, params = self._search_sql(ctx, args["query"])
        page = self._int_arg(args, "page", 1)
        per_page = min(self._int_arg(args, "per_page", 100), 100)
        if page * per_page > SEARCH_RESULT_LIMIT:
            raise ApiError(422, {"error": "invalid", "description":
                                 "Invalid search: Requested response size was greater than Search Response Limits"})
        total = ctx.store.count(kind, where=where, params=params)
        docs = ctx.store.page(kind, offset=(page - 1) * per_page, limit=per_page, where=where, params=params)
        reachable = min(total, SEARCH_RESULT_LIMIT)
        base = [("query", args["query"])]
        return _json_response(200, {
            "results": [dict(ctx.present(kind, d), result_type=kind) for d in docs], "facets": None,
            "next_page": ctx.url(ctx.request.path, base + [("page", page + 1), ("per_page", per_page)]) if page * per_page < reachable else None,
            "previous_page": ctx.url(ctx.request.path, base + [("page", page - 1), ("per_page", per_page)]) if page > 1 else None,
            "count": total,
        })

    def do_search_count(self, ctx: Ctx, body: Any) -> Response:
        """`GET /search/count?query=`."""
        kind, where, params = self._search_sql(ctx, ctx.request.args.get("query") or "")
        return _json_response(200, {"count": ctx.store.count(kind, where=where, params=params)})

    def do_search_export(self, ctx: Ctx, body: Any) -> Response:
        """`GET /search/export?query=&filter[type]=`: cursor pages up to 1000, no result limit."""
        args = ctx.request.args
        forced = args.get("filter[type]")
        if forced not in ("ticket", "organization", "user", "group"):
            raise bad_request("InvalidValue", "filter[type] is required: ticket, organization, user or group")
        if not args.get("query"):
            raise bad_request("InvalidValue", "query is required")
        kind, where, params = self._search_sql(ctx, args["query"], forced)
        size = self._int_arg(args, "page[size]", 100)
        if not 1 <= size <= 1000:
            raise bad_request("InvalidPaginationParameter", "page[size] must be between 1 and 1000")
        after = decode_cursor(args["page[after]"]) if args.get("page[after]") else None
        docs = ctx.store.page(kind, after_id=after, limit=size + 1, where=where, params=params)
        has_more = len(docs) > size
        docs = docs[:size]
        last = encode_cursor(docs[-1]["id"]) if docs else None
        nxt = ctx.url(ctx.request.path, [("filter[type]", forced), ("page[after]", last), ("page[size]", size),
                                         ("query", args["query"])]) if has_more else None
        return _json_response(200, {
            "results": [dict(ctx.present(kind, d), result_type=kind) for d in docs], "facets": None,
            "meta": {"has_more": has_more, "after_cursor": last if has_more else None, "before_cursor": None},
            "links": {"prev": None, "next": nxt},
        })

    def _export_start(self, ctx: Ctx) -> float:
        """The `start_time` of a time-based export request, refused when it is less than
        `export_lag_seconds` old (or in the future).

        Spec (parameter IncrementalUnixTime of /incremental/organizations, /tickets, /tickets/cursor):
        "Must be at least one minute in the past. Data isn't provided for the most recent minute".
        The refusal's status and body are not in the spec or the recordings; clients in the wild
        (e.g. treasure-data/embulk-input-zendesk) handle a 422 {"error": "InvalidValue",
        "description": "Too recent start_time. Use a start_time older than 5 minutes"} from the
        days of a five-minute floor: the sandbox answers that, with the one-minute floor of today's
        spec in the wording (inferred)."""
        args = ctx.request.args
        if "start_time" not in args:
            raise bad_request("InvalidValue", "start_time is required (epoch seconds)")
        start = float(self._int_arg(args, "start_time", 0))
        if self.export_lag_seconds and start > ctx.store.now() - self.export_lag_seconds:
            raise ApiError(422, {"error": "InvalidValue",
                                 "description": "Too recent start_time. Use a start_time older than 1 minute"})
        return start

    def _export_until(self, ctx: Ctx) -> float | None:
        """The newest change an export may list: none from the most recent minute (spec, as above)."""
        return ctx.store.now() - self.export_lag_seconds if self.export_lag_seconds else None

    def do_incremental_organizations(self, ctx: Ctx, body: Any) -> Response:
        """Time-based export: organizations updated at/after `start_time` (not within the last
        minute), oldest first, 1000 per page."""
        args = ctx.request.args
        start = self._export_start(ctx)
        per_page = min(self._int_arg(args, "per_page", 1000), 1000)
        rows = ctx.store.changed_since("organization", start, limit=per_page, until_ts=self._export_until(ctx))
        end_time = int(rows[-1][0]) if rows else int(start)
        extra = [("per_page", per_page)] if "per_page" in args else []
        return _json_response(200, {
            "organizations": [ctx.present("organization", d) for _, d in rows],
            "count": len(rows), "end_of_stream": len(rows) < per_page, "end_time": end_time,
            "next_page": ctx.url(ctx.request.path, extra + [("start_time", end_time)]),
        })

    def do_incremental_tickets(self, ctx: Ctx, body: Any) -> Response:
        """Cursor-based ticket export: `start_time` first, then `cursor`; `after_cursor`/`after_url`/`end_of_stream`.
        Deleted tickets are listed too, with status "deleted" (as the recordings show); changes of
        the most recent minute are not (spec)."""
        args = ctx.request.args
        if args.get("cursor"):
            try:
                ts_text, _, rest = base64.b64decode(args["cursor"]).decode().partition("||")
                start, after_id = float(ts_text), int(rest.strip("|"))
            except Exception as exc:  # noqa: BLE001
                raise bad_request("InvalidValue", f"cursor {args['cursor']!r} is not valid") from exc
        elif "start_time" in args:
            start, after_id = self._export_start(ctx), -1
        else:
            raise bad_request("InvalidValue", "start_time or cursor is required")
        per_page = min(self._int_arg(args, "per_page", 1000), 1000)
        rows = ctx.store.changed_since("ticket", start, after_id=after_id, limit=per_page + 1,
                                       until_ts=self._export_until(ctx), kinds=(DELETED_TICKET,))
        has_more = len(rows) > per_page
        rows = rows[:per_page]
        last_ts, last_id = (rows[-1][0], rows[-1][1]["id"]) if rows else (start, after_id)
        # the recorded form `<seconds>.0||<id>|`; the change time exactly (repr round-trips a float):
        # rounded, a page ending within a tenth of a second of the next change skipped the tickets between
        cursor = base64.b64encode(f"{last_ts!r}||{last_id}|".encode()).decode()
        extra = [("per_page", per_page)] if "per_page" in args else []
        tickets = [ctx.present("ticket", d) for _, d in rows]
        include = [i.strip() for i in (args.get("include") or "").split(",") if i.strip()]
        extra += [("include", ",".join(include))] if include else []
        answer = {
            "tickets": tickets, "after_url": ctx.url(ctx.request.path, [("cursor", cursor)] + extra),
            "before_url": None, "after_cursor": cursor, "before_cursor": None, "end_of_stream": not has_more,
        }
        if "metric_sets" in include:  # the tickets sideload (side_loading: "metric_sets"), one per ticket
            schedule = self._schedule(ctx)
            answer["metric_sets"] = [engine.ticket_metrics(d, schedule) for _, d in rows if d.get("status") != "deleted"]
        return _json_response(200, answer)


# ------------------------------------------------------------------ search query language

_TERM = re.compile(r'(-)?(?:(\w[\w.]*)(:|<=|>=|<|>))?("[^"]*"|\S+)')
_COMMON_COLUMNS = {"created": "$.created_at", "updated": "$.updated_at", "external_id": "$.external_id"}
_TYPE_COLUMNS = {
    "ticket": {"status": "$.status", "priority": "$.priority", "ticket_type": "$.type", "subject": "$.subject",
               "organization": "$.organization_id", "organization_id": "$.organization_id", "group": "$.group_id",
               "group_id": "$.group_id", "requester": "$.requester_id", "requester_id": "$.requester_id",
               "assignee": "$.assignee_id", "assignee_id": "$.assignee_id", "description": "$.description", "due_date": "$.due_at"},
    "organization": {"name": "$.name", "notes": "$.notes", "details": "$.details", "group": "$.group_id"},
    "user": {"name": "$.name", "email": "$.email", "role": "$.role", "organization": "$.organization_id",
             "organization_id": "$.organization_id"},
    "group": {"name": "$.name"},
}
_OPS = {":": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


def query_to_sql(query: str, org_keys: list[str], forced_type: str | None = None) -> tuple[str, str, tuple]:
    """Translate Zendesk search syntax (`type:organization contract_end_date<2026-12-01 tags:vip`)
    into (kind, SQL condition over `data`, params). Unknown fields are a 400, as Zendesk's are errors too."""
    kind = forced_type
    clauses: list[str] = []
    params: list[Any] = []
    for negate, field, op, raw in _TERM.findall(query):
        value = raw[1:-1] if raw.startswith('"') and raw.endswith('"') else raw
        if field == "type":
            kind = value
            continue
        if not field:  # free text: name / subject / description contains
            clauses.append("(" + ("NOT " if negate else "") +
                           "(instr(lower(coalesce(json_extract(data,'$.name'),'') || ' ' || coalesce(json_extract(data,'$.subject'),'') "
                           "|| ' ' || coalesce(json_extract(data,'$.description'),'')), lower(?)) > 0))")
            params.append(value)
            continue
        clauses.append(("NOT " if negate else "") + _term_sql(kind, field, _OPS[op], value, org_keys, params))
    if kind not in _TYPE_COLUMNS:
        raise bad_request("InvalidValue", f"search needs type:ticket, type:organization, type:user or type:group (got {kind!r})")
    return kind, " AND ".join(clauses), tuple(params)


def _term_sql(kind: str | None, field: str, op: str, value: str, org_keys: list[str], params: list) -> str:
    if field in ("tags", "tag"):
        params.append(value)
        return "EXISTS (SELECT 1 FROM json_each(data, '$.tags') WHERE json_each.value = ?)"
    if kind == "ticket" and field == "status" and value in _STATUSES:
        params.append(_STATUSES.index(value))
        return f"({STATUS_RANK}) {op} ?"
    if kind == "ticket" and field.startswith("custom_field_"):
        params.extend([int(field.removeprefix("custom_field_")), value])
        return f"EXISTS (SELECT 1 FROM json_each(data, '$.custom_fields') WHERE json_extract(json_each.value, '$.id') = ? AND json_extract(json_each.value, '$.value') {op} ?)"
    column = _COMMON_COLUMNS.get(field) or _TYPE_COLUMNS.get(kind or "", {}).get(field)
    if column is None and kind == "organization" and field in org_keys:
        column = f"$.organization_fields.{field}"
    if column is None:
        raise bad_request("InvalidValue", f"search field {field!r} is not supported for type {kind!r}")
    if field in ("created", "updated", "due_date") or re.match(r"^\d{4}-\d{2}-\d{2}", value):
        params.extend([len(value), value])
        return f"substr(json_extract(data, '{column}'), 1, ?) {op} ?"
    if value.lstrip("-").isdigit() and (column.endswith("_id") or field in ("organization", "group", "requester", "assignee")):
        params.append(int(value))
    else:
        params.append(value)
    if op == "=" and not value.lstrip("-").isdigit():
        return f"lower(CAST(json_extract(data, '{column}') AS TEXT)) = lower(?)"
    return f"json_extract(data, '{column}') {op} ?"

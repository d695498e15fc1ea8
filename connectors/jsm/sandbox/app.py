"""The JSM sandbox as a Werkzeug WSGI application.

Answers the part of Jira Service Management Cloud that deskbook uses, with Atlassian's URLs,
JSON shapes and behaviour:

- servicedeskapi (`/rest/servicedeskapi/...`, shapes from `../shared/jsm/servicedesk-openapi.json`):
  servicedesk, requesttype (+fields; create/delete are experimental and answer 412 without
  `X-ExperimentalApi: opt-in`), request (+comment, +sla, +feedback — experimental too), organization
  (+property, +user), customer, servicedesk queues (read-only). Pages are `start`/`limit` (limit capped, default cap 50) with `size`, `isLastPage`,
  `values`, `_links`; errors are `{"errorMessage", "i18nErrorMessage": {"i18nKey", "parameters"}}`.
- Jira platform v3 (`/rest/api/3/...`, `../shared/jsm/jira-platform-openapi.json`): JQL search
  `/search/jql` (GET/POST, `nextPageToken`/`isLast`; the removed `/search` answers 410 as
  Jira Cloud now does), issue get/edit (labels, priority, summary, assignee, organizations), issue
  comments, transitions, changelog (`PageBeanChangelog`, written by `issues.py`), issue properties,
  labels, statuses, myself.
  Errors are `{"errorMessages": [...], "errors": {...}}`.
- Automation rule management, following developer.atlassian.com/cloud/automation/rest/
  api-group-rule-management: base `/automation/public/jira/{cloudId}/rest/v1` (as on
  api.atlassian.com) and `/gateway/api/automation/public/jira/{cloudId}/rest/v1` (as on the site):
  `GET|POST /rule/summary` (cursor pages: `links.next` is `?cursor=...&limit=...`, `data`),
  `POST /rule` (`{"rule": {...}}` -> `{"ruleUuid"}`), `GET|PUT /rule/{uuid}`, `PUT /rule/{uuid}/state`
  (`{"value": "ENABLED"|"DISABLED"}`), `POST /rule/manual/{ruleId}/invocation`. Errors `{"errors":
  [{"title", "detail"}]}`. Enabled rules run (`engine.py`). Readings where FACTS.md names the route but
  not its body: a manual rule is addressed by its uuid and invoked with `{"objects": [issue ARI, ...]}`
  (the sandbox also takes issue keys); 204 once it ran.
- Customer Service Management (`/jsm/csm/cloudid/{cloudId}/api/v1`, FACTS.md 1.6, 5.4-5.6): organization
  detail fields (`/organization/details[/{fieldName}]`), profiles (`/organization/profile/{id}`, `…/fetch`
  at most 25, unknown ids dropped) and values (`PUT /organization/{id}/details?fieldName=…`). Readings:
  the value body is `{"values": [text, ...]}` (FACTS.md 5.5: not captured), and every CSM call needs
  `X-ExperimentalApi: opt-in` (FACTS.md 1.8 says experimental ones do; the sandbox treats all as such).
- Internal admin endpoints (no public API exists; FACTS.md 6.2-6.6, 7.2): SLA metrics
  `/rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics[/{id}]` in the real shape (`{name,
  config: {definition: {start, pause, stop}, goals: [{jqlQuery, duration, calendarId, defaultGoal}]}}`;
  the old `{name, description, goals}` and each missing field refused with the field named), calendars
  (`/rest/workinghours/1/api/calendar/{projectKey}[/{id}]`, listed by `/internal/dialog/{projectKey}`;
  every site has the "24/7 Calendar (Default)"; names unique per project, on create and rename alike; a
  new project has no SLA metrics, where a real one comes with its template's, FACTS.md 6.4), queues (`/rest/servicedesk/1/servicedesk/{projectKey}/
  queues[/{id}]`, no delete; read through the public `/servicedesk/{id}/queue[/{queueId}[/issue]]`,
  answered by running the queue's JQL). `GET /rest/servicedeskapi/request/{key}/sla` computes each
  metric's cycles from the request's history on the sandbox clock (`sla.py`). A comment is written as
  a customer with the sandbox-only header `X-Deskbook-Sandbox-Act-As` (public comments only: a customer's
  internal note gets 403).
- Customers belong to service desks: an account (`POST /customer`, site-wide) is a desk's customer once
  added to it (`POST /servicedesk/{id}/customer`) or as a member of one of its organizations; a request
  raised there on behalf of anyone else gets 400 ("... is not a customer of this service desk", the
  answer an unknown account gets), and a customer's own login outside its desks 403. FACTS.md and the
  spec name no error for it (createCustomerRequest lists 400, 403, 422): the reading taken. The desk's
  customer list (`GET /servicedesk/{id}/customer`) still lists every customer account (a gap left).
- Customers' own logins (`JsmSandboxApp.customer_login`: a customer account with an API token, as a
  customer with an Atlassian account has on a real site). FACTS.md is silent on what a customer may
  call; the reading taken (Atlassian's servicedeskapi pages describe these as the customer-facing
  resources; the platform API needs project permissions a customer lacks): the service desks and
  their request types, `myself`, and their own requests — raise one (as its reporter; on behalf of
  someone else 403), read it, its public comments, comment publicly, give feedback. Any other
  endpoint answers 403, another customer's request 404 (as JSM hides what one cannot see).
- Playing a real site (`SandboxConfig.shortcuts=False`, for `deskbook test --doit` against the
  sandbox): the sandbox-only shortcuts are refused — a request carrying `X-Deskbook-Sandbox-Act-As`
  gets 400 and `POST /sandbox/clock` 404 — so a test proves the client never relies on them.
  `DELETE /rest/api/3/issue/{key}` deletes a request (204); `issue_delete=False` plays an API user
  without the "Delete issues" permission (403, the platform spec's answer).

Cross-cutting, from the sandbox kit's pipeline (`deskbook.connectors.sandbox_kit`): basic auth
`email:token` (401 otherwise), 429 with `Retry-After` past the rate limit (on the sandbox clock),
random 500/503 at `fault_rate` (before any change), lost answers at `write_fault_rate` (the write
happens, the answer is a 500), scheduled faults (`Sandbox.inject`), latency, body size and depth
limits, a request log at `/sandbox/requests`, optional request checking (OpenAPI specs and a
callable). This module keeps JSM's routes, handlers and error bodies (`error_response`).
"""

from __future__ import annotations

import base64
import hmac
import json
import random
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from deskbook.connectors.jsm.adf import adf, adf_text
from deskbook.connectors.jsm.sandbox import automation as rules
from deskbook.connectors.jsm.sandbox import sla
from deskbook.connectors.jsm.sandbox import issues as writes
from deskbook.connectors.jsm.sandbox.engine import Automation, RuleError, Site
from deskbook.connectors.jsm.sandbox.index import DEFAULT_LAG_SECONDS, SearchIndex
from deskbook.connectors.jsm.sandbox.jql import JqlError, compile_jql, order_key
from deskbook.connectors.sandbox_kit.clock import SystemClock
from deskbook.connectors.sandbox_kit.errors import KitError
from deskbook.connectors.sandbox_kit.fields import mistyped
from deskbook.connectors.sandbox_kit.faults import Faults
from deskbook.connectors.sandbox_kit.limiter import Decision
from deskbook.connectors.sandbox_kit.pipeline import SandboxPipeline
from deskbook.connectors.sandbox_kit.seeding import FIRST_SERVICE_DAYS_AGO
from deskbook.connectors.sandbox_kit.seeding import seed_first_services as kit_seed_first_services
from deskbook.connectors.jsm.sandbox.store import Store, date_dto
from deskbook.connectors.jsm.sandbox_command import DEFAULT_EMAIL, DEFAULT_PROJECT_KEY, DEFAULT_TOKEN

SD = "/rest/servicedeskapi"
API = "/rest/api/3"
AUTOMATION_BASES = ("/automation/public/jira/<cloud_id>/rest/v1", "/gateway/api/automation/public/jira/<cloud_id>/rest/v1")
INTERNAL_SLA = "/rest/servicedesk/1/servicedesk/agent/<project_key>/sla/metrics"
#: Internal queue endpoints (FACTS.md 7.2: the path takes the project key).
INTERNAL_QUEUES = "/rest/servicedesk/1/servicedesk/<project_key>/queues"
#: Working-hours calendars (FACTS.md 6.5): create/update under the project key, delete by id, list via the dialog.
CALENDAR_API = "/rest/workinghours/1/api/calendar"
CALENDAR_DIALOG = "/rest/workinghours/1/internal/dialog/<project_key>"
#: The calendar every site has (goals without another calendar count around the clock).
DEFAULT_CALENDAR = "24/7 Calendar (Default)"
#: Sandbox-only header: the customer a comment is written as (there is one login, the API user's).
ACT_AS_HEADER = "X-Deskbook-Sandbox-Act-As"
#: Customer Service Management API (api.atlassian.com in production; FACTS.md 1.6).
CSM = "/jsm/csm/cloudid/<cloud_id>/api/v1"
#: The gateway form of the site's REST paths scoped tokens use: `/ex/jira/{cloudId}/rest/...`.
SCOPED_PREFIX = "/ex/jira/"
DEFAULT_CLOUD_ID = "5f1c2b7e-0000-4000-8000-00000000d35c"
ADMIN_ACCOUNT_ID = "557058:sandbox-admin"
RULE_STATES = ("ENABLED", "DISABLED")
#: The Organizations field of JSM requests. Its id differs per site (`customfield_10002` on many,
#: `customfield_10204` on others: FACTS.md 4.5); clients find it by its schema in `/rest/api/3/field`.
ORGANIZATIONS_FIELD = "customfield_10204"
#: The Request Type field (`com.atlassian.servicedesk:vp-origin`).
REQUEST_TYPE_FIELD = "customfield_10010"
#: What a request type made through the API has on its form: the required fields only (FACTS.md 3.3).
API_REQUEST_TYPE_FIELDS = ("summary",)

#: Field types of a JQL search body (`SearchAndReconcileRequestBean` in the platform spec).
SEARCH_FIELD_RULES = {"jql": "text", "nextPageToken": "text?", "maxResults": "id", "fields": "texts",
                      "properties": "texts", "expand": "text", "fieldsByKeys": "bool", "failFast": "bool",
                      "reconcileIssues": "ids"}

#: Field types of a new customer request (`RequestCreateDTO`).
REQUEST_CREATE_FIELD_RULES = {"serviceDeskId": "text|id", "requestTypeId": "text|id", "requestFieldValues": "object?",
                              "raiseOnBehalfOf": "text?", "requestParticipants": "texts?", "isAdfRequest": "bool?"}
#: Field types of an issue edit (`IssueUpdateDetails`), of its `fields` and its `update` we read.
ISSUE_EDIT_FIELD_RULES = {"fields": "object?", "update": "object?"}
ISSUE_EDIT_FIELDS_RULES = {"labels": "texts?", "summary": "text?", "priority": "object?", "assignee": "object?"}
ISSUE_EDIT_UPDATE_RULES = {"labels": "objects"}
LABEL_OPERATION_RULES = {"set": "texts?", "add": "text", "remove": "text"}


def refuse_mistyped(body: Any, rules: dict[str, str], prefix: str = "") -> None:
    """400 naming the first field of `body` whose value breaks `rules` (the platform's `errors` map)."""
    wrong = mistyped(body, rules)
    if wrong is not None:
        raise ApiError(400, "Invalid request payload. Refer to the REST API documentation and try again.",
                       errors={prefix + wrong[0]: f"must be {wrong[1]}"})


#: Field types of an organization's user change (`UsersOrganizationUpdateDTO` in the servicedesk spec).
ORG_USERS_FIELD_RULES = {"accountIds": "texts?", "usernames": "texts?"}

#: Endpoints Atlassian marks `x-experimental` (need `X-ExperimentalApi: opt-in`).
#: What a customer's own login may call (see the module docstring); anything else answers 403.
CUSTOMER_ENDPOINTS = {"info", "servicedesk_list", "servicedesk_get", "requesttype_list", "requesttype_get",
                      "requesttype_fields", "request_create", "request_list", "request_get", "request_comments",
                      "request_feedback", "myself"}
#: The store kind of customers' API tokens (by lower-case email: accountId, token).
LOGIN_KIND = "login"

EXPERIMENTAL_ENDPOINTS = {("POST", "requesttype_create"), ("DELETE", "requesttype_delete"), ("GET", "requesttype_all"),
                          ("GET", "desk_customers"), ("GET", "request_feedback"), ("POST", "request_feedback"),
                          ("DELETE", "request_feedback"), ("GET", "requesttype_property_keys"),
                          ("GET", "requesttype_property"), ("PUT", "requesttype_property"),
                          ("DELETE", "requesttype_property")}

RequestChecker = Callable[[str, str, dict, Any], list]


def _form_field(field_id: str, name: str, required: bool, schema: dict) -> dict:
    return {"fieldId": field_id, "name": name, "description": "", "required": required, "visible": True,
            "validValues": [], "defaultValues": [], "presetValues": [], "jiraSchema": schema}


#: `RequestTypeFieldDTO`s a request type's form can hold.
REQUEST_FORM_FIELDS = {
    "summary": _form_field("summary", "Summary", True, {"type": "string", "system": "summary"}),
    "description": _form_field("description", "Description", False, {"type": "string", "system": "description"}),
    "labels": _form_field("labels", "Labels", False, {"type": "array", "items": "string", "system": "labels"}),
}

#: The issue type scheme of the sandbox's service project (JSM Cloud's defaults for a new one).
ISSUE_TYPES = (
    {"id": "10004", "name": "Service Request", "subtask": False, "hierarchyLevel": 0,
     "description": "Requests for help or for something new."},
    {"id": "10005", "name": "Incident", "subtask": False, "hierarchyLevel": 0,
     "description": "For system outages or incidents."},
    {"id": "10001", "name": "Task", "subtask": False, "hierarchyLevel": 0, "description": "A small piece of work."},
    {"id": "10002", "name": "Subtask", "subtask": True, "hierarchyLevel": -1, "description": "A piece of a task."},
)
def _field(field_id: str, name: str, schema: dict, *, custom: bool = False, searchable: bool = True) -> dict:
    out = {"id": field_id, "key": field_id, "name": name, "custom": custom, "orderable": True, "navigable": True,
           "searchable": searchable, "clauseNames": [name.lower()] if not custom else
           [f"cf[{field_id.split('_')[1]}]", name], "schema": schema}
    if custom:
        out["untranslatedName"] = name
    return out


#: `GET /rest/api/3/field`: what the sandbox's issues have.
FIELDS = [
    _field("summary", "Summary", {"type": "string", "system": "summary"}),
    _field("description", "Description", {"type": "string", "system": "description"}),
    _field("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
    _field("priority", "Priority", {"type": "priority", "system": "priority"}),
    _field("status", "Status", {"type": "status", "system": "status"}),
    _field("reporter", "Reporter", {"type": "user", "system": "reporter"}),
    _field("created", "Created", {"type": "datetime", "system": "created"}),
    _field("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
    _field("project", "Project", {"type": "project", "system": "project"}),
    _field("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
    _field(ORGANIZATIONS_FIELD, "Organizations", {"type": "array", "items": "sd-customerorganization",
                                                  "custom": "com.atlassian.servicedesk:sd-customer-organizations",
                                                  "customId": int(ORGANIZATIONS_FIELD.split("_")[1])}, custom=True),
    _field(REQUEST_TYPE_FIELD, "Request Type", {"type": "sd-customerrequesttype",
                                                "custom": "com.atlassian.servicedesk:vp-origin",
                                                "customId": int(REQUEST_TYPE_FIELD.split("_")[1])}, custom=True),
]

#: The service-request workflow's transitions (to every other status).
TRANSITIONS = (
    {"id": "11", "name": "Respond to customer", "to": "Waiting for customer", "status_id": "10002", "category": "indeterminate"},
    {"id": "21", "name": "Start work", "to": "Work in progress", "status_id": "3", "category": "indeterminate"},
    {"id": "31", "name": "Back to support", "to": "Waiting for support", "status_id": "10001", "category": "new"},
    {"id": "41", "name": "Pending", "to": "Pending", "status_id": "10003", "category": "indeterminate"},
    {"id": "51", "name": "Resolve this issue", "to": "Resolved", "status_id": "5", "category": "done"},
    {"id": "61", "name": "Close", "to": "Closed", "status_id": "6", "category": "done"},
)


#: Workflow status name -> id (SLA status conditions name statuses by id) and its category.
STATUS_IDS = {t["to"]: t["status_id"] for t in TRANSITIONS}
STATUS_CATEGORIES = {t["to"]: t["category"] for t in TRANSITIONS}
#: Field ids a queue may show as columns.
QUEUE_COLUMNS = ("issuekey", "issuetype", "summary", "reporter", "assignee", "priority", "status", "created",
                 "updated", "resolutiondate", "resolution", "labels", "duedate", "organizations", "requestType")


#: A NUMBER detail value: a plain decimal in ASCII digits, as a JVM site parses one. Python's float()
#: also takes "nan", "inf", "1_000" and non-ASCII digits, which such a site refuses.
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

#: CSM organization detail field types.
DETAIL_TYPES = ("TEXT", "SELECT", "MULTISELECT", "EMAIL", "URL", "DATE", "NUMBER", "PHONE")


def detail_value_problem(field: dict, values: list[str]) -> str | None:
    """Why `values` cannot go into the detail field, or None."""
    kind = field["type"]
    if kind != "MULTISELECT" and len(values) > 1:
        return f"a {kind} field takes one value"
    for value in values:
        if kind in ("SELECT", "MULTISELECT") and value not in field.get("options", []):
            return f"'{value}' is not an option of '{field['name']}'"
        if kind == "DATE":
            try:
                date.fromisoformat(value)
            except ValueError:
                return f"'{value}' is not a date (yyyy-MM-dd)"
        if kind == "EMAIL" and ("@" not in value or " " in value):
            return f"'{value}' is not an email address"
        if kind == "NUMBER" and not DECIMAL.fullmatch(value):
            return f"'{value}' is not a number"
    return None


#: What `POST /servicedesk/{id}/requesttype` takes (FACTS.md 3.2: `groupIds`/`iconId` get a 400).
REQUEST_TYPE_FIELDS = ("name", "issueTypeId", "description", "helpText")


@dataclass
class SandboxConfig:
    """Behaviour knobs of one sandbox instance."""

    email: str = DEFAULT_EMAIL
    token: str = DEFAULT_TOKEN
    project_key: str = DEFAULT_PROJECT_KEY
    project_name: str = "Support"
    cloud_id: str = DEFAULT_CLOUD_ID
    max_limit: int = 50
    rule_page_limit: int = 100
    #: whether Customer Service Management (organization detail fields, profiles) is on (FACTS.md 5.9)
    csm: bool = True
    #: whether `DELETE /rule/{uuid}` exists (later clients use it; the 2025 spec has none: FACTS.md 2.12)
    rule_delete: bool = True
    fault_rate: float = 0.0
    #: share of successful writes (POST/PUT/DELETE) answered 500 *after* the change was made
    #: (a lost answer: the client cannot tell whether the write happened)
    write_fault_rate: float = 0.0
    latency_ms: int = 0
    rate_limit_per_minute: int | None = None
    seed: int | None = None
    request_checkers: list[RequestChecker] = field(default_factory=list)
    #: the clock the rate limiter reads (e.g. `FakeClock()`; default: wall time)
    clock: Any = None
    #: request bodies past this many bytes are answered 413
    max_body_bytes: int = 4 * 1024 * 1024
    #: JSON nested deeper than this is answered 400
    max_json_depth: int = 100
    #: how many requests the request log keeps (the oldest go first)
    max_logged_requests: int = 20_000
    #: whether the enabled automation rules run (`engine.py`); off: rules are only stored
    run_rules: bool = True
    #: whether the sandbox-only shortcuts are served: the `X-Deskbook-Sandbox-Act-As` header and `POST
    #: /sandbox/clock`. False plays a real site (the header 400, the clock 404).
    shortcuts: bool = True
    #: whether the API user may delete issues (the "Delete issues" project permission; 403 without)
    issue_delete: bool = True
    #: seconds of the sandbox clock a write takes to reach JQL search (FACTS.md 8.2; `index.py`); 0: at once
    search_lag_seconds: float = DEFAULT_LAG_SECONDS


class ApiError(Exception):
    """An error response in the family of the API it happens in."""

    def __init__(self, status: int, message: str, *, i18n_key: str = "sd.error", errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.i18n_key, self.errors = status, message, i18n_key, errors or {}


def family(path: str) -> str:
    """Which API a path belongs to: "sd", "platform", "automation", "csm" or "sandbox"."""
    if path.startswith(SD):
        return "sd"
    if path.startswith("/jsm/csm/"):
        return "csm"
    if "/automation/public/" in path:
        return "automation"
    if path.startswith("/sandbox/"):
        return "sandbox"
    return "platform"


def error_body(kind: str, status: int, message: str, i18n_key: str = "sd.error", errors: dict | None = None) -> dict:
    """The error JSON Atlassian returns for this API family."""
    if kind == "sd":
        return {"errorMessage": message, "i18nErrorMessage": {"i18nKey": i18n_key, "parameters": []}}
    if kind == "automation":
        return {"errors": [{"title": message, "detail": message, "status": status}]}
    if kind == "csm":
        return {"errors": [{"status": str(status), "title": message, "detail": message}]}
    return {"errorMessages": [message] if message else [], "errors": errors or {}}


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_cursor(cursor: str | None, kind: str) -> int:
    if not cursor:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "The pagination cursor is not valid.", i18n_key="invalid.cursor") from None


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not -(2 ** 63) <= value < 2 ** 63:
        raise ApiError(400, f"The value '{raw}' of parameter '{name}' is not a number.",
                       i18n_key="sd.error.invalid.parameter")
    return value


#: i18n keys of the kit's refusals on servicedeskapi paths, by reason.
_KIT_I18N = {"unauthorized": "sd.error.authentication.required", "rate_limited": "sd.error.rate.limit",
             "fault": "sd.error.injected", "lost_answer": "sd.error.internal", "internal": "sd.error.internal",
             "invalid_json": "sd.error.invalid.json", "too_large": "sd.error.request.too.large",
             "not_found": "sd.error.not.found", "invalid": "sd.error.invalid.parameter"}


class JsmSandboxApp(SandboxPipeline):
    """WSGI app: JSM's routes and error bodies on the sandbox kit's pipeline (auth, faults, limits, log)."""

    def __init__(self, store: Store, config: SandboxConfig):
        super().__init__(email=config.email, token=config.token, clock=config.clock or SystemClock(),
                         limits={"account": config.rate_limit_per_minute},
                         faults=Faults(config.fault_rate, config.seed, write_rate=config.write_fault_rate,
                                       kinds=("500", "503_retry_after")),
                         latency_ms=config.latency_ms, checkers=config.request_checkers,
                         max_body_bytes=config.max_body_bytes, max_json_depth=config.max_json_depth,
                         max_logged_requests=config.max_logged_requests)
        self.store, self.config = store, config
        self.search_cache: dict[tuple[str, tuple[str, ...]], tuple[int, list[dict], float]] = {}
        self.search_index = SearchIndex(store.now, config.search_lag_seconds)
        self._org_customers: dict[str, tuple[tuple[int, int], set[str]]] = {}  # desk id -> its organizations' members
        store.watchers.setdefault("request", []).append(self.search_index.written)
        self.base_url = ""
        self.url_map = Map(self._rules(), strict_slashes=False, merge_slashes=False)
        ensure_defaults(store, config)
        self.automation = Automation(store, Site(
            display_name=lambda account: (self.find_user(account) or {}).get("displayName", "") if account else "",
            request_type_name=lambda type_id: (store.get("requesttype", str(type_id)) or {}).get("name", "") if type_id else "",
            organization_name=lambda org_id: (store.get("organization", str(org_id)) or {}).get("name", ""),
            portal_url=lambda issue: self.link(f"/servicedesk/customer/portal/{issue['serviceDeskId']}/{issue['key']}"),
            statuses=tuple(t["to"] for t in TRANSITIONS) + ("Waiting for support",),
            project_ari=lambda issue: f"ari:cloud:jira:{config.cloud_id}:project/{issue['projectId']}"),
            enabled=config.run_rules)


    # ----------------------------------------------------------------- routing
    def _rules(self) -> list[Rule]:
        r = []

        def add(path, endpoint, methods):
            r.append(Rule(path, endpoint=endpoint, methods=methods))

        add("/_edge/tenant_info", "tenant_info", ["GET"])
        add(f"{SD}/info", "info", ["GET"])
        add(f"{SD}/servicedesk", "servicedesk_list", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>", "servicedesk_get", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype", "requesttype_list", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype", "requesttype_create", ["POST"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype/<type_id>", "requesttype_get", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype/<type_id>", "requesttype_delete", ["DELETE"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype/<type_id>/field", "requesttype_fields", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype/<type_id>/property", "requesttype_property_keys", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/requesttype/<type_id>/property/<prop_key>", "requesttype_property",
            ["GET", "PUT", "DELETE"])
        add(f"{SD}/requesttype", "requesttype_all", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/organization", "desk_orgs", ["GET", "POST", "DELETE"])
        add(f"{SD}/servicedesk/<desk_id>/customer", "desk_customers_add", ["POST"])
        add(f"{SD}/servicedesk/<desk_id>/customer", "desk_customers", ["GET"])
        add(f"{SD}/request", "request_create", ["POST"])
        add(f"{SD}/request", "request_list", ["GET"])
        add(f"{SD}/request/<key>", "request_get", ["GET"])
        add(f"{SD}/request/<key>/comment", "request_comments", ["GET", "POST"])
        add(f"{SD}/request/<key>/sla", "request_sla", ["GET"])
        add(f"{SD}/request/<key>/feedback", "request_feedback", ["GET", "POST", "DELETE"])
        add(f"{SD}/organization", "org_list", ["GET"])
        add(f"{SD}/organization", "org_create", ["POST"])
        add(f"{SD}/organization/<org_id>", "org_get", ["GET"])
        add(f"{SD}/organization/<org_id>", "org_delete", ["DELETE"])
        add(f"{SD}/organization/<org_id>/property", "org_property_keys", ["GET"])
        add(f"{SD}/organization/<org_id>/property/<prop_key>", "org_property", ["GET", "PUT", "DELETE"])
        add(f"{SD}/organization/<org_id>/user", "org_users", ["GET", "POST", "DELETE"])
        add(f"{SD}/customer", "customer_create", ["POST"])
        add(f"{API}/myself", "myself", ["GET"])
        add(f"{API}/search", "search_removed", ["GET", "POST"])
        add(f"{API}/search/jql", "search_jql", ["GET", "POST"])
        add(f"{API}/issue/<key>", "issue", ["GET", "PUT", "DELETE"])
        add(f"{API}/issue/<key>/properties", "issue_property_keys", ["GET"])
        add(f"{API}/issue/<key>/properties/<prop_key>", "issue_property", ["GET", "PUT", "DELETE"])
        add(f"{API}/label", "labels", ["GET"])
        add(f"{API}/issuetype/project", "issuetypes_of_project", ["GET"])
        add(f"{API}/field", "fields", ["GET"])
        add(f"{API}/serverInfo", "server_info", ["GET"])
        add(f"{API}/project", "projects", ["GET"])
        add(f"{API}/project/<project>", "project", ["GET"])
        add(f"{API}/issue/<key>/comment", "issue_comments", ["GET", "POST"])
        add(f"{API}/issue/<key>/transitions", "issue_transitions", ["GET", "POST"])
        add(f"{API}/issue/<key>/changelog", "issue_changelog", ["GET"])
        for base in AUTOMATION_BASES:
            add(f"{base}/rule/summary", "rule_summary", ["GET", "POST"])
            add(f"{base}/rule", "rule_create", ["POST"])
            add(f"{base}/rule/<rule_uuid>", "rule", ["GET", "PUT", "DELETE"] if self.config.rule_delete else ["GET", "PUT"])
            add(f"{base}/rule/<rule_uuid>/state", "rule_state", ["PUT"])
            add(f"{base}/rule/manual/<rule_uuid>/invocation", "rule_invocation", ["POST"])
        if self.config.csm:
            add(f"{CSM}/organization/details", "csm_details", ["GET", "POST"])
            add(f"{CSM}/organization/details/<field_name>", "csm_detail", ["PUT", "DELETE"])
            add(f"{CSM}/organization/profile/fetch", "csm_profile_fetch", ["POST"])
            add(f"{CSM}/organization/profile/<org_id>", "csm_profile", ["GET"])
            add(f"{CSM}/organization/<org_id>/details", "csm_org_details", ["PUT"])
        add(INTERNAL_SLA, "sla_metrics", ["GET", "POST"])
        add(f"{INTERNAL_SLA}/<int:metric_id>", "sla_metric", ["GET", "PUT", "DELETE"])
        add(CALENDAR_DIALOG, "calendar_dialog", ["GET"])
        add(f"{CALENDAR_API}/<project_key>", "calendar_create", ["POST"])
        add(f"{CALENDAR_API}/<project_key>/<int:calendar_id>", "calendar_update", ["PUT"])
        add(f"{CALENDAR_API}/<int:calendar_id>", "calendar_delete", ["DELETE"])
        add(INTERNAL_QUEUES, "queues_internal", ["GET", "POST"])
        add(f"{INTERNAL_QUEUES}/<int:queue_id>", "queue_internal", ["PUT"])
        add(f"{SD}/servicedesk/<desk_id>/queue", "queue_list", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/queue/<queue_id>", "queue_get", ["GET"])
        add(f"{SD}/servicedesk/<desk_id>/queue/<queue_id>/issue", "queue_issues", ["GET"])
        add(f"{API}/status", "statuses", ["GET"])
        return r

    # ----------------------------------------------------------------- the kit's hooks
    def __call__(self, environ, start_response):
        """api.atlassian.com/ex/jira/{cloudId}/rest/... is the same site: strip the prefix, then the kit's pipeline."""
        path = environ.get("PATH_INFO") or ""
        if path.startswith(SCOPED_PREFIX):
            cloud_id, _, rest = path[len(SCOPED_PREFIX):].partition("/")
            if cloud_id == self.config.cloud_id and rest:
                environ = {**environ, "PATH_INFO": "/" + rest}
                path = environ["PATH_INFO"]
        for older in ("/rest/api/2/", "/rest/api/latest/"):  # python-jira's default: same resources as v3
            if path.startswith(older):
                environ = {**environ, "PATH_INFO": API + "/" + path[len(older):], "deskbook.api_version": "2"}
        return super().__call__(environ, start_response)

    def pass_time(self, seconds: float) -> dict[str, Any]:
        """`POST /sandbox/clock` (the kit's control API): time passes on a fake clock, scheduled rules
        running whenever their cron fires (`engine.Automation.pass_time`)."""
        with self.store.lock:
            ran = self.automation.pass_time(seconds)
        return {"now": self.store.stamp(), "scheduled_runs": ran}

    def json(self, body: Any, status: int = 200, headers: dict | None = None) -> Response:
        """A JSON response."""
        return Response(json.dumps(body), status=status, headers=headers, mimetype="application/json")

    def dispatch(self, request: Request) -> Response:
        """Remember the URL the sandbox is reached at (for `_links`), then answer through the kit."""
        if not self.base_url:
            self.base_url = request.host_url.rstrip("/")
        return super().dispatch(request)

    def error_response(self, request: Request, path: str, error: KitError) -> Response:
        """The refusal in the error shape of the API family the path belongs to."""
        message = error.message
        headers = dict(error.headers)
        if error.reason == "unauthorized":
            message = "Client must be authenticated to access this resource."
            headers["WWW-Authenticate"] = 'Basic realm="protected-by-api-token"'
        elif error.status == 429:
            message = "Rate limit exceeded."
        i18n = "sd.error.internal" if error.reason == "fault" and error.status >= 500 else _KIT_I18N.get(error.reason, "sd.error")
        errors = {error.field: message} if error.field else None
        return self.json(error_body(family(path), error.status, message, i18n, errors), error.status, headers)

    def limit_headers(self, decision: Decision) -> dict[str, str]:
        """`X-RateLimit-Limit`/`-Remaining` when a limit is set; a refusal adds `X-RateLimit-Reset`, the
        time the limit resets in ISO 8601 (`yyyy-MM-ddTHH:mmZ`), next to `Retry-After` (FACTS.md 9.2)."""
        if decision.limit is None:
            return {}
        headers = {"X-RateLimit-Limit": str(decision.limit), "X-RateLimit-Remaining": str(decision.remaining or 0)}
        if not decision.allowed:
            from datetime import datetime, timezone

            headers["X-RateLimit-Reset"] = datetime.fromtimestamp(decision.reset_at, timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
        return headers

    def route(self, request: Request, path: str, body: Any, entry: dict) -> Response:
        """JSM's routes."""
        return self._route(request, body)

    def _route(self, request: Request, body: Any) -> Response:
        kind = family(request.path)
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            if not self.config.shortcuts and ACT_AS_HEADER in request.headers:
                raise ApiError(400, f"{ACT_AS_HEADER} is a sandbox-only header this sandbox refuses: it plays a real "
                                    "site, where a customer acts with their own login.")
            if self.customer_account(request) and endpoint not in CUSTOMER_ENDPOINTS:
                raise ApiError(403, "You do not have permission to use this resource: customers use the "
                                    "customer-facing request resources only.", i18n_key="sd.error.permission")
            if (request.method, endpoint) in EXPERIMENTAL_ENDPOINTS and \
                    request.headers.get("X-ExperimentalApi", "").lower() != "opt-in":
                raise ApiError(412, "This is an experimental API. To use it, send the header "
                                    "'X-ExperimentalApi: opt-in'.", i18n_key="sd.experimental.api.opt.in.required")
            handler = getattr(self, "on_" + endpoint)
            with self.store.lock:  # read-modify-write of one request is atomic across worker threads
                return handler(request, body, **values)
        except ApiError as exc:
            return self.json(error_body(kind, exc.status, exc.message, exc.i18n_key, exc.errors), exc.status)
        except MethodNotAllowed as exc:
            return self.json(error_body(kind, 405, f"Method {request.method} is not allowed here."), 405,
                             {"Allow": ", ".join(exc.valid_methods or [])})
        except NotFound:
            return self.json(error_body(kind, 404, f"No resource at {request.path}.", "sd.error.not.found"), 404)
        except HTTPException as exc:  # pragma: no cover - other Werkzeug errors
            return self.json(error_body(kind, exc.code or 500, exc.description or "error"), exc.code or 500)

    def authenticated(self, request: Request) -> bool:
        """The API user's credentials, or a customer's own login (`customer_login`): who it is is kept
        on the request (`customer_account`)."""
        if super().authenticated(request):
            return True
        auth = request.authorization
        if auth is None or auth.type != "basic" or not auth.username:
            return False
        login = self.store.get(LOGIN_KIND, auth.username.strip().lower())
        if login is None or not hmac.compare_digest((auth.password or "").encode(), str(login["token"]).encode()):
            return False
        request.environ["deskbook.customer"] = login["accountId"]
        return True

    def customer_account(self, request: Request) -> str | None:
        """The account id of the customer whose own login made this request (None: the API user)."""
        return request.environ.get("deskbook.customer")

    def customer_login(self, email: str, display_name: str | None = None, token: str | None = None) -> tuple[str, str]:
        """A customer account (created when new) with an API token of its own (`token`, else a new
        one), a customer of the service desk (as a test customer is set up on a site): (account id, token)."""
        with self.store.lock:
            user = self.find_user(email)
            if user is None or user["accountId"] == ADMIN_ACCOUNT_ID:
                number = self.store.next_id("customer")
                user = {"accountId": f"qm:sandbox:{number:06d}", "emailAddress": email,
                        "displayName": display_name or email}
                self.store.put("customer", user["accountId"], user)
            token = token or f"customer-{secrets.token_urlsafe(18)}"
            self.store.put(LOGIN_KIND, email.strip().lower(), {"accountId": user["accountId"], "token": token})
            desk = self.store.all("servicedesk")[0]  # a test customer is one of the desk's, as set up on a site
            self.store.put(desk_customer_kind(desk["id"]), user["accountId"], {"id": user["accountId"]})
        return user["accountId"], token

    def sees(self, request: Request, issue: dict) -> bool:
        """Whether the request's caller may see `issue`: the API user any, a customer's own login only
        theirs (as reporter or participant)."""
        customer = self.customer_account(request)
        return not customer or customer == issue.get("reporter") or customer in (issue.get("participants") or [])

    def visible(self, request: Request, issue: dict) -> dict:
        """`issue`, or 404 when a customer's own login asks for a request not theirs (`sees`)."""
        if not self.sees(request, issue):
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.",
                           i18n_key="sd.request.error.not.found")
        return issue

    def log_fields(self, request: Request, path: str) -> dict[str, Any]:
        """Who sent it (the basic-auth user name: an email, never the token) and, when sent, the act-as header."""
        auth = request.authorization
        out: dict[str, Any] = {"user": auth.username if auth is not None and auth.type == "basic" else None}
        if ACT_AS_HEADER in request.headers:
            out["act_as"] = request.headers[ACT_AS_HEADER]
        return out

    def control(self, request: Request) -> Response:
        """The kit's control API; playing a real site (`shortcuts=False`) there is no clock to move (404)."""
        if not self.config.shortcuts and request.path.rstrip("/") == "/sandbox/clock":
            raise KitError(404, f"No resource at {request.path}: this sandbox plays a real site, whose clock "
                                "nobody moves.", reason="not_found")
        return super().control(request)

    # ----------------------------------------------------------------- helpers
    def link(self, path: str) -> str:
        """Absolute URL of a sandbox path."""
        return f"{self.base_url}{path}"

    def page(self, request: Request, items: list[dict] | int, path: str,
             load: Callable[[int, int], list[dict]] | None = None) -> dict:
        """A servicedeskapi page of `items` (start/limit; limit capped at `max_limit`); for large
        collections `items` is their count and `load(start, limit)` reads just the page."""
        start = max(0, _int_arg(request, "start", 0))
        limit = _int_arg(request, "limit", self.config.max_limit)
        limit = max(1, min(limit, self.config.max_limit))
        total = items if isinstance(items, int) else len(items)
        values = load(start, limit) if load is not None else items[start:start + limit]
        is_last = start + len(values) >= total
        links = {"base": self.base_url, "context": "", "self": self.link(f"{path}?start={start}&limit={limit}")}
        if not is_last:
            links["next"] = self.link(f"{path}?start={start + limit}&limit={limit}")
        if start > 0:
            links["prev"] = self.link(f"{path}?start={max(0, start - limit)}&limit={limit}")
        return {"_expands": [], "size": len(values), "start": start, "limit": limit,
                "isLastPage": is_last, "_links": links, "values": values}

    def desk(self, desk_id: str) -> dict:
        """The stored service desk `desk_id` (id or project key), or 404."""
        for desk in self.store.all("servicedesk"):
            if desk_id in (desk["id"], desk["projectKey"]):
                return desk
        raise ApiError(404, f"Service desk '{desk_id}' does not exist.", i18n_key="sd.servicedesk.error.not.found")

    def desk_dto(self, desk: dict) -> dict:
        """`ServiceDeskDTO` for a stored desk."""
        return {**desk, "_links": {"self": self.link(f"{SD}/servicedesk/{desk['id']}")}}

    def request_type(self, desk: dict, type_id: str) -> dict:
        """A stored request type of `desk`, or 404."""
        found = self.store.get("requesttype", type_id)
        if not found or found["serviceDeskId"] != desk["id"]:
            raise ApiError(404, f"Request type '{type_id}' does not exist in service desk {desk['id']}.",
                           i18n_key="sd.request.type.error.not.found")
        return found

    def request_type_dto(self, rtype: dict) -> dict:
        """`RequestTypeDTO` for a stored request type."""
        rtype = {k: v for k, v in rtype.items() if k not in ("fields", "properties")}
        return {**rtype, "_links": {"self": self.link(f"{SD}/servicedesk/{rtype['serviceDeskId']}/requesttype/{rtype['id']}")}}

    def issue(self, key: str) -> dict:
        """A stored request/issue by key or id, or 404 (platform or servicedeskapi flavour)."""
        found = self.store.get("request", key)
        if not found:
            for issue in self.store.all("request"):
                if issue["id"] == key:
                    return issue
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.",
                           i18n_key="sd.request.error.not.found")
        return found

    def user_dto(self, user: dict) -> dict:
        """`UserDTO` for a stored customer or the admin."""
        return {"accountId": user["accountId"], "emailAddress": user.get("emailAddress", ""),
                "displayName": user.get("displayName", ""), "active": True, "timeZone": "Etc/UTC",
                "_links": {"self": self.link(f"{API}/user?accountId={user['accountId']}")}}

    def admin(self) -> dict:
        """The admin user the credentials belong to."""
        return {"accountId": ADMIN_ACCOUNT_ID, "emailAddress": self.config.email, "displayName": "Sandbox Admin"}

    def find_user(self, ref: str) -> dict | None:
        """A customer by account id or email (or the admin)."""
        if ref in (ADMIN_ACCOUNT_ID, self.config.email):
            return self.admin()
        return self.store.get("customer", ref) or self.store.lookup("customer", "emailAddress", ref)

    def organization(self, org_id: str) -> dict:
        """A stored organization, or 404."""
        found = self.store.get("organization", org_id)
        if not found:
            raise ApiError(404, f"Organization '{org_id}' does not exist.", i18n_key="sd.organization.error.not.found")
        return found

    def org_dto(self, org: dict) -> dict:
        """`OrganizationDTO` for a stored organization."""
        return {"id": org["id"], "name": org["name"], "uuid": org["uuid"], "scimManaged": False,
                "created": date_dto(org["created"]), "_links": {"self": self.link(f"{SD}/organization/{org['id']}")}}

    # ----------------------------------------------------------------- servicedeskapi
    def on_tenant_info(self, request, body):
        """`GET /_edge/tenant_info`: the site's cloud id (what the automation API is addressed by)."""
        return self.json({"cloudId": self.config.cloud_id})

    def on_info(self, request, body):
        """`GET /info`."""
        return self.json({"version": "5.0.0", "platformVersion": "1001.0.0", "isLicensedForUse": True,
                          "_links": {"self": self.link(f"{SD}/info")}})

    def on_servicedesk_list(self, request, body):
        """`GET /servicedesk`."""
        desks = [self.desk_dto(d) for d in self.store.all("servicedesk")]
        return self.json(self.page(request, desks, f"{SD}/servicedesk"))

    def on_servicedesk_get(self, request, body, desk_id):
        """`GET /servicedesk/{id}`."""
        return self.json(self.desk_dto(self.desk(desk_id)))

    def on_requesttype_list(self, request, body, desk_id):
        """`GET /servicedesk/{id}/requesttype` (optional `searchQuery` on the name)."""
        desk = self.desk(desk_id)
        query = (request.args.get("searchQuery") or "").lower()
        types = [self.request_type_dto(t) for t in self.store.all("requesttype")
                 if t["serviceDeskId"] == desk["id"] and query in t["name"].lower()]
        return self.json(self.page(request, types, f"{SD}/servicedesk/{desk['id']}/requesttype"))

    def on_requesttype_all(self, request, body):
        """`GET /requesttype` (experimental): request types across desks."""
        types = [self.request_type_dto(t) for t in self.store.all("requesttype")]
        return self.json(self.page(request, types, f"{SD}/requesttype"))

    def on_requesttype_create(self, request, body, desk_id):
        """`POST /servicedesk/{id}/requesttype` (experimental): answers 200 with the new type."""
        desk = self.desk(desk_id)
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            raise ApiError(400, "The request type name is required.", i18n_key="sd.request.type.name.required")
        name = body["name"].strip()
        if any(t["name"].lower() == name.lower() for t in self.store.all("requesttype") if t["serviceDeskId"] == desk["id"]):
            raise ApiError(400, f"A request type named '{name}' already exists in this service desk.",
                           i18n_key="sd.request.type.name.duplicate")
        if len(name) > 60:
            raise ApiError(400, "The request type name must be 60 characters or fewer.", i18n_key="sd.request.type.name.too.long")
        refused = sorted(k for k in body if k not in REQUEST_TYPE_FIELDS)
        if refused:
            raise ApiError(400, f"Unrecognized field \"{refused[0]}\": a request type is created with "
                                "name, issueTypeId, description and helpText only.", i18n_key="sd.request.type.field.unknown")
        issue_type = str(body.get("issueTypeId") or "")
        if not issue_type:
            raise ApiError(400, "The issue type ID is required.", i18n_key="sd.request.type.issue.type.required")
        if issue_type not in {t["id"] for t in ISSUE_TYPES if not t["subtask"]}:
            raise ApiError(400, f"The issue type '{issue_type}' is not in the issue type scheme of project "
                                f"{desk['projectKey']}.", i18n_key="sd.request.type.issue.type.invalid")
        type_id = str(self.store.next_id("requesttype"))
        rtype = {"id": type_id, "name": name, "description": str(body.get("description") or ""),
                 "helpText": str(body.get("helpText") or ""), "issueTypeId": issue_type,
                 "serviceDeskId": desk["id"], "portalId": desk["id"], "groupIds": [], "canCreateRequest": True,
                 "restrictionStatus": "OPEN", "_expands": [], "fields": list(API_REQUEST_TYPE_FIELDS)}
        self.store.put("requesttype", type_id, rtype)
        return self.json(self.request_type_dto(rtype))

    def on_requesttype_get(self, request, body, desk_id, type_id):
        """`GET /servicedesk/{id}/requesttype/{typeId}`."""
        return self.json(self.request_type_dto(self.request_type(self.desk(desk_id), type_id)))

    def on_requesttype_delete(self, request, body, desk_id, type_id):
        """`DELETE /servicedesk/{id}/requesttype/{typeId}` (experimental): 204, also when requests use it —
        Atlassian documents that it "deletes a customer request type from a service desk, and removes it
        from all customer requests", so those requests are left without a request type (`""`, as the
        seeded first services)."""
        self.request_type(self.desk(desk_id), type_id)
        with self.store.lock:
            for issue in self.store.all("request"):
                if str(issue.get("requestTypeId")) == str(type_id):
                    self.store.put("request", issue["key"], {**issue, "requestTypeId": ""})
            self.store.delete("requesttype", type_id)
        return Response(status=204)

    def on_requesttype_fields(self, request, body, desk_id, type_id):
        """`GET .../requesttype/{typeId}/field`: the fields on the type's form (an API-made type: summary)."""
        rtype = self.request_type(self.desk(desk_id), type_id)
        fields = [REQUEST_FORM_FIELDS[f] for f in rtype.get("fields", API_REQUEST_TYPE_FIELDS) if f in REQUEST_FORM_FIELDS]
        return self.json({"canAddRequestParticipants": True, "canRaiseOnBehalfOf": True, "requestTypeFields": fields})

    def on_requesttype_property_keys(self, request, body, desk_id, type_id):
        """`GET .../requesttype/{typeId}/property` (experimental): `PropertyKeys`."""
        rtype = self.request_type(self.desk(desk_id), type_id)
        link = f"{SD}/servicedesk/{rtype['serviceDeskId']}/requesttype/{type_id}/property"
        return self.json({"keys": [{"key": k, "self": self.link(f"{link}/{k}")} for k in rtype.get("properties", {})]})

    def on_requesttype_property(self, request, body, desk_id, type_id, prop_key):
        """`GET|PUT|DELETE .../requesttype/{typeId}/property/{key}` (experimental; PUT: 201 new, 200
        replaced; the entity-property rules of `_property`)."""
        rtype = self.request_type(self.desk(desk_id), type_id)
        return self._property(request, body, rtype, "requesttype", type_id, prop_key)

    def on_desk_orgs(self, request, body, desk_id):
        """`GET|POST|DELETE /servicedesk/{id}/organization`: the desk's organizations (one document per
        membership, kind `desk_org_kind(desk id)`, so a page reads only its own organizations)."""
        desk = self.desk(desk_id)
        kind = desk_org_kind(desk["id"])
        if request.method == "GET":
            def load(start: int, limit: int) -> list[dict]:
                found = (self.store.get("organization", m["id"]) for m in self.store.slice(kind, start, limit))
                return [self.org_dto(o) for o in found if o]

            return self.json(self.page(request, self.store.count(kind), f"{SD}/servicedesk/{desk['id']}/organization",
                                       load))
        org_id = str((body or {}).get("organizationId", "")) if isinstance(body, dict) else ""
        self.organization(org_id)
        if request.method == "POST" and not self.store.get(kind, org_id):
            self.store.put(kind, org_id, {"id": org_id})
        if request.method == "DELETE":
            self.store.delete(kind, org_id)
        return Response(status=204)

    def on_desk_customers_add(self, request, body, desk_id):
        """`POST /servicedesk/{id}/customer {accountIds}`: existing accounts become customers of the desk
        (204, also when they are already: FACTS.md 4.9), one document per membership (`desk_customer_kind`)."""
        desk = self.desk(desk_id)
        if not isinstance(body, dict) or mistyped(body, ORG_USERS_FIELD_RULES):
            raise ApiError(400, "The body must be {\"accountIds\": [...]} (ServiceDeskCustomerDTO).",
                           i18n_key="sd.error.invalid.parameter")
        for account in body.get("accountIds") or []:
            if not self.find_user(account):
                raise ApiError(400, f"The user '{account}' does not exist.", i18n_key="sd.customer.error.not.found")
        for account in body.get("accountIds") or []:
            self.store.put(desk_customer_kind(desk["id"]), str(account), {"id": str(account)})
        return Response(status=204)

    def is_desk_customer(self, desk: dict, account: str) -> bool:
        """Whether `account` is a customer of `desk`: added to it (`POST /servicedesk/{id}/customer`) or a
        member of one of its organizations (JSM's "customers and organizations" of a service project)."""
        if self.store.get(desk_customer_kind(desk["id"]), account):
            return True
        kind = desk_org_kind(desk["id"])
        version = (self.store.revision("organization"), self.store.revision(kind))
        cached = self._org_customers.get(desk["id"])
        if cached is None or cached[0] != version:  # rebuilt only after organizations or memberships changed
            attached = {m["id"] for m in self.store.all(kind)}
            cached = (version, {user for org in self.store.all("organization") if org["id"] in attached
                                for user in org.get("users") or []})
            self._org_customers[desk["id"]] = cached
        return account in cached[1]

    def on_desk_customers(self, request, body, desk_id):
        """`GET /servicedesk/{id}/customer?query=` (experimental): the desk's customers whose email or
        display name contains `query`."""
        desk = self.desk(desk_id)
        query = (request.args.get("query") or "").lower()
        exact = self.store.lookup("customer", "emailAddress", query) if "@" in query else None
        if exact is not None:  # an email address: the index answers (large sandboxes)
            found = [self.user_dto(exact)]
        else:
            found = [self.user_dto(u) for u in self.store.all("customer")
                     if query in u["emailAddress"].lower() or query in u["displayName"].lower()]
        return self.json(self.page(request, found, f"{SD}/servicedesk/{desk['id']}/customer"))

    def request_dto(self, issue: dict) -> dict:
        """`CustomerRequestDTO` for a stored request."""
        desk = self.desk(issue["serviceDeskId"])
        rtype = self.store.get("requesttype", issue["requestTypeId"]) or {}
        reporter = self.find_user(issue["reporter"]) or self.admin()
        dto = {
            "_expands": ["participant", "status", "sla", "requestType", "serviceDesk", "attachment", "action", "comment"],
            "issueId": issue["id"], "issueKey": issue["key"], "summary": issue["summary"],
            "requestTypeId": issue["requestTypeId"], "serviceDeskId": issue["serviceDeskId"],
            "createdDate": date_dto(issue["created"]), "reporter": self.user_dto(reporter),
            "currentStatus": {"status": issue["status"], "statusCategory": "NEW", "statusDate": date_dto(issue["created"])},
            "requestFieldValues": [
                {"fieldId": "summary", "label": "Summary", "value": issue["summary"]},
                {"fieldId": "description", "label": "Description", "value": issue.get("description", "")},
            ],
            "serviceDesk": self.desk_dto(desk),
            "_links": {"self": self.link(f"{SD}/request/{issue['id']}"), "web": self.link(f"/servicedesk/customer/portal/{desk['id']}/{issue['key']}"),
                       "agent": self.link(f"/browse/{issue['key']}"), "jiraRest": self.link(f"/rest/api/2/issue/{issue['id']}")},
        }
        if rtype:
            dto["requestType"] = self.request_type_dto(rtype)
        return dto

    def on_request_create(self, request, body):
        """`POST /request`: a customer request, optionally `raiseOnBehalfOf` a customer."""
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.", i18n_key="sd.request.error.body")
        refuse_mistyped(body, REQUEST_CREATE_FIELD_RULES)
        desk = self.desk(str(body.get("serviceDeskId") or ""))
        rtype = self.request_type(desk, str(body.get("requestTypeId") or ""))
        values = body.get("requestFieldValues") or {}
        summary = str(values.get("summary") or "").strip()
        if not summary:
            raise ApiError(400, "Your request could not be created. Please check the fields have been correctly filled in. "
                                "Summary is required.", i18n_key="sd.request.create.error.field.required")
        on_form = set(rtype.get("fields", API_REQUEST_TYPE_FIELDS))
        for field_id in values:
            if field_id not in on_form:
                raise ApiError(400, f"Field '{field_id}' cannot be set. It is not on the appropriate screen, or unknown.",
                               i18n_key="sd.request.create.error.field.not.on.screen")
        reporter = self.admin()
        customer = self.customer_account(request)
        if customer:  # a customer's own login raises their own request only, in a desk they are a customer of
            reporter = self.find_user(customer) or reporter
            if body.get("raiseOnBehalfOf") and str(body["raiseOnBehalfOf"]) != customer:
                raise ApiError(403, "A customer cannot raise a request on behalf of someone else.",
                               i18n_key="sd.request.create.error.raise.on.behalf.of.permission")
            if not self.is_desk_customer(desk, customer):
                raise ApiError(403, "You do not have permission to raise requests in this service desk: you are "
                                    "not one of its customers.", i18n_key="sd.request.create.error.permission")
        elif body.get("raiseOnBehalfOf"):
            account = str(body["raiseOnBehalfOf"])
            reporter = self.store.get("customer", account) or (self.admin() if account == ADMIN_ACCOUNT_ID else None)
            # an email is refused by design (FACTS.md 4.2): the API takes account ids only; a customer of
            # another desk is not one of this desk's (added to it, or in one of its organizations)
            if not reporter or (account != ADMIN_ACCOUNT_ID and not self.is_desk_customer(desk, account)):
                raise ApiError(400, f"The user '{account}' does not exist or is not a customer "
                                    "of this service desk.", i18n_key="sd.request.create.error.raise.on.behalf.of")
        number = self.store.next_id("issue_number")
        key = f"{desk['projectKey']}-{number}"
        issue = {"id": str(self.store.next_id("request")), "key": key, "summary": summary,
                 "description": str(values.get("description") or ""), "labels": list(values.get("labels") or []),
                 "requestTypeId": rtype["id"], "serviceDeskId": desk["id"], "projectKey": desk["projectKey"],
                 "projectId": desk["projectId"], "reporter": reporter["accountId"], "status": "Waiting for support",
                 "priority": str((values.get("priority") or {}).get("name") or "Medium")
                 if isinstance(values.get("priority") or {}, dict) else "Medium",
                 "created": self.store.stamp(), "properties": {}, "comments": [],
                 "participants": list(body.get("requestParticipants") or []),
                 "organizations": self._organization_ids(values.get(ORGANIZATIONS_FIELD))}
        event = writes.created(self.store, issue, reporter["accountId"])
        self.automation.dispatch([event])
        return self.json(self.request_dto(self.store.get("request", key) or issue), 201)

    def _organization_ids(self, value: Any) -> list[str]:
        """Organization ids from the Organizations field value (ids or `{"id": ...}` objects)."""
        ids = []
        for entry in value or []:
            org_id = str(entry.get("id") if isinstance(entry, dict) else entry)
            self.organization(org_id)
            ids.append(org_id)
        return ids

    def on_request_list(self, request, body):
        """`GET /request`: requests the user can see, latest activity first (Atlassian: "ordered
        chronologically by the latest activity on each request"; activity read here as the newest of
        creation, a comment, a recorded change, the resolution). `expand=sla` adds each request's SLA
        page (`sla`, as `/request/{key}/sla` answers it); `serviceDeskId` narrows to one desk;
        `requestStatus` is `ALL_REQUESTS` (the default), `OPEN_REQUESTS` or `CLOSED_REQUESTS` — closed
        read as resolved, the portal's "closed requests". Any other value answers 404: the spec's
        `getCustomerRequests` lists 200, 401, 404 and 500, no 400, and a query parameter the server
        cannot read as its enum is a 404 in the JAX-RS stack servicedeskapi runs on (the reading taken;
        FACTS.md is silent)."""
        issues = [i for i in self.store.all("request") if self.sees(request, i)]
        if request.args.get("serviceDeskId"):
            issues = [i for i in issues if i["serviceDeskId"] == self.desk(request.args["serviceDeskId"])["id"]]
        status = request.args.get("requestStatus") or "ALL_REQUESTS"
        if status not in ("ALL_REQUESTS", "OPEN_REQUESTS", "CLOSED_REQUESTS"):
            raise ApiError(404, f"requestStatus '{status}' is not one of ALL_REQUESTS, OPEN_REQUESTS, CLOSED_REQUESTS.",
                           i18n_key="sd.error.not.found")
        if status != "ALL_REQUESTS":
            issues = [i for i in issues if bool(i.get("resolutiondate")) == (status == "CLOSED_REQUESTS")]

        def activity(issue: dict) -> int:
            stamps = [issue["created"], issue.get("resolutiondate") or issue["created"]]
            stamps += [c["created"] for c in (issue.get("comments") or []) + (issue.get("changelog") or [])]
            return max(date_dto(t)["epochMillis"] for t in stamps)

        issues.sort(key=lambda i: (-activity(i), i["key"]))
        expand = {e.strip() for e in (request.args.get("expand") or "").split(",")}
        if self.customer_account(request):  # SLAs are agents' (`/request/{key}/sla` is not a customer's): no expansion
            expand.discard("sla")

        def load(start: int, limit: int) -> list[dict]:  # only the page's requests are shown (and their SLAs computed)
            shown = issues[start:start + limit]
            slas = self.sla_dtos_of(shown) if "sla" in expand else {}
            items = []
            for issue in shown:
                item = self.request_dto(issue)
                if "sla" in expand:
                    values = slas[issue["key"]]
                    item["sla"] = {"size": len(values), "start": 0, "limit": len(values), "isLastPage": True,
                                   "values": values}
                items.append(item)
            return items
        return self.json(self.page(request, len(issues), f"{SD}/request", load))

    def on_request_get(self, request, body, key):
        """`GET /request/{key}`."""
        return self.json(self.request_dto(self.visible(request, self.issue(key))))

    def on_request_comments(self, request, body, key):
        """`GET|POST /request/{key}/comment` (`public` false = internal note; a customer sees public ones only)."""
        issue = self.visible(request, self.issue(key))
        if request.method == "GET":
            wanted_public = request.args.get("public", "true").lower() != "false"
            wanted_internal = request.args.get("internal", "true").lower() != "false" and not self.customer_account(request)
            comments = [self._comment_dto(issue, c) for c in issue["comments"]
                        if (c["public"] and wanted_public) or (not c["public"] and wanted_internal)]
            return self.json(self.page(request, comments, f"{SD}/request/{issue['id']}/comment"))
        if not isinstance(body, dict) or not str(body.get("body") or "").strip():
            raise ApiError(400, "The comment body is required.", i18n_key="sd.comment.error.body.required")
        public = bool(body.get("public", True))
        comment, event = writes.comment(self.store, issue, body["body"], public, self.comment_author(request, public))
        self.automation.dispatch([event])
        return self.json(self._comment_dto(issue, comment), 201)

    def comment_author(self, request, public: bool = True) -> str:
        """Who writes a comment: the API user, or — sandbox only, standing in for a customer's own login —
        the customer named by the `X-Deskbook-Sandbox-Act-As` header (account id or email), so tests can
        play a customer replying (SLA "Comment: By Customer"). A customer writes public comments only:
        an internal note is agents' (customers never see one), so it is refused with 403 (the reading
        taken; FACTS.md is silent on the code). A customer's own login writes as that customer."""
        acting = self.customer_account(request) or request.headers.get(ACT_AS_HEADER)
        if not acting:
            return ADMIN_ACCOUNT_ID
        user = self.find_user(acting)
        if not user:
            raise ApiError(400, f"{ACT_AS_HEADER}: the user '{acting}' does not exist.", i18n_key="sd.customer.error.not.found")
        if not public and self.is_customer(user["accountId"]):
            raise ApiError(403, "A customer cannot add an internal comment.", i18n_key="sd.comment.error.permission")
        return user["accountId"]

    def _comment_dto(self, issue: dict, comment: dict) -> dict:
        return {"id": comment["id"], "body": comment["body"], "public": comment["public"],
                "author": self.user_dto(self.find_user(comment["author"]) or self.admin()),
                "created": date_dto(comment["created"]), "_expands": ["attachment", "renderedBody"],
                "_links": {"self": self.link(f"{SD}/request/{issue['id']}/comment/{comment['id']}")}}

    def on_request_sla(self, request, body, key):
        """`GET /request/{key}/sla`: per SLA metric of the project whose goal applies, its cycles computed
        from the request's history on the sandbox clock (`sla.py`): `ongoingCycle`, `completedCycles`."""
        issue = self.issue(key)
        return self.json(self.page(request, self.sla_dtos_of([issue])[issue["key"]], f"{SD}/request/{issue['id']}/sla"))

    def sla_dtos_of(self, issues: list[dict]) -> dict[str, list[dict]]:
        """The `SlaInformationDTO`s of each request, by key (see `on_request_sla`); metrics, calendars and
        request type names are read once for all of them."""
        now = self.store.now()
        calendars = {str(c["id"]): c for c in self.store.all("calendar")}
        metrics = self.store.all("slametric")
        return {named["key"]: self._sla_dtos(named, [m for m in metrics if m["projectKey"] == named["projectKey"]],
                                             calendars, now)
                for named in self.with_type_names(issues)}  # as goal JQL reads them

    def _sla_dtos(self, issue: dict, metrics: list[dict], calendars: dict[str, dict], now: float) -> list[dict]:
        """One request's (`with_type_names`) SLA values over its project's `metrics`."""
        values = []
        for found in sla.sla_values(issue, metrics, calendars, now=now, is_customer=self.is_customer,
                                    status_ids=STATUS_IDS, matcher=self.goal_matches):
            metric = found["metric"]
            completed, ongoing = [], None
            for cycle in found["cycles"]:  # each with its own goal: a completed one keeps the goal it ran under
                dto = {"startTime": date_dto(cycle["start"]), "breached": cycle["breached"],
                       "goalDuration": _duration(int(cycle["goal"]["duration"])), "elapsedTime": _duration(cycle["elapsed_ms"]),
                       "remainingTime": _duration(cycle["remaining_ms"])}
                if cycle["breach_time"]:
                    dto["breachTime"] = date_dto(cycle["breach_time"])
                if cycle["stop"] is None:
                    ongoing = {**dto, "paused": cycle["paused"], "withinCalendarHours": cycle["within"]}
                else:
                    completed.append({**dto, "stopTime": date_dto(cycle["stop"])})
            value = {"id": str(metric["id"]), "name": metric["name"], "completedCycles": completed,
                     "_links": {"self": self.link(f"{SD}/request/{issue['id']}/sla/{metric['id']}")},
                     "slaDisplayFormat": (metric.get("config") or {}).get("slaDisplayFormat") or "NEW_SLA_FORMAT"}
            if ongoing is not None:
                value["ongoingCycle"] = ongoing
            values.append(value)
        return values

    def on_request_feedback(self, request, body, key):
        """`GET|POST|DELETE /request/{key}/feedback`: the customer's CSAT answer (`CSATFeedbackFullDTO`:
        `{type: "csat", rating: 1-5, comment: {body}}`); all three are experimental (412 without the
        opt-in header, FACTS.md 1.8). Atlassian's page: only the request's reporter
        gives (or withdraws) feedback, on a resolved request; the sandbox plays the reporter through
        `X-Deskbook-Sandbox-Act-As` (as for comments) and refuses anyone else (403), an unresolved
        request (400) and a rating outside 1-5 (400). GET answers 404 while there is none (the reading
        taken: the spec lists the codes, not which one "no feedback" gets)."""
        issue = self.visible(request, self.issue(key))
        feedback = issue.get("feedback")
        if request.method == "GET":
            if not feedback:
                raise ApiError(404, f"No feedback on request {issue['key']}.", i18n_key="sd.feedback.error.not.found")
            return self.json(feedback)
        if self.comment_author(request) != issue["reporter"]:
            raise ApiError(403, "Only the reporter can give feedback on a request.",
                           i18n_key="sd.feedback.error.permission")
        if request.method == "DELETE":
            issue.pop("feedback", None)
            self.store.put("request", issue["key"], issue)
            return Response(status=204)
        if not issue.get("resolutiondate"):
            raise ApiError(400, "Feedback can be given on a resolved request only.", i18n_key="sd.feedback.error.unresolved")
        rating = body.get("rating") if isinstance(body, dict) else None
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise ApiError(400, "The rating must be a whole number from 1 to 5.", i18n_key="sd.feedback.error.rating")
        comment = (body.get("comment") or {}).get("body") if isinstance(body.get("comment"), dict) else None
        issue["feedback"] = {"type": "csat", "rating": rating, **({"comment": {"body": str(comment)}} if comment else {})}
        self.store.put("request", issue["key"], issue)
        return self.json(issue["feedback"], status=201)  # the spec's postFeedback answers 201 Created

    def is_customer(self, account_id: str) -> bool:
        """Whether a comment's author is a customer (a portal customer account), not an agent, the API
        user or an automation rule's actor."""
        return self.store.get("customer", account_id) is not None

    def goal_matches(self, jql: str, issue: dict) -> bool:
        """Whether an SLA goal's JQL matches the request (empty JQL: every request; unreadable: none)."""
        try:
            return compile_jql(jql, now=self.clock_now())(issue)
        except JqlError:
            return False

    def clock_now(self) -> datetime:
        """The sandbox clock's time (what relative JQL dates are read against)."""
        return datetime.fromtimestamp(self.store.now(), timezone.utc)

    def with_type_names(self, issues: list[dict]) -> list[dict]:
        """Issues with their request type's current name (`requestTypeName`), as JQL reads it."""
        names = {t["id"]: t.get("name", "") for t in self.store.all("requesttype")}
        return [{**i, "requestTypeName": names.get(str(i.get("requestTypeId", "")), "")} for i in issues]

    def on_org_list(self, request, body):
        """`GET /organization`."""
        total = self.store.count("organization")
        return self.json(self.page(request, total, f"{SD}/organization",
                                   lambda start, limit: [self.org_dto(o) for o in self.store.slice("organization", start, limit)]))

    def on_org_create(self, request, body):
        """`POST /organization` (name unique, as JSM enforces)."""
        name = str((body or {}).get("name") or "").strip() if isinstance(body, dict) else ""
        if not name:
            raise ApiError(400, "An organization name is required.", i18n_key="sd.admin.organization.name.required")
        if any(o["name"].lower() == name.lower() for o in self.store.all("organization")):
            raise ApiError(400, f"An organization with the name '{name}' already exists.",
                           i18n_key="sd.admin.organization.name.duplicate")
        org_id = str(self.store.next_id("organization"))
        org = {"id": org_id, "name": name, "uuid": self.store.new_uuid(), "created": self.store.stamp(), "properties": {}, "users": []}
        self.store.put("organization", org_id, org)
        return self.json(self.org_dto(org), 201)

    def on_org_get(self, request, body, org_id):
        """`GET /organization/{id}`."""
        return self.json(self.org_dto(self.organization(org_id)))

    def on_org_delete(self, request, body, org_id):
        """`DELETE /organization/{id}` (site-wide: it leaves every desk)."""
        self.organization(org_id)
        self.store.delete("organization", org_id)
        for desk in self.store.all("servicedesk"):
            self.store.delete(desk_org_kind(desk["id"]), org_id)
        return Response(status=204)

    def on_org_property_keys(self, request, body, org_id):
        """`GET /organization/{id}/property`: `PropertyKeys`."""
        org = self.organization(org_id)
        keys = [{"key": k, "self": self.link(f"{SD}/organization/{org_id}/property/{k}")} for k in org["properties"]]
        return self.json({"keys": keys})

    def on_org_property(self, request, body, org_id, prop_key):
        """`GET|PUT|DELETE /organization/{id}/property/{key}` (PUT: 201 new, 200 replaced)."""
        org = self.organization(org_id)
        return self._property(request, body, org, "organization", org_id, prop_key)

    def _property(self, request, body, owner: dict, kind: str, ident: str, prop_key: str) -> Response:
        """GET/PUT/DELETE of one entity property stored in `owner["properties"]`."""
        props = owner.setdefault("properties", {})
        if len(prop_key) > 255:
            raise ApiError(400, "The property key cannot be longer than 255 characters.", i18n_key="sd.property.key.too.long")
        if request.method == "GET":
            if prop_key not in props:
                raise ApiError(404, f"The property '{prop_key}' does not exist.", i18n_key="sd.property.not.found")
            return self.json({"key": prop_key, "value": props[prop_key]})
        if request.method == "DELETE":
            if prop_key not in props:
                raise ApiError(404, f"The property '{prop_key}' does not exist.", i18n_key="sd.property.not.found")
            del props[prop_key]
            self.store.put(kind, ident, owner)
            return Response(status=204)
        if body is None:
            raise ApiError(400, "The property value must be valid JSON.", i18n_key="sd.property.value.invalid")
        if len(json.dumps(body)) > 32768:
            raise ApiError(400, "The property value cannot be longer than 32768 characters.", i18n_key="sd.property.value.too.long")
        existed = prop_key in props
        props[prop_key] = body
        self.store.put(kind, ident, owner)
        return Response(status=200 if existed else 201)

    def on_org_users(self, request, body, org_id):
        """`GET|POST|DELETE /organization/{id}/user`."""
        org = self.organization(org_id)
        if request.method == "GET":
            users = [self.user_dto(u) for u in map(self.find_user, org["users"]) if u]
            return self.json(self.page(request, users, f"{SD}/organization/{org_id}/user"))
        if not isinstance(body, dict) or mistyped(body, ORG_USERS_FIELD_RULES):
            raise ApiError(400, "The body must be {\"accountIds\": [...]} (UsersOrganizationUpdateDTO).",
                           i18n_key="sd.error.invalid.parameter")
        accounts = list(body.get("accountIds") or []) + list(body.get("usernames") or [])
        for account in accounts:
            user = self.find_user(account)
            if not user:
                raise ApiError(400, f"The user '{account}' does not exist.", i18n_key="sd.customer.error.not.found")
            if request.method == "POST" and user["accountId"] not in org["users"]:
                org["users"].append(user["accountId"])
            if request.method == "DELETE" and user["accountId"] in org["users"]:
                org["users"].remove(user["accountId"])
        self.store.put("organization", org_id, org)
        return Response(status=204)

    def on_customer_create(self, request, body):
        """`POST /customer`: a portal-only customer account (`email`, `displayName`)."""
        email = str((body or {}).get("email") or "").strip() if isinstance(body, dict) else ""
        if "@" not in email:
            raise ApiError(400, "A valid email address is required.", i18n_key="sd.customer.email.invalid")
        if any(u["emailAddress"].lower() == email.lower() for u in self.store.all("customer")):
            raise ApiError(409, f"An account already exists for the email '{email}'.", i18n_key="sd.customer.email.exists")
        number = self.store.next_id("customer")
        user = {"accountId": f"qm:sandbox:{number:06d}", "emailAddress": email,
                "displayName": str(body.get("displayName") or body.get("fullName") or email)}
        self.store.put("customer", user["accountId"], user)
        return self.json(self.user_dto(user), 201)

    # ----------------------------------------------------------------- platform
    def on_myself(self, request, body):
        """`GET /rest/api/3/myself`: the API user, or the customer whose own login asks."""
        customer = self.customer_account(request)
        user = (self.find_user(customer) if customer else None) or self.admin()
        return self.json({**self.user_dto(user), "accountType": "customer" if customer else "atlassian",
                          "self": self.link(f"{API}/myself")})

    def on_search_removed(self, request, body):
        """`/rest/api/3/search` was removed from Jira Cloud: 410 pointing at `/search/jql`."""
        raise ApiError(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")

    def issue_bean(self, issue: dict, fields: list[str] | None, properties: list[str] | None,
                   request: Request | None = None) -> dict:
        """`IssueBean` for a stored issue with the requested fields and properties (`comment` only when
        named: the platform comment page, `jsdPublic` telling a public reply from an internal note)."""
        all_fields = {
            "summary": issue["summary"], "labels": issue.get("labels", []),
            "status": {"name": issue["status"]}, "priority": {"name": issue.get("priority", "Medium")}, "project": {"id": issue["projectId"], "key": issue["projectKey"]},
            "created": issue["created"], "description": issue.get("description", ""),
            "reporter": {"accountId": issue["reporter"]},
            "resolutiondate": issue.get("resolutiondate"),
            ORGANIZATIONS_FIELD: [{"id": int(o), "name": (self.store.get("organization", o) or {}).get("name", "")}
                                  for o in issue.get("organizations", [])],
        }
        if fields is None or "*all" in fields or "*navigable" in fields:
            chosen = all_fields
        else:
            chosen = {k: v for k, v in all_fields.items() if k in fields}
        if fields and "comment" in fields and request is not None:
            comments = [self.platform_comment(request, issue, c) for c in issue.get("comments") or []]
            chosen["comment"] = {"comments": comments, "maxResults": len(comments), "total": len(comments), "startAt": 0}
        bean = {"id": issue["id"], "key": issue["key"], "self": self.link(f"{API}/issue/{issue['id']}"), "fields": chosen}
        if properties:
            bean["properties"] = {k: v for k, v in issue.get("properties", {}).items() if k in properties or "*all" in properties}
        return bean

    def on_search_jql(self, request, body):
        """`GET|POST /rest/api/3/search/jql`: token pages (`nextPageToken`, `isLast`). A POST body
        must be a search object (`SearchAndReconcileRequestBean`, required) with its fields' types; the
        query must be bounded (a restriction before any ORDER BY: FACTS.md 8.3), else 400."""
        if request.method == "POST":
            if not isinstance(body, dict):
                raise ApiError(400, "Invalid request payload. Refer to the REST API documentation and try again.")
            wrong = mistyped(body, SEARCH_FIELD_RULES)
            if wrong is not None:
                raise ApiError(400, "Invalid request payload. Refer to the REST API documentation and try again.",
                               errors={wrong[0]: f"must be {wrong[1]}"})
        params = body if request.method == "POST" else {
            "jql": request.args.get("jql"), "nextPageToken": request.args.get("nextPageToken"),
            "maxResults": request.args.get("maxResults"),
            # GET repeats a list parameter (`fields=a&fields=b`) or joins it with commas
            "fields": [f for v in request.args.getlist("fields") for f in v.split(",") if f] or None,
            "properties": [f for v in request.args.getlist("properties") for f in v.split(",") if f] or None,
            "reconcileIssues": [f for v in request.args.getlist("reconcileIssues") for f in v.split(",") if f] or None,
        }
        reconcile = self._reconciled(params.get("reconcileIssues"))
        # FACTS.md 8.3: a search must be bounded — `order by key desc` alone (or no query) is refused
        if not re.split(r"\border\s+by\b", str(params.get("jql") or ""), maxsplit=1, flags=re.IGNORECASE)[0].strip():
            raise ApiError(400, "Unbounded JQL queries are not allowed here. Please add a search restriction "
                                "to your query.", errors={})
        try:
            matches = compile_jql(params.get("jql") or "", now=self.clock_now())
            sort_key = order_key(params.get("jql") or "")
        except JqlError as exc:
            raise ApiError(400, str(exc), errors={}) from None
        try:
            max_results = int(params.get("maxResults") or 50)
        except (TypeError, ValueError):
            raise ApiError(400, "maxResults must be a number.") from None
        max_results = max(1, min(max_results, 100))
        offset = _decode_cursor(params.get("nextPageToken"), "platform")
        fields = params.get("fields")
        if isinstance(fields, str):
            fields = fields.split(",")
        found = self._search_matches(params.get("jql") or "", matches, sort_key, reconcile, first_page=offset == 0)
        page = found[offset:offset + max_results]
        result = {"issues": [self.issue_bean(i, fields or ["id"], params.get("properties"), request) for i in page],
                  "isLast": offset + len(page) >= len(found)}
        if not result["isLast"]:
            result["nextPageToken"] = _encode_cursor(offset + len(page))
        return self.json(result)

    @staticmethod
    def _reconciled(ids: Any) -> set[str]:
        """The issue ids of `reconcileIssues` (the platform spec: "Accepts max 50 ids"; more get a 400,
        the reading taken — the spec names no answer for it)."""
        if not ids:
            return set()
        try:
            found = {str(int(i)) for i in ids}
        except (TypeError, ValueError):
            raise ApiError(400, "Invalid request payload. Refer to the REST API documentation and try again.",
                           errors={"reconcileIssues": "must be issue ids"}) from None
        if len(found) > 50:
            raise ApiError(400, "reconcileIssues accepts at most 50 issue ids.", errors={"reconcileIssues": "at most 50"})
        return found

    def _search_matches(self, jql: str, matches: Callable[[dict], bool], sort_key, reconcile: set[str], *,
                        first_page: bool) -> list[dict]:
        """The requests matching `jql`, in order, as the search index holds them (`index.py`: a write
        reaches it `search_lag_seconds` later; those in `reconcile` as they are). A first page always
        evaluates the query (relative dates and the index move with the clock); later pages of the same
        search reuse its matches while no request changed, as Jira's token pages do, instead of
        rescanning every issue."""
        revision = self.store.revision("request")
        cache_key = (jql, tuple(sorted(reconcile)))
        cached = self.search_cache.get(cache_key)
        if not first_page and cached and cached[0] == revision and time.monotonic() - cached[2] < 600:
            return cached[1]
        indexed = self.search_index.view(self.store.all("request"), reconcile)
        found = [i for i in self.with_type_names(indexed) if matches(i)]
        if sort_key is not None:
            found.sort(key=sort_key)
        if len(self.search_cache) > 64:
            self.search_cache.clear()
        self.search_cache[cache_key] = (revision, found, time.monotonic())
        return found

    def on_issue(self, request, body, key):
        """`GET /rest/api/3/issue/{key}`, `PUT` for `fields.labels` / `update.labels`, `DELETE` (204; 403
        without the "Delete issues" permission, `issue_delete=False`)."""
        issue = self.issue(key)
        if request.method == "DELETE":
            if not self.config.issue_delete:
                raise ApiError(403, "You do not have permission to delete issues in this project.")
            self.store.delete("request", issue["key"])
            return Response(status=204)
        if request.method == "GET":
            fields = request.args.get("fields")
            props = request.args.get("properties")
            return self.json(self.issue_bean(issue, fields.split(",") if fields else None, props.split(",") if props else None))
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a JSON object.")
        refuse_mistyped(body, ISSUE_EDIT_FIELD_RULES)
        refuse_mistyped(body.get("fields"), ISSUE_EDIT_FIELDS_RULES, "fields.")
        refuse_mistyped(body.get("update"), ISSUE_EDIT_UPDATE_RULES, "update.")
        labels = list(issue.get("labels", []))
        if "labels" in (body.get("fields") or {}):
            labels = list(body["fields"]["labels"] or [])
        for op in (body.get("update") or {}).get("labels", []):
            refuse_mistyped(op, LABEL_OPERATION_RULES, "update.labels.")
            if "set" in op:
                labels = list(op["set"] or [])
            if "add" in op and op["add"] not in labels:
                labels.append(op["add"])
            if "remove" in op and op["remove"] in labels:
                labels.remove(op["remove"])
        bad = [label for label in labels if not isinstance(label, str) or " " in label or len(label) > 255]
        if bad:
            raise ApiError(400, "", errors={"labels": f"The label '{bad[0]}' contains spaces or is too long."})
        changes: dict[str, Any] = {"labels": labels}
        if isinstance((body.get("fields") or {}).get("priority"), dict):
            changes["priority"] = str(body["fields"]["priority"].get("name") or issue.get("priority", "Medium"))
        if "summary" in (body.get("fields") or {}):
            changes["summary"] = str(body["fields"]["summary"])
        if ORGANIZATIONS_FIELD in (body.get("fields") or {}):  # numeric organization ids (FACTS.md 4.5)
            changes["organizations"] = self._organization_ids(body["fields"][ORGANIZATIONS_FIELD])
        if "assignee" in (body.get("fields") or {}):
            changes["assignee"] = self._assignee(body["fields"]["assignee"])
        self.automation.dispatch([writes.edit(self.store, issue, changes, ADMIN_ACCOUNT_ID)])
        return Response(status=204)

    def _assignee(self, value: Any) -> str | None:
        """An assignee: `{"accountId": ...}` of an existing user, or null to unassign."""
        account = (value or {}).get("accountId") if isinstance(value, dict) or value is None else None
        if account and not self.find_user(str(account)):
            raise ApiError(400, "", errors={"assignee": f"User '{account}' does not exist."})
        return str(account) if account else None

    def on_issue_changelog(self, request, body, key):
        """`GET /rest/api/3/issue/{key}/changelog`: `PageBeanChangelog`, oldest first."""
        issue = self.issue(key)
        entries = [{"id": c["id"], "created": c["created"], "items": c["items"],
                    "author": self.user_dto(self.find_user(c["author"]) or self.admin())}
                   for c in issue.get("changelog") or []]
        start = max(0, _int_arg(request, "startAt", 0))
        limit = max(1, min(_int_arg(request, "maxResults", 100), 100))
        page = entries[start:start + limit]
        return self.json({"startAt": start, "maxResults": limit, "total": len(entries),
                          "isLast": start + len(page) >= len(entries), "values": page,
                          "self": self.link(f"{API}/issue/{issue['id']}/changelog")})

    def on_issue_property_keys(self, request, body, key):
        """`GET /rest/api/3/issue/{key}/properties`."""
        issue = self.issue(key)
        return self.json({"keys": [{"key": k, "self": self.link(f"{API}/issue/{issue['id']}/properties/{k}")}
                                   for k in issue.get("properties", {})]})

    def on_issue_property(self, request, body, key, prop_key):
        """`GET|PUT|DELETE /rest/api/3/issue/{key}/properties/{propertyKey}`."""
        issue = self.issue(key)
        return self._property(request, body, issue, "request", issue["key"], prop_key)

    def on_server_info(self, request, body):
        """`GET /rest/api/3/serverInfo` (python-jira reads it on connect): a Cloud site."""
        return self.json({"baseUrl": self.base_url, "displayUrl": self.base_url, "version": "1001.0.0-SNAPSHOT",
                          "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100290,
                          "buildDate": "2026-11-30T00:00:00.000+0000", "serverTime": self.store.stamp(),
                          "scmInfo": "sandbox", "serverTitle": "Jira (deskbook sandbox)",
                          "defaultLocale": {"locale": "en_US"}, "serverTimeZone": "Etc/UTC"})

    def project_dto(self, desk: dict, *, full: bool = False) -> dict:
        """`Project` of a service desk's project (with its issue types when `full`)."""
        dto = {"id": desk["projectId"], "key": desk["projectKey"], "name": desk["projectName"],
               "projectTypeKey": "service_desk", "simplified": False, "style": "classic", "isPrivate": False,
               "self": self.link(f"{API}/project/{desk['projectId']}")}
        if full:
            dto |= {"description": "", "lead": self.user_dto(self.admin()), "assigneeType": "UNASSIGNED",
                    "issueTypes": [self.issue_type_dto(t) for t in ISSUE_TYPES], "properties": {}}
        return dto

    def on_projects(self, request, body):
        """`GET /rest/api/3/project`: every project (the service projects of the sandbox)."""
        return self.json([self.project_dto(d) for d in self.store.all("servicedesk")])

    def on_project(self, request, body, project):
        """`GET /rest/api/3/project/{projectIdOrKey}`."""
        for desk in self.store.all("servicedesk"):
            if project in (desk["projectId"], desk["projectKey"]):
                return self.json(self.project_dto(desk, full=True))
        raise ApiError(404, f"No project could be found with key '{project}'.")

    def platform_comment(self, request, issue: dict, comment: dict) -> dict:
        """A comment as the platform API shows it: a plain-text body on v2, ADF on v3; `jsdPublic`."""
        text = comment["body"]
        body: Any = text if request.environ.get("deskbook.api_version") == "2" else adf(text)
        author = self.user_dto(self.find_user(comment["author"]) or self.admin())
        return {"id": comment["id"], "self": self.link(f"{API}/issue/{issue['id']}/comment/{comment['id']}"),
                "author": author, "updateAuthor": author, "body": body, "created": comment["created"],
                "updated": comment["created"], "jsdPublic": comment["public"]}

    def on_issue_comments(self, request, body, key):
        """`GET|POST /rest/api/3/issue/{key}/comment` (v2: plain text; v3: ADF). A platform comment is
        public unless its `sd.public.comment` property says `internal: true` (FACTS.md 4.7)."""
        issue = self.issue(key)
        if request.method == "GET":
            comments = [self.platform_comment(request, issue, c) for c in issue["comments"]]
            start = max(0, _int_arg(request, "startAt", 0))
            limit = max(1, min(_int_arg(request, "maxResults", 100), 100))
            return self.json({"startAt": start, "maxResults": limit, "total": len(comments),
                              "comments": comments[start:start + limit]})
        raw = body.get("body") if isinstance(body, dict) else None
        text = raw if isinstance(raw, str) and request.environ.get("deskbook.api_version") == "2" else adf_text(raw)
        if not text or not text.strip():
            raise ApiError(400, "", errors={"comment": "Comment body can not be empty!"})
        internal = any(p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal") is True
                       for p in (body.get("properties") or []) if isinstance(p, dict))
        comment, event = writes.comment(self.store, issue, text, not internal, self.comment_author(request, not internal))
        self.automation.dispatch([event])
        return self.json(self.platform_comment(request, issue, comment), 201)

    def on_issue_transitions(self, request, body, key):
        """`GET|POST /rest/api/3/issue/{key}/transitions`: the service-request workflow's transitions."""
        issue = self.issue(key)
        available = [t for t in TRANSITIONS if t["to"] != issue["status"]]
        if request.method == "GET":
            return self.json({"expand": "transitions", "transitions": [
                {"id": t["id"], "name": t["name"], "hasScreen": False, "isGlobal": True, "isInitial": False,
                 "isAvailable": True, "isConditional": False, "isLooped": False,
                 "to": {"id": t["status_id"], "name": t["to"], "self": self.link(f"{API}/status/{t['status_id']}"),
                        "statusCategory": {"key": t["category"], "name": t["category"]}}} for t in available]})
        wanted = str(((body or {}).get("transition") or {}).get("id") or "") if isinstance(body, dict) else ""
        chosen = next((t for t in available if t["id"] == wanted), None)
        if chosen is None:
            raise ApiError(400, f"Transition id '{wanted}' is not valid for this issue.")
        self.automation.dispatch([writes.transition(self.store, issue, chosen["to"], ADMIN_ACCOUNT_ID)])
        return Response(status=204)

    def on_fields(self, request, body):
        """`GET /rest/api/3/field`: system and custom fields (`FieldDetails`), the Organizations field among
        them under this site's id, found by `schema.custom`."""
        return self.json(FIELDS)

    def issue_type_dto(self, issue_type: dict) -> dict:
        """`IssueTypeDetails` of one of the project's issue types."""
        return {**issue_type, "self": self.link(f"{API}/issuetype/{issue_type['id']}"),
                "iconUrl": self.link(f"/rest/api/2/universal_avatar/view/type/issuetype/avatar/{issue_type['id']}"),
                "avatarId": 10300 + int(issue_type["id"]) % 100}

    def on_issuetypes_of_project(self, request, body):
        """`GET /rest/api/3/issuetype/project?projectId=`: the project's issue types."""
        project = request.args.get("projectId", "")
        if not project.isdigit():
            raise ApiError(400, "The projectId parameter is required and must be a number.")
        if not any(d["projectId"] == project for d in self.store.all("servicedesk")):
            raise ApiError(404, f"No project could be found with id '{project}'.")
        return self.json([self.issue_type_dto(t) for t in ISSUE_TYPES])

    def on_labels(self, request, body):
        """`GET /rest/api/3/label`: `PageBeanString` of every label in use."""
        labels = sorted({label for issue in self.store.all("request") for label in issue.get("labels", [])})
        start = max(0, _int_arg(request, "startAt", 0))
        limit = max(1, min(_int_arg(request, "maxResults", 1000), 1000))
        values = labels[start:start + limit]
        return self.json({"isLast": start + len(values) >= len(labels), "maxResults": limit, "startAt": start,
                          "total": len(labels), "values": values})

    # ----------------------------------------------------------------- automation
    def _check_cloud(self, cloud_id: str) -> None:
        if cloud_id != self.config.cloud_id:
            raise ApiError(404, f"No Jira site with cloud id '{cloud_id}'.")

    def _rule(self, rule_uuid: str) -> dict:
        rule = self.store.get("rule", rule_uuid)
        if not rule:
            raise ApiError(404, f"Rule '{rule_uuid}' was not found.")
        return rule

    @staticmethod
    def _rule_summary(rule: dict) -> dict:
        keys = ("uuid", "name", "description", "state", "labels", "ruleScopeARIs", "authorAccountId",
                "actor", "created", "updated")
        return {k: rule[k] for k in keys if k in rule}

    def _checked_rule(self, body: Any) -> dict:
        """The rule of a write body as the site checks it (`sandbox/automation.py`), or the site's error."""
        try:
            return rules.check_write(body, cloud_id=self.config.cloud_id, agents={ADMIN_ACCOUNT_ID})
        except rules.Refused as exc:
            raise ApiError(exc.status, exc.message) from None

    def _enriched(self, rule: dict, rule_uuid: str, created: str | None = None) -> dict:
        return rules.enrich(rule, next_id=lambda: self.store.next_id("rulecomponent"), stamp=self.store.stamp(),
                            created=created, rule_uuid=rule_uuid)

    def on_rule_summary(self, request, body, cloud_id):
        """`GET|POST /rule/summary`: cursor pages of rule summaries (POST filters trigger/state/scope)."""
        self._check_cloud(cloud_id)
        params = body if request.method == "POST" and isinstance(body, dict) else dict(request.args)
        if request.method == "POST" and not any(k in params for k in ("trigger", "state", "scope", "limit", "cursor")):
            raise ApiError(400, "At least one of trigger, state, scope, or limit must be present.")
        found = self.store.all("rule")
        if params.get("state"):
            found = [r for r in found if r["state"] == params["state"]]
        if params.get("trigger"):
            found = [r for r in found if r["trigger"].get("type") == params["trigger"]]
        if params.get("scope"):
            found = [r for r in found if params["scope"] in r.get("ruleScopeARIs", [])]
        try:
            limit = max(1, min(int(params.get("limit") or self.config.rule_page_limit), self.config.rule_page_limit))
        except (TypeError, ValueError):
            raise ApiError(400, "limit must be a number.") from None
        offset = _decode_cursor(params.get("cursor"), "automation")
        page = found[offset:offset + limit]
        links = {"self": f"?cursor={_encode_cursor(offset)}&limit={limit}"}
        if offset + len(page) < len(found):
            links["next"] = f"?cursor={_encode_cursor(offset + len(page))}&limit={limit}"
        if offset:
            links["prev"] = f"?cursor={_encode_cursor(max(0, offset - limit))}&limit={limit}"
        return self.json({"links": links, "data": [self._rule_summary(r) for r in page]})

    def on_rule_create(self, request, body, cloud_id):
        """`POST /rule`: `{"rule": {...}, "connections": []}` -> 201 `{"ruleUuid": ...}`; stored DISABLED
        whatever the body's state (a create's state does not stick); a free caller-chosen `uuid` is kept."""
        self._check_cloud(cloud_id)
        rule = self._checked_rule(body)
        rule_uuid = str(rule.get("uuid") or self.store.new_uuid())
        if self.store.get("rule", rule_uuid):
            raise ApiError(400, f"rule.uuid: '{rule_uuid}' is already in use")
        self.store.put("rule", rule_uuid, self._enriched({**rule, "state": "DISABLED"}, rule_uuid))
        return self.json({"ruleUuid": rule_uuid}, 201)

    def on_rule(self, request, body, cloud_id, rule_uuid):
        """`GET /rule/{uuid}` -> `{"rule": ..., "connections": []}`; `PUT` replaces the whole rule (only the
        stored nodes' ids may be sent; enabling through it is checked like `PUT …/state`); `DELETE` removes
        a disabled rule (FACTS.md 2.12; absent with `rule_delete=False`, as in the 2025 spec)."""
        self._check_cloud(cloud_id)
        existing = self._rule(rule_uuid)
        if request.method == "GET":
            return self.json({"rule": existing, "connections": []})
        if request.method == "DELETE":
            if existing["state"] != "DISABLED":
                raise ApiError(400, "Only a disabled rule can be deleted: disable it first.")
            self.store.delete("rule", rule_uuid)
            return Response(status=204)
        rule = self._checked_rule(body)
        try:
            rules.check_ids(rule, existing)
            if rule["state"] == "ENABLED":
                rules.check_enable(rule)
        except rules.Refused as exc:
            raise ApiError(exc.status, exc.message) from None
        self.store.put("rule", rule_uuid, self._enriched(rule, rule_uuid, existing["created"]))
        return self.json({"ruleUuid": rule_uuid})

    def on_rule_state(self, request, body, cloud_id, rule_uuid):
        """`PUT /rule/{uuid}/state` with `{"value": "ENABLED"|"DISABLED"}` (other bodies: 400); enabling
        is refused for a trigger the site could not run."""
        self._check_cloud(cloud_id)
        rule = self._rule(rule_uuid)
        value = body.get("value") if isinstance(body, dict) else None
        if value not in RULE_STATES:
            raise ApiError(400, "value: must be ENABLED or DISABLED")
        if value == "ENABLED":
            try:
                rules.check_enable(rule)
            except rules.Refused as exc:
                raise ApiError(exc.status, exc.message) from None
        rule.update(state=value, updated=self.store.stamp())
        self.store.put("rule", rule_uuid, rule)
        return self.json({"ruleUuid": rule_uuid, "state": value})

    def on_rule_invocation(self, request, body, cloud_id, rule_uuid):
        """`POST /rule/manual/{ruleId}/invocation` with `{"objects": [issue ARI, ...]}`: run a manual rule
        on each issue (`ari:cloud:jira:{cloudId}:issue/{issueId}`; the sandbox also takes the issue key).
        The body's shape is this sandbox's reading: FACTS.md names the route, not its body."""
        self._check_cloud(cloud_id)
        rule = self._rule(rule_uuid)
        objects = body.get("objects") if isinstance(body, dict) else None
        if not isinstance(objects, list) or not objects or not all(isinstance(o, str) for o in objects):
            raise ApiError(400, "objects: must list the ARIs of the issues to run the rule on")
        prefix = f"ari:cloud:jira:{self.config.cloud_id}:issue/"
        found = [self.issue(o[len(prefix):] if o.startswith(prefix) else o) for o in objects]
        try:
            for issue in found:
                self.automation.invoke(rule, issue, ADMIN_ACCOUNT_ID)
        except RuleError as exc:
            raise ApiError(400, str(exc)) from None
        return Response(status=204)

    # ----------------------------------------------------------------- Customer Service Management
    def _csm(self, request, cloud_id: str) -> None:
        self._check_cloud(cloud_id)
        if request.headers.get("X-ExperimentalApi", "").lower() != "opt-in":  # FACTS.md 1.8
            raise ApiError(412, "This API is experimental: send the header 'X-ExperimentalApi: opt-in'.")

    @staticmethod
    def detail_field_dto(field: dict) -> dict:
        """A detail field definition as the CSM API shows it."""
        kind = {"name": field["type"]}
        if field["type"] in ("SELECT", "MULTISELECT"):
            kind["options"] = list(field.get("options") or [])
        return {"name": field["name"], "type": kind, "configuration": {"position": field["position"]}}

    def on_csm_details(self, request, body, cloud_id):
        """`GET|POST /api/v1/organization/details`: the site's organization detail fields (at most 50; a
        select at most 50 options; types text, select, multi-select, email, URL, date, number, phone)."""
        self._csm(request, cloud_id)
        fields = self.store.all("csm_detail_field")
        if request.method == "GET":
            return self.json({"results": [self.detail_field_dto(f) for f in fields]})
        name = str((body or {}).get("name") or "").strip() if isinstance(body, dict) else ""
        kind = (body or {}).get("type") if isinstance(body, dict) else None
        if not name:
            raise ApiError(400, "name: must not be blank")
        if not isinstance(kind, dict) or kind.get("name") not in DETAIL_TYPES:
            raise ApiError(400, f"type.name: must be one of {', '.join(DETAIL_TYPES)}")
        if any(f["name"].lower() == name.lower() for f in fields):
            raise ApiError(409, f"A detail field named '{name}' already exists.")
        if len(fields) >= 50:
            raise ApiError(400, "An organization can have at most 50 detail fields.")
        options = list(kind.get("options") or [])
        if kind["name"] in ("SELECT", "MULTISELECT") and not (0 < len(options) <= 50):
            raise ApiError(400, "type.options: a select field needs 1 to 50 options")
        field = {"name": name, "type": kind["name"], "options": options, "position": len(fields) + 1}
        self.store.put("csm_detail_field", name, field)
        return self.json(self.detail_field_dto(field), 201)

    def on_csm_detail(self, request, body, cloud_id, field_name):
        """`PUT|DELETE /api/v1/organization/details/{fieldName}`. FACTS.md 5.4: "only the label can change
        later" — the label is the field's `name` (the only text a definition has), so a PUT renames the
        field (the values organizations hold move with it) and refuses (400) any other change: a `type`
        (its name or a select's options) or `configuration` that differs from the field's, a key a
        definition does not have, a `type` or `configuration` that is not an object. Sending them as
        they are (a GET's body, edited) is accepted. The readings: FACTS.md names the rule, not the
        answer."""
        self._csm(request, cloud_id)
        field = self.store.get("csm_detail_field", field_name)
        if not field:
            raise ApiError(404, f"No detail field named '{field_name}'.")
        if request.method == "DELETE":
            self.store.delete("csm_detail_field", field_name)
            return Response(status=204)
        if not isinstance(body, dict):
            raise ApiError(400, "The body must be a detail field {name, type, configuration}.")
        unknown = sorted(set(body) - {"name", "type", "configuration"})
        if unknown:
            raise ApiError(400, f"{unknown[0]}: not a detail field attribute; only the name (label) can change")
        current = self.detail_field_dto(field)
        for key in ("type", "configuration"):
            if key in body and not isinstance(body[key], dict):
                raise ApiError(400, f"{key}: must be an object")
        kind = body.get("type")
        if kind is not None and kind.get("name") != field["type"]:
            raise ApiError(400, "type.name: a detail field's type cannot change; only its name (label) can")
        if kind is not None and "options" in kind and list(kind.get("options") or []) != current["type"].get("options", []):
            raise ApiError(400, "type.options: a select field's options cannot change; only its name (label) can")
        if body.get("configuration") is not None and body["configuration"] != current["configuration"]:
            raise ApiError(400, "configuration: cannot change; only a detail field's name (label) can")
        if body.get("name") is not None and not isinstance(body["name"], str):
            raise ApiError(400, "name: must be a string")
        name = str(body.get("name") or field["name"]).strip() if "name" in body else field["name"]
        if not name:
            raise ApiError(400, "name: must not be blank")
        if name != field["name"]:
            self._rename_detail_field(field, name)
            field = self.store.get("csm_detail_field", name) or field
        return self.json(self.detail_field_dto(field))

    def _rename_detail_field(self, field: dict, name: str) -> None:
        """A detail field's new name (label), in its place among the fields; organizations' values follow."""
        fields = self.store.all("csm_detail_field")
        if any(f["name"].lower() == name.lower() and f["name"] != field["name"] for f in fields):
            raise ApiError(409, f"A detail field named '{name}' already exists.")
        with self.store.transaction():
            for other in fields:  # stored by name: rewrite them all to keep their order
                self.store.delete("csm_detail_field", other["name"])
            for other in fields:
                renamed = {**other, "name": name} if other["name"] == field["name"] else other
                self.store.put("csm_detail_field", renamed["name"], renamed)
            for org in self.store.all("organization"):
                details = org.get("details") or {}
                if field["name"] in details:
                    org["details"] = {name if k == field["name"] else k: v for k, v in details.items()}
                    self.store.put("organization", org["id"], org)

    def csm_profile(self, org: dict) -> dict:
        """An organization profile: id, name and its detail values."""
        names = [f["name"] for f in self.store.all("csm_detail_field")]
        details = org.get("details") or {}
        return {"id": org["id"], "name": org["name"],
                "details": [{"name": n, "values": list(details[n])} for n in names if n in details]}

    def on_csm_profile(self, request, body, cloud_id, org_id):
        """`GET /api/v1/organization/profile/{id}`."""
        self._csm(request, cloud_id)
        return self.json(self.csm_profile(self.organization(org_id)))

    def on_csm_profile_fetch(self, request, body, cloud_id):
        """`POST /api/v1/organization/profile/fetch` `{"organizationIds": [...]}`: at most 25 profiles;
        unknown ids are dropped silently (FACTS.md 5.6)."""
        self._csm(request, cloud_id)
        ids = (body or {}).get("organizationIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "organizationIds: must name at least one organization")
        if len(ids) > 25:
            raise ApiError(400, "organizationIds: at most 25 organizations per request")
        found = (self.store.get("organization", str(i)) for i in ids)
        return self.json({"results": [self.csm_profile(o) for o in found if o]})

    def on_csm_org_details(self, request, body, cloud_id, org_id):
        """`PUT /api/v1/organization/{id}/details?fieldName=...` `{"values": [...]}` (checked by type)."""
        self._csm(request, cloud_id)
        org = self.organization(org_id)
        name = request.args.get("fieldName") or ""
        field = self.store.get("csm_detail_field", name)
        if not field:
            raise ApiError(404, f"No detail field named '{name}'.")
        values = (body or {}).get("values") if isinstance(body, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ApiError(400, "values: must be a list of strings")
        problem = detail_value_problem(field, values)
        if problem:
            raise ApiError(400, f"values: {problem}")
        org.setdefault("details", {})[name] = values
        self.store.put("organization", org_id, org)
        return Response(status=204)

    # ----------------------------------------------------------------- internal SLA, calendars, queues
    def _refuse(self, errors: dict) -> None:
        raise ApiError(400, "", errors=errors)

    def _validate_metric(self, body: Any) -> dict:
        """The metric in the shape a real site takes (FACTS.md 6.3), else 400 naming the field:
        `{name, config: {definition: {start, pause, stop}, goals: [{jqlQuery, duration, calendarId,
        defaultGoal}]}}`; the old `{name, description, goals: [{jql, duration (minutes)}]}` is refused."""
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            self._refuse({"name": "An SLA name is required."})
        if "goals" in body or "description" in body:
            self._refuse({"config": "Unrecognized field: an SLA metric is {name, config: {definition, goals}}."})
        config = body.get("config")
        if not isinstance(config, dict):
            self._refuse({"config": "The SLA configuration (config) is required."})
        definition = config.get("definition")
        if not isinstance(definition, dict):
            self._refuse({"config.definition": "The SLA definition (start, pause, stop conditions) is required."})
        for part in ("start", "pause", "stop"):
            conditions = definition.get(part)
            if not isinstance(conditions, list):
                self._refuse({f"config.definition.{part}": f"The {part} conditions (a list) are required."})
            for condition in conditions:
                problem = sla.condition_problem(part, condition, STATUS_IDS.values())
                if problem:
                    self._refuse({f"config.definition.{part}": problem})
        if not definition["start"] or not definition["stop"]:
            self._refuse({"config.definition": "An SLA needs at least one start and one stop condition."})
        goals = config.get("goals")
        if not isinstance(goals, list) or not goals:
            self._refuse({"config.goals": "At least one goal is required."})
        calendars = {str(c["id"]) for c in self.store.all("calendar")}
        for n, goal in enumerate(goals):
            where = f"config.goals[{n}]"
            if not isinstance(goal, dict):
                self._refuse({where: "A goal is an object."})
            for name in ("jqlQuery", "duration", "calendarId", "defaultGoal"):
                if name not in goal:
                    self._refuse({f"{where}.{name}": f"{name} is required."})
            if not isinstance(goal["jqlQuery"], str):
                self._refuse({f"{where}.jqlQuery": "The goal's JQL is a string."})
            if not isinstance(goal["duration"], int) or isinstance(goal["duration"], bool) or goal["duration"] <= 0:
                self._refuse({f"{where}.duration": "The goal's duration is a positive number of milliseconds."})
            if str(goal["calendarId"]) not in calendars:
                self._refuse({f"{where}.calendarId": f"No calendar with id {goal['calendarId']}."})
            if not isinstance(goal["defaultGoal"], bool):
                self._refuse({f"{where}.defaultGoal": "defaultGoal is true or false."})
            if goal["defaultGoal"] and goal["jqlQuery"]:
                self._refuse({f"{where}.jqlQuery": "The default goal has no JQL (\"\")."})
            if not goal["defaultGoal"] and not goal["jqlQuery"].strip():
                self._refuse({f"{where}.jqlQuery": "A goal needs a JQL query; only the default goal (All remaining "
                                                   "issues) has none."})
            if goal["jqlQuery"]:
                try:
                    compile_jql(goal["jqlQuery"])
                except JqlError as exc:
                    self._refuse({f"{where}.jqlQuery": str(exc)})
        if sum(1 for g in goals if g["defaultGoal"]) > 1:
            self._refuse({"config.goals": "An SLA has at most one default goal."})
        if len(goals) > sla.GOAL_LIMIT:
            self._refuse({"config.goals": f"An SLA has at most {sla.GOAL_LIMIT} goals."})
        return body

    def _stored_metric(self, body: dict, metric_id: int, project_key: str) -> dict:
        """What a read shows: the body plus `id`, `customFieldId`, goal ids and `timeMetricId` (FACTS.md 6.3)."""
        config = body["config"]
        goals = [{**g, "id": str(metric_id * 100 + n), "timeMetricId": metric_id, "subGoals": []}
                 for n, g in enumerate(config["goals"], 1)]
        definition = {**config["definition"], "inconsistent": False}
        return {"id": metric_id, "name": body["name"].strip(), "projectKey": project_key,
                "customFieldId": 10100 + metric_id,
                "config": {**config, "definition": definition, "goals": goals,
                           "slaDisplayFormat": config.get("slaDisplayFormat") or "NEW_SLA_FORMAT"}}

    def _project_documents(self, kind: str, desk: dict) -> list[dict]:
        """The project's SLA metrics, calendars or queues (calendars: with the site's default one)."""
        keys = (desk["projectKey"], "") if kind == "calendar" else (desk["projectKey"],)
        return [d for d in self.store.all(kind) if d["projectKey"] in keys]

    def _project_document(self, kind: str, ident: Any, desk: dict, what: str) -> dict:
        """The project's SLA metric, calendar or queue `ident`, else 404."""
        found = self.store.get(kind, str(ident))
        if not found or found["projectKey"] != desk["projectKey"]:
            raise ApiError(404, f"{what} {ident} does not exist.")
        return found

    def _refuse_taken_name(self, kind: str, desk: dict, name: str, what: str, own: Any = None) -> None:
        """400 when another of the project's `kind` has `name`: names are unique per project (case-blind),
        on create and on a rename alike."""
        if any(d["name"].lower() == name.strip().lower() and d["id"] != own for d in self._project_documents(kind, desk)):
            self._refuse({"name": f"{what} named '{name}' already exists."})

    def on_sla_metrics(self, request, body, project_key):
        """Internal `GET|POST .../agent/{projectKey}/sla/metrics` (`{timeMetrics}`; names unique per project)."""
        desk = self.desk(project_key)
        if request.method == "GET":
            return self.json({"timeMetrics": self._project_documents("slametric", desk)})
        metric = self._validate_metric(body)
        self._refuse_taken_name("slametric", desk, metric["name"], "An SLA")
        metric_id = self.store.next_id("slametric")
        stored = self._stored_metric(metric, metric_id, desk["projectKey"])
        self.store.put("slametric", str(metric_id), stored)
        return self.json(stored, 201)

    def on_sla_metric(self, request, body, project_key, metric_id):
        """Internal `GET|PUT|DELETE .../sla/metrics/{id}`."""
        desk = self.desk(project_key)
        metric = self._project_document("slametric", metric_id, desk, "SLA metric")
        if request.method == "GET":
            return self.json(metric)
        if request.method == "DELETE":
            self.store.delete("slametric", str(metric_id))
            return Response(status=204)
        body = self._validate_metric(body)
        self._refuse_taken_name("slametric", desk, body["name"], "An SLA", own=metric["id"])
        updated = self._stored_metric(body, metric_id, desk["projectKey"])
        self.store.put("slametric", str(metric_id), updated)
        return self.json(updated)

    def _validate_calendar(self, body: Any) -> dict:
        """A calendar in the working-hours shape (FACTS.md 6.6), else 400 naming the field."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            self._refuse({"name": "A calendar name is required."})
        zone = body.get("timezoneId")
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            self._refuse({"timezoneId": f"'{zone}' is not a time zone id (e.g. Europe/Berlin)."})
        times = body.get("workingTimes")
        if not isinstance(times, list) or not times:
            self._refuse({"workingTimes": "A calendar needs working times."})
        for n, slot in enumerate(times):
            ok = isinstance(slot, dict) and str(slot.get("weekday")).lower() in sla.WEEKDAYS and all(
                isinstance(slot.get(k), int) and 0 <= slot[k] <= sla.DAY_MS for k in ("start", "end"))
            if not ok or slot["start"] >= slot["end"]:
                self._refuse({f"workingTimes[{n}]": "A working time is {weekday: monday..sunday, start, end} in ms "
                                                    "after midnight, start before end."})
        holidays = body.get("holidays", [])
        if not isinstance(holidays, list):
            self._refuse({"holidays": "Holidays are a list."})
        for n, holiday in enumerate(holidays):
            try:
                date.fromisoformat(str((holiday or {}).get("iso8601Date")))
            except ValueError:
                self._refuse({f"holidays[{n}].iso8601Date": "A holiday's date is yyyy-MM-dd."})
            if not str(holiday.get("name") or "").strip() or not isinstance(holiday.get("recurring", False), bool):
                self._refuse({f"holidays[{n}]": "A holiday is {name, iso8601Date, recurring}."})
        return body

    def _stored_calendar(self, body: dict, calendar_id: int, project_key: str) -> dict:
        return {"id": calendar_id, "name": body["name"].strip(), "timezoneId": body["timezoneId"],
                "workingTimes": [{"weekday": str(w["weekday"]).lower(), "start": w["start"], "end": w["end"]}
                                 for w in body["workingTimes"]],
                "holidays": [{"name": h["name"], "iso8601Date": h["iso8601Date"], "recurring": bool(h.get("recurring"))}
                             for h in body.get("holidays") or []],
                "projectKey": project_key, "canUpdate": True, "canDelete": True,
                "context": {"projectKey": project_key}}

    def on_calendar_dialog(self, request, body, project_key):
        """Internal `GET /rest/workinghours/1/internal/dialog/{projectKey}`: `{calendars}` of the project
        (and the default 24/7 calendar every project has)."""
        desk = self.desk(project_key)
        return self.json({"calendars": self._project_documents("calendar", desk)})

    def on_calendar_create(self, request, body, project_key):
        """`POST /rest/workinghours/1/api/calendar/{projectKey}` (names unique per project)."""
        desk = self.desk(project_key)
        calendar = self._validate_calendar(body)
        self._refuse_taken_name("calendar", desk, calendar["name"], "A calendar")
        calendar_id = self.store.next_id("calendar")
        stored = self._stored_calendar(calendar, calendar_id, desk["projectKey"])
        self.store.put("calendar", str(calendar_id), stored)
        return self.json(stored, 201)

    def on_calendar_update(self, request, body, project_key, calendar_id):
        """`PUT /rest/workinghours/1/api/calendar/{projectKey}/{id}`."""
        desk = self.desk(project_key)
        existing = self._project_document("calendar", calendar_id, desk, "Calendar")
        calendar = self._validate_calendar(body)
        self._refuse_taken_name("calendar", desk, calendar["name"], "A calendar", own=existing["id"])
        stored = self._stored_calendar(calendar, calendar_id, desk["projectKey"])
        self.store.put("calendar", str(calendar_id), stored)
        return self.json(stored)

    def on_calendar_delete(self, request, body, calendar_id):
        """`DELETE /rest/workinghours/1/api/calendar/{id}`: refused while a goal uses it."""
        existing = self.store.get("calendar", str(calendar_id))
        if not existing or not existing["projectKey"]:
            raise ApiError(404, f"Calendar {calendar_id} does not exist.")
        used = [m["name"] for m in self.store.all("slametric")
                if any(str(g.get("calendarId")) == str(calendar_id) for g in m["config"]["goals"])]
        if used:
            self._refuse({"calendar": f"The calendar is used by SLA '{used[0]}'."})
        self.store.delete("calendar", str(calendar_id))
        return Response(status=204)

    def _validate_queue(self, body: Any, project_key: str) -> dict:
        """A queue body (FACTS.md 7.2: `{name, jql, columns}`; the server prepends `project = KEY`)."""
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            self._refuse({"name": "A queue name is required."})
        if not isinstance(body.get("jql"), str) or not body["jql"].strip():
            self._refuse({"jql": "A queue needs a JQL query."})
        columns = body.get("columns")
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) and c for c in columns):
            self._refuse({"columns": "A queue needs its columns (field ids)."})
        unknown = [c for c in columns if c not in QUEUE_COLUMNS]
        if unknown:
            self._refuse({"columns": f"Unknown column '{unknown[0]}'."})
        try:
            compile_jql(body["jql"])
        except JqlError as exc:
            self._refuse({"jql": str(exc)})
        return body

    def _stored_queue(self, body: dict, queue_id: int, desk: dict) -> dict:
        return {"id": str(queue_id), "name": body["name"].strip(), "serviceDeskId": desk["id"],
                "projectKey": desk["projectKey"], "jql": f"project = {desk['projectKey']} AND {body['jql'].strip()}",
                "columns": list(body["columns"])}

    def on_queues_internal(self, request, body, project_key):
        """Internal `GET|POST /rest/servicedesk/1/servicedesk/{projectKey}/queues` (names unique per
        project). There is no delete (FACTS.md 7.3, the register's reading: REST-made queues stay)."""
        desk = self.desk(project_key)
        if request.method == "GET":
            return self.json(self._project_documents("queue", desk))
        queue = self._validate_queue(body, desk["projectKey"])
        self._refuse_taken_name("queue", desk, queue["name"], "A queue")
        queue_id = self.store.next_id("queue")
        stored = self._stored_queue(queue, queue_id, desk)
        self.store.put("queue", str(queue_id), stored)
        return self.json(stored, 201)

    def on_queue_internal(self, request, body, project_key, queue_id):
        """Internal `PUT /rest/servicedesk/1/servicedesk/{projectKey}/queues/{id}`."""
        desk = self.desk(project_key)
        existing = self._project_document("queue", queue_id, desk, "Queue")
        queue = self._validate_queue(body, desk["projectKey"])
        self._refuse_taken_name("queue", desk, queue["name"], "A queue", own=existing["id"])
        stored = self._stored_queue(queue, queue_id, desk)
        self.store.put("queue", str(queue_id), stored)
        return self.json(stored)

    def queue(self, desk: dict, queue_id: str) -> dict:
        """A queue of `desk`, or 404."""
        found = self.store.get("queue", str(queue_id))
        if not found or found["projectKey"] != desk["projectKey"]:
            raise ApiError(404, f"Queue '{queue_id}' does not exist in service desk {desk['id']}.",
                           i18n_key="sd.queue.error.not.found")
        return found

    def queue_issues(self, queue: dict, requests: list[dict] | None = None) -> list[dict]:
        """The requests the queue's JQL finds now (in its ORDER BY, else newest first); `requests`: all
        of them with their type names, when the caller has read them already."""
        jql = queue["jql"]
        matches, sort_key = compile_jql(jql, now=self.clock_now()), order_key(jql)
        if requests is None:
            requests = self.with_type_names(self.store.all("request"))
        found = [i for i in requests if matches(i)]
        found.sort(key=sort_key or (lambda i: -float(i["id"])))
        return found

    def queue_dto(self, request, queue: dict, requests: list[dict] | None = None) -> dict:
        """`QueueDTO` (`issueCount` with `includeCount=true`; `requests` as `queue_issues` takes them)."""
        dto = {"id": queue["id"], "name": queue["name"], "jql": queue["jql"], "fields": list(queue["columns"]),
               "_links": {"self": self.link(f"{SD}/servicedesk/{queue['serviceDeskId']}/queue/{queue['id']}")}}
        if (request.args.get("includeCount") or "").lower() == "true":
            dto["issueCount"] = len(self.queue_issues(queue, requests))
        return dto

    def on_queue_list(self, request, body, desk_id):
        """`GET /servicedesk/{id}/queue[?includeCount=true]` (read-only: `Allow: GET`, FACTS.md 7.1)."""
        desk = self.desk(desk_id)
        queues = self._project_documents("queue", desk)
        counted = (request.args.get("includeCount") or "").lower() == "true"

        def load(start: int, limit: int) -> list[dict]:  # the page's queues, counted over one read of the requests
            shown = queues[start:start + limit]
            requests = self.with_type_names(self.store.all("request")) if counted and shown else None
            return [self.queue_dto(request, q, requests) for q in shown]
        return self.json(self.page(request, len(queues), f"{SD}/servicedesk/{desk['id']}/queue", load))

    def on_queue_get(self, request, body, desk_id, queue_id):
        """`GET /servicedesk/{id}/queue/{queueId}`."""
        desk = self.desk(desk_id)
        return self.json(self.queue_dto(request, self.queue(desk, queue_id)))

    def on_queue_issues(self, request, body, desk_id, queue_id):
        """`GET /servicedesk/{id}/queue/{queueId}/issue`: the queue's requests as `IssueBean`s, by its JQL."""
        desk = self.desk(desk_id)
        queue = self.queue(desk, queue_id)
        beans = [self.issue_bean(i, ["*navigable"], None) for i in self.queue_issues(queue)]
        return self.json(self.page(request, beans, f"{SD}/servicedesk/{desk['id']}/queue/{queue['id']}/issue"))

    def on_statuses(self, request, body):
        """`GET /rest/api/3/status`: the workflow's statuses (SLA status conditions name them by id)."""
        return self.json([{"id": ident, "name": name, "self": self.link(f"{API}/status/{ident}"),
                           "statusCategory": {"key": STATUS_CATEGORIES[name]}} for name, ident in STATUS_IDS.items()])


def _duration(millis: int) -> dict:
    """`DurationDTO`: millis and a friendly `h m` text."""
    sign = "-" if millis < 0 else ""
    minutes = abs(millis) // 60000
    return {"millis": millis, "friendly": f"{sign}{minutes // 60}h {minutes % 60}m"}


def ensure_defaults(store: Store, config: SandboxConfig) -> None:
    """The one service project (`SUP` by default) every sandbox starts with."""
    if store.count("servicedesk"):
        return
    desk_id = str(store.next_id("servicedesk"))
    store.put("servicedesk", desk_id, {"id": desk_id, "projectId": "10000", "projectKey": config.project_key,
                                       "projectName": config.project_name, "projectTypeKey": "service_desk"})
    calendar_id = store.next_id("calendar")
    store.put("calendar", str(calendar_id), {
        "id": calendar_id, "name": DEFAULT_CALENDAR, "timezoneId": "UTC", "projectKey": "", "canUpdate": False,
        "canDelete": False, "holidays": [], "context": {},
        "workingTimes": [{"weekday": day, "start": 0, "end": sla.DAY_MS} for day in sla.WEEKDAYS]})


def seed_organizations(store: Store, count: int, rng: random.Random | None = None) -> list[str]:
    """Create `count` sample organizations with a contact customer and contract property."""
    rng = rng or random.Random(7)
    ids = []
    tiers = ("key", "regular", "new")
    today = datetime.now(timezone.utc).date()
    for n in range(1, count + 1):
        org_id = str(store.next_id("organization"))
        number = store.next_id("customer")
        contact = {"accountId": f"qm:sandbox:{number:06d}", "emailAddress": f"contact{n}@customer{n}.example",
                   "displayName": f"Contact {n}"}
        store.put("customer", contact["accountId"], contact)
        end = today + timedelta(days=rng.randint(-30, 365))
        store.put("organization", org_id, {
            "id": org_id, "name": f"Sample Customer {n:03d}", "uuid": store.new_uuid(), "created": store.stamp(),
            "users": [contact["accountId"]],
            "properties": {"deskbook.contract": {"contract_end_date": end.isoformat(), "customer_tier": rng.choice(tiers),
                                                 "locale": rng.choice(("zh-CN", "en")),
                                                 "contact_email": contact["emailAddress"]}},
        })
        ids.append(org_id)
    attach_organizations(store, ids)
    return ids


def desk_customer_kind(desk_id: str) -> str:
    """The store kind holding a desk's customers added one by one (documents `{"id": account id}`)."""
    return f"desk_customer.{desk_id}"


def desk_org_kind(desk_id: str) -> str:
    """The store kind holding a desk's organization memberships (documents `{"id": org id}`)."""
    return f"desk_org.{desk_id}"


def attach_organizations(store: Store, org_ids: list[str]) -> None:
    """Add new organizations to the sandbox's (first) service desk, as `POST /servicedesk/{id}/organization`
    does (in one transaction, for seeding large sandboxes)."""
    desk = store.all("servicedesk")[0]
    store.put_many(desk_org_kind(desk["id"]), [(str(o), {"id": str(o)}) for o in org_ids])


def seed_first_services(store: Store, organization_ids: list[str], today: date, *,
                        days_ago: tuple[int, ...] = FIRST_SERVICE_DAYS_AGO) -> dict[str, date]:
    """Give each organization (in id order) its first service: one resolved request raised by its
    contact, with the Organizations field set and resolved `days_ago[n]` days before `today`
    (cycling, noon UTC, so the `resolutiondate` day is the same wherever it is read); returns
    organization id -> that day. The requests have no request type (none exists before `apply`). They
    are stored together (`Store.put_many`), so JQL search has them at once: they are days old."""
    desk = store.all("servicedesk")[0]
    made: list[tuple[str, dict]] = []

    def resolved_request(org_id: str, org: dict, day: date) -> None:
        key = f"{desk['projectKey']}-{store.next_id('issue_number')}"
        made.append((key, {
            "id": str(store.next_id("request")), "key": key, "summary": f"First service for {org['name']}",
            "description": "Sample first service of a new customer, resolved.", "labels": [],
            "requestTypeId": "", "serviceDeskId": desk["id"], "projectKey": desk["projectKey"],
            "projectId": desk["projectId"], "reporter": (org.get("users") or [ADMIN_ACCOUNT_ID])[0],
            "status": "Resolved", "priority": "Medium", "created": f"{day - timedelta(days=1)}T12:00:00.000+0000",
            "resolutiondate": f"{day}T12:00:00.000+0000", "properties": {}, "comments": [], "participants": [],
            "organizations": [org_id]}))

    served = kit_seed_first_services((str(i) for i in organization_ids), today, days_ago,
                                     find=lambda org_id: store.get("organization", org_id), create=resolved_request)
    store.put_many("request", made)
    return served

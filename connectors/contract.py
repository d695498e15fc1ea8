"""Check HTTP requests (and responses) against a vendor's OpenAPI 3 contract.

`OpenAPIContract` loads one or more OpenAPI 3.0 files (JSON or YAML) and answers:

- `match(method, path)`: the operation a request addresses, or None. Paths are matched against
  the spec's templates (`{param}` is one segment); a trailing `.json` (Zendesk clients send
  `/api/v2/macros.json`, the spec says `/api/v2/macros`) and a trailing `/` are ignored; when
  several templates match, the one with literal segments earliest wins
  (`/api/v2/macros/active` over `/api/v2/macros/{macro_id}`).
- `check_request(method, path, query, json_body) -> list[str]`: problems, empty when the request
  is one the vendor documents: an operation exists, and a JSON body validates against the
  operation's `application/json` request schema when the spec has one.
- `check_response(method, path, status, json_body) -> list[str]`: the body against the response
  schema the spec gives for that status (exact code, then `2XX`-style, then `default`).

A contract is itself a `request_checker(method, path, query, json_body) -> list[str]` callable,
the signature the sandboxes take. `zendesk_contract(shared_dir)` and `jsm_contract(shared_dir)`
build (once per process) the contracts for `../shared`, including the allow-list of endpoints
the vendor documents outside these OpenAPI files (`JSM_ALLOWED_ENDPOINTS`, each with its doc URL).

Schemas are validated with `openapi_schema_validator.OAS30Validator` (jsonschema with OpenAPI
3.0's `nullable`, `readOnly`/`writeOnly`, draft-4 `exclusiveMinimum`) and `$ref`s resolved through
a `referencing` registry holding every loaded document. openapi-core was not used: it wants the
exact server paths (no `.json` alias), one document per spec object and no allow-list, and its
path finder is slower on the 1.3 MB Zendesk file than this template index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

from deskbook.errors import DeskbookError

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

#: Paths of the sandboxes' own control API (request log, fault injection): not a vendor endpoint.
SANDBOX_CONTROL_PREFIX = "/sandbox/"

#: At most this many schema errors are reported per body (the first ones by location).
MAX_ERRORS_PER_BODY = 5


@dataclass(frozen=True)
class AllowedEndpoint:
    """An endpoint the vendor documents outside the OpenAPI files: accepted without a schema check.

    `template` uses `{param}` for one path segment; `method` is an HTTP method or `*`.
    """

    method: str
    template: str
    doc_url: str
    reason: str


@dataclass(frozen=True)
class Operation:
    """One method+path of a loaded spec, with where it lives (for `$ref` resolution)."""

    method: str  # upper case
    template: str  # exactly as written in the spec
    source: str  # file name the operation comes from
    definition: Mapping[str, Any] = field(repr=False, compare=False)
    document_uri: str = field(repr=False, default="")
    pointer: str = field(repr=False, default="")  # JSON pointer of the operation object

    @property
    def operation_id(self) -> str:
        """The spec's operationId, or `METHOD template` when it has none."""
        return str(self.definition.get("operationId") or f"{self.method} {self.template}")

    def request_schema_pointer(self) -> str | None:
        """JSON pointer of the `application/json` request-body schema, or None when there is none."""
        content = (self.definition.get("requestBody") or {}).get("content") or {}
        media = _json_media_type(content)
        if media is None or "schema" not in content[media]:
            return None
        return f"{self.pointer}/requestBody/content/{_escape(media)}/schema"

    def response_schema_pointer(self, status: int) -> str | None:
        """JSON pointer of the JSON response schema for `status`, or None when the spec gives none."""
        responses = self.definition.get("responses") or {}  # keys are strings (YAML is loaded via JSON)
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if key in responses:
                content = (responses[key] or {}).get("content") or {}
                media = _json_media_type(content)
                if media is None or "schema" not in content[media]:
                    return None
                return f"{self.pointer}/responses/{_escape(key)}/content/{_escape(media)}/schema"
        return None


def _json_media_type(content: Mapping[str, Any]) -> str | None:
    """The JSON media type key of an OpenAPI `content` map (`application/json`, `...+json`)."""
    for media in content:
        base = media.split(";")[0].strip().lower()
        if base == "application/json" or base.endswith("+json"):
            return media
    return None


def _escape(token: str) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def normalize_path(path: str) -> str:
    """A request path reduced to what templates are matched on: no query, `.json` or trailing `/`."""
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if path.endswith(".json"):
        path = path[: -len(".json")]
    return path or "/"


class _Template:
    """A compiled path template: per-segment regexes and a rank (literal segments sort first)."""

    __slots__ = ("template", "segments", "rank")

    def __init__(self, template: str):
        self.template = template
        parts = normalize_path(template).strip("/").split("/")
        self.segments: list[re.Pattern | str] = []
        rank = []
        for part in parts:
            if "{" in part:
                pieces = re.split(r"(\{[^}]+\})", part)
                self.segments.append(re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in pieces) + r"\Z"))
                rank.append(1)
            else:
                self.segments.append(part)
                rank.append(0)
        self.rank = tuple(rank)

    def matches(self, parts: Sequence[str]) -> bool:
        """True when the request's path segments fit this template."""
        if len(parts) != len(self.segments):
            return False
        for part, segment in zip(parts, self.segments, strict=False):
            if isinstance(segment, str):
                if part != segment:
                    return False
            elif not segment.match(part):
                return False
        return True


def _best(candidates: Iterable[tuple[_Template, Any]], parts: Sequence[str]) -> tuple[_Template, Any] | None:
    """The matching candidate with the most literal prefix, or None."""
    matching = [c for c in candidates if c[0].matches(parts)]
    return min(matching, key=lambda c: c[0].rank) if matching else None


# ----------------------------------------------------------------------------- tolerances


@dataclass(frozen=True)
class Tolerance:
    """A documented disagreement between a vendor's spec and what the vendor really sends or accepts.

    `applies_to` is "request" or "response"; `methods` limits it (empty: any); `accepts(error)`
    says whether one jsonschema error is this disagreement. `evidence` names where it was seen.
    """

    name: str
    applies_to: str
    reason: str
    evidence: str
    methods: tuple[str, ...] = ()
    accepts: Callable[[Any], bool] = field(repr=False, compare=False, default=lambda error: False)


def _is_undeclared_null(error: Any) -> bool:
    return error.validator in ("type", "enum") and error.instance is None


def _is_missing_required_inside(error: Any) -> bool:
    # below the wrapper object (`macro`, `trigger`...): a body without the wrapper is still wrong
    return error.validator == "required" and len(error.absolute_path) >= 1


def _is_job_result_without_index(error: Any) -> bool:
    instance = error.instance
    return (error.validator == "required" and isinstance(instance, dict) and "index" not in instance
            and "'index' is a required property" == error.message and "id" in instance and "status" in instance)


def _is_deleted_ticket_status(error: Any) -> bool:
    return (error.validator == "enum" and error.instance == "deleted" and bool(error.path)
            and error.path[-1] == "status")


#: Known, narrow disagreements between Zendesk's OpenAPI file and real Zendesk. Each one was seen in
#: `../shared/zendesk/recordings/` (real 2xx exchanges); `tests/test_contract.py` checks they still do.
ZENDESK_TOLERANCES: tuple[Tolerance, ...] = (
    Tolerance(
        "undeclared-null", "response",
        "Zendesk answers null for many properties its spec types without `nullable: true` "
        "(ticket assignee_id, user email, view description, ticket_field agent_description...)",
        "recordings TestTicketCreateUpdateDelete*, TestViews*, TestTicketFieldCreateUpdateDelete*",
        accepts=_is_undeclared_null),
    Tolerance(
        "job-result-without-index", "response",
        "job_status results of create_many are `{id, status: Created}` while the spec's "
        "CreateResourceResult requires `index`",
        "recordings TestUserCreateUpdateDelete.test_multiple_object_creation*, job_statuses polls",
        accepts=_is_job_result_without_index),
    Tolerance(
        "deleted-ticket-status", "response",
        "incremental ticket exports list deleted tickets with status `deleted` (Zendesk docs: incremental "
        "exports), which the spec's ticket status enum lacks",
        "recordings TicketsIncrementalTest.test_get_values, TestIncrementalObjectUpdate*",
        methods=("GET",), accepts=_is_deleted_ticket_status),
    Tolerance(
        "partial-update", "request",
        "update endpoints change only the properties sent (Zendesk docs: 'Update Macro' etc.), but the "
        "spec reuses the create schema with its `required` list for PUT bodies",
        "recordings TestMacrosCreateUpdateDelete.test_single_object_update (PUT {macro: {id, title}} -> 200)",
        methods=("PUT", "PATCH"), accepts=_is_missing_required_inside),
)


def _tolerated(error: Any, tolerances: Sequence[Tolerance]) -> bool:
    """True when a schema error is an accepted disagreement (anyOf/oneOf: some branch fails only on those)."""
    if any(t.accepts(error) for t in tolerances):
        return True
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        branch_count = len(error.validator_value) if isinstance(error.validator_value, list) else len(branches)
        if len(branches) < branch_count:
            return False  # some branch passed outright: this is "valid under more than one" for oneOf
        return any(all(_tolerated(sub, tolerances) for sub in subs) for subs in branches.values())
    return False


# ----------------------------------------------------------------------------- loading


@lru_cache(maxsize=16)
def _load_document_cached(path: str, mtime_ns: int) -> dict:
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            # through JSON so YAML's integer keys (`200:` response codes) become the strings JSON has
            document = json.loads(json.dumps(yaml.safe_load(text), default=str))
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DeskbookError(f"cannot parse the OpenAPI file: {exc}", where=str(file),
                            hint="it must be OpenAPI 3 as JSON or YAML") from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise DeskbookError("not an OpenAPI 3 document (no `openapi: 3.x` at the top)", where=str(file),
                            hint="pass the vendor's OpenAPI 3 spec file")
    if not isinstance(document.get("paths"), dict):
        raise DeskbookError("the OpenAPI document has no `paths` map", where=str(file))
    return document


def load_document(path: str | Path) -> dict:
    """Parse an OpenAPI 3 file (JSON, or YAML for other suffixes); cached per file and mtime.

    Raises DeskbookError naming the file when it is missing or is not OpenAPI 3.
    """
    file = Path(path).resolve()
    if not file.is_file():
        raise DeskbookError("OpenAPI file not found", where=str(file),
                            hint="the vendor specs live in ../shared (or set DESKBOOK_SHARED)")
    return _load_document_cached(str(file), file.stat().st_mtime_ns)


# ----------------------------------------------------------------------------- the contract


class OpenAPIContract:
    """Operations of one or more OpenAPI documents, plus an allow-list; checks requests and responses.

    Documents are given as (name, document) pairs; when two define the same method and template
    the earlier one wins. `path_aliases` rewrite request path prefixes before matching (e.g. Jira's
    `/rest/api/2/` onto the v3 spec, same resources). Call the contract itself as a
    `request_checker(method, path, query, json_body)`.
    """

    def __init__(
        self,
        documents: Sequence[tuple[str, dict]],
        *,
        allowed: Sequence[AllowedEndpoint] = (),
        path_aliases: Sequence[tuple[str, str]] = (),
        covered_prefixes: Sequence[str] = (),
        tolerances: Sequence[Tolerance] = (),
    ):
        self.sources = [name for name, _ in documents]
        self.allowed = tuple(allowed)
        #: Documented spec-versus-reality disagreements ignored unless a check is `strict`.
        self.tolerances = tuple(tolerances)
        self.path_aliases = tuple(path_aliases)
        #: Only paths under these prefixes are judged (empty: every path). Lets a combined checker
        #: ignore traffic for another desk.
        self.covered_prefixes = tuple(covered_prefixes)
        registry = Registry()
        self._by_length: dict[int, list[tuple[_Template, dict[str, Operation]]]] = {}
        seen: dict[str, dict[str, Operation]] = {}
        for index, (name, document) in enumerate(documents):
            uri = f"urn:deskbook:openapi:{index}:{_escape(name)}"
            registry = registry.with_resource(uri, DRAFT4.create_resource(document))
            for template, item in document.get("paths", {}).items():
                if not isinstance(item, dict):
                    continue
                key = normalize_path(template)
                methods = seen.get(key)
                if methods is None:
                    methods = seen[key] = {}
                    compiled = _Template(template)
                    self._by_length.setdefault(len(compiled.segments), []).append((compiled, methods))
                for method, definition in item.items():
                    if method.lower() in HTTP_METHODS and method.upper() not in methods and isinstance(definition, dict):
                        methods[method.upper()] = Operation(
                            method=method.upper(), template=template, source=name, definition=definition,
                            document_uri=uri, pointer=f"/paths/{_escape(template)}/{method}")
        self._registry = registry
        self._allowed_index = [(_Template(a.template), a) for a in self.allowed]
        self._validators: dict[str, OAS30Validator] = {}

    # -- construction -------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, *more: str | Path, **options: Any) -> "OpenAPIContract":
        """A contract over one OpenAPI file (JSON or YAML), merged with `more` files in order."""
        files = [Path(path), *map(Path, more)]
        return cls([(file.name, load_document(file)) for file in files], **options)

    # -- matching -----------------------------------------------------------

    def _parts(self, path: str) -> list[str]:
        path = normalize_path(path)
        for prefix, replacement in self.path_aliases:
            if path.startswith(prefix):
                path = replacement + path[len(prefix):]
                break
        return path.strip("/").split("/")

    def covers(self, path: str) -> bool:
        """True when this contract judges requests to `path` (see `covered_prefixes`)."""
        if path.startswith(SANDBOX_CONTROL_PREFIX):
            return False
        return not self.covered_prefixes or path.startswith(self.covered_prefixes)

    def _methods_for(self, path: str) -> tuple[_Template, dict[str, Operation]] | None:
        parts = self._parts(path)
        return _best(self._by_length.get(len(parts), ()), parts)

    def match(self, method: str, path: str) -> Operation | None:
        """The spec operation for `method path`, or None when the spec has no such method+path.

        When the best-matching template lacks the method, a less literal template that has it is
        used (e.g. a DELETE on `/x/{id}` while `/x/count` only has GET).
        """
        parts = self._parts(path)
        candidates = [c for c in self._by_length.get(len(parts), ()) if method.upper() in c[1]]
        best = _best(candidates, parts)
        return best[1][method.upper()] if best else None

    def allowed_endpoint(self, method: str, path: str) -> AllowedEndpoint | None:
        """The allow-list entry (documented outside the spec) covering `method path`, if any."""
        parts = normalize_path(path).strip("/").split("/")
        candidates = [c for c in self._allowed_index if c[1].method in ("*", method.upper())]
        best = _best(candidates, parts)
        return best[1] if best else None

    # -- checks -------------------------------------------------------------

    def _validator(self, uri: str, pointer: str) -> OAS30Validator:
        key = f"{uri}#{pointer}"
        validator = self._validators.get(key)
        if validator is None:
            validator = self._validators[key] = OAS30Validator({"$ref": key}, registry=self._registry)
        return validator

    def _schema_problems(self, what: str, operation: Operation, pointer: str, body: Any, strict: bool) -> list[str]:
        validator = self._validator(operation.document_uri, pointer)
        errors = list(validator.iter_errors(body))
        if errors and not strict:
            direction = what.split()[0]
            tolerances = [t for t in self.tolerances
                          if t.applies_to == direction and (not t.methods or operation.method in t.methods)]
            errors = [e for e in errors if not _tolerated(e, tolerances)]
        errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
        problems = [f"{what} at {error.json_path}: {error.message} ({operation.operation_id} in {operation.source})"
                    for error in errors[:MAX_ERRORS_PER_BODY]]
        if len(errors) > MAX_ERRORS_PER_BODY:
            problems.append(f"{what}: {len(errors) - MAX_ERRORS_PER_BODY} more schema errors")
        return problems

    def check_request(self, method: str, path: str, query: Any = None, json_body: Any = None, *,
                      strict: bool = False) -> list[str]:
        """Problems with a request: no such operation, or a JSON body that fails the request schema.

        `query` is accepted for the request_checker signature (dict, pairs or string) and not
        judged: the specs disagree with real clients on optional parameters too often to be useful.
        Paths outside `covered_prefixes`, the sandbox control API and allow-listed endpoints pass.
        `strict` also reports the contract's documented `tolerances`.
        """
        if not self.covers(path):
            return []
        operation = self.match(method, path)
        if operation is None:
            if self.allowed_endpoint(method, path) is not None:
                return []
            found = self._methods_for(path)
            if found is None:
                return [f"{method.upper()} {path}: no path in {', '.join(self.sources)} matches (if the vendor "
                        "documents it elsewhere, add it to the allow-list in deskbook/connectors/contract.py "
                        "with the doc URL)"]
            template, methods = found
            return [f"{method.upper()} {path}: {template.template} has no {method.upper()} in the spec "
                    f"(it has {', '.join(sorted(methods)) or 'no operations'})"]
        pointer = operation.request_schema_pointer()
        if pointer is None or json_body is None:
            return []
        return [f"{method.upper()} {path}: {p}" for p in self._schema_problems("request body", operation, pointer, json_body, strict)]

    def check_response(self, method: str, path: str, status: int, json_body: Any, *, strict: bool = False) -> list[str]:
        """Problems with a response body against the spec's schema for that status (none: no schema).

        An unknown operation is a problem too (allow-listed endpoints pass unchecked). `strict` also
        reports the contract's documented `tolerances` (e.g. nulls the spec does not declare).
        """
        if not self.covers(path):
            return []
        operation = self.match(method, path)
        if operation is None:
            if self.allowed_endpoint(method, path) is not None:
                return []
            return [f"{method.upper()} {path}: no operation in {', '.join(self.sources)}"]
        pointer = operation.response_schema_pointer(int(status))
        if pointer is None or json_body is None:
            return []
        return [f"{method.upper()} {path} -> {status}: {p}"
                for p in self._schema_problems("response body", operation, pointer, json_body, strict)]

    __call__ = check_request

    def operations(self) -> list[Operation]:
        """Every operation of the contract (for coverage reports)."""
        return [op for entries in self._by_length.values() for _, methods in entries for op in methods.values()]


# ----------------------------------------------------------------------------- vendors

ZENDESK_SPEC_FILES = ("zendesk/spec/support-api.oas.json", "zendesk/spec/supplement-schedules.yml")
JSM_SPEC_FILES = ("jsm/servicedesk-openapi.json", "jsm/jira-platform-openapi.json")

AUTOMATION_DOC = "https://developer.atlassian.com/cloud/automation/rest/api-group-rule-management/"
#: The Automation REST API's manual rules (search, invoke).
MANUAL_RULES_DOC = "https://developer.atlassian.com/cloud/automation/rest/api-group-manual-rules"
SLA_DOC = ("https://support.atlassian.com/jira-service-management-cloud/docs/create-service-level-agreements-slas/ "
           "(no public REST API; JSM's SLA admin page calls these internal endpoints)")

#: Where the Automation REST API lives: on api.atlassian.com and on the site gateway.
AUTOMATION_BASES = ("/automation/public/jira/{cloudId}/rest/v1", "/gateway/api/automation/public/jira/{cloudId}/rest/v1")

#: JSM endpoints documented by Atlassian outside `../shared/jsm/`: accepted without a schema.
#: Automation rule management and manual rules live under each of `AUTOMATION_BASES`.
JSM_ALLOWED_ENDPOINTS: tuple[AllowedEndpoint, ...] = tuple(
    AllowedEndpoint(method, base + suffix, AUTOMATION_DOC, reason)
    for base in AUTOMATION_BASES
    for method, suffix, reason in (
        ("GET", "/rule/summary", "list rule summaries (cursor pages)"),
        ("POST", "/rule/summary", "search rule summaries with filters (cursor pages)"),
        ("POST", "/rule", "create a rule"),
        ("GET", "/rule/{ruleUuid}", "get a rule"),
        ("PUT", "/rule/{ruleUuid}", "update a rule"),
        ("PUT", "/rule/{ruleUuid}/state", "enable or disable a rule"),
        ("DELETE", "/rule/{ruleUuid}", "delete a disabled rule (not in the 2025 spec; later clients call it, "
                                       "FACTS.md 2.12: on 404/405 deskbook disables and renames instead)"),
    )
) + tuple(
    AllowedEndpoint("POST", base + "/rule/manual/{ruleId}/invocation", MANUAL_RULES_DOC,
                    "invoke a manual rule on issues (what an agent's click on a macro-like rule does)")
    for base in AUTOMATION_BASES
) + tuple(
    AllowedEndpoint(method, template, SLA_DOC, reason)
    for method, template, reason in (
        ("GET", "/rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics", "list SLA metrics (internal)"),
        ("POST", "/rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics", "create an SLA metric (internal)"),
        ("GET", "/rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics/{metricId}", "get an SLA metric (internal)"),
        ("PUT", "/rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics/{metricId}", "update an SLA metric (internal)"),
        ("DELETE", "/rest/servicedesk/1/servicedesk/agent/{projectKey}/sla/metrics/{metricId}", "delete an SLA metric (internal)"),
    )
)

CALENDAR_DOC = ("https://support.atlassian.com/jira-service-management-cloud/docs/set-up-sla-calendars/ "
                "(no public REST API; the calendar admin page calls these; FACTS.md 6.5)")
QUEUE_DOC = ("https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-servicedesk/ (queues are "
             "read-only there; the queue admin page creates and edits through these, FACTS.md 7.2)")
JSM_ALLOWED_ENDPOINTS += tuple(
    AllowedEndpoint(method, template, doc, reason)
    for method, template, doc, reason in (
        ("GET", "/rest/workinghours/1/internal/dialog/{projectKey}", CALENDAR_DOC, "list a project's calendars (internal)"),
        ("POST", "/rest/workinghours/1/api/calendar/{projectKey}", CALENDAR_DOC, "create a calendar (internal)"),
        ("PUT", "/rest/workinghours/1/api/calendar/{projectKey}/{calendarId}", CALENDAR_DOC, "update a calendar (internal)"),
        ("DELETE", "/rest/workinghours/1/api/calendar/{calendarId}", CALENDAR_DOC, "delete a calendar (internal)"),
        ("GET", "/rest/servicedesk/1/servicedesk/{projectKey}/queues", QUEUE_DOC, "list a project's queues (internal)"),
        ("POST", "/rest/servicedesk/1/servicedesk/{projectKey}/queues", QUEUE_DOC, "create a queue (internal)"),
        ("PUT", "/rest/servicedesk/1/servicedesk/{projectKey}/queues/{queueId}", QUEUE_DOC, "update a queue (internal)"),
        ("PUT", "/rest/servicedesk/1/servicedesk/{projectKey}/queues", QUEUE_DOC,
         "delete queues with {deleted: [ids]} (salto's reading, disputed: FACTS.md 7.3; on refusal deskbook retires "
         "the queue instead)"),
    )
)

CSM_DOC = "https://developer.atlassian.com/cloud/customer-service-management/rest/v1/"
JSM_ALLOWED_ENDPOINTS += tuple(
    AllowedEndpoint(method, "/jsm/csm/cloudid/{cloudId}/api/v1" + suffix, CSM_DOC, reason)
    for method, suffix, reason in (
        ("GET", "/organization/details", "list organization detail fields"),
        ("POST", "/organization/details", "create an organization detail field"),
        ("PUT", "/organization/{organizationId}/details", "set an organization's detail field value"),
        ("POST", "/organization/profile/fetch", "read up to 25 organization profiles with their details"),
        ("GET", "/organization/profile/{organizationId}", "read one organization profile"),
    )
)

#: Zendesk endpoints documented outside the OpenAPI file and its schedules supplement: none yet.
ZENDESK_ALLOWED_ENDPOINTS: tuple[AllowedEndpoint, ...] = ()


def _shared_files(shared_dir: str | Path, names: Iterable[str]) -> list[Path]:
    return [Path(shared_dir) / name for name in names]


@lru_cache(maxsize=4)
def _zendesk_contract(shared_dir: str) -> OpenAPIContract:
    return OpenAPIContract.from_file(*_shared_files(shared_dir, ZENDESK_SPEC_FILES),
                                     allowed=ZENDESK_ALLOWED_ENDPOINTS, covered_prefixes=("/api/",),
                                     tolerances=ZENDESK_TOLERANCES)


@lru_cache(maxsize=4)
def _jsm_contract(shared_dir: str) -> OpenAPIContract:
    return OpenAPIContract.from_file(
        *_shared_files(shared_dir, JSM_SPEC_FILES),
        allowed=JSM_ALLOWED_ENDPOINTS,
        # python-jira speaks /rest/api/2; v2 and v3 have the same resources (v3 adds ADF bodies).
        path_aliases=(("/rest/api/2/", "/rest/api/3/"), ("/rest/api/latest/", "/rest/api/3/")),
        covered_prefixes=("/rest/", "/automation/", "/gateway/", "/jsm/csm/"),
    )


def zendesk_contract(shared_dir: str | Path) -> OpenAPIContract:
    """The Zendesk Support contract (official spec + schedules supplement), built once per process."""
    return _zendesk_contract(str(Path(shared_dir).resolve()))


def jsm_contract(shared_dir: str | Path) -> OpenAPIContract:
    """The JSM contract (servicedesk digest + Jira platform spec + allow-list), built once per process."""
    return _jsm_contract(str(Path(shared_dir).resolve()))


def desk_checker(shared_dir: str | Path):
    """One request_checker for both desks: Zendesk paths (`/api/...`) go to the Zendesk contract,
    JSM paths (`/rest/...`, automation) to the JSM one; anything else (and `/sandbox/...`) passes."""
    zendesk, jsm = zendesk_contract(shared_dir), jsm_contract(shared_dir)

    def check(method: str, path: str, query: Any = None, json_body: Any = None) -> list[str]:
        for contract in (zendesk, jsm):
            if contract.covers(path):
                return contract.check_request(method, path, query, json_body)
        return []

    return check

"""The one HTTP client every desk call goes through: retry decision, call counts, pagination.

`DeskSession` is a `requests.Session` with a base URL, auth and a default timeout. What
happens to each answer is decided by one function, `classify` (shaped after the Meltano
Singer SDK's REST stream, whose `validate_response` sorts answers into retriable and fatal):

- 429 is retried after the server's `Retry-After` (seconds or an HTTP date): the desk did
  not run the request;
- 5xx, read timeouts and dropped connections are retried, with exponential backoff and full
  jitter (tenacity), only when the request is idempotent (`is_idempotent`: GET, PUT, PATCH,
  DELETE, a POST with an `Idempotency-Key`, or a POST the caller declares idempotent, such
  as a search). For any other POST the write may or may not have happened: it is never
  re-sent; the caller gets a `DeskHTTPError` with `ambiguous=True` and looks the object up
  by its key or ownership marker (the apply engine and the sync runner do) before writing again;
- a failure before the request left (connect timeout, connection refused) is retried;
- every wait counts against a total budget (`RetryPolicy.budget_seconds`); when the next
  wait would overrun it, or the attempts run out, the call fails with a `DeskHTTPError`;
- any other 4xx is fatal at once: `DeskHTTPError` carries the status, a one-line summary of
  the vendor's error body and the label of the object being written (supplied by the
  caller), and never the credentials.

Plain `http://` is refused unless the host is loopback (the local sandboxes). Each real
request is counted in `session.calls` under `"METHOD /normalised/path"` (numbers become
`{id}`, `.json` is dropped) and the rate-limit headers last seen are kept in
`session.rate_limit`. Tests pass `sleep=` (and `clock=`) so that nothing actually sleeps. The answer
timeout is 30 s unless `timeout=` or `DESKBOOK_HTTP_TIMEOUT` says otherwise.

Rate-limit headroom: a desk's rate limit is shared with every other integration of the account,
so a sync run keeps to a share of it (`DESKBOOK_RATE_SHARE`, default 50 %). `parse_rate_limit` is
the one reading of both desks' headers (Zendesk `ratelimit-*` and `X-Rate-Limit*`, Atlassian
`X-RateLimit-*` and `Retry-After`); `session.headroom` (`RateHeadroom`) sleeps before a request when
the requests this session sent in the last minute already reach the share of the limit, and keeps
the peak share used, which the run report prints. An answer without these headers paces nothing.

Pagination (after the Singer SDK's paginators): a `Paginator` only computes requests —
`first(path, params, body)` and `next(request, data)` (None after the last page) — and
`pages(session, paginator, path)` is the one loop that sends them, yields each `Page`
(request, JSON body, next request: what a resumable reader stores as its cursor) and
refuses a repeated request (a cursor that loops). `items(...)` / `Paginator.iter_items`
flatten the pages. Here: `CursorPaginator` (Zendesk cursor pagination, stops on
`meta.has_more`), `OffsetPaginator` (Zendesk offset pagination, follows `next_page`),
`StartLimitPaginator` (JSM / Atlassian `start`/`limit`, stops on `isLastPage`); the desk
packages add their own (JQL `nextPageToken`, automation cursors, Zendesk incremental exports).
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import os
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import requests
import tenacity

from deskbook.errors import DeskbookError
from deskbook.log import redact

log = logging.getLogger("deskbook.http")

#: Statuses that are worth another attempt.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Headers about rate limits that are remembered (lower-case prefixes).
RATE_LIMIT_HEADER_PREFIXES = ("x-rate-limit", "ratelimit-", "x-ratelimit", "zendesk-ratelimit", "retry-after")

_HINTS = {
    401: "check the email and API token (ZENDESK_EMAIL / ZENDESK_API_TOKEN or --email/--token) "
         "and that token access is enabled",
    403: "the account's plan or this user's role does not allow it (e.g. SLA policies need a plan "
         "with SLAs; admin role needed for business rules)",
    404: "the object is gone from the desk; re-run plan to refresh",
    409: "the desk reports a conflicting concurrent change; re-run",
    422: "the desk rejected the object's content; fix the playbook element named here",
}


class DeskHTTPError(DeskbookError):
    """A desk call failed for good: one clear line with status, vendor summary and object."""

    def __init__(self, message: str, *, status: int | None = None, method: str = "", path: str = "",
                 summary: str = "", label: str | None = None, hint: str | None = None, ambiguous: bool = False):
        super().__init__(message, where=label, hint=hint)
        self.ambiguous = ambiguous  # a create whose outcome is unknown (sent, no answer)
        self.status = status
        self.method = method
        self.path = path
        self.summary = summary
        self.label = label


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a call may be retried."""

    max_attempts: int = 8
    backoff_base: float = 0.5  # seconds; exponential with full jitter up to backoff_max
    backoff_max: float = 30.0
    budget_seconds: float = 300.0  # total waiting across the retries of one call
    retry_statuses: frozenset = RETRY_STATUSES


# ---------------------------------------------------------------- pure helpers


#: Path segments that identify one object: numbers, issue keys (`SUP-12`), UUIDs (rules, cloud ids).
#: Path segments that name an object: numbers, issue keys, UUIDs, Zendesk job ids (`V3-` + hex, or hex).
_ID_SEGMENT = re.compile(r"\d+|[A-Z][A-Z0-9_]*-\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                         r"|(?:V\d+-)?[0-9a-f]{16,}")


def normalize_path(path: str) -> str:
    """`/api/v2/macros/123.json?x=1` -> `/api/v2/macros/{id}`: the endpoint, for counters (also
    `/api/v2/job_statuses/V3-0b5a…` -> `/api/v2/job_statuses/{id}`).

    The API version in Atlassian paths (`/rest/<api>/<n>/...`, e.g. `/rest/api/3/`,
    `/rest/servicedesk/1/`) is kept: it names the API, not an object.
    """
    path = urlsplit(path).path or "/"
    if path.endswith(".json"):
        path = path[: -len(".json")]
    segments = path.split("/")
    parts = []
    for index, segment in enumerate(segments):
        is_version = index == 3 and segments[1] == "rest" and segment.isdigit()
        parts.append("{id}" if not is_version and _ID_SEGMENT.fullmatch(segment) else segment)
    return "/".join(parts) or "/"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def summarize_error_body(response: requests.Response, limit: int = 300) -> str:
    """One line from a Zendesk or Atlassian error body (error, description, details), redacted."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join((response.text or "").split())
        return redact(text[:limit]) or (response.reason or "")
    parts: list[str] = []
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # {"error": {"title": ..., "message": ...}}
            parts += [str(error.get("title") or ""), str(error.get("message") or "")]
        elif error:
            parts.append(str(error))
        if body.get("description"):
            parts.append(str(body["description"]))
        details = body.get("details")
        if isinstance(details, dict):
            for name, problems in details.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    detail = problem.get("description") if isinstance(problem, dict) else problem
                    parts.append(f"{name}: {detail}")
        if body.get("errorMessage"):
            parts.append(str(body["errorMessage"]))
        for text in body.get("errorMessages") or []:
            parts.append(str(text))
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        elif isinstance(errors, list):
            parts += [str(e.get("title") or e.get("detail") or e) if isinstance(e, dict) else str(e)
                      for e in errors]
        if body.get("message") and not parts:
            parts.append(str(body["message"]))
    text = "; ".join(p for p in (p.strip() for p in parts) if p) or json.dumps(body)[:limit]
    text = " ".join(text.split())
    return redact(text[:limit])


def is_cdn_denial(response: requests.Response) -> bool:
    """A 403 the CDN answered with its CloudFront HTML page, not the desk: Atlassian's edge sometimes
    refuses a call that succeeds when repeated at once (FACTS.md 9.4), so it is transient."""
    if response.status_code != 403:
        return False
    kind = (response.headers.get("Content-Type") or "").lower()
    head = response.text[:4000].lower() if ("html" in kind or not kind) else ""
    via = " ".join(response.headers.get(h) or "" for h in ("Server", "Via", "X-Cache")).lower()
    return bool(head) and ("cloudfront" in head or "cloudfront" in via)


def is_loopback(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_user_info(url: str, name: str = "the desk URL") -> None:
    """Refuse a URL with user information (`https://admin:TOKEN@host`) before anything can print,
    log or store it (a file name, an error message); the message never repeats the URL."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = ""
    if "@" in netloc or re.match(r"^[^/]*@", url.split("://", 1)[-1]):
        raise DeskbookError(f"{name} contains user information (user:password@ before the host); refusing it "
                            "so that no credential is printed or stored",
                            hint="give the URL as https://host only; pass the email and API token with "
                                 "--email/--token or their environment variables")


def redact_url(url: str) -> str:
    """`url` fit to print: without user information, query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme and not host:
        return redact(url.split("@")[-1].split("?")[0])
    return redact(f"{parts.scheme}://{host}{port}{parts.path}")


def check_url_allowed(url: str) -> None:
    """Refuse URLs with user information, plain http to anything but loopback, and schemes other
    than http(s)."""
    refuse_user_info(url)
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    if parts.scheme == "http":
        raise DeskbookError(f"refusing plain http to {parts.hostname}: credentials would travel unencrypted",
                            where=redact_url(url), hint="use https:// (plain http is only for loopback sandboxes)")
    raise DeskbookError(f"unsupported URL {redact_url(url)!r}", hint="give a base URL like https://example.zendesk.com")


# ---------------------------------------------------------------- the session


def default_timeout() -> float:
    """Seconds to wait for an answer: `DESKBOOK_HTTP_TIMEOUT`, else 30. It is also how long the
    apply engine gives a desk to store a create whose answer never came."""
    value = os.environ.get("DESKBOOK_HTTP_TIMEOUT", "").strip()
    try:
        seconds = float(value) if value else 30.0
    except ValueError:
        raise DeskbookError(f"DESKBOOK_HTTP_TIMEOUT={value!r} is not a number of seconds",
                            hint="set it to e.g. 30, or unset it") from None
    if not 0 < seconds < 3600:
        raise DeskbookError(f"DESKBOOK_HTTP_TIMEOUT={value!r} is out of range", hint="use 1 to 3599 seconds")
    return seconds


# ---------------------------------------------------------------- the retry decision

#: What `classify` decides for one answer or one transport failure.
OK, RETRY, FATAL, AMBIGUOUS = "ok", "retry", "fatal", "ambiguous"
#: Methods whose repetition does no harm (PUT/PATCH/DELETE of one object by id included).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})


def is_idempotent(method: str, headers: Any = None, declared: bool | None = None) -> bool:
    """Whether sending this request twice does no more than sending it once.

    `declared` (the caller's word) wins: a POST that only reads (JQL search) or sets absolute
    values (a positions job) is idempotent; otherwise a POST is idempotent only with an
    `Idempotency-Key` header (the desk answers a repeat with the first result)."""
    if declared is not None:
        return declared
    if method.upper() != "POST":
        return method.upper() in IDEMPOTENT_METHODS
    return any(str(name).lower() == "idempotency-key" for name in (headers or {}))


def _never_sent(error: BaseException) -> bool:
    """A transport failure before the request reached the server (connect timeout, refused, DNS)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError) or isinstance(error, requests.ReadTimeout):
        return False
    cause: Any = error.args[0] if error.args else None
    cause = getattr(cause, "reason", cause)  # urllib3 MaxRetryError wraps the real reason
    import urllib3.exceptions

    return isinstance(cause, urllib3.exceptions.NewConnectionError)


def classify(method: str, *, status: int | None = None, error: BaseException | None = None, headers: Any = None,
             idempotent: bool | None = None, edge_refusal: bool = False,
             retry_statuses: frozenset = RETRY_STATUSES) -> str:
    """The one retry decision: `OK`, `RETRY`, `FATAL` or `AMBIGUOUS` for a response's `status` or a
    transport `error` of a request sent with `method` and `headers` (idempotent or not: `is_idempotent`,
    where the caller's `idempotent` wins).

    - 429, or a refusal by the CDN in front of the desk (`edge_refusal`, see `is_cdn_denial`): retry
      (the desk did not run it), whatever the method;
    - a 5xx or a lost answer (read timeout, connection dropped after sending): retry when the
      request is idempotent; otherwise the write may or may not have happened — ambiguous, never
      re-sent blindly (the caller looks the object up by its key or marker first);
    - a failure before the request left (connect timeout, refused): retry;
    - any other 4xx, or a 5xx the policy does not retry on an idempotent request: fatal.
    """
    idempotent = is_idempotent(method, headers, idempotent)
    if error is not None:
        if _never_sent(error):
            return RETRY
        if isinstance(error, (requests.ConnectionError, requests.Timeout)):
            return RETRY if idempotent else AMBIGUOUS
        return FATAL
    if status is None or status < 400:
        return OK
    if (status == 429 and status in retry_statuses) or edge_refusal:
        return RETRY
    if status >= 500 and not idempotent:
        return AMBIGUOUS
    if status in retry_statuses:
        return RETRY
    return FATAL


# ---------------------------------------------------------------- rate-limit headroom


@dataclass(frozen=True)
class RateLimit:
    """What one answer's rate-limit headers say. `account` is True when the limit is known to be the
    account's (Zendesk's `ratelimit-limit`); Zendesk's `X-Rate-Limit` may be an endpoint's own
    limit (webhooks 100, incremental exports 10), Atlassian's `X-RateLimit-Limit` is the caller's."""

    limit: int | None
    remaining: int | None
    reset_seconds: float | None  # until the window resets
    retry_after: float | None
    account: bool = False


def _header_int(headers: dict[str, str], *names: str) -> int | None:
    for name in names:
        value = (headers.get(name) or "").strip()
        if value:
            try:
                return int(float(value))
            except ValueError:
                continue
    return None


def _reset_seconds(value: str | None, now: float | None) -> float | None:
    """Zendesk `ratelimit-reset`: seconds; Atlassian `X-RateLimit-Reset`: an ISO 8601 time
    (`yyyy-MM-ddTHH:mmZ`); an HTTP date is read too (the last two through `parse_retry_after`'s
    reading of seconds and HTTP dates, so there is one)."""
    seconds = parse_retry_after(value, now=now)
    if seconds is not None or not value or not value.strip():
        return seconds
    from datetime import datetime

    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def parse_rate_limit(headers: Any, *, now: float | None = None) -> RateLimit | None:
    """The one reading of both desks' rate-limit headers; None when an answer carries none.

    Zendesk: `ratelimit-limit`/`-remaining`/`-reset` (the account's, reset in seconds) are preferred
    over `X-Rate-Limit`/`X-Rate-Limit-Remaining`; Jira / JSM: `X-RateLimit-Limit`/`-Remaining`/`-Reset`
    (an ISO 8601 time) and `Retry-After`."""
    lower = {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    account = _header_int(lower, "ratelimit-limit")
    limit = account if account is not None else _header_int(lower, "x-rate-limit", "x-ratelimit-limit")
    remaining = _header_int(lower, "ratelimit-remaining") if account is not None else None
    if remaining is None:
        remaining = _header_int(lower, "x-rate-limit-remaining", "x-ratelimit-remaining")
    reset = _reset_seconds(lower.get("ratelimit-reset") or lower.get("x-ratelimit-reset"), now)
    retry_after = parse_retry_after(lower.get("retry-after"), now=now)
    if limit is None and remaining is None and reset is None and retry_after is None:
        return None
    return RateLimit(limit if limit and limit > 0 else None, remaining, reset, retry_after, account is not None)


#: The share of the desk's rate limit a sync run keeps to when `DESKBOOK_RATE_SHARE` does not say.
DEFAULT_RATE_SHARE = 0.5


def rate_share_from_env() -> float:
    """`DESKBOOK_RATE_SHARE` (`0.5` or `50%`), else 0.5: the share of the account's rate limit a sync
    run may use (the rest is left to the company's other integrations)."""
    raw = os.environ.get("DESKBOOK_RATE_SHARE", "").strip()
    return parse_rate_share(raw, "DESKBOOK_RATE_SHARE") if raw else DEFAULT_RATE_SHARE


def parse_rate_share(raw: str, source: str) -> float:
    """A share of the rate limit from `0.5` or `50%` (0 < share <= 1); `source` names the setting
    in the error."""
    raw = raw.strip()
    try:
        share = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        share = -1.0
    if not 0 < share <= 1:
        raise DeskbookError(f"{source}={raw!r} is not a share of the rate limit",
                            hint="use a share between 0 and 1 or a percentage, e.g. 0.5 or 50%")
    return share


class RateHeadroom:
    """Keeps this client's own requests under `share` of the desk's rate limit.

    The limit is the last one the desk reported for the account (`ratelimit-limit`), else the
    largest `X-Rate-Limit` / `X-RateLimit-Limit` seen (an endpoint's own limit is never larger than
    the account's). The window is a sliding `window` seconds (Zendesk counts per minute): before a
    request, when `share × limit` requests were already sent in the last window, `delay()` is how
    long until the oldest of them leaves it. `peak` is the largest share of the limit this client
    used in any window since `start`; None while the desk has not reported a limit. Pacing is off
    (`share` None) until a run turns it on; the apply engine's short bursts are not paced."""

    def __init__(self, share: float | None = None, *, clock: Callable[[], float] = time.monotonic,
                 window: float = 60.0):
        self.share = share
        self.clock = clock
        self.window = window
        self.limit: int | None = None
        self.last: RateLimit | None = None
        self.peak: float | None = None
        self.paced_seconds = 0.0
        self._not_before = 0.0
        self._account_known = False
        self._sent: list[float] = []
        self._lock = threading.Lock()

    def start(self, share: float | None) -> None:
        """Begin a run that keeps to `share` (None: no pacing); the peak starts afresh."""
        with self._lock:
            self.share = share
            self.peak = None

    def observe(self, headers: Any) -> None:
        """Read an answer's rate-limit headers."""
        parsed = parse_rate_limit(headers)
        if parsed is None:
            return
        with self._lock:
            self.last = parsed
            if parsed.limit is None:
                return
            if parsed.account:
                self.limit, self._account_known = parsed.limit, True
            elif not self._account_known:
                self.limit = max(self.limit or 0, parsed.limit)

    def _trim(self, now: float) -> None:
        cut = now - self.window
        keep = 0
        while keep < len(self._sent) and self._sent[keep] <= cut:
            keep += 1
        del self._sent[:keep]

    def delay(self) -> float:
        """Seconds to wait before the next request so that the window stays within the budget."""
        with self._lock:
            if self.share is None or self.limit is None:
                return 0.0
            now = self.clock()
            self._trim(now)
            budget = max(1, int(self.share * self.limit))
            wait = 0.0 if len(self._sent) < budget else max(0.0, self._sent[len(self._sent) - budget] + self.window - now)
            self._not_before = now + wait
            return wait

    def sent(self, waited: float = 0.0) -> None:
        """Count a request leaving now, after `waited` seconds of pacing (a clock that did not move
        during the wait, as with a `sleep` that does not sleep, still places it after the wait)."""
        with self._lock:
            now = max(self.clock(), self._not_before)
            self._sent.append(now)
            self.paced_seconds += waited
            self._trim(now)
            if self.limit:
                share = len(self._sent) / self.limit
                self.peak = share if self.peak is None else max(self.peak, share)


# ---------------------------------------------------------------- the session


class _Retry(Exception):
    """Internal: a retriable response, carried through tenacity."""

    def __init__(self, response: requests.Response):
        super().__init__(response.status_code)
        self.response = response


class DeskSession(requests.Session):
    """requests.Session with base URL, auth, timeout, one retry policy and per-endpoint counters."""

    def __init__(self, base_url: str, *, auth: Any = None, timeout: float | None = None,
                 policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 headers: dict[str, str] | None = None, user_agent: str = "deskbook",
                 clock: Callable[[], float] | None = None, rate_share: float | None = None):
        super().__init__()
        base_url = base_url.rstrip("/")
        check_url_allowed(base_url)
        self.base_url = base_url
        self.auth = auth
        self.timeout = default_timeout() if timeout is None else timeout
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.headers["User-Agent"] = user_agent
        self.headers["Accept"] = "application/json"
        if headers:
            self.headers.update(headers)
        self.calls: Counter = Counter()  # "METHOD /normalised/path" -> real requests sent
        self.retries: Counter = Counter()  # same keys -> attempts that were retried
        self.waited_seconds = 0.0  # total back-off across all calls
        self.rate_limit: dict[str, str] = {}  # last rate-limit headers seen
        #: pacing under a share of the desk's rate limit (off until a sync run calls `headroom.start`)
        self.headroom = RateHeadroom(rate_share, clock=clock or time.monotonic)

    # -- URLs

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for a path under the base URL (absolute URLs are checked and kept)."""
        if re.match(r"^[a-z][a-z0-9+.-]*://", path_or_url, re.I):
            check_url_allowed(path_or_url)
            return path_or_url
        return self.base_url + ("" if path_or_url.startswith("/") else "/") + path_or_url

    def endpoint(self, method: str, url: str) -> str:
        """Counter key for a request: `"GET /api/v2/macros/{id}"`."""
        return f"{method.upper()} {normalize_path(url)}"

    @property
    def total_calls(self) -> int:
        """Every request sent so far."""
        return sum(self.calls.values())

    def writes(self) -> int:
        """Requests that change the desk (POST/PUT/PATCH/DELETE)."""
        return sum(n for k, n in self.calls.items() if not k.startswith("GET "))

    # -- the one request path

    def request(self, method: str, url: str, *args: Any, label: str | None = None,  # type: ignore[override]
                raise_for_status: bool = True, idempotent: bool | None = None,
                **kwargs: Any) -> requests.Response:
        """Send, retrying what `classify` calls `RETRY`; raise `DeskHTTPError` on a fatal or
        ambiguous answer (unless `raise_for_status=False`, which returns the last response).

        `idempotent` overrides the method's default (see `is_idempotent`): pass True for a POST
        that only reads or sets absolute values."""
        method = method.upper()
        full_url = self.url_for(url)
        key = self.endpoint(method, full_url)
        kwargs.setdefault("timeout", self.timeout)
        policy = self.policy
        safe = is_idempotent(method, kwargs.get("headers"), idempotent)
        attempts = [0]

        def decide(*, status: int | None = None, error: BaseException | None = None, edge_refusal: bool = False) -> str:
            return classify(method, idempotent=safe, status=status, error=error, edge_refusal=edge_refusal,
                            retry_statuses=policy.retry_statuses)

        def next_wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome
            if outcome is not None and outcome.failed:
                exc = outcome.exception()
                if isinstance(exc, _Retry) and exc.response.status_code == 429:
                    after = parse_retry_after(exc.response.headers.get("Retry-After"))
                    if after is not None:
                        return after
            ceiling = min(policy.backoff_max, policy.backoff_base * (2 ** (state.attempt_number - 1)))
            return random.uniform(0, ceiling)

        def stop(state: tenacity.RetryCallState) -> bool:
            # tenacity computes the wait first (state.upcoming_sleep), then asks whether to stop
            if state.attempt_number >= policy.max_attempts:
                return True
            return state.idle_for + state.upcoming_sleep > policy.budget_seconds

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.retries[key] += 1
            exc = state.outcome.exception() if state.outcome else None
            cause = f"HTTP {exc.response.status_code}" if isinstance(exc, _Retry) else type(exc).__name__
            seconds = state.next_action.sleep if state.next_action else 0.0
            self.waited_seconds += seconds
            log.info("%s %s: %s, retrying in %.1fs (attempt %d)", method, normalize_path(full_url),
                     cause, seconds, state.attempt_number + 1)

        def attempt() -> requests.Response:
            pause = self.headroom.delay()
            if pause > 0:
                log.debug("%s %s: pacing %.1fs to stay under %.0f%% of the rate limit", method,
                          normalize_path(full_url), pause, 100 * (self.headroom.share or 0))
                self.sleep(pause)
            self.headroom.sent(pause)
            self.calls[key] += 1
            attempts[0] += 1
            response = super(DeskSession, self).request(method, full_url, *args, **kwargs)
            self._remember_rate_limit(response)
            if decide(status=response.status_code, edge_refusal=is_cdn_denial(response)) == RETRY:
                raise _Retry(response)
            return response

        retrying = tenacity.Retrying(
            stop=stop,
            wait=next_wait,
            retry=tenacity.retry_if_exception(
                lambda exc: isinstance(exc, _Retry) or decide(error=exc) == RETRY),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        where = f"{method} {normalize_path(full_url)}"
        try:
            response = retrying(attempt)
        except _Retry as exc:
            response = exc.response
            if not raise_for_status:
                return response
            summary = summarize_error_body(response)
            reason = "rate limited" if response.status_code == 429 else "server error"
            raise DeskHTTPError(
                f"{where}: {reason} {response.status_code} {summary} "
                f"(gave up after {attempts[0]} attempts, retry budget {policy.budget_seconds:.0f}s)",
                status=response.status_code, method=method, path=normalize_path(full_url),
                summary=summary, label=label, hint="the desk is overloaded or down; re-run later "
                "(an interrupted apply resumes without duplicates)") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
            ambiguous = decide(error=exc) == AMBIGUOUS
            raise DeskHTTPError(
                f"{where}: {kind} to {redact_url(full_url).split('://')[-1].split('/')[0]} "
                + ("(the write may or may not have happened)" if ambiguous
                   else f"(gave up after {attempts[0]} attempts, retry budget {policy.budget_seconds:.0f}s)"),
                method=method, path=normalize_path(full_url), label=label, ambiguous=ambiguous,
                hint="check the URL and network, then re-run (an interrupted apply resumes without duplicates)") from None
        if raise_for_status and response.status_code >= 400:
            raise self.error_for(response, method, full_url, label, idempotent=safe)
        return response

    def error_for(self, response: requests.Response, method: str, url: str, label: str | None, *,
                  idempotent: bool | None = None) -> DeskHTTPError:
        """The `DeskHTTPError` for a fatal or ambiguous answer (a 5xx to a write that is not
        idempotent: it may have happened, so it is not repeated; the caller looks it up)."""
        summary = summarize_error_body(response)
        status = response.status_code
        safe = is_idempotent(method, response.request.headers if response.request is not None else None, idempotent)
        ambiguous = classify(method, status=status, idempotent=safe) == AMBIGUOUS
        message = f"{method} {normalize_path(url)} answered {status} {response.reason or ''}: {summary}".replace("  ", " ")
        if ambiguous:
            message += " (the write may or may not have happened; not repeated)"
        return DeskHTTPError(
            message, status=status, method=method, path=normalize_path(url), summary=summary, label=label,
            ambiguous=ambiguous,
            hint=_HINTS.get(status) or ("re-run: the next run looks the object up before writing it again"
                                        if ambiguous else None))

    def _remember_rate_limit(self, response: requests.Response) -> None:
        self.headroom.observe(response.headers)
        for name, value in response.headers.items():
            if name.lower().startswith(RATE_LIMIT_HEADER_PREFIXES):
                self.rate_limit[name] = value

    # -- JSON helpers

    def json_request(self, method: str, path: str, *, label: str | None = None, **kwargs: Any) -> Any:
        """Send and return the parsed JSON body ({} for an empty body)."""
        response = self.request(method, path, label=label, **kwargs)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise DeskHTTPError(f"{method} {normalize_path(path)} answered non-JSON content",
                                status=response.status_code, method=method, path=normalize_path(path),
                                label=label) from None

    def get_json(self, path: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """GET `path` and return its JSON body."""
        return self.json_request("GET", path, params=params, **kwargs)


# ---------------------------------------------------------------- pagination
#
# A paginator only computes requests: `first(path, params, body)` and `next(request, data)`
# (None when the last page was read). `pages` is the one loop that sends them, refuses a
# paginator that asks for a page it already read (a repeated cursor), and yields each page.


@dataclass(frozen=True)
class PageRequest:
    """One page's request: GET `path` with `params`, or (with `body`) a POST that only reads."""

    path: str
    params: tuple[tuple[str, Any], ...] = ()
    body: Any = None

    @property
    def method(self) -> str:
        """POST when the page is asked for with a body, else GET."""
        return "GET" if self.body is None else "POST"

    def with_params(self, **changes: Any) -> "PageRequest":
        """The same request with some query parameters replaced."""
        return PageRequest(self.path, tuple({**dict(self.params), **changes}.items()), self.body)

    def with_body(self, **changes: Any) -> "PageRequest":
        """The same request with some body members replaced."""
        return PageRequest(self.path, self.params, {**(self.body or {}), **changes})

    def identity(self) -> str:
        """What makes two page requests the same (for loop detection)."""
        return json.dumps([self.method, self.path, sorted(self.params), self.body], sort_keys=True, default=str)


def page_request(path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
    """A `PageRequest` from a dict of query parameters."""
    return PageRequest(path, tuple((params or {}).items()), body)


@dataclass(frozen=True)
class Page:
    """One page read: its request, its JSON body and the next request (None on the last page)."""

    request: PageRequest
    data: Any
    next: PageRequest | None

    @property
    def last(self) -> bool:
        """True on the last page."""
        return self.next is None


class Paginator:
    """Computes page requests; subclasses override `first` (optional) and `next`."""

    #: Where a page lists its items, when the caller does not say.
    key: str | None = None

    def first(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
        """The first page's request."""
        return page_request(path, params, body)

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """The request after the page `data` answered `request`; None when it was the last."""
        raise NotImplementedError

    def iter_items(self, session: "DeskSession", path: str, key: str | None = None,
                   params: dict[str, Any] | None = None, body: Any = None) -> Iterator[Any]:
        """Every item of `key` (default: the paginator's) across the pages (see `items`)."""
        return items(session, self, path, key or self.key or "", params=params, body=body)


def pages(session: DeskSession, paginator: Paginator, path: str | PageRequest, *,
          params: dict[str, Any] | None = None, body: Any = None) -> Iterator[Page]:
    """The one pagination loop: send the paginator's requests in turn and yield each `Page`.

    A request for a page already read (a cursor or token that repeats) is a desk fault that would
    loop for ever: it raises `DeskHTTPError` naming the endpoint. Page reads are idempotent, POST
    searches included, so the retry policy repeats them after a 5xx or a lost answer."""
    request: PageRequest | None = path if isinstance(path, PageRequest) else paginator.first(path, params, body)
    seen: set[str] = set()
    while request is not None:
        identity = request.identity()
        if identity in seen:
            where = f"{request.method} {normalize_path(request.path)}"
            raise DeskHTTPError(f"{where}: pagination asked for a page it already read (a repeated cursor)",
                                method=request.method, path=normalize_path(request.path),
                                hint="the desk's paging is inconsistent; re-run later")
        seen.add(identity)
        data = session.json_request(request.method, request.path, params=dict(request.params) or None,
                                    json=request.body, idempotent=True)
        following = paginator.next(request, data)
        yield Page(request, data, following)
        request = following


def items(session: DeskSession, paginator: Paginator, path: str | PageRequest, key: str, *,
          params: dict[str, Any] | None = None, body: Any = None) -> Iterator[Any]:
    """Every item listed under `key` across the pages."""
    for page in pages(session, paginator, path, params=params, body=body):
        yield from (page.data.get(key) if isinstance(page.data, dict) else None) or []


class CursorPaginator(Paginator):
    """Zendesk cursor pagination: `page[size]`, follow `meta.after_cursor` (or `links.next`),
    stop when `meta.has_more` is false — never on `links.next` alone (Zendesk documents that
    `links.next` can be present on the last page)."""

    def __init__(self, page_size: int = 100, *, most: int = 100):
        self.page_size = min(most, max(1, page_size))  # most: the endpoint's page size limit

    def first(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
        """`page[size]` added to the query."""
        return page_request(path, {**(params or {}), "page[size]": self.page_size}, body)

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """`page[after]` = `meta.after_cursor`, else the `links.next` URL."""
        meta = data.get("meta") or {}
        if not meta.get("has_more"):
            return None
        if meta.get("after_cursor"):
            return request.with_params(**{"page[after]": meta["after_cursor"]})
        following = (data.get("links") or {}).get("next")
        return PageRequest(following) if following else None


class OffsetPaginator(Paginator):
    """Zendesk offset pagination: `per_page`, follow `next_page` until it is null."""

    def __init__(self, per_page: int = 100):
        self.per_page = per_page

    def first(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
        """`per_page` added to the query."""
        return page_request(path, {**(params or {}), "per_page": self.per_page}, body)

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """The `next_page` URL (it carries the whole query)."""
        following = data.get("next_page")
        return PageRequest(following) if following else None


class StartLimitPaginator(Paginator):
    """Atlassian / JSM paging: `start` + `limit`, stop on `isLastPage` (or a short page)."""

    def __init__(self, limit: int = 50, start_param: str = "start", limit_param: str = "limit", key: str = "values"):
        self.limit = limit
        self.start_param = start_param
        self.limit_param = limit_param
        self.key = key

    def first(self, path: str, params: dict[str, Any] | None = None, body: Any = None) -> PageRequest:
        """`start=0` and `limit` added to the query."""
        return page_request(path, {**(params or {}), self.start_param: 0, self.limit_param: self.limit}, body)

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """`start` moved past the items read (by the page's `size`)."""
        size = len(data.get(self.key) or [])
        start = int(dict(request.params).get(self.start_param) or 0)
        last = data.get("isLastPage")
        if last is None:  # platform APIs: total instead of isLastPage
            total = data.get("total")
            last = total is not None and start + size >= int(total)
        if last or not size:
            return None
        return request.with_params(**{self.start_param: start + int(data.get("size") or size)})

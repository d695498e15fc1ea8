"""The one HTTP client every desk call goes through: retry policy, call counts, pagination.

`DeskSession` is a `requests.Session` with a base URL, auth and a default timeout that
decides, in one place, what is retried and what is fatal (shaped after the Meltano
Singer SDK's REST stream):

- 429 waits for the server's `Retry-After` (seconds or an HTTP date);
- 5xx, timeouts and connection errors back off exponentially with full jitter (tenacity);
- every wait counts against a total budget (`RetryPolicy.budget_seconds`); when the next
  wait would overrun it, or the attempts run out, the call fails with a `DeskHTTPError`;
- any other 4xx is fatal at once: `DeskHTTPError` carries the status, a one-line summary of
  the vendor's error body and the label of the object being written (supplied by the
  caller), and never the credentials.

Plain `http://` is refused unless the host is loopback (the local sandboxes). Each real
request is counted in `session.calls` under `"METHOD /normalised/path"` (numbers become
`{id}`, `.json` is dropped) and the rate-limit headers last seen are kept in
`session.rate_limit`. Tests pass `sleep=` so that nothing actually sleeps.

Pagination is an object with `iter_items(session, path, key, params)`:
`CursorPaginator` (Zendesk cursor pagination, stops on `meta.has_more`),
`OffsetPaginator` (Zendesk offset pagination, follows `next_page`) and
`StartLimitPaginator` (JSM / Atlassian `start`/`limit`, stops on `isLastPage`).
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import random
import re
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
_ID_SEGMENT = re.compile(r"\d+|[A-Z][A-Z0-9_]*-\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def normalize_path(path: str) -> str:
    """`/api/v2/macros/123.json?x=1` -> `/api/v2/macros/{id}`: the endpoint, for counters.

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
                    text = problem.get("description") if isinstance(problem, dict) else problem
                    parts.append(f"{name}: {text}")
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


def check_url_allowed(url: str) -> None:
    """Refuse plain http to anything but loopback, and schemes other than http(s)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    if parts.scheme == "http":
        raise DeskbookError(f"refusing plain http to {parts.hostname}: credentials would travel unencrypted",
                            where=url.split("?")[0], hint="use https:// (plain http is only for loopback sandboxes)")
    raise DeskbookError(f"unsupported URL {url!r}", hint="give a base URL like https://example.zendesk.com")


# ---------------------------------------------------------------- the session


class _Retry(Exception):
    """Internal: a retriable response, carried through tenacity."""

    def __init__(self, response: requests.Response):
        super().__init__(response.status_code)
        self.response = response


class DeskSession(requests.Session):
    """requests.Session with base URL, auth, timeout, one retry policy and per-endpoint counters."""

    def __init__(self, base_url: str, *, auth: Any = None, timeout: float = 30.0,
                 policy: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep,
                 headers: dict[str, str] | None = None, user_agent: str = "deskbook"):
        super().__init__()
        base_url = base_url.rstrip("/")
        check_url_allowed(base_url)
        self.base_url = base_url
        self.auth = auth
        self.timeout = timeout
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

    def request(self, method: str, url: str, *args: Any, label: str | None = None,
                raise_for_status: bool = True, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send with retries; raise `DeskHTTPError` on a fatal answer (unless `raise_for_status=False`)."""
        method = method.upper()
        full_url = self.url_for(url)
        key = self.endpoint(method, full_url)
        kwargs.setdefault("timeout", self.timeout)
        policy = self.policy
        attempts = [0]

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
            self.calls[key] += 1
            attempts[0] += 1
            response = super(DeskSession, self).request(method, full_url, *args, **kwargs)
            self._remember_rate_limit(response)
            if response.status_code in policy.retry_statuses or is_cdn_denial(response):
                raise _Retry(response)
            return response

        headers = {k.lower() for k in (kwargs.get("headers") or {})}
        # A POST that may have reached the server is not repeated blindly (it could create a second
        # object) unless it carries an Idempotency-Key; the caller gets an `ambiguous` error and can
        # look the object up first. Connect timeouts never reached the server. (PUT/PATCH/DELETE
        # of one object are idempotent and retried.)
        unsafe = method == "POST" and "idempotency-key" not in headers

        def retriable(exc: BaseException) -> bool:
            if isinstance(exc, (_Retry, requests.ConnectTimeout)):
                return True
            if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
                return not unsafe
            return False

        retrying = tenacity.Retrying(
            stop=stop,
            wait=next_wait,
            retry=tenacity.retry_if_exception(retriable),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            response = retrying(attempt)
        except _Retry as exc:
            response = exc.response
            if not raise_for_status:
                return response
            summary = summarize_error_body(response)
            reason = "rate limited" if response.status_code == 429 else "server error"
            raise DeskHTTPError(
                f"{method} {normalize_path(full_url)}: {reason} {response.status_code} {summary} "
                f"(gave up after {attempts[0]} attempts, retry budget {policy.budget_seconds:.0f}s)",
                status=response.status_code, method=method, path=normalize_path(full_url),
                summary=summary, label=label, hint="the desk is overloaded or down; re-run later "
                "(an interrupted apply resumes without duplicates)") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
            ambiguous = unsafe and not isinstance(exc, requests.ConnectTimeout)
            raise DeskHTTPError(
                f"{method} {normalize_path(full_url)}: {kind} to {urlsplit(full_url).netloc} "
                + ("(the write may or may not have happened)" if ambiguous
                   else f"(gave up after {attempts[0]} attempts, retry budget {policy.budget_seconds:.0f}s)"),
                method=method, path=normalize_path(full_url), label=label, ambiguous=ambiguous,
                hint="check the URL and network, then re-run (an interrupted apply resumes without duplicates)") from None
        if raise_for_status and response.status_code >= 400:
            raise self.error_for(response, method, full_url, label)
        return response

    def error_for(self, response: requests.Response, method: str, url: str, label: str | None) -> DeskHTTPError:
        """The `DeskHTTPError` for a fatal answer."""
        summary = summarize_error_body(response)
        status = response.status_code
        return DeskHTTPError(
            f"{method} {normalize_path(url)} answered {status} {response.reason or ''}: {summary}".replace("  ", " "),
            status=status, method=method, path=normalize_path(url), summary=summary, label=label,
            hint=_HINTS.get(status))

    def _remember_rate_limit(self, response: requests.Response) -> None:
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


class CursorPaginator:
    """Zendesk cursor pagination: `page[size]`, follow `meta.after_cursor` (or `links.next`),
    stop when `meta.has_more` is false — never on `links.next` alone (Zendesk documents that
    `links.next` can be present on the last page)."""

    def __init__(self, page_size: int = 100):
        self.page_size = min(100, max(1, page_size))

    def iter_items(self, session: DeskSession, path: str, key: str,
                   params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of `key` across the pages of `path`."""
        query = dict(params or {})
        query["page[size]"] = self.page_size
        url: str = path
        seen: set[str] = set()
        while True:
            data = session.get_json(url, params=query)
            yield from data.get(key) or []
            meta = data.get("meta") or {}
            if not meta.get("has_more"):
                return
            after = meta.get("after_cursor")
            if after:
                if after in seen:
                    raise DeskHTTPError(f"GET {normalize_path(path)}: cursor pagination repeated a cursor",
                                        method="GET", path=normalize_path(path))
                seen.add(after)
                url, query = path, {**query, "page[after]": after}
            elif (data.get("links") or {}).get("next"):
                url, query = data["links"]["next"], {}
            else:
                return


class OffsetPaginator:
    """Zendesk offset pagination: `per_page`, follow `next_page` until it is null."""

    def __init__(self, per_page: int = 100, max_pages: int = 10_000):
        self.per_page = per_page
        self.max_pages = max_pages

    def iter_items(self, session: DeskSession, path: str, key: str,
                   params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of `key` across the pages of `path`."""
        url: str | None = path
        query: dict[str, Any] = {**(params or {}), "per_page": self.per_page}
        for _ in range(self.max_pages):
            data = session.get_json(url, params=query)
            yield from data.get(key) or []
            url = data.get("next_page")
            if not url:
                return
            query = {}


class StartLimitPaginator:
    """Atlassian / JSM paging: `start` + `limit`, stop on `isLastPage` (or a short page)."""

    def __init__(self, limit: int = 50, start_param: str = "start", limit_param: str = "limit"):
        self.limit = limit
        self.start_param = start_param
        self.limit_param = limit_param

    def iter_items(self, session: DeskSession, path: str, key: str = "values",
                   params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of `key` across the pages of `path`."""
        start = 0
        while True:
            query = {**(params or {}), self.start_param: start, self.limit_param: self.limit}
            data = session.get_json(path, params=query)
            items = data.get(key) or []
            yield from items
            last = data.get("isLastPage")
            if last is None:  # platform APIs: total instead of isLastPage
                total = data.get("total")
                last = (not items) or (total is not None and start + len(items) >= int(total))
            if last or not items:
                return
            start += int(data.get("size") or len(items))

"""Pytest helpers: check every request a test sends to Zendesk or JSM against the vendor's OpenAPI spec.

Use from a test module (tests/ is on sys.path under pytest's default import mode):

    from contract_support import checked_responses, assert_no_violations

    def test_something(shared):
        with checked_responses(zendesk_contract(shared)) as rsps:
            rsps.get("https://example.zendesk.com/api/v2/macros.json", json={...})
            ... code under test, through requests or zenpy ...
        # leaving the block asserts that no request broke the contract

or take the fixtures `zendesk_responses` / `jsm_responses` (import them into the test module, or
list this module in `pytest_plugins`): a `responses.RequestsMock` whose requests are checked at
teardown.

Suite-wide: with `pytest_plugins = ["contract_support"]` in tests/conftest.py, the autouse fixture
`contract_guard` checks every request any test sends through `requests` (zenpy and python-jira
included; mocked by `responses` or sent to a sandbox) against the Zendesk or JSM contract, by path,
and fails the test at teardown listing the violations. A test that sends invalid requests on
purpose (to test the sandbox's 404/422 answers) is marked `@pytest.mark.contract_exempt("why")`.
Without ../shared the guard does nothing. `guarding_requests(checker)` is the same check as a
context manager.

For one live session, `ContractRecorder.attach(session)` checks each request as its response
arrives. The sandboxes also take a contract itself as their `request_checker` and keep their own
violation list: pass it to `assert_no_violations`.
"""

from __future__ import annotations

import json
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator
from unittest import mock
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
import responses

from deskbook.connectors.contract import desk_checker, jsm_contract, zendesk_contract

RequestChecker = Callable[[str, str, Any, Any], list]


def request_parts(request: requests.PreparedRequest) -> tuple[str, str, list[tuple[str, str]], Any]:
    """(method, path, query pairs, JSON body or None) of a prepared request, as a checker takes them."""
    url = urlsplit(request.url or "")
    body: Any = request.body
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            body = None  # binary upload: not JSON
    json_body = None
    content_type = (request.headers.get("Content-Type") or "").lower()
    if isinstance(body, str) and body and ("json" in content_type or body.lstrip()[:1] in ("{", "[")):
        try:
            json_body = json.loads(body)
        except ValueError:
            json_body = None
    return (request.method or "GET").upper(), unquote(url.path), parse_qsl(url.query, keep_blank_values=True), json_body


class ContractRecorder:
    """Runs a request checker over requests and keeps the violations (`METHOD path: problem`)."""

    def __init__(self, checker: RequestChecker):
        self.checker = checker
        self.violations: list[str] = []
        self.checked = 0

    def check(self, request: requests.PreparedRequest) -> list[str]:
        """Check one prepared request; its problems are returned and recorded."""
        method, path, query, body = request_parts(request)
        problems = list(self.checker(method, path, query, body) or [])
        self.checked += 1
        self.violations.extend(p if p.startswith(f"{method} ") else f"{method} {path}: {p}" for p in problems)
        return problems

    def check_calls(self, calls: Iterable[Any]) -> None:
        """Check every call `responses` recorded (each has `.request`)."""
        for call in calls:
            self.check(call.request)

    def response_hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        """A `requests` response hook checking the request that produced `response`."""
        self.check(response.request)
        return response

    def attach(self, session: requests.Session) -> requests.Session:
        """Check every request `session` sends from now on (response hook); returns the session."""
        session.hooks.setdefault("response", []).append(self.response_hook)
        return session


def assert_no_violations(violations: Iterable[str], what: str = "requests") -> None:
    """Fail with a readable list when any request broke the vendor contract (repeats counted once)."""
    counted = Counter(violations)
    if not counted:
        return
    lines = [f"  {n}. {text}" + (f"  (x{count})" if count > 1 else "")
             for n, (text, count) in enumerate(counted.most_common(), start=1)]
    total = sum(counted.values())
    raise AssertionError(
        f"{total} contract violation(s) in {what}: every request must match a method+path of the vendor's "
        "OpenAPI spec and its JSON body must validate against the request schema (or be allow-listed "
        "with a doc URL in deskbook/connectors/contract.py):\n" + "\n".join(lines))


@contextmanager
def checked_responses(checker: RequestChecker, *, assert_clean: bool = True,
                      **mock_options: Any) -> Iterator[responses.RequestsMock]:
    """A `responses.RequestsMock` whose every sent request is checked when the block ends.

    The mock gets a `.contract` attribute (the `ContractRecorder`). With `assert_clean` (default)
    leaving the block raises AssertionError listing the violations; otherwise read
    `rsps.contract.violations` yourself. `mock_options` go to `RequestsMock` (e.g.
    `assert_all_requests_are_fired=False`).
    """
    recorder = ContractRecorder(checker)
    with responses.RequestsMock(**mock_options) as rsps:
        rsps.contract = recorder  # type: ignore[attr-defined]
        yield rsps
        recorder.check_calls(rsps.calls)
    if assert_clean:
        assert_no_violations(recorder.violations, "the requests sent through the responses mock")


@pytest.fixture(scope="session")
def zendesk_checker(shared):
    """The Zendesk Support contract (a request_checker), loaded once per session."""
    return zendesk_contract(shared)


@pytest.fixture(scope="session")
def jsm_checker(shared):
    """The JSM contract (servicedesk + Jira platform + allow-list), loaded once per session."""
    return jsm_contract(shared)


@pytest.fixture
def zendesk_responses(zendesk_checker):
    """A responses mock (unfired mocks allowed) whose requests must all match Zendesk's spec."""
    with checked_responses(zendesk_checker, assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def jsm_responses(jsm_checker):
    """A responses mock (unfired mocks allowed) whose requests must all match the JSM specs."""
    with checked_responses(jsm_checker, assert_all_requests_are_fired=False) as rsps:
        yield rsps


# ----------------------------------------------------------------------------- suite-wide guard


def pytest_configure(config):
    """Register the opt-out marker (when this module is loaded as a plugin)."""
    config.addinivalue_line(
        "markers", "contract_exempt(reason): the test sends requests outside the vendor contract on purpose")


@contextmanager
def guarding_requests(checker: RequestChecker) -> Iterator[ContractRecorder]:
    """Check every request sent through any `requests.Session` inside the block (zenpy and
    python-jira use one too); yields the recorder. Works with `responses` mocks and real servers."""
    recorder = ContractRecorder(checker)
    original_send = requests.Session.send

    def checked_send(session: requests.Session, prepared: requests.PreparedRequest, **kwargs: Any):
        recorder.check(prepared)
        return original_send(session, prepared, **kwargs)

    with mock.patch.object(requests.Session, "send", checked_send):
        yield recorder


@pytest.fixture(autouse=True)
def contract_guard(request):
    """Suite-wide: every request a test sends must keep the vendor contract (see the module doc)."""
    from conftest import shared_dir

    shared = shared_dir()
    if shared is None or request.node.get_closest_marker("contract_exempt") is not None:
        yield None
        return
    with guarding_requests(desk_checker(shared)) as recorder:
        yield recorder
    assert_no_violations(recorder.violations, f"the requests {request.node.nodeid} sent")

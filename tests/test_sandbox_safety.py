"""Sandboxes safe to leave running (issue 13, item 7) and what the sandbox kit gives both desks
(issue 14, item 3): loopback unless told, the request log behind auth and bounded, a size limit
answered with the desk's 413, malformed and mistyped bodies answered 400/422 in the vendor's
error shape (never a 500, never HTML), the limiter on the sandbox clock, `spec=` on both."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from deskbook.connectors.jsm.sandbox import running_sandbox as running_jsm
from deskbook.connectors.sandbox_kit.clock import FakeClock
from deskbook.connectors.zendesk.sandbox import running_sandbox as running_zendesk

pytestmark = pytest.mark.contract_exempt("sends oversized, malformed, mistyped and anonymous requests on purpose")

JSON = {"Content-Type": "application/json"}
DEEP = "[" * 100_000 + "]" * 100_000


class Desk:
    """One sandbox desk as these tests see it: how to start it, log in, and what its errors look like."""

    def __init__(self, name: str):
        self.name = name

    def running(self, **options):
        return (running_zendesk if self.name == "zendesk" else running_jsm)(**options)

    @staticmethod
    def session(sandbox) -> requests.Session:
        http = requests.Session()
        http.auth = sandbox.auth if hasattr(sandbox, "auth") else (sandbox.email, sandbox.token)
        return http

    @property
    def write_path(self) -> str:
        """A create endpoint that takes a JSON body."""
        return "/api/v2/groups.json" if self.name == "zendesk" else "/rest/servicedeskapi/organization"

    @property
    def read_path(self) -> str:
        return "/api/v2/groups.json" if self.name == "zendesk" else "/rest/servicedeskapi/servicedesk"

    def assert_vendor_error(self, response: requests.Response, statuses: tuple[int, ...]) -> dict:
        """A JSON error body in the desk's shape with one of `statuses`."""
        assert response.status_code in statuses, (response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        if self.name == "zendesk":
            assert isinstance(body.get("error"), str)
        elif response.url.split("?")[0].split("/", 3)[-1].startswith("rest/servicedeskapi"):
            assert isinstance(body.get("errorMessage"), str) and "i18nErrorMessage" in body
        else:
            assert isinstance(body.get("errorMessages"), list) and isinstance(body.get("errors"), dict)
        return body


DESKS = [Desk("zendesk"), Desk("jsm")]


@pytest.fixture(params=DESKS, ids=lambda d: d.name)
def desk(request) -> Desk:
    return request.param


# ---------------------------------------------------------------- the request log


def test_request_log_needs_the_desk_credentials(desk):
    with desk.running() as sandbox:
        http = desk.session(sandbox)
        http.get(sandbox.url + desk.read_path)
        for method in ("GET", "DELETE"):
            anonymous = requests.request(method, sandbox.url + "/sandbox/requests")
            desk.assert_vendor_error(anonymous, (401,))
            wrong = requests.request(method, sandbox.url + "/sandbox/requests", auth=("someone", "guess"))
            assert wrong.status_code == 401
        assert len(sandbox.requests()) == 1, "an anonymous DELETE must not clear the log"
        assert len(http.get(sandbox.url + "/sandbox/requests").json()["requests"]) == 1


def test_request_log_is_bounded_in_entries_and_body_size(desk):
    with desk.running(max_logged_requests=5) as sandbox:
        http = desk.session(sandbox)
        for n in range(12):
            http.get(sandbox.url + desk.read_path, params={"n": n})
        log = sandbox.requests()
        assert [entry["query"]["n"] for entry in log] == ["7", "8", "9", "10", "11"]
        big = {"name": "x" * 200_000}
        http.post(sandbox.url + desk.write_path, json={"group": big} if desk.name == "zendesk" else big)
        assert "x" * 1000 not in json.dumps(sandbox.requests()[-1]["json"])


# ---------------------------------------------------------------- bodies


def test_a_body_past_the_size_limit_is_answered_413(desk):
    with desk.running(max_body_bytes=1_000_000) as sandbox:
        http = desk.session(sandbox)
        name = "x" * 2_000_000
        body = {"group": {"name": name}} if desk.name == "zendesk" else {"name": name}
        response = http.post(sandbox.url + desk.write_path, json=body)
        desk.assert_vendor_error(response, (413,))
        assert http.get(sandbox.url + desk.read_path).status_code == 200  # the connection still works


def test_the_default_size_limit_refuses_ten_megabytes(desk):
    with desk.running() as sandbox:
        response = desk.session(sandbox).post(sandbox.url + desk.write_path, data=b"{" + b" " * 10_000_000 + b"}",
                                              headers=JSON)
        desk.assert_vendor_error(response, (413,))


@pytest.mark.parametrize("text", [DEEP, '{"a":' * 5000 + "1" + "}" * 5000, "{nope", "\xff\xfe"],
                         ids=["100k-deep array", "5000-deep object", "not json", "not utf-8"])
def test_malformed_bodies_are_a_vendor_400(desk, text):
    with desk.running() as sandbox:
        response = desk.session(sandbox).post(sandbox.url + desk.write_path, data=text.encode("latin-1"), headers=JSON)
        desk.assert_vendor_error(response, (400,))


@pytest.mark.parametrize("ticket", [
    {"subject": 5, "comment": {"body": "hello"}},
    {"subject": "Hi", "comment": {"body": 5}},
    {"subject": "Hi", "comment": {"body": "hello"}, "tags": "vip"},
    {"subject": "Hi", "comment": {"body": "hello"}, "priority": ["high"]},
    {"subject": "Hi", "comment": {"body": "hello"}, "group_id": "seven"},
    {"subject": "Hi", "description": 5},
], ids=["subject number", "comment body number", "tags string", "priority list", "group id text", "description number"])
def test_zendesk_mistyped_ticket_fields_are_422(ticket):
    desk = DESKS[0]
    with desk.running() as sandbox:
        response = desk.session(sandbox).post(sandbox.url + "/api/v2/tickets.json", json={"ticket": ticket})
        body = desk.assert_vendor_error(response, (422,))
        assert body["error"] == "RecordInvalid"


@pytest.mark.parametrize("text", ["", "null", "[]", '["project = SUP"]', "nope", '{"jql": 5}',
                                  '{"jql": "project = SUP", "maxResults": "many"}',
                                  '{"jql": "project = SUP", "fields": 5}', '{"jql": "project = SUP", "nextPageToken": 5}',
                                  '{"jql": "project = SUP", "properties": "x"}'])
def test_jsm_search_refuses_bodies_that_are_not_a_search(text):
    desk = DESKS[1]
    with desk.running() as sandbox:
        response = desk.session(sandbox).post(sandbox.url + "/rest/api/3/search/jql", data=text, headers=JSON)
        desk.assert_vendor_error(response, (400,))


def test_jsm_search_get_refuses_a_missing_jql_only_where_jira_does():
    desk = DESKS[1]
    with desk.running() as sandbox:
        http = desk.session(sandbox)
        assert http.post(sandbox.url + "/rest/api/3/search/jql", json={"jql": "project = SUP"}).status_code == 200
        assert http.get(sandbox.url + "/rest/api/3/search/jql", params={"jql": "project = SUP"}).status_code == 200


# ---------------------------------------------------------------- the kit's shared parts


def test_the_rate_limit_follows_the_sandbox_clock(desk):
    clock = FakeClock()
    options = {"rate_limits": {"account": 2}} if desk.name == "zendesk" else {"rate_limit_per_minute": 2}
    with desk.running(clock=clock, **options) as sandbox:
        http = desk.session(sandbox)
        statuses = [http.get(sandbox.url + desk.read_path).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = http.get(sandbox.url + desk.read_path)
        desk.assert_vendor_error(limited, (429,))
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        clock.advance(60)
        assert http.get(sandbox.url + desk.read_path).status_code == 200


def test_scheduled_faults_on_both_desks(desk):
    with desk.running() as sandbox:
        http = desk.session(sandbox)
        sandbox.inject(503, count=1, retry_after=4)
        failed = http.get(sandbox.url + desk.read_path)
        desk.assert_vendor_error(failed, (503,))
        assert failed.headers["Retry-After"] == "4"
        assert http.get(sandbox.url + desk.read_path).status_code == 200


def test_both_desks_take_spec(desk, shared):
    with desk.running(spec=shared) as sandbox:
        http = desk.session(sandbox)
        http.get(sandbox.url + desk.read_path)
        assert sandbox.violations() == []
        http.get(sandbox.url + ("/api/v2/nothing.json" if desk.name == "zendesk" else "/rest/servicedeskapi/nothing"))
        assert sandbox.violations(), "a path outside the vendor's spec is a violation"


# ---------------------------------------------------------------- listening


@pytest.mark.parametrize("name", ["zendesk", "jsm"])
@pytest.mark.parametrize("extra, expected", [
    ([], "--host 0.0.0.0 is not a loopback address"),
    (["--allow-remote"], "--host 0.0.0.0 with the default token"),
])
def test_a_non_loopback_host_needs_the_flag_and_a_token_of_ones_own(name, extra, expected):
    done = subprocess.run([sys.executable, "-m", "deskbook", "sandbox", name, "--host", "0.0.0.0", "--port", "0", *extra],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_the_host_rule_admits_a_remote_host_with_the_flag_and_a_secret():
    from deskbook.connectors.sandbox_kit.options import check_host
    from deskbook.errors import DeskbookError

    check_host("127.0.0.1", allow_remote=False, token="sandbox", where="w")
    check_host("0.0.0.0", allow_remote=True, token="a-secret-of-my-own", where="w")
    with pytest.raises(DeskbookError):
        check_host("192.0.2.7", allow_remote=False, token="a-secret-of-my-own", where="w")

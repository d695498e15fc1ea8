"""DeskSession: the one retry policy, counters, loopback rule; paginators."""

from __future__ import annotations

import pytest
import requests
import responses

from deskbook.errors import DeskbookError
from deskbook.http import (
    CursorPaginator,
    DeskHTTPError,
    DeskSession,
    OffsetPaginator,
    RetryPolicy,
    StartLimitPaginator,
    normalize_path,
    parse_retry_after,
)

BASE = "https://acme.zendesk.com"


def make_session(**policy) -> tuple[DeskSession, list[float]]:
    slept: list[float] = []
    session = DeskSession(BASE, auth=("a@example.com/token", "s3cret-token"), sleep=slept.append,
                          policy=RetryPolicy(**policy) if policy else None)
    return session, slept


@responses.activate
def test_429_waits_for_retry_after_then_succeeds():
    url = BASE + "/api/v2/macros.json"
    responses.get(url, status=429, headers={"Retry-After": "7"}, json={"error": "TooManyRequests"})
    responses.get(url, status=200, json={"macros": []})
    session, slept = make_session()
    assert session.get("/api/v2/macros.json").json() == {"macros": []}
    assert slept == [7.0]
    assert session.calls["GET /api/v2/macros"] == 2
    assert session.retries["GET /api/v2/macros"] == 1


@responses.activate
def test_5xx_and_connection_errors_are_retried_with_bounded_jittered_backoff():
    url = BASE + "/api/v2/groups"
    responses.get(url, status=503)
    responses.get(url, body=requests.ConnectionError("reset"))
    responses.get(url, status=500)
    responses.get(url, status=200, json={"groups": [{"id": 1}]})
    session, slept = make_session(backoff_base=1.0, backoff_max=3.0)
    assert session.get_json("/api/v2/groups")["groups"] == [{"id": 1}]
    assert len(slept) == 3
    assert all(0 <= s <= 3.0 for s in slept)
    assert session.calls["GET /api/v2/groups"] == 4


@responses.activate
def test_budget_exhausted_gives_one_clear_error():
    url = BASE + "/api/v2/triggers"
    responses.get(url, status=429, headers={"Retry-After": "40"}, json={"error": "TooManyRequests"})
    session, slept = make_session(budget_seconds=100)
    with pytest.raises(DeskHTTPError) as info:
        session.get("/api/v2/triggers", label="trigger 'Escalate'")
    # 40 + 40 fit into the 100 s budget, a third wait would not
    assert slept == [40.0, 40.0]
    text = str(info.value)
    assert "429" in text and "3 attempts" in text and "trigger 'Escalate'" in text
    assert "\n" not in text


@responses.activate
@pytest.mark.contract_exempt("sends a minimal invalid body to provoke a 422")
def test_422_is_fatal_at_once_and_names_object_and_vendor_details():
    url = BASE + "/api/v2/macros"
    responses.post(url, status=422, json={
        "error": "RecordInvalid", "description": "Record validation errors",
        "details": {"title": [{"description": "Title: cannot be blank", "error": "BlankValue"}]}})
    session, slept = make_session()
    with pytest.raises(DeskHTTPError) as info:
        session.post("/api/v2/macros", json={"macro": {}}, label="macro 'S-1 greeting'")
    err = info.value
    assert err.status == 422 and slept == [] and session.calls["POST /api/v2/macros"] == 1
    assert "RecordInvalid" in str(err) and "Title: cannot be blank" in str(err)
    assert str(err).startswith("macro 'S-1 greeting': ")
    assert "s3cret-token" not in str(err)


@responses.activate
def test_401_hint_mentions_credentials_not_the_token():
    responses.get(BASE + "/api/v2/users/me", status=401, json={"error": "Couldn't authenticate you"})
    session, _ = make_session()
    with pytest.raises(DeskHTTPError) as info:
        session.get("/api/v2/users/me")
    assert info.value.status == 401
    assert "authenticate" in str(info.value) and "API token" in str(info.value)
    assert "s3cret-token" not in str(info.value)


def test_plain_http_only_to_loopback():
    DeskSession("http://127.0.0.1:8080")
    DeskSession("http://localhost:1")
    with pytest.raises(DeskbookError, match="plain http"):
        DeskSession("http://acme.zendesk.com")
    with pytest.raises(DeskbookError):
        DeskSession("https://acme.zendesk.com").url_for("http://evil.example.com/x")


@responses.activate
def test_rate_limit_headers_are_remembered():
    responses.get(BASE + "/api/v2/views", json={"views": []},
                  headers={"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699"})
    session, _ = make_session()
    session.get("/api/v2/views")
    assert session.rate_limit["X-Rate-Limit-Remaining"] == "699"


def test_normalize_path_and_retry_after():
    assert normalize_path("https://x/api/v2/macros/123.json?a=1") == "/api/v2/macros/{id}"
    assert normalize_path("/rest/servicedeskapi/request/ABC-12") == "/rest/servicedeskapi/request/{id}"
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 10) == 10.0


@responses.activate
def test_cursor_pagination_stops_on_has_more_false_even_with_links_next():
    url = BASE + "/api/v2/macros"
    responses.get(url, match=[responses.matchers.query_param_matcher({"page[size]": "2"})], json={
        "macros": [{"id": 1}, {"id": 2}], "meta": {"has_more": True, "after_cursor": "c1"},
        "links": {"next": url + "?page[size]=2&page[after]=c1"}})
    responses.get(url, match=[responses.matchers.query_param_matcher({"page[size]": "2", "page[after]": "c1"})],
                  json={"macros": [{"id": 3}], "meta": {"has_more": False, "after_cursor": "c2"},
                        "links": {"next": url + "?page[size]=2&page[after]=c2"}})
    session, _ = make_session()
    ids = [m["id"] for m in CursorPaginator(page_size=2).iter_items(session, "/api/v2/macros", "macros")]
    assert ids == [1, 2, 3]
    assert session.calls["GET /api/v2/macros"] == 2


@responses.activate
def test_offset_pagination_follows_next_page():
    url = BASE + "/api/v2/slas/policies"
    responses.get(url, match=[responses.matchers.query_param_matcher({"per_page": "100"})],
                  json={"sla_policies": [{"id": 1}], "next_page": url + "?page=2"})
    responses.get(url, match=[responses.matchers.query_param_matcher({"page": "2"})],
                  json={"sla_policies": [{"id": 2}], "next_page": None})
    session, _ = make_session()
    items = list(OffsetPaginator().iter_items(session, "/api/v2/slas/policies", "sla_policies"))
    assert [i["id"] for i in items] == [1, 2]


@responses.activate
def test_start_limit_pagination_stops_on_is_last_page():
    url = BASE + "/rest/servicedeskapi/servicedesk"
    responses.get(url, match=[responses.matchers.query_param_matcher({"start": "0", "limit": "2"})],
                  json={"size": 2, "start": 0, "limit": 2, "isLastPage": False, "values": [{"id": 1}, {"id": 2}]})
    responses.get(url, match=[responses.matchers.query_param_matcher({"start": "2", "limit": "2"})],
                  json={"size": 1, "start": 2, "limit": 2, "isLastPage": True, "values": [{"id": 3}]})
    session, _ = make_session()
    items = list(StartLimitPaginator(limit=2).iter_items(session, "/rest/servicedeskapi/servicedesk", "values"))
    assert [i["id"] for i in items] == [1, 2, 3]


@responses.activate
@pytest.mark.contract_exempt("minimal bodies against a mocked endpoint")
def test_post_read_timeout_is_not_repeated_blindly_but_reported_as_ambiguous():
    url = BASE + "/api/v2/macros"
    responses.post(url, body=requests.ReadTimeout("slow"))
    responses.post(url, json={"macro": {"id": 1}}, status=201)
    session, slept = make_session()
    with pytest.raises(DeskHTTPError) as info:
        session.post("/api/v2/macros", json={"macro": {}})
    assert info.value.ambiguous and session.calls["POST /api/v2/macros"] == 1


@responses.activate
@pytest.mark.contract_exempt("minimal bodies against a mocked endpoint")
def test_post_with_idempotency_key_is_retried_after_read_timeout():
    url = BASE + "/api/v2/tickets"
    responses.post(url, body=requests.ReadTimeout("slow"))
    responses.post(url, json={"ticket": {"id": 1}}, status=201)
    session, slept = make_session()
    body = session.json_request("POST", "/api/v2/tickets", json={"ticket": {}}, headers={"Idempotency-Key": "k1"})
    assert body["ticket"]["id"] == 1 and len(slept) == 1

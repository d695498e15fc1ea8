"""DeskSession: the one retry policy, counters, loopback rule; paginators."""

from __future__ import annotations

import pytest
import requests
import responses

from deskbook.errors import DeskbookError
from deskbook.http import (
    AMBIGUOUS,
    FATAL,
    OK,
    RETRY,
    CursorPaginator,
    DeskHTTPError,
    DeskSession,
    OffsetPaginator,
    RetryPolicy,
    StartLimitPaginator,
    classify,
    is_idempotent,
    normalize_path,
    pages,
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
    # Zendesk job ids, as in the recordings and the spec's example: one counter for every job status
    assert normalize_path("/api/v2/job_statuses/V3-0b5a6293824601a4c59c0fe131439de8.json") == "/api/v2/job_statuses/{id}"
    assert normalize_path("/api/v2/job_statuses/82de0b044094f0c67893ac9fe64f1a99") == "/api/v2/job_statuses/{id}"
    assert normalize_path("/api/v2/job_statuses/show_many") == "/api/v2/job_statuses/show_many"
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


# ---------------------------------------------------------------- the one retry decision


@responses.activate
@pytest.mark.contract_exempt("minimal bodies against a mocked endpoint")
def test_post_without_idempotency_key_is_sent_once_when_the_server_answers_500():
    """Seen on a desk: a 500 then a 201 to the same POST made two objects. The POST is sent once and
    the caller gets an ambiguous error it can act on (look the object up by its marker first)."""
    url = BASE + "/api/v2/triggers"
    responses.post(url, status=500, json={"error": "InternalServerError"})
    responses.post(url, status=201, json={"trigger": {"id": 2}})
    session, slept = make_session()
    with pytest.raises(DeskHTTPError) as info:
        session.json_request("POST", "/api/v2/triggers", json={"trigger": {}}, label="trigger 'Escalate'")
    assert session.calls["POST /api/v2/triggers"] == 1 and slept == []
    err = info.value
    assert err.ambiguous and err.status == 500
    assert "may or may not have happened" in str(err) and "\n" not in str(err)
    # without raising, the caller reads the answer itself, and it is not ambiguous-retried either
    responses.post(url, status=502)
    response = session.request("POST", "/api/v2/triggers", json={"trigger": {}}, raise_for_status=False)
    assert response.status_code == 201 and session.calls["POST /api/v2/triggers"] == 2


@responses.activate
@pytest.mark.contract_exempt("minimal bodies against a mocked endpoint")
def test_idempotent_posts_are_retried_after_500():
    """An Idempotency-Key, or the caller's word that the POST only reads (a search), makes a 5xx retriable."""
    tickets, search = BASE + "/api/v2/tickets", BASE + "/rest/api/3/search/jql"
    for url, key in ((tickets, "ticket"), (search, "issues")):
        responses.post(url, status=500)
        responses.post(url, status=200, json={key: {"id": 1}})
    session, slept = make_session()
    session.json_request("POST", "/api/v2/tickets", json={"ticket": {}}, headers={"Idempotency-Key": "k1"})
    session.json_request("POST", "/rest/api/3/search/jql", json={"jql": "x"}, idempotent=True)
    assert len(slept) == 2
    assert session.calls["POST /api/v2/tickets"] == 2 and session.calls["POST /rest/api/3/search/jql"] == 2


def test_classify_is_the_one_retry_decision():
    import urllib3

    refused = requests.ConnectionError(urllib3.exceptions.MaxRetryError(
        None, "/x", reason=urllib3.exceptions.NewConnectionError(None, "refused")))
    post, keyed, put = ("POST", None), ("POST", {"Idempotency-Key": "k"}), ("PUT", None)
    table = [
        (post, dict(status=201), OK),
        (post, dict(status=429), RETRY),  # refused unexecuted
        (post, dict(status=403, edge_refusal=True), RETRY),  # the CDN's page, not the desk
        (post, dict(status=500), AMBIGUOUS),
        (post, dict(status=501), AMBIGUOUS),
        (keyed, dict(status=503), RETRY),
        (post, dict(status=503, idempotent=True), RETRY),  # the caller's word: a search
        (put, dict(status=500), RETRY),
        (put, dict(status=501), FATAL),  # a 5xx the policy does not retry
        (post, dict(status=422), FATAL),
        (put, dict(status=404), FATAL),
        (post, dict(error=requests.ReadTimeout("slow")), AMBIGUOUS),
        (post, dict(error=requests.ConnectionError("reset by peer")), AMBIGUOUS),
        (put, dict(error=requests.ReadTimeout("slow")), RETRY),
        (post, dict(error=requests.ConnectTimeout("never sent")), RETRY),
        (post, dict(error=refused), RETRY),
        (put, dict(error=ValueError("bug")), FATAL),
    ]
    for (method, headers), arguments, expected in table:
        assert classify(method, headers=headers, **arguments) == expected, (method, headers, arguments)
    assert is_idempotent("DELETE") and not is_idempotent("POST") and is_idempotent("post", {"idempotency-key": "k"})


# ---------------------------------------------------------------- one pagination loop


@responses.activate
def test_a_cursor_that_repeats_stops_the_one_loop_with_a_clear_error():
    url = BASE + "/api/v2/groups"
    responses.get(url, json={"groups": [{"id": 1}], "meta": {"has_more": True, "after_cursor": "c1"}})
    session, _ = make_session()
    with pytest.raises(DeskHTTPError, match="already read") as info:
        list(CursorPaginator().iter_items(session, "/api/v2/groups", "groups"))
    assert "\n" not in str(info.value)
    assert session.calls["GET /api/v2/groups"] == 2  # the first page, its follower, then the repeat is refused


@responses.activate
def test_pages_give_each_page_with_the_request_that_follows_it():
    """What a resumable reader (the sync desks) stores as its cursor is the next request."""
    url = BASE + "/rest/servicedeskapi/organization"
    responses.get(url, match=[responses.matchers.query_param_matcher({"start": "0", "limit": "2"})],
                  json={"size": 2, "isLastPage": False, "values": [{"id": 1}, {"id": 2}]})
    responses.get(url, match=[responses.matchers.query_param_matcher({"start": "2", "limit": "2"})],
                  json={"size": 1, "isLastPage": True, "values": [{"id": 3}]})
    session, _ = make_session()
    got = list(pages(session, StartLimitPaginator(limit=2), "/rest/servicedeskapi/organization"))
    assert [dict(p.next.params)["start"] if p.next else None for p in got] == [2, None]
    assert [p.last for p in got] == [False, True]

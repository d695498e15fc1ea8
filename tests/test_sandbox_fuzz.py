"""Fuzz both sandboxes' request parsing (issue 13, item 8): arbitrary methods, paths, query strings
and bodies — random bytes, arbitrary JSON, and JSON shaped like each desk's resources with field
values of any type — must never get a 5xx, a traceback or an HTML page: every refusal is a 4xx
in the vendor's JSON error shape.

Bounded for CI: one run with a fixed seed (`derandomize`) and a short random one per desk, each a
few seconds, against the WSGI app in-process (no sockets)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from deskbook.connectors.jsm.sandbox import build_app as build_jsm
from deskbook.connectors.zendesk.sandbox import build_app as build_zendesk
from deskbook.connectors.zendesk.sandbox.app import URL_MAP as ZENDESK_URL_MAP

#: Field names both desks read, so that generated objects reach the handlers' field logic.
FIELD_NAMES = (
    "name", "title", "description", "subject", "comment", "body", "html_body", "public", "tags", "status",
    "priority", "type", "actions", "conditions", "all", "any", "field", "operator", "value", "position", "active",
    "restriction", "ids", "id", "custom_fields", "organization_fields", "key", "custom_field_options",
    "variants", "locale_id", "default", "default_locale_id", "content", "intervals", "start_time", "end_time",
    "holidays", "start_date", "end_date", "filter", "policy_metrics", "metric", "target", "business_hours",
    "requester", "email", "external_id", "group_id", "organization_id", "category_id", "requester_id",
    "assignee_id", "additional_tags", "remove_tags", "time_zone", "raw_title", "execution", "columns",
    "group_by", "sort_by", "output", "role", "verified", "user_fields", "domain_names", "notes", "details",
    "issueTypeId", "helpText", "serviceDeskId", "requestTypeId", "requestFieldValues", "summary",
    "raiseOnBehalfOf", "requestParticipants", "organizationId", "accountIds", "emails", "displayName", "jql",
    "fields", "maxResults", "nextPageToken", "properties", "update", "labels", "add", "remove", "set", "rule",
    "trigger", "components", "state", "ruleScopeARIs", "goals", "duration", "calendarId", "limit", "cursor",
    "scope", "uuid", "actor", "schemaVersion", "component", "children", "startOn", "stopOn",
)
KEYS = st.sampled_from(FIELD_NAMES) | st.text(max_size=6)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
           | st.sampled_from(["", "0", "-1", "1e999", "SUP-1", "new", "solved", "is", "ENABLED", "2026-01-01"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
                           max_leaves=30)

ZENDESK_WRAPPERS = ("macro", "trigger", "trigger_category", "automation", "view", "group", "ticket_field",
                    "organization_field", "organization", "organizations", "user", "users", "ticket", "tickets",
                    "sla_policy", "item", "variant", "variants", "schedule", "workweek", "holiday", "custom_field_option",
                    "job", "macros", "triggers", "trigger_categories", "automations", "views")
JSM_WRAPPERS = ("rule", "requestFieldValues", "fields", "update", "value", "goals")
#: Values for the routes' path variables: ids that exist (seeded or made while fuzzing) and some that do not.
ZENDESK_IDS = [str(n) for n in (1, 2, 3, 10001, 10002, 2 ** 63, 10 ** 30, *range(360000000000, 360000000030))]
PATH_VALUES = {
    "object_id": ZENDESK_IDS, "option_id": ZENDESK_IDS, "variant_id": ZENDESK_IDS, "holiday_id": ZENDESK_IDS,
    "job_id": ["x", "V3-0"], "desk_id": ["1", "SUP", "9"], "type_id": ["1", "2", "x"], "key": ["SUP-1", "SUP-2", "10000", "X-9"],
    "org_id": ["1", "2", "3", "x"], "prop_key": ["deskbook.contract", "deskbook.sync", "p"],
    "rule_uuid": ["00000000-0000-4000-8000-000000000001"], "cloud_id": ["5f1c2b7e-0000-4000-8000-00000000d35c", "other"],
    "project_key": ["SUP", "NOPE"], "metric_id": ["1", "2", "9", str(10 ** 30)],
}
#: For a path variable without its own values (a route added later).
ANY_PATH_VALUE = ["1", "SUP", "SUP-1", "x"]
_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")


def routes(url_map) -> list[tuple[str, str]]:
    """(method, path template) of every route in a Werkzeug map."""
    return sorted({(method, rule.rule) for rule in url_map.iter_rules()
                   for method in (rule.methods or ()) if method not in ("HEAD", "OPTIONS")})


def concrete(template: str):
    """A path for a route template, its variables drawn from `PATH_VALUES`."""
    names = _VARIABLE.findall(template)
    if not names:
        return st.just(template)
    return st.tuples(*(st.sampled_from(PATH_VALUES.get(name, ANY_PATH_VALUE)) for name in names)).map(
        lambda values: _VARIABLE.sub(lambda m, it=iter(values): next(it), template))


QUERY_NAMES = ("page", "per_page", "page[size]", "page[after]", "page[before]", "query", "filter[type]", "start_time",
               "cursor", "external_id", "name", "ids", "active", "category_id", "role", "start", "limit", "jql",
               "maxResults", "nextPageToken", "fields", "properties", "searchQuery", "startAt", "expand", "state",
               "trigger", "scope", "accountId", "email")


def requests_for(url_map, wrappers: tuple[str, ...], suffix: str = ""):
    """(method, path, query, body bytes) for one desk."""
    body = st.one_of(
        st.binary(max_size=64),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.tuples(st.sampled_from(wrappers), JSON_VALUES).map(lambda kv: json.dumps({kv[0]: kv[1]}).encode()),
        st.tuples(st.sampled_from(wrappers), st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=8))
        .map(lambda kv: json.dumps({kv[0]: kv[1]}).encode()),
    )
    query = st.dictionaries(st.sampled_from(QUERY_NAMES), st.text(max_size=24) | st.integers().map(str) | st.sampled_from(["-1", "0", str(2 ** 63), str(10 ** 30)]), max_size=3)
    route = st.sampled_from(routes(url_map)).flatmap(
        lambda mt: st.tuples(st.just(mt[0]), concrete(mt[1]).map(lambda p: p + suffix)))
    return st.tuples(route, query, body).map(lambda r: (r[0][0], r[0][1], r[1], r[2]))


def assert_answers_like_a_desk(client: Client, auth: tuple[str, str], request) -> None:
    method, path, query, body = request
    response = client.open(path, method=method, query_string=query, data=body, auth=auth,
                           headers={"Content-Type": "application/json", "X-ExperimentalApi": "opt-in"})
    text = response.get_data(as_text=True)
    assert response.status_code < 500, f"{method} {path}?{query} {body[:200]!r} -> {response.status_code} {text[:300]}"
    if response.status_code >= 400:
        assert response.mimetype == "application/json", f"{method} {path}: {response.mimetype} {text[:200]}"
        json.loads(text)
    assert "Traceback" not in text


def zendesk_client():
    unlimited = {"account": 10 ** 9, "incremental": 10 ** 9, "search_export": 10 ** 9}
    app = build_zendesk(seed_orgs=3, export_lag_seconds=0, rate_limits=unlimited)
    return app, Client(app), (f"{app.email}/token", app.token)


def jsm_client():
    from deskbook.connectors.jsm.sandbox.app import seed_organizations

    app = build_jsm()
    seed_organizations(app.store, 3)
    return app, Client(app), (app.config.email, app.config.token)


DESKS = {"zendesk": (zendesk_client, requests_for(ZENDESK_URL_MAP, ZENDESK_WRAPPERS, ".json")),
         "jsm": (jsm_client, requests_for(build_jsm().url_map, JSM_WRAPPERS))}
QUICK = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def fuzz(desk: str, **budget) -> None:
    make, strategy = DESKS[desk]
    app, client, auth = make()

    @settings(**QUICK, **budget)
    @given(strategy)
    def one(request):
        assert_answers_like_a_desk(client, auth, request)

    try:
        one()
    finally:
        app.store.close()


@pytest.mark.parametrize("desk", sorted(DESKS))
def test_fixed_seed_fuzz_finds_no_5xx(desk):
    fuzz(desk, derandomize=True, max_examples=600)


@pytest.mark.parametrize("desk", sorted(DESKS))
def test_random_fuzz_finds_no_5xx(desk):
    fuzz(desk, max_examples=150, print_blob=True)

"""The sandbox's answers have at least the keys real Zendesk answered with (../shared/zendesk/recordings)."""

from __future__ import annotations

import json
import re

import pytest
import requests

from deskbook.connectors.zendesk.sandbox import running_sandbox

#: Create endpoints we serve whose recorded requests we replay.
CREATE_PATHS = re.compile(
    r"^/api/v2/(macros|triggers|automations|views|groups|ticket_fields|organization_fields|organizations|tickets|users)"
    r"(/create_many)?\.json$"
)
#: Keys that only exist on a real account (sideloaded audits' metadata, brands, forms...) — not ours to mimic.
ACCOUNT_ONLY_KEYS = {"custom_status_id", "ticket_form_id", "iana_time_zone"}


def _recorded(shared, predicate):
    for path in sorted((shared / "zendesk" / "recordings").glob("*.json")):
        for exchange in json.loads(path.read_text()):
            if predicate(exchange):
                yield path.name, exchange


def _missing_keys(recorded, ours, where="$"):
    """Keys present in the recorded JSON but absent in ours (dicts recursively, lists by first item)."""
    problems = []
    if isinstance(recorded, dict) and isinstance(ours, dict):
        for key, value in recorded.items():
            if key in ACCOUNT_ONLY_KEYS:
                continue
            if key not in ours:
                problems.append(f"{where}.{key}")
            elif key not in ("organization_fields", "user_fields", "metadata", "events", "via", "execution"):
                problems += _missing_keys(value, ours[key], f"{where}.{key}")
    elif isinstance(recorded, list) and isinstance(ours, list) and recorded and ours:
        problems += _missing_keys(recorded[0], ours[0], f"{where}[0]")
    return problems


@pytest.fixture(scope="module")
def desk():
    with running_sandbox() as handle:
        yield handle


@pytest.mark.contract_exempt("replays real recorded bodies, some of which disagree with the spec")
def test_replayed_creates_answer_with_the_recorded_status_and_keys(shared, desk):
    session = requests.Session()
    session.auth = desk.auth
    checked, problems = set(), []
    for name, exchange in _recorded(shared, lambda e: e["method"] == "POST" and CREATE_PATHS.match(e["path"])
                                    and e["status"] in (200, 201)):
        key = (exchange["path"], exchange["status"])
        if key in checked:
            continue
        body = json.loads(json.dumps(exchange["request_json"]).replace("6130907993114", "360000000000"))
        answer = session.post(desk.url + exchange["path"], json=body)
        if answer.status_code != exchange["status"]:
            problems.append(f"{name} {exchange['path']}: {answer.status_code} {answer.text[:300]}")
            continue
        checked.add(key)
        problems += [f"{name} {exchange['path']}: missing {p}" for p in _missing_keys(exchange["response_json"], answer.json())]
    assert not problems, "\n".join(problems)
    assert len({p for p, _ in checked}) >= 10


@pytest.mark.parametrize("path, query", [
    ("/api/v2/organizations.json", {"page[size]": "1"}),
    ("/api/v2/tickets.json", {"page[size]": "100"}),
    ("/api/v2/users.json", {"page[size]": "100"}),
])
def test_cursor_lists_have_the_recorded_envelope(shared, desk, path, query):
    session = requests.Session()
    session.auth = desk.auth
    session.post(desk.url + "/api/v2/organizations.json", json={"organization": {"name": "Shape Co"}})
    session.post(desk.url + "/api/v2/tickets.json", json={"ticket": {"subject": "s", "comment": {"body": "b"}}})
    recorded = next(e for _, e in _recorded(shared, lambda e: e["path"] == path and e["method"] == "GET"
                                           and dict(e["query"]) == query and e["status"] == 200))
    answer = session.get(desk.url + path, params=query).json()
    assert not _missing_keys(recorded["response_json"], answer)


def test_exports_and_jobs_have_the_recorded_envelope(shared, desk):
    session = requests.Session()
    session.auth = desk.auth
    job = session.post(desk.url + "/api/v2/tickets/create_many.json",
                       json={"tickets": [{"subject": "a", "comment": {"body": "b"}}]}).json()
    for path, url in [
        ("/api/v2/incremental/tickets/cursor.json", "/api/v2/incremental/tickets/cursor.json?start_time=0"),
        ("/api/v2/incremental/tickets.json", None),
        ("/api/v2/search/export.json", "/api/v2/search/export.json?query=type:user&filter[type]=user&page[size]=1"),
    ]:
        recorded = next(e for _, e in _recorded(shared, lambda e: e["path"] == path and e["status"] == 200))
        if url is None:
            continue
        answer = session.get(desk.url + url).json()
        assert not _missing_keys(recorded["response_json"], answer), path
    recorded_job = next(e for _, e in _recorded(shared, lambda e: e["path"] == "/api/v2/tickets/create_many.json"
                                                and e["status"] == 200))
    assert not _missing_keys(recorded_job["response_json"], job)
    done = session.get(job["job_status"]["url"]).json()
    assert done["job_status"]["status"] == "completed" and done["job_status"]["results"][0]["id"]
    too_many = session.post(desk.url + "/api/v2/organizations/create_many.json",
                            json={"organizations": [{"name": f"o{n}"} for n in range(101)]})
    recorded_error = next(e for _, e in _recorded(shared, lambda e: e["path"] == "/api/v2/organizations/create_many.json"
                                                  and e["status"] == 400))
    assert too_many.status_code == 400 and too_many.json() == recorded_error["response_json"]

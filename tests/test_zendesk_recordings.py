"""The connector's read path over real Zendesk responses (../shared/zendesk/recordings).

The recordings hold the objects a real account returned on create/update/list; they are served
back as list pages (cursor pages end with `has_more: false` and a non-null `links.next`, as the
real API does) and the connector populates, parses markers, and plans over them.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from deskbook.connectors.zendesk import compare as zcompare
from deskbook.connectors.zendesk.client import ENDPOINTS, as_zenpy
from deskbook.connectors.zendesk.connector import ZendeskConnector
from deskbook.connectors.zendesk.translate import marker
from deskbook.plan import UPDATE
from deskbook.scripts_library import load_library

from test_zendesk_translate import sample_playbook

BASE = "https://example.zendesk.com"
_PLURAL_PATH = {ep.path: kind for kind, ep in ENDPOINTS.items()}


def recorded_objects(shared) -> dict[str, dict]:
    """kind -> {id: object} from every successful recorded create/update/list of a managed kind."""
    found: dict[str, dict] = defaultdict(dict)
    for file in sorted((shared / "zendesk/recordings").glob("*.json")):
        for exchange in json.loads(file.read_text(encoding="utf-8")):
            if not (200 <= exchange["status"] < 300) or not isinstance(exchange["response_json"], dict):
                continue
            path = re.sub(r"\.json$", "", exchange["path"])
            path = re.sub(r"/\d+$", "", path)
            path = re.sub(r"/(active|compact)$", "", path)
            kind = _PLURAL_PATH.get(path)
            if kind is None:
                continue
            body = exchange["response_json"]
            ep = ENDPOINTS[kind]
            items = body.get(ep.plural) or ([body[ep.singular]] if isinstance(body.get(ep.singular), dict) else [])
            for obj in items:
                if isinstance(obj, dict) and obj.get("id") is not None:
                    found[kind][obj["id"]] = obj
    return found


def serve(mock: responses.RequestsMock, objects: dict[str, dict]) -> None:
    """Register each kind's list endpoint: two cursor pages, or one offset page."""
    for kind, ep in ENDPOINTS.items():
        items = list(objects.get(kind, {}).values())

        def callback(request, items=items, ep=ep):
            query = parse_qs(urlsplit(request.url).query)
            if not ep.cursor:
                return 200, {}, json.dumps({ep.plural: items, "next_page": None, "previous_page": None,
                                            "count": len(items)})
            half = len(items) // 2
            if "page[after]" in query:
                page, has_more = items[half:], False
            else:
                page, has_more = items[:half], True
            url = BASE + ep.path
            return 200, {"X-Rate-Limit": "700"}, json.dumps({
                ep.plural: page,
                "meta": {"has_more": has_more, "after_cursor": "next-cursor", "before_cursor": None},
                # the real API keeps links.next on the last page: the client must stop on has_more
                "links": {"prev": None, "next": f"{url}?page%5Bafter%5D=next-cursor&page%5Bsize%5D=100"},
            })

        mock.add_callback(responses.GET, re.compile(re.escape(BASE + ep.path) + r"(\.json)?(\?.*)?$"),
                          callback=callback)


@pytest.fixture(scope="module")
def objects(shared):
    found = recorded_objects(shared)
    assert {"macro", "trigger", "automation", "group", "ticket_field", "organization_field", "view"} <= set(found)
    return found


def connector() -> ZendeskConnector:
    return ZendeskConnector.connect(BASE, "agent@example.com", "recorded-token", sleep=lambda s: None)


def test_populate_reads_every_recorded_object(objects):
    with responses.RequestsMock() as mock:
        serve(mock, objects)
        zd = connector()
        snapshot = zd.populate("standard-service")
    for kind, by_id in objects.items():
        got = {e.id for e in snapshot.existing if e.kind == kind}
        assert got == set(by_id), kind
    assert all(e.owner is None for e in snapshot.existing)  # nothing in the real account is ours
    assert all(e.name for e in snapshot.existing if e.kind in ("macro", "trigger", "view", "group"))
    # one read per page: two cursor pages per kind, despite links.next on the last page
    for kind, ep in ENDPOINTS.items():
        assert zd.session.calls[f"GET {ep.path}"] == (2 if ep.cursor else 1)


def test_recorded_objects_normalize_and_parse_with_zenpy(objects):
    for kind, by_id in objects.items():
        for obj in by_id.values():
            zcompare.normalize(kind, obj)
            typed = as_zenpy(kind, obj)
            assert typed.id == obj["id"]


def test_plan_over_recorded_objects_carrying_our_markers(objects):
    """Stamp our marker onto one real object per kind: the plan updates it, by meaning."""
    playbook = sample_playbook()
    library = load_library()
    zd = connector()
    desired = zd.desired_objects(playbook, library)
    stamped: dict[str, tuple] = {}
    objects = {k: dict(v) for k, v in objects.items()}
    for kind, by_id in objects.items():
        target = next((d for d in desired if d.kind == kind), None)
        if target is None or kind not in ("macro", "trigger", "group", "ticket_field", "view"):
            continue
        first_id = next(iter(by_id))
        obj = dict(by_id[first_id])
        attribute = zcompare.MARKER_ATTRIBUTE[kind]
        obj[attribute] = f"{obj.get(attribute) or ''} {marker(playbook, target.key)}".strip()
        by_id[first_id] = obj
        stamped[kind] = (first_id, target.key)
    with responses.RequestsMock() as mock:
        serve(mock, objects)
        snapshot = zd.populate(playbook.metadata.name)
    plan = zd.plan(playbook.metadata.name, desired, snapshot)
    updates = {c.kind: c for c in plan.changes if c.action == UPDATE}
    for kind, (object_id, key) in stamped.items():
        assert updates[kind].id == object_id and updates[kind].key == key
        assert updates[kind].diff and all(isinstance(d, str) for d in updates[kind].diff)
    json.dumps(plan.to_json(), default=str)  # serialisable

"""Rule order in plan/apply: trigger categories, triggers, macros, automations and views follow the
playbook's order through their Zendesk `position`, with one bulk write per kind and without
touching rules deskbook does not own; the sandbox lists and updates positions as Zendesk does."""

from __future__ import annotations

import dataclasses
import time

import pytest

from deskbook.connectors.base import render_plan
from deskbook.connectors.commands import make_plan
from deskbook.connectors.zendesk import compare as zcompare
from deskbook.connectors.zendesk.connector import ZendeskConnector, natural_order, position_key, rule_positions
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.http import DeskHTTPError, RetryPolicy
from deskbook.playbooks.loader import load_playbook
from deskbook.plan import CREATE, DELETE, REORDER, Change
from deskbook.scripts_library import load_library

PLAYBOOK = load_playbook()  # the shipped standard playbook: 4 trigger categories, 10 triggers, 23 macros...
NAME = PLAYBOOK.metadata.name
#: Playbook attribute holding each positioned kind's elements, in playbook order.
ELEMENTS = {"trigger_category": "trigger_categories", "trigger": "triggers", "macro": "macros",
            "automation": "automations", "view": "views"}
BULK_WRITE = {"trigger_category": "POST /api/v2/trigger_categories/jobs",
              "trigger": "PUT /api/v2/triggers/update_many", "macro": "PUT /api/v2/macros/update_many",
              "automation": "PUT /api/v2/automations/update_many", "view": "PUT /api/v2/views/update_many"}


@pytest.fixture(scope="module")
def library():
    return load_library()


@pytest.fixture()
def desk():
    with running_sandbox() as handle:
        yield handle


def connector_for(desk) -> ZendeskConnector:
    return ZendeskConnector.connect(desk.url, desk.email, desk.token, sleep=lambda seconds: None)


def install(connector, playbook, library):
    plan, snapshot = make_plan(connector, playbook, library)
    connector.guard(plan, snapshot)
    connector.apply(plan, snapshot)
    return plan


def element_key(kind: str, element) -> str:
    return element[0] if kind == "trigger_category" else element.key


def playbook_keys(playbook, kind: str) -> list[str]:
    return [element_key(kind, e) for e in getattr(playbook, ELEMENTS[kind])]


def managed_order(connector: ZendeskConnector, kind: str, playbook_name: str = NAME) -> list[str]:
    """Keys of the managed objects of `kind` in Zendesk's order (position, then id; macros are
    listed alphabetically by default, so the listing is sorted here)."""
    keys = []
    for obj in sorted(connector.client.list(kind), key=position_key):
        owner = zcompare.ownership(kind, obj, playbook_name)
        if owner and owner[0] == playbook_name:
            keys.append(owner[1])
    return keys


def writes_since(desk, start: int) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in desk.requests()[start:] if r["method"] != "GET"]


def hand_trigger(connector: ZendeskConnector, title: str) -> dict:
    return connector.client.create("trigger", {"title": title, "conditions": {"all": [
        {"field": "update_type", "operator": "is", "value": "Create"}]}, "actions": [
        {"field": "priority", "value": "low"}]})


# ------------------------------------------------------------------ pure order logic


def test_rule_positions_gives_the_managed_slots_in_playbook_order():
    # managed a,b,c hold positions 2,5,9 (unmanaged rules sit at the others); playbook order c,a,b
    assert rule_positions([("c", 9), ("a", 2), ("b", 5)]) == [("c", 2), ("a", 5), ("b", 9)]
    # already in order: nothing to write
    assert rule_positions([("a", 1), ("b", 4), ("c", 7)]) == []
    # only the rules whose position changes are written
    assert rule_positions([("a", 1), ("c", 7), ("b", 4), ("d", 9)]) == [("c", 4), ("b", 7)]


def test_rule_positions_spreads_tied_slots_so_order_does_not_depend_on_ids():
    moved = rule_positions([("b", 10000), ("a", 10000), ("c", 10000)])
    assert moved == [("a", 10001), ("c", 10002)]  # b keeps 10000
    final = {"a": 10001, "b": 10000, "c": 10002}
    assert sorted(final, key=final.get) == ["b", "a", "c"]


def test_natural_order_drops_deletes_and_appends_creates():
    def rule(object_id, position, key=None):
        text = "by hand" + (f" [deskbook:{NAME}:{key}]" if key else "")
        return {"id": object_id, "position": position, "title": f"rule {object_id}", "description": text}

    raw = [rule(3, 2, "b"), rule(1, 1, "a"), rule(2, 3), rule(4, 4, "gone")]
    changes = [Change(DELETE, "trigger", "gone", "gone", 4), Change(CREATE, "trigger", "new", "c")]
    assert natural_order("trigger", raw, NAME, changes) == [("mine", "a"), ("mine", "b"), ("other", 2),
                                                            ("mine", "c")]


# ------------------------------------------------------------------ against the sandbox


def test_first_install_lands_in_playbook_order_without_a_reorder(desk, library):
    connector = connector_for(desk)
    before = [hand_trigger(connector, "Hand trigger 1"), hand_trigger(connector, "Hand trigger 2")]
    plan = install(connector, PLAYBOOK, library)
    assert [c for c in plan.changes if c.action == REORDER] == []  # Zendesk appends; creates go in order
    for kind in ELEMENTS:
        assert managed_order(connector, kind) == playbook_keys(PLAYBOOK, kind), kind
    listed = connector.client.list("trigger")
    positions = [t["position"] for t in listed]
    assert positions == sorted(positions)  # the sandbox lists triggers by position, as Zendesk does
    assert [t["id"] for t in listed[:2]] == [t["id"] for t in before]


def test_moving_one_trigger_plans_one_reorder_and_keeps_unmanaged_positions(desk, library):
    connector = connector_for(desk)
    hand_trigger(connector, "Hand trigger first")
    install(connector, PLAYBOOK, library)
    hand_trigger(connector, "Hand trigger last")
    unmanaged_before = {t["id"]: t["position"] for t in connector.client.list("trigger")
                        if zcompare.ownership("trigger", t, NAME) is None}
    assert len(unmanaged_before) == 2

    triggers = list(PLAYBOOK.triggers)
    triggers.insert(0, triggers.pop(4))  # move the fifth trigger to the front
    moved = dataclasses.replace(PLAYBOOK, triggers=tuple(triggers))
    plan, snapshot = make_plan(connector, moved, library)
    assert [(c.action, c.kind) for c in plan.changes] == [(REORDER, "trigger")], render_plan(plan)

    start = len(desk.requests())
    connector.guard(plan, snapshot)
    connector.apply(plan, snapshot)
    assert writes_since(desk, start) == ["PUT /api/v2/triggers/update_many"]  # one bulk request

    assert managed_order(connector, "trigger") == [t.key for t in triggers]
    unmanaged_after = {t["id"]: t["position"] for t in connector.client.list("trigger")
                       if zcompare.ownership("trigger", t, NAME) is None}
    assert unmanaged_after == unmanaged_before
    replan, _ = make_plan(connector, moved, library)
    assert not replan.has_changes, render_plan(replan)

    # and back: the shipped order again, still one reorder
    back, snapshot = make_plan(connector, PLAYBOOK, library)
    assert [(c.action, c.kind) for c in back.changes] == [(REORDER, "trigger")]
    connector.apply(back, snapshot)
    assert managed_order(connector, "trigger") == playbook_keys(PLAYBOOK, "trigger")


@pytest.mark.parametrize("kind", ["trigger_category", "macro", "automation", "view"])
def test_reversed_kind_is_one_reorder_with_one_bulk_write(desk, library, kind):
    connector = connector_for(desk)
    install(connector, PLAYBOOK, library)
    reversed_playbook = dataclasses.replace(PLAYBOOK, **{ELEMENTS[kind]: getattr(PLAYBOOK, ELEMENTS[kind])[::-1]})
    plan, snapshot = make_plan(connector, reversed_playbook, library)
    assert [(c.action, c.kind) for c in plan.changes] == [(REORDER, kind)], render_plan(plan)
    start = len(desk.requests())
    connector.apply(plan, snapshot)
    assert writes_since(desk, start) == [BULK_WRITE[kind]]
    assert managed_order(connector, kind) == playbook_keys(reversed_playbook, kind)
    replan, _ = make_plan(connector, reversed_playbook, library)
    assert not replan.has_changes, render_plan(replan)


def test_sandbox_cursor_pages_follow_position_order(desk):
    connector = connector_for(desk)
    made = [hand_trigger(connector, f"Hand trigger {n}") for n in range(5)]
    # reverse their order in one bulk update, then read them back 2 per page
    connector.client.update_positions("trigger", [(t["id"], 10 - n) for n, t in enumerate(made)])
    pages, url = [], "/api/v2/triggers"
    params = {"page[size]": 2}
    while True:
        body = connector.session.get_json(url, params=params)
        pages.append([t["id"] for t in body["triggers"]])
        if not body["meta"]["has_more"]:
            break
        params = {"page[size]": 2, "page[after]": body["meta"]["after_cursor"]}
    assert [i for page in pages for i in page] == [t["id"] for t in reversed(made)]
    assert all(len(page) <= 2 for page in pages)


@pytest.mark.contract_exempt("sends update_many and batch jobs Zendesk refuses, to check the sandbox refuses them")
def test_sandbox_refuses_bad_position_updates(desk):
    connector = connector_for(desk)
    trigger = hand_trigger(connector, "Hand trigger")
    session = connector.session
    macro = connector.client.create("macro", {"title": "Hand macro", "actions": [{"field": "status", "value": "open"}]})
    bad = session.request("PUT", "/api/v2/macros/update_many", raise_for_status=False,
                          json={"macros": [{"id": macro["id"], "title": "x"}]})
    assert bad.status_code == 422
    wrong_type = session.request("PUT", "/api/v2/triggers/update_many", raise_for_status=False,
                                 json={"triggers": [{"id": trigger["id"], "position": "first"}]})
    assert wrong_type.status_code == 422
    job = session.request("POST", "/api/v2/trigger_categories/jobs", raise_for_status=False,
                          json={"job": {"action": "patch", "items": {"trigger_categories": [{"id": "999", "position": 1}]}}})
    assert job.status_code == 400 and "does not exist" in job.json()["errors"][0]["detail"]
    unchanged = session.get_json(f"/api/v2/triggers/{trigger['id']}")["trigger"]
    assert unchanged["position"] == trigger["position"]


def test_reorder_converges_under_fault_rate_0_2(library):
    with running_sandbox(seed=11, fault_slow_seconds=0.4) as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token, sleep=lambda seconds: None,
                                             timeout=0.25, policy=RetryPolicy(max_attempts=12))
        install(connector, PLAYBOOK, library)
        desk.app.faults.rate = 0.2  # from here on, one request in five fails or answers too late
        retries_before = sum(connector.session.retries.values())
        reversed_playbook = dataclasses.replace(PLAYBOOK, **{name: getattr(PLAYBOOK, name)[::-1]
                                                             for name in ELEMENTS.values()})
        for _ in range(4):
            try:
                plan = install(connector, reversed_playbook, library)
            except DeskHTTPError:  # the retry budget ran out on one call: re-run, as an admin would
                continue
            if not plan.has_changes:
                break
        desk.app.faults.rate = 0.0
        assert sum(connector.session.retries.values()) > retries_before
        replan, _ = make_plan(connector, reversed_playbook, library)
        assert not replan.has_changes, render_plan(replan)
        for kind in ELEMENTS:
            assert managed_order(connector, kind) == playbook_keys(reversed_playbook, kind), kind
        time.sleep(0.5)  # let answers the client gave up on finish before the sandbox closes


def test_a_new_macro_after_a_reorder_joins_in_playbook_order(desk, library):
    connector = connector_for(desk)
    install(connector, PLAYBOOK, library)
    without_first = dataclasses.replace(PLAYBOOK, macros=PLAYBOOK.macros[1:][::-1])
    install(connector, without_first, library)  # deletes one macro, spreads the others' positions
    # the deleted macro comes back last in the playbook, but Zendesk gives a new macro a default
    # position (10000 in the sandbox) that puts it second: only apply can see that and fix it
    macros = [*without_first.macros, PLAYBOOK.macros[0]]
    grown = dataclasses.replace(PLAYBOOK, macros=tuple(macros))
    plan, snapshot = make_plan(connector, grown, library)
    # (its phrase's dynamic content item comes back too)
    assert [c.action for c in plan.changes if c.kind == "macro"] == [CREATE, REORDER], render_plan(plan)
    connector.apply(plan, snapshot)
    assert managed_order(connector, "macro") == [m.key for m in macros]
    replan, _ = make_plan(connector, grown, library)
    assert not replan.has_changes, render_plan(replan)

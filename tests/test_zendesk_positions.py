"""Rule order in plan/apply: trigger categories, triggers, macros, automations and views follow the
playbook's order through their Zendesk `position`, with one bulk write per kind and without
touching rules deskbook does not own; the sandbox lists and updates positions as Zendesk does.
Triggers fire by category (category position), then by position within the category: their
wanted order is (playbook category order, playbook order within the category)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from deskbook.connectors.base import render_plan
from deskbook.connectors.commands import make_plan
from deskbook.connectors.zendesk import compare as zcompare
from deskbook.connectors.zendesk.connector import (
    ZendeskConnector,
    category_firing_order,
    joins_managed,
    moves_category,
    natural_order,
    position_key,
    rule_positions,
    trigger_categories_of,
    trigger_firing_key,
)
from deskbook.connectors.zendesk.translate import desired_objects
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.http import DeskHTTPError, RetryPolicy
from deskbook.playbooks.loader import load_playbook
from deskbook.plan import CREATE, DELETE, REORDER, UPDATE, Change
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
    """The playbook's keys of `kind` in the order Zendesk should hold them: for triggers the firing
    order (grouped by category in playbook category order, playbook order within a category)."""
    keys = [element_key(kind, e) for e in getattr(playbook, ELEMENTS[kind])]
    if kind == "trigger":
        from deskbook.playbooks.guardrail import guard_rules

        # the C-1 guardrail's triggers follow the playbook's own, in the guardrail's category
        guards = [r.key for r in guard_rules(playbook)]
        keys += guards
        rank = {key: n for n, (key, _) in enumerate(playbook.trigger_categories)}
        category = {t.key: t.category for t in playbook.triggers}
        category.update({key: playbook.guardrail.trigger_category for key in guards})
        keys.sort(key=lambda key: rank[category[key]])
    return keys


def desk_order(connector: ZendeskConnector, kind: str) -> list[dict]:
    """Every object of `kind` in Zendesk's order: triggers as they fire (category position, then
    position), others by position, then id (macros are listed alphabetically by default)."""
    if kind == "trigger":
        categories = connector.client.list("trigger_category")
        fired = sorted(connector.client.list("trigger"), key=lambda t: (
            next(position_key(c) for c in categories if str(c["id"]) == str(t["category_id"])), position_key(t)))
        return fired
    return sorted(connector.client.list(kind), key=position_key)


def managed_order(connector: ZendeskConnector, kind: str, playbook_name: str = NAME) -> list[str]:
    """Keys of the managed objects of `kind` in Zendesk's order (`desk_order`)."""
    keys = []
    for obj in desk_order(connector, kind):
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
    triggers.insert(0, triggers.pop(4))  # move the fifth trigger (a routing one) to the front
    moved = dataclasses.replace(PLAYBOOK, triggers=tuple(triggers))
    plan, snapshot = make_plan(connector, moved, library)
    assert [(c.action, c.kind) for c in plan.changes] == [(REORDER, "trigger")], render_plan(plan)

    start = len(desk.requests())
    connector.guard(plan, snapshot)
    connector.apply(plan, snapshot)
    assert writes_since(desk, start) == ["PUT /api/v2/triggers/update_many"]  # one bulk request

    # it fires first among the routing triggers: categories still come first
    assert managed_order(connector, "trigger") == playbook_keys(moved, "trigger")
    routing = [t.key for t in triggers if t.category == "routing"]
    assert managed_order(connector, "trigger")[2:2 + len(routing)] == routing
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


# ------------------------------------------------------------------ triggers: category first, then position


def test_category_firing_order_groups_by_category_and_keeps_order_within():
    category_of = {"a1": "A", "b1": "B", "a2": "A", "b2": "B", "x": "gone"}
    keys = ["a1", "b1", "a2", "b2", "x"]
    assert category_firing_order(keys, category_of, ["A", "B"]) == ["a1", "a2", "b1", "b2", "x"]
    assert category_firing_order(keys, category_of, ["B", "A"]) == ["b1", "b2", "a1", "a2", "x"]
    # within a category the given order decides, whatever the keys
    assert category_firing_order(["a2", "b1", "a1"], category_of, ["A", "B"]) == ["a2", "a1", "b1"]


def test_trigger_firing_key_orders_by_category_position_then_trigger_position():
    categories = [{"id": "20", "position": 2}, {"id": "10", "position": 1}, {"id": "30", "position": 0}]
    triggers = [{"id": 1, "position": 1, "category_id": "10"}, {"id": 2, "position": 9, "category_id": "30"},
                {"id": 3, "position": 1, "category_id": "20"}, {"id": 4, "position": 0, "category_id": "20"},
                {"id": 5, "position": 5, "category_id": "10"}, {"id": 6, "position": 0, "category_id": "404"}]
    fired = [t["id"] for t in sorted(triggers, key=trigger_firing_key(categories))]
    # category 30 (position 0), then 10, then 20; by position inside each; unknown category last
    assert fired == [2, 1, 5, 4, 3, 6]


def test_trigger_categories_of_reads_the_category_ref():
    library = load_library()
    desired = desired_objects(PLAYBOOK, library)
    from deskbook.playbooks.guardrail import guard_rules

    wanted = {t.key: t.category for t in PLAYBOOK.triggers}
    wanted.update({r.key: PLAYBOOK.guardrail.trigger_category for r in guard_rules(PLAYBOOK)})
    assert trigger_categories_of(desired) == wanted


def test_natural_order_of_triggers_follows_firing_order_when_categories_are_given():
    def rule(object_id, position, category, key=None):
        text = "by hand" + (f" [deskbook:{NAME}:{key}]" if key else "")
        return {"id": object_id, "position": position, "category_id": category, "title": f"t{object_id}",
                "description": text}

    categories = [{"id": "7", "position": 1}, {"id": "8", "position": 0}]
    # positions restart in each category, as Zendesk's batch job example numbers them
    raw = [rule(1, 1, "7", "a1"), rule(2, 2, "7", "a2"), rule(3, 1, "8", "b1"), rule(4, 2, "8")]
    assert natural_order("trigger", raw, NAME, [], categories=categories) == [
        ("mine", "b1"), ("other", 4), ("mine", "a1"), ("mine", "a2")]
    assert natural_order("trigger", raw, NAME, []) == [  # by position only: meaningless across categories
        ("mine", "a1"), ("mine", "b1"), ("mine", "a2"), ("other", 4)]


def test_moves_category_only_when_the_target_holds_other_managed_triggers():
    category_of = {"a1": "A", "a2": "A", "b1": "B"}
    ids = {("trigger_category", "A"): "100", ("trigger_category", "B"): "200"}

    def update(key, current_category):
        return Change(UPDATE, "trigger", key, key, 1, desired={}, existing={"category_id": current_category})

    assert moves_category([update("a1", "200")], category_of, ids)  # B -> A, beside a2
    assert not moves_category([update("a1", "100")], category_of, ids)  # same category: no move
    assert not moves_category([update("b1", "100")], category_of, ids)  # alone in B: nothing to order
    assert moves_category([update("a1", "100")], category_of, {("trigger_category", "B"): "200"})  # A is new
    assert not moves_category([Change(CREATE, "trigger", "a1", "a1")], category_of, ids)


def test_joins_managed_needs_existing_managed_objects():
    created = [Change(CREATE, "trigger", "new", "n")]
    assert joins_managed("trigger", [("mine", "a"), ("mine", "n")], created)
    assert not joins_managed("trigger", [("other", 1), ("mine", "n")], created)
    assert not joins_managed("trigger", [("mine", "a")], [])


def interleaved_playbook(order: tuple[int, ...] = (0, 1, 2, 3), categories: tuple[int, ...] = (0, 1)):
    """The shipped playbook with two trigger categories (its first two, A=intake and B=routing) and
    four triggers listed interleaved A, B, A, B (`order` and `categories` pick and rearrange them)."""
    category_pairs = PLAYBOOK.trigger_categories[:2]
    first_four = PLAYBOOK.triggers[:4]
    triggers = [dataclasses.replace(t, category=category_pairs[n % 2][0]) for n, t in enumerate(first_four)]
    return dataclasses.replace(PLAYBOOK, trigger_categories=tuple(category_pairs[n] for n in categories),
                               triggers=tuple(triggers[n] for n in order), guardrail=None)


def test_interleaved_triggers_fire_by_category_and_unmanaged_ones_keep_their_place(desk, library):
    connector = connector_for(desk)
    # an unmanaged category (created first, so it fires first) with an unmanaged trigger in it
    hand_category = connector.client.create("trigger_category", {"name": "Hand category"})
    hand_first = connector.client.create("trigger", {
        "title": "Hand trigger in its own category", "category_id": str(hand_category["id"]),
        "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
        "actions": [{"field": "priority", "value": "low"}]})

    playbook = interleaved_playbook()
    a1, b1, a2, b2 = (t.key for t in playbook.triggers)
    plan = install(connector, playbook, library)
    # Zendesk appends each new trigger: every category gets its triggers in playbook order
    assert [c for c in plan.changes if c.action == REORDER] == [], render_plan(plan)
    assert managed_order(connector, "trigger") == [a1, a2, b1, b2]
    fired = desk_order(connector, "trigger")
    assert fired[0]["id"] == hand_first["id"]  # its category fires first, as before the install

    start = len(desk.requests())
    noop, _ = make_plan(connector, playbook, library)
    assert not noop.has_changes, render_plan(noop)
    assert writes_since(desk, start) == []

    # an unmanaged trigger in category A, between a1 and a2
    categories = {c["id"]: c for c in connector.client.list("trigger_category")}
    by_key = {zcompare.ownership("trigger", t, NAME)[1]: t for t in connector.client.list("trigger")
              if zcompare.ownership("trigger", t, NAME)}
    between = connector.client.create("trigger", {
        "title": "Hand trigger in A", "category_id": str(by_key[a1]["category_id"]),
        "position": by_key[a1]["position"] + 1,
        "conditions": {"all": [{"field": "update_type", "operator": "is", "value": "Create"}]},
        "actions": [{"field": "priority", "value": "high"}]})
    assert [t["id"] for t in desk_order(connector, "trigger")][:3] == [hand_first["id"], by_key[a1]["id"], between["id"]]
    unmanaged_before = {t["id"]: (t["category_id"], t["position"]) for t in connector.client.list("trigger")
                        if zcompare.ownership("trigger", t, NAME) is None}

    # categories B, A and the triggers listed b2, a2, b1, a1: fire b2, b1 (B) then a2, a1 (A)
    swapped = interleaved_playbook(order=(3, 2, 1, 0), categories=(1, 0))
    plan, snapshot = make_plan(connector, swapped, library)
    assert [(c.action, c.kind) for c in plan.changes] == [(REORDER, "trigger_category"), (REORDER, "trigger")], \
        render_plan(plan)
    assert plan.changes[1].desired["order"] == [b2, b1, a2, a1]
    start = len(desk.requests())
    connector.guard(plan, snapshot)
    connector.apply(plan, snapshot)
    assert writes_since(desk, start) == ["POST /api/v2/trigger_categories/jobs", "PUT /api/v2/triggers/update_many"]

    assert managed_order(connector, "trigger") == [b2, b1, a2, a1]
    fired = [t["id"] for t in desk_order(connector, "trigger")]
    assert fired[0] == hand_first["id"]  # the unmanaged category still fires first
    # the unmanaged trigger in A still sits between A's managed triggers, which swapped around it
    by_key = {zcompare.ownership("trigger", t, NAME)[1]: t for t in connector.client.list("trigger")
              if zcompare.ownership("trigger", t, NAME)}
    assert fired.index(by_key[a2]["id"]) < fired.index(between["id"]) < fired.index(by_key[a1]["id"])
    unmanaged_after = {t["id"]: (t["category_id"], t["position"]) for t in connector.client.list("trigger")
                       if zcompare.ownership("trigger", t, NAME) is None}
    assert unmanaged_after == unmanaged_before
    # the unmanaged category kept its position; only the managed categories were written
    after = {c["id"]: c for c in connector.client.list("trigger_category")}
    assert after[hand_category["id"]]["position"] == categories[hand_category["id"]]["position"]

    start = len(desk.requests())
    replan, _ = make_plan(connector, swapped, library)
    assert not replan.has_changes, render_plan(replan)
    assert writes_since(desk, start) == []


def test_positions_numbered_per_category_are_already_in_order(desk, library):
    connector = connector_for(desk)
    playbook = interleaved_playbook()
    install(connector, playbook, library)
    a1, b1, a2, b2 = (t.key for t in playbook.triggers)
    by_key = {zcompare.ownership("trigger", t, NAME)[1]: t for t in connector.client.list("trigger")
              if zcompare.ownership("trigger", t, NAME)}
    # positions numbered per category (as Zendesk's batch job example does), B's lower than A's:
    # by position alone b1, b2 would come first, but category A fires first, so the order is right
    connector.client.update_positions("trigger", [(by_key[a1]["id"], 5), (by_key[a2]["id"], 6),
                                                  (by_key[b1]["id"], 1), (by_key[b2]["id"], 2)])
    assert managed_order(connector, "trigger") == [a1, a2, b1, b2]
    start = len(desk.requests())
    plan, _ = make_plan(connector, playbook, library)
    assert not plan.has_changes, render_plan(plan)
    assert writes_since(desk, start) == []

    # swapping the two triggers of A writes A's two slots only; B's triggers are not written
    swapped = dataclasses.replace(playbook, triggers=tuple(playbook.triggers[n] for n in (2, 1, 0, 3)))
    plan, snapshot = make_plan(connector, swapped, library)
    assert [(c.action, c.kind) for c in plan.changes] == [(REORDER, "trigger")], render_plan(plan)
    start = len(desk.requests())
    connector.apply(plan, snapshot)
    assert writes_since(desk, start) == ["PUT /api/v2/triggers/update_many"]
    written = [r for r in desk.requests()[start:] if r["method"] == "PUT"][0]
    assert sorted((t["id"], t["position"]) for t in written["json"]["triggers"]) == sorted(
        [(by_key[a2]["id"], 5), (by_key[a1]["id"], 6)])
    positions = {t["id"]: t["position"] for t in connector.client.list("trigger")}
    assert (positions[by_key[b1]["id"]], positions[by_key[b2]["id"]]) == (1, 2)
    assert managed_order(connector, "trigger") == [a2, a1, b1, b2]
    replan, _ = make_plan(connector, swapped, library)
    assert not replan.has_changes, render_plan(replan)


def test_a_trigger_moved_to_another_category_takes_its_playbook_place_there(desk, library):
    connector = connector_for(desk)
    playbook = interleaved_playbook()
    install(connector, playbook, library)
    a1, b1, a2, b2 = (t.key for t in playbook.triggers)
    # b2 moves to category A, listed first: it must fire before a1 and a2
    triggers = list(playbook.triggers)
    moved_trigger = dataclasses.replace(triggers.pop(3), category=playbook.trigger_categories[0][0])
    moved = dataclasses.replace(playbook, triggers=(moved_trigger, *triggers))
    plan, snapshot = make_plan(connector, moved, library)
    assert [(c.action, c.kind) for c in plan.changes] == [(UPDATE, "trigger"), (REORDER, "trigger")], \
        render_plan(plan)
    start = len(desk.requests())
    connector.apply(plan, snapshot)
    writes = writes_since(desk, start)
    assert writes[-1] == "PUT /api/v2/triggers/update_many" and len(writes) == 2
    assert managed_order(connector, "trigger") == [b2, a1, a2, b1]
    replan, _ = make_plan(connector, moved, library)
    assert not replan.has_changes, render_plan(replan)

"""The Zendesk plan/apply engine against the sandbox desk: install, re-plan, uninstall, conflicts,
interrupt safety, fault tolerance and one-line errors."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import responses

from deskbook.connectors.base import DeskConnector, Snapshot, render_plan, uninstall_plan
from deskbook.connectors.commands import make_plan
from deskbook.connectors.zendesk import compare as zcompare
from deskbook.connectors.zendesk.connector import ZendeskConnector
from deskbook.connectors.zendesk.sandbox import running_sandbox
from deskbook.errors import DeskbookError
from deskbook.http import DeskHTTPError, RetryPolicy
from deskbook.plan import CONFLICT, CREATE, DELETE, UPDATE, ExistingObject, Plan, Change
from deskbook.scripts_library import load_library

from test_zendesk_translate import sample_playbook  # the small complete playbook other tests use

PLAYBOOK = sample_playbook()
NAME = PLAYBOOK.metadata.name


@pytest.fixture(scope="module")
def library():
    return load_library()


@pytest.fixture()
def desk():
    with running_sandbox() as handle:
        yield handle


def connector_for(desk, **options) -> ZendeskConnector:
    options.setdefault("sleep", lambda seconds: None)
    return ZendeskConnector.connect(desk.url, desk.email, desk.token, **options)


def owned(connector: ZendeskConnector) -> list[ExistingObject]:
    snapshot = connector.populate(NAME)
    return [e for e in snapshot.existing if e.owner == NAME]


def assert_no_duplicates(connector: ZendeskConnector) -> None:
    snapshot = connector.populate(NAME)
    markers = Counter((e.kind, e.key) for e in snapshot.existing if e.owner == NAME)
    assert [k for k, n in markers.items() if n > 1] == []
    names = Counter((e.kind, e.name) for e in snapshot.existing)
    assert [k for k, n in names.items() if n > 1] == []


def install(connector, library, **kw):
    plan, snapshot = make_plan(connector, PLAYBOOK, library, **kw)
    connector.guard(plan, snapshot)
    return plan, connector.apply(plan, snapshot)


def test_install_replan_uninstall_leaves_unmanaged_objects_alone(desk, library):
    connector = connector_for(desk)
    # pre-existing objects an admin made by hand
    hand_group = connector.client.create("group", {"name": "Existing team", "description": "by hand"})
    hand_macro = connector.client.create("macro", {"title": "Hand macro", "actions": [
        {"field": "status", "value": "open"}]})

    plan, snapshot = make_plan(connector, PLAYBOOK, library)
    assert plan.has_changes and not plan.conflicts
    desired_count = len([c for c in plan.changes if c.action == CREATE])
    report = connector.apply(plan, snapshot)
    assert report.count(CREATE) == desired_count

    replan, _ = make_plan(connector, PLAYBOOK, library)
    assert not replan.has_changes, render_plan(replan)
    assert len(owned(connector)) == desired_count
    assert_no_duplicates(connector)

    snapshot = connector.populate(NAME)
    removal = uninstall_plan(connector, NAME, snapshot)
    assert {c.action for c in removal.changes} == {DELETE}
    connector.apply(removal, snapshot)
    assert owned(connector) == []
    groups = {g["id"]: g for g in connector.client.list("group")}
    macros = {m["id"]: m for m in connector.client.list("macro")}
    assert groups[hand_group["id"]]["name"] == "Existing team"
    assert macros[hand_macro["id"]]["title"] == "Hand macro"


def test_same_name_unmanaged_object_is_a_conflict_until_adopted(desk, library):
    connector = connector_for(desk)
    group_name = PLAYBOOK.groups[0].name.get()
    taken = connector.client.create("group", {"name": group_name, "description": "made by hand"})
    plan, snapshot = make_plan(connector, PLAYBOOK, library)
    conflicts = plan.conflicts
    assert [(c.kind, c.id) for c in conflicts] == [("group", taken["id"])]
    assert "! conflict group" in render_plan(plan)
    with pytest.raises(DeskbookError, match="--adopt"):
        connector.guard(plan, snapshot)

    plan, report = install(connector, library, adopt=True)
    adopted = [c for c in plan.changes if c.reason == "adopted"]
    assert [(c.kind, c.id) for c in adopted] == [("group", taken["id"])]
    group = next(g for g in connector.client.list("group") if g["id"] == taken["id"])
    assert zcompare.ownership("group", group) == (NAME, PLAYBOOK.groups[0].key)
    assert not make_plan(connector, PLAYBOOK, library)[0].has_changes
    assert_no_duplicates(connector)


@pytest.mark.parametrize("fail_after", [1, 7, 15])
def test_interrupted_apply_is_finished_by_the_next_without_duplicates(desk, library, fail_after):
    connector = connector_for(desk)
    writes = {"n": 0}
    real_create = connector.client.create

    def flaky_create(*args, **kwargs):
        if writes["n"] >= fail_after:
            raise KeyboardInterrupt  # a crash / Ctrl-C between two writes
        writes["n"] += 1
        return real_create(*args, **kwargs)

    connector.client.create = flaky_create
    plan, snapshot = make_plan(connector, PLAYBOOK, library)
    with pytest.raises(KeyboardInterrupt):
        connector.apply(plan, snapshot)
    assert len(owned(connector)) == fail_after
    connector.client.create = real_create

    again, snapshot = make_plan(connector, PLAYBOOK, library)
    assert not any(c.action == CONFLICT for c in again.changes)
    connector.apply(again, snapshot)
    assert not make_plan(connector, PLAYBOOK, library)[0].has_changes
    assert_no_duplicates(connector)


def test_apply_converges_under_fault_rate_0_2(library):
    with running_sandbox(fault_rate=0.2, seed=7, fault_slow_seconds=0.4) as desk:
        # a short read timeout turns the sandbox's slow answers into lost answers
        connector = connector_for(desk, timeout=0.25, policy=RetryPolicy(max_attempts=12))
        rounds = 0
        while rounds < 3:
            rounds += 1
            try:
                install(connector, library)
            except DeskHTTPError:  # the retry budget ran out on one call: re-run, as an admin would
                continue
            replan, _ = make_plan(connector, PLAYBOOK, library)
            if not replan.has_changes:
                break
        replan, _ = make_plan(connector, PLAYBOOK, library)
        assert not replan.has_changes, render_plan(replan)
        assert_no_duplicates(connector)
        assert sum(connector.session.retries.values()) > 0
        time.sleep(0.5)  # let answers the client gave up on finish before the sandbox closes


def test_checksum_must_match_the_reviewed_plan(desk, library):
    connector = connector_for(desk)
    plan, snapshot = make_plan(connector, PLAYBOOK, library)
    same, _ = make_plan(connector, PLAYBOOK, library)
    assert same.checksum == plan.checksum
    connector.guard(plan, snapshot, checksum=same.checksum)
    with pytest.raises(DeskbookError, match="changed since it was reviewed"):
        connector.guard(plan, snapshot, checksum="0" * 64)


def test_sweeping_deletes_need_force():
    existing = [ExistingObject("macro", i, f"m{i}", {}, "pb", f"k{i}") for i in range(12)]
    snapshot = Snapshot({"macro": []}, existing)
    plan = Plan("zendesk", "pb", [Change(DELETE, "macro", f"m{i}", f"k{i}", i) for i in range(6)])
    with pytest.raises(DeskbookError, match="--force"):
        DeskConnector.guard(plan, snapshot)
    DeskConnector.guard(plan, snapshot, force=True)


def test_422_names_the_playbook_object_in_one_line(desk, library):
    connector = connector_for(desk)
    plan, snapshot = make_plan(connector, PLAYBOOK, library)
    macro = next(c for c in plan.changes if c.kind == "macro")
    macro.desired = {**macro.desired, "title": ""}
    with pytest.raises(DeskHTTPError) as info:
        connector.apply(plan, snapshot)
    text = str(info.value)
    assert info.value.status == 422 and "\n" not in text
    assert text.startswith(f'macro "{macro.name}" (playbook key {macro.key}): ')
    assert "RecordInvalid" in text or "blank" in text.lower()


def test_401_is_one_line_naming_the_credentials(desk, library):
    connector = ZendeskConnector.connect(desk.url, desk.email, "wrong-token-value", sleep=lambda s: None)
    with pytest.raises(DeskHTTPError) as info:
        make_plan(connector, PLAYBOOK, library)
    text = str(info.value)
    assert info.value.status == 401 and "\n" not in text
    assert "API token" in text and "wrong-token-value" not in text


def test_403_when_the_plan_lacks_slas_names_the_sla_policy(desk, library):
    connector = connector_for(desk)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(desk.url)
        mock.post(desk.url + "/api/v2/slas/policies", status=403, json={
            "error": "Forbidden", "description": "You do not have access to this page. Please contact the account owner of this help desk for further help."})
        plan, snapshot = make_plan(connector, PLAYBOOK, library)
        with pytest.raises(DeskHTTPError) as info:
            connector.apply(plan, snapshot)
    sla = next(c for c in plan.changes if c.kind == "sla_policy")
    text = str(info.value)
    assert info.value.status == 403 and "\n" not in text
    assert f'sla_policy "{sla.name}"' in text and "SLA" in text


def test_first_install_and_noop_replan_request_budget(desk, library):
    connector = connector_for(desk)
    plan, report = install(connector, library)
    kinds = len(connector.kind_order)
    writes = connector.session.writes()
    objects = sum(1 for c in plan.changes if c.action in (CREATE, UPDATE))
    extra = sum(1 for c in plan.changes if c.action == "reorder")
    assert connector.session.total_calls <= objects + kinds + extra + 2  # + schedule holidays
    assert writes >= objects
    before = connector.session.total_calls
    replan, _ = make_plan(connector, PLAYBOOK, library)
    assert not replan.has_changes
    assert connector.session.total_calls - before == kinds  # one read per kind, no writes


def test_a_copy_with_the_same_marker_is_deleted_by_the_next_plan(desk, library):
    connector = connector_for(desk)
    install(connector, library)
    original = next(e for e in owned(connector) if e.kind == "macro")
    copy = connector.client.create("macro", {k: v for k, v in original.payload.items()
                                             if k in ("title", "description", "actions", "active")})
    plan, snapshot = make_plan(connector, PLAYBOOK, library)
    deletes = [c for c in plan.changes if c.action == DELETE]
    assert [(c.kind, c.id) for c in deletes] == [("macro", copy["id"])]
    assert f"duplicate of id {original.id}" in deletes[0].reason
    connector.apply(plan, snapshot)
    assert not make_plan(connector, PLAYBOOK, library)[0].has_changes
    assert_no_duplicates(connector)


def test_a_create_answered_500_after_it_was_stored_is_found_again_not_repeated(library, monkeypatch):
    """Seen on a desk: a 500 then a 201 to the same POST made two triggers. The session does not
    re-send a POST without an idempotency key; the engine looks the trigger up by its marker."""
    from deskbook.connectors.zendesk.sandbox.app import SandboxApp, _json_response

    dispatch = SandboxApp.dispatch
    broken: list[str] = []

    def stored_then_500(self, request):
        response = dispatch(self, request)
        if request.method == "POST" and request.path.rstrip("/").endswith("/triggers") and not broken:
            broken.append(request.path)
            return _json_response(500, {"error": "InternalServerError"})
        return response

    monkeypatch.setattr(SandboxApp, "dispatch", stored_then_500)
    with running_sandbox() as desk:
        connector = connector_for(desk)
        install(connector, library)
        assert broken, "the test must break a trigger create to mean anything"
        posts = [r for r in desk.requests() if r["method"] == "POST" and r["path"].endswith("/triggers")]
        assert len(posts) == len([e for e in owned(connector) if e.kind == "trigger"])  # one POST per trigger
        assert_no_duplicates(connector)
        assert not make_plan(connector, PLAYBOOK, library)[0].has_changes

"""One automation check: `validate` (the loader) and `plan` (Zendesk's translation) agree on every automation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from deskbook.connectors.zendesk import translate as tr
from deskbook.errors import DeskbookError, ValidationError
from deskbook.playbooks import model
from deskbook.playbooks.automation_check import automation_problems, fires_once, nullifies
from deskbook.playbooks.loader import parse_playbook
from deskbook.scripts_library import load_library

MINIMAL = yaml.safe_load((Path(__file__).parent / "data" / "playbooks" / "minimal.yaml").read_text(encoding="utf-8"))
TAGS = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2, unique=True)
HOURS = st.integers(min_value=1, max_value=48)

CONDITIONS = st.one_of(
    st.fixed_dictionaries({"field": st.just("status"), "operator": st.sampled_from(["is", "is_not", "less_than", "greater_than"]),
                           "value": st.sampled_from(model.STATUSES)}),
    st.fixed_dictionaries({"field": st.just("priority"), "operator": st.sampled_from(["is", "is_not", "less_than", "greater_than"]),
                           "value": st.sampled_from(model.PRIORITIES)}),
    st.fixed_dictionaries({"field": st.just("group"), "operator": st.sampled_from(["is", "is_not"]),
                           "value": st.just("frontline")}),
    st.fixed_dictionaries({"field": st.just("tags"), "operator": st.sampled_from(["includes", "not_includes"]),
                           "value": TAGS}),
    st.fixed_dictionaries({"field": st.sampled_from(["hours_since_updated", "hours_since_created"]),
                           "operator": st.sampled_from(["is", "less_than", "greater_than"]), "value": HOURS}),
)
ACTIONS = st.one_of(
    st.fixed_dictionaries({"field": st.just("status"), "value": st.sampled_from(model.STATUSES)}),
    st.fixed_dictionaries({"field": st.just("priority"), "value": st.sampled_from(model.PRIORITIES)}),
    st.fixed_dictionaries({"field": st.just("group"), "value": st.just("frontline")}),
    st.fixed_dictionaries({"field": st.sampled_from(["add_tags", "remove_tags", "set_tags"]), "value": TAGS}),
)
AUTOMATIONS = st.fixed_dictionaries({
    "all": st.lists(CONDITIONS, min_size=0, max_size=3),
    "any": st.lists(CONDITIONS, min_size=0, max_size=2),
    "actions": st.lists(ACTIONS, min_size=1, max_size=2),
})


LIBRARY = load_library()
PHRASE_IDS = set(LIBRARY.ids())


def playbook_text(generated: dict) -> str:
    """minimal.yaml with its one automation replaced by the generated one."""
    data = dict(MINIMAL)
    data["automations"] = [{"key": "gen", "title": {"en": "Generated"}, "description": {"en": "Generated."},
                            "conditions": {"all": generated["all"], "any": generated["any"]},
                            "actions": generated["actions"]}]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def validate_problems(generated: dict) -> tuple[list[str], model.Playbook | None]:
    """`deskbook validate`'s problems about the automation, and the playbook when it loads."""
    try:
        return [], parse_playbook(playbook_text(generated), "generated.yaml", phrase_ids=PHRASE_IDS)
    except ValidationError as exc:
        return list(exc.problems), None


def as_model(generated: dict) -> model.Automation:
    return model.Automation(
        key="gen", title=model.Localized({"en": "Generated"}, "en"),
        description=model.Localized({"en": "Generated."}, "en"),
        conditions=model.Conditions(all=tuple(model.Condition(c["field"], c["operator"], c["value"]) for c in generated["all"]),
                                    any=tuple(model.Condition(c["field"], c["operator"], c["value"]) for c in generated["any"])),
        actions=tuple(model.Action(a["field"], a["value"]) for a in generated["actions"]))


@settings(max_examples=150, deadline=None)
@given(AUTOMATIONS)
def test_validate_and_plan_agree_on_every_automation(generated):
    problems, playbook = validate_problems(generated)
    assert all("automation 'gen'" in p for p in problems), problems  # nothing else in the playbook is wrong
    try:
        tr.check_automation(playbook.automations[0] if playbook else as_model(generated))
        planned = True
    except DeskbookError:
        planned = False
    assert planned == (not problems), (generated, problems)
    if playbook is not None:  # and the whole plan translation takes it
        assert any(d.kind == "automation" for d in tr.desired_objects(playbook, LIBRARY))


@pytest.mark.parametrize("condition, action, expected", [
    # includes [a, b] matches a ticket with a or b: removing a alone leaves tickets with b matching
    (("tags", "includes", ["a", "b"]), ("remove_tags", ["a"]), False),
    (("tags", "includes", ["a", "b"]), ("remove_tags", ["a", "b"]), True),
    (("tags", "includes", ["a", "b"]), ("set_tags", ["a"]), False),
    (("tags", "includes", ["a", "b"]), ("set_tags", ["c"]), True),
    (("tags", "not_includes", ["a", "b"]), ("add_tags", ["b"]), True),
    (("tags", "not_includes", ["a"]), ("add_tags", ["c"]), False),
    (("status", "is", "open"), ("status", "pending"), True),
    (("status", "is", "open"), ("status", "open"), False),
    (("status", "less_than", "solved"), ("status", "solved"), True),
    (("status", "less_than", "solved"), ("status", "pending"), False),
    (("priority", "greater_than", "normal"), ("priority", "low"), True),
    (("priority", "is_not", "high"), ("priority", "high"), True),
    (("hours_since_updated", "greater_than", 4), ("status", "solved"), False),
])
def test_nullifying_actions(condition, action, expected):
    assert nullifies(model.Condition(*condition), model.Action(*action)) is expected


def test_an_any_condition_nullified_while_another_can_still_match_does_not_stop_the_automation():
    conditions = model.Conditions(all=(model.Condition("status", "less_than", "solved"),
                                       model.Condition("hours_since_updated", "greater_than", 4)),
                                  any=(model.Condition("tags", "includes", ["a"]), model.Condition("priority", "is", "high")))
    assert not fires_once(conditions, (model.Action("remove_tags", ["a"]),))
    assert fires_once(conditions, (model.Action("remove_tags", ["a"]), model.Action("priority", "low")))
    once = model.Conditions(all=(model.Condition("status", "is", "open"), model.Condition("hours_since_created", "is", 24)))
    assert automation_problems("x", once, (model.Action("priority", "high"),)) == []

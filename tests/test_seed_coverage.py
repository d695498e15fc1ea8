"""Every process item of the standard process is implemented by the shipped playbook.

The table below is the reviewed mapping from each item id (../shared/sop/standard-process.md)
to the playbook elements that implement it. The check fails when an id is unmapped, when a
mapped element does not exist, or when the element does not say it implements the id.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from deskbook.playbooks.loader import load_playbook

ALL_IDS = (
    [f"S-{n}" for n in range(1, 14)]
    + [f"C-{n}" for n in range(1, 6)]
    + [f"R-{n}" for n in range(1, 6)]
    + [f"T-{n}" for n in range(1, 5)]
)

COVERAGE: dict[str, tuple[str, ...]] = {
    "S-1": ("views.shift_preparation", "macros.mark_known_issue"),
    "S-2": ("macros.greeting", "sla_policies.online_first_reply", "views.phone_queue", "groups.customer_service"),
    "S-3": ("triggers.intake_record", "macros.record_request", "views.records_to_complete",
            "fields.customer_need", "fields.expected_resolution_date"),
    "S-4": ("macros.confirm_need", "fields.customer_need"),
    "S-5": ("categories.consultation", "categories.problem", "categories.service", "fields.severity", "triggers.route_fault"),
    "S-6": ("macros.callback_promise", "macros.propose_plan", "fields.solution", "sla_policies.standard"),
    "S-7": ("macros.escalate_technical", "macros.escalate_supervisor", "views.urgent_escalated",
            "groups.supervisors", "sla_policies.escalated"),
    "S-8": ("macros.owner_acknowledge", "automations.acknowledgement_overdue", "views.awaiting_acknowledgement",
            "triggers.urgent_starts_at_once", "sla_policies.escalated"),
    "S-9": ("automations.periodic_update_due", "views.progress_update_due", "macros.progress_update",
            "macros.plan_change", "sla_policies.standard"),
    "S-10": ("macros.owner_resolved", "macros.confirm_resolution", "automations.confirmation_overdue",
             "sla_policies.resolution_confirmation", "views.awaiting_confirmation", "triggers.solved_record"),
    "S-11": ("macros.satisfaction_survey", "automations.satisfaction_survey", "fields.score_response_speed",
             "fields.score_resolution", "fields.score_attitude", "fields.survey_suggestions"),
    "S-12": ("macros.thanks_feedback", "macros.closing"),
    "S-13": ("views.weekly_review", "fields.first_contact_resolution"),
    "C-1": ("groups.complaints", "categories.complaint", "macros.complaint_acknowledge", "triggers.route_complaint"),
    "C-2": ("fields.emotional_state", "fields.compensation_demand", "fields.facts_verified",
            "macros.complaint_facts_verified", "triggers.compensation_demand"),
    "C-3": ("fields.root_cause", "macros.complaint_remedy"),
    "C-4": ("fields.remedy", "fields.remedy_agreed", "macros.complaint_remedy", "triggers.compensation_demand"),
    "C-5": ("views.complaints", "automations.periodic_update_due", "sla_policies.standard", "macros.closing"),
    "R-1": ("sync.followups", "tiers.new", "fields.first_service_date", "macros.new_customer_followup", "views.followup_tasks"),
    "R-2": ("sync.callbacks", "tiers.regular", "macros.periodic_callback", "views.callback_tasks"),
    "R-3": ("sync.callbacks", "tiers.key", "macros.periodic_callback", "views.callback_tasks"),
    "R-4": ("sync.renewals", "fields.contract_end_date", "macros.renewal_reminder", "views.renewal_tasks"),
    "R-5": ("categories.upgrade", "triggers.route_upgrade", "macros.upgrade_request", "views.upgrade_requests"),
    "T-1": ("fields.customer_id", "fields.customer_type", "fields.customer_tier"),
    "T-2": ("fields.solution", "fields.eta", "fields.request_stage", "triggers.intake_record"),
    "T-3": ("fields.score_response_speed", "fields.score_resolution", "fields.score_attitude", "fields.survey_suggestions"),
    "T-4": ("fields.callback_time", "fields.callback_feedback", "fields.callback_follow_up_items", "macros.periodic_callback"),
}


def coverage_problems(playbook, ids, table) -> list[str]:
    """What is wrong with `table` as the coverage of `ids` by `playbook` (empty = fully covered)."""
    elements = playbook.elements()
    problems = []
    for item_id in ids:
        refs = table.get(item_id, ())
        if not refs:
            problems.append(f"{item_id}: no playbook element is mapped to it")
        for ref in refs:
            element = elements.get(ref)
            if element is None:
                problems.append(f"{item_id}: {ref} does not exist in playbook {playbook.name}")
            elif item_id not in getattr(element, "implements", ()):
                problems.append(f"{item_id}: {ref} does not list {item_id} under implements")
    return problems


@pytest.fixture(scope="module")
def playbook():
    return load_playbook()


def test_table_covers_every_id():
    assert sorted(COVERAGE) == sorted(ALL_IDS)


def test_shipped_playbook_implements_every_id(playbook):
    assert coverage_problems(playbook, ALL_IDS, COVERAGE) == []


def test_every_id_of_the_sop_is_in_the_table(shared):
    text = (shared / "sop" / "standard-process.md").read_text(encoding="utf-8")
    sop_ids = set(re.findall(r"\b([SCRT]-[0-9]+)\b", text))
    assert sop_ids, "no ids found in standard-process.md"
    assert sorted(sop_ids - set(COVERAGE)) == []
    assert sorted(sop_ids) == sorted(ALL_IDS)


def test_every_implemented_id_is_a_known_id(playbook):
    claimed = {i for el in playbook.elements().values() for i in getattr(el, "implements", ())}
    claimed |= {r.item for r in playbook.representations}
    assert claimed <= set(ALL_IDS)


def test_removing_an_implementer_is_caught(playbook):
    without_greeting = dataclasses.replace(playbook, macros=tuple(m for m in playbook.macros if m.key != "greeting"))
    problems = coverage_problems(without_greeting, ALL_IDS, COVERAGE)
    assert problems == [f"S-2: macros.greeting does not exist in playbook {playbook.name}"]


def test_dropping_an_id_from_implements_is_caught(playbook):
    views = tuple(
        dataclasses.replace(v, implements=tuple(i for i in v.implements if i != "S-13")) if v.key == "weekly_review" else v
        for v in playbook.views
    )
    problems = coverage_problems(dataclasses.replace(playbook, views=views), ALL_IDS, COVERAGE)
    assert problems == ["S-13: views.weekly_review does not list S-13 under implements"]


def test_an_unmapped_id_is_caught(playbook):
    table = {k: v for k, v in COVERAGE.items() if k != "R-5"}
    assert coverage_problems(playbook, ALL_IDS, table) == ["R-5: no playbook element is mapped to it"]


def test_items_a_desk_cannot_enforce_are_represented(playbook):
    represented = {r.item for r in playbook.representations}
    # The seeds' timings no desk rule can hold exactly (rings, seconds, team routines).
    assert {"S-1", "S-2", "S-3", "S-8", "S-10", "S-13"} <= represented
    phone = [r for r in playbook.representations if "ring" in r.requirement]
    assert phone and "views.phone_queue" in phone[0].represented_by

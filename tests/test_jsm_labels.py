"""JSM keeps a playbook choice field's value as a label `<field>-<value>`: `translate.field_label`
writes it and `translate.parse_field_label` reads it back for every reader (the weekly review, the
scenario driver, the survey job)."""

from __future__ import annotations

import pytest

from deskbook.connectors.jsm import translate as tr


@pytest.mark.parametrize(("key", "value", "text"), [
    ("score_attitude", "score_4", "score_4"),
    ("contract_end", "2026-03-31", "2026-03-31"),  # a date: dashes in the value
    ("tier", "gold-plus-2", "gold-plus-2"),
    ("vip", True, "true"),
    ("vip", False, "false"),
    ("note", "", ""),
])
def test_a_field_label_reads_back_as_its_key_and_value(key, value, text):
    label = tr.field_label(key, value)
    assert label == f"{key}-{text}"
    assert tr.parse_field_label(label) == (key, text)


def test_group_and_category_labels_are_field_labels():
    assert tr.group_label("sales") == "group-sales"
    assert tr.parse_field_label(tr.category_label("upgrade")) == ("category", "upgrade")


def test_a_label_without_a_field_part_is_none_and_values_come_for_their_field_only():
    assert tr.parse_field_label("deskbook") is None
    assert tr.parse_field_label("-x") is None
    labels = ["deskbook-sync", "contract_end-2026-03-31", "contract_end_x-1", "tier-gold", "contract_end-2027-01-01"]
    assert tr.field_label_values(labels, "contract_end") == ["2026-03-31", "2027-01-01"]
    assert tr.field_label_values(labels, "contract") == []

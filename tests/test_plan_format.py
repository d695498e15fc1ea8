"""What `deskbook.plan` owns for every desk: how a difference of an update reads, and the symbolic
references a desired payload carries until the object it names has an id."""

from __future__ import annotations

import pytest

from deskbook.connectors.jsm import internal
from deskbook.errors import DeskbookError
from deskbook.plan import diff_line, ref, refs_in, resolve_refs, value_differences


def test_a_difference_reads_path_then_the_desks_value_then_the_playbooks():
    assert diff_line("title", '"Old"', '"New"') == 'title: "Old" -> "New"'
    assert value_differences({"name": "技术支持", "jql": "x", "columns": ["a"]},
                             {"name": "技术", "jql": "x"}) == ["name: '技术' -> '技术支持'", "columns: None -> ['a']"]
    assert value_differences({"a": 1}, {"a": 1, "b": 2}) == []  # only what the playbook states


def test_a_jsm_goals_calendar_ref_is_the_same_rule_as_zendesks_refs():
    goal = internal.goal("priority = High", 60, "calendar.business_hours")
    assert goal["calendarId"] == ref("calendar", "calendar.business_hours")
    metric = {"name": "Time to first response", "config": {"goals": [goal]}}
    assert refs_in(metric) == {("calendar", "calendar.business_hours")}
    resolved = resolve_refs(metric, {("calendar", "calendar.business_hours"): "17"})
    assert resolved["config"]["goals"][0]["calendarId"] == 17  # alone in its string: the integer id
    assert metric["config"]["goals"][0]["calendarId"] == goal["calendarId"]  # a copy: the payload stays
    with pytest.raises(DeskbookError, match=r"\{ref:calendar:calendar.business_hours\}"):
        resolve_refs(metric, {})
    assert resolve_refs(metric, {}, strict=False) == metric  # comparing before the calendar exists

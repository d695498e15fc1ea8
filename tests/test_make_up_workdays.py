"""Make-up working days (调休上班, `metadata.extra_workdays`): model, loader, shipped playbook, desk notes.

Neither desk can open a day its weekly hours close (Zendesk holidays and JSM calendar holidays
only close days), so both plans carry a note listing the dates for an admin.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from deskbook.connectors.commands import make_plan
from deskbook.connectors.jsm import translate as jsm_tr
from deskbook.connectors.zendesk import translate as zd_tr
from deskbook.errors import ValidationError
from deskbook.playbooks import model as m
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import STANDARD_PHRASES, load_library

from test_playbook_loader import line_of, problems_of

DATA = Path(__file__).parent / "data" / "playbooks"
MINIMAL = DATA / "minimal.yaml"
PHRASES = set(STANDARD_PHRASES)
#: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04): the weekend days staff work.
OFFICIAL_2026_MAKE_UP_WORKDAYS = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
WEEKDAYS = (m.BusinessHours(("mon", "tue", "wed", "thu", "fri"), "09:00", "18:00"),)
NATIONAL_DAY = (("国庆节", "2026-10-01", "2026-10-07"),)

HOURS_LINE = '    - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}\n'


def with_metadata_lines(tmp_path: Path, lines: str) -> Path:
    """minimal.yaml with `lines` (metadata keys, two-space indented) added after its business hours."""
    text = MINIMAL.read_text(encoding="utf-8")
    assert HOURS_LINE in text
    path = tmp_path / "workdays.yaml"
    path.write_text(text.replace(HOURS_LINE, HOURS_LINE + lines, 1), encoding="utf-8")
    return path


def with_workdays(playbook: m.Playbook, *dates: str) -> m.Playbook:
    """`playbook` with make-up working days on `dates` (named after their position)."""
    days = tuple(m.ExtraWorkday(d, f"make-up day {i + 1}") for i, d in enumerate(dates))
    return dataclasses.replace(playbook, metadata=dataclasses.replace(playbook.metadata, extra_workdays=days))


@pytest.fixture(scope="module")
def library():
    return load_library()


# ---------------------------------------------------------------- the model's rule (pure)


def test_closed_days_outside_holidays_are_valid_make_up_days():
    days = (m.ExtraWorkday("2026-09-20", "Sun before National Day"), m.ExtraWorkday("2026-10-10", "Sat after"))
    assert m.extra_workday_problems(days, WEEKDAYS, NATIONAL_DAY) == []
    assert [d.weekday for d in days] == ["sun", "sat"]
    assert days[1].label == "2026-10-10 Sat (Sat after)"


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2026-09-21", "is a mon, which business_hours already opens"),  # an open weekday
        ("2026-10-03", "is inside holiday '国庆节' (2026-10-01 to 2026-10-07)"),  # a Saturday, but a holiday
        ("2026-02-30", "'2026-02-30' is not a calendar date"),
    ],
)
def test_each_broken_make_up_day_is_reported_at_its_index(date, expected):
    days = (m.ExtraWorkday("2026-09-20", "fine"), m.ExtraWorkday(date, "broken"))
    problems = m.extra_workday_problems(days, WEEKDAYS, NATIONAL_DAY)
    assert [(index, part) for index, part, _ in problems] == [(1, "date")]
    assert expected in problems[0][2]


def test_a_day_listed_twice_is_reported_once_at_the_repeat():
    days = (m.ExtraWorkday("2026-09-20", "a"), m.ExtraWorkday("2026-10-10", "b"), m.ExtraWorkday("2026-09-20", "c"))
    [(index, part, message)] = m.extra_workday_problems(days, WEEKDAYS, NATIONAL_DAY)
    assert (index, part) == (2, "date")
    assert "listed twice (first at item 1)" in message


def test_a_weekend_schedule_makes_saturday_an_open_day():
    weekend_too = (*WEEKDAYS, m.BusinessHours(("sat",), "10:00", "16:00"))
    [(_, _, message)] = m.extra_workday_problems((m.ExtraWorkday("2026-10-10", "x"),), weekend_too, ())
    assert "is a sat, which business_hours already opens" in message
    assert "(sun)" in message  # names the days that are closed


# ---------------------------------------------------------------- the loader (file:line)


def test_loader_reads_make_up_days_in_order(tmp_path):
    path = with_metadata_lines(tmp_path, '  extra_workdays:\n'
                                         '    - {date: "2026-02-14", name: "春节调休上班"}\n'
                                         '    - {date: "2026-01-04", name: "元旦调休上班"}\n')
    playbook = load_playbook(path, phrase_ids=PHRASES)
    assert playbook.metadata.extra_workdays == (m.ExtraWorkday("2026-02-14", "春节调休上班"),
                                                m.ExtraWorkday("2026-01-04", "元旦调休上班"))


def test_a_playbook_without_make_up_days_has_none():
    assert load_playbook(MINIMAL, phrase_ids=PHRASES).metadata.extra_workdays == ()


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('{date: "2026-09-21", name: "a Monday"}', "2026-09-21 is a mon, which business_hours already opens"),
        ('{date: "2026-10-03", name: "in a holiday"}', "is inside holiday '国庆节'"),
        ('{date: "2026-02-30", name: "no such day"}', "'2026-02-30' is not a calendar date (YYYY-MM-DD)"),
    ],
)
def test_loader_locates_meaning_errors_at_the_date(tmp_path, entry, expected):
    path = with_metadata_lines(tmp_path, '  holidays:\n'
                                         '    - {name: "国庆节", start: "2026-10-01", end: "2026-10-07"}\n'
                                         '  extra_workdays:\n'
                                         '    - {date: "2026-09-20", name: "fine"}\n'
                                         f'    - {entry}\n')
    [problem] = problems_of(path)
    line = line_of(path, entry)
    column = path.read_text(encoding="utf-8").splitlines()[line - 1].index('"2026') + 1
    assert problem.startswith(f"{path}:{line}:{column}: "), problem
    assert expected in problem


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('{date: "2026-9-20", name: "short month"}', "metadata.extra_workdays[0].date: '2026-9-20' is not valid here"),
        ('{date: "2026-09-20"}', "missing key 'name' in metadata.extra_workdays[0]"),
        ('{date: "2026-09-20", name: "x", hours: "09:00"}', "unknown key 'hours' in metadata.extra_workdays[0]"),
    ],
)
def test_schema_errors_name_the_line(tmp_path, entry, expected):
    path = with_metadata_lines(tmp_path, f'  extra_workdays:\n    - {entry}\n')
    problems = problems_of(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line_of(path, entry)}:"), problems[0]
    assert expected in problems[0]


def test_the_shipped_playbook_holds_the_six_2026_make_up_days():
    shipped = load_playbook(phrase_ids=PHRASES)
    workdays = shipped.metadata.extra_workdays
    assert [w.date for w in workdays] == OFFICIAL_2026_MAKE_UP_WORKDAYS
    assert {w.weekday for w in workdays} <= {"sat", "sun"}
    assert all(w.name for w in workdays)


# ---------------------------------------------------------------- Zendesk: a plan note, nothing installed


def test_zendesk_schedule_payload_is_unchanged_and_the_note_lists_every_day(library):
    from test_zendesk_translate import sample_playbook

    plain = sample_playbook()
    dated = with_workdays(plain, "2026-09-20", "2026-10-10")
    assert zd_tr.schedule_notes(plain) == []

    def schedule(pb):
        return next(d for d in zd_tr.desired_objects(pb, library) if d.kind == "schedule").payload

    assert schedule(dated) == schedule(plain)  # the Schedules API has nowhere to put them
    [note] = zd_tr.schedule_notes(dated)
    assert "2026-09-20 Sun (make-up day 1)" in note and "2026-10-10 Sat (make-up day 2)" in note
    assert "no working-day override" in note and "stay paused" in note


def test_zendesk_plan_carries_the_make_up_day_note(library):
    from deskbook.connectors.zendesk.connector import ZendeskConnector
    from deskbook.connectors.zendesk.sandbox import running_sandbox
    from test_zendesk_translate import sample_playbook

    playbook = with_workdays(sample_playbook(), *OFFICIAL_2026_MAKE_UP_WORKDAYS[:3])
    with running_sandbox() as desk:
        connector = ZendeskConnector.connect(desk.url, desk.email, desk.token, sleep=lambda seconds: None)
        plan, _ = make_plan(connector, playbook, library)
    notes = [n for n in plan.to_json()["notes"] if "make-up working day" in n]
    assert len(notes) == 1, plan.notes
    assert all(day in notes[0] for day in OFFICIAL_2026_MAKE_UP_WORKDAYS[:3])
    assert not any(day in notes[0] for day in OFFICIAL_2026_MAKE_UP_WORKDAYS[3:])


# ---------------------------------------------------------------- JSM: with the SLA notes


def jsm_playbook() -> m.Playbook:
    from test_jsm_connector import playbook

    return playbook()


def test_jsm_sla_notes_add_the_calendar_note_only_for_business_hours_goals():
    plain = jsm_playbook()
    assert not any("make-up working day" in n for n in jsm_tr.sla_notes(plain, "SUP"))
    dated = with_workdays(plain, "2026-02-14", "2026-02-28")
    notes = jsm_tr.sla_notes(dated, "SUP")
    [note] = [n for n in notes if "make-up working day" in n]
    assert notes[-1] == note and len(notes) == len(jsm_tr.sla_notes(plain, "SUP")) + 1  # after the calendar
    assert "2026-02-14 Sat (make-up day 1)" in note and "2026-02-28 Sat (make-up day 2)" in note
    assert "no working-day exception" in note
    assert not note.startswith("SLA ")  # the JSM demo reads "SLA … is not installed" notes as goals

    [calendar] = [n for n in notes if n.startswith('Calendar "business hours"')]
    meta = dated.metadata
    assert meta.time_zone in calendar and not calendar.startswith("SLA ")
    assert meta.business_hours and all(f"{b.start}-{b.end}" in calendar for b in meta.business_hours)
    shipped = load_playbook(None)  # the sample has no holidays; the shipped one has 2026's
    [shipped_calendar] = [n for n in jsm_tr.sla_notes(shipped, "SUP") if n.startswith('Calendar "business hours"')]
    assert shipped.metadata.holidays and all(f"{name} {start}..{end}" in shipped_calendar
                                             for name, start, end in shipped.metadata.holidays)

    calendar_only = dataclasses.replace(dated, sla_policies=tuple(
        dataclasses.replace(p, targets=tuple(dataclasses.replace(t, business_hours=False) for t in p.targets))
        for p in dated.sla_policies))
    assert not any("make-up working day" in n or n.startswith("Calendar ") for n in jsm_tr.sla_notes(calendar_only, "SUP"))


def test_jsm_plan_carries_the_make_up_day_note(library):
    from deskbook.connectors.jsm.sandbox import running_sandbox
    from test_jsm_connector import connector_for

    playbook = with_workdays(jsm_playbook(), *OFFICIAL_2026_MAKE_UP_WORKDAYS)
    with running_sandbox() as sandbox:
        plan, _ = make_plan(connector_for(sandbox), playbook, library)
    [note] = [n for n in plan.to_json()["notes"] if "make-up working day" in n]
    assert all(day in note for day in OFFICIAL_2026_MAKE_UP_WORKDAYS)
    assert note.startswith("6 make-up working day(s)")


def test_jsm_plan_with_the_internal_sla_api_still_carries_the_note(library):
    """The internal SLA endpoints take goals, not calendars: the make-up days are noted either way."""
    from deskbook.connectors.jsm.sandbox import running_sandbox
    from test_jsm_connector import connector_for

    playbook = with_workdays(jsm_playbook(), "2026-05-09")
    with running_sandbox() as sandbox:
        plan, _ = make_plan(connector_for(sandbox, allow_internal_api=True), playbook, library)
    assert any(c.kind == "sla_metric" for c in plan.changes)
    [note] = [n for n in plan.notes if "make-up working day" in n]
    assert "2026-05-09 Sat (make-up day 1)" in note

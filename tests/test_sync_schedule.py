"""Pure due-date logic of the sync jobs (table-driven)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from deskbook.sync.schedule import (
    DueItem,
    Organization,
    ScheduleSettings,
    Skip,
    callback_due,
    due_for,
    followup_due,
    item_key,
    parse_key,
    period_start,
    quarter_period,
    renewal_due,
)

S = ScheduleSettings()


def org(**kw):
    return Organization(id=kw.pop("id", 7), name=kw.pop("name", "Northwind"), **kw)


@pytest.mark.parametrize(
    "as_of, end, expected",
    [
        ("2026-05-31", "2026-06-30", "2026-06-30"),  # exactly 30 days ahead: due
        ("2026-05-30", "2026-06-30", None),  # 31 days ahead: not yet
        ("2026-06-30", "2026-06-30", "2026-06-30"),  # last day of the contract: still due
        ("2026-07-01", "2026-06-30", None),  # ended: too late
        ("2028-01-30", "2028-02-29", "2028-02-29"),  # leap day end, 30 days across February
        ("2027-01-30", "2027-02-28", "2027-02-28"),  # non-leap February
        ("2026-12-15", "2027-01-10", "2027-01-10"),  # across the year end
        ("2026-06-01", "2026-06-30T00:00:00Z", "2026-06-30"),  # timestamps are read as their date
        ("2026-06-01", "", None),  # no contract date: nothing due, no warning
    ],
)
def test_renewal_window(as_of, end, expected):
    result = renewal_due(org(contract_end_date=end), date.fromisoformat(as_of), S)
    if expected is None:
        assert result is None
    else:
        assert isinstance(result, DueItem)
        assert result.key == f"deskbook:renewals:7:{expected}"


def test_renewal_moved_date_gets_a_new_key_and_the_old_one_is_not_due_again():
    as_of = date(2026, 6, 5)
    before = renewal_due(org(contract_end_date="2026-06-30"), as_of, S)
    # renewed: the end date moved a year; nothing due now, a new key next year
    assert renewal_due(org(contract_end_date="2027-06-30"), as_of, S) is None
    after = renewal_due(org(contract_end_date="2027-06-30"), date(2027, 6, 1), S)
    assert before.key != after.key
    assert after.key == "deskbook:renewals:7:2027-06-30"


def test_renewal_lead_days_from_settings():
    s = ScheduleSettings(renewal_lead_days=10)
    assert renewal_due(org(contract_end_date="2026-06-30"), date(2026, 6, 19), s) is None
    assert renewal_due(org(contract_end_date="2026-06-30"), date(2026, 6, 20), s) is not None


@pytest.mark.parametrize("bad", ["30/06/2026", "2026-02-30", "soon", "2026-13-01"])
def test_unparseable_contract_date_is_a_skip_naming_the_org(bad):
    result = renewal_due(org(contract_end_date=bad), date(2026, 6, 1), S)
    assert isinstance(result, Skip)
    assert "organization 7 (Northwind)" in result.reason and repr(bad) in result.reason


@pytest.mark.parametrize(
    "tier, as_of, period",
    [
        ("key", "2026-01-31", "2026-01"),
        ("key", "2026-02-01", "2026-02"),
        ("key", "2024-02-29", "2024-02"),
        ("key", "2026-12-31", "2026-12"),
        ("regular", "2026-03-31", "2026-Q1"),
        ("regular", "2026-04-01", "2026-Q2"),
        ("regular", "2026-09-30", "2026-Q3"),
        ("regular", "2026-10-01", "2026-Q4"),
        ("regular", "2026-12-31", "2026-Q4"),
    ],
)
def test_callback_periods(tier, as_of, period):
    result = callback_due(org(tier=tier), date.fromisoformat(as_of), S)
    assert result.key == f"deskbook:callbacks:7:{period}"
    assert result.due_on <= date.fromisoformat(as_of)


def test_callback_catch_up_is_the_current_period_only():
    # down since January: on 2026-05-10 a key customer gets May's callback, not Jan..Apr
    items, _ = due_for(org(tier="key"), date(2026, 5, 10), S, ["callbacks"])
    assert [i.period for i in items] == ["2026-05"]


def test_callback_none_for_new_or_no_tier_and_skip_for_unknown():
    assert callback_due(org(tier="new"), date(2026, 5, 10), S) is None
    assert callback_due(org(tier=None), date(2026, 5, 10), S) is None
    skip = callback_due(org(tier="vip"), date(2026, 5, 10), S)
    assert isinstance(skip, Skip) and "'vip'" in skip.reason and "organization 7" in skip.reason


@pytest.mark.parametrize(
    "first, as_of, due",
    [
        ("2026-05-01", "2026-05-07", False),
        ("2026-05-01", "2026-05-08", True),
        ("2024-02-22", "2024-02-29", True),  # leap year
        ("2026-12-28", "2027-01-04", True),  # across the year end
        (None, "2026-05-08", False),
    ],
)
def test_followup_after_first_service(first, as_of, due):
    result = followup_due(org(tier="new", first_service_date=first), date.fromisoformat(as_of), S)
    assert (result is not None) is due
    if due:
        assert result.key == "deskbook:followups:7:once"


def test_followup_only_for_new_tier():
    assert followup_due(org(tier="key", first_service_date="2026-01-01"), date(2026, 5, 1), S) is None


def test_due_for_collects_items_and_skips():
    o = org(tier="key", contract_end_date="2026-06-10")
    items, skips = due_for(o, date(2026, 6, 1), S)
    assert sorted(i.key for i in items) == ["deskbook:callbacks:7:2026-06", "deskbook:renewals:7:2026-06-10"]
    assert skips == []
    items, skips = due_for(org(tier="gold", contract_end_date="x"), date(2026, 6, 1), S)
    assert items == [] and {s.job for s in skips} == {"renewals", "callbacks", "followups"}


def test_keys_round_trip_and_helpers():
    assert parse_key(item_key("renewals", 12, "2026-06-30")) == ("renewals", 12, "2026-06-30")
    assert parse_key("deskbook:other:1:x") is None and parse_key("something") is None
    assert quarter_period(date(2026, 7, 1)) == "2026-Q3"
    assert period_start(date(2026, 8, 19), "quarterly") == date(2026, 7, 1)
    assert period_start(date(2026, 8, 19), "monthly") == date(2026, 8, 1)


# --- callbacks spread over their period's working days (no wall of work on the period's first day)

from collections import Counter  # noqa: E402

from deskbook.sync.schedule import WorkCalendar, callback_day  # noqa: E402

CAL = WorkCalendar(
    holidays=((date(2026, 10, 1), date(2026, 10, 8)),),  # National Day week
    extra_workdays=frozenset({date(2026, 9, 27), date(2026, 10, 10)}),  # Sunday / Saturday make-up days
)
SPREAD = ScheduleSettings(calendar=CAL)


def test_calendar_knows_weekends_holidays_and_make_up_days():
    assert CAL.is_workday(date(2026, 10, 9))  # Friday
    assert not CAL.is_workday(date(2026, 10, 11))  # Sunday
    assert not CAL.is_workday(date(2026, 10, 5))  # Monday inside the holiday
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday make-up day


@pytest.mark.parametrize("ids", [range(1, 60001), range(360000000000, 360000000000 + 60000 * 7, 7)])
def test_quarterly_callbacks_spread_so_no_working_day_exceeds_125_percent_of_the_mean(ids):
    days = Counter(callback_day(i, date(2026, 10, 15), "quarterly", CAL) for i in ids)
    workdays = CAL.workdays(date(2026, 10, 1), date(2026, 12, 31))
    assert set(days) == set(workdays)  # every working day carries some, no closed day any
    mean = len(ids) / len(workdays)
    assert max(days.values()) <= 1.25 * mean
    assert date(2026, 10, 10) in days and date(2026, 10, 5) not in days


def test_callback_day_is_stable_and_inside_the_period():
    for org_id in (1, 2, 99, 123456789):
        a = callback_day(org_id, date(2027, 2, 3), "monthly", CAL)
        b = callback_day(org_id, date(2027, 2, 27), "monthly", CAL)
        assert a == b and a.month == 2 and CAL.is_workday(a)


def test_callback_is_due_from_its_day_and_after_downtime_still_due_in_its_period():
    o = org(id=7, tier="regular")
    day = callback_day(7, date(2026, 11, 1), "quarterly", CAL)
    assert callback_due(o, day - timedelta(days=1), SPREAD) is None
    item = callback_due(o, day, SPREAD)
    assert item.key == "deskbook:callbacks:7:2026-Q4" and item.due_on == day
    late = callback_due(o, date(2026, 12, 31), SPREAD)  # the scheduler was down for weeks
    assert late.key == item.key
    assert callback_due(o, date(2027, 1, 1), SPREAD) is None or callback_due(o, date(2027, 1, 1), SPREAD).period == "2027-Q1"


def test_without_a_calendar_callbacks_are_due_from_the_first_day():
    assert callback_due(org(tier="regular"), date(2026, 10, 1), S).due_on == date(2026, 10, 1)

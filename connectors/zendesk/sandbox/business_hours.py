"""Business-hours arithmetic over a Zendesk schedule: pure functions, no store.

A schedule is the sandbox's stored document: `time_zone` (Zendesk's Rails zone name, e.g.
"Beijing"), `intervals` (minutes since Sunday 00:00 local time, as the Schedules API gives them)
and `_holidays` (`start_date`/`end_date`, inclusive, local dates).

Zendesk ("About business hours and SLAs", "Schedules API"): a business-hours SLA target or
automation time condition counts only the minutes inside the schedule's intervals, and a holiday
closes its whole days. The arithmetic is the sandbox kit's (`sandbox_kit/working_time.py`, shared with
the JSM sandbox's SLA calendars); this module turns a Zendesk schedule into it. Assumptions where
the documentation is silent, taken here:

* A holiday closes every interval that *starts* on one of its dates (intervals never span a day:
  the Schedules API refuses that).
* Time is counted to the second; callers round as Zendesk shows it (SLA targets are whole minutes,
  automation hours are whole hours, rounded down).
* An account without a schedule counts business hours as calendar hours (Zendesk: SLA business
  hours need a schedule; the sandbox does not refuse the target, it counts around the clock).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from deskbook.connectors.sandbox_kit.working_time import WorkingTime, add_working_seconds, working_seconds
from deskbook.connectors.sandbox_kit.working_time import open_periods as kit_open_periods

#: Zendesk (Rails) time zone names the sandbox knows -> IANA names.
RAILS_ZONES = {
    "Beijing": "Asia/Shanghai", "Hong Kong": "Asia/Hong_Kong", "Taipei": "Asia/Taipei",
    "Singapore": "Asia/Singapore", "Tokyo": "Asia/Tokyo", "London": "Europe/London", "Berlin": "Europe/Berlin",
    "Paris": "Europe/Paris", "Eastern Time (US & Canada)": "America/New_York",
    "Central Time (US & Canada)": "America/Chicago", "Mountain Time (US & Canada)": "America/Denver",
    "Pacific Time (US & Canada)": "America/Los_Angeles", "UTC": "UTC",
}


def _zone(schedule: dict) -> str:
    name = schedule.get("time_zone") or "UTC"
    return RAILS_ZONES.get(name, name if "/" in name else "UTC")


@lru_cache(maxsize=256)
def _holiday_dates(holidays: tuple[tuple[str, str], ...]) -> frozenset[date]:
    days: set[date] = set()
    for start, end in holidays:
        day, last = date.fromisoformat(start), date.fromisoformat(end)
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)


def closed_days(schedule: dict) -> frozenset[date]:
    """The local dates the schedule's holidays close."""
    return _holiday_dates(tuple((h["start_date"], h["end_date"]) for h in schedule.get("_holidays") or []))


def working_time(schedule: dict) -> WorkingTime:
    """The schedule as the kit's `WorkingTime` (intervals are minutes since Sunday 00:00 local time)."""
    weekly = []
    for interval in schedule.get("intervals") or []:
        begin, finish = interval["start_time"], interval["end_time"]
        sunday_based = begin // 1440
        weekly.append(((sunday_based - 1) % 7, (begin - sunday_based * 1440) * 60, (finish - sunday_based * 1440) * 60))
    return WorkingTime(zone=_zone(schedule), weekly=tuple(weekly), closed=closed_days(schedule))


def open_periods(schedule: dict, start_ts: float, end_ts: float):
    """(open, close) epoch-second pairs of the schedule overlapping [start_ts, end_ts), in order."""
    return kit_open_periods(working_time(schedule), start_ts, end_ts)


def business_seconds(schedule: dict | None, start_ts: float, end_ts: float) -> float:
    """Seconds of open business time between two instants (calendar time without a schedule)."""
    if end_ts <= start_ts:
        return 0.0
    if not schedule:
        return end_ts - start_ts
    return working_seconds(working_time(schedule), start_ts, end_ts)


def add_business_minutes(schedule: dict | None, start_ts: float, minutes: float) -> float:
    """The instant `minutes` of business time after `start_ts` (a breach time); calendar time
    without a schedule. A target that starts outside business hours begins counting at the next
    opening."""
    if not schedule:
        return start_ts + minutes * 60
    try:
        return add_working_seconds(working_time(schedule), start_ts, minutes * 60.0)
    except ValueError:
        raise ValueError("the schedule has no open hours in three years") from None


def utc(ts: float) -> datetime:
    """`ts` as an aware UTC datetime (for messages)."""
    return datetime.fromtimestamp(ts, timezone.utc)


def schedule_of(store: Any) -> dict | None:
    """The account's schedule the engine counts business hours in: the first one (by id), as
    Zendesk uses the default schedule when no trigger set another one."""
    schedules = store.all("schedule")
    return schedules[0] if schedules else None

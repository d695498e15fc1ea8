"""Business-hours arithmetic over a Zendesk schedule: pure functions, no store.

A schedule is the sandbox's stored document: `time_zone` (Zendesk's Rails zone name, e.g.
"Beijing"), `intervals` (minutes since Sunday 00:00 local time, as the Schedules API gives them)
and `_holidays` (`start_date`/`end_date`, inclusive, local dates).

Zendesk ("About business hours and SLAs", "Schedules API"): a business-hours SLA target or
automation time condition counts only the minutes inside the schedule's intervals, and a holiday
closes its whole days. Assumptions where the documentation is silent, taken here:

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
from zoneinfo import ZoneInfo

#: Zendesk (Rails) time zone names the sandbox knows -> IANA names.
RAILS_ZONES = {
    "Beijing": "Asia/Shanghai", "Hong Kong": "Asia/Hong_Kong", "Taipei": "Asia/Taipei",
    "Singapore": "Asia/Singapore", "Tokyo": "Asia/Tokyo", "London": "Europe/London", "Berlin": "Europe/Berlin",
    "Paris": "Europe/Paris", "Eastern Time (US & Canada)": "America/New_York",
    "Central Time (US & Canada)": "America/Chicago", "Mountain Time (US & Canada)": "America/Denver",
    "Pacific Time (US & Canada)": "America/Los_Angeles", "UTC": "UTC",
}
_MAX_DAYS = 3 * 366  # how far ahead a target may be searched for (an always-closed schedule ends here)


def _zone(schedule: dict) -> ZoneInfo:
    name = schedule.get("time_zone") or "UTC"
    return ZoneInfo(RAILS_ZONES.get(name, name if "/" in name else "UTC"))


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


def open_periods(schedule: dict, start_ts: float, end_ts: float):
    """(open, close) epoch-second pairs of the schedule overlapping [start_ts, end_ts), in order."""
    zone = _zone(schedule)
    holidays = closed_days(schedule)
    intervals = sorted((i["start_time"], i["end_time"]) for i in schedule.get("intervals") or [])
    local = datetime.fromtimestamp(start_ts, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_ts, zone).date()
    while local <= last:
        if local not in holidays:
            weekday = (local.weekday() + 1) % 7  # Zendesk weeks start on Sunday
            midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
            for begin, finish in intervals:
                if begin // 1440 != weekday:
                    continue
                opens = (midnight + timedelta(minutes=begin - weekday * 1440)).timestamp()
                closes = (midnight + timedelta(minutes=finish - weekday * 1440)).timestamp()
                if closes > start_ts and opens < end_ts:
                    yield max(opens, start_ts), min(closes, end_ts)
        local += timedelta(days=1)


def business_seconds(schedule: dict | None, start_ts: float, end_ts: float) -> float:
    """Seconds of open business time between two instants (calendar time without a schedule)."""
    if end_ts <= start_ts:
        return 0.0
    if not schedule:
        return end_ts - start_ts
    return sum(b - a for a, b in open_periods(schedule, start_ts, end_ts))


def add_business_minutes(schedule: dict | None, start_ts: float, minutes: float) -> float:
    """The instant `minutes` of business time after `start_ts` (a breach time); calendar time
    without a schedule. A target that starts outside business hours begins counting at the next
    opening."""
    if not schedule:
        return start_ts + minutes * 60
    left = minutes * 60.0
    window = 7 * 86400
    cursor = start_ts
    while cursor < start_ts + _MAX_DAYS * 86400:
        for opens, closes in open_periods(schedule, cursor, cursor + window):
            if closes - opens >= left:
                return opens + left
            left -= closes - opens
        cursor += window
    raise ValueError("the schedule has no open hours in three years")


def utc(ts: float) -> datetime:
    """`ts` as an aware UTC datetime (for messages)."""
    return datetime.fromtimestamp(ts, timezone.utc)


def schedule_of(store: Any) -> dict | None:
    """The account's schedule the engine counts business hours in: the first one (by id), as
    Zendesk uses the default schedule when no trigger set another one."""
    schedules = store.all("schedule")
    return schedules[0] if schedules else None

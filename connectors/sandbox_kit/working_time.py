"""Working-time arithmetic shared by the sandboxes' rule engines: pure functions, no store.

A `WorkingTime` is a time zone, weekly opening intervals (local weekday Monday=0, start and end in
seconds after local midnight) and the local dates it is closed (holidays; `recurring` closes a
month-day every year). Each desk turns its own calendar into one — Zendesk's schedule
(`zendesk/sandbox/business_hours.py`), JSM's SLA calendar (`jsm/sandbox/sla.py`) — and both desks
count SLA time with the same three operations: the open periods in a span, the open seconds
between two instants, and the instant a number of open seconds after another (a breach time).

Rules taken here (both desks' documentation is silent on them): a closed date closes every interval
that *starts* on it (intervals never span midnight); time is counted to the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

#: How far ahead an instant is searched for (a calendar that never opens ends the search here).
MAX_DAYS = 3 * 366
DAY = 86400


@dataclass(frozen=True)
class WorkingTime:
    """When work time runs: `zone` (IANA name), `weekly` (weekday Monday=0, start s, end s) local
    intervals, `closed` local dates and `recurring` (month, day) closed every year."""

    zone: str = "UTC"
    weekly: tuple[tuple[int, int, int], ...] = tuple((d, 0, DAY) for d in range(7))
    closed: frozenset[date] = frozenset()
    recurring: frozenset[tuple[int, int]] = frozenset()

    @property
    def always_open(self) -> bool:
        """Around the clock, every day (a 24/7 calendar): no local arithmetic needed."""
        return not self.closed and not self.recurring and \
            all(any(w == d and s <= 0 and e >= DAY for w, s, e in self.weekly) for d in range(7))

    def is_closed_day(self, day: date) -> bool:
        """Whether a holiday closes the local date `day`."""
        return day in self.closed or (day.month, day.day) in self.recurring


def open_periods(hours: WorkingTime, start_ts: float, end_ts: float) -> Iterator[tuple[float, float]]:
    """(open, close) epoch-second pairs of working time overlapping [start_ts, end_ts), in order."""
    if end_ts <= start_ts:
        return
    if hours.always_open:
        yield start_ts, end_ts
        return
    zone = ZoneInfo(hours.zone)
    weekly = sorted(hours.weekly, key=lambda w: (w[0], w[1]))
    local = datetime.fromtimestamp(start_ts, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_ts, zone).date()
    while local <= last:
        if not hours.is_closed_day(local):
            midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
            for weekday, begin, finish in weekly:
                if weekday != local.weekday():
                    continue
                opens = (midnight + timedelta(seconds=begin)).timestamp()
                closes = (midnight + timedelta(seconds=finish)).timestamp()
                if closes > start_ts and opens < end_ts:
                    yield max(opens, start_ts), min(closes, end_ts)
        local += timedelta(days=1)


def working_seconds(hours: WorkingTime, start_ts: float, end_ts: float) -> float:
    """Seconds of working time between two instants (0 when `end_ts <= start_ts`)."""
    return sum(b - a for a, b in open_periods(hours, start_ts, end_ts))


def add_working_seconds(hours: WorkingTime, start_ts: float, seconds: float) -> float:
    """The instant `seconds` of working time after `start_ts` (counting from the next opening when
    `start_ts` is outside working time)."""
    left = float(seconds)
    if hours.always_open:
        return start_ts + left
    window = 7 * DAY
    cursor = start_ts
    while cursor < start_ts + MAX_DAYS * DAY:
        for opens, closes in open_periods(hours, cursor, cursor + window):
            if closes - opens >= left:
                return opens + left
            left -= closes - opens
        cursor += window
    raise ValueError("the calendar has no working time in three years")


def is_working(hours: WorkingTime, ts: float) -> bool:
    """Whether `ts` falls inside working time."""
    return any(True for _ in open_periods(hours, ts, ts + 1))

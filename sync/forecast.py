"""How many tasks each job will create on each of the coming days: `deskbook sync forecast`.

Pure, over the organization index the sync runs keep (no desk call of its own): the same due
rules as the runner (`deskbook.sync.schedule`), walked forward day by day. An item already done
(in the ledger) is not counted; one due before the first day and not yet done counts on the
first day, as the next run would create it then. Callbacks of periods that start inside the
window are counted on their organization's spread day (`callback_day`), so the forecast shows
the load agents will see; bad data (the runner's skips) is left out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from deskbook.sync.schedule import (
    JOBS,
    Organization,
    ScheduleSettings,
    callback_day,
    item_key,
    month_period,
    parse_date,
    period_end,
    quarter_period,
)


@dataclass(frozen=True)
class Forecast:
    """Tasks per day per job from `start` for `days` days."""

    start: date
    days: int
    counts: dict[date, Counter]

    def rows(self) -> list[dict]:
        """One row per day, every job named (zero included)."""
        out = []
        for offset in range(self.days):
            day = self.start + timedelta(days=offset)
            counts = self.counts.get(day, Counter())
            out.append({"date": day.isoformat(), **{job: counts.get(job, 0) for job in JOBS}})
        return out

    def to_json(self) -> dict:
        """`{"days": [{"date": ..., "renewals": n, "callbacks": n, "followups": n}, ...]}`."""
        return {"days": self.rows()}

    def busiest(self, job: str | None = None) -> tuple[date | None, int]:
        """The day with most tasks (of one job, or all) and its count."""
        best: tuple[date | None, int] = (None, 0)
        for day, counts in sorted(self.counts.items()):
            n = counts.get(job, 0) if job else sum(counts.values())
            if n > best[1]:
                best = (day, n)
        return best

    def text(self) -> str:
        """A table of the days that carry work, then totals."""
        lines = [f"forecast from {self.start.isoformat()} for {self.days} days (tasks to create per day)",
                 f"  {'date':<14}" + "".join(f"{job:>11}" for job in JOBS)]
        totals: Counter = Counter()
        for row in self.rows():
            if any(row[job] for job in JOBS):
                day = date.fromisoformat(row["date"])
                lines.append(f"  {row['date']} {day.strftime('%a')}" + "".join(f"{row[job]:>11}" for job in JOBS))
            totals.update({job: row[job] for job in JOBS})
        lines.append(f"  {'total':<14}" + "".join(f"{totals[job]:>11}" for job in JOBS))
        busiest, most = self.busiest()
        if busiest is not None:
            lines.append(f"  busiest day: {busiest.isoformat()} with {most} task(s)")
        return "\n".join(lines)


def forecast(orgs: Iterable[Organization], start: date, days: int, settings: ScheduleSettings,
             done: set[str] | frozenset[str] = frozenset()) -> Forecast:
    """Count the tasks the runner will create on each day of [start, start + days)."""
    end = start + timedelta(days=days)  # exclusive
    counts: dict[date, Counter] = {}

    def add(job: str, day: date, key: str) -> None:
        if key in done or not (start <= day < end):
            return
        counts.setdefault(day, Counter())[job] += 1

    for org in orgs:
        _renewal(org, start, end, settings, add)
        _callbacks(org, start, end, settings, add)
        _followup(org, start, end, settings, add)
    return Forecast(start, days, counts)


def _renewal(org, start, end, settings, add) -> None:
    try:
        contract_end = parse_date(org.contract_end_date)
    except ValueError:
        return
    if contract_end is None or contract_end < start:
        return
    due = contract_end - timedelta(days=settings.renewal_lead_days)
    add("renewals", max(due, start), item_key("renewals", org.id, contract_end.isoformat()))


def _callbacks(org, start, end, settings, add) -> None:
    cadence = settings.tier_cadence.get((org.tier or "").strip())
    if cadence not in ("monthly", "quarterly"):
        return
    day = start
    while day < end:
        period = month_period(day) if cadence == "monthly" else quarter_period(day)
        when = callback_day(org.id, day, cadence, settings.calendar)
        add("callbacks", max(when, start), item_key("callbacks", org.id, period))
        day = period_end(day, cadence) + timedelta(days=1)


def _followup(org, start, end, settings, add) -> None:
    if settings.tier_cadence.get((org.tier or "").strip()) != "after_first_service":
        return
    try:
        first = parse_date(org.first_service_date)
    except ValueError:
        return
    if first is not None:
        due = first + timedelta(days=settings.followup_after_days)
        add("followups", max(due, start), item_key("followups", org.id, "once"))

"""What is due, as of a date: pure functions, no I/O.

Every due item has a stable key `deskbook:<job>:<organization id>:<period>` that is used as
the ticket's `external_id` and `Idempotency-Key`, so "already done" is a key lookup:

- **renewals** (R-4): due while the contract end date is within the lead time
  (`as_of <= end <= as_of + lead_days`); period = the end date. A moved end date is a new
  term, hence a new key and a new reminder; the old key is never re-created.
- **callbacks** (R-2, R-3): monthly tiers get one per calendar month (`YYYY-MM`), quarterly
  tiers one per calendar quarter (`YYYY-Qn`). With the playbook's working calendar
  (`WorkCalendar`: open weekdays, holidays, make-up working days) each organization's callback
  falls on its own working day of the period, `callback_day`: the organization id walks a
  golden-ratio (Weyl) sequence over the period's working days, so the day is stable for an
  organization and organizations spread evenly — a quarter's callbacks no longer all land on
  its first day. Without a calendar (settings built by hand) they are due from the first day.
  A run after downtime creates every callback of the current period whose day has passed;
  a callback for a period that is over is no use to anybody, so missed periods are not
  back-filled.
- **followups** (R-1): tiers whose cadence is `after_first_service`, once the first service
  date plus `followup_after_days` has been reached; once per organization (period `once`),
  so a first-service date re-derived differently later never creates a second follow-up.

Bad data (an unparseable date, a tier the playbook does not know) gives a `Skip` naming the
organization; an empty value simply means nothing is due.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Mapping

JOBS = ("renewals", "callbacks", "followups")

#: Default tier → cadence (the shipped playbook's tiers).
DEFAULT_TIER_CADENCE = {"key": "monthly", "regular": "quarterly", "new": "after_first_service"}


@dataclass(frozen=True)
class Organization:
    """What the jobs need to know about one customer organization (raw desk values)."""

    id: int
    name: str = ""
    contract_end_date: str | None = None
    tier: str | None = None
    first_service_date: str | None = None
    locale: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class WorkCalendar:
    """The playbook's working days: open weekdays (0 = Monday), holidays, make-up working days."""

    open_weekdays: frozenset[int] = frozenset(range(5))
    holidays: tuple[tuple[date, date], ...] = ()  # inclusive ranges
    extra_workdays: frozenset[date] = frozenset()

    def is_workday(self, day: date) -> bool:
        """True when staff work on `day`."""
        if day in self.extra_workdays:
            return True
        if day.weekday() not in self.open_weekdays:
            return False
        return not any(start <= day <= end for start, end in self.holidays)

    def workdays(self, start: date, end: date) -> list[date]:
        """Working days from `start` to `end`, both included."""
        days = []
        day = start
        while day <= end:
            if self.is_workday(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    @classmethod
    def from_metadata(cls, metadata) -> "WorkCalendar":
        """The calendar of a playbook's `metadata` (business_hours, holidays, extra_workdays)."""
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        open_days = {names.index(d.lower()[:3]) for block in metadata.business_hours for d in block.days
                     if d.lower()[:3] in names}
        holidays = tuple((date.fromisoformat(start), date.fromisoformat(end))
                         for _name, start, end in metadata.holidays)
        extra = frozenset(date.fromisoformat(w.date) for w in metadata.extra_workdays)
        return cls(frozenset(open_days), holidays, extra)


@dataclass(frozen=True)
class ScheduleSettings:
    """The playbook's timing rules (`calendar` None: callbacks due from their period's first day)."""

    renewal_lead_days: int = 30
    followup_after_days: int = 7
    tier_cadence: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TIER_CADENCE))
    calendar: WorkCalendar | None = None


@dataclass(frozen=True)
class DueItem:
    """One piece of work that must exist exactly once in the desk."""

    job: str
    organization_id: int
    period: str
    due_on: date

    @property
    def key(self) -> str:
        """The idempotency key / external_id of this item."""
        return item_key(self.job, self.organization_id, self.period)


@dataclass(frozen=True)
class Skip:
    """An organization a job could not judge, and why (names the organization)."""

    job: str
    organization_id: int
    reason: str


def item_key(job: str, organization_id: int, period: str) -> str:
    """`deskbook:<job>:<organization id>:<period or date>`."""
    return f"deskbook:{job}:{organization_id}:{period}"


def parse_key(key: str) -> tuple[str, int, str] | None:
    """(job, organization id, period) from an item key, or None when it is not one of ours."""
    parts = key.split(":", 3)
    if len(parts) != 4 or parts[0] != "deskbook" or parts[1] not in JOBS or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2]), parts[3]


def parse_date(text: str | None) -> date | None:
    """A desk date value (`YYYY-MM-DD`, or an ISO timestamp) as a date; None when empty.

    Raises ValueError for anything else.
    """
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    return date.fromisoformat(text)


def month_period(day: date) -> str:
    """`YYYY-MM` of `day`."""
    return f"{day.year:04d}-{day.month:02d}"


def quarter_period(day: date) -> str:
    """`YYYY-Qn` of `day`."""
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def period_start(day: date, cadence: str) -> date:
    """First day of the month or quarter containing `day`."""
    if cadence == "monthly":
        return day.replace(day=1)
    if cadence == "quarterly":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise ValueError(f"not a periodic cadence: {cadence}")


def period_end(day: date, cadence: str) -> date:
    """Last day of the month or quarter containing `day`."""
    start = period_start(day, cadence)
    months = 1 if cadence == "monthly" else 3
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, 1) - timedelta(days=1)


#: The golden ratio's fractional part: k·φ mod 1 spreads any arithmetic run of ids evenly.
_PHI = (math.sqrt(5) - 1) / 2

_WORKDAY_CACHE: dict[tuple[WorkCalendar, date, str], list[date]] = {}


def callback_day(organization_id: int, day: date, cadence: str, calendar: WorkCalendar | None) -> date:
    """The day of the period containing `day` on which `organization_id`'s callback falls.

    Stable per organization and period: the id's golden-ratio fraction picks one of the period's
    working days (the first day of the period when there is no calendar, or no working day)."""
    start = period_start(day, cadence)
    if calendar is None:
        return start
    cache_key = (calendar, start, cadence)
    days = _WORKDAY_CACHE.get(cache_key)
    if days is None:
        if len(_WORKDAY_CACHE) > 256:
            _WORKDAY_CACHE.clear()
        days = _WORKDAY_CACHE[cache_key] = calendar.workdays(start, period_end(day, cadence))
    if not days:
        return start
    return days[int(((organization_id * _PHI) % 1.0) * len(days)) % len(days)]


def _label(org: Organization) -> str:
    return f"organization {org.id}" + (f" ({org.name})" if org.name else "")


def _tier_cadence(org: Organization, job: str, settings: ScheduleSettings) -> str | Skip | None:
    tier = (org.tier or "").strip()
    if not tier:
        return None
    cadence = settings.tier_cadence.get(tier)
    if cadence is None:
        known = ", ".join(sorted(settings.tier_cadence))
        return Skip(job, org.id, f"{_label(org)}: unknown tier {tier!r} (known: {known})")
    return cadence


def renewal_due(org: Organization, as_of: date, settings: ScheduleSettings) -> DueItem | Skip | None:
    """The renewal reminder due for `org` as of `as_of`, a Skip for a bad date, or None."""
    try:
        end = parse_date(org.contract_end_date)
    except ValueError:
        return Skip("renewals", org.id, f"{_label(org)}: contract end date {org.contract_end_date!r} is not YYYY-MM-DD")
    if end is None:
        return None
    if as_of <= end <= as_of + timedelta(days=settings.renewal_lead_days):
        return DueItem("renewals", org.id, end.isoformat(), end - timedelta(days=settings.renewal_lead_days))
    return None


def callback_due(org: Organization, as_of: date, settings: ScheduleSettings) -> DueItem | Skip | None:
    """The callback of the current month/quarter for `org` once its day has come, a Skip, or None."""
    cadence = _tier_cadence(org, "callbacks", settings)
    if cadence is None or isinstance(cadence, Skip):
        return cadence
    if cadence not in ("monthly", "quarterly"):
        return None
    day = callback_day(org.id, as_of, cadence, settings.calendar)
    if day > as_of:
        return None
    period = month_period(as_of) if cadence == "monthly" else quarter_period(as_of)
    return DueItem("callbacks", org.id, period, day)


def followup_due(org: Organization, as_of: date, settings: ScheduleSettings) -> DueItem | Skip | None:
    """The new-customer follow-up for `org` once first service + N days is reached, a Skip, or None."""
    cadence = _tier_cadence(org, "followups", settings)
    if cadence is None or isinstance(cadence, Skip):
        return cadence
    if cadence != "after_first_service":
        return None
    try:
        first = parse_date(org.first_service_date)
    except ValueError:
        return Skip("followups", org.id, f"{_label(org)}: first service date {org.first_service_date!r} is not a date")
    if first is None:
        return None
    due_on = first + timedelta(days=settings.followup_after_days)
    if due_on <= as_of:
        return DueItem("followups", org.id, "once", due_on)
    return None


_JOB_FUNCTIONS = {"renewals": renewal_due, "callbacks": callback_due, "followups": followup_due}


def due_for(
    org: Organization, as_of: date, settings: ScheduleSettings, jobs: Iterable[str] = JOBS
) -> tuple[list[DueItem], list[Skip]]:
    """Every item due for `org` as of `as_of` in the given jobs, and the skips."""
    items: list[DueItem] = []
    skips: list[Skip] = []
    for job in jobs:
        result = _JOB_FUNCTIONS[job](org, as_of, settings)
        if isinstance(result, DueItem):
            items.append(result)
        elif isinstance(result, Skip):
            skips.append(result)
    return items, skips

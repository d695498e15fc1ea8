"""What is due, as of a date: pure functions, no I/O.

Every due item has a stable key `deskbook:<job>:<organization id>:<period>` that is used as
the ticket's `external_id` and `Idempotency-Key`, so "already done" is a key lookup:

- **renewals** (R-4): due while the contract end date is within the lead time
  (`as_of <= end <= as_of + lead_days`); period = the end date. A moved end date is a new
  term, hence a new key and a new reminder; the old key is never re-created.
- **callbacks** (R-2, R-3): monthly tiers get one per calendar month (`YYYY-MM`), quarterly
  tiers one per calendar quarter (`YYYY-Qn`), due from the first day of the period.
  Catching up after downtime creates the *current* period's callback only: a callback for
  a quarter that is over is no use to anybody, so missed periods are not back-filled.
- **followups** (R-1): tiers whose cadence is `after_first_service`, once the first service
  date plus `followup_after_days` has been reached; once per organization (period `once`),
  so a first-service date re-derived differently later never creates a second follow-up.

Bad data (an unparseable date, a tier the playbook does not know) gives a `Skip` naming the
organization; an empty value simply means nothing is due.
"""

from __future__ import annotations

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
class ScheduleSettings:
    """The playbook's timing rules."""

    renewal_lead_days: int = 30
    followup_after_days: int = 7
    tier_cadence: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TIER_CADENCE))


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
    """The periodic callback of the current month/quarter for `org`, a Skip, or None."""
    cadence = _tier_cadence(org, "callbacks", settings)
    if cadence is None or isinstance(cadence, Skip):
        return cadence
    if cadence == "monthly":
        return DueItem("callbacks", org.id, month_period(as_of), period_start(as_of, cadence))
    if cadence == "quarterly":
        return DueItem("callbacks", org.id, quarter_period(as_of), period_start(as_of, cadence))
    return None


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

"""What both desks' sample data share: the days new customers were first served.

Each desk seeds organizations its own way (its fields, its id forms); the demo and the sync tests
need, on both, one resolved first service per new customer at known days before the run date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable, Iterable, Sequence, TypeVar

Id = TypeVar("Id", int, str)

#: How many days before the run date the seeded new customers were first served, in turn: most long
#: enough ago for the 7-day follow-up (R-1) to be due, one (3) too recent, so a demo shows both.
FIRST_SERVICE_DAYS_AGO = (8, 12, 3, 20)


def first_service_days(organization_ids: Iterable[Id], today: date,
                       days_ago: Sequence[int] = FIRST_SERVICE_DAYS_AGO) -> list[tuple[Id, date]]:
    """(organization id, day of its first service) for each id in numeric id order, cycling
    through `days_ago`."""
    ordered = sorted(organization_ids, key=int)
    return [(org_id, today - timedelta(days=days_ago[n % len(days_ago)])) for n, org_id in enumerate(ordered)]


def seed_first_services(organization_ids: Iterable[Id], today: date, days_ago: Sequence[int], *,
                        find: Callable[[Id], dict | None], create: Callable[[Id, dict, date], Any]) -> dict[Id, date]:
    """Give each organization (in id order) its first service on its `first_service_days` day:
    `find(id)` reads the organization (KeyError when missing), `create(id, organization, day)`
    makes the desk's resolved ticket or request. Returns organization id -> that day."""
    served: dict[Id, date] = {}
    for org_id, day in first_service_days(organization_ids, today, days_ago):
        org = find(org_id)
        if org is None:
            raise KeyError(f"no organization {org_id} in the sandbox")
        create(org_id, org, day)
        served[org_id] = day
    return served

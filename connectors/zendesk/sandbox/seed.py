"""Sample data for the sandbox desk: the admin user, organizations with contract dates and tiers,
and first services (solved tickets) of new customers."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Iterable, Sequence

from deskbook.connectors.sandbox_kit.seeding import FIRST_SERVICE_DAYS_AGO
from deskbook.connectors.sandbox_kit.seeding import seed_first_services as kit_seed_first_services
from deskbook.connectors.zendesk.sandbox.rules import ADMIN_USER_ID
from deskbook.connectors.zendesk.sandbox.store import Store, iso

#: Organization fields the seeded customers carry (plain fields, not owned by any playbook).
SEED_FIELDS = (
    {"key": "contract_end_date", "title": "Contract end date", "type": "date", "description": "When the customer's contract ends"},
    {"key": "customer_tier", "title": "Customer tier", "type": "dropdown", "description": "Service tier",
     "custom_field_options": [{"name": n.capitalize(), "value": n} for n in ("key", "regular", "new")]},
)
#: The standard playbook's tiers (key customers monthly, regular quarterly, new after first service).
TIERS = ("key", "regular", "new")


def ensure_admin(store: Store, email: str) -> None:
    """Create the account's admin user (the one the API token belongs to) if it is missing."""
    from deskbook.connectors.zendesk.sandbox.rules import build_user

    if store.get("user", ADMIN_USER_ID) is None:
        admin = build_user({"name": "Sandbox Admin", "email": email, "role": "admin", "verified": True}, None, store)
        store.insert("user", dict(admin, id=ADMIN_USER_ID))


def ensure_seed_fields(store: Store) -> None:
    """Create the `contract_end_date` and `customer_tier` organization fields when absent."""
    from deskbook.connectors.zendesk.sandbox.rules import build_organization_field

    existing = {f["key"] for f in store.all("organization_field")}
    for spec in SEED_FIELDS:
        if spec["key"] not in existing:
            store.insert("organization_field", build_organization_field(dict(spec), None, store))


def seed_organizations(store: Store, count: int, *, seed: int = 0, today: date | None = None,
                       name_prefix: str = "Customer", spread_days: int = 730) -> list[int]:
    """Create `count` organizations in one bulk insert, with `contract_end_date` spread over
    `spread_days` around today and tiers spread over key/regular/new; returns their ids.

    `updated_at` values are one second apart (older first), so time-based exports page cleanly."""
    if count <= 0:
        return []
    ensure_seed_fields(store)
    rng = random.Random(seed)
    today = today or date.fromtimestamp(store.now())
    now = int(store.now())
    first = store.count("organization")
    ids = store.next_ids("organization", count)
    docs = []
    span = spread_days + spread_days // 4 + 1
    for n, object_id in enumerate(ids):
        end = today + timedelta(days=int(rng.random() * span) - spread_days // 4)
        stamp_ts = now - (count - n)
        stamp = iso(stamp_ts)
        docs.append({
            "id": object_id, "name": f"{name_prefix} {first + n + 1:06d}", "shared_tickets": False,
            "shared_comments": False, "external_id": f"seed-{first + n + 1}", "domain_names": [], "details": None,
            "notes": None, "group_id": None, "tags": [], "created_at": stamp, "updated_at": stamp,
            "_created_ts": stamp_ts, "_updated_ts": stamp_ts,
            "organization_fields": {"contract_end_date": end.isoformat(), "customer_tier": TIERS[int(rng.random() * len(TIERS))]},
        })
    store.insert_many("organization", docs)
    return ids


def seed_first_services(store: Store, organization_ids: Iterable[int], today: date, *,
                        days_ago: Sequence[int] = FIRST_SERVICE_DAYS_AGO) -> dict[int, date]:
    """Give each organization (in id order) its first service: one solved ticket, solved
    `days_ago[n]` days before `today` (cycling); returns organization id -> that day.

    Zendesk tickets have no `solved_at`: a solved ticket's `updated_at` is when it was solved, and
    that is what the ticket export and search report, so the day goes there (noon UTC, so every
    reader slicing the date off sees the same day); the ticket was opened the day before."""
    def solved_ticket(org_id: int, org: dict, day: date) -> None:
        subject = f"First service for {org['name']}"
        body = "Sample first service of a new customer, solved."
        store.add_ticket(subject=subject, raw_subject=subject, description=body, status="solved",
                         organization_id=org_id, created_at=f"{day - timedelta(days=1)}T12:00:00Z",
                         updated_at=f"{day}T12:00:00Z",
                         _comments=[{"body": body, "public": True, "author_id": ADMIN_USER_ID}])

    return kit_seed_first_services((int(i) for i in organization_ids), today, days_ago,
                                   find=lambda org_id: store.get("organization", org_id), create=solved_ticket)

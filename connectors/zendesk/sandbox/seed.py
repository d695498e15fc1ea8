"""Sample data for the sandbox desk: the admin user, and organizations with contract dates and tiers."""

from __future__ import annotations

import random
from datetime import date, timedelta

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

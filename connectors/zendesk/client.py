"""`ZendeskClient`: list / create / update / delete per kind over `deskbook.http.DeskSession`.

Why plain requests (through `DeskSession`) and not zenpy for the calls: zenpy builds every URL
from `https://<subdomain>.<domain>/api/v2` (the scheme is fixed unless the process-wide
`ZENPY_FORCE_SCHEME` variable is set, and a port does not fit the template), so it cannot
reasonably talk to the local sandbox on `http://127.0.0.1:PORT`; it also runs its own
rate-limit sleeps and raises its own exceptions, which would split the one retry policy
(`DeskSession`) in two, and it lacks trigger categories, SLA policy reorder and variant
`update_many`. So every call here is a plain request in the shared session (retries, call
counts, one-line errors), and zenpy is kept for what it does well without I/O: its object
classes (`as_zenpy`) give typed views of recorded or listed objects.

For your own scripts, `ZendeskClient.zenpy()` hands out a working, configured `zenpy.Zenpy` on the
same account: its requests go through a `ZenpySession` (a `DeskSession` that sends zenpy's
`https://<subdomain>.<domain>` URLs to the client's base URL, so the sandbox works too, with the
same retry policy and call counters, and leaves error answers to zenpy's own exceptions).

Connection: explicit arguments or the environment (`ZENDESK_URL` or `ZENDESK_SUBDOMAIN`,
`ZENDESK_EMAIL`, `ZENDESK_API_TOKEN`); the token is registered as a secret so no log shows it.
Paths are written without `.json` (both forms are valid; the OpenAPI file lists them bare).
"""

from __future__ import annotations

import builtins
import logging
import os
from dataclasses import dataclass
from typing import Any, Iterator, cast
from urllib.parse import urlsplit

import requests

from deskbook.errors import DeskbookError
from deskbook.http import (
    CursorPaginator,
    DeskSession,
    OffsetPaginator,
    Page,
    PageRequest,
    Paginator,
    RetryPolicy,
    pages,
    refuse_user_info,
)
from deskbook.log import register_secret

log = logging.getLogger("deskbook.connectors.zendesk")


@dataclass(frozen=True)
class KindEndpoint:
    """Where a kind lives in the API: collection path, list key, single-object key, pagination."""

    path: str
    plural: str
    singular: str
    cursor: bool  # cursor pagination supported; else offset (or a single page)
    update_method: str = "PUT"


#: Every kind the connector manages, in `translate.KIND_ORDER`.
ENDPOINTS: dict[str, KindEndpoint] = {
    "group": KindEndpoint("/api/v2/groups", "groups", "group", True),
    "ticket_field": KindEndpoint("/api/v2/ticket_fields", "ticket_fields", "ticket_field", True),
    "organization_field": KindEndpoint("/api/v2/organization_fields", "organization_fields", "organization_field", True),
    "ticket_form": KindEndpoint("/api/v2/ticket_forms", "ticket_forms", "ticket_form", False),
    "schedule": KindEndpoint("/api/v2/business_hours/schedules", "schedules", "schedule", False),
    "dynamic_content": KindEndpoint("/api/v2/dynamic_content/items", "items", "item", True),
    "trigger_category": KindEndpoint("/api/v2/trigger_categories", "trigger_categories", "trigger_category", True,
                                     update_method="PATCH"),
    "trigger": KindEndpoint("/api/v2/triggers", "triggers", "trigger", True),
    "macro": KindEndpoint("/api/v2/macros", "macros", "macro", True),
    "automation": KindEndpoint("/api/v2/automations", "automations", "automation", True),
    "sla_policy": KindEndpoint("/api/v2/slas/policies", "sla_policies", "sla_policy", False),
    "view": KindEndpoint("/api/v2/views", "views", "view", True),
}

#: Kinds whose order Zendesk keeps in a `position` set in bulk: rules with `PUT <path>/update_many`,
#: trigger categories with `POST /api/v2/trigger_categories/jobs`.
POSITIONED_KINDS = ("trigger_category", "trigger", "macro", "automation", "view")
#: Most objects one Zendesk bulk request takes.
BULK_LIMIT = 100
#: Items per page of the incremental and search exports (their maximum).
EXPORT_PAGE_SIZE = 1000

#: zenpy object class per kind (for typed views of JSON; no I/O).
_ZENPY_CLASSES = {
    "group": "Group", "ticket_field": "TicketField", "organization_field": "OrganizationField",
    "schedule": "Schedule", "trigger": "Trigger", "macro": "Macro", "automation": "Automation",
    "sla_policy": "SlaPolicy", "view": "View", "dynamic_content": "Item",
}


def epoch_seconds(stamp: Any) -> float | None:
    """A Zendesk timestamp (`2026-06-05T10:00:00Z`) as epoch seconds; None when there is none."""
    import datetime as dt

    if not stamp:
        return None
    return dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


class IncrementalTimePaginator(Paginator):
    """Zendesk time-based incremental export (`start_time`, `end_time`, `end_of_stream`): the next
    page starts at the page's `end_time`. A full page within one second cannot move on (`end_time`
    equals `start_time`): the export stops there with a warning and the next run continues."""

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """`start_time` = `end_time`, until `end_of_stream`."""
        if data.get("end_of_stream", True) or not data.get("next_page"):
            return None
        start_time = int(dict(request.params).get("start_time") or 0)
        end_time = int(data.get("end_time") or start_time)
        if end_time <= start_time:
            log.warning("%s did not advance past start_time %s; continuing next run", request.path, start_time)
            return None
        return request.with_params(start_time=end_time)


class IncrementalCursorPaginator(Paginator):
    """Zendesk cursor-based incremental export (`start_time` or `cursor`; `after_cursor`,
    `end_of_stream`): the next page asks for `cursor` = the page's `after_cursor`."""

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        """`cursor` = `after_cursor` (and no `start_time`), until `end_of_stream`."""
        after = data.get("after_cursor")
        if data.get("end_of_stream", True) or not after:
            return None
        params = {k: v for k, v in request.params if k != "start_time"}
        return PageRequest(request.path, tuple({**params, "cursor": after}.items()), request.body)


def connection_from(url: str | None = None, email: str | None = None, token: str | None = None,
                    subdomain: str | None = None) -> tuple[str, str, str]:
    """(base URL, email, token) from arguments, else the ZENDESK_* environment; raises naming what is missing."""
    subdomain = subdomain or os.environ.get("ZENDESK_SUBDOMAIN")
    url = url or os.environ.get("ZENDESK_URL") or (f"https://{subdomain}.zendesk.com" if subdomain else None)
    if url:
        refuse_user_info(url, "the Zendesk URL (--url / ZENDESK_URL / ZENDESK_SUBDOMAIN)")
    email = email or os.environ.get("ZENDESK_EMAIL")
    token = token or os.environ.get("ZENDESK_API_TOKEN")
    missing = [name for name, value in (("--url/ZENDESK_URL (or ZENDESK_SUBDOMAIN)", url),
                                        ("--email/ZENDESK_EMAIL", email),
                                        ("--token/ZENDESK_API_TOKEN", token)) if not value]
    if missing or not (url and email and token):
        raise DeskbookError("Zendesk connection is incomplete: missing " + ", ".join(missing),
                            hint="pass the flags or set the environment variables")
    register_secret(token)
    return url.rstrip("/"), email, token


def as_zenpy(kind: str, payload: dict[str, Any]) -> Any:
    """A zenpy API object (e.g. `zenpy.lib.api_objects.Macro`) over a JSON object, for typed reads."""
    from zenpy.lib import api_objects

    cls = getattr(api_objects, _ZENPY_CLASSES.get(kind, ""), None) or api_objects.BaseObject
    if cls is api_objects.BaseObject:
        obj = cls()
        obj.__dict__.update(payload)
        return obj
    return cls(api=None, **payload)


class ZenpySession(DeskSession):
    """The session under `ZendeskClient.zenpy()`: zenpy's absolute URLs are sent to this session's
    base URL with the shared retry policy and counters, and every answer is handed back to zenpy
    (which raises its own exceptions) rather than raised here."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Send `url`'s path and query to the base URL; never raise for an HTTP status."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        kwargs.setdefault("raise_for_status", False)
        return super().request(method, path, *args, **kwargs)


class ZendeskClient:
    """Zendesk Support API calls deskbook makes, all through one `DeskSession`."""

    def __init__(self, url: str | None = None, email: str | None = None, token: str | None = None, *,
                 subdomain: str | None = None, session: DeskSession | None = None,
                 policy: RetryPolicy | None = None, page_size: int = 100, **session_options: Any):
        self.url, self.email, token = connection_from(url, email, token, subdomain)
        self.session = session or DeskSession(self.url, auth=(f"{self.email}/token", token), policy=policy,
                                              **session_options)
        self.cursor = CursorPaginator(page_size=page_size)
        self.offset = OffsetPaginator(per_page=page_size)

    # ------------------------------------------------------------ generic per kind

    def list(self, kind: str) -> list[dict[str, Any]]:
        """Every object of `kind` (paginated as Zendesk supports for that endpoint)."""
        ep = ENDPOINTS[kind]
        paginator = self.cursor if ep.cursor else self.offset
        return list(paginator.iter_items(self.session, ep.path, ep.plural))

    def create(self, kind: str, payload: dict[str, Any], *, label: str | None = None) -> dict[str, Any]:
        """Create one object; returns the object Zendesk stored (with its id)."""
        if kind == "schedule":
            return self.create_schedule(payload, label=label)
        ep = ENDPOINTS[kind]
        body = self.session.json_request("POST", ep.path, json={ep.singular: payload}, label=label)
        return body.get(ep.singular) or {}

    def update(self, kind: str, object_id: Any, payload: dict[str, Any], *, existing: dict[str, Any] | None = None,
               label: str | None = None) -> dict[str, Any]:
        """Update one object (dynamic content also updates/creates its variants)."""
        if kind == "dynamic_content":
            return self.update_dynamic_content(object_id, payload, existing or {}, label=label)
        if kind == "schedule":
            return self.update_schedule(object_id, payload, existing=existing, label=label)
        ep = ENDPOINTS[kind]
        body = self.session.json_request(ep.update_method, f"{ep.path}/{object_id}", json={ep.singular: payload},
                                         label=label)
        return body.get(ep.singular) or {}

    def delete(self, kind: str, object_id: Any, *, label: str | None = None) -> None:
        """Delete one object; an object already gone (404) counts as deleted."""
        ep = ENDPOINTS[kind]
        response = self.session.request("DELETE", f"{ep.path}/{object_id}", label=label, raise_for_status=False)
        if response.status_code >= 400 and response.status_code != 404:
            raise self.session.error_for(response, "DELETE", f"{ep.path}/{object_id}", label)

    # ------------------------------------------------------------ kinds with extra steps

    def create_schedule(self, payload: dict[str, Any], *, label: str | None = None) -> dict[str, Any]:
        """Create a schedule (name, time zone, intervals), then its holidays if the payload lists any."""
        payload = dict(payload)
        holidays = payload.pop("holidays", None) or []
        body = self.session.json_request("POST", ENDPOINTS["schedule"].path, json={"schedule": payload}, label=label)
        schedule = body.get("schedule") or {}
        for holiday in holidays:
            self.session.json_request("POST", f"{ENDPOINTS['schedule'].path}/{schedule['id']}/holidays",
                                      json={"holiday": holiday}, label=label)
        return schedule

    def update_schedule(self, object_id: Any, payload: dict[str, Any], *, existing: dict[str, Any] | None = None,
                        label: str | None = None) -> dict[str, Any]:
        """Update a schedule's name/time zone, its weekly intervals (`/workweek`) and its holidays
        (added / removed so that they match by name and dates)."""
        base = f"{ENDPOINTS['schedule'].path}/{object_id}"
        head = {k: v for k, v in payload.items() if k in ("name", "time_zone")}
        schedule = self.session.json_request("PUT", base, json={"schedule": head}, label=label).get("schedule") or {}
        if "intervals" in payload:
            week = self.session.json_request("PUT", f"{base}/workweek",
                                             json={"workweek": {"intervals": payload["intervals"]}}, label=label)
            schedule["intervals"] = (week.get("workweek") or {}).get("intervals", payload["intervals"])
        if "holidays" in payload:
            current = (existing or {}).get("holidays")
            if current is None:
                current = self.session.get_json(f"{base}/holidays").get("holidays") or []

            def ident(h: dict[str, Any]) -> tuple:
                return (h.get("name"), h.get("start_date"), h.get("end_date"))

            wanted = {ident(h) for h in payload["holidays"]}
            have = {ident(h) for h in current}
            for holiday in current:
                if ident(holiday) not in wanted and holiday.get("id") is not None:
                    self.session.request("DELETE", f"{base}/holidays/{holiday['id']}", label=label)
            for holiday in payload["holidays"]:
                if ident(holiday) not in have:
                    self.session.json_request("POST", f"{base}/holidays", json={"holiday": holiday}, label=label)
        return schedule

    def update_dynamic_content(self, object_id: Any, payload: dict[str, Any], existing: dict[str, Any], *,
                               label: str | None = None) -> dict[str, Any]:
        """Update an item's name/default locale, its variants by locale (`update_many`), and add new locales."""
        base = f"{ENDPOINTS['dynamic_content'].path}/{object_id}"
        head = {k: v for k, v in payload.items() if k in ("name", "default_locale_id")}
        item = self.session.json_request("PUT", base, json={"item": head}, label=label).get("item") or {}
        have = {str(v.get("locale_id")): v for v in existing.get("variants") or item.get("variants") or []}
        updates, creates = [], []
        for variant in payload.get("variants") or []:
            current = have.get(str(variant.get("locale_id")))
            if current is None:
                creates.append(variant)
            elif any(current.get(k) != v for k, v in variant.items()):
                updates.append({**variant, "id": current["id"]})
        if updates:
            self.session.json_request("PUT", f"{base}/variants/update_many", json={"variants": updates}, label=label)
        if creates:
            self.session.json_request("POST", f"{base}/variants/create_many", json={"variants": creates}, label=label)
        return item

    def update_positions(self, kind: str, positions: builtins.list[tuple[Any, int]], *, label: str | None = None) -> None:
        """Set rules' `position` with `PUT /api/v2/<rules>/update_many` (`{"<rules>": [{"id", "position"}]}`),
        one request per 100 rules (Zendesk's bulk limit); only the listed rules change."""
        if kind == "trigger_category":
            self.update_trigger_category_positions(positions, label=label)
            return
        ep = ENDPOINTS[kind]
        items = [{"id": int(object_id), "position": int(position)} for object_id, position in positions]
        for start in range(0, len(items), BULK_LIMIT):
            self.session.json_request("PUT", f"{ep.path}/update_many", json={ep.plural: items[start:start + BULK_LIMIT]},
                                      label=label or f"{kind} order")

    def update_trigger_category_positions(self, positions: builtins.list[tuple[Any, int]], *,
                                          label: str | None = None) -> None:
        """Set trigger categories' `position` in one batch job (`POST /api/v2/trigger_categories/jobs`,
        ids as strings); a job answering `status: failed` raises naming its first error."""
        items = [{"id": str(object_id), "position": int(position)} for object_id, position in positions]
        job = {"job": {"action": "patch", "items": {"trigger_categories": items}}}
        label = label or "trigger category order"
        # setting the same positions again is harmless: a POST, but idempotent (retried like a PUT)
        body = self.session.json_request("POST", "/api/v2/trigger_categories/jobs", json=job, label=label,
                                         idempotent=True)
        if body.get("status") == "failed":
            first = (body.get("errors") or [{}])[0]
            raise DeskbookError(f"Zendesk refused the trigger category order: {first.get('detail') or first}",
                                where=label, hint="re-run plan; if it persists, check the categories in Zendesk")

    def reorder_sla_policies(self, ids: builtins.list[Any], *, label: str | None = None) -> None:
        """Set the SLA policies' order (Zendesk applies the first policy whose filter matches)."""
        self.session.json_request("PUT", f"{ENDPOINTS['sla_policy'].path}/reorder",
                                  json={"sla_policy_ids": [int(i) for i in ids]}, label=label or "SLA policy order")

    # ------------------------------------------------------------ zenpy for your own scripts

    def zenpy(self) -> Any:
        """A configured `zenpy.Zenpy` for your own scripts, on this client's account and credentials.

        Its requests go through a `DeskSession` with this client's base URL, retry policy and call
        counters (`ZenpySession`): zenpy builds `https://<subdomain>.<domain>/api/v2/...` URLs, which
        are sent to the base URL (so the local sandbox works too), and zenpy sees every answer
        and raises its own exceptions for errors. deskbook itself does not call zenpy (see the
        module docstring)."""
        from zenpy import Zenpy

        host = urlsplit(self.url).netloc
        subdomain, _, domain = host.partition(".")
        session = ZenpySession(self.url, auth=self.session.auth, timeout=self.session.timeout,
                               policy=self.session.policy, sleep=self.session.sleep)
        session.calls = self.session.calls  # one set of counters for the client and its zenpy
        session.retries = self.session.retries
        token = cast("tuple[str, str]", self.session.auth)[1]
        return Zenpy(subdomain=subdomain, domain=domain or "zendesk.com", email=self.email, token=token,
                     session=session, timeout=self.session.timeout)

    # ------------------------------------------------------------ customers and tickets

    def me(self) -> dict[str, Any]:
        """The authenticated user (checks the credentials)."""
        return self.session.get_json("/api/v2/users/me").get("user") or {}

    def organizations(self) -> Iterator[dict[str, Any]]:
        """Every organization (cursor pagination)."""
        return self.cursor.iter_items(self.session, "/api/v2/organizations", "organizations")

    def create_organization(self, organization: dict[str, Any], *, label: str | None = None) -> dict[str, Any]:
        """Create one organization."""
        return self.session.json_request("POST", "/api/v2/organizations", json={"organization": organization},
                                         label=label).get("organization") or {}

    def organization(self, organization_id: Any) -> dict[str, Any]:
        """One organization (`GET /api/v2/organizations/{id}`)."""
        return self.session.get_json(f"/api/v2/organizations/{organization_id}.json").get("organization") or {}

    def update_organization_fields(self, organization_id: Any, fields: dict[str, Any], *,
                                   label: str | None = None) -> dict[str, Any]:
        """Set organization fields (`PUT /api/v2/organizations/{id}`, only `organization_fields`: the
        other fields and the fields not named keep their values)."""
        body = self.session.json_request("PUT", f"/api/v2/organizations/{organization_id}.json",
                                         json={"organization": {"organization_fields": fields}}, label=label)
        return body.get("organization") or {}

    def update_many_organizations(self, organizations: builtins.list[dict[str, Any]], *,
                                  label: str | None = None) -> dict[str, Any]:
        """Queue a batch update (`PUT /api/v2/organizations/update_many`, `{"organizations": [{id, ...}]}`,
        up to 100, each its own change); returns the job status (`queued`). The same values sent twice
        leave the records as once: a retried or replayed request does no harm."""
        if len(organizations) > BULK_LIMIT:
            raise ValueError(f"at most {BULK_LIMIT} organizations per update_many, not {len(organizations)}")
        return self.session.json_request("PUT", "/api/v2/organizations/update_many", json={"organizations": organizations},
                                         label=label).get("job_status") or {}

    def create_many_organizations(self, organizations: builtins.list[dict[str, Any]]) -> dict[str, Any]:
        """Queue a bulk create (up to 100); returns the job status."""
        return self.session.json_request("POST", "/api/v2/organizations/create_many",
                                         json={"organizations": organizations}).get("job_status") or {}

    def users(self) -> Iterator[dict[str, Any]]:
        """Every user (cursor pagination)."""
        return self.cursor.iter_items(self.session, "/api/v2/users", "users")

    def create_user(self, user: dict[str, Any], *, label: str | None = None) -> dict[str, Any]:
        """Create one user (e.g. a requester)."""
        return self.session.json_request("POST", "/api/v2/users", json={"user": user}, label=label).get("user") or {}

    def create_ticket(self, ticket: dict[str, Any], *, idempotency_key: str | None = None,
                      label: str | None = None) -> dict[str, Any]:
        """Create a ticket; with `idempotency_key` a retried create returns the first ticket, not a second."""
        return self.create_ticket_replayed(ticket, idempotency_key=idempotency_key, label=label)[0]

    def create_ticket_replayed(self, ticket: dict[str, Any], *, idempotency_key: str | None = None,
                               label: str | None = None) -> tuple[dict[str, Any], bool]:
        """(ticket, replayed): `create_ticket`, telling whether Zendesk answered with the ticket an earlier
        request with the same key created (`x-idempotency-lookup: hit`) instead of a new one."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self.session.request("POST", "/api/v2/tickets", json={"ticket": ticket}, headers=headers,
                                        label=label)
        replayed = response.headers.get("x-idempotency-lookup", "").lower() == "hit"
        return (response.json() if response.content else {}).get("ticket") or {}, replayed

    def create_many_tickets(self, tickets: builtins.list[dict[str, Any]], *, label: str | None = None) -> dict[str, Any]:
        """Queue a bulk ticket create (up to 100; no Idempotency-Key: a lost answer is ambiguous);
        returns the job status (`queued`)."""
        return self.session.json_request("POST", "/api/v2/tickets/create_many", json={"tickets": tickets},
                                         label=label).get("job_status") or {}

    def job_status(self, job_id: str) -> dict[str, Any] | None:
        """A background job's status, or None when Zendesk no longer knows it (statuses expire)."""
        from deskbook.http import DeskHTTPError

        try:
            return self.session.get_json(f"/api/v2/job_statuses/{job_id}").get("job_status") or {}
        except DeskHTTPError as exc:
            if exc.status == 404:
                return None
            raise

    def job_statuses_many(self, job_ids: builtins.list[str]) -> builtins.list[dict[str, Any]]:
        """The statuses of these background jobs with one `GET /api/v2/job_statuses/show_many` (a job
        it does not list: ask `job_status`, whose 404 is the documented "no longer known")."""
        from deskbook.http import DeskHTTPError

        try:
            body = self.session.get_json("/api/v2/job_statuses/show_many", params={"ids": ",".join(job_ids)})
        except DeskHTTPError as exc:
            if exc.status == 404:
                return []
            raise
        return [job for job in body.get("job_statuses") or [] if isinstance(job, dict)]

    def job_statuses(self) -> Iterator[dict[str, Any]]:
        """The account's recent background jobs (cursor pagination)."""
        return self.cursor.iter_items(self.session, "/api/v2/job_statuses", "job_statuses")

    def tickets(self) -> Iterator[dict[str, Any]]:
        """Every ticket (cursor pagination)."""
        return self.cursor.iter_items(self.session, "/api/v2/tickets", "tickets")

    # ------------------------------------------------------------ exports (what the sync jobs read)

    def organization_export(self, start_time: int, *, per_page: int = EXPORT_PAGE_SIZE) -> Iterator[Page]:
        """Pages of the time-based incremental organization export from `start_time` (epoch seconds);
        each page's `end_time` is where the next export starts."""
        return pages(self.session, IncrementalTimePaginator(), "/api/v2/incremental/organizations",
                     params={"start_time": start_time, "per_page": per_page})

    def ticket_export(self, cursor: str | None = None, *, per_page: int = EXPORT_PAGE_SIZE) -> Iterator[Page]:
        """Pages of the cursor-based incremental ticket export, from the start (no `cursor`) or from
        an `after_cursor` a page handed out (`Page.next`)."""
        params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": 0}
        params["per_page"] = per_page
        return pages(self.session, IncrementalCursorPaginator(), "/api/v2/incremental/tickets/cursor", params=params)

    def search_export(self, query: str, *, object_type: str = "ticket",
                      page_size: int = EXPORT_PAGE_SIZE) -> Iterator[Page]:
        """Pages of `GET /search/export` (cursor pagination, no 1000-result cap) for `query`."""
        return pages(self.session, CursorPaginator(page_size, most=page_size), "/api/v2/search/export",
                     params={"query": query, "filter[type]": object_type})

    def tickets_newest_first(self, page: int, *, per_page: int = 100) -> dict[str, Any]:
        """One offset page of List Tickets by `updated_at`, newest first (`sort_by=updated_at`,
        `sort_order=desc`, `page`, `per_page` <= 100): a live read, no export lag. The spec's
        ListTickets names only `external_id`; the sort parameters with offset pages are what
        Zendesk's developer community reports the endpoint accepting (cursor pages do not sort)."""
        return self.session.get_json("/api/v2/tickets", params={"sort_by": "updated_at", "sort_order": "desc",
                                                                "page": page, "per_page": per_page})

    def tickets_by_external_id(self, external_id: str) -> builtins.list[dict[str, Any]]:
        """Tickets whose `external_id` is exactly this."""
        return self.session.get_json("/api/v2/tickets", params={"external_id": external_id}).get("tickets") or []

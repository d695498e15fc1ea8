"""The report's Zendesk reader: documented endpoints, read incrementally, requests counted.

For a window [start, end) (epoch seconds) it reads:

1. `GET /ticket_fields` — which field ids are the playbook's (ownership marker), once;
2. `GET /incremental/tickets/cursor?start_time=start&include=metric_sets` — every ticket changed
   since the window opened, 1000 a page, with its metric set sideloaded (Tickets sideloads:
   `metric_sets`; the first reply time comes from `reply_time_in_minutes`);
3. `GET /search/export?query=status<solved&filter[type]=ticket&page[size]=1000` — the open backlog,
   tickets untouched since before the window included;
4. `GET /incremental/ticket_metric_events?start_time=start` — the SLA events (time-based export,
   up to 1000 a page): `apply_sla` names the policy (its ownership marker gives the playbook's key),
   `activate`/`fulfill`/`breach` give each cycle's outcome;
The desk's own CSAT answer comes with each ticket (`satisfaction_rating` {score, comment}: a rating
is an update of its ticket, so a ticket rated since the window opened is in the export), so
`GET /satisfaction_ratings` (cursor pages of at most 100, another ⌈R/100⌉ requests) is not read;
the sandbox serves it in the spec's shape for scripts that want the ratings' own times.

Cost for a week of N tickets changed, B open and E metric events: ⌈N/1000⌉ + ⌈B/1000⌉ + ⌈E/1000⌉
+ 1 requests — inside the goal ⌈N/100⌉ + 20 while a ticket has fewer than about 9 metric events
(`benchmarks/report_scale.py` measures it). No per-ticket request is made.
"""

from __future__ import annotations

from typing import Any

from deskbook.connectors.report.records import DeskData, SlaCycle, TicketRecord
from deskbook.http import CursorPaginator, PageRequest, Paginator, pages
from deskbook.connectors.zendesk.client import IncrementalCursorPaginator, epoch_seconds as _ts
from deskbook.marker import parse_marker

EXPORT_PAGE = 1000
METRIC_EVENTS_PAGE = 1000
#: Zendesk `via.channel` -> the playbook's channel words.
CHANNELS = {"voice": "phone", "chat": "chat", "web": "web", "email": "email", "api": "api", "native_messaging": "chat"}
#: metric event metric -> playbook metric (reply_time instance 1 is the first reply, later ones next replies)
PERIODIC = "periodic_update_time"


class MetricEventsPaginator(Paginator):
    """The time-based ticket metric events export: the next page starts at the page's `end_time`
    while a page came back full (the export has no `end_of_stream`); events of the boundary second
    come again and are dropped by id by the caller."""

    def __init__(self, page_size: int = METRIC_EVENTS_PAGE):
        self.page_size = page_size

    def next(self, request: PageRequest, data: Any) -> PageRequest | None:
        if int(data.get("count") or 0) < self.page_size:
            return None
        start = int(dict(request.params).get("start_time") or 0)
        end = int(data.get("end_time") or start)
        if end <= start:  # a full page inside one second: move on a second rather than loop
            end = start + 1
        return request.with_params(start_time=end)


def read(client: Any, playbook: Any, start: float, end: float, *, now: float | None = None) -> DeskData:
    """Everything the review of [start, end) needs, from the Zendesk account behind `client`."""
    import time

    from deskbook.connectors.zendesk.translate import option_value

    session = client.session
    before = dict(session.calls)
    name = playbook.metadata.name
    field_types = {f.key: f.type for f in playbook.fields if f.scope == "ticket"}
    field_types[playbook.category_field] = "dropdown"  # generated from the categories
    field_keys: dict[str, str] = {}
    for fld in client.list("ticket_field"):
        owner = parse_marker(fld.get("description"))
        if owner and owner[0] == name:
            field_keys[str(fld["id"])] = owner[1]

    raw: dict[int, dict] = {}
    metrics: dict[int, dict] = {}
    first = PageRequest("/api/v2/incremental/tickets/cursor",
                        (("start_time", int(start)), ("per_page", EXPORT_PAGE), ("include", "metric_sets")))
    for page in pages(session, IncrementalCursorPaginator(), first):
        for t in page.data.get("tickets") or []:
            raw[t["id"]] = t
        for m in page.data.get("metric_sets") or []:
            metrics[m["ticket_id"]] = m
    for page in pages(session, CursorPaginator(EXPORT_PAGE, most=EXPORT_PAGE), "/api/v2/search/export",
                      params={"query": "status<solved", "filter[type]": "ticket"}):
        for t in page.data.get("results") or []:
            raw.setdefault(t["id"], t)

    events: dict[int, dict] = {}
    for page in pages(session, MetricEventsPaginator(), "/api/v2/incremental/ticket_metric_events",
                      params={"start_time": int(start)}):
        for e in page.data.get("ticket_metric_events") or []:
            events[e["id"]] = e
    base = client.url.rstrip("/")
    tickets = []
    for tid, t in sorted(raw.items()):
        if t.get("status") == "deleted":
            continue
        values: dict[str, Any] = {}
        for entry in t.get("custom_fields") or []:
            key = field_keys.get(str(entry.get("id")))
            if key is None or entry.get("value") in (None, ""):
                continue
            value = entry["value"]
            values[key] = option_value(key, value) if field_types.get(key) == "dropdown" else value
        category = values.pop(playbook.category_field, None)
        metric = metrics.get(tid) or {}
        created = _ts(t.get("created_at")) or 0.0
        reply = (metric.get("reply_time_in_minutes") or {}).get("calendar")
        status = t.get("status")
        rating = (t.get("satisfaction_rating") or {}).get("score")
        tickets.append(TicketRecord(
            id=str(tid), link=f"{base}/agent/tickets/{tid}", subject=t.get("subject") or "", created=created,
            status="unsolved" if status in ("new", "open", "pending", "hold") else status or "unsolved",
            solved=_ts(metric.get("solved_at")) if status in ("solved", "closed") else None,
            channel=CHANNELS.get(str((t.get("via") or {}).get("channel")), (t.get("via") or {}).get("channel")),
            category=category, fields=values, tags=frozenset(t.get("tags") or []),
            first_reply=created + reply * 60 if reply is not None else None,
            reopens=int(metric.get("reopens") or 0),
            rating=rating if rating in ("good", "bad") else None))

    cycles = _cycles(list(events.values()), name)
    calls = {k: n - before.get(k, 0) for k, n in session.calls.items() if n - before.get(k, 0)}
    return DeskData(desk="zendesk", tickets=tickets, sla=cycles,
                    read_at=now if now is not None else time.time(), requests=calls)


def _cycles(events: list[dict], playbook_name: str) -> list[SlaCycle]:
    """Each SLA cycle's outcome from the metric events: a cycle (ticket, metric, instance) that was
    activated under a policy is breached when a breach event (not deleted) names it, met when it was
    fulfilled without one, open otherwise."""
    events.sort(key=lambda e: (e.get("time") or "", e["id"]))
    policy: dict[int, tuple[str, set[str]]] = {}  # ticket -> (policy key, metrics with targets)
    cycles: dict[tuple[int, str, int], dict[str, Any]] = {}
    for e in events:
        tid, kind = e["ticket_id"], e.get("type")
        if kind == "apply_sla":
            sla = e.get("sla") or {}
            owner = parse_marker(((sla.get("policy") or {}).get("description")) or "")
            title = (sla.get("policy") or {}).get("title")
            key = owner[1] if owner and owner[0] == playbook_name else title
            if key is None:
                policy.pop(tid, None)
                continue
            held = policy.get(tid)
            metrics = set(held[1]) if held and held[0] == key else set()
            metrics.add(e.get("metric") or "")
            policy[tid] = (key, metrics)
            continue
        metric = e.get("metric")
        if metric not in ("reply_time", PERIODIC):
            continue
        ident = (tid, metric, int(e.get("instance_id") or 0))
        if kind == "activate":
            held = policy.get(tid)
            if held and metric in held[1]:
                named = PERIODIC if metric == PERIODIC else ("first_reply_time" if ident[2] <= 1 else "next_reply_time")
                cycles[ident] = {"policy": held[0], "metric": named, "outcome": "open", "started": _ts(e.get("time"))}
        elif ident in cycles:
            cycle = cycles[ident]
            if kind == "breach" and not e.get("deleted"):
                cycle["outcome"] = "breached"
            elif kind == "fulfill" and cycle["outcome"] == "open":
                cycle["outcome"] = "met"
    return [SlaCycle(ticket_id=str(tid), **c) for (tid, _, _), c in sorted(cycles.items())]

"""The sandbox desk running its business rules: glue between the `Store` and `engine`.

`ticket_written` is called inside the write transaction of every ticket create/update (after the
request's own changes were validated by `rules.build_ticket`); `run_automations` on each whole
hour the test clock passes (`pass_time`). Bookkeeping the engine reads lives in private keys of
the stored ticket (never shown by the API): `_created_ts`, `_updated_ts`, `_status_ts`,
`_assigned_ts`, `_requester_updated_ts`, `_assignee_updated_ts`, `_solved_ts`,
`_first_solved_ts`, `_reopens`, `_comments` (each with `ts` and the author's `role`),
`_notifications` (what triggers and automations sent, rendered), `_metric_events` (as
`/incremental/ticket_metric_events` lists them: `apply_sla` when the policy or its targets change,
`activate` and `fulfill` as a measured metric's cycle starts and stops, see `_cycle_events`) and
`_cycles` (the running cycle of each measured metric: its start, instance and breach time).

Breach events are not stored: `breach_events(ticket, now)` derives them when the export is read,
one for each cycle whose breach time has passed before it was fulfilled (Zendesk records a breach
when the target passes; reading it later gives the same event).

Satisfaction ratings (`rate`): the customer's answer to the rating link, a stored
`satisfaction_rating` and the ticket's `satisfaction_rating` {id, score, comment}; the change is an
update by the requester, so triggers run on it.

System rules (`system_rules=True` on the sandbox) add what a new Zendesk account has: the
"Close ticket 4 days after status is set to solved" automation and, with customer satisfaction on
(`csat=True`), "Request customer satisfaction rating (System Automation)": solved for more than
24 hours and not yet offered -> offered, the rating link sent to the requester.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from deskbook.connectors.zendesk.sandbox import engine
from deskbook.connectors.zendesk.sandbox.business_hours import schedule_of
from deskbook.connectors.zendesk.sandbox.store import Store, iso, parse_iso

#: The name of the sandbox account's one brand (`{{ticket.brand.name}}`).
BRAND_NAME = "Sandbox Support"
CSAT_AUTOMATION = "Request customer satisfaction rating (System Automation)"
CLOSE_AUTOMATION = "Close ticket 4 days after status is set to solved"


def install_system_rules(store: Store, *, csat: bool) -> None:
    """Add Zendesk's default automations (close after 4 days; the CSAT request when `csat`)."""
    from deskbook.connectors.zendesk.sandbox.rules import build_automation

    wanted = [(CLOSE_AUTOMATION, {"all": [{"field": "status", "operator": "is", "value": "solved"},
                                          {"field": "SOLVED", "operator": "greater_than", "value": "96"}]},
               [{"field": "status", "value": "closed"}])]
    if csat:
        wanted.append((CSAT_AUTOMATION, {"all": [
            {"field": "status", "operator": "is", "value": "solved"},
            {"field": "SOLVED", "operator": "greater_than", "value": "24"},
            {"field": "satisfaction_score", "operator": "is", "value": "unoffered"}]},
            [{"field": "satisfaction_score", "value": "offered_to_requester"},
             {"field": "notification_user", "value": ["requester_id", "Tell us how we did: {{ticket.title}}",
                                                      "How would you rate the support you received? "
                                                      "{{satisfaction.rating_url}}"]}]))
    with store.transaction():
        for title, conditions, actions in wanted:
            if store.find_first("automation", lambda a, t=title: a.get("title") == t):
                continue
            doc = build_automation({"title": title, "conditions": conditions, "actions": actions}, None, store)
            doc["default"] = True
            doc["position"] = 9000 + store.count("automation")
            store.insert("automation", doc)


class DeskRules:
    """Runs the store's rules; one per sandbox app."""

    def __init__(self, store: Store, *, csat: bool = False, enabled: bool = True):
        self.store = store
        self.csat = csat
        self.enabled = enabled
        self._held = threading.local()

    @contextlib.contextmanager
    def settings_held(self) -> Iterator[None]:
        """Within (this thread only): the account's settings the rules read for every ticket — ticket
        fields, triggers and their categories, dynamic content, SLA policies, schedules — are read once
        and kept. A bulk job creates its tickets under the settings of the moment it starts, as one
        unit of work, instead of reading every setting again for each of its 100 tickets."""
        self._held.kinds = {}
        try:
            yield
        finally:
            self._held.kinds = None

    def _all(self, kind: str) -> list[dict]:
        """`store.all(kind)` for a setting, kept while `settings_held`."""
        held = getattr(self._held, "kinds", None)
        if held is None:
            return self.store.all(kind)
        if kind not in held:
            held[kind] = self.store.all(kind)
        return held[kind]

    def _schedule(self) -> dict | None:
        """The account's schedule (`business_hours.schedule_of`), kept while `settings_held`."""
        schedules = self._all("schedule")
        return schedules[0] if schedules else None

    # ------------------------------------------------------------ context

    def _fields(self) -> dict[int, dict]:
        return {int(f["id"]): f for f in self._all("ticket_field")}

    def _role(self, user_id: Any) -> str:
        if user_id in (None, engine.ADMIN_USER_ID):
            return "agent"
        user = self.store.get("user", user_id)
        return "end-user" if (user or {}).get("role", "end-user") == "end-user" else "agent"

    def _renderer(self, ticket: dict, actor_id: Any):
        store = self.store
        requester = store.get("user", ticket.get("requester_id")) or {}
        actor = store.get("user", actor_id) or {}
        locale = (requester.get("locale") or "").lower()
        dynamic: dict[str, str] = {}
        for item in self._all("dynamic_content_item"):
            name = item["placeholder"][len("{{dc."):-2] if item.get("placeholder") else item["name"]
            variants = item.get("variants") or []
            chosen = next((v for v in variants if _locale_matches(v.get("locale_id"), locale)), None) or \
                next((v for v in variants if v.get("default")), None) or (variants[0] if variants else {})
            dynamic[name] = chosen.get("content", "")
        values = {
            "ticket.id": str(ticket["id"]), "ticket.title": ticket.get("subject") or "",
            "ticket.requester.name": requester.get("name") or "", "current_user.name": actor.get("name") or "",
            "ticket.url": f"sandbox/tickets/{ticket['id']}",
            "ticket.group.name": (store.get("group", ticket.get("group_id")) or {}).get("name", ""),
            "ticket.organization.name": (store.get("organization", ticket.get("organization_id")) or {}).get("name", ""),
            "ticket.brand.name": BRAND_NAME,
            "satisfaction.rating_url": f"sandbox/requests/{ticket['id']}/satisfaction/new" if self.csat else "",
        }
        return lambda text: engine.render_placeholders(text, values, dynamic)

    # ------------------------------------------------------------ writes

    def ticket_written(self, before: dict | None, ticket: dict, payload: dict) -> dict:
        """Bookkeeping, the trigger cycle and SLA for one create/update (changes `ticket`)."""
        now = self.store.now()
        comment = None
        added = len(ticket.get("_comments") or []) - len((before or {}).get("_comments") or [])
        if added > 0:
            comment = ticket["_comments"][-1]
            if before is None:
                comment["author_id"] = ticket.get("submitter_id") or comment.get("author_id")
            comment["ts"] = now
            comment["role"] = self._role(comment.get("author_id"))
        fields = self._fields()
        for entry in ticket.get("custom_fields") or []:  # a dropdown's option value is also a ticket tag
            old = engine.custom_value(before, entry["id"]) if before is not None else None
            if old != entry.get("value") and int(entry["id"]) in fields:
                engine.set_custom(ticket, int(entry["id"]), old, fields)
                engine.set_custom(ticket, int(entry["id"]), entry.get("value"), fields)
        actor_id = comment["author_id"] if comment else engine.ADMIN_USER_ID
        via = ((payload.get("via") or {}).get("channel") if isinstance(payload.get("via"), dict) else None)
        if before is None:
            ticket["via"] = {"channel": via or "api", "source": {"from": {}, "to": {}, "rel": None}}
            ticket["_created_ts"] = now
        update = engine.Update(before, comment=comment, actor_role=self._role(actor_id), actor_id=actor_id,
                               via=via or "api")
        if update.actor_role == "end-user" and comment is not None and before is not None \
                and before.get("status") in ("pending", "solved") and ticket.get("status") == before.get("status"):
            ticket["status"] = "open"  # Zendesk: the requester's reply opens a pending or solved ticket again
        return self._settle(before, ticket, update, now)

    def _settle(self, before: dict | None, ticket: dict, update: engine.Update, now: float,
                effects: engine.Effects | None = None) -> dict:
        effects = effects or engine.Effects()
        if self.enabled:
            triggers = engine.trigger_order(self._all("trigger"), self._all("trigger_category"))
            engine.run_triggers(ticket, update, triggers, fields=self._fields(), effects=effects,  # no trigger: nothing renders
                                render=self._renderer(ticket, update.actor_id) if triggers else None, now=now,
                                schedule=self._schedule())
        self._record(before, ticket, update, effects, now)
        if self.enabled:
            self._apply_sla(ticket, now)
            self._cycle_events(ticket, now)
        return ticket

    def _record(self, before: dict | None, ticket: dict, update: engine.Update, effects: engine.Effects,
                now: float) -> None:
        for comment in effects.comments:
            ticket.setdefault("_comments", []).append(dict(comment, ts=now, role="agent"))
        for note in effects.notifications:
            ticket.setdefault("_notifications", []).append(dict(note, ts=now))
        ticket["_updated_ts"] = now
        status_ts = ticket.setdefault("_status_ts", {})
        old_status = (before or {}).get("status")
        if ticket.get("status") != old_status:
            status_ts[ticket["status"]] = now
            if ticket["status"] == "solved":
                ticket["_solved_ts"] = now
                ticket.setdefault("_first_solved_ts", now)
            if old_status == "solved" and ticket["status"] in ("new", "open", "pending", "hold"):
                ticket["_reopens"] = int(ticket.get("_reopens") or 0) + 1
        if before is None:
            status_ts.setdefault(ticket.get("status") or "new", now)
        if ticket.get("assignee_id") != (before or {}).get("assignee_id") and ticket.get("assignee_id"):
            ticket["_assigned_ts"] = now
            ticket["_assignee_stations"] = int(ticket.get("_assignee_stations") or 0) + 1
        if ticket.get("group_id") != (before or {}).get("group_id") and ticket.get("group_id"):
            ticket["_group_stations"] = int(ticket.get("_group_stations") or 0) + 1
        if update.actor_role == "end-user" and update.actor_id == ticket.get("requester_id"):
            ticket["_requester_updated_ts"] = now
        if update.actor_id is not None and update.actor_id == ticket.get("assignee_id"):
            ticket["_assignee_updated_ts"] = now

    def _apply_sla(self, ticket: dict, now: float) -> None:
        policy = engine.select_policy(self._all("sla_policy"), ticket)
        applied = (ticket.get("_sla_policy") or {}).get("id")
        targets = engine.policy_targets(policy, ticket.get("priority"))
        signature = [policy["id"] if policy else None, sorted([k, v["target"]] for k, v in targets.items())]
        if signature == ticket.get("_sla_signature"):
            return
        ticket["_sla_signature"] = signature
        ticket["_sla_policy"] = {"id": policy["id"], "title": policy.get("title"),
                                 "description": policy.get("description")} if policy else None
        events = ticket.setdefault("_metric_events", [])
        named: set[str] = set()
        for metric, target in sorted(targets.items()):  # one event per metric (first/next reply are both reply_time)
            name = "reply_time" if metric in ("first_reply_time", "next_reply_time") else metric
            if name in named:
                continue
            named.add(name)
            events.append({"id": ticket["id"] * 100000 + len(events) + 1, "ticket_id": ticket["id"],
                           "metric": name, "instance_id": 1, "type": "apply_sla", "time": iso(now),
                           "sla": {"target": target["target"], "business_hours": target["business_hours"],
                                   "policy": ticket["_sla_policy"]}, "_sla_metric": metric})
        if policy is None and applied is not None:
            events.append({"id": ticket["id"] * 100000 + len(events) + 1, "ticket_id": ticket["id"],
                           "metric": "reply_time", "instance_id": 1, "type": "apply_sla", "time": iso(now),
                           "sla": None})

    def _cycle_events(self, ticket: dict, now: float) -> None:
        """`activate`/`fulfill` events as the measured metrics' cycles start and stop (`engine.metric_clocks`);
        each running cycle keeps the breach time of the target in force (none without one).

        Events name Zendesk's metrics: first and next reply time are `reply_time` (instance 1 is the
        first reply, later instances the next replies), periodic update time is `periodic_update_time`."""
        cycles = ticket.setdefault("_cycles", {})
        counters = ticket.setdefault("_instances", {})
        events = ticket.setdefault("_metric_events", [])
        clocks = engine.metric_clocks(ticket)
        policy = self.store.get("sla_policy", (ticket.get("_sla_policy") or {}).get("id"))
        targets = engine.policy_targets(policy, ticket.get("priority"))
        schedule = self._schedule()

        def event(kind: str, metric: str, instance: int, **extra: Any) -> None:
            events.append({"id": ticket["id"] * 100000 + len(events) + 1, "ticket_id": ticket["id"],
                           "metric": _EVENT_METRIC[metric], "instance_id": instance, "type": kind, "time": iso(now),
                           **extra})

        for metric in engine.MEASURED:
            running = cycles.get(metric)
            start = clocks.get(metric)
            if running is not None and running["start"] != start:
                event("fulfill", metric, running["instance"], _sla_metric=metric, _breach_at=running.get("breach_at"))
                del cycles[metric]
                running = None
            if start is not None and running is None:
                name = _EVENT_METRIC[metric]
                counters[name] = int(counters.get(name) or 0) + 1
                running = cycles[metric] = {"start": start, "instance": counters[name]}
                event("activate", metric, running["instance"], _sla_metric=metric)
            if running is not None:
                target = targets.get(metric)
                running["breach_at"] = engine.breach_time(running["start"], target["target"], target["business_hours"],
                                                          schedule) if target else None

    def rate(self, ticket_id: int, score: str, comment: str = "") -> dict:
        """The requester answers the rating link: a stored `satisfaction_rating` (good/bad) and the
        ticket's `satisfaction_rating`, as an update by the requester (triggers run). Zendesk takes
        ratings on solved tickets (or solved and reopened) from the requester only; so does this."""
        if score not in ("good", "bad"):
            raise ValueError(f"a satisfaction score is good or bad, not {score!r}")
        store = self.store
        with store.transaction():
            ticket = store.get("ticket", ticket_id)
            if ticket is None or not ticket.get("_first_solved_ts"):
                raise ValueError(f"ticket {ticket_id} was never solved: no rating can be given")
            before = dict(ticket)
            rating = store.insert("satisfaction_rating", {
                "ticket_id": ticket["id"], "requester_id": ticket.get("requester_id"),
                "assignee_id": ticket.get("assignee_id"), "group_id": ticket.get("group_id"),
                "score": score, "comment": comment})
            ticket["satisfaction_rating"] = {"id": rating["id"], "score": score, "comment": comment}
            requester = ticket.get("requester_id")
            self._settle(before, ticket, engine.Update(before, actor_role="end-user", actor_id=requester),
                         store.now())
            store.put("ticket", ticket)
        return rating

    # ------------------------------------------------------------ time

    def run_automations(self) -> int:
        """One hourly automation run over every ticket that is not closed; how many fired."""
        if not self.enabled:
            return 0
        store = self.store
        now = store.now()
        schedule = schedule_of(store)
        automations = sorted((a for a in store.all("automation") if a.get("active", True)),
                             key=lambda a: (a.get("position") or 0, a["id"]))
        fields = self._fields()
        fired = 0
        with store.transaction():
            for ticket in store.iter("ticket", where="json_extract(data, '$.status') != 'closed'"):
                before = dict(ticket)
                effects = engine.Effects()
                for automation in automations:
                    if engine.conditions_hold(automation.get("conditions") or {}, ticket, None, now=now,
                                              schedule=schedule):
                        engine.apply_actions(ticket, automation.get("actions") or [], fields=fields,
                                             effects=effects, rule=f"automation:{automation.get('title')}", rule_id=automation.get("id"),
                                             render=self._renderer(ticket, None))
                if not effects.fired:
                    continue
                fired += len(effects.fired)
                self._settle(before, ticket, engine.Update(before, actor_role=engine.SYSTEM, actor_id=None), now,
                             effects)
                store.put("ticket", ticket)
        return fired

    def pass_time(self, seconds: float) -> int:
        """Move the (fake) clock on by `seconds`, running automations at every whole hour passed;
        how many automation actions fired."""
        clock = self.store.clock
        if not hasattr(clock, "advance"):
            raise ValueError("time can only pass on a sandbox with a fake clock")
        end = clock.now() + seconds
        fired = 0
        while True:
            next_hour = (int(clock.now()) // 3600 + 1) * 3600
            if next_hour > end:
                break
            clock.advance(next_hour - clock.now())
            fired += self.run_automations()
        clock.advance(max(0.0, end - clock.now()))
        return fired

    # ------------------------------------------------------------ reads

    def slas(self, ticket: dict) -> dict:
        """`ticket.slas` as `?include=slas` shows it: the running targets and their breach times."""
        now = self.store.now()
        policy = self.store.get("sla_policy", (ticket.get("_sla_policy") or {}).get("id"))
        out = []
        for state in engine.sla_state(ticket, policy, schedule_of(self.store)):
            left = int((state["breach_at"] - now) // 60)
            out.append({"breach_at": iso(state["breach_at"]), "stage": "active" if left >= 0 else "breached",
                        "metric": state["metric"], "minutes": left})
        return {"policy_metrics": out}


#: Measured SLA metric -> the metric its events name (`TicketMetricEventBaseObject.metric`).
_EVENT_METRIC = {"first_reply_time": "reply_time", "next_reply_time": "reply_time",
                 "periodic_update_time": "periodic_update_time"}


def breach_events(ticket: dict, now: float) -> list[dict]:
    """The `breach` events of `ticket` as of `now`: a cycle whose breach time passed before it was
    fulfilled (or is still running past it), stamped at the breach time."""
    out = []
    running = list((ticket.get("_cycles") or {}).items())
    fulfilled = [(e["_sla_metric"], e) for e in ticket.get("_metric_events") or [] if e.get("type") == "fulfill"]
    for metric, cycle in running:
        if cycle.get("breach_at") is not None and cycle["breach_at"] <= now:
            out.append((cycle["breach_at"], metric, cycle["instance"]))
    for metric, e in fulfilled:
        if e.get("_breach_at") is not None and e["_breach_at"] < parse_iso(e["time"]) and e["_breach_at"] <= now:
            out.append((e["_breach_at"], metric, e["instance_id"]))
    return [{"id": ticket["id"] * 100000 + 90000 + n, "ticket_id": ticket["id"], "metric": _EVENT_METRIC[metric],
             "instance_id": instance, "type": "breach", "time": iso(at), "deleted": False}
            for n, (at, metric, instance) in enumerate(sorted(out, key=lambda x: (x[0], x[1])))]


def _locale_matches(locale_id: Any, locale: str) -> bool:
    ids = {"en-us": 1, "en": 1, "zh-cn": 10, "zh-tw": 9}
    return bool(locale) and ids.get(locale) == locale_id

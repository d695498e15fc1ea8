"""The S-13 review as pure functions: `DeskData` + playbook + window -> the report dict.

Which tickets count where (a ticket is a customer's request unless it carries a sync job's tag —
those are relationship tasks deskbook's sync jobs created):

- *intake*: requests created in the window — first reply time (calendar minutes, and business
  minutes of the playbook's hours and holidays, counted by the same code the Zendesk sandbox's SLA
  clock uses), SLA cycles, channels, categories, complaints;
- *solved*: requests solved in the window — first-contact resolution (the playbook's
  `first_contact_resolution` checkbox; a reopened ticket never counts), the three S-11 scores
  and the desk's own rating (Zendesk CSAT good/bad, JSM request feedback 1-5: 4-5 good, 1-2 bad);
- *backlog*: requests unsolved when the desk was read, by age;
- *relationship*: per sync job, tasks due in the window (created before its end and not solved
  before its start) and done (solved in it);
- *forbidden_phrases_caught*: requests read (changed since the window opened, or still open)
  that carry `GUARDRAIL_TAG`;
- *cases_to_review*: intake or solved requests with a breach, a complaint, a score of 2 or less
  or a bad rating, or a guardrail catch — each with its link.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any
from zoneinfo import ZoneInfo

from deskbook.connectors.report import GUARDRAIL_TAG
from deskbook.connectors.report.records import DeskData, TicketRecord
from deskbook.errors import DeskbookError

#: The S-11 score fields of the playbook, by the key the report names them.
SCORE_FIELDS = {"response_speed": "score_response_speed", "resolution": "score_resolution",
                "attitude": "score_attitude"}
FCR_FIELD = "first_contact_resolution"
ROOT_CAUSE_FIELD = "root_cause"
REMEDY_FIELD = "remedy"
COMPLAINT_CATEGORY = "complaint"
LOW_SCORE = 2
#: backlog age buckets: (label key, upper bound in days)
AGE_BUCKETS = (("under_1_day", 1), ("1_to_3_days", 3), ("3_to_7_days", 7), ("over_7_days", None))


# ---------------------------------------------------------------- the window

def week_window(week: str, zone: str) -> tuple[float, float, str]:
    """`2026-W49` -> (Monday 00:00, next Monday 00:00) in the playbook's time zone, and the label."""
    try:
        year, number = week.upper().split("-W")
        monday = dt.date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise DeskbookError(f"--week {week!r} is not an ISO week", where="deskbook report --week",
                            hint="write it like 2026-W49") from None
    start = dt.datetime.combine(monday, dt.time(), ZoneInfo(zone))
    return start.timestamp(), (start + dt.timedelta(days=7)).timestamp(), f"{int(year)}-W{int(number):02d}"


def dates_window(first: str, last: str, zone: str) -> tuple[float, float, str]:
    """`--from D --to D` (inclusive dates in the playbook's time zone)."""
    try:
        a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        raise DeskbookError(f"--from {first!r} / --to {last!r}: dates are YYYY-MM-DD", where="deskbook report",
                            hint="e.g. --from 2026-11-30 --to 2026-12-06") from None
    if b < a:
        raise DeskbookError(f"--to {last} is before --from {first}", where="deskbook report", hint="swap them")
    tz = ZoneInfo(zone)
    start = dt.datetime.combine(a, dt.time(), tz)
    end = dt.datetime.combine(b + dt.timedelta(days=1), dt.time(), tz)
    return start.timestamp(), end.timestamp(), f"{a.isoformat()}..{b.isoformat()}"


def local_date(ts: float, zone: str) -> dt.date:
    """The day `ts` (epoch seconds) falls on in `zone`."""
    return dt.datetime.fromtimestamp(ts, ZoneInfo(zone)).date()


def last_week(now: float, zone: str) -> tuple[float, float, str]:
    """The last complete ISO week before `now` in the playbook's time zone."""
    today = local_date(now, zone)
    year, number, _ = (today - dt.timedelta(days=7)).isocalendar()
    return week_window(f"{year}-W{number}", zone)


# ---------------------------------------------------------------- business hours

def playbook_schedule(playbook: Any) -> dict:
    """The playbook's hours and holidays in the form the business-hours code counts in
    (`connectors/zendesk/sandbox/business_hours.py`: weekly intervals and closed dates)."""
    from deskbook.connectors.zendesk.translate import schedule_intervals

    meta = playbook.metadata
    return {"time_zone": meta.time_zone, "intervals": schedule_intervals(meta.business_hours),
            "_holidays": [{"start_date": str(h.start), "end_date": str(h.end)} for h in meta.holidays]}


def business_minutes(schedule: dict, start: float, end: float) -> float:
    from deskbook.connectors.zendesk.sandbox.business_hours import business_seconds

    return business_seconds(schedule, start, end) / 60


# ---------------------------------------------------------------- the review

def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"average": None, "median": None, "count": 0}
    return {"average": round(statistics.fmean(values), 1), "median": round(statistics.median(values), 1),
            "count": len(values)}


def _score(value: Any) -> int | None:
    text = str(value or "")
    digits = text.rsplit("_", 1)[-1]
    return int(digits) if digits.isdigit() and 1 <= int(digits) <= 5 else None


def _good(rating: str | None) -> bool:
    return rating == "good" or (bool(rating) and str(rating).isdigit() and int(str(rating)) >= 4)


def _bad(rating: str | None) -> bool:
    return rating == "bad" or (bool(rating) and str(rating).isdigit() and int(str(rating)) <= 2)


def _inside(ts: float | None, start: float, end: float) -> bool:
    return ts is not None and start <= ts < end


def job_tags(playbook: Any) -> dict[str, frozenset[str]]:
    """sync job name -> the tags its tasks carry."""
    return {job.name: frozenset(job.tags) for job in playbook.sync.jobs}


def is_complaint(ticket: TicketRecord) -> bool:
    return ticket.category == COMPLAINT_CATEGORY or bool(ticket.fields.get(ROOT_CAUSE_FIELD))


def build_report(playbook: Any, data: DeskData, window: tuple[float, float, str]) -> dict[str, Any]:
    """The review of `window` (start, end, label) from what a reader read."""
    start, end, label = window
    schedule = playbook_schedule(playbook)
    tasks_by_job = job_tags(playbook)
    all_task_tags = frozenset().union(*tasks_by_job.values()) if tasks_by_job else frozenset()
    requests = [t for t in data.tickets if not (t.tags & all_task_tags)]
    intake = [t for t in requests if _inside(t.created, start, end)]
    solved = [t for t in requests if _inside(t.solved, start, end)]
    in_window = {t.id: t for t in intake + solved}

    calendar = [(t.first_reply - t.created) / 60 for t in intake if t.first_reply is not None]
    business = [business_minutes(schedule, t.created, t.first_reply) for t in intake if t.first_reply is not None]
    first_reply = dict(_stats(calendar), business=_stats(business))

    fcr = [t for t in solved if t.fields.get(FCR_FIELD) is True and t.reopens == 0]
    fcr_rate = round(len(fcr) / len(solved), 3) if solved else None

    scored = [t for t in solved if any(_score(t.fields.get(f)) for f in SCORE_FIELDS.values())]
    satisfaction: dict[str, Any] = {}
    for name, field in SCORE_FIELDS.items():
        values = [s for s in (_score(t.fields.get(field)) for t in scored) if s is not None]
        satisfaction[name] = round(statistics.fmean(values), 2) if values else None
    satisfaction["responses"] = len(scored)
    satisfaction["suggestions"] = sum(1 for t in scored if t.fields.get("survey_suggestions"))
    rated = [t for t in solved if t.rating]
    good = sum(1 for t in rated if _good(t.rating))
    bad = sum(1 for t in rated if _bad(t.rating))
    satisfaction["desk_rating"] = {"responses": len(rated), "good": good, "bad": bad,
                                   "good_share": round(good / len(rated), 3) if rated else None}

    intake_ids = {t.id for t in intake}
    cycles = [c for c in data.sla if c.ticket_id in intake_ids]
    sla: dict[str, Any] = {outcome: sum(1 for c in cycles if c.outcome == outcome) for outcome in ("met", "breached", "open")}
    by_target: dict[tuple[str, str], dict[str, int]] = {}
    for c in cycles:
        row = by_target.setdefault((c.policy, c.metric), {"met": 0, "breached": 0, "open": 0})
        row[c.outcome] += 1
    order = {p.key: i for i, p in enumerate(playbook.sla_policies)}
    sla["by_target"] = [{"policy": p, "metric": m, **counts} for (p, m), counts in
                        sorted(by_target.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))]
    total = sla["met"] + sla["breached"]
    sla["attainment"] = round(sla["met"] / total, 3) if total else None

    complaints = [t for t in intake if is_complaint(t)]
    by_cause: dict[str, int] = {}
    by_remedy: dict[str, int] = {}
    for t in complaints:
        cause = str(t.fields.get(ROOT_CAUSE_FIELD) or "unrecorded")
        by_cause[cause] = by_cause.get(cause, 0) + 1
        remedy = str(t.fields.get(REMEDY_FIELD) or "unrecorded")
        by_remedy[remedy] = by_remedy.get(remedy, 0) + 1

    relationship: dict[str, Any] = {}
    for job, tags in tasks_by_job.items():
        tasks = [t for t in data.tickets if t.tags & tags]
        due = [t for t in tasks if t.created < end and not (t.solved is not None and t.solved < start and t.status != "unsolved")]
        done = [t for t in due if _inside(t.solved, start, end)]
        relationship[job] = {"due": len(due), "done": len(done)}

    now = data.read_at
    backlog = [t for t in requests if t.status == "unsolved"]
    ages = [(now - t.created) / 86400 for t in backlog]
    buckets = {}
    low = 0.0
    for name, bound in AGE_BUCKETS:
        buckets[name] = sum(1 for a in ages if a >= low and (bound is None or a < bound))
        low = bound or low
    backlog_out = {"open": len(backlog), "by_age": buckets,
                   "average_age_days": round(statistics.fmean(ages), 1) if ages else None,
                   "oldest_age_days": round(max(ages), 1) if ages else None}

    caught = [t for t in requests if GUARDRAIL_TAG in t.tags]

    breached = {c.ticket_id for c in cycles if c.outcome == "breached"}
    bad_rated = {t.id for t in rated if _bad(t.rating)}
    cases = []
    for t in sorted({**in_window, **{c.id: c for c in caught}}.values(), key=lambda t: t.created):
        reasons = []
        if t.id in breached:
            reasons.append("sla_breach")
        if is_complaint(t):
            reasons.append("complaint")
        if any((_score(t.fields.get(f)) or 5) <= LOW_SCORE for f in SCORE_FIELDS.values()):
            reasons.append("low_score")
        if t.id in bad_rated:
            reasons.append("bad_rating")
        if GUARDRAIL_TAG in t.tags:
            reasons.append("forbidden_phrase")
        if reasons:
            cases.append({"id": t.id, "subject": t.subject, "link": t.link, "reasons": reasons})

    days = []
    tz = ZoneInfo(playbook.metadata.time_zone)
    day = dt.datetime.fromtimestamp(start, tz).date()
    while dt.datetime.combine(day, dt.time(), tz).timestamp() < end:
        days.append(day)
        day += dt.timedelta(days=1)
    intake_by_day: dict[str, dict[str, int]] = {d.isoformat(): {} for d in days}
    for t in intake:
        key = dt.datetime.fromtimestamp(t.created, tz).date().isoformat()
        channel = t.channel or "other"
        intake_by_day.setdefault(key, {})[channel] = intake_by_day.get(key, {}).get(channel, 0) + 1
    by_category: dict[str, int] = {}
    for t in intake:
        by_category[t.category or "uncategorized"] = by_category.get(t.category or "uncategorized", 0) + 1

    return {
        "desk": data.desk, "playbook": playbook.metadata.name, "window": {
            "label": label, "from": dt.datetime.fromtimestamp(start, tz).isoformat(),
            "to": dt.datetime.fromtimestamp(end, tz).isoformat(), "time_zone": playbook.metadata.time_zone},
        "intake": {"requests": len(intake), "solved": len(solved), "by_day": intake_by_day,
                   "by_category": dict(sorted(by_category.items(), key=lambda kv: -kv[1]))},
        "first_reply_minutes": first_reply,
        "first_contact_resolution_rate": fcr_rate,
        "satisfaction": satisfaction,
        "sla": sla,
        "complaints_by_root_cause": dict(sorted(by_cause.items())),
        "complaints_by_remedy": dict(sorted(by_remedy.items())),
        "relationship": relationship,
        "backlog": backlog_out,
        "forbidden_phrases_caught": len(caught),
        "cases_to_review": cases,
        "requests": {"total": sum(data.requests.values()), "by_endpoint": dict(sorted(data.requests.items()))},
        "notes": list(data.notes),
    }

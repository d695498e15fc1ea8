"""The report's JSM reader: documented endpoints, read incrementally, requests counted.

For a window [start, end) and the project of the connection:

1. `POST /rest/api/3/search/jql` — the requests changed since the window opened or still
   unresolved (`updated >= -Nm OR resolution is EMPTY`, N the minutes since the window opened, so
   no time zone is involved), 100 a page, fields `summary, created, resolutiondate, status, labels,
   reporter, comment` and the issue property `deskbook.fields`; the playbook's choice fields are
   labels `<field>-<value>` on JSM (`jsm/translate.py`), its text fields (survey suggestions) that
   property's values (`translate.FIELDS_PROPERTY`); the first reply is the first public comment
   (`jsdPublic`) by someone other than the reporter (Jira lists a search's comments with the
   issue, up to its page of them);
2. `GET /rest/servicedeskapi/request?serviceDeskId=&requestOwnership=ALL_REQUESTS&requestStatus=OPEN_REQUESTS&expand=sla`,
   then the same with `CLOSED_REQUESTS` — each request's type (the playbook's category) and SLA
   cycles, 50 a page, newest activity first: each list stops once every request of its kind the
   JQL found (unresolved / resolved) has been seen, and is not read when there is none (instead of
   one `/request/{key}/sla` per request);
3. `GET /rest/servicedeskapi/request/{key}/feedback` — the customer's CSAT rating (1-5), which no
   expand brings: one read per customer's request resolved in the window (404: none; not for the
   relationship requests the sync jobs raised, labelled with their job's tags). Skipped with
   `feedback=False` (a project whose own CSAT is off, as the standard playbook asks on JSM).

JSM's floor for N requests found (O of them open, C resolved) and R resolved in the window:
⌈N/100⌉ + ⌈O/50⌉ + ⌈C/50⌉ + R + 1 (the service desk id), at most ⌈N/100⌉ + ⌈N/50⌉ + R + 2. Every
open request is found (`resolution is EMPTY`), so the open list reads exactly its pages; the
resolved ones found are those with activity in the window, the newest of the closed list. One list
of both would page through every request resolved since the oldest open one was last touched
(measured before the split: 1 stale open request behind 200 resolved ones, 4 found: 5 list pages).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any, Sequence

from deskbook.connectors.report.records import DeskData, SlaCycle, TicketRecord
from deskbook.http import DeskHTTPError, StartLimitPaginator, pages
from deskbook.marker import parse_marker, without_trailing_marker

SD = "/rest/servicedeskapi"
SEARCH_FIELDS = ["summary", "created", "resolutiondate", "status", "labels", "reporter", "comment"]


def _ts(value: Any) -> float | None:
    """A Jira date (`2026-12-01T08:00:00.000+0000`) or a servicedeskapi DateDTO as epoch seconds."""
    if not value:
        return None
    if isinstance(value, dict):
        return int(value.get("epochMillis") or 0) / 1000 or None
    text = str(value)
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _field_values(playbook: Any, survey: Any, labels: list[str], texts: Any = None,
                  comments: Sequence[dict] = ()) -> dict[str, Any]:
    """Playbook field values from the labels `<field>-<value>` (checkboxes: `-True`/`-true`) and the
    text fields from the request's text property (`translate.FIELDS_PROPERTY`); the survey's
    suggestions (`survey`: the playbook's `SurveyFields`, or None), when the property has none, from
    the agent's internal note as the survey job reads them (`sync.surveys.noted_suggestions`; the
    search lists the comments, bodies in ADF)."""
    from deskbook.connectors.jsm import translate as tr
    from deskbook.connectors.jsm.adf import adf_text
    from deskbook.sync.surveys import noted_suggestions

    types = {f.key: f.type for f in playbook.fields if f.scope == "ticket"}
    out: dict[str, Any] = {}
    for parsed in map(tr.parse_field_label, labels):
        if parsed is None or parsed[0] not in types:
            continue
        key, value = parsed
        out[key] = value.lower() == "true" if types[key] == "checkbox" else value
    if isinstance(texts, dict):
        out.update({key: value for key, value in texts.items() if key in types and key not in out})
    if survey is not None and not out.get(survey.suggestions) and survey.suggestions_titles:
        noted = noted_suggestions((adf_text(c.get("body")) for c in comments if c.get("jsdPublic") is False),
                                  survey.suggestions_titles)
        if noted:
            out[survey.suggestions] = noted
    return out


def read(client: Any, playbook: Any, start: float, end: float, *, now: float | None = None,
         feedback: bool = True) -> DeskData:
    """Everything the review of [start, end) needs, from the JSM project behind `client`."""
    from deskbook.connectors.jsm import translate as tr
    from deskbook.connectors.jsm.client import EXPERIMENTAL
    from deskbook.sync.surveys import SurveyFields

    session = client.session
    before = dict(session.calls)
    now = time.time() if now is None else now
    project = client.connection.project_key
    minutes = max(1, math.ceil((now - start) / 60))
    found: dict[str, dict] = {}
    jql = f"project = {project} AND (updated >= -{minutes}m OR resolution is EMPTY)"
    for issue in client.search(jql, fields=SEARCH_FIELDS, properties=[tr.FIELDS_PROPERTY]):
        found[issue["key"]] = issue
    categories = {name: key for key, name in tr.category_names(playbook).items()}
    survey = SurveyFields.from_playbook(playbook.survey, playbook.fields) if getattr(playbook, "survey", None) else None
    metrics = tr.sla_metrics(playbook, project)
    sla_names = {m["payload"]["name"]: (m["payload"]["name"], m["metric"]) for m in metrics}
    by_key = {m["key"]: (m["payload"]["name"], m["metric"]) for m in metrics}

    def target(name: str) -> tuple[str, str]:
        """(policy, metric) of an SLA by its name. One JSM metric carries every policy's goals of its
        target type (`tr.sla_metrics`) and a request's SLA does not say which goal applied, so the
        "policy" is the metric's own name (`Time to first response (…)`); a metric of the per-policy
        layout before #11 (`sla.<policy>.<metric>`) names its policy. By the ownership marker ending
        the name of an installed metric, else the name the playbook would give it, else the name itself."""
        owner = parse_marker(name)
        if owner and owner[0] == playbook.metadata.name and owner[1].count(".") == 2:
            _, policy, metric = owner[1].split(".")
            return policy, metric
        if owner and owner[0] == playbook.metadata.name and owner[1] in by_key:
            return by_key[owner[1]]
        return sla_names.get(without_trailing_marker(name).strip(), (name, name))

    task_labels = {tag for job in playbook.sync.jobs for tag in job.tags}
    listed: dict[str, dict] = {}
    resolved = {key for key, issue in found.items() if (issue.get("fields") or {}).get("resolutiondate")}
    for status, wanted in (("OPEN_REQUESTS", set(found) - resolved), ("CLOSED_REQUESTS", resolved)):
        if not wanted:
            continue
        params = {"serviceDeskId": client.desk_id, "requestOwnership": "ALL_REQUESTS",
                  "requestStatus": status, "expand": "sla"}
        for page in pages(session, StartLimitPaginator(limit=50), f"{SD}/request", params=params):
            for dto in page.data.get("values") or []:
                listed[dto["issueKey"]] = dto
            if wanted <= set(listed):
                break

    base = client.connection.url.rstrip("/")
    tickets: list[TicketRecord] = []
    cycles: list[SlaCycle] = []
    for key, issue in sorted(found.items()):
        fields = issue.get("fields") or {}
        dto = listed.get(key) or {}
        created = _ts(fields.get("created")) or 0.0
        solved = _ts(fields.get("resolutiondate"))
        labels = list(fields.get("labels") or [])
        reporter = (fields.get("reporter") or {}).get("accountId")
        replies = [_ts(c.get("created")) for c in ((fields.get("comment") or {}).get("comments") or [])
                   if c.get("jsdPublic") and (c.get("author") or {}).get("accountId") != reporter]
        first_reply = min((r for r in replies if r is not None), default=None)
        for value in ((dto.get("sla") or {}).get("values") or []):
            policy, metric = target(str(value.get("name") or ""))
            for cycle in value.get("completedCycles") or []:
                cycles.append(SlaCycle(key, policy, metric, "breached" if cycle.get("breached") else "met",
                                       _ts(cycle.get("startTime"))))
            ongoing = value.get("ongoingCycle")
            if ongoing:
                cycles.append(SlaCycle(key, policy, metric, "breached" if ongoing.get("breached") else "open",
                                       _ts(ongoing.get("startTime"))))
        rating = None
        if feedback and solved is not None and start <= solved < end and not task_labels & set(labels):
            try:
                rating = str(session.get_json(f"{SD}/request/{key}/feedback", headers=EXPERIMENTAL).get("rating") or "") or None
            except DeskHTTPError as exc:
                if exc.status != 404:
                    raise
        type_name = ((dto.get("requestType") or {}).get("name"))
        tickets.append(TicketRecord(
            id=key, link=f"{base}/browse/{key}", subject=fields.get("summary") or "", created=created,
            status="solved" if solved is not None else "unsolved", solved=solved, channel=None,
            category=categories.get(type_name or ""),
            fields=_field_values(playbook, survey, labels, (issue.get("properties") or {}).get(tr.FIELDS_PROPERTY),
                                 (fields.get("comment") or {}).get("comments") or []),
            tags=frozenset(labels), first_reply=first_reply, rating=rating))
    calls = {k: n - before.get(k, 0) for k, n in session.calls.items() if n - before.get(k, 0)}
    return DeskData(desk="jsm", tickets=tickets, sla=cycles, read_at=now, requests=calls)

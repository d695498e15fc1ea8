"""The desk-neutral records a report reader produces (see `__init__.py`).

Times are epoch seconds. Field values are in the playbook's words: a dropdown's option value
(`score_4`, `cause_product_quality`), a checkbox's bool, text as text — whatever the desk stores.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass
class TicketRecord:
    """One ticket (Zendesk) or request (JSM)."""

    id: str
    link: str
    subject: str
    created: float
    status: str  # "unsolved" | "solved" | "closed"
    solved: float | None = None  # when it was (last) solved
    channel: str | None = None
    category: str | None = None  # playbook category key (leaf)
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    first_reply: float | None = None  # the first public agent reply
    reopens: int = 0
    rating: str | None = None  # the desk's own satisfaction answer: Zendesk CSAT "good"/"bad", JSM feedback "1".."5"


@dataclasses.dataclass
class SlaCycle:
    """One measured cycle of one SLA target on one ticket."""

    ticket_id: str
    policy: str  # playbook SLA policy key (or the desk's name for it)
    metric: str  # playbook metric: first_reply_time, next_reply_time, periodic_update_time, ...
    outcome: str  # "met" | "breached" | "open"
    started: float | None = None


@dataclasses.dataclass
class DeskData:
    """What one reader read for a window: the tickets changed in it and the open backlog, their SLA
    cycles, and how many requests that took (per endpoint)."""

    desk: str
    tickets: list[TicketRecord]
    sla: list[SlaCycle]
    read_at: float
    requests: dict[str, int]
    notes: list[str] = dataclasses.field(default_factory=list)

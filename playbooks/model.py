"""The platform-neutral desired state a playbook describes.

A playbook YAML file is validated against the JSON Schema (`deskbook schema`), then loaded
into these frozen dataclasses with every reference (group, field, phrase, category, tier)
resolved. Connectors translate this model into their desk's native objects; nothing in
here knows about Zendesk or JSM.

Conditions and actions use a small neutral vocabulary (see `CONDITION_FIELDS`,
`ACTION_FIELDS`) that each connector maps onto its desk.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Literal

# ---------------------------------------------------------------- vocabulary

#: Ticket statuses every desk understands (Zendesk names; JSM maps them to workflow statuses).
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
#: Priorities, lowest first (Zendesk's four; JSM's Lowest..Highest map onto them).
PRIORITIES = ("low", "normal", "high", "urgent")
#: Channels a condition may name.
CHANNELS = ("phone", "chat", "email", "web", "api")
#: Field types a playbook may declare.
FIELD_TYPES = ("text", "textarea", "integer", "decimal", "date", "checkbox", "dropdown", "multiselect", "regexp")
#: SLA metrics (Zendesk's names; JSM goals are named after them).
SLA_METRICS = (
    "first_reply_time",
    "next_reply_time",
    "periodic_update_time",
    "requester_wait_time",
    "agent_work_time",
    "pausable_update_time",
)

#: Neutral condition fields. `field.<key>` names a playbook field; `category` the category field.
CONDITION_FIELDS = (
    "status",
    "priority",
    "category",
    "group",
    "assignee",
    "tags",
    "channel",
    "via_update",  # is: created | updated (triggers only)
    "comment_is_public",
    "updated_by",  # is / is_not: agent | end_user (who made the update: Zendesk's current user role)
    "hours_since_created",
    "hours_since_updated",
    "hours_since_open",
    "hours_since_pending",
    "hours_since_solved",
    "hours_since_assigned",
    "hours_since_requester_update",
    "hours_since_agent_update",
    "hours_until_due",
)
#: Condition operators.
OPERATORS = ("is", "is_not", "includes", "not_includes", "less_than", "greater_than", "present", "not_present")
#: Neutral action fields. `field.<key>` sets a playbook field.
ACTION_FIELDS = ("status", "priority", "group", "assignee", "add_tags", "remove_tags", "set_tags", "category",
                 "satisfaction")  # satisfaction: offered (the desk's own satisfaction survey counts as sent)

Scope = Literal["ticket", "organization"]
Cadence = Literal["monthly", "quarterly", "after_first_service", "none"]


# ---------------------------------------------------------------- building blocks


@dataclass(frozen=True)
class Localized:
    """Text in several locales; `get` falls back to the playbook's default locale."""

    values: dict[str, str]
    default_locale: str

    def get(self, locale: str | None = None) -> str:
        """The text in `locale`, or in the default locale when that one is missing."""
        if locale and locale in self.values:
            return self.values[locale]
        return self.values[self.default_locale]


@dataclass(frozen=True)
class SourceRef:
    """Where an element was defined: file, line, column (1-based) — for error messages."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class BusinessHours:
    """Weekly opening hours in the playbook's time zone; `days` are mon..sun."""

    days: tuple[str, ...]
    start: str  # "09:00"
    end: str  # "18:00"


#: Weekday names of `BusinessHours.days`, Monday first (the order of `date.weekday()`).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ExtraWorkday:
    """A make-up working day (调休上班): a day the weekly hours mark closed on which staff work."""

    date: str  # "2026-02-14"
    name: str  # e.g. "春节调休上班 Spring Festival make-up workday"

    @property
    def weekday(self) -> str:
        """The day's weekday name (mon..sun); ValueError when `date` is not a calendar date."""
        return WEEKDAY_NAMES[_dt.date.fromisoformat(self.date).weekday()]

    @property
    def label(self) -> str:
        """The day as plan notes list it: "2026-02-14 Sat (春节调休上班 ...)"."""
        return f"{self.date} {self.weekday.capitalize()} ({self.name})"


@dataclass(frozen=True)
class Metadata:
    """Playbook identity and calendar."""

    name: str  # machine name, e.g. "standard-service"; used in the ownership marker
    version: str
    title: Localized
    description: Localized
    locales: tuple[str, ...]  # e.g. ("zh-CN", "en")
    default_locale: str
    time_zone: str  # IANA, e.g. "Asia/Shanghai"
    business_hours: tuple[BusinessHours, ...]
    holidays: tuple[tuple[str, str, str], ...] = ()  # (name, start date, end date)
    extra_workdays: tuple[ExtraWorkday, ...] = ()  # make-up working days on otherwise closed days


def open_weekdays(business_hours: tuple[BusinessHours, ...] | list[BusinessHours]) -> set[str]:
    """The weekday names (mon..sun) on which the weekly hours open at all."""
    return {day.lower()[:3] for block in business_hours for day in block.days}


def extra_workday_problems(
    extra_workdays: tuple[ExtraWorkday, ...] | list[ExtraWorkday],
    business_hours: tuple[BusinessHours, ...] | list[BusinessHours],
    holidays: tuple[tuple[str, str, str], ...] | list[tuple[str, str, str]],
) -> list[tuple[int, str, str]]:
    """What is wrong with make-up working days, as (index in the list, "date", message) triples.

    A make-up working day must be a calendar date, fall on a weekday the weekly hours mark closed
    (an open day needs no make-up), lie outside every holiday, and be listed once.
    """
    problems: list[tuple[int, str, str]] = []
    open_days = open_weekdays(business_hours)
    closed = [name for name in WEEKDAY_NAMES if name not in open_days]
    first_index: dict[str, int] = {}
    for index, workday in enumerate(extra_workdays):
        try:
            day = _dt.date.fromisoformat(workday.date)
        except ValueError:
            problems.append((index, "date", f"{workday.date!r} is not a calendar date (YYYY-MM-DD)"))
            continue
        if workday.date in first_index:
            problems.append((index, "date", f"make-up working day {workday.date} is listed twice "
                                            f"(first at item {first_index[workday.date] + 1}); keep one"))
            continue
        first_index[workday.date] = index
        weekday = WEEKDAY_NAMES[day.weekday()]  # == workday.weekday
        if weekday in open_days:
            problems.append((index, "date", f"{workday.date} is a {weekday}, which business_hours already opens; "
                                            f"a make-up working day must fall on a closed day "
                                            f"({', '.join(closed) or 'none: every weekday is open'})"))
        for name, start, end in holidays:
            if start <= workday.date <= end:
                problems.append((index, "date", f"{workday.date} is inside holiday {name!r} ({start} to {end}); "
                                                f"a day cannot be both a holiday and a make-up working day"))
                break
    return problems


@dataclass(frozen=True)
class Group:
    """A department / agent group (sales, technical support, complaints, ...)."""

    key: str
    name: Localized
    description: Localized
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class FieldOption:
    """One choice of a dropdown / multiselect field; `value` is the stable machine value (tag)."""

    value: str
    label: Localized


@dataclass(frozen=True)
class Field:
    """A custom ticket or organization field."""

    key: str  # stable machine key; Zendesk organization field `key`, ticket field tag prefix
    scope: Scope
    type: str  # one of FIELD_TYPES
    title: Localized
    description: Localized
    required: bool = False  # required for agents to solve (ticket) / to save (organization)
    options: tuple[FieldOption, ...] = ()
    regexp: str | None = None
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class Category:
    """A request category (S-5) with its sub-categories; rendered as a dropdown/request type."""

    key: str
    name: Localized
    description: Localized
    subcategories: tuple["Category", ...] = ()
    default_group: str | None = None  # Group.key
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None

    def walk(self):
        """This category, then every sub-category (depth first)."""
        yield self
        for sub in self.subcategories:
            yield from sub.walk()


@dataclass(frozen=True)
class Tier:
    """A customer tier (key / regular / new) and its callback cadence (R-1..R-3)."""

    key: str
    name: Localized
    callback: Cadence
    implements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Condition:
    """`field operator value`; value is already resolved (group key, field key, phrase...)."""

    field: str  # one of CONDITION_FIELDS or "field.<key>"
    operator: str  # one of OPERATORS
    value: Any = None


@dataclass(frozen=True)
class Conditions:
    """All of `all` and at least one of `any` (an empty `any` is true)."""

    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Action:
    """Set `field` to `value` (tags are lists; `field.<key>` sets a playbook field)."""

    field: str
    value: Any


@dataclass(frozen=True)
class Comment:
    """A reply or internal note made of an approved phrase."""

    phrase: str  # scripts_library phrase id
    public: bool = True


@dataclass(frozen=True)
class Macro:
    """An agent's one-click step: approved phrase + ticket changes. JSM: a manual automation rule."""

    key: str
    stage: str  # stage id, e.g. "S-2" (macro menus group by stage)
    title: Localized  # leaf title; connectors prefix the stage path (Zendesk "::" folders)
    description: Localized
    comment: Comment | None
    actions: tuple[Action, ...] = ()
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class Trigger:
    """Event-driven rule: runs when a ticket is created/updated and the conditions hold."""

    key: str
    title: Localized
    description: Localized
    category: str  # trigger category key (Zendesk trigger categories)
    conditions: Conditions
    actions: tuple[Action, ...]
    comment: Comment | None = None  # notification/note made of an approved phrase
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class Automation:
    """Time-based rule (hourly on Zendesk): conditions must include an hours_* condition."""

    key: str
    title: Localized
    description: Localized
    conditions: Conditions
    actions: tuple[Action, ...]
    comment: Comment | None = None
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class SLATarget:
    """A target for one metric and priority, in minutes, in business or calendar hours."""

    metric: str  # one of SLA_METRICS
    priority: str  # one of PRIORITIES
    minutes: int
    business_hours: bool = True


@dataclass(frozen=True)
class SLAPolicy:
    """An SLA policy: which tickets it applies to and its targets per priority."""

    key: str
    title: Localized
    description: Localized
    filter: Conditions
    targets: tuple[SLATarget, ...]
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class View:
    """An agent's saved list of tickets."""

    key: str
    title: Localized
    description: Localized
    conditions: Conditions
    columns: tuple[str, ...] = ("subject", "requester", "priority", "status", "updated")
    sort_by: str = "updated"
    sort_order: Literal["asc", "desc"] = "desc"
    implements: tuple[str, ...] = ()
    source: SourceRef | None = None


@dataclass(frozen=True)
class SyncJob:
    """One scheduled job's settings: owner group, the phrase it renders, the tags it sets."""

    name: Literal["renewals", "callbacks", "followups"]
    group: str  # Group.key that owns the created tasks
    phrase: str  # phrase id rendered in value mode into the task
    tags: tuple[str, ...] = ()
    priority: str = "normal"
    implements: tuple[str, ...] = ()


@dataclass(frozen=True)
class SyncSchedule:
    """The scheduled relationship work (R-1..R-4)."""

    run_at: str  # local time "HH:MM" in metadata.time_zone
    renewal_lead_days: int  # 30
    followup_after_days: int  # 7
    contract_end_field: str  # organization Field.key holding the contract end date
    tier_field: str  # organization Field.key holding the tier
    jobs: tuple[SyncJob, ...]

    def job(self, name: str) -> SyncJob:
        """The job called `name`."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)


@dataclass(frozen=True)
class Representation:
    """How a process item a desk cannot enforce directly is represented (e.g. "answer within 3 rings")."""

    item: str  # seed id, e.g. "S-2"
    requirement: str
    represented_by: tuple[str, ...]  # element references, e.g. ("sla_policies.standard", "views.phone_queue")
    note: str = ""


# ---------------------------------------------------------------- the playbook


@dataclass(frozen=True)
class Playbook:
    """A whole loaded, reference-checked playbook."""

    path: str
    metadata: Metadata
    groups: tuple[Group, ...]
    fields: tuple[Field, ...]
    categories: tuple[Category, ...]
    tiers: tuple[Tier, ...]
    trigger_categories: tuple[tuple[str, Localized], ...]  # (key, title)
    macros: tuple[Macro, ...]
    triggers: tuple[Trigger, ...]
    automations: tuple[Automation, ...]
    sla_policies: tuple[SLAPolicy, ...]
    views: tuple[View, ...]
    sync: SyncSchedule
    forbidden_phrases: dict[str, tuple[str, ...]]  # locale -> phrases no template may contain
    representations: tuple[Representation, ...] = ()
    stages: tuple[tuple[str, Localized], ...] = ()  # (stage id, title), process order
    category_field: str = "request_category"  # ticket Field.key of the category dropdown
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The playbook's machine name (ownership marker uses it)."""
        return self.metadata.name

    def group(self, key: str) -> Group:
        """The group with `key`."""
        return _by_key(self.groups, key, "group")

    def field_(self, key: str) -> Field:
        """The field with `key` (ticket or organization)."""
        return _by_key(self.fields, key, "field")

    def ticket_fields(self) -> tuple[Field, ...]:
        """Fields whose scope is ticket."""
        return tuple(f for f in self.fields if f.scope == "ticket")

    def organization_fields(self) -> tuple[Field, ...]:
        """Fields whose scope is organization."""
        return tuple(f for f in self.fields if f.scope == "organization")

    def all_categories(self) -> tuple[Category, ...]:
        """Every category and sub-category, depth first."""
        return tuple(c for top in self.categories for c in top.walk())

    def phrases_used(self) -> set[str]:
        """Every phrase id the playbook references (macros, rules, sync jobs)."""
        used = {m.comment.phrase for m in self.macros if m.comment}
        used |= {r.comment.phrase for r in (*self.triggers, *self.automations) if r.comment}
        used |= {j.phrase for j in self.sync.jobs}
        return used

    def elements(self) -> dict[str, Any]:
        """Every addressable element as "kind.key" -> element (for coverage and representations)."""
        out: dict[str, Any] = {}
        for kind, items in (
            ("groups", self.groups),
            ("fields", self.fields),
            ("categories", self.all_categories()),
            ("tiers", self.tiers),
            ("macros", self.macros),
            ("triggers", self.triggers),
            ("automations", self.automations),
            ("sla_policies", self.sla_policies),
            ("views", self.views),
            ("sync", self.sync.jobs),
        ):
            for item in items:
                out[f"{kind}.{getattr(item, 'key', None) or item.name}"] = item
        return out

    def implementers(self, item_id: str) -> list[str]:
        """Element references ("kind.key") whose `implements` names `item_id` (e.g. "S-9")."""
        found = [ref for ref, el in self.elements().items() if item_id in getattr(el, "implements", ())]
        found += [f"representations.{r.item}" for r in self.representations if r.item == item_id]
        return found


def _by_key(items, key, what):
    for item in items:
        if item.key == key:
            return item
    raise KeyError(f"no {what} {key!r}")

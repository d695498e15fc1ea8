"""The platform-neutral desired state a playbook describes — the one description of a playbook.

These frozen dataclasses are pydantic dataclasses: each field's type, constraints and
description here is at once what a playbook YAML file may say (the loader validates a file
with them) and the JSON Schema `deskbook schema` prints (`deskbook.playbooks.schema`
generates it from them). One new field is one edit, here. References between elements
(a macro naming a group, a condition naming a field, ...) and rules that span elements are
checked by `deskbook.playbooks.loader` after the shape; connectors translate the model into
their desk's native objects; nothing in here knows about Zendesk or JSM.

Three element lists are records rather than the bare tuples they once were (`TriggerCategory`,
`Stage`, `Holiday`): a file writes them as mappings, and they still unpack and index like the
`(key, title)` / `(name, start, end)` tuples callers use (code may also pass those tuples).
Fields a file cannot set (`source`, `Playbook.path`) are filled in by the loader.

Validation is strict about scalars (text is text, a whole number is not `"30"` or `true`),
as YAML files should be. Objects built in code are validated too, so a typo in a connector's
test playbook fails where it is made.

Conditions and actions use a small neutral vocabulary (see `CONDITION_FIELDS`,
`ACTION_FIELDS`) that each connector maps onto its desk.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Strict, StringConstraints, field_validator, model_validator
from pydantic import Field as Describe
from pydantic.dataclasses import dataclass as _pydantic_dataclass
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError, core_schema

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

#: The longest SLA target, in minutes. Zendesk's SLA policy API reports each target as `target`
#: (minutes) and `target_in_seconds` (developer.zendesk.com, SLA Policies, Policy Metric); a count of
#: seconds must fit a signed 32-bit integer, (2**31 - 1) // 60 minutes. JSM goal durations are
#: milliseconds in a Java long (../shared/jsm/FACTS.md 6.3), a far larger bound. Neither vendor
#: document in ../shared states a maximum (the Zendesk OpenAPI types `target` as a bare integer):
#: this is deskbook's reading of the wire types, not yet confirmed on a live desk.
MAX_SLA_MINUTES = (2**31 - 1) // 60
#: Weekday names of `BusinessHours.days`, Monday first (the order of `date.weekday()`).
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The scheduled jobs a playbook configures.
SYNC_JOB_NAMES = ("renewals", "callbacks", "followups")
#: Callback cadences of customer tiers.
CADENCES = ("monthly", "quarterly", "after_first_service", "none")
#: Field scopes.
SCOPES = ("ticket", "organization")
#: Element kinds a representation (or the coverage table) may point at: "<kind>.<key>".
ELEMENT_KINDS = ("groups", "fields", "categories", "tiers", "macros", "triggers", "automations",
                 "sla_policies", "views", "sync")

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
ITEM_ID_PATTERN = r"^[SCRT]-[0-9]+$"
STAGE_PATTERN = r"^(S-[0-9]+|[a-z][a-z0-9_]*)$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NAME_PATTERN = r"^[a-z][a-z0-9-]*$"
TAG_PATTERN = r"^[a-z0-9_]+$"


def _field_ref_pattern(names) -> str:
    alternatives = "|".join(re.escape(n) for n in names)
    return rf"^({alternatives}|field\.[a-z][a-z0-9_]*)$"


# ---------------------------------------------------------------- value types (shape + JSON Schema text)


def _text(pattern: str | None = None, description: str | None = None, *, min_length: int | None = None) -> Any:
    """Strict text, optionally patterned; `description` says what is expected (error messages show it)."""
    return Annotated[str, Strict(), StringConstraints(pattern=pattern, min_length=min_length),
                     Describe(description=description)]


def _choice(values: tuple[str, ...], what: str) -> Any:
    """One of `values`."""
    return Annotated[Literal[values], Describe(description=f"{what}: one of {', '.join(values)}")]


def _no_repeats(values: tuple) -> tuple:
    if len(set(values)) != len(values):
        raise PydanticCustomError("unique_items", "lists the same item twice")
    return values


def _unique(item: Any, description: str | None = None, *, min_length: int | None = None) -> Any:
    """A list (read as a tuple) whose items are all different."""
    return Annotated[tuple[item, ...], Describe(min_length=min_length), AfterValidator(_no_repeats),
                     Describe(description=description, json_schema_extra={"uniqueItems": True})]


def _set_by_loader(value: Any, info: Any) -> Any:
    """Fields the loader fills in: code may pass them, a file may not."""
    if info.context and info.context.get("file"):
        raise PydanticCustomError("set_by_loader", "not a key a playbook file sets")
    return value


#: The value types of playbook fields. Type checkers read them as plain str / tuple (the
#: pydantic annotations are built by calls they cannot follow).
if TYPE_CHECKING:
    Key = str
    PhraseId = str
    StageId = str
    LocaleName = str
    Text = str
    Date = str
    ItemId = str
    Time = str
    LocalTime = str
    MachineName = str
    Version = str
    TimeZone = str
    ConditionField = str
    ActionField = str
    ItemRef = str
    ElementRef = str
    Tag = str
    Implements = tuple[str, ...]
    Locales = tuple[str, ...]
    Weekdays = tuple[str, ...]
    Priority = str
    Scope = str
    Cadence = str
    FieldType = str
    Operator = str
    Metric = str
    SortOrder = str
    JobName = str
else:
    Key = _text(KEY_PATTERN, "a key: lower-case letters, digits and _ , starting with a letter (e.g. technical_support)")
    PhraseId = _text(KEY_PATTERN, "an approved phrase id (see `deskbook scripts list`)")
    StageId = _text(STAGE_PATTERN, "a stage id such as S-2 (or a key such as complaints)")
    LocaleName = _text(LOCALE_PATTERN, "a locale such as zh-CN or en")
    Text = _text(min_length=1)
    Date = _text(DATE_PATTERN, "a date YYYY-MM-DD")
    ItemId = _text(ITEM_ID_PATTERN, "a process item id such as S-2, C-1, R-4 or T-3")
    Time = _text(TIME_PATTERN, 'a time HH:MM (quote it: "09:00")')
    LocalTime = _text(TIME_PATTERN, 'a local time HH:MM (quote it: "09:00")')
    MachineName = _text(NAME_PATTERN, "a machine name such as standard-service")
    Version = _text(description='a version string; quote it ("1.0")', min_length=1)
    TimeZone = _text(description="an IANA time zone such as Asia/Shanghai", min_length=1)
    ConditionField = _text(_field_ref_pattern(CONDITION_FIELDS),
                           f"a condition field: one of {', '.join(CONDITION_FIELDS)}, or field.<field key>")
    ActionField = _text(_field_ref_pattern(ACTION_FIELDS),
                        f"an action field: one of {', '.join(ACTION_FIELDS)}, or field.<field key>")
    ItemRef = _text(ITEM_ID_PATTERN, "a process item id such as S-2")
    ElementRef = _text(rf"^({'|'.join(ELEMENT_KINDS)})\.[a-z][a-z0-9_]*$",
                       f"an element reference <kind>.<key>, kind one of {', '.join(ELEMENT_KINDS)}")
    Tag = _text(TAG_PATTERN, "a tag: lower-case letters, digits and _")
    Implements = _unique(ItemId, "ids of ../shared/sop/standard-process.md items this element implements")
    Locales = _unique(LocaleName, min_length=1)
    Weekdays = _unique(_choice(WEEKDAY_NAMES, "a weekday"), min_length=1)
    Priority = _choice(PRIORITIES, "a priority")
    Scope = _choice(SCOPES, "a field scope")
    Cadence = _choice(CADENCES, "a callback cadence")
    FieldType = _choice(FIELD_TYPES, "a field type")
    Operator = _choice(OPERATORS, "an operator")
    Metric = _choice(SLA_METRICS, "an SLA metric")
    SortOrder = _choice(("asc", "desc"), "a sort order")
    JobName = _choice(SYNC_JOB_NAMES, "a sync job")
Flag = Annotated[bool, Strict()]
#: Where an element was defined; the loader sets it, files cannot.
Source = Annotated[SkipJsonSchema["SourceRef | None"], BeforeValidator(_set_by_loader)]

#: Every model class: frozen, and a file's unknown keys are errors.
_model = _pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))



# ---------------------------------------------------------------- building blocks


@dataclasses.dataclass(frozen=True)
class Localized:
    """Text in several locales; `get` falls back to the playbook's default locale.

    A file writes it as a mapping `{zh-CN: 技术支持, en: Technical support}`; the loader passes
    the playbook's default locale in the validation context (`default_locale`)."""

    values: dict[str, str]
    default_locale: str

    def get(self, locale: str | None = None) -> str:
        """The text in `locale`, or in the default locale when that one is missing."""
        if locale and locale in self.values:
            return self.values[locale]
        return self.values[self.default_locale]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        texts = handler.generate_schema(dict[LocaleName, Text])
        texts["min_length"] = 1

        def build(value: Any, next_: Any, info: Any) -> Localized:
            if isinstance(value, cls):
                return value
            values = next_(value)
            default = (info.context or {}).get("default_locale")
            return cls(values, default if isinstance(default, str) else next(iter(values)))

        return core_schema.with_info_wrap_validator_function(
            build, texts, metadata={"pydantic_js_updates": {
                "description": "text per locale, e.g. {zh-CN: 技术支持, en: Technical support}"}})


@dataclasses.dataclass(frozen=True)
class SourceRef:
    """Where an element was defined: file, line, column (1-based) — for error messages."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class _Record:
    """An element that iterates, indexes and unpacks like the tuple of its fields, and may be
    given as that tuple in code (`("routing", title)`); a file writes it as a mapping."""

    @model_validator(mode="before")
    @classmethod
    def _from_tuple(cls, value: Any) -> Any:
        if isinstance(value, tuple):
            names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
            if len(value) != len(names):
                raise ValueError(f"expected a tuple of {len(names)} ({', '.join(names)}), not of {len(value)}")
            return dict(zip(names, value, strict=True))
        return value

    def __iter__(self):
        return iter(tuple(getattr(self, f.name) for f in dataclasses.fields(self)))

    def __getitem__(self, index):
        return tuple(self)[index]

    def __len__(self) -> int:
        return len(dataclasses.fields(self))  # type: ignore[arg-type]


@_model
class BusinessHours:
    """Weekly opening hours in the playbook's time zone; `days` are mon..sun."""

    days: Weekdays
    start: Time
    end: Time


@_model
class Holiday(_Record):
    """A closed period; unpacks as (name, start, end)."""

    name: Text
    start: Date
    end: Date


@_model
class ExtraWorkday:
    """A make-up working day (调休上班): a day the weekly hours mark closed on which staff work."""

    date: Date  # "2026-02-14"
    name: Text  # e.g. "春节调休上班 Spring Festival make-up workday"

    @property
    def weekday(self) -> str:
        """The day's weekday name (mon..sun); ValueError when `date` is not a calendar date."""
        return WEEKDAY_NAMES[_dt.date.fromisoformat(self.date).weekday()]

    @property
    def label(self) -> str:
        """The day as plan notes list it: "2026-02-14 Sat (春节调休上班 ...)"."""
        return f"{self.date} {self.weekday.capitalize()} ({self.name})"


@_model
class Metadata:
    """Playbook identity and calendar."""

    name: MachineName  # used in the ownership marker
    version: Version
    title: Localized
    description: Localized
    locales: Locales  # e.g. ("zh-CN", "en")
    default_locale: LocaleName
    time_zone: TimeZone
    business_hours: Annotated[tuple[BusinessHours, ...], Describe(min_length=1)]
    holidays: tuple[Holiday, ...] = ()
    extra_workdays: Annotated[tuple[ExtraWorkday, ...], Describe(
        description="make-up working days (调休上班): closed weekdays on which staff work")] = ()


def open_weekdays(business_hours: tuple[BusinessHours, ...] | list[BusinessHours]) -> set[str]:
    """The weekday names (mon..sun) on which the weekly hours open at all."""
    return {day.lower()[:3] for block in business_hours for day in block.days}


def extra_workday_problems(
    extra_workdays: tuple[ExtraWorkday, ...] | list[ExtraWorkday],
    business_hours: tuple[BusinessHours, ...] | list[BusinessHours],
    holidays: tuple[Holiday | tuple[str, str, str], ...] | list[Holiday | tuple[str, str, str]],
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


@_model
class Stage(_Record):
    """A process stage macros are grouped by; unpacks as (id, title)."""

    id: StageId
    title: Localized


@_model
class Group:
    """A department / agent group (sales, technical support, complaints, ...)."""

    key: Key
    name: Localized
    description: Localized
    implements: Implements = ()
    source: Source = None


@_model
class FieldOption:
    """One choice of a dropdown / multiselect field; `value` is the stable machine value (tag)."""

    value: Key
    label: Localized


@_model
class Field:
    """A custom ticket or organization field."""

    key: Key  # stable machine key; Zendesk organization field `key`, ticket field tag prefix
    scope: Scope
    type: FieldType
    title: Localized
    description: Localized
    required: Flag = False  # required for agents to solve (ticket) / to save (organization)
    options: tuple[FieldOption, ...] = ()
    regexp: Text | None = None
    implements: Implements = ()
    source: Source = None


@_model
class Category:
    """A request category (S-5) with its sub-categories; rendered as a dropdown/request type."""

    key: Key
    name: Localized
    description: Localized
    subcategories: tuple[Category, ...] = ()
    default_group: Key | None = None  # Group.key
    implements: Implements = ()
    source: Source = None

    def walk(self):
        """This category, then every sub-category (depth first)."""
        yield self
        for sub in self.subcategories:
            yield from sub.walk()


@_model
class Tier:
    """A customer tier (key / regular / new) and its callback cadence (R-1..R-3)."""

    key: Key
    name: Localized
    callback: Cadence
    implements: Implements = ()


@_model
class TriggerCategory(_Record):
    """A Zendesk trigger category (triggers fire by category); unpacks as (key, title)."""

    key: Key
    title: Localized


@_model
class Condition:
    """`field operator value`; the loader checks the value against the field (group key, ...)."""

    field: ConditionField
    operator: Operator
    value: Annotated[Any, Describe(description="the value compared with (a key, a list of tags, a number of hours, ...)")] = None


@_model
class Conditions:
    """All of `all` and at least one of `any` (an empty `any` is true)."""

    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()


#: Actions whose value is a list of tags (a single tag is read as a list of one).
TAG_ACTIONS = ("add_tags", "remove_tags", "set_tags")


@_model
class Action:
    """Set `field` to `value` (tags are lists; `field.<key>` sets a playbook field)."""

    field: ActionField
    value: Annotated[Any, Describe(description="the value set (a key, a list of tags, ...)")]

    @field_validator("value")
    @classmethod
    def _one_tag_is_a_list(cls, value: Any, info: Any) -> Any:
        if info.data.get("field") in TAG_ACTIONS and isinstance(value, str):
            return [value]
        return value


@_model
class Comment:
    """A reply or internal note made of an approved phrase."""

    phrase: PhraseId  # scripts_library phrase id
    public: Flag = True


@_model
class Macro:
    """An agent's one-click step: approved phrase + ticket changes. JSM: a manual automation rule."""

    key: Key
    stage: StageId  # stage id, e.g. "S-2" (macro menus group by stage)
    title: Localized  # leaf title; connectors prefix the stage path (Zendesk "::" folders)
    description: Localized
    comment: Comment | None = None
    actions: tuple[Action, ...] = ()
    implements: Implements = ()
    source: Source = None


@_model
class Trigger:
    """Event-driven rule: runs when a ticket is created/updated and the conditions hold."""

    key: Key
    title: Localized
    description: Localized
    category: Key  # trigger category key (Zendesk trigger categories)
    conditions: Conditions
    actions: tuple[Action, ...]
    comment: Comment | None = None  # notification/note made of an approved phrase
    implements: Implements = ()
    source: Source = None


@_model
class Automation:
    """Time-based rule (hourly on Zendesk): conditions must include an hours_* condition."""

    key: Key
    title: Localized
    description: Localized
    conditions: Conditions
    actions: tuple[Action, ...]
    comment: Comment | None = None
    implements: Implements = ()
    source: Source = None


@_model
class SLATarget:
    """A target for one metric and priority, in minutes, in business or calendar hours."""

    metric: Metric
    priority: Priority
    minutes: Annotated[int, Strict(), Describe(ge=1, le=MAX_SLA_MINUTES, description=(
        f"whole minutes, from 1 to {MAX_SLA_MINUTES:,} (about 68 years: Zendesk keeps a target as "
        "`target_in_seconds` too, a 32-bit count of seconds)"))]
    business_hours: Flag = True


@_model
class SLAPolicy:
    """An SLA policy: which tickets it applies to and its targets per priority."""

    key: Key
    title: Localized
    description: Localized
    filter: Conditions
    targets: Annotated[tuple[SLATarget, ...], Describe(min_length=1)]
    implements: Implements = ()
    source: Source = None


@_model
class View:
    """An agent's saved list of tickets."""

    key: Key
    title: Localized
    description: Localized
    conditions: Conditions
    columns: Annotated[tuple[Text, ...], Describe(min_length=1)] = ("subject", "requester", "priority", "status", "updated")
    sort_by: Text = "updated"
    sort_order: SortOrder = "desc"
    implements: Implements = ()
    source: Source = None


@_model
class SyncJob:
    """One scheduled job's settings: owner group, the phrase it renders, the tags it sets."""

    name: JobName
    group: Key  # Group.key that owns the created tasks
    phrase: PhraseId  # phrase id rendered in value mode into the task
    tags: tuple[Tag, ...] = ()
    priority: Priority = "normal"
    implements: Implements = ()


@_model
class SyncSchedule:
    """The scheduled relationship work (R-1..R-4)."""

    run_at: LocalTime  # in metadata.time_zone
    renewal_lead_days: Annotated[int, Strict(), Describe(ge=1)]  # 30
    followup_after_days: Annotated[int, Strict(), Describe(ge=1)]  # 7
    contract_end_field: Key  # organization Field.key holding the contract end date
    tier_field: Key  # organization Field.key holding the tier
    jobs: tuple[SyncJob, ...]

    def job(self, name: str) -> SyncJob:
        """The job called `name`."""
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)


@_model
class Representation:
    """How a process item a desk cannot enforce directly is represented (e.g. "answer within 3 rings")."""

    item: ItemRef  # seed id, e.g. "S-2"
    requirement: Text
    #: element references, e.g. ("sla_policies.standard", "views.phone_queue")
    represented_by: Annotated[tuple[ElementRef, ...], Describe(min_length=1)]
    note: str = ""


@_model
class Guardrail:
    """C-1 at work: a rule per forbidden phrase catches a public agent reply containing it."""

    # Each desk's rule (deskbook.playbooks.guardrail) tags the ticket CAUGHT_TAG, gives the agent a
    # note naming the phrase and its approved alternative, and notifies notify_group.

    notify_group: Key  # Group.key told about every catch (the supervisors)
    note: PhraseId  # agent-facing phrase with variables forbidden_phrase and alternative
    #: locale -> forbidden phrase -> the approved phrase to use instead (every forbidden phrase has one)
    alternatives: dict[LocaleName, dict[Text, PhraseId]]
    trigger_category: Key | None = None  # TriggerCategory.key the Zendesk triggers go in
    implements: Implements = ()


@_model
class SurveyRecord:
    """Organization fields that hold a customer's last satisfaction survey (S-11, in the CRM)."""

    date: Key  # date field: the day of the survey (when the scores were entered on the request)
    ticket: Key  # text field: the surveyed request's id (which survey the record holds)
    response_speed: Key  # integer field, 1-5
    resolution: Key  # integer field, 1-5
    attitude: Key  # integer field, 1-5
    suggestions: Key  # textarea field


@_model
class Survey:
    """S-11: the three 1-5 scores and suggestions, which survey asks for them, and the customer record."""

    # desk_csat true: the desk's own one-question satisfaction survey is the online survey and the
    # playbook sends none of its own; false: the desk's is switched off and the playbook's three-score
    # invitation is the only one. Either way a customer gets one survey (validated).
    desk_csat: Flag
    response_speed: Key  # ticket dropdown field with options score_1..score_5
    resolution: Key
    attitude: Key
    suggestions: Key  # ticket text field
    record: SurveyRecord  # organization fields the survey sync job writes
    invitation: PhraseId = "satisfaction_survey"  # the phrase of the playbook's own survey invitation
    within_hours: Annotated[int, Strict(), Describe(ge=1)] = 48  # results on the customer record within
    implements: Implements = ()


#: Phrase variables a playbook may give a company-wide value under `constants` (the customer-facing
#: name and the team customers deal with), in the order `deskbook init` asks for them.
CONSTANT_VARIABLES = ("company_name", "department")


def _plain_text(value: Localized) -> Localized:
    """A constant is inserted literally into text a desk evaluates (Liquid, smart values): no markup."""
    for locale, text in value.values.items():
        if "{{" in text or "{%" in text:
            raise PydanticCustomError("plain_text", "is inserted as plain text, but the {locale} text {text} holds "
                                      "desk markup ({markup}); write the words themselves",
                                      {"text": repr(text), "locale": locale, "markup": "{{ or {%"})
    return value


#: Company-wide text per locale (plain text, no desk markup).
PlainLocalized = Annotated[Localized, AfterValidator(_plain_text)]


@_model
class Constants:
    """Company-wide text per locale for phrase variables the desk has no placeholder for (company_name, department)."""

    company_name: Annotated[PlainLocalized | None, Describe(
        description="the company's customer-facing name per locale, e.g. {zh-CN: 安科服务, en: Anke Service}")] = None
    department: Annotated[PlainLocalized | None, Describe(
        description="the department or team customers deal with, per locale, e.g. {zh-CN: 客户服务中心, "
                    "en: Customer service centre}")] = None

    def values(self, locale: str) -> dict[str, str]:
        """The constants set, as variable -> text in `locale` (the default locale's text when missing)."""
        out = {}
        for name in CONSTANT_VARIABLES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.get(locale)
        return out


# ---------------------------------------------------------------- the playbook


@_pydantic_dataclass(frozen=True, kw_only=True, config=ConfigDict(extra="forbid"))
class Playbook:
    """A customer-service playbook: the desired state deskbook installs into a help desk."""

    metadata: Metadata
    groups: tuple[Group, ...]
    fields: tuple[Field, ...]
    categories: tuple[Category, ...]
    tiers: tuple[Tier, ...]
    trigger_categories: tuple[TriggerCategory, ...] = ()  # unpack as (key, title)
    macros: tuple[Macro, ...]
    triggers: tuple[Trigger, ...] = ()
    automations: tuple[Automation, ...] = ()
    sla_policies: tuple[SLAPolicy, ...] = ()
    views: tuple[View, ...] = ()
    sync: SyncSchedule
    #: locale -> phrases no template may contain
    forbidden_phrases: dict[LocaleName, tuple[Text, ...]] = dataclasses.field(default_factory=dict)
    guardrail: Guardrail | None = None  # C-1: catch forbidden phrases in agents' public replies
    survey: Survey | None = None  # S-11: the three scores, one survey, the customer record
    representations: tuple[Representation, ...] = ()
    stages: tuple[Stage, ...] = ()  # process order; unpack as (stage id, title)
    category_field: Key = "request_category"  # ticket Field.key of the category dropdown
    constants: Constants = dataclasses.field(default_factory=Constants)  # company_name, department per locale
    extra: Annotated[dict[str, Any], Describe(description="free-form settings for other parts (e.g. sync_values)")] = \
        dataclasses.field(default_factory=dict)
    path: Annotated[SkipJsonSchema[str], BeforeValidator(_set_by_loader)] = ""  # the file it was loaded from

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
        rules: tuple[Trigger | Automation, ...] = (*self.triggers, *self.automations)
        used |= {r.comment.phrase for r in rules if r.comment}
        used |= {j.phrase for j in self.sync.jobs}
        if self.guardrail is not None:
            used.add(self.guardrail.note)
            used |= {alt for phrases in self.guardrail.alternatives.values() for alt in phrases.values()}
        return used

    def elements(self) -> dict[str, Any]:
        """Every addressable element as "kind.key" -> element (for coverage and representations)."""
        out: dict[str, Any] = {}
        sections: tuple[tuple[str, tuple[Any, ...]], ...] = (
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
        )
        for kind, items in sections:
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

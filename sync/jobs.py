"""The three jobs' settings (from the playbook) and the task each due item becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from deskbook.errors import DeskbookError
from deskbook.sync.desk import TaskDraft
from deskbook.sync.schedule import DEFAULT_TIER_CADENCE, JOBS, DueItem, Organization, ScheduleSettings, WorkCalendar


@dataclass(frozen=True)
class JobSettings:
    """One job: owning group, phrase, tags, priority."""

    name: str
    group_key: str | None
    group_names: Mapping[str, str]  # locale -> localized group name (to find the desk group)
    phrase: str
    tags: tuple[str, ...] = ()
    priority: str = "normal"


@dataclass(frozen=True)
class SyncSettings:
    """Everything the runner needs from the playbook."""

    playbook_name: str = "standard-service"
    run_at: str = "09:00"
    time_zone: str = "Asia/Shanghai"
    default_locale: str = "zh-CN"
    contract_end_field: str = "contract_end_date"
    tier_field: str = "customer_tier"
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    jobs: Mapping[str, JobSettings] = field(default_factory=dict)
    #: ticket fields implementing T-4 (the callback record): (key, locale -> title)
    callback_record_fields: tuple[tuple[str, Mapping[str, str]], ...] = ()
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # locale -> phrase values
    #: S-11: the survey fields (`deskbook.sync.surveys.SurveyFields`); None: the playbook has no survey job
    survey: Any = None

    def job(self, name: str) -> JobSettings:
        """The settings of job `name` (defaults when the playbook does not list it)."""
        if name in self.jobs:
            return self.jobs[name]
        return JobSettings(name, None, {}, DEFAULT_PHRASES[name], (f"deskbook_{name}",))


DEFAULT_PHRASES = {"renewals": "renewal_reminder", "callbacks": "periodic_callback", "followups": "new_customer_followup"}

#: The values a task's phrase gets besides the customer's own (name, company, contract end, period).
#: The playbook's `constants:` (company_name, department) come first, the same text its rules post
#: to customers. Without them `company_name` is the name of the group the job assigns its tasks to
#: (the team the customer deals with, e.g. 客户服务中心 / Customer service centre; the fallbacks below
#: only when a job has no group). `agent_name` is the agent's role, so a callback reads
#: "我是安科服务的客服专员" / "this is your customer service specialist from Anke Service".
#: A playbook sets its own per locale under `extra.sync_values.<locale>` (these win), e.g.
#: `{zh-CN: {company_name: 北极星科技, agent_name: 客户经理, renewal_offer: ...}}` (README, "Scheduled sync jobs").
DEFAULT_VALUES = {
    "en": {
        "company_name": "our company",
        "renewal_offer": "a loyalty discount on the renewal and added services",
        "agent_name": "your customer service specialist",
    },
    "zh-CN": {"company_name": "本公司", "renewal_offer": "续约忠诚客户折扣及增值服务", "agent_name": "客服专员"},
}
#: Keys of `DEFAULT_VALUES` whose default is the job's group name.
GROUP_NAMED_VALUES = ("company_name",)


SUBJECTS = {
    "en": {
        "renewals": "Renewal reminder: {org} (contract ends {period})",
        "callbacks": "Callback {period}: {org}",
        "followups": "New customer follow-up: {org}",
    },
    "zh-CN": {
        "renewals": "续约提醒：{org}（合同 {period} 到期）",
        "callbacks": "定期回访 {period}：{org}",
        "followups": "新客户回访：{org}",
    },
}

CALLBACK_RECORD = {
    "en": "Callback record (T-4), to fill in:",
    "zh-CN": "回访记录（T-4），请填写：",
}
DEFAULT_RECORD_FIELDS = (
    ("callback_time", {"en": "Time of the call", "zh-CN": "回访时间"}),
    ("callback_feedback", {"en": "Feedback", "zh-CN": "客户反馈"}),
    ("callback_follow_up_items", {"en": "Follow-up items", "zh-CN": "后续事项"}),
)


def settings_from_playbook(playbook: Any) -> SyncSettings:
    """SyncSettings from a loaded `deskbook.playbooks.model.Playbook`."""
    sync = playbook.sync
    meta = playbook.metadata
    jobs = {}
    for job in sync.jobs:
        group = playbook.group(job.group) if job.group else None
        jobs[job.name] = JobSettings(
            name=job.name,
            group_key=job.group,
            group_names=dict(group.name.values) if group else {},
            phrase=job.phrase,
            tags=tuple(job.tags),
            priority=job.priority,
        )
    record_fields = tuple((f.key, dict(f.title.values)) for f in playbook.ticket_fields() if "T-4" in f.implements)
    values: dict[str, dict[str, str]] = {}
    constants = getattr(playbook, "constants", None)
    if constants is not None:  # the playbook's `constants:`, as rules get them
        for loc in meta.locales:
            if constants.values(loc):
                values[loc] = dict(constants.values(loc))
    for loc, overrides in (playbook.extra.get("sync_values") or {}).items():
        values.setdefault(loc, {}).update(overrides)
    return SyncSettings(
        playbook_name=playbook.name,
        run_at=sync.run_at,
        time_zone=meta.time_zone,
        default_locale=meta.default_locale,
        contract_end_field=sync.contract_end_field,
        tier_field=sync.tier_field,
        schedule=ScheduleSettings(
            renewal_lead_days=sync.renewal_lead_days,
            followup_after_days=sync.followup_after_days,
            tier_cadence={t.key: t.callback for t in playbook.tiers} or dict(DEFAULT_TIER_CADENCE),
            calendar=WorkCalendar.from_metadata(meta),
        ),
        jobs=jobs,
        callback_record_fields=record_fields,
        values=values,
        survey=_survey_fields(playbook),
    )


def _survey_fields(playbook: Any) -> Any:
    if getattr(playbook, "survey", None) is None:
        return None
    from deskbook.sync.surveys import SurveyFields

    return SurveyFields.from_playbook(playbook.survey, playbook.fields)


_SETTINGS_CACHE: dict[str | None, SyncSettings] = {}


def load_settings(playbook_path: str | None) -> SyncSettings:
    """Load the playbook (None = shipped standard one) and derive the sync settings.

    Cached per process: a process runs with the playbook it started with."""
    if playbook_path not in _SETTINGS_CACHE:
        try:
            from deskbook.playbooks.loader import load_playbook
        except ImportError as exc:  # the loader ships with the playbooks package
            raise DeskbookError("the playbook loader is not available in this build", hint=str(exc)) from None
        _SETTINGS_CACHE[playbook_path] = settings_from_playbook(load_playbook(playbook_path))
    return _SETTINGS_CACHE[playbook_path]


def organization_locale(org: Organization, settings: SyncSettings, available: tuple[str, ...]) -> str:
    """The locale to write in: the organization's own when the library has it, else the default."""
    if org.locale:
        for candidate in (org.locale, org.locale.split("-")[0]):
            for loc in available:
                if loc.lower() == candidate.lower() or loc.split("-")[0].lower() == candidate.lower():
                    return loc
    return settings.default_locale


def draft_task(item: DueItem, org: Organization, settings: SyncSettings, library: Any) -> TaskDraft:
    """The ticket for `item`: subject, internal note (phrase in value mode), group, tags, requester."""
    from deskbook.scripts_library import render_values

    job = settings.job(item.job)
    locales = tuple(library.locales()) if hasattr(library, "locales") else ("zh-CN", "en")
    locale = organization_locale(org, settings, locales)
    base = dict(DEFAULT_VALUES.get(locale) or DEFAULT_VALUES["en"])
    if job.group_names:
        group_name = job.group_names.get(locale) or next(iter(job.group_names.values()))
        base.update({key: group_name for key in GROUP_NAMED_VALUES})
    base.update(settings.values.get(locale) or {})  # the playbook's own `extra.sync_values` win
    name = org.name or f"#{org.id}"
    values = {
        **base,
        "customer_name": name,
        "customer_company": name,
        "contract_end_date": org.contract_end_date or "",
        "period": item.period,
    }
    note = render_values(library, job.phrase, locale, values)
    fields: dict[str, str] = {}
    if item.job == "callbacks":
        record = settings.callback_record_fields or DEFAULT_RECORD_FIELDS
        lines = [f"- {titles.get(locale) or next(iter(titles.values()), key)}:" for key, titles in record]
        note += "\n\n" + CALLBACK_RECORD.get(locale, CALLBACK_RECORD["en"]) + "\n" + "\n".join(lines)
        fields = {key: "" for key, _ in record}
    subject = SUBJECTS.get(locale, SUBJECTS["en"])[item.job].format(org=name, period=item.period)
    return TaskDraft(
        key=item.key,
        job=item.job,
        organization_id=org.id,
        subject=subject,
        note=note,
        group_name=job.group_names.get(settings.default_locale) if job.group_names else None,
        group_key=job.group_key,
        tags=tuple(dict.fromkeys(("deskbook", f"deskbook_{item.job}", *job.tags))),
        priority=job.priority,
        requester_email=org.contact_email or None,
        requester_name=name if org.contact_email else None,
        fields=fields,
    )


def selected_jobs(job: str | None) -> tuple[str, ...]:
    """`all`/None → every job (the task jobs and the S-11 survey job); else the one named
    (DeskbookError for an unknown name)."""
    from deskbook.sync.surveys import SURVEY_JOB

    if job in (None, "all"):
        return (*JOBS, SURVEY_JOB)
    if job not in (*JOBS, SURVEY_JOB):
        raise DeskbookError(f"unknown sync job {job!r}", hint="use one of renewals, callbacks, followups, surveys, all")
    return (job,)

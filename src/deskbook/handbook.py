"""`deskbook handbook`: the agents' SOP, generated from the playbook and the approved phrases.

One self-contained HTML file (no scripts, no fonts, images or styles from elsewhere: it opens
offline and prints, or becomes a PDF through Chromium's print) in one locale:

1. the process diagram: an inline SVG of the stages in process order, each box carrying the
   stage's timings, i.e. the SLA targets of the policies that implement the stage and the hour
   limits of its automations;
2. per stage: its SLA targets, the automatic rules (triggers, automations) and views that
   implement it, the requirements the desk can only represent, and its macros, each with the
   approved phrase text (variables shown as highlighted sample values);
3. routing and escalation: which team each request category goes to, and the macros that hand
   a ticket to another team;
4. complaint rules: everything implementing the SOP's complaint items (ids `C-…`), and the
   forbidden phrases of every locale next to the approved alternatives (the phrases of the macros
   implementing `C-1`, the no-blame-shifting rule);
5. relationship cadence: callback frequency per customer tier and the scheduled jobs (renewal
   lead time, follow-up delay, run time) with the phrase each task uses;
6. business hours, holidays and make-up working days.

Because it is built from the same playbook and phrase library `apply` installs, it cannot drift
from what the desk does. Only approved phrase text is printed: an unapproved phrase stops the
build with the `deskbook scripts approve` command to run. Text comes from the playbook in the
chosen locale (falling back to its default locale); the handbook's own headings are in `LABELS`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import re
from dataclasses import dataclass, field
from typing import Any

from deskbook.errors import DeskbookError, ExitCode

#: The handbook's own words, per locale (the playbook supplies everything else).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "handbook": "Agent handbook", "generated": "Generated from playbook {name} {version} on {date}.",
        "contents": "Contents", "process": "The process at a glance", "stages": "Stage by stage",
        "routing": "Routing and escalation", "complaints": "Complaint rules", "forbidden": "Never say",
        "cadence": "Relationship cadence", "hours": "Business hours and holidays",
        "sla": "Time targets", "rules": "The desk does this automatically", "views": "Views to work from",
        "macros": "Macros and what they say", "representations": "What the desk cannot enforce: your part",
        "public": "public reply", "internal": "internal note", "no_phrase": "no message: sets fields and tags only",
        "category": "Request category", "team": "Handled by", "macro": "Macro", "to_team": "Hands over to",
        "forbidden_phrase": "Forbidden phrase", "instead": "Say instead (approved)",
        "caught": "The desk watches public replies for these phrases: a reply with one is tagged, your supervisors are told, and you get this note:",
        "tier": "Customer tier", "callback": "Callback", "job": "Scheduled task", "when": "When",
        "phrase": "Message used", "owner": "Owner", "days": "Days", "open": "Open", "holiday": "Holiday",
        "from": "From", "to": "To", "extra_workday": "Make-up working day (desk cannot open it: work it by hand)",
        "time_zone": "Time zone", "legend": "Highlighted words are filled in for each customer.",
        "calendar_time": "calendar time", "business_time": "business hours", "priority": "priority",
        "fields": "Fields to fill in", "note": "Note", "run_at": "The jobs run every day at {time} ({tz}).",
        "renewal_when": "{days} days before the contract ends", "followup_when": "{days} days after the first service",
        "auto_after": "after {hours} h",
    },
    "zh-CN": {
        "handbook": "客服手册", "generated": "根据流程手册 {name} {version} 生成于 {date}。",
        "contents": "目录", "process": "流程总览", "stages": "分阶段说明",
        "routing": "分派与升级", "complaints": "投诉处理规范", "forbidden": "禁用语",
        "cadence": "客户关系维护节奏", "hours": "工作时间与节假日",
        "sla": "时限要求", "rules": "系统自动执行", "views": "工作视图",
        "macros": "快捷回复（宏）及标准话术", "representations": "系统无法强制的要求：需要您做到",
        "public": "公开回复", "internal": "内部备注", "no_phrase": "无回复内容：仅设置字段与标签",
        "category": "请求分类", "team": "负责团队", "macro": "宏", "to_team": "转交至",
        "forbidden_phrase": "禁用语", "instead": "请改用（已审批话术）",
        "caught": "系统会检查每条公开回复：含有上述禁用语的回复会被标记并通知主管，您会收到如下提醒：",
        "tier": "客户等级", "callback": "回访", "job": "定时任务", "when": "时间",
        "phrase": "使用话术", "owner": "负责团队", "days": "工作日", "open": "工作时间", "holiday": "节假日",
        "from": "开始", "to": "结束", "extra_workday": "调休上班日（系统无法开放，需人工安排）",
        "time_zone": "时区", "legend": "高亮词语会按每位客户的实际信息填写。",
        "calendar_time": "自然时间", "business_time": "工作时间", "priority": "优先级",
        "fields": "需填写的字段", "note": "说明", "run_at": "定时任务每天 {time}（{tz}）运行。",
        "renewal_when": "合同到期前 {days} 天", "followup_when": "首次服务后 {days} 天",
        "auto_after": "{hours} 小时后",
    },
}
METRICS = {
    "en": {"first_reply_time": "First reply", "next_reply_time": "Next reply", "periodic_update_time": "Progress update",
           "requester_wait_time": "Customer waiting", "agent_work_time": "Work time",
           "pausable_update_time": "Update (pausable)"},
    "zh-CN": {"first_reply_time": "首次回复", "next_reply_time": "再次回复", "periodic_update_time": "进度同步",
              "requester_wait_time": "客户等待", "agent_work_time": "处理时长", "pausable_update_time": "进度同步（可暂停）"},
}
CADENCES = {
    "en": {"monthly": "monthly", "quarterly": "quarterly", "after_first_service": "after the first service",
           "none": "none"},
    "zh-CN": {"monthly": "每月", "quarterly": "每季度", "after_first_service": "首次服务后", "none": "不回访"},
}
JOB_NAMES = {
    "en": {"renewals": "Renewal reminder", "callbacks": "Periodic callback", "followups": "New customer follow-up"},
    "zh-CN": {"renewals": "续约提醒", "callbacks": "定期回访", "followups": "新客户回访"},
}
WEEKDAYS = {
    "en": {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"},
    "zh-CN": {"mon": "周一", "tue": "周二", "wed": "周三", "thu": "周四", "fri": "周五", "sat": "周六", "sun": "周日"},
}
LOCALES = tuple(LABELS)
#: The SOP item whose rule the forbidden phrases enforce (no blame-shifting); its macros' phrases
#: are the approved alternatives.
NO_BLAME_ITEM = "C-1"
#: Prefix of the SOP's complaint items.
COMPLAINT_PREFIX = "C-"


def register(subparsers) -> None:
    """Add `deskbook handbook` to the `deskbook` parser."""
    p = subparsers.add_parser(
        "handbook", help="write the agents' handbook (printable HTML) from the playbook and approved phrases",
        description="Write the SOP as agents read it: a process diagram with timings and SLA targets, each "
                    "stage's macros with their approved phrases, routing and escalation, complaint rules, "
                    "forbidden phrases with approved alternatives, and the relationship cadence. One "
                    "self-contained HTML file; print it, or save it as PDF from a browser.")
    p.add_argument("--locale", choices=LOCALES, help="language of the handbook (default: the playbook's default locale)")
    p.add_argument("--out", metavar="FILE", default="-", help="where to write the HTML (default '-': stdout)")
    p.add_argument("--playbook", metavar="NAME|PATH", help="playbook (default: the shipped standard-service; "
                                                           "env DESKBOOK_PLAYBOOK, or `playbook` in deskbook.toml)")
    p.add_argument("--scripts", metavar="DIR", help="phrase library folder (default: the shipped one; "
                                                    "env DESKBOOK_SCRIPTS, or `scripts` in deskbook.toml)")
    p.set_defaults(func=cmd_handbook)


def cmd_handbook(args: argparse.Namespace) -> ExitCode:
    """`deskbook handbook`."""
    from deskbook.connectors.commands import load_inputs

    playbook, library = load_inputs(args)
    text = render_handbook(playbook, library, locale=args.locale)
    from deskbook.output import write_output

    if write_output(text, args.out, "the handbook"):
        print(f"Wrote the {args.locale or playbook.metadata.default_locale} handbook of {playbook.name} to {args.out}")
    return ExitCode.OK


# ---------------------------------------------------------------- building blocks


def fmt_minutes(minutes: int, locale: str) -> str:
    """30 -> "30 min" / "30 分钟"; 60 -> "1 h"; 1440 -> "24 h"; 4320 -> "3 d"."""
    zh = locale == "zh-CN"
    if minutes % 1440 == 0 and minutes > 1440:
        return f"{minutes // 1440} 天" if zh else f"{minutes // 1440} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} 小时" if zh else f"{minutes // 60} h"
    return f"{minutes} 分钟" if zh else f"{minutes} min"


@dataclass
class Timing:
    """One timing line of a stage: the label and whether it is an SLA target."""

    text: str
    sla: bool = True
    continued: bool = False  # a wrapped line's continuation (no icon)


@dataclass
class Stage:
    """What the handbook says about one stage."""

    id: str
    title: str
    timings: list[Timing] = field(default_factory=list)
    sla: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, str]] = field(default_factory=list)
    views: list[dict[str, str]] = field(default_factory=list)
    macros: list[dict[str, Any]] = field(default_factory=list)
    representations: list[dict[str, str]] = field(default_factory=list)
    fields: list[dict[str, str]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """"S-2 接待与问候" for an SOP item id, the title alone for a named stage such as `complaints`."""
        return f"{self.id} {self.title}" if re.fullmatch(r"[A-Z]+-\d+", self.id) else self.title


def _text(localized: Any, locale: str) -> str:
    return localized.get(locale) if localized is not None else ""


def _stage_ids(element: Any, macro_stage: str | None = None) -> set[str]:
    return set(getattr(element, "implements", ()) or ()) | ({macro_stage} if macro_stage else set())


def sla_summary(policy: Any, locale: str) -> list[str]:
    """A policy's targets as lines "First reply 30 min (business hours)", priorities folded together."""
    labels = LABELS[locale]
    by_metric: dict[tuple[str, bool], dict[int, list[str]]] = {}
    for target in policy.targets:
        by_metric.setdefault((target.metric, target.business_hours), {}).setdefault(target.minutes, []).append(target.priority)
    lines = []
    for (metric, business), minutes in by_metric.items():
        name = METRICS[locale].get(metric, metric)
        clock = labels["business_time"] if business else labels["calendar_time"]
        clock = f"（{clock}）" if locale == "zh-CN" else f" ({clock})"
        if len(minutes) == 1:
            lines.append(f"{name} {fmt_minutes(next(iter(minutes)), locale)}{clock}")
        else:
            parts = ", ".join(f"{'/'.join(p)} {fmt_minutes(m, locale)}" for m, p in sorted(minutes.items()))
            lines.append(f"{name}: {parts}{clock}")
    return lines


def automation_hours(automation: Any) -> int | None:
    """The largest `hours_since_* greater_than N` of an automation's conditions (its time limit), or None."""
    hours = [int(c.value) for c in (*automation.conditions.all, *automation.conditions.any)
             if c.field.startswith("hours_since_") and c.operator == "greater_than" and str(c.value).isdigit()]
    return max(hours) if hours else None


_SENTINEL = re.compile("\ue000(\\d+)\ue001")


def phrase_html(library: Any, phrase_id: str, locale: str) -> str:
    """The approved phrase as HTML, each variable shown as its highlighted example value."""
    from markupsafe import escape

    from deskbook.scripts_library.render import render_values, text_to_html

    phrase = library.phrase(phrase_id, locale)
    names = list(phrase.variable_names)
    text = render_values(library, phrase_id, locale, {n: f"\ue000{i}\ue001" for i, n in enumerate(names)})
    examples = phrase.examples()
    descriptions = {v.name: v.description for v in phrase.variables}

    def mark(match: re.Match) -> str:
        name = names[int(match.group(1))]
        return f'<mark class="var" title="{escape(descriptions[name])}">{escape(examples[name])}</mark>'

    return _SENTINEL.sub(mark, text_to_html(text))


# ---------------------------------------------------------------- the diagram


def _wrap(text: str, width: float) -> list[str]:
    """Lines of `text` no wider than `width` ems (CJK characters 1 em, others about 0.55)."""
    lines, line, size = [], "", 0.0
    for word in re.findall(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+\s*|\s+", text):
        w = sum(1.0 if "\u2e80" <= ch <= "\uffef" else 0.55 for ch in word)
        if line and size + w > width:
            lines.append(line.rstrip())
            line, size = word.lstrip(), w
        else:
            line, size = line + word, size + w
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def process_svg(stages: list[Stage], locale: str) -> str:
    """The stages as a left-to-right, row-by-row flow of boxes with their timings, as inline SVG."""
    per_row, box_w, gap_x, gap_y, pad, title_size, line_size = 4, 210, 34, 40, 10, 14, 12
    rows = [stages[i:i + per_row] for i in range(0, len(stages), per_row)]
    laid: list[tuple[Stage, list[str], list[Timing]]] = []
    for stage in stages:
        title = _wrap(stage.label, (box_w - 2 * pad) / title_size)
        timings = []
        for timing in stage.timings[:4]:
            for i, part in enumerate(_wrap(timing.text, (box_w - 2 * pad - 16) / line_size)):
                timings.append(Timing(part, timing.sla, continued=i > 0))
        laid.append((stage, title, timings))
    heights = []
    for r in range(len(rows)):
        row = laid[r * per_row:(r + 1) * per_row]
        heights.append(max(2 * pad + len(t) * (title_size + 4) + 6 + len(m) * (line_size + 4) for _, t, m in row))
    width = per_row * box_w + (per_row - 1) * gap_x + 20
    height = sum(heights) + gap_y * (len(rows) - 1) + 20
    label = LABELS[locale]["process"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="process" role="img" aria-label="{html.escape(label)}" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="sans-serif">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#5b6b7f"/></marker></defs>']
    centres = []
    y = 10
    for r, row_height in enumerate(heights):
        for c, (stage, title, timings) in enumerate(laid[r * per_row:(r + 1) * per_row]):
            x = 10 + c * (box_w + gap_x)
            out.append(f'<g class="stage" id="diagram-{html.escape(stage.id)}">')
            out.append(f'<rect x="{x}" y="{y}" width="{box_w}" height="{row_height}" rx="8" fill="#f2f6fb" '
                       f'stroke="#3d6fa8" stroke-width="1.5"/>')
            ty = y + pad + title_size
            for line in title:
                out.append(f'<text x="{x + pad}" y="{ty}" font-size="{title_size}" font-weight="bold" '
                           f'fill="#1d3557">{html.escape(line)}</text>')
                ty += title_size + 4
            ty += 6
            for timing in timings:
                colour = "#a4161a" if timing.sla else "#5b6b7f"
                if not timing.continued:  # a dot for an SLA target, a square for an automation's limit
                    cy = ty - line_size / 2 + 2
                    out.append(f'<circle cx="{x + pad + 5}" cy="{cy}" r="4" fill="{colour}"/>' if timing.sla else
                               f'<rect x="{x + pad + 1}" y="{cy - 4}" width="8" height="8" fill="{colour}"/>')
                out.append(f'<text x="{x + pad + 16}" y="{ty}" font-size="{line_size}" fill="{colour}">'
                           f'{html.escape(timing.text)}</text>')
                ty += line_size + 4
            out.append("</g>")
            centres.append((x, y, row_height))
        y += row_height + gap_y
    for (x1, y1, h1), (x2, y2, h2) in zip(centres, centres[1:], strict=False):
        if y1 == y2:  # same row: right edge to left edge
            out.append(f'<line x1="{x1 + box_w}" y1="{y1 + h1 / 2}" x2="{x2 - 2}" y2="{y2 + h2 / 2}" '
                       'stroke="#5b6b7f" stroke-width="1.5" marker-end="url(#arrow)"/>')
        else:  # next row: down from the box's bottom, back to the left, down into the next box
            mid = y1 + h1 + gap_y / 2
            out.append(f'<polyline points="{x1 + box_w / 2},{y1 + h1} {x1 + box_w / 2},{mid} {x2 + box_w / 2},{mid} '
                       f'{x2 + box_w / 2},{y2 - 2}" fill="none" stroke="#5b6b7f" stroke-width="1.5" '
                       'marker-end="url(#arrow)"/>')
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------- the handbook


def handbook_data(playbook: Any, library: Any, locale: str) -> dict[str, Any]:
    """Everything the template prints, in `locale`."""
    groups = {g.key: _text(g.name, locale) for g in playbook.groups}
    stages = [Stage(stage_id, _text(title, locale)) for stage_id, title in playbook.stages]
    by_id = {s.id: s for s in stages}

    for policy in playbook.sla_policies:
        lines = sla_summary(policy, locale)
        for stage_id in policy.implements:
            if stage_id in by_id:
                by_id[stage_id].sla.append({"title": _text(policy.title, locale),
                                            "description": _text(policy.description, locale), "targets": lines})
                by_id[stage_id].timings += [Timing(line) for line in lines if Timing(line) not in by_id[stage_id].timings]
    for automation in playbook.automations:
        hours = automation_hours(automation)
        for stage_id in automation.implements:
            if stage_id in by_id:
                by_id[stage_id].rules.append({"title": _text(automation.title, locale),
                                              "description": _text(automation.description, locale)})
                if hours is not None:
                    when = LABELS[locale]["auto_after"].format(hours=hours)
                    by_id[stage_id].timings.append(Timing(f"{when}: {_text(automation.title, locale)}", sla=False))
    for trigger in playbook.triggers:
        for stage_id in trigger.implements:
            if stage_id in by_id:
                by_id[stage_id].rules.append({"title": _text(trigger.title, locale),
                                              "description": _text(trigger.description, locale)})
    for view in playbook.views:
        for stage_id in view.implements:
            if stage_id in by_id:
                by_id[stage_id].views.append({"title": _text(view.title, locale),
                                              "description": _text(view.description, locale)})
    for f in playbook.ticket_fields():
        for stage_id in f.implements:
            if stage_id in by_id:
                by_id[stage_id].fields.append({"title": _text(f.title, locale), "description": _text(f.description, locale)})
    for macro in playbook.macros:
        stage = by_id.get(macro.stage)
        if stage is None:
            continue
        entry = {"title": _text(macro.title, locale), "description": _text(macro.description, locale),
                 "phrase": None, "public": True, "to_team": None}
        if macro.comment:
            entry["phrase"] = phrase_html(library, macro.comment.phrase, locale)
            entry["public"] = macro.comment.public
        for action in macro.actions:
            if action.field == "group":
                entry["to_team"] = groups.get(action.value, action.value)
        stage.macros.append(entry)
    for rep in playbook.representations:
        if rep.item in by_id:
            by_id[rep.item].representations.append({"requirement": rep.requirement, "note": rep.note})

    routes = []
    for top in playbook.categories:
        for category in top.walk():
            depth = 0 if category is top else 1
            routes.append({"name": _text(category.name, locale), "depth": depth,
                           "description": _text(category.description, locale),
                           "team": groups.get(category.default_group or "", "")})
    escalations = [{"macro": m["title"], "team": m["to_team"], "description": m["description"]}
                   for s in stages for m in s.macros if m["to_team"]]

    complaint_items = sorted({i for el in playbook.elements().values() for i in getattr(el, "implements", ())
                              if i.startswith(COMPLAINT_PREFIX)}, key=_item_order)
    complaint_rules = []
    for item in complaint_items:
        parts = []
        for ref in playbook.implementers(item):
            kind, _, key = ref.partition(".")
            element = playbook.elements().get(ref)
            if kind == "representations":
                continue
            title = getattr(element, "title", None) or getattr(element, "name", None)
            if title is not None and hasattr(title, "get"):
                parts.append(_text(title, locale))
        reps = [r for r in playbook.representations if r.item == item]
        complaint_rules.append({"item": item, "elements": list(dict.fromkeys(parts)),
                                "requirements": [{"requirement": r.requirement, "note": r.note} for r in reps]})

    alternatives = sorted({m.comment.phrase for m in playbook.macros if m.comment and NO_BLAME_ITEM in m.implements})
    forbidden = []
    guardrail = playbook.guardrail
    for loc in playbook.metadata.locales:
        phrases = list(playbook.forbidden_phrases.get(loc, ()))
        if phrases and guardrail is not None:  # each phrase with the approved wording the desk suggests for it
            for p in phrases:
                alternative = guardrail.alternatives.get(loc, {}).get(p)
                forbidden.append({"locale": loc, "phrases": [p], "instead": [phrase_html(library, alternative, loc)]
                                  if alternative and (alternative, loc) in library.phrases else []})
        elif phrases:
            forbidden.append({"locale": loc, "phrases": phrases,
                              "instead": [phrase_html(library, p, loc) for p in alternatives
                                          if (p, loc) in library.phrases]})
    caught_note = (phrase_html(library, guardrail.note, locale)
                   if guardrail is not None and (guardrail.note, locale) in library.phrases else "")

    tiers = [{"name": _text(t.name, locale), "cadence": CADENCES[locale].get(t.callback, t.callback)}
             for t in playbook.tiers]
    sync = playbook.sync
    jobs = []
    for job in sync.jobs:
        when = {"renewals": LABELS[locale]["renewal_when"].format(days=sync.renewal_lead_days),
                "followups": LABELS[locale]["followup_when"].format(days=sync.followup_after_days),
                "callbacks": " / ".join(f"{t['name']}: {t['cadence']}" for t in tiers)}.get(job.name, "")
        jobs.append({"name": JOB_NAMES[locale].get(job.name, job.name), "when": when,
                     "team": groups.get(job.group, job.group), "phrase": phrase_html(library, job.phrase, locale)})

    meta = playbook.metadata
    opening_hours = [{"days": "、".join(WEEKDAYS[locale].get(d, d) for d in h.days) if locale == "zh-CN"
              else ", ".join(WEEKDAYS[locale].get(d, d) for d in h.days), "open": f"{h.start}–{h.end}"}
             for h in meta.business_hours]
    return {
        "locale": locale, "labels": LABELS[locale], "title": _text(meta.title, locale),
        "description": _text(meta.description, locale), "name": playbook.name, "version": meta.version,
        "date": _dt.date.today().isoformat(), "stages": stages, "diagram": process_svg(stages, locale),
        "routes": routes, "escalations": escalations, "complaint_rules": complaint_rules, "forbidden": forbidden, "caught_note": caught_note,
        "tiers": tiers, "jobs": jobs, "run_at": sync.run_at, "time_zone": meta.time_zone, "hours": opening_hours,
        "holidays": [{"name": n, "start": s, "end": e} for n, s, e in meta.holidays],
        "extra_workdays": [{"date": w.date, "name": w.name} for w in meta.extra_workdays],
    }


def _item_order(item: str) -> tuple[str, int]:
    prefix, _, number = item.partition("-")
    return prefix, int(number) if number.isdigit() else 0


def render_handbook(playbook: Any, library: Any, *, locale: str | None = None) -> str:
    """The handbook of `playbook` in `locale` (default: its default locale) as one HTML document."""
    import jinja2
    from markupsafe import Markup

    locale = locale or playbook.metadata.default_locale
    if locale not in LABELS:
        raise DeskbookError(f"no handbook wording for locale {locale!r}", hint="use one of: " + ", ".join(LOCALES))
    if locale not in playbook.metadata.locales:
        raise DeskbookError(f"playbook {playbook.name} has no {locale} text",
                            hint="its locales: " + ", ".join(playbook.metadata.locales))
    data = handbook_data(playbook, library, locale)
    data["diagram"] = Markup(data["diagram"])
    for stage in data["stages"]:
        for macro in stage.macros:
            macro["phrase"] = Markup(macro["phrase"]) if macro["phrase"] else None
    for entry in data["forbidden"]:
        entry["instead"] = [Markup(x) for x in entry["instead"]]
    data["caught_note"] = Markup(data["caught_note"])
    for job in data["jobs"]:
        job["phrase"] = Markup(job["phrase"])
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(TEMPLATE).render(**data)


TEMPLATE = """<!DOCTYPE html>
<html lang="{{ locale }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ labels.handbook }}: {{ title }}</title>
<style>
  @page { size: A4; margin: 16mm 14mm; }
  body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", system-ui, sans-serif;
         color: #1b1f24; line-height: 1.5; max-width: 980px; margin: 0 auto; padding: 24px; }
  h1 { color: #1d3557; margin-bottom: 0; }
  h2 { color: #1d3557; border-bottom: 2px solid #3d6fa8; padding-bottom: 4px; margin-top: 36px; }
  h3 { color: #274c77; margin-bottom: 4px; }
  .meta, .legend { color: #5b6b7f; font-size: 0.9em; }
  nav ol { columns: 2; }
  svg.process { max-width: 100%; height: auto; display: block; margin: 12px 0; }
  section.stage { border-left: 4px solid #3d6fa8; padding: 2px 0 8px 14px; margin: 18px 0; break-inside: avoid-page; }
  .macro { margin: 8px 0 12px; }
  .macro .name { font-weight: bold; }
  .kind { font-size: 0.8em; color: #fff; background: #3d6fa8; border-radius: 3px; padding: 0 5px; margin-left: 6px; }
  .kind.internal { background: #8d6a00; }
  blockquote { margin: 6px 0 0; padding: 6px 12px; background: #f6f8fa; border-left: 3px solid #9bb3cf; }
  blockquote p { margin: 4px 0; }
  mark.var { background: #fff1b8; border-radius: 2px; padding: 0 2px; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0; }
  th, td { border: 1px solid #c9d3df; padding: 4px 8px; text-align: left; vertical-align: top; }
  th { background: #eef3f9; }
  td.sub { padding-left: 28px; }
  table.forbidden-list td:first-child { width: 32%; }
  table.jobs td:nth-child(-n+3) { width: 14%; }
  .sla { color: #a4161a; }
  .forbidden { color: #a4161a; text-decoration: line-through; }
  ul { margin: 4px 0; }
  @media print {
    body { max-width: none; padding: 0; }
    h2 { break-before: page; }
    h2.first { break-before: avoid; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<header>
  <h1>{{ labels.handbook }}: {{ title }}</h1>
  <p>{{ description }}</p>
  <p class="meta">{{ labels.generated.format(name=name, version=version, date=date) }}</p>
</header>
<nav>
  <h2 class="first">{{ labels.contents }}</h2>
  <ol>
    <li><a href="#process">{{ labels.process }}</a></li>
    <li><a href="#stages">{{ labels.stages }}</a></li>
    <li><a href="#routing">{{ labels.routing }}</a></li>
    <li><a href="#complaints">{{ labels.complaints }}</a></li>
    <li><a href="#cadence">{{ labels.cadence }}</a></li>
    <li><a href="#hours">{{ labels.hours }}</a></li>
  </ol>
</nav>

<h2 id="process">{{ labels.process }}</h2>
{{ diagram }}

<h2 id="stages">{{ labels.stages }}</h2>
<p class="legend">{{ labels.legend }}</p>
{% for stage in stages %}
<section class="stage" id="stage-{{ stage.id }}">
  <h3>{{ stage.label }}</h3>
  {% if stage.sla %}
  <h4>{{ labels.sla }}</h4>
  <ul>
  {% for policy in stage.sla %}
    <li><strong>{{ policy.title }}</strong>: {{ policy.description }}
      <ul>{% for line in policy.targets %}<li class="sla">{{ line }}</li>{% endfor %}</ul></li>
  {% endfor %}
  </ul>
  {% endif %}
  {% if stage.macros %}
  <h4>{{ labels.macros }}</h4>
  {% for macro in stage.macros %}
  <div class="macro">
    <span class="name">{{ macro.title }}</span>
    {% if macro.phrase %}<span class="kind{{ '' if macro.public else ' internal' }}">{{ labels.public if macro.public else labels.internal }}</span>{% endif %}
    <div>{{ macro.description }}{% if macro.to_team %} → {{ macro.to_team }}{% endif %}</div>
    {% if macro.phrase %}<blockquote>{{ macro.phrase }}</blockquote>{% else %}<div class="meta">{{ labels.no_phrase }}</div>{% endif %}
  </div>
  {% endfor %}
  {% endif %}
  {% if stage.fields %}
  <h4>{{ labels.fields }}</h4>
  <ul>{% for f in stage.fields %}<li><strong>{{ f.title }}</strong>: {{ f.description }}</li>{% endfor %}</ul>
  {% endif %}
  {% if stage.rules %}
  <h4>{{ labels.rules }}</h4>
  <ul>{% for rule in stage.rules %}<li><strong>{{ rule.title }}</strong>: {{ rule.description }}</li>{% endfor %}</ul>
  {% endif %}
  {% if stage.views %}
  <h4>{{ labels.views }}</h4>
  <ul>{% for view in stage.views %}<li><strong>{{ view.title }}</strong>: {{ view.description }}</li>{% endfor %}</ul>
  {% endif %}
  {% if stage.representations %}
  <h4>{{ labels.representations }}</h4>
  <ul>{% for rep in stage.representations %}<li>{{ rep.requirement }}{% if rep.note %} <span class="meta">({{ rep.note }})</span>{% endif %}</li>{% endfor %}</ul>
  {% endif %}
</section>
{% endfor %}

<h2 id="routing">{{ labels.routing }}</h2>
<table>
  <tr><th>{{ labels.category }}</th><th>{{ labels.team }}</th><th>{{ labels.note }}</th></tr>
  {% for route in routes %}
  <tr><td class="{{ 'sub' if route.depth else '' }}">{{ route.name }}</td><td>{{ route.team }}</td><td>{{ route.description }}</td></tr>
  {% endfor %}
</table>
{% if escalations %}
<table>
  <tr><th>{{ labels.macro }}</th><th>{{ labels.to_team }}</th><th>{{ labels.note }}</th></tr>
  {% for e in escalations %}<tr><td>{{ e.macro }}</td><td>{{ e.team }}</td><td>{{ e.description }}</td></tr>{% endfor %}
</table>
{% endif %}

<h2 id="complaints">{{ labels.complaints }}</h2>
{% for rule in complaint_rules %}
<h3>{{ rule.item }}</h3>
{% if rule.requirements %}<ul>{% for r in rule.requirements %}<li>{{ r.requirement }}{% if r.note %} <span class="meta">({{ r.note }})</span>{% endif %}</li>{% endfor %}</ul>{% endif %}
{% if rule.elements %}<p>{{ rule.elements | join(" · ") }}</p>{% endif %}
{% endfor %}
<h3 id="forbidden">{{ labels.forbidden }}</h3>
<table class="forbidden-list">
  <tr><th>{{ labels.forbidden_phrase }}</th><th>{{ labels.instead }}</th></tr>
  {% for entry in forbidden %}
  <tr><td lang="{{ entry.locale }}">{% for p in entry.phrases %}<div class="forbidden">{{ p }}</div>{% endfor %}</td>
      <td lang="{{ entry.locale }}">{% for alt in entry.instead %}<blockquote>{{ alt }}</blockquote>{% endfor %}</td></tr>
  {% endfor %}
</table>
{% if caught_note %}<p>{{ labels.caught }}</p><blockquote>{{ caught_note }}</blockquote>{% endif %}

<h2 id="cadence">{{ labels.cadence }}</h2>
<table>
  <tr><th>{{ labels.tier }}</th><th>{{ labels.callback }}</th></tr>
  {% for tier in tiers %}<tr><td>{{ tier.name }}</td><td>{{ tier.cadence }}</td></tr>{% endfor %}
</table>
<p>{{ labels.run_at.format(time=run_at, tz=time_zone) }}</p>
<table class="jobs">
  <tr><th>{{ labels.job }}</th><th>{{ labels.when }}</th><th>{{ labels.owner }}</th><th>{{ labels.phrase }}</th></tr>
  {% for job in jobs %}<tr><td>{{ job.name }}</td><td>{{ job.when }}</td><td>{{ job.team }}</td><td><blockquote>{{ job.phrase }}</blockquote></td></tr>{% endfor %}
</table>

<h2 id="hours">{{ labels.hours }}</h2>
<p>{{ labels.time_zone }}: {{ time_zone }}</p>
<table>
  <tr><th>{{ labels.days }}</th><th>{{ labels.open }}</th></tr>
  {% for h in hours %}<tr><td>{{ h.days }}</td><td>{{ h.open }}</td></tr>{% endfor %}
</table>
{% if holidays %}
<table>
  <tr><th>{{ labels.holiday }}</th><th>{{ labels.from }}</th><th>{{ labels.to }}</th></tr>
  {% for h in holidays %}<tr><td>{{ h.name }}</td><td>{{ h.start }}</td><td>{{ h.end }}</td></tr>{% endfor %}
</table>
{% endif %}
{% if extra_workdays %}
<table>
  <tr><th>{{ labels.extra_workday }}</th><th></th></tr>
  {% for w in extra_workdays %}<tr><td>{{ w.date }}</td><td>{{ w.name }}</td></tr>{% endfor %}
</table>
{% endif %}
</body>
</html>
"""

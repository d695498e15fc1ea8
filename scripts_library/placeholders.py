"""What each abstract phrase variable becomes on each desk.

Templates speak in abstract variables (`customer_name`, `ticket_id`, ...). When a phrase is
installed into a desk as a macro or automation comment, each variable becomes that desk's own
placeholder, emitted literally so that the desk fills it in when an agent uses the text:

* Zendesk Support placeholders (Liquid), e.g. `{{ticket.requester.name}}`, `{{current_user.name}}`,
  `{{ticket.id}}`, `{{ticket.group.name}}`, `{{ticket.organization.name}}`,
  `{{ticket.organization.custom_fields.<field key>}}`, `{{ticket.url}}`
  (Zendesk help centre, "Zendesk Support placeholders reference").
* Jira Service Management automation smart values, e.g. `{{reporter.displayName}}`,
  `{{initiator.displayName}}`, `{{issue.key}}`, `{{issue.organizations.first.name}}`,
  `{{issue.url.customer}}` (Atlassian, "Jira smart values - users / issues / lists").

What a variable becomes, first match wins (`placeholder_for`):

1. the value a connector supplies for it (`extra`: a custom field's placeholder, or the name of
   the group the rule hands the request to, for `department`);
2. the desk's own placeholder (`DESK_PLACEHOLDERS`), which the desk fills per ticket;
3. the playbook's constants (`constants:` in the playbook: `company_name`, `department`, per
   locale), inserted as plain text;
4. otherwise a visible, localized fill-in marker such as `[ETA]` / `[预计完成时间]`.

A marker is right only where an agent sees the text and edits it before the customer does.
**Customer-visible without an edit** — a marker there would reach the customer as it stands —
are:

* every automatic rule's public text: Zendesk triggers and automations whose notification goes
  to the requester (the dynamic content item of that phrase, in every locale, and the subject),
  JSM event and scheduled rules whose comment is public;
* JSM manual rules (what macros become on JSM) whose comment is public: the agent runs the rule
  from the issue view and JSM posts the comment at once, with nobody editing it;
* text that sync jobs post publicly (none today: renewal, callback and follow-up tasks carry
  their phrase in an internal note an agent reads before calling, so markers may stay there).

Agent-edited, where a marker may stay for the agent to fill: Zendesk macros (Zendesk evaluates a
macro's placeholders when it is applied and puts the text in the agent's comment box, to be
edited before submit), internal notes and comments on either desk, and `deskbook render`
output. A dynamic content item that a macro and a customer-visible rule share is
customer-visible.

`customer_text_problem` is the one check of a customer-visible text (every desk's translation
calls it through `render.render_customer_text`, so `plan` fails before anything is written);
`unfilled_slots` finds markers in any text (also in what a sandbox holds after an install).
JSM manual rules could also prompt the agent for values ("user inputs"), but neither
`../shared/jsm/FACTS.md` §2 nor Atlassian's documentation gives the rule API's shape for them,
so deskbook does not use them: a value only the agent knows (an ETA) cannot be in a JSM rule's
public comment, and the playbook accepts that limit per rule (`extra.desk_limits.jsm`).

Everything here is pure data and pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from deskbook.errors import DeskbookError

#: Desks that have placeholders (the CLI's third mode, `values`, fills in real values instead).
DESKS = ("zendesk", "jsm")

#: Desk names in messages.
DESK_TITLES = {"zendesk": "Zendesk", "jsm": "JSM"}

#: Built-in placeholders per desk, by abstract variable name.
DESK_PLACEHOLDERS: dict[str, dict[str, str]] = {
    "zendesk": {
        "customer_name": "{{ticket.requester.name}}",
        "agent_name": "{{current_user.name}}",
        "company_name": "{{ticket.brand.name}}",
        "department": "{{ticket.group.name}}",
        "ticket_id": "{{ticket.id}}",
        "customer_company": "{{ticket.organization.name}}",
        # The playbook's organization field `contract_end_date` (Zendesk: organization field key).
        "contract_end_date": "{{ticket.organization.custom_fields.contract_end_date}}",
        # The customer's own page of the request, where they answer the three 1-5 questions. Not
        # `{{satisfaction.rating_url}}`: that is Zendesk's one-question CSAT link, which renders empty
        # when customer satisfaction is off and duplicates Zendesk's own CSAT email when it is on.
        "survey_link": "{{ticket.url}}",
    },
    "jsm": {
        "customer_name": "{{reporter.displayName}}",
        "agent_name": "{{initiator.displayName}}",
        "ticket_id": "{{issue.key}}",
        "customer_company": "{{issue.organizations.first.name}}",
        # The request's page in the customer portal, where the customer rates the service.
        "survey_link": "{{issue.url.customer}}",
    },
}

#: Labels of the fill-in markers, per variable and locale (`[label]` in the rendered text).
FILL_IN_LABELS: dict[str, dict[str, str]] = {
    "customer_name": {"en": "Customer name", "zh-CN": "客户姓名"},
    "agent_name": {"en": "Agent name", "zh-CN": "客服姓名"},
    "company_name": {"en": "Company name", "zh-CN": "公司名称"},
    "department": {"en": "Department", "zh-CN": "部门"},
    "ticket_id": {"en": "Request ID", "zh-CN": "服务单号"},
    "customer_company": {"en": "Customer company", "zh-CN": "客户公司"},
    "eta": {"en": "ETA", "zh-CN": "预计完成时间"},
    "expected_wait": {"en": "Expected wait", "zh-CN": "预计等待时间"},
    "callback_minutes": {"en": "Minutes", "zh-CN": "分钟数"},
    "need_summary": {"en": "Summary of the need", "zh-CN": "需求概述"},
    "plan_summary": {"en": "Plan", "zh-CN": "方案内容"},
    "change_reason": {"en": "Reason for the change", "zh-CN": "调整原因"},
    "next_step": {"en": "Current step", "zh-CN": "当前步骤"},
    "result_summary": {"en": "Result", "zh-CN": "处理结果"},
    "remedy_offer": {"en": "Remedy offer", "zh-CN": "补偿方案"},
    "contract_end_date": {"en": "Contract end date", "zh-CN": "合同到期日"},
    "renewal_offer": {"en": "Renewal offer", "zh-CN": "续约优惠"},
    "survey_link": {"en": "Survey link", "zh-CN": "问卷链接"},
}


def fill_in_marker(variable: str, locale: str) -> str:
    """The visible marker an agent replaces by hand, e.g. `[ETA]` or `[预计完成时间]`."""
    labels = FILL_IN_LABELS.get(variable, {})
    label = labels.get(locale) or labels.get("en") or variable
    return f"[{label}]"


def placeholder_for(
    desk: str,
    variable: str,
    locale: str,
    extra_placeholders: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
) -> str:
    """What `variable` becomes on `desk`: a connector-supplied value, the desk's own placeholder, the
    playbook's constant (`constants`: variable -> text in `locale`), or a fill-in marker."""
    if desk not in DESK_PLACEHOLDERS:
        raise DeskbookError(f"unknown desk {desk!r}", hint=f"use one of: {', '.join(DESKS)}")
    if extra_placeholders and variable in extra_placeholders:
        return extra_placeholders[variable]
    builtin = DESK_PLACEHOLDERS[desk].get(variable)
    if builtin is not None:
        return builtin
    if constants and variable in constants:
        return constants[variable]
    return fill_in_marker(variable, locale)


def placeholders_for(
    desk: str,
    variables: list[str] | tuple[str, ...],
    locale: str,
    extra_placeholders: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`placeholder_for` for each of `variables`, as the mapping a template is rendered with."""
    return {name: placeholder_for(desk, name, locale, extra_placeholders, constants) for name in variables}


_BRACKETED = re.compile(r"\[([^\[\]\n]{1,60})\]")
_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _marker_variables() -> dict[str, str]:
    """Every marker text (label in any locale) -> its variable."""
    return {label: variable for variable, labels in FILL_IN_LABELS.items() for label in labels.values()}


def unfilled_slots(text: str) -> list[tuple[str, str]]:
    """The fill-in markers in `text`, as (marker, variable) in order of appearance: a label of
    `FILL_IN_LABELS` in any locale (`[公司名称]`, `[Company name]`), or a bare variable name
    (`[order_number]`, the marker of a variable without a label)."""
    labels = _marker_variables()
    found = []
    for match in _BRACKETED.finditer(text):
        inner = match.group(1)
        if inner in labels:
            found.append((match.group(0), labels[inner]))
        elif _VARIABLE_NAME.fullmatch(inner):
            found.append((match.group(0), inner))
    return found


class CustomerTextError(DeskbookError):
    """A customer-visible text that still holds a fill-in slot (what `customer_text_problem` returns)."""


def customer_text_problem(text: str, *, where: str, phrase: str, locale: str, desk: str,
                          otherwise: str | None = None) -> CustomerTextError | None:
    """The error for a customer-visible `text` that still holds a fill-in slot (None when it holds
    none): names `where` (the rule or object), the phrase and each slot; the hint says which
    playbook constants fill them, or (`otherwise`, the desk's words) what to do about a value only
    an agent knows."""
    from deskbook.playbooks.model import CONSTANT_VARIABLES

    slots = unfilled_slots(text)
    if not slots:
        return None
    listed = ", ".join(f"{marker} ({variable})" for marker, variable in dict.fromkeys(slots))
    variables = list(dict.fromkeys(variable for _, variable in slots))
    constant = [v for v in variables if v in CONSTANT_VARIABLES]
    other = [v for v in variables if v not in CONSTANT_VARIABLES]
    hints = []
    if constant:
        hints.append("set " + " and ".join(f"constants.{v}" for v in constant) + " in the playbook, text per locale, "
                     "e.g. constants: {" + ", ".join(f"{v}: {{{locale}: ...}}" for v in constant) + "}")
    if other:
        hints.append(", ".join(other) + " only an agent knows: " + (
            otherwise or "keep the phrase in a macro an agent edits, or make the comment internal (public: false)"))
    return CustomerTextError(
        f"{where}: customer-visible text of phrase {phrase!r} ({locale}) still holds {listed}; "
        f"{DESK_TITLES.get(desk, desk)} sends it to the customer without an agent's edit",
        hint="; or ".join(hints))

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

A variable a desk has no built-in placeholder for (an ETA, a renewal offer) takes the
placeholder a connector supplies (for example a custom field's placeholder), and otherwise a
visible, localized fill-in marker such as `[ETA]` / `[预计完成时间]` that the agent replaces
before sending.

Everything here is pure data and pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping

from deskbook.errors import DeskbookError

#: Desks that have placeholders (the CLI's third mode, `values`, fills in real values instead).
DESKS = ("zendesk", "jsm")

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
) -> str:
    """What `variable` becomes on `desk`: a connector-supplied placeholder, the desk's own, or a marker."""
    if desk not in DESK_PLACEHOLDERS:
        raise DeskbookError(f"unknown desk {desk!r}", hint=f"use one of: {', '.join(DESKS)}")
    if extra_placeholders and variable in extra_placeholders:
        return extra_placeholders[variable]
    builtin = DESK_PLACEHOLDERS[desk].get(variable)
    return builtin if builtin is not None else fill_in_marker(variable, locale)


def placeholders_for(
    desk: str,
    variables: list[str] | tuple[str, ...],
    locale: str,
    extra_placeholders: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`placeholder_for` for each of `variables`, as the mapping a template is rendered with."""
    return {name: placeholder_for(desk, name, locale, extra_placeholders) for name in variables}

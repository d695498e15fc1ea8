"""Requests a typical install sends pass the official spec, and the sandbox's answers validate
against the spec's response schemas (../shared/zendesk/spec)."""

from __future__ import annotations

import requests

from deskbook.connectors.contract import zendesk_contract
from deskbook.connectors.zendesk.sandbox import running_sandbox

SCENARIO = [
    ("POST", "/api/v2/groups.json", {"group": {"name": "Sales"}}),
    ("POST", "/api/v2/ticket_fields.json", {"ticket_field": {"type": "tagger", "title": "Category",
                                                             "custom_field_options": [{"name": "Billing", "value": "cat_billing"}]}}),
    ("POST", "/api/v2/organization_fields.json", {"organization_field": {"type": "date", "key": "renewal", "title": "Renewal"}}),
    ("POST", "/api/v2/business_hours/schedules.json", {"schedule": {"name": "Office", "time_zone": "Beijing"}}),
    ("POST", "/api/v2/dynamic_content/items.json", {"item": {"name": "Hello", "default_locale_id": 1,
                                                             "variants": [{"locale_id": 1, "default": True, "content": "Hi"}]}}),
    ("POST", "/api/v2/trigger_categories.json", {"trigger_category": {"name": "Process", "position": 0}}),
    ("POST", "/api/v2/triggers.json", {"trigger": {"title": "Open new", "conditions": {"all": [
        {"field": "update_type", "operator": "is", "value": "Create"}]}, "actions": [{"field": "status", "value": "open"}]}}),
    ("POST", "/api/v2/macros.json", {"macro": {"title": "Stage::Greet", "actions": [{"field": "comment_value", "value": "{{dc.hello}}"}]}}),
    ("POST", "/api/v2/automations.json", {"automation": {"title": "Remind", "conditions": {"all": [
        {"field": "OPEN", "operator": "greater_than", "value": "24"}, {"field": "status", "operator": "is", "value": "open"},
        {"field": "current_tags", "operator": "not_includes", "value": "reminded"}]},
        "actions": [{"field": "current_tags", "value": "reminded"}]}}),
    ("POST", "/api/v2/slas/policies.json", {"sla_policy": {"title": "Urgent", "filter": {"all": [
        {"field": "priority", "operator": "is", "value": "urgent"}], "any": []},
        "policy_metrics": [{"priority": "urgent", "metric": "first_reply_time", "target": 30, "business_hours": False}]}}),
    ("POST", "/api/v2/views.json", {"view": {"title": "Urgent", "all": [{"field": "status", "operator": "less_than", "value": "solved"}]}}),
    ("POST", "/api/v2/organizations.json", {"organization": {"name": "Acme", "organization_fields": {"renewal": "2026-06-30"}}}),
    ("POST", "/api/v2/users.json", {"user": {"name": "Li", "email": "li@example.com"}}),
    ("POST", "/api/v2/tickets.json", {"ticket": {"subject": "Callback", "comment": {"body": "Call back"}, "external_id": "x-1"}}),
    ("GET", "/api/v2/groups.json?page[size]=100", None),
    ("GET", "/api/v2/ticket_fields.json", None),
    ("GET", "/api/v2/organization_fields.json?page[size]=100", None),
    ("GET", "/api/v2/business_hours/schedules.json", None),
    ("GET", "/api/v2/dynamic_content/items.json?page[size]=100", None),
    ("GET", "/api/v2/trigger_categories.json?page[size]=100", None),
    ("GET", "/api/v2/triggers.json?page[size]=100", None),
    ("GET", "/api/v2/macros.json?page[size]=100", None),
    ("GET", "/api/v2/automations.json?page[size]=100", None),
    ("GET", "/api/v2/slas/policies.json", None),
    ("GET", "/api/v2/views.json?page[size]=100", None),
    ("GET", "/api/v2/organizations.json?page[size]=100", None),
    ("GET", "/api/v2/tickets.json?external_id=x-1", None),
    ("GET", "/api/v2/users/me.json", None),
    ("GET", "/api/v2/search.json?query=type:organization renewal<2027-01-01", None),
    ("GET", "/api/v2/incremental/organizations.json?start_time=0", None),
    ("GET", "/api/v2/incremental/tickets/cursor.json?start_time=0", None),
    ("POST", "/api/v2/organizations/create_many.json", {"organizations": [{"name": "Bulk 1"}, {"name": "Bulk 2"}]}),
]


def test_scenario_requests_and_responses_follow_the_spec(shared):
    contract = zendesk_contract(shared)
    problems: list[str] = []
    with running_sandbox(request_checker=contract) as desk, requests.Session() as session:
        session.auth = desk.auth
        for method, path, body in SCENARIO:
            response = session.request(method, desk.url + path, json=body)
            assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text[:300]}"
            problems += contract.check_response(method, path.split("?")[0], response.status_code, response.json())
        assert desk.violations() == []
    assert problems == []

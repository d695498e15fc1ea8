"""What the JSM scenarios found in the translation of rules (each red before its fix):

* a Zendesk trigger without `via_update` also runs on new tickets; a Jira "Issue updated" rule does
  not fire for a new issue, so routing by category and the complaint rule never ran on a new
  request (scenarios `routing` and `complaint` on JSM, step 1);
* Jira's `NOT IN` / `!=` never match an empty field, so `labels not in ("x")` left out every
  request without labels (`tags not_includes`, `group is_not`);
* a group, category or choice field holds one value: setting it by label removed none of the
  others, so a request could be in two groups at once;
* event rules must let the manual rules (macros) trigger them, as Zendesk triggers run after a
  macro's update (`canOtherRuleTrigger`)."""

from __future__ import annotations

from pathlib import Path

from deskbook.connectors.jsm import automation as au
from deskbook.connectors.jsm import translate as tr
from deskbook.playbooks import model as m
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library


def _rules(playbook):
    return {o.key: o.payload for o in tr.desired_objects(playbook, load_library(), project_ari="ari:cloud:jira:c:project/1")
            if o.kind == "automation_rule"}


def test_a_trigger_without_via_update_runs_on_created_and_on_updated():
    rules = _rules(load_playbook())
    assert rules["trigger.route_complaint"]["trigger"]["type"] == "jira.issue.event.trigger:updated"
    assert rules["trigger.route_complaint.created"]["trigger"]["type"] == "jira.issue.event.trigger:created"
    assert rules["trigger.route_complaint.created"]["components"] == rules["trigger.route_complaint"]["components"]
    assert rules["trigger.route_fault"]["trigger"]["type"] == "jira.issue.event.trigger:created"  # via_update created
    assert "trigger.route_fault.created" not in rules
    assert all(rules[k]["canOtherRuleTrigger"] for k in rules if k.startswith("trigger."))
    assert not any(rules[k]["canOtherRuleTrigger"] for k in rules if k.startswith("macro."))


def test_negated_label_conditions_also_hold_for_a_request_without_labels():
    playbook = load_playbook()
    lacks = m.Condition(field="tags", operator="not_includes", value=["deskbook_complaint"])
    assert tr.condition_jql(playbook, lacks) == '(labels is EMPTY OR labels not in ("deskbook_complaint"))'
    not_sales = m.Condition(field="group", operator="is_not", value="sales")
    assert tr.condition_jql(playbook, not_sales) == '(labels is EMPTY OR labels not in ("group-sales"))'


def test_setting_a_group_or_a_choice_field_removes_the_other_values_labels():
    playbook = load_playbook()
    [edit] = tr.action_components(playbook, (m.Action(field="group", value="supervisors"),
                                             m.Action(field="field.request_stage", value="stage_in_progress")))
    ops = {op["type"]: [v["value"] for v in op["value"]] for op in edit["value"]["operations"]}
    assert ops["ADD"] == ["group-supervisors", "request_stage-stage_in_progress"]
    assert "group-sales" in ops["REMOVE"] and "group-supervisors" not in ops["REMOVE"]
    assert "request_stage-stage_recorded" in ops["REMOVE"] and "request_stage-stage_in_progress" not in ops["REMOVE"]
    assert [op["type"] for op in edit["value"]["operations"]] == ["REMOVE", "ADD"]


def test_a_request_a_rule_re_classified_is_in_its_new_category_not_its_request_types():
    """Red before the fix: scenario routing on JSM, step 2 (not in the upgrade_requests queue)."""
    from deskbook.connectors.jsm.sandbox.jql import compile_jql

    playbook = load_playbook()
    names = tr.category_names(playbook)
    issue = {"key": "SUP-1", "id": "1", "projectKey": "SUP", "projectId": "1", "properties": {}, "labels": [],
             "requestTypeName": names["policy_question"]}

    def category_is(key, negate=False):
        return compile_jql(tr.condition_jql(playbook, m.Condition(field="category", operator="is_not" if negate else "is",
                                                                    value=key)))(issue)

    assert category_is("policy_question") and not category_is("upgrade") and category_is("upgrade", negate=True)
    issue["labels"] = ["group-sales", tr.category_label("upgrade")]
    assert category_is("upgrade") and not category_is("policy_question")
    assert category_is("policy_question", negate=True) and not category_is("upgrade", negate=True)


def test_a_macro_assigning_the_running_agent_is_refused_on_jsm_unless_the_playbook_accepts_it(tmp_path):
    """The assignee action was silently dropped from JSM rules (issue #11: never drop an action)."""
    import pytest

    from deskbook.errors import DeskbookError

    text = (Path(__file__).resolve().parents[1] / "playbooks" / "standard-service.yaml").read_text(encoding="utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("      macro.greeting:\n", "      macro.greeting_x:\n"), encoding="utf-8")
    with pytest.raises(DeskbookError) as caught:
        tr.check_desk_limits(load_playbook(str(path)))
    assert "macro.greeting" in str(caught.value) and "assignee current_user" in str(caught.value)
    skipped, notes = tr.check_desk_limits(load_playbook())
    assert "macro.greeting" not in skipped  # installed, without the assignment
    assert any(n.startswith("macro.greeting on JSM (installed without action `assignee current_user`") for n in notes)


def test_a_trigger_on_a_public_agent_reply_is_a_comment_rule_comparing_the_author_with_the_reporter():
    """progress_update_given was skipped on JSM ("JQL cannot tell a public agent reply from a customer's
    comment"): the scenario progress-update-by-hand failed at step 4 once the playbook no longer accepted
    the skip. On "Issue commented" the smart values tell both apart."""
    playbook = load_playbook()
    tr.check_desk_limits(playbook)  # no longer needs the playbook's acceptance
    rules = _rules(playbook)
    rule = rules["trigger.progress_update_given"]
    assert "trigger.progress_update_given.created" not in rules
    assert rule["trigger"]["type"] == "jira.issue.event.trigger:commented"
    conditions = [c for c in rule["components"] if c["component"] == "CONDITION"]
    assert conditions[0]["type"] == "jira.jql.condition" and 'labels in ("deskbook_update_due")' in conditions[0]["value"]
    assert [c["value"] for c in conditions[1:]] == [
        {"first": "{{comment.internal}}", "second": "false", "operator": "EQUALS"},
        {"first": "{{comment.author.accountId}}", "second": "{{issue.reporter.accountId}}", "operator": "NOT_EQUALS"}]


def test_who_made_an_update_outside_a_comment_rule_is_the_initiator_and_a_customer_is_the_reporter():
    playbook = load_playbook()
    by_customer = m.Conditions(all=(m.Condition(field="updated_by", operator="is", value="end_user"),))
    [node] = tr.comparator_conditions(by_customer)
    assert node["value"] == {"first": "{{initiator.accountId}}", "second": "{{issue.reporter.accountId}}",
                             "operator": "EQUALS"}
    not_agent = m.Conditions(all=(m.Condition(field="comment_is_public", operator="is", value=False),
                                  m.Condition(field="updated_by", operator="is_not", value="agent")))
    assert [n["value"] for n in tr.comparator_conditions(not_agent)] == [
        {"first": "{{comment.internal}}", "second": "true", "operator": "EQUALS"},
        {"first": "{{comment.author.accountId}}", "second": "{{issue.reporter.accountId}}", "operator": "EQUALS"}]
    # a new request's description is not a comment on JSM: that combination stays refused
    on_create = m.Conditions(all=(m.Condition(field="via_update", operator="is", value="created"),
                                  m.Condition(field="comment_is_public", operator="is", value=True)))
    assert tr.unsupported_conditions(playbook, on_create, trigger=True) == ["comment_is_public is True"]


def test_a_customer_reply_rule_reopens_a_request_waiting_for_the_customer_or_resolved():
    """Red before the fix: robot-vacuum step 7 and complaint step 7 on JSM (status pending after the
    customer's reply; Zendesk opens the ticket again)."""
    rule = _rules(load_playbook())[tr.CUSTOMER_REPLY_KEY]
    assert rule["trigger"]["type"] == "jira.issue.event.trigger:commented" and rule["canOtherRuleTrigger"] is False
    kinds = [(c["type"], c["value"]) for c in rule["components"]]
    assert kinds == [
        ("jira.comparator.condition", {"first": "{{comment.author.accountId}}", "second": "{{issue.reporter.accountId}}",
                                       "operator": "EQUALS"}),
        ("jira.jql.condition", 'project = SUP AND status in ("Waiting for customer", "Resolved")'),
        ("jira.issue.transition", au.transition_action("Work in progress")["value"])]


def test_a_status_action_is_guarded_so_a_request_already_there_does_not_fail_the_rule():
    """Red before the guard: with customer replies reopening requests, owner_acknowledge (status open)
    ran on a request in Work in progress, its transition had nowhere to go and the rule stopped before
    its labels (robot-vacuum step 8)."""
    [block, _edit] = tr.action_components(load_playbook(), (m.Action(field="status", value="open"),
                                                            m.Action(field="add_tags", value=["x"])))
    assert block["type"] == "jira.condition.container.block"
    [branch] = block["children"]
    assert branch["type"] == "jira.condition.if.block" and branch["value"] == {"conditionMatchType": "ALL"}
    assert [c["value"] for c in branch["conditions"]] == ['status != "Work in progress"']
    assert [a["type"] for a in branch["children"]] == ["jira.issue.transition"]


def _playbook_with(tmp_path, *replacements: tuple[str, str]):
    text = (Path(__file__).resolve().parents[1] / "playbooks" / "standard-service.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return load_playbook(str(path))


SET_URGENT = ("      - {field: add_tags, value: [deskbook_urgent]}\n", "      - {field: set_tags, value: [deskbook_urgent]}\n")
ACCEPT_URGENT = ("  desk_limits:\n    jsm:\n", "  desk_limits:\n    jsm:\n      trigger.urgent_starts_at_once:\n"
                 "        effect: without\n        note: \"the urgent tag is added; the other tags stay\"\n")


def test_set_tags_is_refused_on_jsm_unless_the_playbook_accepts_that_the_tags_are_added(tmp_path):
    """`set_tags` (replace every tag) went in as a labels ADD: the old tags stayed, without a word. A
    labels SET would also drop the group-, category- and field labels that hold the request's group,
    category and choice fields, so JSM cannot replace the tags alone: a desk limit."""
    import pytest

    from deskbook.errors import DeskbookError

    with pytest.raises(DeskbookError) as caught:
        tr.desired_objects(_playbook_with(tmp_path, SET_URGENT), load_library(), project_ari="ari:cloud:jira:c:project/1")
    assert "trigger.urgent_starts_at_once" in str(caught.value) and "set_tags" in str(caught.value)
    accepted = _playbook_with(tmp_path, SET_URGENT, ACCEPT_URGENT)
    _, notes = tr.check_desk_limits(accepted)
    assert any(n.startswith("trigger.urgent_starts_at_once on JSM (installed without action `set_tags")
               and "the other tags stay" in n for n in notes)
    [edit] = [c for c in _rules(accepted)["trigger.urgent_starts_at_once"]["components"] if c["type"] == "jira.issue.edit"]
    assert [(op["type"], [v["value"] for v in op["value"]]) for op in edit["value"]["operations"]] == [
        ("ADD", ["deskbook_urgent"])]


def test_the_guardrails_group_email_is_refused_on_jsm_unless_the_playbook_accepts_it(tmp_path):
    """The C-1 rules' email to the notify group (Zendesk's `notification_group`) was left out on JSM
    with a fixed note whatever the playbook said; now it is a desk limit like any other."""
    import pytest

    from deskbook.errors import DeskbookError

    with pytest.raises(DeskbookError) as caught:
        tr.check_desk_limits(_playbook_with(tmp_path, ("      guardrail:\n", "      guardrail_x:\n")))
    assert "guardrail cannot be installed on JSM" in str(caught.value)
    assert "notify_group supervisors" in str(caught.value)
    skipped, notes = tr.check_desk_limits(load_playbook())
    assert tr.GUARDRAIL_KEY not in skipped
    assert any(n.startswith("guardrail on JSM (installed without action `notify_group supervisors`")
               and "labels = deskbook_forbidden_phrase" in n for n in notes)
    assert any(k.startswith("guardrail.") for k in _rules(load_playbook()))
    skipping = _playbook_with(tmp_path, ("      guardrail:\n        effect: without\n",
                                         "      guardrail:\n        effect: skip\n"))
    assert not any(k.startswith("guardrail.") for k in _rules(skipping))

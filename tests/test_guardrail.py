"""C-1 at work: the playbook's forbidden phrases govern agents' public replies (playbooks/guardrail.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from deskbook.cli import main
from deskbook.errors import ValidationError
from deskbook.playbooks.guardrail import CAUGHT_TAG, guard_rules, note_text
from deskbook.playbooks.loader import load_playbook
from deskbook.scripts_library import load_library

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "playbooks" / "scenarios" / "standard-service" / "forbidden-phrases.yaml"


@pytest.fixture(scope="module")
def shipped():
    return load_playbook()


def test_the_scenario_catches_every_listed_phrase_and_neither_a_clean_reply_nor_a_note(capsys, shipped):
    steps = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))["steps"]
    caught = {note["phrase"]: step["agent_replies"] for step in steps if "agent_replies" in step
              for note in (step.get("expect") or {}).get("notes") or []}
    listed = {p for phrases in shipped.forbidden_phrases.values() for p in phrases}
    assert set(caught) == listed  # every forbidden phrase of the playbook has its catch in the story
    assert all(phrase.lower() in reply.lower() for phrase, reply in caught.items())
    spared = [s for s in steps if (s.get("expect") or {}).get("notes_count") == 0]
    assert {next(k for k in s if k not in ("say", "expect")) for s in spared} == \
        {"agent_replies", "agent_notes", "customer_replies"}
    for desk in ("zendesk", "jsm"):
        assert main(["test", "--desk", desk, "--scenario", "forbidden-phrases", "--json"]) == 0, desk
        [result] = json.loads(capsys.readouterr().out)["scenarios"]
        assert result["status"] == "passed" and result["implements"] == ["C-1"], desk
        assert len(result["steps"]) == len(steps)


def test_each_phrase_has_a_zendesk_trigger_with_the_tag_constant_the_note_and_the_supervisors(shipped):
    from deskbook.connectors.zendesk.translate import desired_objects, guardrail_notes

    library = load_library()
    rules = guard_rules(shipped)
    assert len(rules) == sum(len(p) for p in shipped.forbidden_phrases.values())
    triggers = {d.key: d.payload for d in desired_objects(shipped, library) if d.kind == "trigger"}
    for rule in rules:
        payload = triggers[rule.key]
        assert {"field": "comment_includes_word", "operator": "is", "value": rule.phrase} in payload["conditions"]["all"]
        assert {"field": "comment_is_public", "operator": "is", "value": "true"} in payload["conditions"]["all"]
        assert {"field": "role", "operator": "is", "value": "agent"} in payload["conditions"]["all"]
        assert {"field": "current_tags", "value": CAUGHT_TAG} in payload["actions"]
        notes = {a["field"]: a["value"] for a in payload["actions"] if a["field"].startswith("notification_")}
        assert notes["notification_group"][0] == "{ref:group:supervisors:text}"
        note = note_text(library, shipped, rule, "zendesk")
        assert notes["notification_user"][2] == notes["notification_group"][2] == note
        assert rule.phrase in note
    # the approved alternative's text is in the note, in the phrase's language
    zh = next(r for r in rules if r.phrase == "您可能误会了")
    assert "为了确保我没有理解偏差" in note_text(library, shipped, zh, "zendesk")
    assert any("cannot add a comment" in n for n in guardrail_notes(shipped))


def test_each_phrase_has_a_jsm_comment_rule_for_public_agent_replies_with_the_label_and_the_internal_note(shipped):
    from deskbook.connectors.jsm.translate import check_desk_limits, desired_objects

    library = load_library()
    rules = {d.key: d.payload for d in desired_objects(shipped, library, project_ari="ari:cloud:jira:c:project/1")
             if d.kind == "automation_rule"}
    for rule in guard_rules(shipped):
        payload = rules[f"guardrail.{rule.key}"]
        assert payload["trigger"]["type"] == "jira.issue.event.trigger:commented"
        assert payload["trigger"]["value"] == {"eventFilters": ["ari:cloud:jira:c:project/1"], "eventTypes": []}
        assert payload["canOtherRuleTrigger"] is False  # the rule's own internal note is never re-checked
        conditions = [c["value"] for c in payload["components"] if c["component"] == "CONDITION"]
        assert conditions == [
            {"first": "{{comment.internal}}", "second": "false", "operator": "EQUALS"},
            {"first": "{{comment.author.accountId}}", "second": "{{issue.reporter.accountId}}",
             "operator": "NOT_EQUALS"},
            {"first": "{{comment.body.toLowerCase()}}", "second": rule.phrase.lower(), "operator": "CONTAINS"}]
        actions = [(c["type"], c["value"]) for c in payload["components"] if c["component"] == "ACTION"]
        assert actions[0] == ("jira.issue.edit", {"operations": [
            {"field": {"type": "ID", "value": "labels"}, "fieldType": "labels", "type": "ADD",
             "value": [{"type": "FREE", "value": CAUGHT_TAG}]}], "advancedFields": None, "sendNotifications": False})
        assert actions[1][0] == "jira.issue.comment"
        assert actions[1][1]["comment"] == note_text(library, shipped, rule, "jsm")
        assert actions[1][1]["publicComment"] is False and rule.phrase in actions[1][1]["comment"]
    assert any(n.startswith("guardrail on JSM") and "supervisors" in n and CAUGHT_TAG in n
               for n in check_desk_limits(shipped)[1])


def test_a_forbidden_phrase_without_an_approved_alternative_is_refused_at_its_line(tmp_path):
    text = (ROOT / "playbooks" / "standard-service.yaml").read_text(encoding="utf-8")
    text = text.replace('    - "这是您自己的问题"\n', '    - "这是您自己的问题"\n    - "与我无关"\n', 1)
    text = text.replace('      "that\'s not our problem": escalation_notice\n',
                        '      "that\'s not our problem": escalation_notice\n      "not forbidden": confirm_need\n', 1)
    path = tmp_path / "standard-service.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_playbook(path)
    problems = "\n".join(caught.value.problems)
    assert "forbidden phrase '与我无关' (zh-CN) has no approved alternative" in problems
    assert "'not forbidden' is not a forbidden phrase of en" in problems
    line = next(n for n, t in enumerate(text.splitlines(), start=1) if '"not forbidden"' in t)
    assert f"standard-service.yaml:{line}:" in problems

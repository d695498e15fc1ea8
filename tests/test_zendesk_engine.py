"""The Zendesk sandbox's rule engine on Zendesk's documented semantics (engine.py, business_hours.py)."""

from __future__ import annotations

from datetime import datetime

from deskbook.connectors.zendesk.sandbox import engine
from deskbook.connectors.zendesk.sandbox.business_hours import add_business_minutes, business_seconds
from deskbook.connectors.zendesk.sandbox.rules import RecordInvalid, check_automation

import pytest


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def ticket(**fields) -> dict:
    base = {"id": 1, "status": "open", "priority": "normal", "tags": [], "custom_fields": [], "group_id": None,
            "assignee_id": None, "via": {"channel": "web"}, "_created_ts": ts("2026-03-02T09:00:00+08:00")}
    base.update(fields)
    return base


def trigger(tid, conditions, actions, category=1, position=1, title=None):
    return {"id": tid, "title": title or f"t{tid}", "category_id": category, "position": position, "active": True,
            "conditions": {"all": conditions, "any": []}, "actions": actions}


def tag_is(tag, op="includes"):
    return {"field": "current_tags", "operator": op, "value": tag}


def run(t, triggers, categories=({"id": 1, "position": 0},), previous=None):
    effects = engine.Effects()
    ordered = engine.trigger_order(triggers, list(categories))
    engine.run_triggers(t, engine.Update(previous if previous is not None else dict(t)), ordered, fields={},
                        effects=effects)
    return effects.fired


def test_trigger_cycle_restarts_after_a_firing_trigger_and_fires_each_trigger_once():
    # t1 (first) needs tag b, which only t2 (later) adds: the cycle must start again after t2 fires
    t1 = trigger(1, [tag_is("b")], [{"field": "current_tags", "value": "c"}], position=1)
    t2 = trigger(2, [tag_is("a")], [{"field": "current_tags", "value": "b"}], position=2)
    t = ticket(tags=["a"])
    fired = run(t, [t1, t2])
    assert fired == ["trigger:t2", "trigger:t1"]
    assert set(t["tags"]) == {"a", "b", "c"}
    # a trigger whose conditions stay true still fires only once per update
    always = trigger(3, [{"field": "status", "operator": "is", "value": "open"}], [{"field": "current_tags", "value": "x"}])
    assert run(ticket(), [always]) == ["trigger:t3"]


def test_triggers_fire_by_category_position_then_position():
    first = trigger(1, [{"field": "status", "operator": "is", "value": "open"}], [{"field": "priority", "value": "high"}],
                    category=2, position=1)
    second = trigger(2, [{"field": "status", "operator": "is", "value": "open"}], [{"field": "priority", "value": "low"}],
                     category=1, position=5)
    t = ticket()
    run(t, [first, second], categories=({"id": 1, "position": 0}, {"id": 2, "position": 1}))
    assert t["priority"] == "high"  # category 1's trigger ran first, category 2's last


def test_changed_and_value_previous_compare_with_the_ticket_before_the_update():
    before = ticket(priority="normal")
    after = ticket(priority="urgent")
    update = engine.Update(before)
    assert engine.condition_holds({"field": "priority", "operator": "changed"}, after, update)
    assert engine.condition_holds({"field": "priority", "operator": "value", "value": "urgent"}, after, update)
    assert engine.condition_holds({"field": "priority", "operator": "value_previous", "value": "normal"}, after, update)
    assert not engine.condition_holds({"field": "priority", "operator": "not_changed"}, after, update)
    assert engine.condition_holds({"field": "status", "operator": "not_changed"}, after, update)


def test_first_matching_sla_policy_by_position_applies_only():
    broad = {"id": 1, "position": 1, "filter": {"all": [{"field": "status", "operator": "less_than", "value": "solved"}],
                                                "any": []}, "policy_metrics": []}
    narrow = {"id": 2, "position": 2, "filter": {"all": [tag_is("escalated")], "any": []}, "policy_metrics": []}
    t = ticket(tags=["escalated"])
    assert engine.select_policy([narrow, broad], t)["id"] == 1  # the broad one stands first: it shadows
    narrow["position"] = 0
    assert engine.select_policy([narrow, broad], t)["id"] == 2


def test_automation_without_nullifying_action_is_refused_and_time_conditions_count_whole_hours():
    conditions = {"all": [{"field": "status", "operator": "is", "value": "open"},
                          {"field": "NEW", "operator": "greater_than", "value": "24"}], "any": []}
    with pytest.raises(RecordInvalid):
        check_automation(conditions, [{"field": "priority", "value": "high"}])
    check_automation({"all": conditions["all"] + [tag_is("due", "not_includes")], "any": []},
                     [{"field": "current_tags", "value": "due"}])
    t = ticket()
    at = t["_created_ts"] + 24.9 * 3600
    assert not engine.condition_holds(conditions["all"][1], t, now=at)  # 24 whole hours: not > 24
    assert engine.condition_holds(conditions["all"][1], t, now=t["_created_ts"] + 25 * 3600)


SCHEDULE = {"time_zone": "Beijing",
            "intervals": [{"start_time": d * 1440 + 540, "end_time": d * 1440 + 1080} for d in range(1, 6)],
            "_holidays": [{"start_date": "2026-04-04", "end_date": "2026-04-06"}]}


def test_business_hours_breach_skips_nights_weekends_and_holidays():
    # Friday 3 April 2026, 17:00 Beijing: one business hour left that day; Sat-Sun closed, Mon 6
    # April is Qingming (holiday): a 3-hour target breaches Tuesday 7 April at 11:00
    start = ts("2026-04-03T17:00:00+08:00")
    assert add_business_minutes(SCHEDULE, start, 180) == ts("2026-04-07T11:00:00+08:00")
    assert business_seconds(SCHEDULE, start, ts("2026-04-07T11:00:00+08:00")) == 3 * 3600
    # calendar-hours targets ignore the schedule
    assert engine.breach_time(start, 180, False, SCHEDULE) == start + 3 * 3600


def test_views_list_matching_tickets_in_their_order():
    view = {"conditions": {"all": [{"field": "status", "operator": "less_than", "value": "solved"}],
                           "any": [{"field": "priority", "operator": "is", "value": "urgent"}, tag_is("esc")]},
            "output": {"sort_by": "created", "sort_order": "asc"}}
    tickets = [ticket(id=1, priority="urgent", _created_ts=3.0), ticket(id=2, tags=["esc"], _created_ts=1.0),
               ticket(id=3), ticket(id=4, priority="urgent", status="solved")]
    assert [t["id"] for t in engine.view_tickets(view, tickets, now=10.0, schedule=None)] == [2, 1]


def test_sandbox_shows_a_business_hours_breach_across_a_holiday_and_runs_automations_as_time_passes():
    """Through the API: an SLA policy with a business-hours target on the installed schedule; the
    ticket's `?include=slas` breach time skips the Qingming weekend; `POST /sandbox/clock` runs an
    automation on the hour after its time condition holds."""
    import requests

    from deskbook.connectors.zendesk.sandbox import FakeClock, running_sandbox

    with running_sandbox(clock=FakeClock(ts("2026-04-03T17:00:00+08:00")), export_lag_seconds=0) as desk:
        api = desk.url + "/api/v2"
        schedule = requests.post(f"{api}/business_hours/schedules.json", auth=desk.auth, json={"schedule": {
            "name": "Office", "time_zone": "Beijing", "intervals": SCHEDULE["intervals"]}}).json()["schedule"]
        requests.post(f"{api}/business_hours/schedules/{schedule['id']}/holidays.json", auth=desk.auth, json={
            "holiday": {"name": "Qingming", "start_date": "2026-04-04", "end_date": "2026-04-06"}}).raise_for_status()
        requests.post(f"{api}/slas/policies.json", auth=desk.auth, json={"sla_policy": {
            "title": "Office hours", "filter": {"all": [{"field": "status", "operator": "less_than", "value": "solved"}],
                                                "any": []},
            "policy_metrics": [{"priority": "normal", "metric": "first_reply_time", "target": 180,
                                "business_hours": True}]}}).raise_for_status()
        requests.post(f"{api}/automations.json", auth=desk.auth, json={"automation": {
            "title": "Nudge", "conditions": {"all": [
                {"field": "status", "operator": "is", "value": "new"},
                {"field": "NEW", "operator": "greater_than", "value": "2"},
                {"field": "current_tags", "operator": "not_includes", "value": "nudged"}], "any": []},
            "actions": [{"field": "current_tags", "value": "nudged"}]}}).raise_for_status()
        created = requests.post(f"{api}/tickets.json", auth=desk.auth, json={"ticket": {
            "subject": "Vacuum", "comment": {"body": "It will not charge"}, "priority": "normal"}}).json()["ticket"]
        shown = requests.get(f"{api}/tickets/{created['id']}.json", params={"include": "slas"}, auth=desk.auth).json()
        [target] = shown["ticket"]["slas"]["policy_metrics"]
        assert target["metric"] == "first_reply_time" and target["breach_at"] == "2026-04-07T03:00:00Z"  # 11:00 Beijing
        moved = requests.post(desk.url + "/sandbox/clock", auth=desk.auth, json={"advance_seconds": 2 * 3600}).json()
        assert moved["automation_actions"] == 0  # 2 whole hours is not more than 2
        moved = requests.post(desk.url + "/sandbox/clock", auth=desk.auth, json={"advance_seconds": 3600}).json()
        assert moved["automation_actions"] == 1
        tags = requests.get(f"{api}/tickets/{created['id']}.json", auth=desk.auth).json()["ticket"]["tags"]
        assert "nudged" in tags


def comment_update(body, public=True, role="agent"):
    return engine.Update(ticket(), comment={"body": body, "public": public}, actor_role=role)


def test_comment_text_contains_string_is_a_case_insensitive_substring_also_in_chinese_without_spaces():
    # "Comment text: Contains the following string" (operator is / is_not): the whole string, any case,
    # anywhere in the comment; Chinese has no spaces between words, so a phrase inside a sentence matches
    cond = {"field": "comment_includes_word", "operator": "is", "value": "not our responsibility"}
    assert engine.condition_holds(cond, ticket(), comment_update("Sorry, but this is NOT our responsibility."))
    # the words apart are not the string (the old reading caught "cannot ... our" here)
    assert not engine.condition_holds(cond, ticket(), comment_update("We cannot wait to fix our charger."))
    zh = {"field": "comment_includes_word", "operator": "is", "value": "这不是我们的责任"}
    assert engine.condition_holds(zh, ticket(), comment_update("您好，这不是我们的责任，请联系快递。"))
    assert not engine.condition_holds(zh, ticket(), comment_update("您好，这是我们的责任，我们马上处理。"))
    negated = dict(cond, operator="is_not")
    assert engine.condition_holds(negated, ticket(), comment_update("We will fix it today."))
    # no comment in the update: the text condition does not hold
    assert not engine.condition_holds(cond, ticket(), engine.Update(ticket()))


def test_comment_text_contains_words_matches_whole_words_and_chinese_words_as_substrings():
    # "Contains at least one of the following words" (includes / not_includes): space-separated words,
    # each a whole word in a Latin-script comment; a word in a script without spaces (Chinese) is
    # looked for as a substring
    cond = {"field": "comment_includes_word", "operator": "includes", "value": "refund Refund 退款"}
    assert engine.condition_holds(cond, ticket(), comment_update("I want a REFUND."))
    assert not engine.condition_holds(cond, ticket(), comment_update("The refunds desk called."))
    assert engine.condition_holds(cond, ticket(), comment_update("我要求退款。"))
    none_of = dict(cond, operator="not_includes")
    assert engine.condition_holds(none_of, ticket(), comment_update("Thanks, all good."))


def test_set_tags_clears_a_dropdown_and_a_checkbox_whose_tag_goes():
    """Zendesk keeps a dropdown's value and its option's tag together: a `set_tags` (or `remove_tags`)
    that drops the tag clears the field, and a checkbox whose tag goes is unchecked."""
    fields = {7: {"id": 7, "type": "tagger", "custom_field_options": [{"value": "tier_key"}, {"value": "tier_new"}]},
              8: {"id": 8, "type": "checkbox", "tag": "vip"},
              9: {"id": 9, "type": "text"}}
    t = ticket()
    engine.set_custom(t, 7, "tier_key", fields)
    engine.set_custom(t, 8, True, fields)
    engine.set_custom(t, 9, "free text", fields)
    assert set(t["tags"]) >= {"tier_key", "vip"}
    effects = engine.Effects()
    engine.apply_actions(t, [{"field": "set_tags", "value": "vip other"}], fields=fields, effects=effects, rule="r")
    assert engine.custom_value(t, 7) is None and t["tags"] == ["other", "vip"]
    assert engine.custom_value(t, 8) is True and engine.custom_value(t, 9) == "free text"
    engine.apply_actions(t, [{"field": "remove_tags", "value": "vip"}], fields=fields, effects=effects, rule="r")
    assert engine.custom_value(t, 8) is False and t["tags"] == ["other"]
    engine.set_custom(t, 7, "tier_new", fields)
    engine.apply_actions(t, [{"field": "set_tags", "value": "tier_new"}], fields=fields, effects=effects, rule="r")
    assert engine.custom_value(t, 7) == "tier_new"  # its tag stays: so does the value

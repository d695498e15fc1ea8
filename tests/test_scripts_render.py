"""Rendering phrases: desk placeholders and real values (never evaluated as templates)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from deskbook.errors import DeskbookError
from deskbook.scripts_library import LOCALES, load_library, render_for_desk, render_values
from deskbook.scripts_library.placeholders import DESK_PLACEHOLDERS, fill_in_marker, placeholder_for

LIBRARY = load_library()


def test_greeting_zh_for_zendesk_uses_zendesk_placeholders():
    text = render_for_desk(LIBRARY, "greeting", "zh-CN", "zendesk")
    assert "{{ticket.requester.name}}" in text
    assert "{{current_user.name}}" in text
    assert "{{ticket.group.name}}" in text
    assert "您好" in text
    assert "customer_name" not in text and "{{ " not in text


def test_greeting_en_for_jsm_uses_smart_values_and_markers():
    text = render_for_desk(LIBRARY, "greeting", "en", "jsm")
    assert "{{reporter.displayName}}" in text and "{{initiator.displayName}}" in text
    assert "[Company name]" in text and "[Department]" in text


def test_variables_without_a_desk_placeholder_become_localized_markers():
    zh = render_for_desk(LIBRARY, "progress_update", "zh-CN", "zendesk")
    en = render_for_desk(LIBRARY, "progress_update", "en", "zendesk")
    assert "[预计完成时间]" in zh and "{{ticket.id}}" in zh
    assert "[ETA]" in en and "[Current step]" in en


def test_connector_supplied_placeholders_win():
    extra = {"eta": "{{ticket.ticket_field_360001}}", "customer_name": "{{ticket.requester.first_name}}"}
    text = render_for_desk(LIBRARY, "progress_update", "en", "zendesk", extra_placeholders=extra)
    assert "{{ticket.ticket_field_360001}}" in text and "[ETA]" not in text
    assert "{{ticket.requester.first_name}}" in text and "{{ticket.requester.name}}" not in text


@pytest.mark.parametrize("desk", sorted(DESK_PLACEHOLDERS))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_phrase_renders_for_every_desk(desk, locale):
    for phrase_id in LIBRARY.ids():
        phrase = LIBRARY.phrase(phrase_id, locale)
        text = render_for_desk(LIBRARY, phrase_id, locale, desk)
        for name in phrase.variable_names:
            assert placeholder_for(desk, name, locale) in text, (phrase_id, name)
        # nothing but desk placeholders remains in double braces
        for match in re.findall(r"\{\{(.*?)\}\}", text):
            assert "{{" + match + "}}" in DESK_PLACEHOLDERS[desk].values()


def test_unknown_desk_is_a_user_error():
    with pytest.raises(DeskbookError, match="unknown desk 'freshdesk'"):
        render_for_desk(LIBRARY, "greeting", "en", "freshdesk")


def test_fill_in_marker_falls_back_to_the_variable_name():
    assert fill_in_marker("eta", "zh-CN") == "[预计完成时间]"
    assert fill_in_marker("eta", "fr") == "[ETA]"
    assert fill_in_marker("order_number", "en") == "[order_number]"


def _values(phrase_id: str, locale: str, **overrides) -> dict:
    return {**LIBRARY.phrase(phrase_id, locale).examples(), **overrides}


def test_values_are_inserted_literally_never_evaluated():
    text = render_values(LIBRARY, "greeting", "en", _values("greeting", "en", customer_name="{{ 7*7 }}"))
    assert text.startswith("Hello {{ 7*7 }},")
    assert "49" not in text
    sneaky = "{% for x in range(3) %}x{% endfor %}{{ ''.__class__ }}"
    text = render_values(LIBRARY, "closing", "zh-CN", _values("closing", "zh-CN", agent_name=sneaky))
    assert sneaky in text


def test_html_mode_escapes_values_and_text_mode_does_not():
    values = _values("confirm_need", "en", customer_name="<script>alert(1)</script> & Co")
    html = render_values(LIBRARY, "confirm_need", "en", values, html=True)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert html.startswith("<p>") and html.endswith("</p>")
    text = render_values(LIBRARY, "confirm_need", "en", values)
    assert text.startswith("<script>alert(1)</script> & Co,")


def test_missing_value_names_the_variable():
    values = _values("renewal_reminder", "en")
    del values["renewal_offer"]
    with pytest.raises(DeskbookError, match="renewal_offer"):
        render_values(LIBRARY, "renewal_reminder", "en", values)


def test_values_of_other_types_and_unused_values():
    values = _values("renewal_reminder", "zh-CN", contract_end_date=dt.date(2026, 6, 30), unrelated="x")
    text = render_values(LIBRARY, "renewal_reminder", "zh-CN", values)
    assert "2026-06-30" in text

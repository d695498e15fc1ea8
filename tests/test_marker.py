"""The ownership marker has one rule (`deskbook.marker`), and both desks read it with that rule."""

import pytest

from deskbook import marker
from deskbook.connectors.jsm import translate as jsm_translate
from deskbook.connectors.zendesk import compare as zendesk_compare
from deskbook.connectors.zendesk import translate as zendesk_translate
from deskbook.connectors.zendesk.connector import ZendeskConnector

TEXTS = {
    "Billing questions [deskbook:standard-service:billing]": ("standard-service", "billing"),
    "[deskbook:p:sla.standard.first_reply_time]": ("p", "sla.standard.first_reply_time"),
    "quoted [deskbook:other:x] then ours [deskbook:mine:y]": ("mine", "y"),
    "key with colon [deskbook:p:a:b]": ("p", "a:b"),
    # a bracket inside a part: no marker at all, on every desk
    "bracket in key [deskbook:p:a[b]": None,
    "bracket in playbook [deskbook:p[q:a]": None,
    "space in key [deskbook:p:a b]": None,
    "no key [deskbook:p]": None,
    "": None,
}


@pytest.mark.parametrize("text", sorted(TEXTS))
def test_every_desk_reads_the_marker_with_one_rule(text):
    expected = TEXTS[text]
    assert marker.parse_marker(text) == expected
    assert jsm_translate.parse_marker(text) == expected
    assert zendesk_compare.parse_marker(text) == expected


def test_a_written_marker_is_always_read_back():
    for playbook, key in [("standard-service", "greeting"), ("p", "sla.x.first_reply_time"), ("p", "a:b")]:
        text = f"Some description {marker.format_marker(playbook, key)}"
        assert marker.parse_marker(text) == (playbook, key)
        assert marker.owned_by(text, playbook) == key
        assert marker.owned_by(text, "another") is None
        assert marker.strip_marker(text) == "Some description"
    assert zendesk_translate.marker("p", "k") == jsm_translate.marker("p", "k") == "[deskbook:p:k]"


@pytest.mark.parametrize("playbook, key", [("p", "a[b"), ("p", "a]"), ("p:q", "k"), ("p", "a b"), ("", "k"), ("p", "")])
def test_a_marker_that_could_not_be_read_back_is_refused(playbook, key):
    with pytest.raises(ValueError):
        marker.format_marker(playbook, key)


def test_conflict_names_drop_only_a_real_trailing_marker():
    connector = ZendeskConnector.__new__(ZendeskConnector)
    assert connector.match_name("Reminder [deskbook:p:k]") == "reminder"
    assert connector.match_name("Reminder [deskbook:p:k] ") == "reminder"
    assert connector.match_name("[deskbook:p:k] Reminder") == "[deskbook:p:k] reminder"
    assert marker.without_trailing_marker("Reminder [deskbook:p:a[b]") == "Reminder [deskbook:p:a[b]"

"""The JSM sandbox's JQL (connectors/jsm/sandbox/jql.py): what queues and SLA goals need beyond AND."""

import pytest

from deskbook.connectors.jsm.sandbox.jql import JqlError, compile_jql

ISSUE = {"projectKey": "SUP", "projectId": "10000", "key": "SUP-1", "id": "10001", "labels": ["vip"],
         "status": "Waiting for support", "priority": "Highest", "created": "2026-01-01T00:00:00.000+0000"}


@pytest.mark.parametrize("jql, expected", [
    ('project = SUP AND (priority = "Highest" OR labels in ("x"))', True),
    ('priority = Low OR labels = vip', True),
    ('priority = Low OR labels = other', False),
    ('labels not in ("vip")', False),
    ('labels not in ("other")', True),
    ('NOT labels = vip', False),
    ('not (labels = other or status = Closed)', True),
    # NOT binds tighter than AND, AND tighter than OR (Jira's precedence)
    ('labels = other AND priority = Low OR status = "Waiting for support"', True),
    ('labels = other AND (priority = Low OR status = "Waiting for support")', False),
])
def test_or_not_parentheses_and_not_in(jql, expected):
    assert compile_jql(jql)(ISSUE) is expected


def test_not_in_and_not_equal_never_match_an_empty_field():
    """Jira's JQL reference: `!=` and `NOT IN` leave out issues whose field is empty."""
    bare = {**ISSUE, "labels": []}
    assert compile_jql('labels not in ("vip")')(bare) is False and compile_jql("labels != vip")(bare) is False
    assert compile_jql('(labels is EMPTY OR labels not in ("vip"))')(bare) is True


@pytest.mark.parametrize("jql", ["labels = vip and", "(labels = vip", "labels = vip or or x", "labels = vip )"])
def test_broken_queries_are_errors(jql):
    with pytest.raises(JqlError):
        compile_jql(jql)

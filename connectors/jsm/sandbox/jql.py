"""The small part of JQL the sandbox understands: `clause AND clause ... [ORDER BY ...]`.

Supported clauses (what deskbook sends): `project = KEY`, `key = SUP-1`, `labels = "x"`,
`labels in ("a", "b")`, `status = "Open"`, `priority = "High"`, `summary ~ "text"`, `requestType = 3` and
`issue.property[propKey].path = "value"`. Anything else is a JQL error, reported as Jira
reports one (400 with `errorMessages`).
"""

from __future__ import annotations

import re
from typing import Callable

CLAUSE = re.compile(
    r"""^\s*(?P<field>issue\.property\[[^\]]+\](?:\.[\w.]+)?|"[^"]+"|[\w]+)\s*
        (?P<op>=|!=|~|\bin\b)\s*(?P<value>\(.*\)|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s()]+)\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
PROPERTY_FIELD = re.compile(r"^issue\.property\[(?P<key>[^\]]+)\](?:\.(?P<path>[\w.]+))?$", re.IGNORECASE)


class JqlError(ValueError):
    """A query the sandbox (or Jira) cannot parse."""


def _unquote(token: str) -> str:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1].replace('\\"', '"')
    return token


def _values(token: str) -> list[str]:
    token = token.strip()
    if token.startswith("("):
        return [_unquote(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[^,\s()]+', token[1:-1])]
    return [_unquote(token)]


def _issue_value(issue: dict, field: str) -> list[str]:
    """The values of `field` on a stored issue, as strings (a list: labels are multi-valued)."""
    name = _unquote(field).lower()
    match = PROPERTY_FIELD.match(_unquote(field))
    if match:
        value = issue.get("properties", {}).get(match["key"])
        for part in (match["path"] or "").split(".") if match["path"] else []:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value).lower() if isinstance(value, bool) else str(value)]
    if name == "project":
        return [issue["projectKey"], issue["projectId"]]
    if name in ("key", "issuekey", "id"):
        return [issue["key"], issue["id"]]
    if name == "labels":
        return list(issue.get("labels", []))
    if name == "status":
        return [issue.get("status", "")]
    if name == "priority":
        return [issue.get("priority", "Medium")]
    if name == "summary":
        return [issue.get("summary", "")]
    if name in ("requesttype", "request type", "customer request type"):
        return [str(issue.get("requestTypeId", ""))]
    if name in ("resolution", "resolutiondate"):
        return [issue.get("resolutiondate") or ""]
    if name == "organizations":
        return [str(o) for o in issue.get("organizations", [])]
    raise JqlError(f"Field '{_unquote(field)}' does not exist or you do not have permission to view it.")


def compile_jql(jql: str) -> Callable[[dict], bool]:
    """A predicate over stored issues for `jql`; raises JqlError for what it cannot parse."""
    text = re.split(r"\border\s+by\b", jql or "", maxsplit=1, flags=re.IGNORECASE)[0].strip()
    if not text:
        return lambda issue: True
    if re.search(r"\bor\b|\bnot\b", text, re.IGNORECASE):
        raise JqlError("The sandbox supports only AND between JQL clauses.")
    tests = []
    for clause in re.split(r"\band\b", text, flags=re.IGNORECASE):
        match = CLAUSE.match(clause)
        if not match:
            raise JqlError(f"Error in the JQL Query: cannot parse '{clause.strip()}'.")
        field, op, wanted = match["field"], match["op"].lower(), _values(match["value"])
        _issue_value({"properties": {}, "projectKey": "", "projectId": "", "key": "", "id": ""}, field)

        def test(issue: dict, field=field, op=op, wanted=wanted) -> bool:
            have = _issue_value(issue, field)
            if op == "~":
                return any(w.lower() in h.lower() for h in have for w in wanted)
            hit = any(h.lower() == w.lower() for h in have for w in wanted)
            return not hit if op == "!=" else hit

        tests.append(test)
    return lambda issue: all(test(issue) for test in tests)

"""The part of JQL the sandbox understands: clauses joined by `AND`, `OR`, `NOT` and parentheses
(NOT binds tighter than AND, AND tighter than OR), then `[ORDER BY ...]`.

Supported clauses (what deskbook sends): `project = KEY`, `key = SUP-1`, `labels = "x"`,
`labels in ("a", "b")`, `status = "Open"`, `status in (...)`, `priority = "High"`, `summary ~ "text"`,
`labels not in (...)`, `labels != "x"`, `assignee`/`reporter = accountId`,
`requestType = 3` / `"Request Type" = "Name"` (the current name: the app passes it in as
`requestTypeName`), `issue.property[propKey].path = "value"`, `field is [not] EMPTY`, and date comparisons
`created|updated|resolved >= | > | <= | < <date>` where `<date>` is relative (`-90m`, `"-2h"`,
`-1d`, `-1w`) or absolute (`"2026/11/20 09:30"`, `"2026-11-20"`), read in the user's time zone
(UTC in the sandbox), as Jira reads it. `ORDER BY field [ASC|DESC], ...` sorts by `created`,
`updated`, `resolved`, `priority` (by rank), `key` or `id`. Anything else is a JQL error, reported as Jira reports one
(400 with `errorMessages`). As Jira documents, `!=` and `NOT IN` never match an issue whose field
is empty ("The operator won't match a field that has no value", Atlassian's JQL operators
reference, confluence.atlassian.com/jiracoreserver0816/advanced-searching-operators-reference-1063165739.html):
`labels not in ("x")` leaves out an issue without labels (write `(labels is EMPTY OR labels not in
("x"))`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Callable

PROPERTY_FIELD = re.compile(r"^issue\.property\[(?P<key>[^\]]+)\](?:\.(?P<path>[\w.]+))?$", re.IGNORECASE)


class JqlError(ValueError):
    """A query the sandbox (or Jira) cannot parse."""


DATE_FIELDS = {"created": "created", "createddate": "created", "updated": "updated", "updateddate": "updated",
               "resolved": "resolutiondate", "resolutiondate": "resolutiondate"}
#: Jira Cloud's default priorities, lowest rank first (ORDER BY priority).
PRIORITY_RANK = {"Lowest": 1, "Low": 2, "Medium": 3, "High": 4, "Highest": 5}
RELATIVE = re.compile(r"^(?P<sign>[-+]?)(?P<n>\d+)(?P<unit>[mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_stamp(value: str | None) -> datetime | None:
    """A stored issue timestamp (`2026-11-23T10:00:00.000+0000`) as an aware datetime."""
    if not value:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def jql_date(token: str, now: datetime) -> datetime:
    """A JQL date value (relative `-90m` or absolute `yyyy/MM/dd [HH:mm]`) in UTC."""
    text = token.strip()
    match = RELATIVE.match(text)
    if match:
        delta = timedelta(**{UNITS[match["unit"]]: int(match["n"])})
        return now - delta if match["sign"] == "-" else now + delta
    for form in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, form).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise JqlError(f"Date value '{text}' for a date field is invalid. Valid formats include: "
                   "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")


#: ORDER BY's limit (FACTS.md 8.3).
MAX_ORDER_FIELDS = 7


def order_key(jql: str) -> Callable[[dict], tuple] | None:
    """A sort key for the query's `ORDER BY` (None when it has none); descending fields are negated."""
    parts = re.split(r"\border\s+by\b", jql or "", maxsplit=1, flags=re.IGNORECASE)
    if len(parts) < 2:
        return None
    if parts[1].count(",") >= MAX_ORDER_FIELDS:  # FACTS.md 8.3
        raise JqlError(f"Error in the JQL Query: ORDER BY takes at most {MAX_ORDER_FIELDS} fields.")
    terms = []
    for term in parts[1].split(","):
        words = term.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise JqlError(f"Error in the JQL Query: cannot parse the ORDER BY term '{term.strip()}'.")
        name = _unquote(words[0]).lower()
        if name not in DATE_FIELDS and name not in ("key", "id", "issuekey", "priority"):
            raise JqlError(f"Field '{words[0]}' does not exist or you do not have permission to view it.")
        terms.append((name, len(words) == 2 and words[1].lower() == "desc"))

    def key(issue: dict) -> tuple:
        out = []
        for name, desc in terms:
            if name == "priority":  # by rank, as Jira sorts priorities (Highest first when DESC)
                value = float(PRIORITY_RANK.get(str(issue.get("priority") or "Medium"), 0))
            elif name in DATE_FIELDS:
                stamp = parse_stamp(issue.get(DATE_FIELDS[name]) or (issue.get("created") if name.startswith("updated") else None))
                value = stamp.timestamp() if stamp else float("inf")  # Jira sorts EMPTY as the largest value
            else:
                value = float(str(issue.get("id", "0")))
            out.append(-value if desc else value)  # so EMPTY comes last ascending, first descending
        return tuple(out)

    return key


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
        # Jira matches the request type's current name; the sandbox also accepts its id.
        return [str(issue.get("requestTypeId", "")), str(issue.get("requestTypeName") or "")]
    if name in ("resolution", "resolutiondate"):
        return [issue.get("resolutiondate") or ""]
    if name == "assignee":
        return [issue.get("assignee") or ""]
    if name == "reporter":
        return [issue.get("reporter") or ""]
    if name == "organizations":
        return [str(o) for o in issue.get("organizations", [])]
    raise JqlError(f"Field '{_unquote(field)}' does not exist or you do not have permission to view it.")


def _date_test(field: str, op: str, token: str, now: datetime) -> Callable[[dict], bool]:
    """A comparison of a date field with a JQL date (issues without the date never match)."""
    name = DATE_FIELDS[_unquote(field).lower()]
    bound = jql_date(token, now)
    compare = {">=": lambda a: a >= bound, ">": lambda a: a > bound, "<=": lambda a: a <= bound,
               "<": lambda a: a < bound, "=": lambda a: a == bound, "!=": lambda a: a != bound}[op]

    def test(issue: dict) -> bool:
        stamp = parse_stamp(issue.get(name) or (issue.get("created") if name == "updated" else None))
        return stamp is not None and compare(stamp)

    return test


def _empty_test(field: str, empty: bool) -> Callable[[dict], bool]:
    """`field is EMPTY` (empty=True) or `field is not EMPTY`."""
    name = _unquote(field).lower()
    if name in DATE_FIELDS:
        def values(issue: dict) -> list[str]:
            stamp = issue.get(DATE_FIELDS[name])
            return [stamp] if stamp else []
    else:
        _issue_value({"properties": {}, "projectKey": "", "projectId": "", "key": "", "id": ""}, field)

        def values(issue: dict) -> list[str]:
            return [v for v in _issue_value(issue, field) if v]
    return lambda issue: (not values(issue)) == empty


TOKEN = re.compile(r"""\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>>=|<=|!=|!~|=|>|<|~)|(?P<comma>,)
                      |(?P<str>"(?:[^"\\]|\\.)*"|'[^']*')
                      |(?P<word>issue\.property\[[^\]]+\](?:\.[\w.]+)?|[^\s(),=!<>~"']+))""", re.VERBOSE)
KEYWORDS = ("and", "or", "not", "in", "is", "empty", "null")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: the character '{text[pos:].strip()[:1]}' is a reserved JQL character.")
        kind = match.lastgroup or "word"
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    """Recursive descent over `expr := and (OR and)*; and := unary (AND unary)*;
    unary := NOT unary | ( expr ) | clause` (NOT binds tighter than AND, AND tighter than OR)."""

    def __init__(self, text: str, now: datetime):
        self.tokens, self.pos, self.now = _tokens(text), 0, now

    def peek(self, offset: int = 0) -> tuple[str, str]:
        n = self.pos + offset
        return self.tokens[n] if n < len(self.tokens) else ("end", "")

    def word(self, offset: int = 0) -> str:
        kind, value = self.peek(offset)
        return value.lower() if kind == "word" else ""

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def parse(self) -> Callable[[dict], bool]:
        test = self.expr()
        if self.peek()[0] != "end":
            raise JqlError(f"Error in the JQL Query: expecting AND, OR or the end of the query but got '{self.peek()[1]}'.")
        return test

    def expr(self) -> Callable[[dict], bool]:
        parts = [self.conj()]
        while self.word() == "or":
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else (lambda issue: any(p(issue) for p in parts))

    def conj(self) -> Callable[[dict], bool]:
        parts = [self.unary()]
        while self.word() == "and":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda issue: all(p(issue) for p in parts))

    def unary(self) -> Callable[[dict], bool]:
        if self.word() == "not":
            self.take()
            inner = self.unary()
            return lambda issue: not inner(issue)
        if self.peek()[0] == "lp":
            self.take()
            inner = self.expr()
            if self.take()[0] != "rp":
                raise JqlError("Error in the JQL Query: expecting ')' before the end of the query.")
            return inner
        return self.clause()

    def value(self) -> str:
        kind, text = self.take()
        if kind == "str":
            return _unquote(text)
        if kind == "word" and text.lower() not in ("and", "or", "not", "in", "is"):
            if self.peek()[0] == "lp" and self.peek(1)[0] == "rp":  # a function such as currentUser()
                self.pos += 2
                return text + "()"
            return text
        raise JqlError(f"Error in the JQL Query: expecting a value but got '{text or 'the end of the query'}'.")

    def clause(self) -> Callable[[dict], bool]:
        kind, field = self.take()
        if kind not in ("word", "str") or field.lower() in KEYWORDS:
            raise JqlError(f"Error in the JQL Query: expecting a field name but got '{field or 'the end of the query'}'.")
        if self.word() == "not" and self.word(1) == "in":
            self.pos += 2
            op = "not in"
        elif self.word() in ("in", "is"):
            op = self.take()[1].lower()
            if op == "is" and self.word() == "not":
                self.take()
                op = "is not"
        elif self.peek()[0] == "op":
            op = self.take()[1]
        else:
            raise JqlError(f"Error in the JQL Query: expecting an operator after '{_unquote(field)}'.")
        if op in ("in", "not in"):
            if self.take()[0] != "lp":
                raise JqlError(f"Error in the JQL Query: the operator '{op}' takes a list in parentheses.")
            wanted = [self.value()]
            while self.peek()[0] == "comma":
                self.take()
                wanted.append(self.value())
            if self.take()[0] != "rp":
                raise JqlError("Error in the JQL Query: expecting ')' after the list of values.")
        else:
            wanted = [self.value()]
        return _clause_test(field, op, wanted, self.now)


def _clause_test(field: str, op: str, wanted: list[str], now: datetime) -> Callable[[dict], bool]:
    """One clause. As Jira documents for `!=` and `NOT IN`: they never match an issue whose field
    is empty (`labels != x` leaves out issues without labels; add `OR labels is EMPTY`)."""
    if op in ("is", "is not"):
        if len(wanted) != 1 or wanted[0].upper() not in ("EMPTY", "NULL"):
            raise JqlError(f"The operator '{op}' only takes EMPTY or NULL (field '{_unquote(field)}').")
        return _empty_test(field, op == "is")
    if _unquote(field).lower() in DATE_FIELDS:
        if op not in ("=", "!=", ">", ">=", "<", "<=") or len(wanted) != 1:
            raise JqlError(f"The operator '{op}' is not supported by the '{_unquote(field)}' field.")
        return _date_test(field, op, wanted[0], now)
    if op in (">", ">=", "<", "<="):
        raise JqlError(f"The operator '{op}' is not supported by the '{_unquote(field)}' field.")
    _issue_value({"properties": {}, "projectKey": "", "projectId": "", "key": "", "id": ""}, field)

    def test(issue: dict) -> bool:
        have = [h for h in _issue_value(issue, field) if h != ""]
        if op in ("~", "!~"):
            hit = any(w.lower() in h.lower() for h in have for w in wanted)
            return bool(have) and (hit if op == "~" else not hit)
        hit = any(h.lower() == w.lower() for h in have for w in wanted)
        if op in ("!=", "not in"):
            return bool(have) and not hit
        return hit

    return test


def compile_jql(jql: str, *, now: datetime | None = None) -> Callable[[dict], bool]:
    """A predicate over stored issues for `jql`; raises JqlError for what it cannot parse."""
    now = now or datetime.now(timezone.utc)
    order_key(jql)  # an unreadable ORDER BY is an error even when nothing matches
    text = re.split(r"\border\s+by\b", jql or "", maxsplit=1, flags=re.IGNORECASE)[0].strip()
    if not text:
        return lambda issue: True
    return _Parser(text, now).parse()

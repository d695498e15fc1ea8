"""The ownership marker: `[deskbook:<playbook>:<key>]`, the one rule for every desk.

Every object deskbook creates carries the marker at the end of a free-text attribute (which one
is the desk's choice); an object without it is never updated or deleted. This module is the only
place that writes, finds or strips it:

- `format_marker(playbook, key)` writes it; it refuses a playbook or key the parser could not
  read back, so a marker written is always a marker found;
- `parse_marker(text)` -> (playbook, key) of the *last* marker in `text` (an admin may quote
  another one earlier in a description), or None;
- `strip_marker(text)` is `text` without its markers (a retired rule keeps its description);
- `without_trailing_marker(name)` drops a marker suffix from a name (conflict matching);
- `owned_by(text, playbook)` is the key when `text` carries `playbook`'s marker, else None.

The rule: the playbook is one or more characters other than `:`, `[`, `]` and white space; the
key one or more characters other than `[`, `]` and white space (a key may hold `:` and `.`, e.g.
`sla.standard.first_reply_time`). A bracket inside either part makes the text no marker at all.
"""

from __future__ import annotations

import re

#: One marker; the named groups are its two parts.
MARKER_RE = re.compile(r"\[deskbook:(?P<playbook>[^:\[\]\s]+):(?P<key>[^\[\]\s]+)\]")
_PLAYBOOK_PART = re.compile(r"[^:\[\]\s]+")
_KEY_PART = re.compile(r"[^\[\]\s]+")
_TRAILING = re.compile(r"\s*" + MARKER_RE.pattern + r"\s*$")


def format_marker(playbook: str, key: str) -> str:
    """`[deskbook:<playbook>:<key>]`; ValueError for a part `parse_marker` would not read back."""
    if not _PLAYBOOK_PART.fullmatch(playbook or ""):
        raise ValueError(f"playbook name {playbook!r} cannot be put in an ownership marker "
                         "(no ':', '[', ']' or spaces)")
    if not _KEY_PART.fullmatch(key or ""):
        raise ValueError(f"key {key!r} cannot be put in an ownership marker (no '[', ']' or spaces)")
    return f"[deskbook:{playbook}:{key}]"


def parse_marker(text: str | None) -> tuple[str, str] | None:
    """(playbook, key) of the last marker in `text`, or None when it has none."""
    if not text:
        return None
    found = list(MARKER_RE.finditer(text))
    return (found[-1]["playbook"], found[-1]["key"]) if found else None


def owned_by(text: str | None, playbook: str) -> str | None:
    """The key of `playbook`'s marker in `text` (the last marker must be `playbook`'s), else None."""
    found = parse_marker(text)
    return found[1] if found and found[0] == playbook else None


def strip_marker(text: str | None) -> str:
    """`text` without any marker, trimmed."""
    return MARKER_RE.sub("", text or "").strip()


def without_trailing_marker(text: str) -> str:
    """`text` without a marker at its very end (and the white space before it)."""
    return _TRAILING.sub("", text)

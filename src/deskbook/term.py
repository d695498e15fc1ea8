"""Colour on a terminal, and only there: plan lines and error lines.

Colour is used when the stream is a terminal (`isatty()`), `TERM` is not `dumb`, and `NO_COLOR`
is unset or empty (https://no-color.org: "when present and not an empty string, ... prevents the
addition of ANSI color"). `FORCE_COLOR` (non-empty) turns it on for a pipe, e.g. `less -R`.
Machine output (`--json`) is never coloured: only text meant for a person goes through here.
"""

from __future__ import annotations

import os
import re
from typing import IO, Mapping

_CODES = {"green": "32", "red": "31", "yellow": "33", "cyan": "36", "bold": "1", "dim": "2"}
#: Plan line (after its indent) -> colour, by the change symbol it starts with (`deskbook.plan.SYMBOLS`).
_PLAN_STYLES = (("+ ", "green"), ("- ", "red"), ("~ ", "yellow"), ("! ", "red"), ("↕ ", "cyan"),
                ("note: ", "dim"))
_INDENT = re.compile(r"^(\s*)(.*)$", re.S)


def colour_wanted(stream: IO[str], env: Mapping[str, str] | None = None) -> bool:
    """True when text written to `stream` may carry ANSI colour."""
    values: Mapping[str, str] = os.environ if env is None else env
    if values.get("NO_COLOR"):
        return False
    if values.get("FORCE_COLOR"):
        return True
    if values.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str, enabled: bool) -> str:
    """`text` in `style` (one of green, red, yellow, cyan, bold, dim) when `enabled`."""
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m" if enabled else text


def colour_plan(text: str, enabled: bool) -> str:
    """A rendered plan with each change line coloured by its symbol (+ green, - red, ~ yellow, ! red)."""
    if not enabled:
        return text
    out = []
    for line in text.split("\n"):
        indent, rest = _INDENT.match(line).groups()  # type: ignore[union-attr]  # `.*` matches every line
        style = next((s for prefix, s in _PLAN_STYLES if rest.startswith(prefix)), None)
        if style is None and rest.startswith(("Plan:", "Plan for ")):
            style = "bold"
        out.append(indent + paint(rest, style, True) if style else line)
    return "\n".join(out)

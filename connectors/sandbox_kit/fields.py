"""Type rules for request bodies: each desk declares what its writable fields hold, the kit says
which field (if any) holds something else, and the desk refuses it in its own words (Zendesk a 422
RecordInvalid, JSM a 400 with `errors`).

Types: "text", "number" (int or float, not bool), "id" (int, not bool), "bool", "object", "list",
"texts" (a list of text), "ids" (a list of ids), "objects" (a list of objects); a trailing "?"
also allows null, and "a|b" allows either.
"""

from __future__ import annotations

from typing import Any

_CHECKS = {
    "text": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "id": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "texts": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "ids": lambda v: isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v),
    "objects": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
}
_WORDS = {"text": "a string", "number": "a number", "id": "an id (a whole number)", "bool": "true or false",
          "object": "an object", "list": "a list", "texts": "a list of strings", "ids": "a list of ids",
          "objects": "a list of objects"}


def holds(value: Any, kind: str) -> bool:
    """Whether `value` is of the declared `kind`."""
    if kind.endswith("?"):
        if value is None:
            return True
        kind = kind[:-1]
    return any(_CHECKS[k](value) for k in kind.split("|"))


def describe(kind: str) -> str:
    """The kind in words: "a string or null"."""
    words = " or ".join(_WORDS[k] for k in kind.rstrip("?").split("|"))
    return words + (" or null" if kind.endswith("?") else "")


def mistyped(payload: Any, rules: dict[str, str]) -> tuple[str, str] | None:
    """The first (field, expected kind in words) of `payload` that breaks `rules`, or None."""
    if not isinstance(payload, dict):
        return None
    for name, kind in rules.items():
        if name in payload and not holds(payload[name], kind):
            return name, describe(kind)
    return None

"""Reading a request body as the desks do: bounded in size and nesting, JSON or a refusal.

`read_json(request, max_bytes, max_depth)` returns a `Body`: the parsed JSON (None for an empty
body) and its size, or raises `KitError` — 413 past `max_bytes` (the body is drained, not kept,
so the connection stays usable), 400 for text that is not JSON, not UTF-8, or nested deeper than
`max_depth` (Rails, behind Zendesk, refuses JSON nested deeper than 100 by default; the depth is
measured on the raw text before parsing, so a 100,000-deep body costs one scan, not a recursion).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from deskbook.connectors.sandbox_kit.errors import KitError

#: Default request body limit of both sandboxes (bytes).
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Default JSON nesting limit.
MAX_JSON_DEPTH = 100
#: How much of an oversized body is read and thrown away so the client sees the 413.
_DRAIN_LIMIT = 64 * 1024 * 1024

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


@dataclass
class Body:
    """A request body: what it parsed to and how many bytes it had."""

    json: Any
    size: int


def json_depth(data: bytes) -> int:
    """The deepest nesting of brackets in JSON text, strings left out."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', data)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _drain(request: Request) -> None:
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    left = min(request.content_length or _DRAIN_LIMIT, _DRAIN_LIMIT)
    try:
        while left > 0:
            chunk = stream.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
    except (OSError, ValueError):
        pass


def read_json(request: Request, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Body:
    """The request's JSON body (None when empty), refused past the size and depth limits."""
    if request.content_length is not None and request.content_length > max_bytes:
        _drain(request)
        raise KitError(413, f"The request body is larger than {max_bytes} bytes.", reason="too_large")
    request.max_content_length = max_bytes
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise KitError(413, f"The request body is larger than {max_bytes} bytes.", reason="too_large") from None
    if not data.strip():
        return Body(None, len(data))
    if json_depth(data) > max_depth:
        raise KitError(400, f"The request body nests JSON deeper than {max_depth} levels.", reason="invalid_json")
    try:
        return Body(json.loads(data), len(data))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise KitError(400, f"The request body is not valid JSON: {exc}", reason="invalid_json") from None

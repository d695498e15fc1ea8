"""Atlassian Document Format (ADF), as far as deskbook needs it: plain text in and out.

Jira's v3 platform API carries comment bodies (and other rich text) as ADF documents; the service
desk API and Jira's v2 API carry plain text. The JSM sandbox answers v3 reads with `adf(text)` and
reads v3 writes with `adf_text`; the report reader reads the comments a v3 search lists with
`adf_text`. Marks, mentions and other inline nodes are reduced to their text; one paragraph is one
line.
"""

from __future__ import annotations

from typing import Any


def adf(text: str) -> dict:
    """Plain text as an Atlassian Document Format document (one paragraph per line)."""
    return {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")]}


def adf_text(value: Any) -> str:
    """The text of an ADF document (or of a plain string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if value.get("type") == "text":
            return str(value.get("text") or "")
        parts = [adf_text(c) for c in value.get("content") or []]
        return ("\n" if value.get("type") == "doc" else "").join(parts)
    return ""

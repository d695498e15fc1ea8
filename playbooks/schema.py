"""The JSON Schema (draft 2020-12) of a playbook YAML file; `deskbook schema` prints it.

Generated from the model (`deskbook.playbooks.model`), which the loader also validates files
with, so the schema an editor sees and the checks `validate` runs cannot drift apart. The
generated schema is made readable for people and editors: no per-field titles, every `$ref`
inlined except the recursive category, and text-per-locale mappings written with
`propertyNames`. References between elements and rules that span elements are checked by
`deskbook.playbooks.loader`, which also turns every error into `file:line:column`.

Enumerated and patterned values carry a `description` that says what is expected; the
loader shows it in its messages.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema

from deskbook.playbooks import model
from deskbook.playbooks.model import (  # noqa: F401  (the vocabulary, as this module always offered it)
    CADENCES,
    DATE_PATTERN,
    ELEMENT_KINDS,
    ITEM_ID_PATTERN,
    KEY_PATTERN,
    LOCALE_PATTERN,
    SCOPES,
    STAGE_PATTERN,
    SYNC_JOB_NAMES,
    TIME_PATTERN,
)

SCHEMA_ID = "https://deskbook.invalid/schema/playbook.json"
WEEKDAYS = model.WEEKDAY_NAMES


class _PlaybookSchema(GenerateJsonSchema):
    """Pydantic's generator without titles, and with mappings' key rules as `propertyNames`."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def dataclass_schema(self, schema: Any) -> Any:
        out = super().dataclass_schema(schema)
        out.pop("title", None)
        return out

    def dict_schema(self, schema: Any) -> Any:
        out = super().dict_schema(schema)
        keys = schema.get("keys_schema")
        if out.pop("patternProperties", None) is not None and keys is not None:
            out["propertyNames"] = self.generate_inner(keys)
            out["additionalProperties"] = self.generate_inner(schema["values_schema"])
        return out


@functools.cache
def _generated() -> dict[str, Any]:
    generated = TypeAdapter(model.Playbook).json_schema(schema_generator=_PlaybookSchema)
    definitions = generated.pop("$defs", {})
    kept: dict[str, Any] = {}

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.rsplit("/", 1)[1]
            rest = {k: v for k, v in node.items() if k != "$ref"}
            if name in seen:  # recursive (categories hold categories): keep it a definition
                local = name.lower()
                if local not in kept:
                    kept[local] = {}
                    kept[local] = inline(definitions[name], seen)
                return {"$ref": f"#/$defs/{local}", **rest}
            return {**inline(definitions[name], (*seen, name)), **rest}
        return {key: (value if key in ("enum", "default", "const", "required") else inline(value, seen))
                for key, value in node.items()}

    body = inline(generated, ())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "deskbook playbook",
        **body,
        "$defs": kept,
    }


def playbook_schema() -> dict[str, Any]:
    """The playbook JSON Schema as a dict (fresh copy on every call)."""
    return copy.deepcopy(_generated())

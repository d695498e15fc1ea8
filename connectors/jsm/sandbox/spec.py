"""Check requests against Atlassian's OpenAPI files in `../shared/jsm/`.

Request checks are the project's one contract checker (`deskbook.connectors.contract`); this
module adds the response-side helpers the sandbox tests use (component schemas, undeclared keys).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from deskbook.connectors.contract import jsm_contract

@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


class SpecChecker:
    """The JSM request contract (`deskbook.connectors.contract.jsm_contract`) as a sandbox checker.

    `spec` is `../shared`, `../shared/jsm` or a file in it. Called as `checker(method, path, query, json_body)`,
    it returns the problems: no operation with that method and path, a body failing the request
    schema, or an endpoint outside the specs that is not on the documented allow-list.
    """

    def __init__(self, spec: str | Path):
        from deskbook.connectors.sandbox_kit.serve import shared_root

        self.contract = jsm_contract(shared_root(spec, "jsm"))

    def __call__(self, method: str, path: str, query: Any, json_body: Any) -> list[str]:
        return self.contract(method, path, query, json_body)


def response_validator(spec_file: str | Path, schema_name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema of an OpenAPI file (for response checks in tests)."""
    document = _load(str(spec_file))
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(root)


def _resolve(document: dict, schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def undeclared_properties(document: dict, schema: dict, instance: Any, where: str = "") -> list[str]:
    """Keys in `instance` that `schema` (closed-world reading) does not declare, recursively."""
    schema = _resolve(document, schema)
    problems: list[str] = []
    if isinstance(instance, dict) and isinstance(schema, dict) and "properties" in schema:
        declared = schema["properties"]
        for key, value in instance.items():
            if key not in declared:
                if not schema.get("additionalProperties"):
                    problems.append(f"{where}/{key}: not declared in the schema")
                continue
            problems += undeclared_properties(document, declared[key], value, f"{where}/{key}")
    elif isinstance(instance, list) and isinstance(schema, dict) and "items" in schema:
        for index, item in enumerate(instance):
            problems += undeclared_properties(document, schema["items"], item, f"{where}/{index}")
    return problems


def response_problems(spec_file: str | Path, schema_name: str, instance: Any) -> list[str]:
    """Schema errors plus undeclared keys of a response body against a component schema."""
    document = _load(str(spec_file))
    errors = [f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
              for e in response_validator(spec_file, schema_name).iter_errors(instance)]
    return errors + undeclared_properties(document, {"$ref": f"#/components/schemas/{schema_name}"}, instance)

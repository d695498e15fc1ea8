"""Check requests against Atlassian's OpenAPI files in `../shared/jsm/`.

`SpecChecker(paths)` loads the servicedesk digest and/or the Jira platform spec and, called as
`checker(method, path, query, json_body)`, returns the problems: no operation with that method
and path template, or a JSON body that fails the operation's request schema. Paths the specs do
not cover (automation rule management, the internal SLA endpoints) are not judged here: their
shapes follow Atlassian's developer documentation, cited in `app.py`.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

#: Prefixes each spec is authoritative for.
COVERED_PREFIXES = ("/rest/servicedeskapi/", "/rest/api/3/")
SPEC_FILES = ("servicedesk-openapi.json", "jira-platform-openapi.json")


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}/?$")


@lru_cache(maxsize=4)
def _load(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


class SpecChecker:
    """A request checker over one or more OpenAPI documents."""

    def __init__(self, spec: str | Path):
        spec = Path(spec)
        files = [spec / name for name in SPEC_FILES if (spec / name).is_file()] if spec.is_dir() else [spec]
        self.operations: list[tuple[re.Pattern, str, str, dict, dict]] = []
        for file in files:
            document = _load(str(file))
            for template, item in document.get("paths", {}).items():
                for method, operation in item.items():
                    if method.lower() in ("get", "post", "put", "delete", "patch"):
                        self.operations.append((_template_regex(template), method.upper(), template, operation, document))
        # literal segments first, so /request/validate wins over /request/{key}
        self.operations.sort(key=lambda op: op[2].count("{"))
        self._validators: dict[tuple[str, str], Any] = {}

    def covers(self, path: str) -> bool:
        """True when the path lies in an API these specs describe."""
        return path.startswith(COVERED_PREFIXES)

    def __call__(self, method: str, path: str, query: dict, json_body: Any) -> list[str]:
        if not self.covers(path):
            return []
        matches = [op for op in self.operations if op[0].match(path)]
        if not matches:
            return [f"no operation in the spec matches the path {path}"]
        for regex, op_method, template, operation, document in matches:
            if op_method == method.upper():
                return self._check_body(template, method, operation, document, json_body)
        return [f"the spec has no {method} for {matches[0][2]}"]

    def _check_body(self, template: str, method: str, operation: dict, document: dict, body: Any) -> list[str]:
        schema = (operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema"))
        if body is None or not schema:
            return []
        key = (method, template)
        if key not in self._validators:
            root = {**schema, "components": document.get("components", {})}
            self._validators[key] = jsonschema.Draft202012Validator(root)
        errors = sorted(self._validators[key].iter_errors(body), key=lambda e: list(e.path))
        return [f"request body at {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5]]


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

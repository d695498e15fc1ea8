"""Every third-party module the installed code imports is a declared runtime dependency."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The folders installed as the `deskbook` namespace (pyproject `package-dir`).
RUNTIME = ("src/deskbook", "connectors", "playbooks", "scripts_library", "sync")
#: Needed at run time without an import of ours: schedule's `.at(time, tz)` imports pytz.
INDIRECT = {"pytz"}


def declared() -> set[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower().replace("_", "-")
            for spec in data["project"]["dependencies"]}


def imported_top_level() -> dict[str, str]:
    """Top-level module -> a file importing it, over the runtime folders."""
    found: dict[str, str] = {}
    for folder in RUNTIME:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def test_every_runtime_import_is_declared():
    distributions = importlib.metadata.packages_distributions()
    wanted = declared()
    missing = []
    for module, where in sorted(imported_top_level().items()):
        if module in sys.stdlib_module_names or module in ("deskbook", "__future__"):
            continue
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & wanted:
            missing.append(f"{module} ({where})")
    assert missing == [], f"imported but not declared in pyproject dependencies: {missing}"
    assert INDIRECT <= wanted

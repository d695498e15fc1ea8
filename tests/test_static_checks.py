"""ruff and mypy over every folder of the `deskbook` namespace (pyproject `package-dir`: `src/`,
`connectors/`, `playbooks/`, `scripts_library/`, `sync/`), at the strictness stated in pyproject.toml
(`[tool.ruff]`, `[tool.mypy]`): CI runs pytest, so it runs them too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: A fixed place for the import tree mypy reads (and its cache), so later runs are incremental.
TREE = REPO / ".mypy_tree"


def package_dirs() -> dict[str, str]:
    """`deskbook` namespace package -> folder, from pyproject `package-dir`."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return data["tool"]["setuptools"]["package-dir"]


def import_tree() -> Path:
    """`deskbook/` as installed (the card's folders mapped into one namespace), as symlinks:
    mypy cannot follow setuptools' `package-dir` mapping of an editable install."""
    root = TREE / "deskbook"
    if TREE.exists():
        shutil.rmtree(TREE / "deskbook")
    root.mkdir(parents=True)
    dirs = package_dirs()
    for source in (REPO / dirs["deskbook"]).iterdir():
        if source.suffix == ".py":
            (root / source.name).symlink_to(source)
    for package, folder in dirs.items():
        if package != "deskbook" and package.count(".") == 1:
            (root / package.split(".", 1)[1]).symlink_to(REPO / folder, target_is_directory=True)
    return TREE


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *command], cwd=cwd, capture_output=True, text=True, timeout=900)


def test_every_package_folder_is_checked():
    """The checks below take their folders from `package-dir`: a folder added there is checked."""
    assert set(package_dirs().values()) >= {"src/deskbook", "connectors", "playbooks", "scripts_library", "sync"}


def test_ruff_finds_nothing_in_the_package_folders():
    folders = sorted({folder.split("/", 1)[0] for folder in package_dirs().values()})
    done = run("ruff", "check", "--no-cache", *folders, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing_in_the_package_folders():
    tree = import_tree()
    modules = []
    for path in sorted((REPO / package_dirs()["deskbook"]).glob("*.py")):
        modules += ["-m", "deskbook" if path.stem == "__init__" else f"deskbook.{path.stem}"]
    for package in sorted(package_dirs()):
        if package.count(".") == 1:
            modules += ["-p", package]
    done = run("mypy", "--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(TREE / "cache"),
               *modules, cwd=tree)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout

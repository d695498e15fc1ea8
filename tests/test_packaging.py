"""The built wheel works on its own: a fresh venv, non-editable install, console script runs."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the project's wheel once for this module."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("deskbook-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_bin(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (no deps: those come from this environment via a .pth)."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # Dependencies (not deskbook itself) come from the running environment.
    (Path(site) / "_deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    dist_info = next(Path(site).glob("deskbook-*.dist-info"))
    # A console script, as an installer would write it.
    script = venv / "bin" / "deskbook"
    script.write_text(f"#!{py}\nimport sys\nfrom deskbook.cli import main\nsys.exit(main())\n")
    script.chmod(0o755)
    assert (dist_info / "entry_points.txt").read_text().count("deskbook = deskbook.cli:main") == 1
    return venv / "bin"


def test_wheel_maps_card_folders_into_one_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for module in ("deskbook/cli.py", "deskbook/connectors/__init__.py", "deskbook/playbooks/model.py",
                   "deskbook/scripts_library/__init__.py", "deskbook/sync/__init__.py"):
        assert module in names
    # Nothing installs under a generic top-level name.
    tops = {n.split("/", 1)[0] for n in names}
    assert tops <= {"deskbook"} | {t for t in tops if t.endswith(".dist-info")}
    assert any(n.startswith("deskbook/playbooks/") and n.endswith(".yaml") for n in names), "shipped playbook missing"
    assert any(n.startswith("deskbook/scripts_library/templates/") and n.endswith(".j2") for n in names)


def test_installed_wheel_runs_version_and_validate(venv_bin, tmp_path):
    env = {"PATH": str(venv_bin), "HOME": str(tmp_path)}
    version = subprocess.run([str(venv_bin / "deskbook"), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("deskbook ")
    validate = subprocess.run([str(venv_bin / "deskbook"), "validate"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert validate.returncode == 0, validate.stderr
    module = subprocess.run([str(venv_bin / "python"), "-m", "deskbook", "--version"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert module.returncode == 0 and module.stdout == version.stdout
    # The code really came from the wheel, not from the source tree.
    where = subprocess.run([str(venv_bin / "python"), "-c", "import deskbook.playbooks, sys; print(deskbook.playbooks.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert str(REPO) not in where.stdout

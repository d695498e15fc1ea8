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


def package_checksums(site: Path) -> dict[str, str]:
    """sha256 of every file of the installed package (bytecode caches aside: Python writes those on import)."""
    import hashlib

    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((site / "deskbook").rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_init_validate_plan_approve_in_your_own_folder_leave_the_install_untouched(venv_bin, tmp_path):
    """Issue #16 acceptance: `deskbook init mydesk && cd mydesk && deskbook validate && deskbook plan --desk
    zendesk` against the sandbox works from a fresh install, and nothing under site-packages changes."""
    from deskbook.connectors.zendesk.sandbox import running_sandbox

    python = venv_bin / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    before = package_checksums(site)
    assert any(name.endswith("approvals.yaml") for name in before)
    deskbook = str(venv_bin / "deskbook")
    env = {"PATH": str(venv_bin), "HOME": str(tmp_path)}

    def run(*argv: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([deskbook, *argv], capture_output=True, text=True, env={**env, **extra}, cwd=cwd,
                              timeout=300)

    done = run("init", "mydesk", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    mydesk = tmp_path / "mydesk"
    assert (mydesk / "deskbook.toml").is_file() and (mydesk / "scripts" / "approvals.yaml").is_file()
    done = run("validate", cwd=mydesk)
    assert done.returncode == 0, done.stderr
    assert str(mydesk / "playbook.yaml") in done.stderr  # the copy, not the shipped file

    # your own edit, reviewed and approved in your own library
    template = mydesk / "scripts" / "templates" / "en" / "closing.j2"
    template.write_text(template.read_text(encoding="utf-8").replace("All the best", "Kind regards"), encoding="utf-8")
    assert run("validate", cwd=mydesk).returncode == 1
    done = run("scripts", "approve", "closing", "--locale", "en", "--by", "Li Na", cwd=mydesk)
    assert done.returncode == 0 and "approved closing (en) v2" in done.stdout, done.stderr
    assert run("validate", cwd=mydesk).returncode == 0

    with running_sandbox() as desk:
        done = run("plan", "--desk", "zendesk", cwd=mydesk,
                   ZENDESK_URL=desk.url, ZENDESK_EMAIL=desk.email, ZENDESK_API_TOKEN=desk.token)
    assert done.returncode == 2, done.stderr  # changes to make: the playbook is not installed yet
    assert '+ create macro "' in done.stdout and desk.token not in done.stdout + done.stderr

    # outside the folder, approving would write into the package: refused
    done = run("scripts", "approve", "closing", "--by", "Li Na", cwd=tmp_path)
    assert done.returncode == 1 and "deskbook init" in done.stderr
    assert package_checksums(site) == before

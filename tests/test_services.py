"""The services script: CI runs the same setup a newcomer does, and names what is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_runs_the_services_script_and_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "sh tests/services.sh && pip install '.[test]' && python -m pytest -q"
    assert command in ci
    assert command in readme


def test_services_script_is_valid_sh():
    subprocess.run(["sh", "-n", str(REPO / "tests" / "services.sh")], check=True)


def test_chromium_renders_offline(chromium, tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<!doctype html><title>t</title><p>ok</p>", encoding="utf-8")
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert "<p>ok</p>" in out.stdout, out.stderr[-2000:]

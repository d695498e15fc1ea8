"""Shared fixtures: where ../shared is (skip cleanly when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Suite-wide contract guard: every request a test sends to a desk must match the vendor's spec
# (tests that send bad requests on purpose are marked `contract_exempt`).
pytest_plugins = ["contract_support"]


def shared_dir() -> Path | None:
    """The read-only reference folder beside the checkout, or $DESKBOOK_SHARED; None when absent."""
    candidate = Path(os.environ.get("DESKBOOK_SHARED", REPO.parent / "shared"))
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def shared() -> Path:
    """Path of ../shared; the test is skipped when it is not there."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared is absent (vendor specs, recordings and seeds live there)")
    return path


def _need(program: str, why: str) -> None:
    """Skip a test whose program is missing — except in CI, where `tests/services.sh` installs it."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{program} is missing in CI ({why}); tests/services.sh should have installed it")
    pytest.skip(f"{program} is missing ({why}); `sh tests/services.sh` installs it")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's headless `chromium` (HTML handbooks and reports are checked in it)."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _need("chromium", "HTML pages are rendered in headless Chromium")
    return path  # type: ignore[return-value]

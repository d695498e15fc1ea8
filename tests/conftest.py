"""Shared fixtures: where ../shared is (skip cleanly when it is absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Suite-wide contract guard: every request a test sends to a desk must match the vendor's spec
# (tests that send bad requests on purpose are marked `contract_exempt`).
pytest_plugins = ["contract_support"]


@pytest.fixture(autouse=True)
def _zendesk_export_lag(monkeypatch):
    """Sync runs in tests take Zendesk's export as live (`DESKBOOK_ZENDESK_EXPORT_LAG=0`: a new ledger's
    catch-up read does not wait a minute). Tests that lose a ledger within the export lag set the
    desk's lag to their sandbox's (`tests/test_sync_zendesk.py`, `tests/test_fleet.py`)."""
    if "DESKBOOK_ZENDESK_EXPORT_LAG" not in os.environ:
        monkeypatch.setenv("DESKBOOK_ZENDESK_EXPORT_LAG", "0")


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
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):  # noqa: SIM108
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


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL database for the fleet ledger tests (`tests/services.sh` starts one):
    $DESKBOOK_TEST_POSTGRES, else the local cluster's `deskbook_test` over the Unix socket."""
    url = os.environ.get("DESKBOOK_TEST_POSTGRES", "postgresql:///deskbook_test")
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=5).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        _need("a PostgreSQL server", f"{url}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis server for the Celery tests (`tests/services.sh` starts one on 127.0.0.1:6379)."""
    url = os.environ.get("DESKBOOK_TEST_REDIS", "redis://127.0.0.1:6379/15")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        _need("a Redis server", f"{url}: {exc}")
    return url


def pytest_runtest_makereport(item, call):
    """In CI a test marked `service` must not skip: its server is CI's job to provide."""
    if call.when in ("setup", "call") and call.excinfo is not None and _ci() \
            and call.excinfo.errisinstance(pytest.skip.Exception) and item.get_closest_marker("service"):
        item.user_properties.append(("service_skipped", str(call.excinfo.value)))


def pytest_sessionfinish(session, exitstatus):
    skipped = [item.nodeid for item in session.items
               if any(name == "service_skipped" for name, _ in getattr(item, "user_properties", []))]
    if skipped and _ci():
        print(f"\nCI: {len(skipped)} test(s) needing a server were skipped: {skipped[:5]}", flush=True)
        session.exitstatus = 1


@pytest.fixture
def playbook_copy(tmp_path):
    """The standard playbook and its scenario folder's coverage.yaml copied to `tmp_path` (a test adds
    its own scenario files): (playbook path, scenario folder)."""
    import shutil

    playbooks = Path(__file__).resolve().parents[1] / "playbooks"
    shutil.copy(playbooks / "standard-service.yaml", tmp_path / "standard-service.yaml")
    folder = tmp_path / "scenarios" / "standard-service"
    folder.mkdir(parents=True)
    shutil.copy(playbooks / "scenarios" / "standard-service" / "coverage.yaml", folder)
    return tmp_path / "standard-service.yaml", folder

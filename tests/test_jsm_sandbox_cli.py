"""`deskbook sandbox jsm` serves a JSM sandbox whose state lives in the --db file."""

from __future__ import annotations

import re
import subprocess
import sys

import requests


def start(db_path, *extra: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "deskbook", "sandbox", "jsm", "--port", "0", "--db", str(db_path), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    match = re.search(r"on (http://\S+)", line)
    assert match, line
    return process, match.group(1)


def test_sandbox_command_serves_seeded_organizations_and_keeps_state_in_the_db(tmp_path):
    db = tmp_path / "jsm.sqlite"
    process, url = start(db, "--seed-orgs", "3", "--token", "cli-token")
    try:
        auth = ("admin@example.com", "cli-token")
        orgs = requests.get(f"{url}/rest/servicedeskapi/organization", auth=auth, timeout=5).json()
        assert orgs["size"] == 3
        first = orgs["values"][0]["id"]
        contract = requests.get(f"{url}/rest/servicedeskapi/organization/{first}/property/deskbook.contract",
                                auth=auth, timeout=5).json()["value"]
        assert contract["customer_tier"] in {"key", "regular", "new"}
        assert re.match(r"\d{4}-\d\d-\d\d", contract["contract_end_date"])
        assert requests.get(f"{url}/rest/servicedeskapi/organization", auth=("admin@example.com", "sandbox"),
                            timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
    process, url = start(db, "--token", "cli-token")
    try:
        again = requests.get(f"{url}/rest/servicedeskapi/organization", auth=("admin@example.com", "cli-token"), timeout=5)
        assert again.json()["size"] == 3  # same file, same organizations, still one service desk
        desks = requests.get(f"{url}/rest/servicedeskapi/servicedesk", auth=("admin@example.com", "cli-token"), timeout=5)
        assert desks.json()["size"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)

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


def test_sandbox_command_plays_a_real_site_with_a_test_customer_whose_token_is_never_printed(tmp_path):
    """`--real-site --customer EMAIL` (token from $DESKBOOK_JSM_CUSTOMER_TOKEN): a local rehearsal of
    `deskbook test --desk jsm --doit` — the sandbox-only shortcuts are refused, the customer's own
    login works, and the token appears nowhere in the output."""
    import os

    secret = "li-token-7f3a91"
    env = {**os.environ, "DESKBOOK_JSM_CUSTOMER_TOKEN": secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "deskbook", "sandbox", "jsm", "--port", "0", "--db", str(tmp_path / "jsm.sqlite"),
         "--real-site", "--customer", "li@example.com"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        banner = process.stdout.readline()
        url = re.search(r"on (http://\S+)", banner).group(1)
        assert "real site" in banner and "li@example.com" in banner
        admin = ("admin@example.com", "sandbox")
        assert requests.post(f"{url}/sandbox/clock", json={"advance_seconds": 60}, auth=admin, timeout=5).status_code == 404
        mine = requests.get(f"{url}/rest/servicedeskapi/request", auth=("li@example.com", secret), timeout=5)
        assert mine.status_code == 200, mine.text
        assert requests.get(f"{url}/rest/servicedeskapi/request", auth=("li@example.com", "wrong"), timeout=5).status_code == 401
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert secret not in banner + out + err


def test_sandbox_command_refuses_a_customer_without_a_token_in_one_line(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k != "DESKBOOK_JSM_CUSTOMER_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "deskbook", "sandbox", "jsm", "--port", "0", "--customer", "li@example.com"],
                          capture_output=True, text=True, env=env, timeout=30)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "--customer" in done.stderr and "DESKBOOK_JSM_CUSTOMER_TOKEN" in done.stderr

"""`deskbook test`: does the installed process work? Runs the playbook's scenarios on a desk.

    deskbook test [--desk zendesk|jsm] [--playbook P] [--scenario NAME] [--json]
    deskbook test --desk zendesk --url ... --email ... --token ... [--doit]

By default each scenario runs on a fresh embedded sandbox desk with the playbook installed (rules
executed, a clock the scenario moves). With real desk credentials (flags or the desk's
environment variables) and `--doit` the same scenarios run against that desk: marked test
tickets, the outcome read back, the tickets deleted afterwards; steps after the first
`time_passes` are skipped there (and listed). Without `--doit` nothing is written: it says what it
would create. Exit 0 when every scenario passed and every SOP id is proved or listed as not
expressible, 1 otherwise (naming scenario, step, expected and actual).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add `deskbook test`."""
    p = subparsers.add_parser("test", help="run the playbook's scenarios on a sandbox (or real) desk: "
                                           "does the installed process behave as the SOP says?")
    p.add_argument("--desk", choices=["zendesk", "jsm"], help="which desk (default zendesk)")
    p.add_argument("--playbook", metavar="NAME|PATH", help="playbook (default: the shipped standard-service)")
    p.add_argument("--scripts", metavar="DIR", help="phrase library folder (default: the shipped one)")
    p.add_argument("--scenario", metavar="NAME", action="append", help="run only this scenario (repeatable)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object per desk")
    p.add_argument("--url", help="a real desk's base URL (Zendesk: env ZENDESK_URL; JSM: env JIRA_URL)")
    p.add_argument("--email", help="agent email of the real desk")
    p.add_argument("--token", help="API token of the real desk; never printed")
    p.add_argument("--doit", action="store_true", help="with a real desk: really create (and delete) test tickets")
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace):
    """Handler (imports the runner only when the command runs)."""
    from deskbook.connectors.scenarios.run import cmd_test as run

    return run(args)

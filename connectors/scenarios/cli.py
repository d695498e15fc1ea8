"""`deskbook test`: does the installed process work? Runs the playbook's scenarios on a desk.

    deskbook test [--desk DESK] [--playbook P] [--scenario NAME] [--json]
    deskbook test --desk DESK --url ... --email ... --token ... [desk flags] [--doit]

By default each scenario runs on a fresh embedded sandbox desk with the playbook installed (rules
executed, a clock the scenario moves). With a real desk (flags or the desk's environment
variables) and `--doit` the same scenarios run against that desk: marked test tickets, the
outcome read back, the tickets removed afterwards; steps a real desk cannot take (time passing,
a customer's step without the customer's own login) are skipped, and the rest of that story with
them (listed, with the reason). Without `--doit` nothing is written: it says what it would create.
Exit 0 when every scenario passed and every SOP id is proved or listed as not expressible, 1
otherwise (naming scenario, step, expected and actual).

Which desks: those whose `Desk` names a scenario driver (`Desk.scenario_module`); this module and
`run.py` name none (the desk contract, `connectors/desk.py`).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add `deskbook test`."""
    from deskbook.connectors.commands import add_connection_flags
    from deskbook.connectors.registry import all_desks, default_desk

    offered = [d for d in all_desks() if d.scenario_module]
    p = subparsers.add_parser("test", help="run the playbook's scenarios on a sandbox (or real) desk: "
                                           "does the installed process behave as the SOP says?")
    p.add_argument("--desk", choices=[d.name for d in offered], help=f"which desk (default {default_desk()})")
    p.add_argument("--playbook", metavar="NAME|PATH", help="playbook (default: the shipped standard-service)")
    p.add_argument("--scripts", metavar="DIR", help="phrase library folder (default: the shipped one)")
    p.add_argument("--scenario", metavar="NAME", action="append", help="run only this scenario (repeatable)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object per desk")
    add_connection_flags(p, "test", offered)
    p.add_argument("--doit", action="store_true", help="with a real desk: really create (and remove) test tickets")
    p.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace):
    """Handler (imports the runner only when the command runs)."""
    from deskbook.connectors.scenarios.run import cmd_test as run

    return run(args)

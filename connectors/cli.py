"""Desk commands: `sandbox` (local desks) and plan/apply/uninstall/export/demo/verify."""

from deskbook.connectors import commands, sandbox_cli
from deskbook.connectors.scenarios import cli as scenarios_cli


def register(subparsers) -> None:
    """Add the desk commands to the `deskbook` parser."""
    sandbox_cli.register(subparsers)
    commands.register(subparsers)
    scenarios_cli.register(subparsers)

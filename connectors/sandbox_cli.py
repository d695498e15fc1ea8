"""`deskbook sandbox zendesk|jsm`: run a local desk that answers like the real one."""

import importlib

#: Sandbox packages; each exposes `add_sandbox_command(sandbox_subparsers)`.
SANDBOX_MODULES = ("deskbook.connectors.zendesk.sandbox", "deskbook.connectors.jsm.sandbox")


def register(subparsers) -> None:
    """Add `deskbook sandbox <desk>` with one sub-command per sandbox desk."""
    parser = subparsers.add_parser("sandbox", help="run a local sandbox desk (Zendesk or JSM)")
    desks = parser.add_subparsers(dest="desk", metavar="DESK", required=True)
    for name in SANDBOX_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a desk whose sandbox has not landed yet
            if exc.name != name:
                raise
            continue
        module.add_sandbox_command(desks)

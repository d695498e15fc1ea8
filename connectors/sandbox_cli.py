"""`deskbook sandbox zendesk|jsm`: run a local desk that answers like the real one.

The desk sub-commands are registered on demand: each sandbox package imports its web server
(werkzeug) and, for JSM, the OpenAPI request checker, and registering them while the parser
is built made every `deskbook` command pay for those imports.
"""

import argparse
import importlib

#: Sandbox packages; each exposes `add_sandbox_command(sandbox_subparsers)`.
SANDBOX_MODULES = ("deskbook.connectors.zendesk.sandbox", "deskbook.connectors.jsm.sandbox")


class DeskSubcommandsOnDemand(argparse._SubParsersAction):
    """The DESK sub-commands of `deskbook sandbox`, added the first time argparse needs them.

    argparse reads `choices` to accept or reject a DESK argument and calls `_get_subactions()`
    to list the desks in help; both register the desks first. Building the parser and every
    other command never import a sandbox package.
    """

    def __init__(self, *args, **kwargs):
        self._desks_registered = False
        super().__init__(*args, **kwargs)

    @property
    def choices(self) -> dict[str, argparse.ArgumentParser]:
        """Desk name -> its parser (registers the desks on first use)."""
        self.register_desks()
        return self._name_parser_map

    @choices.setter
    def choices(self, value) -> None:
        # argparse.Action.__init__ stores `self._name_parser_map` here; the getter returns that map.
        pass

    def _get_subactions(self) -> list[argparse.Action]:
        self.register_desks()
        return super()._get_subactions()

    def register_desks(self) -> None:
        """Import each sandbox package and let it add its desk sub-command (once)."""
        if self._desks_registered:
            return
        self._desks_registered = True
        for name in SANDBOX_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:  # a desk whose sandbox has not landed yet
                if exc.name != name:
                    raise
                continue
            module.add_sandbox_command(self)


def register(subparsers) -> None:
    """Add `deskbook sandbox <desk>`; the desks' own sub-commands are added when first needed."""
    parser = subparsers.add_parser("sandbox", help="run a local sandbox desk (Zendesk or JSM)")
    parser.add_subparsers(dest="desk", metavar="DESK", required=True, action=DeskSubcommandsOnDemand)

"""Which desks there are: desk name -> its `Desk` (`connectors/desk.py`), one line per desk.

A third desk is one new package with a light `desk.py` defining its `Desk`, plus one line in
`DESKS`. The shared commands (`connectors/commands.py`, `sync/cli.py`) ask this module for
desks and never name one.
"""

from __future__ import annotations

import importlib

from deskbook.connectors.desk import Desk
from deskbook.errors import DeskbookError

#: desk name -> "module:attribute" of its `Desk` (light modules: the CLI parser imports them).
#: The first desk is the default of the commands whose `--desk` is optional (`demo`, `sync`).
DESKS: dict[str, str] = {
    "zendesk": "deskbook.connectors.zendesk.desk:DESK",
    "jsm": "deskbook.connectors.jsm.desk:DESK",
}


def desks() -> list[str]:
    """Desk names, sorted (the `--desk` choices)."""
    return sorted(DESKS)


def default_desk() -> str:
    """The desk of commands whose `--desk` may be left out."""
    return next(iter(DESKS))


def get_desk(name: str) -> Desk:
    """The `Desk` called `name`; DeskbookError naming the ones there are."""
    target = DESKS.get(name)
    if target is None:
        raise DeskbookError(f"no desk called {name!r}", hint="available: " + ", ".join(desks()))
    module, _, attribute = target.partition(":")
    desk = getattr(importlib.import_module(module), attribute)
    if not isinstance(desk, Desk):
        raise TypeError(f"{target} is not a deskbook.connectors.desk.Desk")
    return desk


def all_desks() -> list[Desk]:
    """Every registered `Desk`, in registry order."""
    return [get_desk(name) for name in DESKS]

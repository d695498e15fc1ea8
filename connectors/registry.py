"""Which connector serves which desk: `get_connector(desk)` -> its `DeskConnector` class."""

from __future__ import annotations

import importlib
from typing import Any

from deskbook.errors import DeskbookError

#: desk name -> "module:Class" of its `DeskConnector` subclass (imported on first use).
CONNECTORS: dict[str, str] = {
    "zendesk": "deskbook.connectors.zendesk.connector:ZendeskConnector",
    "jsm": "deskbook.connectors.jsm.connector:JsmConnector",
}


def desks() -> list[str]:
    """Desk names with a connector."""
    return sorted(CONNECTORS)


def get_connector(desk: str) -> Any:
    """The connector class for `desk` (it offers `.connect(url, email, token)`)."""
    target = CONNECTORS.get(desk)
    if target is None:
        raise DeskbookError(f"no plan/apply connector for desk {desk!r}",
                            hint="available: " + ", ".join(desks()))
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)

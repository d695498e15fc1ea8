"""Approved phrasing: Jinja templates per phrase and locale, approval lock, rendering.

Public API (see docs/architecture.md, "Phrases"): `load_library`, `Library.phrase/ids/validate`,
`approve`, `render_for_desk`, `render_values`. Names are imported on first use, so a command that
never renders does not import Jinja.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "LOCALES": "library",
    "STANDARD_PHRASES": "library",
    "Library": "library",
    "Phrase": "library",
    "Variable": "library",
    "approve": "library",
    "load_library": "library",
    "render_for_desk": "render",
    "render_values": "render",
    "render_customer_text": "render",
}

__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    """The public name `name`, from the module that defines it."""
    if name not in _HOMES:
        raise AttributeError(f"module 'deskbook.scripts_library' has no attribute {name!r}")
    return getattr(import_module(f"deskbook.scripts_library.{_HOMES[name]}"), name)

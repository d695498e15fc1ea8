"""Approved phrasing: Jinja templates per phrase and locale, approval lock, rendering.

Public API (see docs/architecture.md, "Phrases"): `load_library`, `Library.phrase/ids/validate`,
`approve`, `render_for_desk`, `render_values`.
"""

from deskbook.scripts_library.library import (
    LOCALES,
    STANDARD_PHRASES,
    Library,
    Phrase,
    Variable,
    approve,
    load_library,
)
from deskbook.scripts_library.render import render_for_desk, render_values

__all__ = [
    "LOCALES",
    "STANDARD_PHRASES",
    "Library",
    "Phrase",
    "Variable",
    "approve",
    "load_library",
    "render_for_desk",
    "render_values",
]

"""Rendering phrases: desk placeholders for macros, or real values for sync jobs.

Both modes render the sandboxed template with plain strings for its variables. Jinja inserts
a string as text and never evaluates it again, so a desk placeholder such as
`{{ticket.requester.name}}` comes out literally, and so does a customer called `{{ 7*7 }}`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from markupsafe import escape

from deskbook.errors import DeskbookError
from deskbook.scripts_library import engine
from deskbook.scripts_library.library import Library, Phrase, compile_unapproved
from deskbook.scripts_library.placeholders import DESKS, customer_text_problem, placeholders_for


def _render(library: Library, phrase: Phrase, variables: Mapping[str, str]) -> str:
    """Render the approved `phrase` with string `variables` (all declared ones present), bounded."""
    return engine.render(library.template(phrase), variables, phrase.path).strip()


def trial_render(phrase: Phrase) -> None:
    """Render `phrase` (approved or not) with its example values and with each desk's placeholders,
    within the bounds: what `approve` asks of a template before it records an approval."""
    template = compile_unapproved(phrase)
    engine.render(template, phrase.examples(), phrase.path)
    for desk in DESKS:
        engine.render(template, placeholders_for(desk, phrase.variable_names, phrase.locale), phrase.path)


def render_for_desk(
    library: Library,
    phrase_id: str,
    locale: str,
    desk: str,
    extra_placeholders: Mapping[str, str] | None = None,
    constants: Mapping[str, str] | None = None,
) -> str:
    """The phrase with every variable replaced by `desk`'s own placeholder ("zendesk" or "jsm").

    `extra_placeholders` maps a variable to the placeholder (or plain text) a connector wants for
    it (e.g. a custom field's placeholder for `eta`); `constants` are the playbook's company-wide
    values (variable -> text in `locale`), used where the desk has no placeholder; variables
    without any become a visible localized fill-in marker such as `[ETA]` (see `placeholders`).
    """
    phrase = library.phrase(phrase_id, locale)
    return _render(library, phrase, placeholders_for(desk, phrase.variable_names, locale, extra_placeholders, constants))


def render_customer_text(
    library: Library,
    phrase_id: str,
    locale: str,
    desk: str,
    *,
    where: str,
    constants: Mapping[str, str] | None = None,
    extra_placeholders: Mapping[str, str] | None = None,
    otherwise: str | None = None,
) -> tuple[str, DeskbookError | None]:
    """(text, problem): the phrase rendered like `render_for_desk` for a text the desk sends to the
    customer without an agent's edit, and the error naming `where` when it still holds a fill-in slot
    (`placeholders.customer_text_problem`; None when it holds none). The caller raises the problem,
    or (a limit the playbook accepts) keeps the text away from the customer."""
    text = render_for_desk(library, phrase_id, locale, desk, extra_placeholders, constants)
    return text, customer_text_problem(text, where=where, phrase=phrase_id, locale=locale, desk=desk, otherwise=otherwise)


def _as_text(value: Any) -> str:
    """A supplied value as display text (dates in ISO form)."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


def text_to_html(text: str) -> str:
    """Plain text as HTML: everything escaped, blank-line paragraphs as <p>, line breaks as <br>."""
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    return "".join("<p>" + "<br>\n".join(str(escape(line)) for line in p.split("\n")) + "</p>" for p in paragraphs)


def render_values(
    library: Library,
    phrase_id: str,
    locale: str,
    values: Mapping[str, Any],
    html: bool = False,
) -> str:
    """The phrase filled with real `values` (never evaluated as templates); HTML-escaped when `html`.

    Every declared variable needs a value (DeskbookError naming the missing ones); values
    for variables the phrase does not use are ignored, so one context can serve many phrases.
    """
    phrase = library.phrase(phrase_id, locale)
    missing = [name for name in phrase.variable_names if name not in values]
    if missing:
        raise DeskbookError(
            f"phrase {phrase_id!r} ({locale}) needs a value for {', '.join(missing)}",
            hint="variables of this phrase: " + ", ".join(phrase.variable_names),
        )
    text = _render(library, phrase, {name: _as_text(values[name]) for name in phrase.variable_names})
    return text_to_html(text) if html else text

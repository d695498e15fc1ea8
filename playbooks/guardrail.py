"""C-1 at work: the forbidden phrases also govern what agents write to customers.

`forbidden_phrases` already keeps blame-shifting phrases out of the approved templates
(`Library.validate`). A playbook with a `guardrail:` section also gets, on each desk, one rule per
forbidden phrase (`guard_rules`) that catches a *public* reply *by an agent* containing the phrase
— any locale's phrase, whatever the case, inside a sentence without spaces too (Chinese) — and

* tags the ticket `CAUGHT_TAG` (the weekly report counts caught replies by it; import the constant,
  never spell the tag),
* gives the agent a note (`note_text`: the playbook's approved note phrase naming the phrase and
  the approved alternative, whose text comes from the phrase library too),
* notifies the playbook's `notify_group` (the supervisors) with the same note.

A customer's comment and an internal note are not caught: the rule tests the comment's
visibility and its author's role. Each desk's connector turns a `GuardRule` into its own rule
(Zendesk: a trigger on the comment text; JSM: an automation rule on the comment body).
Everything here is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: The tag a caught reply leaves on its ticket (Zendesk tag, JSM label).
CAUGHT_TAG = "deskbook_forbidden_phrase"
#: The SOP item the guardrail implements.
ITEM = "C-1"


@dataclass(frozen=True)
class GuardRule:
    """One forbidden phrase to catch: the rule's key, the phrase's locale, the phrase and the
    approved phrase id to use instead."""

    key: str
    locale: str
    phrase: str
    alternative: str


def guard_rules(playbook: Any) -> list[GuardRule]:
    """The rules a playbook's guardrail installs, one per forbidden phrase in playbook order
    (keys `forbidden_phrase_<locale>_<n>`); none without a `guardrail:` section."""
    guardrail = playbook.guardrail
    if guardrail is None:
        return []
    out = []
    for locale, phrases in playbook.forbidden_phrases.items():
        slug = re.sub(r"[^a-z0-9]+", "_", locale.lower()).strip("_")
        for n, phrase in enumerate(phrases, start=1):
            alternative = guardrail.alternatives.get(locale, {}).get(phrase)
            if alternative is None:  # the loader refuses this; objects built in code may still lack one
                raise ValueError(f"forbidden phrase {phrase!r} ({locale}) has no approved alternative")
            out.append(GuardRule(f"forbidden_phrase_{slug}_{n}", locale, phrase, alternative))
    return out


def note_text(library: Any, playbook: Any, rule: GuardRule, desk: str) -> str:
    """The agent's note for a catch of `rule`: the approved note phrase in the phrase's locale, with
    the phrase and the alternative's approved text (the desk's placeholders in it, filled by the
    desk when it sends the note)."""
    from deskbook.scripts_library import render_for_desk, render_values

    alternative = render_for_desk(library, rule.alternative, rule.locale, desk).strip()
    return render_values(library, playbook.guardrail.note, rule.locale,
                         {"forbidden_phrase": rule.phrase, "alternative": alternative}).strip()


def rule_title(rule: GuardRule) -> str:
    """The rule's name on the desk (in the phrase's own language)."""
    if rule.locale.lower().startswith("zh"):
        return f"C-1 禁用语提醒：“{rule.phrase}”"
    return f'C-1 forbidden phrase: "{rule.phrase}"'

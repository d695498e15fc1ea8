"""S-11: each surveyed request's results on the customer's organization record, once, within 48 h.

The SOP asks for the three 1-5 scores (response speed, resolution, attitude) and the suggestions
"in the CRM within 48 h". The customer record (the playbook's `survey.record` organization
fields) holds the customer's **last survey**: its day, the request it was about,
the three scores and the suggestions. That is what an agent opening the customer needs before the
next call; the weekly figures (averages, counts) are the report's (#15), computed from the
tickets themselves, so nothing on the record is a running total a repeated write could skew.

Pure functions, no I/O:

* A result is a solved request of an organization with all three scores set (a score set alone
  is not yet a result: the phone survey records them one by one); its key is
  `deskbook:surveys:<organization id>:<ticket id>`.
* `survey_due(results, held, done)`: the newest result not yet settled is **written**; older
  unsettled ones are **superseded** (marked done without a write: the newest would overwrite them
  at once); a result the record already holds, or one older than it, is **held** (done without a
  write — this is how a lost ledger learns from the desk what is done).
* The runner writes with the task jobs' intent log: `pending` before the write, `done` after; a
  `pending` row left by a killed run is checked against the record (the desk's own
  `survey_held`) before writing again.

Timing: scores are entered on the request (the phone survey within 24 h of solving, or by the
customer on the request page); the daily run reads the requests solved or changed since the last
run (the same incremental read the task jobs do, no request per ticket) and writes the record, so
a result reaches the record within 24 h of being entered — within 48 h of solving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

SURVEY_JOB = "surveys"
_SCORE = re.compile(r"(?:^|_)([1-5])$")


def score_of(option_value: str | None) -> int | None:
    """The 1-5 score of a survey dropdown option value (`score_4` -> 4); None for anything else."""
    found = _SCORE.search(option_value or "")
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class SurveyFields:
    """The playbook's survey fields (keys): the ticket's scores and suggestions, the record's fields."""

    response_speed: str
    resolution: str
    attitude: str
    suggestions: str
    record_date: str
    record_ticket: str
    record_response_speed: str
    record_resolution: str
    record_attitude: str
    record_suggestions: str
    #: the suggestions field's titles (every locale): a desk where agents cannot fill that field
    #: (JSM) takes an internal note starting with one of them and a colon as the suggestions
    suggestions_titles: tuple[str, ...] = ()

    @classmethod
    def from_playbook(cls, survey, fields=()) -> "SurveyFields":
        """From a playbook's `survey:` section (and its `fields`, for the suggestions field's titles)."""
        r = survey.record
        titles = tuple(dict.fromkeys(t for f in fields if f.key == survey.suggestions for t in f.title.values.values()))
        return cls(survey.response_speed, survey.resolution, survey.attitude, survey.suggestions,
                   r.date, r.ticket, r.response_speed, r.resolution, r.attitude, r.suggestions, titles)


def survey_scores(fields: SurveyFields, score: Callable[[str], int | None]) -> tuple[int, int, int] | None:
    """The request's three scores (response speed, resolution, attitude), `score(field key)` reading
    each as the desk keeps it; None unless all three are set (one score alone is not yet a result)."""
    found = tuple(score(key) for key in (fields.response_speed, fields.resolution, fields.attitude))
    return None if None in found else found  # type: ignore[return-value]


def suggestions_in_note(body: str, titles: Iterable[str]) -> str | None:
    """The suggestions an agent's note gives (`Suggestions: …`, `客户建议：…`), None for another note."""
    text = (body or "").strip()
    for title in titles:
        for colon in (":", "：", " :"):
            if title and text.startswith(title + colon):
                return text[len(title) + len(colon):].strip()
    return None


def noted_suggestions(notes: Iterable[str], titles: Iterable[str]) -> str | None:
    """The suggestions of the newest of `notes` (internal notes' texts, oldest first) that gives them;
    None when none does. The one reading for the survey job and the weekly review."""
    titles = tuple(titles)
    found = None
    for body in notes:
        found = suggestions_in_note(body, titles) or found
    return found


@dataclass(frozen=True)
class SurveyResult:
    """One surveyed request of an organization."""

    organization_id: int
    ticket_id: int
    day: str  # YYYY-MM-DD of the survey: the solved request's last update (when its scores were entered)
    response_speed: int
    resolution: int
    attitude: int
    suggestions: str = ""

    @property
    def key(self) -> str:
        """The ledger key (`deskbook:surveys:<organization id>:<ticket id>`)."""
        return survey_key(self.organization_id, self.ticket_id)

    def order(self) -> tuple[str, int]:
        """Newer results sort later: by survey day, then request id."""
        return (self.day, self.ticket_id)


@dataclass(frozen=True)
class HeldSurvey:
    """What an organization's record holds now (from the organization export): request id and day."""

    ticket: str | None = None
    day: str | None = None

    @classmethod
    def of(cls, ticket: object, day: object) -> "HeldSurvey":
        """From the record's raw request and date values (empty ones: None; the date's first 10 characters)."""
        return cls(str(ticket) if ticket not in (None, "") else None, str(day)[:10] if day else None)

    def order(self) -> tuple[str, int] | None:
        """The held survey's position among results (None: the record is empty or unreadable)."""
        if not self.ticket or not str(self.ticket).strip().isdigit():
            return None
        return (str(self.day or "")[:10], int(str(self.ticket).strip()))


def survey_key(organization_id: int, ticket_id: int) -> str:
    """The stable key of one organization's survey result of one request."""
    return f"deskbook:{SURVEY_JOB}:{organization_id}:{ticket_id}"


@dataclass(frozen=True)
class SurveyDue:
    """What to do for one organization: the result to write (or None), and the results to mark
    done without a write (superseded by a newer one, or already held by the record)."""

    write: SurveyResult | None
    superseded: tuple[SurveyResult, ...] = ()
    held: tuple[SurveyResult, ...] = ()


def survey_due(results: Iterable[SurveyResult], held: HeldSurvey, done: set[str]) -> SurveyDue:
    """The organization's due write (see the module docstring). `done`: keys the ledger has done."""
    open_results = sorted((r for r in results if r.key not in done), key=SurveyResult.order)
    mark = held.order()
    already = tuple(r for r in open_results if mark is not None and r.order() <= mark)
    newer = [r for r in open_results if mark is None or r.order() > mark]
    if not newer:
        return SurveyDue(None, (), already)
    return SurveyDue(newer[-1], tuple(newer[:-1]), already)


def record_values(result: SurveyResult, fields: SurveyFields) -> dict[str, object]:
    """The organization fields the write sets (keys as the playbook names them)."""
    return {
        fields.record_date: result.day,
        fields.record_ticket: str(result.ticket_id),
        fields.record_response_speed: result.response_speed,
        fields.record_resolution: result.resolution,
        fields.record_attitude: result.attitude,
        fields.record_suggestions: result.suggestions,
    }

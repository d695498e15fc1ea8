"""`deskbook report`: the S-13 weekly service review, computed from the desk's own data.

Three layers, so that a desk adds only a reader:

- `records.py` — the desk-neutral records a reader hands over (`DeskData`: tickets in the
  playbook's words, with the desk's own satisfaction answer; SLA cycles; the request count);
- `metrics.py` — pure functions from `DeskData` and the playbook to the review (`build_report`,
  the dict `--json` prints): first reply time (average and median, calendar and business hours
  of the playbook's schedule and holidays), first-contact resolution, the three S-11 scores and
  the desk's own rating, SLA attainment per playbook target, complaints by root cause (C-3) and
  remedy (C-4), relationship work due vs done (R-1..R-4), backlog age, C-1 guardrail catches and
  the cases to review;
- one reader per desk, reached through the desk contract (`Desk.report_reader`): Zendesk
  (`zendesk_reader.py`) and JSM (`jsm_reader.py`), each reading documented endpoints
  incrementally and counting its requests (each module's docstring gives its cost);
- `html.py` — the review as one self-contained HTML file (inline SVG charts drawn by pygal, CSS
  inline, nothing fetched), in the playbook's locale, printable; `cli.py` — the command;
  `week.py` — the simulated week `deskbook demo` drives through a sandbox desk before reporting.
"""

from __future__ import annotations

#: The tag (Zendesk) / label (JSM) the C-1 guardrail rule puts on a ticket whose public agent reply
#: holds a forbidden phrase; the report counts tickets carrying it. One constant for the rule and the
#: report: the rule's module owns it (`deskbook.playbooks.guardrail.CAUGHT_TAG`).
from deskbook.playbooks.guardrail import CAUGHT_TAG

GUARDRAIL_TAG = CAUGHT_TAG

"""`deskbook report [--desk zendesk|jsm] [--week 2026-W49 | --from D --to D] [--html FILE] [--json]`.

The S-13 weekly review read from the desk (connection as for every desk command) and computed by
`metrics.build_report`; without `--week` or `--from/--to` it covers the last complete week in the
playbook's time zone. Prints a summary (or the JSON with `--json`); `--html FILE` also writes the
review as one self-contained HTML page in the playbook's default locale (`--locale` to choose).
This module names no desk: the reader is `Desk.report_data` of `--desk`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from deskbook.errors import DeskbookError, ExitCode


def register(subparsers: Any) -> None:
    """Add `report` to the `deskbook` parser."""
    from deskbook.connectors.commands import connection_parent, playbook_parent

    p = subparsers.add_parser("report", parents=[connection_parent(), playbook_parent()],
                              help="the weekly service review (S-13) from the desk's own data")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W49 (default: the last complete week)")
    when.add_argument("--from", dest="date_from", metavar="DATE", help="first day (YYYY-MM-DD; with --to)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last day, inclusive (with --from)")
    p.add_argument("--html", metavar="FILE", help="also write the review as one self-contained HTML file")
    p.add_argument("--locale", help="locale of the HTML (default: the playbook's default locale)")
    p.add_argument("--json", action="store_true", help="print the review as one JSON object")
    p.set_defaults(func=cmd_report)


def window_of(args: argparse.Namespace, playbook: Any, now: float) -> tuple[float, float, str]:
    """(start, end, label) from --week / --from --to / the last complete week."""
    from deskbook.connectors.report.metrics import dates_window, last_week, week_window

    zone = playbook.metadata.time_zone
    if args.week:
        return week_window(args.week, zone)
    if args.date_from or args.date_to:
        if not (args.date_from and args.date_to):
            raise DeskbookError("--from and --to go together", where="deskbook report", hint="give both dates")
        return dates_window(args.date_from, args.date_to, zone)
    return last_week(now, zone)


def cmd_report(args: argparse.Namespace) -> ExitCode:
    """Read the desk, compute the review, print it (and write the HTML)."""
    from deskbook.connectors.commands import desk_options, load_inputs
    from deskbook.connectors.registry import get_desk
    from deskbook.log import register_secret

    playbook, _library = load_inputs(args)
    register_secret(getattr(args, "token", None))
    check_locale(playbook, args.locale)  # before the desk is read: bad input costs no requests
    window = window_of(args, playbook, time.time())
    options = desk_options(args, "desk")
    data = get_desk(args.desk).report_data(args.url, args.email, args.token, playbook, window[0], window[1],
                                           **options)
    report = compute_and_write(playbook, data, window, html=args.html, locale=args.locale)
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(summary(report))
        if args.html:
            print(f"HTML: {args.html}")
    return ExitCode.OK


def compute_and_write(playbook: Any, data: Any, window: tuple[float, float, str], *, html: str | None = None,
                      json_path: str | None = None, locale: str | None = None) -> dict[str, Any]:
    """The review dict; with `html`/`json_path` also written there (the demo writes both)."""
    from deskbook.connectors.report.metrics import build_report

    report = build_report(playbook, data, window)
    if html:
        from deskbook.connectors.report.html import render_html

        write_text(html, render_html(report, playbook, locale or playbook.metadata.default_locale))
    if json_path:
        write_text(json_path, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


def check_locale(playbook: Any, locale: str | None) -> None:
    """`--locale`, when given, is one of the playbook's locales."""
    if locale and locale not in playbook.metadata.locales:
        raise DeskbookError(f"--locale {locale} is not one of the playbook's locales",
                            where="deskbook report --locale", hint="use one of " + ", ".join(playbook.metadata.locales))


def write_text(path: str, text: str) -> None:
    """Write a review file whole or not at all (`deskbook.output`, the one owner of written documents)."""
    from deskbook.output import write_output

    write_output(text, path, "the review")


def summary(report: dict[str, Any]) -> str:
    """The review in a few lines for a terminal."""
    fr, sat, sla = report["first_reply_minutes"], report["satisfaction"], report["sla"]
    fcr = report["first_contact_resolution_rate"]
    rel = ", ".join(f"{k} {v['done']}/{v['due']}" for k, v in report["relationship"].items())
    lines = [
        f"Service review {report['window']['label']} ({report['desk']}, playbook {report['playbook']}):",
        f"  requests {report['intake']['requests']}, solved {report['intake']['solved']}",
        f"  first reply: average {fr['average']} min, median {fr['median']} min "
        f"(business hours: {fr['business']['average']} / {fr['business']['median']})",
        f"  first-contact resolution: {'-' if fcr is None else f'{fcr:.0%}'}",
        f"  scores (1-5): speed {sat['response_speed']}, resolution {sat['resolution']}, attitude {sat['attitude']} "
        f"from {sat['responses']} survey(s); desk rating {sat['desk_rating']['good']} good / {sat['desk_rating']['bad']} bad",
        f"  SLA: {sla['met']} met, {sla['breached']} breached, {sla['open']} open",
        f"  complaints by root cause: {report['complaints_by_root_cause'] or '-'}",
        f"  relationship work done/due: {rel or '-'}",
        f"  backlog: {report['backlog']['open']} open, oldest {report['backlog']['oldest_age_days']} days",
        f"  forbidden phrases caught: {report['forbidden_phrases_caught']}",
        f"  cases to review: {len(report['cases_to_review'])}",
        f"  read in {report['requests']['total']} requests",
    ]
    return "\n".join(lines)

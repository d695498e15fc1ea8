"""Commands of deskbook.playbooks: `validate` and `schema` (registered into the main parser by deskbook.cli)."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys

from deskbook.errors import ExitCode, ValidationError

log = logging.getLogger("deskbook.playbooks")


def register(subparsers) -> None:
    """Add `validate` and `schema` to the `deskbook` parser."""
    validate = subparsers.add_parser(
        "validate",
        help="check a playbook and the approved phrases it uses",
        description=(
            "Load a playbook (default: the shipped standard-service) and check it against its schema and "
            "references, then check the phrase library: approval lock, declared variables, the playbook's "
            "forbidden phrases, and that every phrase the playbook uses exists in each of its locales; and, "
            "for every desk, that no text a desk sends customers without an agent's edit still holds a "
            "fill-in slot such as [Company name] (the check plan runs; no desk is contacted)."
        ),
    )
    validate.add_argument("playbook", metavar="PLAYBOOK", nargs="?",
                          help="a playbook .yaml file or a shipped playbook name (default: standard-service)")
    validate.add_argument("--scripts", metavar="DIR",
                          help="a phrase library folder (holding templates/ and approvals.yaml); default: the shipped one")
    validate.add_argument("--json", action="store_true",
                          help="print {playbook, ok, problems, files} on stdout (files: problem count per file)")
    validate.set_defaults(func=cmd_validate)

    schema = subparsers.add_parser(
        "schema",
        help="print the playbook JSON Schema (for editors)",
        description="Print the JSON Schema (draft 2020-12) that playbook YAML files follow.",
    )
    schema.set_defaults(func=cmd_schema)


def validation_problems(playbook_arg: str | None, scripts_dir: str | None) -> tuple[str, list[str]]:
    """(playbook shown name, every problem) of a playbook plus the phrase library it uses."""
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library

    library = load_library(scripts_dir)
    try:
        playbook = load_playbook(playbook_arg, phrase_ids=set(library.ids()),
                                 phrase_locales={locale for _, locale in library.phrases})
    except ValidationError as exc:
        return str(playbook_arg or "standard-service"), list(exc.problems)
    problems = library.validate(
        forbidden=playbook.forbidden_phrases,
        required=playbook.phrases_used(),
        locales=playbook.metadata.locales,
    )
    return playbook.path, problems + customer_text_problems(playbook, library)


def customer_text_problems(playbook, library) -> list[str]:
    """The check `plan` and `apply` run per desk (`placeholders.customer_text_problem` through each
    desk's translation), for every registered desk, offline: one line per customer-visible text that
    still holds a fill-in slot, `file:line:column: <desk>: <rule>: ... phrase ... slot (what to do)`."""
    from deskbook.connectors.registry import all_desks

    return [str(problem) for desk in all_desks() for problem in desk.customer_text_problems(playbook, library)]


#: The file a problem line names: everything before its optional `:line[:column]` and the first ": ".
_PROBLEM_FILE = re.compile(r"(?P<file>.+?)(?::\d+)*: ")
#: Where problems that name no file are counted.
NO_FILE = "(no file named)"


def problem_file(problem: str) -> str | None:
    """The file a problem line starts with (`path[:line[:column]]: message`), or None."""
    match = _PROBLEM_FILE.match(problem)
    return match.group("file") if match else None


def problems_per_file(problems: list[str]) -> dict[str, int]:
    """How many problems each file has, files in the order their first problem appears."""
    counts: dict[str, int] = {}
    for problem in problems:
        file = problem_file(problem) or NO_FILE
        counts[file] = counts.get(file, 0) + 1
    return counts


def summary_line(problems: list[str]) -> str:
    """The closing line of a failed `validate`: the total, then each file with its count."""
    counts = problems_per_file(problems)
    files = ", ".join(f"{file} ({count})" for file, count in counts.items())
    return f"deskbook: {len(problems)} problem(s) in {len(counts)} file(s): {files}"


def cmd_validate(args: argparse.Namespace) -> ExitCode:
    """`deskbook validate`: problems on stderr (or JSON on stdout), exit 0 when there are none."""
    shown, problems = validation_problems(args.playbook, args.scripts)
    if args.json:
        report = {"playbook": shown, "ok": not problems, "problems": problems, "files": problems_per_file(problems)}
        json.dump(report, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for problem in problems:
            print(problem, file=sys.stderr)
    if problems:
        print(summary_line(problems), file=sys.stderr)
        return ExitCode.ERROR
    log.info("%s: playbook and phrases are valid", shown)
    return ExitCode.OK


def cmd_schema(args: argparse.Namespace) -> ExitCode:
    """`deskbook schema`: the playbook JSON Schema on stdout."""
    from deskbook.playbooks.schema import playbook_schema

    json.dump(playbook_schema(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return ExitCode.OK

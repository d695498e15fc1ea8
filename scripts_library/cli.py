"""Commands of deskbook.scripts_library: `render`, `scripts list`, `scripts approve`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from deskbook.errors import DeskbookError, ExitCode
from deskbook.scripts_library.library import LOCALES, Library, approve, load_library
from deskbook.scripts_library.placeholders import DESKS

log = logging.getLogger("deskbook.scripts")

VALUES_MODE = "values"


def register(subparsers) -> None:
    """Add `render` and `scripts list|approve` to the `deskbook` parser."""
    render = subparsers.add_parser(
        "render",
        help="print an approved phrase with a desk's placeholders or with real values",
        description="Print one approved phrase: with Zendesk placeholders, JSM smart values, or real values.",
    )
    render.add_argument("phrase_id", metavar="PHRASE_ID", help="e.g. greeting (see `deskbook scripts list`)")
    render.add_argument("--locale", required=True, help=f"template locale ({', '.join(LOCALES)})")
    render.add_argument("--desk", required=True, choices=[*DESKS, VALUES_MODE], help="placeholder style, or real values")
    render.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable's value (values mode) or the placeholder to use for it (desk modes); repeatable",
    )
    render.add_argument("--examples", action="store_true", help="values mode: use declared examples for variables not given")
    render.add_argument("--html", action="store_true", help="values mode: HTML output, values escaped")
    render.add_argument("--playbook", metavar="NAME|PATH",
                        help="playbook whose constants (company_name, department) fill those variables when no "
                             "--var gives them (default: standard-service)")
    _add_scripts_dir(render)
    render.set_defaults(func=cmd_render)

    scripts = subparsers.add_parser("scripts", help="list or approve phrase templates")
    actions = scripts.add_subparsers(dest="scripts_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list phrases, locales, versions and approval state")
    listing.add_argument("--json", action="store_true", help="machine-readable list on stdout")
    _add_scripts_dir(listing)
    listing.set_defaults(func=cmd_list)

    approving = actions.add_parser("approve", help="approve the current text of a phrase (records its hash)")
    approving.add_argument("phrase_id", metavar="ID", nargs="?", help="phrase id to approve")
    approving.add_argument("--all", action="store_true", help="approve every phrase of the library")
    approving.add_argument("--locale", help="only this locale (default: every locale of the phrase)")
    approving.add_argument("--by", required=True, metavar="NAME", help="who reviewed and approves the text")
    approving.add_argument("--in-package", action="store_true",
                           help="deskbook maintainers only: approve in the phrase library inside the installed "
                                "package (lost on reinstall)")
    _add_scripts_dir(approving)
    approving.set_defaults(func=cmd_approve)


def _add_scripts_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scripts", metavar="DIR", help="a phrase library folder (holding templates/ and approvals.yaml); default: the shipped one"
    )


def parse_vars(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` strings as a dict; DeskbookError for a malformed or repeated one."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise DeskbookError(f"bad --var {pair!r}", hint="write --var NAME=VALUE, e.g. --var customer_name=Ada")
        if name in values:
            raise DeskbookError(f"--var {name} given twice")
        values[name] = value
    return values


def cmd_render(args: argparse.Namespace) -> ExitCode:
    """`deskbook render`: print one phrase to stdout."""
    from deskbook.scripts_library.render import render_for_desk, render_values  # imports jinja2

    library = load_library(args.scripts)
    phrase = library.phrase(args.phrase_id, args.locale)
    given = parse_vars(args.var)
    unknown = sorted(set(given) - set(phrase.variable_names))
    if unknown:
        raise DeskbookError(
            f"bad --var: phrase {phrase.id!r} has no variable {', '.join(unknown)}",
            hint="its variables: " + ", ".join(phrase.variable_names),
        )
    constants = playbook_constants(args.playbook, library, phrase.variable_names, phrase.locale)
    if args.desk == VALUES_MODE:
        values = {**phrase.examples(), **constants, **given} if args.examples else {**constants, **given}
        text = render_values(library, phrase.id, phrase.locale, values, html=args.html)
    else:
        if args.html or args.examples:
            raise DeskbookError("--html and --examples only apply to --desk values")
        text = render_for_desk(library, phrase.id, phrase.locale, args.desk, extra_placeholders=given,
                               constants=constants)
    sys.stdout.write(text + "\n")
    return ExitCode.OK


def playbook_constants(playbook: str | None, library: Library, variables: tuple[str, ...], locale: str) -> dict[str, str]:
    """The playbook's constants in `locale` (variable -> text) for a phrase using any of them; the
    playbook is read only then, so rendering other phrases never depends on it. Its phrase references
    are checked against `library` (the one rendered from), as `validate` and `plan` check them."""
    from deskbook.playbooks.model import CONSTANT_VARIABLES

    if not set(variables) & set(CONSTANT_VARIABLES):
        return {}
    from deskbook.playbooks.loader import load_playbook

    return load_playbook(playbook, phrase_ids=library.ids()).constants.values(locale)


def library_listing(library: Library) -> list[dict]:
    """One entry per phrase and locale: {id, locale, version, variables, approved}."""
    return [
        {
            "id": phrase.id,
            "locale": phrase.locale,
            "version": phrase.version,
            "variables": list(phrase.variable_names),
            "approved": library.is_approved(phrase),
        }
        for _, phrase in sorted(library.phrases.items())
    ]


def cmd_list(args: argparse.Namespace) -> ExitCode:
    """`deskbook scripts list`: the phrases, as a table or as JSON."""
    library = load_library(args.scripts)
    entries = library_listing(library)
    if args.json:
        json.dump(entries, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        width = max((len(e["id"]) for e in entries), default=2)
        for e in entries:
            state = "approved" if e["approved"] else "NOT APPROVED"
            print(f"{e['id']:<{width}}  {e['locale']:<5}  v{e['version']:<3} {state:<12}  {', '.join(e['variables'])}")
    for problem in library.load_problems:
        log.warning("%s", problem)
    return ExitCode.OK


def cmd_approve(args: argparse.Namespace) -> ExitCode:
    """`deskbook scripts approve`: record the current text's hash as approved."""
    library = load_library(args.scripts)
    if args.all == bool(args.phrase_id):
        raise DeskbookError("name one phrase ID to approve, or pass --all")
    refuse_installed_library(library, args.in_package)
    ids = library.ids() if args.all else [args.phrase_id]
    for phrase_id in ids:
        if args.all and args.locale and (phrase_id, args.locale) not in library.phrases:
            continue
        locales = [args.locale] if args.locale else [loc for loc in library.locales() if (phrase_id, loc) in library.phrases]
        done = {phrase.locale: phrase for phrase in approve(library, phrase_id, args.locale, by=args.by)}
        for locale in locales:
            phrase = done.get(locale)
            if phrase is None:
                print(f"unchanged {phrase_id} ({locale}): already approved as it stands, nothing written")
            else:
                print(f"approved {phrase.id} ({phrase.locale}) v{phrase.version} sha256 {phrase.content_hash[:12]} "
                      f"by {args.by.strip()}")
    return ExitCode.OK


def refuse_installed_library(library: Library, in_package: bool) -> None:
    """Approvals go to the user's own library: the one inside the installed package is replaced on every
    reinstall (and is shared by every user of the install), so writing there needs `--in-package`."""
    from deskbook.scripts_library.library import shipped_library_root

    try:
        shipped = shipped_library_root().resolve()
    except DeskbookError:
        return
    if library.root.resolve() == shipped and not in_package:
        raise DeskbookError(
            f"refusing to approve inside the installed package ({shipped}): a reinstall would lose it",
            hint="copy the playbook and phrases out with `deskbook init DIR` and approve there "
                 "(inside DIR, or with --scripts DIR/scripts); deskbook maintainers pass --in-package",
        )

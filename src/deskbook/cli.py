"""The `deskbook` command line: one parser, sub-commands registered by each package.

Every package that offers commands exposes `register(subparsers)`, which adds its
sub-parsers with `set_defaults(func=handler)`; a handler takes the parsed arguments and
returns an `ExitCode`. User errors (`DeskbookError`) become one line on stderr and exit 1.
Anything else is a bug: it too is one line (secrets masked) and exit 1, and `-v` adds the
traceback — each case a user can cause gets its own `DeskbookError` instead.

Usage errors (an unknown command, a bad choice, a missing option) exit 64 (`ExitCode.USAGE`,
sysexits' EX_USAGE), never argparse's 2: 2 is what `plan` returns when it found changes, and a CI
job must not read `deskbook plan --desk zendsk` as "changes found". Every parser, sub-commands
included, is a `DeskbookParser`, so the rule holds at every level. Examples for each command's
`--help` live in `EXAMPLES` here, one table, attached after every package has registered.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from deskbook.config import Settings, load_settings
from deskbook.errors import DeskbookError, ExitCode
from deskbook.log import setup_logging

#: Modules whose `register(subparsers)` adds commands, in help order.
COMMAND_MODULES = (
    "deskbook.project",
    "deskbook.playbooks.cli",
    "deskbook.scripts_library.cli",
    "deskbook.connectors.cli",
    "deskbook.connectors.report.cli",
    "deskbook.sync.cli",
    "deskbook.handbook",
)

log = logging.getLogger("deskbook")


class DeskbookParser(argparse.ArgumentParser):
    """argparse with deskbook's exit code for usage errors (64) and examples kept verbatim in help."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        """Print usage and the message on stderr, exit `ExitCode.USAGE`."""
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.USAGE), f"{self.prog}: error: {message}\n")


#: `deskbook <command> --help` examples, keyed by the command path.
EXAMPLES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("validate",): ("deskbook validate", "deskbook validate my-playbook.yaml --scripts my-phrases",
                    "deskbook validate --json | jq .problems"),
    ("plan",): ("deskbook plan --desk zendesk", "deskbook plan --desk jsm --project SUP --json > plan.json",
                "deskbook plan --desk zendesk --playbook my-playbook.yaml --scripts my-phrases"),
    ("apply",): ("deskbook apply --desk zendesk                       # dry run: prints the plan",
                 "deskbook apply --desk zendesk --doit --checksum SHA  # SHA from the reviewed plan"),
    ("uninstall",): ("deskbook uninstall --desk zendesk          # what would be deleted",
                     "deskbook uninstall --desk zendesk --doit"),
    ("export",): ("deskbook export --desk zendesk --out backup.json", "deskbook export --desk jsm --out - | jq ."),
    ("restore",): ("deskbook restore --desk zendesk backup.json         # what would be written back",
                   "deskbook restore --desk zendesk backup.json --doit"),
    ("verify",): ("deskbook verify --desk jsm --request SUP-42", "deskbook verify --desk jsm --doit --json"),
    ("demo",): ("deskbook demo", "deskbook demo --desk jsm --seed-orgs 50"),
    ("render",): ("deskbook render greeting --locale zh-CN --desk zendesk",
                  "deskbook render greeting --locale en --desk values --examples --var customer_name=Ann"),
    ("scripts", "list"): ("deskbook scripts list", "deskbook scripts list --json"),
    ("scripts", "approve"): ("deskbook scripts approve greeting --locale en --by \"Jane Doe\" --scripts mydesk/scripts",
                             "deskbook scripts approve --all --by \"Jane Doe\""),
    ("sync", "run"): ("deskbook sync run --dry-run", "deskbook sync run --job renewals --as-of 2026-12-01 --json",
                      "deskbook sync run --desk jsm --project SUP"),
    ("sync", "serve"): ("deskbook sync serve", "deskbook sync serve --desk jsm"),
    ("init",): ("deskbook init mydesk && cd mydesk && deskbook validate",),
    ("handbook",): ("deskbook handbook --out handbook.html", "deskbook handbook --locale en --out handbook-en.html"),
    ("report",): ("deskbook report --desk zendesk                 # last complete week",
                  "deskbook report --desk zendesk --week 2026-W49 --html review.html",
                  "deskbook report --desk jsm --from 2026-11-30 --to 2026-12-06 --json"),
    ("completion",): ("deskbook completion bash > ~/.local/share/bash-completion/completions/deskbook",
                      "deskbook completion zsh > \"${fpath[1]}/_deskbook\""),
}


def command_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, parser) of every sub-command below `parser`, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from command_parsers(sub, (*path, name))


def _attach_examples(parser: argparse.ArgumentParser) -> None:
    for path, sub in command_parsers(parser):
        examples = EXAMPLES.get(path)
        if examples:
            text = "examples:\n" + "\n".join(f"  {line}" for line in examples)
            sub.epilog = f"{sub.epilog}\n\n{text}" if sub.epilog else text


class ShowVersion(argparse._VersionAction):
    """`--version`: reads the installed version only when asked (package metadata is slow to read)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from deskbook import __version__

        self.version = f"deskbook {__version__}"
        super().__call__(parser, namespace, values, option_string)


def _apply_settings(parser: argparse.ArgumentParser, settings: Settings) -> None:
    """Make `deskbook.toml` / DESKBOOK_* settings the defaults of `--playbook`, `--scripts`, `--desk`
    (and `validate PLAYBOOK`) in every command that has them; a set desk lifts `--desk`'s "required"."""
    for _, sub in command_parsers(parser):
        for action in sub._actions:
            value = settings.value(action.dest) if action.dest in ("playbook", "scripts", "desk") else None
            if value is None or (action.choices is not None and value not in action.choices):
                continue
            action.default = value
            action.required = False
            source = settings.sources.get(action.dest)
            if action.help and action.help is not argparse.SUPPRESS and "[now: " not in action.help:
                action.help += f" [now: {value}, from {source}]"


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command, defaults from `settings`
    (None: read `deskbook.toml` and the environment, ignoring a broken file: `main` reports it)."""
    if settings is None:
        try:
            settings = load_settings()
        except DeskbookError:
            settings = Settings()
    parser = DeskbookParser(
        prog="deskbook",
        description="Install a standard customer-service playbook into Zendesk or Jira Service Management.",
    )
    parser.add_argument("--version", action=ShowVersion)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    parser.add_argument("--log-format", choices=("text", "json"),
                        help="log lines on stderr as timestamped text (default) or one JSON object per line "
                             "(env DESKBOOK_LOG_FORMAT)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    register_completion(subparsers)
    _attach_examples(parser)
    _apply_settings(parser, settings)
    return parser


def report_error(exc: DeskbookError) -> None:
    """One line on stderr: `deskbook: error: ...` (red on a terminal unless NO_COLOR)."""
    from deskbook.log import redact
    from deskbook.term import colour_wanted, paint

    print(f"{paint('deskbook: error:', 'red', colour_wanted(sys.stderr))} {redact(str(exc))}", file=sys.stderr)


def register_completion(subparsers) -> None:
    """`deskbook completion bash|zsh|tcsh`: a completion script generated from this parser (shtab)."""
    p = subparsers.add_parser("completion", help="print a shell completion script (bash, zsh or tcsh)",
                              description="Print a tab-completion script for deskbook's commands and options.")
    p.add_argument("shell", choices=("bash", "zsh", "tcsh"), help="the shell to complete in")
    p.set_defaults(func=cmd_completion)


def cmd_completion(args: argparse.Namespace) -> ExitCode:
    """Print the completion script for `args.shell` on stdout."""
    import shtab

    sys.stdout.write(shtab.complete(build_parser(Settings()), shell=args.shell))
    return ExitCode.OK


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    try:
        settings = load_settings()
    except DeskbookError as exc:
        report_error(exc)
        return int(exc.exit_code)
    parser = build_parser(settings)
    args = parser.parse_args(argv)
    setup_logging(verbosity=-1 if args.quiet else args.verbose, log_format=args.log_format)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(args.func(args))
    except DeskbookError as exc:
        report_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("deskbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `deskbook scripts list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as exc:  # a bug, not the user's doing: still one line; the traceback with -v
        report_unexpected(exc, verbose=args.verbose > 0)
        return int(ExitCode.ERROR)


def report_unexpected(exc: Exception, *, verbose: bool) -> None:
    """An exception no user error explains: one line naming it (secrets masked), plus the traceback
    (masked too) when `-v` was given."""
    import traceback

    from deskbook.log import redact

    if verbose:
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    text = redact(str(exc).split("\n", 1)[0])[:300]
    report_error(DeskbookError(f"unexpected {type(exc).__name__}" + (f": {text}" if text else ""),
                               hint="a bug in deskbook; rerun as `deskbook -v ...` to see where, and report it"))

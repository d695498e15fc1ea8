"""The `deskbook` command line: one parser, sub-commands registered by each package.

Every package that offers commands exposes `register(subparsers)`, which adds its
sub-parsers with `set_defaults(func=handler)`; a handler takes the parsed arguments and
returns an `ExitCode`. User errors (`DeskbookError`) become one line on stderr and exit 1;
only a genuine bug shows a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from deskbook.errors import DeskbookError, ExitCode
from deskbook.log import setup_logging

#: Modules whose `register(subparsers)` adds commands, in help order.
COMMAND_MODULES = (
    "deskbook.playbooks.cli",
    "deskbook.scripts_library.cli",
    "deskbook.connectors.cli",
    "deskbook.sync.cli",
)

log = logging.getLogger("deskbook")


class ShowVersion(argparse._VersionAction):
    """`--version`: reads the installed version only when asked (package metadata is slow to read)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from deskbook import __version__

        self.version = f"deskbook {__version__}"
        super().__call__(parser, namespace, values, option_string)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="deskbook",
        description="Install a standard customer-service playbook into Zendesk or Jira Service Management.",
    )
    parser.add_argument("--version", action=ShowVersion)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbosity=-1 if args.quiet else args.verbose)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return ExitCode.USAGE
    try:
        return int(args.func(args))
    except DeskbookError as exc:
        print(f"deskbook: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("deskbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `deskbook scripts list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)

"""`deskbook sandbox jsm`: its arguments and their defaults, without the sandbox desk.

Building the CLI parser imports this module only; the sandbox package (werkzeug, and the OpenAPI
validators when a spec is checked) is imported by `serve_jsm_sandbox` when the command runs.
"""

from __future__ import annotations

import argparse

from deskbook.connectors.sandbox_kit import options as kit_options

#: Port of `deskbook sandbox jsm` (0 = any free port).
DEFAULT_PORT = 8081
#: SQLite database of the sandbox's state (in memory unless a file is given).
DEFAULT_DB = ":memory:"
#: The account email and API token the sandbox accepts, the kit's defaults.
DEFAULT_EMAIL, DEFAULT_TOKEN = kit_options.DEFAULT_EMAIL, kit_options.DEFAULT_TOKEN
#: Key of the sandbox's service project.
DEFAULT_PROJECT_KEY = "SUP"
#: Where `--customer` reads the test customer's token (the same variable `deskbook test --doit` reads).
CUSTOMER_TOKEN_ENV = "DESKBOOK_JSM_CUSTOMER_TOKEN"
#: Seconds a write takes to reach JQL search (FACTS.md 8.2 gives no figure; the reading is in
#: `sandbox/index.py`).
DEFAULT_SEARCH_LAG_SECONDS = 5.0


def add_sandbox_command(sandbox_subparsers) -> None:
    """Register `deskbook sandbox jsm` under the existing `sandbox` parser."""
    parser = sandbox_subparsers.add_parser("jsm", help="a local Jira Service Management (servicedeskapi, "
                                                       "Jira platform search/properties, automation rules)")
    kit_options.add_common_arguments(parser, desk="jsm", port=DEFAULT_PORT, db_default=DEFAULT_DB)
    parser.add_argument("--rate-limit", type=int, default=None, metavar="PER_MIN",
                        help="requests per minute before 429 + Retry-After")
    parser.add_argument("--project", default=DEFAULT_PROJECT_KEY, help="key of the service project (default SUP)")
    parser.add_argument("--real-site", action="store_true",
                        help="play a real site: the sandbox-only shortcuts (act-as header, clock endpoint) are "
                             "refused, as `deskbook test --desk jsm --doit` meets them on a real site")
    parser.add_argument("--customer", metavar="EMAIL",
                        help=f"a test customer with a login of their own: the token is read from "
                             f"${CUSTOMER_TOKEN_ENV} (the variable `deskbook test --doit` reads), never printed")
    parser.add_argument("--search-lag", type=float, default=DEFAULT_SEARCH_LAG_SECONDS, metavar="SECONDS",
                        help="seconds a write takes to reach JQL search, as Jira's eventually consistent search "
                             f"(default {DEFAULT_SEARCH_LAG_SECONDS:g}; 0: at once; reconcileIssues is always current)")
    parser.set_defaults(func=serve_jsm_sandbox)


def serve_jsm_sandbox(args: argparse.Namespace) -> int:
    """Serve the JSM sandbox until interrupted (imports the sandbox package now)."""
    from deskbook.connectors.jsm.sandbox import run_sandbox_command

    return run_sandbox_command(args)

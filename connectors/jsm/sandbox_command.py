"""`deskbook sandbox jsm`: its arguments and their defaults, without the sandbox desk.

Building the CLI parser imports this module only; the sandbox package (werkzeug, and the OpenAPI
validators when a spec is checked) is imported by `serve_jsm_sandbox` when the command runs.
"""

from __future__ import annotations

import argparse

#: Address the sandbox listens on unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
#: Port of `deskbook sandbox jsm` (0 = any free port).
DEFAULT_PORT = 8081
#: SQLite database of the sandbox's state (in memory unless a file is given).
DEFAULT_DB = ":memory:"
#: The account email the sandbox accepts.
DEFAULT_EMAIL = "admin@example.com"
#: The API token the sandbox accepts.
DEFAULT_TOKEN = "sandbox"
#: Key of the sandbox's service project.
DEFAULT_PROJECT_KEY = "SUP"


def add_sandbox_command(sandbox_subparsers) -> None:
    """Register `deskbook sandbox jsm` under the existing `sandbox` parser."""
    parser = sandbox_subparsers.add_parser("jsm", help="a local Jira Service Management (servicedeskapi, "
                                                       "Jira platform search/properties, automation rules)")
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8081; 0 = any free port)")
    parser.add_argument("--db", default=DEFAULT_DB, help="SQLite file for the state (default: in memory)")
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="the accepted account email")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted API token")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered 500/503 (0..1)")
    parser.add_argument("--write-fault-rate", type=float, default=0.0,
                        help="share of writes that happen but are answered 500 (lost answers, 0..1)")
    parser.add_argument("--latency", type=int, default=0, metavar="MS", help="delay added to each request")
    parser.add_argument("--rate-limit", type=int, default=None, metavar="PER_MIN",
                        help="requests per minute before 429 + Retry-After")
    parser.add_argument("--seed-orgs", type=int, default=0, metavar="N", help="create N sample organizations")
    parser.add_argument("--project", default=DEFAULT_PROJECT_KEY, help="key of the service project (default SUP)")
    parser.set_defaults(func=serve_jsm_sandbox)


def serve_jsm_sandbox(args: argparse.Namespace) -> int:
    """Serve the JSM sandbox until interrupted (imports the sandbox package now)."""
    from deskbook.connectors.jsm.sandbox import run_sandbox_command

    return run_sandbox_command(args)

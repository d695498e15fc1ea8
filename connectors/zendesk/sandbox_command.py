"""`deskbook sandbox zendesk`: its arguments and their defaults, without the sandbox desk.

Building the CLI parser imports this module only; the sandbox package (werkzeug and the desk's
store) is imported by `serve_zendesk_sandbox` when the command actually runs.
"""

from __future__ import annotations

import argparse

#: Address the sandbox listens on unless told otherwise (it only ever listens on loopback).
DEFAULT_HOST = "127.0.0.1"
#: Port of `deskbook sandbox zendesk` (0 picks a free one).
DEFAULT_PORT = 8765
#: Admin email accepted for basic auth (`email/token:TOKEN`).
DEFAULT_EMAIL = "admin@example.com"
#: API token accepted for basic auth.
DEFAULT_TOKEN = "sandbox"
#: Time-based exports refuse a `start_time` newer than this and leave out changes this recent
#: (spec: "Must be at least one minute in the past. Data isn't provided for the most recent minute").
EXPORT_LAG_SECONDS = 60.0
#: Zendesk's default rate limits: requests per minute by endpoint class.
DEFAULT_RATE_LIMITS = {"account": 700, "incremental": 10, "search_export": 100}


def add_sandbox_command(sandbox_subparsers) -> None:
    """Register `deskbook sandbox zendesk` under the existing `sandbox` parser."""
    parser = sandbox_subparsers.add_parser("zendesk", help="run a local desk that answers like Zendesk Support")
    parser.add_argument("--host", default=DEFAULT_HOST, help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--db", help="SQLite file to keep the desk's state in (default: in memory)")
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="admin email for basic auth")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="API token for basic auth (email/token:TOKEN)")
    parser.add_argument("--seed-orgs", type=int, default=0, metavar="N", help="create N sample organizations")
    parser.add_argument("--seed", type=int, default=0, help="seed for sample data and fault injection")
    parser.add_argument("--fault-rate", type=float, default=0.0, metavar="F", help="share of requests that fail (500/503/slow)")
    parser.add_argument("--latency", type=int, default=0, metavar="MS", help="added latency per request")
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMITS["account"], metavar="N",
                        help="account requests per minute (default 700)")
    parser.add_argument("--incremental-rate-limit", type=int, default=DEFAULT_RATE_LIMITS["incremental"], metavar="N",
                        help="incremental export requests per minute (default 10)")
    parser.add_argument("--search-export-rate-limit", type=int, default=DEFAULT_RATE_LIMITS["search_export"],
                        metavar="N", help="search export requests per minute (default 100)")
    parser.add_argument("--no-sla", action="store_true", help="answer 403 on /slas/ like a plan without SLA policies")
    parser.add_argument("--export-lag", type=float, default=EXPORT_LAG_SECONDS, metavar="SECONDS",
                        help="incremental exports refuse a newer start_time and leave out changes this recent "
                             "(default 60, as Zendesk; 0 turns it off)")
    parser.set_defaults(func=serve_zendesk_sandbox)


def serve_zendesk_sandbox(args: argparse.Namespace) -> int:
    """Run the Zendesk sandbox in the foreground until interrupted (imports the sandbox package now)."""
    from deskbook.connectors.zendesk.sandbox import _serve

    return _serve(args)

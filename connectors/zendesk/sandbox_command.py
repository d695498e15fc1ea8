"""`deskbook sandbox zendesk`: its arguments and their defaults, without the sandbox desk.

Building the CLI parser imports this module only; the sandbox package (werkzeug and the desk's
store) is imported by `serve_zendesk_sandbox` when the command actually runs.
"""

from __future__ import annotations

import argparse

from deskbook.connectors.sandbox_kit import options as kit_options

#: Port of `deskbook sandbox zendesk` (0 picks a free one).
DEFAULT_PORT = 8765
#: Admin email and API token accepted for basic auth (`email/token:TOKEN`), the kit's defaults.
DEFAULT_EMAIL, DEFAULT_TOKEN = kit_options.DEFAULT_EMAIL, kit_options.DEFAULT_TOKEN
#: Time-based exports refuse a `start_time` newer than this and leave out changes this recent
#: (spec: "Must be at least one minute in the past. Data isn't provided for the most recent minute").
EXPORT_LAG_SECONDS = 60.0
#: Zendesk's default rate limits: requests per minute by endpoint class.
DEFAULT_RATE_LIMITS = {"account": 700, "incremental": 10, "search_export": 100}
#: For an embedded desk on a `FakeClock` (`deskbook test`, `deskbook demo`): its minute windows end only
#: when a step moves the clock, so a per-minute limit there only makes a client pace in real time for
#: a window that does not close while it waits (a survey scenario spent 60 s so). Rate limits are
#: tested on their own (tests/test_rate_headroom.py), not by the scenarios.
NO_RATE_LIMITS = {name: None for name in DEFAULT_RATE_LIMITS}


def add_sandbox_command(sandbox_subparsers) -> None:
    """Register `deskbook sandbox zendesk` under the existing `sandbox` parser."""
    parser = sandbox_subparsers.add_parser("zendesk", help="run a local desk that answers like Zendesk Support")
    kit_options.add_common_arguments(parser, desk="zendesk", port=DEFAULT_PORT, db_default=None)
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

"""The serve command's common arguments and the rule for where a sandbox may listen (light: no
Werkzeug, so building the CLI parser stays fast).

A sandbox answers with whatever it stores, to anyone who has its credentials, and its defaults are
public. So it listens on loopback only, unless `--host` names another address *and*
`--allow-remote` is given *and* `--token` is not the default one.
"""

from __future__ import annotations

import argparse

#: Addresses that are loopback (the only ones a sandbox listens on by default).
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: Address a sandbox listens on unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
#: The admin email both sandboxes accept unless told otherwise.
DEFAULT_EMAIL = "admin@example.com"
#: The API token both sandboxes accept unless told otherwise (public: never for a remote listener).
DEFAULT_TOKEN = "sandbox"


def add_common_arguments(parser: argparse.ArgumentParser, *, desk: str, port: int, db_default: str | None) -> None:
    """The arguments every `deskbook sandbox <desk>` takes."""
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address to listen on (default 127.0.0.1; a non-loopback address needs --allow-remote "
                             "and a --token of your own)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (anyone who reaches it and has the token can read and "
                             "change the sandbox)")
    parser.add_argument("--port", type=int, default=port, help=f"port (default {port}; 0 picks a free one)")
    parser.add_argument("--db", default=db_default, help="SQLite file to keep the desk's state in (default: in memory)")
    parser.add_argument("--email", default=DEFAULT_EMAIL, help="admin email for basic auth")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="API token for basic auth")
    parser.add_argument("--seed-orgs", type=int, default=0, metavar="N", help="create N sample organizations")
    parser.add_argument("--seed", type=int, default=0, help="seed for sample data and fault injection")
    parser.add_argument("--fault-rate", type=float, default=0.0, metavar="F",
                        help="share of requests that fail (0..1)")
    parser.add_argument("--write-fault-rate", type=float, default=0.0, metavar="F",
                        help="share of writes that happen but are answered 500 (lost answers, 0..1)")
    parser.add_argument("--latency", type=int, default=0, metavar="MS", help="added latency per request")
    parser.add_argument("--spec", metavar="PATH",
                        help="vendor material (e.g. ../shared) to check every request against; "
                             "problems are listed at /sandbox/requests")


def check_serve_options(args: argparse.Namespace, *, where: str) -> None:
    """Refuse options a sandbox must not run with (one clear line each)."""
    from deskbook.errors import DeskbookError

    check_host(args.host, allow_remote=args.allow_remote, token=args.token, where=where)
    for flag, value in (("--fault-rate", args.fault_rate), ("--write-fault-rate", args.write_fault_rate)):
        if not 0.0 <= value <= 1.0:
            raise DeskbookError(f"{flag} {value} is not between 0 and 1", where=where, hint=f"use e.g. {flag} 0.2")


def check_host(host: str, *, allow_remote: bool, token: str, where: str) -> None:
    """Loopback, or an explicit `--allow-remote` with a token that is not the public default."""
    from deskbook.errors import DeskbookError

    if host in LOOPBACK:
        return
    if not allow_remote:
        raise DeskbookError(f"--host {host} is not a loopback address", where=where,
                            hint="the sandbox listens on 127.0.0.1, localhost or ::1; to listen elsewhere add "
                                 "--allow-remote and a --token of your own")
    if token == DEFAULT_TOKEN:
        raise DeskbookError(f"--host {host} with the default token", where=where,
                            hint="anyone could use the sandbox's public default token: give --token a secret of your own")

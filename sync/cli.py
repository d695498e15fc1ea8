"""`deskbook sync run|serve` (registered into the main parser by deskbook.cli).

The desks come from `deskbook.connectors.registry` (this module names none): `--desk` chooses
one, each desk adds its own flags (`Desk.add_options(parser, "sync")`) and makes its sync desk
(`Desk.sync_desk`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import date

from deskbook.connectors.commands import connection_parent, desk_options, load_inputs, playbook_parent
from deskbook.connectors.registry import default_desk, desks, get_desk
from deskbook.errors import DeskbookError, ExitCode

log = logging.getLogger("deskbook.sync")


def register(subparsers) -> None:
    """Add `deskbook sync run` and `deskbook sync serve`."""
    parser = subparsers.add_parser("sync", help="scheduled relationship work: renewals, callbacks, follow-ups")
    commands = parser.add_subparsers(dest="sync_command", metavar="SUBCOMMAND", required=True)

    run = commands.add_parser("run", parents=_common(), help="run the sync jobs once and print the report")
    run.add_argument("--job", default="all", choices=("renewals", "callbacks", "followups", "surveys", "all"),
                     help="which job to run (default all): renewals = renewal reminders before contracts end, "
                          "callbacks = periodic callbacks by customer tier, followups = new-customer follow-ups, "
                          "surveys = each surveyed request's scores onto the customer's record (S-11)")
    run.add_argument("--as-of", type=_date_arg, help="run as of this date (YYYY-MM-DD; default today)")
    run.add_argument("--dry-run", action="store_true", help="report what would be created; create nothing in the desk (the local index is still refreshed)")
    run.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    run.add_argument("--fleet", metavar="DESKS_YAML",
                     help="run every desk of this inventory (desks.yaml) instead of one desk")
    run.add_argument("--parallel", type=int, default=4, metavar="N",
                     help="with --fleet: desks run at once on this machine (default 4)")
    run.add_argument("--celery", action="store_true",
                     help="with --fleet: send one task per desk to Celery workers (broker: env DESKBOOK_BROKER)")
    run.add_argument("--timeout", type=float, default=6 * 3600, metavar="SECONDS",
                     help="with --celery: how long to wait for the workers (default 6 h)")
    _rate_share_option(run)
    run.set_defaults(func=cmd_run)

    worker = commands.add_parser(
        "worker", help="a Celery worker for fleet runs (broker: env DESKBOOK_BROKER)",
        description="Process fleet tasks sent by `deskbook sync run --fleet desks.yaml --celery`. Needs the "
                    "inventory's shared PostgreSQL ledger and each desk's credentials in this machine's "
                    "environment or files.",
        epilog="example: DESKBOOK_BROKER=redis://queue:6379/0 deskbook sync worker --concurrency 4")
    worker.add_argument("--concurrency", type=int, default=2, metavar="N", help="desks at once (default 2)")
    worker.add_argument("--hostname", help="the worker's Celery node name (default deskbook@<host>)")
    worker.set_defaults(func=cmd_worker)

    forecast = commands.add_parser(
        "forecast", help="tasks each job will create per day (reads the desk's changes, writes nothing to it)",
        description="Count the renewals, callbacks and follow-ups due on each coming day, from the desk's "
                    "organizations (the local index, refreshed first unless --offline) and the ledger.",
        epilog="example: deskbook sync forecast --days 90 --json", parents=_common())
    forecast.add_argument("--days", type=int, default=90, help="how many days ahead (default 90)")
    forecast.add_argument("--as-of", type=_date_arg, help="first day (YYYY-MM-DD; default today)")
    forecast.add_argument("--offline", action="store_true", help="use the local index as it is; no desk call")
    forecast.add_argument("--json", action="store_true", help='print {"days": [{"date", "renewals", "callbacks", "followups"}]}')
    forecast.set_defaults(func=cmd_forecast)

    serve = commands.add_parser("serve", parents=_common(),
                                help="run the jobs daily at the playbook's time (and once at start)")
    serve.add_argument("--interval-seconds", type=float, help="run every N seconds instead of daily (tests, demos)")
    serve.add_argument("--metrics-port", type=int, metavar="N",
                       help="answer /healthz and Prometheus /metrics on this port (0: any free port, logged)")
    serve.add_argument("--metrics-host", default="127.0.0.1",
                       help="address for --metrics-port (default 127.0.0.1; 0.0.0.0 inside a container)")
    _rate_share_option(serve)
    serve.set_defaults(func=cmd_serve)


def _common() -> list[argparse.ArgumentParser]:
    """Parents with the desk, connection, playbook and phrase options: the same as `plan`'s (one set of
    connection settings for every command; each desk's own flags for `sync`), plus the ledger."""
    ledger = argparse.ArgumentParser(add_help=False)
    ledger.add_argument("--ledger", help="ledger file, or a postgresql:// URL shared by a fleet (default: "
                                         "$DESKBOOK_LEDGER, else one SQLite file per desk under $DESKBOOK_HOME)")
    return [connection_parent(desks(), desk_default=default_desk(), command="sync"), playbook_parent(), ledger]


def _rate_share_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate-share", metavar="SHARE",
                        help="share of the desk's rate limit a run may use, e.g. 0.5 or 50%% (default: "
                             "$DESKBOOK_RATE_SHARE, else 50%%); the rest is left to other integrations")


def apply_rate_share(args: argparse.Namespace) -> None:
    """`--rate-share`, checked, becomes `DESKBOOK_RATE_SHARE` for this process (and the fleet's desks
    it runs), where every run reads it."""
    if getattr(args, "rate_share", None) is None:
        return
    from deskbook.http import parse_rate_share

    os.environ["DESKBOOK_RATE_SHARE"] = str(parse_rate_share(args.rate_share, "--rate-share"))


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _open(args: argparse.Namespace):
    """(settings, first desk, desk factory, ledger path, phrase library) for the arguments.

    Connection flags and environment are read as `plan` reads them (each desk's `Desk.sync_desk`);
    the playbook is checked against the phrase library of `--scripts`, whose phrases the tasks use."""
    from deskbook.sync.jobs import settings_from_playbook
    from deskbook.sync.ledger import ledger_location

    desk_kind = get_desk(args.desk)
    options = desk_options(args, "sync")  # refuses another desk's flags, as every desk command does
    playbook, library = load_inputs(args)
    settings = settings_from_playbook(playbook)

    def make_desk():
        return desk_kind.sync_desk(args.url, args.email, args.token, contract_end_field=settings.contract_end_field,
                                   tier_field=settings.tier_field, playbook_name=settings.playbook_name, **options)

    desk = make_desk()
    location = ledger_location(args.desk, desk.url, args.ledger)
    return settings, desk, make_desk, location, library


def cmd_fleet(args: argparse.Namespace) -> ExitCode:
    """`deskbook sync run --fleet desks.yaml`: every desk, locally or on Celery workers."""
    from deskbook.sync import fleet as fleet_module
    from deskbook.sync.jobs import selected_jobs

    inventory = fleet_module.load_fleet(args.fleet)
    kwargs = {"as_of": args.as_of.isoformat() if args.as_of else None, "jobs": selected_jobs(args.job),
              "dry_run": args.dry_run}
    if args.celery:
        from deskbook.sync.celery_app import run_on_celery

        if not (inventory.ledger or os.environ.get("DESKBOOK_LEDGER")):
            raise DeskbookError("Celery workers need a shared ledger", where=args.fleet,
                                hint="add `ledger: postgresql://...` to the inventory (or set DESKBOOK_LEDGER)")
        results = run_on_celery(inventory, timeout=args.timeout, **kwargs)
    else:
        if args.parallel < 1:
            raise DeskbookError("--parallel must be at least 1")
        results = fleet_module.run_local(inventory, parallel=args.parallel, **kwargs)
    if args.json:
        json.dump({"desks": results}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(fleet_module.summary(results))
    return ExitCode.ERROR if fleet_module.failed(results) else ExitCode.OK


def cmd_worker(args: argparse.Namespace) -> ExitCode:
    """`deskbook sync worker`: a Celery worker until SIGTERM."""
    from deskbook.sync.celery_app import app

    argv = ["worker", f"--concurrency={max(1, args.concurrency)}", "--loglevel=INFO", "--without-gossip",
            "--without-mingle"]
    if args.hostname:
        argv.append(f"--hostname={args.hostname}")
    app.worker_main(argv)
    return ExitCode.OK


def cmd_run(args: argparse.Namespace) -> ExitCode:
    """`deskbook sync run`: one run; exit 0 when nothing failed."""
    apply_rate_share(args)
    if args.fleet:
        return cmd_fleet(args)
    if args.celery:
        raise DeskbookError("--celery sends a fleet's desks to workers", hint="give --fleet desks.yaml")
    from deskbook.sync.jobs import selected_jobs
    from deskbook.sync.runner import run_jobs

    jobs = selected_jobs(args.job)
    settings, desk, _, location, library = _open(args)
    with location.lock():
        ledger = location.open()
        try:
            report = run_jobs(desk, ledger, settings, library, jobs=jobs, as_of=args.as_of, dry_run=args.dry_run)
        finally:
            ledger.close()
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(report.text())
    return ExitCode.OK if report.failed == 0 else ExitCode.ERROR


def cmd_forecast(args: argparse.Namespace) -> ExitCode:
    """`deskbook sync forecast`: tasks per day per job over the coming days."""
    from deskbook.sync.forecast import forecast
    from deskbook.sync.runner import refresh_index

    if not 1 <= args.days <= 3660:
        raise DeskbookError(f"--days {args.days} is out of range", hint="give 1 to 3660 days")
    settings, desk, _, location, _library = _open(args)
    with location.lock():
        ledger = location.open()
        try:
            if not args.offline:
                refresh_index(desk, ledger)
            result = forecast(ledger.iter_organizations(), args.as_of or date.today(), args.days,
                              settings.schedule, ledger.done_keys())
        finally:
            ledger.close()
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.text())
    return ExitCode.OK


def cmd_serve(args: argparse.Namespace) -> ExitCode:
    """`deskbook sync serve`: schedule the jobs until SIGTERM."""
    apply_rate_share(args)
    from deskbook.sync.serve import SyncService

    settings, _, make_desk, location, library = _open(args)
    if args.interval_seconds is not None and args.interval_seconds <= 0:
        raise DeskbookError("--interval-seconds must be positive")
    metrics = server = None
    if args.metrics_port is not None:
        if not 0 <= args.metrics_port <= 65535:
            raise DeskbookError(f"--metrics-port {args.metrics_port} is not a port", hint="give 0 to 65535")
        from deskbook.sync.metrics import MetricsServer, SyncMetrics

        period = args.interval_seconds or 86400.0
        metrics = SyncMetrics(stale_after=2 * period + 3600)
    with location.lock():
        if metrics is not None:
            try:
                server = MetricsServer(metrics, args.metrics_host, args.metrics_port)
            except OSError as exc:
                raise DeskbookError(f"cannot listen on {args.metrics_host}:{args.metrics_port}: {exc.strerror}",
                                    hint="choose another --metrics-port") from None
            log.info("metrics on http://%s:%d/metrics and /healthz", args.metrics_host, server.port)
        service = SyncService(lambda: (make_desk(), location.open()), settings, library,
                              interval_seconds=args.interval_seconds, metrics=metrics)
        try:
            return ExitCode(service.serve())
        finally:
            if server is not None:
                server.close()

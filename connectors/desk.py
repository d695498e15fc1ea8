"""The desk contract: what the shared commands (`connectors/commands.py`, `sync/cli.py`) need from a desk.

A desk package (`connectors/<desk>/`) defines one `Desk` in a light module `desk.py` (argparse and
the standard library only: building the CLI parser imports it) and the registry
(`connectors/registry.py`) names it in one line. Everything else of the desk is imported by the
`Desk` methods when a command runs:

- `add_options(parser, command)` — the desk's own flags for `plan/apply/uninstall/export/verify`
  (`command == "desk"`) or for `sync run|serve` (`command == "sync"`); `options(args, command)`
  reads them back as keyword options for `connect` / `sync_desk`. A flag of another desk given
  with `--desk <this>` is refused by `refuse_foreign_options` (one line naming the flag);
- `connect(url, email, token, **options)` -> a connected `DeskConnector`
  (`connectors/base.py`): `plan_playbook` (populate → desired → diff, with the `plan_notes`
  hook for what the desk cannot represent), `guard`, `apply`, `guard_uninstall`, `export`, and —
  when `can_verify` — `test_request_draft` / `describe_test_request` / `raise_test_request` /
  `verify_sla`;
- `sync_desk(url, email, token, *, contract_end_field, tier_field, playbook_name, **options)` ->
  a `deskbook.sync.desk.SyncDesk`;
- `demo(playbook, library, *, seed_orgs)` prints the end-to-end story on the desk's sandbox;
- `add_sandbox_command(subparsers)` registers `deskbook sandbox <desk>`;
- `customer_text_problems(playbook, library)` — offline, for `deskbook validate`: every text the
  desk's translation would send a customer without an agent's edit that still holds a fill-in slot
  (`placeholders.customer_text_problem`, the check `plan` runs), each a `DeskbookError` whose `where`
  is the rule's file:line:column;
- `report_data(url, email, token, playbook, start, end, **options)` -> the desk-neutral
  `deskbook.connectors.report.records.DeskData` the weekly review (`deskbook report`) is computed from;
- `env` — for each of `url`, `email`, `token`, where the desk reads it from the environment
  (the shared `--url/--email/--token` help is composed from it);
- `deskbook test` (`connectors/scenarios/`): `scenario_module` names the desk's scenario driver
  module, reached through `scenario_driver(...)` (a context manager yielding the driver of one
  scenario: embedded sandbox, or the real desk with its test tickets removed on exit) and
  `scenario_dry_run(...)`; `url_env` are the variables whose presence means a real desk. The
  command's own desk flags come from `add_options(parser, "test")`.
"""

from __future__ import annotations

import argparse
from typing import Any

from deskbook.errors import DeskbookError

#: The shared connection flags every desk takes (their help names each desk's environment).
CONNECTION_FLAGS = ("url", "email", "token")


class Desk:
    """One desk behind the shared commands; a desk package subclasses it in its `desk.py`."""

    #: `--desk` value.
    name: str = ""
    #: How help text names the desk ("Zendesk", "JSM").
    title: str = ""
    #: url/email/token -> where the desk reads it from the environment (for help text).
    env: dict[str, str] = {}
    #: Whether `deskbook verify` works on this desk (SLA goals read back from a request).
    can_verify: bool = False
    #: "apply" / "uninstall" -> what `--force` also lets through on this desk (its own safety check).
    force_help: dict[str, str] = {}
    #: Environment variables naming a real desk (any set: `deskbook test` runs there, not on a sandbox).
    url_env: tuple[str, ...] = ()
    #: The module of this desk's scenario driver: `embedded_driver(playbook, library, scenario, start)`,
    #: `live_driver(playbook, live, cache)` (context managers yielding a driver) and `dry_run(playbook,
    #: scenario, live)`; None: `deskbook test` is not offered for this desk.
    scenario_module: str | None = None

    # ------------------------------------------------------------ flags

    def add_options(self, parser: argparse.ArgumentParser, command: str) -> None:
        """Add this desk's own flags for `command` ("desk", "sync" or "test"); none by default."""

    def option_flags(self, command: str) -> dict[str, str]:
        """`--flag` -> argparse dest of the flags `add_options` adds for `command`."""
        probe = argparse.ArgumentParser(add_help=False)
        self.add_options(probe, command)
        return {action.option_strings[0]: action.dest for action in probe._actions}

    def options(self, args: argparse.Namespace, command: str) -> dict[str, Any]:
        """This desk's flags in `args` as keyword options (dest -> value)."""
        return {dest: getattr(args, dest, None) for dest in self.option_flags(command).values()}

    # ------------------------------------------------------------ what the commands use

    def connect(self, url: str | None, email: str | None, token: str | None, **options: Any) -> Any:
        """A connected `DeskConnector` (flags first, then the desk's environment)."""
        raise NotImplementedError

    def sync_desk(self, url: str | None, email: str | None, token: str | None, *, contract_end_field: str,
                  tier_field: str, playbook_name: str, **options: Any) -> Any:
        """The desk for the sync jobs (`deskbook.sync.desk.SyncDesk`)."""
        raise DeskbookError(f"desk {self.name!r} has no sync jobs")

    def demo(self, playbook: Any, library: Any, *, seed_orgs: int) -> None:
        """Sandbox desk + install + re-plan + sync jobs; prints the summary."""
        raise DeskbookError(f"no demo for desk {self.name!r}")

    def customer_text_problems(self, playbook: Any, library: Any) -> list[DeskbookError]:
        """Offline (no desk call): each customer-visible text of `playbook` on this desk that still holds
        a fill-in slot, as `plan` would refuse it (`where`: the rule's file:line:column); none by default."""
        return []

    def add_sandbox_command(self, subparsers: Any) -> None:
        """Register `deskbook sandbox <desk>` (none by default)."""

    def report_data(self, url: str | None, email: str | None, token: str | None, playbook: Any, start: float,
                    end: float, **options: Any) -> Any:
        """What `deskbook report` needs of the window [start, end): a `DeskData` (connectors/report/records.py)."""
        raise DeskbookError(f"deskbook report cannot read {self.title or self.name} desks yet",
                            hint="see README, \"The weekly service review\", for the desks it reads")

    def scenario_driver(self, playbook: Any, library: Any, scenario: Any, *, start: float,
                        live: dict[str, Any] | None = None, cache: dict[str, Any] | None = None) -> Any:
        """`deskbook test`: a context manager yielding the driver one scenario runs on — a fresh embedded
        sandbox with the playbook installed (its clock at `start`), or, with `live` (url, email, token and
        this desk's `test` options), the real desk, whose test tickets are removed when the block ends,
        also when it raises. `cache` lasts one run (what the desk reads once for every scenario)."""
        module = self._scenarios()
        if live is None:
            return module.embedded_driver(playbook, library, scenario, start)
        return module.live_driver(playbook, live, {} if cache is None else cache)

    def scenario_dry_run(self, playbook: Any, scenario: Any, live: dict[str, Any]) -> str:
        """One line: what a live run of `scenario` would create (and skip); nothing is written."""
        return str(self._scenarios().dry_run(playbook, scenario, live))

    def _scenarios(self) -> Any:
        if self.scenario_module is None:
            raise DeskbookError(f"deskbook test does not run scenarios on {self.title or self.name} desks")
        import importlib

        return importlib.import_module(self.scenario_module)

    #: Why `deskbook restore` cannot write this desk's backups back (None: it can, see `restore`).
    restore_refusal: str | None = "restoring is not implemented for this desk"

    def restore(self, connector: Any, document: dict[str, Any], *, doit: bool) -> list[dict[str, Any]]:
        """Write the backup `document` (`deskbook.connectors.backup`) back through `connector`, or with
        `doit=False` only list the steps ({action, kind, name, id, was_id}); refuses by default."""
        raise DeskbookError(f"deskbook restore cannot write {self.title} backups back: {self.restore_refusal}",
                            hint="the export is a record to re-enter by hand (README, \"Backups\")")


def refuse_foreign_options(desk: Desk, others: list[Desk], args: argparse.Namespace, command: str) -> None:
    """DeskbookError when `args` sets a flag only another desk takes (e.g. `--project` with --desk zendesk)."""
    own = set(desk.option_flags(command))
    for other in others:
        if other is desk:
            continue
        given = [flag for flag, dest in other.option_flags(command).items()
                 if flag not in own and getattr(args, dest, None)]
        if given:
            raise DeskbookError(f"{', '.join(given)} only apply to --desk {other.name}, not --desk {desk.name}",
                                hint="drop the flag(s)")


def connection_help(desks: list[Desk], flag: str) -> str:
    """`Zendesk: env ZENDESK_URL …; JSM: env JIRA_URL` for one of the shared connection flags (without
    the desk's title when only one desk is offered)."""
    named = [d for d in desks if d.env.get(flag)]
    if len(named) == 1:
        return named[0].env[flag]
    return "; ".join(f"{d.title}: {d.env[flag]}" for d in named)

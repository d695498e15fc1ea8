"""Zendesk Support behind the shared commands (`connectors/desk.py`); light: the CLI parser imports it.

Zendesk takes no flags beyond the shared `--url/--email/--token`; connecting, the sync desk and
the demo import their modules when a command runs.
"""

from __future__ import annotations

from typing import Any

from deskbook.connectors.desk import Desk


class ZendeskDesk(Desk):
    """`--desk zendesk`."""

    name = "zendesk"
    title = "Zendesk"
    env = {"url": "env ZENDESK_URL or ZENDESK_SUBDOMAIN", "email": "env ZENDESK_EMAIL",
           "token": "env ZENDESK_API_TOKEN"}
    url_env = ("ZENDESK_URL", "ZENDESK_SUBDOMAIN")
    scenario_module = "deskbook.connectors.scenarios.zendesk_driver"

    def connect(self, url: str | None, email: str | None, token: str | None, **options: Any) -> Any:
        """A `ZendeskConnector` for the account named by the flags or the ZENDESK_* environment."""
        from deskbook.connectors.zendesk.connector import ZendeskConnector

        return ZendeskConnector.connect(url, email, token, **options)

    def sync_desk(self, url: str | None, email: str | None, token: str | None, *, contract_end_field: str,
                  tier_field: str, playbook_name: str, **options: Any) -> Any:
        """A `ZendeskSyncDesk` (incremental organization export, tickets with idempotency keys)."""
        from deskbook.connectors.zendesk.sync_desk import connect

        return connect(url, email, token, contract_end_field=contract_end_field, tier_field=tier_field,
                       playbook_name=playbook_name)

    def demo(self, playbook: Any, library: Any, *, seed_orgs: int) -> None:
        """`deskbook demo --desk zendesk` (`connectors/zendesk/demo.py`)."""
        from deskbook.connectors.zendesk.demo import run_demo

        run_demo(playbook, library, seed_orgs=seed_orgs)

    def report_data(self, url: str | None, email: str | None, token: str | None, playbook: Any, start: float,
                    end: float, **options: Any) -> Any:
        """The weekly review's data (`connectors/report/zendesk_reader.py`)."""
        from deskbook.connectors.report.zendesk_reader import read
        from deskbook.connectors.zendesk.client import ZendeskClient

        return read(ZendeskClient(url, email, token), playbook, start, end)

    restore_refusal = None

    def restore(self, connector: Any, document: dict[str, Any], *, doit: bool) -> list[dict[str, Any]]:
        """Revert changed objects, re-create deleted ones (`connectors/backup.py`)."""
        from deskbook.connectors.backup import restore_zendesk

        return restore_zendesk(connector, document, doit=doit)

    def customer_text_problems(self, playbook: Any, library: Any) -> list[Any]:
        """Requester notifications holding a fill-in slot (`translate.customer_text_problems`)."""
        from deskbook.connectors.zendesk.translate import customer_text_problems

        return customer_text_problems(playbook, library)

    def add_sandbox_command(self, subparsers: Any) -> None:
        """`deskbook sandbox zendesk` (its arguments live in the light `sandbox_command`)."""
        from deskbook.connectors.zendesk.sandbox_command import add_sandbox_command

        add_sandbox_command(subparsers)


DESK = ZendeskDesk()

"""Jira Service Management behind the shared commands (`connectors/desk.py`); light: the CLI parser
imports it.

JSM's own flags: `--project` (service project key) and `--cloud-id` (automation API) for every
desk command, the sync jobs and `deskbook test`; `--allow-internal-api` (SLA goals through JSM's
internal endpoints) for plan/apply/uninstall/export/verify; `--customer-email` (the test customer
of a live run) for `deskbook test`. JSM is the desk `deskbook verify` reads SLA
goals back from.
"""

from __future__ import annotations

import argparse
from typing import Any

from deskbook.connectors.desk import Desk


class JsmDesk(Desk):
    """`--desk jsm`."""

    restore_refusal = ("JSM cannot update a request type, and its automation rules and SLA goals do not "
                       "round-trip through its public API")

    name = "jsm"
    title = "JSM"
    env = {"url": "env JIRA_URL", "email": "env JIRA_EMAIL", "token": "env JIRA_API_TOKEN"}
    url_env = ("JIRA_URL",)
    scenario_module = "deskbook.connectors.scenarios.jsm_driver"
    can_verify = True
    force_help = {"apply": "replacing or deleting request types that requests use",
                  "uninstall": "also delete request types that requests use (their requests lose the type)"}

    def customer_text_problems(self, playbook: Any, library: Any) -> list[Any]:
        """Public rule comments holding a fill-in slot (`translate.customer_text_problems`)."""
        from deskbook.connectors.jsm.translate import customer_text_problems

        return customer_text_problems(playbook, library)

    def add_options(self, parser: argparse.ArgumentParser, command: str) -> None:
        """`--project` and `--cloud-id` everywhere; `--allow-internal-api` for the desk commands (not sync,
        not test); `--customer-email` for `deskbook test` on a real site."""
        parser.add_argument("--project", metavar="KEY", help="JSM: service project key (env JSM_PROJECT, default SUP)")
        parser.add_argument("--cloud-id", metavar="ID", help="JSM: site cloud id for the automation API "
                                                             "(env JIRA_CLOUD_ID; read from the site when absent)")
        if command == "desk":
            parser.add_argument("--allow-internal-api", action="store_true",
                                help="JSM: install SLA goals through JSM's internal (undocumented) SLA endpoints")
        if command == "test":
            parser.add_argument("--customer-email", metavar="EMAIL",
                                help="JSM, real site: the existing customer test requests are raised for (env "
                                     "DESKBOOK_JSM_CUSTOMER_EMAIL; their own API token for the customer's steps: env "
                                     "DESKBOOK_JSM_CUSTOMER_TOKEN, never printed)")

    def connect(self, url: str | None, email: str | None, token: str | None, **options: Any) -> Any:
        """A `JsmConnector` for the site named by the flags or the JIRA_* / JSM_PROJECT environment."""
        from deskbook.connectors.jsm.connector import JsmConnector

        return JsmConnector.connect(url, email, token, project_key=options.get("project"),
                                    cloud_id=options.get("cloud_id"),
                                    allow_internal_api=bool(options.get("allow_internal_api")))

    def report_data(self, url: str | None, email: str | None, token: str | None, playbook: Any, start: float,
                    end: float, **options: Any) -> Any:
        """The weekly review's data (`connectors/report/jsm_reader.py`)."""
        from deskbook.connectors.jsm.client import JsmClient
        from deskbook.connectors.report.jsm_reader import read

        client = JsmClient.from_env(url=url, email=email, token=token, project_key=options.get("project"),
                                    cloud_id=options.get("cloud_id"))
        return read(client, playbook, start, end)

    def sync_desk(self, url: str | None, email: str | None, token: str | None, *, contract_end_field: str,
                  tier_field: str, playbook_name: str, **options: Any) -> Any:
        """A `JsmSyncDesk` over a `JsmClient` for the project."""
        from deskbook.connectors.jsm.client import JsmClient
        from deskbook.connectors.jsm.sync_desk import JsmSyncDesk

        client = JsmClient.from_env(url=url, email=email, token=token, project_key=options.get("project"),
                                    cloud_id=options.get("cloud_id"))
        return JsmSyncDesk(client, contract_end_field=contract_end_field, tier_field=tier_field,
                           playbook_name=playbook_name)

    def demo(self, playbook: Any, library: Any, *, seed_orgs: int) -> None:
        """`deskbook demo --desk jsm` (`connectors/jsm/demo.py`)."""
        from deskbook.connectors.jsm.demo import render_demo, run_demo
        from deskbook.sync.jobs import settings_from_playbook

        print(render_demo(run_demo(playbook, library, settings_from_playbook(playbook), seed_orgs=seed_orgs, week=True)))

    def add_sandbox_command(self, subparsers: Any) -> None:
        """`deskbook sandbox jsm` (its arguments live in the light `sandbox_command`)."""
        from deskbook.connectors.jsm.sandbox_command import add_sandbox_command

        add_sandbox_command(subparsers)


DESK = JsmDesk()

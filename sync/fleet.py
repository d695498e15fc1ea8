"""A fleet of desks: `desks.yaml`, and one sync run per desk fanned out locally or to Celery workers.

The inventory names any number of Zendesk and JSM desks (brands, regions, an agency's clients),
each with its playbook and phrase library. Credentials never sit in the file: each desk names the
environment variable (`token_env`) or file (`token_file`, e.g. a mounted secret) that holds its
token; an inline `token:` is refused, naming the line. Example:

    ledger: postgresql://deskbook@db/deskbook     # optional: one shared ledger (else SQLite per desk)
    desks:
      - name: acme-cn
        desk: zendesk
        url: https://acme-cn.zendesk.com          # or url_env: ACME_CN_URL
        email: integrations@acme.com              # or email_env
        token_env: ACME_CN_ZENDESK_TOKEN          # or token_file: /run/secrets/acme-cn
        playbook: standard-service                # optional (name or file), default the shipped one
      - name: acme-eu
        desk: jsm
        url_env: ACME_EU_JIRA_URL
        email_env: ACME_EU_JIRA_EMAIL
        token_file: /run/secrets/acme-eu
        options: {project: SUP}                   # the desk's own flags (here JSM's --project)

`sync_one(desk, ...)` is the whole work for one desk — connect, take the desk's ledger lock (the
file lock, or PostgreSQL's advisory lock: one worker per desk at a time), run the jobs — and is what
both the local fan-out (`run_local`: a process pool, one desk per process) and the Celery task
(`deskbook.sync.celery_app`) call, so exactly-once rests on the same intent log either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from deskbook.errors import DeskbookError

_KEYS = {"name", "desk", "url", "url_env", "email", "email_env", "token_env", "token_file", "playbook",
         "scripts", "options", "ledger"}


@dataclass(frozen=True)
class FleetDesk:
    """One desk of the inventory (no secret in it: `token_env` / `token_file` say where the token is)."""

    name: str
    desk: str
    url: str | None = None
    url_env: str | None = None
    email: str | None = None
    email_env: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    playbook: str | None = None
    scripts: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    ledger: str | None = None

    def to_json(self) -> dict:
        """Plain dict (a Celery task argument): still no secret in it."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, {})}

    def credentials(self) -> tuple[str, str, str]:
        """(url, email, token), read from the environment / files on the machine that runs the desk."""
        url = self.url or (os.environ.get(self.url_env) if self.url_env else None)
        email = self.email or (os.environ.get(self.email_env) if self.email_env else None)
        token = None
        if self.token_env:
            token = os.environ.get(self.token_env)
            missing = f"environment variable {self.token_env}"
        else:
            missing = f"token file {self.token_file}"
            try:
                token = Path(self.token_file).read_text(encoding="utf-8").strip()  # type: ignore[arg-type]
            except OSError as exc:
                raise DeskbookError(f"desk {self.name}: cannot read {missing}: {exc.strerror}",
                                    hint="mount the secret or fix token_file") from None
        for value, what, name in ((url, "URL", self.url_env), (email, "email", self.email_env), (token, "token", None)):
            if not value:
                source = f"environment variable {name}" if name else missing
                raise DeskbookError(f"desk {self.name}: no {what} ({source} is empty or unset)",
                                    hint="set it on every machine that runs this desk")
        from deskbook.log import register_secret

        register_secret(token)
        return url, email, token  # type: ignore[return-value]


@dataclass(frozen=True)
class Fleet:
    """The inventory: desks and an optional shared ledger."""

    desks: tuple[FleetDesk, ...]
    ledger: str | None = None


def load_fleet(path: str | Path) -> Fleet:
    """Read `desks.yaml`; DeskbookError naming file:line for every mistake."""
    return _parse(Path(path))


def _read(path: Path) -> tuple[Any, dict]:
    """(data, line of each desk entry and key) — lines from PyYAML's nodes."""
    import yaml

    from deskbook.yaml_reading import read_text, read_yaml

    try:  # the bounded reader every playbook goes through: size checked before reading, bad bytes by line
        text = read_text(path)
    except OSError as exc:
        raise DeskbookError(f"cannot read the fleet inventory: {exc.strerror or exc}", where=str(path)) from None

    try:
        _refuse_aliases(text, path)
        node = read_yaml(text, yaml.compose)
        data = read_yaml(text, yaml.load)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise DeskbookError(f"not valid YAML: {getattr(exc, 'problem', exc)}", where=where) from None
    except RecursionError:
        raise DeskbookError("the fleet inventory is nested too deeply", where=str(path)) from None
    lines: dict = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == "desks" and isinstance(value, yaml.SequenceNode):
                for index, item in enumerate(value.value):
                    lines[index] = item.start_mark.line + 1
                    if isinstance(item, yaml.MappingNode):
                        for k, _v in item.value:
                            lines[(index, k.value)] = k.start_mark.line + 1
            else:
                lines[key.value] = key.start_mark.line + 1
    return data, lines


def _refuse_aliases(text: str, path: Path) -> None:
    """An inventory has no use for YAML aliases; refusing them (at the alias) keeps reading bounded."""
    import yaml

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise DeskbookError("YAML aliases (*name) are not allowed in a fleet inventory",
                                where=f"{path}:{event.start_mark.line + 1}", hint="write each desk out")


def _parse(path: Path) -> Fleet:
    from deskbook.connectors.registry import desks as desk_names

    data, lines = _read(path)
    if not isinstance(data, dict) or not isinstance(data.get("desks"), list) or not data["desks"]:
        raise DeskbookError("the fleet inventory needs a `desks:` list with at least one desk", where=str(path))
    unknown_top = set(data) - {"desks", "ledger"}
    if unknown_top:
        key = min(unknown_top)
        raise DeskbookError(f"unknown key {key!r}", where=f"{path}:{lines.get(key, 1)}", hint="use desks: and ledger:")
    out: list[FleetDesk] = []
    seen: dict[str, int] = {}  # desk name -> its line
    for index, entry in enumerate(data["desks"]):
        where = f"{path}:{lines.get(index, 1)}"
        if not isinstance(entry, dict):
            raise DeskbookError("each desk is a mapping (name, desk, url, ...)", where=where)
        if "token" in entry or "password" in entry:
            secret_key = "token" if "token" in entry else "password"
            raise DeskbookError(f"desk {entry.get('name', index + 1)}: an inline {secret_key} is refused",
                                where=f"{path}:{lines.get((index, secret_key), lines.get(index, 1))}",
                                hint="name its environment variable (token_env) or file (token_file) instead")
        unknown = set(entry) - _KEYS
        if unknown:
            key = min(unknown)
            raise DeskbookError(f"unknown key {key!r}", where=f"{path}:{lines.get((index, key), lines.get(index, 1))}",
                                hint="known: " + ", ".join(sorted(_KEYS)))
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DeskbookError("a desk needs a name", where=where)
        if name in seen:
            raise DeskbookError(f"desk {name!r} is listed twice (first at line {seen[name]})", where=where)
        seen[name] = lines.get(index, 1)
        if entry.get("desk") not in desk_names():
            raise DeskbookError(f"desk {name}: desk must be one of {', '.join(desk_names())}",
                                where=f"{path}:{lines.get((index, 'desk'), lines.get(index, 1))}")
        if not (entry.get("url") or entry.get("url_env")):
            raise DeskbookError(f"desk {name}: give url or url_env", where=where)
        if not (entry.get("email") or entry.get("email_env")):
            raise DeskbookError(f"desk {name}: give email or email_env", where=where)
        if bool(entry.get("token_env")) == bool(entry.get("token_file")):
            raise DeskbookError(f"desk {name}: give exactly one of token_env and token_file", where=where)
        if not isinstance(entry.get("options", {}), dict):
            raise DeskbookError(f"desk {name}: options is a mapping of the desk's flags", where=where)
        out.append(FleetDesk(**{k: v for k, v in entry.items() if k in _KEYS}))
    ledger = data.get("ledger")
    if ledger is not None and not str(ledger).startswith(("postgresql://", "postgres://")):
        raise DeskbookError("ledger: must be a postgresql:// URL (leave it out for one SQLite file per desk)",
                            where=f"{path}:{lines.get('ledger', 1)}")
    return Fleet(tuple(out), ledger)


def sync_one(entry: dict | FleetDesk, *, as_of: str | None = None, jobs: tuple[str, ...] | None = None,
             ledger: str | None = None, dry_run: bool = False) -> dict:
    """Run the sync jobs for one desk; `{"desk": name, "report": {...}}` or `{"desk": name, "error": "..."}`.

    `ledger` (the inventory's) is used when the desk names none; the lock it takes makes a second
    worker on the same desk fail fast with "already running" instead of doubling the work."""
    from deskbook.connectors.registry import get_desk
    from deskbook.playbooks.loader import load_playbook
    from deskbook.scripts_library import load_library
    from deskbook.sync.jobs import JOBS, settings_from_playbook
    from deskbook.sync.ledger import ledger_location
    from deskbook.sync.runner import run_jobs

    desk_entry = entry if isinstance(entry, FleetDesk) else FleetDesk(**entry)
    try:
        url, email, token = desk_entry.credentials()
        library = load_library(desk_entry.scripts) if desk_entry.scripts else load_library()
        playbook = load_playbook(desk_entry.playbook, phrase_ids=library.ids())
        settings = settings_from_playbook(playbook)
        kind = get_desk(desk_entry.desk)
        flags = kind.option_flags("sync")
        options = {flags.get(f"--{k}", k): v for k, v in desk_entry.options.items()}
        desk = kind.sync_desk(url, email, token, contract_end_field=settings.contract_end_field,
                              tier_field=settings.tier_field, playbook_name=settings.playbook_name, **options)
        location = ledger_location(desk_entry.desk, desk.url, desk_entry.ledger or ledger)
        with location.lock():
            store = location.open()
            try:
                report = run_jobs(desk, store, settings, library, jobs=jobs or JOBS,
                                  as_of=date.fromisoformat(as_of) if as_of else None, dry_run=dry_run)
            finally:
                store.close()
        return {"desk": desk_entry.name, "report": report.to_json()}
    except DeskbookError as exc:
        return {"desk": desk_entry.name, "error": str(exc)}


def run_local(fleet: Fleet, *, parallel: int, **kwargs: Any) -> list[dict]:
    """Every desk's run on this machine: a pool of `parallel` processes, one desk each at a time."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if parallel <= 1 or len(fleet.desks) == 1:
        return [sync_one(d, ledger=fleet.ledger, **kwargs) for d in fleet.desks]
    context = multiprocessing.get_context("spawn")  # no inherited threads or connections
    with ProcessPoolExecutor(max_workers=min(parallel, len(fleet.desks)), mp_context=context) as pool:
        futures = [pool.submit(sync_one, d.to_json(), ledger=fleet.ledger, **kwargs) for d in fleet.desks]
        return [f.result() for f in futures]


def summary(results: list[dict]) -> str:
    """One line per desk."""
    lines = []
    for result in results:
        if "error" in result:
            lines.append(f"{result['desk']}: error: {result['error']}")
            continue
        jobs = result["report"]["jobs"]
        created = sum(j["created"] for j in jobs.values())
        failed = sum(j["failed"] for j in jobs.values())
        lines.append(f"{result['desk']}: {result['report']['organizations']} organizations, created {created}, "
                     f"already done {sum(j['already_done'] for j in jobs.values())}, failed {failed}")
    return "\n".join(lines)


def failed(results: list[dict]) -> bool:
    """True when a desk errored or a task failed."""
    return any("error" in r or any(j["failed"] for j in r["report"]["jobs"].values()) for r in results)

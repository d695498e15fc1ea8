"""Your own content without repeating flags: `deskbook.toml` and the DESKBOOK_* environment.

Three settings name what most commands work on:

| setting    | flag         | environment         | `deskbook.toml` key |
|------------|--------------|---------------------|---------------------|
| playbook   | `--playbook` (`validate PLAYBOOK`) | `DESKBOOK_PLAYBOOK` | `playbook` |
| phrases    | `--scripts`  | `DESKBOOK_SCRIPTS`  | `scripts`           |
| desk       | `--desk`     | `DESKBOOK_DESK`     | `desk`              |

A flag wins over the environment, the environment over the file. The file is the first
`deskbook.toml` found in the working directory or one of its parents (as git finds `.git`), so
every command run inside a folder made by `deskbook init` uses that folder's playbook and phrase
library. Relative paths in the file are relative to the file's folder; relative paths in the
environment to the working directory. A playbook value without a `/` and without a `.yaml`
suffix that is not a file is a shipped playbook's name, as on the command line.

`deskbook.cli.build_parser` applies the settings as the parsers' defaults, so `--help` shows
them and `--desk` is no longer required once a desk is set. A bad file or an unknown desk is a
usage error (exit 64) naming the file or variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from deskbook.errors import DeskbookError, ExitCode

CONFIG_FILE = "deskbook.toml"
#: setting -> environment variable
ENVIRONMENT = {"playbook": "DESKBOOK_PLAYBOOK", "scripts": "DESKBOOK_SCRIPTS", "desk": "DESKBOOK_DESK"}
#: Desks a setting may name (the connectors' registry is not imported to build the parser).
DESKS = ("zendesk", "jsm")


class UsageError(DeskbookError):
    """A setting the command line cannot work with: exits 64 like argparse's own usage errors."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Settings:
    """The resolved settings and, for each, where it came from (for messages)."""

    playbook: str | None = None
    scripts: str | None = None
    desk: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    file: Path | None = None

    def value(self, name: str) -> str | None:
        """The setting `name` (`playbook`, `scripts`, `desk`)."""
        return getattr(self, name)


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest `deskbook.toml` in `start` (default: the working directory) or above, or None."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def read_config_file(path: Path) -> dict[str, str]:
    """The settings in `path`, relative paths resolved against its folder; UsageError when malformed."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser, packaged as tomli
        import tomli as tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML: {exc}", where=str(path), hint="fix the file or delete it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the settings file: {exc}", where=str(path)) from None
    unknown = sorted(set(data) - set(ENVIRONMENT))
    if unknown:
        raise UsageError(f"unknown setting(s) {', '.join(unknown)}", where=str(path),
                         hint="deskbook.toml knows: " + ", ".join(ENVIRONMENT))
    values: dict[str, str] = {}
    for name, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"setting {name!r} must be a non-empty string", where=str(path))
        values[name] = _resolve(name, value, path.parent)
    return values


def _resolve(name: str, value: str, base: Path) -> str:
    """`value` with a relative path made absolute against `base` (desks and shipped names stay as they are)."""
    if name == "desk":
        return value
    if name == "playbook" and _is_playbook_name(value) and not (base / value).exists():
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def _is_playbook_name(value: str) -> bool:
    return "/" not in value and "\\" not in value and not value.endswith((".yaml", ".yml"))


def load_settings(cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """The settings for a command run in `cwd` with environment `env` (defaults: this process's)."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    path = find_config_file(cwd)
    if path is not None:
        for name, value in read_config_file(path).items():
            values[name], sources[name] = value, str(path)
    for name, variable in ENVIRONMENT.items():
        value = (env.get(variable) or "").strip()
        if value:
            values[name], sources[name] = _resolve(name, value, cwd), variable
    desk = values.get("desk")
    if desk is not None and desk not in DESKS:
        raise UsageError(f"unknown desk {desk!r}", where=sources["desk"], hint="use one of: " + ", ".join(DESKS))
    return Settings(playbook=values.get("playbook"), scripts=values.get("scripts"), desk=desk,
                    sources=sources, file=path)

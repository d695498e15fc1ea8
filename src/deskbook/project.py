"""`deskbook init DIR`: your own editable copy of a shipped playbook and the phrase library.

The shipped playbook and phrases live inside the installed package, where an edit or an approval
is lost on the next reinstall. `init` copies them into a folder of yours (kept in git):

    DIR/playbook.yaml                        the playbook (a copy of the shipped one, same name)
    DIR/scripts/templates/<locale>/<id>.j2   the phrase library
    DIR/scripts/approvals.yaml               its approval lock
    DIR/deskbook.toml                        `playbook`, `scripts` (and `desk` with --desk)

`deskbook.toml` is found upward from the working directory (`deskbook.config`), so inside DIR
every command uses these files without flags, and `deskbook scripts approve` writes here. The
playbook keeps its machine name, so the desk objects an install of the shipped playbook made stay
owned by it. `init` never overwrites: it refuses when any of these files exists.

`--company NAME` and `--department NAME` write the company and team customers see into the copy's
`constants:` (the same text in every locale; edit per locale afterwards): rules post them to
customers wherever a desk has no placeholder of its own. Without them the copy keeps the shipped
sample values, and `init` says so.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from deskbook.config import CONFIG_FILE, DESKS
from deskbook.errors import DeskbookError, ExitCode

PLAYBOOK_FILE = "playbook.yaml"
SCRIPTS_DIR = "scripts"


def register(subparsers) -> None:
    """Add `deskbook init` to the `deskbook` parser."""
    p = subparsers.add_parser(
        "init", help="copy the shipped playbook and phrase library into a folder of yours to edit",
        description="Write an editable copy of a shipped playbook and the phrase library into DIR, with a "
                    "deskbook.toml so that commands run inside DIR use them (approvals included).")
    p.add_argument("dir", metavar="DIR", help="folder to create or fill (must not hold these files already)")
    p.add_argument("--from-playbook", metavar="NAME", default="standard-service",
                   help="shipped playbook to copy (default standard-service)")
    p.add_argument("--desk", choices=DESKS, help="also record the desk in deskbook.toml")
    p.add_argument("--company", metavar="NAME",
                   help="your company's name as customers see it (the playbook's constants.company_name)")
    p.add_argument("--department", metavar="NAME",
                   help="the department or team customers deal with (the playbook's constants.department)")
    p.set_defaults(func=cmd_init)


def with_constants(text: str, shown: str, constants: dict[str, str]) -> str:
    """The playbook `text` with `constants` (variable -> text, the same in every locale) in its
    `constants:` block: each variable's line replaced where the block has one, the rest added to the
    block (or a new block at the end); the result is loaded to check it (a DeskbookError naming
    the value when it is not valid, e.g. desk markup)."""
    import json
    import re

    from deskbook.playbooks.loader import parse_playbook

    if not constants:
        return text
    locales = parse_playbook(text, shown).metadata.locales
    for name, value in constants.items():
        line = f"  {name}: {{" + ", ".join(f"{loc}: {json.dumps(value, ensure_ascii=False)}" for loc in locales) + "}"
        block = re.search(r"(?m)^constants:[ \t]*\n((?:[ \t]+.*\n|[ \t]*\n)*)", text)
        if block is None:
            text = text.rstrip("\n") + f"\n\nconstants:\n{line}\n"
            continue
        own = re.search(rf"(?m)^[ \t]+{name}:.*$", block.group(1))
        if own is not None:
            start = block.start(1) + own.start()
            text = text[:start] + line + text[block.start(1) + own.end():]
        else:
            text = text[:block.end(1)] + line + "\n" + text[block.end(1):]
    try:
        parse_playbook(text, shown)
    except DeskbookError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        raise DeskbookError("--company/--department: " + "; ".join(p.split(": ", 1)[-1] for p in problems),
                            hint="give the plain name customers see") from None
    return text


def init_project(target: Path, *, playbook: str = "standard-service", desk: str | None = None,
                 constants: dict[str, str] | None = None) -> list[Path]:
    """Write the copy into `target` (with `constants`, variable -> text, in the playbook's `constants:`);
    returns the files and folders written (DeskbookError when one exists)."""
    from deskbook.playbooks.loader import _read_source
    from deskbook.scripts_library.library import APPROVALS_FILE, TEMPLATES_DIR, shipped_library_root

    if target.exists() and not target.is_dir():
        raise DeskbookError("exists and is not a folder", where=str(target), hint="choose another DIR")
    if "/" in playbook or playbook.endswith((".yaml", ".yml")):
        raise DeskbookError(f"--from-playbook takes a shipped playbook's name, not a path ({playbook!r})",
                            hint="copy your own file by hand")
    text, shown = _read_source(playbook)
    text = with_constants(text, shown, constants or {})
    outputs = [target / PLAYBOOK_FILE, target / SCRIPTS_DIR, target / CONFIG_FILE]
    present = [str(p) for p in outputs if p.exists()]
    if present:
        raise DeskbookError(f"refusing to overwrite {', '.join(present)}",
                            hint="choose an empty DIR, or move those files away first")
    library = shipped_library_root()
    target.mkdir(parents=True, exist_ok=True)
    (target / PLAYBOOK_FILE).write_text(text, encoding="utf-8")
    scripts = target / SCRIPTS_DIR
    shutil.copytree(library / TEMPLATES_DIR, scripts / TEMPLATES_DIR,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(library / APPROVALS_FILE, scripts / APPROVALS_FILE)
    for path in [scripts, *scripts.rglob("*")]:  # an installed package may be read-only; the copy is yours
        path.chmod(path.stat().st_mode | 0o200)
    settings = [
        "# deskbook settings for commands run in this folder or below (see `deskbook init --help`).",
        "# Flags win over DESKBOOK_PLAYBOOK / DESKBOOK_SCRIPTS / DESKBOOK_DESK, which win over this file.",
        f'playbook = "{PLAYBOOK_FILE}"',
        f'scripts = "{SCRIPTS_DIR}"',
    ]
    if desk:
        settings.append(f'desk = "{desk}"')
    (target / CONFIG_FILE).write_text("\n".join(settings) + "\n", encoding="utf-8")
    return outputs


def cmd_init(args: argparse.Namespace) -> ExitCode:
    """`deskbook init DIR`."""
    target = Path(args.dir)
    given = {name: value for name, value in (("company_name", args.company), ("department", args.department))
             if value is not None}
    init_project(target, playbook=args.from_playbook, desk=args.desk, constants=given)
    print(f"Wrote {target / PLAYBOOK_FILE}, {target / SCRIPTS_DIR}/ (templates and approvals.yaml) "
          f"and {target / CONFIG_FILE}.")
    print("Next:")
    print(f"  cd {target}")
    sample = sample_constants(target / PLAYBOOK_FILE, given)
    if sample:
        print(f"  edit constants: in {PLAYBOOK_FILE}: customers would see the sample {sample} "
              "(or run init again with --company NAME --department NAME)")
    print("  deskbook validate                       # playbook + phrases, as you edit them")
    print("  deskbook scripts approve ID --by NAME   # after reviewing a changed phrase")
    print("  deskbook plan --desk zendesk            # or set desk = \"zendesk\" in deskbook.toml")
    return ExitCode.OK


def sample_constants(path: Path, given: dict[str, str]) -> str:
    """The shipped sample constants the copy at `path` still holds (e.g. "company_name 安科服务"), or ""."""
    from deskbook.playbooks.loader import load_playbook
    from deskbook.playbooks.model import CONSTANT_VARIABLES

    constants = load_playbook(path).constants
    shown = [f"{name} {getattr(constants, name).get()!r}" for name in CONSTANT_VARIABLES
             if name not in given and getattr(constants, name) is not None]
    return ", ".join(shown)

"""The approved-phrasing library: templates with front matter, the approval lock, and lint.

Layout of a library directory (the shipped one is this package's folder; an admin may keep a
copy anywhere and pass it with `--scripts DIR`)::

    DIR/templates/<locale>/<phrase_id>.j2   one phrase in one locale
    DIR/approvals.yaml                      the approval lock

A template file is YAML front matter between two `---` lines, then the Jinja body::

    ---
    id: greeting
    locale: en
    version: 1
    description: ...
    variables:
    - {name: customer_name, description: ..., example: ...}
    approval: {approved_by: ..., approved_at: ..., sha256: ...}
    ---
    Hello {{ customer_name }}, ...

The content hash (`Phrase.content_hash`) is the SHA-256 of the body plus the declared
variable names; the approval block is not part of it. `approvals.yaml` maps
`phrase_id -> locale -> {sha256, approved_by, approved_at, variables, text}`; it keeps the
approved text so that `validate` can show what changed since approval. A phrase is approved
when its current hash equals the hash in `approvals.yaml` and in its front matter.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from deskbook.errors import DeskbookError, ValidationError
from deskbook.yaml_reading import MAX_CHARS, read_text, read_yaml, undecodable_where

if TYPE_CHECKING:  # jinja2 and jsonschema are imported where used: `deskbook --help` needs neither
    import jinja2
    import jsonschema
    from jinja2.sandbox import SandboxedEnvironment

#: Locales every phrase must exist in.
LOCALES = ("zh-CN", "en")
#: The phrases the standard process needs (../shared/sop/standard-process.md, last section).
STANDARD_PHRASES = (
    "greeting",
    "confirm_need",
    "callback_promise",
    "propose_plan",
    "escalation_notice",
    "progress_update",
    "plan_change",
    "confirm_resolution",
    "satisfaction_survey",
    "thanks_feedback",
    "closing",
    "complaint_acknowledgement",
    "complaint_remedy",
    "new_customer_followup",
    "periodic_callback",
    "renewal_reminder",
    "forbidden_phrase_note",  # C-1 guardrail: the agent's note when a reply used a forbidden phrase
)
TEMPLATES_DIR = "templates"
APPROVALS_FILE = "approvals.yaml"
TEMPLATE_SUFFIX = ".j2"
#: Largest template file (bytes) read; a phrase is a few sentences.
TEMPLATE_BYTES = 64 * 1024

_SNAKE = r"^[a-z][a-z0-9_]*$"
#: JSON Schema of a template's front matter.
FRONT_MATTER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "locale", "version", "description", "variables"],
    "properties": {
        "id": {"type": "string", "pattern": _SNAKE},
        "locale": {"type": "string", "minLength": 2},
        "version": {"type": "integer", "minimum": 1},
        "description": {"type": "string", "minLength": 1},
        "variables": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "description", "example"],
                "properties": {
                    "name": {"type": "string", "pattern": _SNAKE},
                    "description": {"type": "string", "minLength": 1},
                    "example": {"type": ["string", "number"]},
                },
            },
        },
        "approval": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["approved_by", "approved_at", "sha256"],
                    "properties": {
                        "approved_by": {"type": "string", "minLength": 1},
                        "approved_at": {"type": "string", "minLength": 1},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
            ]
        },
    },
}


@functools.cache
def front_matter_validator() -> jsonschema.Draft202012Validator:
    """The validator of `FRONT_MATTER_SCHEMA` (built on first use)."""
    import jsonschema

    return jsonschema.Draft202012Validator(FRONT_MATTER_SCHEMA)


def sandbox_environment() -> SandboxedEnvironment:
    """The one Jinja environment phrases are parsed and rendered in: sandboxed, strict, plain text,
    bounded (`deskbook.scripts_library.engine`)."""
    from deskbook.scripts_library import engine

    return engine.environment()


def content_hash(body: str, variable_names: Iterable[str]) -> str:
    """SHA-256 over a template body and its declared variable names (what an approval locks)."""
    canonical = json.dumps(
        {"body": _normalize_newlines(body), "variables": sorted(variable_names)},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class UnapprovedPhrase(ValidationError):
    """Phrases that are not approved as they stand: no command hands their text out."""

    def __init__(self, problems: list[str]):
        super().__init__(problems, summary=(
            "refusing unapproved phrase text (only approved text reaches a desk or a customer; "
            "--force does not change this)"))


def compile_unapproved(phrase: Phrase) -> jinja2.Template:
    """The compiled template of `phrase` whether or not it is approved: for `approve` (which must
    try a template before approving it) and lint only; everything else uses `Library.template`."""
    from deskbook.scripts_library import engine

    return engine.compile_template(phrase.body, phrase.path, phrase.body_line)


@dataclass(frozen=True)
class Variable:
    """One declared template variable."""

    name: str
    description: str
    example: str


@dataclass(frozen=True)
class Phrase:
    """One phrase in one locale, as read from its template file."""

    id: str
    locale: str
    version: int
    description: str
    variables: tuple[Variable, ...]
    approval: dict[str, str] | None
    body: str
    path: str  # the template file, for messages
    body_line: int  # line number of the body's first line in the file

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Declared variable names, in declaration order."""
        return tuple(v.name for v in self.variables)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the body and declared variable names."""
        return content_hash(self.body, self.variable_names)

    def examples(self) -> dict[str, str]:
        """The declared example value of each variable."""
        return {v.name: v.example for v in self.variables}


@dataclass
class Library:
    """All phrases of one library directory plus its approval lock."""

    root: Path
    phrases: dict[tuple[str, str], Phrase] = field(default_factory=dict)
    approvals: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    load_problems: list[str] = field(default_factory=list)  # files that could not be read at all
    approvals_path: Path | None = None

    # ------------------------------------------------------------ lookup

    def ids(self) -> list[str]:
        """Phrase ids present in any locale, sorted."""
        return sorted({pid for pid, _ in self.phrases})

    def locales(self) -> list[str]:
        """Locales present in the library, sorted."""
        return sorted({loc for _, loc in self.phrases})

    def phrase(self, phrase_id: str, locale: str) -> Phrase:
        """The phrase `phrase_id` in `locale`; DeskbookError naming what exists when it does not."""
        found = self.phrases.get((phrase_id, locale))
        if found is not None:
            return found
        if phrase_id not in self.ids():
            raise DeskbookError(
                f"unknown phrase {phrase_id!r} in {self.root}",
                hint="known phrases: " + ", ".join(self.ids()),
            )
        have = sorted(loc for pid, loc in self.phrases if pid == phrase_id)
        raise DeskbookError(
            f"phrase {phrase_id!r} has no {locale!r} template in {self.root}",
            hint="available locales: " + ", ".join(have),
        )

    def template(self, phrase: Phrase) -> jinja2.Template:
        """The compiled template of `phrase`, which must be approved as it stands: the one door every
        text a desk, a sync job or `render` receives goes through (`UnapprovedPhrase` otherwise,
        whatever `--force` says). DeskbookError (file:line) when its Jinja is invalid."""
        problem = self.approval_problem(phrase)  # this phrase alone: a sync run asks once per task
        if problem:
            raise UnapprovedPhrase([problem])
        return compile_unapproved(phrase)

    # ------------------------------------------------------------ approval

    def approved_entry(self, phrase: Phrase) -> dict[str, Any] | None:
        """The `approvals.yaml` entry of `phrase`, or None."""
        entry = self.approvals.get(phrase.id, {}).get(phrase.locale)
        return entry if isinstance(entry, dict) else None

    def approval_problem(self, phrase: Phrase) -> str | None:
        """Why `phrase` is not approved as it stands (with a diff when it changed), or None."""
        entry = self.approved_entry(phrase)
        approve_cmd = f"deskbook scripts approve {phrase.id} --locale {phrase.locale} --by NAME"
        if entry is None:
            return f"{phrase.path}: phrase {phrase.id!r} ({phrase.locale}) was never approved; review it and run `{approve_cmd}`"
        current = phrase.content_hash
        if entry.get("sha256") != current:
            lines = [
                f"{phrase.path}: phrase {phrase.id!r} ({phrase.locale}) differs from the version approved by "
                f"{entry.get('approved_by', '?')} at {entry.get('approved_at', '?')}; review the change and run `{approve_cmd}`"
            ]
            approved_vars = entry.get("variables")
            if approved_vars is not None and sorted(approved_vars) != sorted(phrase.variable_names):
                lines.append(
                    f"    declared variables changed: approved {sorted(approved_vars)}, now {sorted(phrase.variable_names)}"
                )
            approved_text = entry.get("text")
            if isinstance(approved_text, str):
                diff = difflib.unified_diff(
                    _normalize_newlines(approved_text).splitlines(),
                    _normalize_newlines(phrase.body).splitlines(),
                    fromfile=f"approved ({APPROVALS_FILE})",
                    tofile=phrase.path,
                    lineterm="",
                )
                lines.extend("    " + line for line in diff)
            return "\n".join(lines)
        front = phrase.approval or {}
        if front.get("sha256") != current:
            return (
                f"{phrase.path}: the approval block in the front matter does not match {APPROVALS_FILE} "
                f"(text unchanged); run `{approve_cmd}` to rewrite it"
            )
        return None

    def is_approved(self, phrase: Phrase) -> bool:
        """True when the phrase's current text is the approved text."""
        return self.approval_problem(phrase) is None

    def require_approved(self, phrase_ids: Iterable[str] | None = None, locales: Iterable[str] | None = None) -> None:
        """Refuse (`UnapprovedPhrase`, naming each phrase, locale and the diff) when any of `phrase_ids`
        (default: all) in any of `locales` (default: all it has) is not approved as it stands.

        The one-call guard for a command about to hand phrases to a desk or a customer; rendering
        checks it too, so a command that forgets still cannot send unapproved text."""
        wanted = None if phrase_ids is None else set(phrase_ids)
        wanted_locales = None if locales is None else set(locales)
        problems = []
        for (phrase_id, locale), phrase in sorted(self.phrases.items()):
            if (wanted is None or phrase_id in wanted) and (wanted_locales is None or locale in wanted_locales):
                problem = self.approval_problem(phrase)
                if problem:
                    problems.append(problem)
        if problems:
            raise UnapprovedPhrase(problems)

    # ------------------------------------------------------------ validation

    def validate(
        self,
        forbidden: Mapping[str, Iterable[str]] | None = None,
        required: Iterable[str] | None = None,
        locales: Iterable[str] = LOCALES,
    ) -> list[str]:
        """Every problem of the library, each naming its template file; empty when all is well.

        `forbidden` maps a locale to phrases no template in that locale may contain
        (case-insensitive); `required` names phrase ids that must exist in every one of `locales`.
        Also checked: front matter, Jinja syntax, declared versus used variables, that each template
        renders within the bounds (as `approve` checks), variables consistent across locales, and
        the approval lock.
        """
        problems = list(self.load_problems)
        locales = tuple(locales)
        for phrase_id in sorted(set(required or ())):
            for locale in locales:
                if (phrase_id, locale) not in self.phrases:
                    expected = self.root / TEMPLATES_DIR / locale / f"{phrase_id}{TEMPLATE_SUFFIX}"
                    problems.append(
                        f"{expected}: required phrase {phrase_id!r} has no {locale} template; create it and approve it"
                    )
        forbidden_by_locale = {loc: [p for p in phrases if p] for loc, phrases in (forbidden or {}).items()}
        for key in sorted(self.phrases):
            phrase = self.phrases[key]
            broken = self.template_problems(phrase)
            problems.extend(broken)
            if not broken:  # what `approve` asks: it renders, within the bounds, with examples and placeholders
                from deskbook.scripts_library.render import trial_render

                try:
                    trial_render(phrase)
                except DeskbookError as exc:
                    problems.append(str(exc))
            for bad in forbidden_by_locale.get(phrase.locale, []):
                line = _find_line(phrase.body, bad)
                if line is not None:
                    problems.append(
                        f"{phrase.path}:{phrase.body_line + line - 1}: forbidden phrase {bad!r} "
                        f"in template {phrase.id!r} ({phrase.locale}); reword it"
                    )
            approval = self.approval_problem(phrase)
            if approval:
                problems.append(approval)
        problems.extend(self._cross_locale_problems())
        return problems

    def template_problems(self, phrase: Phrase) -> list[str]:
        """Jinja syntax errors and declared-versus-used variable mismatches of one template (file:line)."""
        from jinja2 import meta

        from deskbook.scripts_library import engine

        try:
            ast = engine.parse(phrase.body, phrase.path, phrase.body_line, check_constructs=False)
        except DeskbookError as exc:
            return [str(exc)]
        problems = engine.construct_problems(ast, phrase.path, phrase.body_line)
        if problems:  # the variable analysis compiles the template, which refused constructs can break
            return problems
        try:
            used = meta.find_undeclared_variables(ast)
        except Exception as exc:  # e.g. TemplateAssertionError: the template is user input  # noqa: BLE001
            line = phrase.body_line + (getattr(exc, "lineno", None) or 1) - 1
            return [f"{phrase.path}:{line}: Jinja error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"]
        declared = set(phrase.variable_names)
        if used - declared:
            problems.append(
                f"{phrase.path}: template uses undeclared variables {sorted(used - declared)}; "
                "declare them under `variables:` in the front matter"
            )
        if declared - used:
            problems.append(
                f"{phrase.path}: declared variables {sorted(declared - used)} are never used in the template; "
                "use them or remove them from `variables:`"
            )
        duplicates = sorted({n for n in phrase.variable_names if phrase.variable_names.count(n) > 1})
        if duplicates:
            problems.append(f"{phrase.path}: variables declared twice: {duplicates}")
        return problems

    def _cross_locale_problems(self) -> list[str]:
        """A phrase must declare the same variables in every locale."""
        problems = []
        for phrase_id in self.ids():
            variants = [p for (pid, _), p in sorted(self.phrases.items()) if pid == phrase_id]
            reference = variants[0]
            for other in variants[1:]:
                if set(other.variable_names) != set(reference.variable_names):
                    problems.append(
                        f"{other.path}: declares variables {sorted(other.variable_names)} but "
                        f"{reference.path} declares {sorted(reference.variable_names)}; "
                        f"every locale of {phrase_id!r} must use the same variables"
                    )
        return problems


def _find_line(body: str, needle: str) -> int | None:
    """1-based line of the first case-insensitive occurrence of `needle` in `body`, or None."""
    haystack = _normalize_newlines(body).casefold()
    at = haystack.find(needle.casefold())
    if at < 0:
        # Also catch a phrase split across a line break.
        collapsed = re.sub(r"\s+", " ", haystack)
        if re.sub(r"\s+", " ", needle.casefold()) in collapsed:
            return 1
        return None
    return haystack.count("\n", 0, at) + 1


# ---------------------------------------------------------------- reading

def safe_load_yaml(text: str, *, use_libyaml: bool = True) -> Any:
    """`yaml.safe_load(text)`, by libyaml when it agrees with the pure reader (`deskbook.yaml_reading`):
    same data, same errors. `use_libyaml=False` forces the pure loader (tests compare the two)."""
    return read_yaml(text, yaml.load, use_libyaml=use_libyaml)


def split_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """Split a template file into (front matter, body, line number where the body starts)."""
    text = _normalize_newlines(text)
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise DeskbookError(
            "template must start with a `---` line opening the YAML front matter", where=f"{path}:1"
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            break
    else:
        raise DeskbookError("front matter is not closed by a `---` line", where=f"{path}:1")
    try:
        front = safe_load_yaml("\n".join(lines[1:index])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc)
        raise DeskbookError(f"front matter is not valid YAML: {problem}", where=f"{path}:{line}") from None
    if not isinstance(front, dict):
        raise DeskbookError("front matter must be a YAML mapping", where=f"{path}:2")
    body = "\n".join(lines[index + 1 :])
    return front, body, index + 2


def parse_template(text: str, path: str, *, expect_id: str | None = None, expect_locale: str | None = None) -> Phrase:
    """Read one template file's text into a Phrase; DeskbookError naming file:line when malformed."""
    front, body, body_line = split_front_matter(text, path)
    errors = sorted(front_matter_validator().iter_errors(front), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise DeskbookError(
            f"front matter at {where}: {first.message}",
            where=f"{path}:2",
            hint="expected keys: id, locale, version, description, variables[{name, description, example}], approval",
        )
    if expect_id is not None and front["id"] != expect_id:
        raise DeskbookError(
            f"front matter id {front['id']!r} does not match the file name {expect_id!r}", where=f"{path}:2"
        )
    if expect_locale is not None and front["locale"] != expect_locale:
        raise DeskbookError(
            f"front matter locale {front['locale']!r} does not match the folder {expect_locale!r}", where=f"{path}:2"
        )
    return Phrase(
        id=front["id"],
        locale=front["locale"],
        version=front["version"],
        description=front["description"],
        variables=tuple(Variable(v["name"], v["description"], str(v["example"])) for v in front["variables"]),
        approval=front.get("approval"),
        body=body,
        path=path,
        body_line=body_line,
    )


def shipped_library_root() -> Path:
    """The folder of the library shipped inside the package."""
    root = resources.files("deskbook.scripts_library")
    if not isinstance(root, Path):  # e.g. a zipped install: templates cannot be listed as files
        raise DeskbookError(
            f"the shipped phrase library is not a folder on disk ({root})",
            hint="install deskbook unzipped, or pass --scripts DIR with a copy of the library",
        )
    return root


def load_library(path: str | Path | None = None) -> Library:
    """Load a phrase library: None = the shipped one, a path = an admin's own copy (holding `templates/`).

    Files that cannot be parsed are recorded in `Library.load_problems` (reported by
    `validate`), so one broken template does not hide the others.
    """
    root = shipped_library_root() if path is None else Path(path)
    templates = root / TEMPLATES_DIR
    if not templates.is_dir():
        raise DeskbookError(
            f"no {TEMPLATES_DIR}/ folder in {root}",
            hint=f"a phrase library holds {TEMPLATES_DIR}/<locale>/<phrase_id>{TEMPLATE_SUFFIX} and {APPROVALS_FILE}",
        )
    approvals = root / APPROVALS_FILE
    library = Library(root=root, approvals_path=approvals)
    for locale_dir in sorted(p for p in templates.iterdir() if p.is_dir()):
        for file in sorted(locale_dir.glob(f"*{TEMPLATE_SUFFIX}")):
            shown = str(file)
            try:
                if file.stat().st_size > TEMPLATE_BYTES:
                    library.load_problems.append(
                        f"{shown}: template file is larger than {TEMPLATE_BYTES // 1024} KiB; a phrase is a short text")
                    continue
                text = read_text(file, max_bytes=TEMPLATE_BYTES)
                phrase = parse_template(text, shown, expect_id=file.stem, expect_locale=locale_dir.name)
            except OSError as exc:  # unreadable, or a folder named like a template
                library.load_problems.append(f"{shown}: cannot read the template ({exc.strerror or exc}); "
                                             "make it a readable file or remove it")
                continue
            except DeskbookError as exc:
                library.load_problems.append(str(exc))
                continue
            library.phrases[(phrase.id, phrase.locale)] = phrase
    library.approvals = read_approvals(approvals)
    return library


#: The largest approvals file read (bytes): as much YAML as the reader takes.
MAX_YAML_BYTES = MAX_CHARS * 4


def read_approvals(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The approval lock at `path` (empty when the file does not exist)."""
    if not path.is_file():
        return {}
    raw = b""
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise DeskbookError(f"approvals file is too big ({path.stat().st_size:,} bytes; at most {MAX_YAML_BYTES:,})",
                                where=str(path), hint="restore it from version control")
        raw = path.read_bytes()
        data = safe_load_yaml(raw.decode("utf-8")) or {}
    except UnicodeDecodeError as exc:
        line, column = undecodable_where(raw, exc)
        raise DeskbookError(f"approvals file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column {column})",
                            where=str(path), hint="restore it from version control") from None
    except OSError as exc:
        raise DeskbookError(f"cannot read the approvals file ({exc.strerror or exc})", where=str(path),
                            hint="make it readable") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise DeskbookError("approvals file is not valid YAML", where=where, hint="restore it from version control") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise DeskbookError(
            "approvals file must map phrase id -> locale -> {sha256, approved_by, approved_at, text}", where=str(path)
        )
    return data


# ---------------------------------------------------------------- writing


class _LiteralDumper(yaml.SafeDumper):
    """YAML dumper that writes multi-line strings as `|` blocks (readable approved texts)."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text for front matter and the approvals file (UTF-8, keys in given order)."""
    return yaml.dump(data, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=100)


def template_text(phrase: Phrase) -> str:
    """The full file text of `phrase` (front matter then body)."""
    front: dict[str, Any] = {
        "id": phrase.id,
        "locale": phrase.locale,
        "version": phrase.version,
        "description": phrase.description,
        "variables": [{"name": v.name, "description": v.description, "example": v.example} for v in phrase.variables],
        "approval": phrase.approval,
    }
    return "---\n" + dump_yaml(front) + "---\n" + phrase.body


def approve(
    library: Library,
    phrase_id: str,
    locale: str | None = None,
    *,
    by: str,
    now: _dt.datetime | None = None,
) -> list[Phrase]:
    """Approve the current text of `phrase_id` (one locale, or every locale it has).

    Records hash, text, approver and time in `approvals.yaml` and in each template's front
    matter, and returns the approved phrases. Refuses a template with Jinja errors, a
    declared/used variable mismatch, or one that cannot render within the bounds
    (`deskbook.scripts_library.engine`) with its example values and with each desk's placeholders.
    A phrase already approved as it stands is left alone (not returned, nothing written); one
    whose text changed since its last approval gets the next version (above the approved one,
    which the lock records).
    """
    if not by or not by.strip():
        raise DeskbookError("an approval needs the approver's name", hint="pass --by NAME")
    if locale is None:
        targets = [library.phrase(phrase_id, loc) for loc in library.locales() if (phrase_id, loc) in library.phrases]
        if not targets:
            library.phrase(phrase_id, LOCALES[0])  # raises the unknown-phrase error
    else:
        targets = [library.phrase(phrase_id, locale)]
    targets = [phrase for phrase in targets if not library.is_approved(phrase)]
    for phrase in targets:
        broken = library.template_problems(phrase)
        if broken:
            raise DeskbookError("cannot approve a broken template: " + "; ".join(broken))
    from deskbook.scripts_library.render import trial_render

    for phrase in targets:
        try:
            trial_render(phrase)
        except DeskbookError as exc:
            raise DeskbookError(f"cannot approve a template that does not render: {exc}") from None
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).astimezone(_dt.timezone.utc).replace(microsecond=0)
    approved_at = stamp.isoformat().replace("+00:00", "Z")
    approved = []
    for phrase in targets:
        digest = phrase.content_hash
        previous = library.approved_entry(phrase)
        if previous is not None and previous.get("sha256") != digest:  # the text changed since approval
            approved_version = previous.get("version")
            floor = approved_version if isinstance(approved_version, int) else phrase.version
            phrase = replace(phrase, version=max(phrase.version, floor + 1))
        entry = {
            "sha256": digest,
            "version": phrase.version,
            "approved_by": by.strip(),
            "approved_at": approved_at,
            "variables": list(phrase.variable_names),
            "text": _normalize_newlines(phrase.body),
        }
        library.approvals.setdefault(phrase.id, {})[phrase.locale] = entry
        text = template_text(
            replace(phrase, approval={"approved_by": by.strip(), "approved_at": approved_at, "sha256": digest})
        )
        updated = parse_template(text, phrase.path)
        library.phrases[(phrase.id, phrase.locale)] = updated
        approved.append((updated, text))
    if approved:
        # The lock first: it is what approval means. A failure before the templates are rewritten
        # leaves their front matter behind the lock, which the lock check refuses with "run approve
        # to rewrite it" (never unapproved text passing); each file is replaced whole.
        write_approvals(library)
        for updated, text in approved:
            _write(Path(updated.path), text)
    return [updated for updated, _ in approved]


def write_approvals(library: Library) -> None:
    """Write the library's approval lock, phrases and locales sorted."""
    assert library.approvals_path is not None
    ordered = {pid: {loc: library.approvals[pid][loc] for loc in sorted(library.approvals[pid])} for pid in sorted(library.approvals)}
    header = (
        "# Approval lock of the phrase library: written by `deskbook scripts approve`, do not edit by hand.\n"
        "# phrase id -> locale -> sha256 of body + variable names, who approved, when, and the approved text.\n"
    )
    _write(library.approvals_path, header + dump_yaml(ordered))


def _write(path: Path, text: str) -> None:
    """Write a library file; DeskbookError naming it when the folder or file cannot be written."""
    from deskbook.output import atomic_write

    try:
        atomic_write(path, text)
    except OSError as exc:
        raise DeskbookError(f"cannot write the phrase library ({exc.strerror or exc})", where=str(path),
                            hint="make the library folder writable (or approve in your own copy: deskbook init DIR)") from None

"""YAML read by libyaml when PyYAML has it, with the pure-Python reader's errors and positions,
and within limits that keep a hostile file cheap.

libyaml is several times faster and marks nodes with the same 0-based line and column, but its
error messages differ, it checks unprintable characters differently, and it accepts tabs where the
pure reader refuses them (`a:\t1`, before a comment, at a line's end). So a document goes to
libyaml only when it has no tab and the pure reader would accept its characters, and on any libyaml
error the pure reader decides: it raises the error users have always seen, at the same position,
or reads it. Either way a file reads the same with and without libyaml.

Limits (playbooks and the phrase library read through here alike). Before anything builds nodes,
one pass over the parser's events — a state machine, so it cannot overflow the stack — measures the
document: its nesting depth and how many values it holds once every alias is expanded (an alias
counts the whole anchored value again). PyYAML shares an aliased node, but everything that walks
the result (the playbook's positions, the schema, the desks' payloads) visits it at every use, so
a nine-line "alias bomb" (`&a [*a, *a, ...]` nested) would cost gigabytes; it is refused at the
alias that crosses the limit. Depth is refused at the collection that crosses it (600 levels used
to end in a RecursionError). Text longer than `MAX_CHARS` is refused before it is parsed, and
`read_text` refuses a larger file before reading it and names undecodable bytes by line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

#: libyaml's safe loader when PyYAML was built with it, else None (the pure loader is used).
LIBYAML_LOADER = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None

#: Largest YAML text read (characters); the shipped playbook is about 53,000.
MAX_CHARS = 1_000_000
#: Deepest nesting of mappings and lists; the shipped playbook nests 7 deep.
MAX_DEPTH = 50
#: Most values (scalars, mappings, lists) a document may hold with its aliases expanded; the
#: shipped playbook holds about 4,300.
MAX_VALUES = 100_000


class YAMLLimitError(yaml.MarkedYAMLError):
    """A document beyond `MAX_DEPTH` or `MAX_VALUES`: `problem` says which, `problem_mark` where."""


def read_yaml(text: str, operation: Callable[..., Any], *, use_libyaml: bool = True) -> Any:
    """`operation(text, Loader=...)` (e.g. `yaml.compose`, `yaml.load`) with libyaml when it can be
    trusted to agree, else with `yaml.SafeLoader`; raises yaml.YAMLError as the pure reader does,
    and `YAMLLimitError` (a yaml.YAMLError) for a document beyond the limits.
    `use_libyaml=False` forces the pure reader (tests compare the two)."""
    if len(text) > MAX_CHARS:
        raise YAMLLimitError(problem=f"the text is {len(text):,} characters long; at most {MAX_CHARS:,} are read",
                             problem_mark=yaml.Mark("", 0, 0, 0, None, None))
    if use_libyaml and LIBYAML_LOADER is not None and "\t" not in text \
            and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            check_limits(text, LIBYAML_LOADER)
            return operation(text, Loader=LIBYAML_LOADER)
        except YAMLLimitError:
            raise
        except yaml.YAMLError:
            pass
    check_limits(text, yaml.SafeLoader)
    return operation(text, Loader=yaml.SafeLoader)


def check_limits(text: str, loader: type) -> None:
    """Raise YAMLLimitError when the document nests deeper than MAX_DEPTH or holds more than
    MAX_VALUES values with its aliases expanded. A syntax error ends the check quietly: the reader
    that runs next stops at the same event and words it as users have always seen it."""
    try:
        _check_events(yaml.parse(text, Loader=loader))
    except YAMLLimitError:
        raise
    except yaml.YAMLError:
        return


def _check_events(events) -> None:
    depth = 0
    counts: list[int] = [0]  # values inside each open collection, the document at the bottom
    anchors: list[str | None] = []  # the anchor of each open collection
    sizes: dict[str, int] = {}  # expanded size of each anchored value seen so far
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLLimitError(problem=f"the values nest more than {MAX_DEPTH} levels deep",
                                     problem_mark=event.start_mark)
            counts.append(1)
            anchors.append(event.anchor)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            size = counts.pop()
            anchor = anchors.pop()
            if anchor is not None:
                sizes[anchor] = size
            added = size
        elif isinstance(event, yaml.ScalarEvent):
            added = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in anchors:
                raise YAMLLimitError(problem=f"alias *{event.anchor} stands inside the value it names; "
                                             "a value cannot contain itself", problem_mark=event.start_mark)
            added = sizes.get(event.anchor, 1)  # an unknown anchor is the composer's error to report
        else:
            continue
        counts[-1] += added
        if sum(counts) > MAX_VALUES:
            what = "its aliases expand it to" if isinstance(event, yaml.AliasEvent) else "it holds"
            raise YAMLLimitError(problem=f"the document is too big: {what} more than {MAX_VALUES:,} values "
                                         f"(an alias repeats its whole anchored value)",
                                 problem_mark=event.start_mark)


def undecodable_where(data: bytes, error: UnicodeDecodeError) -> tuple[int, int]:
    """(line, column), 1-based, of the byte `error` points at; the column counts characters."""
    before = data[:error.start]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
    return before.count(b"\n") + 1, column


def read_text(path: str | Path, *, max_bytes: int = MAX_CHARS * 4) -> str:
    """A UTF-8 text file; DeskbookError naming `path:line:column` of an undecodable byte, or the
    file's size when it is larger than `max_bytes` (checked before reading). OSError passes through."""
    from deskbook.errors import DeskbookError

    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise DeskbookError(f"file is too big to read ({size:,} bytes; at most {max_bytes:,})", where=str(path),
                            hint="a playbook or phrase file is a few kilobytes; check that this is the right file")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while we looked
        raise DeskbookError(f"file is too big to read (more than {max_bytes:,} bytes)", where=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = undecodable_where(data, exc)
        raise DeskbookError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                            where=f"{path}:{line}:{column}", hint="save the file as UTF-8") from None

"""YAML read by libyaml when PyYAML has it, with the pure-Python reader's errors and positions.

libyaml is several times faster and marks nodes with the same 0-based line and column, but its
error messages differ, it checks unprintable characters differently, and it accepts tabs where the
pure reader refuses them (`a:\t1`, before a comment, at a line's end). So a document goes to
libyaml only when it has no tab and the pure reader would accept its characters, and on any libyaml
error the pure reader decides: it raises the error users have always seen, at the same position,
or reads it. Either way a file reads the same with and without libyaml.
"""

from __future__ import annotations

from typing import Any, Callable

import yaml

#: libyaml's safe loader when PyYAML was built with it, else None (the pure loader is used).
LIBYAML_LOADER = getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None


def read_yaml(text: str, operation: Callable[..., Any], *, use_libyaml: bool = True) -> Any:
    """`operation(text, Loader=...)` (e.g. `yaml.compose`, `yaml.load`) with libyaml when it can be
    trusted to agree, else with `yaml.SafeLoader`; raises yaml.YAMLError as the pure reader does.
    `use_libyaml=False` forces the pure reader (tests compare the two)."""
    if use_libyaml and LIBYAML_LOADER is not None and "\t" not in text \
            and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        try:
            return operation(text, Loader=LIBYAML_LOADER)
        except yaml.YAMLError:
            pass
    return operation(text, Loader=yaml.SafeLoader)

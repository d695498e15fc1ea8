"""Where a command's document goes: stdout for `-`, else a file written whole or not at all.

One owner for `--out`-style output (export, handbook, report): the text is written to a temporary
file beside the target and renamed over it, so an interrupted or failed write never leaves a
half-written backup or page where the previous one stood; an OS error is the one-line
`DeskbookError` naming the file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from deskbook.errors import DeskbookError


def write_output(text: str, out: str | os.PathLike, what: str) -> bool:
    """Write `text` to stdout when `out` is `-`, else atomically to the file `out`.

    Returns True when a file was written (the caller then prints where); `what` names the
    document in the error ("the export", "the handbook")."""
    if str(out) == "-":
        sys.stdout.write(text)
        return False
    target = Path(out)
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent or Path("."),
                                         prefix=f".{target.name}.", suffix=".part", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(text)
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        raise DeskbookError(f"cannot write {what}: {exc.strerror or exc}", where=str(out),
                            hint="choose a writable path with --out") from None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return True

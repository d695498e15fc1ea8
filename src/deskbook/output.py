"""Where a command's document goes: stdout for `-`, else a file written whole or not at all.

One owner for writing a user's file whole (`--out`-style output of export, handbook, report; the
phrase library's templates and approval lock): the text is written to a temporary
file beside the target and renamed over it, so an interrupted or failed write never leaves a
half-written backup or page where the previous one stood; an OS error is the one-line
`DeskbookError` naming the file.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from deskbook.errors import DeskbookError


def _mode_for(target: Path) -> int:
    """The permissions a plain write would leave: the file's own when it exists, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file beside it and a rename: readers see
    the old file or the new one, never a part. The file keeps its permissions (a new one gets the
    umask's, as a plain write gives it; the temporary file alone would leave it 0600).
    OSError passes through (nothing is left behind)."""
    target = Path(path)
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".part", delete=False) as tmp:
            tmp_name = tmp.name
            tmp.write(text)
        os.chmod(tmp_name, _mode_for(target))
        os.replace(tmp_name, target)
        tmp_name = None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)


def write_output(text: str, out: str | os.PathLike, what: str) -> bool:
    """Write `text` to stdout when `out` is `-`, else atomically to the file `out`.

    Returns True when a file was written (the caller then prints where); `what` names the
    document in the error ("the export", "the handbook")."""
    if str(out) == "-":
        sys.stdout.write(text)
        return False
    try:
        atomic_write(out, text)
    except OSError as exc:
        raise DeskbookError(f"cannot write {what}: {exc.strerror or exc}", where=str(out),
                            hint="choose a writable path with --out") from None
    return True

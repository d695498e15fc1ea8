"""The apply intent log: creates that were sent but never confirmed, kept across killed runs.

Every create carries the ownership marker, so the next apply finds what an interrupted one
made — unless the desk stores it late: a process killed while its POST is in flight leaves
a write the desk may still be carrying out when the next run lists that kind, and the next
run would create a second copy. So `apply` writes an intent line before each create
(`{"kind", "key", "sent_at"}`) and a `done` line once the desk answered; a run that finishes
deletes the file. The next run reads the creates left unconfirmed and, before creating one
of them again, waits until the desk has had as long as the client would have waited for the
answer (`sent_at` + the connector's `settle_seconds()`), then lists the kind again and takes
the object it finds by marker instead of creating a copy.

One JSON-lines file per desk, account and playbook under `$DESKBOOK_HOME`
(`apply-<desk>-<host>-<hash>.jsonl`; the host and hash never include user information). A
line cut short by a kill is ignored. Lines are flushed before the create is sent (enough
for SIGKILL; not fsynced against power loss). Two applies to one desk at once are not
supported (nor were they before).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from deskbook.errors import DeskbookError

log = logging.getLogger("deskbook.connectors")


def intents_path_for(desk: str, url: str, playbook: str, home: Path | None = None) -> Path:
    """`<home>/apply-<desk>-<host>-<hash>.jsonl` for one desk account and playbook."""
    from deskbook.sync.ledger import deskbook_home

    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.hostname or 'desk'}{f'-{parts.port}' if parts.port else ''}")
    where = f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path.rstrip('/')}|{playbook}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    return (home or deskbook_home()) / f"apply-{desk}-{host}-{digest}.jsonl"


class CreateIntents:
    """Sent and confirmed creates of one desk and playbook (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.unconfirmed: dict[tuple[str, str], float] = self._read()
        self._file: IO[str] | None = None

    def _read(self) -> dict[tuple[str, str], float]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise DeskbookError(f"cannot read the apply intent log: {exc.strerror or exc}", where=str(self.path),
                                hint="check its permissions; deleting it is safe when no apply was interrupted "
                                     "in the last minutes") from None
        sent: dict[tuple[str, str], float] = {}
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                ident = (str(entry["kind"]), str(entry["key"]))
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by a kill
            if entry.get("done"):
                sent.pop(ident, None)
            else:
                sent[ident] = float(entry.get("sent_at") or 0)
        return sent

    def _append(self, entry: dict) -> None:
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")
            self._file.write(json.dumps(entry) + "\n")
            self._file.flush()
        except OSError as exc:
            raise DeskbookError(f"cannot write the apply intent log: {exc.strerror or exc}", where=str(self.path),
                                hint="check the folder's permissions or set DESKBOOK_HOME") from None

    def sending(self, kind: str, key: str) -> None:
        """Record that a create of (`kind`, `key`) is about to be sent."""
        self._append({"kind": kind, "key": key, "sent_at": time.time()})

    def confirmed(self, kind: str, key: str) -> None:
        """Record that the desk answered the create (or that the object was found)."""
        self.unconfirmed.pop((kind, key), None)
        self._append({"kind": kind, "key": key, "done": True})

    def finish(self) -> None:
        """The apply ran to its end: nothing is in flight any more; remove the file."""
        self.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove the apply intent log %s: %s", self.path, exc.strerror or exc)
        self.unconfirmed = {}

    def close(self) -> None:
        """Close the file (kept for the next run)."""
        if self._file is not None:
            self._file.close()
            self._file = None

"""Exit codes and the user-facing error type shared by every command."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes, Terraform-style: `plan` uses CHANGES when it found work to do."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    USAGE = 64


class DeskbookError(Exception):
    """An error the user can act on: printed as one clear message, never as a traceback.

    `where` names the file:line, object or endpoint; `hint` says what to do about it.
    """

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ValidationError(DeskbookError):
    """A playbook or phrase template is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[str], *, summary: str = "validation failed"):
        self.problems = list(problems)
        super().__init__(summary + ":\n" + "\n".join(f"  {p}" for p in self.problems))

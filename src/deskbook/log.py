"""Logging to stderr, with secrets scrubbed from every record.

Every line carries a UTC timestamp. Two formats (`deskbook --log-format text|json`, or
`DESKBOOK_LOG_FORMAT`): text, `2026-12-06T09:00:01.123Z INFO deskbook.sync: message`, and JSON, one
object per line (`ts`, `level`, `logger`, `message`, plus the record's structured `extra` fields such
as `job`, `created`) for log collectors. Redaction happens before either formatter sees the message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time

_SECRETS: set[str] = set()
_PATTERNS = (
    # "email/token:XXXX" basic-auth user names and Authorization headers
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:basic|bearer)\s+)[A-Za-z0-9+/=._-]+"),
    re.compile(r"(?i)((?:api[_-]?)?token['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    re.compile(r"(?i)(password['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    # user information in a URL: scheme://user:password@host (the @ stays: scheme://***@host)
    re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s@]+(?=@)"),
)


def register_secret(value: str | None) -> None:
    """Remember a secret (API token, password) so that it is masked wherever it would be logged."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and anything that looks like a credential masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message through `redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


#: Attributes every LogRecord has; anything else on a record came from `extra=` and goes into JSON lines.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

LOG_FORMATS = ("text", "json")


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """`<UTC time> LEVEL logger: message`."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message and the record's `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {"ts": _timestamp(record), "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value if isinstance(value, (int, float, bool, type(None))) else redact(str(value))
        if record.exc_info:
            data["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def setup_logging(verbosity: int = 0, log_format: str | None = None) -> None:
    """Send deskbook's logs to stderr: -1 quiet (warnings), 0 info, 1+ debug; `log_format` text or
    json (default `$DESKBOOK_LOG_FORMAT`, else text)."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    log_format = log_format or os.environ.get("DESKBOOK_LOG_FORMAT") or "text"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger("deskbook")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False

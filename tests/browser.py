"""Looking at HTML pages in headless Chromium (the `chromium` fixture of conftest.py finds it):
the handbook's and the weekly review's tests share these."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

#: Screenshots kept for people to look at (gitignored); CI may archive the folder.
ARTIFACTS = Path(__file__).parent / "artifacts"


def png_summary(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the pixel data) of a PNG, without an imaging library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, width, height = 8, b"", 0, 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def chromium_run(chromium: str, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium with logging on stderr (console messages appear there as CONSOLE lines)."""
    return subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0", *args],
                          capture_output=True, text=True, timeout=180)


def console_lines(stderr: str) -> list[str]:
    """What a page wrote to the console or threw, from Chromium's log."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]

"""Writing to stdout/stderr so that pipes work: a reader that goes away
(`zvpg list | head -n 2`) ends the output quietly, without a traceback or
"Exception ignored" noise, and the command keeps its exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO

_closed = False


def _silence_stdout() -> None:
    global _closed
    _closed = True
    # Point fd 1 at devnull so that the interpreter's final flush cannot fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def write(text: str, stream: IO[str] | None = None) -> None:
    """Write `text` to stdout (or `stream`), tolerating a closed pipe."""
    if _closed:
        return
    out = stream or sys.stdout
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        _silence_stdout()


def write_bytes(chunks: Sequence[bytes | memoryview]) -> None:
    """Write bytes to stdout's binary buffer, tolerating a closed pipe."""
    if _closed:
        return
    try:
        buf = sys.stdout.buffer
    except AttributeError:  # a text-only stream, as in some test runners
        write(b"".join(chunks).decode("utf-8"))
        return
    try:
        for chunk in chunks:
            buf.write(chunk)
        buf.flush()
    except BrokenPipeError:
        _silence_stdout()


def error(message: str) -> None:
    """One line on stderr."""
    try:
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False

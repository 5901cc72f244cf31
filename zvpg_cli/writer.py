"""Writing to stdout/stderr so that pipes work: a reader that goes away
(`zvpg list | head -n 2`) ends the output quietly, without a traceback or
"Exception ignored" noise, and the command keeps its exit code. Output that
cannot be written at all (stdout closed, a full disk, an I/O error) raises
`OutputError`, which the command line reports in one line (exit 74)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import IO, TextIO

_closed = False


class OutputError(Exception):
    """stdout cannot be written: `str()` says why, in a few words."""


def _stdout() -> TextIO:
    if sys.stdout is None:  # started with stdout closed (`zvpg list >&-`)
        raise OutputError("stdout is closed")
    return sys.stdout


def _failed(exc: OSError) -> OutputError:
    return OutputError(exc.strerror or str(exc))


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
    out = stream or _stdout()
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        raise _failed(exc) from None
    except ValueError:  # closed by someone else
        raise OutputError("stdout is closed") from None


def write_bytes(chunks: Sequence[bytes | memoryview]) -> None:
    """Write bytes to stdout's binary buffer, tolerating a closed pipe."""
    if _closed:
        return
    out = _stdout()
    try:
        buf = out.buffer
    except AttributeError:  # a text-only stream, as in some test runners
        write(b"".join(chunks).decode("utf-8"))
        return
    try:
        for chunk in chunks:
            buf.write(chunk)
        buf.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        raise _failed(exc) from None
    except ValueError:
        raise OutputError("stdout is closed") from None


def error(message: str) -> None:
    """One line on stderr."""
    try:
        sys.stderr.write(message.rstrip("\n") + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # AttributeError: stderr closed (None)
        pass


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False

"""Writing to stdout/stderr so that pipes work: a reader that goes away
(`zvpg list | head -n 2`) ends the output quietly, without a traceback or
"Exception ignored" noise, and the command keeps its exit code. Output that
cannot be written at all (stdout closed, a full disk, an I/O error) raises
`OutputError`, which the command line reports in one line (exit 74)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import IO, TextIO

_closed = False
#: stderr lines held back (a monitoring check: `hold_errors`), None when they go to stderr
_held: list[str] | None = None


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


def hold_errors(hold: bool = True) -> None:
    """From now on `error` keeps its lines for `held_errors` instead of writing
    them (`hold` False: writes them again, and forgets those held): a monitoring
    check (--nagios) says everything in its own output, and Icinga 2 would show
    stderr before the status line."""
    global _held
    _held = [] if hold else None


def held_errors() -> list[str]:
    """The lines `error` held back so far (see `hold_errors`)."""
    return list(_held or [])


def error(message: str) -> None:
    """One line on stderr (or held back: `hold_errors`)."""
    if _held is not None:
        _held.append(message.rstrip("\n"))
        return
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


@contextmanager
def to_file(path: str | None) -> Iterator[None]:
    """Within the block, stdout is `path` (when given), written atomically: a
    temporary file in its folder, renamed over it when the block ends well
    (mode 0644, so a collector running as another user can read it); removed
    when it does not. A folder that cannot be written raises `OutputError`
    before anything is written."""
    if path is None:
        yield
        return
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = tempfile.mkstemp(prefix=".zvpg-", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    saved = sys.stdout
    done = False
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            sys.stdout = out
            yield
            out.flush()
            os.fchmod(out.fileno(), 0o644)
        os.replace(temporary, path)
        done = True
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        sys.stdout = saved
        if not done:
            with suppress(OSError):
                os.unlink(temporary)

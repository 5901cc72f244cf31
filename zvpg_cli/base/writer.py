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


class Environment:
    """Where a run writes, built once at the entry (the command line's `main`;
    httpie's `Environment`) and read by every writer here and in output/: its
    stdout and stderr (None: whatever sys.stdout and sys.stderr are at each
    write, as under the importable API and test runners), whether a reader of
    stdout went away, and the stderr lines held back (`hold_errors`). `to_file`
    points its stdout at --output's file for the length of a block."""

    def __init__(self, stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self._stdout = stdout
        self._stderr = stderr
        self.closed = False  # the reader of stdout went away: nothing more is written
        self.held: list[str] | None = None  # stderr lines held back; None: they go to stderr

    @property
    def stdout(self) -> TextIO | None:
        return sys.stdout if self._stdout is None else self._stdout

    @stdout.setter
    def stdout(self, stream: TextIO | None) -> None:
        self._stdout = stream

    @property
    def stderr(self) -> TextIO | None:
        return sys.stderr if self._stderr is None else self._stderr


_env = Environment()


def environment() -> Environment:
    """The environment of this run (`use_environment`)."""
    return _env


def use_environment(env: Environment) -> None:
    """Make `env` the environment every writer reads (the entry point calls it once)."""
    global _env
    _env = env


class OutputError(Exception):
    """stdout cannot be written: `str()` says why, in a few words."""


def _stdout() -> TextIO:
    out = _env.stdout
    if out is None:  # started with stdout closed (`zvpg list >&-`)
        raise OutputError("stdout is closed")
    return out


def _failed(exc: OSError) -> OutputError:
    return OutputError(exc.strerror or str(exc))


def _silence_stdout() -> None:
    _env.closed = True
    # Point fd 1 at devnull so that the interpreter's final flush cannot fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, _env.stdout.fileno())  # type: ignore[union-attr]
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def write(text: str, stream: IO[str] | None = None) -> None:
    """Write `text` to stdout (or `stream`), tolerating a closed pipe."""
    if _env.closed:
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
    if _env.closed:
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
    _env.held = [] if hold else None


def held_errors() -> list[str]:
    """The lines `error` held back so far (see `hold_errors`)."""
    return list(_env.held or [])


def error(message: str) -> None:
    """One line on stderr (or held back: `hold_errors`)."""
    if _env.held is not None:
        _env.held.append(message.rstrip("\n"))
        return
    try:
        _env.stderr.write(message.rstrip("\n") + "\n")  # type: ignore[union-attr]
        _env.stderr.flush()  # type: ignore[union-attr]
    except (OSError, ValueError, AttributeError):  # AttributeError: stderr closed (None)
        pass


def stdout_is_terminal() -> bool:
    try:
        return _env.stdout.isatty()  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        return False


#: A temporary file of `to_file` that has not changed for this long is not a
#: run's in flight (a run writes its file from start to end without pausing):
#: the next write to that folder removes it. SIGKILL leaves them behind.
STALE_AFTER = 600
_TEMPORARY = r"\.zvpg-[a-z0-9_]{8}\.tmp"  # tempfile.mkstemp(prefix=".zvpg-", suffix=".tmp")


def destination(path: str) -> str:
    """The file `--output PATH` replaces: PATH itself, or the target of a
    symbolic link at PATH (written through: the link stays). Raises
    `OutputError` for anything but a regular file or a path that does not exist
    yet (a FIFO, a device, a folder, a socket), and for a link zvpg should not
    follow (one in a folder anyone may write to, such as /tmp, owned by another
    user: the kernel's own rule for links, fs.protected_symlinks)."""
    import stat

    def status(name: str, follow: bool) -> os.stat_result | None:  # None: it does not exist
        try:
            return os.stat(name, follow_symlinks=follow)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None

    if not path:
        raise OutputError("--output needs a file name (or - for stdout)")
    info = status(path, False)
    target = path
    if info is not None and stat.S_ISLNK(info.st_mode):
        folder = status(os.path.dirname(os.path.abspath(path)), True)
        shared = folder is not None and folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
        if shared and info.st_uid not in (os.geteuid(), folder.st_uid):  # type: ignore[union-attr]
            raise OutputError(f"cannot write {path}: a symbolic link another user owns in a folder anyone "
                              "may write to (not followed)")
        target = os.path.realpath(path)
        info = status(target, True)
    if info is None:
        return target
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        shown = path if target == path else f"{path} (a link to {target})"
        raise OutputError(f"cannot write {shown}: it is {kind}; --output writes a regular file "
                          "(or - for stdout)")
    return target


def _sweep(folder: str) -> None:
    """Remove the temporary files of runs that were killed (SIGKILL) in
    `folder`: zvpg's own name, owned by this user, unchanged for STALE_AFTER."""
    import re
    import stat
    import time

    too_old = time.time() - STALE_AFTER
    uid = os.geteuid()
    with suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(".zvpg-") or not re.fullmatch(_TEMPORARY, entry.name):
                continue
            with suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_uid == uid and info.st_mtime < too_old:
                    os.unlink(entry.path)


@contextmanager
def to_file(path: str | None) -> Iterator[None]:
    """Within the block, the environment's stdout is `path` (when given; `-` is stdout itself),
    written atomically: a temporary file in its folder, renamed over it when
    the block ends well; removed when it does not (an exception, SIGINT or
    SIGTERM). Only a regular file or a new path is written (`destination`): a
    symbolic link is written through to its target. An existing file keeps
    its mode (and, where the user may, its owner); a new one is 0644, so a
    collector running as another user can read it. A folder that cannot be
    written raises `OutputError` before anything is written."""
    if path is None or path == "-":
        yield
        return
    import tempfile

    from .signals import check, held

    target = destination(path)
    folder = os.path.dirname(os.path.abspath(target))
    _sweep(folder)
    saved = _env.stdout
    temporary = None
    done = False
    try:
        with held():  # a signal cannot come between creating the file and knowing its name
            try:
                fd, temporary = tempfile.mkstemp(prefix=".zvpg-", suffix=".tmp", dir=folder)
            except OSError as exc:
                raise OutputError(f"cannot write to {folder}: {exc.strerror or exc}") from None
        with open(fd, "w", encoding="utf-8", newline="") as out:
            _env.stdout = out
            yield
            out.flush()
            _keep_mode(out.fileno(), target)
        check()  # a signal whose handler could not raise: not replaced
        if destination(path) != target:
            raise OutputError(f"cannot write {path}: it changed while zvpg wrote it")
        os.replace(temporary, target)
        done = True
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        _env.stdout = saved
        if not done and temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)


def _keep_mode(fd: int, target: str) -> None:
    """The mode (and owner, where allowed) of the file `target` for the new
    file `fd`; 0644 when there is none."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        os.fchmod(fd, 0o644)
        return
    with suppress(OSError):  # only root may give a file away
        os.fchown(fd, info.st_uid, info.st_gid)
    os.fchmod(fd, info.st_mode & 0o777)

"""Files in zvpg's per-user cache folder, safe even where that folder is
shared or hostile.

The compiled knowledge base and the ZVM sessions/tokens live there. Whatever
is found there may have been planted by someone else, so:

- the folder is created with mode 0700, and used only if it is a real folder
  (not a symlink), owned by the user and not writable by group or others;
- a file is opened without following symlinks and without blocking (a FIFO
  planted at the path cannot hang zvpg), and read only if it is a regular file
  owned by the user and not writable by group or others;
- a file is written to a temporary of unpredictable name created with O_EXCL
  (`tempfile.mkstemp`, mode 0600) in the same folder, then renamed into place,
  so readers never see half a file and no symlink is followed.

Anything that fails these checks is ignored (with one warning per process on
stderr where the user should know): a cache only ever costs speed.
"""

from __future__ import annotations

import os
import stat
import sys

_warned: set[str] = set()


def cache_dir() -> str | None:
    """$ZVPG_CACHE_DIR; else the platform's user cache folder. None disables."""
    explicit = os.environ.get("ZVPG_CACHE_DIR")
    if explicit is not None:
        return explicit or None
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "zvpg", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/zvpg")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "zvpg")


def warn_once(message: str) -> None:
    """`message` on stderr, once per process."""
    if message in _warned:
        return
    _warned.add(message)
    from .sanitize import printable
    from .writer import error

    error(f"zvpg: warning: {printable(message)}")


def _uid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid is not None else None


def unsafe(st: os.stat_result, *, parent: bool = False) -> str | None:
    """Why a folder or file with this stat must not be trusted, or None.

    `parent`: the folder holding a file zvpg keeps (the state file), which
    may also be root's, or shared with the sticky bit (/tmp: others cannot
    replace what is in it); the file itself is still checked on its own."""
    uid = _uid()
    if uid is None:  # Windows: no owner or mode bits to check this way
        return None
    if st.st_uid != uid and not (parent and st.st_uid == 0):
        return "it is owned by another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (parent and st.st_mode & stat.S_ISVTX):
        return "it is writable by group or others"
    return None


def make_dirs(folder: str) -> None:
    """Create `folder` and every missing parent with mode 0700, whatever the
    umask (os.makedirs gives the parents the umask's mode), without recursion
    (a path thousands of folders deep is an OSError, not a RecursionError).
    Raises OSError."""
    missing = []
    current = os.path.abspath(folder)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue
        os.chmod(path, 0o700)  # the umask may have taken bits away; never adds any


def private_dir(folder: str, *, create: bool = True) -> bool:
    """Whether `folder` is safe to use (creating it, mode 0700, if missing)."""
    if create:
        try:
            make_dirs(folder)
        except OSError:
            return False
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode):
        warn_once(f"cache folder {folder} is not a folder (a link or a file): running without a cache")
        return False
    why = unsafe(st)
    if why:
        warn_once(f"cache folder {folder} is not used: {why}")
        return False
    return True


def read_private(path: str, max_bytes: int) -> bytes | None:
    """The bytes of the cache file at `path`, or None when it is missing,
    not a regular file, not safe (see the module doc) or larger than `max_bytes`."""
    from .files import FileError, read_file

    try:
        data, st = read_file(path, "a cache entry", max_bytes, follow=False)
    except FileError:
        return None
    why = unsafe(st)
    if why:
        warn_once(f"cache file {path} is ignored: {why}")
        return None
    return data


def write_private(path: str, data: bytes) -> bool:
    """Write `data` to `path` atomically, mode 0600, through an unpredictable
    temporary in the same folder. False when it could not be written."""
    import tempfile

    from .signals import held

    folder = os.path.dirname(path) or "."
    tmp = None
    done = False
    try:
        with held():  # (SIGINT/SIGTERM: not between creating the temporary and knowing its name)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        done = True
    except OSError:
        pass
    finally:  # also when SIGINT or SIGTERM ends the run
        if not done and tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return done


def remove(path: str) -> None:
    """Delete a cache file, if it is there."""
    try:
        os.unlink(path)
    except OSError:
        pass

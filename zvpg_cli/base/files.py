"""The one reader of small local files zvpg does not trust: passwords, client
secrets, sites files, CA bundles, the knowledge base.

A file is opened without blocking (a FIFO at the path cannot hang zvpg: it is
refused at once), read only when it is a regular file, and never past a size
limit. Imports nothing beyond the standard library's `os` and `stat`.
"""

from __future__ import annotations

import os
import stat


class FileError(Exception):
    """A file that cannot be read. `str()` is one line: ``PATH: why`` (never its content)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def read_file(path: str, what: str, limit: int, *, follow: bool = True) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at `path` (at most `limit`) and its stat.
    Raises `FileError` naming `what` the file should hold ("the CA bundle")
    when it is missing, unreadable, not a regular file or larger than `limit`.
    With `follow` False, a symbolic link at `path` is refused (a cache file)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise FileError(path, f"cannot read {what}: not a regular file") from None
    except OSError as exc:
        raise FileError(path, f"cannot read {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileError(path, f"cannot read {what}: not a regular file")
        if st.st_size > limit:
            raise FileError(path, f"{what} is {st.st_size} bytes; the limit is {limit}")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise FileError(path, f"cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew while it was read
        raise FileError(path, f"{what} is larger than the limit of {limit} bytes")
    return data, st

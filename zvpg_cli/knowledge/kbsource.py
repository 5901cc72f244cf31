"""A knowledge-base file's bytes, and the error that says why a knowledge
base cannot be used: below both `kb` (loading, the cache) and `schema`
(validation), which both need them."""

from __future__ import annotations

#: A knowledge base larger than this is refused rather than parsed.
MAX_KB_BYTES = 5 * 1024 * 1024


class KBError(Exception):
    """A knowledge-base file that cannot be used. `str()` is one line:
    ``path:line: message`` (the line when it is known)."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def read_source(path: str) -> bytes:
    """The bytes of the knowledge-base file at `path`. Raises `KBError` when
    it is missing, unreadable, not a regular file (a FIFO or a device is
    refused at once, never waited on) or larger than `MAX_KB_BYTES`. The
    message is the system's (``path: No such file or directory``): callers
    say it is the knowledge base (`zvpg triage --nagios`: "cannot read
    knowledge base: ..."), so it is not said twice."""
    from ..base.files import FileError, read_file

    try:
        return read_file(path, "knowledge base", MAX_KB_BYTES)[0]
    except FileError as exc:
        line = 1 if exc.reason.startswith("knowledge base is") else None
        raise KBError(path, line, exc.reason.removeprefix("cannot read knowledge base: ")) from None

"""Load the knowledge base: the validated, compiled form from the cache, or the
YAML file through `zvpg_cli.schema` when the file has changed.

`data/statuses.yaml` is the only source people edit. Parsing and validating it
costs more than everything else a lookup does, so the validated result is kept
in a per-user cache (marshal: built in, no import cost) keyed by the file's path,
size, modification time and inode, and by zvpg's version. A stale or damaged
cache entry is rebuilt; two processes racing to rebuild it each write a private
temporary file and rename it into place, so readers never see half a file.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib
from typing import Any

from . import __version__
from .model import KnowledgeBase, Listing, NoSubstatus, OtherNumbering, Status, Substatus

CACHE_FORMAT = 1
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


def default_path() -> str:
    """The packaged knowledge base: inside the wheel it is
    ``zvpg_cli/data/statuses.yaml``; in a source checkout, ``data/statuses.yaml``."""
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "data", "statuses.yaml")
    if os.path.exists(packaged):
        return packaged
    return os.path.join(os.path.dirname(here), "data", "statuses.yaml")


def resolve_path(path: str | None = None) -> str:
    """`path`, else $ZVPG_DATA, else the packaged file."""
    return path or os.environ.get("ZVPG_DATA") or default_path()


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


def load_kb(path: str | None = None, *, use_cache: bool = True) -> KnowledgeBase:
    """Load and validate a knowledge base (see `resolve_path` for which file).

    Raises `KBError` for a missing, unreadable, malformed or invalid file.
    """
    path = resolve_path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise KBError(path, None, f"cannot read knowledge base: {exc.strerror or exc}") from None
    if not os.path.isfile(path):
        raise KBError(path, None, "cannot read knowledge base: not a regular file")
    if st.st_size > MAX_KB_BYTES:
        raise KBError(path, 1, f"knowledge base is {st.st_size} bytes; the limit is {MAX_KB_BYTES}")
    key = (CACHE_FORMAT, __version__, os.path.abspath(path), st.st_mtime_ns, st.st_size, st.st_ino)
    folder = cache_dir() if use_cache else None
    cache_file = None
    if folder:
        cache_file = os.path.join(folder, f"kb-{zlib.crc32(key[2].encode('utf-8', 'surrogatepass')):08x}.marshal")
        data = _read_cache(cache_file, key)
        if data is not None:
            try:
                return build(path, data)
            except (KeyError, TypeError, ValueError):
                pass  # a damaged cache entry: rebuild it below
    from .schema import compile_file

    data = compile_file(path)
    if cache_file:
        _write_cache(cache_file, key, data)
    return build(path, data)


def _read_cache(cache_file: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
    try:
        with open(cache_file, "rb") as fh:
            stored = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key and isinstance(stored[1], dict):
        return stored[1]
    return None


def _write_cache(cache_file: str, key: tuple[Any, ...], data: dict[str, Any]) -> None:
    tmp = f"{cache_file}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        with open(tmp, "wb") as fh:
            marshal.dump((key, data), fh)
        os.replace(tmp, cache_file)
    except OSError:
        # An unwritable cache only costs speed.
        try:
            os.unlink(tmp)
        except OSError:
            pass


def build(path: str, data: dict[str, Any]) -> KnowledgeBase:
    """Turn the compiled plain data (see `zvpg_cli.schema`) into domain objects."""
    statuses = tuple(
        Status(**{**s, "aliases": tuple(s["aliases"]),
                  "other_numberings": tuple(OtherNumbering(**o) for o in s["other_numberings"])})
        for s in data["statuses"]
    )
    substatuses = tuple(
        Substatus(**{**s, "aliases": tuple(s["aliases"]),
                     "statuses": tuple(Listing(**li) for li in s["statuses"]),
                     "evidence": {k: tuple(v) for k, v in s["evidence"].items()}})
        for s in data["substatuses"]
    )
    ns = data["no_substatus"]
    numbering = data["numbering"] or {}
    return KnowledgeBase(
        path=path,
        statuses=statuses,
        substatuses=substatuses,
        no_substatus=NoSubstatus(**ns) if ns else None,
        numbering_decoded=numbering.get("decoded"),
        numbering_caution=numbering.get("caution"),
    )

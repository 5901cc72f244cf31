"""Load the knowledge base: the validated, compiled form from the cache, or the
YAML file through `zvpg_cli.schema` when the file has changed.

`data/statuses.yaml` is the only source people edit. Parsing and validating it
costs more than everything else a lookup does, so the compiled form is kept in
a per-user cache (marshal: built in, no import cost) keyed by the file's path,
size, modification time and inode, and by zvpg's version. It holds the
validated data, the lookup index and each entry's JSON (what `explain --json`
prints), all derived from the file alone. A stale or damaged cache entry is
rebuilt; two processes racing to rebuild it each write a private temporary
file and rename it into place, so readers never see half a file.
"""

from __future__ import annotations

import marshal
import os
import stat
import sys
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:  # the model is imported where it is built, off the fast path
    from .model import KnowledgeBase

CACHE_FORMAT = 2
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


def _fnv1a(text: str) -> str:
    """A stable short hash for the cache file's name (no hashlib/zlib import)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def load_compiled(path: str | None = None, *, use_cache: bool = True) -> dict[str, Any]:
    """The compiled knowledge base as plain data: {"path", "data", "index",
    "json"}. Raises `KBError` for a missing, unreadable or invalid file."""
    path = resolve_path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise KBError(path, None, f"cannot read knowledge base: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):  # the stat above answers it: no second system call
        raise KBError(path, None, "cannot read knowledge base: not a regular file")
    if st.st_size > MAX_KB_BYTES:
        raise KBError(path, 1, f"knowledge base is {st.st_size} bytes; the limit is {MAX_KB_BYTES}")
    key = (CACHE_FORMAT, __version__, os.path.abspath(path), st.st_mtime_ns, st.st_size, st.st_ino)
    folder = cache_dir() if use_cache else None
    cache_file = os.path.join(folder, f"kb-{_fnv1a(key[2])}.marshal") if folder else None
    if cache_file:
        compiled = _read_cache(cache_file, key)
        if compiled is not None:
            compiled["path"] = path
            return compiled
    compiled = _compile(path)
    if cache_file:
        _write_cache(cache_file, key, compiled)
    compiled["path"] = path
    return compiled


def _compile(path: str) -> dict[str, Any]:
    import json

    from .lookup import build_index
    from .schema import compile_file
    from .serialize import entry_dict

    data = compile_file(path)
    kb = build(path, {"data": data, "index": ()})
    return {
        "data": data,
        "index": build_index(kb),
        "json": [json.dumps(entry_dict(kb, e), ensure_ascii=False, indent=2) + "\n" for e in kb.entries],
    }


def load_kb(path: str | None = None, *, use_cache: bool = True) -> KnowledgeBase:
    """Load and validate a knowledge base (see `resolve_path` for which file).

    Raises `KBError` for a missing, unreadable, malformed or invalid file.
    """
    compiled = load_compiled(path, use_cache=use_cache)
    try:
        return build(compiled["path"], compiled)
    except (KeyError, TypeError, ValueError):
        # a damaged or foreign cache entry: compile afresh
        return build(compiled["path"], _compile(compiled["path"]))


def _read_cache(cache_file: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
    try:
        with open(cache_file, "rb") as fh:
            stored = marshal.load(fh)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key and isinstance(stored[1], dict)
            and {"data", "index", "json"} <= stored[1].keys()):
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


def build(path: str, compiled: dict[str, Any]) -> KnowledgeBase:
    """Turn the compiled plain data into domain objects."""
    from .model import KnowledgeBase, Listing, NoSubstatus, OtherNumbering, Status, Substatus

    data = compiled["data"]
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
    other_statuses = tuple(OtherNumbering(**o) for o in numbering.get("other_statuses") or ())
    return KnowledgeBase(
        path=path,
        statuses=statuses,
        substatuses=substatuses,
        no_substatus=NoSubstatus(**ns) if ns else None,
        numbering_decoded=numbering.get("decoded"),
        numbering_caution=numbering.get("caution"),
        other_statuses=other_statuses,
        terms=tuple(tuple(t) for t in compiled["index"]),
    )

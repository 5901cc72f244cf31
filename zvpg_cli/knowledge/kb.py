"""Load the knowledge base: the validated, compiled form from the cache, or the
YAML file through `zvpg_cli.knowledge.schema` when the file has changed.

`data/statuses.yaml` is the only source people edit. Parsing and validating it
costs more than everything else a lookup does, so the compiled form is kept in
a per-user cache (marshal: built in, no import cost). It holds the validated
data, the lookup index and each entry's JSON (what `explain --json` prints),
all derived from the file alone.

The cache folder may be shared or hostile, so nothing read from it is trusted
(see `zvpg_cli.base.cachefs` for the folder and file checks):

- an entry is keyed by the *content* of the knowledge base (a BLAKE2b hash of
  its bytes), zvpg's version and `CACHE_FORMAT`: an edit is seen even when it
  keeps the file's size and modification time, and the key cannot be guessed
  from stat data alone;
- the entry carries a hash of its own bytes, and what it holds is checked
  for the shapes `build` and the fast paths use; anything in doubt is
  compiled afresh and written back;
- the file is compiled from the very bytes that were hashed.
"""

from __future__ import annotations

import marshal
import os
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..base import cachefs
from ..base.cachefs import cache_dir
from .kbsource import MAX_KB_BYTES, KBError, read_source

if TYPE_CHECKING:  # the model is imported where it is built, off the fast path
    from collections.abc import Callable

    from .model import KnowledgeBase

__all__ = ["CACHE_FORMAT", "MAX_KB_BYTES", "KBError", "build", "cache_dir", "default_path", "load_compiled",
           "load_kb", "read_source", "resolve_path"]

CACHE_FORMAT = 5  # 5: the JSON texts escape what json_safe escapes
#: A cache entry larger than this is not read (the compiled form of the
#: largest knowledge base is a few times its size).
MAX_CACHE_BYTES = 16 * MAX_KB_BYTES
_MAGIC = b"zvpg-kb-cache\n"
_DIGEST_SIZE = 32
#: model.SEVERITIES and null (the model is not imported on the fast path).
_SEVERITIES = (None, "ok", "warning", "critical")
#: Entry fields that hold lists or mappings; every other field holds a scalar.
_CONTAINER_FIELDS = frozenset({"aliases", "other_numberings", "statuses", "evidence"})


def default_path() -> str:
    """The packaged knowledge base: inside the wheel it is
    ``zvpg_cli/data/statuses.yaml``; in a source checkout, ``data/statuses.yaml``."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the zvpg_cli package
    packaged = os.path.join(here, "data", "statuses.yaml")
    if os.path.exists(packaged):
        return packaged
    return os.path.join(os.path.dirname(here), "data", "statuses.yaml")


def resolve_path(path: str | None = None) -> str:
    """`path`, else $ZVPG_DATA, else the packaged file."""
    return path or os.environ.get("ZVPG_DATA") or default_path()


def _fnv1a(text: str) -> str:
    """A stable short hash for the cache file's name."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _blake2b(data: bytes) -> bytes:
    try:  # the module itself: `hashlib` would load OpenSSL first (some 3 ms)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter without it
        from hashlib import blake2b
    return blake2b(data, digest_size=_DIGEST_SIZE).digest()


def cache_key(raw: bytes) -> tuple[int, str, str]:
    """What a cache entry of the knowledge base whose bytes are `raw` is keyed by."""
    return (CACHE_FORMAT, __version__, _blake2b(raw).hex())


#: A cache entry not rewritten for this long is removed when another is written.
CACHE_MAX_AGE = 30 * 86400


def _version_tag() -> str:
    return "".join(c if c.isalnum() or c in ".+-" else "_" for c in __version__)


def cache_file(path: str) -> str | None:
    """The cache file for the knowledge base at `path`: one per zvpg version
    and path, in a private cache folder; None when there is no usable folder."""
    folder = cache_dir()
    if not folder or not cachefs.private_dir(folder):
        return None
    return os.path.join(folder, f"kb-{_version_tag()}-{_fnv1a(os.path.abspath(path))}.marshal")


def prune_cache(target: str) -> None:
    """Remove the knowledge-base entries beside `target` that another zvpg
    version wrote (or an older naming), or that no run has rewritten for
    CACHE_MAX_AGE (each installed version used to leave one file forever)."""
    import time

    folder, own = os.path.split(target)
    mine = f"kb-{_version_tag()}-"
    try:
        names = os.listdir(folder)
    except OSError:
        return
    oldest = time.time() - CACHE_MAX_AGE
    for name in names:
        if name == own or not name.startswith("kb-") or not name.endswith(".marshal"):
            continue
        path = os.path.join(folder, name)
        try:
            stale = not name.startswith(mine) or os.lstat(path).st_mtime < oldest
        except OSError:
            continue
        if stale:
            cachefs.remove(path)


def encode_cache(key: tuple[Any, ...], compiled: Any) -> bytes:
    """A cache entry: a magic line, the hash of the payload, the payload."""
    payload = marshal.dumps((key, compiled))
    return _MAGIC + _blake2b(payload) + payload


def decode_cache(blob: bytes, key: tuple[Any, ...], check: Callable[[Any], bool] | None = None) -> Any:
    """The compiled knowledge base in a cache entry, or None unless the entry
    is intact, has `key` and holds what `build` and the fast paths need
    (`check`: what else the entry must pass, for other compiled files: the policy)."""
    head = len(_MAGIC) + _DIGEST_SIZE
    if not blob.startswith(_MAGIC) or len(blob) <= head:
        return None
    payload = blob[head:]
    if _blake2b(payload) != blob[len(_MAGIC):head]:
        return None
    try:
        stored = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if type(stored) is not tuple or len(stored) != 2 or stored[0] != key or not (check or well_formed)(stored[1]):
        return None
    return stored[1]


def _scalar(value: Any) -> bool:
    return value is None or type(value) in (str, int, bool)


def _str_list(value: Any) -> bool:
    return type(value) is list and all(type(v) is str for v in value)


def _flat(value: Any) -> bool:
    """A mapping of names to scalars (a listing, a numbering, no_substatus)."""
    return type(value) is dict and all(type(k) is str and _scalar(v) for k, v in value.items())


def _entry(e: Any) -> bool:
    if type(e) is not dict or type(e.get("name")) is not str or type(e.get("line")) is not int:
        return False
    if not _str_list(e.get("aliases")) or e.get("severity") not in _SEVERITIES:
        return False
    return all(type(k) is str and (k in _CONTAINER_FIELDS or _scalar(v)) for k, v in e.items())


def well_formed(compiled: Any) -> bool:
    """Whether `compiled` has the shapes `build` and the fast paths rely on
    (compiled data read back from the cache is checked with this)."""
    if type(compiled) is not dict or compiled.keys() != {"data", "index", "json"}:
        return False
    data, index, texts = compiled["data"], compiled["index"], compiled["json"]
    if type(data) is not dict or data.keys() != {"statuses", "substatuses", "no_substatus", "numbering"}:
        return False
    statuses, subs = data["statuses"], data["substatuses"]
    if type(statuses) is not list or type(subs) is not list:
        return False
    for s in statuses:
        if not _entry(s):
            return False
        numberings = s.get("other_numberings")
        if type(numberings) is not list or not all(_flat(o) for o in numberings):
            return False
    for s in subs:
        if not _entry(s):
            return False
        listings, evidence = s.get("statuses"), s.get("evidence")
        if type(listings) is not list or not all(_flat(li) for li in listings):
            return False
        if type(evidence) is not dict or not all(type(k) is str and _str_list(v) for k, v in evidence.items()):
            return False
    numbering = data["numbering"]
    if numbering is not None:
        if type(numbering) is not dict:
            return False
        others = numbering.get("other_statuses", [])
        if type(others) is not list or not all(_flat(o) for o in others):
            return False
        if not _flat({k: v for k, v in numbering.items() if k != "other_statuses"}):
            return False
    if data["no_substatus"] is not None and not _flat(data["no_substatus"]):
        return False
    count = len(statuses) + len(subs)
    if not _str_list(texts) or len(texts) != count or type(index) is not tuple:
        return False
    for term in index:
        if (type(term) is not tuple or len(term) != 6 or type(term[3]) is not int or not 0 <= term[3] < count
                or not all(type(term[i]) is str for i in (0, 1, 2, 4, 5))):
            return False
    return True


def load_compiled(path: str | None = None, *, use_cache: bool = True, fresh: bool = False) -> dict[str, Any]:
    """The compiled knowledge base as plain data: {"path", "data", "index",
    "json"}. Raises `KBError` for a missing, unreadable or invalid file.
    `fresh` compiles the file even when the cache holds it (and rewrites the
    cache entry)."""
    path = resolve_path(path)
    raw = read_source(path)
    target = cache_file(path) if use_cache else None
    key = cache_key(raw) if target else ()
    if target and not fresh:
        blob = cachefs.read_private(target, MAX_CACHE_BYTES)
        compiled: dict[str, Any] | None = decode_cache(blob, key) if blob is not None else None
        if compiled is not None:
            compiled["path"] = path
            return compiled
    compiled = _compile(path, raw)
    if target and cachefs.write_private(target, encode_cache(key, compiled)):
        prune_cache(target)
    compiled["path"] = path
    return compiled


def _compile(path: str, raw: bytes) -> dict[str, Any]:
    from .schema import compile_source

    return compile_data(path, compile_source(path, raw))


def compile_data(path: str, data: dict[str, Any]) -> dict[str, Any]:
    """The compiled form (what the cache holds) of validated data: the data,
    the lookup index and each entry's JSON."""
    from ..base.sanitize import json_text
    from .lookup import build_index
    from .serialize import entry_dict

    kb = build(path, {"data": data, "index": ()})
    return {
        "data": data,
        "index": build_index(kb),
        "json": [json_text(entry_dict(kb, e)) for e in kb.entries],
    }


def load_kb(path: str | None = None, *, use_cache: bool = True) -> KnowledgeBase:
    """Load and validate a knowledge base (see `resolve_path` for which file).

    Raises `KBError` for a missing, unreadable, malformed or invalid file.
    """
    compiled = load_compiled(path, use_cache=use_cache)
    try:
        return build(compiled["path"], compiled)
    except (KeyError, TypeError, ValueError):
        if not use_cache:
            raise
        # a cache entry of the right shape that does not fit this zvpg's model
        # (e.g. written by a development build): compile afresh
        fresh = load_compiled(path, use_cache=use_cache, fresh=True)
        return build(fresh["path"], fresh)


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

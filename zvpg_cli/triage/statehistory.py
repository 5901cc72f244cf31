"""Reading the state file back, for `zvpg history`: each object's changes of
state, newest first, and how long each state lasted. Read-only (`state.py`
writes the file; this never changes it)."""

from __future__ import annotations

import os
import stat
from typing import Any

from .state import _MAGIC, StateError, Transition, _connect, _fail, _short_enough, _time, _version


def read(path: str, pattern: str | None, since: float | None, now: float,
         kinds: tuple[str, ...] = ()) -> list[Transition]:
    """Transitions, newest first, of the objects whose name, VPG name or site
    matches the glob `pattern` (case ignored; text without * ? [ matches a
    part of it), of one of `kinds` (vpg, vm, alert, vra, peer, test; none:
    all), from `since` on. Read-only: a file the user may read but not write
    is read as it is on disk."""
    import sqlite3

    from ..base.globs import glob_match

    _short_enough(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise _fail(path, exc.strerror or exc) from None
    if not stat.S_ISREG(st.st_mode):
        raise _fail(path, "not a regular file")
    try:
        with open(path, "rb") as fh:
            if fh.read(len(_MAGIC)) != _MAGIC:
                raise _fail(path, "not a SQLite database (a file zvpg did not write, or a damaged one)")
    except OSError as exc:
        raise _fail(path, exc.strerror or exc) from None
    folder = os.path.dirname(os.path.abspath(path))
    # SQLite reads a WAL file through a shared-memory file beside it, which it must be
    # able to create: where the user cannot write, read the file as it is on disk.
    writable = os.access(path, os.W_OK) and os.access(folder, os.W_OK)
    conn = None
    try:
        conn = _connect(path, readonly=True, immutable=not writable)
        conn.execute("BEGIN")
        version = _version(conn, path)
        if version < 1:
            raise _fail(path, "holds no zvpg state (run zvpg triage --state on it first)")
        states = dict(conn.execute("SELECT id, text FROM states"))
        objects: dict[int, tuple[Any, ...]] = {}
        folded = pattern.casefold() if pattern else None
        if folded is not None and not any(c in folded for c in "*?["):
            folded = f"*{folded}*"  # plain text: a part of the name
        for row in conn.execute("SELECT id, key, site, kind, name, vpg_name, gone_since FROM objects"):
            if kinds and row[3] not in kinds:
                continue
            if folded is None or any(glob_match(str(v), folded) for v in (row[4], row[5], row[2])
                                     if v is not None):
                objects[row[0]] = row
        # The change after one within the window is within it too: the window is all `lasted` needs.
        query = "SELECT at, object, from_state, to_state FROM transitions WHERE at >= ?"
        args: list[Any] = [-1.0 if since is None else since]
        if (folded is not None or kinds) and len(objects) <= 500:  # a few objects: SQLite skips the others' rows
            query += f" AND object IN ({', '.join('?' * len(objects))})"
            args += list(objects)
        rows = conn.execute(query + " ORDER BY at DESC", args).fetchall()
        conn.execute("COMMIT")
    except StateError:
        raise
    except sqlite3.Error as exc:
        raise _fail(path, exc) from None
    except Exception as exc:  # a damaged file: undecodable text, a wrong type where a time should be
        raise _fail(path, f"damaged ({type(exc).__name__}: {exc})") from None
    finally:
        if conn is not None:
            conn.close()
    out: list[Transition] = []
    later: dict[int, float] = {}  # object -> the time of its next (newer) transition
    try:
        for at, oid, from_state, to_state in rows:
            obj = objects.get(oid)
            if obj is None:
                continue
            _, key, site, kind, name, vpg_name, gone_since = obj
            at, gone_since = _time(at, path), None if gone_since is None else _time(gone_since, path)
            end = later.get(oid)
            current = end is None
            if end is None:
                end = gone_since if gone_since is not None else now
            later[oid] = at
            if since is not None and at < since:
                continue
            out.append(Transition(str(key), site, str(kind), str(name), str(vpg_name), at,
                                  states.get(from_state) if from_state else None, states.get(to_state, "?"),
                                  max(0.0, end - at), current, gone_since))
    except StateError:
        raise
    except Exception as exc:
        raise _fail(path, f"damaged ({type(exc).__name__}: {exc})") from None
    return out

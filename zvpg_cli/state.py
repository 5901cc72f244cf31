"""State across runs: what each object's state has been, and since when, in one
SQLite file (`triage --state PATH`).

    memory = remember(path, observed, now=time.time(), flap_window=3600)
    memory[key]   # Memory(since, progress, progress_since, changes)

One short transaction a run (BEGIN IMMEDIATE, a busy timeout, WAL), so that
many checks can share one file. The file is private (0600, its folder 0700
when zvpg creates it). A file that cannot be used raises `StateError` (one line
naming the file and why) and is left as it was: the caller judges without
state. Objects missing from a run keep their row ("gone since"); those gone
for PRUNE_AFTER, and transitions older than that, are deleted.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import sqlite3

#: The schema this zvpg writes (PRAGMA user_version); _MIGRATIONS[n] goes from n to n + 1.
SCHEMA_VERSION = 1
#: Objects gone this long, and transitions older than this, are deleted.
PRUNE_AFTER = 30 * 86400
#: How long a run waits for another run's transaction before giving up.
BUSY_TIMEOUT = 5.0
_MAGIC = b"SQLite format 3\x00"

_SCHEMA_1 = """
CREATE TABLE states (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    site TEXT, kind TEXT NOT NULL, name TEXT NOT NULL, vpg_name TEXT NOT NULL,
    state INTEGER NOT NULL REFERENCES states(id),
    since REAL NOT NULL,
    last_seen REAL NOT NULL,
    gone_since REAL,
    progress REAL,
    progress_since REAL
);
-- One row a change of state (from_state NULL: first seen), keyed by time first
-- so the flap window and pruning read only the rows they need.
CREATE TABLE transitions (
    at REAL NOT NULL,
    object INTEGER NOT NULL,
    from_state INTEGER,
    to_state INTEGER NOT NULL,
    PRIMARY KEY (at, object)
) WITHOUT ROWID;
CREATE TABLE meta (name TEXT PRIMARY KEY, value REAL) WITHOUT ROWID;
"""
_MIGRATIONS: dict[int, str] = {0: _SCHEMA_1}


class StateError(Exception):
    """A state file that cannot be used; str() is one line naming the file and why."""


class Observed(NamedTuple):
    #: stable identity: site, kind (vpg|vm) and identifier (or the name without one)
    key: str
    site: str | None
    kind: str
    name: str
    vpg_name: str
    #: "Not Meeting SLA / Delta Syncing" (or a code text for unknown codes)
    state: str
    progress: float | None


class Memory(NamedTuple):
    #: when the object entered its current state (epoch seconds)
    since: float
    progress: float | None
    #: when progress last rose (or `since`, when it never did)
    progress_since: float | None
    #: transitions within the flap window ending now
    changes: int


class Transition(NamedTuple):
    key: str
    site: str | None
    kind: str
    name: str
    vpg_name: str
    at: float
    #: None: the first time zvpg saw the object
    from_state: str | None
    to_state: str
    #: how long `to_state` lasted (until the next transition, until the object
    #: was gone, or until now for the current state)
    lasted: float
    #: whether to_state is the object's state now
    current: bool
    #: when the object was last missing from the ZVM's answer (None: present)
    gone_since: float | None


def _fail(path: str, why: object) -> StateError:
    from .sanitize import printable

    return StateError(printable(f"cannot use state file {path}: {why}"))


def _prepare(path: str) -> bool:
    """Create the folder (0700) and the file (0600) if missing; refuse what is not
    a SQLite file without opening it as one. Returns whether the file is new."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(folder):
            os.makedirs(folder, mode=0o700, exist_ok=True)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            os.close(fd)
            return True
        if not stat.S_ISREG(st.st_mode):
            raise _fail(path, "not a regular file")
        if st.st_size == 0:
            return True
        with open(path, "rb") as fh:
            head = fh.read(len(_MAGIC))
    except OSError as exc:
        raise _fail(path, exc.strerror or exc) from None
    if head != _MAGIC:
        raise _fail(path, "not a SQLite database (a file zvpg did not write, or a damaged one)")
    return False


def _connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    import sqlite3
    from urllib.parse import quote

    uri = f"file:{quote(os.path.abspath(path))}" + ("?mode=ro" if readonly else "?mode=rw")
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    # WAL with synchronous NORMAL: a crash or power loss may lose the last run's
    # record, never the file's consistency; saves an fsync per run.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _schema(conn: sqlite3.Connection, path: str) -> None:
    """Bring the schema up to SCHEMA_VERSION, inside the open transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _fail(path, f"written by a newer zvpg (schema {version}; this zvpg knows up to {SCHEMA_VERSION})")
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise _fail(path, "a SQLite database zvpg did not write")
    while version < SCHEMA_VERSION:
        for statement in _MIGRATIONS[version].split(";"):
            if statement.strip():
                conn.execute(statement)
        version += 1
        conn.execute(f"PRAGMA user_version = {version}")


def remember(path: str, observed: list[Observed], now: float, flap_window: int) -> dict[str, Memory]:
    """Record this run's observations and return what is remembered of each
    (by `Observed.key`). One transaction; raises StateError, the file unchanged."""
    import sqlite3

    new = _prepare(path)
    conn = None
    try:
        conn = _connect(path)
        if new:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            _schema(conn, path)
            out = _record(conn, observed, now, flap_window)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return out
    except sqlite3.Error as exc:
        raise _fail(path, exc) from None
    except OSError as exc:  # pragma: no cover - sqlite3 reports I/O as sqlite3.Error
        raise _fail(path, exc.strerror or exc) from None
    finally:
        if conn is not None:
            conn.close()


def _record(conn: sqlite3.Connection, observed: list[Observed], now: float,
            flap_window: int) -> dict[str, Memory]:
    states = dict(conn.execute("SELECT text, id FROM states"))

    def state_id(text: str) -> int:
        if text not in states:
            states[text] = conn.execute("INSERT INTO states (text) VALUES (?)", (text,)).lastrowid or 0
        return int(states[text])

    rows = {r[1]: r for r in conn.execute(
        "SELECT id, key, state, since, progress, progress_since, gone_since, site, kind, name, vpg_name "
        "FROM objects")}
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    transitions: list[tuple[Any, ...]] = []
    seen: dict[str, tuple[float, float | None, float | None]] = {}
    for o in observed:
        if o.key in seen:  # the same key twice in one run: the first is remembered
            continue
        sid = state_id(o.state)
        row = rows.get(o.key)
        if row is None:
            inserts.append((o.key, o.site, o.kind, o.name, o.vpg_name, sid, now, now, o.progress, now))
            seen[o.key] = (now, o.progress, now)
            continue
        oid, _, old_state, since, progress, progress_since, gone_since, *names = row
        if old_state != sid:
            since, progress_since = now, now
            transitions.append((now, oid, old_state, sid))
        elif o.progress is not None and (progress is None or o.progress > progress):
            progress_since = now
        if (old_state != sid or o.progress != progress or row[5] != progress_since or gone_since is not None
                or names != [o.site, o.kind, o.name, o.vpg_name]):
            updates.append((o.site, o.kind, o.name, o.vpg_name, sid, since, o.progress, progress_since, oid))
        seen[o.key] = (since, o.progress, progress_since)
    # Only the rows that changed are written; last_seen of every present object in one statement.
    conn.executemany(
        "UPDATE objects SET site = ?, kind = ?, name = ?, vpg_name = ?, state = ?, since = ?, "
        "gone_since = NULL, progress = ?, progress_since = ? WHERE id = ?", updates)
    for values in inserts:
        oid = conn.execute(
            "INSERT INTO objects (key, site, kind, name, vpg_name, state, since, last_seen, progress, progress_since) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values).lastrowid
        transitions.append((now, oid, None, values[5]))
    conn.executemany("INSERT OR REPLACE INTO transitions (at, object, from_state, to_state) VALUES (?, ?, ?, ?)",
                     transitions)
    gone = [(now, row[0]) for key, row in rows.items() if key not in seen and row[6] is None]
    conn.executemany("UPDATE objects SET gone_since = ? WHERE id = ?", gone)
    conn.execute("UPDATE objects SET last_seen = ? WHERE gone_since IS NULL", (now,))
    _prune(conn, now)
    changes = dict(conn.execute(
        "SELECT o.key, count(*) FROM transitions t JOIN objects o ON o.id = t.object "
        "WHERE t.at > ? AND t.from_state IS NOT NULL GROUP BY t.object", (now - flap_window,)))
    return {key: Memory(since, progress, progress_since, changes.get(key, 0))
            for key, (since, progress, progress_since) in seen.items()}


def _prune(conn: sqlite3.Connection, now: float) -> None:
    """Delete transitions older than PRUNE_AFTER (but the one into each object's
    current state) and objects gone that long; at most once an hour (the
    transitions are keyed by time: a range delete)."""
    last = conn.execute("SELECT value FROM meta WHERE name = 'pruned'").fetchone()
    if last is not None and now - last[0] < 3600 and now >= last[0]:
        return
    limit = now - PRUNE_AFTER
    # The change into an object's current state is kept, however old: it says since when.
    conn.execute("DELETE FROM transitions WHERE at < ? AND at != (SELECT since FROM objects WHERE id = object)",
                 (limit,))
    old = [r[0] for r in conn.execute("SELECT id FROM objects WHERE gone_since IS NOT NULL AND gone_since < ?",
                                      (limit,))]
    if old:
        conn.executemany("DELETE FROM transitions WHERE object = ?", [(i,) for i in old])
        conn.executemany("DELETE FROM objects WHERE id = ?", [(i,) for i in old])
    conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('pruned', ?)", (now,))


def history(path: str, pattern: str | None, since: float | None, now: float) -> list[Transition]:
    """Transitions, newest first, of the objects whose name (or VPG name, or
    key) matches the glob `pattern` (case ignored; text without * ? [ matches
    a part of the name), from `since` on. Read-only."""
    import sqlite3
    from fnmatch import fnmatchcase

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
    conn = None
    try:
        conn = _connect(path, readonly=True)
        conn.execute("BEGIN")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise _fail(path, f"schema {version}, not {SCHEMA_VERSION} (run triage --state on it first)"
                        if version < SCHEMA_VERSION else f"written by a newer zvpg (schema {version})")
        states = dict(conn.execute("SELECT id, text FROM states"))
        objects: dict[int, tuple[Any, ...]] = {}
        folded = pattern.casefold() if pattern else None
        if folded is not None and not any(c in folded for c in "*?["):
            folded = f"*{folded}*"  # plain text: a part of the name
        for row in conn.execute("SELECT id, key, site, kind, name, vpg_name, gone_since FROM objects"):
            if folded is None or any(fnmatchcase(str(v).casefold(), folded) for v in (row[4], row[5], row[1])):
                objects[row[0]] = row
        # The change after one within the window is within it too: the window is all `lasted` needs.
        query = "SELECT at, object, from_state, to_state FROM transitions WHERE at >= ?"
        args: list[Any] = [-1.0 if since is None else since]
        if folded is not None and len(objects) <= 500:  # a few objects: SQLite skips the others' rows
            query += f" AND object IN ({', '.join('?' * len(objects))})"
            args += list(objects)
        rows = conn.execute(query + " ORDER BY at DESC", args).fetchall()
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise _fail(path, exc) from None
    finally:
        if conn is not None:
            conn.close()
    out: list[Transition] = []
    later: dict[int, float] = {}  # object -> the time of its next (newer) transition
    for at, oid, from_state, to_state in rows:
        obj = objects.get(oid)
        if obj is None:
            continue
        _, key, site, kind, name, vpg_name, gone_since = obj
        end = later.get(oid)
        current = end is None
        if end is None:
            end = gone_since if gone_since is not None else now
        later[oid] = at
        if since is not None and at < since:
            continue
        out.append(Transition(key, site, kind, name, vpg_name, at, states.get(from_state) if from_state else None,
                              states.get(to_state, "?"), max(0.0, end - at), current, gone_since))
    return out

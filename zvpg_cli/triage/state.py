"""State across runs: what each object's state has been, and since when, in one
SQLite file (`triage --state PATH`).

    memory = remember(path, observed, now=time.time(), flap_window=3600)
    memory[key]   # Memory(since, progress, progress_since, changes, out_of_ok_since, ...)
    memory.notes  # one line each: what the caller should say once (an emptied file, a clock moved back)

One short transaction a run (BEGIN IMMEDIATE, a busy timeout, WAL), so that
many checks can share one file. The file is private (0600, its folder 0700
when zvpg creates it). A file that cannot be used raises `StateError` (one line
naming the file and why) and is left as it was: the caller judges without
state. Objects missing from a run keep their row ("gone since"); those gone
for PRUNE_AFTER, and transitions older than that, are deleted.

Time is not trusted blindly: a remembered time later than `now` (a clock that
was ahead, or moved back) is clamped to `now` and that object is marked
`untrusted` for the run (the caller judges it without time); pruning never
reaches past the newest time the file held before the run, so one run with a
clock far ahead deletes nothing; flapping counts only transitions up to `now`.

A folder or file owned by another user, or writable by others, is refused
(`cachefs.unsafe`, as the session cache refuses one); folders zvpg creates
are 0700, every missing parent too.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import sqlite3

#: The schema this zvpg writes (PRAGMA user_version); _MIGRATIONS[n] goes from n to n + 1.
SCHEMA_VERSION = 2
#: Objects gone this long, and transitions older than this, are deleted.
PRUNE_AFTER = 30 * 86400
#: How long a run waits for another run's transaction before giving up.
BUSY_TIMEOUT = 5.0
_MAGIC = b"SQLite format 3\x00"
#: SQLite's longest path (its unix VFS's mxPathname): a longer one is refused before any folder is made.
MAX_PATH_BYTES = 512

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
# 2: the stateless severity of each object's last observation (its rank; NULL:
# not known), since when the object has been out of ok (NULL: ok, or not
# known), and whether a transition changed the severity (flapping counts those).
# A file of schema 1 migrates: since when out of ok is taken as since when in
# its current state (what grace counted from before), its severity unknown.
_SCHEMA_2 = """
ALTER TABLE objects ADD COLUMN severity INTEGER;
ALTER TABLE objects ADD COLUMN out_of_ok_since REAL;
UPDATE objects SET out_of_ok_since = since;
ALTER TABLE transitions ADD COLUMN severity_changed INTEGER;
"""
_MIGRATIONS: dict[int, str] = {0: _SCHEMA_1, 1: _SCHEMA_2}


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
    #: the stateless severity's rank (`Severity.rank`; None: not known); 0 is ok
    severity: int | None = None


class Memory(NamedTuple):
    #: when the object entered its current state (epoch seconds)
    since: float
    progress: float | None
    #: when progress last rose (or `since`, when it never did)
    progress_since: float | None
    #: transitions within the flap window ending now that changed the severity
    changes: int
    #: since when the object has been out of ok (None: it is ok, or when it
    #: left ok is not known: then no grace)
    out_of_ok_since: float | None = None
    #: False when a remembered time was later than now, or the key was given
    #: twice in the run: judge it without time
    trusted: bool = True


class Recall(dict[str, Memory]):
    """What `remember` returns: a Memory by key, and `notes` to say once."""

    notes: tuple[str, ...] = ()


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
    from ..base.sanitize import printable

    return StateError(printable(f"cannot use state file {path}: {why}"))


def _prepare(path: str) -> tuple[bool, str | None]:
    """Create the folder (0700, its missing parents too) and the file (0600) if
    missing; refuse what is not a SQLite file without opening it as one, and a
    file or folder someone else could have planted or can change. Returns
    whether the file is new, and a note when it was there before and is gone
    or empty (every object is then seen for the first time)."""
    from ..base.cachefs import make_dirs, unsafe

    _short_enough(path)
    folder = os.path.dirname(os.path.abspath(path))
    note = None
    try:
        if not os.path.isdir(folder):
            make_dirs(folder)
        why = unsafe(os.stat(folder), parent=True)
        if why:
            raise _fail(path, f"its folder is not used: {why}")
        try:
            st = os.stat(path)
        except FileNotFoundError:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            os.close(fd)
            if _marker(path, create=True):
                note = (f"state file {path} was there before and is gone: created again, every object "
                        "is seen for the first time")
            return True, note
        if not stat.S_ISREG(st.st_mode):
            raise _fail(path, "not a regular file")
        why = unsafe(st)
        if why:
            raise _fail(path, f"not used: {why}")
        _marker(path, create=True)
        if st.st_size == 0:
            return True, f"state file {path} was empty (0 bytes): every object is seen for the first time"
        with open(path, "rb") as fh:
            head = fh.read(len(_MAGIC))
    except OSError as exc:
        raise _fail(path, exc.strerror or exc) from None
    if head != _MAGIC:
        raise _fail(path, "not a SQLite database (a file zvpg did not write, or a damaged one)")
    return False, None


def _short_enough(path: str) -> None:
    size = len(os.path.abspath(path).encode("utf-8", "surrogateescape"))
    if size > MAX_PATH_BYTES:
        raise _fail(path[:60] + "...", f"a path of {size} bytes: SQLite opens paths up to {MAX_PATH_BYTES}")


def _marker(path: str, *, create: bool) -> bool:
    """Whether zvpg has used a state file at `path` before: a small empty file
    per state file in zvpg's private cache folder (nothing when the cache is
    off), so that a state file that vanished is noted, not silently new.
    `create`: leave the marker now."""
    from ..base.cachefs import cache_dir, private_dir
    from ..knowledge.kb import _fnv1a  # the kb cache's name for a path (hashlib would load OpenSSL)

    base = cache_dir()
    if base is None:
        return False
    folder = os.path.join(base, "state-files")
    name = os.path.join(folder, _fnv1a(os.path.abspath(path)))
    existed = os.path.exists(name)
    if create and not existed and private_dir(folder):
        try:
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
        except OSError:
            pass
    return existed


def _connect(path: str, *, readonly: bool = False, immutable: bool = False) -> sqlite3.Connection:
    import sqlite3
    from urllib.parse import quote

    mode = "?immutable=1" if immutable else "?mode=ro" if readonly else "?mode=rw"
    uri = f"file:{quote(os.path.abspath(path))}{mode}"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    # WAL with synchronous NORMAL: a crash or power loss may lose the last run's
    # record, never the file's consistency; saves an fsync per run.
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def _version(conn: sqlite3.Connection, path: str) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _fail(path, f"written by a newer zvpg (schema {version}; this zvpg knows up to {SCHEMA_VERSION})")
    if version < 0:
        raise _fail(path, f"damaged: schema version {version}")
    return int(version)


def _schema(conn: sqlite3.Connection, path: str) -> None:
    """Bring the schema up to SCHEMA_VERSION, inside the open transaction."""
    version = _version(conn, path)
    if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise _fail(path, "a SQLite database zvpg did not write")
    while version < SCHEMA_VERSION:
        for statement in _MIGRATIONS[version].split(";"):
            if statement.strip():
                conn.execute(statement)
        version += 1
        conn.execute(f"PRAGMA user_version = {version}")


#: The state (ok) of a remembered alert missing from an answer read whole.
CLEARED = "cleared or dismissed"


def remember(path: str, observed: list[Observed], now: float, flap_window: int,
             complete: tuple[str, ...] = ()) -> Recall:
    """Record this run's observations and return what is remembered of each (by
    `Observed.key`); `complete`: key prefixes read whole (a site's alerts): one
    missing there has CLEARED, not merely gone. One transaction; raises StateError,
    the file unchanged, whatever goes wrong (a damaged file can raise more than sqlite3.Error)."""
    import sqlite3

    new, note = _prepare(path)
    conn = None
    try:
        conn = _connect(path)
        if new:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            _schema(conn, path)
            out = _record(conn, observed, now, flap_window, path, complete)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if note:
            out.notes = (note, *out.notes)
        return out
    except StateError:
        raise
    except sqlite3.Error as exc:
        raise _fail(path, exc) from None
    except OSError as exc:  # pragma: no cover - sqlite3 reports I/O as sqlite3.Error
        raise _fail(path, exc.strerror or exc) from None
    except Exception as exc:  # a damaged file: undecodable text, a wrong type where a time should be
        raise _fail(path, f"damaged ({type(exc).__name__}: {exc})") from None
    finally:
        if conn is not None:
            conn.close()


def _time(value: Any, path: str) -> float:
    if type(value) not in (int, float) or value != value:
        raise _fail(path, "damaged: a time that is not a number")
    return float(value)


def _record(conn: sqlite3.Connection, observed: list[Observed], now: float,
            flap_window: int, path: str = "", complete: tuple[str, ...] = ()) -> Recall:
    states = dict(conn.execute("SELECT text, id FROM states"))

    def state_id(text: str) -> int:
        if text not in states:
            states[text] = conn.execute("INSERT INTO states (text) VALUES (?)", (text,)).lastrowid or 0
        return int(states[text])

    def t(value: Any) -> float | None:
        return None if value is None else _time(value, path)

    rows = {r[1]: r for r in conn.execute(
        "SELECT id, key, state, since, progress, progress_since, gone_since, site, kind, name, vpg_name, "
        "severity, out_of_ok_since FROM objects")}
    # The newest time the file held before this run: pruning never reaches past it.
    newest = conn.execute("SELECT max(last_seen) FROM objects").fetchone()[0]
    newest = now if newest is None else min(now, _time(newest, path))
    counts: dict[str, int] = {}
    for o in observed:
        counts[o.key] = counts.get(o.key, 0) + 1
    seen_sites = [o.site for o in observed]
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    transitions: list[tuple[Any, ...]] = []
    seen: dict[str, Memory] = {}
    ahead = migrated = 0
    for o in observed:
        if o.key in seen:  # the same key twice in one run: the first is remembered; counted below
            continue
        sid = state_id(o.state)
        row = rows.get(o.key)
        if row is None:
            former = next((f for f in _former_keys(o.key) if f in rows and f not in counts and f not in seen), None)
            if former is not None:  # a key an earlier zvpg gave it: taken over
                row = rows[o.key] = rows.pop(former)
                conn.execute("UPDATE objects SET key = ? WHERE id = ?", (o.key, row[0]))
                migrated += 1
        bad = o.severity is None or o.severity > 0
        if row is None:
            leave = now if bad else None
            inserts.append((o.key, o.site, o.kind, o.name, o.vpg_name, sid, now, now, o.progress, now,
                            o.severity, leave))
            seen[o.key] = Memory(now, o.progress, now, 0, leave)
            continue
        oid, _, old_state, since, progress, progress_since, gone_since, site, kind, name, vpg_name, \
            old_severity, out_of_ok = row
        since = _time(since, path)
        progress_since, out_of_ok, gone_since = t(progress_since), t(out_of_ok), t(gone_since)
        trusted = True
        if since > now or (progress_since or 0) > now or (out_of_ok or 0) > now:
            # Remembered later than now: the clock was ahead then, or is behind now. Not a
            # reason to stay quiet: clamped, and when it left ok is no longer known.
            trusted = False
            ahead += 1
            since, progress_since = min(since, now), None if progress_since is None else min(progress_since, now)
            out_of_ok = None
        changed = old_state != sid
        if changed:
            since, progress_since = now, now
            moved = o.severity != old_severity if o.severity is not None and old_severity is not None else True
            transitions.append((now, oid, old_state, sid, int(moved)))
        elif o.progress is not None and (progress is None or o.progress > progress):
            progress_since = now
        if not bad:
            out_of_ok = None
        elif out_of_ok is None and trusted and (old_severity is not None and old_severity == 0):
            out_of_ok = now  # it was ok when last seen: it left ok now
        if (changed or not trusted or o.progress != progress or row[5] != progress_since or gone_since is not None
                or [site, kind, name, vpg_name] != [o.site, o.kind, o.name, o.vpg_name]
                or old_severity != o.severity or row[12] != out_of_ok):
            updates.append((o.site, o.kind, o.name, o.vpg_name, sid, since, o.progress, progress_since,
                            o.severity, out_of_ok, oid))
        seen[o.key] = Memory(since, o.progress, progress_since, 0, out_of_ok, trusted)
    # Only the rows that changed are written; last_seen of every present object in one statement.
    conn.executemany(
        "UPDATE objects SET site = ?, kind = ?, name = ?, vpg_name = ?, state = ?, since = ?, "
        "gone_since = NULL, progress = ?, progress_since = ?, severity = ?, out_of_ok_since = ? WHERE id = ?",
        updates)
    for values in inserts:
        oid = conn.execute(
            "INSERT INTO objects (key, site, kind, name, vpg_name, state, since, last_seen, progress, progress_since, "
            "severity, out_of_ok_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values).lastrowid
        transitions.append((now, oid, None, values[5], 0))
    conn.executemany("INSERT OR REPLACE INTO transitions (at, object, from_state, to_state, severity_changed) "
                     "VALUES (?, ?, ?, ?, ?)", transitions)
    missing = [row for key, row in rows.items() if key not in seen]
    conn.executemany("UPDATE objects SET gone_since = ? WHERE id = ?",
                     [(now, r[0]) for r in missing if r[6] is None and not r[1].startswith(complete)])
    if cleared := [r for r in missing if r[1].startswith(complete)]:
        _clear(conn, cleared, state_id(CLEARED), now)
    conn.execute("UPDATE objects SET last_seen = ? WHERE gone_since IS NULL", (now,))
    _prune(conn, now, newest)
    # Flapping: changes of severity within the window, none later than now.
    changes = dict(conn.execute(
        "SELECT o.key, count(*) FROM transitions t JOIN objects o ON o.id = t.object "
        "WHERE t.at > ? AND t.at <= ? AND t.from_state IS NOT NULL AND t.severity_changed = 1 "
        "GROUP BY t.object", (now - flap_window, now)))
    out = Recall(seen)
    shared = [key for key, n in counts.items() if n > 1]
    for key, n in changes.items():
        if key in out:
            out[key] = out[key]._replace(changes=n)
    for key in shared:
        out[key] = out[key]._replace(trusted=False)
    notes = []
    if ahead:
        notes.append(f"state file {path}: {_objects(ahead)} remembered times later than now (the clock was "
                     "ahead, or has moved back): judged without time this run")
    if shared:
        notes.append(f"state file {path}: {_objects(len(shared), 'object key')} given more than once in this "
                     f"run (first: {_key_text(shared[0])}): those objects are judged without time")
    if migrated:
        notes.append(f"state file {path}: {_objects(migrated, 'remembered object')} now keyed by site (and, "
                     "for a VM, its VPG)")
    if rows and inserts:
        fresh: dict[str, int] = {}
        for values in inserts:
            if values[1] is not None:
                fresh[values[1]] = fresh.get(values[1], 0) + 1
        for site, n in fresh.items():
            if n == sum(1 for o in seen_sites if o == site):
                notes.append(f"state file {path}: every object of site {site} ({n}) is new to it (a new site, "
                             "or a renamed one: a renamed site starts afresh)")
    out.notes = tuple(notes)
    return out


def _clear(conn: sqlite3.Connection, rows: list[Any], cleared: int, now: float) -> None:
    """Objects missing from an answer read whole (an alert no longer raised) go
    to CLEARED (ok: a change of severity where they were not) and are gone."""
    rows = [r for r in rows if r[2] != cleared]
    conn.executemany(
        "UPDATE objects SET state = ?, since = ?, gone_since = ?, progress = NULL, progress_since = NULL, "
        "severity = 0, out_of_ok_since = NULL WHERE id = ?", [(cleared, now, now, r[0]) for r in rows])
    conn.executemany("INSERT OR REPLACE INTO transitions (at, object, from_state, to_state, severity_changed) "
                     "VALUES (?, ?, ?, ?, ?)", [(now, r[0], r[2], cleared, int(r[11] != 0)) for r in rows])


def _former_keys(key: str) -> tuple[str, ...]:
    """The keys earlier zvpg versions gave the object of `key` (a row found
    under one is taken over when no row has `key` yet): without the site where
    a check read one site, without the VPG for a VM."""
    site, kind, vpg, ident = key_parts(key)
    out = [f"\x1f{kind}\x1f{ident}"]
    if vpg is not None and site:
        out.append(f"{site}\x1f{kind}\x1f{ident}")
    return tuple(k for k in out if k != key)


def _objects(n: int, noun: str = "object") -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _key_text(key: str) -> str:
    """A key for people: `site nyc, vpg id-1`."""
    site, kind, vpg, ident = key_parts(key)
    return f"site {site or '(none)'}, {kind or '?'} {ident}" + (f" in VPG {vpg}" if vpg else "")


def _prune(conn: sqlite3.Connection, now: float, newest: float) -> None:
    """Delete transitions older than PRUNE_AFTER (but the one into each object's
    current state) and objects gone that long; at most once an hour (the
    transitions are keyed by time: a range delete). The age is counted back
    from `newest` (the newest time the file held before this run, or now if
    earlier): a clock that jumped ahead deletes nothing."""
    last = conn.execute("SELECT value FROM meta WHERE name = 'pruned'").fetchone()
    if last is not None and now - last[0] < 3600 and now >= last[0]:
        return
    limit = min(now, newest) - PRUNE_AFTER
    # The change into an object's current state is kept, however old: it says since when.
    conn.execute("DELETE FROM transitions WHERE at < ? AND at != (SELECT since FROM objects WHERE id = object)",
                 (limit,))
    old = [r[0] for r in conn.execute("SELECT id FROM objects WHERE gone_since IS NOT NULL AND gone_since < ?",
                                      (limit,))]
    if old:
        conn.executemany("DELETE FROM transitions WHERE object = ?", [(i,) for i in old])
        conn.executemany("DELETE FROM objects WHERE id = ?", [(i,) for i in old])
    conn.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('pruned', ?)", (now,))


def history(path: str, pattern: str | None, since: float | None, now: float, kinds: tuple[str, ...] = ()) -> list[Any]:
    """`statehistory.read`: transitions, newest first. Read-only."""
    from .statehistory import read

    return read(path, pattern, since, now, kinds)


def key_parts(key: str) -> tuple[str | None, str, str | None, str]:
    """(site, kind, VPG identifier for a VM, identifier) of a state key
    (`triage.state_key`); keys of earlier versions have no VPG part."""
    site, _, rest = key.partition("\x1f")
    kind, _, ident = rest.partition("\x1f")
    vpg = None
    if kind == "vm" and "\x1f" in ident:
        vpg, _, ident = ident.partition("\x1f")
    return site or None, kind, vpg, ident

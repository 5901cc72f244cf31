"""The state file: what it remembers across runs, that it stays private and
bounded, that many runs can share it, and that a file it cannot use is
reported in one line and left untouched. Time is injected (`now`)."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from zvpg_cli.triage import state
from zvpg_cli.triage.state import Observed, StateError, history, remember

T0 = 1_800_000_000.0
DS = "Not Meeting SLA / Delta Syncing"
IS = "Initializing / Initial Sync"
OK = "Meeting SLA"


def vpg(state_text: str, progress: float | None = None, n: int = 1, site: str | None = "site-a") -> Observed:
    return Observed(f"{site}|vpg|id-{n}", site, "vpg", f"web-{n:02d}", f"web-{n:02d}", state_text, progress)


def test_the_file_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state.db"
    remember(str(path), [vpg(OK)], T0, 3600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for name in os.listdir(path.parent):  # the WAL and shared-memory files too
        assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == state.SCHEMA_VERSION


def test_since_is_kept_while_the_state_holds_and_moves_when_it_changes(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    assert remember(path, [vpg(DS)], T0, 3600)["site-a|vpg|id-1"].since == T0
    assert remember(path, [vpg(DS)], T0 + 240, 3600)["site-a|vpg|id-1"].since == T0
    moved = remember(path, [vpg(OK)], T0 + 600, 3600)["site-a|vpg|id-1"]
    assert moved.since == T0 + 600 and moved.changes == 1


def test_progress_since_is_when_progress_last_rose(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    key = "site-a|vpg|id-1"
    assert remember(path, [vpg(IS, 10)], T0, 3600)[key].progress_since == T0
    assert remember(path, [vpg(IS, 42)], T0 + 60, 3600)[key].progress_since == T0 + 60
    held = remember(path, [vpg(IS, 42)], T0 + 3780, 3600)[key]
    assert (held.progress, held.progress_since) == (42, T0 + 60)
    fell = remember(path, [vpg(IS, 5)], T0 + 3800, 3600)[key]  # a fall is not a rise
    assert (fell.progress, fell.progress_since) == (5, T0 + 60)
    assert remember(path, [vpg(IS, 6)], T0 + 3900, 3600)[key].progress_since == T0 + 3900


def test_changes_count_transitions_within_the_window_not_first_sight(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    key = "site-a|vpg|id-1"
    assert remember(path, [vpg(OK)], T0, 3600)[key].changes == 0
    for i in range(1, 7):
        memory = remember(path, [vpg(DS if i % 2 else OK)], T0 + i * 300, 3600)
    assert memory[key].changes == 6
    # An hour after the last change, the window holds none of them.
    assert remember(path, [vpg(OK)], T0 + 6 * 300 + 3600, 3600)[key].changes == 0


def test_objects_are_told_apart_by_key(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    seen = remember(path, [vpg(OK, n=1), vpg(DS, n=2), vpg(DS, n=1, site="site-b")], T0, 3600)
    assert len(seen) == 3
    seen = remember(path, [vpg(DS, n=1), vpg(DS, n=2), vpg(DS, n=1, site="site-b")], T0 + 60, 3600)
    assert [seen[k].changes for k in sorted(seen)] == [1, 0, 0]


def test_a_key_given_twice_in_one_run_is_reported_and_not_shared(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    seen = remember(path, [vpg(OK), vpg(DS)], T0, 3600)
    assert list(seen) == ["site-a|vpg|id-1"] and not seen["site-a|vpg|id-1"].trusted
    assert any("given more than once in this run" in n and "site-a" in n for n in seen.notes)
    again = remember(path, [vpg(DS), vpg(DS)], T0 + 60, 3600)
    assert (again["site-a|vpg|id-1"].since, again["site-a|vpg|id-1"].changes) == (T0 + 60, 1)
    assert not again["site-a|vpg|id-1"].trusted and again.notes
    once = remember(path, [vpg(DS)], T0 + 120, 3600)
    assert once["site-a|vpg|id-1"].trusted and not once.notes


def test_gone_objects_are_marked_kept_then_pruned_after_30_days(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    remember(path, [vpg(OK, n=1), vpg(DS, n=2)], T0, 3600)
    remember(path, [vpg(OK, n=1)], T0 + 60, 3600)
    gone = [t for t in history(path, "web-02", None, T0 + 120)]
    assert len(gone) == 1 and gone[0].gone_since == T0 + 60 and gone[0].lasted == 60
    # Back again: no longer gone, and its since is kept (the state did not change).
    again = remember(path, [vpg(OK, n=1), vpg(DS, n=2)], T0 + 180, 3600)
    assert again["site-a|vpg|id-2"].since == T0
    assert history(path, "web-02", None, T0 + 200)[0].gone_since is None
    remember(path, [vpg(OK, n=1)], T0 + 240, 3600)
    remember(path, [vpg(OK, n=1)], T0 + 240 + state.PRUNE_AFTER - 10, 3600)
    assert history(path, "web-02", None, T0 + 240 + state.PRUNE_AFTER) != []
    # Pruning runs at most once an hour, and counts back from the newest time the
    # file held before the run (a clock that jumps ahead deletes nothing).
    remember(path, [vpg(OK, n=1)], T0 + 240 + state.PRUNE_AFTER + 60, 3600)
    later = T0 + 240 + state.PRUNE_AFTER + 3600
    remember(path, [vpg(OK, n=1)], later, 3600)
    assert history(path, "web-02", None, later + 10) == []
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM objects").fetchone()[0] == 1
    # web-01's first sighting is older than 30 days but says since when its state holds: kept.
    assert [t.lasted for t in history(path, None, None, later + 10)] == [later + 10 - T0]


def test_transitions_older_than_30_days_are_pruned(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    for run in range(12 * 35):  # 35 days of flapping every two hours
        remember(path, [vpg(DS if run % 2 else OK)], T0 + run * 7200, 3600)
    now = T0 + (12 * 35 - 1) * 7200
    kept = history(path, None, None, now)
    assert min(t.at for t in kept) >= now - state.PRUNE_AFTER - 7200
    assert len(kept) <= 12 * 30 + 2


def test_history_is_newest_first_with_how_long_each_state_lasted(tmp_path: Path) -> None:
    path = str(tmp_path / "s.db")
    remember(path, [vpg(OK)], T0, 3600)
    remember(path, [vpg(DS)], T0 + 600, 3600)
    remember(path, [vpg(OK)], T0 + 900, 3600)
    got = [(t.from_state, t.to_state, t.lasted, t.current) for t in history(path, None, None, T0 + 1000)]
    assert got == [(DS, OK, 100, True), (OK, DS, 300, False), (None, OK, 600, False)]
    assert [t.to_state for t in history(path, None, T0 + 500, T0 + 1000)] == [OK, DS]
    assert history(path, "WEB-0*", None, T0 + 1000) and history(path, "eb-0", None, T0 + 1000)
    assert history(path, "db-*", None, T0 + 1000) == []


def test_history_does_not_create_or_change_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    with pytest.raises(StateError, match="No such file"):
        history(str(missing), None, None, T0)
    assert not missing.exists()


def _remember_in_a_process(args: tuple[str, int]) -> str:
    path, n = args
    try:
        seen = remember(path, [vpg(DS if n % 2 else OK, n=i) for i in range(200)], T0 + n, 3600)
        return f"ok {len(seen)}"
    except StateError as exc:
        return str(exc)


@pytest.mark.parametrize("existing", [False, True], ids=["new file", "existing file"])
def test_eight_runs_at_once_all_answer(tmp_path: Path, existing: bool) -> None:
    path = str(tmp_path / "shared" / "state.db")
    if existing:
        remember(path, [vpg(OK, n=i) for i in range(200)], T0 - 60, 3600)
    with multiprocessing.get_context("spawn").Pool(8) as pool:
        answers = pool.map(_remember_in_a_process, [(path, n) for n in range(8)])
    assert answers == ["ok 200"] * 8


def _valid_file(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    remember(str(path), [vpg(OK, n=i) for i in range(300)], T0, 3600)
    return path


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize(("damage", "why"), [
    ("random bytes", "not a SQLite database"),
    ("truncated", "malformed"),
    ("newer schema", "written by a newer zvpg"),
    ("foreign database", "a SQLite database zvpg did not write"),
])
def test_a_damaged_file_is_one_line_and_left_untouched(tmp_path: Path, damage: str, why: str) -> None:
    path = _valid_file(tmp_path)
    if damage == "random bytes":
        path.write_bytes(os.urandom(8192))
    elif damage == "truncated":
        data = path.read_bytes()
        for extra in path.parent.glob("state.db-*"):
            extra.unlink()
        path.write_bytes(data[:4096 + 100])
    elif damage == "newer schema":
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 99")
        conn.commit()
        conn.close()
    else:
        path.unlink()
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE mine (x)")
        conn.commit()
        conn.close()
    before = path.read_bytes()
    with pytest.raises(StateError) as caught:
        remember(str(path), [vpg(DS)], T0 + 60, 3600)
    message = str(caught.value)
    assert message.startswith(f"cannot use state file {path}: ") and why in message and "\n" not in message
    assert path.read_bytes() == before


def test_a_folder_where_the_file_should_be_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="not a regular file"):
        remember(str(tmp_path), [vpg(OK)], T0, 3600)


needs_non_root = pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes files whatever their mode")


@needs_non_root
def test_an_unreadable_file_is_one_line_and_left_untouched(tmp_path: Path) -> None:
    path = _valid_file(tmp_path)
    before = path.read_bytes()
    path.chmod(0)
    try:
        with pytest.raises(StateError, match="Permission denied"):
            remember(str(path), [vpg(DS)], T0 + 60, 3600)
    finally:
        path.chmod(0o600)
    assert path.read_bytes() == before


@needs_non_root
def test_a_read_only_folder_is_one_line_and_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = _valid_file(tmp_path)
    for extra in path.parent.glob("state.db-*"):
        extra.unlink()
    before = _files(path.parent)
    path.parent.chmod(0o500)
    try:
        with pytest.raises(StateError, match="cannot use state file"):
            remember(str(path), [vpg(DS)], T0 + 60, 3600)
    finally:
        path.parent.chmod(0o700)
    assert _files(path.parent) == before


def test_a_read_only_file_is_one_line_and_left_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What root meets too: a file SQLite opens read-only (here: mode=ro forced)."""
    path = _valid_file(tmp_path)
    before = path.read_bytes()
    real = state._connect
    monkeypatch.setattr(state, "_connect", lambda p, readonly=False: real(p, readonly=True))
    with pytest.raises(StateError, match="readonly"):
        remember(str(path), [vpg(DS)], T0 + 60, 3600)
    assert path.read_bytes() == before


def test_a_file_locked_too_long_is_one_line_and_left_untouched(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = _valid_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(state, "BUSY_TIMEOUT", 0.2)
    try:
        before = path.read_bytes()
        with pytest.raises(StateError, match="database is locked"):
            remember(str(path), [vpg(DS)], T0 + 60, 3600)
        assert path.read_bytes() == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert remember(str(path), [vpg(DS)], T0 + 120, 3600)  # usable again once released

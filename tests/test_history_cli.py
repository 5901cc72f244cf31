"""`zvpg history` as a user runs it: the state is written with the library at
chosen times, then read by the installed command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_zvpg
from test_schemas import validator

from zvpg_cli.triage.state import Observed, remember

DS = "Not Meeting SLA / Delta Syncing"
OK = "Meeting SLA"
HOUR = 3600


def _obs(state: str, name: str = "web-01", site: str | None = "zvm01", kind: str = "vpg") -> Observed:
    return Observed(f"{site}|{kind}|{name}", site, kind, name, name if kind == "vpg" else "app", state, None)


def _zvpg(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    p = run_zvpg(*args, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


@pytest.fixture
def state_file(tmp_path: Path) -> tuple[str, float]:
    """web-01: ok, then 30 minutes of Delta Sync, ok again for the last 2 hours;
    db-01 gone from the ZVM an hour ago; a VM of VPG app."""
    path = str(tmp_path / "zvpg" / "state.db")
    t0 = time.time() - 5 * HOUR
    remember(path, [_obs(OK), _obs(DS, "db-01"), _obs(OK, "vm-7", kind="vm")], t0, HOUR)
    remember(path, [_obs(DS), _obs(DS, "db-01"), _obs(OK, "vm-7", kind="vm")], t0 + 150 * 60, HOUR)
    remember(path, [_obs(OK), _obs(DS, "db-01"), _obs(OK, "vm-7", kind="vm")], t0 + 3 * HOUR, HOUR)
    remember(path, [_obs(OK), _obs(OK, "vm-7", kind="vm")], t0 + 4 * HOUR, HOUR)
    return path, t0


def test_history_lists_changes_newest_first_with_how_long_each_lasted(state_file: tuple[str, float]) -> None:
    path, _ = state_file
    code, out, err = _zvpg("history", "web", "--state", path)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["WHEN", "(UTC)", "VPG", "/", "VM", "STATE", "LASTED"]
    assert lines[1].split()[2:] == ["web-01", "@", "zvm01", "Meeting", "SLA", "2h", "(now)"]
    assert lines[2].split()[2:] == ["web-01", "@", "zvm01", "Not", "Meeting", "SLA", "/", "Delta", "Syncing", "30m"]
    assert lines[3].split()[2:] == ["web-01", "@", "zvm01", "Meeting", "SLA", "(first", "seen)", "2h", "30m"]
    assert len(lines) == 4


def test_history_marks_objects_gone_from_the_zvm(state_file: tuple[str, float]) -> None:
    path, t0 = state_file
    out = _zvpg("history", "db-*", "--state", path)[1]
    gone = time.strftime("%Y-%m-%d %H:%M", time.gmtime(t0 + 4 * HOUR))
    assert "db-01 @ zvm01" in out and f"(gone since {gone}" in out
    rows = json.loads(_zvpg("history", "DB-01", "--state", path, "--json")[1])
    assert [r["gone_since"] is not None for r in rows] == [True]
    assert rows[0]["lasted_seconds"] == 4 * HOUR


def test_history_json_follows_its_schema(state_file: tuple[str, float]) -> None:
    path, _ = state_file
    rows = json.loads(_zvpg("history", "--state", path, "--json")[1])
    validator("history.schema.json").validate(rows)
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True)
    vm = [r for r in rows if r["kind"] == "vm"]
    assert vm and vm[0]["name"] == "vm-7" and vm[0]["vpg"] == "app"


def test_since_keeps_the_recent_changes_and_the_state_file_comes_from_the_environment(
        state_file: tuple[str, float]) -> None:
    path, _ = state_file
    rows = json.loads(_zvpg("history", "--since", "2h30m", "--json", env={"ZVPG_STATE": path})[1])
    assert [(r["name"], r["to"]) for r in rows] == [("web-01", OK)]
    assert _zvpg("history", "--since", "1s", "--state", path)[1] == "No changes recorded.\n"
    code, out, err = _zvpg("history", "nothing-like-it", "--state", path)
    assert (code, out) == (1, "") and err == (f"zvpg: nothing in {path} matches 'nothing-like-it' "
                                              "(history matches VPG, VM and site names, and the labels of findings)\n")


@pytest.mark.parametrize(("args", "message"), [
    (("history",), "zvpg: give --state PATH (or set ZVPG_STATE): the file zvpg triage --state writes\n"),
    (("history", "--state", "/nonexistent/state.db"),
     "zvpg: cannot use state file /nonexistent/state.db: No such file or directory\n"),
    (("history", "--state", "/", "--since", "soon"),
     "zvpg: --since: 'soon' is not a duration (examples: 900s, 15m, 2h, 1h30m, 1d)\n"),
])
def test_history_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ZVPG_STATE"}
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", *args], capture_output=True, env=env, timeout=60)
    assert (p.returncode, p.stdout, p.stderr.decode()) == (2, b"", message)


def test_history_of_a_damaged_file_is_one_line_and_leaves_it_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 8)
    code, out, err = _zvpg("history", "--state", str(path))
    assert code == 2 and out == "" and err.startswith(f"zvpg: cannot use state file {path}: ")
    assert err.count("\n") == 1
    assert path.read_bytes() == b"SQLite format 3\x00" + bytes(range(256)) * 8


@pytest.mark.skipif(shutil.which("faketime") is None,
                    reason="needs faketime (Debian package faketime: apt-get install faketime)")
def test_history_on_the_real_clock_moved_by_libfaketime(tmp_path: Path) -> None:
    """The command reads the real clock; libfaketime sets it to 2030-01-01 12:00 UTC."""
    noon = 1893499200.0  # 2030-01-01T12:00:00Z
    path = str(tmp_path / "state.db")
    remember(path, [_obs(DS)], noon - 2 * HOUR, HOUR)
    remember(path, [_obs(OK)], noon - HOUR, HOUR)
    env = {**os.environ, "TZ": "UTC"}
    p = subprocess.run(["faketime", "2030-01-01 12:00:00", sys.executable, "-m", "zvpg_cli", "history",
                        "--state", path, "--json"], capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert [(r["at"], r["to"], r["current"]) for r in rows] == [
        ("2030-01-01T11:00:00Z", OK, True), ("2030-01-01T10:00:00Z", DS, False)]
    assert HOUR <= rows[0]["lasted_seconds"] < HOUR + 60
    assert rows[1]["lasted_seconds"] == HOUR

"""State you can trust: a clock that jumps never buys silence nor deletes
history, keys name one object, a policy never lowers a threshold breach, any
failure of the state layer gives the stateless verdict and a line, files
someone else could have planted are refused. Library runs at injected times;
the installed CLI on clocks moved by libfaketime and, for ownership, files
planted by a second user (`setpriv`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from formats import check_nagios, check_prometheus
from test_grace_and_escalation import needs_faketime, vpg

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import Severity
from zvpg_cli.sources.payload import parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage import state
from zvpg_cli.triage.report import Options
from zvpg_cli.triage.report import run as run_triage
from zvpg_cli.triage.rows import Thresholds, parse_threshold

T0 = 1_796_000_000.0
MIN, HOUR = 60, 3600


def judge(db: Path, seconds: float, *reads: tuple[str | None, list[dict[str, Any]]], **options: Any) -> Any:
    sources = [Read(parse(json.dumps(objs).encode()), site, site and f"https://{site}:9669") for site, objs in reads]
    return run_triage(load_kb(), sources, Options(state=str(db), now=T0 + seconds, **options))


def cli_at(when: str, payload: Path, db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["faketime", "-f", when, sys.executable, "-m", "zvpg_cli", "triage", str(payload),
                           "--state", str(db), *args], capture_output=True, timeout=60,
                          env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"})


# ---- time you do not trust is not used ---------------------------------------------------

@needs_faketime
def test_one_run_with_the_clock_years_ahead_never_silences_a_sync(tmp_path: Path) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "p.json"
    payload.write_text(json.dumps([vpg(1, 0)]))
    assert cli_at("2026-06-01 09:00:00", payload, db, "--nagios").returncode == 0
    payload.write_text(json.dumps([vpg(1, 6, progress=40), vpg(2, 6, name="Web", progress=40)]))
    cli_at("2031-01-01 00:00:00", payload, db, "--nagios")
    back = cli_at("2026-06-04 09:10:00", payload, db, "--nagios")
    verdict, _ = check_nagios(back.stdout.decode())
    assert verdict == "CRITICAL" and back.returncode == 2  # Web: Not Meeting SLA / Delta Syncing, no grace
    assert b"remembered times later than now" in back.stdout and back.stdout.count(b"later than now") == 1
    assert not re.search(rb"for 0s \(critical after", back.stdout)
    erp = [line for line in back.stdout.splitlines() if line.startswith(b"WARNING: ERP")]
    assert erp  # Meeting SLA / Delta Syncing keeps its own severity: never OK
    again = cli_at("2026-06-04 09:20:00", payload, db, "--nagios")  # said once; still no grace
    assert again.returncode == 2 and b"later than now" not in again.stdout
    assert b"critical after" not in again.stdout


@needs_faketime
def test_a_clock_two_hours_fast_then_corrected_does_not_extend_the_grace(tmp_path: Path) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "p.json"
    payload.write_text(json.dumps([vpg(2, 6, 700)]))
    assert cli_at("2026-06-01 12:00:00", payload, db, "--nagios").returncode == 1  # first seen: in grace
    for when in ("2026-06-01 10:05:00", "2026-06-01 10:10:00", "2026-06-01 10:30:00"):
        assert cli_at(when, payload, db, "--nagios").returncode == 2, when


def test_a_run_with_a_clock_far_ahead_prunes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for n in range(10):
        judge(db, n * HOUR, (None, [vpg(1, 0) if n % 2 else vpg(2, 6, 700)]))
    before = state.history(str(db), None, None, T0 + 10 * HOUR)
    assert len(before) == 10
    judge(db, 5 * 365 * 86400, (None, [vpg(2, 6, 700)]))  # one run with the clock five years ahead
    assert len(state.history(str(db), None, None, T0 + 10 * HOUR)) == 11


def test_flapping_ignores_changes_later_than_now(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    judge(db, 0, (None, [vpg(1, 0)]))
    for n in range(1, 8):  # a clock a day ahead, flapping
        judge(db, 86400 + n * 5 * MIN, (None, [vpg(1, 0) if n % 2 == 0 else vpg(2, 6, 700)]))
    row = judge(db, 10 * MIN, (None, [vpg(1, 0)])).rows[0]
    assert not row.timed.flapping


# ---- keys that mean one object -----------------------------------------------------------

def test_reading_one_site_or_several_gives_the_same_key(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    judge(db, 0, ("nyc", [vpg(2, 6, 700)]))
    both = judge(db, 20 * MIN, ("nyc", [vpg(2, 6, 700)]), ("lon", [vpg(1, 0, name="Other")]))
    assert both.rows[0].timed.since == T0 and both.rows[0].severity is Severity.CRITICAL
    alone = judge(db, 25 * MIN, ("nyc", [vpg(2, 6, 700)]))
    assert alone.rows[0].timed.since == T0 and not alone.notes


def test_the_same_vpg_from_its_protected_and_recovery_site_does_not_ping_pong(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    for n in range(8):  # two checks, one per ZVM, sharing one state file, every five minutes
        if n % 2 == 0:
            nyc = judge(db, n * 5 * MIN, ("nyc", [vpg(2, 6, 700)])).rows[0]
        else:
            judge(db, n * 5 * MIN, ("lon", [vpg(1, 0)]))
    assert nyc.severity is Severity.CRITICAL and nyc.timed.since == T0 and not nyc.timed.flapping


def test_a_site_whose_every_object_is_new_is_noted(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    judge(db, 0, ("nyc", [vpg(2, 6, 700)]))
    renamed = judge(db, 5 * MIN, ("new-york", [vpg(2, 6, 700)]))
    assert any("every object of site new-york (1) is new to it" in n and "renamed" in n for n in renamed.notes)
    assert not judge(db, 10 * MIN, ("new-york", [vpg(2, 6, 700)])).notes


def test_a_vm_protected_in_two_vpgs_is_two_objects(tmp_path: Path) -> None:
    db = tmp_path / "s.db"

    def vms(second: int) -> list[dict[str, Any]]:
        return [{"VmName": "db01", "VmIdentifier": "vm-1", "VpgName": "A", "VpgIdentifier": "a", "Status": 1,
                 "SubStatus": 0, "ActualRPO": 5},
                {"VmName": "db01", "VmIdentifier": "vm-1", "VpgName": "B", "VpgIdentifier": "b", "Status": second,
                 "SubStatus": 0, "ActualRPO": 5}]

    judge(db, 0, ("nyc", vms(2)))
    later = judge(db, 30 * MIN, ("nyc", vms(2)))
    assert [r.severity for r in later.rows] == [Severity.OK, Severity.CRITICAL] and not later.notes
    assert later.rows[1].timed.since == T0
    assert {t.vpg_name for t in state.history(str(db), "db01", None, T0 + 30 * MIN)} == {"A", "B"}


def test_keys_of_an_earlier_zvpg_migrate_with_a_note(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    old = state.Observed("\x1fvpg\x1fid-ERP", None, "vpg", "ERP", "ERP", "Not Meeting SLA / Delta Syncing", None)
    state.remember(str(db), [old], T0, HOUR)  # what zvpg 0.x wrote for a check reading one site
    r = judge(db, 20 * MIN, ("nyc", [vpg(2, 6, 700)]))
    assert r.rows[0].timed.since == T0 and r.rows[0].severity is Severity.CRITICAL
    assert any("now keyed by site" in n for n in r.notes)
    assert not judge(db, 21 * MIN, ("nyc", [vpg(2, 6, 700)])).notes  # one time


def test_identical_keys_in_one_run_are_reported_not_shared(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    twins = [vpg(2, 6, 700, name="a", ident="same"), vpg(2, 6, 700, name="b", ident="same")]
    r = judge(db, 0, (None, twins))
    assert [row.severity for row in r.rows] == [Severity.CRITICAL, Severity.CRITICAL]  # no grace
    assert any("given more than once" in n for n in r.notes)


# ---- a policy lowers a state, never a breach ---------------------------------------------

def _policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return str(path)


def test_a_policy_never_lowers_a_threshold_breach_nor_an_unknown_code(tmp_path: Path, run: Any) -> None:
    policy = _policy(tmp_path, '[[rule]]\nmatch = "Meeting SLA"\nseverity = "ok"\n')
    payload = parse(json.dumps([vpg(1, 0, 7200, name="X"), vpg(1, 99, name="Y"), vpg(1, 0, name="Z")]).encode())
    r = run_triage(load_kb(), [Read(payload)], Options(policy=policy, thresholds=Thresholds(
        None, parse_threshold("15m"))))
    assert [row.severity for row in r.rows] == [Severity.CRITICAL, Severity.WARNING, Severity.OK]
    p = run("triage", "--nagios", "--policy", policy, "--rpo-critical", "15m",
            input=json.dumps([vpg(1, 0, 7200, name="X")]))
    assert p.returncode == 2 and b"policy: severity ok not applied" in p.stdout


def test_an_override_that_lowers_is_named_in_nagios_and_json(tmp_path: Path, run: Any) -> None:
    policy = _policy(tmp_path, '[[rule]]\nmatch = "Initial Sync"\nseverity = "ok"\n')
    objs = json.dumps([vpg(0, 1)])
    p = run("triage", "--nagios", "--policy", policy, input=objs)
    assert p.returncode == 0 and re.search(rb"\nnote: the policy lowered 1 object \(first: ERP: severity ok "
                                           rb"instead of warning \(.*p.toml rule 1\)\)", p.stdout)
    data = json.loads(run("triage", "--json", "--policy", policy, input=objs).stdout)
    assert any(x.startswith("policy: severity ok instead of warning") for x in data["vpgs"][0]["reasons"])
    assert data["summary"]["notes"]


def test_policy_show_warns_about_a_policy_that_silences_every_state(tmp_path: Path, run: Any) -> None:
    kb = load_kb()
    policy = _policy(tmp_path, "".join(f'[[rule]]\nmatch = "{s.name}"\nseverity = "ok"\n\n' for s in kb.statuses))
    out = run("policy", "show", "--policy", policy).stdout.decode()
    assert out.startswith("Warning: this policy makes every state ok")
    assert json.loads(run("policy", "show", "--json", "--policy", policy).stdout)["silences_every_state"]
    assert not run("policy", "show").stdout.decode().startswith("Warning")


# ---- any failure of the state layer: the stateless verdict and a line --------------------

def _damage(db: Path, sql: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()


@pytest.mark.parametrize("sql", [
    "PRAGMA user_version = -1",
    "UPDATE objects SET since = 'yesterday'",
    "UPDATE states SET text = CAST(x'4eff' AS TEXT)",
], ids=["user_version -1", "text in a timestamp", "non-UTF-8 text"])
def test_a_damaged_state_file_gives_the_stateless_verdict_in_every_format(tmp_path: Path, run: Any, sql: str) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "p.json"
    payload.write_text(json.dumps([vpg(2, 6, 700)]))
    assert run("triage", str(payload), "--state", str(db), "--nagios").returncode == 1  # in its grace
    _damage(db, sql)
    p = run("triage", str(payload), "--state", str(db), "--nagios")
    assert p.returncode == 2 and check_nagios(p.stdout.decode())[0] == "CRITICAL"
    assert p.stdout.count(f"state file not used: cannot use state file {db}".encode()) == 1
    out = tmp_path / "out.prom"
    p = run("triage", str(payload), "--state", str(db), "-f", "prometheus", "-o", str(out))
    assert p.returncode == 0 and p.stderr.decode().count("\n") == 1 and str(db) in p.stderr.decode()
    check_prometheus(out.read_text(), 1)
    data = json.loads(run("triage", str(payload), "--state", str(db), "--json").stdout)
    assert data["summary"]["state_error"].startswith(f"cannot use state file {db}")
    h = run("history", "--state", str(db))
    assert h.returncode in (0, 2) and h.stderr.count(b"\n") <= 1 and b"Traceback" not in h.stderr


def test_a_non_utf8_byte_in_the_schema_gives_the_stateless_verdict(tmp_path: Path, run: Any) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "p.json"
    payload.write_text(json.dumps([vpg(2, 6, 700)]))
    run("triage", str(payload), "--state", str(db))
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = db.read_bytes()
    assert raw.count(b"CREATE TABLE meta (name") == 1
    db.write_bytes(raw.replace(b"CREATE TABLE meta (name", b"CREATE TABLE meta (n\xffme"))
    p = run("triage", str(payload), "--state", str(db), "--nagios")
    assert p.returncode == 2 and f"state file not used: cannot use state file {db}".encode() in p.stdout
    assert b"internal error" not in p.stdout
    h = run("history", "--state", str(db))
    assert h.returncode in (0, 2) and b"Traceback" not in h.stderr and h.stderr.count(b"\n") <= 1


@needs_faketime
def test_the_cli_with_a_clock_years_ahead_keeps_the_history(tmp_path: Path) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "p.json"
    for n in range(10):  # ten changes, an hour apart
        payload.write_text(json.dumps([vpg(1, 0) if n % 2 else vpg(2, 6, 700)]))
        cli_at(f"2026-06-01 {n:02d}:00:00", payload, db)
    payload.write_text(json.dumps([vpg(2, 13, 700)]))
    cli_at("2031-01-01 00:00:00", payload, db)
    h = subprocess.run(["faketime", "-f", "2026-06-01 12:00:00", sys.executable, "-m", "zvpg_cli", "history",
                        "--state", str(db), "--json"], capture_output=True, timeout=60)
    assert len(json.loads(h.stdout)) == 11


def test_any_exception_in_the_state_layer_is_a_line_not_an_internal_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise KeyError("surprise")

    monkeypatch.setattr(state, "_record", broken)
    r = judge(tmp_path / "s.db", 0, (None, [vpg(2, 6, 700)]))
    assert r.rows[0].severity is Severity.CRITICAL and "KeyError" in (r.state_error or "")


def test_an_emptied_or_vanished_state_file_is_noted(tmp_path: Path, run: Any) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "p.json"
    payload.write_text(json.dumps([vpg(2, 6, 700)]))
    assert not run("triage", str(payload), "--state", str(db)).stderr  # new: nothing to say
    db.write_bytes(b"")
    p = run("triage", str(payload), "--state", str(db), "--nagios")
    assert f"note: state file {db} was empty (0 bytes)".encode() in p.stdout
    for name in os.listdir(tmp_path):
        if name.startswith("s.db"):
            os.unlink(tmp_path / name)
    p = run("triage", str(payload), "--state", str(db))
    assert f"zvpg: note: state file {db} was there before and is gone".encode() in p.stderr


# ---- files ------------------------------------------------------------------------------------

def test_every_folder_created_for_the_state_is_private_even_under_umask_000(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "c" / "s.db"
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", "triage", "--state", str(db), "--nagios"],
                       input=json.dumps([vpg(1, 0)]).encode(), capture_output=True, timeout=60,
                       preexec_fn=lambda: os.umask(0))
    assert p.returncode == 0, p.stdout
    for folder in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder a second user can reach (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="zvpg-shared-"))
    os.chmod(folder, 0o1777)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv (util-linux) to act as a second user")
def test_a_state_file_planted_by_another_user_is_refused(shared_tmp: Path, run: Any) -> None:
    db = shared_tmp / "s.db"
    subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-c",
                    f"umask 000; : > '{db}'"], check=True, timeout=30)
    assert db.stat().st_uid != 0
    p = run("triage", "--state", str(db), "--nagios", input=json.dumps([vpg(2, 6, 700)]))
    assert p.returncode == 2  # stateless: critical at once
    assert f"cannot use state file {db}: not used: it is owned by another user".encode() in p.stdout
    assert db.stat().st_size == 0


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_state_file_or_folder_writable_by_others_is_refused(tmp_path: Path, run: Any, what: str) -> None:
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    db = folder / "s.db"
    run("triage", "--state", str(db), input=json.dumps([vpg(1, 0)]))
    os.chmod(db if what == "file" else folder, 0o666 if what == "file" else 0o777)
    p = run("triage", "--state", str(db), "--nagios", input=json.dumps([vpg(2, 6, 700)]))
    assert p.returncode == 2 and b"it is writable by group or others" in p.stdout


def test_a_state_path_a_thousand_folders_deep_is_one_line(tmp_path: Path, run: Any) -> None:
    deep = str(tmp_path) + "/d" * 1000 + "/s.db"
    p = run("triage", "--state", deep, "--nagios", input=json.dumps([vpg(2, 6, 700)]))
    assert p.returncode == 2 and b"RecursionError" not in p.stdout + p.stderr
    assert b"SQLite opens paths up to 512" in p.stdout and not p.stderr
    assert os.listdir(tmp_path) == []  # refused before making any folder
    h = run("history", "--state", deep)
    assert h.returncode == 2 and h.stderr.count(b"\n") == 1 and b"SQLite opens paths up to 512" in h.stderr


# ---- messages -----------------------------------------------------------------------------------

def test_history_reads_a_state_file_it_may_not_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    judge(db, 0, (None, [vpg(2, 6, 700)]))
    monkeypatch.setattr(state.os, "access", lambda *_: False)  # as for a user who may only read it
    assert [t.name for t in state.history(str(db), None, None, T0 + 60)] == ["ERP"]


def test_history_matches_names_not_internal_keys_and_escapes_json(tmp_path: Path, run: Any) -> None:
    db = tmp_path / "s.db"
    name = "evil\u202eton\u009b"
    run("triage", "--state", str(db), input=json.dumps([vpg(1, 0, name=name, ident="vpg-1")]))
    p = run("history", "vpg", "--state", str(db))
    assert p.returncode == 1 and b"nothing in" in p.stderr and p.stdout == b""
    out = run("history", "--state", str(db), "--json").stdout
    assert b"\\u202e" in out and b"\\u009b" in out and "\u202e".encode() not in out
    row = json.loads(out)[0]
    assert (row["identifier"], row["kind"], row["site"], row["name"]) == ("vpg-1", "vpg", None, name)


def test_policy_alone_shows_the_policy_and_fits_80_columns(run: Any) -> None:
    alone, show = run("policy"), run("policy", "show")
    assert alone.returncode == 0 and alone.stdout == show.stdout
    head = show.stdout.decode().splitlines()
    assert all(len(line) <= 80 for line in head if not line.startswith("  "))


def test_history_fits_80_columns(tmp_path: Path, run: Any) -> None:
    db = tmp_path / "s.db"
    long = [vpg(2, 13, 700, name="Backup-Proxy-01-with-a-very-long-name"), vpg(0, 3, name="short")]
    judge(db, 0, ("a-site-with-a-long-name.example.com:9669", long))
    judge(db, HOUR, ("a-site-with-a-long-name.example.com:9669", [vpg(1, 0, name=o["VpgName"]) for o in long]))
    out = run("history", "--state", str(db)).stdout.decode()
    assert out.count("\n") > 4 and all(len(line) <= 80 for line in out.splitlines())

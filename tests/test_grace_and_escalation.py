"""Quiet only with grounds, over time: grace counts from when an object left
ok, is only for states that are warnings on their own merits, never softens
a threshold the user set; flapping counts changes of severity; states in
which recovery is documented impossible escalate; a slow sync is not stuck.
Library runs at injected times, and the installed CLI on a clock moved by
libfaketime."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from formats import check_nagios

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import Severity
from zvpg_cli.sources.payload import parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage.report import Options
from zvpg_cli.triage.report import run as run_triage
from zvpg_cli.triage.rows import Thresholds, parse_threshold

T0 = 1_796_000_000.0
MIN = 60
HOUR = 3600
needs_faketime = pytest.mark.skipif(shutil.which("faketime") is None,
                                    reason="needs faketime (Debian package faketime)")


def vpg(status: int, sub: int, actual: float = 5, configured: float = 300, progress: float | None = None,
        name: str = "ERP", ident: str | None = None) -> dict[str, Any]:
    o: dict[str, Any] = {"VpgName": name, "VpgIdentifier": ident or f"id-{name}", "Status": status,
                         "SubStatus": sub, "ActualRPO": actual, "ConfiguredRpoSeconds": configured}
    if progress is not None:
        o["ProgressPercentage"] = progress
    return o


def at(db: Path, seconds: float, objs: list[dict[str, Any]], **options: Any) -> Any:
    payload = parse(json.dumps(objs).encode())
    return run_triage(load_kb(), [Read(payload)], Options(state=str(db), now=T0 + seconds, **options))


def one(db: Path, seconds: float, o: dict[str, Any], **options: Any) -> Any:
    return at(db, seconds, [o], **options).rows[0]


# ---- grace counts from leaving ok ------------------------------------------------------

def test_a_breach_whose_state_keeps_changing_escalates_on_time(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    rpo_none, delta = vpg(3, 0, 2000), vpg(2, 6, 2600)
    seen = [one(db, n * 15 * MIN, rpo_none if n % 2 == 0 else delta) for n in range(13)]  # three hours
    assert seen[0].severity is Severity.WARNING  # its first 15 minutes out of ok
    assert [r.severity for r in seen[1:]] == [Severity.CRITICAL] * 12
    last = seen[-1].timed
    assert last.age_seconds == 0 and last.since == T0 + 3 * HOUR  # since: the current state
    assert (last.out_of_ok_since, last.out_of_ok_seconds) == (T0, 3 * HOUR)


def test_grace_ends_when_the_object_went_back_to_ok_and_left_it_again(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    one(db, 0, vpg(3, 0, 2000))
    one(db, 10 * MIN, vpg(1, 0))  # ok again: the next breach gets its own grace
    again = one(db, 20 * MIN, vpg(3, 0, 2000))
    assert again.severity is Severity.WARNING and again.timed.out_of_ok_since == T0 + 20 * MIN
    assert one(db, 36 * MIN, vpg(3, 0, 2000)).severity is Severity.CRITICAL


def test_how_long_out_of_ok_is_said_in_json_and_nagios_text(tmp_path: Path, run: Any) -> None:
    db = tmp_path / "s.db"
    one(db, 0, vpg(3, 0, 2000))
    row = one(db, 10 * MIN, vpg(2, 6, 2600))
    assert row.severity is Severity.WARNING
    assert ("Not Meeting SLA / Delta Syncing for 0s, out of ok for 10m (critical after 15m out of ok)"
            in row.reasons)
    p = run("triage", "--json", "--state", str(tmp_path / "cli.db"), input=json.dumps([vpg(3, 0, 2000)]))
    data = json.loads(p.stdout)["vpgs"][0]
    assert data["out_of_ok_seconds"] is not None and data["out_of_ok_since"] == data["since"]
    assert data["age_seconds"] == data["out_of_ok_seconds"]


def test_a_state_file_of_schema_1_migrates_keeping_since(tmp_path: Path) -> None:
    from zvpg_cli.triage import state

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(state._SCHEMA_1 + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO states (id, text) VALUES (1, 'RPO Not Meeting SLA / none')")
    conn.execute("INSERT INTO objects (key, site, kind, name, vpg_name, state, since, last_seen) "
                 "VALUES ('\x1fvpg\x1fid-ERP', NULL, 'vpg', 'ERP', 'ERP', 1, ?, ?)", (T0, T0 + 60))
    conn.commit()
    conn.close()
    row = one(db, 20 * MIN, vpg(3, 0, 2000))
    assert row.severity is Severity.CRITICAL  # out of ok since the remembered since: 20 minutes
    assert (row.timed.since, row.timed.out_of_ok_since) == (T0, T0)
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == state.SCHEMA_VERSION


@needs_faketime
def test_the_cli_escalates_an_alternating_breach_on_a_moved_clock(tmp_path: Path) -> None:
    db, payload = tmp_path / "s.db", tmp_path / "vpgs.json"
    verdicts = []
    for n in range(13):  # every 15 minutes for three hours (a stopped clock: faketime -f)
        payload.write_text(json.dumps([vpg(3, 0, 2000) if n % 2 == 0 else vpg(2, 6, 2600)]))
        when = f"2026-06-01 {10 + n * 15 // 60:02d}:{n * 15 % 60:02d}:00"
        p = subprocess.run(["faketime", "-f", when, sys.executable, "-m", "zvpg_cli", "triage", str(payload),
                            "--state", str(db), "--nagios"], capture_output=True, timeout=60,
                           env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        verdicts.append(check_nagios(p.stdout.decode())[0])
        if n == 4:
            assert b"out of ok for 1h" in p.stdout, p.stdout
    assert verdicts == ["WARNING"] + ["CRITICAL"] * 12


# ---- grace only for warnings on their own merits --------------------------------------

@pytest.mark.parametrize("sub", [10, 8, 24, 32, 30, 5], ids=[
    "Site disconnection. No checkpoints", "Error", "Site disconnection", "VM not protected",
    "Recovery storage error", "Recovery is possible"])
def test_grace_never_demotes_a_substatus_critical_on_its_own(tmp_path: Path, sub: int) -> None:
    row = one(tmp_path / "s.db", 0, vpg(3, sub, 2000))
    assert row.severity is Severity.CRITICAL and row.timed.grace_until is None


def test_a_status_wide_grace_still_applies_to_none_and_to_a_sync(tmp_path: Path) -> None:
    rows = at(tmp_path / "s.db", 0, [vpg(3, 0, 2000, name="a"), vpg(3, 6, 2000, name="b"),
                                     vpg(3, 9, 2000, name="c")]).rows
    # none and Delta Syncing: a grace; VPG has no VMs (a warning, not a sync): none from the status rule
    assert [r.severity for r in rows] == [Severity.WARNING, Severity.WARNING, Severity.CRITICAL]


def test_grace_never_softens_a_threshold_the_user_set(tmp_path: Path) -> None:
    thresholds = Thresholds(None, parse_threshold("1h"))
    row = one(tmp_path / "s.db", 0, vpg(3, 0, 86400), thresholds=thresholds)
    assert row.severity is Severity.CRITICAL
    assert any("over the critical threshold" in r for r in row.reasons)


def test_grace_never_softens_a_severity_a_policy_sets(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[[rule]]\nmatch = "Not Meeting SLA / Delta Syncing"\nseverity = "critical"\n')
    row = one(tmp_path / "s.db", 0, vpg(2, 6, 700), policy=str(policy))
    assert row.severity is Severity.CRITICAL


# ---- flapping counts changes of severity -----------------------------------------------

def test_two_ok_states_in_turn_never_flap(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for n in range(14):  # Meeting SLA / none <-> Bitmap Syncing every 5 minutes
        row = one(db, n * 5 * MIN, vpg(1, 0 if n % 2 else 23))
    assert row.severity is Severity.OK and not row.timed.flapping


def test_changes_of_severity_do_flap(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for n in range(7):
        row = one(db, n * 5 * MIN, vpg(1, 0) if n % 2 == 0 else vpg(2, 6, 700))
    assert row.timed.flapping and row.severity is Severity.WARNING


# ---- long states escalate ----------------------------------------------------------------

def test_an_initial_sync_without_progress_pages_after_zvpgs_12_hours(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert one(db, 0, vpg(0, 1)).severity is Severity.WARNING
    assert one(db, 11 * HOUR, vpg(0, 1)).severity is Severity.WARNING
    row = one(db, 12 * HOUR, vpg(0, 1))
    assert row.severity is Severity.CRITICAL
    assert ("Initializing / Initial Sync for 12h (critical after 12h: the documentation says recovery is "
            "not possible in this state; zvpg's choice)") in row.reasons


def test_a_sync_that_reports_its_rising_progress_is_left_to_its_stuck_rule(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for hour in range(0, 30, 2):  # a large initial sync: 2 points every two hours, for 28 hours
        row = one(db, hour * HOUR, vpg(0, 1, progress=hour))
    assert row.severity is Severity.WARNING and not row.timed.stuck


def test_the_escalation_of_unrecoverable_states_is_overridable(tmp_path: Path) -> None:
    off, later = tmp_path / "off.toml", tmp_path / "later.toml"
    off.write_text('escalate_unrecoverable = "0s"\n')
    later.write_text('[[rule]]\nmatch = "Initial Sync"\nescalate_after = "2d"\n')
    for policy in (off, later):
        db = tmp_path / f"{policy.stem}.db"
        one(db, 0, vpg(0, 1), policy=str(policy))
        assert one(db, 13 * HOUR, vpg(0, 1), policy=str(policy)).severity is Severity.WARNING


def test_policy_show_labels_the_escalation_and_the_stuck_assumption(run: Any) -> None:
    out = run("policy", "show").stdout.decode()
    assert "becomes critical after 12h out of ok (zvpg's choice)" in " ".join(out.split())
    assert "6h assumes a sync gains at least 1 percentage point every 6h" in " ".join(out.split())
    data = json.loads(run("policy", "show", "--json").stdout)
    assert (data["escalate_unrecoverable"], data["escalate_unrecoverable_default"]) == (12 * HOUR, True)


# ---- stuck means no progress for long enough --------------------------------------------

def test_a_slowly_rising_initial_sync_is_not_stuck(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    for seconds, progress in ((0, 10), (HOUR, 10), (HOUR + 5 * MIN, 11)):
        row = one(db, seconds, vpg(0, 1, progress=progress))
        assert row.severity is Severity.WARNING and not row.timed.stuck, seconds
    assert one(db, 7 * HOUR + 6 * MIN, vpg(0, 1, progress=11)).timed.stuck  # six hours without a point

"""`zvpg triage --state/--policy`: the duration-aware verdicts through the
library (time injected) and through the installed CLI (time moved by
libfaketime, Debian's `faketime`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from formats import check_nagios, check_prometheus
from test_grace_and_escalation import vpg

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import Severity
from zvpg_cli.sources.payload import parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage.report import Options
from zvpg_cli.triage.report import run as run_triage

T0 = 1_796_000_000.0


def obj(name: str, status: int, sub: int, progress: float | None = None, ident: str | None = None) -> dict[str, Any]:
    return vpg(status, sub, 700, progress=progress, name=name, ident=ident)


def at(path: Path, seconds: float, objs: list[dict[str, Any]], **options: Any) -> Any:
    payload = parse(json.dumps(objs).encode())
    return run_triage(load_kb(), [Read(payload)], Options(state=str(path), now=T0 + seconds, **options))


def test_a_delta_sync_does_not_page_in_its_grace_and_does_after(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    delta = [obj("ERP", 2, 6, progress=10)]
    first = at(db, 0, delta).rows[0]
    assert first.severity is Severity.WARNING  # critical, one level lower in its first 15 minutes
    assert "Not Meeting SLA / Delta Syncing for 0s (critical after 15m)" in first.reasons
    four = at(db, 240, [obj("ERP", 2, 6, progress=30)]).rows[0]
    assert four.severity is Severity.WARNING and four.timed.age_seconds == 240
    later = at(db, 16 * 60, [obj("ERP", 2, 6, progress=50)]).rows[0]
    assert later.severity is Severity.CRITICAL and later.timed.grace_until == T0 + 900


def test_a_stuck_initial_sync_pages_and_a_progressing_one_does_not(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    at(db, 0, [obj("New", 0, 1, progress=42), obj("Moving", 0, 1, progress=10)])
    r = at(db, 6 * 3600 + 120, [obj("New", 0, 1, progress=42), obj("Moving", 0, 1, progress=80)])
    by = {row.name: row for row in r.rows}
    assert by["New"].severity is Severity.CRITICAL and by["New"].timed.stuck
    assert "Initial Sync stuck at 42% for 6h 2m" in by["New"].reasons
    assert by["Moving"].severity is Severity.WARNING and not by["Moving"].timed.stuck


def test_flapping_makes_an_ok_vpg_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    for i in range(7):  # ok, critical, ok, ...: six changes of severity within the hour
        r = at(db, i * 300, [{**obj("Flappy", 1, 0), "ActualRPO": 5} if i % 2 == 0 else obj("Flappy", 2, 6)])
    row = r.rows[0]
    assert row.severity is Severity.WARNING and row.timed.flapping
    assert any(x.startswith("flapping: 6 changes of severity") for x in row.reasons)


def test_a_policy_overrides_severity_without_state(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rule]]\nmatch = "Initial Sync"\nvpg = "dev-*"\nseverity = "ok"\n')
    objs = json.dumps([obj("dev-1", 0, 1), obj("prod-1", 0, 1)])
    payload = parse(objs.encode())
    r = run_triage(load_kb(), [Read(payload)], Options(policy=str(policy)))
    assert [row.severity for row in r.rows] == [Severity.OK, Severity.WARNING]
    assert r.rows[0].timed is None  # no state file: nothing about time


def test_a_damaged_state_file_never_silences_a_check(run: Any, tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    db.write_bytes(b"not a database at all" * 100)
    before = db.read_bytes()
    objs = json.dumps([obj("ERP", 2, 6)])
    p = run("triage", "--nagios", "--state", str(db), input=objs)
    assert p.returncode == 2  # as without state: critical, no grace from a file zvpg cannot read
    state, _ = check_nagios(p.stdout.decode())
    assert state == "CRITICAL" and f"state file not used: cannot use state file {db}".encode() in p.stdout
    assert db.read_bytes() == before
    data = json.loads(run("triage", "--json", "--state", str(db), input=objs).stdout)
    assert data["summary"]["state_error"].startswith(f"cannot use state file {db}")


def test_a_bad_policy_is_unknown_naming_file_rule_and_key(run: Any, tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[[rule]]\nmatch = "Delta Syncing"\ngracee = "5m"\n')
    p = run("triage", "--nagios", "--policy", str(policy), input=json.dumps([obj("a", 1, 0)]))
    assert p.returncode == 3 and b"rule 1" in p.stdout and b"gracee" in p.stdout


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime (Debian package: faketime)")
def test_the_installed_cli_remembers_across_runs_on_a_moved_clock(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    db = tmp_path / "state" / "zvpg.db"
    payload = tmp_path / "vpgs.json"
    payload.write_text(json.dumps([obj("ERP", 2, 6, progress=10), obj("Web", 1, 0)]))

    def zvpg(when: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["faketime", when, sys.executable, "-m", "zvpg_cli", "triage", str(payload),
                               "--state", str(db), *args], capture_output=True, timeout=60,
                              env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"})

    first = zvpg("2026-12-04 10:00:00", "--nagios")
    assert first.returncode == 1 and b"(critical after 15m)" in first.stdout
    assert (db.stat().st_mode & 0o777, db.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    later = zvpg("2026-12-04 10:20:00", "--nagios")
    import re

    # (the faked clock runs on from the time given: a second may pass between the runs' starts)
    assert later.returncode == 2 and re.search(rb"Delta Syncing for (19m 5\ds|20m)", later.stdout)
    fam = check_prometheus(zvpg("2026-12-04 10:20:00", "-f", "prometheus").stdout.decode(), 2)
    ages = {s.labels["vpg"]: s.value for s in fam["zvpg_vpg_state_age_seconds"].samples}
    assert set(ages) == {"ERP", "Web"} and all(1195 <= age <= 1205 for age in ages.values())

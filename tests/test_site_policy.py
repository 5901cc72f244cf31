"""The policy and the state file for the findings of site health (alerts, VRAs,
peer sites, failover tests): rules by kind and code, test_max_age, grace,
flapping and history of findings, old state files, a state file that cannot be
used. Through the library (time injected; the parts read as `sources.shape`
recognises them) and through the installed CLI (time moved by libfaketime)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import run_zvpg
from fakezvm import EXAMPLE_ALERTS, EXAMPLE_VPG, EXAMPLE_VRAS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_schemas import validator

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import Severity
from zvpg_cli.sources.read import Read
from zvpg_cli.sources.shape import parse_any
from zvpg_cli.triage import state
from zvpg_cli.triage.policy import PolicyError, load_policy
from zvpg_cli.triage.report import Options, run

T0 = 1_796_000_000.0  # 2026-11-30 (UTC)
MIN = 60
VPG_ID = EXAMPLE_VPG["VpgIdentifier"]
needs_faketime = pytest.mark.skipif(shutil.which("faketime") is None,
                                    reason="needs faketime (Debian package: faketime)")


def vpg(last_test: str | None = "2026-11-01T00:00:00Z") -> dict[str, Any]:
    """A VPG meeting its SLA, last tested a month before T0."""
    return {**copy.deepcopy(EXAMPLE_VPG), "LastTest": last_test, "Status": 1, "SubStatus": 0}


def alert(code: str, level: str = "Error", link: str = "alert-1", vpgs: tuple[str, ...] = ()) -> dict[str, Any]:
    a = copy.deepcopy(EXAMPLE_ALERTS[1])  # from the peer site WCHL - CA
    a.update({"HelpIdentifier": code, "Level": level, "IsDismissed": False, "Description": code,
              "Link": {**a["Link"], "identifier": link},
              "AffectedVpgs": [{"identifier": v, "type": "VpgApi"} for v in vpgs]})
    return a


def vra(status: int) -> dict[str, Any]:
    return {**copy.deepcopy(EXAMPLE_VRAS[0]), "Status": status,
            "ProtectedCounters": {"Vms": 2, "Volumes": 4, "Vpgs": 1}}


def reads(vpgs: list[dict[str, Any]], **parts: list[dict[str, Any]]) -> list[Read]:
    out = []
    for name, objs in {"vpgs": vpgs, **parts}.items():
        part, payload = parse_any(json.dumps(objs).encode(), name)
        assert part == name
        out.append(Read(payload, part=part))
    return out


def triage(tmp_path: Path, seconds: float, policy: str | None = None, *, stateful: bool = True,
           vpgs: list[dict[str, Any]] | None = None, **parts: list[dict[str, Any]]) -> Any:
    path = None
    if policy is not None:
        path = tmp_path / "policy.toml"
        path.write_text(policy)
    return run(load_kb(), reads([vpg()] if vpgs is None else vpgs, **parts),
               Options(state=str(tmp_path / "state.db") if stateful else None,
                       policy=None if path is None else str(path), now=T0 + seconds))


def finding(report: Any, kind: str) -> Any:
    (found,) = [f for f in report.findings if f.kind == kind]
    return found


GRACE = '[[rule]]\nkind = "alert"\ncode = "zvm0003"\ngrace = "10m"\n'


def test_a_lost_peer_connection_pages_only_after_its_grace_and_again_after_it_returns(tmp_path: Path) -> None:
    lost = [alert("ZVM0003")]
    first = triage(tmp_path, 0, GRACE, alerts=lost)
    assert first.summary.state is Severity.WARNING  # critical, one level lower for its first 10 minutes
    assert finding(first, "alert").severity is Severity.WARNING
    assert "No connection to site (Error) for 0s (critical after 10m)" in finding(first, "alert").reasons
    assert triage(tmp_path, 5 * MIN, GRACE, alerts=lost).summary.state is Severity.WARNING
    later = finding(triage(tmp_path, 11 * MIN, GRACE, alerts=lost), "alert")
    assert later.severity is Severity.CRITICAL and later.timed.age_seconds == 11 * MIN
    assert triage(tmp_path, 12 * MIN, GRACE, alerts=[]).summary.state is Severity.OK  # cleared
    back = finding(triage(tmp_path, 13 * MIN, GRACE, alerts=[alert("ZVM0003", link="alert-2")]), "alert")
    assert back.severity is Severity.WARNING and back.timed.out_of_ok_seconds == 0  # its grace starts again
    states = [(t.from_state, t.to_state) for t in state.history(str(tmp_path / "state.db"), None, None, T0 + 14 * MIN,
                                                                 ("alert",))]
    lost_state = "No connection to site (Error)"
    assert states == [(state.CLEARED, lost_state), (lost_state, state.CLEARED), (None, lost_state)]


def test_an_alert_that_keeps_coming_back_is_flapping(tmp_path: Path) -> None:
    for n in range(7):  # raised, cleared, raised, ...: six changes of severity within the hour
        report = triage(tmp_path, n * 5 * MIN, alerts=[alert("ZVM0003", link=f"a-{n}")] if n % 2 == 0 else [])
    found = finding(report, "alert")
    assert found.timed.flapping and "flapping: 6 changes of severity in 1h" in found.reasons


def test_an_unread_alerts_part_is_not_a_cleared_alert(tmp_path: Path) -> None:
    triage(tmp_path, 0, GRACE, alerts=[alert("ZVM0003")])
    triage(tmp_path, 5 * MIN)  # the alerts were not read: the alert is not known to have cleared
    assert finding(triage(tmp_path, 11 * MIN, GRACE, alerts=[alert("ZVM0003")]), "alert").severity is Severity.CRITICAL


def test_licence_notices_are_shown_never_raised_unless_a_rule_says_so(tmp_path: Path) -> None:
    notice = [alert("LIC0001", "Warning")]
    quiet = triage(tmp_path, 0, "", stateful=False, alerts=notice)
    assert finding(quiet, "alert").severity is Severity.OK and quiet.summary.state is Severity.OK
    raised = triage(tmp_path, 0, '[[rule]]\nkind = "alert"\ncode = "lic*"\nseverity = "warning"\n', stateful=False,
                    alerts=notice)
    assert raised.summary.state is Severity.WARNING
    assert f"policy: severity warning instead of ok ({tmp_path / 'policy.toml'} rule 1)" in \
        finding(raised, "alert").reasons


def test_a_rule_never_lowers_an_unknown_alert_code_below_warning(tmp_path: Path) -> None:
    rule = '[[rule]]\nkind = "alert"\ncode = "{}"\nseverity = "ok"\n'
    unknown = triage(tmp_path, 0, rule.format("XYZ*"), alerts=[alert("XYZ0042")])
    assert finding(unknown, "alert").severity is Severity.WARNING
    known = triage(tmp_path, 0, rule.format("VRA0028"), alerts=[alert("VRA0028")])
    assert finding(known, "alert").severity is Severity.OK
    assert any(n.startswith("the policy lowered 1 object (first: alert VRA0028") for n in known.notes)


def test_an_alert_the_policy_lowers_no_longer_raises_the_vpgs_it_names(tmp_path: Path) -> None:
    named = [alert("VRA0028", vpgs=(VPG_ID,))]
    assert triage(tmp_path, 0, stateful=False, alerts=named).rows[0].severity is Severity.CRITICAL
    lowered = triage(tmp_path, 0, '[[rule]]\nkind = "alert"\ncode = "VRA0028"\nseverity = "warning"\n',
                     stateful=False, alerts=named)
    assert lowered.rows[0].severity is Severity.WARNING and lowered.summary.state is Severity.WARNING


@pytest.mark.parametrize("code", ["5", "installationerror", "Install*Error"])
def test_a_vra_rule_names_the_status_by_number_name_or_glob(tmp_path: Path, code: str) -> None:
    rule = f'[[rule]]\nkind = "vra"\ncode = "{code}"\nseverity = "warning"\n'
    assert finding(triage(tmp_path, 0, rule, stateful=False, vras=[vra(5)]), "vra").severity is Severity.WARNING
    elsewhere = rule + 'site = "lab*"\n'  # a file has no site: the rule does not apply
    assert finding(triage(tmp_path, 0, elsewhere, stateful=False, vras=[vra(5)]), "vra").severity is Severity.CRITICAL


def test_a_vra_finding_has_a_history(tmp_path: Path) -> None:
    triage(tmp_path, 0, vras=[vra(5)])
    triage(tmp_path, 60 * MIN, vras=[vra(0)])
    db = str(tmp_path / "state.db")
    p = run_zvpg("history", "--state", db, "--kind", "vra", "--json")
    shown = json.loads(p.stdout)
    validator("history.schema.json").validate(shown)
    assert [(t["kind"], t["from"], t["to"], t["current"]) for t in shown] == [
        ("vra", "InstallationError (Status 5)", "Installed (Status 0)", True),
        ("vra", None, "InstallationError (Status 5)", False)]
    assert shown[1]["lasted_seconds"] == 3600 and shown[0]["identifier"] == EXAMPLE_VRAS[0]["VraIdentifierStr"]
    table = run_zvpg("history", "Z-VRA", "--state", db).stdout.decode()
    assert "OBJECT" in table and "VRA Z-VRA-ncesx2.nc.lab" in table and "Installed (Status 0)" in table
    nothing = run_zvpg("history", "--state", db, "--kind", "peer")
    assert nothing.returncode == 1 and b"--kind peer" in nothing.stderr


def test_state_files_written_before_findings_keep_their_vpgs(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    conn = sqlite3.connect(db)  # a file of schema 1 (zvpg before severities), a VPG since an hour
    conn.executescript(state._SCHEMA_1)
    conn.execute("INSERT INTO states (id, text) VALUES (1, 'Meeting SLA / none')")
    conn.execute("INSERT INTO objects (key, kind, name, vpg_name, state, since, last_seen) VALUES (?, 'vpg', ?, ?, 1, "
                 "?, ?)", (f"\x1fvpg\x1f{VPG_ID}", EXAMPLE_VPG["VpgName"], EXAMPLE_VPG["VpgName"], T0 - 3600, T0 - 60))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    report = triage(tmp_path, 0, vras=[vra(5)])
    assert report.state_error is None and report.rows[0].timed.since == T0 - 3600
    assert finding(report, "vra").timed.since == T0 and finding(report, "test").timed.since == T0
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == state.SCHEMA_VERSION
        assert sorted(k for (k,) in conn.execute("SELECT kind FROM objects")) == ["test", "vpg", "vra"]


def test_a_state_file_that_cannot_be_used_never_silences_a_finding(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "state.db"
    db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)  # damaged
    damaged = triage(tmp_path, 0, GRACE, alerts=[alert("ZVM0003")])
    assert damaged.state_error and str(db) in damaged.state_error
    assert damaged.summary.state is Severity.CRITICAL and finding(damaged, "alert").timed is None
    db.unlink()
    triage(tmp_path, 0, GRACE, alerts=[alert("ZVM0003")])
    monkeypatch.setattr(state, "BUSY_TIMEOUT", 0.05)
    with sqlite3.connect(db, isolation_level=None) as other:
        other.execute("BEGIN EXCLUSIVE")  # another run holds it
        locked = triage(tmp_path, 20 * MIN, GRACE, alerts=[alert("ZVM0003")], vras=[vra(5)])
        other.execute("ROLLBACK")
    assert locked.state_error and "locked" in locked.state_error
    assert finding(locked, "vra").severity is Severity.CRITICAL and locked.summary.state is Severity.CRITICAL


def _faked(when: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["faketime", when, sys.executable, "-m", "zvpg_cli", *args], capture_output=True,
                          timeout=60, cwd=cwd, env={**os.environ, "TZ": "UTC", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})


@needs_faketime
def test_test_max_age_is_180_days_by_default_and_the_policy_sets_or_turns_it_off(tmp_path: Path) -> None:
    (tmp_path / "vpgs.json").write_text(json.dumps([vpg("2029-06-15T00:00:00Z")]))  # 200 days before 2030
    for policy, code in (None, 1), ('test_max_age = "off"', 0), ('test_max_age = "0s"', 0), \
                        ('test_max_age = "365d"', 0), ('test_max_age = "90d"', 1):
        given = []
        if policy is not None:
            (tmp_path / "policy.toml").write_text(policy + "\n")
            given = ["--policy", "policy.toml"]
        p = _faked("2030-01-01 00:00:00", "triage", "vpgs.json", "--nagios", *given, cwd=tmp_path)
        assert p.returncode == code, (policy, p.stdout)
    (tmp_path / "vpgs.json").write_text(json.dumps([vpg(None)]))  # never tested
    assert _faked("2030-01-01 00:00:00", "triage", "vpgs.json", "--nagios", cwd=tmp_path).returncode == 1
    assert _faked("2030-01-01 00:00:00", "triage", "vpgs.json", "--nagios", "--policy", "policy.toml",
                  cwd=tmp_path).returncode == 1  # (90d)
    (tmp_path / "policy.toml").write_text('test_max_age = "off"\n')
    assert _faked("2030-01-01 00:00:00", "triage", "vpgs.json", "--nagios", "--policy", "policy.toml",
                  cwd=tmp_path).returncode == 0


@needs_faketime
def test_a_test_rule_grace_and_the_tests_history_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "vpgs.json").write_text(json.dumps([vpg("2029-06-15T00:00:00Z")]))
    (tmp_path / "policy.toml").write_text('[[rule]]\nkind = "test"\nvpg = "exch*"\ngrace = "1d"\n')
    args = ("triage", "vpgs.json", "--nagios", "--state", "s.db", "--policy", "policy.toml")
    assert _faked("2030-01-01 00:00:00", *args, cwd=tmp_path).returncode == 0  # overdue, within its day
    assert _faked("2030-01-02 00:01:00", *args, cwd=tmp_path).returncode == 1
    shown = _faked("2030-01-02 00:02:00", "history", "--state", "s.db", "--kind", "test", "--json", cwd=tmp_path)
    assert [(t["name"], t["vpg"], t["from"], t["to"], t["identifier"]) for t in json.loads(shown.stdout)] == [
        (f"failover test of VPG {EXAMPLE_VPG['VpgName']}", EXAMPLE_VPG["VpgName"], None,
         "test overdue", VPG_ID)]


def test_policy_show_says_whose_choice_test_max_age_and_the_rules_for_findings_are(tmp_path: Path) -> None:
    shown = run_zvpg("policy", "show").stdout.decode()
    assert "a VPG last tested more than 180d ago, or never, is a warning" in " ".join(shown.split())
    assert "(test_max_age: zvpg's choice, the Zabbix template's 6 months)" in " ".join(shown.split())
    assert "LIC* and ZVM0006 (licence and upgrade notices) are shown, never raised (zvpg's choice)" \
        in " ".join(shown.split())
    path = tmp_path / "p.toml"
    path.write_text('test_max_age = "off"\n[[rule]]\nkind = "alert"\ncode = "LIC*"\nseverity = "warning"\n'
                    '[[rule]]\nkind = "peer"\ncode = "Unpaired"\ngrace = "30m"\nsite = "lab*"\n')
    mine = run_zvpg("policy", "show", "--policy", str(path)).stdout.decode()
    assert f"their age is not judged (test_max_age off: set by {path})" in mine
    assert f"  alert LIC*: severity warning  [{path} rule 1]" in mine
    assert f"  peer Unpaired site 'lab*': grace 30m  [{path} rule 2]" in mine
    data = json.loads(run_zvpg("policy", "show", "--policy", str(path), "--json").stdout)
    validator("policy.schema.json").validate(data)
    assert (data["test_max_age"], data["test_max_age_default"], data["never_raised"]) == (None, False,
                                                                                         ["LIC*", "ZVM0006"])
    assert [(r["kind"], r["code"], r["default"]) for r in data["rules"][:2]] == [("alert", "LIC*", False),
                                                                                ("peer", "Unpaired", False)]
    defaults = json.loads(run_zvpg("policy", "show", "--json").stdout)
    assert (defaults["test_max_age"], defaults["test_max_age_default"]) == (180 * 86400, True)


@pytest.mark.parametrize(("rule", "error"), [
    ('kind = "alerts"\nseverity = "ok"', "rule 1: kind must be one of alert, vra, peer, test, not 'alerts'"),
    ('kind = "vra"\ncode = "Broken"\nseverity = "ok"', "rule 1: code: no VRA Status 'Broken' (a number, a glob"),
    ('kind = "peer"\ncode = "Unpairing"\nseverity = "ok"', "rule 1: code: no PairingStatus 'Unpairing'"),
    ('kind = "alert"\nmatch = "Delta Syncing"\ngrace = "1m"', "rule 1: match is for VPG states"),
    ('kind = "alert"\nstuck_after = "1h"', "rule 1: stuck_after is for syncs with a progress"),
    ('code = "LIC*"\nmatch = "Delta Syncing"\nseverity = "ok"', "rule 1: code needs a kind"),
    ('kind = "vra"\nvpg = "erp"\nseverity = "ok"', "rule 1: vpg is for kind = \"test\""),
    ('kind = "test"\ncode = "x"\nseverity = "ok"', "rule 1: code is not for kind = \"test\""),
    ('kind = "peer"\ncode = "2"', "rule 1: sets nothing (give severity, grace or escalate_after)"),
    ('kind = "alert"\ncode = ""\nseverity = "ok"', "rule 1: code must be a non-empty string"),
])
def test_a_wrong_rule_for_findings_is_one_line_naming_the_file_the_rule_and_the_key(
        tmp_path: Path, rule: str, error: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f"[[rule]]\n{rule}\n")
    p = run_zvpg("policy", "show", "--policy", str(path))
    err = p.stderr.decode()
    assert p.returncode == 2 and err.count("\n") == 1 and err.startswith(f"zvpg: {path}: {error}"), err
    check = run_zvpg("triage", "--nagios", "--policy", str(path), input=json.dumps([vpg()]))
    assert check.returncode == 3 and check.stdout.decode().startswith(f"ZVPG UNKNOWN - {path}: {error}")


def test_a_wrong_test_max_age_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "age.toml"
    path.write_text('test_max_age = "soon"\n')
    p = run_zvpg("policy", "show", "--policy", str(path))
    assert p.returncode == 2 and p.stderr.decode().startswith(f"zvpg: {path}: test_max_age (or \"off\"): 'soon'")


def test_the_policies_docs_show_for_findings_are_policies_zvpg_accepts(tmp_path: Path) -> None:
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "monitoring.md").read_text(encoding="utf-8")
    shown = [b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "kind =" in b]
    assert shown
    for n, block in enumerate(shown):
        path = tmp_path / f"{n}.toml"
        path.write_text(block)
        assert any(r.kind for r in load_policy(load_kb(), str(path)).rules)


_FINDING_KEYS = st.sampled_from(["kind", "code", "vpg", "site", "severity", "grace", "escalate_after", "stuck_after",
                                 "match", "why"])
_FINDING_VALUES = st.one_of(
    st.text(max_size=12), st.integers(), st.booleans(),
    st.sampled_from(["alert", "vra", "peer", "test", "ALERT", " vra ", "LIC*", "VPG001?", "[", "5", "Unpaired",
                     "installationerror", "ok", "warning", "10m", "0s", "off", "Delta Syncing"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(_FINDING_KEYS, _FINDING_VALUES, max_size=5), max_size=3),
       st.one_of(st.none(), _FINDING_VALUES))
def test_any_rule_for_findings_loads_and_judges_or_fails_in_one_line(tmp_path: Path, rules: list[dict[str, Any]],
                                                                     max_age: Any) -> None:
    lines = [] if max_age is None else [f"test_max_age = {json.dumps(max_age)}"]
    for rule in rules:
        lines += ["[[rule]]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in rule.items())]
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(lines) + "\n")
    try:
        policy = load_policy(load_kb(), str(path))
    except PolicyError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert policy.test_max_age is None or policy.test_max_age > 0
    for kind, codes in (("alert", ("LIC0001",)), ("vra", ("5", "InstallationError")), ("peer", ("2", "Unpaired")),
                        ("test", ())):
        timing = policy.finding_timing(kind, codes, "ERP", "lab-1")
        assert timing.stuck_after is None

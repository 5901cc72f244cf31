"""Answers an on-call operator can act on (issue 10): the pair verdict said
once, failover answers with their conditions and their basis, listed-ness via
another status's list, empty results, and no silent wait on a terminal."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

ENV80 = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}


def test_decode_says_the_verdict_once(cli: Any) -> None:
    out = cli("decode", "2", "6", env=ENV80).stdout
    assert out.splitlines()[0].startswith("Not Meeting SLA / Delta Syncing  status 2 · substatus 6")
    assert "decoded" not in out.splitlines()[0]
    assert out.count("Failover possible?") == 1 and out.count("New checkpoints?") == 1
    assert "critical, from the status" in " ".join(out.split())
    assert "At a glance" not in out and "\nKind " not in out


def test_no_substatus_is_called_none_everywhere(cli: Any, run: Any) -> None:
    assert cli("decode", "1", "0", env=ENV80).stdout.startswith("Meeting SLA / none")
    nagios = run("triage", "--nagios", input='[{"VpgName": "a", "Status": 1, "SubStatus": 2}]').stdout.decode()
    assert "Meeting SLA / Creating VPG" in nagios


def test_failover_condition_is_carried_everywhere(cli: Any, run: Any) -> None:
    condition = "assuming there are valid checkpoints in the journal"
    assert condition in " ".join(cli("decode", "2", "6", env=ENV80).stdout.split())
    assert json.loads(cli("decode", "2", "6", "--json").stdout)["recovery_condition"] == condition
    assert condition in " ".join(cli("explain", "Delta Syncing", env=ENV80).stdout.split())
    assert json.loads(cli("explain", "Delta Syncing", "--json").stdout)["recovery_condition"] == condition
    payload = '[{"VpgName": "a", "VpgIdentifier": "1", "Status": 2, "SubStatus": 6}]'
    assert condition in run("triage", "--nagios", input=payload).stdout.decode()
    assert condition in " ".join(run("triage", input=payload, env={"COLUMNS": "200"}).stdout.decode().split())
    assert json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"][0][
        "recovery_condition"] == condition
    assert json.loads(run("annotate", input=payload).stdout)[0]["zvpg"]["recovery_condition"] == condition


#: RPO numbers that show the RPO SLA met: the evidence zvpg's inferred failover needs.
MET = {"ActualRPO": 5, "ConfiguredRpoSeconds": 300}


def test_a_healthy_vpg_is_not_worse_than_a_damaged_one(run: Any) -> None:
    payload = json.dumps([
        {"VpgName": "healthy", "VpgIdentifier": "1", "Status": 1, "SubStatus": 0, **MET},
        {"VpgName": "azure", "VpgIdentifier": "2", "Status": 1, "SubStatus": 23, **MET},
        {"VpgName": "history", "VpgIdentifier": "3", "Status": 4, "SubStatus": 0, **MET},
        {"VpgName": "delta", "VpgIdentifier": "4", "Status": 2, "SubStatus": 6},
        {"VpgName": "full", "VpgIdentifier": "5", "Status": 2, "SubStatus": 11},
        {"VpgName": "rpo", "VpgIdentifier": "6", "Status": 3, "SubStatus": 0},
        {"VpgName": "new", "VpgIdentifier": "7", "Status": 1, "SubStatus": 36, **MET}])
    fams = {f.name: f for f in text_string_to_metric_families(
        run("triage", "--format", "prometheus", input=payload).stdout.decode())}
    gauge = {s.labels["vpg"]: s.value for s in fams["zvpg_vpg_failover_possible"].samples}
    assert gauge == {"healthy": 1, "azure": 1, "history": 1, "delta": 1, "full": 0, "rpo": -1, "new": -1}
    vpgs = json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"]
    basis = {v["name"]: (v["failover_possible"], v["failover_basis"]) for v in vpgs}
    assert basis["healthy"] == (True, "inferred") and basis["delta"] == (True, "documented")
    assert basis["full"] == (False, "documented") and basis["new"] == (None, None)
    table = run("annotate", "--format", "table", input=payload, env={"COLUMNS": "200"}).stdout.decode()
    assert "expected (zvpg's inference)" in table


def test_the_entrys_documented_recovery_stays_null(cli: Any) -> None:
    entry = json.loads(cli("explain", "Bitmap Syncing", "--json").stdout)
    assert entry["recovery"] is None


def test_listed_via_another_status(cli: Any) -> None:
    data = json.loads(cli("decode", "4", "12", "--json").stdout)
    assert data["listed"] is True and data["listed_via"] == "Not Meeting SLA"
    out = " ".join(cli("decode", "4", "12", env=ENV80).stdout.split())
    assert "yes, via Not Meeting SLA" in out and "lists it under this status" not in out
    rpo = " ".join(cli("explain", "RPO Not Meeting SLA", env=ENV80).stdout.split())
    assert "the documentation's table cell: \"See Not Meeting SLA, above.\"" in rpo


def test_unknown_code_json_and_analytics_hint(cli: Any) -> None:
    r = cli("decode", "9", "--json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["status"]["known"] is False and data["status"]["name"] is None and data["status"]["code"] == 9
    assert "Zerto Analytics uses 9 for Inactive" in r.stderr
    r = cli("decode", "1", "99", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["substatus"]["known"] is False
    assert "zvpg list)" in cli("decode", "99").stderr and "--json" not in cli("decode", "99").stderr


@pytest.mark.parametrize("args", [("list", "--search", "zzzz"), ("list", "--kind", "status", "--recovery", "possible")])
def test_empty_results_say_so(cli: Any, args: tuple[str, ...]) -> None:
    r = cli(*args)
    assert r.exit_code == 1 and r.stdout == "" and "no entries match" in r.stderr


def test_list_titles_and_columns(cli: Any) -> None:
    out = cli("list", "--kind", "status", env={"COLUMNS": "120"}).stdout
    assert out.startswith("Zerto VPG statuses\n") and "API name" in out
    assert "Error Error" not in cli("list", env={"COLUMNS": "120"}).stdout
    narrow = cli("list", env=ENV80).stdout
    assert "8 Error · API Error" in narrow and "Error Error" not in narrow


def test_backup_says_the_status_decides(cli: Any) -> None:
    assert "none of its own; the status decides" in " ".join(cli("explain", "Backup", env=ENV80).stdout.split())


def test_triage_counts_are_grammatical(run: Any) -> None:
    out = run("triage", input='[{"VpgName": "a", "Status": 1, "SubStatus": 0}]').stdout.decode()
    assert out.startswith("Triage: 1 VPG ")


def test_missing_file_is_named_once(run: Any) -> None:
    err = run("triage", "no-such.json").stderr.decode()
    assert err.count("no-such.json") == 1 and err.count("\n") == 1


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize("command", ["triage", "annotate"])
def test_no_silent_wait_on_a_terminal(command: str) -> None:
    import pty

    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "zvpg_cli", command], stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while b"standard input" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            seen += os.read(master, 4096)
    os.write(master, b"\x04")  # Ctrl-D: end of input
    p.wait(timeout=30)
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                break
            seen += os.read(master, 4096)
    except OSError:
        pass
    os.close(master)
    assert b"reading a JSON payload from standard input" in seen and b"Ctrl-D" in seen
    assert p.returncode == 2 and b"input is empty" in seen

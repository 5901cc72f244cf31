"""`zvpg explain` takes back every state zvpg prints (triage's table, JSON and
Nagios lines, the alert annotations): `RPO Not Meeting SLA / none`, `12
(unknown) / none`, and a pair of API codes as `2 23`. Through the installed CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.knowledge.lookup import Side, api_values

ROOT = Path(__file__).resolve().parent.parent
ZVPG = [sys.executable, "-m", "zvpg_cli"]


def zvpg(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ZVPG_DATA")}
    return subprocess.run([*ZVPG, *args], capture_output=True, text=True, encoding="utf-8", timeout=60, cwd=ROOT,
                          env={**env, "COLUMNS": "80", "NO_COLOR": "1"})


STATES = [(1, 0), (1, 23), (2, 6), (3, 0), (4, 0), (0, 20), (6, 0), (2, 28), (2, 99), (12, 0), (12, 6)]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bool]]:
    """(state as triage prints it, whether both codes are known) for a fleet in every kind of state."""
    payload = tmp_path_factory.mktemp("fleet") / "vpgs.json"
    payload.write_text(json.dumps([{"VpgName": f"v{i}", "Status": s, "SubStatus": sub, "ActualRPO": 1,
                                    "ConfiguredRpoSeconds": 300} for i, (s, sub) in enumerate(STATES)]))
    rows = json.loads(zvpg("triage", str(payload), "--format", "json").stdout)["vpgs"]
    return [(r["state"], r["status"]["known"] and r["substatus"]["known"]) for r in rows]


def test_every_state_triage_prints_is_explained(printed: list[tuple[str, bool]]) -> None:
    assert {"RPO Not Meeting SLA / none", "12 (unknown) / none", "Not Meeting SLA / 99 (unknown)"} <= \
        {state for state, _ in printed}
    for state, known in printed:
        p = zvpg("explain", state)
        assert "no substatus matches" not in p.stderr and "no status matches" not in p.stderr, (state, p.stderr)
        assert p.returncode == (0 if known else 1), (state, p.stderr)
        assert p.stdout.splitlines()[0].startswith(state.split(" (unknown)")[0].strip()), (state, p.stdout[:200])
        if not known:  # what is known is shown; what is not is named, as `zvpg decode` names it
            assert "unknown" in p.stdout and p.stderr.count("\n") == 1 and "Codes follow the ZVM REST API" in p.stderr


def test_none_is_the_status_itself() -> None:
    p = zvpg("explain", "RPO Not Meeting SLA / none")
    assert p.returncode == 0, p.stderr
    assert p.stdout == zvpg("decode", "RpoNotMeetingSLA", "0").stdout
    assert "Status: RPO Not Meeting SLA" in p.stdout and "(no substatus)" in p.stdout
    assert zvpg("explain", "RPO Not Meeting SLA / no substatus").stdout == p.stdout  # the alerts' wording


def test_a_pair_of_codes_is_decoded() -> None:
    for term in ("2 23", "2 / 23", "2/23"):
        p = zvpg("explain", term)
        assert p.returncode == 0 and p.stdout == zvpg("decode", "2", "23").stdout, term
    decoded = json.loads(zvpg("decode", "2", "23", "--json").stdout)
    assert json.loads(zvpg("explain", "2 23", "--json").stdout) == decoded


def test_a_bare_code_points_to_decode() -> None:
    p = zvpg("explain", "6")
    assert p.returncode == 1 and p.stdout == ""
    assert "`zvpg decode 6`" in p.stderr and "`zvpg decode STATUS 6`" in p.stderr


def test_a_name_that_does_not_exist_still_gets_suggestions() -> None:
    p = zvpg("explain", "Not Meeting SLA / Delta Synching")
    assert p.returncode == 1 and "Did you mean: Delta Syncing" in p.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_reading_back_any_text_never_fails(term: str) -> None:
    got = api_values(term)
    assert got is None or (len(got) == 2 and all(isinstance(s, Side) for s in got))
    if got is not None:
        assert got[0].raw or got[1].raw  # names alone are resolved as names, not as codes

"""A failover is "expected" (zvpg's inference) only on evidence: the status says
the RPO SLA setting is met, the substatus is none or ok and listed, and the
object's own numbers show 0 <= ActualRPO <= ConfiguredRpoSeconds (above 0).
Otherwise the answer is the documentation's, or "not stated", with zvpg's
advice, labelled. A missing SubStatus is at least a warning; an unknown status
keeps a substatus that is critical on its own."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from formats import check_prometheus
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from zvpg_cli.knowledge.decoding import rpo_evidence
from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.sources.payload import parse
from zvpg_cli.triage.rows import SUBSTATUS_MISSING, rows

MET = {"ActualRPO": 5, "ConfiguredRpoSeconds": 300}

#: Objects in a quiet state (the status says the RPO SLA is met, no substatus says otherwise)
#: whose numbers do not show the SLA met: none of them may be "expected".
NO_EVIDENCE = {
    "configured 0": {"Status": 1, "SubStatus": 0, "ActualRPO": 99999, "ConfiguredRpoSeconds": 0},
    "actual missing": {"Status": 1, "SubStatus": 0, "ConfiguredRpoSeconds": 300},
    "actual n/a": {"Status": 1, "SubStatus": 0, "ActualRPO": "n/a", "ConfiguredRpoSeconds": 300},
    "actual -1": {"Status": 1, "SubStatus": 0, "ActualRPO": -1, "ConfiguredRpoSeconds": 300},
    "configured missing": {"Status": 1, "SubStatus": 0, "ActualRPO": 5},
    "configured -5": {"Status": 1, "SubStatus": 0, "ActualRPO": 5, "ConfiguredRpoSeconds": -5},
    "actual over configured": {"Status": 1, "SubStatus": 0, "ActualRPO": 301, "ConfiguredRpoSeconds": 300},
    "actual true": {"Status": 1, "SubStatus": 0, "ActualRPO": True, "ConfiguredRpoSeconds": 300},
    "not listed": {"Status": 4, "SubStatus": 23, **MET},  # Bitmap Syncing is listed under Meeting SLA only
    "substatus missing": {"Status": 1, **MET},
}
#: GET /v1/vms objects carry no ConfiguredRpoSeconds.
VM = {"VmName": "db01", "VmIdentifier": "vm-1", "VpgName": "ERP", "Status": 1, "SubStatus": 0, "ActualRPO": 86400}


def named(objs: dict[str, dict[str, Any]]) -> str:
    return json.dumps([{"VpgName": name, "VpgIdentifier": f"id-{i}", **o} for i, (name, o) in enumerate(objs.items())])


def triage_json(run: Any, payload: str) -> dict[str, dict[str, Any]]:
    p = run("triage", "--format", "json", input=payload)
    return {v["name"]: v for v in json.loads(p.stdout)["vpgs"]}


def failover_gauges(text: str) -> dict[str, tuple[float, str]]:
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    return {s.labels.get("vm") or s.labels["vpg"]: (s.value, s.labels["basis"])
            for s in fams["zvpg_vpg_failover_possible"].samples}


def test_failover_is_expected_where_the_numbers_show_the_sla_met(run: Any) -> None:
    payload = named({"healthy": {"Status": 1, "SubStatus": 0, **MET},
                     "azure": {"Status": 1, "SubStatus": 23, **MET},
                     "history": {"Status": 4, "SubStatus": 0, **MET},
                     "at the limit": {"Status": 1, "SubStatus": 0, "ActualRPO": 300, "ConfiguredRpoSeconds": 300},
                     "as strings": {"Status": 1, "SubStatus": 0, "ActualRPO": "5", "ConfiguredRpoSeconds": "300"}})
    for name, row in triage_json(run, payload).items():
        assert (row["failover_possible"], row["failover_basis"]) == (True, "inferred"), name
        assert row["basis"]["failover_possible"] == "zvpg", name
    prom = run("triage", "--format", "prometheus", input=payload).stdout.decode()
    assert set(failover_gauges(prom).values()) == {(1, "zvpg")}
    table = run("annotate", "--format", "table", input=payload, env={"COLUMNS": "200"}).stdout.decode()
    assert table.count("expected (zvpg's inference)") == 5


def test_without_evidence_no_failover_is_expected_in_any_output(run: Any) -> None:
    payload = named(NO_EVIDENCE)
    rows_ = triage_json(run, payload)
    for name, row in rows_.items():
        assert (row["failover_possible"], row["failover_basis"]) == (None, None), name
        assert row["basis"]["failover_possible"] is None, name
    notes = {o["VpgName"]: o["zvpg"] for o in json.loads(run("annotate", input=payload).stdout)}
    assert {n: (z["failover_possible"], z["failover_basis"]) for n, z in notes.items()} == {
        n: (None, None) for n in NO_EVIDENCE}
    nagios = run("triage", "--nagios", "--limit", "0", input=payload).stdout.decode()
    table = run("triage", "--limit", "0", input=payload, env={"COLUMNS": "200"}).stdout.decode()
    checkmk = run("triage", "--format", "checkmk", input=payload).stdout.decode()
    prom = run("triage", "--format", "prometheus", input=payload).stdout.decode()
    for text in (nagios, table, checkmk):
        assert "expected" not in text
    assert checkmk.count("failover possible: not stated") == len(NO_EVIDENCE)
    # a configured RPO that is no RPO (0, -5) is no warning level either
    assert re.search(r'"Zerto VPG configured -5" actual_rpo=5;;;0;', checkmk)
    assert set(failover_gauges(prom).values()) == {(-1, "none")}


def test_a_vm_object_without_a_configured_rpo_is_never_expected(run: Any) -> None:
    payload = json.dumps([VM])
    row = json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"][0]
    assert row["kind"] == "vm" and row["failover_possible"] is None
    prom = run("triage", "--format", "prometheus", input=payload).stdout.decode()
    assert failover_gauges(prom) == {"db01": (-1, "none")}


def test_documented_answers_keep_their_basis_label(run: Any) -> None:
    payload = named({"full": {"Status": 2, "SubStatus": 11, **MET}, "delta": {"Status": 2, "SubStatus": 6, **MET},
                     "error under an unknown status": {"Status": 9, "SubStatus": 8}})
    prom = run("triage", "--format", "prometheus", input=payload).stdout.decode()
    assert failover_gauges(prom) == {"full": (0, "documentation"), "delta": (1, "documentation"),
                                     "error under an unknown status": (0, "documentation")}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_the_failover_series_with_its_basis_label_passes_promtool(run: Any) -> None:
    payload = named({**NO_EVIDENCE, "healthy": {"Status": 1, "SubStatus": 0, **MET},
                     "full": {"Status": 2, "SubStatus": 11, **MET}})
    text = run("triage", "--format", "prometheus", input=payload).stdout.decode()
    check_prometheus(text, len(NO_EVIDENCE) + 2)
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p.stdout + p.stderr
    assert sorted(v for v, _ in failover_gauges(text).values()) == [-1] * len(NO_EVIDENCE) + [0, 1]


numbers = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.integers(2**53, 2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["n/a", "", "5", "300", "-1", "1e3", "NaN", "1e400"]))


@settings(max_examples=300, deadline=None)
@given(actual=numbers, configured=numbers, sub=st.sampled_from([0, 23, 6, 5, 36]))
def test_an_inferred_failover_always_rests_on_both_numbers(actual: Any, configured: Any, sub: int) -> None:
    obj = {"VpgName": "x", "Status": 1, "SubStatus": sub, "ActualRPO": actual, "ConfiguredRpoSeconds": configured}
    row = rows(load_kb(), parse(json.dumps([obj]).encode()))[0]
    if row.failover.basis == "inferred":
        assert sub in (0, 23)
        assert rpo_evidence(row.actual_rpo, row.configured_rpo)
        assert row.configured_rpo > 0 and 0 <= row.actual_rpo <= row.configured_rpo  # type: ignore[operator]
    elif sub in (0, 23):
        assert not rpo_evidence(row.actual_rpo, row.configured_rpo)
        assert row.failover.possible is None


def test_decode_never_says_expected(cli: Any) -> None:
    for args in (("4", "23"), ("1", "0"), ("1", "23"), ("1",)):
        r = cli("decode", *args, env={"COLUMNS": "200"})
        assert "expected (zvpg's inference" not in r.stdout, args
        doc = json.loads(cli("decode", *args, "--json").stdout)
        assert (doc["failover_possible"], doc["failover_basis"]) == (None, None), args
    listed = cli("decode", "4", "23", env={"COLUMNS": "200"}).stdout
    assert "Listed?    no:" in listed and "Can I fail over?  not stated in the documentation; zvpg's advice" in listed
    quiet = cli("decode", "1", "0", env={"COLUMNS": "200"}).stdout
    assert "Can I fail over?  zvpg expects it to be possible where ActualRPO is within ConfiguredRpoSeconds" in quiet


@pytest.mark.parametrize("term", ["Not Meeting SLA / Bitmap Syncing", "Journal storage error", "VM not protected"])
def test_a_failover_not_stated_comes_with_zvpgs_next_step_labelled_as_its_own(cli: Any, term: str) -> None:
    out = cli("explain", term, env={"COLUMNS": "200"}).stdout
    judgement = out[out.index("zvpg's judgement (not the documentation's)"):]
    judgement = judgement[:judgement.index("\n\n")]
    assert "Can I fail over?  not stated in the documentation; zvpg's advice: look at the VPG's ActualRPO " \
           "against its ConfiguredRpoSeconds, and at its last checkpoint" in judgement
    documentation = out[out.index("he documentation says"):]
    assert "Failover possible?  not stated in the documentation" in documentation[:documentation.index("\n\n")]


# ---- a missing SubStatus, an unknown status ------------------------------------------------

def test_a_missing_substatus_is_a_warning_with_no_failover(run: Any) -> None:
    payload = json.dumps([{"VpgName": "b", "VpgIdentifier": "1", "Status": 1, "ActualRPO": 5,
                           "ConfiguredRpoSeconds": 300}])
    p = run("triage", "--nagios", input=payload)
    out = p.stdout.decode()
    assert p.returncode == 1 and out.startswith("ZVPG WARNING")
    assert "b: Meeting SLA / SubStatus missing; failover possible: not stated" in out
    row = json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"][0]
    assert row["severity"] == "warning" and row["failover_possible"] is None
    assert SUBSTATUS_MISSING in row["reasons"] and SUBSTATUS_MISSING == "SubStatus missing: the state cannot be judged"
    note = json.loads(run("annotate", input=payload).stdout)[0]["zvpg"]
    assert (note["severity"], note["failover_possible"], note["substatus"]) == ("warning", None, None)
    assert SUBSTATUS_MISSING in note["reasons"]


def test_a_missing_substatus_never_lowers_a_worse_status(run: Any) -> None:
    payload = json.dumps([{"VpgName": "b", "Status": 2, "ActualRPO": 5, "ConfiguredRpoSeconds": 300}])
    row = json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"][0]
    assert row["severity"] == "critical" and SUBSTATUS_MISSING in row["reasons"]


def test_an_unknown_status_with_a_warning_substatus_stays_unknown_with_the_documented_failover(run: Any) -> None:
    payload = json.dumps([{"VpgName": "b", "Status": 9, "SubStatus": 6}])
    row = json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"][0]
    assert row["severity"] == "unknown"
    assert (row["failover_possible"], row["failover_basis"], row["recovery"]) == (True, "documented", "last-checkpoint")

"""Payloads as real ZVMs and the clients around them produce them
(tests/fixtures/payloads/, shaped after tests/fixtures/zerto-rest-api.md):
`GET /v1/vms` objects, Windows PowerShell's `{"value": [...], "Count": N}`
wrapper (also as UTF-16), Zerto Analytics data, other endpoints' data, the
10.x swagger's camelCase keys, and substatus codes above 32."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from formats import check_checkmk, check_nagios, check_prometheus
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from test_annotate import check_lossless

from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.output.checkmk import checkmk
from zvpg_cli.output.prometheus import prometheus
from zvpg_cli.sources.payload import PayloadError, parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage.report import Report
from zvpg_cli.triage.report import run as run_triage


def judged(payload: list[dict[str, Any]]) -> Report:
    return run_triage(load_kb(), [Read(parse(json.dumps(payload).encode()))])

PAYLOADS = Path(__file__).resolve().parent / "fixtures" / "payloads"
VMS = PAYLOADS / "vms.json"


def _out(p: Any) -> str:
    return str(p.stdout.decode("utf-8"))


# ---- 2. /v1/vms objects are VMs, with their VPG as context ------------------------------

def test_vms_are_named_as_vms_in_nagios(run: Any) -> None:
    p = run("triage", str(VMS), "--nagios")
    assert p.returncode == 2
    text = _out(p)
    check_nagios(text)
    assert "CRITICAL: VM db01 (VPG ExportStuff): Not Meeting SLA / Delta syncing a disk" in text
    assert "VM db02 (VPG ExportStuff)" in text and "#2" not in text
    assert "RPO 412s;" not in text and "RPO 412s\n" in text and "?s" not in text  # no configured RPO on VMs


def test_vms_in_checkmk_prometheus_json_and_table(run: Any) -> None:
    services = {m.group(2) for m in check_checkmk(_out(run("triage", str(VMS), "--format", "checkmk")), 5)}
    assert services == {"Zerto VM db01 (VPG ExportStuff)", "Zerto VM db02 (VPG ExportStuff)",
                        "Zerto VM app01 (VPG ExportStuff)", "Zerto VM web01 (VPG Web-Frontend)",
                        "Zerto VM exch-mbx1 (VPG Exchange-2019)"}
    fam = check_prometheus(_out(run("triage", str(VMS), "--format", "prometheus")), 5)
    labels = {(s.labels["vm"], s.labels["vpg"], s.labels["id"]) for s in fam["zvpg_vpg_severity"].samples}
    assert ("db01", "ExportStuff", "vm-1001") in labels and ("db02", "ExportStuff", "vm-1002") in labels
    data = json.loads(run("triage", str(VMS), "--format", "json").stdout)
    first = data["vpgs"][0]
    assert (first["kind"], first["name"], first["identifier"]) == ("vm", "db01", "vm-1001")
    assert (first["vpg_name"], first["vpg_identifier"]) == ("ExportStuff", "vpg-0042")
    assert first["configured_rpo"] is None and first["actual_rpo"] == 412
    table = _out(run("triage", str(VMS), env={"COLUMNS": "200"}))
    assert "Triage: 5 VMs" in table and "VM db01 (VPG ExportStuff)" in table
    assert "?s" not in table


def test_vm_identity_is_stable_across_input_order(run: Any, tmp_path: Path) -> None:
    objs = json.loads(VMS.read_text())
    random.Random(7).shuffle(objs)
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps(objs))

    def series(path: Path) -> dict[tuple[tuple[str, str], ...], float]:
        text = _out(run("triage", str(path), "--format", "prometheus"))
        fam = {f.name: f for f in text_string_to_metric_families(text)}
        return {tuple(sorted(s.labels.items())): s.value for s in fam["zvpg_vpg_severity"].samples}

    def services(path: Path) -> set[str]:
        return set(_out(run("triage", str(path), "--format", "checkmk")).splitlines())

    assert series(VMS) == series(shuffled)
    assert services(VMS) == services(shuffled)


# ---- 3. wrapped and foreign payloads ------------------------------------------------------

@pytest.mark.parametrize("name", ["powershell-wrapped.json", "powershell-wrapped-utf16.json"])
def test_powershell_wrapper_is_read_and_written_back(run: Any, name: str) -> None:
    path = PAYLOADS / name
    source = path.read_bytes()
    text = source.decode("utf-16") if name.endswith("utf16.json") else source.decode("utf-8")
    p = run("annotate", str(path))
    assert p.returncode == 0 and p.stderr == b""
    out = json.loads(p.stdout)
    assert set(out) == {"value", "Count"} and out["Count"] == 3
    original = json.loads(text)
    check_lossless(json.dumps(original["value"]).encode(), json.dumps(out["value"]).encode())
    assert [o["zvpg"]["status"]["name"] for o in out["value"]] == [
        "Not Meeting SLA", "History Not Meeting SLA", "Meeting SLA"]
    # the wrapper's own text survives: everything outside the array is as it was
    body = p.stdout.decode("utf-8")
    assert body.startswith(text[: text.index("[")]) and body.rstrip().endswith('"Count":  3\r\n}')
    nagios = run("triage", str(path), "--nagios")
    assert nagios.returncode == 2 and _out(nagios).startswith("ZVPG CRITICAL - 1 critical, 1 warning, 1 ok")


def test_wrapped_array_keeps_its_indentation(run: Any) -> None:
    p = run("annotate", str(PAYLOADS / "powershell-wrapped.json"))
    lines = p.stdout.decode().splitlines()
    opening = [line for line in lines if line.strip() == "{"][1:]  # the objects inside the array
    closing = [line for line in lines if line.strip() in ("}", "},")][:-1]
    assert opening and {len(line) - len(line.lstrip()) for line in opening} == {18}
    assert {len(line) - len(line.lstrip()) for line in closing} == {18}


def test_pretty_array_objects_are_indented_consistently(run: Any) -> None:
    p = run("annotate", "examples/vpgs.json", cwd=str(Path(__file__).resolve().parent.parent))
    lines = p.stdout.decode().splitlines()
    assert lines[0] == "[" and lines[1] == "  {" and lines[-1] == "]"
    assert all(line.startswith("  ") for line in lines[1:-1])


def test_zerto_analytics_codes_are_refused(run: Any) -> None:
    path = str(PAYLOADS / "analytics-codes.json")
    for args in (["annotate", path], ["triage", path], ["triage", path, "--format", "json"]):
        p = run(*args)
        assert p.returncode == 2 and p.stdout == b""
        err = p.stderr.decode()
        assert err.count("\n") == 1 and "Zerto Analytics" in err and "its own way" in err
    p = run("triage", path, "--nagios")
    assert p.returncode == 3 and _out(p).startswith("ZVPG UNKNOWN - ") and "Zerto Analytics" in _out(p)


def test_zerto_analytics_names_are_decoded_by_name(run: Any) -> None:
    p = run("triage", str(PAYLOADS / "analytics-names.json"), "--format", "json")
    assert p.returncode == 0, p.stderr
    vpgs = json.loads(p.stdout)["vpgs"]
    assert [(v["name"], v["status"]["name"], v["substatus"]["name"]) for v in vpgs] == [
        ("ExportStuff", "RPO Not Meeting SLA", "AddedVmsInInitialSync"), ("Payroll", "Meeting SLA", None)]
    rpo = load_kb().status("RPO Not Meeting SLA")
    assert vpgs[0]["substatus"]["known"] is True
    assert rpo is not None and vpgs[0]["severity"] == rpo.severity  # an undocumented substatus: the status decides


@pytest.mark.parametrize("name", ["alerts.json", "vras.json"])
def test_other_parts_of_a_site_are_judged_by_triage_and_refused_by_annotate(run: Any, name: str) -> None:
    path = str(PAYLOADS / name)
    p = run("triage", path, "--json")  # told by its shape: that part of a site, judged (no VPG rows)
    assert p.returncode == 0 and p.stderr == b""
    assert json.loads(p.stdout)["summary"]["total"] == 0
    p = run("annotate", path)  # VPG and VM data only
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode().count("\n") == 1 and "does not look like VPG or VM data" in p.stderr.decode()


def test_an_error_object_from_a_zvm_is_refused() -> None:
    with pytest.raises(PayloadError, match="does not look like VPG or VM data"):
        parse(b'{"Message": "Authorization has been denied for this request."}')


def test_an_empty_array_is_nothing_to_check(run: Any) -> None:
    p = run("triage", "--nagios", input="[]")
    assert p.returncode == 3 and _out(p).startswith("ZVPG UNKNOWN - nothing to check: the input holds no VPGs")
    p = run("triage", "--nagios", "--allow-empty", input="[]")
    assert p.returncode == 0 and _out(p).startswith("ZVPG OK - 0 critical")


def test_camel_case_keys_are_read_and_output_unchanged(run: Any) -> None:
    camel = PAYLOADS / "camelcase.json"
    pascal = json.dumps([{k[0].upper() + k[1:]: v for k, v in o.items()} for o in json.loads(camel.read_text())])
    def without_timestamp(text: bytes) -> bytes:
        return b"".join(line for line in text.splitlines(True) if not line.startswith(b"zvpg_run_timestamp"))

    for fmt in ("json", "prometheus", "checkmk", "nagios", "table"):
        assert without_timestamp(run("triage", str(camel), "--format", fmt).stdout) == \
            without_timestamp(run("triage", "--format", fmt, input=pascal).stdout)
    assert run("annotate", str(camel), "-f", "csv").stdout == run("annotate", "-f", "csv", input=pascal).stdout
    p = run("annotate", str(camel))
    check_lossless(camel.read_bytes(), p.stdout)
    notes = [o["zvpg"] for o in json.loads(p.stdout)]
    assert notes[0]["status"]["name"] == "Not Meeting SLA" and notes[1]["substatus"]["code"] == 35


# ---- 4. substatus codes above 32 keep their number --------------------------------------

def test_unknown_codes_keep_their_number_everywhere(run: Any) -> None:
    payload = json.dumps([{"VpgName": "New", "VpgIdentifier": "v1", "Status": 1, "SubStatus": 36,
                           "ActualRPO": 5, "ConfiguredRpoSeconds": 300},
                          {"VpgName": "Odd", "VpgIdentifier": "v2", "Status": 12, "SubStatus": 0}])
    data = json.loads(run("triage", "--format", "json", input=payload).stdout)
    sub = data["vpgs"][0]["substatus"]
    assert (sub["code"], sub["known"], sub["name"]) == (36, False, None)
    assert data["vpgs"][1]["status"]["code"] == 12 and data["vpgs"][1]["severity"] == "unknown"
    fam = {f.name: f for f in text_string_to_metric_families(_out(run("triage", "--format", "prometheus",
                                                                        input=payload)))}
    codes = {s.labels["vpg"]: s.value for s in fam["zvpg_vpg_substatus_code"].samples}
    assert codes["New"] == 36
    status_codes = {s.labels["vpg"]: s.value for s in fam["zvpg_vpg_status_code"].samples}
    assert status_codes["Odd"] == 12
    table = _out(run("triage", input=payload, env={"COLUMNS": "200"}))
    assert "36 (unknown)" in table and "12 (unknown)" in table
    annotated = json.loads(run("annotate", input=payload).stdout)
    assert annotated[0]["zvpg"]["substatus"]["code"] == 36 and annotated[0]["zvpg"]["substatus"]["known"] is False
    nagios = _out(run("triage", "--nagios", input=payload))
    assert "Meeting SLA / 36 (unknown)" in nagios


def test_names_of_codes_from_community_sources_are_recognised_with_the_status_deciding(run: Any) -> None:
    payload = json.dumps([{"VpgName": "A", "Status": "NotMeetingSLA", "SubStatus": "JournalOrRecoveryMissingError"},
                          {"VpgName": "B", "Status": "MeetingSLA", "SubStatus": "ReplicationPausedForMissingVolume"}])
    data = json.loads(run("triage", "--format", "json", input=payload).stdout)
    assert [(v["substatus"]["known"], v["substatus"]["code"], v["severity"]) for v in data["vpgs"]] == [
        (True, 33, "critical"), (True, 35, "warning")]  # undocumented: never ok
    p = run("explain", "AddedVmsInInitialSync", "--json")
    entry = json.loads(p.stdout)
    assert entry["documented"] is False and entry["api_code"] == 34 and entry["description"] is None
    assert entry["code_source"].startswith("community sources")


# ---- property: any mix of VPG and VM objects gives unique identities ---------------------

names = st.sampled_from(["X", "X #2", "X [a]", "a", "a#1", "", "db01", "VM db01 (VPG X)"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), names, names, names), min_size=1, max_size=8))
def test_identities_are_unique_for_any_input(objs: list[tuple[bool, str, str, str]]) -> None:
    payload = []
    for is_vm, name, ident, vpg in objs:
        if is_vm:
            payload.append({"VmName": name, "VmIdentifier": ident, "VpgName": vpg, "Status": 1, "SubStatus": 0})
        else:
            payload.append({"VpgName": name, "VpgIdentifier": ident, "Status": 2, "SubStatus": 6})
    r = judged(payload)
    text = "".join(checkmk(r))
    check_checkmk(text, len(objs))
    services = [line.split('"')[1] for line in text.splitlines()]
    assert len(set(services)) == len(services)
    check_prometheus("".join(prometheus(r)), len(objs))


def test_identifiers_that_escape_alike_are_still_two_series() -> None:
    # ESC is shown as the four characters \x1b; an identifier written as those four characters
    # must not become the same series (found by the performance work's review).
    payload = [{"VpgName": "X", "VpgIdentifier": "\x1b", "Status": 1, "SubStatus": 0},
               {"VpgName": "X", "VpgIdentifier": "\\x1b", "Status": 1, "SubStatus": 0}]
    check_prometheus("".join(prometheus(judged(payload))), 2)

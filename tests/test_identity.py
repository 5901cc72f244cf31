"""Who an object is, in every payload shape clients send (PascalCase from live
ZVMs, camelCase from the 10.x swagger, plain names, /v1/vms objects), is the
same in every format of triage and annotate."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from formats import check_checkmk, check_nagios, check_prometheus

SHAPES = {
    "pascal": {"VpgName": "Orders", "VpgIdentifier": "vpg-7", "Status": 2, "SubStatus": 6, "ActualRPO": 700,
               "ConfiguredRpoSeconds": 300},
    "camel": {"vpgName": "Orders", "vpgIdentifier": "vpg-7", "status": 2, "subStatus": 6, "actualRPO": 700,
              "configuredRpoSeconds": 300},
    "by-name": {"name": "Orders", "identifier": "vpg-7", "status": "NotMeetingSLA", "subStatus": "DeltaSync",
                "actualRpo": 700},
}
VM = {"VmName": "db01", "VmIdentifier": "vm-1", "VpgName": "ExportStuff", "VpgIdentifier": "vpg-42", "Status": 2,
      "SubStatus": 6, "ActualRPO": 412}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_is_named_in_every_triage_format(run: Any, shape: str) -> None:
    data = json.dumps([SHAPES[shape]])
    if shape == "by-name":
        data = json.dumps({"vpgs": [SHAPES[shape]]})  # Zerto Analytics' wrapper, statuses as names
    row = json.loads(run("triage", "--json", input=data).stdout)["vpgs"][0]
    assert (row["name"], row["identifier"], row["actual_rpo"]) == ("Orders", "vpg-7", 700)
    _, perf = check_nagios(run("triage", "--nagios", input=data).stdout.decode())
    assert perf["Orders rpo"].startswith("700s;")
    (m,) = check_checkmk(run("triage", "-f", "checkmk", input=data).stdout.decode(), 1)
    assert m.group(2) == "Zerto VPG Orders" and "actual_rpo=700;" in m.group(3)
    fam = check_prometheus(run("triage", "-f", "prometheus", input=data).stdout.decode(), 1)
    assert fam["zvpg_vpg_severity"].samples[0].labels == {"vpg": "Orders", "id": "vpg-7"}
    assert fam["zvpg_vpg_actual_rpo_seconds"].samples[0].value == 700
    table = run("triage", input=data, env={"COLUMNS": "120"}).stdout.decode()
    assert "Orders" in table and "700s" in table
    cells = list(csv.reader(io.StringIO(run("annotate", "-f", "csv", input=data).stdout.decode())))
    assert cells[1][0] == "Orders" and cells[1][5] == "700"
    assert "Orders" in run("annotate", "-f", "table", input=data, env={"COLUMNS": "120"}).stdout.decode()


def test_vm_objects_are_vms_everywhere(run: Any) -> None:
    data = json.dumps([VM, dict(VM, VmName="db02", VmIdentifier="vm-2")])
    rows = json.loads(run("triage", "--json", input=data).stdout)["vpgs"]
    assert [(r["kind"], r["label"]) for r in rows] == [("vm", "VM db01 (VPG ExportStuff)"),
                                                       ("vm", "VM db02 (VPG ExportStuff)")]
    cells = list(csv.reader(io.StringIO(run("annotate", "-f", "csv", input=data).stdout.decode())))
    assert [c[0] for c in cells[1:]] == ["VM db01 (VPG ExportStuff)", "VM db02 (VPG ExportStuff)"]
    assert "Zerto VM db01 (VPG ExportStuff)" in run("triage", "-f", "checkmk", input=data).stdout.decode()
    names = [r["name"] for r in json.loads(run("triage", "--json", "--vpg", "db02", input=data).stdout)["vpgs"]]
    assert names == ["db02"]  # a VM is matched by its own name too


def test_unsafe_characters_never_leave_as_raw_bytes_in_json(run: Any) -> None:
    name = "evil\u009b[2J\u202e\u2028\u0085\u2066x"
    data = json.dumps([{"VpgName": name, "Status": 1, "SubStatus": 0}], ensure_ascii=False)
    for args in (["triage", "--json"], ["annotate", "-f", "json"], ["annotate", "-f", "ndjson"]):
        out = run(*args, input=data.encode("utf-8")).stdout
        for raw in ("\u009b", "\u202e", "\u2028", "\u0085", "\u2066"):
            assert raw.encode("utf-8") not in out, (args, raw)
        first = json.loads(out.splitlines()[0] if args[-1] == "ndjson" else out)
        obj = first["vpgs"][0] if args[0] == "triage" else first if isinstance(first, dict) else first[0]
        assert obj.get("VpgName", obj.get("name")) == name  # the same value, escaped


@pytest.mark.parametrize("spec", [",", " , ", 'a"b', "a\\b", "x\x1by", "a\tb"])
def test_bad_fields_are_usage_errors(run: Any, spec: str) -> None:
    p = run("annotate", "-f", "csv", "--fields", spec, input=json.dumps([SHAPES["pascal"]]))
    assert p.returncode == 2 and p.stderr.startswith(b"zvpg: --fields") and b"internal error" not in p.stderr

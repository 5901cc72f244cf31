"""`zvpg triage`: verdicts from status, substatus and RPO; what it says when
there is nothing to judge; filters; and every format checked against its own
grammar (tests/formats.py), with hostile names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from formats import check_checkmk, check_nagios, check_prometheus, counts
from hypothesis import given, settings
from hypothesis import strategies as st

from zvpg_cli.base.sanitize import printable
from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import Severity
from zvpg_cli.output.checkmk import checkmk
from zvpg_cli.output.nagios import nagios
from zvpg_cli.output.prometheus import prometheus
from zvpg_cli.sources.payload import parse
from zvpg_cli.sources.read import Read
from zvpg_cli.triage.report import Options, Report
from zvpg_cli.triage.report import run as run_triage
from zvpg_cli.triage.rows import Thresholds, parse_threshold

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vpgs.json"


def vpg(name: str, status: Any, sub: Any = 0, actual: Any = 10, conf: Any = 300,
        ident: str | None = None) -> dict[str, Any]:
    return {"VpgName": name, "VpgIdentifier": ident or f"id-{name}", "Status": status, "SubStatus": sub,
            "ActualRPO": actual, "ConfiguredRpoSeconds": conf}


def judge(objs: list[dict[str, Any]], **options: Any) -> Report:
    return run_triage(load_kb(), [Read(parse(json.dumps(objs).encode()))], Options(**options))


def severities(r: Report) -> dict[str, str]:
    return {row.name: row.severity.value for row in r.rows}


# ---- verdicts ----------------------------------------------------------------------

def test_substatus_changes_the_verdict() -> None:
    r = judge([vpg("a", 1, 0), vpg("b", 1, 23), vpg("c", 1, 5), vpg("d", 2, 6), vpg("e", 4, 0), vpg("f", 1, 6)])
    assert severities(r) == {"a": "ok", "b": "ok", "c": "critical", "d": "critical", "e": "warning", "f": "warning"}
    c = next(x for x in r.rows if x.name == "c")
    assert c.verdict.recovery == "possible" and c.verdict.protection_halted is True


@pytest.mark.parametrize("sub", [28, "Backup", "JournalOrRecoveryMissingError", "AddedVmsInInitialSync",
                                 "ReplicationPausedForMissingVolume", 35, 99])
def test_undocumented_substatuses_are_never_ok(sub: Any) -> None:
    row = judge([vpg("a", 1, sub)]).rows[0]
    assert row.severity is Severity.WARNING
    assert any("the documentation says nothing about this substatus" in r for r in row.reasons)
    assert row.failover.basis != "inferred"  # silence of the documentation is not support
    # under a worse status, the status's severity stands
    assert judge([vpg("a", 2, sub)]).rows[0].severity is Severity.CRITICAL


def test_unknown_status_is_unknown_and_the_run_says_so() -> None:
    r = judge([vpg("a", 42), vpg("b", 1, 0), vpg("c", "Bogus")])
    assert severities(r) == {"a": "unknown", "b": "ok", "c": "unknown"}
    assert r.summary.state is Severity.UNKNOWN and r.summary.counts[Severity.UNKNOWN] == 2


@pytest.mark.parametrize(("status", "sub"), [(1, 30), (1, 31), (1, 32), (1, 9), (1, 7), (1, 29), (1, 28),
                                             (4, 16), (1, "AddedVmsInInitialSync")])
def test_failover_is_not_inferred_where_the_substatus_is_not_ok(status: int, sub: Any) -> None:
    row = judge([vpg("a", status, sub)]).rows[0]
    assert row.failover.basis != "inferred" and row.failover.possible is not True


def test_failover_is_inferred_only_with_no_or_an_ok_substatus_and_the_rpo_within() -> None:
    r = judge([vpg("none", 1, 0), vpg("bitmap", 1, 23), vpg("late", 1, 0, actual=1800, conf=300)])
    by = {row.name: row for row in r.rows}
    assert by["none"].failover.basis == "inferred" and by["bitmap"].failover.basis == "inferred"
    assert by["late"].failover.possible is None  # ActualRPO over ConfiguredRpoSeconds: not stated
    assert by["late"].severity is Severity.WARNING
    assert any("over the configured 300s although the status says the RPO SLA is met" in x
               for x in by["late"].reasons)


def test_rpo_thresholds_as_ratio_or_duration() -> None:
    objs = [vpg("near", 1, 0, actual=250, conf=300), vpg("far", 1, 0, actual=10, conf=300),
            vpg("late", 2, 6, actual=1830, conf=300)]
    assert severities(judge(objs)) == {"near": "ok", "far": "ok", "late": "critical"}
    warn = judge(objs, thresholds=Thresholds(parse_threshold("0.8")))
    assert severities(warn) == {"near": "warning", "far": "ok", "late": "critical"}
    crit = judge([vpg("a", 1, 0, actual=950, conf=1000), vpg("b", 1, 0, actual=901, conf=1000)],
                 thresholds=Thresholds(parse_threshold("900s"), parse_threshold("15m")))
    assert severities(crit) == {"a": "critical", "b": "critical"}
    assert "over the critical threshold 900s (15m)" in crit.rows[0].reasons[-1]


@pytest.mark.parametrize("bad", ["", "x", "-1", "0", "15 minutes", "1.5.1", "1e3", "٣"])
def test_bad_thresholds_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_threshold(bad)


def test_thresholds_on_the_command_line(run: Any) -> None:
    objs = json.dumps([vpg("a", 1, 0, actual=500, conf=300)])
    assert run("triage", "--nagios", "--rpo-warning", "1.5", input=objs).returncode == 1
    assert run("triage", "--nagios", "--rpo-warning-ratio", "1.5", input=objs).returncode == 1
    assert run("triage", "--nagios", "--rpo-critical", "5m", input=objs).returncode == 2
    p = run("triage", "--nagios", "--rpo-critical", "soon", input=objs)
    assert p.returncode == 3 and p.stdout.startswith(b"ZVPG UNKNOWN - --rpo-critical: 'soon' is neither")
    p = run("triage", "--json", "--rpo-critical", "soon", input=objs)
    assert p.returncode == 2 and p.stderr.startswith(b"zvpg: --rpo-critical: 'soon' is neither")


# ---- nothing to judge is not OK ------------------------------------------------------

@pytest.mark.parametrize("args", [[], ["--vpg", "ERP Prod"], ["--exclude", "*"]])
def test_nothing_to_check_is_unknown(run: Any, args: list[str]) -> None:
    data = "[]" if not args else json.dumps([vpg("ERP-Prod", 1, 0)])
    p = run("triage", "--nagios", *args, input=data)
    assert p.returncode == 3, p.stdout
    state, perf = check_nagios(p.stdout.decode())
    assert state == "UNKNOWN" and counts(perf)["total"] == 0
    if args:
        assert f"no VPG matches {args[0]} '{args[1]}'".encode() in p.stdout
    assert run("triage", "--nagios", "--allow-empty", *args, input=data).returncode == 0
    p = run("triage", "--json", *args, input=data)
    assert json.loads(p.stdout)["summary"]["state"] == "UNKNOWN" and p.returncode == 1
    table = run("triage", *args, input=data).stdout.decode()
    assert "is ok" not in table and "Nothing judged" in table


def test_filters_are_globs_any_case_repeatable_and_apply_to_files(run: Any, tmp_path: Path) -> None:
    f = tmp_path / "v.json"
    f.write_text(json.dumps([vpg("ERP-Prod", 2, 6), vpg("erp-test", 1, 0), vpg("Web", 4, 0), vpg("DB", 1, 5)]))
    names = lambda *a: [v["name"] for v in json.loads(run("triage", str(f), "--json", *a).stdout)["vpgs"]]  # noqa: E731
    assert names("--vpg", "erp*") == ["ERP-Prod", "erp-test"]
    assert names("--vpg", "erp*", "--vpg", "web") == ["ERP-Prod", "erp-test", "Web"]
    assert names("--exclude", "*-test", "--exclude", "DB") == ["ERP-Prod", "Web"]
    assert names("--vpg", "ERP-PROD") == ["ERP-Prod"]
    annotated = json.loads(run("annotate", str(f), "--vpg", "erp*", "-f", "json").stdout)
    assert [o["VpgName"] for o in annotated] == ["ERP-Prod", "erp-test"]
    p = run("annotate", str(f), "--vpg", "nothing", "-f", "json")
    assert p.returncode == 1 and b"no VPG matches --vpg 'nothing'" in p.stderr


# ---- every format ------------------------------------------------------------------

def test_nagios_first_line_names_the_worst_and_perfdata_per_vpg(run: Any) -> None:
    p = run("triage", "--nagios", "--rpo-warning", "2", "--rpo-critical", "1h", str(EXAMPLE))
    assert p.returncode == 2
    text = p.stdout.decode()
    state, perf = check_nagios(text)
    assert state == "CRITICAL"
    first = text.splitlines()[0]
    assert first.startswith("ZVPG CRITICAL - 4 critical, 1 warning, 2 ok: Archive (Not Meeting SLA / User paused "
                            "protection), SQL-Cluster \"A\" ¦ primary, Exchange-2019, +2 more | ")
    assert counts(perf) == {"critical": 4, "warning": 1, "ok": 2, "unknown": 0, "total": 7}
    assert perf["Archive rpo"] == "7200s;1200;3600;0;"
    assert perf["ERP-Prod rpo"] == "6s;600;3600;0;"


def test_nagios_output_is_bounded(run: Any) -> None:
    objs = [vpg(f"c{i:05d}", 2, 6, actual=300 + i) for i in range(10_000)] + [vpg("ok", 1, 0)]
    p = run("triage", "--nagios", input=json.dumps(objs))
    text = p.stdout.decode()
    assert len(p.stdout) <= 8192 and p.returncode == 2
    _state, perf = check_nagios(text)
    assert counts(perf)["total"] == 10_001
    lines = text.splitlines()
    assert lines[1].startswith("CRITICAL: c09999:")  # the largest RPO overrun first
    assert any(line.startswith("... ") and "--max-output 8192" in line for line in lines)
    big = run("triage", "--nagios", "--max-output", "100000", input=json.dumps(objs)).stdout
    assert 8192 < len(big) <= 100_000
    assert run("triage", "--nagios", "--max-output", "10", input="[]").returncode == 3


def test_checkmk(run: Any) -> None:
    p = run("triage", "--format", "checkmk", str(EXAMPLE))
    ms = check_checkmk(p.stdout.decode(), 8)  # a service per VPG, and their failover tests
    by_service = {m.group(2): m for m in ms}
    assert by_service["Zerto VPG FileServer"].group(1) == "2"  # Meeting SLA, but protection halted
    assert by_service["Zerto VPG ERP-Prod"].group(1) == "0"
    assert by_service["Zerto VPG ERP-Prod"].group(3) == "actual_rpo=6;300;;0;|configured_rpo=300;;;0;"


def test_prometheus(run: Any) -> None:
    p = run("triage", "--format", "prometheus", str(EXAMPLE))
    fam = check_prometheus(p.stdout.decode(), 7)
    names = {s.labels["vpg"] for s in fam["zvpg_vpg_severity"].samples}
    assert 'SQL-Cluster "A" | primary' in names
    counts_ = {s.labels["severity"]: s.value for s in fam["zvpg_vpgs"].samples}
    assert counts_ == {"critical": 4, "warning": 1, "unknown": 0, "ok": 2}
    assert fam["zvpg_run_timestamp_seconds"].samples[0].value > 1.7e9


def test_json_flag_and_contract(run: Any) -> None:
    p = run("triage", "--json", str(EXAMPLE))
    data = json.loads(p.stdout)
    assert {k: data["summary"][k] for k in ("total", "critical", "warning", "unknown", "ok", "state")} == \
        {"total": 7, "critical": 4, "warning": 1, "unknown": 0, "ok": 2, "state": "CRITICAL"}
    fs = next(v for v in data["vpgs"] if v["name"] == "FileServer")
    assert fs["failover_possible"] is True and fs["protection_halted"] is True
    assert run("triage", "--json", "--format", "table", str(EXAMPLE)).returncode == 2


def test_table(run: Any) -> None:
    out = run("triage", str(EXAMPLE), env={"COLUMNS": "120"}).stdout.decode()
    assert "4 critical" in out and "Needs attention" in out
    assert out.index("Archive") < out.index("Exchange-2019")  # worst first


def test_large_numbers_are_written_exactly_everywhere(run: Any) -> None:
    objs = json.dumps([vpg("big", 2, 6, actual=1234567, conf=300), vpg("frac", 2, 6, actual=0.5, conf=300)])
    for fmt in ("nagios", "checkmk", "prometheus", "json", "table"):
        out = run("triage", "-f", fmt, "--limit", "0", input=objs, env={"COLUMNS": "200"}).stdout.decode()
        assert "1234567" in out and "e+06" not in out and "1.23457" not in out, fmt
        assert "0.5" in out, fmt


def test_same_names_and_ids_stay_distinct(run: Any) -> None:
    objs = [vpg("dup", 1, 5, ident="x"), vpg("dup", 1, 0, ident="x"), vpg("", 2, 0, ident="")]
    check_checkmk(run("triage", "--format", "checkmk", input=json.dumps(objs)).stdout.decode(), 3)
    check_prometheus(run("triage", "--format", "prometheus", input=json.dumps(objs)).stdout.decode(), 3)
    _, perf = check_nagios(run("triage", "--nagios", input=json.dumps(objs)).stdout.decode())
    assert len([k for k in perf if k.endswith(" rpo") or " rpo [" in k or " rpo #" in k]) == 3


hostile = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ['a"b', "a\nb", "a|b", "\x1b[31mred", "\u202eevil", "back\\slash", "a\\nb", "x\r\ny", "", " ", "'; DROP", "a=b"])


@settings(max_examples=150, deadline=None)
@given(st.lists(hostile, min_size=1, max_size=4))
def test_hostile_names_never_break_a_format(names: list[str]) -> None:
    r = judge([vpg(name, 2, 6, ident=name) for name in names])
    check_nagios(nagios(r)[0])
    check_checkmk("".join(checkmk(r)), len(names))
    fam = check_prometheus("".join(prometheus(r)), len(names))
    # label values: control and bidi characters shown as escapes, as on a terminal
    assert sorted(s.labels["vpg"] for s in fam["zvpg_vpg_severity"].samples) == sorted(map(printable, names))


def test_severities_can_be_overridden_in_a_knowledge_base_file(run: Any, tmp_path: Path) -> None:
    from conftest import KB_FILE

    text = KB_FILE.read_text(encoding="utf-8")
    marker = '  - name: "Bitmap Syncing"'
    head, tail = text.split(marker, 1)
    tail = tail.replace("    severity: ok\n", "    severity: warning\n", 1)
    mine = tmp_path / "mine.yaml"
    mine.write_text(head + marker + tail, encoding="utf-8")
    objs = json.dumps([vpg("web", 1, 23)])
    assert run("triage", "--nagios", input=objs).returncode == 0
    p = run("--data", str(mine), "triage", "--nagios", input=objs)
    assert p.returncode == 1 and p.stdout.startswith(b"ZVPG WARNING")


def test_table_limit(run: Any) -> None:
    objs = [vpg(f"c{i}", 2, 6, actual=300 + i) for i in range(60)] + [vpg("w", 4, 0)] + [vpg("ok", 1, 0)]
    out = run("triage", "--limit", "3", input=json.dumps(objs), env={"COLUMNS": "120"}).stdout.decode()
    assert "... and 58 more" in out and "c59" in out and "c0 " not in out
    everything = run("triage", "--limit", "0", input=json.dumps(objs), env={"COLUMNS": "120"}).stdout.decode()
    assert "c0 " in everything and " w " in everything and "more" not in everything


def test_output_file_is_written_atomically(run: Any, tmp_path: Path) -> None:
    target = tmp_path / "zvpg.prom"
    p = run("triage", str(EXAMPLE), "--format", "prometheus", "--output", str(target))
    assert p.returncode == 0 and p.stdout == b""
    check_prometheus(target.read_text(), 7)
    assert target.stat().st_mode & 0o777 == 0o644
    assert [x.name for x in tmp_path.iterdir()] == ["zvpg.prom"]  # no temporary left behind
    missing = tmp_path / "missing" / "x.prom"  # a folder that cannot be written
    p = run("triage", str(EXAMPLE), "--format", "prometheus", "--output", str(missing))
    assert p.returncode == 2 and p.stderr.startswith(b"zvpg: cannot write to ") and not missing.parent.exists()
    p = run("triage", str(EXAMPLE), "--nagios", "--output", str(missing))
    assert p.returncode == 3 and p.stdout.startswith(b"ZVPG UNKNOWN - cannot write to ")


def test_many_unreadable_sites_stay_within_the_bound_and_are_never_ok() -> None:
    reads = [Read(None, f"site-{i}", f"https://zvm{i}:9669", "cannot connect: Connection refused")
             for i in range(10_000)]
    r = run_triage(load_kb(), reads)
    text, code = nagios(r)
    assert code == 3 and len(text.encode()) <= 8192
    state, perf = check_nagios(text)
    assert state == "UNKNOWN" and perf["sites_failed"] == "10000"
    assert r.summary.problem == "no site could be read"
    one_up = run_triage(load_kb(), [*reads[:3], Read(parse(json.dumps([vpg("a", 1, 0)]).encode()), "up", "https://up")])
    assert one_up.summary.state is Severity.UNKNOWN  # three sites down: nothing says they are fine

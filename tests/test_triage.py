"""`zvpg triage`: severities from status and substatus, and each monitoring
format checked against its specification, with hostile VPG names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from zvpg_cli.kb import load_kb
from zvpg_cli.output import monitoring
from zvpg_cli.payload import parse
from zvpg_cli.sanitize import printable
from zvpg_cli.triage import summarize, triage

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "vpgs.json"


def vpg(name: str, status: Any, sub: Any = 0, actual: Any = 10, conf: Any = 300,
        ident: str | None = None) -> dict[str, Any]:
    return {"VpgName": name, "VpgIdentifier": ident or f"id-{name}", "Status": status, "SubStatus": sub,
            "ActualRPO": actual, "ConfiguredRpoSeconds": conf}


def states_of(objs: list[dict[str, Any]], ratio: float | None = None) -> Any:
    return triage(load_kb(), parse(json.dumps(objs).encode()), ratio)


def test_substatus_changes_the_verdict() -> None:
    s = states_of([vpg("a", 1, 0), vpg("b", 1, 23), vpg("c", 1, 5), vpg("d", 2, 6), vpg("e", 4, 0), vpg("f", 1, 6)])
    sev = {x.name: x.severity for x in s}
    assert sev == {"a": "ok", "b": "ok", "c": "critical", "d": "critical", "e": "warning", "f": "warning"}
    c = next(x for x in s if x.name == "c")
    assert c.recovery == "possible" and c.protection_halted is True


def test_unknown_codes_rule() -> None:
    s = states_of([vpg("a", 42), vpg("b", 1, 99), vpg("c", "Bogus"), vpg("d", 1, "Backup")])
    sev = {x.name: x.severity for x in s}
    assert sev == {"a": "unknown", "b": "warning", "c": "unknown", "d": "ok"}
    summary = summarize(s)
    assert summary.state == "WARNING" and summary.counts["unknown"] == 2


def test_rpo_warning_ratio() -> None:
    objs = [vpg("near", 1, 0, actual=250, conf=300), vpg("far", 1, 0, actual=10, conf=300)]
    assert [x.severity for x in states_of(objs)] == ["ok", "ok"]
    s = states_of(objs, 0.8)
    assert [x.severity for x in s] == ["warning", "ok"] and "83%" in s[0].reasons[-1]


NAGIOS_FIRST = re.compile(r"^ZVPG (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+(?: \| ((?:[a-z_]+=\d+ ?)+))?$")


def check_nagios(text: str) -> tuple[str, dict[str, int]]:
    """Monitoring plugins guidelines: first line 'TEXT | PERFDATA'; further
    lines are long output, where no '|' may appear unless perfdata follows."""
    lines = text.rstrip("\n").split("\n")
    m = NAGIOS_FIRST.match(lines[0])
    assert m, lines[0]
    perf = dict(item.split("=") for item in (m.group(2) or "").split())
    for line in lines[1:]:
        assert "|" not in line, line
        assert "\x1b" not in line and "\r" not in line
    return m.group(1), {k: int(v) for k, v in perf.items()}


@pytest.mark.parametrize(("objs", "state", "code"), [
    ([vpg("a", 1, 0)], "OK", 0),
    ([vpg("a", 1, 0), vpg("b", 4, 0)], "WARNING", 1),
    ([vpg("a", 1, 0), vpg("b", 1, 5)], "CRITICAL", 2),
    ([vpg("a", 77)], "WARNING", 1),
])
def test_nagios_exit_codes(run: Any, objs: Any, state: str, code: int) -> None:
    p = run("triage", "--nagios", input=json.dumps(objs))
    assert p.returncode == code
    got, perf = check_nagios(p.stdout.decode())
    assert got == state
    assert set(perf) == {"critical", "warning", "ok", "unknown", "total"}


@pytest.mark.parametrize("data", [b"", b"[1,", b"42", b"\xff\xfe\x00\xd8"])
def test_nagios_unreadable_is_unknown(run: Any, data: bytes) -> None:
    p = run("triage", "--nagios", input=data)
    assert p.returncode == 3
    assert check_nagios(p.stdout.decode())[0] == "UNKNOWN"


def test_nagios_bad_knowledge_base_is_unknown(run: Any, tmp_path: Path) -> None:
    bad = tmp_path / "kb.yaml"
    bad.write_text("schema_version: [\n")
    p = run("--data", str(bad), "triage", "--nagios", input="[]")
    assert p.returncode == 3 and p.stdout.startswith(b"ZVPG UNKNOWN - cannot read knowledge base")


def test_nagios_example(run: Any) -> None:
    p = run("triage", "--nagios", str(EXAMPLE))
    state, perf = check_nagios(p.stdout.decode())
    assert (state, p.returncode) == ("CRITICAL", 2)
    assert perf == {"critical": 4, "warning": 1, "ok": 2, "unknown": 0, "total": 7}
    lines = p.stdout.decode().splitlines()
    assert lines[1].startswith("CRITICAL: ") and lines[-1].startswith("WARNING: Dev-Sandbox")
    assert any(line.startswith("CRITICAL: Exchange-2019: RPO Not Meeting SLA") for line in lines)


_METRIC = r"[a-z_]+=[0-9.e+-]+(?:;[0-9.e+-]*){0,4}"
CHECKMK_LINE = re.compile(rf'^([0-3]) "([^"\n]+)" (-|{_METRIC}(?:\|{_METRIC})*) (.+)$')


def check_checkmk(text: str, n: int) -> list[re.Match[str]]:
    lines = text.rstrip("\n").split("\n") if text else []
    assert len(lines) == n
    matches = []
    for line in lines:
        m = CHECKMK_LINE.match(line)
        assert m, line
        assert "\x1b" not in line and "\r" not in line
        matches.append(m)
    assert len({m.group(2) for m in matches}) == n, "service names must be unique"
    return matches


def test_checkmk(run: Any) -> None:
    p = run("triage", "--format", "checkmk", str(EXAMPLE))
    ms = check_checkmk(p.stdout.decode(), 7)
    by_service = {m.group(2): m for m in ms}
    assert by_service["Zerto VPG FileServer"].group(1) == "2"  # Meeting SLA, but protection halted
    assert by_service["Zerto VPG ERP-Prod"].group(1) == "0"
    assert "actual_rpo=1830;;300;0;" in by_service['Zerto VPG SQL-Cluster _A_ _ primary'].group(3)


def check_prometheus(text: str, n: int) -> dict[str, Any]:
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {"zvpg_vpg_severity", "zvpg_vpg_info", "zvpg_vpgs"} <= set(families)
    sev = families["zvpg_vpg_severity"]
    assert sev.type == "gauge" and len(sev.samples) == n
    assert len({tuple(sorted(s.labels.items())) for s in sev.samples}) == n, "series must be unique"
    return families


def test_prometheus(run: Any) -> None:
    p = run("triage", "--format", "prometheus", str(EXAMPLE))
    fam = check_prometheus(p.stdout.decode(), 7)
    names = {s.labels["vpg"] for s in fam["zvpg_vpg_severity"].samples}
    assert 'SQL-Cluster "A" | primary' in names
    counts = {s.labels["severity"]: s.value for s in fam["zvpg_vpgs"].samples}
    assert counts == {"critical": 4, "warning": 1, "unknown": 0, "ok": 2}


def test_json(run: Any) -> None:
    p = run("triage", "--format", "json", str(EXAMPLE))
    data = json.loads(p.stdout)
    assert data["summary"] == {"total": 7, "critical": 4, "warning": 1, "unknown": 0, "ok": 2, "state": "CRITICAL"}
    fs = next(v for v in data["vpgs"] if v["name"] == "FileServer")
    assert fs["failover_possible"] is True and fs["protection_halted"] is True


def test_table(run: Any) -> None:
    out = run("triage", str(EXAMPLE), env={"COLUMNS": "120"}).stdout.decode()
    assert "4 critical" in out and "Needs attention" in out
    assert out.index("Archive") < out.index("Exchange-2019")  # worst first


def test_same_names_and_ids_stay_distinct(run: Any) -> None:
    objs = [vpg("dup", 1, 5, ident="x"), vpg("dup", 1, 0, ident="x"), vpg("", 2, 0, ident="")]
    p = run("triage", "--format", "checkmk", input=json.dumps(objs))
    check_checkmk(p.stdout.decode(), 3)
    p = run("triage", "--format", "prometheus", input=json.dumps(objs))
    check_prometheus(p.stdout.decode(), 3)


hostile = st.text(alphabet=st.characters(codec="utf-8"), max_size=30) | st.sampled_from(
    ['a"b', "a\nb", "a|b", "\x1b[31mred", "\u202eevil", "back\\slash", "a\\nb", "x\r\ny", "", " ", "'; DROP"])


@settings(max_examples=150, deadline=None)
@given(st.lists(hostile, min_size=1, max_size=4))
def test_hostile_names_never_break_a_format(names: list[str]) -> None:
    objs = [vpg(name, 2, 6, ident=name) for name in names]
    states = states_of(objs)
    summary = summarize(states)
    text, _ = monitoring.nagios(states, summary)
    check_nagios(text)
    check_checkmk(monitoring.checkmk(states), len(names))
    fam = check_prometheus(monitoring.prometheus(states, summary), len(names))
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


def test_long_output_is_bounded_and_worst_first(run: Any) -> None:
    objs = [vpg(f"c{i}", 2, 6, actual=300 + i) for i in range(60)] + [vpg("w", 4, 0)] + [vpg("ok", 1, 0)]
    p = run("triage", "--nagios", input=json.dumps(objs))
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 1 + 50 + 1 and lines[-1] == "... and 11 more"
    assert lines[1].startswith("CRITICAL: c59:")  # the largest RPO overrun first
    out = run("triage", "--limit", "3", input=json.dumps(objs), env={"COLUMNS": "120"}).stdout.decode()
    assert "... and 58 more" in out and "c59" in out and "c0 " not in out
    everything = run("triage", "--limit", "0", input=json.dumps(objs), env={"COLUMNS": "120"}).stdout.decode()
    assert "c0 " in everything and " w " in everything and "more" not in everything


def test_details_only_for_problems_gives_the_same_answers() -> None:
    objs = [vpg(f"v{i}", *sc) for i, sc in enumerate([(1, 0), (2, 6), (1, 5), (4, 0), (1, 23), (9,)])]
    kb = load_kb()
    payload = parse(json.dumps(objs).encode())
    full = triage(kb, payload, all_details=True)
    lean = triage(kb, payload, all_details=False)
    assert [s.severity for s in full] == [s.severity for s in lean]
    assert [(s.name, s.actual_rpo) for s in full if s.severity != "ok"] == \
        [(s.name, s.actual_rpo) for s in lean if s.severity != "ok"]
    assert monitoring.nagios(full, summarize(full)) == monitoring.nagios(lean, summarize(lean))

"""What the monitoring outputs promise, checked without the daemons (the
tests/test_live_*.py modules run them): plugin output within --max-output
bytes, all performance data after the one `|` of the first line (where Icinga
2 and Nagios both read it), nothing on stderr under --nagios (warnings join the
long text), every hint zvpg prints runs, an empty answer is UNKNOWN and named,
and the rules' unit tests feed the labels zvpg really writes."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from conftest import KB_FILE, ROOT, run_zvpg
from fakezvm import FakeZvm
from hypothesis import given, settings
from hypothesis import strategies as st
from live import perfdata, rpo_values, site_vpgs

from zvpg_cli.knowledge.model import KnowledgeBase
from zvpg_cli.output.nagios import nagios
from zvpg_cli.output.report import hint
from zvpg_cli.sources.read import Read
from zvpg_cli.triage.report import Options
from zvpg_cli.triage.report import run as run_triage

pytest_plugins = ["fakezvm"]

RULE_TESTS = ROOT / "contrib" / "prometheus" / "zvpg-rules.test.yml"


def payload(kb: KnowledgeBase, objects: list[dict[str, Any]]) -> Any:
    from zvpg_cli.sources.payload import parse

    return parse(json.dumps(objects).encode())


_KB: list[KnowledgeBase] = []


def the_kb() -> KnowledgeBase:
    """The packaged knowledge base, loaded once (hypothesis tests take no fixtures)."""
    if not _KB:
        from zvpg_cli.knowledge.kb import load_kb

        _KB.append(load_kb(str(KB_FILE), use_cache=False))
    return _KB[0]


# ---- --nagios: bytes, performance data, stderr ---------------------------------------------

def check_grammar(out: str) -> dict[str, str]:
    """One `|` in the whole output, on the first line; what follows it parses."""
    first = out.partition("\n")[0]
    assert out.count("|") == 1 and "|" in first, out
    return perfdata(first.split("|", 1)[1].strip())


def test_the_first_line_is_cut_by_bytes(cli: Any) -> None:
    """A non-matching --vpg of 700 `é` (1,400 bytes) within --max-output 1024."""
    r = cli("triage", str(ROOT / "examples" / "three-vpgs.json"), "--nagios", "--max-output", "1024",
            "--vpg", "é" * 700)
    assert r.exit_code == 3
    assert len(r.stdout.encode("utf-8")) <= 1024, len(r.stdout.encode("utf-8"))
    assert r.stdout.startswith("ZVPG UNKNOWN - no VPG matches --vpg 'éé")
    check_grammar(r.stdout)


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(vpgs=st.lists(st.tuples(names, st.sampled_from([(1, 0), (2, 6), (0, 1), (3, 0), (12, 0)]),
                               st.integers(0, 10**7)), max_size=40),
       max_output=st.integers(1024, 9000))
def test_plugin_output_stays_within_max_output_and_every_datum_parses(vpgs: list[Any], max_output: int) -> None:
    kb = the_kb()
    objects = [{"VpgName": n, "VpgIdentifier": f"id-{i}", "Status": s, "SubStatus": ss, "ActualRPO": rpo,
                "ConfiguredRpoSeconds": 300} for i, (n, (s, ss), rpo) in enumerate(vpgs)]
    result = run_triage(kb, [Read(payload(kb, objects))])
    text, code = nagios(result, max_output, ["zvpg: warning: a note held back from stderr"])
    assert len(text.encode("utf-8")) <= max_output
    data = check_grammar(text)
    assert {"critical", "warning", "ok", "unknown", "total"} <= set(data)
    counts = {"critical", "warning", "ok", "unknown", "total"}
    rpos = [v for k, v in data.items() if k not in counts]  # (labels are unique: perfdata() refuses one twice)
    assert all(re.fullmatch(r"\d+s", v) for v in rpos)
    shown = len(rpos)
    assert shown == len(objects) or "not shown (--max-output" in text
    assert code in (0, 1, 2, 3)


def test_nagios_writes_nothing_on_stderr_and_says_every_warning_once(windows_zvm: FakeZvm, tmp_path: Path) -> None:
    """--insecure, a state file that cannot be used and a home folder that
    cannot hold the session cache: each said once in the long text, stderr
    empty; the status line first."""
    windows_zvm.vpgs = site_vpgs()
    (tmp_path / "file").write_text("")  # a file, so that no folder can be made below it
    env = {k: v for k, v in os.environ.items() if k != "ZVPG_CACHE_DIR"}
    env.update(ZVPG_PASSWORD=windows_zvm.password, HOME=str(tmp_path / "file" / "home"),
               XDG_CACHE_HOME=str(tmp_path / "file" / "cache"))
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", "triage", "--nagios", "--zvm", windows_zvm.url,
                        "--user", "monitor", "--insecure", "--state", str(tmp_path / "file" / "state.db"),
                        "--skip", "alerts", "--skip", "vras", "--skip", "peers", "--skip", "tests"],  # the VPGs alone
                       capture_output=True, env=env, timeout=60)
    out = p.stdout.decode()
    assert p.stderr == b""
    assert p.returncode == 2, out  # the Delta Sync, stateless: critical
    assert out.startswith("ZVPG CRITICAL - ")
    for said in ("TLS certificate verification is off (--insecure)", "state file not used",
                 "no session cache"):
        assert out.count(said) == 1, (said, out)
    assert check_grammar(out) == {"critical": "1", "warning": "1", "ok": "2", "unknown": "0", "total": "4",
                                  "sites": "1", "sites_failed": "0",
                                  **rpo_values(site_vpgs(), exclude="\0")}


def test_nagios_unknown_writes_nothing_on_stderr(tmp_path: Path) -> None:
    """A ZVM that cannot be read: the UNKNOWN line, the warnings below it, stderr empty."""
    from live import free_port

    p = run_zvpg("triage", "--nagios", "--zvm", f"https://127.0.0.1:{free_port()}", "--user", "monitor",
                 "--insecure", "--timeout", "2", env={"ZVPG_PASSWORD": "x", "ZVPG_CACHE_DIR": str(tmp_path)})
    assert p.returncode == 3 and p.stderr == b""
    first, _, rest = p.stdout.decode().partition("\n")
    assert first.startswith("ZVPG UNKNOWN - no site could be read; 1 of 1 sites unreadable (127.0.0.1:")
    assert first.endswith(" sites=1 sites_failed=1")  # the report, as for several sites
    assert "TLS certificate verification is off" in rest


def test_other_formats_still_warn_on_stderr(windows_zvm: FakeZvm) -> None:
    p = run_zvpg("triage", "--json", "--zvm", windows_zvm.url, "--user", "monitor", "--insecure",
                 env={"ZVPG_PASSWORD": windows_zvm.password})
    assert b"TLS certificate verification is off" in p.stderr


# ---- empty answers -------------------------------------------------------------------------

def test_an_empty_site_among_several_is_unknown_and_named(kb: KnowledgeBase) -> None:
    reads = [Read(payload(kb, site_vpgs()[:1]), "nyc", "https://nyc"), Read(payload(kb, []), "lon", "https://lon")]
    result = run_triage(kb, reads, Options(exclude=("Dev-*", "Test-*")))
    assert result.summary.state.name == "UNKNOWN"
    assert result.summary.problem == "site lon answered no VPGs (--allow-empty: that is fine)"
    ok = run_triage(kb, reads, Options(exclude=("Dev-*",), allow_empty=True))
    assert ok.summary.state.name == "OK" and ok.summary.problem is None


def test_checkmk_says_an_empty_site_is_unknown(kb: KnowledgeBase) -> None:
    from zvpg_cli.output.checkmk import checkmk

    reads = [Read(payload(kb, site_vpgs()[:1]), "nyc", "https://nyc"), Read(payload(kb, []), "lon", "https://lon")]
    lines = "".join(checkmk(run_triage(kb, reads))).splitlines()
    assert '3 "Zerto site lon" - answered no VPGs' in lines
    assert '0 "Zerto site nyc" - read: 1 objects' in lines


def test_an_empty_input_is_never_blamed_on_the_filters(cli: Any) -> None:
    r = cli("triage", "--nagios", "--exclude", "Dev-*", "-", input="[]")
    assert r.exit_code == 3
    assert r.stdout.startswith("ZVPG UNKNOWN - nothing to check: the input holds no VPGs")
    assert "--exclude" not in r.stdout


# ---- every hint runs -----------------------------------------------------------------------

def every_state(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """An object in each status with no substatus, each substatus under Not
    Meeting SLA, codes and names zvpg does not know, and a missing SubStatus."""
    statuses = [s.api_code for s in kb.statuses if s.api_code is not None]
    substatuses = [s.api_code for s in kb.substatuses if s.api_code is not None]
    pairs: list[tuple[Any, Any]] = [(s, 0) for s in statuses] + [(2, ss) for ss in substatuses] + [(0, 1)]
    pairs += [(12, 0), (1, 40), ("FooBar", 0), ("MeetingSLA", "NoSuchSub"), (-1, 0), (1, None)]
    out = []
    for i, (s, ss) in enumerate(pairs):
        obj: dict[str, Any] = {"VpgName": f"v{i}", "VpgIdentifier": f"id-{i}", "Status": s, "ActualRPO": 1,
                               "ConfiguredRpoSeconds": 300}
        if ss is not None:
            obj["SubStatus"] = ss
        out.append(obj)
    return out


def runs(cli: Any, command: str) -> None:
    """The command, as a shell would split it, answers (exit 0, or 1 with an
    answer for codes zvpg does not know), never a usage error."""
    args = shlex.split(command)
    assert args[0] == "zvpg", command
    r = cli(*args[1:])
    assert r.exit_code in (0, 1) and r.stdout.strip(), (command, r.exit_code, r.stdout, r.stderr)
    if args[1] == "explain":
        assert r.exit_code == 0, (command, r.stderr)


def test_every_hint_zvpg_prints_runs(cli: Any, kb: KnowledgeBase, tmp_path: Path) -> None:
    source = tmp_path / "every.json"
    source.write_text(json.dumps(every_state(kb)))
    hints: set[str] = set()
    table = cli("triage", str(source), "--limit", "0", env={"COLUMNS": "400"}).stdout
    hints |= set(re.findall(r"^\s*(?:Why, and what to do: )?(zvpg (?:explain|decode) .*?)\s*$", table, re.M))
    nagios_out = cli("triage", str(source), "--nagios").stdout
    hints |= set(re.findall(r"^Why, and what to do: (zvpg .*)$", nagios_out, re.M))
    prom = cli("triage", str(source), "--format", "prometheus").stdout
    written = {json.loads(f'"{h}"') for h in re.findall(r'hint="((?:[^"\\]|\\.)*)"', prom)}
    assert len(written) >= 40, written
    hints |= written - {""}
    assert any(h.startswith("zvpg decode 12 0") for h in hints)
    assert 'zvpg explain "RPO Not Meeting SLA"' in hints
    for command in sorted(hints):
        runs(cli, command)


def test_the_hint_of_each_row_names_its_state(kb: KnowledgeBase) -> None:
    result = run_triage(kb, [Read(payload(kb, every_state(kb)))])
    by_name = {r.name: hint(r) for r in result.rows}
    assert by_name["v1"] == 'zvpg explain "Meeting SLA"'
    assert by_name[f"v{len(by_name) - 1}"] == 'zvpg explain "Meeting SLA"'  # SubStatus missing: the status alone
    assert by_name[f"v{len(by_name) - 4}"] == "zvpg decode FooBar 0"


# ---- the rules' unit tests feed zvpg's real labels ------------------------------------------

def test_the_rule_tests_use_the_labels_zvpg_writes(cli: Any, kb: KnowledgeBase, tmp_path: Path) -> None:
    """Every zvpg_vpg_info series of the promtool tests has the labels zvpg
    writes, with the values zvpg writes for its state (hint included); every
    command in an expected description runs."""
    source = tmp_path / "every.json"
    source.write_text(json.dumps(every_state(kb)))
    prom = cli("triage", str(source), "--format", "prometheus").stdout
    real = {}
    for labels in re.findall(r"^zvpg_vpg_info\{(.*)\} 1$", prom, re.M):
        d = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
        real[(d["status"], d["substatus"])] = d
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    seen = 0
    for t in tests:
        for s in t["input_series"]:
            if not s["series"].startswith("zvpg_vpg_info{"):
                continue
            d = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', s["series"]))
            mine = real.get((d["status"], d["substatus"]))
            assert mine is not None, f"zvpg never writes status={d['status']!r} substatus={d['substatus']!r}"
            identity = {"vpg", "id", "site", "vm", "run"}
            assert {k: v for k, v in d.items() if k not in identity} == \
                {k: v for k, v in mine.items() if k not in identity}, s["series"]
            seen += 1
        for check in t["alert_rule_test"]:
            for alert in check.get("exp_alerts") or []:
                for command in re.findall(r"(zvpg (?:explain|decode) .*)$", alert["exp_annotations"]["description"]):
                    runs(cli, command)
    assert seen >= 8

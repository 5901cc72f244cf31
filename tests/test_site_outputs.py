"""Every triage format shows the site around the VPGs: the causes that explain
many VPGs, the findings (alerts, VRAs, peer sites, failover tests) and the
parts of sites that could not be read. One report has it all (examples/site:
the peer WCHL - CA lost by 20 VPGs with its ZVM0003 alert, a VRA in Status 5,
a test 400 days old and one never run; plus an unpaired peer, and a second
site whose /v1/alerts answers an unlicensed ZVM's 403), and each output is
checked against its format's own grammar or tool (tests/formats.py, promtool,
the JSON Schema), not against a second copy of the writer."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from formats import check_checkmk, check_nagios
from hypothesis import given, settings
from hypothesis import strategies as st
from live import tool
from prometheus_client.parser import text_string_to_metric_families
from test_human_output_fits_the_width import assert_fits
from test_schemas import validator

from zvpg_cli.sources.read import Read
from zvpg_cli.sources.shape import parse_any
from zvpg_cli.triage.report import Options, Report, run

SITE = ROOT / "examples" / "site"
#: 2026-12-09 16:53:20 UTC: ERP-Prod's last test is 405 days old, app00-19's 67 days.
NOW = 1796900000
LICENCE = 'its answer to GET /v1/alerts: HTTP 403: {"Message":"Valid License is not provided "}'
UNPAIRED = {"HostName": "zvm.dr2.example", "PairingStatus": 2, "PeerSiteName": "DR-Site-02", "Port": 9081,
            "SiteIdentifier": "6b3d2a8e-0000-4000-8000-00000000dr02", "Version": "9.7"}
_KB: list[Any] = []


def objects(part: str) -> Any:
    return json.loads((SITE / f"{part}.json").read_text(encoding="utf-8"))


def reads_of(site: str | None, parts: dict[str, Any]) -> list[Read]:
    """One site's parts, each recognised by its shape as a file would be (an
    empty list, which has none, by its name, as a ZVM's answer is)."""
    out = []
    for name, obj in parts.items():
        part, payload = parse_any(json.dumps(obj).encode(), None if obj else name)
        out.append(Read(payload, site, site and f"https://{site}.example:9669", part=part))
    return out


def site_parts(**changes: Any) -> dict[str, Any]:
    parts = {name: objects(name) for name in ("vpgs", "alerts", "vras", "peers")}
    parts["peers"].append(UNPAIRED)
    parts.update(changes)
    return parts


def site_report(two_sites: bool = True, now: float | None = NOW, **changes: Any) -> Report:
    """examples/site with an unpaired peer, read from site nyc; with
    `two_sites`, also from site lab, whose alerts could not be read; judged at
    `now` (None: now)."""
    if not _KB:
        from zvpg_cli.knowledge.kb import load_kb

        _KB.append(load_kb())
    if not two_sites:
        return run(_KB[0], reads_of(None, site_parts(**changes)), Options(now=now))
    lab = {k: v for k, v in site_parts(**changes).items() if k != "alerts"}
    reads = [*reads_of("nyc", site_parts(**changes)), *reads_of("lab", lab),
             Read(None, "lab", "https://lab.example:9669", LICENCE, part="alerts")]
    return run(_KB[0], reads, Options(now=now))


def nagios_text(report: Report, max_output: int = 8192) -> tuple[str, int]:
    from zvpg_cli.output.nagios import nagios

    return nagios(report, max_output)


# ---- Nagios ------------------------------------------------------------------------------

def test_nagios_leads_with_the_cause_then_what_it_does_not_explain() -> None:
    text, code = nagios_text(site_report(two_sites=False))
    state, perf = check_nagios(text)
    first = text.partition("\n")[0]
    assert (state, code) == ("CRITICAL", 2)
    assert first.startswith("ZVPG CRITICAL - no connection to site WCHL - CA (ZVM0003): 20 VPGs; "), first
    head = first.partition(" | ")[0]
    assert "app0" not in head and "app1" not in head, "the 20 VPGs are said by their cause"
    assert "VRA Z-VRA-esx03.nyc.example (host esx03.nyc.example): InstallationError (Status 5)" in head
    assert "peer site DR-Site-02: Unpaired (PairingStatus 2)" in head
    assert re.search(r"; 2 VPGs (not tested in 180d|with a failover test overdue) \(1 never tested\)", head), head
    assert "ERP-Prod" not in head and "HR-Files" not in head, "tests are summed, not named"
    assert {k: perf[k] for k in ("critical", "ok", "alerts_critical", "vras_not_installed", "peers_unpaired",
                                 "tests_overdue", "tests_never", "tests_running", "parts_failed", "causes")} == \
        {"critical": "20", "ok": "3", "alerts_critical": "1", "vras_not_installed": "1", "peers_unpaired": "1",
         "tests_overdue": "2", "tests_never": "1", "tests_running": "0", "parts_failed": "0", "causes": "1"}


def test_nagios_long_text_gives_the_cause_its_vpgs_the_findings_then_each_vpg_pointing_at_it() -> None:
    text, _ = nagios_text(site_report(two_sites=False))
    lines = text.rstrip("\n").split("\n")[1:]
    cause = next(i for i, line in enumerate(lines) if line.startswith("CRITICAL: no connection to site WCHL"))
    assert "app00, app01" in lines[cause] and "app19" in lines[cause]
    vra = next(i for i, line in enumerate(lines) if line.startswith("CRITICAL: VRA Z-VRA-esx03"))
    tests = next(i for i, line in enumerate(lines) if line.startswith("WARNING: 2 VPGs"))
    assert "ERP-Prod (last tested 405d" in lines[tests] and "HR-Files (never tested)" in lines[tests]
    app = [i for i, line in enumerate(lines) if line.startswith("CRITICAL: app")]
    assert len(app) == 20 and cause < vra < tests < min(app)
    assert all("; explained by: no connection to site WCHL - CA (ZVM0003) (zvpg's judgement: linked by "
               in lines[i] for i in app)
    assert "zvpg's judgement" in lines[vra], "a finding says whose judgement it is"


def test_nagios_names_a_part_that_could_not_be_read() -> None:
    text, code = nagios_text(site_report())
    state, perf = check_nagios(text)
    first = text.partition("\n")[0]
    assert (state, code) == ("CRITICAL", 2)
    assert 'alerts of site lab unreadable: its answer to GET /v1/alerts: HTTP 403: {"Message":"Valid License' \
        in first, first
    assert perf["parts_failed"] == "1" and perf["sites"] == "2" and perf["sites_failed"] == "0"
    assert any(line.startswith("UNKNOWN: alerts of site lab unreadable: ") for line in text.split("\n"))


def test_an_unreadable_part_alone_is_a_warning_never_ok() -> None:
    healthy = [{**v, "Status": 1, "SubStatus": 0, "ActualRPO": 5, "LastTest": "2026-11-30T10:00:00Z"}
               for v in objects("vpgs")]
    vras = [{**v, "Status": 0} for v in objects("vras")]
    report = site_report(vpgs=healthy, vras=vras, alerts=[], peers=objects("peers"))
    text, code = nagios_text(report)
    state, perf = check_nagios(text)
    assert (state, code) == ("WARNING", 1), text
    assert perf["parts_failed"] == "1"
    assert text.startswith("ZVPG WARNING - 0 critical, 0 warning, 46 ok; alerts of site lab unreadable: ")


def test_findings_lead_the_first_line_when_every_vpg_is_ok() -> None:
    healthy = [{**v, "Status": 1, "SubStatus": 0, "ActualRPO": 5, "LastTest": "2026-11-30T10:00:00Z"}
               for v in objects("vpgs")]
    text, code = nagios_text(site_report(two_sites=False, vpgs=healthy, alerts=[]))
    assert code == 2
    assert text.startswith("ZVPG CRITICAL - VRA Z-VRA-esx03.nyc.example (host esx03.nyc.example): "
                           "InstallationError (Status 5), peer site DR-Site-02: Unpaired (PairingStatus 2); "
                           "0 critical, 0 warning, 23 ok | "), text.partition("\n")[0]


@pytest.mark.parametrize("max_output", [1024, 1100, 1500, 2500, 4000, 8192])
def test_nagios_site_output_stays_within_max_output(max_output: int) -> None:
    for report in (site_report(), site_report(two_sites=False)):
        text, _ = nagios_text(report, max_output)
        assert len(text.encode("utf-8")) <= max_output
        _, perf = check_nagios(text)
        assert "parts_failed" in perf and "causes" in perf, "the counts always, whatever is cut"
        if max_output < 4000:
            assert "not shown (--max-output" in text


# ---- the table -----------------------------------------------------------------------------

def table(report: Report, width: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    from zvpg_cli.output.report import print_table

    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    print_table(report, 25)
    return capsys.readouterr().out


def test_the_table_shows_causes_findings_and_unreadable_parts(capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    text = table(site_report(), 200, capsys, monkeypatch)
    lines = text.split("\n")
    part = next(i for i, line in enumerate(lines) if line.startswith("Alerts of site lab unreadable: "))
    cause = next(i for i, line in enumerate(lines)
                 if line == "One cause for 20 VPGs: [nyc] no connection to site WCHL - CA (ZVM0003)")
    findings = lines.index("Site health, worst first")
    vpgs = lines.index("Needs attention, worst first")
    assert part < cause < findings < vpgs
    severities = [line.split()[0] for line in lines[findings:vpgs] if line.split()[:1] in (["critical"], ["warning"])]
    assert severities == ["critical"] * 4 + ["warning"] * 4  # ZVM0003 is counted in its cause
    assert any("DR-Site-02" in line and "Unpaired (PairingStatus 2)" in line for line in lines[findings:vpgs])
    assert any("[lab] failover test of VPG HR-Files" in line and "never tested" in line
               for line in lines[findings:vpgs])


@pytest.mark.parametrize("width", [50, 60, 80, 120])
def test_the_site_section_fits_the_width_without_breaking_a_word(width: int, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    report = site_report()
    narrow = table(report, width, capsys, monkeypatch)
    assert_fits(narrow, width, table(report, 1000, capsys, monkeypatch))


def test_the_table_stacks_findings_when_narrow(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    text = table(site_report(), 50, capsys, monkeypatch)
    assert "Severity   What" not in text
    assert re.search(r"^critical  \[nyc\] peer site DR-Site-02$\n {10}Unpaired \(PairingStatus 2\)$", text, re.M), text


# ---- JSON ----------------------------------------------------------------------------------

def json_of(report: Report) -> Any:
    from zvpg_cli.output.report import json_chunks

    return json.loads(b"".join(json_chunks(report)))


def test_json_carries_findings_causes_and_failed_parts_and_validates() -> None:
    doc = json_of(site_report())
    validator("triage.schema.json").validate(doc)
    assert doc["summary"]["failed_parts"] == [{"site": "lab", "url": "https://lab.example:9669", "part": "alerts",
                                               "error": LICENCE}]
    assert doc["summary"]["findings"]["critical"] == 4  # VRA x2, the peer x2 (ZVM0003 is counted in its cause)
    zvm0003 = next(f for f in doc["findings"] if f["name"] == "ZVM0003")
    assert not zvm0003["counted"] and len(zvm0003["attached"]) == 20
    assert [(c["text"], c["site"], len(c["rows"])) for c in doc["causes"]] == [
        ("no connection to site WCHL - CA (ZVM0003)", "nyc", 20),
        ("no connection to site WCHL - CA (substatus Site disconnection)", "lab", 20)]
    by = {(f["site"], f["kind"], f["name"]): f for f in doc["findings"]}
    vra = by[("nyc", "vra", "Z-VRA-esx03.nyc.example")]
    assert (vra["code"], vra["identifier"], vra["about"], vra["severity"]) == \
        (5, "8501166845681512322", "esx03.nyc.example", "critical")
    assert vra["basis"]["severity"] == "zvpg"
    never = by[("lab", "test", "HR-Files")]
    assert never["facts"]["never"] is True and never["since"] is None and never["severity"] == "warning"
    old = by[("nyc", "test", "ERP-Prod")]
    assert NOW - old["since"] > 400 * 86400 and "age_seconds" not in old["facts"]
    alert = by[("nyc", "alert", "ZVM0003")]
    assert alert["counted"] is False and alert["facts"]["level"] == "Error"  # counted in its cause
    rows = {r["label"]: r for r in doc["vpgs"]}
    assert any(r.startswith("explained by: no connection to site WCHL - CA (ZVM0003) (zvpg's judgement: linked by ")
               for r in rows["[nyc] app07"]["reasons"])


def test_json_of_vpgs_alone_keeps_its_keys_and_adds_the_tests(cli: Any) -> None:
    doc = json.loads(cli("triage", str(ROOT / "examples" / "vpgs.json"), "--json").stdout)
    validator("triage.schema.json").validate(doc)
    assert {f["kind"] for f in doc["findings"]} == {"test"}
    assert (doc["causes"], doc["summary"]["failed_parts"]) == ([], [])
    assert list(doc)[-1] == "vpgs"
    old = json.loads(cli("triage", str(ROOT / "examples" / "three-vpgs.json"), "--json").stdout)
    assert (old["findings"], old["causes"]) == ([], []), "a payload without LastTest: nothing around the VPGs"


# ---- Checkmk ---------------------------------------------------------------------------------

def checkmk_lines(report: Report) -> dict[str, Any]:
    from zvpg_cli.output.checkmk import checkmk

    text = "".join(checkmk(report))
    return {m.group(2): m for m in check_checkmk(text, text.count("\n"))}


def test_checkmk_has_a_service_per_vra_peer_and_site_part() -> None:
    lines = checkmk_lines(site_report())
    state = {name: int(m.group(1)) for name, m in lines.items()}
    assert state["Zerto nyc VRA Z-VRA-esx03.nyc.example"] == 2
    assert state["Zerto nyc VRA Z-VRA-esx01.nyc.example"] == 0
    assert state["Zerto nyc peer site DR-Site-02"] == 2
    # nyc's ZVM0003 is counted in its cause, on the 20 VPG services it explains
    assert state["Zerto nyc alerts"] == 0 and state["Zerto lab alerts"] == 3
    assert "ZVM0003: No connection to site" in lines["Zerto nyc alerts"].group(4)
    assert "Valid License is not provided" in lines["Zerto lab alerts"].group(4)
    assert state["Zerto nyc failover tests"] == 1
    tests = lines["Zerto nyc failover tests"].group(4).split(" \\n")
    assert re.match(r"2 VPGs (not tested in 180d|with a failover test overdue) \(1 never tested\)$", tests[0])
    assert tests[1:] == ["[nyc] ERP-Prod (last tested 405d 12h ago)", "[nyc] HR-Files (never tested)"]
    assert lines["Zerto nyc alerts"].group(3) == "alerts_critical=1|alerts_warning=0"
    app = lines["Zerto nyc VPG app03"].group(4).split(" \\n")
    assert "; explained by: no connection to site WCHL - CA (ZVM0003) (zvpg's judgement: linked by " in app[0]


def test_checkmk_services_stay_when_all_is_well() -> None:
    """A change of state never adds, drops or renames a service: no alert left, the VRA
    installed and the peer paired, every VPG tested."""
    well = site_report(alerts=[], vras=[{**v, "Status": 0} for v in objects("vras")],
                       peers=[*objects("peers"), {**UNPAIRED, "PairingStatus": 0}],
                       vpgs=[{**v, "LastTest": "2026-11-30T10:00:00Z"} for v in objects("vpgs")])
    before, after = checkmk_lines(site_report()), checkmk_lines(well)
    assert set(before) == set(after)
    assert int(after["Zerto nyc alerts"].group(1)) == 0
    assert after["Zerto nyc alerts"].group(4) == "0 alerts not dismissed, 0 not ok on its own"
    assert int(after["Zerto nyc failover tests"].group(1)) == 0


def test_checkmk_says_unreadable_vras_on_the_site_service() -> None:
    from zvpg_cli.knowledge.kb import load_kb

    reads = [*reads_of("nyc", site_parts()), *reads_of("lab", {"vpgs": objects("vpgs")}),
             Read(None, "lab", "https://lab.example:9669", "timed out after 30 s", part="vras")]
    lines = checkmk_lines(run(load_kb(), reads, Options(now=NOW)))
    assert lines["Zerto site lab"].group(1) == "3"
    assert lines["Zerto site lab"].group(4) == "read: 23 objects; VRAs of site lab unreadable: timed out after 30 s"
    assert lines["Zerto site nyc"].group(1) == "0"


# ---- Prometheus --------------------------------------------------------------------------------

def prometheus_text(report: Report, run_name: str | None = None) -> str:
    from zvpg_cli.output.prometheus import prometheus

    return "".join(prometheus(report, run_name))


def promtool_lint(text: str) -> None:
    promtool = tool("promtool", "prometheus")
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    assert p.returncode == 0 and not p.stdout and not p.stderr, (p.stdout + p.stderr).decode()


def samples(text: str) -> dict[str, list[Any]]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


@pytest.mark.parametrize("two_sites", [True, False])
def test_prometheus_site_series_are_exact_and_promtool_clean(two_sites: bool) -> None:
    text = prometheus_text(site_report(two_sites), "sites")
    promtool_lint(text)
    found = samples(text)
    site = {"site": "nyc"} if two_sites else {}

    def value(name: str, **labels: str) -> float:
        want = {"run": "sites", **site, **labels}
        hits = [s.value for s in found[name] if all(s.labels.get(k) == v for k, v in want.items())]
        assert len(hits) == 1, (name, labels, hits)
        return float(hits[0])

    assert value("zvpg_vra_status", vra="Z-VRA-esx03.nyc.example", id="8501166845681512322",
                 host="esx03.nyc.example") == 5
    assert value("zvpg_vra_severity", id="8501166845681512322") == 2
    assert value("zvpg_peer_pairing_status", peer="DR-Site-02") == 2
    assert value("zvpg_peer_severity", peer="WCHL - CA") == 0
    assert value("zvpg_alert_info", code="ZVM0003", level="Error", severity="critical") == 1
    assert value("zvpg_alerts", severity="critical") == 1
    assert value("zvpg_vpg_last_test_age_seconds", vpg="ERP-Prod") > 400 * 86400
    assert value("zvpg_vpg_last_test_timestamp_seconds", vpg="ERP-Prod") == 1761862507.022
    assert value("zvpg_vpg_never_tested", vpg="HR-Files") == 1
    assert value("zvpg_vpg_never_tested", vpg="ERP-Prod") == 0
    assert value("zvpg_vpg_test_running", vpg="HR-Files") == 0
    assert value("zvpg_vpg_test_severity", vpg="HR-Files") == 1
    assert not [s for s in found["zvpg_vpg_last_test_age_seconds"] if s.labels["vpg"] == "HR-Files"]
    assert value("zvpg_cause_vpgs", cause="no connection to site WCHL - CA (ZVM0003)") == 20
    if two_sites:
        assert value("zvpg_site_part_up", site="lab", part="alerts") == 0
        assert value("zvpg_site_part_up", site="lab", part="vras") == 1
    # a VPG's test series carry the VPG's own labels (the joins of the rules)
    vpg = {tuple(sorted(s.labels.items())) for s in found["zvpg_vpg_severity"]}
    assert {tuple(sorted(s.labels.items())) for s in found["zvpg_vpg_never_tested"]} == vpg


def test_prometheus_labels_never_change_with_state() -> None:
    """The same objects in other states: every series keeps its labels (only zvpg_alert_info,
    zvpg_cause_vpgs and the part of a site that comes back change their sets)."""
    well = site_report(vras=[{**v, "Status": 0} for v in objects("vras")],
                       peers=[*objects("peers"), {**UNPAIRED, "PairingStatus": 0}],
                       vpgs=[{**v, "LastTest": "2026-11-30T10:00:00Z", "Status": 1, "SubStatus": 0}
                             for v in objects("vpgs")])
    before, after = samples(prometheus_text(site_report())), samples(prometheus_text(well))
    for name in ("zvpg_vra_status", "zvpg_vra_severity", "zvpg_peer_pairing_status", "zvpg_peer_severity",
                 "zvpg_vpg_never_tested", "zvpg_vpg_test_severity", "zvpg_vpg_test_running", "zvpg_alerts"):
        assert {tuple(sorted(s.labels.items())) for s in before[name]} == \
            {tuple(sorted(s.labels.items())) for s in after[name]}, name


def test_prometheus_of_vpgs_alone_writes_the_tests_and_no_family_of_a_part_not_read(cli: Any) -> None:
    out = cli("triage", str(ROOT / "examples" / "vpgs.json"), "--format", "prometheus").stdout
    for name in ("zvpg_vra_", "zvpg_peer_", "zvpg_alert", "zvpg_site_part_up"):
        assert name not in out, name
    assert "zvpg_vpg_never_tested{" in out


def test_the_rule_tests_feed_site_series_the_labels_zvpg_writes() -> None:
    """Every input series of the rules' unit tests that is a site family zvpg
    writes has exactly the labels zvpg writes for it (site, run, instance and
    job aside: they depend on the run and the scrape)."""
    written: dict[str, set[str]] = {}
    for report in (site_report(), site_report(two_sites=False)):
        for name, found in samples(prometheus_text(report)).items():
            for s in found:
                written.setdefault(name, set()).update(s.labels)
    tests = yaml.safe_load((ROOT / "contrib" / "prometheus" / "zvpg-rules.test.yml").read_text(encoding="utf-8"))
    seen = 0
    for t in tests["tests"]:
        for series in t["input_series"]:
            name, _, labels = series["series"].partition("{")
            if not any(name.startswith(p) for p in ("zvpg_vra_", "zvpg_peer_", "zvpg_site_part_",
                                                   "zvpg_vpg_test_", "zvpg_vpg_last_test_", "zvpg_vpg_never_")):
                continue
            assert name in written, f"zvpg never writes {name}"
            keys = set(re.findall(r'(\w+)="', labels)) - {"site", "run", "instance", "job"}
            assert keys == written[name] - {"site", "run"}, series["series"]
            seen += 1
    assert seen >= 15


def test_prometheus_rules_fire_on_zvpgs_own_site_output(tmp_path: Path) -> None:
    """zvpg's real output for the site, fed to the shipped rules for 70 minutes:
    the VRA, the unpaired peer, both overdue tests and the unreadable part fire."""
    promtool = tool("promtool", "prometheus")
    found = samples(prometheus_text(site_report()))
    series = []
    for name in ("zvpg_vra_status", "zvpg_vra_severity", "zvpg_peer_pairing_status", "zvpg_vpg_test_severity",
                 "zvpg_site_part_up"):
        for s in found[name]:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            series.append({"series": f"{name}{{{labels}}}", "values": f"{s.value:g}x70"})
    alerts = {"ZvpgVraNotInstalled": 2, "ZvpgPeerUnpaired": 2, "ZvpgFailoverTestOverdue": 4,
              "ZvpgSitePartUnreadable": 1}
    checks = []
    for name, n in alerts.items():
        firing = [{"exp_labels": labels} for labels in _expected(found, name)]
        assert len(firing) == n, (name, firing)
        checks.append({"eval_time": "70m", "alertname": name, "exp_alerts": firing})
    rules = ROOT / "contrib" / "prometheus" / "zvpg-rules.yml"
    shipped = yaml.safe_load(rules.read_text(encoding="utf-8"))
    for group in shipped["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations")  # their wording is the promtool tests' to check; here, which alerts fire
    (tmp_path / "zvpg-rules.yml").write_text(yaml.safe_dump(shipped), encoding="utf-8")
    doc = {"rule_files": ["zvpg-rules.yml"], "evaluation_interval": "1m",
           "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}]}
    (tmp_path / "t.yml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    p = subprocess.run([promtool, "test", "rules", "t.yml"], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


def _expected(found: dict[str, list[Any]], alert: str) -> list[dict[str, str]]:
    """The labels each alert should fire with, from zvpg's own series."""
    def labels(s: Any, severity: str) -> dict[str, str]:
        return {**s.labels, "severity": severity}

    if alert == "ZvpgVraNotInstalled":
        bad = {tuple(sorted(s.labels.items())) for s in found["zvpg_vra_severity"] if s.value == 2}
        return [labels(s, "critical") for s in found["zvpg_vra_status"]
                if s.value != 0 and tuple(sorted(s.labels.items())) in bad]
    if alert == "ZvpgPeerUnpaired":
        return [labels(s, "critical") for s in found["zvpg_peer_pairing_status"] if s.value == 2]
    if alert == "ZvpgFailoverTestOverdue":
        return [labels(s, "warning") for s in found["zvpg_vpg_test_severity"] if s.value >= 1]
    return [labels(s, "warning") for s in found["zvpg_site_part_up"] if s.value == 0]


# ---- any names, any codes ------------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)
CODE = st.one_of(st.none(), st.integers(-3, 12), st.integers(2**53, 2**64), st.text(max_size=6), st.booleans())


@settings(max_examples=40, deadline=None)
@given(vra=TEXT, host=TEXT, peer=TEXT, code=TEXT, title=TEXT, status=CODE, pairing=CODE, two_sites=st.booleans(),
       max_output=st.integers(1024, 6000))
def test_any_names_and_codes_keep_every_format_in_its_grammar(vra: str, host: str, peer: str, code: str, title: str,
                                                              status: Any, pairing: Any, two_sites: bool,
                                                              max_output: int) -> None:
    """Names with quotes, `|`, `=`, newlines, control characters; codes of any
    type: each format stays within its grammar (and --max-output), and the
    Prometheus series stay unique (prometheus_client's parser; promtool runs
    on the fixed report above)."""
    report = site_report(
        two_sites,
        vras=[{"VraName": vra, "VraIdentifierStr": vra, "HostDisplayName": host, "Status": status,
               "ProtectedCounters": {"Vpgs": 1}},
              {"VraName": vra, "VraIdentifierStr": vra, "HostDisplayName": host, "Status": 5}],
        peers=[{"PeerSiteName": peer, "SiteIdentifier": peer, "PairingStatus": pairing}],
        alerts=[{"HelpIdentifier": code, "Level": "Error", "IsDismissed": False, "Description": title,
                 "TurnedOn": "/Date(1796605960000)/", "Site": {"identifier": peer}, "AffectedVpgs": []}])
    text, _ = nagios_text(report, max_output)
    assert len(text.encode("utf-8")) <= max_output
    check_nagios(text)
    checkmk_lines(report)
    found = samples(prometheus_text(report))
    for name in ("zvpg_vra_status", "zvpg_peer_pairing_status", "zvpg_alert_info"):
        keys = [tuple(sorted(s.labels.items())) for s in found[name]]
        assert len(keys) == len(set(keys)), name
    assert {s.value for s in found["zvpg_vra_status"]} <= {-1, *range(-3, 13)}
    validator("triage.schema.json").validate(json_of(report))


# ---- through the installed CLI -----------------------------------------------------------------

def at_now(*args: str) -> subprocess.CompletedProcess[str]:
    """`zvpg ARGS` run as a user runs it, its clock at NOW (libfaketime)."""
    import os
    import sys
    from datetime import datetime, timezone

    faketime = tool("faketime", "faketime")
    moment = datetime.fromtimestamp(NOW, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return subprocess.run([faketime, "-f", f"@{moment}", sys.executable, "-m", "zvpg_cli", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, "TZ": "UTC"})


def test_the_cli_checks_a_sites_vpgs_their_cause_and_their_tests() -> None:
    """examples/site/vpgs.json alone: the lost peer is named from the VPGs' own
    sites, and the tests are judged, in each monitoring format."""
    p = at_now("triage", str(SITE / "vpgs.json"), "--nagios")
    state, perf = check_nagios(p.stdout)
    assert (state, p.returncode, p.stderr) == ("CRITICAL", 2, "")
    assert p.stdout.startswith("ZVPG CRITICAL - no connection between sites NYC - Prod and WCHL - CA (substatus "
                               "Site disconnection): 20 VPGs; 20 critical, 0 warning, 3 ok; 2 VPGs "), p.stdout
    assert (perf["tests_overdue"], perf["tests_never"], perf["causes"]) == ("2", "1", "1")
    assert "alerts_critical" not in perf and "vras_not_installed" not in perf, "parts not read are not counted"
    cmk = at_now("triage", str(SITE / "vpgs.json"), "--format", "checkmk").stdout
    lines = {m.group(2): m for m in check_checkmk(cmk, 24)}
    assert lines["Zerto failover tests"].group(1) == "1"
    assert "Zerto alerts" not in lines, "no service for a part that was not read"
    prom = at_now("triage", str(SITE / "vpgs.json"), "--format", "prometheus").stdout
    promtool_lint(prom)
    assert 'zvpg_cause_vpgs{cause="no connection between sites NYC - Prod and WCHL - CA (substatus Site ' \
           'disconnection)"} 20' in prom


def test_json_of_findings_judged_with_a_state_file_carries_their_time(tmp_path: Path) -> None:
    from zvpg_cli.knowledge.kb import load_kb

    reads = reads_of(None, site_parts())
    state = str(tmp_path / "state.db")
    for now in (NOW, NOW + 600):
        report = run(load_kb(), reads, Options(now=now, state=state))
    doc = json_of(report)
    validator("triage.schema.json").validate(doc)
    vra = next(f for f in doc["findings"] if f["kind"] == "vra" and f["name"] == "Z-VRA-esx03.nyc.example")
    assert (vra["state_since"], vra["age_seconds"]) == (NOW, 600)
    assert "state_since" not in json_of(site_report(two_sites=False))["findings"][0], "time fields only when timed"

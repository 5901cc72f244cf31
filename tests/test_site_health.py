"""Site health judged as zerto-site-health.md says it should be: alerts
(dismissed ones ignored, a peer-site copy counted once, attached to the VPGs
they name, notices never raising), VRA Status and VraAlertsStatus, peer-site
PairingStatus, each VPG's last failover test, and one cause for many VPG
problems where the data links them. Through the library (`sources.shape.
parse_any` + `triage.report.run`, as the CLI reads several parts) and, where
the VPG file alone says it, through the installed CLI."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fakezvm
import pytest
from conftest import run_zvpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zvpg_cli.base.sanitize import json_text, printable
from zvpg_cli.knowledge.model import KnowledgeBase, Severity
from zvpg_cli.sources.read import Read
from zvpg_cli.sources.shape import parse_any
from zvpg_cli.triage.report import Options, Report, run
from zvpg_cli.triage.site import COVERED_BY_VPG_STATE, Finding

#: The run's moment: 2025-12-06T05:46:40Z.
NOW = 1_765_000_000.0
DAY = 86_400
LOCAL = "9e09efa0-0d00-46ed-929b-f86273b28205"
PEER = "057cab27-f02a-443a-989d-7f14341fa9c3"  # the reference's peer site, "WCHL - CA"
#: The reference's VRA Status values (§2): 0-8 from Zerto's SDK, 9-10 community only.
VRA_STATUS = {0: "Installed", 1: "UnsupportedEsxVersion", 2: "NotInstalled", 3: "Installing", 4: "Removing",
              5: "InstallationError", 6: "HostPasswordChanged", 7: "UpdatingIpSettings", 8: "DuringChangeHost",
              9: "HostInMaintenanceMode", 10: "HostEnteringMaintenanceMode"}


def part(name: str, objects: Any, site: str | None = None, told: bool = False) -> Read:
    """A part as `zvpg triage FILE...` reads it: the payload's bytes, told by their shape
    (`told`: as a ZVM's answer to the part's path)."""
    found, payload = parse_any(json.dumps(objects).encode(), name if told else None)
    assert found == name
    return Read(payload, site=site, part=found)


def triage(kb: KnowledgeBase, *reads: Read, **options: Any) -> Report:
    return run(kb, list(reads), Options(now=NOW, **options))


def vpg(name: str, ident: str | None = None, status: int = 1, substatus: int = 0, **more: Any) -> dict[str, Any]:
    return {"VpgName": name, "VpgIdentifier": ident or f"id-{name}", "Status": status, "SubStatus": substatus,
            "ActualRPO": 5, "ConfiguredRpoSeconds": 300, **more}


def alert(code: str, level: str = "Error", vpgs: Sequence[str] = (), site: str = LOCAL, remote: bool = False,
          turned_on: Any = "/Date(1764990000000)/", **more: Any) -> dict[str, Any]:
    return {"AffectedVpgs": [{"href": f"https://zvm:9669/v1/vpgs/{v}", "identifier": v, "rel": None, "type": "VpgApi"}
                             for v in vpgs],
            "AffectedZorgs": [], "Description": f"{code} text", "Entity": "Vpg", "HelpIdentifier": code,
            "IsDismissed": False, "Level": level,
            "Link": {"href": f"https://zvm:9669/v1/alerts/{code}-{site}", "identifier": f"{code}-{site}", "rel": None,
                     "type": "String content"},
            "Site": {"href": "https://zvm:9669/v1/x", "identifier": site, "rel": None,
                     "type": "PeerSiteApi" if remote else "LocalSiteApi"},
            "TurnedOn": turned_on, **more}


def vra(status: Any = 0, vpgs: int = 2, alerts_status: Any = 0, **more: Any) -> dict[str, Any]:
    out = copy.deepcopy(fakezvm.EXAMPLE_VRAS[0])
    out.update({"Status": status, "ProtectedCounters": {"Vms": vpgs, "Volumes": vpgs, "Vpgs": vpgs},
                "VraAlerts": {"VraAlertsStatus": alerts_status}, **more})
    return out


def peer(status: Any, name: str = "WCHL - CA", ident: str = PEER) -> dict[str, Any]:
    out = copy.deepcopy(fakezvm.EXAMPLE_PEERSITES[0])
    out.update({"PairingStatus": status, "PeerSiteName": name, "SiteIdentifier": ident})
    return out


def found(report: Report, kind: str) -> list[Finding]:
    return [f for f in report.findings if f.kind == kind]


def iso(seconds_ago: float, now: float = NOW) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - seconds_ago))


# ---- alerts ----------------------------------------------------------------------------

def test_a_dismissed_alert_is_ignored(kb: KnowledgeBase) -> None:
    report = triage(kb, part("alerts", [alert("ZVM0002", IsDismissed=True), alert("ZVM0005", "Warning")]))
    assert [f.name for f in found(report, "alert")] == ["ZVM0005"]
    assert report.summary.state is Severity.WARNING


def test_the_references_example_alerts_dismissed_one_left_out(kb: KnowledgeBase) -> None:
    report = triage(kb, part("alerts", fakezvm.EXAMPLE_ALERTS))
    assert [(f.name, f.severity) for f in found(report, "alert")] == [("VPG0010", Severity.CRITICAL)]


def test_a_peer_site_copy_of_an_alert_another_site_reports_is_counted_once(kb: KnowledgeBase) -> None:
    # lon sees par's alert as a peer-site alert; par reports the same code for itself
    lon = part("alerts", [alert("VRA0028", site=PEER, remote=True)], site="lon")
    par = part("alerts", [alert("VRA0028", site=PEER)], site="par")
    report = triage(kb, lon, par)
    assert [(f.site, f.name) for f in found(report, "alert")] == [("par", "VRA0028")]
    assert report.summary.finding_counts[Severity.CRITICAL] == 1
    # par not read: lon's copy is all there is, and counts
    alone = triage(kb, lon)
    assert [(f.name, f.facts["remote"]) for f in found(alone, "alert")] == [("VRA0028", True)]
    # another code, or another site's identifier, is another alert
    other = triage(kb, lon, part("alerts", [alert("ZVM0002", site=PEER), alert("VRA0028", site=LOCAL)], site="par"))
    assert len(found(other, "alert")) == 3


def test_an_alert_naming_vpgs_is_attached_to_their_rows_once(kb: KnowledgeBase) -> None:
    vpgs = part("vpgs", [vpg("ERP"), vpg("CRM"), vpg("Web")])
    alerts = part("alerts", [alert("ZVM0002", vpgs=["id-ERP", "id-ERP", "id-CRM"]),
                             alert("ZVM0002", vpgs=["id-ERP"])])
    report = triage(kb, vpgs, alerts)
    by_name = {r.name: r for r in report.rows}
    assert by_name["ERP"].severity is Severity.CRITICAL and by_name["CRM"].severity is Severity.CRITICAL
    assert by_name["Web"].severity is Severity.OK
    said = [r for r in by_name["ERP"].reasons if "names this VPG" in r]
    assert said == ["alert ZVM0002 (No connection to VRA), Level Error, names this VPG: zvpg's judgement: "
                    "the VPG is at least critical"]
    first = found(report, "alert")[0]
    assert first.attached == ("ERP", "CRM") and not first.counted
    assert report.summary.finding_counts[Severity.CRITICAL] == 0  # counted on the rows, not again
    assert report.summary.counts[Severity.CRITICAL] == 2


@pytest.mark.parametrize("par_failed", [True, False])
def test_an_alert_of_one_of_two_sites_read_attaches_to_that_sites_vpg(kb: KnowledgeBase, par_failed: bool) -> None:
    # the same VPG read from both of its sites; only lon's alerts were read
    reads = [part("vpgs", [vpg("ERP")], site="lon"), part("vpgs", [vpg("ERP")], site="par"),
             part("alerts", [alert("ZVM0002", vpgs=["id-ERP"])], site="lon")]
    if par_failed:
        reads.append(Read(None, site="par", url="https://par:9669", error="HTTP 500", part="alerts"))
    report = triage(kb, *reads)
    assert [(r.label, r.severity) for r in report.rows] == [("[lon] ERP", Severity.CRITICAL),
                                                            ("[par] ERP", Severity.OK)]
    assert found(report, "alert")[0].attached == ("[lon] ERP",)
    assert len(report.summary.failed_parts) == par_failed


@pytest.mark.parametrize("code", sorted(COVERED_BY_VPG_STATE))
def test_alerts_the_vpg_state_says_already_never_raise_the_row(kb: KnowledgeBase, code: str) -> None:
    assert {"VPG0003", "VPG0004", "VPG0009", "VPG0010", "VRA0039"} == COVERED_BY_VPG_STATE
    report = triage(kb, part("vpgs", [vpg("ERP")]), part("alerts", [alert(code, "Error", vpgs=["id-ERP"])]))
    row = report.rows[0]
    assert row.severity is Severity.OK and report.summary.state is Severity.OK
    assert any(code in r and "what the VPG's state says already (zvpg's judgement" in r for r in row.reasons)
    assert not found(report, "alert")[0].counted


@pytest.mark.parametrize("code", ["LIC0001", "LIC0008", "LIC0011", "ZVM0006", "lic0003"])
def test_licence_and_upgrade_notices_are_shown_never_raising(kb: KnowledgeBase, code: str) -> None:
    report = triage(kb, part("vpgs", [vpg("ERP")]),
                    part("alerts", [alert(code, "Error"), alert(code, "Warning", vpgs=["id-ERP"])]))
    notices = found(report, "alert")
    assert len(notices) == 2 and {f.severity for f in notices} == {Severity.OK}
    assert "zvpg's judgement: a licence notice or an upgrade notice is shown, never raised" in notices[0].reasons[0]
    assert report.rows[0].severity is Severity.OK and report.summary.state is Severity.OK


@pytest.mark.parametrize(("level", "severity"), [("Error", Severity.CRITICAL), ("Warning", Severity.WARNING),
                                                 ("Info", Severity.WARNING), (None, Severity.WARNING),
                                                 (1, Severity.WARNING)])
def test_alert_level_error_is_critical_warning_is_a_warning_and_others_warn(
        kb: KnowledgeBase, level: Any, severity: Severity) -> None:
    f = found(triage(kb, part("alerts", [alert("ZVM0005", level)])), "alert")[0]
    assert f.severity is severity
    assert f.reasons[0].startswith("zvpg's judgement: an alert of Level ")
    if level not in ("Error", "Warning"):
        assert f"Level {level if level is not None else '(none)'} (not Error or Warning)" in f.reasons[0]


def test_an_unknown_code_is_shown_with_its_code_never_dropped(kb: KnowledgeBase) -> None:
    missing = alert("x")
    del missing["HelpIdentifier"]
    report = triage(kb, part("alerts", [alert("XYZ0042", "Error"), alert("VPG0099", "Warning"), missing],
                                    told=True))
    shown = found(report, "alert")
    assert [f.name for f in shown] == ["XYZ0042", "VPG0099", "(no HelpIdentifier)"]
    assert [f.severity for f in shown] == [Severity.CRITICAL, Severity.WARNING, Severity.CRITICAL]
    assert shown[0].label == "alert XYZ0042 (XYZ0042 text)"
    assert "code XYZ0042 is not in zvpg's list of alert codes (shown as the ZVM sent it)" in shown[0].reasons


@pytest.mark.parametrize("turned_on", ["/Date(1531938627284)/", "/Date(1531938627284+0200)/",
                                       "/Date(1531938627284-0500)/", "\\/Date(1531938627284)\\/",
                                       fakezvm.TURNED_ON_ISO, "2018-07-18T18:30:27.284"])
def test_turned_on_in_each_form_is_the_same_instant(kb: KnowledgeBase, turned_on: str) -> None:
    # /Date(ms+hhmm)/: the suffix is the writer's offset, not a shift (the reference, §6); a time
    # without a zone is read as UTC (sources.apitime: the ZVM's offset is not in the payload)
    f = found(triage(kb, part("alerts", [alert("ZVM0005", "Warning", turned_on=turned_on)])), "alert")[0]
    assert f.since == pytest.approx(1531938627.284)
    assert f.facts["age_seconds"] == pytest.approx(NOW - 1531938627.284, abs=0.01)
    assert f.state.startswith("Zerto Virtual Manager space low (Warning, for 2697d 11h)")


@pytest.mark.parametrize("turned_on", [None, "", "yesterday", "/Date()/", "/Date(abc)/", "/Date(999999999999999)/",
                                       "99999-01-01T00:00:00Z", "2018-13-45T99:00:00Z", 1531938627284, 1.5, True,
                                       {"ms": 1}, ["/Date(1531938627284)/"], "\x1b[31m/Date(1)/", "x" * 10_000])
def test_a_turned_on_that_is_no_time_never_crashes_and_gives_no_age(kb: KnowledgeBase, turned_on: Any) -> None:
    f = found(triage(kb, part("alerts", [alert("ZVM0005", "Warning", turned_on=turned_on)])), "alert")[0]
    assert f.since is None and f.facts["age_seconds"] is None
    assert f.state == "Zerto Virtual Manager space low (Warning)"


# ---- VRAs ------------------------------------------------------------------------------

@pytest.mark.parametrize("status", range(11))
def test_vra_status_is_decoded_and_9_and_10_are_marked_community_only(kb: KnowledgeBase, status: int) -> None:
    f = found(triage(kb, part("vras", [vra(status)])), "vra")[0]
    community = ", community sources only" if status >= 9 else ""
    assert f.state == f"{VRA_STATUS[status]} (Status {status}{community})"
    assert f.code == status and f.facts["status_uncertain"] is (status >= 9)
    expected = (Severity.OK if status == 0 else Severity.WARNING if status in (3, 4, 7, 8, 9, 10)
                else Severity.CRITICAL)
    assert f.severity is expected
    assert all(r.startswith("zvpg's judgement: ") for r in f.reasons)
    if status >= 9:
        assert "(this value rests on community sources only)" in f.reasons[0]


@pytest.mark.parametrize(("status", "state"), [(11, "Status 11 (unknown)"), (-1, "Status -1 (unknown)"),
                                               ("5", 'Status "5" (unknown)'), (5.0, "Status 5.0 (unknown)"),
                                               (None, "Status missing (unknown)")])
def test_an_unknown_vra_status_is_kept_as_sent(kb: KnowledgeBase, status: Any, state: str) -> None:
    f = found(triage(kb, part("vras", [vra(status)])), "vra")[0]
    assert f.state == state and f.severity is Severity.WARNING
    assert f.code == (status if type(status) is int else None)
    assert "zvpg's judgement: a VRA Status zvpg does not know is a warning" in f.reasons


def test_a_vra_not_installed_that_serves_vpgs_is_a_finding_naming_it_and_its_host(kb: KnowledgeBase) -> None:
    report = triage(kb, part("vras", [vra(5, vpgs=3)]))
    f = found(report, "vra")[0]
    assert f.severity is Severity.CRITICAL and report.summary.state is Severity.CRITICAL
    assert f.label == "VRA Z-VRA-ncesx2.nc.lab (host d4a6a1d5-79e9-4308-990a-7c3e616f0908.host-15)"
    assert f.reasons == ("zvpg's judgement: a VRA that is not Installed (InstallationError) cannot replicate "
                         "the 3 VPGs it serves",)


@pytest.mark.parametrize("status", [1, 2, 3, 5, 9, 11])
def test_a_vra_not_installed_that_serves_no_vpg_never_raises(kb: KnowledgeBase, status: int) -> None:
    report = triage(kb, part("vras", [vra(status, vpgs=0)]))  # RecoveryCounters.Vpgs is 0 in the mock too
    f = found(report, "vra")[0]
    assert f.severity is Severity.OK and report.summary.state is Severity.OK
    assert "its counters say the VRA protects and recovers no VPG" in f.reasons[0]


def test_a_vra_that_only_recovers_vpgs_serves_them(kb: KnowledgeBase) -> None:
    obj = vra(2, vpgs=0, RecoveryCounters={"Vms": 4, "Volumes": 4, "Vpgs": 1})
    assert found(triage(kb, part("vras", [obj])), "vra")[0].severity is Severity.CRITICAL


@pytest.mark.parametrize(("value", "severity", "shown"), [(0, Severity.OK, ""), (1, Severity.WARNING, " (Warning)"),
                                                          (2, Severity.CRITICAL, " (Error)"),
                                                          (7, Severity.WARNING, " (unknown)")])
def test_vra_alerts_status_raises_an_installed_vra(kb: KnowledgeBase, value: int, severity: Severity,
                                                   shown: str) -> None:
    f = found(triage(kb, part("vras", [vra(0, alerts_status=value)])), "vra")[0]
    assert f.severity is severity and f.facts["vra_alerts_status"] == value
    assert f.state == "Installed (Status 0)" + (f"; VraAlertsStatus {value}{shown}" if value else "")
    if value:
        assert "(its names rest on one community source)" in f.reasons[-1]


def test_vras_are_keyed_by_their_string_identifier_never_the_float(kb: KnowledgeBase) -> None:
    big = "5377857665828093654"  # above 2**53: a float64 reads 5377857665828093952
    assert int(big) > 2**53 and str(int(float(big))) != big
    no_str = vra()
    del no_str["VraIdentifierStr"]
    no_link = copy.deepcopy(no_str)
    del no_link["Link"]
    only_float = copy.deepcopy(no_link)
    only_float["VraIdentifier"] = float(big)
    report = triage(kb, part("vras", [vra(), no_str, no_link, only_float]))
    assert [f.identifier for f in found(report, "vra")] == [big, big, big, ""]
    written = json.loads(json_text([{"identifier": f.identifier, **f.facts} for f in report.findings]))
    assert written[0]["identifier"] == big


# ---- peer sites ------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "state", "severity"), [(0, "Paired (PairingStatus 0)", Severity.OK),
                                                           (1, "Pairing (PairingStatus 1)", Severity.WARNING),
                                                           (2, "Unpaired (PairingStatus 2)", Severity.CRITICAL),
                                                           (3, "PairingStatus 3 (unknown)", Severity.WARNING),
                                                           ("Paired", 'PairingStatus "Paired" (unknown)',
                                                            Severity.WARNING)])
def test_pairing_status_is_decoded_and_1_is_pairing_not_unpairing(kb: KnowledgeBase, status: Any, state: str,
                                                                  severity: Severity) -> None:
    report = triage(kb, part("peers", [peer(status, "DR-Site-02")]))
    f = found(report, "peer")[0]
    assert (f.state, f.severity, f.label) == (state, severity, "peer site DR-Site-02")
    assert "Unpairing" not in f.state
    assert report.summary.state is severity
    assert all(r.startswith("zvpg's judgement: ") for r in f.reasons)


# ---- failover tests ----------------------------------------------------------------------

def by_vpg(report: Report) -> dict[str, Finding]:
    return {f.name: f for f in found(report, "test")}


def test_last_test_null_is_never_tested_a_warning_at_the_default_age(kb: KnowledgeBase) -> None:
    t = by_vpg(triage(kb, part("vpgs", [vpg("ERP", LastTest=None)])))["ERP"]
    assert (t.state, t.severity, t.facts["never"]) == ("never tested", Severity.WARNING, True)
    assert t.label == "failover test of VPG ERP"
    assert t.reasons == ("zvpg's judgement: LastTest is null (never tested); zvpg wants a failover test every "
                         "180d (test_max_age)",)


def test_a_vpg_payload_without_last_test_gives_no_test_finding(kb: KnowledgeBase) -> None:
    report = triage(kb, part("vpgs", [vpg("ERP"), vpg("CRM", LastTest=None)]), part("peers", [peer(0)]))
    assert list(by_vpg(report)) == ["CRM"]


@pytest.mark.parametrize(("days", "severity"), [(400, Severity.WARNING), (181, Severity.WARNING),
                                                (179, Severity.OK), (10, Severity.OK), (-3, Severity.OK)])
def test_an_old_test_is_a_warning_with_its_age_and_a_recent_one_ok(kb: KnowledgeBase, days: int,
                                                                   severity: Severity) -> None:
    t = by_vpg(triage(kb, part("vpgs", [vpg("ERP", LastTest=iso(days * DAY))])))["ERP"]
    assert t.severity is severity and t.since == NOW - days * DAY
    assert t.state == (f"last tested {days}d ago" if days > 0 else "last tested 0s ago")  # (a clock behind)
    if severity is Severity.WARNING:
        assert t.reasons == (f"zvpg's judgement: the last failover test, {days}d ago, is older than 180d "
                             "(test_max_age)",)


def test_the_references_vpg_example_last_tested_in_2019_is_a_warning(kb: KnowledgeBase) -> None:
    t = by_vpg(triage(kb, part("vpgs", [fakezvm.EXAMPLE_VPG])))["Exchange"]
    assert t.since == pytest.approx(1562863867.022) and t.severity is Severity.WARNING


@pytest.mark.parametrize("last", [None, "2019-07-11T16:51:07.022Z"])
def test_a_running_test_is_said_and_never_pages_even_when_zerto_says_it_is_overdue(kb: KnowledgeBase,
                                                                                   last: Any) -> None:
    under_test = vpg("ERP", LastTest=last, ActiveProcessesApi={"RunningFailOverTestApi": fakezvm.RUNNING_TEST})
    report = triage(kb, part("vpgs", [under_test]), part("alerts", [alert("VPG0011", "Warning", vpgs=["id-ERP"])]))
    t = by_vpg(report)["ERP"]
    assert t.state == "failover test running now (stage String content)"
    assert t.severity is Severity.OK and t.facts["running"] is True
    assert t.reasons == ("zvpg's judgement: a test running now never pages",
                         "Zerto's own alert VPG0011 (VPG test overdue) says the test is overdue (zvpg's judgement: "
                         "a test is running now, it stays ok)")
    assert report.summary.state is Severity.OK


@pytest.mark.parametrize("code", ["VPG0011", "VPG0012"])
def test_zertos_test_overdue_alerts_belong_to_the_vpgs_test(kb: KnowledgeBase, code: str) -> None:
    vpgs = part("vpgs", [vpg("ERP", LastTest=iso(10 * DAY)), vpg("CRM", LastTest=iso(10 * DAY))])
    report = triage(kb, vpgs, part("alerts", [alert(code, "Warning", vpgs=["id-ERP"])]))
    tests = by_vpg(report)
    assert tests["ERP"].severity is Severity.WARNING and tests["CRM"].severity is Severity.OK
    assert tests["ERP"].reasons[-1].startswith(f"Zerto's own alert {code} (VPG test overdue) says the test is overdue")
    overdue = found(report, "alert")[0]
    assert overdue.attached == ("ERP",) and not overdue.counted
    assert all(r.severity is Severity.OK for r in report.rows)  # the VPG's replication is fine


def test_vm_payloads_get_no_test_findings(kb: KnowledgeBase) -> None:
    vms = [{"VmName": "db01", "VmIdentifier": "vm-1", "VpgName": "ERP", "VpgIdentifier": "id-ERP", "Status": 1,
            "SubStatus": 0, "ActualRPO": 5, "LastTest": None}]
    report = triage(kb, part("vms", vms), part("peers", [peer(0)]))
    assert found(report, "test") == [] and report.summary.state is Severity.OK


def test_test_max_age_off_judges_no_test(kb: KnowledgeBase) -> None:
    from zvpg_cli.triage.site import judge_site

    report = triage(kb, part("vpgs", [vpg("ERP", LastTest=None), vpg("CRM", LastTest=iso(900 * DAY)),
                                      vpg("Web", LastTest="garbage")]))
    rows, heads = report.rows, [h for h in parse_any(json.dumps([vpg("ERP", LastTest=None),
                                                                 vpg("CRM", LastTest=iso(900 * DAY)),
                                                                 vpg("Web", LastTest="garbage")]).encode())[1].heads]
    on = judge_site([], rows, heads, NOW).findings
    off = judge_site([], rows, heads, NOW, test_max_age=None).findings
    assert [f.severity for f in on] == [Severity.WARNING] * 3
    assert [(f.state, f.severity, f.reasons) for f in off] == [
        ("never tested", Severity.OK, ()), ("last tested 900d ago", Severity.OK, ()),
        ("last test time unreadable", Severity.OK, ())]


# ---- failover tests through the installed CLI (the VPG file alone says it) -------------

@pytest.mark.parametrize(("objects", "code", "first"), [
    ([vpg("ERP", LastTest=None)], 1, "ZVPG WARNING"),
    ([vpg("ERP")], 0, "ZVPG OK"),
    ([vpg("ERP", LastTest=None, ActiveProcessesApi={"RunningFailOverTestApi": {"Stage": "x"}})], 0, "ZVPG OK"),
])
def test_the_cli_judges_failover_tests_from_the_vpg_file(tmp_path: Path, objects: Any, code: int,
                                                         first: str) -> None:
    path = tmp_path / "vpgs.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    done = run_zvpg("triage", str(path), "--nagios")
    assert done.returncode == code, done.stderr
    assert done.stdout.decode().startswith(first)


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime (Debian package faketime)")
def test_the_cli_judges_an_old_test_by_the_clock_it_runs_under(tmp_path: Path) -> None:
    path = tmp_path / "vpgs.json"
    path.write_text(json.dumps([vpg("ERP", LastTest="2025-01-01T00:00:00Z")]), encoding="utf-8")
    states = []
    for when in ("2025-12-01 00:00:00", "2025-03-01 00:00:00"):
        done = subprocess.run(["faketime", "-f", when, sys.executable, "-m", "zvpg_cli", "triage", str(path),
                               "--json"], capture_output=True, timeout=60,
                              env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        states.append(json.loads(done.stdout)["summary"]["state"])
    assert states == ["WARNING", "OK"]  # 334 days after the test, then 59


# ---- one cause for many ------------------------------------------------------------------

def cut_off(n: int, protected: str = LOCAL, recovery: str = PEER, swap_every: int = 0) -> list[dict[str, Any]]:
    """`n` VPGs in Not Meeting SLA / Site disconnection (24) between two sites."""
    out = []
    for i in range(n):
        ends = (recovery, protected) if swap_every and i % swap_every == 0 else (protected, recovery)
        names = ("WCHL - CA-site", "Frankfurt") if ends[0] == recovery else ("Frankfurt", "WCHL - CA-site")
        out.append(vpg(f"app{i:02d}", status=2, substatus=24,
                       ProtectedSite={"href": "x", "identifier": ends[0], "rel": None, "type": "VirtualizationSiteApi"},
                       RecoverySite={"href": "x", "identifier": ends[1], "rel": None, "type": "VirtualizationSiteApi"},
                       SourceSite=names[0], TargetSite=names[1]))
    return out


def test_twenty_vpgs_cut_off_from_a_peer_are_one_cause_named_after_the_peer(kb: KnowledgeBase) -> None:
    report = triage(kb, part("vpgs", [*cut_off(20), vpg("ok")]), part("peers", [peer(0), peer(0, "Other", "p2")]),
                    part("alerts", [alert("ZVM0003", "Error", site=PEER, remote=True)]))
    [cause] = report.causes
    assert cause.text == "no connection to site WCHL - CA (ZVM0003)"
    assert cause.severity is Severity.CRITICAL and len(cause.rows) == 20
    assert cause.rows == tuple(f"app{i:02d}" for i in range(20))
    assert cause.linked_by == "ProtectedSite/RecoverySite and alert Site"
    for row in report.rows[:20]:
        assert row.reasons[-1] == ("explained by: no connection to site WCHL - CA (ZVM0003) (zvpg's judgement: "
                                   "linked by ProtectedSite/RecoverySite and alert Site)")
    assert not any("explained by" in r for r in report.rows[20].reasons)


def test_vpgs_cut_off_either_way_round_are_one_cause(kb: KnowledgeBase) -> None:
    report = triage(kb, part("vpgs", cut_off(20, swap_every=3)), part("peers", [peer(0)]))
    assert [(c.text, len(c.rows)) for c in report.causes] == [
        ("no connection to site WCHL - CA (substatus Site disconnection)", 20)]


def test_vpgs_of_two_sites_that_lost_the_same_peer_are_one_cause(kb: KnowledgeBase) -> None:
    report = triage(kb, part("vpgs", cut_off(2) + cut_off(1, "site-b")), part("peers", [peer(0)]),
                    part("alerts", [alert("ZVM0003", site=PEER)]))
    assert [(c.text, len(c.rows)) for c in report.causes] == [("no connection to site WCHL - CA (ZVM0003)", 3)]


def test_without_peers_and_alert_vpgs_are_grouped_by_their_sites_names(kb: KnowledgeBase) -> None:
    other = cut_off(3, "site-c", "site-d")
    for v in other:
        v.update(SourceSite="Amsterdam", TargetSite="Dublin-DR", VpgName="x" + v["VpgName"])
    lost = cut_off(4)
    lost[0]["SubStatus"] = 10  # DisconnectedFromPeerNoRecoveryPoints
    report = triage(kb, part("vpgs", lost + other))
    assert [(c.text, len(c.rows), c.linked_by) for c in report.causes] == [
        ("no connection between sites Frankfurt and WCHL - CA-site (substatuses Site disconnection. No checkpoints, "
         "Site disconnection)", 4, "ProtectedSite/RecoverySite"),
        ("no connection between sites Amsterdam and Dublin-DR (substatus Site disconnection)", 3,
         "ProtectedSite/RecoverySite")]


def test_the_cli_groups_vpgs_that_lost_their_peer_from_the_vpg_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "vpgs.json"
    path.write_text(json.dumps([*cut_off(20), vpg("ok")]), encoding="utf-8")
    done = run_zvpg("triage", str(path), "--json")
    answer = json.loads(done.stdout)
    rows = answer["vpgs"]
    said = "explained by: no connection between sites Frankfurt and WCHL - CA-site (substatus Site disconnection)"
    assert [any(x.startswith(said) for x in r["reasons"]) for r in rows] == [True] * 20 + [False]
    assert answer["summary"]["state"] == "CRITICAL" and done.returncode == 0, done.stderr


def test_a_single_disconnected_vpg_is_no_cause(kb: KnowledgeBase) -> None:
    report = triage(kb, part("vpgs", [*cut_off(1), vpg("ok")]), part("peers", [peer(0)]),
                    part("alerts", [alert("ZVM0003", site=PEER)]))
    assert report.causes == ()
    assert report.rows[0].severity is Severity.CRITICAL


def test_vpgs_without_site_links_are_never_grouped(kb: KnowledgeBase) -> None:
    unlinked = [vpg(f"app{i}", status=2, substatus=24, SourceSite="Frankfurt", TargetSite="WCHL") for i in range(5)]
    report = triage(kb, part("vpgs", unlinked), part("peers", [peer(0)]), part("alerts", [alert("ZVM0003", site=PEER)]))
    assert report.causes == ()


@pytest.mark.parametrize(("code", "title"), [("VRA0028", "VRA powered off"), ("ZVM0002", "No connection to VRA")])
def test_an_alert_naming_three_failing_vpgs_is_their_cause(kb: KnowledgeBase, code: str, title: str) -> None:
    vpgs = part("vpgs", [vpg("a", status=2, substatus=6), vpg("b", status=3), vpg("c", status=2, substatus=6),
                         vpg("d")])
    report = triage(kb, vpgs, part("alerts", [alert(code, "Warning", vpgs=["id-a", "id-b", "id-c", "id-d"])]))
    [cause] = report.causes  # "d" is not ok because the alert names it: explained by it too
    assert (cause.text, cause.rows, cause.linked_by) == (f"{title} ({code})", ("a", "b", "c", "d"), "AffectedVpgs")
    assert report.rows[0].reasons[-1] == f"explained by: {title} ({code}) (zvpg's judgement: linked by AffectedVpgs)"


@pytest.mark.parametrize("code", ["VPG0010", "VPG0005", "LIC0001"])
def test_a_vpgs_own_alert_or_a_notice_is_no_site_cause(kb: KnowledgeBase, code: str) -> None:
    vpgs = part("vpgs", [vpg(n, status=3) for n in "abc"])
    report = triage(kb, vpgs, part("alerts", [alert(code, vpgs=["id-a", "id-b", "id-c"])]))
    assert report.causes == ()


def test_an_alert_naming_only_vpgs_left_out_is_left_out_with_them(kb: KnowledgeBase) -> None:
    reads = (part("vpgs", [vpg("ERP"), vpg("test-1")]),
             part("alerts", [alert("ZVM0002", vpgs=["id-test-1"]), alert("VRA0028", vpgs=["id-test-1", "id-ERP"]),
                             alert("ZVM0003", site=PEER)]))
    report = triage(kb, *reads, exclude=("test-*",))
    assert [f.name for f in found(report, "alert")] == ["VRA0028", "ZVM0003"]
    assert triage(kb, *reads).summary.counts[Severity.CRITICAL] == 2  # without --exclude both rows are raised


# ---- robustness ------------------------------------------------------------------------

_scalars = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
            | st.sampled_from(["/Date(1531938627284+0200)/", "2019-07-11T16:51:07.022Z", "PeerSiteApi", "Error",
                               "Warning", "id-a", PEER, "\x1b[2J\u202e", "VPG0011", "LIC0001"]))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=12), inner, max_size=3), max_leaves=6)
_link = st.fixed_dictionaries({"identifier": _json, "type": _json}) | _json
_value = _json | _link | st.lists(_link, max_size=3)
_FIELDS = {
    "alerts": ["HelpIdentifier", "Level", "IsDismissed", "TurnedOn", "Site", "AffectedVpgs", "Link", "Description",
               "Entity"],
    "vras": ["VraName", "VraIdentifierStr", "VraIdentifier", "Status", "VraAlerts", "ProtectedCounters",
             "RecoveryCounters", "HostIdentifier", "HostDisplayName", "Link", "IpAddress"],
    "peers": ["PeerSiteName", "PairingStatus", "SiteIdentifier", "Link", "HostName", "Version"],
}


def _objects(name: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(st.fixed_dictionaries({}, optional=dict.fromkeys(_FIELDS[name], _value)), min_size=1, max_size=4)


def _texts(report: Report) -> list[str]:
    out = []
    for f in report.findings:
        out += [f.label, f.state, f.name, f.identifier, f.about or "", *f.reasons, *f.attached]
        out += [v for v in f.facts.values() if isinstance(v, str)]
    for c in report.causes:
        out += [c.text, c.reason, *c.rows]
    for r in report.rows:
        out += list(r.reasons)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alerts=_objects("alerts"), vras=_objects("vras"), peers=_objects("peers"),
       heads=st.lists(st.fixed_dictionaries({}, optional=dict.fromkeys(
           ["LastTest", "ActiveProcessesApi", "ProtectedSite", "RecoverySite", "SourceSite", "TargetSite"], _value)),
           min_size=2, max_size=3))
def test_no_site_payload_crashes_the_judge_and_every_text_is_printable(
        kb: KnowledgeBase, alerts: Any, vras: Any, peers: Any, heads: Any) -> None:
    vpgs = [{**vpg(f"v{i}", "id-a" if i == 0 else f"id-{i}", status=2, substatus=24), **head}
            for i, head in enumerate(heads)]
    reads = [Read(parse_any(json.dumps(vpgs).encode(), "vpgs")[1])]
    reads += [Read(parse_any(json.dumps(objs).encode(), name)[1], part=name)
              for name, objs in (("alerts", alerts), ("vras", vras), ("peers", peers))]
    report = triage(kb, *reads)
    assert len([f for f in report.findings if f.kind in ("vra", "peer")]) == len(vras) + len(peers)
    for text in _texts(report):
        assert isinstance(text, str) and printable(text) == text, text
    json_text([{**f._asdict(), "timed": None, "severity": f.severity.value, "facts": dict(f.facts)}
               for f in report.findings])


# ---- the alert knowledge, kept compiled ----------------------------------------------

def test_the_alert_knowledge_is_read_compiled_from_the_cache_and_an_edit_is_seen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zvpg_cli.knowledge import alerts, kbyaml

    path = tmp_path / "alerts.yaml"
    text = (Path(alerts.default_path())).read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    parsed = alerts.load.__wrapped__(str(path))
    [entry] = Path(os.environ["ZVPG_CACHE_DIR"]).glob("alerts-*.marshal")

    def no_yaml(raw: bytes) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr(kbyaml, "parse_source", no_yaml)
    cached = alerts.load.__wrapped__(str(path))
    assert cached == parsed and cached.alert("vpg0010") == parsed.alert("VPG0010")
    monkeypatch.undo()
    path.write_text(text.replace('"VPG target RPO exceeded"', '"VPG target RPO exceeded (edited)"'), encoding="utf-8")
    assert alerts.load.__wrapped__(str(path)).alert("VPG0010").title == "VPG target RPO exceeded (edited)"
    entry.write_bytes(entry.read_bytes()[:-9] + b"corrupted")  # a damaged entry is compiled afresh
    assert alerts.load.__wrapped__(str(path)).alert("VPG0010").title == "VPG target RPO exceeded (edited)"


@pytest.mark.parametrize(("code", "said"), [
    ("lic0001", "is shown and never raises the check, whatever its Level"),
    ("ZVM0006", "is shown and never raises the check, whatever its Level"),
    ("VPG0010", "it does not raise them nor count again: their own state says it already"),
    ("VRA0039", "it does not raise them nor count again: their own state says it already"),
    ("VPG0012", "belongs to their last failover test: at least a warning there"),
    ("VRA0028", "naming two or more VPGs that are not ok, it leads as their one cause."),
    ("ZVM0003", "two or more VPGs that lost the site it names (substatus 24 or 10) are grouped under it too."),
])
def test_explain_says_what_a_triage_makes_of_an_alert_code(code: str, said: str) -> None:
    done = run_zvpg("explain", code, env={"COLUMNS": "400"})
    text = done.stdout.decode()
    assert done.returncode == 0 and "zvpg's judgement\nIn a triage " in text
    assert said in " ".join(text.split("zvpg's judgement", 1)[1].split())

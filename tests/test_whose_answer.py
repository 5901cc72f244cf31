"""Every output says whose answer it is: the documentation's words, or zvpg's
judgement (severity, what to do, an inferred failover, grace), labelled so.
Evidence shows only quotes; README and --help claim only what is true; codes
33-35 say where they come from."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import KB_FILE, ROOT, seed_lines

from zvpg_cli.knowledge.model import KnowledgeBase

WIDE = {"COLUMNS": "2000"}
JUDGEMENT = "zvpg's judgement (not the documentation's)"


def section(out: str, title: str) -> list[tuple[str, str]]:
    """The (label, value) rows of a section of a wide table view."""
    start = out.index(title + "\n") + len(title) + 1
    body = out[start:].split("\n\n", 1)[0]
    return [tuple(re.split(r" {2,}", line, maxsplit=1)) for line in body.splitlines()]  # type: ignore[misc]


def test_evidence_shows_only_the_documentations_words(cli: Any, kb: KnowledgeBase) -> None:
    seed = " ".join(seed_lines())
    checked = 0
    for entry in kb.substatuses:
        out = cli("explain", entry.name, "--evidence", env=WIDE).stdout
        for label, value in section(out, "Evidence (documentation, word for word)"):
            if label:  # "" holds "no facts recorded"
                assert value in seed, (entry.name, label, value)
                assert value != entry.action, entry.name  # zvpg's advice is not evidence
                checked += 1
    assert checked > 20
    paused = cli("explain", "User paused protection", "--evidence", env=WIDE).stdout
    evidence = dict(section(paused, "Evidence (documentation, word for word)"))
    assert not any("Resume protection" in v for v in evidence.values())
    assert evidence["zvpg's advice rests on"].startswith("Protection is paused to enable solving")


def test_explain_puts_zvpgs_answers_apart_from_the_documentations(cli: Any) -> None:
    out = cli("explain", "User paused protection", env=WIDE).stdout
    judged = dict(section(out, f"At a glance: {JUDGEMENT}"))
    assert judged["Severity"].startswith("warning — ")
    assert judged["What to do"].startswith("Resume protection once the work it was paused for is done.")
    documented = dict(section(out, "At a glance: the documentation says"))
    assert set(documented) == {"Failover possible?", "New checkpoints?", "Protection halted?", "VMs must be on?"}
    assert documented["Protection halted?"] == "yes"
    status = cli("explain", "Meeting SLA", env=WIDE).stdout
    assert "ok — The VPG meets its journal history and RPO SLA settings. (zvpg's judgement)" in status


def test_decode_puts_zvpgs_answers_apart_from_the_documentations(cli: Any) -> None:
    out = cli("decode", "2", "6", env=WIDE).stdout
    judged = dict(section(out, JUDGEMENT))
    assert judged["Severity"].startswith("critical, from the status")
    assert "Failover possible?" not in judged  # documented: the documentation's answer, below
    documented = dict(section(out, "The documentation says"))
    assert documented["Failover possible?"] == ("yes, to the last checkpoint written to the journal, assuming "
                                                "there are valid checkpoints in the journal")


def test_json_says_whose_answer_each_field_is(cli: Any) -> None:
    entry = json.loads(cli("explain", "Delta Syncing", "--json").stdout)
    assert entry["basis"]["severity"] == entry["basis"]["action"] == "zvpg"
    assert entry["basis"]["description"] == entry["basis"]["recovery"] == "documentation"
    decoded = json.loads(cli("decode", "2", "6", "--json").stdout)
    assert decoded["basis"] == {"severity": "zvpg", "failover_possible": "documentation"}
    payload = json.dumps([{"VpgName": "ok", "Status": 1, "SubStatus": 0, "ActualRPO": 5, "ConfiguredRpoSeconds": 300},
                          {"VpgName": "delta", "Status": 2, "SubStatus": 6}])
    rows = json.loads(cli("triage", "--format", "json", input=payload).stdout)["vpgs"]
    assert [(r["basis"]["severity"], r["basis"]["failover_possible"]) for r in rows] == [
        ("zvpg", "zvpg"), ("zvpg", "documentation")]
    notes = [o["zvpg"]["basis"] for o in json.loads(cli("annotate", input=payload).stdout)]
    assert [n["failover_possible"] for n in notes] == ["zvpg", "documentation"]
    assert notes[1]["recovery_condition"] == "documentation"


def test_triage_table_says_whose_answer_each_column_is(cli: Any) -> None:
    payload = json.dumps([{"VpgName": "delta", "Status": 2, "SubStatus": 6}])
    out = " ".join(cli("triage", input=payload, env={"COLUMNS": "80"}).stdout.split())
    assert "Severity is zvpg's judgement. Failover: the documentation's answer, or zvpg's inference where it says " \
           "so; where not stated, look at the RPO and the last checkpoint." in out


def test_readme_and_help_claim_only_what_is_true(cli: Any) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "Everything it says comes from" not in readme
    assert "are zvpg's own judgement" in readme
    help_text = " ".join(cli("--help").stdout.split())
    assert "severity and what to do are zvpg's own judgement, labelled so" in help_text
    assert "and what to do: from the Zerto documentation" not in help_text


def test_monitoring_docs_say_what_the_outputs_do(cli: Any) -> None:
    doc = " ".join((ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8").split())
    assert "WARNING if any VPG is warning or unknown" not in doc and "as the critical level" not in doc
    assert ("UNKNOWN if any VPG is unknown, a site could not be read or a site answered nothing, else WARNING if any"
            " VPG is warning") in doc
    # an unknown VPG makes the run UNKNOWN, not WARNING
    unknown = json.dumps([{"VpgName": "x", "Status": 12, "SubStatus": 0},
                          {"VpgName": "y", "Status": 1, "SubStatus": 6}])
    assert cli("triage", "--nagios", input=unknown).stdout.startswith("ZVPG UNKNOWN")
    # Checkmk: the configured RPO fills the warning slot of actual_rpo, --rpo-critical the critical one
    payload = json.dumps([{"VpgName": "x", "Status": 1, "SubStatus": 0, "ActualRPO": 5, "ConfiguredRpoSeconds": 300}])
    assert "actual_rpo=5;300;;0;" in cli("triage", "--format", "checkmk", input=payload).stdout
    assert "actual_rpo=5;300;3600;0;" in cli("triage", "--format", "checkmk", "--rpo-critical", "1h",
                                             input=payload).stdout
    assert "no Prometheus exporter ships alerting rules or `for:` clauses" in doc


# ---- Disk Initial Sync and Full syncing a disk ---------------------------------------------

def test_explain_says_why_two_syncs_with_one_consequence_differ_in_severity(cli: Any, kb: KnowledgeBase) -> None:
    disk_initial = next(s for s in kb.substatuses if s.name == "Disk Initial Sync")
    disk_full = next(s for s in kb.substatuses if s.name == "Full syncing a disk")
    assert disk_initial.recovery == disk_full.recovery == "not-possible"
    assert (disk_initial.severity, disk_full.severity) == ("warning", "critical")
    # the grounds the rationales name, in the documentation's own table and text
    assert [li.status for li in disk_initial.statuses] == ["Initializing"] and disk_full.statuses == ()
    assert "for example, when changing the target storage or adding a virtual machine to the VPG" in \
        (disk_initial.description or "")
    assert "for example" not in (disk_full.description or "")
    for entry, other in ((disk_initial, disk_full), (disk_full, disk_initial)):
        out = cli("explain", entry.name, env=WIDE).stdout
        severity = dict(section(out, f"At a glance: {JUDGEMENT}"))["Severity"]
        assert severity.startswith(f"{entry.severity} — ")
        assert other.name in severity and "Initializing" in severity and "routine cause" in severity


# ---- codes 33-35 ---------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "api_name"), [(33, "JournalOrRecoveryMissingError"), (34, "AddedVmsInInitialSync"),
                                                (35, "ReplicationPausedForMissingVolume")])
def test_codes_from_community_sources_are_decoded_saying_so(cli: Any, code: int, api_name: str) -> None:
    r = cli("decode", "1", str(code), env=WIDE)
    assert r.exit_code == 0
    assert f"Substatus  {api_name} ({code} {api_name} (code from community sources))" in r.stdout
    judged = dict(section(r.stdout, JUDGEMENT))
    assert judged["Severity"] == "warning, at least: the documentation says nothing about this substatus"
    assert judged["Can I fail over?"].startswith("not stated in the documentation")
    entry = json.loads(cli("explain", api_name, "--json").stdout)
    assert entry["api_code"] == code and entry["documented"] is False and entry["description"] is None
    assert entry["code_source"].startswith("community sources")
    out = cli("explain", api_name, env=WIDE).stdout
    assert f"Documented    no: the documentation does not describe it; its code comes from {entry['code_source']}" \
        in out


def test_code_36_and_above_stay_unknown(cli: Any) -> None:
    for code in ("36", "40", "41"):
        r = cli("decode", "1", code)
        assert r.exit_code == 1 and f"unknown substatus '{code}'" in r.stderr


def test_a_code_source_belongs_only_to_an_undocumented_code(cli: Any, tmp_path: Path) -> None:
    text = KB_FILE.read_text(encoding="utf-8")
    documented = text.replace('    api_name: "VolumeInitialSync"\n',
                              '    api_name: "VolumeInitialSync"\n    code_source: "a forum post"\n', 1)
    bad = tmp_path / "statuses.yaml"
    bad.write_text(documented, encoding="utf-8")
    r = cli("validate", str(bad))
    assert r.exit_code == 2
    assert "substatus 'Disk Initial Sync': code_source is only for the code of an undocumented substatus" in \
        r.stdout + r.stderr


def test_a_grace_period_is_labelled_zvpgs(run: Any, tmp_path: Path) -> None:
    payload = json.dumps([{"VpgName": "d", "VpgIdentifier": "1", "Status": 2, "SubStatus": 6, "ActualRPO": 500,
                           "ConfiguredRpoSeconds": 300}])
    without = json.loads(run("triage", "--format", "json", input=payload).stdout)["vpgs"][0]
    assert without["basis"]["grace_until"] is None
    row = json.loads(run("triage", "--format", "json", "--state", str(tmp_path / "state.db"),
                         input=payload).stdout)["vpgs"][0]
    assert row["grace_until"] is not None and row["basis"]["grace_until"] == "zvpg"

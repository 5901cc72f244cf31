"""A policy rule's `vpg` glob matches the VPG name, for a VM object its VPG's
name, never the VM's own name: what `zvpg policy --help` says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, run_zvpg

VMS = str(FIXTURES / "payloads" / "vms.json")


def severities(policy: Path) -> dict[str, str]:
    p = run_zvpg("triage", VMS, "--json", "--policy", str(policy))
    assert p.returncode in (0, 1), p.stderr
    return {o["vm_name"]: o["severity"] for o in json.loads(p.stdout)["vpgs"] if o["vpg_name"] == "ExportStuff"}


@pytest.mark.parametrize(("glob", "db01"), [("export*", "ok"), ("db0*", "critical")])
def test_the_vpg_glob_matches_a_vms_vpg_name_not_its_own(tmp_path: Path, glob: str, db01: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[[rule]]\nmatch = "Not Meeting SLA"\nvpg = "{glob}"\nseverity = "ok"\n')
    assert severities(policy)["db01"] == db01  # db01, a VM of the VPG ExportStuff, Not Meeting SLA: critical


def test_the_help_says_so() -> None:
    assert '# optional glob on the VPG name, not a VM\'s' in run_zvpg("policy", "--help").stdout.decode()

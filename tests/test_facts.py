"""Structured facts: every value rests on verbatim documentation sentences."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import SEED

from zvpg_cli.model import FACT_FIELDS, RECOVERY_VALUES, SEVERITIES, KnowledgeBase

SEED_TEXT = SEED.read_text(encoding="utf-8")


def _sentences(text: str) -> set[str]:
    return {s.strip() for s in re.split(r"(?<=[.,])\s+", text) if s.strip()}


def test_evidence_is_verbatim_whole_sentences(kb: KnowledgeBase) -> None:
    for sub in kb.substatuses:
        for field, quotes in sub.evidence.items():
            for quote in quotes:
                assert quote in SEED_TEXT, (sub.name, field, quote)
                # a whole sentence: starts a sentence and ends one
                assert quote[0].isupper() and quote[-1] in ".,", (sub.name, quote)
                assert sub.description and quote in sub.description


def test_every_fact_has_evidence_and_no_evidence_without_fact(kb: KnowledgeBase) -> None:
    for sub in kb.substatuses:
        for field in FACT_FIELDS:
            value = getattr(sub, field)
            assert (value is not None) == (field in sub.evidence), (sub.name, field)


def test_values_are_in_range(kb: KnowledgeBase) -> None:
    for sub in kb.substatuses:
        assert sub.recovery in (*RECOVERY_VALUES, None)
        for field in ("new_checkpoints", "needs_powered_on_vms", "protection_halted"):
            assert getattr(sub, field) in (True, False, None)


def test_severities(kb: KnowledgeBase) -> None:
    for e in kb.entries:
        if e.documented:
            assert e.severity in SEVERITIES and e.severity_rationale, e.name
    assert kb.by_code("substatus", 28).severity is None  # type: ignore[union-attr]
    sev = {e.name: e.severity for e in kb.entries}
    assert sev["Meeting SLA"] == "ok" and sev["Bitmap Syncing"] == "ok"
    assert sev["Not Meeting SLA"] == "critical"
    # an RPO miss is the data-loss breach itself (Checkmk: CRIT); a journal-history miss with the RPO met is not
    assert sev["RPO Not Meeting SLA"] == "critical" and sev["History Not Meeting SLA"] == "warning"
    # expected after creating a VPG (or adding a VM): warning, not a page; "failover possible? no" still shows it
    assert sev["Initial Sync"] == sev["Disk Initial Sync"] == "warning"
    # halted protection and states that block recovery are not ok
    for sub in kb.substatuses:
        if sub.protection_halted or sub.recovery == "not-possible":
            assert sub.severity != "ok", sub.name


def test_actions_rest_only_on_their_own_evidence(kb: KnowledgeBase) -> None:
    for sub in kb.substatuses:
        if sub.action is not None:
            assert sub.evidence.get("action"), sub.name
    storage = next(s for s in kb.substatuses if s.name == "Recovery storage error")
    assert storage.action and storage.evidence["action"]
    removal = next(s for s in kb.substatuses if s.name == "VPG waiting to be removed")
    assert "For details, see Deleting a VPG When the Status is Deleting." in removal.evidence["action"]


def test_rationales_claim_no_more_than_the_documentation(kb: KnowledgeBase) -> None:
    rationale = {s.name: s.severity_rationale or "" for s in kb.substatuses}
    assert "normal protection" not in rationale["Bitmap Syncing"]
    assert "unreachable" not in rationale["Site disconnection. No checkpoints"]
    assert "communication with the zerto virtual manager at the recovery site is down" in rationale[
        "Site disconnection"].lower()
    assert "checkpoints in the journal become unusable" in rationale["Initial Sync"]


def test_recovery_condition_is_the_documentations_own_words(kb: KnowledgeBase) -> None:
    for sub in kb.substatuses:
        if sub.name in ("Delta Syncing", "Delta syncing a disk"):
            assert sub.recovery_condition == "assuming there are valid checkpoints in the journal"
            assert any(sub.recovery_condition in e for e in sub.evidence["recovery_condition"])
            assert sub.description and sub.recovery_condition in sub.description
        else:
            assert sub.recovery_condition is None, sub.name


def test_key_facts(kb: KnowledgeBase) -> None:
    def sub(name: str) -> Any:
        return next(s for s in kb.substatuses if s.name == name)

    assert sub("Delta Syncing").recovery == "last-checkpoint"
    assert sub("Delta Syncing").new_checkpoints is False
    assert sub("Delta Syncing").needs_powered_on_vms is True
    assert sub("Full Syncing").recovery == "not-possible"
    assert sub("Initial Sync").recovery == "not-possible"
    assert sub("Recovery is possible").recovery == "possible"
    assert sub("Recovery is possible").protection_halted is True
    assert sub("Site disconnection").protection_halted is True
    assert sub("Error").recovery == "not-possible"
    assert "forcibly remove" in sub("VPG waiting to be removed").action.lower()
    assert "journal disk space" in sub("User paused protection").action.lower()
    assert sub("Journal storage error").action and "synchronization" in sub("Journal storage error").action
    assert all(getattr(sub("Bitmap Syncing"), f) is None for f in FACT_FIELDS)


def test_json_carries_the_facts_for_every_substatus(cli: Any) -> None:
    data = json.loads(cli("list", "--kind", "substatus", "--json").stdout)
    assert len(data) == 35
    for item in data:
        for key in (*FACT_FIELDS, "severity", "evidence"):
            assert key in item, (item["name"], key)


def test_explain_evidence_flag(cli: Any) -> None:
    plain = cli("explain", "Full Syncing").stdout
    with_ev = cli("explain", "Full Syncing", "--evidence").stdout
    assert "Evidence" not in plain and "Evidence" in with_ev
    assert "Also, recovery operations are not possible." in with_ev
    assert plain.index("At a glance") < plain.index("Description")


def test_list_filters_by_recovery_and_severity(cli: Any, kb: KnowledgeBase) -> None:
    names = [e["name"] for e in json.loads(cli("list", "--recovery", "not-possible", "--json").stdout)]
    assert set(names) == {s.name for s in kb.substatuses if s.recovery == "not-possible"}
    unknown = json.loads(cli("list", "--recovery", "unknown", "--json").stdout)
    assert unknown and all(e["recovery"] is None and e["kind"] == "substatus" for e in unknown)
    crit = json.loads(cli("list", "--severity", "critical", "--json").stdout)
    assert crit and all(e["severity"] == "critical" for e in crit)
    assert "Severity" in cli("list", env={"COLUMNS": "120"}).stdout

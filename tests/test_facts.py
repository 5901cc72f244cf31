"""Structured facts: every value rests on verbatim documentation sentences."""

from __future__ import annotations

import json
import re
from typing import Any

from conftest import SEED, seed_descriptions

from zvpg_cli.knowledge.model import FACT_FIELDS, RECOVERY_VALUES, SEVERITIES, KnowledgeBase, Substatus

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


def seed_sentences(text: str) -> list[str]:
    """The sentences of a documentation cell, as it writes them (ending in "." or, once, ",")."""
    return [s for s in re.split(r"(?<=\.)\s+", text) if s]


def seed_description(sub: Substatus) -> str:
    """The substatus's description in the documentation's own table (by its name or an alias)."""
    described = seed_descriptions()
    hits = [described[n] for n in (sub.name, *sub.aliases) if n in described]
    assert len(hits) == 1, sub.name
    return hits[0]


#: The words that state each fact, read from the documentation independently of the knowledge base: a fact
#: rests on the sentences of its entry's description that say it, and on no other.
STATES: dict[tuple[str, object], str] = {
    ("recovery", "possible"): r"\brecovery (operations are still possible|on the remote site is available)\b",
    ("recovery", "last-checkpoint"): r"\byou can recover to the last checkpoint written to the journal\b",
    ("recovery", "not-possible"): (r"\b(recovery operations (are not possible|cannot occur)|cannot be recovered"
                                   r"|no checkpoints to use to recover)\b"),
    ("new_checkpoints", False): r"\bnew checkpoints are not added to the journal\b",
    ("needs_powered_on_vms", True): r"\bvirtual machines must be powered on\b",
    ("protection_halted", True): r"\b(continuing protection is halted|Protection is paused)\b",
}

#: What each action tells people to do, and the words of the documentation that say why: an action
#: matching the left must rest on a sentence matching the right (every action must match one).
ACTION_STATES: list[tuple[str, str]] = [
    (r"^Forcibly remove the VPG\b", r"\bit must be forcibly removed\b"),
    (r"\bDeleting a VPG When the Status is Deleting\b", r"\bsee Deleting a VPG When the Status is Deleting\b"),
    (r"^Keep the protected virtual machines powered on\b", r"\bvirtual machines must be powered on\b"),
    (r"^Resolve the problem\b", r"^Problem situation\b"),
    (r"\bcannot be recovered\b", r"\bcannot be recovered until the problem is resolved\b"),
    (r"^Supply the missing configuration settings\b", r"\bconfiguration settings are missing\b"),
    (r"\bI/O error to the journal\b", r"\bI/O error to the journal\b"),
    (r"\bsynchronization is required\b", r"\bOnce the problem is resolved a synchronization is required\b"),
    (r"\bI/O error to the recovery storage\b", r"\bI/O error to the recovery storage\b"),
    (r"^Resume protection\b", r"^Protection is paused\b"),
    (r"\bJournal disk space problem\b", r"\bsolving a Journal disk space problem\b"),
]


def test_each_fact_rests_on_the_sentences_that_state_it(kb: KnowledgeBase) -> None:
    """For every entry, each non-null fact's evidence holds the documentation sentence that states it,
    every quote is a whole sentence of that entry's own description, and no quote is filed under a fact it
    does not state (recovery to the last checkpoint is not evidence of a condition, and the reverse)."""
    checked = facts = 0
    for sub in kb.substatuses:
        facts += sum(getattr(sub, field) is not None for field in FACT_FIELDS)
        if not sub.documented or sub.description is None:
            assert not sub.evidence, sub.name
            continue
        sentences = seed_sentences(seed_description(sub))
        for field in FACT_FIELDS:
            value = getattr(sub, field)
            if value is None:
                continue
            quotes = sub.evidence.get(field, ())
            for quote in quotes:
                assert quote in sentences, (sub.name, field, quote)
            if field == "recovery_condition":
                stating = [s for s in sentences if value in s]
                assert stating and all(value in q for q in quotes), (sub.name, field, quotes)
            elif field == "action":
                rules = [(a, e) for a, e in ACTION_STATES if re.search(a, value)]
                assert rules, f"{sub.name}: no rule says which sentence the action {value!r} rests on"
                for _, says in rules:
                    assert any(re.search(says, q) for q in quotes), (sub.name, value, says, quotes)
                checked += 1
                continue
            else:
                says = STATES.get((field, value))
                assert says, f"{sub.name}: no reading of {field} = {value!r}"
                stating = [s for s in sentences if re.search(says, s, re.I)]
                assert stating and all(re.search(says, q, re.I) for q in quotes), (sub.name, field, value, quotes)
            assert set(stating) <= set(quotes), (sub.name, field, "leaves out", set(stating) - set(quotes))
            checked += 1
    assert checked == facts >= 39  # every fact of every entry


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
    # the documentation: "any checkpoints in the journal become unusable and only new checkpoints added after
    # the initial synchronization completes can be used": the old ones never come back
    assert "checkpoints in the journal become unusable" in rationale["Initial Sync"]
    assert "unusable until" not in rationale["Initial Sync"]
    assert "only new checkpoints added after" in rationale["Initial Sync"]
    # Bitmap Syncing's description is about Azure; its verdict rests on the status table, which lists it under
    # Meeting SLA, not on Azure-only text applied to every platform
    assert "status table lists it under Meeting SLA" in rationale["Bitmap Syncing"]
    assert "about Azure" in rationale["Bitmap Syncing"]
    assert not rationale["Bitmap Syncing"].startswith("The documentation describes it as how standard replication")


def test_actions_quote_the_documentations_examples_word_for_word(kb: KnowledgeBase) -> None:
    """An example or a title an action gives is the documentation's, word for word: "turned off and the
    recovery disks are inaccessible" (not "so that"), "the journal was full and the size was increased"."""
    quoted = 0
    for sub in kb.substatuses:
        if sub.action is None:
            continue
        assert sub.description
        examples = re.findall(r"\(for example, ([^)]*)\)", sub.action) + re.findall(r'"([^"]+)"', sub.action)
        for example in examples:
            assert example in sub.description, (sub.name, example)
            quoted += 1
        assert "for example" not in re.sub(r'\(for example, [^)]*\)|"[^"]*"', "", sub.action), sub.name
    assert quoted >= 6


def test_a_user_pause_is_resumed_once_its_work_is_done(kb: KnowledgeBase) -> None:
    """Whoever paused protection on purpose is not told to solve a disk space problem they may not have."""
    user = next(s for s in kb.substatuses if s.name == "User paused protection")
    assert user.action and user.action.startswith("Resume protection once the work it was paused for is done")
    assert ('"to enable solving a Journal disk space problem, for example, by increasing the disk size or cloning '
            'the VPG"') in user.action


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
    assert "journal disk space" in sub("Zerto Virtual Manager paused protection").action.lower()
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
    assert "Severity" in cli("list", env={"COLUMNS": "160"}).stdout  # (the full table needs 121 columns)

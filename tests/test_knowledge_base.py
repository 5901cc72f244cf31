"""The knowledge base against the documentation text and the API reference:
if an edit loses or changes documentation, these fail."""

from __future__ import annotations

import re

import pytest
from conftest import (
    KB_FILE,
    reference_community_codes,
    reference_statuses,
    reference_substatuses,
    seed_descriptions,
    seed_lines,
    seed_status_rows,
)

from zvpg_cli.knowledge.lookup import normalize
from zvpg_cli.knowledge.model import KnowledgeBase, Status, Substatus


def _find_sub(kb: KnowledgeBase, written: str) -> Substatus:
    hits = [s for s in kb.substatuses if written == s.name or written in s.aliases]
    assert len(hits) == 1, f"{written!r} is not exactly one substatus's name or alias: {hits}"
    return hits[0]


def test_counts(kb: KnowledgeBase) -> None:
    assert len(kb.statuses) == 9
    documented = [s for s in kb.substatuses if s.documented]
    assert len(documented) == 31
    # Backup: an API code the documentation does not describe; the other three: names seen in newer API
    # definitions, with codes from community sources (tests/fixtures/zerto-rest-api.md, "Codes 33-35")
    assert [s.name for s in kb.substatuses if not s.documented] == [
        "Backup", "JournalOrRecoveryMissingError", "AddedVmsInInitialSync", "ReplicationPausedForMissingVolume"]


def test_every_description_word_for_word(kb: KnowledgeBase) -> None:
    descriptions = seed_descriptions()
    assert len(descriptions) == 30
    for written, text in descriptions.items():
        assert _find_sub(kb, written).description == text, written


def test_no_description_beyond_the_seed(kb: KnowledgeBase) -> None:
    texts = set(seed_descriptions().values())
    for s in kb.substatuses:
        assert s.description is None or s.description in texts, s.name
    for st in kb.statuses:
        assert st.description is None, "the documentation describes no status"


def test_every_status_table_row_is_encoded(kb: KnowledgeBase) -> None:
    rows = seed_status_rows()
    assert len(rows) == 27
    label_to_status = {st.table_label: st for st in kb.statuses}
    for row in rows:
        status = label_to_status[row["status"]]
        if row["status_comment"]:
            assert status.comment == row["status_comment"]
        cell = row["cell"]
        if not cell:
            continue
        m = re.fullmatch(r"(.+?) \((.+)\)", cell)
        written, condition = (m.group(1), m.group(2)) if m else (cell, None)
        if status.substatuses_from or cell == "—":
            assert status.substatus_note == cell
            continue
        sub = _find_sub(kb, written)
        listing = [li for li in sub.statuses if li.status == status.name]
        assert len(listing) == 1, (status.name, written)
        assert listing[0].listed_as == written
        extra = row["extra"]
        if extra:
            # "Recovery is Possible | After a rollback." is a condition; the others are comments
            assert extra in (sub.comment, listing[0].condition), (written, extra)
        if condition:
            assert listing[0].condition == condition
    # and nothing listed that the table does not list
    listed = {(li.status, li.listed_as) for s in kb.substatuses for li in s.statuses}
    in_table = set()
    for row in rows:
        st = label_to_status[row["status"]]
        if row["cell"] and not st.substatuses_from and row["cell"] != "—":
            in_table.add((st.name, re.sub(r" \(.+\)$", "", row["cell"])))
    assert listed == in_table


def test_known_associations(kb: KnowledgeBase) -> None:
    delta = _find_sub(kb, "Delta Syncing")
    assert {(li.status, li.condition) for li in delta.statuses} == {
        ("Meeting SLA", "When Force Sync is applied"), ("Not Meeting SLA", "When Force Sync is not applied")}
    rip = _find_sub(kb, "Recovery is possible")
    assert [(li.status, li.condition) for li in rip.statuses] == [("Meeting SLA", "After a rollback.")]
    recovered = kb.status("Recovered")
    assert recovered is not None and kb.substatuses_of(recovered) == ()
    for name in ("History Not Meeting SLA", "RPO Not Meeting SLA"):
        st = kb.status(name)
        nms = kb.status("Not Meeting SLA")
        assert st is not None and nms is not None
        assert st.substatuses_from == "Not Meeting SLA"
        assert kb.substatuses_of(st) == kb.substatuses_of(nms)
    meeting = kb.status("Meeting SLA")
    assert meeting is not None and meeting.table_label == "Meeting SLA or Based on Alerts"


def test_substatuses_listed_under_no_status_say_so(kb: KnowledgeBase) -> None:
    unlisted = {s.name for s in kb.substatuses if not s.statuses and s.api_code is not None and not s.code_source}
    assert unlisted == {"Full Syncing", "Full syncing a disk", "Journal storage error", "Recovery storage error",
                        "Recovery storage profile error", "Rolling back", "User paused protection",
                        "Zerto Virtual Manager paused protection", "Backup"}
    text = KB_FILE.read_text(encoding="utf-8")
    assert text.count("statuses: []  # the documentation's status table lists it under no status") == len(unlisted)


def test_spelling_variants_are_aliases(kb: KnowledgeBase) -> None:
    assert "Delta Syncing a disk" in _find_sub(kb, "Delta syncing a disk").aliases
    assert "Failing over – Before commit" in _find_sub(kb, "Failing over - Before commit").aliases
    assert "Moving – Before commit" in _find_sub(kb, "Moving - Before commit").aliases
    assert "disk Initial Sync" in _find_sub(kb, "Disk Initial Sync").aliases
    assert "Needs configuration" in _find_sub(kb, "Needs Configuration").aliases


@pytest.mark.parametrize("kind", ["status", "substatus"])
def test_api_codes_match_the_reference(kb: KnowledgeBase, kind: str) -> None:
    table = reference_statuses() if kind == "status" else reference_substatuses()
    entries = kb.statuses if kind == "status" else kb.substatuses
    by_code = {e.api_code: e for e in entries
               if e.api_code is not None and not (isinstance(e, Substatus) and e.code_source)}
    for code, (api_name, doc_name) in table.items():
        if kind == "substatus" and code == 0:
            assert kb.no_substatus is not None
            assert (kb.no_substatus.api_code, kb.no_substatus.api_name) == (0, api_name)
            continue
        e = by_code[code]
        assert e.api_name == api_name
        if not doc_name.startswith("("):
            assert normalize(doc_name) in {normalize(n) for n in (e.name, *e.aliases)}
    assert set(by_code) == (set(table) - {0} if kind == "substatus" else set(table))


def test_status_meanings_come_from_the_api_documentation(kb: KnowledgeBase) -> None:
    for st in kb.statuses:
        assert st.meaning, st.name


def test_codes_3_and_4_carry_the_other_numberings(kb: KnowledgeBase) -> None:
    r, h = kb.by_code("status", 3), kb.by_code("status", 4)
    assert isinstance(h, Status) and isinstance(r, Status)
    assert r.api_name == "RpoNotMeetingSLA" and h.api_name == "HistoryNotMeetingSLA"
    # the hand-written client enums number them the other way round
    assert [o.code for o in r.other_numberings] == [4] and [o.code for o in h.other_numberings] == [3]
    assert all("hand-written client enums" in o.system for o in r.other_numberings + h.other_numberings)
    assert all(not s.other_numberings for s in kb.statuses if s.api_code not in (3, 4))
    assert kb.numbering_caution and "Zerto Analytics and Checkmk agree with zvpg" in " ".join(
        kb.numbering_caution.split())


# Each ZVM REST API status code pinned to its API name. Sources (tests/fixtures/zerto-rest-api.md,
# "VPG `Status`"): Zerto's REST API documentation (7.5 REST APIs Online Help, GET /v1/vpgs filter
# `status`: "3 or RpoNotMeetingSLA", "4 or HistoryNotMeetingSLA"); the ZVM web interface's enum
# VpgVisualStatus; a captured ZVM object with Status 4 labelled "History Not Meeting SLA" and its
# RPO met; the list a ZVM appliance returns for GET /v1/vpgs/statuses, in code order; Checkmk's
# Zerto check and Zerto Analytics. Codes 3 and 4 were the other way round in zvpg 0.1.0.
@pytest.mark.parametrize(("code", "api_name", "name"), [
    (0, "Initializing", "Initializing"),
    (1, "MeetingSLA", "Meeting SLA"),
    (2, "NotMeetingSLA", "Not Meeting SLA"),
    (3, "RpoNotMeetingSLA", "RPO Not Meeting SLA"),
    (4, "HistoryNotMeetingSLA", "History Not Meeting SLA"),
    (5, "FailingOver", "Failing Over"),
    (6, "Moving", "Moving"),
    (7, "Deleting", "Deleting"),
    (8, "Recovered", "Recovered"),
])
def test_status_code_is_pinned_to_its_api_name(kb: KnowledgeBase, code: int, api_name: str, name: str) -> None:
    entry = kb.by_code("status", code)
    assert entry is not None and (entry.api_name, entry.name) == (api_name, name)


def test_codes_from_community_sources_are_the_ones_both_sources_agree_on(kb: KnowledgeBase) -> None:
    paragraph, agreed = reference_community_codes()
    assert agreed == {33: "JournalOrRecoveryMissingError", 34: "AddedVmsInInitialSync",
                      35: "ReplicationPausedForMissingVolume"}
    sourced = {s.api_code: s for s in kb.substatuses if s.code_source}
    assert set(sourced) == set(agreed)
    for code, api_name in agreed.items():
        entry = sourced[code]
        assert (entry.api_name, entry.name) == (api_name, api_name)
        # still undocumented: no description, no severity of its own, no facts
        assert entry.documented is False and entry.description is None and entry.comment is None
        assert entry.severity is None and entry.recovery is None and not entry.statuses
        # its source, as the reference names it
        assert entry.code_source is not None and entry.code_source.startswith(
            "community sources, no Zerto-authored source")
        for source in ("Iserv-Group Zabbix template", "ZertoSubStatus", "2020", "chrisred", "LogicMonitor module",
                       "SubStatus", "2024"):
            assert source in entry.code_source and source in paragraph, source
        assert entry.code_source.endswith(f"agree on {code} {api_name}")
        assert f"{code} `{api_name}`" in paragraph


def test_codes_named_by_one_source_only_stay_unknown(kb: KnowledgeBase) -> None:
    paragraph, _ = reference_community_codes()
    one_source = paragraph[paragraph.index("The LogicMonitor module alone goes on"):]
    named = re.findall(r"(\d+) `(\w+)`", one_source)
    assert [int(code) for code, _ in named] == [36, 37, 38, 39, 40, 41]
    for code, api_name in named:
        assert kb.by_code("substatus", int(code)) is None and kb.by_api_name("substatus", api_name) is None
    assert all(s.api_code is None or s.api_code <= 35 for s in kb.substatuses)


def test_every_seed_sentence_is_reachable(kb: KnowledgeBase) -> None:
    """Every cell of the seed (but table headers) is somewhere in the knowledge base."""
    strings: set[str] = set()
    for e in kb.entries:
        strings |= {e.name, *e.aliases, e.comment or "", e.description or ""}
        if isinstance(e, Status):
            strings |= {e.table_label, e.substatus_note or ""}
        else:
            for li in e.statuses:
                strings |= {li.listed_as, li.condition or ""}
    blob = "\n".join(strings)
    for line in seed_lines():
        for cell in line.split(" | "):
            cell = cell.strip().rstrip("|").strip()
            if cell and cell not in ("Status", "Substatus", "Comment", "Description"):
                cell = re.sub(r" \((When Force Sync is (not )?applied)\)$", "", cell)
                assert cell in blob, cell

"""Domain objects as plain data: the stable JSON contract (docs/reference.md, "JSON
contract") and the knowledge-base schema (for `--format yaml`).

Keys are never renamed, only added.
"""

from __future__ import annotations

from typing import Any

from .decoding import DOCUMENTATION, ZVPG, Decoded, DecodedPair, failover_source, numbering_warning
from .model import FACT_FIELDS, Entry, KnowledgeBase, Status, Substatus

MEANING_SOURCE = "ZVM REST API documentation (summarised by zvpg)"


def entry_dict(kb: KnowledgeBase, entry: Entry) -> dict[str, Any]:
    """One entry as the JSON contract has it."""
    out: dict[str, Any] = {
        "kind": entry.kind,
        "name": entry.name,
        "aliases": list(entry.aliases),
        "api_code": entry.api_code,
        "api_name": entry.api_name,
        "comment": entry.comment,
        "description": entry.description,
        "documented": entry.documented,
        "severity": entry.severity,
        "severity_rationale": entry.severity_rationale,
    }
    if isinstance(entry, Status):
        out.update({
            "table_label": entry.table_label,
            "meaning": entry.meaning,
            "meaning_source": MEANING_SOURCE if entry.meaning else None,
            "substatuses": [s.name for s in kb.substatuses_of(entry)],
            "substatuses_from": entry.substatuses_from,
            "substatus_note": entry.substatus_note,
            "other_numberings": [{"system": o.system, "code": o.code} for o in entry.other_numberings],
            "rpo_sla_met": entry.rpo_sla_met,
            "numbering_warning": numbering_warning(entry),
        })
    else:
        out.update({
            "statuses": [li.status for li in entry.statuses],
            "conditions": [{"status": li.status, "condition": li.condition, "listed_as": li.listed_as}
                           for li in entry.statuses],
        })
        for key in FACT_FIELDS:
            out[key] = getattr(entry, key)
        out["evidence"] = {k: list(v) for k, v in entry.evidence.items()}
        out["code_source"] = entry.code_source
    out["basis"] = entry_basis(entry)
    return out


def entry_basis(entry: Entry) -> dict[str, str | None]:
    """Whose words each field of an entry is: "documentation" (the Zerto
    documentation's, word for word, and the facts read from its sentences,
    quoted under `evidence`), "zvpg" (zvpg's judgement: severity, its rationale,
    what to do), None (empty)."""
    def source(value: object, whose: str) -> str | None:
        return None if value is None else whose

    out = {"comment": source(entry.comment, DOCUMENTATION), "description": source(entry.description, DOCUMENTATION),
           "severity": source(entry.severity, ZVPG), "severity_rationale": source(entry.severity_rationale, ZVPG)}
    if isinstance(entry, Substatus):
        for key in FACT_FIELDS:
            out[key] = source(getattr(entry, key), ZVPG if key == "action" else DOCUMENTATION)
    return out


def kb_record(entry: Entry) -> dict[str, Any]:
    """One entry in the knowledge-base file's own schema (data/statuses.yaml)."""
    if isinstance(entry, Status):
        return {
            "name": entry.name, "table_label": entry.table_label, "aliases": list(entry.aliases),
            "api_code": entry.api_code, "api_name": entry.api_name, "comment": entry.comment,
            "description": entry.description, "meaning": entry.meaning,
            "substatuses_from": entry.substatuses_from, "substatus_note": entry.substatus_note,
            "other_numberings": [{"system": o.system, "code": o.code} for o in entry.other_numberings],
            "rpo_sla_met": entry.rpo_sla_met,
            "severity": entry.severity, "severity_rationale": entry.severity_rationale,
        }
    assert isinstance(entry, Substatus)
    record: dict[str, Any] = {
        "name": entry.name, "aliases": list(entry.aliases), "api_code": entry.api_code,
        "api_name": entry.api_name, **({"code_source": entry.code_source} if entry.code_source else {}),
        "documented": entry.documented,
        "statuses": [li._asdict() for li in entry.statuses],
        "comment": entry.comment, "description": entry.description,
    }
    for key in FACT_FIELDS:
        record[key] = getattr(entry, key)
    record.update({"severity": entry.severity, "severity_rationale": entry.severity_rationale,
                   "evidence": {k: list(v) for k, v in entry.evidence.items()}})
    return record


def decoded_dict(kb: KnowledgeBase, d: Decoded) -> dict[str, Any]:
    """A decoded value: what was given, whether it is known, and (when it is)
    every key of its entry (so `.name`, `.description` work as on entries)."""
    out: dict[str, Any] = {"value": d.value, "code": d.code, "known": d.known, "no_substatus": d.no_substatus}
    if d.entry is not None:
        out.update(entry_dict(kb, d.entry))
    else:
        out.update({"kind": d.kind, "name": None, "api_code": d.code, "api_name": d.api_name})
    return out


def pair_dict(kb: KnowledgeBase, pair: DecodedPair) -> dict[str, Any]:
    return {
        "status": decoded_dict(kb, pair.status),
        "substatus": decoded_dict(kb, pair.substatus) if pair.substatus is not None else None,
        "listed": pair.listed,
        "listed_via": pair.listed_via,
        "condition": pair.listing.condition if pair.listing else None,
        "severity": pair.severity,
        "severity_from": pair.severity_from,
        "failover_possible": pair.failover.possible,
        "failover_basis": pair.failover.basis,
        "recovery_condition": pair.failover.condition,
        "warnings": list(pair.warnings),
        "basis": {"severity": None if pair.severity is None else ZVPG,
                  "failover_possible": failover_source(pair.failover)},
    }

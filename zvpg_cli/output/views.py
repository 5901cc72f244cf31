"""What each view says, as (label, text) rows, independent of how it is drawn:
`human` draws them with rich, `markdown` as Markdown. One place decides the
wording, so the two cannot drift apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..decoding import UNDOCUMENTED, Decoded, DecodedPair, Failover, numbering_warning
from ..model import Entry, KnowledgeBase, Status, Substatus

if TYPE_CHECKING:
    from ..lookup import Resolution

NOT_STATED = "not stated in the documentation"
RECOVERY_TEXT = {
    "possible": "yes",
    "last-checkpoint": "yes, to the last checkpoint written to the journal",
    "not-possible": "no",
}
RECOVERY_SHORT = {"possible": "yes", "last-checkpoint": "to last checkpoint", "not-possible": "no"}


INFERRED_SHORT = "expected (SLA met)"
INFERRED_TEXT = ("expected (SLA met): the status says the RPO SLA setting is met and no substatus says "
                 "otherwise (zvpg's inference, not the documentation's)")


def failover_short(recovery: str | None, condition: str | None = None, basis: str | None = None) -> str:
    """Whether a failover is possible, in a table cell or a monitoring line,
    with the documentation's condition where it has one."""
    if basis == "inferred":
        return INFERRED_SHORT
    text = RECOVERY_SHORT.get(recovery or "", "not stated")
    return f"{text}, {condition}" if condition else text


def failover_text(recovery: str | None, condition: str | None = None, basis: str | None = None) -> str:
    """The same, in full sentences (explain, decode)."""
    if basis == "inferred":
        return INFERRED_TEXT
    text = RECOVERY_TEXT.get(recovery or "", NOT_STATED)
    return f"{text}, {condition}" if condition else text


def listed_under(sub: Substatus) -> str:
    """The statuses the status table lists `sub` under, for a table cell."""
    return ", ".join(li.status for li in sub.statuses) or "no parent status listed"


def substatus_count(kb: KnowledgeBase, status: Status) -> str:
    """How many substatuses the status table lists under `status`, for a table cell."""
    if status.substatuses_from:
        return f"those of {status.substatuses_from}"
    n = len(kb.substatuses_of(status))
    return f"{n} listed" if n else "none listed"


#: One label per fact (model.FACT_FIELDS), shown beside its value and its evidence.
FACT_LABELS = {
    "recovery": "Failover possible?",
    "recovery_condition": "Failover condition",
    "new_checkpoints": "New checkpoints?",
    "needs_powered_on_vms": "VMs must be on?",
    "protection_halted": "Protection halted?",
    "action": "What to do",
}


def yes_no(value: bool | None) -> str:
    return NOT_STATED if value is None else ("yes" if value else "no")


class Section(NamedTuple):
    title: str | None
    rows: list[tuple[str, str]]
    #: long prose shown under the rows
    text: str | None = None


#: The severity of an entry that has none of its own (the undocumented substatuses), in every view.
NO_SEVERITY = "none of its own; the status decides"


def severity_word(entry: Entry) -> str:
    """An entry's severity, alone (a `list` cell)."""
    return entry.severity or NO_SEVERITY


def severity_text(entry: Entry) -> str:
    """An entry's severity with its rationale (`explain`)."""
    if entry.severity is None or not entry.severity_rationale:
        return severity_word(entry)
    return f"{entry.severity} — {entry.severity_rationale}"


EVIDENCE_TITLE = "Evidence (documentation, word for word)"


def evidence_section(entry: Entry) -> Section:
    """The documentation sentences each of the entry's facts rests on."""
    if isinstance(entry, Status):
        return Section(EVIDENCE_TITLE, [("", "no evidence recorded: zvpg quotes evidence for the facts of "
                                             "substatuses; of a status the documentation has only its row of the "
                                             "status table, shown above")])
    rows = [(FACT_LABELS[k], " ".join(v)) for k, v in entry.evidence.items()]
    return Section(EVIDENCE_TITLE, rows or [("", "no facts recorded")])


def glance(entry: Substatus) -> list[tuple[str, str]]:
    return [
        ("Severity", severity_text(entry)),
        (FACT_LABELS["recovery"], failover_text(entry.recovery, entry.recovery_condition)),
        (FACT_LABELS["new_checkpoints"], yes_no(entry.new_checkpoints)),
        (FACT_LABELS["protection_halted"], yes_no(entry.protection_halted)),
        (FACT_LABELS["needs_powered_on_vms"], yes_no(entry.needs_powered_on_vms)),
        (FACT_LABELS["action"], entry.action or NOT_STATED),
    ]


def api_text(entry: Entry) -> str:
    if entry.api_code is None and entry.api_name is None:
        return "none"
    if entry.api_code is None:
        return f"{entry.api_name} (no confirmed code)"
    return f"{entry.api_code} {entry.api_name}"


def entry_sections(kb: KnowledgeBase, entry: Entry, *, evidence: bool = False,
                   resolution: Resolution | None = None, caution: bool = True,
                   brief: bool = False) -> list[Section]:
    """The explain view of one entry; `brief` (inside a decoded pair, which
    shows the codes and the facts once) leaves out kind, code and facts."""
    head: list[tuple[str, str]] = [] if brief else [("Kind", entry.kind), ("API code", api_text(entry))]
    notes: list[tuple[str, str]] = []
    if resolution is not None and resolution.via != "name":
        notes.append(("Matched", f"{resolution.matched} ({resolution.via})"))
    if resolution is not None and resolution.others:
        others = ", ".join(f"{o.kind} {o.name} ({api_text(o)})" for o in resolution.others)
        notes.append(("Also matches", f"{others}; use its full name to see it"))
    if entry.aliases:
        head.append(("Also written", ", ".join(entry.aliases)))
    sections = []
    if isinstance(entry, Status):
        head.append(("Severity", severity_text(entry)))
        if entry.table_label != entry.name:
            head.append(("Documentation says", entry.table_label))
        if entry.meaning:
            head.append(("Meaning", f"{entry.meaning} (ZVM REST API documentation, summarised)"))
        if entry.comment:
            head.append(("Comment", entry.comment))
        subs = kb.substatuses_of(entry)
        cell = f" (the documentation's table cell: \"{entry.substatus_note}\")" if entry.substatus_note else ""
        if entry.substatuses_from:
            head.append(("Substatuses", f"those of {entry.substatuses_from}{cell}"))
        elif not subs:
            head.append(("Substatuses", f"none listed{cell}"))
        warning = numbering_warning(entry) if caution else None
        if warning:
            head.append(("Caution", warning))
        sections.append(Section(None, notes + head))
        if subs and not brief:
            rows = []
            for s in subs:
                li = kb.listing(entry, s)
                rows.append((s.name, li.condition if li and li.condition else ""))
            sections.append(Section("Substatuses", rows))
        if evidence:
            sections.append(evidence_section(entry))
        return sections
    if not entry.documented:
        head.append(("Documented", "no: the ZVM REST API has it, the documentation does not describe it"
                     if entry.api_code is not None else
                     "no: newer API definitions name it; no source confirms its code, the documentation "
                     "does not describe it"))
    elif not brief:
        head.append(("Documented", "yes"))
    if entry.statuses:
        listed = ", ".join(li.status + (f" ({li.condition})" if li.condition else "") for li in entry.statuses)
    else:
        listed = "no parent status listed in the documentation's status table"
    head.append(("Listed under", listed))
    if entry.comment:
        head.append(("Comment", entry.comment))
    if brief:
        head.append(("Severity", severity_text(entry)))
    sections.append(Section(None, notes + head))
    if not brief:
        sections.append(Section("At a glance", glance(entry)))
    if evidence:
        sections.append(evidence_section(entry))
    sections.append(Section("Description", [], entry.description or "The documentation has no description for it."))
    return sections


def decoded_label(d: Decoded) -> str:
    if d.no_substatus:
        return f"{d.code} {d.api_name} (no substatus)"
    if d.entry is None:
        return f"{d.value!r}: unknown"
    return f"{d.entry.name} ({api_text(d.entry)})"


def pair_title(pair: DecodedPair) -> str:
    """`Not Meeting SLA / Delta Syncing`, `Meeting SLA / none`, `9 (unknown)`."""
    parts = []
    for d in (pair.status, pair.substatus):
        if d is None:
            continue
        parts.append("none" if d.no_substatus else d.name or f"{d.value} (unknown)")
    return " / ".join(parts)


def pair_subtitle(pair: DecodedPair) -> str:
    codes = [f"{d.kind} {d.code if d.code is not None else d.value}"
             for d in (pair.status, pair.substatus) if d is not None]
    return " · ".join(codes)


def listed_text(pair: DecodedPair, status: Status | None) -> str | None:
    cond = f" ({pair.listing.condition})" if pair.listing and pair.listing.condition else ""
    if pair.listed is True and pair.listed_via and status is not None:
        return (f"yes, via {pair.listed_via}: the status table refers {status.name} to {pair.listed_via}'s "
                f"list, which lists it{cond}")
    if pair.listed is True:
        return f"yes: the status table lists it under this status{cond}"
    if pair.listed is False:
        return "no: the documentation's status table does not list this substatus under this status"
    return None


def pair_severity(pair: DecodedPair) -> str:
    """The VPG's severity, said once, with where it comes from."""
    if pair.severity is None:
        return "unknown"
    st = pair.status.entry
    sub = pair.substatus.entry if pair.substatus is not None else None
    if pair.severity_from == "substatus" and sub is not None:
        return f"{pair.severity}, from the substatus ({sub.severity_rationale})"
    if pair.severity_from == "undocumented":
        return f"{pair.severity}, at least: {UNDOCUMENTED}"
    if pair.severity_from == "both" and sub is not None:
        return f"{pair.severity}, from status and substatus alike"
    why = f" ({st.severity_rationale})" if st is not None and st.severity_rationale else ""
    return f"{pair.severity}, from the status{why}"


def failover_row(f: Failover) -> tuple[str, str]:
    return (FACT_LABELS["recovery"], failover_text(f.recovery, f.condition, f.basis))


def pair_sections(kb: KnowledgeBase, pair: DecodedPair, *, evidence: bool = False) -> list[Section]:
    """One decoded pair: the verdict and the facts once, then what each entry
    adds (meaning, comment, description, and with `evidence` its evidence)
    without repeating them."""
    st = pair.status.entry if isinstance(pair.status.entry, Status) else None
    rows = [("Status", decoded_label(pair.status))]
    if pair.substatus is not None:
        rows.append(("Substatus", decoded_label(pair.substatus)))
    listed = listed_text(pair, st)
    if listed:
        rows.append(("Listed?", listed))
    rows.append(("Severity", pair_severity(pair)))
    sub = pair.substatus.entry if pair.substatus is not None else None
    if pair.failover is not None:
        rows.append(failover_row(pair.failover))
    if isinstance(sub, Substatus):
        rows += [row for row in glance(sub) if row[0] not in ("Severity", FACT_LABELS["recovery"])]
    sections = [Section(None, rows)]  # pair.warnings: on stderr (decode) or in JSON, once
    for d in (pair.status, pair.substatus):
        if d is not None and d.entry is not None:
            sections.append(Section(f"{d.entry.kind.capitalize()}: {d.entry.name}", []))
            sections += entry_sections(kb, d.entry, caution=False, brief=True, evidence=evidence)
    return sections

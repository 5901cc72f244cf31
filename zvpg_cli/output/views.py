"""What each view says, as (label, text) rows, independent of how it is drawn:
`human` draws them with rich, `markdown` as Markdown. One place decides the
wording, so the two cannot drift apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..knowledge.decoding import UNDOCUMENTED, Decoded, DecodedPair, Failover, documented_failover, numbering_warning
from ..knowledge.model import Entry, KnowledgeBase, Status, Substatus

if TYPE_CHECKING:
    from ..knowledge.lookup import Resolution

NOT_STATED = "not stated in the documentation"
RECOVERY_TEXT = {
    "possible": "yes",
    "last-checkpoint": "yes, to the last checkpoint written to the journal",
    "not-possible": "no",
}
RECOVERY_SHORT = {"possible": "yes", "last-checkpoint": "to last checkpoint", "not-possible": "no"}


INFERRED_SHORT = "expected (zvpg's inference)"
INFERRED_TEXT = ("expected (zvpg's inference, not the documentation's): the status says the RPO SLA setting is "
                 "met, the substatus is none or ok, and ActualRPO is within ConfiguredRpoSeconds")
#: zvpg's next step where the documentation does not say whether a failover is possible.
ADVICE = ("look at the VPG's ActualRPO against its ConfiguredRpoSeconds, and at its last checkpoint, "
          "before you rely on a failover")
INFERABLE_ADVICE = ("zvpg expects it to be possible where ActualRPO is within ConfiguredRpoSeconds (the status says "
                    "the RPO SLA setting is met; no substatus says otherwise); codes alone do not show that: " + ADVICE)
#: What to do where zvpg records no action.
NO_ACTION = "none recorded"
#: The titles that say whose answer a row is.
JUDGEMENT_TITLE = "zvpg's judgement (not the documentation's)"
DOCUMENTATION_TITLE = "The documentation says"
#: The label of zvpg's own answer where the documentation's is "not stated".
ADVICE_LABEL = "Can I fail over?"


def failover_text(f: Failover, short: bool = False) -> str:
    """Whether a failover is possible, and whose answer it is: the
    documentation's (with its condition where it has one), zvpg's inference
    ("expected (zvpg's inference)"), or not stated. `short` for a table cell or
    a monitoring line, else full sentences (explain, decode). The one place
    every view words it."""
    if f.basis == "inferred":
        return INFERRED_SHORT if short else INFERRED_TEXT
    text = (RECOVERY_SHORT if short else RECOVERY_TEXT).get(f.recovery or "")
    if text is None:
        return "not stated" if short else NOT_STATED
    return f"{text}, {f.condition}" if f.condition else text


def failover_advice(f: Failover) -> str | None:
    """zvpg's next step where the documentation does not answer (None where it does)."""
    if f.basis is not None:
        return None
    return INFERABLE_ADVICE if f.inferable else "not stated in the documentation; zvpg's advice: " + ADVICE


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
#: Evidence labels of the facts that are zvpg's judgement resting on a quote (the quote is the
#: documentation's, the answer is not).
EVIDENCE_LABELS = {"action": "zvpg's advice rests on"}


def evidence_section(entry: Entry) -> Section:
    """The documentation sentences each of the entry's facts rests on: quotes only."""
    if isinstance(entry, Status):
        return Section(EVIDENCE_TITLE, [("", "no evidence recorded: zvpg quotes evidence for the facts of "
                                             "substatuses; of a status the documentation has only its row of the "
                                             "status table, shown above")])
    rows = [(EVIDENCE_LABELS.get(k, FACT_LABELS[k]), " ".join(v)) for k, v in entry.evidence.items()]
    return Section(EVIDENCE_TITLE, rows or [("", "no facts recorded")])


def judged(text: str) -> str:
    """A value that is zvpg's judgement, shown among the documentation's words."""
    return f"{text} (zvpg's judgement)"


def documented_rows(entry: Substatus, failover: Failover | None = None) -> list[tuple[str, str]]:
    """What the documentation says of a substatus's facts (the failover: `failover`, else its own)."""
    f = documented_failover(entry) if failover is None or failover.basis != "documented" else failover
    return [
        (FACT_LABELS["recovery"], failover_text(f)),
        (FACT_LABELS["new_checkpoints"], yes_no(entry.new_checkpoints)),
        (FACT_LABELS["protection_halted"], yes_no(entry.protection_halted)),
        (FACT_LABELS["needs_powered_on_vms"], yes_no(entry.needs_powered_on_vms)),
    ]


def judgement_rows(severity: str, action: str | None, failover: Failover) -> list[tuple[str, str]]:
    """zvpg's own answers: severity, what to do, and the failover where the documentation gives none."""
    rows = [("Severity", severity)]
    if failover.basis == "inferred":
        rows.append((FACT_LABELS["recovery"], failover_text(failover)))
    else:
        advice = failover_advice(failover)
        if advice is not None:
            rows.append((ADVICE_LABEL, advice))
    rows.append((FACT_LABELS["action"], action or NO_ACTION))
    return rows


def glance(entry: Substatus) -> list[Section]:
    """An entry's answers at a glance: zvpg's judgement, then what the documentation says."""
    f = documented_failover(entry)
    return [Section(f"At a glance: {JUDGEMENT_TITLE}", judgement_rows(severity_text(entry), entry.action, f)),
            Section(f"At a glance: {DOCUMENTATION_TITLE.lower()}", documented_rows(entry))]


def api_text(entry: Entry) -> str:
    if entry.api_code is None and entry.api_name is None:
        return "none"
    if entry.api_code is None:
        return f"{entry.api_name} (no confirmed code)"
    if isinstance(entry, Substatus) and entry.code_source:
        return f"{entry.api_code} {entry.api_name} (code from community sources)"
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
        head.append(("Severity", judged(severity_text(entry))))
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
        head.append(("Documented", f"no: the documentation does not describe it; its code comes from "
                     f"{entry.code_source}" if entry.code_source else
                     "no: the ZVM REST API has it, the documentation does not describe it"
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
        head.append(("Severity", judged(severity_text(entry))))
    sections.append(Section(None, notes + head))
    if not brief:
        sections += glance(entry)
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


def pair_sections(kb: KnowledgeBase, pair: DecodedPair, *, evidence: bool = False) -> list[Section]:
    """One decoded pair: what was decoded, zvpg's judgement (severity, what to
    do, and the failover where the documentation gives none), what the
    documentation says, then what each entry adds (meaning, comment,
    description, and with `evidence` its evidence) without repeating them."""
    st = pair.status.entry if isinstance(pair.status.entry, Status) else None
    rows = [("Status", decoded_label(pair.status))]
    if pair.substatus is not None:
        rows.append(("Substatus", decoded_label(pair.substatus)))
    listed = listed_text(pair, st)
    if listed:
        rows.append(("Listed?", listed))
    sub = pair.substatus.entry if pair.substatus is not None else None
    f = pair.failover if pair.failover is not None else Failover()
    action = sub.action if isinstance(sub, Substatus) else None
    sections = [Section(None, rows),  # pair.warnings: on stderr (decode) or in JSON, once
                Section(JUDGEMENT_TITLE, judgement_rows(pair_severity(pair), action, f))]
    if isinstance(sub, Substatus):
        sections.append(Section(DOCUMENTATION_TITLE, documented_rows(sub, f)))
    for d in (pair.status, pair.substatus):
        if d is not None and d.entry is not None:
            sections.append(Section(f"{d.entry.kind.capitalize()}: {d.entry.name}", []))
            sections += entry_sections(kb, d.entry, caution=False, brief=True, evidence=evidence)
    return sections

"""Decode the `Status` / `SubStatus` values of the ZVM REST API.

Values are codes (ints, or strings of digits) or API names ("NotMeetingSLA").
Codes follow the ZVM REST API numbering, as the knowledge base records it;
names are the same in every numbering, so decoding by name is always safe.
A value the knowledge base does not know is reported as unknown, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .model import Entry, KnowledgeBase, Listing, Status, Substatus, severity_rank

if TYPE_CHECKING:
    from .lookup import Resolution


class Decoded(NamedTuple):
    """One decoded value."""

    kind: str  # "status" or "substatus"
    value: Any  # what was given
    code: int | None
    api_name: str | None
    entry: Entry | None
    #: True for the API's "no substatus" (SubStatus 0 / "None")
    no_substatus: bool = False
    #: True when the value was a code (numbers differ between numberings)
    by_code: bool = False

    @property
    def known(self) -> bool:
        return self.entry is not None or self.no_substatus

    @property
    def name(self) -> str | None:
        return self.entry.name if self.entry is not None else None


def _as_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.lstrip("+-").isdigit() and len(text) < 20:
            return int(text)
    return None


def decode_value(kb: KnowledgeBase, kind: str, value: Any) -> Decoded:
    """Decode one `Status` (kind "status") or `SubStatus` (kind "substatus")."""
    code = _as_code(value)
    ns = kb.no_substatus if kind == "substatus" else None
    if code is not None:
        if ns is not None and code == ns.api_code:
            return Decoded(kind, value, code, ns.api_name, None, no_substatus=True, by_code=True)
        entry = kb.by_code(kind, code)
        return Decoded(kind, value, code, entry.api_name if entry else None, entry, by_code=True)
    if isinstance(value, str):
        name = value.strip()
        if ns is not None and name.casefold() == ns.api_name.casefold():
            return Decoded(kind, value, ns.api_code, ns.api_name, None, no_substatus=True)
        entry = kb.by_api_name(kind, name)
        if entry is not None:
            return Decoded(kind, value, entry.api_code, entry.api_name, entry)
    return Decoded(kind, value, None, None, None)


def numbering_warning(status: Status) -> str | None:
    """The caution for a status that other systems number differently."""
    if not status.other_numberings:
        return None
    others = "; ".join(f"{o.system} give it code {o.code}" for o in status.other_numberings)
    return (f"Code {status.api_code} is {status.name} ({status.api_name}) in the ZVM REST API, as Zerto's "
            f"documentation and live ZVMs number it; {others}. Where data comes from such a script, "
            "compare by API name.")


#: Why a VPG whose substatus the documentation does not describe is at least a warning.
UNDOCUMENTED = "the documentation says nothing about this substatus"


def combined_severity(status: Status | None, substatus: Decoded | None) -> str | None:
    """The severity of a VPG in `status` / `substatus` (docs/explain.md, "Severity"):
    the worse of the two. A substatus the documentation says nothing about (an
    unknown code, Backup, the codes and names known only from community sources
    or newer API definitions) is never ok: the status's severity, raised to at
    least warning (`UNDOCUMENTED`). An unknown status is None (unknown), unless
    its substatus is critical on its own: a documented critical state stays
    critical whatever status comes with it."""
    if status is None or status.severity is None:
        sub = substatus.entry if substatus is not None else None
        return "critical" if sub is not None and sub.severity == "critical" else None
    worst = status.severity
    if substatus is None or substatus.no_substatus:
        return worst
    other = undocumented_floor(substatus) or substatus.entry.severity  # type: ignore[union-attr]
    return max(worst, other, key=severity_rank)


def undocumented_floor(substatus: Decoded | None) -> str | None:
    """"warning" for a substatus with no documented severity (unknown, or
    known by name only); None for a documented one or none at all."""
    if substatus is None or substatus.no_substatus:
        return None
    return "warning" if substatus.entry is None or substatus.entry.severity is None else None


class DecodedPair(NamedTuple):
    status: Decoded
    substatus: Decoded | None
    #: does the status table list this substatus under this status?
    #: None when either is unknown or there is no substatus
    listed: bool | None
    listing: Listing | None
    severity: str | None
    warnings: tuple[str, ...]
    #: the status whose list it is listed in, where the status table refers
    #: this status to another's list (History/RPO Not Meeting SLA -> Not Meeting SLA)
    listed_via: str | None = None
    #: which entry decides the severity: "status", "substatus", "both" (equal), or None
    severity_from: str | None = None
    failover: Failover = None  # type: ignore[assignment]


class Failover(NamedTuple):
    """Whether a failover is possible now, and on what basis.

    "documented": the substatus's own documentation says so (with its
    condition, verbatim, where it has one). "inferred": zvpg's rule (docs/explain.md,
    "Failover possible?"), only on evidence: the status says the RPO SLA
    setting is met, the substatus is none, or itself ok and listed under the
    status, and the object's numbers show 0 <= ActualRPO <= ConfiguredRpoSeconds
    (above 0). None: nothing says; `inferable` marks a pair that meets the rule
    but whose numbers are not known here (decode has none; rows check them)."""

    possible: bool | None = None
    basis: str | None = None
    recovery: str | None = None
    condition: str | None = None
    #: the pair meets zvpg's rule; a failover is expected once the RPO numbers show the SLA met
    inferable: bool = False


NO_ANSWER = Failover()
#: Whose answer a value is (the `basis` objects of the JSON outputs): the Zerto
#: documentation's words (and the ZVM REST API's codes), or zvpg's judgement.
DOCUMENTATION = "documentation"
ZVPG = "zvpg"


def failover_source(f: Failover) -> str | None:
    """Whose answer a failover is: the documentation's, zvpg's inference, or nobody's."""
    return DOCUMENTATION if f.basis == "documented" else ZVPG if f.basis == "inferred" else None


INFERRED = Failover(True, "inferred")
INFERABLE = Failover(inferable=True)


def documented_failover(sub: Substatus) -> Failover:
    """What a substatus's own documentation says of recovery (NO_ANSWER: nothing)."""
    if sub.recovery is None:
        return NO_ANSWER
    return Failover(sub.recovery != "not-possible", "documented", sub.recovery, sub.recovery_condition)


def failover(status: Status | None, substatus: Decoded | None, listed: bool | None = None) -> Failover:
    """What the substatus's documentation says (whatever the status, known or
    not); else `INFERABLE` where zvpg's rule may infer a failover once the RPO
    numbers are known: the status says the RPO SLA setting is met and the
    substatus is none (0), or itself ok, not halting protection and listed
    under the status; else nothing. (Silence of the documentation is not
    support: a missing substatus, one that is a warning or worse, one the
    documentation does not describe or does not list under the status leaves
    it unstated.)"""
    sub = substatus.entry if substatus is not None else None
    if isinstance(sub, Substatus) and sub.recovery is not None:
        return documented_failover(sub)
    if substatus is None or status is None or not status.rpo_sla_met:
        return NO_ANSWER
    quiet = substatus.no_substatus or (
        isinstance(sub, Substatus) and sub.severity == "ok" and not sub.protection_halted and listed is True)
    return INFERABLE if quiet else NO_ANSWER


def rpo_evidence(actual: object, configured: object) -> bool:
    """The numbers zvpg's inferred failover needs: both present and numeric,
    ConfiguredRpoSeconds above 0, and 0 <= ActualRPO <= ConfiguredRpoSeconds."""
    numeric = (int, float)
    if type(actual) not in numeric or type(configured) not in numeric:
        return False
    return configured > 0 and 0 <= actual <= configured  # type: ignore[operator]


def decode(kb: KnowledgeBase, status: Any, substatus: Any = None) -> DecodedPair:
    """Decode a status and, optionally, a substatus."""
    st = decode_value(kb, "status", status)
    sub = decode_value(kb, "substatus", substatus) if substatus is not None else None
    listing = None
    listed = None
    st_entry = st.entry if isinstance(st.entry, Status) else None
    if st_entry is not None and sub is not None and isinstance(sub.entry, Substatus):
        listing = kb.listing(st_entry, sub.entry)
        listed = listing is not None
    warnings = []
    if st_entry is not None and st.by_code:
        warning = numbering_warning(st_entry)
        if warning:
            warnings.append(warning)
    severity = combined_severity(st_entry, sub)
    return DecodedPair(st, sub, listed, listing, severity, tuple(warnings),
                       st_entry.substatuses_from if listed and st_entry else None,
                       _severity_from(st_entry, sub, severity), failover(st_entry, sub, listed))


def _severity_from(status: Status | None, sub: Decoded | None, severity: str | None) -> str | None:
    """Which entry decides the severity: "status", "substatus", "both", or
    "undocumented" (an undocumented substatus raised an ok status to warning)."""
    if severity is None:
        return None
    if status is None or status.severity is None:
        return "substatus"  # an unknown status with a critical substatus
    if undocumented_floor(sub) is not None:
        return "undocumented" if severity != status.severity else "status"
    sub_severity = sub.entry.severity if sub is not None and sub.entry is not None else None
    if sub_severity is None or sub_severity != severity:
        return "status"
    return "both" if status.severity == severity else "substatus"


def explain_term(kb: KnowledgeBase, term: str) -> tuple[Resolution | DecodedPair, bool]:
    """What `zvpg explain TERM` answers: an entry (a `Resolution`) or a decoded
    pair, and whether it is shown as `zvpg decode` shows it (codes, or a side
    zvpg does not know: cautions and unknown values). A pair is what triage and
    the alerts print: "2 23", "RPO Not Meeting SLA / none", "Not Meeting SLA /
    Bitmap Syncing". Raises `NotFound` (`CodeNotName` for a bare code) or `Ambiguous`."""
    from .lookup import Ambiguous, CodeNotName, NotFound, api_values, resolve

    sides = api_values(term)
    if sides is not None:
        status, substatus = ((side.text if side.raw else resolve(kb, side.text, kind).entry.api_name)
                             for side, kind in zip(sides, ("status", "substatus"), strict=True))
        return decode(kb, status, substatus), True
    if "/" in term:
        try:
            return resolve(kb, term), False
        except NotFound:
            left, _, right = term.partition("/")
            st = resolve(kb, left.strip(), "status").entry
            sub = resolve(kb, right.strip(), "substatus").entry
            return decode(kb, st.api_name, sub.api_name), False
        except Ambiguous:  # reported below, through the normal path
            pass
    if term.strip().isascii() and term.strip().isdigit():
        raise CodeNotName(term.strip(), [])
    return resolve(kb, term), False


def unknown_values(kb: KnowledgeBase, pair: DecodedPair) -> list[str]:
    """Each value of `pair` the knowledge base does not know, with a hint:
    close API names for a name, another API's meaning for a status code."""
    import difflib

    parts = []
    for d in (pair.status, pair.substatus):
        if d is None or d.known:
            continue
        hint = ""
        if d.code is None:
            names = [str(e.api_name) for e in (kb.statuses if d.kind == "status" else kb.substatuses)]
            folded = {n.casefold(): n for n in names}
            close = [folded[n] for n in difflib.get_close_matches(str(d.value).casefold(), list(folded), 3, 0.7)]
            hint = f" (did you mean: {', '.join(close)}?)" if close else f" (API names: {', '.join(names)})"
        elif d.kind == "status":
            hint = "".join(f" ({o.system} uses {o.code} for {o.name}: a different API, not decoded here)"
                           for o in kb.other_statuses if o.code == d.code)
        parts.append(f"unknown {d.kind} {d.value!r}{hint}")
    return parts

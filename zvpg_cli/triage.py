"""Triage a whole payload: the severity of every VPG (or VM) from its status
*and* substatus, whether a failover is possible now, and why.

Rules (README, "Severity" and "Triage"):
- a VPG's severity is the worse of its status's and its substatus's
  (`decode.combined_severity`);
- a VPG whose Status is missing, unknown or of the wrong type is "unknown";
- with `rpo_warning_ratio`, an otherwise ok VPG whose ActualRPO has reached
  that share of ConfiguredRpoSeconds becomes "warning".
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .decode import NO_ANSWER, DecodedPair, Failover
from .model import KnowledgeBase, Substatus
from .payload import VM_FIELDS, Annotation, Payload, annotate_head, details, has_vm_objects, pair_key

#: Order of severities, worst first.
ORDER = ("critical", "warning", "unknown", "ok")


class Verdict(NamedTuple):
    """What a Status/SubStatus pair means; shared by every VPG in that pair."""

    annotation: Annotation
    severity: str
    recovery: str | None
    protection_halted: bool | None
    reasons: tuple[str, ...]
    failover: Failover = NO_ANSWER


class VpgState(NamedTuple):
    """One VPG (or VM). `details` (names, identifiers, RPOs) is decoded for
    every VPG, or with `all_details=False` only for those that are not ok."""

    position: int  # index of the object in the payload
    verdict: Verdict
    severity: str  # ok / warning / critical / unknown (the verdict's, or raised by the RPO ratio)
    details: Any  # zvpg_cli.payload.Details, or None where it was not decoded
    rpo_reason: str | None = None
    #: the site (ZVM) it was read from, when a run reads several
    site: str | None = None

    @property
    def is_vm(self) -> bool:
        """A `GET /v1/vms` object: it names a VM (and the VPG it belongs to)."""
        d = self.details  # None only where triage() knew the payload holds no VM fields
        return d is not None and (d.VmName is not None or d.VmIdentifier is not None or d.vmName is not None
                                  or d.vmIdentifier is not None)

    @property
    def vpg_name(self) -> str:
        return _field(self.details, "VpgName")

    @property
    def vpg_identifier(self) -> str:
        return _field(self.details, "VpgIdentifier")

    @property
    def vm_name(self) -> str:
        return _field(self.details, "VmName")

    @property
    def vm_identifier(self) -> str:
        return _field(self.details, "VmIdentifier")

    @property
    def name(self) -> str:
        """The object's own name: the VM's for a VM object, else the VPG's."""
        return self.vm_name if self.is_vm else self.vpg_name

    @property
    def identifier(self) -> str:
        """The object's own identifier: the VM's for a VM object, else the VPG's."""
        return self.vm_identifier if self.is_vm else self.vpg_identifier

    @property
    def label(self) -> str:
        """How people see the object: `ERP-Prod`, `VM db01 (VPG ExportStuff)`,
        with its site in front when a run reads several: `[nyc] ERP-Prod`."""
        site = f"[{self.site}] " if self.site else ""
        if not self.is_vm:
            return site + (self.vpg_name or f"object {self.position}")
        vm = self.vm_name or self.vm_identifier or f"object {self.position}"
        return site + (f"VM {vm} (VPG {self.vpg_name})" if self.vpg_name else f"VM {vm}")

    @property
    def actual_rpo(self) -> float | None:
        return _number(_raw_field(self.details, "ActualRPO"))

    @property
    def configured_rpo(self) -> float | None:
        return _number(_raw_field(self.details, "ConfiguredRpoSeconds"))

    @property
    def annotation(self) -> Annotation:
        return self.verdict.annotation

    @property
    def pair(self) -> DecodedPair | None:
        return self.verdict.annotation.pair

    @property
    def recovery(self) -> str | None:
        return self.verdict.recovery

    @property
    def failover(self) -> Failover:
        """Whether a failover is possible now: documented, inferred (SLA met) or unknown."""
        return self.verdict.failover

    @property
    def protection_halted(self) -> bool | None:
        return self.verdict.protection_halted

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.verdict.reasons + ((self.rpo_reason,) if self.rpo_reason else ())

    @property
    def status_text(self) -> str:
        if self.pair is None:
            return "no Status"
        return self.pair.status.name or unknown_text(self.annotation.status_value)

    @property
    def substatus_text(self) -> str:
        sub = self.pair.substatus if self.pair else None
        if sub is None:
            return ""
        if sub.no_substatus:
            return "none"
        return sub.name or unknown_text(self.annotation.substatus_value)


def unknown_text(value: object) -> str:
    """A code or name the knowledge base does not know, kept as given: `35 (unknown)`."""
    from .payload import show

    return f"{show(value)} (unknown)"


def _raw_field(details: Any, name: str) -> Any:
    """A field in PascalCase (live ZVMs) or camelCase (the 10.x swagger)."""
    value = getattr(details, name)
    return getattr(details, name[:1].lower() + name[1:]) if value is None else value


def _field(details: Any, name: str) -> str:
    return _text(_raw_field(details, name))


_VM_FIELDS = VM_FIELDS


class SiteOutcome(NamedTuple):
    """How reading one site went: `error` is one line, None when it was read."""

    name: str
    url: str
    error: str | None
    objects: int = 0


class Summary(NamedTuple):
    total: int
    counts: dict[str, int]
    state: str  # OK / WARNING / CRITICAL / UNKNOWN
    #: the sites read, when the payloads came from ZVMs (none for a file)
    sites: tuple[SiteOutcome, ...] = ()

    @property
    def failed_sites(self) -> tuple[SiteOutcome, ...]:
        return tuple(s for s in self.sites if s.error is not None)


def _number(value: object) -> float | None:
    """An RPO as a number: JSON numbers, or strings of digits; else None (also
    for numbers no float holds, such as 1 followed by 309 zeros)."""
    if type(value) is int and -2**53 < value < 2**53:  # the common case, first
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return value if isinstance(value, int) and abs(value) < 2**53 else number


def _text(value: object) -> str:
    """A name or identifier as text (a non-string value as its JSON-ish text)."""
    if value is None:
        return ""
    return value if type(value) is str else str(value)  # (str() of a RawText: a plain str, as JSON encoders want)


def triage(kb: KnowledgeBase, payload: Payload, rpo_warning_ratio: float | None = None,
           all_details: bool = True, site: str | None = None) -> list[VpgState]:
    """The state of every object, in input order.

    With `all_details=False`, names and RPOs are decoded only for the VPGs
    that are not ok (what a summary or a Nagios check shows): one short
    msgspec pass over those objects instead of over the whole payload."""
    judged = _verdicts(kb, payload)
    infos: list[Any]
    if not all_details and has_vm_objects(payload):
        all_details = True  # VM objects: every object's identity is needed (it names them as VMs)
    if all_details or rpo_warning_ratio is not None:
        infos = details(payload)
    else:
        wanted = [i for i, v in enumerate(judged) if v.severity != "ok"]
        infos = [None] * len(judged)
        for i, info in zip(wanted, details(payload, wanted), strict=True):
            infos[i] = info
    return _states(judged, infos, 0, rpo_warning_ratio, site)


def triage_problems(kb: KnowledgeBase, payload: Payload,
                    rpo_warning_ratio: float | None = None) -> tuple[Summary, list[VpgState], int]:
    """The summary, the states of the objects that are not ok (input order),
    and how many objects are VMs: what the summary table and the Nagios check
    show. Only the objects that are not ok get a state (less memory than
    `triage`, which gives every object one), unless VM objects or an RPO
    warning ratio need every object's details."""
    if rpo_warning_ratio is not None or has_vm_objects(payload):
        states = triage(kb, payload, rpo_warning_ratio, all_details=False)
        return (summarize(states), [s for s in states if s.severity != "ok"],
                sum(1 for s in states if s.is_vm))
    judged = _verdicts(kb, payload)
    counts = dict.fromkeys(ORDER, 0)
    for v in judged:
        counts[v.severity] += 1
    wanted = [i for i, v in enumerate(judged) if v.severity != "ok"]
    make = tuple.__new__
    problems = [make(VpgState, (i, judged[i], judged[i].severity, info, None, None))
                for i, info in zip(wanted, details(payload, wanted), strict=True)]
    return _summary(len(judged), counts), problems, 0


#: Objects per batch when triage streams (outputs that show every object).
BATCH = 2048


def triage_batches(kb: KnowledgeBase, payload: Payload, rpo_warning_ratio: float | None = None,
                   batch: int = BATCH) -> tuple[Summary, Callable[[], Iterator[list[VpgState]]]]:
    """The summary, and a function that yields the states of every object in
    input order, `batch` at a time: each batch's names and RPOs are decoded
    when it is reached and dropped after, so memory does not grow with the
    payload beyond the payload itself. (With `rpo_warning_ratio` the RPOs are
    read twice: once for the summary, which comes first.)"""
    judged = _verdicts(kb, payload)

    def batches() -> Iterator[list[VpgState]]:
        for start in range(0, len(judged), batch):
            part = judged[start:start + batch]
            yield _states(part, details(payload, list(range(start, start + len(part)))), start, rpo_warning_ratio)

    counts = dict.fromkeys(ORDER, 0)
    if rpo_warning_ratio is None:
        for v in judged:
            counts[v.severity] += 1
    else:
        for states in batches():
            for st in states:
                counts[st.severity] += 1
    return _summary(len(judged), counts), batches


def _verdicts(kb: KnowledgeBase, payload: Payload) -> list[Verdict]:
    verdicts: dict[tuple[Any, Any], Verdict] = {}
    judged: list[Verdict] = []
    fast = not payload.raw_codes  # codes are ints and strings: they are the key (pair_key, inlined)
    for head in payload.heads:
        key = (head.Status, head.SubStatus) if fast else pair_key(head)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _judge(annotate_head(kb, head))
        judged.append(verdict)
    return judged


def _states(judged: list[Verdict], infos: list[Any], start: int, rpo_warning_ratio: float | None,
            site: str | None = None) -> list[VpgState]:
    make = tuple.__new__  # VpgState(...) without the generated __new__'s overhead
    states: list[VpgState] = []
    add = states.append
    for index, (verdict, info) in enumerate(zip(judged, infos, strict=True), start):
        severity = verdict.severity
        rpo_reason = None
        if rpo_warning_ratio is not None and severity == "ok":
            actual = _number(_raw_field(info, "ActualRPO"))
            configured = _number(_raw_field(info, "ConfiguredRpoSeconds"))
            if actual is not None and configured and actual >= rpo_warning_ratio * configured:
                severity = "warning"
                rpo_reason = (f"ActualRPO {actual:g}s is {actual / configured:.0%} of the configured "
                              f"{configured:g}s (warning ratio {rpo_warning_ratio:g})")
        add(make(VpgState, (index, verdict, severity, info, rpo_reason, site)))
    return states


def _judge(a: Annotation) -> Verdict:
    pair = a.pair
    if pair is None or not pair.status.known:
        return Verdict(a, "unknown", None, None, tuple(a.problems))
    sub = pair.substatus.entry if pair.substatus is not None else None
    reasons = []
    status = pair.status.entry
    if status is not None and status.severity != "ok":
        reasons.append(f"status {status.name}: {status.severity} ({status.severity_rationale})")
    if isinstance(sub, Substatus) and sub.severity not in (None, "ok"):
        reasons.append(f"substatus {sub.name}: {sub.severity} ({sub.severity_rationale})")
    reasons.extend(a.problems)
    recovery = sub.recovery if isinstance(sub, Substatus) else None
    halted = sub.protection_halted if isinstance(sub, Substatus) else None
    return Verdict(a, pair.severity or "unknown", recovery, halted, tuple(reasons), pair.failover)


def summarize(states: list[VpgState], sites: tuple[SiteOutcome, ...] = ()) -> Summary:
    """Counts per severity and the overall state: CRITICAL if any VPG is
    critical, else UNKNOWN if any site could not be read, else WARNING if any
    VPG is warning or unknown, else OK."""
    counts = dict.fromkeys(ORDER, 0)
    for s in states:
        counts[s.severity] += 1
    return _summary(len(states), counts, sites)


def _summary(total: int, counts: dict[str, int], sites: tuple[SiteOutcome, ...] = ()) -> Summary:
    if counts["critical"]:
        state = "CRITICAL"
    elif any(site.error is not None for site in sites):
        state = "UNKNOWN"
    elif counts["warning"] or counts["unknown"]:
        state = "WARNING"
    else:
        state = "OK"
    return Summary(total, counts, state, sites)


_RANK = {severity: rank for rank, severity in enumerate(ORDER)}


def worst_first(states: list[VpgState], limit: int | None = None) -> list[VpgState]:
    """Non-ok VPGs, worst first (the first `limit` of them); within a severity,
    the largest RPO overrun first, then input order."""
    def key(s: VpgState) -> tuple[int, float, int]:
        d = s.details
        actual, configured = d.ActualRPO, d.ConfiguredRpoSeconds
        if type(actual) is not int or type(configured) is not int or actual >= 2**53 or configured >= 2**53:
            actual, configured = s.actual_rpo, s.configured_rpo  # the rare case: strings, floats, nulls, camelCase
        over = actual / configured if actual is not None and configured else 0.0
        return _RANK[s.severity], -over, s.position

    problems = [s for s in states if s.severity != "ok"]
    if limit is not None and limit < len(problems):
        return heapq.nsmallest(limit, problems, key=key)
    return sorted(problems, key=key)

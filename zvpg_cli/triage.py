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

from collections.abc import Iterator
from typing import NamedTuple

from .decode import DecodedPair
from .model import KnowledgeBase, Substatus
from .payload import Annotation, Payload, annotate_head, cell_text, pair_key

#: Order of severities, worst first.
ORDER = ("critical", "warning", "unknown", "ok")
FAILOVER_TEXT = {"possible": "yes", "last-checkpoint": "yes, to the last checkpoint", "not-possible": "no"}


class VpgState(NamedTuple):
    position: int  # index of the object in the payload
    name: str
    identifier: str
    pair: DecodedPair | None
    severity: str  # ok / warning / critical / unknown
    recovery: str | None
    protection_halted: bool | None
    actual_rpo: float | None
    configured_rpo: float | None
    reasons: tuple[str, ...]
    annotation: Annotation

    @property
    def status_text(self) -> str:
        if self.pair is None:
            return "no Status"
        return self.pair.status.name or f"unknown Status {self.annotation.status_value!r}"

    @property
    def substatus_text(self) -> str:
        sub = self.pair.substatus if self.pair else None
        if sub is None:
            return ""
        if sub.no_substatus:
            return "none"
        return sub.name or f"unknown SubStatus {self.annotation.substatus_value!r}"

    @property
    def failover_text(self) -> str:
        return FAILOVER_TEXT.get(self.recovery or "", "not stated")


class Summary(NamedTuple):
    total: int
    counts: dict[str, int]
    state: str  # OK / WARNING / CRITICAL


def _number(raw: object) -> float | None:
    text = cell_text(raw)  # type: ignore[arg-type]
    try:
        return float(text) if text else None
    except ValueError:
        return None


def triage(kb: KnowledgeBase, payload: Payload, rpo_warning_ratio: float | None = None) -> list[VpgState]:
    """The state of every object, in input order."""
    cache: dict[tuple[bytes, bytes], tuple[Annotation, str, str | None, bool | None, tuple[str, ...]]] = {}
    states = []
    for index, head in enumerate(payload.heads):
        key = pair_key(head)
        hit = cache.get(key)
        if hit is None:
            a = annotate_head(kb, head)
            hit = cache[key] = (a, *_judge(a))
        a, severity, recovery, halted, reasons = hit
        actual, configured = _number(head.ActualRPO), _number(head.ConfiguredRpoSeconds)
        if (rpo_warning_ratio is not None and severity == "ok" and actual is not None and configured
                and actual >= rpo_warning_ratio * configured):
            severity = "warning"
            reasons = (*reasons, f"ActualRPO {actual:g}s is {actual / configured:.0%} of the configured "
                       f"{configured:g}s (warning ratio {rpo_warning_ratio:g})")
        states.append(VpgState(
            position=index,
            name=cell_text(head.VpgName) or cell_text(head.VmName),
            identifier=cell_text(head.VpgIdentifier) or cell_text(head.VmIdentifier),
            pair=a.pair, severity=severity, recovery=recovery, protection_halted=halted,
            actual_rpo=actual, configured_rpo=configured, reasons=reasons, annotation=a,
        ))
    return states


def _judge(a: Annotation) -> tuple[str, str | None, bool | None, tuple[str, ...]]:
    pair = a.pair
    if pair is None or not pair.status.known:
        return "unknown", None, None, tuple(a.problems)
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
    return pair.severity or "unknown", recovery, halted, tuple(reasons)


def summarize(states: list[VpgState]) -> Summary:
    """Counts per severity and the overall state: CRITICAL if any VPG is
    critical, else WARNING if any is warning or unknown, else OK."""
    counts = dict.fromkeys(ORDER, 0)
    for s in states:
        counts[s.severity] += 1
    if counts["critical"]:
        state = "CRITICAL"
    elif counts["warning"] or counts["unknown"]:
        state = "WARNING"
    else:
        state = "OK"
    return Summary(len(states), counts, state)


def worst_first(states: list[VpgState]) -> Iterator[VpgState]:
    """Non-ok VPGs, worst first; within a severity, the largest RPO overrun first."""
    def key(s: VpgState) -> tuple[int, float, int]:
        over = (s.actual_rpo / s.configured_rpo) if s.actual_rpo is not None and s.configured_rpo else 0.0
        return ORDER.index(s.severity), -over, s.position

    yield from sorted((s for s in states if s.severity != "ok"), key=key)

"""Judging with time: grace periods, escalation, stuck syncs and flapping,
from what the state file remembers (`state.Memory`) and what the policy says
(`policy.Timing`). Pure functions of their arguments: `now` is given.

Grace and escalation count from when the object left ok (its severity without
time went above ok), not from its last change of state: a breach whose state
keeps changing still escalates on time. Grace lowers only what is a warning
on its own merits: never below `floor` (an RPO threshold breach), never when
`demotable` is False (a substatus critical on its own, a severity a policy
sets). A memory the state layer does not trust (a time later than now, a key
given twice) is not used: the object keeps its severity without time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..base.units import duration, number
from ..knowledge.model import Severity

if TYPE_CHECKING:
    from .policy import Policy, Timing
    from .state import Memory


class Timed(NamedTuple):
    severity: Severity
    reasons: tuple[str, ...]
    #: when the current state began, and how long it has lasted
    since: float | None
    age_seconds: float | None
    grace_until: float | None
    stuck: bool
    flapping: bool
    #: when the object left ok, and how long ago (None: it is ok, or not known)
    out_of_ok_since: float | None = None
    out_of_ok_seconds: float | None = None


class Pending(NamedTuple):
    """What the timing rules need of a row (or a finding) judged by the policy."""

    site: str | None
    key: str  # its state key ("" without a state file)
    timing: Any  # policy.Timing
    rpo_floor: Severity
    demotable: bool


#: One level lower, for a state still within its grace period. An unknown stays
#: unknown: zvpg cannot tell, and waiting does not tell it more.
_LOWER = {Severity.CRITICAL: Severity.WARNING, Severity.WARNING: Severity.OK,
          Severity.UNKNOWN: Severity.UNKNOWN, Severity.OK: Severity.OK}


def judge(severity: Severity, state: str, timing: Timing, memory: Memory | None, now: float,
          policy: Policy, *, floor: Severity = Severity.OK, demotable: bool = True) -> Timed:
    """The object's severity once time is taken into account.

    `severity`: after the status/substatus/RPO rules and any policy override;
    `state`: "STATUS / SUBSTATUS" as shown; `memory`: None without --state
    (then nothing changes); `floor`: what grace never goes below;
    `demotable`: whether grace may lower it at all."""
    if memory is None:
        return Timed(severity, (), None, None, None, False, False)
    age = max(0.0, now - memory.since)
    if not memory.trusted:
        return Timed(severity, (), memory.since, age, None, False, False)
    left = memory.out_of_ok_since if severity is not Severity.OK else None
    out = None if left is None else max(0.0, now - left)

    def lasting() -> tuple[str, bool]:
        """`STATE for 4m[, out of ok for 1h]`, and whether the two differ."""
        text = f"{state} for {duration(age)}"
        differs = out is not None and duration(out) != duration(age)
        return (text + f", out of ok for {duration(out)}" if differs else text), differs  # type: ignore[arg-type]

    reasons: list[str] = []
    result = severity
    grace_until = left + timing.grace if timing.grace and left is not None and demotable else None
    lower = min(severity, max(_LOWER[severity], floor))  # grace lowers, never raises
    if grace_until is not None and now < grace_until and lower is not severity:
        result = lower
        text, differs = lasting()
        after = f"{duration(timing.grace or 0)}{' out of ok' if differs else ''}"
        reasons.append(f"{text} ({severity.value} after {after})")
    elif timing.escalate_after and severity is Severity.WARNING and (out if out is not None else age) >= \
            timing.escalate_after and not (timing.escalate_why and timing.stuck_after and memory.progress is not None):
        # (zvpg's default escalation leaves a sync that reports its progress to the stuck rule:
        # a large sync that keeps rising is not paged for its length)
        result = Severity.CRITICAL
        why = f": {timing.escalate_why}" if timing.escalate_why else ""
        reasons.append(f"{lasting()[0]} (critical after {duration(timing.escalate_after)}{why})")
    stuck = False
    if timing.stuck_after and memory.progress is not None:
        still = max(0.0, now - (memory.progress_since if memory.progress_since is not None else memory.since))
        if still >= timing.stuck_after:
            stuck = True
            result = Severity.CRITICAL
            what = state.rpartition(" / ")[2]
            reasons.append(f"{what} stuck at {number(round(memory.progress, 1))}% for {duration(still)}")
    flapping = memory.changes >= policy.flap_changes
    if flapping:
        result = max(result, Severity.WARNING)
        reasons.append(f"flapping: {memory.changes} changes of severity in {duration(policy.flap_window)}")
    return Timed(result, tuple(reasons), memory.since, age, grace_until, stuck, flapping, left, out)


def override(severity: Severity, reasons: tuple[str, ...], timing: Any, floor: Severity, who: Any,
              lowered_by: list[str]) -> tuple[Severity, tuple[str, ...]]:
    """A severity and its reasons once the policy's severity (`timing.severity`)
    is applied: never below `floor` (an RPO threshold breach; a warning for a
    code the documentation does not know). What it lowers (`who`: a row or a
    finding) is added to `lowered_by`, by its label."""
    if timing.severity is None or timing.severity is severity:
        return severity, reasons
    lowered = max(timing.severity, floor) if timing.severity < severity else timing.severity
    if lowered is severity:
        return severity, (*reasons, f"policy: severity {timing.severity.value} not applied "
                                    f"({timing.severity_from}): a policy never lowers an RPO threshold breach "
                                    "nor a code the documentation does not know")
    why = f"severity {lowered.value} instead of {severity.value} ({timing.severity_from})"
    if lowered < severity:
        lowered_by.append(f"{who.label}: {why}")
    return lowered, (*reasons, f"policy: {why}")


def lowered_note(lowered_by: list[str]) -> tuple[str, ...]:
    """`the policy lowered 3 objects (first: ...)`, once a run."""
    if not lowered_by:
        return ()
    from ..base.sanitize import printable

    n = len(lowered_by)
    return (printable(f"the policy lowered {n} object{'s' if n != 1 else ''} (first: {lowered_by[0]})"),)

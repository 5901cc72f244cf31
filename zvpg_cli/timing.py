"""Judging with time: grace periods, escalation, stuck syncs and flapping,
from what the state file remembers (`state.Memory`) and what the policy says
(`policy.Timing`). Pure functions of their arguments: `now` is given."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .model import Severity
from .units import duration, number

if TYPE_CHECKING:
    from .policy import Policy, Timing
    from .state import Memory


class Timed(NamedTuple):
    severity: Severity
    reasons: tuple[str, ...]
    since: float | None
    age_seconds: float | None
    grace_until: float | None
    stuck: bool
    flapping: bool


#: One level lower, for a state still within its grace period. An unknown stays
#: unknown: zvpg cannot tell, and waiting does not tell it more.
_LOWER = {Severity.CRITICAL: Severity.WARNING, Severity.WARNING: Severity.OK,
          Severity.UNKNOWN: Severity.UNKNOWN, Severity.OK: Severity.OK}


def judge(severity: Severity, state: str, timing: Timing, memory: Memory | None, now: float,
          policy: Policy) -> Timed:
    """The object's severity once time is taken into account.

    `severity`: after the status/substatus/RPO rules and any policy override;
    `state`: "STATUS / SUBSTATUS" as shown; `memory`: None without --state
    (then nothing changes)."""
    if memory is None:
        return Timed(severity, (), None, None, None, False, False)
    age = max(0.0, now - memory.since)
    reasons: list[str] = []
    result = severity
    grace_until = memory.since + timing.grace if timing.grace else None
    if grace_until is not None and now < grace_until and _LOWER[severity] is not severity:
        result = _LOWER[severity]
        reasons.append(f"{state} for {duration(age)} ({severity.value} after {duration(timing.grace or 0)})")
    elif (timing.escalate_after and severity is Severity.WARNING and age >= timing.escalate_after):
        result = Severity.CRITICAL
        reasons.append(f"{state} for {duration(age)} (critical after {duration(timing.escalate_after)})")
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
        reasons.append(f"flapping: {memory.changes} changes in {duration(policy.flap_window)}")
    return Timed(result, tuple(reasons), memory.since, age, grace_until, stuck, flapping)

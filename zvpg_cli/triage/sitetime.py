"""Site health's findings (`site.Finding`: alerts, VRAs, peer sites, failover
tests) judged by the policy and by time as VPG rows are: the policy's rules
for findings (`kind = ...`), each finding's key and state in the state file,
grace, escalation and flapping (`timing.judge`).

    findings, pending, states = with_policy(findings, policy, site, lowered_by, remembered=True)
    findings = with_time(findings, pending, states, memories, now, policy)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..knowledge.model import Severity

if TYPE_CHECKING:
    from .policy import Policy
    from .state import Recall
    from .timing import Pending


def finding_facts(f: Any) -> tuple[tuple[str, ...], bool, str]:
    """What the policy and the state file need of a finding (`site.Finding`):
    what a rule's `code` is tried against, whether its code is one zvpg does
    not know (a policy never lowers it below a warning), and its state as the
    state file remembers it (without its age, which changes every run)."""
    facts = f.facts
    if f.kind == "alert":
        level = facts.get("level") or "no Level"
        return (f.name,), not facts.get("known", True), f"{facts.get('title') or f.name} ({level})"
    if f.kind in ("vra", "peer"):
        name = facts.get("status_name" if f.kind == "vra" else "pairing_name")
        codes = tuple(str(c) for c in (f.code, name) if c is not None)
        return codes, name is None, f.state
    state = ("failover test running now" if facts.get("running") else "never tested" if facts.get("never")
             else "last test time unreadable" if f.since is None
             else "test overdue" if f.severity is not Severity.OK else "tested")
    return (), False, state


def finding_key(f: Any, site: str | None = None) -> str:
    """Who a finding (`site.Finding`) is across runs, as `state_key` for rows:
    the site it was read from, its kind and its identifier. An alert is keyed
    by its code and what it is about (its Site's identifier and AffectedVpgs;
    its own Link.identifier where it names neither), not by its own
    identifier: an alert raised again is the same problem again (grace and
    flapping count across its returns)."""
    if f.kind == "alert":
        about = " ".join(x for x in (f.facts.get("site_identifier"), ",".join(sorted(f.vpgs))) if x)
        ident = f"{f.name} {about or f.identifier}"
    else:
        ident = f.identifier or f.name
    return "\x1f".join((f.site or site or "", f.kind, ident))


def with_policy(findings: list[Any], policy: Policy, site: str | None, lowered_by: list[str], *,
                remembered: bool) -> tuple[list[Any], list[Pending], list[str]]:
    """The findings judged by the policy's rules for findings (`kind = ...`),
    what the timing rules need of each, and their states for the state file.
    `site`: the one site read, for findings that do not show it; `remembered`:
    a state file is used (their keys are made)."""
    from .timing import Pending, override

    judged, pending, states = [], [], []
    keys: dict[str, int] = {}
    for f in findings:
        codes, unknown, state = finding_facts(f)
        where = f.site or site
        timing = policy.finding_timing(f.kind, codes, f.name, where)
        floor = Severity.WARNING if unknown else Severity.OK
        severity, reasons = override(f.severity, f.reasons, timing, floor, f, lowered_by)
        key = finding_key(f, site) if remembered else ""
        keys[key] = keys.get(key, 0) + 1
        judged.append(f if reasons is f.reasons else f._replace(severity=severity, reasons=reasons))
        pending.append(Pending(where, key, timing, floor, timing.severity is None))
        states.append(state)
    if remembered:  # two alerts of one code about the same: each its own, by its Link.identifier
        pending = [p._replace(key=f"{p.key} {f.identifier}") if keys[p.key] > 1 and f.kind == "alert" else p
                   for f, p in zip(findings, pending, strict=True)]
    return judged, pending, states


def with_time(findings: list[Any], pending: tuple[Pending, ...], states: tuple[str, ...], memories: Recall | None,
              now: float, policy: Policy) -> list[Any]:
    """The findings judged by how long each has lasted (`memories`: what the
    state file answered; None without one)."""
    from .timing import judge

    out = []
    for f, p, state in zip(findings, pending, states, strict=True):
        memory = memories.get(p.key) if memories is not None else None
        timed = judge(f.severity, state, p.timing, memory, now, policy, floor=p.rpo_floor, demotable=p.demotable)
        out.append(f._replace(severity=timed.severity, reasons=f.reasons + timed.reasons,
                              timed=timed if memories is not None else None))
    return out

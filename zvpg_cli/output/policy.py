"""`zvpg policy show`: the policy in force, as JSON (schemas/policy.schema.json) and for people."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..base.units import duration
from ..triage.policy import _DURATION_KEYS, DEFAULTS_NOTE, STUCK_NOTE, Policy, silenced
from ..triage.site import NOTICE, UPGRADE_AVAILABLE

#: The alert codes shown but never raised by default (`triage.site.alert_severity`).
NEVER_RAISED = (f"{NOTICE}*", UPGRADE_AVAILABLE)

if TYPE_CHECKING:
    from ..knowledge.model import KnowledgeBase


def policy_json(policy: Policy, kb: KnowledgeBase | None = None) -> dict[str, Any]:
    """The policy in force, for `zvpg policy show --json`; defaults marked."""
    return {
        "note": DEFAULTS_NOTE,
        "file": policy.path,
        "flap_changes": policy.flap_changes,
        "flap_window": policy.flap_window,
        "flap_default": all(policy.flap_default),
        "rules": [
            {
                "source": r.source, "rule": r.number, "default": r.default, "match": r.match,
                "status": r.status, "substatus": r.substatus, "vpg": r.vpg, "site": r.site,
                "severity": r.severity.value if r.severity else None,
                "grace": r.grace, "escalate_after": r.escalate_after, "stuck_after": r.stuck_after,
                "why": r.why, "kind": r.kind, "code": r.code,
            }
            for r in policy.rules
        ],
        "escalate_unrecoverable": policy.escalate_unrecoverable,
        "escalate_unrecoverable_default": policy.escalate_default,
        "silences_every_state": kb is not None and silenced(kb, policy),
        "test_max_age": policy.test_max_age,
        "test_max_age_default": policy.test_max_age_default,
        "never_raised": list(NEVER_RAISED),
    }


def policy_text(policy: Policy, kb: KnowledgeBase | None = None) -> str:
    """The policy in force, for people: one line a rule, defaults marked; each
    line within 80 columns where the rule's own text allows."""
    import textwrap

    from ..base.sanitize import printable

    lines: list[str] = []
    if kb is not None and silenced(kb, policy):
        lines += [*textwrap.wrap("Warning: this policy makes every state ok: zvpg will never report a "
                                "problem (only RPO thresholds and unknown codes still can).", 79), ""]
    lines += [*textwrap.wrap(DEFAULTS_NOTE, 79), ""]
    mark = " (default)" if all(policy.flap_default) else ""
    lines.append(f"Flapping: {policy.flap_changes} changes of severity within {duration(policy.flap_window)}{mark}")
    if policy.escalate_unrecoverable:
        whose = "zvpg's choice" if policy.escalate_default else f"set by {policy.path}"
        lines += textwrap.wrap(
            "Escalation: a warning in a state in which the documentation says recovery is not possible "
            f"becomes critical after {duration(policy.escalate_unrecoverable)} out of ok ({whose}), "
            "unless a rule sets escalate_after for it; a sync that reports its progress is left to its "
            "stuck rule.", 79)
    else:
        lines.append("Escalation of states in which recovery is not possible: off")
    stuck = sorted({r.stuck_after for r in policy.rules if r.stuck_after})
    for d in stuck:
        lines += textwrap.wrap(STUCK_NOTE.format(d=duration(d), w=duration(d * 100)), 79)
    lines += textwrap.wrap("Grace: counted from when the object left ok; never for a substatus critical on "
                           "its own, an RPO threshold breach (--rpo-critical) or a severity a policy sets; a "
                           "rule naming a status alone gives it only where the substatus is none or a sync.", 79)
    whose = ("zvpg's choice, the Zabbix template's 6 months" if policy.test_max_age_default
             else f"set by {policy.path}")
    if policy.test_max_age:
        lines += textwrap.wrap(f"Failover tests: a VPG last tested more than {duration(policy.test_max_age)} ago, "
                               f"or never, is a warning (test_max_age: {whose}); a test running now never "
                               "pages.", 79)
    else:
        lines.append(f"Failover tests: their age is not judged (test_max_age off: {whose})")
    lines += textwrap.wrap(f"Alerts: {' and '.join(NEVER_RAISED)} (licence and upgrade notices) are shown, never "
                           "raised (zvpg's choice); a rule with kind = \"alert\" and their code sets their "
                           "severity. A rule never lowers a code zvpg does not know below warning.", 79)
    lines.append("")
    lines.append("Rules, tried in order (for each setting the first matching rule wins):")
    for r in policy.rules:
        parts = []
        if r.severity is not None:
            parts.append(f"severity {r.severity.value}")
        for key in _DURATION_KEYS:
            value = getattr(r, key)
            if value is not None:
                parts.append(f"{key.replace('_', ' ')} {duration(value) if value else 'off'}")
        scope = "".join(f" {k} {getattr(r, k)!r}" for k in ("vpg", "site") if getattr(r, k) is not None)
        origin = "default" if r.default else f"{r.source} rule {r.number}"
        if r.kind is not None:
            state = r.kind + (f" {r.code}" if r.code is not None else "")
        else:
            state = " / ".join(x for x in (r.status, r.substatus) if x)  # as resolved, not as typed
        lines.append(printable(f"  {state}{scope}: {', '.join(parts)}  [{origin}]"))
    return "\n".join(lines) + "\n"

"""Site health (`triage.site`: findings for alerts, VRAs, peer sites and
failover tests; causes; parts of sites that could not be read) as every
triage format words it: one place for the order, the wording of a finding,
of a cause, of tests summed up and of an unreadable part."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base.units import duration
from ..knowledge.model import Severity
from ..triage.report import Report

#: Within a severity: VRAs, peer sites, alerts, then failover tests (there is one per VPG).
KIND_ORDER = {"vra": 0, "peer": 1, "alert": 2, "test": 3}
#: The parts of a site, as people name them.
PART_NAMES = {"alerts": "alerts", "vras": "VRAs", "peers": "peer sites", "tests": "failover tests", "vpgs": "VPGs",
              "vms": "VMs"}


def not_ok(report: Report) -> list[Any]:
    """The findings that count on their own and are not ok: worst first, then
    VRAs, peer sites, alerts and tests, then input order."""
    found = report.findings_worst_first()
    found.sort(key=lambda f: (-f.severity.rank, KIND_ORDER.get(f.kind, 9)))
    return found


def notices(report: Report) -> list[Any]:
    """The alerts shown but never raising the check (licence notices, "Upgrade
    available"; or any alert a policy made ok), in input order."""
    return [f for f in report.findings if f.kind == "alert" and f.counted and f.severity is Severity.OK]


def notice_text(f: Any) -> str:
    """`notice, never raising the check: alert LIC0001: ...`."""
    return f"notice, never raising the check: {finding_text(f)}"


def several(report: Report) -> bool:
    """Whether the run read several sites (findings and rows then name theirs)."""
    return len(report.summary.sites) > 1


def finding_text(f: Any) -> str:
    """`VRA Z-VRA-esx03 (host esx03): InstallationError (Status 5)`, `alert
    ZVM0003: No connection to site (Error, for 2d 4h)`, with `[site] ` in
    front when it names one."""
    return f"{finding_what(f)}: {f.state}"


def finding_what(f: Any) -> str:
    """What a finding is about, shorter than its label where the state says the rest: `alert ZVM0003`."""
    return (f"[{f.site}] " if f.site else "") + (f"alert {f.name}" if f.kind == "alert" else f.own_label)


def cause_text(cause: Any, noun: str = "VPG") -> str:
    """`no connection to site WCHL - CA (ZVM0003): 20 VPGs`."""
    n = len(cause.rows)
    return (f"[{cause.site}] " if cause.site else "") + f"{cause.text}: {n} {noun}{'s' if n != 1 else ''}"


def part_text(part: Any) -> str:
    """`alerts of site lab unreadable: HTTP 403 ...` (a `sources.read.PartOutcome`)."""
    name = PART_NAMES.get(part.part, part.part)
    return f"{name}{f' of site {part.site}' if part.site else ''} unreadable: {part.error}"


def overdue(findings: Sequence[Any]) -> list[Any]:
    """The failover tests that are not ok (never tested, too old, Zerto says overdue)."""
    return [f for f in findings if f.kind == "test" and f.counted and f.severity is not Severity.OK]


def tests_text(tests: Sequence[Any]) -> str:
    """`12 VPGs not tested in 180d (5 never tested)`: the tests of `overdue`
    summed up rather than named (the age where the findings say it)."""
    n, never = len(tests), sum(1 for f in tests if f.facts.get("never"))
    ages = {f.facts.get("max_age") for f in tests}
    max_age = ages.pop() if len(ages) == 1 else None
    when = f"not tested in {duration(max_age)}" if isinstance(max_age, (int, float)) and max_age else \
        "with a failover test overdue"
    return f"{n} VPG{'s' if n != 1 else ''} {when}" + (f" ({never} never tested)" if never else "")


def test_name(f: Any) -> str:
    """`ERP-Prod (last tested 403d ago)`: a VPG's test for a list of them."""
    return (f"[{f.site}] " if f.site else "") + f"{f.name or f.identifier} ({f.state})"


#: The part of a site each kind of finding comes from.
KIND_PART = {"alert": "alerts", "vra": "vras", "peer": "peers", "test": "tests"}


def parts_judged(report: Report) -> set[str]:
    """The parts of the site this run judged, "alerts", "vras", "peers" and
    "tests": read (empty or not), unreadable, or with findings."""
    s = report.summary
    return ({part for _, part in s.parts_read} | {p.part for p in s.failed_parts}
            | {KIND_PART[f.kind] for f in report.findings if f.kind in KIND_PART})


def counts_of(findings: Sequence[Any], parts: Sequence[str] | set[str] = tuple(KIND_PART.values())) -> dict[str, int]:
    """What the monitoring formats count of the findings (stable names, each
    present when its part of the site was judged, `parts`; docs/monitoring.md):
    alerts_critical and alerts_warning (alerts not dismissed, by zvpg's
    severity, also those counted on the VPGs they name), vras_not_installed
    (a VRA Status other than 0 Installed, or none), peers_unpaired
    (PairingStatus 2), tests_overdue (VPGs whose failover test is not ok),
    tests_never (LastTest null), tests_running."""
    out = dict.fromkeys(("alerts_critical", "alerts_warning", "vras_not_installed", "peers_unpaired",
                         "tests_overdue", "tests_never", "tests_running"), 0)
    for f in findings:
        if f.kind == "alert":
            if f.severity is Severity.CRITICAL:
                out["alerts_critical"] += 1
            elif f.severity is not Severity.OK:
                out["alerts_warning"] += 1
        elif f.kind == "vra":
            out["vras_not_installed"] += f.facts.get("status") != 0
        elif f.kind == "peer":
            out["peers_unpaired"] += f.facts.get("pairing_status") == 2
        elif f.kind == "test":
            out["tests_overdue"] += f.severity is not Severity.OK
            out["tests_never"] += bool(f.facts.get("never"))
            out["tests_running"] += bool(f.facts.get("running"))
    return {k: v for k, v in out.items() if k.split("_")[0] in parts}


def judged_site(report: Report) -> bool:
    """Whether the run judged anything around the VPGs (findings, a part read
    or one that could not be): the formats then show site health, with its
    counts, even when all of it is ok."""
    s = report.summary
    return bool(report.findings or s.failed_parts or s.parts_read)

"""Checkmk local checks: one line per VPG (or VM), one per site when ZVMs
were read, and for what surrounds the VPGs stable services only: one per VRA
(`Zerto VRA NAME`), one per peer site (`Zerto peer site NAME`), and per site
`Zerto alerts` and `Zerto failover tests` (with the site's name after
`Zerto` when a run reads several). A part that could not be read is UNKNOWN
on the service it would feed (the VRAs' and peer sites' on the site's).
Format (Checkmk's local check syntax):

    <state> "<service name>" <metrics> <text>

state 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN; metrics `name=value;warn;crit;min;max`
joined by `|`, or `-`; a `\\n` in the text starts a line of long output."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..base.sanitize import printable
from ..base.units import number
from ..triage.report import Report
from ..triage.rows import Row
from . import health
from .naming import unique
from .report import state_text
from .views import failover_text

_SERVICE_UNSAFE = re.compile(r"[^\w .:()\[\]/+,@#&-]")


def service_text(name: str) -> str:
    """Letters, digits and a few punctuation marks of an untrusted name kept,
    anything else (quotes, |, control characters, backslashes) replaced by _."""
    return " ".join(_SERVICE_UNSAFE.sub("_", name).split())[:100]


def service_name(row: Row) -> str:
    """`Zerto VPG ERP-Prod`, `Zerto VM db01 (VPG ExportStuff)`; `Zerto nyc VPG
    ERP-Prod` when a run reads several sites."""
    zerto = f"Zerto {service_text(row.site)}" if row.site else "Zerto"
    if row.kind == "vm":
        vm = service_text(row.name or row.identifier) or f"#{row.position}"
        vpg = service_text(row.vpg_name)
        return f"{zerto} VM {vm} (VPG {vpg})" if vpg else f"{zerto} VM {vm}"
    return f"{zerto} VPG {service_text(row.name) or f'#{row.position}'}"


def _text(text: str) -> str:
    # A backslash-n starts a line of long output: our own backslashes become /.
    return printable(text).replace("\\", "/")


def _metrics(row: Row) -> str:
    a, c = row.actual_rpo, row.configured_rpo
    warn, crit = row.rpo_limits
    metrics = []
    if a is not None:
        metrics.append(f"actual_rpo={number(a)};{'' if warn is None else number(warn)};"
                       f"{'' if crit is None else number(crit)};0;")
    if c is not None:
        metrics.append(f"configured_rpo={number(c)};;;0;")
    return "|".join(metrics) or "-"


def checkmk(report: Report) -> Iterator[str]:
    """The local-check lines, a chunk at a time."""
    rows = report.rows
    names = unique([service_name(r) for r in rows],
                   lambda i: service_text(rows[i].identifier) or f"#{rows[i].position}")
    lines = []
    for row, service in zip(report.rows, names, strict=True):
        shown = state_text(row)
        cause = "".join(f"; {r}" for r in row.reasons if r.startswith("explained by: "))
        parts = [f"{shown}; failover possible: {failover_text(row.failover, short=True)}; {row.rpo_text}{cause}",
                 *(r for r in row.reasons if r != shown and not r.startswith("explained by: "))]
        lines.append(_line(row.severity.code, service, _metrics(row), parts))
        if len(lines) >= 4096:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)
    yield from _site_health(report)
    for site in report.summary.sites:
        state, text = (0, f"read: {site.objects} objects") if site.error is None else (3, f"unreadable: {site.error}")
        if site.error is None and not site.objects and not report.summary.allow_empty:
            state, text = 3, "answered no VPGs"  # empty is unknown, as for the check as a whole
        for part in report.summary.failed_parts:
            if part.site == site.name and part.part in ("vras", "peers"):  # no service of their own to say it
                state = 3
                text += f"; {health.part_text(part)}"
        yield _line(state, f"Zerto site {service_text(site.name)}", "-", [text])
    if report.summary.problem and not report.rows:
        yield _line(3, "Zerto triage", "-", [report.summary.problem])


def _line(state: int, service: str, metrics: str, parts: list[str]) -> str:
    """One local check: its state, service name, metrics and text (each part
    after the first a line of long output)."""
    return f"{state} \"{service}\" {metrics} " + " \\n".join(_text(p) for p in parts) + "\n"


def _site_health(report: Report) -> Iterator[str]:
    """The services of what surrounds the VPGs (see the module's docstring)."""
    from ..knowledge.model import Severity

    if not health.judged_site(report):
        return
    s = report.summary
    objects = [f for f in report.findings if f.kind in ("vra", "peer")]
    names = unique([("Zerto " + (f"{service_text(f.site)} " if f.site else "")
                     + ("VRA " if f.kind == "vra" else "peer site ")
                     + (service_text(f.name) or service_text(f.identifier) or "(no name)")) for f in objects],
                   lambda i: service_text(objects[i].identifier) or f"#{i}")
    for f, service in zip(objects, names, strict=True):
        about = f"; host {f.about}" if f.kind == "vra" and f.about else ""
        yield _line(f.severity.code, service, "-", [f"{f.state}{about}", *f.reasons])
    several = health.several(report)
    keys: list[str | None] = [site.name for site in s.sites] if several else [None]
    for key in keys:
        prefix = f"Zerto {service_text(key)} " if key else "Zerto "

        def mine(site: str | None, key: str | None = key) -> bool:
            return site == key or not several

        failed = [p for p in s.failed_parts if p.part == "alerts" and mine(p.site)]
        alerts = [f for f in report.findings if f.kind == "alert" and mine(f.site)]
        if failed:
            yield _line(3, f"{prefix}alerts", "-", [health.part_text(p) for p in failed])
        elif any(part == "alerts" and mine(site) for site, part in s.parts_read):
            counted = sorted((f for f in alerts if f.counted and f.severity is not Severity.OK),
                             key=lambda f: -f.severity.rank)
            worst = counted[0].severity if counted else Severity.OK
            n = len(alerts)
            text = f"{n} alert{'s' if n != 1 else ''} not dismissed, {len(counted)} not ok on its own"
            if counted:
                text += f"; worst: {health.finding_text(counted[0])}"
            on_vpgs = [f for f in alerts if not f.counted]
            found = health.counts_of(alerts)
            yield _line(worst.code, f"{prefix}alerts",
                        f"alerts_critical={found['alerts_critical']}|alerts_warning={found['alerts_warning']}",
                        [text, *(f"{f.severity.name}: {health.finding_text(f)}; {'; '.join(f.reasons)}"
                                 for f in counted),
                         *(f"{health.finding_text(f)}: counted on {', '.join(f.attached)}" for f in on_vpgs)])
        tests = [f for f in report.findings if f.kind == "test" and mine(f.site)]
        if tests:
            overdue = health.overdue(tests)
            running = [f for f in tests if f.facts.get("running")]
            worst = max((f.severity for f in overdue), default=Severity.OK)
            text = health.tests_text(overdue) if overdue else \
                f"{'all ' if len(tests) > 1 else ''}{len(tests)} VPG{'s' if len(tests) != 1 else ''} tested in time"
            if running:
                text += f"; {len(running)} test{'s' if len(running) != 1 else ''} running now"
            found = health.counts_of(tests)
            yield _line(worst.code, f"{prefix}failover tests",
                        "|".join(f"{k}={found[k]}" for k in ("tests_overdue", "tests_never", "tests_running")),
                        [text, *(health.test_name(f) for f in overdue),
                         *(f"running now: {health.test_name(f)}" for f in running)])

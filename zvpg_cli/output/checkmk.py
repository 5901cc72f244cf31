"""Checkmk local checks: one line per VPG (or VM), and one per site when ZVMs
were read. Format (Checkmk's local check syntax):

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
        parts = [f"{shown}; failover possible: {failover_text(row.failover, short=True)}; {row.rpo_text}",
                 *(r for r in row.reasons if r != shown)]
        lines.append(f"{row.severity.code} \"{service}\" {_metrics(row)} "
                     + " \\n".join(_text(p) for p in parts))
        if len(lines) >= 4096:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"
    for site in report.summary.sites:
        state, text = (0, f"read: {site.objects} objects") if site.error is None else (3, f"unreadable: {site.error}")
        if site.error is None and not site.objects and not report.summary.allow_empty:
            state, text = 3, "answered no VPGs"  # empty is unknown, as for the check as a whole
        yield f"{state} \"Zerto site {service_text(site.name)}\" - {_text(text)}\n"
    if report.summary.problem and not report.rows:
        yield f"3 \"Zerto triage\" - {_text(report.summary.problem)}\n"

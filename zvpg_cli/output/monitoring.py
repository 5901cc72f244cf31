"""Triage results for people and for monitoring systems: a summary, JSON,
Nagios/Icinga plugin output, Checkmk local checks and the Prometheus text
format. VPG names are untrusted text: every format escapes or replaces what
would break it."""

from __future__ import annotations

import re
from typing import Any

from ..triage import ORDER, Summary, VpgState, worst_first
from .sanitize import printable
from .views import failover_short

NAGIOS_CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
STATE_OF = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
SEVERITY_VALUE = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def _rpo(s: VpgState) -> str:
    if s.actual_rpo is None and s.configured_rpo is None:
        return "RPO not given"
    a = "?" if s.actual_rpo is None else f"{s.actual_rpo:g}s"
    c = "?" if s.configured_rpo is None else f"{s.configured_rpo:g}s"
    return f"RPO {a} of {c}"


def one_line(s: VpgState) -> str:
    """A VPG in one line of plain text (name escaped, no newlines)."""
    name = printable(s.name) or f"object {s.position}"
    sub = f" / {s.substatus_text}" if s.substatus_text else ""
    return printable(f"{name}: {s.status_text}{sub}; failover possible: {failover_short(s.recovery)}; {_rpo(s)}")


# ---- JSON ------------------------------------------------------------------

def as_json(states: list[VpgState], summary: Summary) -> dict[str, Any]:
    return {
        "summary": {"total": summary.total, **summary.counts, "state": summary.state},
        "vpgs": [{
            "index": s.position,
            "name": s.name,
            "identifier": s.identifier,
            "severity": s.severity,
            "status": _decoded(s, "status"),
            "substatus": _decoded(s, "substatus"),
            "recovery": s.recovery,
            "failover_possible": None if s.recovery is None else s.recovery != "not-possible",
            "protection_halted": s.protection_halted,
            "actual_rpo": s.actual_rpo,
            "configured_rpo": s.configured_rpo,
            "reasons": list(s.reasons),
        } for s in states],
    }


def _decoded(s: VpgState, which: str) -> dict[str, Any] | None:
    d = None if s.pair is None else (s.pair.status if which == "status" else s.pair.substatus)
    if d is None:
        return None
    return {"code": d.code, "name": d.name, "api_name": d.api_name, "known": d.known}


# ---- Nagios / Icinga / Naemon / Zabbix ---------------------------------------

#: At most this many VPGs are listed in the long output.
NAGIOS_DETAIL_LINES = 50


def _nagios_text(text: str) -> str:
    # "|" starts performance data in any line of plugin output.
    return printable(text).replace("|", "¦")


def nagios(states: list[VpgState], summary: Summary) -> tuple[str, int]:
    """The monitoring-plugins output and its exit code."""
    c = summary.counts
    parts = [f"{c['critical']} critical", f"{c['warning']} warning", f"{c['ok']} ok"]
    if c["unknown"]:
        parts.append(f"{c['unknown']} unknown")
    perf = " ".join(f"{k}={c[k]}" for k in ("critical", "warning", "ok", "unknown")) + f" total={summary.total}"
    lines = [f"ZVPG {summary.state} - {', '.join(parts)} | {perf}"]
    for s in worst_first(states, NAGIOS_DETAIL_LINES):
        lines.append(_nagios_text(f"{s.severity.upper()}: {one_line(s)}"))
    not_ok = summary.total - c["ok"]
    if not_ok > NAGIOS_DETAIL_LINES:
        lines.append(f"... and {not_ok - NAGIOS_DETAIL_LINES} more")
    return "\n".join(lines) + "\n", NAGIOS_CODES[summary.state]


def nagios_unknown(reason: str) -> tuple[str, int]:
    return f"ZVPG UNKNOWN - {_nagios_text(reason)}\n", 3


# ---- Checkmk local checks ----------------------------------------------------

_SERVICE_UNSAFE = re.compile(r"[^\w .:()\[\]/+,@#&-]")


def service_name(name: str, index: int) -> str:
    """A Checkmk service name from an untrusted VPG name: letters, digits and
    a few punctuation marks kept, anything else (quotes, |, control
    characters, backslashes) replaced by _."""
    clean = " ".join(_SERVICE_UNSAFE.sub("_", name).split())[:100]
    return f"Zerto VPG {clean or f'#{index}'}"


def _metric(name: str, value: float | None, warn: str = "", crit: str = "") -> str | None:
    return None if value is None else f"{name}={value:g};{warn};{crit};0;"


def checkmk(states: list[VpgState]) -> str:
    """One local-check line per VPG: state, quoted service name, metrics, summary."""
    lines = []
    seen: dict[str, int] = {}
    for s in states:
        service = service_name(s.name, s.position)
        seen[service] = seen.get(service, 0) + 1
        if seen[service] > 1:
            service = f"{service} #{seen[service]}"
        conf = s.configured_rpo
        metrics = [m for m in (_metric("actual_rpo", s.actual_rpo, "", "" if conf is None else f"{conf:g}"),
                               _metric("configured_rpo", conf)) if m]
        sub = f" / {s.substatus_text}" if s.substatus_text else ""
        # A backslash-n in the summary starts a line of long output: escape any
        # backslash of our own text before adding the separators.
        parts = [f"{s.status_text}{sub}; failover possible: {failover_short(s.recovery)}; {_rpo(s)}", *s.reasons]
        text = " \\n".join(printable(p).replace("\\", "/") for p in parts)
        lines.append(f"{STATE_OF[s.severity]} \"{service}\" {'|'.join(metrics) or '-'} {text}")
    return "\n".join(lines) + ("\n" if lines else "")


# ---- Prometheus (node_exporter textfile collector) ---------------------------

def label(value: str) -> str:
    """A Prometheus label value: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_GAUGES = (
    ("zvpg_vpg_severity", "Severity of the VPG from its status and substatus: 0 ok, 1 warning, 2 critical, 3 unknown."),
    ("zvpg_vpg_status_code", "ZVM REST API Status code of the VPG (-1 when missing or unknown)."),
    ("zvpg_vpg_substatus_code", "ZVM REST API SubStatus code of the VPG (-1 when missing or unknown)."),
    ("zvpg_vpg_failover_possible", "1 when the documentation says a failover is possible now, 0 when not, -1 unknown."),
    ("zvpg_vpg_actual_rpo_seconds", "ActualRPO of the VPG in seconds."),
    ("zvpg_vpg_configured_rpo_seconds", "ConfiguredRpoSeconds of the VPG."),
)


def prometheus(states: list[VpgState], summary: Summary) -> str:
    """Gauges labelled only by VPG name and id (stable series); the decoded
    names ride on an info metric, so a change of state does not rename series."""
    ids: dict[str, int] = {}
    labels, infos = [], []
    for s in states:
        ident = s.identifier or f"#{s.position}"
        ids[ident] = ids.get(ident, 0) + 1
        if ids[ident] > 1:
            ident = f"{ident}#{s.position}"
        lab = f'vpg="{label(s.name)}",id="{label(ident)}"'
        labels.append(lab)
        status = (s.pair.status.name if s.pair else None) or ""
        sub = (s.pair.substatus.name if s.pair and s.pair.substatus else None) or ""
        infos.append(f'zvpg_vpg_info{{{lab},status="{label(status)}",substatus="{label(sub)}",'
                     f'severity="{s.severity}"}} 1')
    out = ["# HELP zvpg_vpg_info Decoded status and substatus names of the VPG (value always 1).",
           "# TYPE zvpg_vpg_info gauge", *infos]
    for metric, help_text in _GAUGES:
        out += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
        for s, lab in zip(states, labels, strict=True):
            value = _gauge_value(metric, s)
            if value is not None:
                out.append(f"{metric}{{{lab}}} {value:g}")
    out += ["# HELP zvpg_vpgs Number of VPGs per severity.", "# TYPE zvpg_vpgs gauge"]
    out += [f'zvpg_vpgs{{severity="{sev}"}} {summary.counts[sev]}' for sev in ORDER]
    return "\n".join(out) + "\n"


def _gauge_value(metric: str, s: VpgState) -> float | None:
    if metric == "zvpg_vpg_severity":
        return SEVERITY_VALUE[s.severity]
    if metric == "zvpg_vpg_status_code":
        code = s.pair.status.code if s.pair and s.pair.status.known else None
        return -1 if code is None else code
    if metric == "zvpg_vpg_substatus_code":
        d = s.pair.substatus if s.pair else None
        return -1 if d is None or not d.known or d.code is None else d.code
    if metric == "zvpg_vpg_failover_possible":
        return -1 if s.recovery is None else int(s.recovery != "not-possible")
    if metric == "zvpg_vpg_actual_rpo_seconds":
        return s.actual_rpo
    return s.configured_rpo


# ---- people ------------------------------------------------------------------

def print_summary(states: list[VpgState], summary: Summary, limit: int | None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from .human import SEVERITY_STYLE, emit

    c = summary.counts
    head = Text.assemble(("Triage: ", "bold"), (f"{summary.total} VPGs  ", ""),
                         *[(f"{c[k]} {k}  ", SEVERITY_STYLE.get(k, "") if c[k] else "dim") for k in ORDER])
    parts: list[Any] = [head]
    problems = worst_first(states, limit)
    not_ok = summary.total - c["ok"]
    if problems:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Needs attention, worst first", title_justify="left")
        for header in ("Severity", "Name", "Status / substatus", "Failover now?", "RPO"):
            table.add_column(header, overflow="fold", no_wrap=header == "Severity")
        for s in problems:
            sub = f" / {s.substatus_text}" if s.substatus_text else ""
            table.add_row(Text(s.severity, style=SEVERITY_STYLE.get(s.severity, "magenta")),
                          Text(printable(s.name) or f"object {s.position}"),
                          Text(printable(s.status_text + sub)), Text(failover_short(s.recovery)),
                          Text(_rpo(s).removeprefix("RPO ")))
        parts.append(table)
        if len(problems) < not_ok:
            parts.append(Text(f"... and {not_ok - len(problems)} more (--limit 0 shows all)", style="dim"))
        parts.append(Text('Why, and what to do: zvpg explain "STATUS / SUBSTATUS"', style="dim"))
    else:
        parts.append(Text("Every VPG is ok.", style="green"))
    emit(*parts)

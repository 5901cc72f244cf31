"""The monitoring-plugins output (Nagios, Icinga 2, Naemon, Zabbix): a first
line that names the worst VPGs, performance data (counts, then one `rpo`
series per VPG with the thresholds in force), the worst VPGs as long text,
all within a size bound; and the UNKNOWN line, written here alone.

Format (monitoring-plugins development guidelines): `TEXT | PERFDATA` on the
first line; long text on the lines below; more performance data after the
first `|` of the long text. A performance datum is `'label'=value[UOM];warn;
crit;min;max`; a label holds neither `=` nor `'`."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Severity
from ..rows import Row, rpo_limits
from ..sanitize import printable
from ..triage import Report
from ..units import number
from .naming import unique
from .report import COUNTS_ORDER, one_line

#: Names on the first line at most (the line most pagers show alone).
FIRST_LINE_NAMES = 3
#: Longest name shown on the first line.
NAME_CHARS = 60
#: The first line's text (before its performance data) is cut here.
FIRST_LINE_CHARS = 700
#: The smallest --max-output: room for the first line and its performance data.
MIN_OUTPUT = 1024


def _text(text: str) -> str:
    """Untrusted text for plugin output: escaped, and no `|` (it starts performance data)."""
    return printable(text).replace("|", "¦")


def unknown(reason: str) -> str:
    """The status line of a check that could not judge (exit 3)."""
    return f"ZVPG UNKNOWN - {_text(reason)}\n"


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 3] + "..."


def _label(text: str) -> str:
    return "'" + printable(text).replace("'", "_").replace("=", "_").replace("|", "_") + "'"


def _perf(row: Row, label: str, report: Report) -> str | None:
    if row.actual_rpo is None:
        return None
    warn, crit = rpo_limits(row, report.options.thresholds)
    return f"{label}={number(row.actual_rpo)}s;{'' if warn is None else number(warn)};" \
           f"{'' if crit is None else number(crit)};0;"


def nagios(report: Report, max_output: int = 8192) -> tuple[str, int]:
    """The plugin output and its exit code. The first line and the count
    performance data always; then, while the output stays within
    `max_output` bytes, the worst VPGs as long text, then every VPG's RPO as
    performance data; the last line says what was left out."""
    s = report.summary
    c = s.counts
    counts = [f"{c[k]} {k.value}" for k in COUNTS_ORDER
              if c[k] or k in (Severity.CRITICAL, Severity.WARNING, Severity.OK)]
    worst = report.worst_first()
    head = ", ".join(counts)
    if worst:
        named = [f"{_short(worst[0].label)} ({worst[0].state})", *(_short(r.label) for r in worst[1:FIRST_LINE_NAMES])]
        left = len(worst) - FIRST_LINE_NAMES
        head += ": " + ", ".join(named) + (f", +{left} more" if left > 0 else "")
    failed = s.failed_sites
    if failed:
        names = "; ".join(f"{_short(f.name)}: {f.error}" for f in failed[:FIRST_LINE_NAMES])
        more = f"; +{len(failed) - FIRST_LINE_NAMES} more" if len(failed) > FIRST_LINE_NAMES else ""
        head = f"{len(failed)} of {len(s.sites)} sites unreadable ({names}{more}); {head}"
    if s.problem:
        head = f"{s.problem}; {head}"
    perf = " ".join(f"{k.value}={c[k]}" for k in (Severity.CRITICAL, Severity.WARNING, Severity.OK, Severity.UNKNOWN))
    perf += f" total={s.total}"
    if s.sites:
        perf += f" sites={len(s.sites)} sites_failed={len(failed)}"
    status = _text(f"ZVPG {s.state.name} - {head}")
    if len(status) > FIRST_LINE_CHARS:
        status = status[:FIRST_LINE_CHARS - 3] + "..."
    first = f"{status} | {perf}"
    lines = [first]
    if report.state_error:
        lines.append(_text(f"state file not used: {report.state_error}"))
    lines += [_text(f"note: {note}") for note in report.notes]
    room = max_output - 120 - sum(len(x.encode("utf-8")) + 1 for x in lines)  # 120: the note of what was left out

    def fill(texts: Iterator[str]) -> int:
        """Add texts while they fit; how many did."""
        nonlocal room
        added = 0
        for text in texts:
            room -= len(text.encode("utf-8")) + 1
            if room < 0:
                break
            lines.append(text)
            added += 1
        return added

    shown = fill(_text(f"{row.severity.name}: {one_line(row)}") for row in worst)
    note_at = len(lines)
    rows = report.rows
    labels = dict(zip(map(id, rows), unique([f"{r.label} rpo" for r in rows],
                                            lambda i: rows[i].identifier or f"#{rows[i].position}"), strict=True))
    data = (d for d in (_perf(r, _label(labels[id(r)]), report)
                        for r in [*worst, *(r for r in rows if r.severity is Severity.OK)]) if d is not None)
    perfdata = fill(("| " if i == 0 else "") + d for i, d in enumerate(data))
    left_rows = len(worst) - shown
    left_perf = sum(1 for r in rows if r.actual_rpo is not None) - perfdata
    omitted = [text for n, text in ((left_rows, f"{s.objects(left_rows)} needing attention"),
                                 (left_perf, f"{left_perf} RPO value{'s' if left_perf != 1 else ''}")) if n]
    if omitted:
        lines.insert(note_at, f"... {' and '.join(omitted)} not shown (--max-output {max_output})")
    return "\n".join(lines) + "\n", s.state.code

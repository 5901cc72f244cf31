"""The monitoring-plugins output (Nagios, Icinga 2, Naemon, Zabbix): a first
line that names the worst VPGs, performance data (counts, then one `rpo`
series per VPG with the thresholds in force), the worst VPGs as long text,
all within a size bound; and the UNKNOWN line, written here alone.

Format (monitoring-plugins development guidelines): `TEXT | PERFDATA` on the
first line; long text on the lines below; more performance data after the
first `|` of the long text. A performance datum is `'label'=value[UOM];warn;
crit;min;max`; a label holds neither `=` nor `'`."""

from __future__ import annotations

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
    size = sum(len(x.encode("utf-8")) + 1 for x in lines)
    room = max_output - 120  # kept for the last line, which says what was left out
    shown = 0
    for row in worst:
        line = _text(f"{row.severity.name}: {one_line(row)}")
        n = len(line.encode("utf-8")) + 1
        if size + n > room:
            break
        lines.append(line)
        size += n
        shown += 1
    rows = report.rows
    labels = unique([f"{r.label} rpo" for r in rows], lambda i: rows[i].identifier or f"#{rows[i].position}")
    by_row = dict(zip(map(id, report.rows), labels, strict=True))
    perfdata = 0
    with_rpo = sum(1 for r in report.rows if r.actual_rpo is not None)
    first_perf = True
    for row in worst + [r for r in report.rows if r.severity is Severity.OK]:
        datum = _perf(row, _label(by_row[id(row)]), report)
        if datum is None:
            continue
        text = ("| " if first_perf else "") + datum
        n = len(text.encode("utf-8")) + 1
        if size + n > room:
            break
        lines.append(text)
        size += n
        perfdata += 1
        first_perf = False
    left_rows, left_perf = len(worst) - shown, with_rpo - perfdata
    if left_rows or left_perf:
        note = f"... {left_rows} more {s.noun}s needing attention and {left_perf} RPO values not shown " \
               f"(--max-output {max_output})"
        if perfdata:  # inside the performance data: the note goes above it
            at = lines.index(next(x for x in lines if x.startswith("| ")))
            lines.insert(at, note)
        else:
            lines.append(note)
    return "\n".join(lines) + "\n", s.state.code

"""The monitoring-plugins output (Nagios, Icinga 2, Naemon, Zabbix): a first
line that names the worst VPGs and carries all the performance data (counts,
then one `rpo` datum per VPG with the thresholds in force), the worst VPGs and
any warnings as long text, all within a size bound in bytes; and the UNKNOWN
output, written here alone.

Format (monitoring-plugins development guidelines): `TEXT | PERFDATA` on the
first line; long text on the lines below. The guidelines allow more
performance data after a `|` in the long text, but Icinga 2 reads performance
data only from lines that hold a `|` (so a datum on a line of its own is lost
there): zvpg writes every datum on the first line, and no `|` below it. A
performance datum is `'label'=value[UOM];warn;crit;min;max`; a label holds
neither `=` nor `'` (Nagios and Icinga 2 both end the label at the first `=`)."""

from __future__ import annotations

from collections.abc import Sequence

from ..base.sanitize import printable
from ..base.units import number
from ..knowledge.model import COUNTS_ORDER, PERFDATA_ORDER, Severity
from ..triage.report import Report
from ..triage.rows import Row
from .naming import unique
from .report import hint, one_line

#: Names on the first line at most (the line most pagers show alone).
FIRST_LINE_NAMES = 3
#: Longest name shown on the first line.
NAME_CHARS = 60
#: The first line's text (before its performance data) is cut at this many bytes.
FIRST_LINE_BYTES = 700
#: A line of long text is cut at this many bytes.
LINE_BYTES = 1000


def _text(text: str) -> str:
    """Untrusted text for plugin output: escaped, and no `|` (it starts performance data)."""
    return printable(text).replace("|", "¦")


def _cut(text: str, limit: int) -> str:
    """`text` within `limit` bytes of UTF-8, cut between characters and marked `...`."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", "ignore") + "..."


def _note(message: str) -> str:
    """A line zvpg would have written on stderr, as a line of long text."""
    return _cut(_text(message.removeprefix("zvpg: ")), LINE_BYTES)


def unknown(reason: str, notes: Sequence[str] = ()) -> str:
    """The output of a check that could not judge (exit 3): the status line,
    then `notes` (warnings zvpg held back from stderr) as long text."""
    lines = [_cut(f"ZVPG UNKNOWN - {_text(reason)}", FIRST_LINE_BYTES + 300)]
    lines += [_note(n) for n in notes if n.removeprefix("zvpg: ") != reason][:20]
    return "\n".join(lines) + "\n"


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 3] + "..."


def _label(text: str) -> str:
    return "'" + printable(text).replace("'", "_").replace("=", "_").replace("|", "_") + "'"


def _perf(row: Row, label: str) -> str | None:
    if row.actual_rpo is None:
        return None
    warn, crit = row.rpo_limits
    return f"{label}={number(row.actual_rpo)}s;{'' if warn is None else number(warn)};" \
           f"{'' if crit is None else number(crit)};0;"


def nagios(report: Report, max_output: int = 8192, notes: Sequence[str] = ()) -> tuple[str, int]:
    """The plugin output and its exit code, at most `max_output` bytes (the
    CLI's --max-output is at least 1024: room for the first line and its
    performance data). The first line, its count performance data and what was
    left out always; then, while they fit: `notes` (warnings held back from
    stderr, and why the state file was not used), then each VPG that needs
    attention, worst first, as a line of long text with its RPO datum on the
    first line, then the RPO data of the ok VPGs."""
    from . import health

    s = report.summary
    c = s.counts
    counts = [f"{c[k]} {k.value}" for k in COUNTS_ORDER
              if c[k] or k in (Severity.CRITICAL, Severity.WARNING, Severity.OK)]
    worst = report.worst_first()
    explained = {id(report.rows[i]) for cause in report.causes for i in cause.members}
    named_rows = [r for r in worst if id(r) not in explained]  # those a cause explains are said by it
    vpg_text = ", ".join(counts)
    if named_rows:
        first_row = named_rows[0]
        named = [f"{_short(first_row.label)} ({first_row.state})",
                 *(_short(r.label) for r in named_rows[1:FIRST_LINE_NAMES])]
        left = len(named_rows) - FIRST_LINE_NAMES
        vpg_text += ": " + ", ".join(named) + (f", +{left} more" if left > 0 else "")
    findings = health.not_ok(report)
    tests = health.overdue(findings)
    others = [f for f in findings if f.kind != "test"]
    found = [f"{_short(health.finding_what(f))}: {f.state}" for f in others[:FIRST_LINE_NAMES]]
    if len(others) > FIRST_LINE_NAMES:
        found[-1] += f", +{len(others) - FIRST_LINE_NAMES} more"
    found_text = ", ".join(found)
    segments = [health.cause_text(cause, s.noun) for cause in report.causes]
    # what needs attention leads: the VPGs' counts after the findings when every VPG is ok
    order = [vpg_text, found_text] if worst or not findings else [found_text, vpg_text]
    segments += [t for t in order if t]
    if tests:
        segments.append(health.tests_text(tests))
    segments += [_cut(health.part_text(p), 2 * NAME_CHARS) for p in s.failed_parts]
    head = "; ".join(segments)
    failed = s.failed_sites
    if failed:
        names = "; ".join(f"{_short(f.name)}: {f.error}" for f in failed[:FIRST_LINE_NAMES])
        more = f"; +{len(failed) - FIRST_LINE_NAMES} more" if len(failed) > FIRST_LINE_NAMES else ""
        head = f"{len(failed)} of {len(s.sites)} sites unreadable ({names}{more}); {head}"
    if s.problem:
        head = f"{s.problem}; {head}"
    perf = " ".join(f"{k.value}={c[k]}" for k in PERFDATA_ORDER)
    perf += f" total={s.total}"
    if s.sites:
        perf += f" sites={len(s.sites)} sites_failed={len(failed)}"
    if health.judged_site(report):
        perf += "".join(f" {k}={v}" for k, v in health.counts_of(report.findings, health.parts_judged(report)).items())
        perf += f" parts_failed={len(s.failed_parts)} causes={len(report.causes)}"
    # the text is cut where the performance data and the line of what was left out (160) would not fit
    cut = min(FIRST_LINE_BYTES, max_output - 160 - len(perf) - 4)
    first = f"{_cut(_text(f'ZVPG {s.state.name} - {head}'), cut)} | {perf}"
    # 160: the line that says what was left out
    room = max_output - 160 - len(first.encode("utf-8")) - 1
    texts = [_note(n) for n in notes]
    if report.state_error:
        texts.append(_note(f"warning: state file not used: {report.state_error}"))
    texts += [_note(f"note: {note}") for note in report.notes]
    lines: list[str] = []
    data: list[str] = []

    def fits(text: str | None, datum: str | None, stop: bool = True) -> bool:
        """Add a line of long text and a datum if both fit (`stop`: and nothing
        after one that does not, so that what is shown is a prefix of the order)."""
        nonlocal room
        cost = (0 if text is None else len(text.encode("utf-8")) + 1) + \
            (0 if datum is None else len(datum.encode("utf-8")) + 1)
        if cost > room:
            if stop:
                room = -1
            return False
        room -= cost
        if text is not None:
            lines.append(text)
        if datum is not None:
            data.append(datum)
        return True

    left_notes = len(texts) - sum(1 for t in texts if fits(t, None, stop=False))
    for cause in report.causes:
        fits(_cut(_text(f"{cause.severity.name}: {health.cause_text(cause, s.noun)}: {', '.join(cause.rows)} "
                        f"(linked by {cause.linked_by})"), LINE_BYTES), None, stop=False)
    for p in s.failed_parts:
        fits(_cut(_text(f"UNKNOWN: {health.part_text(p)}"), LINE_BYTES), None, stop=False)
    left_found = len(others) - sum(
        1 for f in others
        if fits(_cut(_text(f"{f.severity.name}: {'; '.join([health.finding_text(f), *f.reasons])}"), LINE_BYTES), None))
    if tests and not fits(_cut(_text(f"{max(t.severity for t in tests).name}: {health.tests_text(tests)}: "
                                     + ", ".join(health.test_name(t) for t in tests)), LINE_BYTES), None):
        left_found += len(tests)
    for f in health.notices(report):
        fits(_cut(_text(f"OK: {health.notice_text(f)}"), LINE_BYTES), None, stop=False)
    rows = report.rows
    labels = dict(zip(map(id, rows), unique([f"{r.label} rpo" for r in rows],
                                            lambda i: rows[i].identifier or f"#{rows[i].position}"), strict=True))

    def datum(r: Row) -> str | None:
        return _perf(r, _label(labels[id(r)]))

    shown = sum(1 for r in worst if fits(_cut(_text(f"{r.severity.name}: {one_line(r)}"), LINE_BYTES), datum(r)))
    command = hint(worst[0]) if worst else None
    if shown and command:
        fits(_cut(_text(f"Why, and what to do: {command}"), LINE_BYTES), None, stop=False)
    for r in rows:
        if r.severity is Severity.OK:
            fits(None, datum(r))
    left_rows = len(worst) - shown
    left_perf = sum(1 for r in rows if r.actual_rpo is not None) - len(data)
    omitted = [text for n, text in ((left_notes, f"{left_notes} warning{'s' if left_notes != 1 else ''}"),
                                    (left_found, f"{left_found} finding{'s' if left_found != 1 else ''}"),
                                    (left_rows, f"{s.objects(left_rows)} needing attention"),
                                    (left_perf, f"{left_perf} RPO value{'s' if left_perf != 1 else ''}")) if n]
    if omitted:
        lines.append(f"... {' and '.join(omitted)} not shown (--max-output {max_output})")
    return "\n".join([" ".join([first, *data]), *lines]) + "\n", s.state.code

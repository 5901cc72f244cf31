"""A triage report for people (a table, worst first) and as JSON (the JSON
contract: README, "JSON contract"; schemas/triage.schema.json); FORMATS, the
one table of triage's formats and their renderers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..base.sanitize import json_safe, printable
from ..base.units import duration
from ..base.writer import write, write_bytes
from ..knowledge.decoding import Decoded
from ..knowledge.model import COUNTS_ORDER, Severity
from ..triage.report import Report
from ..triage.rows import Row
from .views import failover_text


def state_text(row: Row) -> str:
    """`Not Meeting SLA / Delta Syncing`, with how long it has lasted when a
    state file says (`... for 4m`), and when its grace ends (`... for 4m
    (critical after 15m)`)."""
    t = row.timed
    if t is None or t.age_seconds is None:
        return row.state
    lasting = f"{row.state} for "
    found: str | None = next((r for r in t.reasons if r.startswith(lasting)), None)
    if found is not None:
        return found
    text = lasting + duration(t.age_seconds)
    if t.out_of_ok_seconds is not None and duration(t.out_of_ok_seconds) != duration(t.age_seconds):
        text += f", out of ok for {duration(t.out_of_ok_seconds)}"  # what grace and escalation count
    return text


def hint(row: Row) -> str | None:
    """A command that says more about the row's state and runs as printed:
    `zvpg explain "STATUS / SUBSTATUS"` (the status alone without a
    substatus), or `zvpg decode STATUS SUBSTATUS` (the values as given, shell
    quoted) where zvpg does not know one of them; None without a Status.
    Control characters are shown as escapes (`sanitize.printable`)."""
    import shlex

    a = row.verdict.annotation
    pair = a.pair
    if pair is None:
        return None
    sub = pair.substatus
    if pair.status.name and (sub is None or sub.no_substatus or sub.name):
        term = printable(pair.status.name if sub is None or sub.no_substatus else f"{pair.status.name} / {sub.name}")
        return f'zvpg explain "{term}"' if term.replace(" ", "").replace("/", "").replace(".", "").replace(
            "-", "").isalnum() else f"zvpg explain {shlex.quote(term)}"
    values = [a.status_value, *([] if sub is None else [a.substatus_value])]
    if not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in values):
        return None
    args = [shlex.quote(printable(str(v))) for v in values]
    return "zvpg decode " + ("-- " if any(a.startswith("-") for a in args) else "") + " ".join(args)


def one_line(row: Row) -> str:
    """A row in one line of plain text (names escaped, no newlines): its state,
    failover, RPO and what time says of it (stuck, flapping)."""
    state = state_text(row)
    timed = "".join(f"; {r}" for r in row.timed.reasons if r != state) if row.timed is not None else ""
    timed += "".join(f"; {r}" for r in row.reasons if r.startswith("policy: "))  # an override is always named
    # what the site around it says of it: an alert that names it, the cause that explains it
    timed += "".join(f"; {r}" for r in row.reasons if r.startswith(("alert ", "explained by: ")))
    failover = failover_text(row.failover, short=True)
    return printable(f"{row.label}: {state}; failover possible: {failover}; {row.rpo_text}{timed}")


# ---- JSON --------------------------------------------------------------------------

def _code(d: Decoded | None) -> dict[str, Any] | None:
    return None if d is None else {"code": d.code, "name": d.name, "api_name": d.api_name, "known": d.known}


def row_json(row: Row) -> dict[str, Any]:
    pair = row.verdict.annotation.pair
    f = row.failover
    out = {
        "site": row.site, "index": row.position, "kind": row.kind, "name": row.name, "identifier": row.identifier,
        "vpg_name": row.vpg_name, "vpg_identifier": row.vpg_identifier,
        "vm_name": row.vm_name, "vm_identifier": row.vm_identifier,
        "severity": row.severity.value,
        "status": _code(pair.status if pair else None), "substatus": _code(pair.substatus if pair else None),
        "recovery": row.verdict.recovery, "recovery_condition": f.condition, "failover_possible": f.possible,
        "failover_basis": f.basis, "protection_halted": row.verdict.protection_halted,
        "actual_rpo": row.actual_rpo, "configured_rpo": row.configured_rpo, "reasons": list(row.reasons),
        "label": row.label, "state": row.state, "progress": row.progress, "basis": row.basis,
    }
    out.update(_timed_json(row.timed))
    return out


def _timed_json(t: Any) -> dict[str, Any]:
    """The time fields of a row or finding judged with --state (null without)."""
    return {"since": t and t.since, "age_seconds": t and t.age_seconds, "grace_until": t and t.grace_until,
            "stuck": t and t.stuck, "flapping": t and t.flapping, "out_of_ok_since": t and t.out_of_ok_since,
            "out_of_ok_seconds": t and t.out_of_ok_seconds}


#: What JSON leaves out of a finding's facts: the rows' places in this run, and
#: an age that depends on the moment of the run (`since` is the time itself).
_NOT_FACTS = frozenset({"rows", "age_seconds"})


def finding_json(f: Any) -> dict[str, Any]:
    """A finding (`triage.site.Finding`): an alert, a VRA, a peer site or a VPG's last failover test."""
    out = {"kind": f.kind, "site": f.site, "name": f.name, "identifier": f.identifier, "code": f.code,
           "label": f.label, "state": f.state, "severity": f.severity.value, "reasons": list(f.reasons),
           "since": f.since, "about": f.about, "vpgs": list(f.vpgs), "attached": list(f.attached),
           "counted": f.counted, "facts": {k: v for k, v in f.facts.items() if k not in _NOT_FACTS},
           "basis": {"severity": "zvpg", "reasons": "zvpg"}}
    if f.timed is not None:
        out.update({k: v for k, v in _timed_json(f.timed).items() if k != "since"}, state_since=f.timed.since)
    return out


def cause_json(c: Any) -> dict[str, Any]:
    return {"text": c.text, "severity": c.severity.value, "site": c.site, "rows": list(c.rows),
            "linked_by": c.linked_by}


def summary_json(report: Report) -> dict[str, Any]:
    s = report.summary
    return {
        "summary": {"total": s.total, **{sev.value: s.counts[sev] for sev in COUNTS_ORDER}, "state": s.state.name,
                    "problem": s.problem, "state_error": report.state_error,
                    "notes": list(report.notes),
                    "findings": {sev.value: s.finding_counts.get(sev, 0) for sev in COUNTS_ORDER},
                    "failed_parts": [{"site": p.site, "url": p.url, "part": p.part, "error": p.error}
                                     for p in s.failed_parts]},
        "sites": [{"name": site.name, "url": site.url, "up": site.error is None, "error": site.error,
                   "objects": site.objects} for site in s.sites],
        "causes": [cause_json(c) for c in report.causes],
        "findings": [finding_json(f) for f in report.findings],
    }


def json_chunks(report: Report, per_chunk: int = 1024) -> Iterator[bytes]:
    """The report as indented JSON, a chunk of rows at a time."""
    import msgspec

    def formatted(value: Any) -> bytes:
        return json_safe(msgspec.json.format(msgspec.json.encode(value), indent=2))

    head = formatted({**summary_json(report), "vpgs": []})
    prefix, _, end = head.rpartition(b"[]")
    rows = report.rows
    if not rows:
        yield prefix + b"[]" + end + b"\n"
        return
    for start in range(0, len(rows), per_chunk):
        body = formatted({"vpgs": [row_json(r) for r in rows[start:start + per_chunk]]})
        items = body[body.index(b"[\n") + 2:body.rindex(b"\n  ]")]
        yield (prefix + b"[\n" if start == 0 else b",\n") + items
    yield b"\n  ]" + end + b"\n"


# ---- people --------------------------------------------------------------------------

#: Whose answer each column of the table is.
WHOSE = ("Severity is zvpg's judgement. Failover: the documentation's answer, or zvpg's inference where it says "
         "so; where not stated, look at the RPO and the last checkpoint.")


def _fitted_or_stacked(title: str, headers: Sequence[str], whole: Sequence[str], cells: list[tuple[Any, ...]],
                       stack: Callable[[tuple[Any, ...]], Any], least: Sequence[int] = ()) -> list[Any]:
    """A table of `cells` under `title` where it fits the width without
    breaking a word (`whole` columns never wrap) and each column keeps `least`
    cells (a sentence in a column a word wide reads badly), else each row
    stacked: its first cell beside `stack(row)`, the rest under one another."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from .human import console, fitted

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold", no_wrap=header in whole)
    for row in cells:
        table.add_row(*row)
    if fitted(table, console().width) and all((c.width or 0) >= n for c, n in zip(table.columns, least,
                                                                                   strict=False)):
        return [table]
    stacked = Table.grid(padding=(0, 2))  # too narrow for the words side by side
    stacked.add_column(no_wrap=True)
    stacked.add_column(overflow="fold")
    for row in cells:
        stacked.add_row(row[0], stack(row))
    return [Text(title, style="table.title"), stacked]


#: Names of a cause's VPGs shown under it, at most.
CAUSE_NAMES = 8


def site_section(report: Report, limit: int | None) -> list[Any]:
    """What surrounds the VPGs, for people: parts of sites that could not be
    read, causes ("One cause for 20 VPGs: ..."), then the findings that are
    not ok, worst first (at most `limit`)."""
    from rich.padding import Padding
    from rich.text import Text

    from . import health
    from .human import SEVERITY_STYLE

    s = report.summary
    parts: list[Any] = []
    if not health.judged_site(report):
        return parts
    fc = s.finding_counts
    judged = health.parts_judged(report)
    what = ", ".join(health.PART_NAMES[p] for p in health.KIND_PART.values() if p in judged)
    parts.append(Text.assemble(
        ("Site health: ", "bold"),
        *[(f"{fc.get(k, 0)} {k.value}  ", SEVERITY_STYLE.get(k.value, "") if fc.get(k) else "dim")
          for k in COUNTS_ORDER],
        (f"({what})", "dim")))
    for p in s.failed_parts:
        text = health.part_text(p)
        parts.append(Text(printable(text[:1].upper() + text[1:]), style="bold magenta"))
    for cause in report.causes:
        n = len(cause.rows)
        names = ", ".join(cause.rows[:CAUSE_NAMES]) + (f", +{n - CAUSE_NAMES} more" if n > CAUSE_NAMES else "")
        site = f"[{cause.site}] " if cause.site else ""
        parts.append(Text.assemble((f"One cause for {s.objects(n)}: ", "bold"),
                                   (printable(site + cause.text), SEVERITY_STYLE.get(cause.severity.value, ""))))
        parts.append(Padding(Text(printable(f"{names} (linked by {cause.linked_by})"), style="dim"), (0, 0, 0, 2)))
    found = health.not_ok(report)
    shown = found if limit is None else found[:limit]
    if shown:
        cells = [(Text(f.severity.value, style=SEVERITY_STYLE.get(f.severity.value, "magenta")),
                  Text(printable(f.label)), Text(printable(f.state)), Text(printable("; ".join(f.reasons))))
                 for f in shown]
        parts += _fitted_or_stacked(
            "Site health, worst first", ("Severity", "What", "State", "Why"), ("Severity",), cells,
            lambda row: Text("\n").join([Text.assemble(row[1], style="bold"), row[2], row[3]]), least=(0, 16, 12, 24))
        if len(shown) < len(found):
            parts.append(Text(f"... and {len(found) - len(shown)} more (--limit 0 shows all)", style="dim"))
    for f in health.notices(report):
        text = health.notice_text(f)
        parts.append(Text(printable(text[:1].upper() + text[1:]), style="dim"))
    return parts


def print_table(report: Report, limit: int | None) -> None:
    """The summary for people: counts, unreadable sites, what surrounds the
    VPGs (`site_section`), what needs attention."""
    from rich.cells import cell_len
    from rich.text import Text

    from .human import SEVERITY_STYLE, console, emit

    s = report.summary
    head = Text.assemble(("Triage: ", "bold"), (f"{s.objects()}  ", ""),
                         *[(f"{s.counts[k]} {k.value}  ", SEVERITY_STYLE.get(k.value, "") if s.counts[k] else "dim")
                           for k in COUNTS_ORDER])
    if s.sites:
        head.append(f"from {len(s.sites)} site{'s' if len(s.sites) != 1 else ''}")
    parts: list[Any] = [head]
    for site in s.failed_sites:
        parts.append(Text(printable(f"Site {site.name} ({site.url}) could not be read: {site.error}"),
                          style="bold magenta"))
    if report.state_error:
        parts.append(Text(printable(f"State file not used: {report.state_error}"), style="bold magenta"))
    for note in report.notes:
        parts.append(Text(printable(f"Note: {note}"), style="yellow"))
    parts += site_section(report, limit)
    problems = report.worst_first(limit)
    not_ok = s.total - s.counts[Severity.OK]
    if problems:
        cells = [(Text(r.severity.value, style=SEVERITY_STYLE.get(r.severity.value, "magenta")),
                  Text(printable(r.label)), Text(printable(state_text(r))),
                  Text(failover_text(r.failover, short=True)), Text(r.rpo_text.removeprefix("RPO ")))
                 for r in problems]
        parts += _fitted_or_stacked(
            "Needs attention, worst first", ("Severity", "Name", "Status / substatus", "Failover now?", "RPO"),
            ("Severity", "RPO"), cells,
            lambda row: Text("\n").join([Text.assemble(row[1], style="bold"), row[2],
                                         Text.assemble("failover now: ", row[3]), Text.assemble("RPO ", row[4])]))
        if len(problems) < not_ok:
            parts.append(Text(f"... and {not_ok - len(problems)} more (--limit 0 shows all)", style="dim"))
        parts.append(Text(WHOSE, style="dim"))
        worst = hint(problems[0])  # a command that runs, for the worst; the others read alike
        command = worst or 'zvpg explain "STATUS / SUBSTATUS"'
        apart = len("Why, and what to do: ") + cell_len(command) > console().width  # the command kept on one line
        parts.append(Text("Why, and what to do:" + ("\n  " if apart else " ") + command, style="dim"))
    elif s.problem:
        parts.append(Text(printable(f"Nothing judged: {s.problem}."), style="bold magenta"))
    elif s.failed_sites:
        parts.append(Text(f"Every {s.noun} that could be read is ok.", style="yellow"))
    else:
        parts.append(Text(f"Every {s.noun} is ok.", style="green"))
    emit(*parts)


def _table(report: Report, limit: int | None, max_output: int, run: str | None, notes: Sequence[str]) -> None:
    print_table(report, limit)


def _json(report: Report, limit: int | None, max_output: int, run: str | None, notes: Sequence[str]) -> None:
    for chunk in json_chunks(report):
        write_bytes([chunk])


def _nagios(report: Report, limit: int | None, max_output: int, run: str | None, notes: Sequence[str]) -> int:
    from ..base.signals import settle
    from .nagios import nagios

    text, code = nagios(report, max_output, notes)
    settle()  # the status line is the answer: a signal now cannot add a second one
    write(text)
    return code


def _checkmk(report: Report, limit: int | None, max_output: int, run: str | None, notes: Sequence[str]) -> None:
    from .checkmk import checkmk

    for text in checkmk(report):
        write(text)


def _prometheus(report: Report, limit: int | None, max_output: int, run: str | None, notes: Sequence[str]) -> None:
    from .prometheus import prometheus

    for text in prometheus(report, run):
        write(text)


#: triage's formats, each with its renderer (the one place a format is chosen).
FORMATS: dict[str, Callable[[Report, int | None, int, str | None, Sequence[str]], int | None]] = {
    "table": _table, "json": _json, "nagios": _nagios, "checkmk": _checkmk, "prometheus": _prometheus}


def render(report: Report, fmt: str, *, limit: int | None = None, max_output: int = 8192, run: str | None = None,
           notes: Sequence[str] = ()) -> int | None:
    """Write `report` in `fmt` (a name in FORMATS): `limit` VPGs in the table
    (None: all), at most `max_output` bytes and `notes` as long text under
    --nagios, every series labelled `run` in Prometheus's. The plugin's exit
    code under nagios; None for the others (the caller's exit policy decides)."""
    return FORMATS[fmt](report, limit, max_output, run, notes)


def stderr_lines(report: Report) -> list[str]:
    """What a run says on stderr beside its report (--nagios puts them in its
    long text instead): each site that could not be read, why the state file
    was not used, the report's notes."""
    from .progress import unreadable

    lines = [f"zvpg: {unreadable(site.name, site.error or '')}" for site in report.summary.failed_sites]
    if report.state_error:
        lines.append(printable(f"zvpg: warning: state file not used: {report.state_error}"))
    return lines + [printable(f"zvpg: note: {note}") for note in report.notes]


class TriageError(Exception):
    """A triage request that cannot be answered: a policy that cannot be used,
    an --output file that cannot be written (the command line: exit 2)."""


def answer(kb: Any, reads: Sequence[Any], options: Any, fmt: str, *, output: str | None = None,
           limit: int | None = None, max_output: int = 8192, run: str | None = None) -> tuple[Report, int | None]:
    """A whole `zvpg triage` request: judge `reads` (`triage.report.run`), say
    `stderr_lines` (except under nagios: its output carries them), write the
    report in `fmt` to `output` (atomically; None or -: stdout). The report and
    `render`'s exit code. Raises `TriageError`."""
    from ..base.writer import OutputError, error, held_errors, to_file
    from ..triage.report import run as run_triage

    try:
        result = run_triage(kb, reads, options)
    except Exception as exc:
        from ..triage.policy import PolicyError  # (imported only when needed: checks start sooner)

        if not isinstance(exc, PolicyError):
            raise
        raise TriageError(str(exc)) from exc
    if fmt != "nagios":
        for line in stderr_lines(result):
            error(line)
    try:
        with to_file(output):
            return result, render(result, fmt, limit=limit, max_output=max_output, run=run, notes=held_errors())
    except OutputError as exc:
        if output is None:
            raise
        raise TriageError(str(exc)) from exc

"""The Prometheus text exposition format (node_exporter's textfile
collector): gauges labelled only by who the VPG is (`site`, `vpg`, `id`, and
`vm` for a VM) and, with --run, which zvpg job wrote them (`run`), so a change
of state never renames a series; the decoded names and a command that says
more ride on `zvpg_vpg_info`. Written by this one small formatter:

    # HELP <name> <text>
    # TYPE <name> gauge
    <name>{label="value",...} <number>
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..base.sanitize import printable
from ..base.units import number
from ..knowledge.decoding import failover_source
from ..knowledge.model import COUNTS_ORDER
from ..triage.report import Report
from ..triage.rows import Row
from .naming import unique
from .report import hint


def label(value: str) -> str:
    """A label value: control and invisible characters shown as escapes
    (`sanitize.printable`, which also keeps newlines out), then backslash and
    double quote escaped as the format asks."""
    return printable(value).replace("\\", "\\\\").replace('"', '\\"')


def _failover(row: Row) -> int:
    possible = row.failover.possible
    return -1 if possible is None else int(possible)


def _failover_basis(row: Row) -> str:
    """Whose answer `zvpg_vpg_failover_possible` is: `basis="documentation"`,
    `"zvpg"` (zvpg's inference, only on evidence: docs/monitoring.md) or `"none"`."""
    return f',basis="{failover_source(row.failover) or "none"}"'


def _code(row: Row, which: str) -> int:
    """A code as given (known or not); -1 when missing, not an integer, or too
    large for a float to hold exactly."""
    pair = row.verdict.annotation.pair
    d = None if pair is None else pair.status if which == "status" else pair.substatus
    code = None if d is None else d.code
    return code if isinstance(code, int) and abs(code) < 2**53 else -1


#: name, help, the value of a row (None: no sample for it)
_GAUGES: list[tuple[str, str, Callable[[Row], float | None]]] = [
    ("zvpg_vpg_severity", "Severity of the VPG from its status and substatus: 0 ok, 1 warning, 2 critical, "
     "3 unknown.", lambda r: r.severity.code),
    ("zvpg_vpg_status_code", "ZVM REST API Status code of the VPG, also when unknown to zvpg (-1 when missing or "
     "not a number).", lambda r: _code(r, "status")),
    ("zvpg_vpg_substatus_code", "ZVM REST API SubStatus code of the VPG, also when unknown to zvpg (-1 when "
     "missing or not a number).", lambda r: _code(r, "substatus")),
    ("zvpg_vpg_failover_possible", "1 when a failover is possible now, 0 when not, -1 not stated; basis says whose "
     "answer it is: documentation (its words) or zvpg (inferred: RPO SLA met, ActualRPO within the configured RPO).",
     _failover),
    ("zvpg_vpg_actual_rpo_seconds", "ActualRPO of the VPG in seconds.", lambda r: r.actual_rpo),
    ("zvpg_vpg_configured_rpo_seconds", "ConfiguredRpoSeconds of the VPG.", lambda r: r.configured_rpo),
]
_AGE = ("zvpg_vpg_state_age_seconds", "Seconds the VPG has been in its current status and substatus (--state).",
        lambda r: r.timed.age_seconds if r.timed is not None else None)


def series_labels(rows: list[Row]) -> list[str]:
    """Each row's identifying labels, unique for any input: `site`, `vpg`,
    `vm`, and `id`, which alone changes (`#2`, ...) where rows share them."""
    def key(r: Row) -> str:
        return ((f'site="{label(r.site)}",' if r.site else "") + f'vpg="{label(r.vpg_name)}",'
                + (f'vm="{label(r.name)}",' if r.kind == "vm" else "") + 'id="')

    # compared as written (escaped): two identifiers that escape alike would otherwise be one series
    full = unique([key(r) + label(r.identifier or f"#{r.position}") for r in rows],
                  lambda i: f"#{rows[i].position}")
    return [f + '"' for f in full]


def _family(name: str, help_text: str) -> str:
    return f"# HELP {name} {help_text}\n# TYPE {name} gauge\n"


#: Samples written at a time.
CHUNK = 4096


def prometheus(report: Report, run: str | None = None) -> Iterator[str]:
    """Every family, a chunk of samples at a time; `run` (--run) labels every
    series `run="NAME"`, so that the files of several zvpg jobs can share one
    textfile folder."""
    rows = report.rows
    own = "" if run is None else f'run="{label(run)}",'
    labels = [own + lab for lab in series_labels(rows)]
    yield _family("zvpg_vpg_info", "Decoded status and substatus names of the VPG, its severity, and a zvpg "
                  "command that says more (value always 1).")
    for start in range(0, len(rows), CHUNK):
        yield "".join(f'zvpg_vpg_info{{{lab},status="{label(r.verdict.status_text)}",'
                      f'substatus="{label(r.verdict.substatus_text)}",severity="{r.severity.value}",'
                      f'hint="{label(hint(r) or "")}"}} 1\n'
                      for r, lab in zip(rows[start:start + CHUNK], labels[start:start + CHUNK], strict=True))
    gauges = _GAUGES + ([_AGE] if report.stateful else [])
    for name, help_text, value in gauges:
        yield _family(name, help_text)
        for start in range(0, len(rows), CHUNK):
            lines = []
            for r, lab in zip(rows[start:start + CHUNK], labels[start:start + CHUNK], strict=True):
                v = value(r)
                if v is not None:
                    extra = _failover_basis(r) if value is _failover else ""
                    lines.append(f"{name}{{{lab}{extra}}} {number(v)}\n")
            yield "".join(lines)
    yield _family("zvpg_vpgs", "Number of VPGs per severity.") + "".join(
        f'zvpg_vpgs{{{own}severity="{s.value}"}} {report.summary.counts[s]}\n'
        for s in COUNTS_ORDER)
    if report.summary.sites:
        yield _family("zvpg_site_up", "1 when zvpg could read the site's ZVM, 0 when not.") + "".join(
            f'zvpg_site_up{{{own}site="{label(site.name)}"}} {int(site.error is None)}\n'
            for site in report.summary.sites)
    yield _family("zvpg_run_timestamp_seconds", "When this zvpg run finished, in seconds since the epoch.") \
        + f"zvpg_run_timestamp_seconds{'{' + own[:-1] + '}' if own else ''} {number(round(report.finished, 3))}\n"

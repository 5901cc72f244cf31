"""The Prometheus text exposition format (node_exporter's textfile
collector): gauges labelled only by who the VPG is (`site`, `vpg`, `id`, and
`vm` for a VM) and, with --run, which zvpg job wrote them (`run`), so a change
of state never renames a series; the decoded names and a command that says
more ride on `zvpg_vpg_info`. What surrounds the VPGs likewise: VRAs by
`vra`, `id` (VraIdentifierStr) and `host`, peer sites by `peer` and `id`,
each VPG's last failover test by the VPG's own labels, alerts on
`zvpg_alert_info`, parts of sites by `site` and `part`, causes by `cause`.
Written by this one small formatter:

    # HELP <name> <text>
    # TYPE <name> gauge
    <name>{label="value",...} <number>
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


def _int_code(code: object) -> int:
    """A code as given; -1 when missing, not an integer, or too large for a float to hold exactly."""
    return code if type(code) is int and abs(code) < 2**53 else -1


def _code(row: Row, which: str) -> int:
    """A code as given (known or not); -1 when missing, not an integer, or too
    large for a float to hold exactly."""
    pair = row.verdict.annotation.pair
    d = None if pair is None else pair.status if which == "status" else pair.substatus
    return _int_code(None if d is None else d.code)


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
    yield from _site_health(report, own, labels)
    yield _family("zvpg_run_timestamp_seconds", "When this zvpg run finished, in seconds since the epoch.") \
        + f"zvpg_run_timestamp_seconds{'{' + own[:-1] + '}' if own else ''} {number(round(report.finished, 3))}\n"


def _site_labels(site: str | None) -> str:
    return f'site="{label(site)}",' if site else ""


def _objects(found: list[Any], key: Callable[[Any], str], own: str) -> list[str]:
    """Each finding's identifying labels (`key`), unique for any input (`#2`, ... appended to `id` where they meet)."""
    full = unique([own + _site_labels(f.site) + key(f) + f'id="{label(f.identifier)}' for f in found],
                  lambda i: f"#{i}")
    return [f + '"' for f in full]


def _test_labels(tests: list[Any], rows: list[Row], labels: list[str], own: str) -> list[str]:
    """The labels of each VPG's test: its VPG's own (`series_labels`), so that
    the test's series join the VPG's on the same labels."""
    vpgs = [(r, lab) for r, lab in zip(rows, labels, strict=True) if r.kind == "vpg"]
    if len(vpgs) == len(tests) and all(r.vpg_identifier == t.identifier for (r, _), t in zip(vpgs, tests,
                                                                                              strict=True)):
        return [lab for _, lab in vpgs]
    return _objects(tests, lambda f: f'vpg="{label(f.name)}",', own)  # (not one test per VPG row: never expected)


def _site_health(report: Report, own: str, labels: list[str]) -> Iterator[str]:
    """The families of what surrounds the VPGs, when the run judged any of it."""
    from . import health

    if not health.judged_site(report):
        return
    s = report.summary
    parts = health.parts_judged(report)
    findings = list(report.findings)
    vras = [f for f in findings if f.kind == "vra"]
    peers = [f for f in findings if f.kind == "peer"]
    alerts = [f for f in findings if f.kind == "alert"]
    tests = [f for f in findings if f.kind == "test"]
    vra_labels = _objects(vras, lambda f: f'vra="{label(f.name)}",host="{label(f.about or "")}",', own)
    peer_labels = _objects(peers, lambda f: f'peer="{label(f.name)}",', own)
    test_labels = _test_labels(tests, report.rows, labels, own)

    def family(name: str, help_text: str, found: list[Any], labs: list[str],
               value: Callable[[Any], float | None]) -> str:
        return _family(name, help_text) + "".join(
            f"{name}{{{lab}}} {number(v)}\n" for f, lab in zip(found, labs, strict=True)
            if (v := value(f)) is not None)

    if "vras" in parts:
        yield family("zvpg_vra_status", "Status of the VRA as the ZVM gives it (0 Installed, 5 InstallationError, "
                     "...; -1 when missing or not a number).", vras, vra_labels, lambda f: _int_code(f.code))
        yield family("zvpg_vra_severity", "zvpg's severity of the VRA: 0 ok, 1 warning, 2 critical, 3 unknown.",
                     vras, vra_labels, lambda f: f.severity.code)
    if "peers" in parts:
        yield family("zvpg_peer_pairing_status", "PairingStatus of the peer site as the ZVM gives it (0 Paired, "
                     "1 Pairing, 2 Unpaired; -1 when missing or not a number).", peers, peer_labels,
                     lambda f: _int_code(f.code))
        yield family("zvpg_peer_severity", "zvpg's severity of the peer site: 0 ok, 1 warning, 2 critical, "
                     "3 unknown.", peers, peer_labels, lambda f: f.severity.code)
    if "alerts" in parts:
        yield _family("zvpg_alert_info", "An alert that is not dismissed: its HelpIdentifier (code), Level, title, "
                      "zvpg's severity, and whether it counts on its own (counted=\"false\": on the VPGs it "
                      "names) (value always 1).") + "".join(
            f'zvpg_alert_info{{{lab},code="{label(f.name)}",level="{label(f.facts.get("level") or "")}",'
            f'title="{label(f.facts.get("title") or "")}",severity="{f.severity.value}",'
            f'counted="{str(f.counted).lower()}"}} 1\n'
            for f, lab in zip(alerts, _objects(alerts, lambda f: "", own), strict=True))
        several = health.several(report)
        keys: list[str | None] = [site.name for site in s.sites] if several else [None]
        yield _family("zvpg_alerts", "Alerts that are not dismissed, per zvpg severity (also those counted on the "
                      "VPGs they name).") + "".join(
            f'zvpg_alerts{{{own}{_site_labels(key)}severity="{sev.value}"}} '
            f'{sum(1 for f in alerts if f.severity is sev and (f.site == key or not several))}\n'
            for key in keys for sev in COUNTS_ORDER)
    if "tests" in parts:
        yield family("zvpg_vpg_last_test_timestamp_seconds", "When the VPG's last failover test was (LastTest), in "
                     "seconds since the epoch; no sample when it was never tested (zvpg_vpg_never_tested).",
                     tests, test_labels, lambda f: None if f.since is None else round(f.since, 3))
        yield family("zvpg_vpg_last_test_age_seconds", "Seconds since the VPG's last failover test; no sample when "
                     "it was never tested (zvpg_vpg_never_tested).", tests, test_labels,
                     lambda f: f.facts.get("age_seconds"))
        yield family("zvpg_vpg_never_tested", "1 when the VPG's LastTest is null (never tested), else 0.", tests,
                     test_labels, lambda f: int(bool(f.facts.get("never"))))
        yield family("zvpg_vpg_test_running", "1 when a failover test of the VPG is running now, else 0.", tests,
                     test_labels, lambda f: int(bool(f.facts.get("running"))))
        yield family("zvpg_vpg_test_severity", "zvpg's severity of the VPG's last failover test (never tested, "
                     "older than test_max_age, Zerto's own overdue alert): 0 ok, 1 warning, 2 critical, 3 unknown.",
                     tests, test_labels, lambda f: f.severity.code)
    up = dict.fromkeys((site, part, 1) for site, part in s.parts_read)
    up.update(dict.fromkeys((p.site, p.part, 0) for p in s.failed_parts))
    if up:
        yield _family("zvpg_site_part_up", "1 when zvpg could read the part of the site (alerts, vras, peers), 0 "
                      "when not.") + "".join(
            f'zvpg_site_part_up{{{own}{_site_labels(site)}part="{label(part)}"}} {value}\n'
            for site, part, value in up)
    causes = list(report.causes)
    yield family("zvpg_cause_vpgs", "How many VPGs (or VMs) a site-level cause explains (the cause: zvpg's "
                 "wording, linked only where the data links them).", causes,
                 [own + _site_labels(c.site) + f'cause="{label(c.text)}"' for c in causes], lambda c: len(c.rows))

"""Triage results for people and for monitoring systems: a summary, JSON,
Nagios/Icinga plugin output, Checkmk local checks and the Prometheus text
format. VPG names are untrusted text: every format escapes or replaces what
would break it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..sanitize import printable
from ..triage import ORDER, Summary, VpgState, worst_first
from .views import failover_short

NAGIOS_CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
STATE_OF = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
SEVERITY_VALUE = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}


def _rpo(s: VpgState, a: float | None = None, c: float | None = None) -> str:
    """`RPO 620s of 300s`; a VM object has no configured RPO: `RPO 5s`.
    (`a` and `c`: the actual and configured RPO where the caller has them.)"""
    if a is None:
        a = s.actual_rpo
    if c is None:
        c = s.configured_rpo
    if a is None and c is None:
        return "RPO not given"
    if c is None and s.is_vm:
        return f"RPO {a:g}s"
    return f"RPO {'?' if a is None else f'{a:g}s'} of {'?' if c is None else f'{c:g}s'}"


def _failover(s: VpgState) -> str:
    f = s.failover
    return failover_short(f.recovery, f.condition, f.basis)


def one_line(s: VpgState) -> str:
    """A VPG (or VM) in one line of plain text (names escaped, no newlines)."""
    sub = f" / {s.substatus_text}" if s.substatus_text else ""
    return printable(f"{s.label}: {s.status_text}{sub}; failover possible: {_failover(s)}; {_rpo(s)}")


def unique(keys: list[str], alternates: list[str]) -> list[str]:
    """`keys` made unique, stable across input order wherever the input allows:
    a key that several objects share gets each object's alternate (its
    identifier) appended, and only what is still equal then gets ` #2`, ` #3`.
    (`unique_batches` over one batch; the keys themselves when all differ.)"""
    return next(unique_batches(lambda: iter([keys]), lambda: iter([alternates])))


def unique_batches(keys_of: Callable[[], Iterator[list[str]]], alternates_of: Callable[[], Iterator[list[str]]],
                   repeated: set[str] | None = None) -> Iterator[list[str]]:
    """`unique` over keys and alternates that come a batch at a time
    (`keys_of()` and `alternates_of()` give the same batches on every call);
    yields the unique keys, batch by batch, exactly as `unique` would.

    Memory does not grow with copies of the keys: 8 bytes per key (its hash),
    and sets of only the texts whose hashes are equal (duplicates, or very
    rarely a hash collision). A name offered as ` #n` counts as taken when its
    hash equals any candidate's: at worst (never seen in practice) a number is
    skipped; two outputs are never alike. `repeated`: the keys that occur
    more than once, when the caller knows them already (`_Distinct.repeated`)."""
    from array import array
    from bisect import bisect_left

    if repeated is None:
        distinct = _Distinct()
        for keys in keys_of():
            distinct.add(keys)
        repeated = distinct.repeated(lambda: (k for keys in keys_of() for k in keys))
        del distinct
    if not repeated:
        yield from keys_of()
        return

    def candidates() -> Iterator[list[str]]:
        for keys, alternates in zip(keys_of(), alternates_of(), strict=True):
            yield [f"{k} [{alt}]" if k in repeated else k for k, alt in zip(keys, alternates, strict=True)]

    taken = array("q")
    for part in candidates():
        taken.extend(map(hash, part))
    again = _repeated_by_hash(taken, lambda: (c for part in candidates() for c in part))
    if not again:
        yield from candidates()
        return
    taken = array("q", sorted(taken))
    assigned: set[str] = set()

    def used(text: str) -> bool:
        h = hash(text)
        i = bisect_left(taken, h)
        return (i < len(taken) and taken[i] == h) or text in assigned

    met: set[str] = set()
    tried: dict[str, int] = {}
    for part in candidates():
        out = []
        for c in part:
            if c not in again or c not in met:
                if c in again:
                    met.add(c)
                out.append(c)
                continue
            n = tried.get(c, 2)
            while used(f"{c} #{n}"):
                n += 1
            tried[c] = n + 1
            assigned.add(f"{c} #{n}")
            out.append(f"{c} #{n}")
        yield out


def _repeated_by_hash(hashes: Any, texts: Callable[[], Iterator[str]]) -> set[str]:
    """The texts that occur more than once; `hashes` are their hashes, and
    `texts()` gives them, in that order, when two hashes are equal."""
    equal = _equal_hashes(hashes)
    seen: set[str] = set()
    repeated: set[str] = set()
    if equal:
        for h, t in zip(hashes, texts(), strict=True):
            if h in equal:
                if t in seen:
                    repeated.add(t)
                else:
                    seen.add(t)
    return repeated


def _equal_hashes(hashes: Any) -> set[int]:
    """The values that occur more than once in `hashes` (an array of ints),
    found with a bitmap of hash slots and sets of only the slots shared."""
    n = len(hashes)
    bits = 1 << max(16, (64 * n).bit_length())
    mask = bits - 1
    seen = bytearray(bits >> 3)
    collided: set[int] = set()
    for h in hashes:
        slot = h & mask
        bit = 1 << (slot & 7)
        if seen[slot >> 3] & bit:
            collided.add(slot)
        else:
            seen[slot >> 3] |= bit
    del seen
    full: set[int] = set()
    equal: set[int] = set()
    if collided:
        for h in hashes:
            if h & mask in collided:
                if h in full:
                    equal.add(h)
                full.add(h)
    return equal


# ---- JSON ------------------------------------------------------------------

def as_json(states: list[VpgState], summary: Summary) -> dict[str, Any]:
    return {**_summary_json(summary), "vpgs": [_json_row(s) for s in states]}


def _summary_json(summary: Summary) -> dict[str, Any]:
    """Everything of the JSON document but its VPGs: the summary and the sites."""
    return {"summary": {"total": summary.total, **summary.counts, "state": summary.state},
            "sites": [{"name": site.name, "url": site.url, "up": site.error is None, "error": site.error,
                       "objects": site.objects} for site in summary.sites]}


def _json_row(s: VpgState) -> dict[str, Any]:
    vm = s.is_vm
    f = s.failover
    return {
        "site": s.site,
        "index": s.position,
        "kind": "vm" if vm else "vpg",
        "name": s.vm_name if vm else s.vpg_name,
        "identifier": s.vm_identifier if vm else s.vpg_identifier,
        "vpg_name": s.vpg_name,
        "vpg_identifier": s.vpg_identifier,
        "vm_name": s.vm_name if vm else None,
        "vm_identifier": s.vm_identifier if vm else None,
        "severity": s.severity,
        "status": _decoded(s, "status"),
        "substatus": _decoded(s, "substatus"),
        "recovery": s.recovery,
        "recovery_condition": f.condition,
        "failover_possible": f.possible,
        "failover_basis": f.basis,
        "protection_halted": s.protection_halted,
        "actual_rpo": s.actual_rpo,
        "configured_rpo": s.configured_rpo,
        "reasons": list(s.reasons),
    }


def _json_rows(states: list[VpgState]) -> list[dict[str, Any]]:
    """`_json_row` of each state, fast: what a verdict decides is worked out
    once per verdict, and the fields are read straight from the details."""
    from ..triage import _number, _text

    shared: dict[int, tuple[Any, ...]] = {}
    rows = []
    for s in states:
        v = s.verdict
        common = shared.get(id(v))
        if common is None:
            common = shared[id(v)] = (_decoded(s, "status"), _decoded(s, "substatus"), v.recovery,
                                      v.failover.condition, v.failover.possible, v.failover.basis,
                                      v.protection_halted)
        d = s.details
        vm_name, vm_id = d.VmName, d.VmIdentifier
        if vm_name is None:
            vm_name = d.vmName
        if vm_id is None:
            vm_id = d.vmIdentifier
        vpg_name, vpg_id, actual, configured = d.VpgName, d.VpgIdentifier, d.ActualRPO, d.ConfiguredRpoSeconds
        if vpg_name is None:
            vpg_name = d.vpgName
        if vpg_id is None:
            vpg_id = d.vpgIdentifier
        if actual is None:
            actual = d.actualRPO
        if configured is None:
            configured = d.configuredRpoSeconds
        vm = vm_name is not None or vm_id is not None
        vpg_name = vpg_name if type(vpg_name) is str else _text(vpg_name)
        vpg_id = vpg_id if type(vpg_id) is str else _text(vpg_id)
        if vm:
            vm_name, vm_id = _text(vm_name), _text(vm_id)
        reasons = list(v.reasons)
        if s.rpo_reason:
            reasons.append(s.rpo_reason)
        rows.append({
            "site": s.site, "index": s.position, "kind": "vm" if vm else "vpg",
            "name": vm_name if vm else vpg_name, "identifier": vm_id if vm else vpg_id,
            "vpg_name": vpg_name, "vpg_identifier": vpg_id,
            "vm_name": vm_name if vm else None, "vm_identifier": vm_id if vm else None,
            "severity": s.severity, "status": common[0], "substatus": common[1], "recovery": common[2],
            "recovery_condition": common[3], "failover_possible": common[4], "failover_basis": common[5],
            "protection_halted": common[6],
            "actual_rpo": actual if type(actual) is int and -2**53 < actual < 2**53 else _number(actual),
            "configured_rpo": (configured if type(configured) is int and -2**53 < configured < 2**53
                               else _number(configured)),
            "reasons": reasons,
        })
    return rows


def json_chunks(summary: Summary, batches: Iterable[list[VpgState]]) -> Iterator[bytes]:
    """The same JSON as `dumps_large(as_json(...))`, a batch of VPGs at a
    time: memory does not grow with the number of VPGs."""
    import msgspec

    def formatted(value: dict[str, Any]) -> bytes:
        return msgspec.json.format(msgspec.json.encode(value), indent=2)

    head = formatted({**_summary_json(summary), "vpgs": []})
    prefix, _, end = head.rpartition(b"[]")
    first = True
    for states in batches:
        if not states:
            continue
        body = formatted({"vpgs": _json_rows(states)})
        items = body[body.index(b"[\n") + 2:body.rindex(b"\n  ]")]
        yield (prefix + b"[\n" if first else b",\n") + items
        first = False
    yield (prefix + b"[]" if first else b"\n  ]") + end + b"\n"


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
    failed = summary.failed_sites
    if summary.sites:
        perf += f" sites={len(summary.sites)} sites_failed={len(failed)}"
    head = ", ".join(parts)
    if failed:
        names = "; ".join(f"{f.name}: {f.error}" for f in failed)
        head = f"{len(failed)} of {len(summary.sites)} sites unreadable ({names}); {head}"
    lines = [_nagios_text(f"ZVPG {summary.state} - {head}") + f" | {perf}"]
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


def _service_text(name: str) -> str:
    """Letters, digits and a few punctuation marks of an untrusted name kept,
    anything else (quotes, |, control characters, backslashes) replaced by _."""
    return " ".join(_SERVICE_UNSAFE.sub("_", name).split())[:100]


def service_name(s: VpgState) -> str:
    """`Zerto VPG ERP-Prod`, or for a VM object `Zerto VM db01 (VPG ExportStuff)`;
    `Zerto nyc VPG ERP-Prod` when a run reads several sites."""
    zerto = f"Zerto {_service_text(s.site)}" if s.site else "Zerto"
    if s.is_vm:
        vm = _service_text(s.vm_name or s.vm_identifier) or f"#{s.position}"
        vpg = _service_text(s.vpg_name)
        return f"{zerto} VM {vm} (VPG {vpg})" if vpg else f"{zerto} VM {vm}"
    return f"{zerto} VPG {_service_text(s.vpg_name) or f'#{s.position}'}"


def _metric(name: str, value: float | None, warn: str = "", crit: str = "") -> str | None:
    return None if value is None else f"{name}={value:g};{warn};{crit};0;"


def checkmk(states: list[VpgState], summary: Summary | None = None) -> str:
    """One local-check line per VPG: state, quoted service name, metrics,
    summary; and, when ZVMs were read, one per site (UNKNOWN when unreadable)."""
    return "".join(checkmk_chunks(lambda: iter([states]), summary))


def checkmk_chunks(batches: Callable[[], Iterator[list[VpgState]]], summary: Summary | None = None) -> Iterator[str]:
    """`checkmk` a batch at a time: the service names of all VPGs are made
    unique first (one pass, which keeps them as one text per batch and tells
    whether they are all different from their hashes), then the lines are
    written (a second pass)."""
    distinct = _Distinct()
    stored: list[str] = []  # the service names of each batch, one per line (a name holds no newline)
    for states in batches():
        names = [service_name(s) for s in states]
        distinct.add(names)
        stored.append("\n".join(names))

    def names_of() -> Iterator[list[str]]:
        return (part.split("\n") if part else [] for part in stored)

    per_batch = names_of()
    repeated = distinct.repeated(lambda: (n for names in names_of() for n in names))
    if repeated:
        # (the alternates, kept as one text per batch too: unique_batches reads them more than once)
        alternates = ["\n".join([_service_text(s.identifier) or f"#{s.position}" for s in states])
                      for states in batches()]
        per_batch = unique_batches(names_of, lambda: (part.split("\n") if names else []
                                                      for part, names in zip(alternates, names_of(), strict=True)),
                                   repeated)
    del distinct
    verdicts: dict[int, tuple[Any, str, str]] = {}  # id(verdict) -> (verdict, text before the RPO, after it)
    rpos: dict[tuple[int, int], tuple[str, str]] = {}  # (actual, configured) -> (metrics, RPO text)
    for states, services in zip(batches(), per_batch, strict=True):
        lines = [_checkmk_fast(s, service, verdicts, rpos) for s, service in zip(states, services, strict=True)]
        if lines:
            yield "\n".join(lines) + "\n"
    for site in summary.sites if summary else ():
        state, text = (0, f"read: {site.objects} objects") if site.error is None else (3, f"unreadable: {site.error}")
        yield f"{state} \"Zerto site {_service_text(site.name)}\" - {printable(text).replace(chr(92), '/')}\n"


def _checkmk_fast(s: VpgState, service: str, verdicts: dict[int, tuple[Any, str, str]],
                  rpos: dict[tuple[int, int], tuple[str, str]]) -> str:
    """`_checkmk_line`, with the texts of a verdict and of an (int, int) RPO pair made once."""
    d = s.details
    actual, configured = (d.ActualRPO, d.ConfiguredRpoSeconds) if d is not None else (None, None)
    if s.rpo_reason is not None or type(actual) is not int or type(configured) is not int or not (
            -2**53 < actual < 2**53 and -2**53 < configured < 2**53):
        return _checkmk_line(s, service)
    v = s.verdict
    texts = verdicts.get(id(v))
    if texts is None:
        sub = f" / {s.substatus_text}" if s.substatus_text else ""
        texts = verdicts[id(v)] = (v, printable(f"{s.status_text}{sub}; failover possible: {_failover(s)}; ").replace(
            "\\", "/"), "".join(" \\n" + printable(r).replace("\\", "/") for r in v.reasons))
    key = (actual, configured)
    rpo = rpos.get(key)
    if rpo is None:
        rpo = (f"actual_rpo={actual:g};;{configured:g};0;|configured_rpo={configured:g};;;0;",
               _rpo(s, actual, configured))
        if len(rpos) < 100_000:
            rpos[key] = rpo
    return f"{STATE_OF[s.severity]} \"{service}\" {rpo[0]} {texts[1]}{rpo[1]}{texts[2]}"


class _Distinct:
    """Whether texts are all different, told from their hashes in little
    memory: 8 bytes per text and a bitmap of hash slots; texts are compared
    only where two full hashes are equal (a duplicate, or very rarely a hash
    collision), so a payload of a million VPGs needs no set of a million texts."""

    def __init__(self) -> None:
        from array import array

        self.hashes = array("q")

    def add(self, texts: list[str]) -> None:
        self.hashes.extend(map(hash, texts))

    def repeated(self, again: Callable[[], Iterator[str]]) -> set[str]:
        """The texts that occur more than once. `again()` gives the texts once
        more, in order (only called when two hashes are equal)."""
        return _repeated_by_hash(self.hashes, again)

    def all_distinct(self, again: Callable[[], Iterator[str]]) -> bool:
        return not self.repeated(again)

    def maybe_repeated(self) -> bool:
        """Whether two of the hashes are equal (the texts may then be alike)."""
        return bool(_equal_hashes(self.hashes))


def _checkmk_line(s: VpgState, service: str) -> str:
    conf, actual = s.configured_rpo, s.actual_rpo
    metrics = [m for m in (_metric("actual_rpo", actual, "", "" if conf is None else f"{conf:g}"),
                           _metric("configured_rpo", conf)) if m]
    sub = f" / {s.substatus_text}" if s.substatus_text else ""
    # A backslash-n in the summary starts a line of long output: escape any
    # backslash of our own text before adding the separators.
    parts = [f"{s.status_text}{sub}; failover possible: {_failover(s)}; {_rpo(s, actual, conf)}",
             *s.reasons]
    text = " \\n".join(printable(p).replace("\\", "/") for p in parts)
    return f"{STATE_OF[s.severity]} \"{service}\" {'|'.join(metrics) or '-'} {text}"


# ---- Prometheus (node_exporter textfile collector) ---------------------------

def label(value: str) -> str:
    """A Prometheus label value: control and bidi-override characters shown as
    escapes (`sanitize.printable`), then backslash and double quote escaped."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value  # nothing to escape (the common case, checked first)
    return printable(value).replace("\\", "\\\\").replace('"', '\\"')


_GAUGES = (
    ("zvpg_vpg_severity", "Severity of the VPG from its status and substatus: 0 ok, 1 warning, 2 critical, 3 unknown."),
    ("zvpg_vpg_status_code", "ZVM REST API Status code of the VPG, also when unknown to zvpg (-1 when missing or not "
     "a number)."),
    ("zvpg_vpg_substatus_code", "ZVM REST API SubStatus code of the VPG, also when unknown to zvpg (-1 when missing "
     "or not a number)."),
    ("zvpg_vpg_failover_possible", "1 when a failover is possible now (as the documentation says, or expected because "
     "the status says the RPO SLA is met), 0 when not, -1 unknown."),
    ("zvpg_vpg_actual_rpo_seconds", "ActualRPO of the VPG in seconds."),
    ("zvpg_vpg_configured_rpo_seconds", "ConfiguredRpoSeconds of the VPG."),
)


def series_labels(states: list[VpgState]) -> list[str]:
    """The identifying labels of each VPG's series: `vpg` and `id`, plus `vm`
    for a VM object; unique for any input (a repeated identifier gets `#2`...)."""
    return _unique_labels([_label_key(s) for s in states], [s.identifier or f"#{s.position}" for s in states])


def _label_key(s: VpgState) -> str:
    return ((f'site="{label(s.site)}",' if s.site else "") + f'vpg="{label(s.vpg_name)}",'
            + (f'vm="{label(s.vm_name)}",' if s.is_vm else ""))


def _unique_labels(keys: list[str], idents: list[str]) -> list[str]:
    # The id label decides uniqueness: make (labels, id) unique by changing the id alone. Compared as
    # written (escaped): two identifiers that escape alike ("\x1b" and ESC) would otherwise be one series.
    escaped = [label(ident) for ident in idents]
    full = unique([k + ident for k, ident in zip(keys, escaped, strict=True)], [f"#{i}" for i in range(len(keys))])
    return [f'{k}id="{f[len(k):]}"' for k, f in zip(keys, full, strict=True)]


def prometheus(states: list[VpgState], summary: Summary) -> str:
    """Gauges labelled only by VPG (and VM) name and id (stable series); the
    decoded names ride on an info metric, so a change of state does not rename series."""
    return "".join(prometheus_chunks(summary, lambda: iter([states])))


def prometheus_chunks(summary: Summary, batches: Callable[[], Iterator[list[VpgState]]]) -> Iterator[str]:
    """`prometheus` in one pass over the VPGs, a batch at a time: each
    series' labels are kept as one text per batch (one label set per line),
    its verdict, severity and RPOs in compact arrays; whether the labels are
    unique is told from their hashes (`_Distinct`), and only when two are
    alike are they made unique the long way (`unique`). The families are
    then written from what was kept."""
    from array import array

    distinct = _Distinct()
    stored: list[str] = []  # each batch's label sets, one per line (label values hold no newline)
    verdict_at = array("I")  # per series: its index into `verdicts`
    severity_at = array("b")
    actual_at, configured_at = array("d"), array("d")
    verdicts: dict[tuple[int, str], int] = {}  # (id(verdict), severity) -> index
    kept: list[tuple[VpgState, str]] = []  # per index: a state of that verdict and its info line's end
    nan = float("nan")
    for states in batches():
        if not states:
            continue
        fulls, finals = [], []
        for s in states:
            d = s.details
            if (s.site is None and d is not None and type(d.VpgName) is str and type(d.VpgIdentifier) is str
                    and d.VpgIdentifier and d.VmName is None and d.VmIdentifier is None and d.vmName is None
                    and d.vmIdentifier is None):  # a VPG with a name and an identifier (the common case)
                key, ident = f'vpg="{label(d.VpgName)}",', d.VpgIdentifier
            else:
                key, ident = _label_key(s), s.identifier or f"#{s.position}"
            escaped = label(ident)
            fulls.append(key + escaped)  # compared as written (see _unique_labels)
            finals.append(f'{key}id="{escaped}"')
            verdict_key = (id(s.verdict), s.severity)
            index = verdicts.get(verdict_key)
            if index is None:
                index = verdicts[verdict_key] = len(kept)
                status = (s.pair.status.name if s.pair else None) or ""
                sub = (s.pair.substatus.name if s.pair and s.pair.substatus else None) or ""
                kept.append((s, f',status="{label(status)}",substatus="{label(sub)}",severity="{s.severity}"}} 1\n'))
            verdict_at.append(index)
            severity_at.append(SEVERITY_VALUE[s.severity])
            actual, configured = (d.ActualRPO, d.ConfiguredRpoSeconds) if d is not None else (None, None)
            if type(actual) is not int or not -2**53 < actual < 2**53:
                actual = s.actual_rpo
            if type(configured) is not int or not -2**53 < configured < 2**53:
                configured = s.configured_rpo
            actual_at.append(nan if actual is None else actual)
            configured_at.append(nan if configured is None else configured)
        distinct.add(fulls)
        stored.append("\n".join(finals))
        del fulls, finals
    if distinct.maybe_repeated():
        stored = _unique_stored(batches, distinct) or stored
    del distinct
    yield "# HELP zvpg_vpg_info Decoded status and substatus names of the VPG (value always 1).\n" \
          "# TYPE zvpg_vpg_info gauge\n"
    done = 0
    ends = [info for _, info in kept]
    for part in stored:
        labels = part.split("\n")
        yield "".join(map(str.__add__, map("zvpg_vpg_info{".__add__, labels),
                          map(ends.__getitem__, verdict_at[done:done + len(labels)])))
        done += len(labels)
    fixed = [_gauge_values(s)[1:4] for s, _ in kept]
    shown: dict[float, str] = {}  # value -> its text (severities, codes and RPOs repeat a lot)

    def text_of(value: float) -> str:
        text = shown.get(value) if value else None  # (0.0 and -0.0 are one key, but two texts)
        if text is None:
            text = f"}} {value:g}\n"
            if value and len(shown) < 100_000:
                shown[value] = text
        return text

    by_severity = [text_of(float(v)) for v in range(4)]
    for g, (metric, help_text) in enumerate(_GAUGES):
        yield f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n"
        start = metric + "{"
        done = 0
        # (severities are always given, and so are the verdict's codes (-1 when unknown); RPOs may be missing)
        per_verdict = [_or_nan(f[g - 1]) for f in fixed] if 1 <= g <= 3 else []
        verdict_texts = None if any(v != v for v in per_verdict) else [text_of(v) for v in per_verdict]
        rpos = actual_at if g == 4 else configured_at
        for part in stored:
            labels = part.split("\n")
            end = done + len(labels)
            if g == 0:
                texts: Any = map(by_severity.__getitem__, severity_at[done:end])
            elif g <= 3 and verdict_texts is not None:
                texts = map(verdict_texts.__getitem__, verdict_at[done:end])
            else:
                values: Any = [per_verdict[v] for v in verdict_at[done:end]] if g <= 3 else rpos[done:end]
                if any(v != v for v in values):  # a value not given (NaN): no line for it
                    pairs = [(lab, v) for lab, v in zip(labels, values, strict=True) if v == v]
                    labels, values = [lab for lab, _ in pairs], [v for _, v in pairs]
                texts = map(text_of, values)
            done = end
            yield "".join(map(str.__add__, map(start.__add__, labels), texts))
    del stored
    yield "# HELP zvpg_vpgs Number of VPGs per severity.\n# TYPE zvpg_vpgs gauge\n" + "".join(
        f'zvpg_vpgs{{severity="{sev}"}} {summary.counts[sev]}\n' for sev in ORDER)
    if summary.sites:
        yield "# HELP zvpg_site_up 1 when zvpg could read the site's ZVM, 0 when not.\n# TYPE zvpg_site_up gauge\n" \
            + "".join(f'zvpg_site_up{{site="{label(site.name)}"}} {int(site.error is None)}\n'
                      for site in summary.sites)


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _unique_stored(batches: Callable[[], Iterator[list[VpgState]]], distinct: _Distinct) -> list[str] | None:
    """The label sets of every series made unique (as `_unique_labels`), as one
    text per batch; None when they are unique already. `distinct` holds the
    hashes of what must be unique (labels and escaped identifier)."""
    prefixes: list[str] = []  # per batch, each series' labels before `id`, one per line
    fulls: list[str] = []  # per batch, the same with the escaped identifier appended: what must be unique
    sizes: list[int] = []
    for states in batches():
        keys = [_label_key(s) for s in states]
        prefixes.append("\n".join(keys))
        fulls.append("\n".join([k + label(s.identifier or f"#{s.position}")
                                 for k, s in zip(keys, states, strict=True)]))
        sizes.append(len(states))

    def lines(parts: list[str]) -> Iterator[list[str]]:
        return (part.split("\n") if n else [] for part, n in zip(parts, sizes, strict=True))

    repeated = distinct.repeated(lambda: (f for part in lines(fulls) for f in part))
    if not repeated:
        return None

    def alternates_of() -> Iterator[list[str]]:
        done = 0
        for n in sizes:
            yield [f"#{i}" for i in range(done, done + n)]
            done += n

    return ["\n".join(f'{k}id="{f[len(k):]}"' for k, f in zip(keys, full, strict=True))
            for keys, full in zip(lines(prefixes), unique_batches(lambda: lines(fulls), alternates_of, repeated),
                                  strict=True)]


def _code(d: Any) -> int:
    """A code as a gauge value: the number as given (known or not), -1 when
    missing, not an integer, or too large for a float to hold exactly."""
    code = None if d is None else d.code
    return code if isinstance(code, int) and abs(code) < 2**53 else -1


def _gauge_values(s: VpgState) -> tuple[float | None, ...]:
    """The values of every gauge in `_GAUGES`, in that order."""
    pair = s.pair
    return (SEVERITY_VALUE[s.severity], _code(pair.status if pair else None),
            _code(pair.substatus if pair else None),
            _failover_value(s), s.actual_rpo, s.configured_rpo)


def _failover_value(s: VpgState) -> int:
    possible = s.failover.possible
    return -1 if possible is None else int(possible)


# ---- people ------------------------------------------------------------------

def _objects(states: list[VpgState]) -> str:
    """`1 VPG`, `7 VPGs`, `12 VMs` (a /v1/vms payload), `3 objects` (a mix)."""
    return objects_noun(len(states), sum(1 for s in states if s.is_vm))


def objects_noun(total: int, vms: int) -> str:
    if not total:
        return "VPGs"
    noun = "VM" if vms == total else "VPG" if vms == 0 else "object"
    return noun + ("s" if total != 1 else "")


def print_summary(states: list[VpgState], summary: Summary, limit: int | None, noun: str | None = None) -> None:
    """The summary for people. `states`: every object's, or only those that
    are not ok (then `noun` says what the objects are, see `objects_noun`)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from .human import SEVERITY_STYLE, emit

    c = summary.counts
    head = Text.assemble(("Triage: ", "bold"), (f"{summary.total} {noun or _objects(states)}  ", ""),
                         *[(f"{c[k]} {k}  ", SEVERITY_STYLE.get(k, "") if c[k] else "dim") for k in ORDER])
    if summary.sites:
        head.append(f"from {len(summary.sites)} site{'s' if len(summary.sites) != 1 else ''}")
    parts: list[Any] = [head]
    for site in summary.failed_sites:
        parts.append(Text(printable(f"Site {site.name} ({site.url}) could not be read: {site.error}"),
                          style="bold magenta"))
    problems = worst_first(states, limit)
    not_ok = summary.total - c["ok"]
    if problems:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Needs attention, worst first", title_justify="left")
        for header in ("Severity", "Name", "Status / substatus", "Failover now?", "RPO"):
            table.add_column(header, overflow="fold", no_wrap=header == "Severity")
        for s in problems:
            sub = f" / {s.substatus_text}" if s.substatus_text else ""
            table.add_row(Text(s.severity, style=SEVERITY_STYLE.get(s.severity, "magenta")),
                          Text(printable(s.label)),
                          Text(printable(s.status_text + sub)), Text(_failover(s)),
                          Text(_rpo(s).removeprefix("RPO ")))
        parts.append(table)
        if len(problems) < not_ok:
            parts.append(Text(f"... and {not_ok - len(problems)} more (--limit 0 shows all)", style="dim"))
        parts.append(Text('Why, and what to do: zvpg explain "STATUS / SUBSTATUS"', style="dim"))
    else:
        parts.append(Text("Every VPG is ok.", style="green"))
    emit(*parts)

"""One row per API object: the model every triage and annotate format reads.

A row says who the object is (a VPG, or a VM of `GET /v1/vms`, with names,
identifiers and the site it was read from), its numbers (ActualRPO,
ConfiguredRpoSeconds, ProgressPercentage) and its verdict (severity, reasons,
whether a failover is possible). The payload shapes clients produce are
normalised here and nowhere else: PascalCase (live ZVMs), camelCase (the ZVM
10.x swagger) and objects read by plain names (`name`, `identifier`,
`actualRpo`). Numbers are checked here, once.

What a Status/SubStatus pair means is worked out once per distinct pair
(`Verdict`) and shared by every row in that pair; the RPO rules then judge
each row on its own numbers.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..base.units import number
from ..knowledge.decoding import (
    DOCUMENTATION,
    INFERRED,
    NO_ANSWER,
    UNDOCUMENTED,
    ZVPG,
    Failover,
    failover_source,
    rpo_evidence,
    undocumented_floor,
)
from ..knowledge.model import KnowledgeBase, Severity, Status, Substatus
from ..sources.payload import SPELLINGS, Annotation, Payload, annotate_head, pair_key, show

# ---- identity and numbers, in every spelling clients use (payload.SPELLINGS) ------


def text(value: object) -> str:
    """A name or identifier as text ("" when missing; a number as its digits)."""
    if value is None:
        return ""
    return value if type(value) is str else str(value)


def _reader(fields: tuple[str, ...], each: bool = False) -> Any:
    """A function of a payload head (`payload.Payload.heads`) that gives each
    of `fields` (keys of `payload.SPELLINGS`) in the first spelling that is
    not None, as a tuple; with `each`, a function of all the heads that
    yields each head's index, the head and its fields. Written from SPELLINGS, the one list of
    spellings, once at import: the same conditional expressions a person
    would write, so a row costs no more than when they were written by hand."""
    def first(names: tuple[str, ...]) -> str:
        *others, last = names
        expr = f"d.{last}"
        for name in reversed(others):
            expr = f"(v if (v := d.{name}) is not None else {expr})"
        return expr

    values = ", ".join(first(SPELLINGS[f]) for f in fields)
    source = (f"def read(heads):\n    return ((i, d, {values}) for i, d in enumerate(heads))\n" if each
              else f"def read(d):\n    return ({values},)\n")
    scope: dict[str, Any] = {}
    exec(compile(source, f"<spellings of {', '.join(fields)}>", "exec"), scope)
    return scope["read"]


#: what every row reads of its object, and what it reads only where the object
#: has no VPG name or identifier in any spelling (Zerto Analytics' plain names)
_IDENTITY = _reader(("vpg_name", "vpg_identifier", "vm_name", "vm_identifier", "actual_rpo", "configured_rpo",
                     "progress"), each=True)
_PLAIN = _reader(("name", "identifier"))


def checked_number(value: object) -> int | float | None:
    """An RPO or a percentage as a number: JSON numbers, or strings of digits;
    None for anything else (true, an object, NaN, a number no float holds)."""
    if type(value) is int:
        return value if -2**53 < value < 2**53 else _float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return _float(value)


def _float(value: int | float | str) -> float | None:
    try:
        result = float(value)
    except (ValueError, OverflowError):
        return None
    if result != result or result in (float("inf"), float("-inf")):
        return None
    return int(result) if result.is_integer() and abs(result) < 2**53 else result


# ---- the verdict of a Status/SubStatus pair --------------------------------------

class Verdict(NamedTuple):
    """What a Status/SubStatus pair means; shared by every row in that pair."""

    annotation: Annotation
    severity: Severity
    reasons: tuple[str, ...]
    failover: Failover
    status_text: str  # "Not Meeting SLA", "35 (unknown)", "no Status"
    substatus_text: str  # "Delta Syncing", "none", "SubStatus missing", "" (no Status either)
    #: the status says the RPO SLA setting is met (Meeting SLA, History Not Meeting SLA)
    rpo_sla_met: bool
    recovery: str | None
    protection_halted: bool | None

    @property
    def state(self) -> str:
        """`Not Meeting SLA / Delta Syncing`, or the status alone."""
        return f"{self.status_text} / {self.substatus_text}" if self.substatus_text else self.status_text


def unknown_text(value: object) -> str:
    """A code or name the knowledge base does not know, kept as given: `35 (unknown)`."""
    return f"{show(value)} (unknown)"


#: Why an object without a SubStatus key is at least a warning: status-only
#: monitoring is the blind spot zvpg exists to remove.
SUBSTATUS_MISSING = "SubStatus missing: the state cannot be judged"


def judge(kb: KnowledgeBase, head: Any) -> Verdict:
    """The verdict of one Status/SubStatus pair: the one place it is made.

    The severity is the pair's (`decoding.combined_severity`: an unknown status
    with a substatus critical on its own is critical), raised to at least
    warning where the SubStatus key is missing; the failover is what the
    substatus's documentation says (whatever the status), or `INFERABLE`
    where zvpg's rule may infer one from the object's RPO numbers."""
    a = annotate_head(kb, head)
    pair = a.pair
    if pair is None:
        return Verdict(a, Severity.UNKNOWN, a.problems, NO_ANSWER, "no Status", "", False, None, None)
    st, sub = pair.status, pair.substatus
    status_text = st.name or unknown_text(a.status_value)
    sub_text = ("SubStatus missing" if sub is None else "none" if sub.no_substatus
                else sub.name or unknown_text(a.substatus_value))
    status = st.entry if isinstance(st.entry, Status) else None
    entry = sub.entry if sub is not None else None
    reasons = []
    if status is not None and status.severity != "ok":
        reasons.append(f"status {status.name}: {status.severity} ({status.severity_rationale})")
    if isinstance(entry, Substatus) and entry.severity not in (None, "ok"):
        reasons.append(f"substatus {entry.name}: {entry.severity} ({entry.severity_rationale})")
    if status is not None and undocumented_floor(sub) is not None:
        reasons.append(f"substatus {sub_text}: {UNDOCUMENTED}")
    reasons.extend(a.problems)
    severity = Severity.of(pair.severity)
    failover = pair.failover
    if sub is None:  # no SubStatus key at all (`"SubStatus": null` is an unknown value)
        severity = max(severity, Severity.WARNING)
        failover = NO_ANSWER
        reasons.append(SUBSTATUS_MISSING)
    recovery = entry.recovery if isinstance(entry, Substatus) else None
    halted = entry.protection_halted if isinstance(entry, Substatus) else None
    return Verdict(a, severity, tuple(reasons), failover, status_text, sub_text,
                   bool(status is not None and status.rpo_sla_met), recovery, halted)


# ---- RPO thresholds --------------------------------------------------------------

class Threshold(NamedTuple):
    """An RPO threshold: a share of ConfiguredRpoSeconds (`1.5`) or seconds (`15m`)."""

    ratio: float | None = None
    seconds: int | None = None
    given: str = ""  # as the user wrote it

    def limit(self, configured: float | None) -> float | None:
        """The threshold in seconds for an object (None: it does not apply)."""
        if self.seconds is not None:
            return self.seconds
        if not configured or configured <= 0 or self.ratio is None:
            return None
        limit = self.ratio * configured
        return limit if limit < float("inf") else None  # (a ConfiguredRpoSeconds near the float maximum)


#: The largest ratio --rpo-warning/--rpo-critical take (zvpg's own bound: a
#: threshold at a thousand times the configured RPO already never alerts).
MAX_RATIO = 1000


def parse_threshold(spec: str) -> Threshold:
    """`1.5` (a ratio of ConfiguredRpoSeconds, above 0, at most MAX_RATIO) or a
    duration (`900s`, `15m`, `2h`). Raises ValueError with a message to show."""
    from ..base.units import parse_duration

    given = spec.strip()
    if given and given.replace(".", "", 1).isdigit() and given.isascii():
        ratio = float(given)
        if not 0 < ratio <= MAX_RATIO:
            shown = repr(spec) if len(spec) <= 20 else f"a ratio of {len(given)} characters"
            raise ValueError(f"{shown}: a ratio must be above 0 and at most {MAX_RATIO}")
        return Threshold(ratio=ratio, given=given)
    try:
        return Threshold(seconds=parse_duration(given), given=given)
    except ValueError as exc:
        if str(exc).endswith("longer than ten years"):
            raise
        try:
            number = float(given)
        except ValueError:
            number = 0.0
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(f"{spec!r} is not a finite number") from None
        raise ValueError(f"{spec!r} is neither a ratio of ConfiguredRpoSeconds (1.5) nor a duration "
                         "(900s, 15m, 2h)") from None


def parse_thresholds(warning: str | None, critical: str | None) -> Thresholds:
    """--rpo-warning and --rpo-critical, each as `parse_threshold` reads it;
    a warning above the critical one (both ratios, or both durations) is
    refused. (A ratio and a duration are not compared: which is higher
    depends on each VPG's ConfiguredRpoSeconds.) Raises ValueError."""
    read = []
    for flag, spec in (("--rpo-warning", warning), ("--rpo-critical", critical)):
        try:
            read.append(None if spec is None else parse_threshold(spec))
        except ValueError as exc:
            raise ValueError(f"{flag}: {exc}") from None
    w, c = read
    if w is not None and c is not None and any(
            a is not None and b is not None and a > b for a, b in ((w.ratio, c.ratio), (w.seconds, c.seconds))):
        raise ValueError(f"--rpo-warning {w.given} is above --rpo-critical {c.given}: a warning must not need "
                         "more than a critical")
    return Thresholds(w, c)


class Thresholds(NamedTuple):
    warning: Threshold | None = None
    critical: Threshold | None = None


NO_THRESHOLDS = Thresholds()


# ---- rows ------------------------------------------------------------------------

class Row(NamedTuple):
    """One API object, as every format shows it."""

    position: int  # its place in the payload it came from
    site: str | None  # the site (ZVM) it was read from, when a run reads several
    kind: str  # "vpg", or "vm" for a GET /v1/vms object
    name: str  # its own name: the VM's for a VM, else the VPG's
    identifier: str  # its own identifier
    vpg_name: str
    vpg_identifier: str
    vm_name: str | None
    vm_identifier: str | None
    actual_rpo: int | float | None
    configured_rpo: int | float | None
    progress: int | float | None
    verdict: Verdict
    severity: Severity
    reasons: tuple[str, ...]
    failover: Failover
    #: the RPO thresholds it was judged by (--rpo-warning/--rpo-critical): see `rpo_limits`
    thresholds: Thresholds = NO_THRESHOLDS
    #: how long it has been in its state (zvpg_cli.triage.timing.Timed), with --state
    timed: Any = None

    @property
    def label(self) -> str:
        """How people see it: `ERP-Prod`, `VM db01 (VPG ExportStuff)`, with
        its site in front when a run reads several: `[nyc] ERP-Prod`."""
        site = f"[{self.site}] " if self.site else ""
        return site + self.own_label

    @property
    def own_label(self) -> str:
        """`label` without the site."""
        if self.kind == "vpg":
            return self.name or self.identifier or f"object {self.position}"
        vm = self.name or self.identifier or f"object {self.position}"
        return f"VM {vm} (VPG {self.vpg_name})" if self.vpg_name else f"VM {vm}"

    @property
    def state(self) -> str:
        return self.verdict.state

    @property
    def basis(self) -> dict[str, str | None]:
        """Whose answer each judged field of the row is: "documentation" (the
        Zerto documentation's words), "zvpg" (zvpg's judgement: severity and
        its reasons, an inferred failover, grace), None (no answer)."""
        v, t = self.verdict, self.timed
        return {"severity": ZVPG, "reasons": ZVPG, "failover_possible": failover_source(self.failover),
                "recovery": None if v.recovery is None else DOCUMENTATION,
                "recovery_condition": None if self.failover.condition is None else DOCUMENTATION,
                "protection_halted": None if v.protection_halted is None else DOCUMENTATION,
                "grace_until": ZVPG if t is not None and t.grace_until is not None else None}

    @property
    def rpo_limits(self) -> tuple[float | None, float | None]:
        """The RPO (seconds) above which this row is a warning, and critical, as
        it was judged and as performance data shows them: --rpo-warning (or,
        where the status claims the RPO SLA is met, ConfiguredRpoSeconds) and
        --rpo-critical."""
        c, t = self.configured_rpo, self.thresholds
        warn = t.warning.limit(c) if t.warning else (c if c and c > 0 and self.verdict.rpo_sla_met else None)
        crit = t.critical.limit(c) if t.critical else None
        return (None if warn is None else round(warn, 3)), (None if crit is None else round(crit, 3))

    @property
    def rpo_text(self) -> str:
        """`RPO 620s of 300s`; a VM has no configured RPO: `RPO 5s`."""
        a, c = self.actual_rpo, self.configured_rpo
        if a is None and c is None:
            return "RPO not given"
        if c is None and self.kind == "vm":
            return f"RPO {number(a)}s"  # type: ignore[arg-type]
        return f"RPO {'?' if a is None else number(a) + 's'} of {'?' if c is None else number(c) + 's'}"


def rows(kb: KnowledgeBase, payload: Payload, site: str | None = None,
         thresholds: Thresholds = NO_THRESHOLDS) -> list[Row]:
    """A row for every object of `payload`, in order."""
    verdicts: dict[Any, Verdict] = {}
    raised: dict[tuple[int, Any, Any], tuple[Severity, tuple[str, ...]]] = {}
    fast = not payload.raw_codes  # codes are ints and strings: they key the cache as they are
    any_threshold = thresholds.warning is not None or thresholds.critical is not None
    out: list[Row] = []
    add = out.append
    make = tuple.__new__  # Row(...) without the generated __new__'s argument handling
    read, plain = _IDENTITY, _PLAIN
    # every spelling, first found wins (payload.SPELLINGS)
    for index, d, vpg_name, vpg_id, vm_name, vm_id, actual, configured, progress in read(payload.heads):
        key = (d.Status, d.SubStatus) if fast else pair_key(d)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = judge(kb, d)
        if type(vpg_name) is not str:
            vpg_name = text(vpg_name if vpg_name is not None or vm_name is not None or vm_id is not None
                            else plain(d)[0])
        if type(vpg_id) is not str:
            vpg_id = text(vpg_id if vpg_id is not None or vm_name is not None or vm_id is not None else plain(d)[1])
        if vm_name is None and vm_id is None:
            kind, name, ident = "vpg", vpg_name, vpg_id
        else:
            kind, vm_name, vm_id = "vm", text(vm_name), text(vm_id)
            name, ident = vm_name, vm_id
        if type(actual) is not int or not -2**53 < actual < 2**53:
            actual = checked_number(actual)
        if type(configured) is not int or not -2**53 < configured < 2**53:
            configured = checked_number(configured)
        if progress is not None:
            progress = checked_number(progress)
        severity, reasons, failover = verdict.severity, verdict.reasons, verdict.failover
        if failover.inferable:  # zvpg's inference, only on evidence (decoding.Failover)
            failover = INFERRED if rpo_evidence(actual, configured) else NO_ANSWER
        if actual is not None and (any_threshold or (verdict.rpo_sla_met and configured and actual > configured)):
            memo = (id(verdict), actual, configured)
            found = raised.get(memo)
            if found is None:
                found = _rpo_rules(verdict, actual, configured, thresholds)
                if len(raised) < 100_000:
                    raised[memo] = found
            severity, reasons = found
        add(make(Row, (index, site, kind, name, ident, vpg_name, vpg_id, vm_name, vm_id, actual, configured,
                       progress, verdict, severity, reasons, failover, thresholds, None)))
    return out


def _rpo_rules(verdict: Verdict, actual: float, configured: float | None,
               thresholds: Thresholds) -> tuple[Severity, tuple[str, ...]]:
    """The verdict, raised by what the RPO says: ActualRPO over
    ConfiguredRpoSeconds while the status claims the RPO SLA is met is a
    warning; over --rpo-warning a warning, over --rpo-critical critical.
    (No failover is inferred then either: `decoding.rpo_evidence`.)"""
    severity, reasons = verdict.severity, list(verdict.reasons)
    if verdict.rpo_sla_met and configured is not None and configured > 0 and actual > configured:
        severity = max(severity, Severity.WARNING)
        reasons.append(f"ActualRPO {number(actual)}s is over the configured {number(configured)}s "
                       "although the status says the RPO SLA is met")
    for level, threshold in ((Severity.CRITICAL, thresholds.critical), (Severity.WARNING, thresholds.warning)):
        limit = threshold.limit(configured) if threshold is not None else None
        if limit is not None and actual > limit:
            severity = max(severity, level)
            reasons.append(f"ActualRPO {number(actual)}s is over the {level.value} threshold "
                           f"{number(round(limit, 3))}s ({threshold_text(threshold, configured)})")  # type: ignore[arg-type]
            break
    if severity is verdict.severity and len(reasons) == len(verdict.reasons):
        return verdict.severity, verdict.reasons
    return severity, tuple(reasons)


def threshold_text(t: Threshold, configured: float | None) -> str:
    if t.ratio is not None:
        return f"{number(t.ratio)} x the configured {number(configured)}s"  # type: ignore[arg-type]
    return f"{t.given}"

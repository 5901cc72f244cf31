"""Triage: judge every VPG (or VM) that was read, and the run as a whole.

`report(kb, reads, options)` is the whole of it: the rows of every source
that could be read (`zvpg_cli.triage.rows`), filtered by name, judged by their RPOs
(and, with a state file, by how long they have been in their state), and a
summary whose state is the worst of the rows, of the sites that could not be
read, and of having nothing to judge. Renderers (`zvpg_cli.output`) only
show a `Report`.

Rules (docs/explain.md, "Severity", and docs/monitoring.md):
- a row's severity comes from its Status/SubStatus pair (`rows.judge`), raised
  by its RPO (`rows._rpo_rules`);
- the run's state is the worst row's, UNKNOWN if any site could not be read
  (when no row is worse), and UNKNOWN when nothing was left to judge (an empty
  payload, filters that match nothing) or when any site answered nothing
  (named, never blamed on the filters), unless `allow_empty`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..knowledge.model import KnowledgeBase, Severity
from .rows import NO_THRESHOLDS, Row, Thresholds, rows, rpo_limits

if TYPE_CHECKING:
    from ..sources.read import Read


class Options(NamedTuple):
    #: shell-style patterns, matched case-insensitively against the VPG name (and the VM name)
    vpg: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_empty: bool = False
    thresholds: Thresholds = NO_THRESHOLDS
    #: a state file (zvpg_cli.triage.state) and a policy file (zvpg_cli.triage.policy)
    state: str | None = None
    policy: str | None = None
    #: the time of the run (epoch seconds; None: now)
    now: float | None = None


class SiteOutcome(NamedTuple):
    """How reading one site went: `error` is one line, None when it was read."""

    name: str
    url: str
    error: str | None
    objects: int = 0


class Summary(NamedTuple):
    total: int
    counts: dict[Severity, int]
    state: Severity
    #: the sites read, when the payloads came from ZVMs (none for a file)
    sites: tuple[SiteOutcome, ...] = ()
    #: why the run is UNKNOWN although no row is: nothing to judge, or no site read
    problem: str | None = None
    #: "VPG", "VM" or "object": what the rows are
    noun: str = "VPG"

    @property
    def failed_sites(self) -> tuple[SiteOutcome, ...]:
        return tuple(s for s in self.sites if s.error is not None)

    def objects(self, n: int | None = None) -> str:
        """`1 VPG`, `7 VPGs`, `12 VMs`, `3 objects`."""
        n = self.total if n is None else n
        return f"{n} {self.noun}{'s' if n != 1 else ''}"


class Report(NamedTuple):
    summary: Summary
    rows: list[Row]  # in input order (site by site)
    options: Options
    #: when the run finished (epoch seconds)
    finished: float
    #: why the state file could not be used (the verdicts are then stateless)
    state_error: str | None = None
    #: what to say once about the run, one line each: the state file was
    #: emptied or is gone, times later than now, a key given twice; objects a
    #: policy lowered
    notes: tuple[str, ...] = ()

    def worst_first(self, limit: int | None = None) -> list[Row]:
        """The rows that are not ok, worst first: within a severity the largest
        RPO overrun first, then input order."""
        problems = [r for r in self.rows if r.severity is not Severity.OK]
        problems.sort(key=_badness)
        return problems if limit is None else problems[:limit]


def state_key(row: Row, site: str | None = None) -> str:
    """Who a row is across runs: the site it was read from (its name, whether
    the run read one site or several; `site` when the row does not carry it),
    its kind, for a VM its VPG's identifier, and its identifier (or name,
    without one). The same VPG read from its protected and its recovery site
    is two objects, and so is a VM protected in two VPGs."""
    parts = [row.site or site or "", row.kind]
    if row.kind == "vm":
        parts.append(row.vpg_identifier or row.vpg_name)
    parts.append(row.identifier or row.name)
    return "\x1f".join(parts)


def _rpo_floor(row: Row, thresholds: Thresholds) -> Severity:
    """What neither a policy nor grace may lower a row below: its RPO threshold
    breach (--rpo-warning/--rpo-critical, and ActualRPO over ConfiguredRpoSeconds
    where the status says the SLA is met)."""
    if row.actual_rpo is None:
        return Severity.OK
    warn, crit = rpo_limits(row, thresholds)
    return (Severity.CRITICAL if crit is not None and row.actual_rpo > crit
            else Severity.WARNING if warn is not None and row.actual_rpo > warn else Severity.OK)


def _pair_facts(verdict: Any) -> tuple[str | None, str | None, bool, bool, bool, bool]:
    """What the policy and grace need of a Status/SubStatus pair: its names;
    whether a status-wide grace may apply (the substatus is none, or a sync
    not critical on its own); whether the documentation says recovery is not
    possible; whether the substatus is critical on its own; whether a code is
    unknown to the documentation (a policy never lowers it below a warning)."""
    from ..knowledge.decoding import undocumented_floor
    from ..knowledge.model import Substatus

    pair = verdict.annotation.pair
    sub = pair.substatus if pair else None
    entry = sub.entry if sub is not None else None
    own = entry.severity if isinstance(entry, Substatus) else None
    quiet = sub is not None and (sub.no_substatus or ("sync" in (sub.name or "").casefold() and own != "critical"))
    unknown = pair is None or not pair.status.known or undocumented_floor(sub) is not None
    return (pair.status.name if pair else None, sub.name if sub else None, quiet,
            verdict.recovery == "not-possible", own == "critical", unknown)


def _with_time(kb: KnowledgeBase, found: list[Row], options: Options, now: float,
               read_site: dict[int, str] | None = None) -> tuple[list[Row], str | None, tuple[str, ...]]:
    """The rows judged by the policy (severity overrides; with a state file,
    grace, escalation, stuck syncs and flapping), why the state file could
    not be used (None when it could), and what to say once about it.
    Raises `policy.PolicyError`."""
    from .policy import load_policy
    from .timing import judge

    policy = load_policy(kb, options.policy)
    by_name = any(rule.vpg is not None or rule.site is not None for rule in policy.rules)
    sites = read_site or {}
    timings: dict[Any, Any] = {}
    judged = []
    lowered_by: list[str] = []  # "ERP: severity ok instead of warning (p.toml rule 1)"
    facts: dict[int, Any] = {}
    for r in found:
        site = r.site or sites.get(id(r))
        fact = facts.get(id(r.verdict))
        if fact is None:
            fact = facts[id(r.verdict)] = _pair_facts(r.verdict)
        status_name, sub_name, quiet, unrecoverable, own_critical, unknown = fact
        key = (id(r.verdict), r.vpg_name, site) if by_name else id(r.verdict)
        timing = timings.get(key)
        if timing is None:
            timing = timings[key] = policy.timing(status_name, sub_name, r.vpg_name, site,
                                                  status_wide_grace=quiet, unrecoverable=unrecoverable)
        # (needed only where a policy sets a severity, or a grace could lower it)
        rpo_floor = _rpo_floor(r, options.thresholds) if timing.severity is not None or timing.grace else Severity.OK
        floor = max(rpo_floor, Severity.WARNING) if unknown else rpo_floor
        severity, reasons = r.severity, r.reasons
        if timing.severity is not None and timing.severity is not severity:
            lowered = max(timing.severity, floor) if timing.severity < severity else timing.severity
            if lowered is not severity:
                why = f"severity {lowered.value} instead of {severity.value} ({timing.severity_from})"
                reasons = (*reasons, f"policy: {why}")
                if lowered < severity:
                    lowered_by.append(f"{r.label}: {why}")
                severity = lowered
            else:
                reasons = (*reasons, f"policy: severity {timing.severity.value} not applied "
                                     f"({timing.severity_from}): a policy never lowers an RPO threshold breach "
                                     "nor a code the documentation does not know")
        demotable = timing.severity is None and not own_critical
        judged.append((r, site, state_key(r, site) if options.state else "", timing, severity, reasons, rpo_floor,
                       demotable))
    memories: Any = {}
    state_error = None
    notes: tuple[str, ...] = ()
    if options.state:
        from .state import Observed, StateError, remember

        try:
            memories = remember(options.state, [
                Observed(skey, site, r.kind, r.name, r.vpg_name, r.state, r.progress, severity.rank)
                for r, site, skey, _, severity, *_ in judged], now, policy.flap_window)
            notes = memories.notes
        except StateError as exc:
            state_error = str(exc)
        except Exception as exc:  # the state layer never turns a verdict into an internal error
            from ..base.sanitize import printable

            state_error = printable(f"cannot use state file {options.state}: {type(exc).__name__}: {exc}")[:300]
    if lowered_by:
        from ..base.sanitize import printable

        n = len(lowered_by)
        notes = (*notes, printable(f"the policy lowered {n} object{'s' if n != 1 else ''} (first: {lowered_by[0]})"))
    timed_too = options.state is not None and state_error is None
    out = []
    for r, _, skey, timing, severity, reasons, rpo_floor, demotable in judged:
        memory = memories.get(skey) if timed_too else None
        timed = judge(severity, r.state, timing, memory, now, policy, floor=rpo_floor, demotable=demotable)
        out.append(r._replace(severity=timed.severity, reasons=reasons + timed.reasons,
                              timed=timed if timed_too else None))
    return out, state_error, notes


def _badness(r: Row) -> tuple[int, float]:
    a, c = r.actual_rpo, r.configured_rpo
    over = a / c if a is not None and c else 0.0
    return -r.severity.rank, -over


def matches(row: Row, patterns: Sequence[str]) -> bool:
    """Whether a pattern matches the row's VPG name (or, for a VM, its name),
    as shell-style globs, case-insensitively."""
    from ..base.globs import glob_match

    names = [row.vpg_name] + ([row.name] if row.kind == "vm" else [])
    return any(glob_match(n, p) for p in patterns for n in names)


def keep(found: list[Row], vpg: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Row]:
    """The rows a VPG pattern matches (all without patterns), less those an exclusion matches."""
    if vpg:
        found = [r for r in found if matches(r, vpg)]
    if exclude:
        found = [r for r in found if not matches(r, exclude)]
    return found


def select(kb: KnowledgeBase, payload: Any, vpg: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Row]:
    """The rows of one payload that the patterns keep (what annotate writes)."""
    return keep(rows(kb, payload), vpg, exclude)


def nothing_matches(vpg: Sequence[str], exclude: Sequence[str]) -> str:
    """`no VPG matches --vpg 'ERP Prod'`, or that the input holds none."""
    if not vpg and not exclude:
        return "nothing to check: the input holds no VPGs"
    given = [f"--vpg {p!r}" for p in vpg] + [f"--exclude {p!r}" for p in exclude]
    return f"no VPG matches {' '.join(given)}"


def empty_sites(names: Sequence[str]) -> str:
    """`site lon answered no VPGs`, `sites lon, par answered no VPGs` (nor VMs: --vms)."""
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"site{'s' if len(names) != 1 else ''} {shown} answered no VPGs"


def report(kb: KnowledgeBase, reads: Sequence[Read], options: Options = Options()) -> Report:
    """Judge everything that was read (see the module's docstring)."""
    several = len(reads) > 1
    all_rows: list[Row] = []
    outcomes = []
    read_site: dict[int, str] = {}  # the site of rows that do not show it (one site read): for state keys
    for r in reads:
        found = [] if r.payload is None else rows(kb, r.payload, r.site if several else None, options.thresholds)
        if r.site is not None:
            outcomes.append(SiteOutcome(r.site, r.url or "", r.error, len(found)))
            if not several and options.state:
                read_site.update((id(row), r.site) for row in found)
        all_rows += found
    read_any = any(r.payload is not None for r in reads)
    found_any = bool(all_rows)
    all_rows = keep(all_rows, options.vpg, options.exclude)
    now = time.time() if options.now is None else options.now
    state_error, notes = None, tuple[str, ...]()
    if options.state or options.policy:
        all_rows, state_error, notes = _with_time(kb, all_rows, options, now, read_site)
    counts = dict.fromkeys(Severity, 0)
    for row in all_rows:
        counts[row.severity] += 1
    worst = max((s for s in Severity if counts[s]), default=Severity.OK)
    problem = None
    empty = [o.name for o in outcomes if o.error is None and o.objects == 0]
    if not read_any:
        problem = "no site could be read" if outcomes else "nothing could be read"
    elif options.allow_empty:
        pass
    elif empty:
        # an empty answer is a ZVM's trouble (or a user who sees nothing), never the filters'
        problem = empty_sites(empty) + " (--allow-empty: that is fine)"
    elif not all_rows:
        problem = (nothing_matches(options.vpg, options.exclude) if found_any
                   else nothing_matches((), ())) + " (--allow-empty: that is fine)"
    failed = any(o.error is not None for o in outcomes)
    if problem is not None or failed:
        worst = max(worst, Severity.UNKNOWN)
    vms = sum(1 for r in all_rows if r.kind == "vm")
    noun = "VPG" if not vms else "VM" if vms == len(all_rows) else "object"
    summary = Summary(len(all_rows), counts, worst, tuple(outcomes), problem, noun)
    return Report(summary, all_rows, options, now, state_error, notes)

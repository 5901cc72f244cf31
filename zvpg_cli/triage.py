"""Triage: judge every VPG (or VM) that was read, and the run as a whole.

`report(kb, reads, options)` is the whole of it: the rows of every source
that could be read (`zvpg_cli.rows`), filtered by name, judged by their RPOs
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
from typing import Any, NamedTuple

from .model import KnowledgeBase, Severity
from .rows import NO_THRESHOLDS, Row, Thresholds, rows


class Read(NamedTuple):
    """One source as it was read: a file or stdin (`site` None), or a ZVM."""

    payload: Any  # zvpg_cli.payload.Payload, or None where it could not be read
    site: str | None = None
    url: str | None = None
    error: str | None = None  # one line, when it could not be read


class Options(NamedTuple):
    #: shell-style patterns, matched case-insensitively against the VPG name (and the VM name)
    vpg: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    allow_empty: bool = False
    thresholds: Thresholds = NO_THRESHOLDS
    #: a state file (zvpg_cli.state) and a policy file (zvpg_cli.policy)
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

    def worst_first(self, limit: int | None = None) -> list[Row]:
        """The rows that are not ok, worst first: within a severity the largest
        RPO overrun first, then input order."""
        problems = [r for r in self.rows if r.severity is not Severity.OK]
        problems.sort(key=_badness)
        return problems if limit is None else problems[:limit]


def state_key(row: Row) -> str:
    """Who a row is across runs: its site, kind and identifier (or name, without one)."""
    return "\x1f".join((row.site or "", row.kind, row.identifier or row.name))


def _with_time(kb: KnowledgeBase, found: list[Row], options: Options, now: float) -> tuple[list[Row], str | None]:
    """The rows judged by the policy (severity overrides; with a state file,
    grace, escalation, stuck syncs and flapping), and why the state file could
    not be used (None when it could). Raises `policy.PolicyError`."""
    from .policy import load_policy
    from .timing import judge

    policy = load_policy(kb, options.policy)
    by_name = any(rule.vpg is not None or rule.site is not None for rule in policy.rules)
    timings: dict[Any, Any] = {}
    memories: dict[str, Any] = {}
    state_error = None
    if options.state:
        from .state import Observed, StateError, remember

        try:
            memories = remember(options.state, [Observed(state_key(r), r.site, r.kind, r.name, r.vpg_name, r.state,
                                                         r.progress) for r in found], now, policy.flap_window)
        except StateError as exc:
            state_error = str(exc)
    timed_too = options.state is not None and state_error is None
    out = []
    for r in found:
        key = (id(r.verdict), r.vpg_name, r.site) if by_name else id(r.verdict)
        timing = timings.get(key)
        if timing is None:
            pair = r.verdict.annotation.pair
            timing = timings[key] = policy.timing(pair.status.name if pair else None,
                                                  pair.substatus.name if pair and pair.substatus else None,
                                                  r.vpg_name, r.site)
        severity, reasons = r.severity, r.reasons
        if timing.severity is not None and timing.severity is not severity:
            severity, reasons = timing.severity, (*reasons, f"severity {timing.severity.value}, as the policy says")
        timed = judge(severity, r.state, timing, memories.get(state_key(r)) if timed_too else None, now, policy)
        out.append(r._replace(severity=timed.severity, reasons=reasons + timed.reasons,
                              timed=timed if timed_too else None))
    return out, state_error


def _badness(r: Row) -> tuple[int, float]:
    a, c = r.actual_rpo, r.configured_rpo
    over = a / c if a is not None and c else 0.0
    return -r.severity.rank, -over


def matches(row: Row, patterns: Sequence[str]) -> bool:
    """Whether a pattern matches the row's VPG name (or, for a VM, its name),
    as shell-style globs, case-insensitively."""
    from fnmatch import fnmatchcase

    names = [row.vpg_name.casefold()] + ([row.name.casefold()] if row.kind == "vm" else [])
    return any(fnmatchcase(n, p.casefold()) for p in patterns for n in names)


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
    for r in reads:
        found = [] if r.payload is None else rows(kb, r.payload, r.site if several else None, options.thresholds)
        if r.site is not None:
            outcomes.append(SiteOutcome(r.site, r.url or "", r.error, len(found)))
        all_rows += found
    read_any = any(r.payload is not None for r in reads)
    found_any = bool(all_rows)
    all_rows = keep(all_rows, options.vpg, options.exclude)
    now = time.time() if options.now is None else options.now
    state_error = None
    if options.state or options.policy:
        all_rows, state_error = _with_time(kb, all_rows, options, now)
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
    return Report(summary, all_rows, options, now, state_error)

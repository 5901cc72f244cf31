"""Triage: judge every VPG (or VM) that was read, and the run as a whole.

The judge is pure: `judge(kb, reads, options, policy)` gives every row of
the sources that could be read (`zvpg_cli.triage.rows`), filtered by name,
judged by its pair, its RPO and the policy; `report(judged, memories)` adds
how long each has been in its state and sums the run up. Loading the policy
(`policy.load_policy`) and remembering states (`state.remember`) are the
caller's calls; `run(kb, reads, options)` makes them, in that order, for the
command line and for Python users. Renderers (`zvpg_cli.output`) only show a
`Report`: each row carries the thresholds it was judged by.

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
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..knowledge.model import KnowledgeBase, Severity
from ..sources.read import PartOutcome, SiteOutcome
from .rows import NO_THRESHOLDS, Row, Thresholds, rows

if TYPE_CHECKING:
    from ..sources.read import Read
    from .policy import Policy
    from .state import Observed, Recall
    from .timing import Pending


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
    #: parts of the site left out (--skip): "alerts", "vras", "peers", "tests"
    skip: tuple[str, ...] = ()


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
    #: nothing to check (a site that answered nothing) is fine (--allow-empty)
    allow_empty: bool = False
    #: the parts of sites (alerts, vras, peers) that could not be read
    failed_parts: tuple[PartOutcome, ...] = ()
    #: the findings (site.Finding) per severity, those counted on their own
    finding_counts: Mapping[Severity, int] = MappingProxyType({})
    #: the parts of sites (alerts, vras, peers) that were read, as (site, part):
    #: a part read and empty is known from one skipped or not given
    parts_read: tuple[tuple[str | None, str], ...] = ()

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
    #: when the run finished (epoch seconds)
    finished: float
    #: why the state file could not be used (the verdicts are then stateless)
    state_error: str | None = None
    #: what to say once about the run, one line each: the state file was
    #: emptied or is gone, times later than now, a key given twice; objects a
    #: policy lowered
    notes: tuple[str, ...] = ()
    #: a state file was asked for: rows say how long they have been in their state
    stateful: bool = False
    #: alerts, VRAs, peer sites and failover tests (`site.Finding`), in input order
    findings: tuple[Any, ...] = ()
    #: site-level causes that explain several VPG rows (`site.Cause`), worst first
    causes: tuple[Any, ...] = ()

    def findings_worst_first(self) -> list[Any]:
        """The findings that count on their own and are not ok, worst first."""
        found = [f for f in self.findings if f.counted and f.severity is not Severity.OK]
        found.sort(key=lambda f: -f.severity.rank)
        return found

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


def _rpo_floor(row: Row) -> Severity:
    """What neither a policy nor grace may lower a row below: its RPO threshold
    breach (--rpo-warning/--rpo-critical, and ActualRPO over ConfiguredRpoSeconds
    where the status says the SLA is met)."""
    if row.actual_rpo is None:
        return Severity.OK
    warn, crit = row.rpo_limits
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


def _with_policy(found: list[Row], policy: Policy, options: Options, read_site: dict[int, str],
                 lowered_by: list[str]) -> tuple[list[Row], list[Pending]]:
    """The rows judged by the policy's severity overrides, and what the timing
    rules need of each; the objects the policy lowered added to `lowered_by`
    ("ERP: severity ok instead of warning (p.toml rule 1)")."""
    from .timing import Pending, override

    by_name = any(rule.vpg is not None or rule.site is not None for rule in policy.rules)
    timings: dict[Any, Any] = {}
    judged, pending = [], []
    facts: dict[int, Any] = {}
    for r in found:
        site = r.site or read_site.get(id(r))
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
        rpo_floor = _rpo_floor(r) if timing.severity is not None or timing.grace else Severity.OK
        floor = max(rpo_floor, Severity.WARNING) if unknown else rpo_floor
        severity, reasons = override(r.severity, r.reasons, timing, floor, r, lowered_by)
        demotable = timing.severity is None and not own_critical
        judged.append(r._replace(severity=severity, reasons=reasons))
        pending.append(Pending(site, state_key(r, site) if options.state else "", timing, rpo_floor, demotable))
    return judged, pending


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


class Judged(NamedTuple):
    """Every row judged by its pair, its RPO and the policy, before time
    (`report` adds it): what the state file is told (`observed`)."""

    rows: list[Row]
    sites: tuple[SiteOutcome, ...]
    read_any: bool
    found_any: bool
    options: Options
    now: float
    policy: Policy | None = None
    pending: tuple[Pending, ...] = ()
    notes: tuple[str, ...] = ()
    #: each row's payload head (what site health reads of it), aligned with `rows`
    heads: tuple[Any, ...] = ()
    #: site health before time (`site.SiteHealth`; None: nothing to judge of it),
    #: its findings judged by the policy
    site: Any = None
    failed_parts: tuple[PartOutcome, ...] = ()
    #: what the timing rules need of each finding, and its state for the state
    #: file, aligned with `site.findings` (empty without a policy)
    finding_pending: tuple[Pending, ...] = ()
    finding_states: tuple[str, ...] = ()
    #: key prefixes of the findings read whole in this run (the alerts of a
    #: site): one remembered there and missing now has cleared (`state.remember`)
    complete: tuple[str, ...] = ()
    #: the parts of sites (alerts, vras, peers) read, as (site, part)
    parts_read: tuple[tuple[str | None, str], ...] = ()

    def observed(self) -> list[Observed]:
        """What `state.remember` is to record of this run, a row or finding each."""
        from .state import Observed

        out = [Observed(p.key, p.site, r.kind, r.name, r.vpg_name, r.state, r.progress, r.severity.rank)
               for r, p in zip(self.rows, self.pending, strict=True)]
        if self.finding_pending:
            out += [Observed(p.key, p.site, f.kind, f.own_label, f.name if f.kind == "test" else "", state, None,
                             f.severity.rank)
                    for f, p, state in zip(self.site.findings, self.finding_pending, self.finding_states,
                                           strict=True)]
        return out


def judge(kb: KnowledgeBase, reads: Sequence[Read], options: Options = Options(),
          policy: Policy | None = None) -> Judged:
    """Judge everything that was read by its pairs, its RPOs and `policy`
    (`policy.load_policy`; None: no policy, as without --state and --policy),
    and the site around the VPGs (`site.judge_site`: alerts, VRAs, peer sites,
    failover tests). Reads no file, writes none."""
    several = len({r.site for r in reads if r.site is not None}) > 1
    found_rows: list[tuple[Row, Any]] = []
    outcomes = []
    failed_parts = []
    parts_read: list[tuple[str | None, str]] = []
    read_site: dict[int, str] = {}  # the site of rows that do not show it (one site read): for state keys
    for r in reads:
        if r.part not in ("vpgs", "vms"):
            if r.error is not None and r.part not in options.skip:
                failed_parts.append(PartOutcome(r.site, r.url, r.part, r.error))
            elif r.payload is not None and r.part not in options.skip:
                parts_read.append((r.site, r.part))
            continue
        found = [] if r.payload is None else rows(kb, r.payload, r.site if several else None, options.thresholds)
        if r.site is not None:
            outcomes.append(SiteOutcome(r.site, r.url or "", r.error, len(found)))
            if not several and options.state:
                read_site.update((id(row), r.site) for row in found)
        if found:
            heads = r.payload.heads
            found_rows += [(row, heads[row.position]) for row in found]
    read_any = any(r.payload is not None for r in reads)
    found_any = bool(found_rows)
    left_out: set[tuple[str | None, str]] = set()
    if options.vpg or options.exclude:
        kept = [(row, head) for row, head in found_rows if keep([row], options.vpg, options.exclude)]
        if len(kept) < len(found_rows):  # (an alert that names only VPGs left out is left out with them)
            left_out = {(row.site, row.vpg_identifier) for row, _ in found_rows if row.kind == "vpg"}
            left_out -= {(row.site, row.vpg_identifier) for row, _ in kept}
        found_rows = kept
    all_rows = [row for row, _ in found_rows]
    heads = tuple(head for _, head in found_rows)
    now = time.time() if options.now is None else options.now
    health = None
    if len(options.skip) < 4:
        from .site import TEST_MAX_AGE, judge_site

        max_age = policy.test_max_age if policy is not None else TEST_MAX_AGE
        parts = [r for r in reads if r.part not in ("vpgs", "vms")]
        if parts or heads:  # (the VPGs alone: their tests, and a lost peer they share)
            site_reads = [r._replace(site=r.site if several else None) for r in parts]
            health = judge_site(site_reads, all_rows, heads, now, options.skip, max_age, left_out)
    pending: list[Pending] = []
    lowered_by: list[str] = []
    finding_pending: list[Pending] = []
    states: list[str] = []
    complete: tuple[str, ...] = ()
    if policy is not None:
        all_rows, pending = _with_policy(all_rows, policy, options, read_site, lowered_by)
        if health is not None:
            one_site = None if several else next((r.site for r in reads if r.site is not None), None)
            from .sitetime import with_policy

            findings, finding_pending, states = with_policy(health.findings, policy, one_site, lowered_by,
                                                            remembered=options.state is not None)
            health = health._replace(findings=findings)
            complete = tuple(f"{r.site or ''}\x1falert\x1f" for r in reads if r.part == "alerts"
                             and r.payload is not None and "alerts" not in options.skip)
    from .timing import lowered_note

    return Judged(all_rows, tuple(outcomes), read_any, found_any, options, now, policy, tuple(pending),
                  lowered_note(lowered_by), heads, health, tuple(failed_parts), tuple(finding_pending),
                  tuple(states), complete, tuple(parts_read))


def report(judged: Judged, memories: Recall | None = None, state_error: str | None = None) -> Report:
    """The report of a judged run: with a policy, each row judged by how long
    it has been in its state (`memories`, what `state.remember` answered for
    `judged.observed()`; None without a state file, or with `state_error`,
    why it could not be used), and the run summed up (see the module's
    docstring). Reads no file, writes none."""
    options, now = judged.options, judged.now
    all_rows = judged.rows
    notes = judged.notes
    if judged.policy is not None:
        from .timing import judge as judge_time

        if memories is not None:
            notes = (*memories.notes, *notes)
        out = []
        for r, p in zip(all_rows, judged.pending, strict=True):
            memory = memories.get(p.key) if memories is not None else None
            timed = judge_time(r.severity, r.state, p.timing, memory, now, judged.policy, floor=p.rpo_floor,
                               demotable=p.demotable)
            out.append(r._replace(severity=timed.severity, reasons=r.reasons + timed.reasons,
                                  timed=timed if memories is not None else None))
        all_rows = out
    findings: list[Any] = []
    causes: list[Any] = []
    if judged.site is not None:
        all_rows, findings, causes = _site_health(judged, all_rows, memories)
    counts = dict.fromkeys(Severity, 0)
    for row in all_rows:
        counts[row.severity] += 1
    finding_counts = dict.fromkeys(Severity, 0)
    for f in findings:
        if f.counted:
            finding_counts[f.severity] += 1
    worst = max((s for s in Severity if counts[s] or finding_counts[s]), default=Severity.OK)
    if judged.failed_parts:
        worst = max(worst, Severity.WARNING)  # a part that could not be read is never silently ok
    problem = None
    outcomes = judged.sites
    empty = [o.name for o in outcomes if o.error is None and o.objects == 0]
    if not judged.read_any:
        problem = "no site could be read" if outcomes else "nothing could be read"
    elif options.allow_empty:
        pass
    elif empty:
        # an empty answer is a ZVM's trouble (or a user who sees nothing), never the filters'
        problem = empty_sites(empty) + " (--allow-empty: that is fine)"
    elif not all_rows and not findings:
        problem = (nothing_matches(options.vpg, options.exclude) if judged.found_any
                   else nothing_matches((), ())) + " (--allow-empty: that is fine)"
    failed = any(o.error is not None for o in outcomes)
    if problem is not None or failed:
        worst = max(worst, Severity.UNKNOWN)
    vms = sum(1 for r in all_rows if r.kind == "vm")
    noun = "VPG" if not vms else "VM" if vms == len(all_rows) else "object"
    summary = Summary(len(all_rows), counts, worst, outcomes, problem, noun, options.allow_empty,
                      judged.failed_parts, finding_counts, judged.parts_read)
    return Report(summary, all_rows, now, state_error, notes, options.state is not None, tuple(findings),
                  tuple(causes))


def _site_health(judged: Judged, all_rows: list[Row],
                 memories: Recall | None) -> tuple[list[Row], list[Any], list[Any]]:
    """The findings judged by how long each has lasted (as rows are), the rows
    with what the alerts that name them add (their reasons, and the severity
    those alerts keep them at: as the policy and time judged the alerts), and
    the causes that explain several rows, each row pointing at its cause."""
    from .causes import causes as find_causes
    from .site import row_floors

    health = judged.site
    if judged.finding_pending and judged.policy is not None:
        from .sitetime import with_time

        health = health._replace(findings=with_time(health.findings, judged.finding_pending, judged.finding_states,
                                                    memories, judged.now, judged.policy))
    floors = row_floors(health.findings)
    rows_out = list(all_rows)
    for i, why in health.attached.items():
        r = rows_out[i]
        rows_out[i] = r._replace(severity=max(r.severity, floors.get(i, Severity.OK)), reasons=r.reasons + why)
    found = find_causes(health.findings, rows_out, judged.heads)
    findings = health.findings
    for cause in found:
        for i in cause.members:
            r = rows_out[i]
            rows_out[i] = r._replace(reasons=(*r.reasons, cause.reason))
        if cause.alert is not None:  # the cause's own alert is counted in it, not again
            findings = [f._replace(attached=cause.rows) if f is cause.alert else f for f in findings]
    return rows_out, findings, found


def run(kb: KnowledgeBase, reads: Sequence[Read], options: Options = Options()) -> Report:
    """The whole of a triage run, as `zvpg triage` makes it: load the policy
    (`options.policy`, or zvpg's defaults with a state file), judge, remember
    the states in `options.state` (a state file that cannot be used leaves
    the verdicts stateless, and says why), report. Raises `policy.PolicyError`."""
    policy = None
    if options.state or options.policy:
        from .policy import load_policy

        policy = load_policy(kb, options.policy)
    judged = judge(kb, reads, options, policy)
    memories, state_error = None, None
    if options.state and policy is not None:
        from .state import StateError, remember

        try:
            memories = remember(options.state, judged.observed(), judged.now, policy.flap_window, judged.complete)
        except StateError as exc:
            state_error = str(exc)
        except Exception as exc:  # the state layer never turns a verdict into an internal error
            from ..base.sanitize import printable

            state_error = printable(f"cannot use state file {options.state}: {type(exc).__name__}: {exc}")[:300]
    return report(judged, memories, state_error)

"""Site health: what surrounds the VPGs and decides whether a failover would
work, judged beside them. Every object of `/v1/alerts`, `/v1/vras` and
`/v1/peersites`, and each VPG's last failover test, becomes a `Finding`; a
site-level cause that explains several VPG problems becomes a `Cause`.

Facts come from data/alerts.yaml (`knowledge.alerts`: HelpIdentifier codes,
VRA Status, VraAlertsStatus, PairingStatus) and the payloads; every severity
here is zvpg's own judgement, and each reason says so. Grouping is made only
where the data links a VPG to its cause (an alert's AffectedVpgs, the alert's
site, the VPG's own ProtectedSite/RecoverySite): never guessed.

    findings = judge_site(reads, rows, options, now)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from ..base.units import duration
from ..knowledge.model import Severity

#: The parts `--skip` may leave out.
SKIPPABLE = ("alerts", "vras", "peers", "tests")

#: zvpg's default for how old a VPG's last failover test may be (the Zabbix
#: template's 6 months, zerto-site-health.md §7): zvpg's choice.
TEST_MAX_AGE = 180 * 86400

#: Alerts that say what a VPG's own state already says (its RPO and its journal
#: history: LogicMonitor drops VPG0004, VPG0010 and VRA0039 as covered by its SLA
#: datapoints; VPG0003 and VPG0009 are their warning twins). Attached to the
#: VPGs they name, they never raise them.
COVERED_BY_VPG_STATE = frozenset({"VPG0003", "VPG0004", "VPG0009", "VPG0010", "VRA0039"})
#: Zerto's own "VPG test overdue" alerts: they belong to the VPG's test.
TEST_OVERDUE = frozenset({"VPG0011", "VPG0012"})
#: Shown, never raising the check by default (Zerto's syslog script sends them as
#: info): licence notices and "Upgrade available".
NOTICE = "LIC"
UPGRADE_AVAILABLE = "ZVM0006"
#: "No connection to site" (D): the alert of a paired peer that cannot be reached.
NO_CONNECTION_TO_SITE = "ZVM0003"
#: The VPG substatuses of a lost peer (zerto-rest-api.md): 24 DisconnectedFromPeer
#: ("Site disconnection") and 10 DisconnectedFromPeerNoRecoveryPoints.
DISCONNECTED = (10, 24)

_ZVPG = "zvpg's judgement"


class Finding(NamedTuple):
    """One object of a site part, or one VPG's last test, as every format shows it."""

    kind: str  # "alert", "vra", "peer" or "test"
    site: str | None  # the site (ZVM) it was read from; None for a file
    name: str  # alert: HelpIdentifier; VRA: VraName; peer: PeerSiteName; test: the VPG's name
    identifier: str  # alert: Link.identifier; VRA: VraIdentifierStr; peer: SiteIdentifier; test: VpgIdentifier
    code: str | int | None  # alert: HelpIdentifier; VRA: Status; peer: PairingStatus; test: None
    state: str  # "No connection to site (Error)", "InstallationError (Status 5)", "never tested", ...
    severity: Severity
    reasons: tuple[str, ...]
    #: when it started: an alert's TurnedOn, a test's LastTest (epoch seconds)
    since: float | None = None
    #: what it is about: an alert's site or entity, a VRA's host
    about: str | None = None
    #: the VPG identifiers it names (an alert's AffectedVpgs)
    vpgs: tuple[str, ...] = ()
    #: labels of the VPG rows it was attached to: counted there, not again
    attached: tuple[str, ...] = ()
    #: facts for metrics and JSON: level, dismissed, vra_alerts_status, age_seconds, running, ...
    facts: Mapping[str, Any] = MappingProxyType({})
    #: how long it has been in its state (triage.timing.Timed), with --state
    timed: Any = None

    @property
    def label(self) -> str:
        site = f"[{self.site}] " if self.site else ""
        return site + self.own_label

    @property
    def own_label(self) -> str:
        if self.kind == "alert":
            title = self.facts.get("title")
            return f"alert {self.name}" + (f" ({title})" if title else "")
        if self.kind == "vra":
            return f"VRA {self.name or self.identifier}" + (f" (host {self.about})" if self.about else "")
        if self.kind == "peer":
            return f"peer site {self.name or self.identifier}"
        return f"failover test of VPG {self.name or self.identifier}"

    @property
    def counted(self) -> bool:
        """Whether it counts on its own (an alert attached to VPGs counts there)."""
        return not self.attached


class Cause(NamedTuple):
    """A site-level cause and the VPG problems it explains."""

    text: str  # "no connection to site WCHL - CA (ZVM0003)"
    severity: Severity
    site: str | None
    #: the labels of the VPG rows it explains, in input order
    rows: tuple[str, ...]
    #: what the data links them by: "AffectedVpgs", "ProtectedSite/RecoverySite", ...
    linked_by: str
    #: the rows' places in the report's rows
    members: tuple[int, ...] = ()


class SiteHealth(NamedTuple):
    findings: list[Finding]
    #: row index (in the judged rows) -> the reasons alerts that name it add, and
    #: the severity below which they keep it
    attached: dict[int, tuple[tuple[str, ...], Severity]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _link_id(value: Any) -> str:
    return _text(value.get("identifier")) if isinstance(value, dict) else ""


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


# ---- alerts --------------------------------------------------------------------------

def alert_severity(code: str, level: Any) -> tuple[Severity, str]:
    """zvpg's severity of an alert, and why."""
    if code.startswith(NOTICE) or code == UPGRADE_AVAILABLE:
        return Severity.OK, (f"{_ZVPG}: a licence notice or an upgrade notice is shown, never raised "
                             "(Zerto's syslog script sends them as info)")
    if level == "Error":
        return Severity.CRITICAL, f"{_ZVPG}: an alert of Level Error is critical"
    if level == "Warning":
        return Severity.WARNING, f"{_ZVPG}: an alert of Level Warning is a warning"
    shown = _text(level) or "(none)"
    return Severity.WARNING, f"{_ZVPG}: an alert of Level {shown} (not Error or Warning) is a warning"


def _alerts(part: Any, site: str | None, now: float, sk: Any) -> list[Finding]:
    from ..sources.apitime import api_time

    out = []
    for obj in part.objects:
        if obj.get("IsDismissed") is True:
            continue  # dismissed by someone: ignored
        code = _text(obj.get("HelpIdentifier")).strip() or "(no HelpIdentifier)"
        known = sk.alert(code) if sk is not None else None
        title = (known.title if known is not None else None) or _text(obj.get("Description"))[:200] or None
        level = obj.get("Level")
        severity, why = alert_severity(code, level)
        turned_on = api_time(obj.get("TurnedOn"))
        where = obj.get("Site") if isinstance(obj.get("Site"), dict) else {}
        remote = where.get("type") == "PeerSiteApi"
        reasons = [why]
        if known is None:
            reasons.append(f"code {code} is not in zvpg's list of alert codes (shown as the ZVM sent it)")
        age = None if turned_on is None else max(0.0, now - turned_on)
        state = (f"{title or 'alert'} ({_text(level) or 'no Level'}"
                 + (f", for {duration(age)}" if age is not None else "") + ")")
        out.append(Finding(
            "alert", site, code, _link_id(obj.get("Link")), code, state, severity, tuple(reasons), turned_on,
            _link_id(where) or None,
            tuple(i for v in (obj.get("AffectedVpgs") or []) if (i := _link_id(v))),
            facts={"title": title, "level": _text(level) or None, "known": known is not None, "remote": remote,
                   "site_identifier": _link_id(where) or None, "entity": _text(obj.get("Entity")) or None,
                   "age_seconds": None if age is None else round(age, 3)}))
    return out


def _drop_peer_copies(findings: list[Finding]) -> list[Finding]:
    """An alert from the peer site (Site.type PeerSiteApi) that a site read in
    the same run reports as its own (the same code for the same site
    identifier) is counted once: the local copy stays."""
    local = {(f.name, f.facts["site_identifier"]) for f in findings
             if f.kind == "alert" and not f.facts["remote"] and f.facts["site_identifier"]}
    return [f for f in findings if not (f.kind == "alert" and f.facts["remote"]
                                        and (f.name, f.facts["site_identifier"]) in local)]


# ---- VRAs and peer sites -------------------------------------------------------------

#: VRA Status values that are passing states (zvpg's judgement: a warning).
_VRA_PASSING = frozenset({3, 4, 7, 8, 9, 10})


def _vras(part: Any, site: str | None, sk: Any) -> list[Finding]:
    out = []
    for obj in part.objects:
        status = obj.get("Status")
        code = _int(status)
        decoded = next((c for c in sk.vra_statuses if c.code == code), None) if sk is not None else None
        name = decoded.name if decoded is not None else None
        shown = f"{name} (Status {code})" if name else f"Status {_text(status) or 'missing'} (unknown)"
        protected = obj.get("ProtectedCounters") if isinstance(obj.get("ProtectedCounters"), dict) else {}
        recovery = obj.get("RecoveryCounters") if isinstance(obj.get("RecoveryCounters"), dict) else {}
        vpgs = [v for v in (_int(protected.get("Vpgs")), _int(recovery.get("Vpgs"))) if v is not None]
        serves = sum(vpgs) if vpgs else None  # None: the answer does not say
        reasons = []
        if code == 0:
            severity = Severity.OK
        elif decoded is None:
            severity = Severity.WARNING
            reasons.append(f"{_ZVPG}: a VRA Status zvpg does not know is a warning")
        elif code in _VRA_PASSING:
            severity = Severity.WARNING
            reasons.append(f"{_ZVPG}: {name} is a passing state, a warning"
                           + (" (this value rests on community sources only)" if decoded.uncertain else ""))
        elif serves == 0:
            severity = Severity.OK
            reasons.append(f"{_ZVPG}: {name}, but the VRA protects and recovers no VPG: not a problem")
        else:
            severity = Severity.CRITICAL
            reasons.append(f"{_ZVPG}: a VRA that is not Installed cannot replicate"
                           + (f" the {serves} VPG{'s' if serves != 1 else ''} it serves" if serves else ""))
        alerts = obj.get("VraAlerts")
        alerts_status = _int(alerts.get("VraAlertsStatus")) if isinstance(alerts, dict) else None
        if alerts_status:
            label = next((c.name for c in sk.vra_alerts_statuses if c.code == alerts_status), None) if sk else None
            level = Severity.CRITICAL if alerts_status >= 2 else Severity.WARNING
            severity = max(severity, level)
            shown += f"; VraAlertsStatus {alerts_status}" + (f" ({label})" if label else " (unknown)")
            reasons.append(f"{_ZVPG}: VraAlertsStatus {alerts_status} is {level.value} (its names rest on one "
                           "community source)")
        host = _text(obj.get("HostDisplayName")) or _text(obj.get("HostIdentifier")) or None
        ident = _text(obj.get("VraIdentifierStr")) or _link_id(obj.get("Link")) or _text(obj.get("VraIdentifier"))
        out.append(Finding("vra", site, _text(obj.get("VraName")), ident, code if code is not None else None,
                           shown, severity, tuple(reasons), None, host,
                           facts={"status": code, "status_name": name, "vra_alerts_status": alerts_status,
                                  "vpgs": serves, "ip_address": _text(obj.get("IpAddress")) or None}))
    return out


def _peers(part: Any, site: str | None, sk: Any) -> list[Finding]:
    out = []
    for obj in part.objects:
        status = obj.get("PairingStatus")
        code = _int(status)
        decoded = next((c for c in sk.pairing_statuses if c.code == code), None) if sk is not None else None
        name = decoded.name if decoded is not None else None
        shown = f"{name} (PairingStatus {code})" if name else f"PairingStatus {_text(status) or 'missing'} (unknown)"
        reasons: tuple[str, ...] = ()
        if code == 0:
            severity = Severity.OK
        elif code == 2:
            severity, reasons = Severity.CRITICAL, (f"{_ZVPG}: nothing replicates to or from an unpaired site",)
        elif code == 1:
            severity, reasons = Severity.WARNING, (f"{_ZVPG}: a pairing in progress is a warning",)
        else:
            severity, reasons = Severity.WARNING, (f"{_ZVPG}: a PairingStatus zvpg does not know is a warning",)
        out.append(Finding("peer", site, _text(obj.get("PeerSiteName")),
                           _text(obj.get("SiteIdentifier")) or _link_id(obj.get("Link")), code, shown, severity,
                           reasons, None, _text(obj.get("HostName")) or None,
                           facts={"pairing_status": code, "pairing_name": name,
                                  "version": _text(obj.get("Version")) or None}))
    return out


# ---- failover tests --------------------------------------------------------------------

def _raw(value: Any) -> Any:
    """A raw member of a payload head (`payload.SITE_FIELDS`) as Python; None for null or missing."""
    if value is None:
        return None
    import msgspec

    try:
        return msgspec.json.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _tests(rows: Sequence[Any], heads: Sequence[Any], site: str | None, now: float,
           max_age: int | None) -> list[Finding]:
    from ..sources.apitime import api_time

    out = []
    for row, head in zip(rows, heads, strict=True):
        last = _raw(head.LastTest)
        running = _raw(head.ActiveProcessesApi)
        running = running.get("RunningFailOverTestApi") if isinstance(running, dict) else None
        when = api_time(last)
        age = None if when is None else max(0.0, now - when)
        reasons: list[str] = []
        severity = Severity.OK
        if running is not None:
            stage = _text(running.get("Stage")) if isinstance(running, dict) else ""
            state = "failover test running now" + (f" (stage {stage})" if stage else "")
            reasons.append(f"{_ZVPG}: a test running now never pages")
        elif last is None:
            state = "never tested"
            if max_age:
                severity = Severity.WARNING
                reasons.append(f"{_ZVPG}: LastTest is null (never tested); tests are due every "
                               f"{duration(max_age)} (test_max_age)")
        elif when is None:
            state = "last test time unreadable"
            severity = Severity.WARNING
            reasons.append(f"{_ZVPG}: LastTest {str(last)[:40]!r} is not a time zvpg can read")
        else:
            state = f"last tested {duration(age)} ago"  # type: ignore[arg-type]
            if max_age and age is not None and age > max_age:
                severity = Severity.WARNING
                reasons.append(f"{_ZVPG}: the last failover test is older than {duration(max_age)} (test_max_age)")
        out.append(Finding("test", site, row.vpg_name, row.vpg_identifier, None, state, severity, tuple(reasons),
                           when, None, (row.vpg_identifier,) if row.vpg_identifier else (),
                           facts={"age_seconds": None if age is None else round(age, 3),
                                  "never": last is None, "running": running is not None}))
    return out


# ---- everything together ----------------------------------------------------------------

def judge_site(reads: Sequence[Any], rows: Sequence[Any], heads: Sequence[Any], now: float,
               skip: Sequence[str] = (), test_max_age: int | None = TEST_MAX_AGE) -> SiteHealth:
    """Findings for the site parts in `reads` (`sources.read.Read` whose part
    is alerts, vras or peers) and the VPG rows' tests (`rows`, judged already,
    with their payload heads `heads`), alerts attached to the rows they name,
    and the causes that explain several rows. `skip`: parts left out
    (SKIPPABLE)."""
    sk = None
    if any(r.part in ("alerts", "vras", "peers") and r.payload is not None for r in reads):
        from ..knowledge.alerts import load

        sk = load()
    several = len({r.site for r in reads}) > 1
    findings: list[Finding] = []
    for r in reads:
        if r.payload is None or r.part in skip or r.part in ("vpgs", "vms"):
            continue
        site = r.site if several else None
        if r.part == "alerts":
            findings += _alerts(r.payload, site, now, sk)
        elif r.part == "vras":
            findings += _vras(r.payload, site, sk)
        elif r.part == "peers":
            findings += _peers(r.payload, site, sk)
    findings = _drop_peer_copies(findings)
    vpg_rows = [(i, row, head) for i, (row, head) in enumerate(zip(rows, heads, strict=True)) if row.kind == "vpg"]
    if "tests" not in skip:
        tests = _tests([row for _, row, _ in vpg_rows], [h for _, _, h in vpg_rows], None, now, test_max_age)
        findings += [t._replace(site=row.site) for t, (_, row, _) in zip(tests, vpg_rows, strict=True)]
    return _attach(findings, rows, heads)


def _attach(findings: list[Finding], rows: Sequence[Any], heads: Sequence[Any]) -> SiteHealth:
    """Alerts attached to the VPG rows they name; VPG0011/VPG0012 to the VPG's test."""
    by_vpg: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        if row.kind == "vpg" and row.vpg_identifier:
            by_vpg.setdefault(row.vpg_identifier, []).append(i)
    tests = {(f.site, f.identifier): n for n, f in enumerate(findings) if f.kind == "test"}
    attached: dict[int, tuple[tuple[str, ...], Severity]] = {}
    out = list(findings)
    for n, f in enumerate(findings):
        if f.kind != "alert" or not f.vpgs:
            continue
        named = [i for v in f.vpgs for i in by_vpg.get(v, ()) if rows[i].site == f.site]
        if not named:
            continue
        if f.name in TEST_OVERDUE:
            labels = []
            for i in named:
                t = tests.get((f.site, rows[i].vpg_identifier))
                if t is not None:
                    test = out[t]
                    out[t] = test._replace(severity=max(test.severity, Severity.WARNING),
                                           reasons=(*test.reasons, f"Zerto's own alert {f.name} says the test is "
                                                                   "overdue"))
                    labels.append(rows[i].label)
            if labels:
                out[n] = f._replace(attached=tuple(labels))
            continue
        floor = Severity.OK if f.name in COVERED_BY_VPG_STATE else f.severity
        why = f"alert {f.name}" + (f" ({f.facts['title']})" if f.facts.get("title") else "") + \
            " names this VPG" + (" (what the VPG's state says already)" if f.name in COVERED_BY_VPG_STATE else "")
        for i in named:
            reasons, sev = attached.get(i, ((), Severity.OK))
            attached[i] = ((*reasons, why), max(sev, floor))
        out[n] = f._replace(attached=tuple(rows[i].label for i in named), facts={**f.facts, "rows": tuple(named)})
    return SiteHealth(out, attached)


def causes(findings: Sequence[Finding], rows: Sequence[Any], heads: Sequence[Any]) -> list[Cause]:
    """The site-level causes that explain two or more VPG rows that are not ok
    (judged to the end: policy and time), the worst and largest first: an
    alert (not one the VPG state says already) whose AffectedVpgs names them,
    and a lost peer (`_disconnected`)."""
    found = []
    for f in findings:
        if f.kind != "alert" or not f.attached or f.name in COVERED_BY_VPG_STATE or f.name in TEST_OVERDUE:
            continue
        problems = [i for i in f.facts.get("rows", ()) if rows[i].severity is not Severity.OK]
        if len(problems) > 1:
            found.append(Cause(f"{f.facts.get('title') or 'alert'} ({f.name})",
                               max(f.severity, *(rows[i].severity for i in problems)), f.site,
                               tuple(rows[i].label for i in problems), "AffectedVpgs", tuple(problems)))
    found += _disconnected(findings, rows, heads)
    found.sort(key=lambda c: (-c.severity.rank, -len(c.rows)))
    return found


def _disconnected(findings: Sequence[Finding], rows: Sequence[Any], heads: Sequence[Any]) -> list[Cause]:
    """VPGs that lost their peer (substatus 24 or 10), grouped by the pair of
    sites they replicate between (their ProtectedSite and RecoverySite); the
    peer named from /v1/peersites where one of the two is a peer read, and its
    ZVM0003 alert where one was read."""
    groups: dict[tuple[str | None, str, str], list[int]] = {}
    names: dict[tuple[str | None, str, str], tuple[str, str]] = {}
    for i, (row, head) in enumerate(zip(rows, heads, strict=True)):
        pair = row.verdict.annotation.pair
        sub = pair.substatus if pair is not None else None
        if sub is None or sub.code not in DISCONNECTED or row.severity is Severity.OK:
            continue
        protected, recovery = _link_id(_raw(head.ProtectedSite)), _link_id(_raw(head.RecoverySite))
        if not protected and not recovery:
            continue  # nothing links it to a site: never guessed
        key = (row.site, protected, recovery)
        groups.setdefault(key, []).append(i)
        names.setdefault(key, (_text(_raw(head.SourceSite)), _text(_raw(head.TargetSite))))
    causes = []
    for key, members in groups.items():
        if len(members) < 2:
            continue
        site, protected, recovery = key
        peer = next((f for f in findings if f.kind == "peer" and f.site == site
                     and f.identifier in (protected, recovery)), None)
        alert = next((f for f in findings if f.kind == "alert" and f.site == site and f.name == NO_CONNECTION_TO_SITE
                      and f.facts.get("site_identifier") in (protected, recovery)), None)
        source, target = names[key]
        if peer is not None:
            text = f"no connection to site {peer.name or peer.identifier}"
        elif source or target:
            text = f"no connection between sites {source or protected or '?'} and {target or recovery or '?'}"
        else:
            text = f"no connection between sites {protected or '?'} and {recovery or '?'}"
        text += f" ({NO_CONNECTION_TO_SITE})" if alert is not None else " (substatus Site disconnection)"
        severity = max(rows[i].severity for i in members)
        causes.append(Cause(text, severity, site, tuple(rows[i].label for i in members),
                            "ProtectedSite/RecoverySite" + (" and alert Site" if alert is not None else ""),
                            tuple(members)))
    return causes

"""Site health: what surrounds the VPGs and decides whether a failover would
work, judged beside them. Every object of `/v1/alerts`, `/v1/vras` and
`/v1/peersites`, and each VPG's last failover test, becomes a `Finding`; a
site-level cause that explains several VPG problems becomes a `Cause`
(`triage.causes`).

Facts come from data/alerts.yaml (`knowledge.alerts`: HelpIdentifier codes,
VRA Status, VraAlertsStatus, PairingStatus) and the payloads; every severity
here is zvpg's own judgement, and each reason says so. Grouping is made only
where the data links a VPG to its cause (an alert's AffectedVpgs, the alert's
site, the VPG's own ProtectedSite/RecoverySite): never guessed.

    health = judge_site(reads, rows, heads, now)   # .findings, .attached
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from ..base.sanitize import printable
from ..base.units import duration
from ..knowledge.model import Severity
from ..sources.apitime import api_time

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
#: "No connection to site" (D): VPGs that lost that site are grouped under it (`triage.causes`).
NO_CONNECTION_TO_SITE = "ZVM0003"

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
    #: the alert it stands for (ZVM0003 of a lost peer), counted in the cause, not again
    alert: Finding | None = None

    @property
    def reason(self) -> str:
        """What each row it explains says of it."""
        return f"explained by: {self.text} ({_ZVPG}: linked by {self.linked_by})"


class SiteHealth(NamedTuple):
    findings: list[Finding]
    #: row index (in the judged rows) -> the reasons the alerts that name it add
    #: (the severity they keep it at: `row_floors`)
    attached: dict[int, tuple[str, ...]]


def _text(value: Any, limit: int = 200) -> str:
    """A payload value as text fit to show: "" for null, control characters
    escaped, at most `limit` characters (payloads are untrusted)."""
    if type(value) is str:
        if len(value) <= limit and value.isascii() and value.isprintable():
            return value  # (the common case)
    elif value is None:
        return ""
    return printable(value if isinstance(value, str) else str(value))[:limit]


def _link_id(value: Any) -> str:
    """A link object's `identifier` (a string, or an integer written out), as sent."""
    if not isinstance(value, dict):
        return ""
    found = value.get("identifier")
    return found if isinstance(found, str) else str(found) if type(found) is int else ""


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


# ---- alerts --------------------------------------------------------------------------

def alert_severity(code: str, level: Any) -> tuple[Severity, str]:
    """zvpg's severity of an alert, and why: from its `Level` (the API's
    strings "Error" and "Warning", in any case), but a licence notice (LIC*) or
    "Upgrade available" (ZVM0006) never raises the check."""
    code = code.strip().upper()
    if code.startswith(NOTICE) or code == UPGRADE_AVAILABLE:
        return Severity.OK, (f"{_ZVPG}: a licence notice or an upgrade notice is shown, never raised "
                             "(Zerto's syslog script sends them as info)")
    said = level.strip().casefold() if isinstance(level, str) else None
    if said == "error":
        return Severity.CRITICAL, f"{_ZVPG}: an alert of Level Error is critical"
    if said == "warning":
        return Severity.WARNING, f"{_ZVPG}: an alert of Level Warning is a warning"
    shown = _text(level, 40) or "(none)"
    return Severity.WARNING, f"{_ZVPG}: an alert of Level {shown} (not Error or Warning) is a warning"


def triage_judgement(code: str) -> str:
    """What a triage does with an alert of `code` (`zvpg explain CODE`): zvpg's
    judgement, in words; the same rules as `alert_severity` and `_attach`."""
    code = code.strip().upper()
    if code.startswith(NOTICE) or code == UPGRADE_AVAILABLE:
        return ("In a triage an alert of this code is shown and never raises the check, whatever its Level: a "
                "licence or upgrade notice (Zerto's syslog script sends them as info).")
    said = ("In a triage an alert's own Level sets its severity: Error is critical, Warning a warning, any "
            "other Level a warning. ")
    if code in TEST_OVERDUE:
        return said + ("An alert that names its VPGs (AffectedVpgs) belongs to their last failover test: at least a "
                       "warning there, not counted again; a test running now stays ok.")
    if code in COVERED_BY_VPG_STATE:
        return said + ("Named on the VPGs its AffectedVpgs lists, it does not raise them nor count again: their own "
                       "state says it already (LogicMonitor drops VPG0004, VPG0010 and VRA0039 likewise).")
    said += "It raises the VPGs its AffectedVpgs names to that severity and counts there, not again"
    if code.startswith("VPG"):
        return said + "."
    return said + ("; naming two or more VPGs that are not ok, it leads as their one cause" + (
        "; two or more VPGs that lost the site it names (substatus 24 or 10) are grouped under it too."
        if code == NO_CONNECTION_TO_SITE else "."))


def _alerts(part: Any, site: str | None, now: float, sk: Any) -> list[Finding]:
    out = []
    for obj in part.objects:
        if obj.get("IsDismissed") is True:
            continue  # dismissed by someone: ignored
        sent = _text(obj.get("HelpIdentifier"), 64).strip()
        known = sk.alert(sent) if sk is not None and sent else None
        name = known.code if known is not None else sent or "(no HelpIdentifier)"
        title = (known.title if known is not None else None) or _text(obj.get("Description")) or None
        level = obj.get("Level")
        severity, why = alert_severity(name, level)
        turned_on = api_time(obj.get("TurnedOn"))
        where = obj.get("Site") if isinstance(obj.get("Site"), dict) else {}
        remote = where.get("type") == "PeerSiteApi"
        reasons = [why]
        if known is None:
            reasons.append(f"code {name} is not in zvpg's list of alert codes (shown as the ZVM sent it)")
        age = None if turned_on is None else max(0.0, now - turned_on)
        level_text = _text(level, 40) or "no Level"
        state = f"{title or 'alert'} ({level_text}" + (f", for {duration(age)}" if age is not None else "") + ")"
        affected = obj.get("AffectedVpgs")
        vpgs = tuple(dict.fromkeys(i for v in affected if (i := _link_id(v)))) if isinstance(affected, list) else ()
        site_id = _text(_link_id(where))  # (shown, and matched against peers' and VPGs' sites, all escaped alike)
        out.append(Finding(
            "alert", site, name, _text(_link_id(obj.get("Link"))), name, state, severity, tuple(reasons),
            turned_on, site_id or None, vpgs,
            facts={"title": title, "level": _text(level, 40) or None, "known": known is not None, "remote": remote,
                   "site_identifier": site_id or None, "entity": _text(obj.get("Entity"), 64) or None,
                   "age_seconds": None if age is None else round(age, 3)}))
    return out


def _drop_peer_copies(findings: list[Finding]) -> list[Finding]:
    """An alert from the peer site (Site.type PeerSiteApi) that a site read in
    the same run reports as its own (the same code for the same site
    identifier) is counted once: the local copy stays."""
    local = {(f.name, f.facts["site_identifier"]) for f in findings
             if f.kind == "alert" and not f.facts["remote"] and f.facts["site_identifier"]}
    if not local:
        return findings
    return [f for f in findings if not (f.kind == "alert" and f.facts["remote"]
                                        and (f.name, f.facts["site_identifier"]) in local)]


# ---- VRAs and peer sites -------------------------------------------------------------

#: VRA Status values that are passing states (zvpg's judgement: a warning).
_VRA_PASSING = frozenset({3, 4, 7, 8, 9, 10})


def _sent(value: Any) -> str:
    """A code as the ZVM sent it, for a value zvpg does not know: `11`, `"5"`, `missing`."""
    if value is None:
        return "missing"
    return f'"{_text(value, 40)}"' if isinstance(value, str) else _text(value, 40)


def _vras(part: Any, site: str | None, sk: Any) -> list[Finding]:
    statuses = {c.code: c for c in sk.vra_statuses} if sk is not None else {}
    alert_names = {c.code: c.name for c in sk.vra_alerts_statuses} if sk is not None else {}
    out = []
    for obj in part.objects:
        status = obj.get("Status")
        code = _int(status)
        decoded = statuses.get(code) if code is not None else None
        name = decoded.name if decoded is not None else None
        if decoded is None:
            shown = f"Status {_sent(status)} (unknown)"
        else:
            shown = f"{name} (Status {code}" + (", community sources only)" if decoded.uncertain else ")")
        protected = obj.get("ProtectedCounters") if isinstance(obj.get("ProtectedCounters"), dict) else {}
        recovery = obj.get("RecoveryCounters") if isinstance(obj.get("RecoveryCounters"), dict) else {}
        vpgs = [v for v in (_int(protected.get("Vpgs")), _int(recovery.get("Vpgs"))) if v is not None]
        serves = sum(vpgs) if vpgs else None  # None: the answer does not say
        reasons = []
        what = name or f"Status {_sent(status)}"
        if code == 0:
            severity = Severity.OK
        elif serves is not None and serves <= 0:
            severity = Severity.OK
            reasons.append(f"{_ZVPG}: {what}, but its counters say the VRA protects and recovers no VPG: "
                           "shown, not a problem")
        elif decoded is None:
            severity = Severity.WARNING
            reasons.append(f"{_ZVPG}: a VRA Status zvpg does not know is a warning")
        elif code in _VRA_PASSING:
            severity = Severity.WARNING
            reasons.append(f"{_ZVPG}: {name} is a passing state, a warning"
                           + (" (this value rests on community sources only)" if decoded.uncertain else ""))
        else:
            severity = Severity.CRITICAL
            reasons.append(f"{_ZVPG}: a VRA that is not Installed ({name}) cannot replicate"
                           + (f" the {serves} VPG{'s' if serves != 1 else ''} it serves" if serves else ""))
        alerts = obj.get("VraAlerts")
        alerts_status = _int(alerts.get("VraAlertsStatus")) if isinstance(alerts, dict) else None
        if alerts_status:
            label = alert_names.get(alerts_status)
            level = Severity.CRITICAL if label == "Error" else Severity.WARNING
            severity = max(severity, level)
            shown += f"; VraAlertsStatus {alerts_status}" + (f" ({label})" if label else " (unknown)")
            reasons.append(f"{_ZVPG}: VraAlertsStatus {alerts_status} ({label or 'a value zvpg does not know'}) "
                           f"is {level.value} (its names rest on one community source)")
        host = _text(obj.get("HostDisplayName")) or _text(obj.get("HostIdentifier")) or None
        # the 64-bit number is never the key: a float64 reader rounds it (its string, or the link's)
        number = obj.get("VraIdentifier")
        ident = (_link_id({"identifier": obj.get("VraIdentifierStr")}) or _link_id(obj.get("Link"))
                 or (str(number) if type(number) is int else ""))
        out.append(Finding("vra", site, _text(obj.get("VraName")), _text(ident), code, shown, severity,
                           tuple(reasons), None, host,
                           facts={"status": code, "status_name": name,
                                  "status_uncertain": decoded.uncertain if decoded is not None else None,
                                  "vra_alerts_status": alerts_status, "vpgs": serves,
                                  "ip_address": _text(obj.get("IpAddress"), 64) or None}))
    return out


def _peers(part: Any, site: str | None, sk: Any) -> list[Finding]:
    names = {c.code: c.name for c in sk.pairing_statuses} if sk is not None else {}
    out = []
    for obj in part.objects:
        status = obj.get("PairingStatus")
        code = _int(status)
        name = names.get(code) if code is not None else None
        shown = f"{name} (PairingStatus {code})" if name else f"PairingStatus {_sent(status)} (unknown)"
        reasons: tuple[str, ...] = ()
        if code == 0:
            severity = Severity.OK
        elif code == 2:
            severity, reasons = Severity.CRITICAL, (f"{_ZVPG}: nothing replicates to or from an unpaired site",)
        elif code == 1:
            severity, reasons = Severity.WARNING, (f"{_ZVPG}: a pairing in progress is a warning",)
        else:
            severity, reasons = Severity.WARNING, (f"{_ZVPG}: a PairingStatus zvpg does not know is a warning",)
        site_id = _text(_link_id({"identifier": obj.get("SiteIdentifier")}) or _link_id(obj.get("Link")))
        out.append(Finding("peer", site, _text(obj.get("PeerSiteName")), site_id, code, shown, severity,
                           reasons, None, _text(obj.get("HostName")) or None,
                           facts={"pairing_status": code, "pairing_name": name, "site_identifier": site_id or None,
                                  "version": _text(obj.get("Version"), 64) or None}))
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


def _tests(rows: Sequence[Any], heads: Sequence[Any], now: float, max_age: int | None) -> list[Finding]:
    """A finding for each VPG whose payload has a `LastTest` member (null:
    never tested) or a test running now; none where the member is missing."""
    out = []
    for row, head in zip(rows, heads, strict=True):
        running = _raw(head.ActiveProcessesApi)
        running = running.get("RunningFailOverTestApi") if isinstance(running, dict) else None
        if head.LastTest is None and running is None:
            continue  # the payload does not say: nothing to judge
        last = _raw(head.LastTest)
        when = api_time(last)
        age = None if when is None else max(0.0, now - when)
        reasons: list[str] = []
        severity = Severity.OK
        if running is not None:
            stage = _text(running.get("Stage"), 80) if isinstance(running, dict) else ""
            state = "failover test running now" + (f" (stage {stage})" if stage else "")
            reasons.append(f"{_ZVPG}: a test running now never pages")
        elif last is None:
            state = "never tested"
            if max_age:
                severity = Severity.WARNING
                reasons.append(f"{_ZVPG}: LastTest is null (never tested); zvpg wants a failover test every "
                               f"{duration(max_age)} (test_max_age)")
        elif when is None:
            state = "last test time unreadable"
            if max_age:
                severity = Severity.WARNING
                reasons.append(f"{_ZVPG}: LastTest {_text(last, 40)!r} is not a time zvpg can read: a warning")
        else:
            state = f"last tested {duration(age)} ago"  # type: ignore[arg-type]
            if max_age and age is not None and age > max_age:
                severity = Severity.WARNING
                reasons.append(f"{_ZVPG}: the last failover test, {duration(age)} ago, is older than "
                               f"{duration(max_age)} (test_max_age)")
        out.append(Finding("test", row.site, _text(row.vpg_name), _text(row.vpg_identifier), None, state, severity,
                           tuple(reasons), when, None, (row.vpg_identifier,) if row.vpg_identifier else (),
                           facts={"age_seconds": None if age is None else round(age, 3), "max_age": max_age,
                                  "never": head.LastTest is not None and last is None,
                                  "running": running is not None}))
    return out


# ---- everything together ----------------------------------------------------------------

def judge_site(reads: Sequence[Any], rows: Sequence[Any], heads: Sequence[Any], now: float,
               skip: Sequence[str] = (), test_max_age: int | None = TEST_MAX_AGE,
               left_out: Collection[tuple[str | None, str]] = ()) -> SiteHealth:
    """Findings for the site parts in `reads` (`sources.read.Read` whose part
    is alerts, vras or peers) and the VPG rows' tests (`rows`, judged already,
    with their payload heads `heads`), alerts attached to the rows they name.
    `skip`: parts left out (SKIPPABLE). `left_out`: the (site, VpgIdentifier)
    of VPGs read but left out by --vpg/--exclude: an alert that names only
    such VPGs is left out with them."""
    sk = None
    if any(r.part in ("alerts", "vras", "peers") and r.payload is not None for r in reads):
        from ..knowledge.alerts import load

        sk = load()
    findings: list[Finding] = []
    for r in reads:
        if r.payload is None or r.part in skip or r.part in ("vpgs", "vms"):
            continue
        site = r.site  # (None when the run read one site: as the rows' `site`)
        if r.part == "alerts":
            findings += _alerts(r.payload, site, now, sk)
        elif r.part == "vras":
            findings += _vras(r.payload, site, sk)
        elif r.part == "peers":
            findings += _peers(r.payload, site, sk)
    findings = _drop_peer_copies(findings)
    if left_out:
        findings = [f for f in findings
                    if not (f.kind == "alert" and f.vpgs and all((f.site, v) in left_out for v in f.vpgs))]
    vpg_rows = [(row, head) for row, head in zip(rows, heads, strict=True) if row.kind == "vpg"]
    if "tests" not in skip:
        findings += _tests([row for row, _ in vpg_rows], [h for _, h in vpg_rows], now, test_max_age)
    return _attach(findings, rows)


def _attach(findings: list[Finding], rows: Sequence[Any]) -> SiteHealth:
    """Alerts attached to the VPG rows they name (once each); VPG0011/VPG0012
    to the VPG's test."""
    by_vpg: dict[tuple[str | None, str], list[int]] = {}
    for i, row in enumerate(rows):
        if row.kind == "vpg" and row.vpg_identifier:
            by_vpg.setdefault((row.site, row.vpg_identifier), []).append(i)
    tests = {(f.site, f.vpgs[0]): n for n, f in enumerate(findings) if f.kind == "test" and f.vpgs}
    attached: dict[int, tuple[str, ...]] = {}
    out = list(findings)
    for n, f in enumerate(findings):
        if f.kind != "alert" or not f.vpgs:
            continue
        named = list(dict.fromkeys(i for v in f.vpgs for i in by_vpg.get((f.site, v), ())))
        if not named:
            continue
        title = f" ({f.facts['title']})" if f.facts.get("title") else ""
        if f.name in TEST_OVERDUE:
            labels = []
            for i in named:
                t = tests.get((f.site, rows[i].vpg_identifier))
                if t is None:
                    continue
                test = out[t]
                said = f"Zerto's own alert {f.name}{title} says the test is overdue"
                if test.facts.get("running"):
                    out[t] = test._replace(reasons=(*test.reasons, f"{said} ({_ZVPG}: a test is running now, "
                                                                   "it stays ok)"))
                else:
                    out[t] = test._replace(severity=max(test.severity, Severity.WARNING),
                                           reasons=(*test.reasons, f"{said} ({_ZVPG}: at least a warning)"))
                labels.append(rows[i].label)
            if labels:
                out[n] = f._replace(attached=tuple(labels))
            continue
        level = f.facts.get("level") or "no Level"
        if f.name in COVERED_BY_VPG_STATE:
            judged = f"what the VPG's state says already ({_ZVPG}: it does not raise the VPG)"
        elif f.severity is Severity.OK:
            judged = f"a notice ({_ZVPG}: it does not raise the VPG)"
        else:
            judged = f"{_ZVPG}: the VPG is at least {f.severity.value}"
        why = f"alert {f.name}{title}, Level {level}, names this VPG: {judged}"
        for i in named:
            reasons = attached.get(i, ())
            attached[i] = reasons if why in reasons else (*reasons, why)
        out[n] = f._replace(attached=tuple(rows[i].label for i in named), facts={**f.facts, "rows": tuple(named)})
    return SiteHealth(out, attached)


def row_floors(findings: Sequence[Finding]) -> dict[int, Severity]:
    """The severity the alerts attached to VPG rows keep each row at (row
    index -> severity), as the alerts are judged now (after the policy and
    time, where they apply): an alert's own, none where it says what the VPG's
    own state says already."""
    floors: dict[int, Severity] = {}
    for f in findings:
        if f.kind == "alert" and f.name not in COVERED_BY_VPG_STATE:
            for i in f.facts.get("rows", ()):
                floors[i] = max(floors.get(i, Severity.OK), f.severity)
    return floors

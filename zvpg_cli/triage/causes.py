"""One cause for many: a site-level cause that explains several VPG problems,
found only where the data links them (zerto-site-health.md; issue "one root
cause for many"): an alert about the site whose AffectedVpgs names them, or a
peer site the VPGs lost (substatus 24/10) that their ProtectedSite/RecoverySite
name. Never guessed: VPGs without such links are never grouped.

    found = causes(findings, rows, heads)   # after the rows are judged to the end
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..knowledge.model import Severity
from .site import NO_CONNECTION_TO_SITE, Cause, Finding, _link_id, _raw, _text

#: The VPG substatuses of a lost peer (zerto-rest-api.md): 24 DisconnectedFromPeer
#: ("Site disconnection") and 10 DisconnectedFromPeerNoRecoveryPoints.
DISCONNECTED = (10, 24)


def causes(findings: Sequence[Finding], rows: Sequence[Any], heads: Sequence[Any]) -> list[Cause]:
    """The site-level causes that explain two or more VPG rows that are not ok
    (judged to the end: policy and time), the worst and largest first: an
    alert about the site (not a VPG's own alert: VPG*, nor a notice) whose
    AffectedVpgs names them, and a lost peer (`_disconnected`)."""
    found = []
    for f in findings:
        if f.kind != "alert" or not f.attached or f.name.upper().startswith("VPG") or f.severity is Severity.OK:
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
    """VPGs that lost their peer (substatus 24 or 10), grouped by the two
    sites they replicate between (their ProtectedSite and RecoverySite, either
    way round), and the pairs that share a peer read (/v1/peersites) grouped
    as that peer; its ZVM0003 alert named where one was read."""
    groups: dict[tuple[str | None, str, str], list[int]] = {}
    names: dict[tuple[str | None, str, str], tuple[str, str, str, str]] = {}
    substatuses: dict[tuple[str | None, str, str], dict[str, None]] = {}
    lost: dict[int, Any] = {}  # id(verdict) -> its substatus if it is a lost peer's, else None
    for i, (row, head) in enumerate(zip(rows, heads, strict=True)):
        if row.severity is Severity.OK or row.kind != "vpg":
            continue
        key_v = id(row.verdict)
        if key_v not in lost:
            pair = row.verdict.annotation.pair
            sub = pair.substatus if pair is not None else None
            lost[key_v] = sub if sub is not None and sub.code in DISCONNECTED else None
        sub = lost[key_v]
        if sub is None:
            continue
        protected, recovery = _text(_link_id(_raw(head.ProtectedSite))), _text(_link_id(_raw(head.RecoverySite)))
        if not protected and not recovery:
            continue  # nothing links it to a site: never guessed
        key = (row.site, *sorted((protected, recovery)))
        groups.setdefault(key, []).append(i)
        names.setdefault(key, (_text(_raw(head.SourceSite)), _text(_raw(head.TargetSite)), protected, recovery))
        substatuses.setdefault(key, {})[_text(sub.name) or f"code {sub.code}"] = None
    if sum(len(members) for members in groups.values()) < 2:
        return []
    peers: dict[tuple[str | None, str], Finding] = {}
    alerts: dict[tuple[str | None, str], Finding] = {}
    for f in findings:
        ident = f.facts.get("site_identifier")
        if f.kind == "peer" and ident:
            peers.setdefault((f.site, ident), f)
        elif f.kind == "alert" and f.name == NO_CONNECTION_TO_SITE and ident:
            alerts.setdefault((f.site, ident), f)
    # the pairs that share a peer read are one cause: the peer
    merged: dict[tuple[str | None, str, str], tuple[list[int], Finding | None, Finding | None, tuple[str, ...]]] = {}
    for key, members in groups.items():
        site, protected, recovery = key[0], names[key][2], names[key][3]
        peer = peers.get((site, protected)) or peers.get((site, recovery))
        alert = alerts.get((site, protected)) or alerts.get((site, recovery))
        into = (site, "peer", peer.facts["site_identifier"]) if peer is not None else key
        found = merged.setdefault(into, ([], peer, alert, names[key]))
        found[0].extend(members)
        if found[2] is None and alert is not None:
            merged[into] = (found[0], peer, alert, found[3])
        substatuses.setdefault(into, {}).update(substatuses[key])
    causes = []
    for into, (members, peer, alert, (source, target, protected, recovery)) in merged.items():
        if len(members) < 2:
            continue
        members.sort()
        if peer is not None:
            text = f"no connection to site {peer.name or peer.identifier}"
        else:
            text = f"no connection between sites {source or protected or '?'} and {target or recovery or '?'}"
        subs = list(substatuses[into])
        text += (f" ({NO_CONNECTION_TO_SITE})" if alert is not None
                 else f" (substatus{'es' if len(subs) > 1 else ''} {', '.join(subs)})")
        severity = max(rows[i].severity for i in members)
        causes.append(Cause(text, severity, into[0], tuple(rows[i].label for i in members),
                            "ProtectedSite/RecoverySite" + (" and alert Site" if alert is not None else ""),
                            tuple(members), alert))
    return causes

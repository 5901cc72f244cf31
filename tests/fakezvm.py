"""A fake Zerto Virtual Manager for the tests and benchmarks: a real HTTPS server on
127.0.0.1 (an OS-chosen port, certificates from trustme) in a daemon thread.

Two flavours, as tests/fixtures/zerto-rest-api.md ("Reaching a ZVM directly")
describes real ZVMs:

- "windows": `POST /v1/session/add` with HTTP Basic credentials -> 200 and the session
  id in the `x-zerto-session` response header; API GETs send that header;
  `DELETE /v1/session` ends the session; a session dies after 30 minutes without use.
  The Keycloak token path answers 404.
- "appliance": `POST /v1/session/add` answers 404 (what tools use to tell the kinds
  apart); Keycloak's token endpoint grants `password` (client `zerto-client`),
  `client_credentials` and `refresh_token`; API GETs send `Authorization: Bearer`.

Both serve `GET /v1/vpgs`, `/v1/vms` (with the reference's filters, case-insensitive),
`/v1/vpgs/statuses` and `/v1/vpgs/substatuses`; and for site health `/v1/alerts`,
`/v1/vras`, `/v1/peersites` and `/v1/localsite`, by default the example payloads of
tests/fixtures/zerto-site-health.md (section 8), with a few of its filters. `errors`
gives any endpoint its own error answer (status and body), e.g. an unlicensed ZVM's
`UNLICENSED` body. Where the reference is silent (bodies
of error answers, the inner shape of nested objects), the choice made here is minimal
and marked as ours in a comment: a client must not depend on it.

Use from pytest (test files do `from fakezvm import ...`; the fixtures are `zvm_ca`,
`ca_file`, `windows_zvm`, `appliance_zvm`), or as a script for benchmarks:

    python tests/fakezvm.py --flavour appliance --count 20 --latency 0.2 --vpgs 50 --ca-dir DIR

prints one URL per line, then READY, and serves until stdin closes or SIGTERM.
`--latencies 1,2.5,4` gives each server its own latency instead (slow sites, for
the progress display).

(PYTEST_DONT_REWRITE: test modules load this file as a plugin after importing it.)
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import copy
import json
import random
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import trustme

# ---- what a ZVM's lists say (the reference's tables) --------------------------------

#: `GET /v1/vpgs/statuses` of a ZVM, in code order (the reference: "The list a ZVM
#: appliance returns for GET /v1/vpgs/statuses, in code order").
STATUSES: list[str] = [
    "Initializing", "MeetingSLA", "NotMeetingSLA", "RpoNotMeetingSLA", "HistoryNotMeetingSLA",
    "FailingOver", "Moving", "Deleting", "Recovered",
]
#: `GET /v1/vpgs/substatuses`: None, then the reference's codes 1..32 in code order.
SUBSTATUSES: list[str] = [
    "None", "InitialSync", "Creating", "VolumeInitialSync", "Sync", "RecoveryPossible", "DeltaSync",
    "NeedsConfiguration", "Error", "EmptyProtectionGroup", "DisconnectedFromPeerNoRecoveryPoints", "FullSync",
    "VolumeDeltaSync", "VolumeFullSync", "FailingOverCommitting", "FailingOverBeforeCommit",
    "FailingOverRollingBack", "Promoting", "MovingCommitting", "MovingBeforeCommit", "MovingRollingBack",
    "Deleting", "PendingRemove", "BitmapSync", "DisconnectedFromPeer", "ReplicationPausedUserInitiated",
    "ReplicationPausedSystemInitiated", "RecoveryStorageProfileError", "Backup", "RollingBack",
    "RecoveryStorageError", "JournalStorageError", "VmNotProtectedError",
]
#: The reference's other enums ("Other VPG enums"), for the filters that take them.
PRIORITIES = ["Low", "Medium", "High"]
SITE_TYPES = ["VCVpg", "VCvApp", "VCDvApp", "AWS", "HyperV"]

# ---- site health: the example payloads of tests/fixtures/zerto-site-health.md, section 8 ----
# Copied as the reference gives them (its placeholders included: alert ids, Link.type
# "String content", the peer's HostName, Location and storage values).

#: `GET /v1/alerts`: a local VPG0010 (Error, not dismissed, Windows `/Date(ms)/`) and a
#: dismissed ZVM0003 from the peer site (`/Date(ms+hhmm)/`).
EXAMPLE_ALERTS: list[dict[str, Any]] = [
    {"AffectedVpgs": [{"href": "https://192.168.10.20:9669/v1/vpgs/57f502ff-3c41-4aff-b20a-6638205b73cd",
                       "identifier": "57f502ff-3c41-4aff-b20a-6638205b73cd", "rel": None, "type": "VpgApi"}],
     "AffectedZorgs": [], "Description": "VPG target RPO exceeded", "Entity": "Vpg",
     "HelpIdentifier": "VPG0010", "IsDismissed": False, "Level": "Error",
     "Link": {"href": "https://192.168.10.20:9669/v1/alerts/alert-0001", "identifier": "alert-0001",
              "rel": None, "type": "String content"},
     "Site": {"href": "https://192.168.10.20:9669/v1/localsite",
              "identifier": "9e09efa0-0d00-46ed-929b-f86273b28205", "rel": None, "type": "LocalSiteApi"},
     "TurnedOn": "/Date(1531938627284)/"},
    {"AffectedVpgs": [], "AffectedZorgs": [], "Description": "No connection to site", "Entity": "Zvm",
     "HelpIdentifier": "ZVM0003", "IsDismissed": True, "Level": "Warning",
     "Link": {"href": "https://192.168.10.20:9669/v1/alerts/alert-0002", "identifier": "alert-0002",
              "rel": None, "type": "String content"},
     "Site": {"href": "https://192.168.10.20:9669/v1/peersites/057cab27-f02a-443a-989d-7f14341fa9c3",
              "identifier": "057cab27-f02a-443a-989d-7f14341fa9c3", "rel": None, "type": "PeerSiteApi"},
     "TurnedOn": "/Date(1444792425000+0200)/"},
]
#: The first alert's `TurnedOn` in ISO form, the same instant (2018-07-18T18:30:27.284Z):
#: the reference asks for this variant too (which form an appliance sends is uncertain).
TURNED_ON_ISO = "2018-07-18T18:30:27.284Z"

#: `GET /v1/vras`: W:Tests/Public/Mocks/GetSingleVra.json as captured (ZVM 7.0). Note the
#: 64-bit `VraIdentifier` (above 2**53): key VRAs by `VraIdentifierStr`.
EXAMPLE_VRAS: list[dict[str, Any]] = [
    {"DatastoreClusterIdentifier": None, "DatastoreClusterName": None,
     "DatastoreIdentifier": "d4a6a1d5-79e9-4308-990a-7c3e616f0908.datastore-19", "DatastoreName": "datastore1",
     "HostIdentifier": "d4a6a1d5-79e9-4308-990a-7c3e616f0908.host-15", "HostVersion": "6.7",
     "IpAddress": "192.168.10.15",
     "Link": {"href": "https://192.168.10.20:9669/v1/vras/5377857665828093654", "identifier": "5377857665828093654",
              "rel": None, "type": "VraApi"},
     "Link_{0}": {"href": "https://192.168.10.20:9669/v1/vras/5377857665828093654", "rel": "self", "type": "VraApi"},
     "MemoryInGB": 1, "NetworkIdentifier": "d4a6a1d5-79e9-4308-990a-7c3e616f0908.network-22",
     "NetworkName": "VM Network", "Progress": 0, "ProtectedCounters": {"Vms": 0, "Volumes": 0, "Vpgs": 0},
     "RecoveryCounters": {"Vms": 0, "Volumes": 0, "Vpgs": 0}, "SelfProtectedVpgs": 0, "Status": 0,
     "VraAlerts": {"VraAlertsStatus": 0}, "VraGroup": "default_group",
     "VraIdentifier": 5377857665828093654, "VraIdentifierStr": "5377857665828093654",
     "VraName": "Z-VRA-ncesx2.nc.lab",
     "VraNetworkDataApi": {"DefaultGateway": "192.168.10.254", "SubnetMask": "255.255.255.0",
                           "VraIPAddress": "192.168.10.15", "VraIPConfigurationTypeApi": "Static"},
     "VraVersion": "7.0"},
]

#: `GET /v1/peersites`: one paired peer, "WCHL - CA".
EXAMPLE_PEERSITES: list[dict[str, Any]] = [
    {"HostName": "String content", "IncomingThroughputInMb": 1.26743233E+15,
     "Link": {"href": "https://192.168.10.20:9669/v1/peersites/057cab27-f02a-443a-989d-7f14341fa9c3",
              "identifier": "057cab27-f02a-443a-989d-7f14341fa9c3", "rel": None, "type": "PeerSiteApi"},
     "Location": "String content", "OutgoingBandWidth": 1.26743233E+15, "PairingStatus": 0,
     "PeerSiteName": "WCHL - CA", "Port": 9081, "ProvisionedStorage": 0,
     "SiteIdentifier": "057cab27-f02a-443a-989d-7f14341fa9c3", "SiteType": "VCenter",
     "UsedStorage": 0, "Version": "7.0.0"},
]

#: `GET /v1/localsite`: the values the reference gives of W:Tests/Public/Mocks/LocalSiteInfo.json
#: (section 3; fields whose values it does not give, such as Location and the contacts, left out).
EXAMPLE_LOCALSITE: dict[str, Any] = {
    "SiteName": "vSphere-Site01 at Zerto", "SiteIdentifier": "63a62dc2-ef6f-45aa-809f-9dbaeb8c06cf",
    "SiteType": "VCenter", "Version": "7.0.0", "IpAddress": "192.168.200.1", "IsReplicationToSelfEnabled": True,
    "BandwidthThrottlingInMBs": -1, "UtcOffsetInMinutes": -240,
    "Link": {"href": "https://192.168.222.1:7669/v1/localsite", "identifier": "63a62dc2-ef6f-45aa-809f-9dbaeb8c06cf",
             "rel": None, "type": "LocalSiteApi"},
}

#: A VPG with `LastTest` and `HistoryStatusApi`: W:Tests/Public/Mocks/VPGInfo.json, trimmed.
#: Variants: never tested (`"LastTest": None`), a test running (`RUNNING_TEST`).
EXAMPLE_VPG: dict[str, Any] = {
    "ActiveProcessesApi": {"RunningFailOverTestApi": None}, "ActualRPO": 6, "ConfiguredRpoSeconds": 300,
    "FailSafeHistory": {"ActualFailSafeHistory": 60, "ConfiguredFailSafeHistory": 60, "FailSafeDescription": ""},
    "HistoryStatusApi": {"ActualHistoryInMinutes": 225, "ConfiguredHistoryInMinutes": 60,
                         "EarliestCheckpoint": {"CheckpointIdentifier": "166834", "Tag": None,
                                                "TimeStamp": "2019-07-11T13:47:23Z"}},
    "LastTest": "2019-07-11T16:51:07.022Z", "ServiceProfileIdentifier": None, "Status": 1, "SubStatus": 0,
    "VmsCount": 4, "VpgIdentifier": "99c460c1-a4ec-48dd-8921-bbcca9cd29b9", "VpgName": "Exchange",
}
#: `ActiveProcessesApi.RunningFailOverTestApi` of a VPG under test: the shape of Zerto's XML
#: examples; `Stage` values are not known ("String content" is the docs' placeholder).
RUNNING_TEST: dict[str, Any] = {"Stage": "String content"}

#: An unlicensed ZVM's answer (trailing space included). Its HTTP status is not known:
#: the 403 the tests pair it with is our choice.
UNLICENSED = b'{"Message":"Valid License is not provided "}'
#: VRA `Status` names, 0-8 from Zerto's SDK (for the `status` filter of /v1/vras).
VRA_STATUSES = ["Installed", "UnsupportedEsxVersion", "NotInstalled", "Installing", "Removing",
                "InstallationError", "HostPasswordChanged", "UpdatingIpSettings", "DuringChangeHost"]
PAIRING_STATUSES = ["Paired", "Pairing", "Unpaired"]

KEYCLOAK_TOKEN_PATH = "/auth/realms/zerto/protocol/openid-connect/token"
PUBLIC_CLIENT = "zerto-client"  # the reference: grant_type=password with client_id=zerto-client
JSON_TYPE = "application/json; charset=utf-8"
SESSION_IDLE_SECONDS = 30 * 60  # the reference: "A session expires after 30 minutes without use"
NOT_ZVM_PAGE = b"<html><head><title>Welcome</title></head><body>It works.</body></html>"


def json_bytes(value: Any, *, ensure_ascii: bool = True) -> bytes:
    """The exact bytes the fake ZVM sends for a JSON answer: compact, PascalCase as given."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii).encode("utf-8")


# ---- realistic payloads ---------------------------------------------------------------

# (Status, SubStatus) pairs, in the order they are dealt: half the VPGs meet their SLA
# with no substatus, the rest walk through states the documentation pairs with each
# status (tests/fixtures/vpg-status-reference.txt, table 1). Deterministic: VPG i gets _MIX[i % len].
_MIX: list[tuple[int, int]] = [
    (1, 0), (1, 23), (1, 0), (2, 6), (1, 0), (3, 0), (1, 0), (4, 0), (1, 0), (0, 1),
    (1, 0), (2, 24), (1, 0), (1, 5), (1, 0), (0, 2), (1, 0), (6, 19), (1, 0), (2, 8),
]
_BASE_NAMES = [
    "ERP-Prod", "Zürich-Fileserver", "SQL-Cluster", "Exchange", "Malmö-Web", "東京-DB", "SAP-HANA",
    "Citrix-VDA", "São-Paulo-App", "Domain-Controllers", "Ñandú-Intranet", "Backup-Proxy",
    "Kraków-CRM", "Print", "Reykjavík-Mail", "Jira",
]
_SITES = [("Frankfurt-DC1", "Zürich-DR"), ("Amsterdam", "Dublin-DR")]
_ORGS = ["", "", "", "Acme Corp", "Müller & Söhne GmbH"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _link(kind: str, identifier: str, api_type: str) -> dict[str, Any]:
    # The reference names Link/ProtectedSite/RecoverySite as objects but not their
    # fields; this href/identifier/rel/type shape is ours (it is how ZVM links look).
    return {"href": f"https://zvm.example:9669/v1/{kind}/{identifier}", "identifier": identifier,
            "rel": None, "type": api_type}


def _timestamp(rng: random.Random, days_back: int) -> str:
    # A fixed reference day keeps the payloads deterministic.
    t = 1_718_000_000 - rng.randrange(days_back * 86_400 + 1)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _rpo(rng: random.Random, status: int, configured: int) -> int:
    if status in (2, 3):  # the RPO SLA is missed
        return configured + rng.randrange(60, 3600)
    if status == 0:  # initialising: no RPO yet (our choice; the reference is silent)
        return 0
    return rng.randrange(3, 20)


def realistic_vpgs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` PascalCase `/v1/vpgs` objects with every field the reference lists (values
    plausible, deterministic for a seed); some names are not ASCII."""
    rng = random.Random(f"vpgs-{seed}")
    site_ids = [(_uuid(rng), _uuid(rng)) for _ in _SITES]
    out = []
    for i in range(n):
        status, substatus = _MIX[i % len(_MIX)]
        s = i % len(_SITES)
        (source, target), (protected_id, recovery_id) = _SITES[s], site_ids[s]
        configured_rpo = rng.choice([300, 300, 300, 120, 600])
        configured_history = rng.choice([1440, 1440, 720, 4320])
        actual_history = configured_history if status != 4 else rng.randrange(30, configured_history // 2)
        vms = rng.randrange(1, 5)
        provisioned = rng.randrange(40_000, 4_000_000)
        identifier = _uuid(rng)
        organization = rng.choice(_ORGS)
        out.append({
            "VpgName": f"{_BASE_NAMES[i % len(_BASE_NAMES)]}-{i + 1:03d}",
            "VpgIdentifier": identifier,
            "Status": status,
            "SubStatus": substatus,
            "ActualRPO": _rpo(rng, status, configured_rpo),
            "ConfiguredRpoSeconds": configured_rpo,
            "Priority": rng.randrange(3),
            # The reference does not give AlertStatus's values; 0 with no trouble and
            # 1 otherwise is our choice.
            "AlertStatus": 0 if (status, substatus) == (1, 0) else 1,
            "VmsCount": vms,
            "ProvisionedStorageInMB": provisioned,
            "UsedStorageInMB": rng.randrange(provisioned // 10, provisioned),
            "IOPs": rng.randrange(0, 4000),
            "ThroughputInMB": round(rng.uniform(0, 80), 3),
            "ProtectedSite": _link("virtualizationsites", protected_id, "VirtualizationSiteApi"),
            "RecoverySite": _link("virtualizationsites", recovery_id, "VirtualizationSiteApi"),
            "SourceSite": source,
            "TargetSite": target,
            "OrganizationName": organization,
            "LastTest": _timestamp(rng, 180) if rng.random() < 0.4 else None,
            "ActiveProcessesApi": {"RunningFailOverTestApi": None},  # no test running (as both VPG mocks)
            # Entities: the protected/recovery site types (reference: 0 VCVpg ... 4 HyperV).
            "Entities": {"Protected": 0, "Recovery": 0, "Source": 0, "Target": 0},
            "Link": _link("vpgs", identifier, "VpgApi"),
            "HistoryStatusApi": {
                "ActualHistoryInMinutes": actual_history,
                "ConfiguredHistoryInMinutes": configured_history,
                "EarliestCheckpoint": {"CheckpointIdentifier": str(rng.randrange(10**6, 10**7)),
                                       "Tag": None, "TimeStamp": _timestamp(rng, 3), "Vss": False},
            },
            "FailSafeHistory": {"ActualFailSafeHistory": 0, "ConfiguredFailSafeHistory": 0},
            "BackupEnabled": False,
        })
    return out


def realistic_vms(vpgs: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """`/v1/vms` objects for `vpgs`: VmsCount (1-4) VMs per VPG, in the VPG's state;
    VM identity in VmName/VmIdentifier, the VPG in VpgName/VpgIdentifier; no
    ConfiguredRpoSeconds (VM objects do not carry it)."""
    rng = random.Random(f"vms-{seed}")
    out = []
    for vpg in vpgs:
        count = vpg.get("VmsCount") or rng.randrange(1, 5)
        site = (vpg.get("ProtectedSite") or {}).get("identifier") or _uuid(rng)
        stem = str(vpg.get("VpgName", "vpg")).split("-")[0].lower()
        for j in range(count):
            vm_id = f"{site}.vm-{rng.randrange(100, 99_999)}"
            out.append({
                "VmName": f"{stem}-vm{j + 1:02d}",
                "VmIdentifier": vm_id,
                "VpgName": vpg.get("VpgName"),
                "VpgIdentifier": vpg.get("VpgIdentifier"),
                "Status": vpg.get("Status"),
                "SubStatus": vpg.get("SubStatus"),
                "ActualRPO": vpg.get("ActualRPO"),
                # Live VM objects also carry these two (the /v1/vms filters take them).
                "OrganizationName": vpg.get("OrganizationName", ""),
                "Priority": vpg.get("Priority", 0),
                "Volumes": [{"VmVolumeIdentifier": f"{vm_id}.scsi:0:{k}"} for k in range(rng.randrange(1, 4))],
            })
    return out


#: Alerts `realistic_alerts` deals: (HelpIdentifier, D's title, Level, Entity). Codes,
#: titles and levels from the reference's table (a code whose alarm row says "Error /
#: Warning" gets either); Entity names are K's enum (uncertain in the reference), and
#: ZVM0006, whose row gives no level, is sent as Warning: both our choice.
_ALERT_MIX: list[tuple[str, str, str, str]] = [
    ("VPG0009", "VPG target RPO exceeded", "Warning", "Vpg"),
    ("VPG0010", "VPG target RPO exceeded", "Error", "Vpg"),
    ("VPG0003", "VPG has low journal history", "Warning", "Vpg"),
    ("VPG0004", "VPG has low journal history", "Error", "Vpg"),
    ("VPG0011", "VPG test overdue", "Warning", "Vpg"),
    ("VRA0028", "VRA powered off", "Error", "Vra"),
    ("VRA0039", "Journal reached configured limit", "Warning", "Vra"),
    ("ZVM0002", "No connection to VRA", "Error", "Zvm"),
    ("ZVM0003", "No connection to site", "Error", "Zvm"),
    ("STR0004", "Datastore low in space", "Warning", "Storage"),
    ("ZVM0006", "Upgrade available", "Warning", "Zvm"),
]
_BASE_MS = 1_718_000_000_000  # the fixed reference moment of realistic_vpgs, in ms


def realistic_alerts(n: int, vpgs: list[dict[str, Any]], seed: int = 0) -> list[dict[str, Any]]:
    """`n` `/v1/alerts` objects shaped as the reference's example (deterministic for a
    seed): VPG alerts name one of `vpgs` in AffectedVpgs; one in ten is dismissed, one
    in eight comes from the peer site; TurnedOn in Windows `/Date(ms)/` form."""
    rng = random.Random(f"alerts-{seed}")
    local, peer = _uuid(rng), _uuid(rng)
    out = []
    for i in range(n):
        code, title, level, entity = _ALERT_MIX[i % len(_ALERT_MIX)]
        vpg = vpgs[rng.randrange(len(vpgs))] if vpgs and entity == "Vpg" else None
        remote = rng.random() < 0.125
        site_id = peer if remote else local
        out.append({
            "AffectedVpgs": [] if vpg is None else [{
                "href": f"https://zvm.example:9669/v1/vpgs/{vpg['VpgIdentifier']}",
                "identifier": vpg["VpgIdentifier"], "rel": None, "type": "VpgApi"}],
            "AffectedZorgs": [], "Description": title, "Entity": entity, "HelpIdentifier": code,
            "IsDismissed": rng.random() < 0.1, "Level": level,
            "Link": {"href": f"https://zvm.example:9669/v1/alerts/alert-{i + 1:04d}",
                     "identifier": f"alert-{i + 1:04d}", "rel": None, "type": "String content"},
            "Site": {"href": f"https://zvm.example:9669/v1/{'peersites/' + peer if remote else 'localsite'}",
                     "identifier": site_id, "rel": None, "type": "PeerSiteApi" if remote else "LocalSiteApi"},
            "TurnedOn": f"/Date({_BASE_MS - rng.randrange(30 * 86_400_000)})/",
        })
    return out


def realistic_vras(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` `/v1/vras` objects shaped as GetSingleVra.json, with 64-bit identifiers; one
    in twenty in Status 5 (InstallationError), the rest Installed."""
    rng = random.Random(f"vras-{seed}")
    vcenter = _uuid(rng)
    out = []
    for i in range(n):
        vra = copy.deepcopy(EXAMPLE_VRAS[0])
        number = rng.randrange(2**62, 2**63)  # above 2**53, as the captured one
        host = f"esx{i + 1:03d}.example"
        vra.update({
            "HostIdentifier": f"{vcenter}.host-{100 + i}", "IpAddress": f"10.0.{i // 250}.{i % 250 + 1}",
            "Link": {**vra["Link"], "href": f"https://zvm.example:9669/v1/vras/{number}", "identifier": str(number)},
            "Link_{0}": {**vra["Link_{0}"], "href": f"https://zvm.example:9669/v1/vras/{number}"},
            "ProtectedCounters": {"Vms": rng.randrange(0, 20), "Volumes": rng.randrange(0, 40),
                                  "Vpgs": rng.randrange(0, 8)},
            "Status": 5 if i % 20 == 19 else 0,
            "VraIdentifier": number, "VraIdentifierStr": str(number), "VraName": f"Z-VRA-{host}",
        })
        out.append(vra)
    return out


def realistic_peersites(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` `/v1/peersites` objects shaped as the reference's example, all Paired."""
    rng = random.Random(f"peers-{seed}")
    out = []
    for i in range(n):
        site_id = _uuid(rng)
        peer = copy.deepcopy(EXAMPLE_PEERSITES[0])
        peer.update({"Link": {**peer["Link"], "href": f"https://zvm.example:9669/v1/peersites/{site_id}",
                              "identifier": site_id},
                     "PeerSiteName": f"DR-Site-{i + 1:02d}", "SiteIdentifier": site_id})
        out.append(peer)
    return out


# ---- the filters ----------------------------------------------------------------------

class _BadFilter(ValueError):
    """A filter value that is neither a number nor a known name."""


def _enum_value(value: str, names: list[str]) -> int:
    """A filter on an enum takes the code or the name ("3 or RpoNotMeetingSLA")."""
    text = value.strip()
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit():  # ("²".isdigit() is true too, and int() refuses it)
        return int(text)
    lowered = [n.casefold() for n in names]
    if text.casefold() in lowered:
        return lowered.index(text.casefold())
    raise _BadFilter(value)


def _get(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None  # type: ignore[assignment]
    return obj


def _text(value: Any) -> str:
    """A field as a filter compares it: None as "", false as "False" (the filter says "false")."""
    return "" if value is None else str(value)


def _apply_filters(items: list[dict[str, Any]], query: dict[str, str],
                   spec: dict[str, tuple[str, list[str] | None]]) -> list[dict[str, Any]]:
    """Keep the items matching every known filter in `query` (names and values compared
    without case). Filters the fake does not know are ignored."""
    for name, raw in query.items():
        if name not in spec:
            continue
        field, enum = spec[name]
        if enum is not None:
            code = _enum_value(raw, enum)
            items = [o for o in items if _get(o, field) == code]
        else:
            items = [o for o in items if _text(_get(o, field)).casefold() == raw.casefold()]
    return items


_VPG_FILTERS: dict[str, tuple[str, list[str] | None]] = {
    "name": ("VpgName", None),
    "status": ("Status", STATUSES),
    "substatus": ("SubStatus", SUBSTATUSES),
    "organizationname": ("OrganizationName", None),
    "priority": ("Priority", PRIORITIES),
    "protectedsitetype": ("Entities.Protected", SITE_TYPES),
    "recoverysitetype": ("Entities.Recovery", SITE_TYPES),
    "protectedsiteidentifier": ("ProtectedSite.identifier", None),
    "recoverysiteidentifier": ("RecoverySite.identifier", None),
    # zorgIdentifier and serviceProfileIdentifier: no such fields in these objects; ignored.
}
_VM_FILTERS: dict[str, tuple[str, list[str] | None]] = {
    "vpgname": ("VpgName", None),
    "vmname": ("VmName", None),
    "status": ("Status", STATUSES),
    "substatus": ("SubStatus", SUBSTATUSES),
    "organizationname": ("OrganizationName", None),
    "priority": ("Priority", PRIORITIES),
    "vmidentifier": ("VmIdentifier", None),
}

#: The reference's alert filters (K:zvml/alerts.py) that compare one field; vpgIdentifier,
#: zorgIdentifier, entity and the dates are not served (ignored, as unknown filters are).
_ALERT_FILTERS: dict[str, tuple[str, list[str] | None]] = {
    "helpidentifier": ("HelpIdentifier", None),
    "level": ("Level", None),
    "isdismissed": ("IsDismissed", None),  # "true"/"false" against str(bool), without case
    "siteidentifier": ("Site.identifier", None),
}
_VRA_FILTERS: dict[str, tuple[str, list[str] | None]] = {
    "vraname": ("VraName", None),
    "status": ("Status", VRA_STATUSES),
    "vragroup": ("VraGroup", None),
}
_PEER_FILTERS: dict[str, tuple[str, list[str] | None]] = {
    "pairingstatus": ("PairingStatus", PAIRING_STATUSES),
}


# ---- the server -----------------------------------------------------------------------

_CONTEXTS: dict[tuple[int, str], tuple[trustme.CA, ssl.SSLContext]] = {}
_CONTEXTS_LOCK = threading.Lock()


def _server_context(ca: trustme.CA, host: str) -> ssl.SSLContext:
    """One server certificate per (CA, host), shared by the servers of a test session."""
    with _CONTEXTS_LOCK:
        key = (id(ca), host)
        if key not in _CONTEXTS or _CONTEXTS[key][0] is not ca:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(host).configure_cert(ctx)
            _CONTEXTS[key] = (ca, ctx)
        return _CONTEXTS[key][1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    zvm: FakeZvm

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host's name up (socket.getfqdn), which can
        # stall on a machine without DNS; the fake needs no name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up or fail the TLS handshake are part of the tests: quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like a real ZVM
    server_version = "fakezvm"
    sys_version = ""
    timeout = 5  # an idle or stuck connection is dropped after this many seconds
    disable_nagle_algorithm = True  # small answers go out at once (no 40 ms delayed-ACK stalls)

    # -- connection set-up: the TLS handshake runs in this connection's own thread --
    def setup(self) -> None:
        zvm = self.server.zvm
        raw = self.request
        raw.settimeout(self.timeout)
        zvm._count("connections")
        if zvm._ssl_context is not None:
            tls = zvm._ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            self.request = tls
            zvm._track(tls)
            try:
                tls.do_handshake()
            except BaseException:
                zvm._untrack(tls)
                tls.close()
                raise
        else:
            zvm._track(raw)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.zvm._untrack(self.request)
            with contextlib.suppress(OSError):
                self.request.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- answers --
    def _send(self, status: int, body: bytes = b"", content_type: str | None = None,
              headers: dict[str, str] | None = None) -> None:
        oversized = self.server.zvm.oversized
        if oversized and content_type and "json" in content_type:
            body += b" " * max(0, oversized - len(body))  # JSON whitespace: still the same value
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(min(max(length, 0), 1 << 20)) if length else b""

    def _dispatch(self) -> None:
        zvm = self.server.zvm
        body = self._body()
        zvm._record(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
        if zvm.not_zvm:
            self._send(200, NOT_ZVM_PAGE, "text/html")
            return
        path = urlsplit(self.path).path.rstrip("/").lower() or "/"
        if path == "/v1/session/add" and self.command == "POST":
            self._session_add()
        elif path == "/v1/session" and self.command == "DELETE":
            self._session_delete()
        elif path == KEYCLOAK_TOKEN_PATH:
            self._token(body)
        elif path.startswith("/v1/") and self.command == "GET":
            self._api_get()
        else:
            self._send(404)  # minimal (our choice): no body

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _dispatch

    # -- windows sessions --
    def _session_add(self) -> None:
        zvm = self.server.zvm
        if zvm.flavour != "windows":
            self._send(404)  # the reference: the appliance answers 404 here
            return
        user, password = _basic_credentials(self.headers.get("Authorization", ""))
        if not (secrets.compare_digest(user, zvm.user) and secrets.compare_digest(password, zvm.password)):
            zvm._count("failed_logins")
            self._send(401)  # minimal (our choice): no body
            return
        if zvm.login_latency > 0:
            zvm._stopping.wait(zvm.login_latency)
        session = zvm._new_session()
        zvm._count("logins")
        if zvm.bad_token is not None:
            self._send_raw_header(b"x-zerto-session", zvm.bad_token)
            return
        self._send(200, headers={"x-zerto-session": session})

    def _session_delete(self) -> None:
        zvm = self.server.zvm
        if zvm.flavour != "windows":
            self._send(404)
            return
        if not zvm._end_session(self.headers.get("x-zerto-session", "")):
            self._send(401)
            return
        zvm._count("logouts")
        self._send(200)

    # -- appliance: Keycloak --
    def _token(self, body: bytes) -> None:
        zvm = self.server.zvm
        if zvm.flavour != "appliance":
            self._send(404)  # no Keycloak on a Windows ZVM
            return
        if self.command != "POST":
            self._send(405)
            return
        if zvm.login_latency > 0:
            zvm._stopping.wait(zvm.login_latency)
        status, answer = zvm._grant(self.headers.get("Content-Type", ""), body,
                                    self.headers.get("Authorization", ""))
        raw = json_bytes(answer)
        if status == 200 and zvm.token_answer is not None:
            raw = zvm.token_answer
        elif status == 200 and zvm.bad_token is not None:
            raw = b'{"access_token":"' + zvm.bad_token + b'","expires_in":300,"token_type":"Bearer"}'
        self._send(status, raw, "application/json")

    def _send_raw_header(self, name: bytes, value: bytes) -> None:
        """A 200 whose header `name` carries `value` byte for byte (a newline, a non-ASCII byte)."""
        self.close_connection = True
        self.wfile.write(b"HTTP/1.1 200 OK\r\n" + name + b": " + value + b"\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")

    # -- the API --
    def _api_get(self) -> None:
        zvm = self.server.zvm
        zvm._count("api_requests")
        if zvm.in_flight is not None and zvm.in_flight.held(zvm._stopping):
            self.close_connection = True
            return
        if zvm.latency > 0 and zvm._stopping.wait(zvm.latency):
            self.close_connection = True
            return
        with zvm._lock:
            reset = zvm.reset_next > 0
            if reset:
                zvm.reset_next -= 1
            fail = zvm.fail_next.pop(0) if not reset and zvm.fail_next else None
        if reset:
            self._reset()
            return
        if fail is not None:
            self._send(fail)  # minimal (our choice): no body
            return
        if zvm.redirect_to is not None:
            self._send(302, headers={"Location": zvm.redirect_to + self.path})
            return
        if zvm.unauthorized_forever or not zvm._authorised(self.headers):
            self._send(401)  # minimal (our choice): no body
            return
        if urlsplit(self.path).path.rstrip("/").lower() in zvm.dropped:
            self._reset()
            return
        status, body = zvm._answer(self.path)
        if status == 200 and zvm.deep_nesting:
            body = b"[" * zvm.deep_nesting + b"]" * zvm.deep_nesting
        if status != 200:
            self._send(status, body, JSON_TYPE if body else None)
        elif zvm.bad_chunking:
            self._bad_chunks(body)
        elif zvm.drip:
            self._drip(body)
        elif zvm.endless:
            self._endless(body)
        elif zvm.truncate:
            self._truncated(body)
        else:
            self._send(200, body, JSON_TYPE)

    def _reset(self) -> None:
        """Drop the connection without an answer (RST, not a clean close)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            socket.socket.setsockopt(self.request, socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _bad_chunks(self, body: bytes) -> None:
        """A chunked answer whose second chunk's size line is not hexadecimal
        (bad_chunking True), or is the bytes bad_chunking holds (`-10`): then
        the rest of the body follows and the connection stays open, as a
        server that keeps it alive would, until the client hangs up or the
        server stops."""
        zvm = self.server.zvm
        size_line = zvm.bad_chunking if isinstance(zvm.bad_chunking, bytes) else b"zz"
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        head = body[:1]
        with contextlib.suppress(OSError):
            self.wfile.write(b"%x\r\n%s\r\n%s\r\n%s\r\n" % (len(head), head, size_line, body[1:]))
            if size_line == b"zz":
                self.wfile.write(b"0\r\n\r\n")
                return
            self.wfile.flush()
            zvm._stopping.wait(120)

    def _drip(self, body: bytes) -> None:
        """The body one byte at a time, `drip` seconds apart (Content-Length honest)."""
        zvm = self.server.zvm
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                if zvm._stopping.wait(zvm.drip):
                    break
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _truncated(self, body: bytes) -> None:
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(body) * 2 + 100))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self, body: bytes) -> None:
        """A chunked JSON array that never ends, until the client hangs up or the server stops."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        items = body[1:-1] if len(body) > 2 else b'{"Status":1,"SubStatus":0}'
        piece = (items + b",") * max(1, 65536 // (len(items) + 1))
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        try:
            self.wfile.write(b"1\r\n[\r\n")
            while not self.server.zvm._stopping.is_set():
                self.wfile.write(chunk)
                time.sleep(0.001)
        except OSError:
            pass


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password



class InFlight:
    """API requests in flight across the servers that share it, and the most
    there ever were at once: a test of concurrency that counts, not times.
    Each request waits until `until` are in flight (or `patience` seconds have
    passed, so a client that reads one site at a time is slow, not hung), then
    answers."""

    def __init__(self, until: int, patience: float = 10.0) -> None:
        self.until, self.patience = until, patience
        self.now = self.peak = 0
        self._changed = threading.Condition()

    def held(self, stopping: threading.Event) -> bool:
        """Count this request in, wait as above, count it out; True when the server is stopping."""
        with self._changed:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.peak >= self.until or stopping.is_set(), self.patience)
            self.now -= 1
        return stopping.is_set()

class FakeZvm:
    """A fake ZVM of one flavour ("windows" or "appliance") on https://127.0.0.1:PORT.

    Counters (read them any time): logins and failed_logins (session/add, password and
    client_credentials grants), refreshes, logouts (successful DELETE /v1/session),
    api_requests (every GET under /v1/), requests (method, target, lower-cased headers
    of every request, in order).

    Switches (plain attributes, set them any time; vpgs, vms, statuses and substatuses
    are read on every request too). For each API GET, in this order:
    latency (seconds to wait) -> reset_next (drop the connection, RST, no answer) ->
    fail_next (answer the first status of the list, no body) -> redirect_to (302) ->
    authorisation (401; unauthorized_forever: always, though logins and logouts work) ->
    dropped (the paths whose every GET is dropped like reset_next) ->
    deep_nesting (n: the body is n `[` then n `]`) -> truncate (Content-Length larger
    than the body, then close), endless (a chunked JSON array that never ends),
    bad_chunking (True: a chunk whose size line is not hexadecimal; bytes: that size
    line, e.g. b"-10", and the connection kept open) or drip (seconds between
    the bytes of the body, sent one at a time). not_zvm answers every request, logins
    included, 200 text/html. Token lifetimes apply to tokens issued afterwards;
    session_idle_timeout (1800 s) to the next use of a session. ensure_ascii=False
    sends non-ASCII text as raw UTF-8 instead of \\u escapes.

    Hostile logins: login_latency (seconds before a login answers); bad_token (bytes:
    the session id in the x-zerto-session header, or the access token, sent as they
    are: a newline, a non-ASCII byte) and token_answer (bytes: the whole body of a
    successful grant, e.g. an `expires_in` of 1e999); oversized (n: every JSON answer,
    token answers included, padded with spaces to at least n bytes).
    """

    def __init__(self, flavour: str, *, ca: trustme.CA, host: str = "127.0.0.1",
                 vpgs: list[dict[str, Any]] | None = None, vms: list[dict[str, Any]] | None = None,
                 user: str = "monitor", password: str = "pa55-W0rd!x",
                 client_id: str = "zvpg-monitor", client_secret: str = "cl13nt-S3cr3t",
                 tls: bool = True, statuses: list[str] | None = None,
                 substatuses: list[str] | None = None, alerts: list[dict[str, Any]] | None = None,
                 vras: list[dict[str, Any]] | None = None, peersites: list[dict[str, Any]] | None = None,
                 localsite: dict[str, Any] | None = None) -> None:
        if flavour not in ("windows", "appliance"):
            raise ValueError(f"flavour must be 'windows' or 'appliance', not {flavour!r}")
        self.flavour = flavour
        self.ca, self.host, self.tls = ca, host, tls
        self.vpgs: list[dict[str, Any]] = realistic_vpgs(12) if vpgs is None else vpgs
        self.vms: list[dict[str, Any]] = realistic_vms(self.vpgs) if vms is None else vms
        self.statuses: list[str] = list(STATUSES if statuses is None else statuses)
        self.substatuses: list[str] = list(SUBSTATUSES if substatuses is None else substatuses)
        self.alerts: list[dict[str, Any]] = copy.deepcopy(EXAMPLE_ALERTS if alerts is None else alerts)
        self.vras: list[dict[str, Any]] = copy.deepcopy(EXAMPLE_VRAS if vras is None else vras)
        self.peersites: list[dict[str, Any]] = copy.deepcopy(EXAMPLE_PEERSITES if peersites is None else peersites)
        self.localsite: dict[str, Any] = copy.deepcopy(EXAMPLE_LOCALSITE if localsite is None else localsite)
        self.user, self.password = user, password
        self.client_id, self.client_secret = client_id, client_secret
        # counters
        self.logins = self.failed_logins = self.refreshes = self.logouts = self.api_requests = 0
        self.connections = 0  # connections accepted (TCP, then TLS)
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        # switches
        self.latency = 0.0
        #: shared by several servers: counts their API requests in flight (InFlight)
        self.in_flight: InFlight | None = None
        self.access_token_lifetime = 300  # Keycloak's default (the reference)
        self.refresh_token_lifetime = 1800
        self.fail_next: list[int] = []
        self.reset_next = 0
        self.truncate = False
        self.endless = False
        self.redirect_to: str | None = None
        self.unauthorized_forever = False
        self.missing: set[str] = set()  # API paths this ZVM does not have (404), e.g. an older version's
        #: per API path (lower case, no query): the (status, body) it answers instead, every time,
        #: e.g. {"/v1/alerts": (403, UNLICENSED), "/v1/vras": (500, b"")}
        self.errors: dict[str, tuple[int, bytes]] = {}
        #: API paths (lower case, no query) whose every authorised GET is dropped (RST, no answer)
        self.dropped: set[str] = set()
        self.deep_nesting = 0
        self.bad_chunking: bool | bytes = False
        self.drip = 0.0
        self.login_latency = 0.0
        self.bad_token: bytes | None = None
        self.token_answer: bytes | None = None
        self.oversized = 0
        self.not_zvm = False
        self.ensure_ascii = True  # False: non-ASCII text as raw UTF-8 instead of \\u escapes
        self.session_idle_timeout: float = SESSION_IDLE_SECONDS
        # state
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sessions: dict[str, float] = {}  # session id -> last use (monotonic)
        self._access: dict[str, float] = {}  # access token -> expiry (monotonic)
        self._refresh: dict[str, tuple[float, str]] = {}  # refresh token -> (expiry, client id)
        self._connections: set[socket.socket] = set()
        self._ssl_context = _server_context(ca, host) if tls else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- life cycle --
    def start(self) -> FakeZvm:
        server = _Server((self.host, 0), _Handler)
        server.zvm = self
        self._server = server
        port = server.server_address[1]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{'https' if self.tls else 'http'}://{shown}:{port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fakezvm-{self.flavour}-{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and hang up on every open connection (never waits long)."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> FakeZvm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- switches that act on state --
    def expire_all(self) -> None:
        """Invalidate every session and access token issued so far (next use: 401).
        Refresh tokens stay valid: a client can refresh (see refresh_token_lifetime)."""
        with self._lock:
            self._sessions.clear()
            self._access.clear()

    def body_of(self, path: str) -> bytes:
        """The exact body a 200 answer to `GET path` (with its query) carries now."""
        status, body = self._answer(path)
        if status != 200:
            raise ValueError(f"GET {path} answers {status}")
        return body

    # -- internals used by the handler --
    def _record(self, method: str, target: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, target, headers))

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _new_session(self) -> str:
        session = str(uuid.uuid4())
        with self._lock:
            self._sessions[session] = time.monotonic()
        return session

    def _end_session(self, session: str) -> bool:
        with self._lock:
            return self._live_session(session) and self._sessions.pop(session, None) is not None

    def _live_session(self, session: str) -> bool:
        """(Under the lock.) A live session; using it counts as use."""
        last = self._sessions.get(session)
        now = time.monotonic()
        if last is None or now - last >= self.session_idle_timeout:
            self._sessions.pop(session, None)
            return False
        self._sessions[session] = now
        return True

    def _authorised(self, headers: Any) -> bool:
        with self._lock:
            if self.flavour == "windows":
                return self._live_session(headers.get("x-zerto-session", ""))
            scheme, _, token = (headers.get("Authorization") or "").partition(" ")
            expiry = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
            return expiry is not None and time.monotonic() < expiry

    def _tokens(self, client_id: str) -> dict[str, Any]:
        # Opaque random tokens (real Keycloak issues JWTs; clients must not look inside).
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._access[access] = now + self.access_token_lifetime
            self._refresh[refresh] = (now + self.refresh_token_lifetime, client_id)
        return {"access_token": access, "expires_in": self.access_token_lifetime, "refresh_token": refresh,
                "refresh_expires_in": self.refresh_token_lifetime, "token_type": "Bearer"}

    def _grant(self, content_type: str, body: bytes, authorization: str) -> tuple[int, dict[str, Any]]:
        """Keycloak's token endpoint. The error answers (status and `error` codes) are
        Keycloak's usual ones, not behaviour Zerto documents."""
        form: dict[str, str] = {}
        if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization.lower().startswith("basic "):  # client_secret_basic, as Keycloak allows
            client_id, client_secret = _basic_credentials(authorization)
        grant = form.get("grant_type")
        if grant is None:
            return 400, {"error": "invalid_request", "error_description": "Missing form parameter: grant_type"}
        if grant == "password":
            if client_id != PUBLIC_CLIENT:
                self._count("failed_logins")
                return 401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
            if not (secrets.compare_digest(form.get("username", ""), self.user)
                    and secrets.compare_digest(form.get("password", ""), self.password)):
                self._count("failed_logins")
                return 401, {"error": "invalid_grant", "error_description": "Invalid user credentials"}
            self._count("logins")
            return 200, self._tokens(client_id)
        if grant == "client_credentials":
            if not (secrets.compare_digest(client_id, self.client_id)
                    and secrets.compare_digest(client_secret, self.client_secret)):
                self._count("failed_logins")
                return 401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
            self._count("logins")
            return 200, self._tokens(client_id)
        if grant == "refresh_token":
            # A confidential client authenticates on refresh too (as Keycloak requires).
            if client_id == self.client_id and not secrets.compare_digest(client_secret, self.client_secret):
                return 401, {"error": "invalid_client", "error_description": "Invalid client credentials"}
            with self._lock:
                expiry, owner = self._refresh.get(form.get("refresh_token", ""), (0.0, ""))
            if time.monotonic() >= expiry or owner != client_id:
                return 400, {"error": "invalid_grant", "error_description": "Token is not active"}
            self._count("refreshes")
            return 200, self._tokens(client_id)
        return 400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"}

    def _answer(self, target: str) -> tuple[int, bytes]:
        """(status, body) of an authorised `GET target`."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/").lower()
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        try:
            if path in self.missing:
                return 404, b""
            if path in self.errors:
                return self.errors[path]
            if path == "/v1/vpgs":
                data: Any = _apply_filters(self.vpgs, query, _VPG_FILTERS)
            elif path == "/v1/vms":
                data = _apply_filters(self.vms, query, _VM_FILTERS)
            elif path == "/v1/vpgs/statuses":
                data = self.statuses
            elif path == "/v1/vpgs/substatuses":
                data = self.substatuses
            elif path == "/v1/alerts":
                data = _apply_filters(self.alerts, query, _ALERT_FILTERS)
            elif path == "/v1/vras":
                data = _apply_filters(self.vras, query, _VRA_FILTERS)
            elif path == "/v1/peersites":
                data = _apply_filters(self.peersites, query, _PEER_FILTERS)
            elif path == "/v1/localsite":
                data = self.localsite
            else:
                return 404, b""
        except _BadFilter:
            return 400, b""  # the reference is silent about bad filter values; minimal (ours)
        return 200, json_bytes(data, ensure_ascii=self.ensure_ascii)


# ---- pytest fixtures ------------------------------------------------------------------

@pytest.fixture(scope="session")
def zvm_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(zvm_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("zvm-ca") / "ca.pem"
    zvm_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def windows_zvm(zvm_ca: trustme.CA) -> Iterator[FakeZvm]:
    with FakeZvm("windows", ca=zvm_ca) as zvm:
        yield zvm


@pytest.fixture
def appliance_zvm(zvm_ca: trustme.CA) -> Iterator[FakeZvm]:
    with FakeZvm("appliance", ca=zvm_ca) as zvm:
        yield zvm


# ---- script mode ----------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run fake ZVMs until stdin closes or SIGTERM.")
    parser.add_argument("--flavour", choices=["windows", "appliance"], default="appliance")
    parser.add_argument("--count", type=int, default=1, help="how many servers (each its own port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each API answer")
    parser.add_argument("--latencies", default=None, metavar="S,S,...",
                        help="each server's own latency, in order (the last one for the servers after it)")
    parser.add_argument("--vpgs", type=int, default=12, help="VPGs per server")
    parser.add_argument("--alerts", type=int, default=None,
                        help="realistic alerts per server instead of the reference's two examples")
    parser.add_argument("--vras", type=int, default=None, help="realistic VRAs per server")
    parser.add_argument("--peers", type=int, default=None, help="realistic peer sites per server")
    parser.add_argument("--ca-dir", required=True, help="folder to write the CA certificate (ca.pem) into")
    parser.add_argument("--no-tls", action="store_true", help="plain http://")
    args = parser.parse_args(argv)
    latencies = [float(x) for x in args.latencies.split(",")] if args.latencies else [args.latency]

    ca = trustme.CA()
    ca_dir = Path(args.ca_dir)
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca.cert_pem.write_to_path(str(ca_dir / "ca.pem"))
    servers: list[FakeZvm] = []

    def _terminate(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    try:
        for i in range(args.count):
            vpgs = realistic_vpgs(args.vpgs, seed=i)
            zvm = FakeZvm(args.flavour, ca=ca, vpgs=vpgs, vms=realistic_vms(vpgs, seed=i), tls=not args.no_tls,
                          alerts=None if args.alerts is None else realistic_alerts(args.alerts, vpgs, seed=i),
                          vras=None if args.vras is None else realistic_vras(args.vras, seed=i),
                          peersites=None if args.peers is None else realistic_peersites(args.peers, seed=i))
            zvm.latency = latencies[min(i, len(latencies) - 1)]
            servers.append(zvm.start())
            print(zvm.url)
        print("READY", flush=True)
        sys.stdin.buffer.read()  # until stdin closes
    except KeyboardInterrupt:
        pass
    finally:
        for zvm in servers:
            zvm.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Self-test of the fake ZVM (tests/fakezvm.py), with the standard library's http.client
and ssl: both flavours' logins, the 401s, each switch once, and script mode."""

from __future__ import annotations

import base64
import functools
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import trustme
from fakezvm import (
    EXAMPLE_ALERTS,
    EXAMPLE_PEERSITES,
    EXAMPLE_VPG,
    EXAMPLE_VRAS,
    KEYCLOAK_TOKEN_PATH,
    RUNNING_TEST,
    STATUSES,
    SUBSTATUSES,
    TURNED_ON_ISO,
    UNLICENSED,
    FakeZvm,
    json_bytes,
    realistic_alerts,
    realistic_peersites,
    realistic_vms,
    realistic_vpgs,
    realistic_vras,
)
from hypothesis import given, settings
from hypothesis import strategies as st

pytest_plugins = ["fakezvm"]  # its fixtures: zvm_ca, ca_file, windows_zvm, appliance_zvm

BASIC = "Basic " + base64.b64encode(b"monitor:pa55-W0rd!x").decode()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def connect(zvm: FakeZvm, ca: trustme.CA | None) -> http.client.HTTPConnection:
    parts = urlsplit(zvm.url)
    assert parts.hostname and parts.port
    if parts.scheme == "http":
        return http.client.HTTPConnection(parts.hostname, parts.port, timeout=3)
    return http.client.HTTPSConnection(parts.hostname, parts.port, context=client_context(ca), timeout=3)


@functools.cache
def client_context(ca: trustme.CA | None) -> ssl.SSLContext:
    """A verifying client context that trusts `ca` (None: the system's CAs only)."""
    ctx = ssl.create_default_context()
    if ca is not None:
        ca.configure_trust(ctx)
    return ctx


def call(zvm: FakeZvm, ca: trustme.CA, method: str, path: str, headers: dict[str, str] | None = None,
         body: str | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
    conn = connect(zvm, ca)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp, resp.read()
    finally:
        conn.close()


def session(zvm: FakeZvm, ca: trustme.CA) -> dict[str, str]:
    status, resp, _ = call(zvm, ca, "POST", "/v1/session/add", {"Authorization": BASIC})
    assert status == 200
    return {"x-zerto-session": resp.getheader("x-zerto-session") or ""}


def token(zvm: FakeZvm, ca: trustme.CA, **form: str) -> tuple[int, dict[str, Any]]:
    status, _, body = call(zvm, ca, "POST", KEYCLOAK_TOKEN_PATH, FORM, urlencode(form))
    return status, json.loads(body)


def password_grant(zvm: FakeZvm, ca: trustme.CA) -> dict[str, Any]:
    status, answer = token(zvm, ca, grant_type="password", client_id="zerto-client",
                           username="monitor", password="pa55-W0rd!x")
    assert status == 200, answer
    return answer


def bearer(answer: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['access_token']}"}


# ---- windows ------------------------------------------------------------------------

def test_windows_session_login_api_and_logout(windows_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    z = windows_zvm
    assert z.url.startswith("https://127.0.0.1:")
    assert call(z, zvm_ca, "POST", "/v1/session/add", {"Authorization": "Basic bm9wZTpub3Bl"})[0] == 401
    assert call(z, zvm_ca, "GET", "/v1/vpgs")[0] == 401
    assert call(z, zvm_ca, "GET", "/v1/vpgs", {"x-zerto-session": "made-up"})[0] == 401
    headers = session(z, zvm_ca)
    status, resp, body = call(z, zvm_ca, "GET", "/v1/vpgs", headers)
    assert (status, resp.getheader("Content-Type")) == (200, "application/json; charset=utf-8")
    assert body == z.body_of("/v1/vpgs") == json.dumps(z.vpgs, separators=(",", ":")).encode()
    assert call(z, zvm_ca, "DELETE", "/v1/session", headers)[0] == 200
    assert call(z, zvm_ca, "GET", "/v1/vpgs", headers)[0] == 401
    assert call(z, zvm_ca, "POST", KEYCLOAK_TOKEN_PATH, FORM, "grant_type=password")[0] == 404
    assert (z.logins, z.failed_logins, z.logouts, z.api_requests) == (1, 1, 1, 4)
    method, target, seen = z.requests[2]
    assert (method, target, seen["x-zerto-session"]) == ("GET", "/v1/vpgs", "made-up")


def test_windows_expire_all_and_idle_timeout(windows_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    headers = session(windows_zvm, zvm_ca)
    windows_zvm.expire_all()
    assert call(windows_zvm, zvm_ca, "GET", "/v1/vms", headers)[0] == 401
    windows_zvm.session_idle_timeout = 0
    assert call(windows_zvm, zvm_ca, "GET", "/v1/vms", session(windows_zvm, zvm_ca))[0] == 401


# ---- appliance ----------------------------------------------------------------------

def test_appliance_password_grant_refresh_and_expiry(appliance_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    z = appliance_zvm
    assert call(z, zvm_ca, "POST", "/v1/session/add", {"Authorization": BASIC})[0] == 404
    status, answer = token(z, zvm_ca, grant_type="password", client_id="zerto-client",
                           username="monitor", password="wrong")
    assert (status, answer["error"]) == (401, "invalid_grant")
    answer = password_grant(z, zvm_ca)
    assert answer["token_type"] == "Bearer"
    assert (answer["expires_in"], answer["refresh_expires_in"]) == (300, 1800)
    assert call(z, zvm_ca, "GET", "/v1/vpgs", {"x-zerto-session": answer["access_token"]})[0] == 401
    status, _, body = call(z, zvm_ca, "GET", "/v1/vms", bearer(answer))
    assert status == 200 and body == z.body_of("/v1/vms")
    z.expire_all()
    assert call(z, zvm_ca, "GET", "/v1/vms", bearer(answer))[0] == 401
    status, fresh = token(z, zvm_ca, grant_type="refresh_token", client_id="zerto-client",
                          refresh_token=answer["refresh_token"])
    assert status == 200 and call(z, zvm_ca, "GET", "/v1/vms", bearer(fresh))[0] == 200
    z.access_token_lifetime = z.refresh_token_lifetime = 0
    short = password_grant(z, zvm_ca)
    assert call(z, zvm_ca, "GET", "/v1/vms", bearer(short))[0] == 401
    status, answer = token(z, zvm_ca, grant_type="refresh_token", client_id="zerto-client",
                           refresh_token=short["refresh_token"])
    assert (status, answer["error"]) == (400, "invalid_grant")
    assert (z.logins, z.failed_logins, z.refreshes) == (2, 1, 1)


def test_appliance_client_credentials(appliance_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    z = appliance_zvm
    status, answer = token(z, zvm_ca, grant_type="client_credentials", client_id="zvpg-monitor",
                           client_secret="wrong")
    assert status == 401 and answer["error"]
    status, answer = token(z, zvm_ca, grant_type="client_credentials", client_id="zvpg-monitor",
                           client_secret="cl13nt-S3cr3t")
    assert status == 200 and call(z, zvm_ca, "GET", "/v1/vpgs/statuses", bearer(answer))[0] == 200
    assert token(z, zvm_ca)[0] == 400  # no grant_type


# ---- both ---------------------------------------------------------------------------

def test_lists_and_their_override(zvm_ca: trustme.CA) -> None:
    with FakeZvm("windows", ca=zvm_ca, statuses=["A", "B"], substatuses=["None", "X"]) as z:
        assert z.body_of("/v1/vpgs/statuses") == b'["A","B"]'
        assert z.body_of("/v1/vpgs/substatuses") == b'["None","X"]'
    assert len(STATUSES) == 9 and STATUSES[3] == "RpoNotMeetingSLA"
    assert len(SUBSTATUSES) == 33 and SUBSTATUSES[23] == "BitmapSync" and SUBSTATUSES[32] == "VmNotProtectedError"


def test_filters_are_case_insensitive(windows_zvm: FakeZvm) -> None:
    z = windows_zvm
    rpo = json.loads(z.body_of("/v1/vpgs?STATUS=rponotmeetingsla"))
    assert rpo and rpo == json.loads(z.body_of("/v1/vpgs?status=3"))
    assert {v["Status"] for v in rpo} == {3}
    name = z.vpgs[0]["VpgName"]
    assert [v["VpgName"] for v in json.loads(z.body_of(f"/v1/vpgs?name={name.upper()}"))] == [name]
    assert {v["SubStatus"] for v in json.loads(z.body_of("/v1/vpgs?subStatus=BitmapSync"))} == {23}
    vms = json.loads(z.body_of(f"/v1/vms?vpgname={name.lower()}"))
    assert vms and {v["VpgName"] for v in vms} == {name}
    assert json.loads(z.body_of(f"/v1/vms?vmName={vms[0]['VmName'].upper()}&vpgName={name}")) == [vms[0]]
    with pytest.raises(ValueError):
        z.body_of("/v1/vpgs?status=NoSuchStatus")


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "status", "subStatus", "priority", "vmName", "x"]),
                       st.text(max_size=12), max_size=3))
def test_any_filter_gives_a_subset_or_a_400(query: dict[str, str]) -> None:
    z = _OFFLINE
    for path, items in (("/v1/vpgs", z.vpgs), ("/v1/vms", z.vms)):
        status, body = z._answer(f"{path}?{urlencode(query)}")
        assert status in (200, 400)
        if status == 200:
            assert all(item in items for item in json.loads(body))


_OFFLINE = FakeZvm("windows", ca=trustme.CA(), tls=False)


def test_realistic_payloads() -> None:
    vpgs = realistic_vpgs(40, seed=3)
    assert vpgs == realistic_vpgs(40, seed=3) != realistic_vpgs(40, seed=4)
    fields = {"VpgName", "VpgIdentifier", "Status", "SubStatus", "ActualRPO", "ConfiguredRpoSeconds", "Priority",
              "AlertStatus", "VmsCount", "ProvisionedStorageInMB", "UsedStorageInMB", "IOPs", "ThroughputInMB",
              "ProtectedSite", "RecoverySite", "SourceSite", "TargetSite", "OrganizationName", "LastTest",
              "Entities", "Link", "HistoryStatusApi", "FailSafeHistory", "BackupEnabled"}
    assert all(fields <= v.keys() for v in vpgs)
    pairs = [(v["Status"], v["SubStatus"]) for v in vpgs]
    assert pairs.count((1, 0)) >= len(pairs) // 2 and {(1, 23), (2, 6), (3, 0), (4, 0), (0, 1), (2, 24)} <= set(pairs)
    assert any(not v["VpgName"].isascii() for v in vpgs)
    assert len({v["VpgName"] for v in vpgs}) == len(vpgs)
    vms = realistic_vms(vpgs)
    assert len(vms) == sum(v["VmsCount"] for v in vpgs) and all(1 <= v["VmsCount"] <= 4 for v in vpgs)
    assert all("ConfiguredRpoSeconds" not in vm and vm["Volumes"] for vm in vms)
    assert len({vm["VmIdentifier"] for vm in vms}) == len(vms)


# ---- site health: alerts, VRAs, peer sites -------------------------------------------

SITE_HEALTH = Path(__file__).resolve().parent / "fixtures" / "zerto-site-health.md"


def _reference_example(endpoint: str) -> Any:
    """The JSON block under the reference's "**`GET <endpoint>`**" example (section 8)."""
    text = SITE_HEALTH.read_text(encoding="utf-8").split("## 8. Example payloads", 1)[1]
    block = text.split(f"**`GET {endpoint}`**", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    return json.loads(block)


def test_the_site_health_examples_are_the_references() -> None:
    assert _reference_example("/v1/alerts") == EXAMPLE_ALERTS
    assert _reference_example("/v1/vras") == EXAMPLE_VRAS
    assert _reference_example("/v1/peersites") == EXAMPLE_PEERSITES
    text = SITE_HEALTH.read_text(encoding="utf-8")
    vpg = json.loads(text.split("**VPG with `LastTest`/`HistoryStatusApi`**", 1)[1]
                     .split("```json\n", 1)[1].split("```", 1)[0])
    assert vpg == EXAMPLE_VPG
    assert UNLICENSED.decode() in text and '"Stage": "String content"' in text
    assert RUNNING_TEST == {"Stage": "String content"}
    # the ISO variant is the same instant as /Date(1531938627284)/
    assert time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1531938627.284)) + ".284Z" == TURNED_ON_ISO


@pytest.mark.parametrize("flavour", ["windows", "appliance"])
def test_both_kinds_serve_alerts_vras_and_peer_sites(zvm_ca: trustme.CA, flavour: str) -> None:
    with FakeZvm(flavour, ca=zvm_ca) as z:
        auth = session(z, zvm_ca) if flavour == "windows" else bearer(password_grant(z, zvm_ca))
        for path, value in (("/v1/alerts", EXAMPLE_ALERTS), ("/v1/vras", EXAMPLE_VRAS),
                            ("/v1/peersites", EXAMPLE_PEERSITES)):
            assert call(z, zvm_ca, "GET", path)[0] == 401
            status, resp, body = call(z, zvm_ca, "GET", path, auth)
            assert (status, resp.getheader("Content-Type")) == (200, "application/json; charset=utf-8")
            assert body == json_bytes(value) and json.loads(body) == value
        _, _, body = call(z, zvm_ca, "GET", "/v1/vras", auth)
        assert b'"VraIdentifier":5377857665828093654,' in body  # the 64-bit number, as sent
        status, _, body = call(z, zvm_ca, "GET", "/v1/localsite", auth)
        assert status == 200 and json.loads(body)["UtcOffsetInMinutes"] == -240


def test_site_health_filters(windows_zvm: FakeZvm) -> None:
    z = windows_zvm
    codes = lambda q: [a["HelpIdentifier"] for a in json.loads(z.body_of(f"/v1/alerts?{q}"))]  # noqa: E731
    assert codes("isDismissed=false") == ["VPG0010"] and codes("isDismissed=true") == ["ZVM0003"]
    assert codes("helpIdentifier=zvm0003") == ["ZVM0003"] and codes("level=error") == ["VPG0010"]
    assert codes("siteIdentifier=057cab27-f02a-443a-989d-7f14341fa9c3") == ["ZVM0003"]
    assert json.loads(z.body_of("/v1/vras?status=InstallationError")) == []
    z.vras[0]["Status"] = 5
    assert [v["Status"] for v in json.loads(z.body_of("/v1/vras?status=5"))] == [5]
    assert json.loads(z.body_of("/v1/peersites?pairingStatus=Unpaired")) == []
    z.peersites[0]["PairingStatus"] = 2
    assert json.loads(z.body_of("/v1/peersites?pairingStatus=2"))[0]["PeerSiteName"] == "WCHL - CA"
    with pytest.raises(ValueError):
        z.body_of("/v1/peersites?pairingStatus=Unpairing")  # claranet's name: no such status
    assert EXAMPLE_PEERSITES[0]["PairingStatus"] == 0  # the server works on its own copy


@pytest.mark.parametrize("flavour", ["windows", "appliance"])
def test_each_endpoint_can_answer_its_own_error(zvm_ca: trustme.CA, flavour: str) -> None:
    with FakeZvm(flavour, ca=zvm_ca) as z:
        auth = session(z, zvm_ca) if flavour == "windows" else bearer(password_grant(z, zvm_ca))
        z.errors["/v1/alerts"] = (403, UNLICENSED)
        z.errors["/v1/vras"] = (500, b"")
        status, resp, body = call(z, zvm_ca, "GET", "/v1/alerts?isDismissed=false", auth)
        assert (status, body, resp.getheader("Content-Type")) == (403, UNLICENSED, "application/json; charset=utf-8")
        assert json.loads(body) == {"Message": "Valid License is not provided "}
        status, resp, body = call(z, zvm_ca, "GET", "/v1/vras", auth)
        assert (status, body, resp.getheader("Content-Type")) == (500, b"", None)
        assert call(z, zvm_ca, "GET", "/v1/peersites", auth)[0] == 200
        assert call(z, zvm_ca, "GET", "/v1/vpgs", auth)[0] == 200
        del z.errors["/v1/alerts"]
        assert call(z, zvm_ca, "GET", "/v1/alerts", auth)[0] == 200


def test_vpgs_carry_their_last_test_and_a_running_test(windows_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    never = {**EXAMPLE_VPG, "VpgName": "Never", "VpgIdentifier": "v-never", "LastTest": None}
    running = {**EXAMPLE_VPG, "VpgName": "Running", "VpgIdentifier": "v-running",
               "ActiveProcessesApi": {"RunningFailOverTestApi": RUNNING_TEST}}
    with FakeZvm("windows", ca=zvm_ca, vpgs=[EXAMPLE_VPG, never, running]) as z:
        _, _, body = call(z, zvm_ca, "GET", "/v1/vpgs", session(z, zvm_ca))
        served = {v["VpgName"]: v for v in json.loads(body)}
    assert served["Exchange"]["LastTest"] == "2019-07-11T16:51:07.022Z" and served["Never"]["LastTest"] is None
    assert served["Running"]["ActiveProcessesApi"]["RunningFailOverTestApi"] == {"Stage": "String content"}
    assert all(v["ActiveProcessesApi"] == {"RunningFailOverTestApi": None} for v in windows_zvm.vpgs)


def test_realistic_site_health_payloads_are_shaped_as_the_examples() -> None:
    from zvpg_cli.knowledge.alerts import load

    vpgs = realistic_vpgs(50)
    alerts = realistic_alerts(500, vpgs)
    assert alerts == realistic_alerts(500, vpgs) != realistic_alerts(500, vpgs, seed=1)
    assert all(a.keys() == EXAMPLE_ALERTS[0].keys() for a in alerts)
    known = load()
    for a in alerts:  # every code, title and level is one the reference's table gives
        entry = known.alert(a["HelpIdentifier"])
        assert entry is not None and a["Description"] == entry.title
        assert a["Level"] in (entry.level or "Warning").split(" / ")
    ids = {v["VpgIdentifier"] for v in vpgs}
    assert all(link["identifier"] in ids for a in alerts for link in a["AffectedVpgs"])
    assert any(a["IsDismissed"] for a in alerts) and any(a["Site"]["type"] == "PeerSiteApi" for a in alerts)
    assert len({a["Link"]["identifier"] for a in alerts}) == 500
    vras = realistic_vras(200)
    assert all(v.keys() == EXAMPLE_VRAS[0].keys() for v in vras)
    assert all(v["VraIdentifierStr"] == str(v["VraIdentifier"]) and v["VraIdentifier"] > 2**53 for v in vras)
    assert len({v["VraIdentifierStr"] for v in vras}) == 200 and {v["Status"] for v in vras} == {0, 5}
    peers = realistic_peersites(10)
    assert all(p.keys() == EXAMPLE_PEERSITES[0].keys() and p["PairingStatus"] == 0 for p in peers)
    assert len({p["PeerSiteName"] for p in peers}) == 10


def test_ensure_ascii_off_sends_raw_utf8(windows_zvm: FakeZvm) -> None:
    windows_zvm.ensure_ascii = False
    body = windows_zvm.body_of("/v1/vpgs")
    assert body == json_bytes(windows_zvm.vpgs, ensure_ascii=False) and "東京".encode() in body


# ---- switches -----------------------------------------------------------------------

def test_latency_fail_next_reset_next_and_redirect(windows_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    z = windows_zvm
    headers = session(z, zvm_ca)
    z.latency = 0.2
    started = time.monotonic()
    assert call(z, zvm_ca, "GET", "/v1/vpgs", headers)[0] == 200
    assert 0.2 <= time.monotonic() - started < 2
    z.latency = 0
    z.fail_next = [503, 502]
    assert [call(z, zvm_ca, "GET", "/v1/vpgs", headers)[0] for _ in range(3)] == [503, 502, 200]
    z.reset_next = 1
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, ssl.SSLError)):
        call(z, zvm_ca, "GET", "/v1/vpgs", headers)
    assert call(z, zvm_ca, "GET", "/v1/vpgs", headers)[0] == 200
    z.redirect_to = "https://elsewhere.example"
    status, resp, _ = call(z, zvm_ca, "GET", "/v1/vpgs?status=1", headers)
    assert (status, resp.getheader("Location")) == (302, "https://elsewhere.example/v1/vpgs?status=1")


def test_hostile_answers(windows_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    z = windows_zvm
    headers = session(z, zvm_ca)
    z.deep_nesting = 3
    assert call(z, zvm_ca, "GET", "/v1/vpgs", headers)[2] == b"[[[]]]"
    z.deep_nesting = 0
    z.oversized = 100_000
    body = call(z, zvm_ca, "GET", "/v1/vpgs/statuses", headers)[2]
    assert len(body) == 100_000 and json.loads(body) == STATUSES
    z.oversized = 0
    z.bad_chunking = True
    with pytest.raises((http.client.IncompleteRead, ValueError)):
        call(z, zvm_ca, "GET", "/v1/vpgs", headers)
    z.bad_chunking = False
    z.drip = 0.001  # one byte at a time, honest Content-Length: the whole answer comes, slowly
    assert json.loads(call(z, zvm_ca, "GET", "/v1/vpgs/statuses", headers)[2]) == STATUSES
    z.drip = 0
    z.missing = {"/v1/vpgs/substatuses"}
    assert call(z, zvm_ca, "GET", "/v1/vpgs/substatuses", headers)[0] == 404
    z.unauthorized_forever = True
    assert call(z, zvm_ca, "GET", "/v1/vpgs", headers)[0] == 401
    assert session(z, zvm_ca) and call(z, zvm_ca, "DELETE", "/v1/session", headers)[0] == 200  # logins still work


def test_bad_tokens(windows_zvm: FakeZvm, appliance_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    windows_zvm.bad_token = b"t\xe2\x82\xacok"
    status, resp, _ = call(windows_zvm, zvm_ca, "POST", "/v1/session/add", {"Authorization": BASIC})
    assert status == 200 and resp.getheader("x-zerto-session") == "t\xe2\x82\xacok"  # (latin-1, as http.client reads)
    appliance_zvm.bad_token = b"tok\\nX-Evil: 1"  # a JSON escape: the token holds a newline
    assert password_grant(appliance_zvm, zvm_ca)["access_token"] == "tok\nX-Evil: 1"
    appliance_zvm.bad_token = None
    appliance_zvm.token_answer = b'{"access_token":"abc","expires_in":1e999}'
    status, _, body = call(appliance_zvm, zvm_ca, "POST", KEYCLOAK_TOKEN_PATH, FORM,
                           urlencode({"grant_type": "password", "client_id": "zerto-client", "username": "monitor",
                                      "password": "pa55-W0rd!x"}))
    assert (status, body) == (200, b'{"access_token":"abc","expires_in":1e999}')


def test_truncate(appliance_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    headers = bearer(password_grant(appliance_zvm, zvm_ca))
    appliance_zvm.truncate = True
    with pytest.raises(http.client.IncompleteRead):
        call(appliance_zvm, zvm_ca, "GET", "/v1/vpgs", headers)


def test_endless_stops_when_the_client_hangs_up_and_stop_does_not_hang(zvm_ca: trustme.CA) -> None:
    z = FakeZvm("windows", ca=zvm_ca).start()
    try:
        headers = session(z, zvm_ca)
        z.endless = True
        conn = connect(z, zvm_ca)
        conn.request("GET", "/v1/vpgs", headers=headers)
        resp = conn.getresponse()
        assert resp.getheader("Transfer-Encoding") == "chunked"
        assert len(resp.read(1 << 20)) == 1 << 20  # a megabyte and still going
        conn.close()
        idle = connect(z, zvm_ca)  # a second, idle keep-alive connection and another endless stream
        idle.request("GET", "/v1/vpgs/statuses", headers=headers)
        idle.getresponse().read(1000)
        deadline = time.monotonic() + 2
        while len(z._connections) > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(z._connections) == 1  # the first stream ended when its client hung up
    finally:
        started = time.monotonic()
        z.stop()
    assert time.monotonic() - started < 1
    assert not z._thread or not z._thread.is_alive()
    idle.close()


def test_not_zvm_answers_html_everywhere(windows_zvm: FakeZvm, zvm_ca: trustme.CA) -> None:
    windows_zvm.not_zvm = True
    status, resp, body = call(windows_zvm, zvm_ca, "POST", "/v1/session/add", {"Authorization": BASIC})
    assert (status, resp.getheader("Content-Type"), resp.getheader("x-zerto-session")) == (200, "text/html", None)
    assert body.startswith(b"<html>") and windows_zvm.logins == 0


def test_the_certificate_is_checked(windows_zvm: FakeZvm) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        call(windows_zvm, trustme.CA(), "GET", "/v1/vpgs")
    with pytest.raises(ssl.SSLCertVerificationError):
        call(windows_zvm, None, "GET", "/v1/vpgs")  # type: ignore[arg-type]


def test_plain_http_and_the_ca_file_fixture(zvm_ca: trustme.CA, ca_file: str) -> None:
    assert Path(ca_file).read_bytes() == zvm_ca.cert_pem.bytes()
    with FakeZvm("appliance", ca=zvm_ca, tls=False) as z:
        assert z.url.startswith("http://")
        assert call(z, zvm_ca, "GET", "/v1/vpgs", bearer(password_grant(z, zvm_ca)))[0] == 200


# ---- script mode --------------------------------------------------------------------

@pytest.mark.parametrize("ending", ["stdin", "sigterm"])
def test_script_mode(tmp_path: Path, ending: str) -> None:
    if ending == "sigterm" and os.name != "posix":
        pytest.skip("SIGTERM is POSIX")
    script = Path(__file__).with_name("fakezvm.py")
    proc = subprocess.Popen([sys.executable, str(script), "--flavour", "windows", "--count", "2", "--vpgs", "3",
                             "--alerts", "5", "--vras", "4", "--peers", "2", "--latency", "0.05",
                             "--ca-dir", str(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(10, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None and proc.stdin is not None
        lines = [proc.stdout.readline().decode().strip() for _ in range(3)]
        assert lines[2] == "READY" and len(set(lines[:2])) == 2, lines
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        parts = urlsplit(lines[0])
        conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=ctx, timeout=3)
        conn.request("POST", "/v1/session/add", headers={"Authorization": BASIC})
        resp = conn.getresponse()
        resp.read()
        for path, count in (("/v1/vpgs", 3), ("/v1/alerts", 5), ("/v1/vras", 4), ("/v1/peersites", 2)):
            conn.request("GET", path, headers={"x-zerto-session": resp.getheader("x-zerto-session") or ""})
            assert len(json.loads(conn.getresponse().read())) == count, path
        conn.close()
        if ending == "stdin":
            proc.stdin.close()
        else:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=3) == 0
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()

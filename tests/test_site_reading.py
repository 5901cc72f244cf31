"""What `zvpg triage` reads of a site: besides its VPGs (or VMs), its alerts
(undismissed), VRAs and peer sites, in the same session, within the same
--timeout; `--skip` leaves a part out, unasked; a part that cannot be read
(an error status, an unlicensed ZVM, a dropped connection) is named and makes
the run at least WARNING while the VPGs are still judged; saved answers, each
told by its shape, give the same verdict as the ZVM. Through the installed CLI
against the fake ZVM (tests/fakezvm.py: real HTTPS, both kinds of login), and
the library (`sources.read`) where the outputs do not show a part yet."""

from __future__ import annotations

import copy
import datetime
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import run_zvpg
from fakezvm import EXAMPLE_ALERTS, EXAMPLE_PEERSITES, EXAMPLE_VRAS, UNLICENSED, FakeZvm, InFlight
from formats import check_nagios
from hypothesis import example, given, settings
from hypothesis import strategies as st

from zvpg_cli.sources.read import PartOutcome, read_sites
from zvpg_cli.sources.shape import markers
from zvpg_cli.sources.zvm.sites import command_line_layer, site_from_url

pytest_plugins = ["fakezvm"]  # zvm_ca, ca_file, windows_zvm, appliance_zvm

PASSWORD = "pa55-W0rd!x"
CLIENT_SECRET = "cl13nt-S3cr3t"
SECRETS = (PASSWORD, CLIENT_SECRET)
#: the GETs of a whole site, in the order triage asks them
WHOLE_SITE = ["/v1/vpgs", "/v1/alerts?isDismissed=false", "/v1/vras", "/v1/peersites"]
PATHS = {"alerts": "/v1/alerts", "vras": "/v1/vras", "peers": "/v1/peersites"}


def recently(days: int = 10) -> str:
    """An ISO time `days` ago, as ZVMs write LastTest."""
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def healthy_vpgs() -> list[dict[str, Any]]:
    """One VPG meeting its SLA, tested 10 days ago."""
    return [{"VpgName": "ERP", "VpgIdentifier": "vpg-erp", "Status": 1, "SubStatus": 0, "ActualRPO": 5,
             "ConfiguredRpoSeconds": 300, "LastTest": recently()}]


def bad_parts() -> dict[str, list[dict[str, Any]]]:
    """Each part with one critical object (the reference's examples, changed): an
    undismissed VPG0010 of Level Error, a VRA in InstallationError (Status 5) that
    serves a VPG, an unpaired peer site (PairingStatus 2)."""
    vra = copy.deepcopy(EXAMPLE_VRAS[0])
    vra["Status"], vra["ProtectedCounters"]["Vpgs"] = 5, 1
    peer = copy.deepcopy(EXAMPLE_PEERSITES[0])
    peer["PairingStatus"] = 2
    return {"alerts": [EXAMPLE_ALERTS[0]], "vras": [vra], "peersites": [peer]}


def healthy_parts() -> dict[str, list[dict[str, Any]]]:
    """No alerts, an installed VRA, a paired peer site (the reference's examples)."""
    return {"alerts": [], "vras": EXAMPLE_VRAS, "peersites": EXAMPLE_PEERSITES}


def login(zvm: FakeZvm) -> list[str]:
    """By user and password on a Windows ZVM, by client id (Keycloak) on an appliance."""
    return ["--user", "monitor"] if zvm.flavour == "windows" else ["--client-id", "zvpg-monitor"]


def zvpg(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return run_zvpg(*args, input=input, env={"ZVPG_PASSWORD": PASSWORD, "ZVPG_CLIENT_SECRET": CLIENT_SECRET})


def triage(zvm: FakeZvm, ca_file: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return zvpg("triage", "--zvm", zvm.url, *login(zvm), "--ca-bundle", ca_file, *extra)


def gets(zvm: FakeZvm, since: int = 0) -> list[str]:
    return [target for method, target, _ in zvm.requests[since:] if method == "GET"]


def nagios_state(p: subprocess.CompletedProcess[bytes]) -> str:
    text = p.stdout.decode()
    state, _ = check_nagios(text)
    assert "Traceback" not in p.stderr.decode()
    assert p.returncode == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[state], (p.returncode, text)
    return state


def no_secret(*texts: bytes) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret.encode() not in text


def site_name(zvm: FakeZvm) -> str:
    """The name zvpg gives a site read by --zvm URL: its host and port."""
    return zvm.url.split("://", 1)[1]


@pytest.fixture(params=["windows", "appliance"])
def flavour(request: Any) -> str:
    return str(request.param)


def site(zvm_ca: trustme.CA, flavour: str, vpgs: list[dict[str, Any]] | None = None,
         parts: dict[str, list[dict[str, Any]]] | None = None) -> FakeZvm:
    """A fake ZVM (not started) with these VPGs and parts."""
    return FakeZvm(flavour, ca=zvm_ca, vpgs=healthy_vpgs() if vpgs is None else vpgs, vms=[],
                   **(healthy_parts() if parts is None else parts))


# ---- a whole site, in one session ------------------------------------------------------------

def test_a_site_is_read_whole_in_one_session_by_default(zvm_ca: trustme.CA, ca_file: str, flavour: str) -> None:
    with site(zvm_ca, flavour) as zvm:
        first = triage(zvm, ca_file, "--nagios")
        assert nagios_state(first) == "OK"
        assert gets(zvm) == WHOLE_SITE
        assert zvm.logins == 1 and len(zvm.requests) == 1 + len(WHOLE_SITE)  # one login, then the four GETs
        assert zvm.connections == 1  # over one connection
        header = "x-zerto-session" if flavour == "windows" else "authorization"
        assert len({headers[header] for method, _, headers in zvm.requests if method == "GET"}) == 1
        before = len(zvm.requests)
        second = triage(zvm, ca_file, "--nagios")  # the session (or token) kept: no login at all
        assert nagios_state(second) == "OK"
        assert gets(zvm, before) == WHOLE_SITE and len(zvm.requests) - before == len(WHOLE_SITE)
        assert zvm.logins == 1
        no_secret(first.stdout, first.stderr, second.stdout, second.stderr)


def test_with_vms_the_parts_are_read_after_the_vms(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = triage(windows_zvm, ca_file, "--vms", "--json")
    assert p.returncode == 0, p.stderr
    assert gets(windows_zvm) == ["/v1/vms", *WHOLE_SITE[1:]]


@pytest.mark.parametrize("part", ["alerts", "vras", "peers"])
def test_each_part_is_judged_and_skip_leaves_it_unasked(zvm_ca: trustme.CA, ca_file: str, flavour: str,
                                                        part: str) -> None:
    parts = healthy_parts()
    key = "peersites" if part == "peers" else part
    parts[key] = bad_parts()[key]
    with site(zvm_ca, flavour, parts=parts) as zvm:
        assert nagios_state(triage(zvm, ca_file, "--nagios")) == "CRITICAL"  # the VPG is fine: the part is not
        before = len(zvm.requests)
        assert nagios_state(triage(zvm, ca_file, "--nagios", "--skip", part)) == "OK"
        asked = gets(zvm, before)
        assert not any(target.startswith(PATHS[part]) for target in asked)
        assert len(asked) == len(WHOLE_SITE) - 1


def test_skip_tests_leaves_the_failover_tests_unjudged_and_asks_the_same(windows_zvm: FakeZvm,
                                                                        ca_file: str) -> None:
    windows_zvm.vpgs = [{**healthy_vpgs()[0], "LastTest": None}]  # never tested
    windows_zvm.alerts, windows_zvm.vras, windows_zvm.peersites = [], [], []
    assert nagios_state(triage(windows_zvm, ca_file, "--nagios")) == "WARNING"
    before = len(windows_zvm.requests)
    assert nagios_state(triage(windows_zvm, ca_file, "--nagios", "--skip", "tests")) == "OK"
    assert gets(windows_zvm, before) == WHOLE_SITE


def test_everything_skipped_asks_the_vpgs_alone(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = triage(windows_zvm, ca_file, "--json", "--skip", "alerts", "--skip", "VRAS", "--skip", "peers",
               "--skip", "peers")
    assert p.returncode == 0, p.stderr
    assert gets(windows_zvm) == ["/v1/vpgs"]


def test_a_misspelled_part_is_a_usage_error_naming_the_parts(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = triage(windows_zvm, ca_file, "--skip", "alert")
    text = p.stderr.decode()
    assert p.returncode == 2 and p.stdout == b""
    assert "'alert' is not one of 'alerts', 'vras', 'peers', 'tests'" in text
    assert windows_zvm.requests == []  # refused before asking anything


def test_sites_are_still_read_at_once_each_in_one_session(zvm_ca: trustme.CA, ca_file: str,
                                                         tmp_path: Path) -> None:
    servers = [site(zvm_ca, "windows" if i % 2 else "appliance").start() for i in range(3)]
    try:
        gauge = InFlight(until=3)
        for s in servers:
            s.in_flight = gauge
        text = '[defaults]\nuser = "monitor"\npassword_env = "ZVPG_PASSWORD"\n' + f'ca_bundle = "{ca_file}"\n\n'
        text += "".join(f'[sites.s{i}]\nurl = "{s.url}"\n\n' for i, s in enumerate(servers))
        sites = tmp_path / "sites.toml"
        sites.write_text(text)
        sites.chmod(0o600)
        p = zvpg("triage", "--sites", str(sites), "--nagios")
        assert nagios_state(p) == "OK"
        assert gauge.peak == 3  # the three sites asked at once, not one after another
        for s in servers:
            assert s.logins == 1 and [t.split("?")[0] for t in gets(s)] == [t.split("?")[0] for t in WHOLE_SITE]
    finally:
        for s in servers:
            s.stop()


# ---- a part that cannot be read --------------------------------------------------------------

#: (the part, how its endpoint fails, the start of what zvpg says of it)
FAILURES = [
    ("alerts", (500, b""), "GET /v1/alerts answered 500 Internal Server Error"),
    ("alerts", (403, UNLICENSED), 'the ZVM has no valid licence: GET /v1/alerts answered 403 Forbidden: '
                                  '"Valid License is not provided"'),
    ("peers", (503, UNLICENSED), 'the ZVM has no valid licence: GET /v1/peersites answered 503 Service '
                                 'Unavailable: "Valid License is not provided"'),
    # an RST reaches the client as an end of the stream or as a reset, as the timing falls (it
    # differs between Python versions' TLS): either is said
    ("vras", "dropped", ("the ZVM closed the connection before the answer was complete (no answer at all) (3 tries)",
                         "the connection broke: Connection reset by peer (3 tries)")),
]


def fail(zvm: FakeZvm, part: str, how: Any) -> None:
    if how == "dropped":
        zvm.dropped.add(PATHS[part])
    else:
        zvm.errors[PATHS[part]] = how


@pytest.mark.parametrize(("part", "how", "said"), FAILURES)
def test_a_part_that_cannot_be_read_is_named_and_the_vpgs_are_still_judged(
        zvm_ca: trustme.CA, ca_file: str, flavour: str, part: str, how: Any, said: str | tuple[str, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    with site(zvm_ca, flavour) as zvm:
        fail(zvm, part, how)
        p = triage(zvm, ca_file, "--nagios")
        assert nagios_state(p) == "WARNING"  # a healthy site with a part unread: never OK, never worse
        named = {"alerts": "alerts", "vras": "VRAs", "peers": "peer sites"}[part]
        first, *below = p.stdout.decode().splitlines()
        assert f"{named} of site {site_name(zvm)} unreadable: " in first  # the status line says it (cut to fit)
        saids = (said,) if isinstance(said, str) else said
        assert any(f"UNKNOWN: {named} of site {site_name(zvm)} unreadable: {one}" in below  # the long text in full
                   for one in saids)
        no_secret(p.stdout, p.stderr)
        doc = json.loads(triage(zvm, ca_file, "--json").stdout)
        assert [(v["vpg_name"], v["severity"]) for v in doc["vpgs"]] == [("ERP", "ok")]
        assert [(s["up"], s["error"]) for s in doc["sites"]] == [(True, None)]  # the site was read
        assert doc["summary"]["state"] == "WARNING"
        [failed_part] = doc["summary"]["failed_parts"]
        assert failed_part["error"] in saids
        assert failed_part == {"site": site_name(zvm), "url": zvm.url, "part": part, "error": failed_part["error"]}
        asked = [t.split("?")[0] for t in gets(zvm)]
        assert asked[-1] == "/v1/peersites" and zvm.logins == 1  # the parts after it were still asked
        # the library's answer: which part of which site, and why (the outputs show it)
        monkeypatch.setenv("ZVPG_PASSWORD", PASSWORD)
        monkeypatch.setenv("ZVPG_CLIENT_SECRET", CLIENT_SECRET)
        layer = command_line_layer(user="monitor", ca_bundle=ca_file) if flavour == "windows" else \
            command_line_layer(client_id="zvpg-monitor", ca_bundle=ca_file)
        reads = read_sites([site_from_url(zvm.url, layer)], False, (), 1 << 20, 4, None, ("alerts", "vras", "peers"))
        assert [r.part for r in reads] == ["vpgs", "alerts", "vras", "peers"]
        failed = [r for r in reads if r.error is not None]
        assert [(r.site, r.url, r.part, r.payload) for r in failed] == [(site_name(zvm), zvm.url, part, None)]
        assert failed[0].error in saids
        from zvpg_cli.knowledge.kb import load_kb
        from zvpg_cli.triage.report import run

        summary = run(load_kb(), reads).summary
        assert summary.failed_parts == (PartOutcome(site_name(zvm), zvm.url, part, failed[0].error),)


def test_a_part_left_out_is_not_a_part_that_failed(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.vpgs, windows_zvm.alerts = healthy_vpgs(), []
    windows_zvm.errors["/v1/vras"] = (403, UNLICENSED)
    assert nagios_state(triage(windows_zvm, ca_file, "--nagios")) == "WARNING"
    p = triage(windows_zvm, ca_file, "--nagios", "--skip", "vras")
    assert nagios_state(p) == "OK" and "unreadable" not in p.stdout.decode()


def test_every_part_failing_still_judges_the_vpgs(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.vpgs = healthy_vpgs()
    for path in PATHS.values():
        windows_zvm.errors[path] = (403, UNLICENSED)
    doc = json.loads(triage(windows_zvm, ca_file, "--json").stdout)
    assert doc["summary"]["state"] == "WARNING" and [v["vpg_name"] for v in doc["vpgs"]] == ["ERP"]
    assert [p["part"] for p in doc["summary"]["failed_parts"]] == ["alerts", "vras", "peers"]
    assert all(p["error"].startswith("the ZVM has no valid licence: ") for p in doc["summary"]["failed_parts"])


def test_an_unlicensed_zvm_whose_vpgs_fail_is_a_site_that_failed(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.errors["/v1/vpgs"] = (403, UNLICENSED)
    p = triage(windows_zvm, ca_file, "--nagios")
    assert nagios_state(p) == "UNKNOWN"
    assert ('the ZVM has no valid licence: GET /v1/vpgs answered 403 Forbidden: "Valid License is not provided"'
            in p.stdout.decode())
    assert gets(windows_zvm) == ["/v1/vpgs"]  # nothing more is asked of it


def test_an_unlicensed_answer_is_named_whatever_its_status_without_a_new_login(windows_zvm: FakeZvm,
                                                                               ca_file: str) -> None:
    windows_zvm.errors["/v1/alerts"] = (401, UNLICENSED)  # (the reference does not know the status)
    windows_zvm.unauthorized_forever = False
    p = zvpg("fetch", "alerts", "--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file)
    assert p.returncode == 2
    assert p.stderr.decode() == (f"zvpg: {site_name(windows_zvm)}: the ZVM has no valid licence: GET /v1/alerts "
                                 'answered 401 Unauthorized: "Valid License is not provided"\n')
    assert windows_zvm.logins == 1


def test_a_part_refused_with_401_keeps_the_session_that_read_the_vpgs(windows_zvm: FakeZvm, ca_file: str) -> None:
    windows_zvm.vpgs, windows_zvm.alerts = healthy_vpgs(), []
    windows_zvm.errors["/v1/vras"] = (401, b"")  # a user the ZVM lets read VPGs, not VRAs
    assert nagios_state(triage(windows_zvm, ca_file, "--nagios")) == "WARNING"
    asked = [t.split("?")[0] for t in gets(windows_zvm)]
    assert asked == ["/v1/vpgs", "/v1/alerts", "/v1/vras", "/v1/vras", "/v1/peersites"]  # once more after a login
    before, logins = len(windows_zvm.requests), windows_zvm.logins
    assert nagios_state(triage(windows_zvm, ca_file, "--nagios", "--skip", "vras")) == "OK"
    assert windows_zvm.logins == logins and len(windows_zvm.requests) - before == 3  # the kept session


def test_the_timeout_bounds_the_whole_site_and_a_slow_part_fails_alone(windows_zvm: FakeZvm,
                                                                      ca_file: str) -> None:
    windows_zvm.vpgs, windows_zvm.alerts = healthy_vpgs(), []
    windows_zvm.drip = 0.005  # each answer one byte at a time: the VPGs (some 200 bytes) in 1 s, the VRAs in 150 s
    windows_zvm.vras = [EXAMPLE_VRAS[0]] * 20
    p = triage(windows_zvm, ca_file, "--json", "--timeout", "4", "--skip", "peers")
    doc = json.loads(p.stdout)
    assert [v["vpg_name"] for v in doc["vpgs"]] == ["ERP"] and doc["sites"][0]["up"] is True
    assert doc["summary"]["state"] == "WARNING"
    assert [(f["part"], f["error"]) for f in doc["summary"]["failed_parts"]] == [
        ("vras", "timed out after 4 s (--timeout)")]


def test_progress_counts_sites_and_a_failed_part_is_not_a_failed_site(zvm_ca: trustme.CA, ca_file: str,
                                                                      tmp_path: Path) -> None:
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX")
    from test_zvm_progress import _sites_file, on_pty

    with site(zvm_ca, "windows") as paris, site(zvm_ca, "appliance") as lyon:
        lyon.dropped.add("/v1/vras")
        sites = _sites_file(tmp_path, ca_file, {"paris": paris.url, "lyon": lyon.url})
        code, out = on_pty(["triage", "--sites", sites, "--format", "json"], TERM="dumb")
    lines = [line for line in out.decode().splitlines() if line.startswith("zvpg: ")]
    assert any(re.fullmatch(r"zvpg: read ZVMs: 2 of 2 answered, in \d+\.\d s", line) for line in lines), lines
    assert code == 0


# ---- saved answers ---------------------------------------------------------------------------

needs_faketime = pytest.mark.skipif(shutil.which("faketime") is None,
                                    reason="needs faketime (Debian package faketime)")


def at(when: str, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`zvpg ARGS` with the clock stopped at `when` (libfaketime): alert and test ages are the same in two runs."""
    import os

    env = {**os.environ, "ZVPG_PASSWORD": PASSWORD, "ZVPG_CLIENT_SECRET": CLIENT_SECRET}
    return subprocess.run(["faketime", "-f", when, sys.executable, "-m", "zvpg_cli", *args], input=input,
                          capture_output=True, env=env, timeout=60)


def saved(zvm: FakeZvm, ca_file: str, folder: Path) -> dict[str, Path]:
    """Each part as `zvpg fetch` saves it (alerts with the dismissed ones: triage ignores them)."""
    out = {}
    for what in ("vpgs", "alerts", "vras", "peers"):
        p = zvpg("fetch", what, "--zvm", zvm.url, *login(zvm), "--ca-bundle", ca_file)
        assert p.returncode == 0, p.stderr
        out[what] = folder / f"{what}.json"
        out[what].write_bytes(p.stdout)
    return out


def verdict(p: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    """The JSON report without the sites read (a file has none)."""
    doc = json.loads(p.stdout)
    doc.pop("sites", None)
    return dict(doc)


@needs_faketime
def test_saved_parts_give_the_verdict_of_the_zvm(zvm_ca: trustme.CA, ca_file: str, flavour: str,
                                                 tmp_path: Path) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    parts = bad_parts()
    parts["alerts"] = copy.deepcopy(EXAMPLE_ALERTS)  # one dismissed: asked away from the ZVM, ignored in a file
    vpgs = [*healthy_vpgs(), {"VpgName": "never", "VpgIdentifier": "vpg-2", "Status": 2, "SubStatus": 24,
                              "LastTest": None}]
    with site(zvm_ca, flavour, vpgs=vpgs, parts=parts) as zvm:
        files = saved(zvm, ca_file, tmp_path)
        args = ("--zvm", zvm.url, *login(zvm), "--ca-bundle", ca_file)
        for fmt in (["--json"], ["--json", "--skip", "alerts", "--skip", "tests"]):
            live = at(now, "triage", *args, *fmt)
            from_files = at(now, "triage", *map(str, files.values()), *fmt)
            assert live.returncode == from_files.returncode == 0, (live.stderr, from_files.stderr)
            assert verdict(live) == verdict(from_files)
        live_nagios = at(now, "triage", *args, "--nagios")
        # stdin for one of them, the files in another order
        piped = at(now, "triage", str(files["peers"]), "-", str(files["vpgs"]), str(files["vras"]), "--nagios",
                   input=files["alerts"].read_bytes())
    assert live_nagios.returncode == piped.returncode == 2
    live_text, piped_text = live_nagios.stdout.decode(), piped.stdout.decode()
    assert live_text.split(" | ")[0] == piped_text.split(" | ")[0]  # the status line's text (its data counts sites)
    assert live_text.split("\n")[1:] == piped_text.split("\n")[1:]


def test_an_empty_saved_answer_adds_nothing(tmp_path: Path) -> None:
    vpgs, empty, peers = tmp_path / "vpgs.json", tmp_path / "alerts.json", tmp_path / "peers.json"
    vpgs.write_text(json.dumps(healthy_vpgs()))
    empty.write_text("[]")
    peers.write_text(json.dumps(bad_parts()["peersites"]))
    with_empty = zvpg("triage", str(vpgs), str(empty), str(peers), "--json")
    without = zvpg("triage", str(vpgs), str(peers), "--json")
    assert with_empty.returncode == 0, with_empty.stderr
    assert json.loads(with_empty.stdout) == json.loads(without.stdout)


def one_line_usage_error(p: subprocess.CompletedProcess[bytes]) -> str:
    text = p.stderr.decode()
    assert p.returncode == 2 and p.stdout == b"", (p.returncode, text)
    assert text.startswith("zvpg: ") and text.count("\n") == 1 and "Traceback" not in text, text
    return text


def test_a_file_of_unknown_shape_among_several_is_named(tmp_path: Path) -> None:
    vpgs, other = tmp_path / "vpgs.json", tmp_path / "events.json"
    vpgs.write_text(json.dumps(healthy_vpgs()))
    other.write_text('[{"EventIdentifier": "e1", "Description": "x"}]')
    line = one_line_usage_error(zvpg("triage", str(vpgs), str(other)))
    assert line.startswith(f"zvpg: {other}: input is not the answer of /v1/vpgs, /v1/vms, /v1/alerts, /v1/vras or "
                           "/v1/peersites")


def test_a_part_given_twice_is_a_usage_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(EXAMPLE_VRAS))
    b.write_text(json.dumps(EXAMPLE_VRAS))
    line = one_line_usage_error(zvpg("triage", str(a), str(b)))
    assert line == f"zvpg: {a} and {b} both hold the answer of /v1/vras: give each part of a site once\n"


def test_vpgs_and_vms_together_is_a_usage_error(tmp_path: Path) -> None:
    a, b = tmp_path / "vpgs.json", tmp_path / "vms.json"
    a.write_text(json.dumps(healthy_vpgs()))
    b.write_text('[{"VmName": "erp-db", "VpgName": "ERP", "Status": 1, "SubStatus": 0}]')
    line = one_line_usage_error(zvpg("triage", str(a), str(b)))
    assert line == f"zvpg: {a} and {b} both hold VPG or VM data: give each part of a site once\n"


def test_stdin_is_read_once(tmp_path: Path) -> None:
    line = one_line_usage_error(zvpg("triage", "-", "-", input=b"[]"))
    assert "- (stdin) is given more than once" in line


def test_one_file_of_any_vpg_shape_is_still_read_as_vpgs(tmp_path: Path) -> None:
    """One FILE is VPG data as it always was, though its objects carry no name (nothing marks their part)."""
    p = zvpg("triage", "--json", input=b'[{"Status": 2, "SubStatus": 6}]')
    assert p.returncode == 0, p.stderr
    assert [v["severity"] for v in json.loads(p.stdout)["vpgs"]] == ["critical"]


def test_one_saved_part_alone_is_judged(tmp_path: Path) -> None:
    peers = tmp_path / "peers.json"
    peers.write_text(json.dumps(bad_parts()["peersites"]))
    p = zvpg("triage", str(peers), "--nagios")
    assert nagios_state(p) == "CRITICAL"


def test_annotate_takes_one_file(tmp_path: Path) -> None:
    vpgs = tmp_path / "vpgs.json"
    vpgs.write_text(json.dumps(healthy_vpgs()))
    p = zvpg("annotate", str(vpgs), str(vpgs))
    assert p.returncode == 2 and "unexpected extra argument" in p.stderr.decode()


# ---- telling a saved part fast: as `part_of` tells it ----------------------------------------

_MEMBERS = sorted(set().union(*markers().values()))
_VALUES = st.one_of(st.integers(-3, 2**64), st.text(max_size=8), st.booleans(), st.none())
_OBJECTS = st.dictionaries(st.sampled_from([*_MEMBERS, "Status", "SubStatus", "Other"]), _VALUES, max_size=5)


@settings(max_examples=400, deadline=None)
@given(st.lists(_OBJECTS, max_size=4))
@example([{"VpgName": "ERP", "VmName": None, "Status": 1}])  # null marks nothing: a VPG
@example([{"VpgName": "ERP", "Status": 1}, {"VraName": "Z-VRA", "Status": 0}])  # mixed
def test_a_saved_answer_is_told_the_same_by_its_one_decode_as_by_its_members(objects: list[dict[str, Any]]) -> None:
    """`parse_any` tells VPG and VM data from the heads it decodes anyway; on any
    objects it agrees with `part_of`, which reads only the marking members (or
    refuses them: VPG data must also have a Status or a name, `payload.parse`)."""
    from zvpg_cli.sources.hygiene import PayloadError
    from zvpg_cli.sources.shape import parse_any, part_of

    data = json.dumps(objects).encode()
    try:
        expected: str | None = part_of(data)
    except PayloadError:
        expected = None
    try:
        told: str | None = parse_any(data)[0]
    except PayloadError:
        told = None
    assert told in (expected, None)
    if expected is None or expected not in ("vpgs", "vms"):
        assert told == expected

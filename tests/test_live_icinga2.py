"""contrib/icinga2/zvpg.conf in a real Icinga 2 daemon (Debian's icinga2-bin with
the ITL of icinga2-common), run as docs/monitoring.md's steps say, against fake
ZVMs over real TLS: checks forced through the REST API (`reschedule-check`),
their state, output and every performance datum read back as Icinga 2 stored
them (`last_check_result` of the API's service object).

The daemon runs once for the module, as the current user, with its own config,
data, log and run folders in a temporary folder (constants given with -D), the
API on a free loopback port with a certificate of our own CA."""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import ROOT
from fakezvm import FakeZvm
from live import Daemon, free_port, password_file, perfdata, rpo_values, site_vpgs, tool, wait_for, zvpg_binary

pytest_plugins = ["fakezvm"]
pytestmark = pytest.mark.xdist_group("live-icinga2")

ICINGA = ROOT / "contrib" / "icinga2" / "zvpg.conf"
NODE = "icinga-live-test"
FOLDERS = ("CacheDir", "DataDir", "LogDir", "SpoolDir", "InitRunDir")


class Icinga:
    def __init__(self, daemon: Daemon, port: int, ca: str, zvms: dict[str, FakeZvm]) -> None:
        self.daemon, self.port, self.zvms = daemon, port, zvms
        self.context = ssl.create_default_context(cafile=ca)
        self.context.check_hostname = False  # the API's certificate names the node, not 127.0.0.1

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Accept": "application/json",
                     "Authorization": "Basic " + base64.b64encode(b"zvpg-test:live-secret").decode()})
        with urllib.request.urlopen(request, context=self.context, timeout=10) as answer:
            return json.load(answer)

    def check(self, host: str) -> dict[str, Any]:
        """Force the host's zvpg service check now; its result as Icinga stored it."""
        service = f"{host}!zerto-vpgs"
        asked = time.time()
        answer = self.api("POST", "/v1/actions/reschedule-check",
                          {"type": "Service", "filter": f'service.__name == "{service}"', "force": True})
        assert answer["results"][0]["code"] == 200, answer

        def result() -> dict[str, Any] | None:
            found = self.api("GET", f"/v1/objects/services/{service}?attrs=last_check_result")
            r = found["results"][0]["attrs"]["last_check_result"]
            return r if r and r["schedule_start"] >= asked - 0.5 else None

        return wait_for(f"Icinga 2's check of {service}", result, self.daemon, timeout=40)


@pytest.fixture(scope="module")
def icinga(zvm_ca: trustme.CA, ca_file: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Icinga]:
    icinga2 = tool("icinga2", "icinga2-bin icinga2-common")
    if not Path("/usr/share/icinga2/include/itl").exists():
        pytest.skip("the Icinga Template Library is not installed: apt-get install icinga2-common")
    binary = zvpg_binary()
    tmp = tmp_path_factory.mktemp("icinga2")
    nyc = FakeZvm("windows", ca=zvm_ca, vpgs=site_vpgs(), alerts=[]).start()
    lon = FakeZvm("windows", ca=zvm_ca, vpgs=[], alerts=[]).start()  # a ZVM that answers no VPGs
    daemon = None
    try:
        for name in FOLDERS:
            (tmp / name).mkdir()
        # the API's certificate (Icinga reads DataDir/certs/NODE.crt, .key and ca.crt)
        certs = tmp / "DataDir" / "certs"
        certs.mkdir()
        api_ca = trustme.CA()
        leaf = api_ca.issue_cert(NODE, common_name=NODE)
        leaf.cert_chain_pems[0].write_to_path(str(certs / f"{NODE}.crt"))
        leaf.private_key_pem.write_to_path(str(certs / f"{NODE}.key"))
        api_ca.cert_pem.write_to_path(str(certs / "ca.crt"))
        # docs/monitoring.md, step 2: the password in a file only the check's user reads
        password = password_file(tmp, nyc.password)
        # step 3: the shipped file with the example host changed to ours
        shipped = ICINGA.read_text(encoding="utf-8")
        ours = (shipped.replace('address = "zvm01.example.com"', 'address = "127.0.0.1"')
                .replace('"https://zvm01.example.com:9669"', f'"{nyc.url}"')
                .replace('"/etc/zvpg/monitor.password"', f'"{password}"')
                .replace('"/etc/zvpg/zvm01-ca.pem"', f'"{ca_file}"'))
        assert ours.count(str(password)) == 1 and nyc.url in ours, "the example host changed shape"
        # step 1: the binary (here: this checkout's), and a second host reading two ZVMs without TLS checks
        ours += f'''
object Host "pair" {{
  import "generic-host"
  address = "127.0.0.1"
  vars.zvpg_zvm = [ "{nyc.url}", "{lon.url}" ]
  vars.zvpg_user = "monitor"
  vars.zvpg_password_file = "{password}"
  vars.zvpg_insecure = true
  vars.zvpg_exclude = [ "Dev-*", "Test-*" ]
}}
'''
        (tmp / "zvpg.conf").write_text(ours.replace('vars.zvpg_binary = "/usr/local/bin/zvpg"',
                                                    f'vars.zvpg_binary = "{binary}"'), encoding="utf-8")
        port = free_port()
        (tmp / "icinga2.conf").write_text(f'''
const PluginDir = "/usr/lib/nagios/plugins"
const NodeName = "{NODE}"
const ZoneName = "{NODE}"
include <itl>
include <plugins>
template Host "generic-host" {{ max_check_attempts = 3; check_interval = 1m; retry_interval = 30s
  check_command = "dummy" }}
template Service "generic-service" {{ max_check_attempts = 5; check_interval = 1m; retry_interval = 30s }}
object Endpoint NodeName {{}}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
object CheckerComponent "checker" {{}}
object ApiListener "api" {{ bind_host = "127.0.0.1"; bind_port = {port}; accept_commands = true }}
object ApiUser "zvpg-test" {{ password = "live-secret"; permissions = [ "*" ] }}
include "{tmp / 'zvpg.conf'}"
''', encoding="utf-8")
        import grp
        import pwd

        env = {**os.environ, "HOME": str(tmp), "ZVPG_CACHE_DIR": str(tmp / "cache"),
               "ICINGA2_USER": pwd.getpwuid(os.getuid()).pw_name, "ICINGA2_GROUP": grp.getgrgid(os.getgid()).gr_name}
        daemon = Daemon("icinga2", [icinga2, "daemon", "-c", str(tmp / "icinga2.conf"),
                                    *(f"-D{name}={tmp / name}" for name in FOLDERS)], tmp / "icinga2.log", env)
        live = Icinga(daemon, port, str(certs / "ca.crt"), {"nyc": nyc, "lon": lon})
        wait_for("Icinga 2's API", lambda: live.api("GET", "/v1/status/IcingaApplication"), daemon, timeout=60)
        yield live
    finally:
        if daemon is not None:
            daemon.stop()
        nyc.stop()
        lon.stop()


def first_line(result: dict[str, Any]) -> str:
    return str(result["output"]).split("\n", 1)[0]


def test_icinga2_reads_every_vpgs_rpo_and_a_routine_sync_is_a_warning(icinga: Icinga) -> None:
    """The shipped example host (duration-aware by default: a state file in
    Icinga's DataDir): a Delta Sync is WARNING on its first run, not a page;
    Icinga 2 stores the counts and every VPG's RPO as performance data."""
    result = icinga.check("zvm01")
    assert result["state"] == 1, result["output"]
    assert first_line(result).startswith("ZVPG WARNING - 0 critical, 1 warning, 2 ok: SQL-Cluster"), result["output"]
    assert "(critical after 15m)" in result["output"]
    data = perfdata(result["performance_data"])
    assert data == {"critical": "0", "warning": "1", "ok": "2", "unknown": "0", "total": "3", "sites": "1",
                    "sites_failed": "0",
                    # the site's parts, read with its VPGs: no alerts, an installed VRA, a paired peer (the VPGs
                    # carry no LastTest: no test is judged)
                    "alerts_critical": "0", "alerts_warning": "0", "vras_not_installed": "0", "peers_unpaired": "0",
                    "parts_failed": "0", "causes": "0", **rpo_values(site_vpgs())}
    state = Path(icinga.daemon.log.parent / "DataDir" / "zvpg-zvm01.state")
    assert state.exists(), "the state file is not where the example puts it"


def test_icinga2_shows_the_status_line_first_and_names_an_empty_site(icinga: Icinga) -> None:
    """Two ZVMs read with --insecure, one of which answers no VPGs: UNKNOWN,
    naming that site (not the --exclude filters); the TLS warning is in the long
    output, never before the status line; the other site's RPOs all arrive."""
    lon = icinga.zvms["lon"].url.removeprefix("https://")
    result = icinga.check("pair")
    assert result["state"] == 3, result["output"]
    first = first_line(result)
    assert first.startswith(f"ZVPG UNKNOWN - site {lon} answered no VPGs"), result["output"]
    assert "--exclude" not in first
    assert "TLS certificate verification is off (--insecure)" in result["output"]
    data = perfdata(result["performance_data"])
    nyc = icinga.zvms["nyc"].url.removeprefix("https://")
    assert {k: v for k, v in data.items() if k.endswith(" rpo")} == {
        f"[{nyc}] {label}": value for label, value in rpo_values(site_vpgs()).items()}
    assert data["sites"] == "2" and data["sites_failed"] == "0"

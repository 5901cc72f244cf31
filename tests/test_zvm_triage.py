"""annotate and triage reading straight from ZVMs (the fake ZVM of
tests/fakezvm.py: real HTTPS on localhost, real subprocesses, no mocking):
one site, many sites at once, dead sites, and the monitoring formats."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import trustme
from fakezvm import FakeZvm, InFlight
from formats import check_checkmk, check_nagios
from prometheus_client.parser import text_string_to_metric_families
from test_annotate import check_lossless
from test_zvm import PASSWORD, assert_no_secret, err, zvpg

pytest_plugins = ["fakezvm"]


def _dead_url() -> str:
    """An https URL on localhost where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def _sites_file(tmp_path: Path, ca_file: str, urls: dict[str, str]) -> str:
    text = ""
    for name, url in urls.items():
        text += (f'[sites.{name}]\nurl = "{url}"\nuser = "monitor"\npassword_env = "ZVM_PW"\n'
                 f'ca_bundle = "{ca_file}"\ntimeout = 5\n\n')
    path = tmp_path / "sites.toml"
    path.write_text(text)
    path.chmod(0o600)
    return str(path)


def test_triage_one_zvm_is_the_same_as_triage_of_its_answer(appliance_zvm: FakeZvm, ca_file: str,
                                                            tmp_path: Path) -> None:
    args = ("--zvm", appliance_zvm.url, "--user", "monitor", "--ca-bundle", ca_file)
    live = zvpg("triage", *args, "--format", "json")
    assert live.returncode == 0, err(live)
    body = appliance_zvm.body_of("/v1/vpgs")
    parts = []  # the site's other parts, as triage asks for them
    for name, path in (("alerts", "/v1/alerts?isDismissed=false"), ("vras", "/v1/vras"), ("peers", "/v1/peersites")):
        parts.append(tmp_path / f"{name}.json")
        parts[-1].write_bytes(appliance_zvm.body_of(path))
    from_file = zvpg("triage", "--format", "json", "-", *map(str, parts), input=body)
    live_doc, file_doc = json.loads(live.stdout), json.loads(from_file.stdout)
    assert live_doc["vpgs"] == file_doc["vpgs"] and live_doc["summary"] == file_doc["summary"]
    [site] = live_doc["sites"]
    assert (site["url"], site["up"], site["error"], site["objects"]) == (appliance_zvm.url, True, None,
                                                                        len(json.loads(body)))
    assert all(v["site"] is None for v in live_doc["vpgs"])  # one site: no site prefix or label
    nagios = zvpg("triage", *args, "--nagios")
    check_nagios(nagios.stdout.decode())
    assert nagios.returncode in (0, 1, 2)
    assert_no_secret(live.stdout, live.stderr, nagios.stdout, nagios.stderr)


def test_annotate_from_a_zvm_is_lossless(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = zvpg("annotate", "--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file, "--vms")
    assert p.returncode == 0, err(p)
    check_lossless(windows_zvm.body_of("/v1/vms"), p.stdout)
    assert windows_zvm.logins == 1


def test_one_dead_site_of_three(zvm_ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    with FakeZvm("windows", ca=zvm_ca) as a, FakeZvm("appliance", ca=zvm_ca) as b:
        sites = _sites_file(tmp_path, ca_file, {"nyc": a.url, "azure": b.url, "lon": _dead_url()})
        env = {"ZVM_PW": PASSWORD}
        p = zvpg("triage", "--sites", sites, "--nagios", env=env)
        text = p.stdout.decode()
        check_nagios(text)
        first = text.splitlines()[0]
        # the fake sites hold critical VPGs, so the state is CRITICAL; the dead site is named and counted
        assert "1 of 3 sites unreadable (lon: " in first and "sites=3 sites_failed=1" in first
        assert p.returncode == (2 if first.startswith("ZVPG CRITICAL") else 3)
        assert any(line.split(": ", 1)[1].startswith("[nyc] ") for line in text.splitlines()[1:])
        prom = zvpg("triage", "--sites", sites, "--format", "prometheus", env=env)
        fams = {f.name: f for f in text_string_to_metric_families(prom.stdout.decode())}
        up = {s.labels["site"]: s.value for s in fams["zvpg_site_up"].samples}
        assert up == {"nyc": 1, "azure": 1, "lon": 0}
        assert {s.labels["site"] for s in fams["zvpg_vpg_severity"].samples} == {"nyc", "azure"}
        doc = json.loads(zvpg("triage", "--sites", sites, "--format", "json", env=env).stdout)
        assert [(s["name"], s["up"]) for s in doc["sites"]] == [("nyc", True), ("azure", True), ("lon", False)]
        assert doc["sites"][2]["error"] and {v["site"] for v in doc["vpgs"]} == {"nyc", "azure"}
        cmk = zvpg("triage", "--sites", sites, "--format", "checkmk", env=env).stdout.decode()
        lines = cmk.splitlines()
        check_checkmk("\n".join(line for line in lines if '"Zerto site ' not in line), len(lines) - 3)
        assert '3 "Zerto site lon" - unreadable: ' in cmk and '0 "Zerto site nyc" - read: ' in cmk
        assert all(line.split('"')[1].startswith(("Zerto nyc ", "Zerto azure ", "Zerto site "))
                   for line in lines)
        table = zvpg("triage", "--sites", sites, env={**env, "COLUMNS": "160"})
        assert table.returncode == 0 and "Site lon" in table.stdout.decode()
        assert "site lon could not be read" in err(table)
        assert_no_secret(p.stdout, p.stderr, prom.stdout, cmk, table.stdout, table.stderr)


def test_only_critical_beats_a_dead_site(zvm_ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    healthy = [{"VpgName": "ok", "VpgIdentifier": "v1", "Status": 1, "SubStatus": 0, "ActualRPO": 5,
                "ConfiguredRpoSeconds": 300}]
    with FakeZvm("windows", ca=zvm_ca, vpgs=healthy, vms=[], alerts=[], vras=[], peersites=[]) as a:
        sites = _sites_file(tmp_path, ca_file, {"nyc": a.url, "lon": _dead_url()})
        p = zvpg("triage", "--sites", sites, "--nagios", env={"ZVM_PW": PASSWORD})
        assert p.returncode == 3 and p.stdout.decode().startswith("ZVPG UNKNOWN - 1 of 2 sites unreadable (lon:")


def test_a_single_dead_site_fails_as_several_do(ca_file: str) -> None:
    """One unreadable site is a report naming it, as two are: perfdata, a JSON document, exit 3/2."""
    p = zvpg("triage", "--zvm", _dead_url(), "--user", "monitor", "--ca-bundle", ca_file, "--nagios")
    first = p.stdout.decode().partition("\n")[0]
    assert p.returncode == 3 and first.startswith("ZVPG UNKNOWN - no site could be read; 1 of 1 sites unreadable "
                                                  "(127.0.0.1:")
    assert first.endswith("| critical=0 warning=0 ok=0 unknown=0 total=0 sites=1 sites_failed=1")
    q = zvpg("triage", "--zvm", _dead_url(), "--user", "monitor", "--ca-bundle", ca_file, "--json")
    doc = json.loads(q.stdout)
    assert q.returncode == 2 and err(q).startswith("zvpg: site 127.0.0.1:")
    assert doc["summary"]["problem"] == "no site could be read" and [s["up"] for s in doc["sites"]] == [False]


def test_wrong_password_under_nagios_is_unknown(windows_zvm: FakeZvm, ca_file: str) -> None:
    p = zvpg("triage", "--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file, "--nagios",
             env={"ZVPG_PASSWORD": "Wr0ng-S3cret-x9"})
    assert p.returncode == 3 and p.stdout.decode().startswith("ZVPG UNKNOWN - ")
    assert b"Wr0ng-S3cret-x9" not in p.stdout + p.stderr


def test_configuration_errors_under_nagios_are_unknown(tmp_path: Path) -> None:
    p = zvpg("triage", "--sites", str(tmp_path / "missing.toml"), "--nagios")
    assert p.returncode == 3 and p.stdout.decode().startswith("ZVPG UNKNOWN - ")


def test_sites_are_read_concurrently(zvm_ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    servers = [FakeZvm("appliance", ca=zvm_ca).start() for _ in range(4)]
    try:
        gauge = InFlight(until=4)
        for s in servers:
            s.in_flight = gauge
        sites = _sites_file(tmp_path, ca_file, {f"s{i}": s.url for i, s in enumerate(servers)})
        p = zvpg("triage", "--sites", sites, "--format", "json", env={"ZVM_PW": PASSWORD})
        assert p.returncode == 0, err(p)
        assert len(json.loads(p.stdout)["sites"]) == 4
        assert gauge.peak == 4  # the four sites asked at once, not one after another
    finally:
        for s in servers:
            s.stop()


def test_file_and_zvm_together_is_a_usage_error(windows_zvm: FakeZvm) -> None:
    p = zvpg("triage", "x.json", "--zvm", windows_zvm.url)
    assert p.returncode == 2 and "not both" in err(p)


def test_multi_site_json_matches_its_schema(zvm_ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    from test_schemas import validator

    with FakeZvm("windows", ca=zvm_ca) as a:
        sites = _sites_file(tmp_path, ca_file, {"nyc": a.url, "lon": _dead_url()})
        p = zvpg("triage", "--sites", sites, "--format", "json", "--vms", env={"ZVM_PW": PASSWORD})
        validator("triage.schema.json").validate(json.loads(p.stdout))


#: leave out every part of a site but its VPGs
SKIP_ALL = ("--skip", "alerts", "--skip", "vras", "--skip", "peers", "--skip", "tests")


def vpgs_requests(zvm: FakeZvm) -> list[str]:
    """The targets of the GETs of /v1/vpgs the ZVM was sent (triage reads the site's other parts too)."""
    return [target for _, target, _ in zvm.requests if target.lower().startswith("/v1/vpgs")]


def test_triage_filters_apply_to_a_zvm_and_one_plain_name_is_sent(windows_zvm: FakeZvm, ca_file: str) -> None:
    args = ("--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file, "--json")
    name = windows_zvm.vpgs[1]["VpgName"]
    p = zvpg("triage", *args, "--vpg", name.upper())
    assert p.returncode == 0, err(p)
    assert [v["vpg_name"] for v in json.loads(p.stdout)["vpgs"]] == [name]
    assert vpgs_requests(windows_zvm)[-1].lower().startswith("/v1/vpgs?name=")  # sent as the API's filter too
    p = zvpg("triage", *args, "--vpg", "*", "--exclude", name)
    names = [v["vpg_name"] for v in json.loads(p.stdout)["vpgs"]]
    assert name not in names and len(names) == len(windows_zvm.vpgs) - 1
    assert vpgs_requests(windows_zvm)[-1] == "/v1/vpgs"  # a glob is zvpg's to match
    # (the site's own parts are judged whatever --vpg says: left out here, the VPGs alone are checked)
    p = zvpg("triage", *args, "--vpg", "nothing-like-this", *SKIP_ALL)
    assert p.returncode == 1 and json.loads(p.stdout)["summary"]["state"] == "UNKNOWN"


def test_triage_of_a_zvm_remembers_states_across_runs(windows_zvm: FakeZvm, ca_file: str, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    args = ("--zvm", windows_zvm.url, "--user", "monitor", "--ca-bundle", ca_file, "--state", str(state))
    first = json.loads(zvpg("triage", *args, "--json").stdout)
    time.sleep(1.1)
    second = json.loads(zvpg("triage", *args, "--json").stdout)
    assert first["summary"]["state_error"] is None and second["summary"]["state_error"] is None
    assert all(v["since"] is not None for v in second["vpgs"])
    assert [v["since"] for v in first["vpgs"]] == [v["since"] for v in second["vpgs"]]  # the same states, remembered
    assert all(v["age_seconds"] >= 1 for v in second["vpgs"])
    assert state.stat().st_mode & 0o777 == 0o600
    history = zvpg("history", "--state", str(state), "--kind", "vpg", "--json")
    assert history.returncode == 0 and len(json.loads(history.stdout)) == len(second["vpgs"])

"""contrib/prometheus/zvpg-rules.yml in a real Prometheus (Debian's prometheus)
scraping a real node_exporter's textfile collector (prometheus-node-exporter),
into which zvpg writes as docs/monitoring.md's cron line does (`--output` into
the collector's folder, one file per job with `--run NAME`), reading fake ZVMs
over real TLS. Alerts are read through Prometheus's HTTP API (/api/v1/alerts):
pending, firing, and resolved (gone).

Time is scaled so that the module runs in seconds: Prometheus scrapes and
evaluates every 250 ms, and every `for:` and look-back window of the shipped
rules is loaded with one minute read as half a second (15m -> 7.5 s). The
rules are otherwise loaded as shipped; the one absolute threshold, 300 s of
staleness, is met by a run whose clock libfaketime puts 10 minutes back."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import ROOT, run_zvpg
from fakezvm import FakeZvm
from live import Daemon, free_port, password_file, site_vpgs, tool, wait_for, zvpg_binary

pytest_plugins = ["fakezvm"]
pytestmark = pytest.mark.xdist_group("live-prometheus")

RULES = ROOT / "contrib" / "prometheus" / "zvpg-rules.yml"
#: seconds of test time per minute of the rules' time
MINUTE = 0.5


def scaled(rules: str) -> str:
    """The rules with every `for:` and `[window]` scaled: a minute becomes MINUTE seconds."""
    def ms(m: re.Match[str]) -> str:
        minutes = int(m.group(2)) * (60 if m.group(3) == "h" else 1)
        return f"{m.group(1)}{round(minutes * MINUTE * 1000)}ms{m.group(4)}"

    out = re.sub(r"(for: )(\d+)([mh])()$", ms, rules, flags=re.M)
    return re.sub(r"(\[)(\d+)([mh])(\])", ms, out)


class Prometheus:
    def __init__(self, prometheus: Daemon, node: Daemon, port: int, folder: Path, sites: Path,
                 zvms: dict[str, FakeZvm]) -> None:
        self.daemon, self.node, self.port, self.folder = prometheus, node, port, folder
        self.sites, self.zvms = sites, zvms

    def api(self, path: str, **query: str) -> Any:
        url = f"http://127.0.0.1:{self.port}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        with urllib.request.urlopen(url, timeout=10) as answer:
            doc = json.load(answer)
        assert doc["status"] == "success", doc
        return doc["data"]

    def alerts(self, name: str, **labels: str) -> list[dict[str, Any]]:
        return [a for a in self.api("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name
                and all(a["labels"].get(k) == v for k, v in labels.items())]

    def query(self, expr: str) -> list[dict[str, Any]]:
        return list(self.api("/api/v1/query", query=expr)["result"])

    def zvpg(self, *args: str, env: dict[str, str] | None = None, prefix: list[str] | None = None) -> int:
        """One run of zvpg's cron line (the sites file unless told otherwise)."""
        command = [*(prefix or []), zvpg_binary(), "triage", "--format", "prometheus", *args]
        p = subprocess.run(command, capture_output=True, timeout=60,
                           env={**env_base(), **(env or {})})
        assert p.returncode in (0, 2), p.stderr
        return p.returncode

    def run_sites(self) -> int:
        return self.zvpg("--sites", str(self.sites), "--run", "sites", "--output", str(self.folder / "zvpg-sites.prom"))

    def until(self, what: str, probe: Any, timeout: float = 30) -> Any:
        return wait_for(what, probe, self.daemon, timeout=timeout, every=0.05)

    def evaluated(self) -> None:
        """Wait for a rule evaluation that started after this call (the second
        one that ends from now), so that the alerts answer for what was seen."""
        def last() -> str:
            return str(self.api("/api/v1/rules")["groups"][0]["lastEvaluation"])

        for _ in range(2):
            before = last()
            self.until("a rule evaluation", lambda: last() != before)  # noqa: B023 - called at once


def env_base() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture(scope="module")
def prom(zvm_ca: trustme.CA, ca_file: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    prometheus = tool("prometheus", "prometheus")
    node_exporter = tool("prometheus-node-exporter", "prometheus-node-exporter")
    tool("faketime", "faketime")
    tmp = tmp_path_factory.mktemp("prometheus")
    textfiles = tmp / "node-exporter"  # Debian's folder is /var/lib/prometheus/node-exporter
    textfiles.mkdir()
    nyc = FakeZvm("windows", ca=zvm_ca, vpgs=site_vpgs()).start()
    lon = FakeZvm("windows", ca=zvm_ca, vpgs=site_vpgs()[:1]).start()
    node = daemon = None
    try:
        # docs/monitoring.md, "Prometheus", step 2: the password file and the sites file
        password = password_file(tmp, nyc.password)
        sites = tmp / "sites.toml"
        sites.write_text(f'[defaults]\nuser = "monitor"\npassword_file = "{password}"\nca_bundle = "{ca_file}"\n'
                         f'timeout = 5\n[sites.nyc]\nurl = "{nyc.url}"\n[sites.lon]\nurl = "{lon.url}"\n')
        node_port, port = free_port(), free_port()
        node = Daemon("node_exporter", [node_exporter, f"--web.listen-address=127.0.0.1:{node_port}",
                                        "--collector.disable-defaults", "--collector.textfile",
                                        f"--collector.textfile.directory={textfiles}"], tmp / "node.log")
        (tmp / "zvpg-rules.yml").write_text(scaled(RULES.read_text(encoding="utf-8")), encoding="utf-8")
        (tmp / "prometheus.yml").write_text(f"""global:
  scrape_interval: 250ms
  scrape_timeout: 250ms
  evaluation_interval: 250ms
rule_files: [zvpg-rules.yml]
scrape_configs:
  - job_name: node
    static_configs: [{{targets: ["127.0.0.1:{node_port}"]}}]
""", encoding="utf-8")
        daemon = Daemon("prometheus", [prometheus, f"--config.file={tmp / 'prometheus.yml'}",
                                       f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                        tmp / "prometheus.log", cwd=tmp)
        live = Prometheus(daemon, node, port, textfiles, sites, {"nyc": nyc, "lon": lon})
        # a single --zvm that nothing answers, written at once: its alert's wait starts now
        assert live.zvpg("--zvm", f"https://127.0.0.1:{free_port()}", "--user", "monitor", "--ca-bundle", ca_file,
                         "--timeout", "2", "--run", "single", "--output", str(textfiles / "zvpg-single.prom"),
                         env={"ZVPG_PASSWORD": "x"}) == 2
        live.until("Prometheus's rules", lambda: live.api("/api/v1/rules")["groups"], timeout=60)
        yield live
    finally:
        for d in (daemon, node):
            if d is not None:
                d.stop()
        nyc.stop()
        lon.stop()


def test_a_critical_vpg_pends_fires_survives_a_blip_and_resolves(prom: Prometheus) -> None:
    """Pending, then firing; one run in which nyc cannot be read (no series for
    its VPGs) neither resolves the alert nor restarts its wait; when nyc answers
    again the alert is still the same firing one; back to ok, it resolves."""
    sql = {"site": "nyc", "vpg": 'SQL-Cluster "A" | primary', "run": "sites"}
    assert prom.run_sites() == 0
    pending = prom.until("ZvpgVpgCritical pending",
                         lambda: [a for a in prom.alerts("ZvpgVpgCritical", **sql) if a["state"] == "pending"])
    firing = prom.until("ZvpgVpgCritical firing",
                        lambda: [a for a in prom.alerts("ZvpgVpgCritical", **sql) if a["state"] == "firing"])
    assert firing[0]["activeAt"] == pending[0]["activeAt"]
    description = firing[0]["annotations"]["description"]
    assert "is in Not Meeting SLA / Delta Syncing, severity critical" in description, description
    hint = description.split("Why, and what to do: ", 1)[1]
    assert hint == 'zvpg explain "Not Meeting SLA / Delta Syncing"'
    assert run_zvpg("explain", "Not Meeting SLA / Delta Syncing").returncode == 0

    nyc = prom.zvms["nyc"]
    nyc.not_zvm = True  # one run in which nyc answers something that is not a ZVM
    try:
        assert prom.run_sites() == 0
        prom.until("nyc unreadable in Prometheus", lambda: prom.query('zvpg_site_up{site="nyc"} == 0'))
        assert not prom.query('zvpg_vpg_severity{site="nyc"}'), "nyc's VPG series should be gone in that run"
    finally:
        nyc.not_zvm = False
    prom.evaluated()
    still = prom.alerts("ZvpgVpgCritical", **sql)
    assert [(a["state"], a["activeAt"]) for a in still] == [("firing", firing[0]["activeAt"])]
    assert not prom.alerts("ZvpgZvmUnreadable", site="nyc", state="firing")

    assert prom.run_sites() == 0
    prom.until("nyc readable again", lambda: prom.query('zvpg_site_up{site="nyc"} == 1'))
    prom.until("the VPG's series back", lambda: prom.query('zvpg_vpg_severity{site="nyc"} == 2'))
    prom.evaluated()
    again = prom.alerts("ZvpgVpgCritical", **sql)
    assert [(a["state"], a["activeAt"]) for a in again] == [("firing", firing[0]["activeAt"])]

    nyc.vpgs = [dict(v, Status=1, SubStatus=0, ActualRPO=5) for v in site_vpgs()]
    try:
        assert prom.run_sites() == 0
        prom.until("ZvpgVpgCritical resolved", lambda: not prom.alerts("ZvpgVpgCritical", **sql))
    finally:
        nyc.vpgs = site_vpgs()


def test_a_single_unreachable_zvm_is_unreadable_not_silent(prom: Prometheus) -> None:
    """`--zvm` with nothing answering still writes zvpg_site_up 0 and a run
    time: ZvpgZvmUnreadable pends, then fires; the data is not stale."""
    text = (prom.folder / "zvpg-single.prom").read_text(encoding="utf-8")
    assert re.search(r'^zvpg_site_up\{run="single",site="127\.0\.0\.1:\d+"\} 0$', text, re.M), text
    assert re.search(r'^zvpg_run_timestamp_seconds\{run="single"\} \d', text, re.M), text
    prom.until("ZvpgZvmUnreadable firing for the single ZVM",
               lambda: [a for a in prom.alerts("ZvpgZvmUnreadable", run="single") if a["state"] == "firing"])
    assert not prom.alerts("ZvpgDataStale", run="single")


def test_several_zvpg_files_share_the_folder_and_each_is_watched(prom: Prometheus) -> None:
    """Three jobs' files (--run sites, single, old) in one textfile folder: the
    collector reads them all without error; the one whose last run is 10
    minutes old is stale, the others are not; deleting that file does not
    resolve its stale alert."""
    assert prom.zvpg(str(ROOT / "examples" / "one-vpg.json"), "--run", "old", "--output",
                     str(prom.folder / "zvpg-old.prom"), prefix=["faketime", "-f", "-10m"]) == 0
    assert prom.run_sites() == 0
    runs = prom.until("three runs' timestamps", lambda: (lambda r: r if len(r) == 3 else None)(
        prom.query("zvpg_run_timestamp_seconds")))
    assert sorted(r["metric"]["run"] for r in runs) == ["old", "single", "sites"]
    assert [r["value"][1] for r in prom.query("node_textfile_scrape_error")] == ["0"]
    prom.until("ZvpgDataStale firing for run old",
               lambda: [a for a in prom.alerts("ZvpgDataStale", run="old") if a["state"] == "firing"])
    assert not prom.alerts("ZvpgDataStale", run="sites") and not prom.alerts("ZvpgDataStale", run="single")
    (prom.folder / "zvpg-old.prom").unlink()
    prom.until("the old file's series gone", lambda: len(prom.query("zvpg_run_timestamp_seconds")) == 2)
    prom.evaluated()
    assert [a["state"] for a in prom.alerts("ZvpgDataStale", run="old")] == ["firing"]


def test_site_health_is_scraped_and_its_alerts_fire(prom: Prometheus) -> None:
    """zvpg's site series (examples/site read from nyc, and from lab whose
    alerts could not be read), written as a textfile of its own: node_exporter
    reads it without error, the VRA's Status is what the ZVM gave, and the
    unpaired peer and the unreadable part page."""
    from test_site_outputs import site_report

    from zvpg_cli.output.prometheus import prometheus

    site = prom.folder / "zvpg-site.prom"
    site.write_text("".join(prometheus(site_report(now=None), "site")), encoding="utf-8")
    try:
        vra = prom.until("the VRA's status", lambda: prom.query(
            'zvpg_vra_status{run="site",site="nyc",vra="Z-VRA-esx03.nyc.example"}'))
        assert [(r["metric"]["id"], r["value"][1]) for r in vra] == [("8501166845681512322", "5")]
        assert [r["value"][1] for r in prom.query("node_textfile_scrape_error")] == ["0"]
        for name, labels in (("ZvpgPeerUnpaired", {"site": "nyc", "peer": "DR-Site-02"}),
                             ("ZvpgSitePartUnreadable", {"site": "lab", "part": "alerts"}),
                             ("ZvpgVraNotInstalled", {"site": "lab", "host": "esx03.nyc.example"})):
            prom.until(f"{name} firing", lambda n=name, la=labels: [
                a for a in prom.alerts(n, run="site", **la) if a["state"] == "firing"])
        assert not prom.alerts("ZvpgPeerUnpaired", run="site", peer="WCHL - CA")
    finally:
        site.unlink()
        prom.until("the site file's series gone", lambda: not prom.query('zvpg_vra_status{run="site"}'))

"""contrib/nagios/zvpg.cfg in a real Nagios 4 daemon (Debian's nagios4-core), set
up as docs/monitoring.md's steps say, against a fake ZVM over real TLS: checks
forced through the external command file (SCHEDULE_FORCED_SVC_CHECK), their
state, output and every performance datum read back from status.dat, as
Nagios parsed them.

The daemon runs once for the module, as the current user, with its own
nagios.cfg and every file it writes in a temporary folder; Debian's stock
object definitions (commands, contacts, time periods, templates) are loaded as
they are; the stock localhost host is replaced by a minimal one (its stock
services would run plugins the test does not need). Scheduled service checks
are off: only the forced ones run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from conftest import ROOT
from fakezvm import FakeZvm
from live import Daemon, password_file, perfdata, rpo_values, site_vpgs, tool, wait_for, zvpg_binary

pytest_plugins = ["fakezvm"]
pytestmark = pytest.mark.xdist_group("live-nagios4")

NAGIOS = ROOT / "contrib" / "nagios" / "zvpg.cfg"
STOCK = Path("/etc/nagios4/objects")
SERVICE = "Zerto VPGs"


def status_blocks(text: str, kind: str) -> list[dict[str, str]]:
    """The `kind { key=value ... }` blocks of status.dat (or `define kind {` of objects.cache)."""
    out = []
    for body in re.findall(rf"^(?:define )?{kind} \{{\n(.*?)\n\s*\}}", text, re.M | re.S):
        block = {}
        for line in body.splitlines():
            key, sep, value = line.strip().partition("=")
            if not sep:
                key, _, value = line.strip().partition("\t")
            block[key] = value.strip()
        out.append(block)
    return out


class Nagios:
    def __init__(self, daemon: Daemon, folder: Path, zvm: FakeZvm) -> None:
        self.daemon, self.folder, self.zvm = daemon, folder, zvm

    def service(self) -> dict[str, str] | None:
        text = (self.folder / "status.dat").read_text(encoding="utf-8", errors="replace")
        found = [b for b in status_blocks(text, "servicestatus") if b.get("service_description") == SERVICE]
        return found[0] if found else None

    def check(self) -> dict[str, str]:
        """Force the service's check now; its status as Nagios wrote it."""
        before = self.service() or {}
        previous = int(before.get("last_check", "0"))
        while int(time.time()) <= previous:  # a new check must have a later last_check
            time.sleep(0.05)
        asked = int(time.time())
        with open(self.folder / "nagios.cmd", "w", encoding="utf-8") as pipe:
            pipe.write(f"[{asked}] SCHEDULE_FORCED_SVC_CHECK;localhost;{SERVICE};{asked}\n")

        def done() -> dict[str, str] | None:
            now = self.service()
            return now if now and int(now.get("last_check", "0")) >= asked else None

        return wait_for("Nagios's forced check", done, self.daemon, timeout=40)


@pytest.fixture(scope="module")
def nagios(zvm_ca: trustme.CA, ca_file: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nagios]:
    nagios4 = tool("nagios4", "nagios4-core")
    if not (STOCK / "templates.cfg").exists():
        pytest.skip(f"no {STOCK}/templates.cfg: apt-get install nagios4-core")
    binary = zvpg_binary()
    tmp = tmp_path_factory.mktemp("nagios4")
    zvm = FakeZvm("windows", ca=zvm_ca, vpgs=site_vpgs(), alerts=[]).start()
    daemon = None
    try:
        (tmp / "checkresults").mkdir()
        conf_d, etc, var = tmp / "conf.d", tmp / "etc-zvpg", tmp / "var"
        for folder in (conf_d, etc, var):
            folder.mkdir()
        # docs/monitoring.md, "Nagios": the password file and the sites file in /etc/zvpg
        password = password_file(etc, zvm.password)
        (etc / "sites.toml").write_text(f'[sites.nyc]\nurl = "{zvm.url}"\nuser = "monitor"\n'
                                        f'password_file = "{password}"\nca_bundle = "{ca_file}"\n')
        # the shipped file, copied to conf.d with this machine's paths
        (conf_d / NAGIOS.name).write_text(
            NAGIOS.read_text(encoding="utf-8").replace("/usr/local/bin/zvpg", binary)
            .replace("/etc/zvpg/", f"{etc}/").replace("/var/lib/nagios4/", f"{var}/"), encoding="utf-8")
        (conf_d / "localhost.cfg").write_text(
            "define host {\n    use linux-server\n    host_name localhost\n    address 127.0.0.1\n"
            "    check_command host-up\n}\n"
            "define command {\n    command_name host-up\n    command_line /bin/true\n}\n", encoding="utf-8")
        import grp
        import pwd

        stock = "\n".join(f"cfg_file={STOCK / name}" for name in
                          ("commands.cfg", "contacts.cfg", "timeperiods.cfg", "templates.cfg"))
        (tmp / "nagios.cfg").write_text(f"""{stock}
cfg_dir={conf_d}
log_file={tmp}/nagios.log
object_cache_file={tmp}/objects.cache
precached_object_file={tmp}/objects.precache
status_file={tmp}/status.dat
status_update_interval=1
nagios_user={pwd.getpwuid(os.getuid()).pw_name}
nagios_group={grp.getgrgid(os.getgid()).gr_name}
check_external_commands=1
command_file={tmp}/nagios.cmd
lock_file={tmp}/nagios.pid
temp_file={tmp}/nagios.tmp
temp_path={tmp}
check_result_path={tmp}/checkresults
check_result_reaper_frequency=1
state_retention_file={tmp}/retention.dat
retain_state_information=0
execute_service_checks=0
execute_host_checks=0
enable_notifications=0
enable_flap_detection=0
use_syslog=0
interval_length=60
service_check_timeout=60
""", encoding="utf-8")
        verify = subprocess.run([nagios4, "-v", str(tmp / "nagios.cfg")], capture_output=True,
                                              text=True, timeout=60)
        assert verify.returncode == 0, verify.stdout
        env = {**os.environ, "HOME": str(tmp), "ZVPG_CACHE_DIR": str(tmp / "cache")}
        daemon = Daemon("nagios4", [nagios4, str(tmp / "nagios.cfg")], tmp / "daemon.log", env, cwd=tmp)
        live = Nagios(daemon, tmp, zvm)
        wait_for("Nagios's command file and status", lambda: (tmp / "nagios.cmd").exists() and live.service(),
                 daemon, timeout=60)
        yield live
    finally:
        if daemon is not None:
            daemon.stop()
        zvm.stop()
        shutil.rmtree(tmp / "checkresults", ignore_errors=True)


def test_nagios4_reads_every_vpgs_rpo_and_a_routine_sync_is_a_warning(nagios: Nagios) -> None:
    """The shipped service (duration-aware by default: a state file per host
    and service): a Delta Sync is WARNING on its first run; Nagios stores the
    counts and every VPG's RPO as performance data."""
    status = nagios.check()
    assert status["current_state"] == "1", status
    assert status["plugin_output"].startswith("ZVPG WARNING - 0 critical, 1 warning, 2 ok: SQL-Cluster"), status
    assert "(critical after 15m)" in status["long_plugin_output"]
    assert perfdata(status["performance_data"]) == {
        "critical": "0", "warning": "1", "ok": "2", "unknown": "0", "total": "3", "sites": "1", "sites_failed": "0",
        # the site's parts, read with its VPGs: no alerts, an installed VRA, a paired peer (the VPGs carry no
        # LastTest: no test is judged)
        "alerts_critical": "0", "alerts_warning": "0", "vras_not_installed": "0", "peers_unpaired": "0",
        "parts_failed": "0", "causes": "0",
        **rpo_values(site_vpgs())}
    assert (nagios.folder / "var" / f"zvpg-localhost-{SERVICE}.state").exists()


def test_nagios4_does_not_notify_on_warning(nagios: Nagios) -> None:
    """The shipped service pages on CRITICAL, UNKNOWN and recovery only."""
    objects = (nagios.folder / "objects.cache").read_text(encoding="utf-8")
    service = [b for b in status_blocks(objects, "service") if b.get("service_description") == SERVICE]
    assert len(service) == 1
    options = set(service[0]["notification_options"].split(","))
    assert "w" not in options and {"u", "c", "r"} <= options, options


def test_nagios4_names_a_site_that_answers_no_vpgs(nagios: Nagios) -> None:
    """A ZVM that answers an empty list: UNKNOWN naming the site, never OK, and
    never blamed on the service's --exclude 'Dev-*'."""
    nagios.zvm.vpgs = []
    try:
        status = nagios.check()
    finally:
        nagios.zvm.vpgs = site_vpgs()
    assert status["current_state"] == "3", status
    assert status["plugin_output"].startswith("ZVPG UNKNOWN - site nyc answered no VPGs"), status
    assert "--exclude" not in status["plugin_output"]
    assert perfdata(status["performance_data"])["total"] == "0"

"""The shipped monitoring glue in contrib/, checked by the real tools: promtool
(Prometheus rules, their unit tests, and zvpg's own exposition output), icinga2
(the CheckCommand against the ITL) and nagios4 (the commands and service with
Debian's stock objects). Where a tool is missing the test skips and names the
Debian package that carries it (.ci/run installs them)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from conftest import ROOT, run_zvpg
from fakezvm import FakeZvm
from live import password_file, tool

from zvpg_cli.cli import app

pytest_plugins = ["fakezvm"]  # zvm_ca, ca_file, windows_zvm

CONTRIB = ROOT / "contrib"
RULES = CONTRIB / "prometheus" / "zvpg-rules.yml"
RULE_TESTS = CONTRIB / "prometheus" / "zvpg-rules.test.yml"
ICINGA = CONTRIB / "icinga2" / "zvpg.conf"
NAGIOS = CONTRIB / "nagios" / "zvpg.cfg"

# Triage options that make no sense in a check command (they choose the format,
# or are for people at a terminal), or that are left at their defaults there.
NOT_FOR_CHECKS = {"--format", "-f", "--nagios", "--json", "--limit", "--max-bytes", "--parallel", "--output", "-o",
                  "--help", "-h", "--rpo-warning-ratio", "--run",
                  "--quiet", "-q"}  # progress is for a terminal: never shown under --nagios anyway


def triage_options() -> set[str]:
    command = typer.main.get_command(app).commands["triage"]  # type: ignore[attr-defined]
    return {opt for param in command.params for opt in [*param.opts, *param.secondary_opts] if opt.startswith("-")}


# ---- Prometheus ------------------------------------------------------------------------

def test_promtool_accepts_the_rules() -> None:
    promtool = tool("promtool", "prometheus")
    p = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS" in p.stdout


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    """Input series -> alerts that fire and alerts that do not (a Delta Sync that
    clears before its `for:`, a failover state of -1, a fresh timestamp)."""
    promtool = tool("promtool", "prometheus")
    p = subprocess.run([promtool, "test", "rules", RULE_TESTS.name], capture_output=True, text=True, timeout=120,
                       cwd=RULE_TESTS.parent)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "SUCCESS" in p.stdout


def test_promtool_fails_a_rule_test_that_expects_the_wrong_thing(tmp_path: Path) -> None:
    """The unit tests can fail: the Delta Sync that clears before its `for:`,
    expected to fire, is a failure."""
    promtool = tool("promtool", "prometheus")
    shutil.copy(RULES, tmp_path / RULES.name)
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    clears = next(t for t in tests["tests"] if "Web-Frontend" in str(t["input_series"]))
    clears["alert_rule_test"][-1]["exp_alerts"] = [{"exp_labels": {"severity": "critical", "vpg": "Web-Frontend",
                                                                   "id": "f3a1-0002"}}]
    (tmp_path / "t.yml").write_text(yaml.safe_dump(tests), encoding="utf-8")
    p = subprocess.run([promtool, "test", "rules", "t.yml"], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)
    assert p.returncode != 0
    assert "ZvpgVpgCritical" in p.stdout + p.stderr


def test_every_alert_has_a_for_and_a_test_where_it_fires_and_one_where_it_does_not() -> None:
    rules = [r for g in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    checks = [c for t in tests for c in t["alert_rule_test"]]
    for rule in rules:
        name = rule["alert"]
        assert rule.get("for"), f"{name}: no for:"
        assert {"summary", "description"} <= set(rule["annotations"]), name
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        mine = [c for c in checks if c["alertname"] == name]
        assert any(c.get("exp_alerts") for c in mine), f"{name}: no test where it fires"
        assert any(not c.get("exp_alerts") for c in mine), f"{name}: no test where it does not fire"


def test_the_rules_read_only_metrics_zvpg_writes() -> None:
    """Every zvpg_* name in the rules is in zvpg's Prometheus output (of VPGs,
    and of a whole site: examples/site's VPGs, alerts, VRAs and peer sites), or
    is one written only in a situation a file payload does not make:
    zvpg_site_up (ZVMs read), zvpg_vpg_state_age_seconds (--state)."""
    from test_site_outputs import site_report

    from zvpg_cli.output.prometheus import prometheus

    p = run_zvpg("triage", str(ROOT / "examples" / "vpgs.json"), "--format", "prometheus")
    text = p.stdout.decode() + "".join(prometheus(site_report()))
    written = set(re.findall(r"^(zvpg_\w+)", text, re.M))
    used = set(re.findall(r"\b(zvpg_[a-z_]+)", RULES.read_text(encoding="utf-8")))
    used -= {"zvpg_vpg_description"}  # the YAML anchor of the shared description
    assert used - written <= {"zvpg_site_up", "zvpg_vpg_state_age_seconds", "zvpg_run_timestamp_seconds"}


@pytest.mark.parametrize("payload", ["vpgs.json", "three-vpgs.json", "one-vpg.json"])
def test_promtool_lints_zvpgs_own_output(payload: str) -> None:
    promtool = tool("promtool", "prometheus")
    out = run_zvpg("triage", str(ROOT / "examples" / payload), "--format", "prometheus")
    assert out.returncode in (0, 1, 2), out.stderr
    assert out.stdout.startswith(b"# HELP zvpg_")
    p = subprocess.run([promtool, "check", "metrics"], input=out.stdout, capture_output=True, timeout=60)
    assert p.returncode == 0 and not p.stdout and not p.stderr, (p.stdout + p.stderr).decode()


def test_promtool_lints_zvpgs_output_over_several_zvms(windows_zvm: FakeZvm, ca_file: str, tmp_path: Path) -> None:
    """Series with a site label, zvpg_site_up for a site read and one that could not be."""
    promtool = tool("promtool", "prometheus")
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[defaults]\nuser = "monitor"\npassword_env = "ZVM_PW"\nca_bundle = "{ca_file}"\ntimeout = 5\n'
                     f'[sites.nyc]\nurl = "{windows_zvm.url}"\n[sites.lon]\nurl = "https://127.0.0.1:9"\n')
    out = run_zvpg("triage", "--sites", str(sites), "--format", "prometheus", env={"ZVM_PW": windows_zvm.password})
    text = out.stdout.decode()
    assert 'zvpg_site_up{site="nyc"} 1' in text and 'zvpg_site_up{site="lon"} 0' in text, out.stderr
    p = subprocess.run([promtool, "check", "metrics"], input=out.stdout, capture_output=True, timeout=60)
    assert p.returncode == 0 and not p.stdout and not p.stderr, (p.stdout + p.stderr).decode()


# ---- Icinga 2 ---------------------------------------------------------------------------

def icinga2_validate(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """`icinga2 daemon -C` on a main config in tmp_path that loads the ITL and the
    plugin commands, the stock templates (generic-host, generic-service) and FILES;
    every path Icinga writes to is in tmp_path, and it runs as the current user."""
    icinga2 = tool("icinga2", "icinga2-bin icinga2-common")
    if not Path("/usr/share/icinga2/include/itl").exists():
        pytest.skip("the Icinga Template Library is not installed: apt-get install icinga2-common")
    stock = Path("/etc/icinga2/conf.d/templates.conf")
    if os.access(stock, os.R_OK):
        templates = f'include "{stock}"'
    else:  # /etc/icinga2 is readable by root and nagios only: Debian's stock templates, abridged
        templates = ('template Host "generic-host" { max_check_attempts = 3\n check_interval = 1m\n'
                     ' retry_interval = 30s\n check_command = "hostalive" }\n'
                     'template Service "generic-service" { max_check_attempts = 5\n check_interval = 1m\n'
                     ' retry_interval = 30s }')
    main = tmp_path / "icinga2.conf"
    main.write_text("\n".join(['const PluginDir = "/usr/lib/nagios/plugins"', "include <itl>", "include <plugins>",
                               templates, *(f'include "{f}"' for f in files)]) + "\n", encoding="utf-8")
    dirs = {}
    for name in ("CacheDir", "DataDir", "LogDir", "SpoolDir", "InitRunDir"):
        dirs[name] = tmp_path / name
        dirs[name].mkdir()
    import grp
    import pwd

    env = {**os.environ, "ICINGA2_USER": pwd.getpwuid(os.getuid()).pw_name,
           "ICINGA2_GROUP": grp.getgrgid(os.getgid()).gr_name}
    return subprocess.run([icinga2, "daemon", "-C", "-c", str(main), *(f"-D{k}={v}" for k, v in dirs.items())],
                          capture_output=True, text=True, timeout=120, env=env)


def test_icinga2_accepts_the_checkcommand_host_and_service(tmp_path: Path) -> None:
    p = icinga2_validate(tmp_path, ICINGA)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Finished validating the configuration" in p.stdout
    objects = (tmp_path / "CacheDir" / "icinga2.debug").read_bytes()
    assert b"zvm01!zerto-vpgs" in objects, "apply Service did not create the service on the example host"


def test_icinga2_rejects_a_broken_copy(tmp_path: Path) -> None:
    """The validation can fail: a service with an undefined check command."""
    broken = tmp_path / "broken.conf"
    broken.write_text(ICINGA.read_text(encoding="utf-8").replace('check_command = "zvpg"',
                                                                 'check_command = "zvpg-typo"'), encoding="utf-8")
    p = icinga2_validate(tmp_path, broken)
    assert p.returncode != 0
    assert "zvpg-typo" in p.stdout + p.stderr


def test_icinga2_checkcommand_maps_every_triage_option_a_check_needs() -> None:
    text = ICINGA.read_text(encoding="utf-8")
    mapped = set(re.findall(r'^\s+"(--[a-z-]+)" = \{', text, re.M))
    options = triage_options()
    assert mapped <= options, f"not triage options: {sorted(mapped - options)}"
    missing = options - mapped - NOT_FOR_CHECKS
    assert not missing, f"triage options the CheckCommand does not map: {sorted(missing)}"
    for variable in re.findall(r'value = "\$(\w+)\$"', text) + re.findall(r'set_if = "\$(\w+)\$"', text):
        assert variable.startswith("zvpg_"), variable


# ---- Nagios 4 ---------------------------------------------------------------------------

def nagios4_verify(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    """`nagios4 -v` on Debian's stock nagios.cfg, its conf.d folder replaced by one
    in tmp_path holding FILES, every path Nagios writes to in tmp_path."""
    nagios4 = tool("nagios4", "nagios4-core")
    stock = Path("/etc/nagios4/nagios.cfg")
    if not stock.exists():
        pytest.skip("no /etc/nagios4/nagios.cfg: apt-get install nagios4-core")
    import grp
    import pwd

    conf_d, var = tmp_path / "conf.d", tmp_path / "var"
    conf_d.mkdir(parents=True)
    var.mkdir()
    for f in files:
        shutil.copy(f, conf_d / f.name)
    writes = {"log_file", "object_cache_file", "precached_object_file", "status_file", "lock_file", "temp_file",
              "state_retention_file", "debug_file", "command_file"}
    lines = []
    for line in stock.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if line.startswith("cfg_dir=/etc/nagios4/conf.d"):
            line = f"cfg_dir={conf_d}"
        elif key in writes:
            line = f"{key}={var / Path(value).name}"
        elif key == "check_result_path":
            line = f"{key}={var}"
        elif key == "nagios_user":
            line = f"{key}={pwd.getpwuid(os.getuid()).pw_name}"
        elif key == "nagios_group":
            line = f"{key}={grp.getgrgid(os.getgid()).gr_name}"
        lines.append(line)
    main = tmp_path / "nagios.cfg"
    main.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return subprocess.run([nagios4, "-v", str(main)], capture_output=True, text=True, timeout=120)


def checked(output: str, what: str) -> int:
    m = re.search(rf"Checked (\d+) {what}\.", output)
    assert m, output
    return int(m.group(1))


def test_nagios4_accepts_the_commands_and_service(tmp_path: Path) -> None:
    stock = nagios4_verify(tmp_path / "stock")
    assert stock.returncode == 0, stock.stdout + stock.stderr
    p = nagios4_verify(tmp_path / "zvpg", NAGIOS)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Total Errors:   0" in p.stdout and "Total Warnings: 0" in p.stdout
    assert checked(p.stdout, "services") == checked(stock.stdout, "services") + 1
    assert checked(p.stdout, "commands") == checked(stock.stdout, "commands") + 2


def test_nagios4_rejects_a_broken_copy(tmp_path: Path) -> None:
    """The validation can fail: a service whose command is not defined."""
    broken = tmp_path / "broken.cfg"
    broken.write_text(NAGIOS.read_text(encoding="utf-8").replace("check_zvpg_sites!", "check_zvpg_typo!"),
                      encoding="utf-8")
    p = nagios4_verify(tmp_path / "run", broken)
    assert p.returncode != 0
    assert "check_zvpg_typo" in p.stdout


def test_nagios_commands_use_only_triage_options() -> None:
    lines = re.findall(r"command_line\s+(.*)", NAGIOS.read_text(encoding="utf-8"))
    assert len(lines) == 2
    used = {o for line in lines for o in re.findall(r"(?<!\S)(--[a-z-]+)", line)}
    assert used <= triage_options()
    assert all(line.split()[:3] == ["/usr/local/bin/zvpg", "triage", "--nagios"] for line in lines)


def nagios_command(name: str, *args: str, state_dir: Path) -> str:
    """The command line of `define command` NAME with $ARGn$ and the host and
    service macros replaced as Nagios does, running this checkout's zvpg instead
    of /usr/local/bin/zvpg and keeping its state in `state_dir`."""
    text = NAGIOS.read_text(encoding="utf-8")
    line = re.search(rf"command_name\s+{name}\n\s+command_line\s+(.*)", text)
    assert line, name
    command = line.group(1).replace("/usr/local/bin/zvpg", f"{shlex.quote(sys.executable)} -m zvpg_cli")
    command = command.replace("/var/lib/nagios4/", f"{state_dir}/")
    for n, arg in enumerate(args, 1):
        command = command.replace(f"${'ARG'}{n}$", arg)
    command = command.replace("$HOSTNAME$", "localhost").replace("$SERVICEDESC$", "Zerto VPGs")
    assert "$" not in command, command
    return command


def test_the_nagios_commands_check_a_real_zvm(windows_zvm: FakeZvm, ca_file: str, tmp_path: Path) -> None:
    """The shipped command lines, run through the shell as Nagios runs them,
    against the fake ZVM: a status line with performance data, a check's exit code."""
    password = password_file(tmp_path, windows_zvm.password)
    sites = tmp_path / "sites.toml"
    sites.write_text(f'[sites.nyc]\nurl = "{windows_zvm.url}"\nuser = "monitor"\n'
                     f'password_file = "{password}"\nca_bundle = "{ca_file}"\n')
    for command in (nagios_command("check_zvpg", windows_zvm.url, "monitor", str(password), f"--ca-bundle {ca_file}",
                                   state_dir=tmp_path),
                    nagios_command("check_zvpg_sites", str(sites), "", state_dir=tmp_path)):
        p = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=60)
        first = p.stdout.split("\n", 1)[0]
        assert re.match(r"ZVPG (OK|WARNING|CRITICAL) - .* \| critical=\d+ ", first), (command, p.stdout, p.stderr)
        assert p.returncode == {"OK": 0, "WARNING": 1, "CRITICAL": 2}[first.split()[1]]

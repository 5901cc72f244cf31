"""Real monitoring daemons for the live tests (tests/test_live_*.py): the tools
(skipping with the Debian package's name where one is missing), free loopback
ports, a daemon that is stopped for sure (at the end of its module, and at exit
whatever happens), waiting for a condition with a deadline, the fake ZVMs'
VPGs, and performance data as the monitoring systems store it.

Each live module starts its daemon once (module-scoped fixtures) and keeps its
tests on one xdist worker (`xdist_group`), so a daemon never starts twice."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def tool(name: str, package: str) -> str:
    """The path of a tool, or skip the test naming the Debian package that has it."""
    for folder in (None, "/usr/sbin", "/usr/bin"):
        found = shutil.which(name, path=folder)
        if found:
            return found
    pytest.skip(f"{name} not installed: apt-get install --no-install-recommends {package}")


def zvpg_binary() -> str:
    """The installed console script of the Python running the tests (what a
    monitoring system runs as `zvpg`)."""
    script = Path(sys.executable).parent / "zvpg"
    if not script.exists():
        pytest.skip(f"no zvpg console script beside {sys.executable}: pip install -e .")
    return str(script)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Daemon:
    """A daemon in its own process group, its output in `log`; `stop()` (also
    registered with atexit) ends the group: SIGTERM, then SIGKILL after 10 s."""

    def __init__(self, name: str, args: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name, self.log = name, log
        self._out = open(log, "wb")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=env, cwd=cwd, start_new_session=True)
        atexit.register(self.stop)

    def stop(self) -> None:
        p = self.process
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)  # anything it left behind in its group
        self._out.close()
        atexit.unregister(self.stop)

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")


def wait_for(what: str, probe: Callable[[], T | None], daemon: Daemon | None = None, timeout: float = 30,
             every: float = 0.1) -> T:
    """The first true value `probe()` returns, polled every `every` seconds; the
    test fails naming `what` (and the daemon's last log lines) after `timeout`
    seconds, or at once when the daemon exits."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        if daemon is not None:
            daemon.check()
        try:
            last = probe()
        except (OSError, ValueError) as exc:  # not up yet, a file half-written
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} (last: {last!r})"
                        + (f"\n{daemon.name}'s log:\n{daemon.tail()}" if daemon else ""))
        time.sleep(every)


# ---- what the fake ZVMs answer -------------------------------------------------------------

def password_file(folder: Path, password: str) -> Path:
    """The ZVM password in `folder`/monitor.password, mode 0600 (docs/monitoring.md's step)."""
    path = folder / "monitor.password"
    path.write_text(password + "\n")
    path.chmod(0o600)
    return path


def site_vpgs() -> list[dict[str, Any]]:
    """A site's VPGs: one in a routine Delta Sync (Not Meeting SLA, critical
    without a state file, a warning in its first 15 minutes with one), two ok,
    one that the shipped examples exclude (`Dev-*`)."""
    return [
        {"VpgName": "ERP-Prod", "VpgIdentifier": "f3a1-0001", "Status": 1, "SubStatus": 0, "ActualRPO": 6,
         "ConfiguredRpoSeconds": 300},
        {"VpgName": 'SQL-Cluster "A" | primary', "VpgIdentifier": "f3a1-0003", "Status": 2, "SubStatus": 6,
         "ActualRPO": 1830, "ConfiguredRpoSeconds": 300},
        {"VpgName": "Web-Frontend", "VpgIdentifier": "f3a1-0002", "Status": 1, "SubStatus": 23, "ActualRPO": 9,
         "ConfiguredRpoSeconds": 300},
        {"VpgName": "Dev-Sandbox", "VpgIdentifier": "f3a1-0006", "Status": 0, "SubStatus": 1, "ActualRPO": 0,
         "ConfiguredRpoSeconds": 300},
    ]


def rpo_values(vpgs: list[dict[str, Any]], exclude: str = "Dev-") -> dict[str, str]:
    """The RPO performance data zvpg writes for these VPGs, as label -> value:
    `SQL-Cluster "A" _ primary rpo` -> `1830s` (a `|` in a label becomes `_`)."""
    return {re.sub(r"[|'=]", "_", v["VpgName"]) + " rpo": f"{v['ActualRPO']}s"
            for v in vpgs if not v["VpgName"].startswith(exclude)}


_DATUM = re.compile(r"\s*('(?:[^']|'')*'|[^\s=']+)=(\S*)")


def perfdata(data: str | list[str]) -> dict[str, str]:
    """Performance data as label -> the value and its unit (thresholds dropped),
    from a string (Nagios's `performance_data=`) or a list of data (Icinga 2's
    `last_check_result.performance_data`); the whole input must parse."""
    text = " ".join(data) if isinstance(data, list) else data
    out, at = {}, 0
    while at < len(text.rstrip()):
        m = _DATUM.match(text, at)
        assert m, f"performance data does not parse at {text[at:at + 60]!r}"
        label = m.group(1)
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        assert label not in out, f"label {label!r} twice"
        out[label] = m.group(2).split(";")[0]
        at = m.end()
    return out

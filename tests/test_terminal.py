"""Terminal and pipe conventions through real subprocesses and a pseudo-terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest

ZVPG = [sys.executable, "-m", "zvpg_cli"]
ESC = re.compile(rb"\x1b\[[0-9;]*m")
COLOR = re.compile(rb"\x1b\[[0-9;]*(3[0-9]|9[0-7]|38;)[0-9;]*m")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")}
    env.update(extra)
    return env


def in_pty(args: list[str], columns: int | None = None, **env: str) -> bytes:
    """`zvpg ARGS` on a pseudo-terminal (`columns` wide, where given: its window size)."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    if columns is not None:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    p = subprocess.Popen([*ZVPG, *args], stdin=slave, stdout=slave, stderr=slave, env=_env(**env))
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout=60)
    os.close(master)
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
class TestTerminal:
    def test_colour_on_a_terminal(self) -> None:
        assert COLOR.search(in_pty(["explain", "Error"], TERM="xterm-256color"))

    def test_no_color(self) -> None:
        out = in_pty(["explain", "Error"], TERM="xterm-256color", NO_COLOR="1")
        assert not COLOR.search(out) and b"Error" in out

    def test_term_dumb(self) -> None:
        out = in_pty(["list"], TERM="dumb")
        assert not ESC.search(out) and b"Bitmap Syncing" in out

    def test_annotate_defaults_to_a_table_on_a_terminal(self, tmp_path: Any) -> None:
        f = tmp_path / "vpgs.json"
        f.write_text('[{"VpgName": "ERP", "Status": 2, "SubStatus": 6, "ActualRPO": 40, "ConfiguredRpoSeconds": 30}]')
        out = in_pty(["annotate", str(f)], TERM="dumb", COLUMNS="100")
        assert b"Not Meeting" in out and b"Delta Syncing" in out and b"40s / 30s" in out and b'"zvpg"' not in out


def test_piped_output_has_no_escape_codes(run: Any) -> None:
    for args in (["explain", "Error"], ["list"], ["decode", "2", "23"]):
        p = run(*args, env={"TERM": "xterm-256color"})
        assert not ESC.search(p.stdout), args


def test_force_color_when_piped(run: Any) -> None:
    p = run("explain", "Error", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert ESC.search(p.stdout)


@pytest.mark.parametrize("width", [40, 80, 200])
@pytest.mark.parametrize("args", [["explain", "Delta Syncing"], ["list"], ["decode", "2", "6"],
                                  ["list", "--status", "Not Meeting SLA"]])
def test_wraps_to_columns(run: Any, width: int, args: list[str]) -> None:
    p = run(*args, env={"COLUMNS": str(width)})
    lines = p.stdout.decode().splitlines()
    assert max(len(line) for line in lines) <= width, args
    if args[0] == "explain":  # the description is all there, wrapped
        text = " ".join(" ".join(lines).split())
        assert "If a disaster occurs requiring a failover during a delta synchronization" in text


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell pipeline")
@pytest.mark.parametrize("pipeline", [
    "{zvpg} list --json | head -c 100",
    "{zvpg} list | head -n 2",
    "{zvpg} explain 'Delta Syncing' | head -n 1",
    "{zvpg} annotate {big} | head -c 10",
    "{zvpg} annotate --format ndjson {big} | head -n 1",
])
def test_broken_pipe_is_quiet(tmp_path: Any, pipeline: str) -> None:
    big = tmp_path / "big.json"
    objs = (f'{{"VpgName": "v{i}", "Status": 1, "SubStatus": 0}}' for i in range(50000))
    big.write_text("[" + ",".join(objs) + "]")
    zvpg = " ".join(ZVPG)
    cmd = pipeline.format(zvpg=zvpg, big=big) + " >/dev/null"
    p = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd.replace(' |', ' 2>' + str(tmp_path / 'err') + ' |', 1)}"],
                       capture_output=True, timeout=120)
    err = (tmp_path / "err").read_bytes()
    assert err == b"", err
    assert p.returncode in (0, 141)


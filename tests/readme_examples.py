"""The ```console blocks of README.md and docs/*.md: each `$ zvpg ...` line and
the output it shows, as an 80-column terminal (`WIDTH`) shows it.
tests/test_docs.py runs them and compares; run this file with `--update` to
rewrite the shown output of every page from real runs."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
#: A block shown as run at a fixed moment (its output has ages in it: an alert's, a
#: test's) says so on the line above it; it is run under libfaketime at that moment.
AT = re.compile(r"<!-- at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC -->\n```console\n(.*?)```", re.S)
#: The terminal width the examples are run at, and docs/cli.md's help rendered at (as the pages say).
WIDTH = 80
ENV = {"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}


def pages() -> list[Path]:
    """README.md and every page of docs/, the pages whose examples are checked."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def examples(text: str) -> list[tuple[str, str]]:
    """(command line, expected output) pairs."""
    out = []
    moments = {block: at for at, block in AT.findall(text)}
    for block in BLOCK.findall(text):
        lines = block.split("\n")
        assert lines[0].startswith("$ "), lines[0]
        command, shown = lines[0][2:], "\n".join(lines[1:])
        out.append((f"@{moments[block]} {command}" if block in moments else command, shown))
    return out


def run(command: str) -> str:
    """The output of `command` (`@DATE TIME zvpg ...`: run under faketime at that UTC moment)."""
    prefix: list[str] = []
    if command.startswith("@"):
        day, clock, command = command[1:].split(" ", 2)
        prefix = ["faketime", "-f", f"@{day} {clock}"]
    args = shlex.split(command)
    assert args[0] == "zvpg"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ZVPG_DATA")}
    env["TZ"] = "UTC"
    p = subprocess.run([*prefix, sys.executable, "-m", "zvpg_cli", *args[1:]], capture_output=True,
                       env={**env, **ENV}, text=True, encoding="utf-8", timeout=60, cwd=ROOT)
    # the one value that differs on every run: shown as what it is
    return re.sub(r"^zvpg_run_timestamp_seconds \S+$", "zvpg_run_timestamp_seconds <unix time of the run>",
                  p.stdout + p.stderr, flags=re.M)


def update() -> None:
    for page in pages():
        text = page.read_text(encoding="utf-8")
        page.write_text(BLOCK.sub(_rerun({block: at for at, block in AT.findall(text)}), text), encoding="utf-8")


def _rerun(moments: dict[str, str]) -> Any:
    """A replacement for a page's blocks: each run again (at its moment, if it has one)."""
    def replace(m: re.Match[str]) -> str:
        command = m.group(1).split("\n", 1)[0][2:]
        at = moments.get(m.group(1))
        return f"```console\n$ {command}\n{run(f'@{at} {command}' if at else command)}```"

    return replace


if __name__ == "__main__" and "--update" in sys.argv:
    update()

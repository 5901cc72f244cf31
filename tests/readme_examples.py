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

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
#: The terminal width the examples are run at, and docs/cli.md's help rendered at (as the pages say).
WIDTH = 80
ENV = {"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}


def pages() -> list[Path]:
    """README.md and every page of docs/, the pages whose examples are checked."""
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def examples(text: str) -> list[tuple[str, str]]:
    """(command line, expected output) pairs."""
    out = []
    for block in BLOCK.findall(text):
        lines = block.split("\n")
        assert lines[0].startswith("$ "), lines[0]
        command, shown = lines[0][2:], "\n".join(lines[1:])
        out.append((command, shown))
    return out


def run(command: str) -> str:
    args = shlex.split(command)
    assert args[0] == "zvpg"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "ZVPG_DATA")}
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", *args[1:]], capture_output=True,
                       env={**env, **ENV}, text=True, encoding="utf-8", timeout=60, cwd=ROOT)
    # the one value that differs on every run: shown as what it is
    return re.sub(r"^zvpg_run_timestamp_seconds \S+$", "zvpg_run_timestamp_seconds <unix time of the run>",
                  p.stdout + p.stderr, flags=re.M)


def update() -> None:
    def replace(m: re.Match[str]) -> str:
        command = m.group(1).split("\n", 1)[0][2:]
        return f"```console\n$ {command}\n{run(command)}```"

    for page in pages():
        text = page.read_text(encoding="utf-8")
        page.write_text(BLOCK.sub(replace, text), encoding="utf-8")


if __name__ == "__main__" and "--update" in sys.argv:
    update()

"""The plain Python API, as README shows it: every ```python block of README
runs, and each `print(...)  # OUTPUT` line prints OUTPUT."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_readme_has_a_python_example() -> None:
    assert BLOCKS


@pytest.mark.parametrize("block", BLOCKS)
def test_readme_python_example_runs_and_prints_what_it_says(block: str) -> None:
    p = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    expected = [m.group(1) for m in re.finditer(r"^print\(.*\)  # (.+)$", block, re.M)]
    assert expected, "each print() in the example says what it prints"
    got = p.stdout.splitlines()
    assert got[-len(expected):] == expected


def test_the_api_names_are_functions_whatever_was_imported_first() -> None:
    code = ("import zvpg_cli.kb, zvpg_cli.lookup, zvpg_cli.decoding\n"
            "from zvpg_cli import decode, load_kb, resolve\n"
            "assert all(callable(f) for f in (decode, load_kb, resolve))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr

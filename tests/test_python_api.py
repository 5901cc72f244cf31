"""The plain Python API, as the docs show it: every ```python block of README
and docs/ runs, and each `print(...)  # OUTPUT` line prints OUTPUT."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [b for page in PAGES for b in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)]


def test_the_docs_have_a_python_example() -> None:
    assert BLOCKS


@pytest.mark.parametrize("block", BLOCKS)
def test_python_example_runs_and_prints_what_it_says(block: str) -> None:
    p = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    expected = [m.group(1) for m in re.finditer(r"^print\(.*\)  # (.+)$", block, re.M)]
    assert expected, "each print() in the example says what it prints"
    got = p.stdout.splitlines()
    assert got[-len(expected):] == expected


def test_the_api_names_are_functions_whatever_was_imported_first() -> None:
    code = ("import zvpg_cli.knowledge.kb, zvpg_cli.knowledge.lookup, zvpg_cli.knowledge.decoding\n"
            "from zvpg_cli import decode, load_kb, resolve\n"
            "assert all(callable(f) for f in (decode, load_kb, resolve))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr

"""Shared fixtures: the knowledge base, a CLI runner, real subprocesses, and an
independent reading of the documentation text (tests/fixtures/), so that the
tests check the knowledge base against the source, not against itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from zvpg_cli.cli import app, load_commands, main  # noqa: F401 - app: some tests import it from here
from zvpg_cli.knowledge.kb import load_kb
from zvpg_cli.knowledge.model import KnowledgeBase

load_commands()  # every command: the tests that read `app` see them all
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "vpg-status-reference.txt"
REFERENCE = FIXTURES / "zerto-rest-api.md"
KB_FILE = ROOT / "data" / "statuses.yaml"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache folder, and no ZVPG_DATA or proxy settings
    from outside (the fake ZVMs are on localhost; tests that use a proxy set one)."""
    monkeypatch.setenv("ZVPG_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("ZVPG_DATA", raising=False)
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb(str(KB_FILE), use_cache=False)


class Result:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.exit_code, self.stdout, self.stderr = code, stdout, stderr


@pytest.fixture
def cli() -> Any:
    """Run `zvpg ARGS` in-process, through the same entry point as the console
    script (its one guarded place for failures and UNKNOWN answers); an
    internal error raises (ZVPG_DEBUG) rather than becoming exit 70."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
        with runner.isolation(input=input, env={"ZVPG_DEBUG": "1", **(env or {})}) as streams:
            saved, sys.argv = sys.argv, ["zvpg", *args]
            code: Any = 0
            try:
                main()
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            finally:
                sys.argv = saved
                sys.stdout.flush()
                sys.stderr.flush()
                stdout, stderr = streams[0].getvalue(), streams[1].getvalue()
        return Result(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))

    return invoke


def run_zvpg(*args: str, input: bytes | str | None = None, env: dict[str, str] | None = None,
             cwd: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """`python -m zvpg_cli ARGS` in a real subprocess."""
    full_env = {**os.environ, **(env or {})}
    data = input.encode("utf-8") if isinstance(input, str) else input
    return subprocess.run([sys.executable, "-m", "zvpg_cli", *args], input=data, capture_output=True,
                          env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def run() -> Any:
    return run_zvpg


# ---- an independent reading of the documentation text -------------------------------

def seed_lines() -> list[str]:
    return SEED.read_text(encoding="utf-8").splitlines()


def seed_descriptions() -> dict[str, str]:
    """Table 2: substatus name as written -> description."""
    lines = seed_lines()
    start = lines.index("Substatus | Description |")
    out = {}
    for line in lines[start + 1:]:
        name, _, rest = line.partition(" | ")
        out[name] = rest.removesuffix(" |")
    return out


def reference_statuses() -> dict[int, tuple[str, str]]:
    """code -> (API name, documentation name) from the reference's status table."""
    return _reference_table("## VPG `Status`")


def reference_substatuses() -> dict[int, tuple[str, str]]:
    return _reference_table("## VPG `SubStatus`")


def reference_community_codes() -> tuple[str, dict[int, str]]:
    """The reference's paragraph on codes 33-35 and the codes its two community
    sources agree on (the names before the one source that "goes on")."""
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index("Codes 33-35, from two community sources")
    paragraph = " ".join(text[start:text.index("\n\n", start)].split())
    agreed = paragraph[:paragraph.index("The LogicMonitor module alone goes on")]
    return paragraph, {int(code): name for code, name in re.findall(r"(\d+) `(\w+)`", agreed)}


def _reference_table(heading: str) -> dict[int, tuple[str, str]]:
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index(heading):]
    section = section[: section.index("\n## ", 1)] if "\n## " in section[1:] else section
    out = {}
    for m in re.finditer(r"^\| (\d+) \| (\w+) \| (.+?) \|$", section, re.M):
        out[int(m.group(1))] = (m.group(2), m.group(3))
    return out


def seed_status_rows() -> list[dict[str, Any]]:
    """Table 1, read by the rules of the seed's README: a row whose first cell is a
    status starts that status (cells: status, substatus, comment); other rows
    continue it, shifted left (cells: substatus, comment-or-condition)."""
    status_labels = {doc for _, doc in reference_statuses().values()} | {"Meeting SLA or Based on Alerts"}
    lines = seed_lines()
    end = lines.index("Substatus | Description |")
    rows: list[dict[str, Any]] = []
    current = None
    for line in lines[1:end]:
        cells = [c.strip() for c in line.rstrip("|").rstrip().split("|")]
        cells += [""] * (3 - len(cells))
        if cells[0] in status_labels:
            current = cells[0]
            rows.append({"status": current, "cell": cells[1], "extra": "", "status_comment": cells[2]})
        else:
            rows.append({"status": current, "cell": cells[0], "extra": cells[1], "status_comment": ""})
    return rows

"""A usage error that has choices names them: the columns --fields can show, the
sites a one-ZVM command can pick from, the shells completion supports. Through
the installed CLI: one line on stderr, exit 2, nothing on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ZVPG = [sys.executable, "-m", "zvpg_cli"]


def zvpg(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("ZVPG_DATA",)}
    return subprocess.run([*ZVPG, *args], capture_output=True, text=True, encoding="utf-8", timeout=60, cwd=ROOT,
                          env={**clean, **env}, stdin=subprocess.DEVNULL)


def usage_error(p: subprocess.CompletedProcess[str]) -> str:
    assert p.returncode == 2 and p.stdout == "", (p.returncode, p.stdout[:200])
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("zvpg: "), p.stderr
    return p.stderr


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_a_misspelled_field_is_a_usage_error_listing_the_columns(fmt: str) -> None:
    line = usage_error(zvpg("annotate", "examples/vpgs.json", "--format", fmt, "--fields", "name,VpgIdentfier"))
    assert "'VpgIdentfier'" in line and "did you mean VpgIdentifier?" in line
    assert "name, status, substatus, severity, failover, rpo" in line and "VpgIdentifier" in line


def test_a_field_some_objects_have_is_a_column() -> None:
    p = zvpg("annotate", "examples/vpgs.json", "--format", "csv", "--fields", "name,VpgIdentifier")
    assert p.returncode == 0 and p.stdout.splitlines()[1] == "ERP-Prod,f3a1c2d4-0001"


def test_an_empty_payload_has_no_fields_to_check(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert zvpg("annotate", str(empty), "--format", "csv", "--fields", "name,Anything").returncode == 0


@pytest.mark.parametrize("command", [["fetch", "vpgs"], ["annotate"], ["codes"]])
def test_a_one_zvm_command_given_several_names_them(command: list[str]) -> None:
    line = usage_error(zvpg(*command, "--zvm", "https://zvm01:9669", "--zvm", "https://zvma02", "--user", "monitor",
                            ZVPG_PASSWORD="x"))
    assert "reads one ZVM, not 2: pick one with --site NAME (zvm01:9669, zvma02)" in line


@pytest.mark.parametrize("option", ["--install-completion", "--show-completion"])
def test_a_completion_option_without_a_shell_names_the_shells(option: str) -> None:
    line = usage_error(zvpg(option))
    assert "bash, zsh or fish" in line and f"zvpg {option} bash" in line

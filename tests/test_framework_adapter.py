"""zvpg_cli/cli/framework.py is the one place that reaches into Typer's (and
Click's) internals: when a Typer release moves them, this test says so."""

from __future__ import annotations

import os
import subprocess
import sys


def test_a_usage_error_from_the_framework_is_exit_2_without_a_traceback() -> None:
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", "explain", "--no-such-option"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == ""
    assert "No such option: --no-such-option" in p.stderr and "Traceback" not in p.stderr


def test_completion_code_is_loaded_only_when_a_shell_asks() -> None:
    env = {k: v for k, v in os.environ.items() if k != "_ZVPG_COMPLETE"}
    plain = subprocess.run([sys.executable, "-X", "importtime", "-m", "zvpg_cli", "explain", "Bitmap Syncing",
                            "--json"], capture_output=True, text=True, timeout=60, env=env)
    assert plain.returncode == 0 and "zvpg_cli.cli.completion" not in plain.stderr
    asked = subprocess.run([sys.executable, "-m", "zvpg_cli"], capture_output=True, text=True, timeout=60,
                           env={**env, "_ZVPG_COMPLETE": "complete_bash", "COMP_WORDS": "zvpg expl",
                                "COMP_CWORD": "1"})
    assert asked.returncode == 0 and asked.stdout.split() == ["explain"]


def test_the_completion_internals_zvpg_reads_are_there() -> None:
    from zvpg_cli.cli import framework

    for name in framework.__all__:
        assert getattr(framework, name) is not None, name
    assert callable(framework.resolve_context) and callable(framework.resolve_incomplete)
    assert {c.name for c in (framework.BashComplete, framework.ZshComplete, framework.FishComplete)} == \
        {"bash", "zsh", "fish"}


def test_no_other_module_reaches_into_typer() -> None:
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "zvpg_cli"
    for path in package.rglob("*.py"):
        if path.name != "framework.py":
            assert "typer._" not in path.read_text(encoding="utf-8"), path


def test_a_run_imports_only_the_module_of_its_command() -> None:
    code = ("import sys, runpy\n"
            "sys.argv = ['zvpg', 'triage', '--nagios', '-']\n"
            "try:\n    runpy.run_module('zvpg_cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "sys.stdout.flush()\n"
            "sys.stderr.write(' '.join(sorted(sys.modules)))\n")
    p = subprocess.run([sys.executable, "-c", code], input="[]", capture_output=True, text=True, timeout=60)
    mods = set(p.stderr.split())
    assert p.stdout.startswith("ZVPG ") and "zvpg_cli.cli.payloads" in mods
    assert not mods & {"zvpg_cli.cli.reference", "zvpg_cli.cli.history", "zvpg_cli.cli.fetch",
                       "zvpg_cli.cli.completion"}


def test_every_command_is_in_the_table_that_loads_it_and_help_lists_them_in_its_order() -> None:
    from zvpg_cli.cli import COMMANDS, load_commands

    app = load_commands()
    assert sorted(c.name or c.callback.__name__ for c in app.registered_commands) == sorted(COMMANDS)  # type: ignore[union-attr]
    p = subprocess.run([sys.executable, "-m", "zvpg_cli", "--help"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "120"})
    section = p.stdout.split("Commands:\n")[1].split("\n\n")[0]
    listed = [line.split()[0] for line in section.splitlines() if not line.startswith("   ")]
    assert listed == list(COMMANDS)

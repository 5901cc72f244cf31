"""zvpg_cli/cli/framework.py is the one place that reaches into Typer's (and
Click's) internals: when a Typer release moves them, this test says so."""

from __future__ import annotations

import typer

from zvpg_cli.cli.framework import ClickException


def test_typer_usage_errors_are_the_click_exception_zvpg_catches() -> None:
    assert issubclass(typer.BadParameter, ClickException)
    exc = ClickException("x")
    assert exc.format_message() == "x" and hasattr(exc, "exit_code")


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

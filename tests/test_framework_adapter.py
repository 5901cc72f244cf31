"""zvpg_cli/cli/framework.py is the one place that reaches into Typer's (and
Click's) internals: when a Typer release moves them, this test says so."""

from __future__ import annotations

import typer

from zvpg_cli.cli.framework import ClickException


def test_typer_usage_errors_are_the_click_exception_zvpg_catches() -> None:
    assert issubclass(typer.BadParameter, ClickException)
    exc = ClickException("x")
    assert exc.format_message() == "x" and hasattr(exc, "exit_code")

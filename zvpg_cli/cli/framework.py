"""What zvpg uses of Typer (and of the Click that Typer vendors) beyond
Typer's public API, in this one module: when a Typer release moves them, this
file breaks (and tests/test_framework_adapter.py says so), not the commands.
(Typer imports all of these itself on start-up: naming them here costs nothing.)"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from typer import _click as click
from typer._click.exceptions import ClickException
from typer._click.globals import get_current_context
from typer._click.shell_completion import CompletionItem, _resolve_context, _resolve_incomplete
from typer._completion_classes import BashComplete, FishComplete, ZshComplete

resolve_context = _resolve_context
resolve_incomplete = _resolve_incomplete


def complete_var_for(prog_name: str) -> str:
    """The variable a shell sets to ask for completions (_ZVPG_COMPLETE)."""
    return f"_{prog_name}_COMPLETE".replace("-", "_").upper()


class OwnCompletion:
    """Mixed into zvpg's group: Click calls its private `_main_shell_completion`
    on every run; zvpg answers with its own scripts (cli/completion.py), which are
    imported only when a shell asks (the _ZVPG_COMPLETE variable is set)."""

    def _main_shell_completion(self, ctx_args: MutableMapping[str, Any], prog_name: str,
                               complete_var: str | None = None) -> None:
        var = complete_var or complete_var_for(prog_name)
        if not os.environ.get(var):
            return
        from .completion import complete_from_environment

        complete_from_environment(self, ctx_args, prog_name, var)  # type: ignore[arg-type]


__all__ = ["BashComplete", "ClickException", "CompletionItem", "FishComplete", "OwnCompletion", "ZshComplete",
           "click", "complete_var_for", "get_current_context", "resolve_context", "resolve_incomplete"]

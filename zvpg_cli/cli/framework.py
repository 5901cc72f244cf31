"""What zvpg uses of Typer (and of the Click that Typer vendors) beyond
Typer's public API, in this one module: when a Typer release moves them, this
file breaks (and tests/test_framework_adapter.py says so), not the commands.
(Typer imports all of these itself on start-up: naming them here costs nothing.)"""

from __future__ import annotations

from typer import _click as click
from typer._click.exceptions import ClickException
from typer._click.shell_completion import CompletionItem, _resolve_context, _resolve_incomplete
from typer._completion_classes import BashComplete, FishComplete, ZshComplete

resolve_context = _resolve_context
resolve_incomplete = _resolve_incomplete

__all__ = ["BashComplete", "ClickException", "CompletionItem", "FishComplete", "ZshComplete", "click",
           "resolve_context", "resolve_incomplete"]

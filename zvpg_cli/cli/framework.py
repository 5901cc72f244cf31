"""What zvpg uses of Typer (and of the Click that Typer vendors) beyond
Typer's public API, in this one module: when a Typer release moves them, this
file breaks (and tests/test_framework_adapter.py says so), not the commands."""

from __future__ import annotations

try:
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - Typer releases that import Click instead of vendoring it
    from click.exceptions import ClickException  # type: ignore[import-not-found,no-redef]

__all__ = ["ClickException"]

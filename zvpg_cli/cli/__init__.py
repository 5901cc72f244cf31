"""The command line: a thin Typer layer over the plain API (kb, lookup, decode,
payload, triage) and the renderers in `zvpg_cli.output`.

`app` holds the application and the helpers its commands share; `reference`
(explain, list, decode, validate) and `payloads` (annotate, triage) add the
commands to it.
"""

import os
import sys

from typer.core import TyperCommand

from ..kb import KBError
from . import payloads, reference  # noqa: F401 - importing them registers the commands
from .app import EXIT_USAGE, app
from .help import ZvpgCommand

__all__ = ["app", "main"]

# --help lists the commands in this order: the everyday ones first.
_ORDER = ["explain", "decode", "list", "triage", "annotate", "validate"]
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name or c.callback.__name__))  # type: ignore[union-attr]
# Every command's --help is formatted the same way (cli/help.py).
for _command in app.registered_commands:
    if _command.cls in (None, TyperCommand):  # app.command()'s default
        _command.cls = ZvpgCommand


def main() -> None:
    """Console-script entry point: one-line errors, sane exit codes."""
    try:
        app(prog_name="zvpg")
    except KBError as exc:
        from ..output.sanitize import printable
        from ..output.writer import error

        error(f"zvpg: {printable(str(exc))}")
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # never a traceback for the operator; ZVPG_DEBUG=1 shows it
        if os.environ.get("ZVPG_DEBUG"):
            raise
        from ..output.writer import error

        error(f"zvpg: internal error: {type(exc).__name__}: {exc} (set ZVPG_DEBUG=1 for details)")
        sys.exit(70)

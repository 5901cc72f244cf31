"""The command line: a thin Typer layer over the plain API (kb, lookup, decode,
payload, triage) and the renderers in `zvpg_cli.output`.

`app` holds the application and the helpers its commands share; `reference`
(explain, list, decode, validate) and `payloads` (annotate, triage) add the
commands to it.
"""

import os
import sys

from ..kb import KBError
from . import payloads, reference, zvm  # noqa: F401 - importing them registers the commands
from .app import EXIT_USAGE, app

__all__ = ["app", "main"]

# --help lists the commands in this order: the everyday ones first.
_ORDER = ["explain", "decode", "list", "triage", "annotate", "fetch", "codes", "validate"]
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name or c.callback.__name__))  # type: ignore[union-attr]


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

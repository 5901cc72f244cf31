"""The command line: a thin Typer layer over the plain API (kb, lookup, decode,
payload, triage) and the renderers in `zvpg_cli.output`.

`app` holds the application and the helpers its commands share; `reference`
(explain, list, decode, validate) and `payloads` (annotate, triage) add the
commands to it.
"""

import errno
import os
import sys
from typing import NoReturn

import typer
from typer.core import TyperCommand

from ..kb import KBError
from ..writer import OutputError
from . import history, payloads, reference, zvm  # noqa: F401 - importing them registers the commands
from .app import EXIT_USAGE, Failure, app
from .framework import ClickException
from .help import ZvpgCommand

__all__ = ["app", "main"]

# --help lists the commands in this order: the everyday ones first.
_ORDER = ["explain", "decode", "list", "triage", "history", "policy", "annotate", "fetch", "codes", "validate"]
app.registered_commands.sort(key=lambda c: _ORDER.index(c.name or c.callback.__name__))  # type: ignore[union-attr]
# Every command's --help is formatted the same way (cli/help.py).
for _command in app.registered_commands:
    if _command.cls in (None, TyperCommand):  # app.command()'s default
        _command.cls = ZvpgCommand


#: Output could not be written (stdout closed, disk full): sysexits' EX_IOERR.
EXIT_OUTPUT = 74
#: What a monitoring plugin exits with when it cannot judge (monitoring-plugins' UNKNOWN).
EXIT_NAGIOS_UNKNOWN = 3


_WRITE_ERRORS = (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT)


def main() -> None:
    """Console-script entry point: one-line errors, sane exit codes."""
    # Typer turns every registered command into a click command on every run;
    # building only the one that runs saves most of that (start-up is latency).
    registered = app.registered_commands
    name = None if "_ZVPG_COMPLETE" in os.environ else _invoked(sys.argv[1:])
    only = [c for c in registered if (c.name or c.callback.__name__) == name]  # type: ignore[union-attr]
    if only:
        app.registered_commands = only
    try:
        _run()
    finally:
        app.registered_commands = registered


_ROOT_VALUES = ("--data", "--show-completion", "--install-completion")


def _invoked(args: list[str]) -> str | None:
    """The command the arguments run (the first word after the root options),
    or None (none given, or --help / --version of zvpg itself)."""
    takes_value = False
    for arg in args:
        if takes_value:
            takes_value = False
        elif arg in _ROOT_VALUES:
            takes_value = True
        elif arg.startswith("-"):
            if not arg.startswith("--data="):
                return None  # --help, --version, a completion option, or a usage error: all commands
        else:
            return arg
    return None


def _run() -> None:
    from ..writer import hold_errors

    nagios = _nagios_check(sys.argv[1:])
    hold_errors(nagios)  # under --nagios, warnings join the plugin output: nothing on stderr
    try:
        if nagios:
            # Usage errors come back to us (not printed by Typer) to become an UNKNOWN status line.
            code = app(prog_name="zvpg", standalone_mode=False)
            sys.exit(code if isinstance(code, int) else 0)
        app(prog_name="zvpg")
    except KBError as exc:
        _fail(nagios, str(exc), EXIT_USAGE)
    except typer.Abort:  # pragma: no cover - EOF at a prompt; zvpg never prompts
        _fail(nagios, "aborted", 1)
    except OutputError as exc:
        _fail(nagios, f"cannot write output: {exc}", EXIT_OUTPUT)
    except OSError as exc:  # Typer's own output (--help, --version) on a full disk
        if exc.errno not in _WRITE_ERRORS:
            _internal_error(nagios, exc)
        _fail(nagios, f"cannot write output: {exc.strerror}", EXIT_OUTPUT)
    except Failure as exc:  # (only under --nagios: otherwise Typer shows it and exits)
        _fail(nagios, exc.message, exc.exit_code)
    except Exception as exc:  # never a traceback for the operator; ZVPG_DEBUG=1 shows it
        if nagios and isinstance(exc, ClickException):  # with standalone_mode=False Typer raises them to us
            _fail(nagios, f"usage: {exc.format_message()} (see zvpg triage --help)", EXIT_USAGE)
        _internal_error(nagios, exc)


def _internal_error(nagios: bool, exc: Exception) -> NoReturn:
    if os.environ.get("ZVPG_DEBUG"):
        raise exc
    _fail(nagios, f"internal error: {type(exc).__name__}: {exc} (set ZVPG_DEBUG=1 for details)", 70)


def _fail(nagios: bool, message: str, code: int) -> NoReturn:
    """One line on stderr and `code`; under --nagios instead the UNKNOWN status
    line on stdout (the warnings held back as its long text) where stdout can
    still be written, and exit 3."""
    from ..sanitize import printable
    from ..writer import error, held_errors, hold_errors, write

    message = printable(message)
    if nagios:
        from ..output.nagios import unknown

        try:
            write(unknown(message, held_errors()))
        except OutputError:  # stdout is gone: stderr is all that is left
            hold_errors(False)
            error(f"zvpg: {message}")
        sys.exit(EXIT_NAGIOS_UNKNOWN)
    error(f"zvpg: {message}")
    sys.exit(code)


def _nagios_check(args: list[str]) -> bool:
    """Whether the command line asks for a Nagios check (`triage --nagios`,
    `triage --format nagios`), judged before Typer parses it, so that even a
    usage error ends in a status line."""
    if "triage" not in args:
        return False
    after = args[args.index("triage") + 1:]
    for i, arg in enumerate(after):
        if arg == "--":
            break
        if arg == "--nagios" or arg in ("--format=nagios", "-fnagios"):
            return True
        if arg in ("--format", "-f") and after[i + 1:i + 2] == ["nagios"]:
            return True
    return False

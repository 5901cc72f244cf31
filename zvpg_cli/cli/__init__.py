"""The command line: a thin Typer layer over the plain API (kb, lookup, decode,
payload, triage) and the renderers in `zvpg_cli.output`.

`app` holds the application and the helpers its commands share; the modules
in `COMMANDS` add the commands to it when `load_commands` imports them. A run
imports only the module of the command it runs (start-up is a check's latency);
`load_commands()` adds them all (--help, completion, tests, Python callers).
"""

import errno
import os
import sys
from typing import NoReturn

import typer

from ..base.writer import OutputError
from ..knowledge.kb import KBError
from .app import Failure, app
from .exits import EXIT_INTERNAL, EXIT_NAGIOS_UNKNOWN, EXIT_OUTPUT, EXIT_USAGE, exit_signalled
from .framework import ClickException

__all__ = ["COMMANDS", "app", "load_commands", "main"]

#: Every command and the module of this package that adds it, in the order
#: --help lists them (the everyday ones first).
COMMANDS = {"explain": "reference", "decode": "reference", "list": "reference", "triage": "payloads",
            "history": "history", "policy": "history", "annotate": "payloads", "fetch": "fetch",
            "codes": "fetch", "validate": "reference"}


def load_commands(name: str | None = None) -> typer.Typer:
    """`app` with command `name` added (with every command when `name` is None or
    no command's name: --help, completion, a usage error that lists them)."""
    import importlib

    for module in [COMMANDS[name]] if name in COMMANDS else dict.fromkeys(COMMANDS.values()):
        importlib.import_module(f"{__name__}.{module}")
    return app


_WRITE_ERRORS = (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT)


def main() -> None:
    """Console-script entry point: one-line errors, sane exit codes; SIGINT
    and SIGTERM end in one answer too (zvpg_cli/base/signals.py)."""
    from ..base import signals
    from ..base.writer import Environment, environment, use_environment

    outer = environment()
    use_environment(Environment(sys.stdout, sys.stderr))  # where this run writes, once
    args = sys.argv[1:]
    # Typer turns every registered command into a click command on every run;
    # building only the one that runs saves most of that (start-up is latency).
    registered = app.registered_commands
    name, at = (None, 0) if "_ZVPG_COMPLETE" in os.environ else _invoked(args)
    load_commands(name)
    # Nagios mode: from the command in its place (`zvpg explain triage --nagios` is explain's usage error).
    nagios = name == "triage" and _asks_nagios(args[at + 1:])
    only = [c for c in registered if (c.name or c.callback.__name__) == name]  # type: ignore[union-attr]
    if only:
        app.registered_commands = only
    try:
        signals.arm()
        _run(nagios)
    except KeyboardInterrupt as exc:  # (signals.Interrupted too, and Ctrl-C under the importable API)
        _interrupted(nagios, getattr(exc, "signum", None))
    except SystemExit:
        if signals.interrupted() is None:
            raise
        _interrupted(nagios, signals.interrupted())  # Typer turned it into Exit(130) on its way out
    finally:
        app.registered_commands = registered
        use_environment(outer)
        signals.settle()


_ROOT_VALUES = ("--data", "--show-completion", "--install-completion")


def _invoked(args: list[str]) -> tuple[str | None, int]:
    """The command the arguments run (the first word after the root options)
    and its place in `args`; None (none given, or --help / --version of zvpg
    itself)."""
    takes_value = False
    for at, arg in enumerate(args):
        if takes_value:
            takes_value = False
        elif arg in _ROOT_VALUES:
            takes_value = True
        elif arg.startswith("-"):
            if not arg.startswith("--data="):
                return None, at  # --help, --version, a completion option, or a usage error: all commands
        else:
            return arg, at
    return None, len(args)


def _asks_nagios(after: list[str]) -> bool:
    """Whether the options of a `triage` command line ask for a Nagios check
    (`--nagios`, `--format nagios`, also misspelt as `--nagios=1`), judged
    before Typer parses them, so that even a usage error ends in a status line."""
    for i, arg in enumerate(after):
        if arg == "--":
            break
        if arg == "--nagios" or arg.startswith("--nagios=") or arg in ("--format=nagios", "-fnagios"):
            return True
        if arg in ("--format", "-f") and after[i + 1:i + 2] == ["nagios"]:
            return True
    return False


def _run(nagios: bool) -> None:
    from ..base.writer import hold_errors

    hold_errors(nagios)  # under --nagios, warnings join the plugin output: nothing on stderr
    if sys.argv[-1] in ("--show-completion", "--install-completion") and "--" not in sys.argv[1:-1]:
        # Click would not name the shells (after "--" it is an argument: `zvpg explain -- --show-completion`)
        _fail(nagios, f"{sys.argv[-1]} needs a shell: bash, zsh or fish (e.g. zvpg {sys.argv[-1]} bash)", EXIT_USAGE)
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
    _fail(nagios, f"internal error: {type(exc).__name__}: {exc} (set ZVPG_DEBUG=1 for details)", EXIT_INTERNAL)


def _interrupted(nagios: bool, signum: int | None) -> NoReturn:
    """The answer of a run that SIGINT or SIGTERM ended: exit 128 + the signal's number."""
    from ..base.signals import NAMES, SIGINT, SIGTERM

    signum = signum or SIGINT
    what = "terminated" if signum == SIGTERM else "interrupted"
    _fail(nagios, f"{what} ({NAMES.get(signum, signum)})" if nagios else what, exit_signalled(signum))


def _fail(nagios: bool, message: str, code: int) -> NoReturn:
    """One line on stderr and `code`; under --nagios instead the UNKNOWN status
    line on stdout (the warnings held back as its long text) where stdout can
    still be written, and exit 3."""
    from ..base.sanitize import printable
    from ..base.signals import settle
    from ..base.writer import error, held_errors, hold_errors, write

    settle()  # one answer: a signal that comes now is ignored

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
